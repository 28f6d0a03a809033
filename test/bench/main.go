// Command bench measures imageshare's cost and speed on the emulated cloud, with a
// latency on every call and per-API QPS limits, side by side with a baseline written the
// way peers do it and with the floor (the fewest calls the APIs allow). See
// BENCHMARKS.md.
//
//	go run ./test/bench [-small] [-json] [-latency 30ms] [-qps Action=rate,…] [-seed N]
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"imageshare"
	"imageshare/pkg/function"
	"imageshare/pkg/sandbox"
	"imageshare/pkg/scenario"
)

// The QPS limits of the throttled run, per action (calls per second per account).
// Alibaba Cloud does not publish one table of them; these are of the order the
// consoles show for these APIs, and -qps overrides them.
var defaultQPS = map[string]float64{
	"DescribeImages": 20, "DescribeImageSharePermission": 20, "ModifyImageSharePermission": 10, "TagResources": 10,
	"GetResourceDirectory": 10, "ListAccounts": 10, "GetAccount": 10, "ListAncestors": 10,
	"ListHandshakesForResourceDirectory": 10, "ListResourceShares": 10, "ListResourceShareAssociations": 10,
	"CreateResourceShare": 5, "AssociateResourceShare": 5, "DisassociateResourceShare": 5, "UpdateResourceShare": 5,
	"DeleteResourceShare": 5,
}

// Targets of issue 7.
const (
	targetCallsOverFloor     = 1.2
	targetBaselineOverOurs   = 10
	targetThrottledOverQPS   = 1.3
	targetEventOverRoundTrip = 3
	targetPeakMemMB          = 256
	targetColdStartMS        = 50
)

func main() {
	if len(os.Args) == 3 && os.Args[1] == "imageshare-function" {
		function.Main(os.Args[2]) // the sandbox starts this binary as a function process
	}
	os.Exit(run())
}

type options struct {
	small   bool
	asJSON  bool
	latency time.Duration
	qps     map[string]float64
	seed    uint64
	skip    map[string]bool
	trace   string
}

func run() int {
	var o options
	flag.BoolVar(&o.small, "small", false, "a reduced workload (1,000 images, 200 accounts, 60 events) for CI")
	flag.BoolVar(&o.asJSON, "json", false, "print one JSON object with every figure as the last line")
	flag.DurationVar(&o.latency, "latency", 30*time.Millisecond, "latency of every cloud call")
	qps := flag.String("qps", "", "QPS limits of the throttled run: Action=rate,… (over the defaults)")
	seed := flag.Uint64("seed", 1, "workload seed")
	skip := flag.String("skip", "", "phases to leave out: baseline,sweep,throttled,events,poll,regions,coldstart")
	flag.StringVar(&o.trace, "trace", "", "write what the sandbox does and every function log line to this file")
	flag.Parse()
	o.seed = *seed
	o.qps = map[string]float64{}
	for k, v := range defaultQPS {
		o.qps[k] = v
	}
	for _, kv := range strings.FieldsFunc(*qps, func(r rune) bool { return r == ',' }) {
		k, v, ok := strings.Cut(kv, "=")
		f, err := strconv.ParseFloat(v, 64)
		if !ok || err != nil || f <= 0 {
			fmt.Fprintf(os.Stderr, "bench: -qps %q: want Action=rate\n", kv)
			return 2
		}
		o.qps[k] = f
	}
	o.skip = map[string]bool{}
	for _, s := range strings.Split(*skip, ",") {
		if s != "" {
			o.skip[s] = true
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	rep, err := bench(ctx, o)
	if err != nil {
		fmt.Fprintf(os.Stderr, "bench: %v\n", err)
		return 1
	}
	rep.print(os.Stdout)
	if o.asJSON {
		b, _ := json.Marshal(rep.json())
		fmt.Println(string(b))
	}
	if len(rep.Problems) > 0 {
		return 1
	}
	return 0
}

// Report holds every figure of one run.
type Report struct {
	Size     Size
	Workload map[string]int
	Latency  time.Duration
	QPS      map[string]float64

	Floor    map[string]int
	Sweep    *SweepResult
	Baseline *BaselineResult
	Throttle *SweepResult
	Events   *EventResult
	Polls    []PollResult
	Cold     *ColdStart
	Regions  *RegionsResult
	// Problems: what went wrong (a run that did not converge, failed jobs).
	Problems []string
}

// SweepResult is one sweep through the sandbox.
type SweepResult struct {
	Calls       map[string]int // cloud calls by RAM action (ECS, directory, Resource Sharing)
	MNS         map[string]int
	Invocations map[string]int
	Wall        time.Duration
	PeakMB      float64
	PeakPer     map[string]float64
	Throttled   map[string]int // calls answered Throttling (and retried)
	Failed      int            // failed invocations
	DeadLetters int
	Mismatch    []string
	// QPSBound is the time the QPS limits alone force (throttled run): the largest
	// calls/QPS over the actions, the calls being those the cloud accepted.
	QPSBound    time.Duration
	BoundAction string
}

// EventResult is the latency run.
type EventResult struct {
	Kinds    map[string][]time.Duration // wall time of each event, by kind
	Ratios   []float64                  // per event: wall / (round trips × latency)
	Mismatch []string
	Calls    map[string]int
	// Add and Remove: for each tag change, from the edit to the write that gives the new
	// account access, and to the write that takes the replaced one's away (R12: a
	// second look SETTLE_DELAY after the first).
	Add, Remove Latencies
}

// Latencies are the same moments measured in emulated time (SETTLE_DELAY included)
// and in wall time (what the runs themselves take).
type Latencies struct{ Emulated, Wall []time.Duration }

func bench(ctx context.Context, o options) (*Report, error) {
	sz := fullSize
	if o.small {
		sz = smallSize
	}
	root, err := moduleRoot()
	if err != nil {
		return nil, err
	}
	w := Generate(sz, o.seed, false)
	rep := &Report{Size: sz, Workload: w.Counts(), Latency: o.latency, QPS: o.qps, Floor: w.Floor()}
	phase := func(name string) bool {
		if o.skip[name] {
			return false
		}
		fmt.Fprintf(os.Stderr, "bench: %s…\n", name)
		return true
	}
	if phase("baseline") {
		if rep.Baseline, err = runBaseline(ctx, w, o.latency); err != nil {
			return nil, err
		}
		if n := len(rep.Baseline.Mismatch); n > 0 {
			rep.Problems = append(rep.Problems, fmt.Sprintf("the baseline did not converge on %d images, e.g. %s", n, rep.Baseline.Mismatch[0]))
		}
	}
	var trace io.Writer
	if o.trace != "" {
		f, err := os.Create(o.trace)
		if err != nil {
			return nil, err
		}
		defer func() { _ = f.Close() }()
		trace = &stamped{w: f}
	}
	if phase("sweep") {
		if rep.Sweep, err = runSweep(ctx, w, o.latency, nil, trace); err != nil {
			return nil, err
		}
		rep.check("sweep", rep.Sweep)
	}
	if phase("throttled") {
		if rep.Throttle, err = runSweep(ctx, w, o.latency, o.qps, trace); err != nil {
			return nil, err
		}
		rep.check("throttled sweep", rep.Throttle)
	}
	if phase("events") {
		if rep.Events, err = runEvents(ctx, sz, o.seed, o.latency, trace); err != nil {
			return nil, err
		}
		if n := len(rep.Events.Mismatch); n > 0 {
			rep.Problems = append(rep.Problems, fmt.Sprintf("the event run ended on a wrong state for %d images, e.g. %s", n, rep.Events.Mismatch[0]))
		}
	}
	if phase("poll") {
		if rep.Polls, err = runPolls(ctx, o.latency, trace); err != nil {
			return nil, err
		}
	}
	if phase("regions") {
		n := 100
		if o.small {
			n = 20
		}
		if rep.Regions, err = runRegions(ctx, n, o.latency, trace); err != nil {
			return nil, err
		}
		if m := len(rep.Regions.Mismatch); m > 0 {
			rep.Problems = append(rep.Problems, fmt.Sprintf("the regions run ended on a wrong state (%d problems), e.g. %s", m, rep.Regions.Mismatch[0]))
		}
	}
	if phase("coldstart") {
		if rep.Cold, err = measureColdStart(ctx, root, 20); err != nil {
			return nil, err
		}
	}
	return rep, nil
}

func (r *Report) check(name string, s *SweepResult) {
	if n := len(s.Mismatch); n > 0 {
		r.Problems = append(r.Problems, fmt.Sprintf("the %s did not converge on %d images, e.g. %s", name, n, s.Mismatch[0]))
	}
	if s.Failed > 0 || s.DeadLetters > 0 {
		r.Problems = append(r.Problems, fmt.Sprintf("the %s had %d failed invocations and %d dead-lettered jobs", name, s.Failed, s.DeadLetters))
	}
}

func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if b, err := os.ReadFile(filepath.Join(dir, "go.mod")); err == nil && bytes.HasPrefix(b, []byte("module imageshare")) {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("run the bench inside the imageshare module (go run ./test/bench)")
		}
		dir = parent
	}
}

func functionCommand() (func(string) []string, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	return func(name string) []string { return []string{exe, "imageshare-function", name} }, nil
}

// runSweep lets the timer fire once on w (advance 31m from a cold start) and settles.
func runSweep(ctx context.Context, w *World, latency time.Duration, qps map[string]float64, trace io.Writer) (*SweepResult, error) {
	sc := w.Scenario()
	sc.Steps = []scenario.Step{{Advance: 31 * time.Minute}}
	sc.Settings["ORG_POLL"] = "0" // the organization poll is measured on its own (poll.go)
	cmd, err := functionCommand()
	if err != nil {
		return nil, err
	}
	lg := newLogs()
	var logs io.Writer = lg
	if trace != nil {
		logs = io.MultiWriter(lg, trace)
	}
	res, err := sandbox.Run(ctx, sc, sandbox.Options{SYAML: imageshare.SYAML, FunctionCommand: cmd, Logs: logs, Trace: trace,
		Latency: latency, QPS: qps, NoInvariant: true})
	if err != nil {
		return nil, err
	}
	s := &SweepResult{Calls: map[string]int{}, MNS: map[string]int{}, Invocations: res.Stats.Invocations, Wall: res.StepWall[0]}
	for a, n := range res.Stats.Calls {
		if strings.HasPrefix(a, "mns:") {
			s.MNS[a] = n
		} else {
			s.Calls[a] = n
		}
	}
	s.PeakMB, s.PeakPer = lg.peakMB(function.Reconcile, function.Sweep)
	s.Throttled, s.Failed = lg.throttled, lg.failed
	for _, f := range res.Refusals {
		if f.Reason == "retries-exhausted" {
			s.DeadLetters++
		}
	}
	for _, f := range res.Failures {
		s.Mismatch = append(s.Mismatch, "sandbox: "+f)
	}
	s.Mismatch = append(s.Mismatch, compareResult(w, res.Images)...)
	for a, n := range s.Calls {
		_, action, _ := strings.Cut(a, ":")
		if q := qps[action]; q > 0 {
			if d := time.Duration(float64(n-s.Throttled[a]) / q * float64(time.Second)); d > s.QPSBound {
				s.QPSBound, s.BoundAction = d, a
			}
		}
	}
	return s, nil
}

func compareResult(w *World, images map[string]sandbox.ImageState) []string {
	var views []viewOf
	for id, st := range images {
		views = append(views, viewOf{id, st.Direct, st.Organization})
	}
	return compareViews(w, views)
}

// runEvents replays events on a converged world, one step each; the sweep timer is off
// so that every step's wall time is the event's own.
func runEvents(ctx context.Context, sz Size, seed uint64, latency time.Duration, trace io.Writer) (*EventResult, error) {
	w := Generate(sz, seed, true)
	steps, kinds := w.Events(sz.Events, seed)
	sc := w.Scenario()
	sc.Steps = steps
	// The account moves reach the bus: the organization poll, which would find them
	// again, is measured on its own (poll.go).
	sc.Settings["ORG_POLL"] = "0"
	sy, err := timerOff(imageshare.SYAML)
	if err != nil {
		return nil, err
	}
	cmd, err := functionCommand()
	if err != nil {
		return nil, err
	}
	marks := &logMarks{}
	var logs io.Writer = marks
	if trace != nil {
		logs = io.MultiWriter(marks, trace)
	}
	res, err := sandbox.Run(ctx, sc, sandbox.Options{SYAML: sy, FunctionCommand: cmd, Latency: latency, NoInvariant: true, Logs: logs, Trace: trace})
	if err != nil {
		return nil, err
	}
	e := &EventResult{Kinds: map[string][]time.Duration{}, Calls: res.Stats.Calls}
	for i, st := range steps {
		if kinds[i] != eventTag || i >= len(res.Steps) {
			continue
		}
		im, rec := st.TagImage.Image, res.Steps[i]
		var add, remove time.Time
		for _, c := range res.Writes {
			if c.Action != "ModifyImageSharePermission" || c.Params["ImageId"] != im || c.Time.Before(rec.Start) || c.Time.After(rec.End) {
				continue
			}
			if c.Params["AddAccount.1"] != "" && add.IsZero() {
				add = c.Time
			}
			if c.Params["RemoveAccount.1"] != "" && remove.IsZero() {
				remove = c.Time
			}
		}
		if add.IsZero() || remove.IsZero() {
			continue // the replaced account had no direct share (an organization share covered it)
		}
		e.Add.Emulated = append(e.Add.Emulated, add.Sub(rec.Start))
		e.Remove.Emulated = append(e.Remove.Emulated, remove.Sub(rec.Start))
		if t, ok := marks.first("share", im, rec.Wall); ok {
			e.Add.Wall = append(e.Add.Wall, t.Sub(rec.Wall))
		}
		if t, ok := marks.first("unshare", im, rec.Wall); ok {
			e.Remove.Wall = append(e.Remove.Wall, t.Sub(rec.Wall))
		}
	}
	for i, d := range res.StepWall {
		e.Kinds[kinds[i]] = append(e.Kinds[kinds[i]], d)
		e.Ratios = append(e.Ratios, float64(d)/float64(time.Duration(roundTrips[kinds[i]])*latency))
	}
	for _, f := range res.Failures {
		e.Mismatch = append(e.Mismatch, "sandbox: "+f)
	}
	e.Mismatch = append(e.Mismatch, compareResult(w, res.Images)...)
	return e, nil
}

// logMarks notes the wall time at which each share and unshare log line of the
// functions arrives.
type logMarks struct {
	mu    sync.Mutex
	marks []logMark
}

type logMark struct {
	at            time.Time
	action, image string
}

func (m *logMarks) Write(p []byte) (int, error) {
	at := time.Now()
	line := p
	if i := bytes.IndexByte(line, '{'); i >= 0 {
		line = line[i:]
	}
	var rec struct{ Msg, Image string }
	if json.Unmarshal(bytes.TrimSpace(line), &rec) == nil && (rec.Msg == "imageshare share" || rec.Msg == "imageshare unshare") {
		m.mu.Lock()
		m.marks = append(m.marks, logMark{at: at, action: strings.TrimPrefix(rec.Msg, "imageshare "), image: rec.Image})
		m.mu.Unlock()
	}
	return len(p), nil
}

// first is the first mark of action on image at or after since.
func (m *logMarks) first(action, image string, since time.Time) (time.Time, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, k := range m.marks {
		if k.action == action && k.image == image && !k.at.Before(since) {
			return k.at, true
		}
	}
	return time.Time{}, false
}

// timerOff turns the sweep's timer trigger off in s.yaml.
func timerOff(sy []byte) ([]byte, error) {
	on := []byte("enable: true\n            payload: sweep")
	if bytes.Count(sy, on) != 1 {
		return nil, errors.New("s.yaml: cannot find the sweep's timer to turn it off for the latency run")
	}
	return bytes.Replace(sy, on, []byte("enable: false\n            payload: sweep"), 1), nil
}

func total(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

func percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	i := int(p*float64(len(s))+0.5) - 1
	return s[min(max(i, 0), len(s)-1)]
}

func percentileF(xs []float64, p float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	i := int(p*float64(len(s))+0.5) - 1
	return s[min(max(i, 0), len(s)-1)]
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func ratio(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return a / b
}

// json is the machine-readable report.
func (r *Report) json() map[string]any {
	out := map[string]any{"size": r.Size, "workload": r.Workload, "latency_ms": ms(r.Latency), "floor_calls": r.Floor,
		"floor_total": total(r.Floor), "problems": r.Problems}
	if s := r.Sweep; s != nil {
		out["sweep_calls"] = s.Calls
		out["sweep_total_calls"] = total(s.Calls)
		out["sweep_mns_calls"] = s.MNS
		out["sweep_wall_s"] = s.Wall.Seconds()
		out["sweep_invocations"] = s.Invocations
		out["sweep_calls_over_floor"] = ratio(float64(total(s.Calls)), float64(total(r.Floor)))
		out["sweep_peak_mem_mb"] = s.PeakMB
		out["sweep_peak_mem_per_instance_mb"] = s.PeakPer
	}
	if b := r.Baseline; b != nil {
		out["baseline_calls"] = b.Calls
		out["baseline_total_calls"] = total(b.Calls)
		out["baseline_wall_s"] = b.Wall.Seconds()
		if r.Sweep != nil {
			out["baseline_calls_over_ours"] = ratio(float64(total(b.Calls)), float64(total(r.Sweep.Calls)))
		}
	}
	if t := r.Throttle; t != nil {
		out["qps_limits"] = r.QPS
		out["throttled_wall_s"] = t.Wall.Seconds()
		out["throttled_qps_bound_s"] = t.QPSBound.Seconds()
		out["throttled_bound_action"] = t.BoundAction
		out["throttled_time_over_qps_bound"] = ratio(t.Wall.Seconds(), t.QPSBound.Seconds())
		out["throttled_calls"] = t.Calls
		out["throttled_answers"] = t.Throttled
		out["throttled_failed_invocations"] = t.Failed
		out["throttled_dead_letters"] = t.DeadLetters
		out["throttled_peak_mem_mb"] = t.PeakMB
	}
	if e := r.Events; e != nil {
		ev := map[string]any{}
		for k, ds := range e.Kinds {
			ev[k] = map[string]any{"n": len(ds), "p50_ms": ms(percentile(ds, 0.5)), "p99_ms": ms(percentile(ds, 0.99)),
				"round_trips": roundTrips[k], "round_trips_ms": ms(time.Duration(roundTrips[k]) * r.Latency)}
		}
		out["events"] = ev
		out["event_calls"] = e.Calls
		for name, l := range map[string]Latencies{"add": e.Add, "removal": e.Remove} {
			out[name+"_latency_emulated_p50_s"] = percentile(l.Emulated, 0.5).Seconds()
			out[name+"_latency_emulated_p99_s"] = percentile(l.Emulated, 0.99).Seconds()
			out[name+"_latency_wall_p50_ms"] = ms(percentile(l.Wall, 0.5))
			out[name+"_latency_wall_p99_ms"] = ms(percentile(l.Wall, 0.99))
		}
		out["event_p50_over_round_trips"] = percentileF(e.Ratios, 0.5)
		out["event_p99_over_round_trips"] = percentileF(e.Ratios, 0.99)
	}
	if len(r.Polls) > 0 {
		var polls []map[string]any
		for _, p := range r.Polls {
			polls = append(polls, map[string]any{"writes": p.Writes, "polls": p.Polls, "lookup_calls": p.Calls,
				"lookup_throttled": p.Throttled, "reconcile_invocations": p.Reconcile})
		}
		out["org_poll"] = polls
	}
	if g := r.Regions; g != nil {
		g.json(out)
	}
	if c := r.Cold; c != nil {
		out["cold_start_ms"] = ms(c.Median)
		out["cold_start_max_ms"] = ms(c.Max)
		out["cold_start_runs"] = c.Runs
		out["binary_mb"] = c.BinaryMB
	}
	return out
}

// print writes the human report.
func (r *Report) print(f *os.File) {
	tw := tabwriter.NewWriter(f, 0, 4, 2, ' ', 0)
	defer tw.Flush()
	fmt.Fprintf(tw, "workload\t%d images (%d managed, %d needing changes), %d accounts, %d folders; latency %s per call\n",
		r.Workload["images"], r.Workload["managed"], r.Workload["needing_changes"], r.Workload["accounts"], r.Workload["folders"], r.Latency)
	fmt.Fprintln(tw)
	actions := map[string]bool{}
	for a := range r.Floor {
		actions[a] = true
	}
	if r.Sweep != nil {
		for a := range r.Sweep.Calls {
			actions[a] = true
		}
	}
	if r.Baseline != nil {
		for a := range r.Baseline.Calls {
			actions[a] = true
		}
	}
	names := make([]string, 0, len(actions))
	for a := range actions {
		names = append(names, a)
	}
	sort.Strings(names)
	fmt.Fprintln(tw, "sweep: calls by action\tfloor\timageshare\tbaseline\t")
	get := func(m map[string]int, a string) string {
		if m == nil {
			return "-"
		}
		return strconv.Itoa(m[a])
	}
	var ours, base map[string]int
	if r.Sweep != nil {
		ours = r.Sweep.Calls
	}
	if r.Baseline != nil {
		base = r.Baseline.Calls
	}
	for _, a := range names {
		fmt.Fprintf(tw, "  %s\t%d\t%s\t%s\t\n", a, r.Floor[a], get(ours, a), get(base, a))
	}
	fmt.Fprintf(tw, "  total\t%d\t%s\t%s\t\n", total(r.Floor), totalOr(ours), totalOr(base))
	fmt.Fprintln(tw)
	j := r.json()
	line := func(name string, key string, target float64, less bool, format string) {
		v, ok := j[key].(float64)
		if !ok {
			return
		}
		met := v <= target
		if !less {
			met = v >= target
		}
		verdict := "met"
		if !met {
			verdict = "MISSED"
		}
		cmp := "≤"
		if !less {
			cmp = "≥"
		}
		fmt.Fprintf(tw, "%s\t"+format+"\t(target %s %g)\t%s\n", name, v, cmp, target, verdict)
	}
	line("sweep calls / floor", "sweep_calls_over_floor", targetCallsOverFloor, true, "%.3f")
	line("baseline calls / ours", "baseline_calls_over_ours", targetBaselineOverOurs, false, "%.1f")
	line("throttled wall / QPS bound", "throttled_time_over_qps_bound", targetThrottledOverQPS, true, "%.3f")
	line("event p99 / round trips", "event_p99_over_round_trips", targetEventOverRoundTrip, true, "%.2f")
	line("sweep peak memory (MB)", "sweep_peak_mem_mb", targetPeakMemMB, true, "%.1f")
	line("cold start (ms)", "cold_start_ms", targetColdStartMS, true, "%.1f")
	line("regions calls / floor", "regions_calls_over_floor", targetRegionsCallsOverFloor, true, "%.3f")
	fmt.Fprintln(tw)
	if s := r.Sweep; s != nil {
		fmt.Fprintf(tw, "sweep wall\t%.1fs\t(MNS calls %d, invocations %v)\n", s.Wall.Seconds(), total(s.MNS), s.Invocations)
	}
	if b := r.Baseline; b != nil {
		fmt.Fprintf(tw, "baseline wall\t%.1fs\t(%d workers)\n", b.Wall.Seconds(), baselineWorkers)
	}
	if t := r.Throttle; t != nil {
		fmt.Fprintf(tw, "throttled sweep\t%.1fs\tQPS bound %.1fs (%s); %d calls throttled; %d failed invocations; %d dead letters\n",
			t.Wall.Seconds(), t.QPSBound.Seconds(), t.BoundAction, total(t.Throttled), t.Failed, t.DeadLetters)
	}
	if e := r.Events; e != nil {
		for _, k := range []string{eventTag, eventMove} {
			ds := e.Kinds[k]
			fmt.Fprintf(tw, "event %s\tp50 %.0fms p99 %.0fms\t(%d events; needs %d round trips = %.0fms)\n", k,
				ms(percentile(ds, 0.5)), ms(percentile(ds, 0.99)), len(ds), roundTrips[k], ms(time.Duration(roundTrips[k])*r.Latency))
		}
		for _, l := range []struct {
			name string
			l    Latencies
		}{{"tag edit → access given", e.Add}, {"tag edit → access gone", e.Remove}} {
			fmt.Fprintf(tw, "%s\temulated p50 %.1fs p99 %.1fs\twall p50 %.0fms p99 %.0fms (%d tag changes)\n", l.name,
				percentile(l.l.Emulated, 0.5).Seconds(), percentile(l.l.Emulated, 0.99).Seconds(),
				ms(percentile(l.l.Wall, 0.5)), ms(percentile(l.l.Wall, 0.99)), len(l.l.Emulated))
		}
	}
	for _, p := range r.Polls {
		var ticks []string
		for _, l := range p.Polls {
			if l.Records > 0 {
				ticks = append(ticks, fmt.Sprintf("%s: %d calls, %d records, %d jobs", l.At, l.Calls, l.Records, l.Jobs))
			}
		}
		if len(ticks) == 0 {
			ticks = []string{"no records"}
		}
		fmt.Fprintf(tw, "org poll, %d writes\t%d polls, %d LookupEvents calls (%d throttled)\t%s; %d reconcile invocations\n",
			p.Writes, len(p.Polls), p.Calls, p.Throttled, strings.Join(ticks, "; "), p.Reconcile)
	}
	if g := r.Regions; g != nil {
		g.print(tw)
	}
	if c := r.Cold; c != nil {
		fmt.Fprintf(tw, "cold start\tmedian %.1fms max %.1fms\t(%d starts; binary %.1f MB)\n", ms(c.Median), ms(c.Max), c.Runs, c.BinaryMB)
	}
	for _, p := range r.Problems {
		fmt.Fprintf(tw, "PROBLEM\t%s\n", p)
	}
}

// stamped prefixes every write with the wall time, for -trace.
type stamped struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *stamped) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, err := fmt.Fprintf(s.w, "%s %s", time.Now().Format("15:04:05.000"), p); err != nil {
		return 0, err
	}
	return len(p), nil
}

func totalOr(m map[string]int) string {
	if m == nil {
		return "-"
	}
	return strconv.Itoa(total(m))
}
