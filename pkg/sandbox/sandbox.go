package sandbox

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"imageshare/pkg/cloudsim"
	"imageshare/pkg/cloudsim/actiontrail"
	"imageshare/pkg/cloudsim/emu"
	emueventbridge "imageshare/pkg/cloudsim/eventbridge"
	"imageshare/pkg/cloudsim/mns"
	"imageshare/pkg/fcruntime"
	"imageshare/pkg/report"
	"imageshare/pkg/scenario"
	"imageshare/pkg/syaml"
)

// Options configure a run.
type Options struct {
	// SYAML is the s.yaml the triggers, functions and settings come from.
	SYAML []byte
	// FunctionCommand returns the argv that starts the function NAME as a process
	// speaking the FC runtime API (imageshare function NAME).
	FunctionCommand func(name string) []string
	// Logs receives every line the function processes print (nil: dropped).
	Logs io.Writer
	// Trace receives one line per sandbox action (nil: dropped).
	Trace io.Writer
	// ExtraEnv is added to every function process (tests use it for test hooks).
	ExtraEnv []string
	// SettleLimit is how much emulated time one settle may take (docs/scenarios.md: 60 minutes).
	SettleLimit time.Duration
	// Benchmark knobs: real-time latency added to every cloud call, per-action QPS
	// limits of the cloud (over them: Throttling.User), and no access snapshots (the
	// invariant check costs a snapshot of every image per write).
	Latency     time.Duration
	QPS         map[string]float64
	NoInvariant bool
	// Chaos makes the emulated EventBridge deliver at least once and out of order:
	// some events and job batches are delivered twice, and the events of one batch are
	// shuffled (off when zero; see chaos.go).
	Chaos Chaos
	// Concurrent > 1 delivers every batch of the job queue to that many instances of its
	// function at once: duplicate deliveries racing each other (default 1).
	Concurrent int
	// OnWrite, when set, sees every write by the functions that took effect, with the
	// cloud as it is right after it (tests audit the functions' writes with it).
	OnWrite func(Write)
	// RolePolicy, when set, is the policy document the functions' role holds instead of
	// the one rampolicy builds for the scenario's deployment; ACCOUNT_ID and REGION_ID
	// in it become the scenario's owner and region. Tests use it to show what a
	// different policy breaks.
	RolePolicy []byte
}

// LogBuffer collects what the function processes print (Options.Logs, Options.Trace):
// they write from several goroutines at once.
type LogBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *LogBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// String returns everything written so far.
func (l *LogBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// Refusal is one refusal a function reported.
type Refusal struct {
	Image   string `json:"image"`
	Subject string `json:"subject"`
	Reason  string `json:"reason"`
}

// ImageState is the final state of one image.
type ImageState struct {
	Direct       []string          `json:"direct"`
	Organization []string          `json:"organization"`
	Tags         map[string]string `json:"tags"`
	// Region is the image's region when it is not the scenario's (a copy elsewhere),
	// and Status its status then.
	Region string `json:"region,omitempty"`
	Status string `json:"status,omitempty"`
}

// Result is the outcome of a run.
type Result struct {
	Images     map[string]ImageState `json:"images"`
	Refusals   []Refusal             `json:"refusals"`
	Violations []string              `json:"violations"`
	// Failures lists the expectations that do not hold, and "did not settle".
	Failures []string `json:"-"`
	// Before is the state at the start, for the demo's table.
	Before map[string]ImageState `json:"-"`
	// StepWall is the wall time each top-level step took, its settle included.
	StepWall []time.Duration `json:"-"`
	Stats    Stats           `json:"-"`
	// Steps records what the emulated cloud and EventBridge did during each top-level
	// step (its settle included): an oracle needs it to know when the sweep ran and
	// which deliveries were given up.
	Steps []StepRecord `json:"-"`
	// Notifications are the messages published to NOTIFY_TOPIC, oldest first.
	Notifications []string `json:"-"`
	// Shares are the resource shares of the scenario's region at the end.
	Shares []cloudsim.ShareView `json:"-"`
	// RolePolicy is the policy document the functions' role held.
	RolePolicy []byte `json:"-"`
	// Denials are the functions' calls RAM denied, in order, each as
	// "mns:BatchSendMessage on acs:mns:…: ImplicitDeny (no statement allows it)".
	Denials []string `json:"-"`
	// Writes are the functions' cloud writes that took effect, in order, with the
	// emulated time of each (benchmarks measure latencies with them).
	Writes []cloudsim.CallRecord `json:"-"`
	// Reports are the functions' R10 report lines (changes, refusals, postponements),
	// in the order logged, with the emulated time and the step during which each came.
	Reports []Report `json:"-"`
}

// Report is one R10 line a function logged: what it changed, refused or postponed.
type Report struct {
	// At is the emulated time of the invocation; Step the index of the top-level step
	// whose settle it belongs to (-1: before the first step).
	At       time.Time
	Step     int
	Function string
	report.Entry
}

// Stats counts what happened.
type Stats struct {
	Invocations map[string]int
	Calls       map[string]int // by RAM action (the emulated RAM's table), e.g. "mns:BatchSendMessage"
	Events      int
	EmulatedEnd time.Time
}

// OK reports whether every expectation held and no invariant broke.
func (r *Result) OK() bool { return len(r.Failures) == 0 && len(r.Violations) == 0 }

// Internal errors (exit 3) are distinguished from a scenario that fails (exit 1).
var ErrInternal = errors.New("sandbox internal error")

// Run runs a parsed scenario.
func Run(ctx context.Context, sc *scenario.Scenario, opts Options) (*Result, error) {
	if opts.SettleLimit == 0 {
		opts.SettleLimit = 60 * time.Minute
	}
	sb, err := newSandbox(sc, opts)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInternal, err)
	}
	defer sb.close()
	res, err := sb.run(ctx)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInternal, err)
	}
	return res, nil
}

type sandbox struct {
	sc    *scenario.Scenario
	opts  Options
	clock *emu.Clock
	keys  *emu.Keyring
	cloud *cloudsim.Cloud
	mq    *mns.MNS
	ram   *emu.RAMStore
	eb    *emueventbridge.EventBridge // rules and targets (events are routed by s.yaml's triggers)
	trail *actiontrail.Trail          // ActionTrail's history of every write, for LookupEvents
	rt    *fcruntime.Runtime
	stops []func()          // stop the emulated endpoints
	eps   map[string]string // service → URL

	owner      emu.Identity
	ownerKey   emu.Credential // the owner's root access key
	manager    emu.Identity   // the directory's management account (the owner unless the scenario names another)
	project    *syaml.Project
	funcs      map[string]*function // by resource key
	env        map[string]string    // settings of the functions after scenario overrides
	role       string
	jobQueue   string
	rolePolicy []byte

	mu          sync.Mutex
	bus         []pending // events waiting to be routed, in order
	eventsOn    bool
	retries     []retry // failed deliveries waiting for their next attempt
	timers      []*timer
	writes      []cloudsim.WriteRecord
	refusals    []Refusal
	reports     []Report
	onReport    func(Report)
	violations  []string
	invocations map[string]int
	trace       io.Writer
	rand        *detRand
	events      int
	chaos       *chaosState
	steps       []StepRecord // steps[len-1] is the step running
	audit       *audit
}

type pending struct {
	body []byte
	dup  bool // a redelivery made by Options.Chaos (not duplicated again)
}

type function struct {
	key      string // resource key = the function's name in `imageshare function NAME`
	name     string // functionName
	timeout  time.Duration
	triggers []trigger
}

type trigger struct {
	fn      *function
	name    string
	kind    string // "bus", "mns", "timer"
	pattern matcher
	source  string // MNS source name of events: MNS-<functionName>-<triggerName>
	queue   string
	batch   int
	retry   retryPolicy
	dlq     string // queue name of the dead-letter queue ("" none)
	base64  bool
}

type matcher interface{ Match([]byte) bool }

type retryPolicy struct {
	strategy    string
	maxAttempts int
	maxAge      time.Duration
}

// retry is a delivery that failed and waits for its next attempt.
type retry struct {
	at      time.Time
	trig    *trigger
	payload []byte
	attempt int
	first   time.Time
	// handles of the MNS messages the delivery carries (deleted on success or DLQ).
	handles []string
	bodies  []string
}

type timer struct {
	trig    *trigger
	next    time.Time
	payload string
	sched   interface{ Next(time.Time) time.Time }
}

func (sb *sandbox) tracef(format string, args ...any) {
	if sb.trace != nil {
		fmt.Fprintf(sb.trace, "%s %s\n", sb.clock.Now().Format("15:04:05"), fmt.Sprintf(format, args...))
	}
}

func (sb *sandbox) close() {
	if sb.rt != nil {
		_ = sb.rt.Close()
	}
	for _, stop := range sb.stops {
		stop()
	}
}

// run performs the steps, settling after each, then checks the expectations.
func (sb *sandbox) run(ctx context.Context) (*Result, error) {
	res := &Result{Before: sb.images()}
	for _, st := range sb.sc.Steps {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		began := time.Now()
		sb.mu.Lock()
		sb.steps = append(sb.steps, StepRecord{Start: sb.clock.Now(), Wall: began})
		sb.mu.Unlock()
		err := sb.step(ctx, st, false)
		if err == nil {
			err = sb.settle(ctx)
		}
		sb.mu.Lock()
		sb.steps[len(sb.steps)-1].End = sb.clock.Now()
		sb.mu.Unlock()
		if err != nil {
			var ns *notSettled
			if errors.As(err, &ns) {
				res.Failures = append(res.Failures, ns.Error())
				break
			}
			return nil, err
		}
		sb.checkInvariant()
		res.StepWall = append(res.StepWall, time.Since(began))
	}
	res.Images = sb.images()
	res.Shares = sb.cloud.ResourceShares(sb.sc.Region)
	if t := sb.env["NOTIFY_TOPIC"]; t != "" {
		for _, p := range sb.mq.Published(sb.sc.Owner, sb.sc.Region, t) {
			res.Notifications = append(res.Notifications, p.Body)
		}
	}
	sb.audit.notifications(res.Notifications)
	sb.mu.Lock()
	res.Steps = append([]StepRecord(nil), sb.steps...)
	res.Refusals = append([]Refusal(nil), sb.refusals...)
	res.Reports = append([]Report(nil), sb.reports...)
	res.Violations = append([]string(nil), sb.violations...)
	res.Violations = append(res.Violations, sb.audit.leaks()...)
	// Every answer the emulated cloud gave must be in its error catalogue.
	res.Violations = append(res.Violations, sb.cloud.Unlisted()...)
	res.Violations = append(res.Violations, sb.mq.Unlisted()...)
	inv := map[string]int{}
	for k, v := range sb.invocations {
		inv[k] = v
	}
	sb.mu.Unlock()
	sort.Slice(res.Refusals, func(i, j int) bool {
		a, b := res.Refusals[i], res.Refusals[j]
		return a.Image+"\x00"+a.Subject+"\x00"+a.Reason < b.Image+"\x00"+b.Subject+"\x00"+b.Reason
	})
	res.Refusals = dedupRefusals(res.Refusals)
	if res.Violations == nil {
		res.Violations = []string{}
	}
	res.Failures = append(res.Failures, sb.expectations(res)...)
	// The functions' own calls, by the RAM action the cloud checked them against, and
	// the ones RAM denied.
	calls := map[string]int{}
	for _, c := range sb.cloud.Calls() {
		if c.Caller.RoleName == sb.role {
			calls[c.RAMAction]++
			if c.Denial != "" {
				res.Denials = append(res.Denials, c.Denial)
			}
			if c.Write && c.Code == "" {
				res.Writes = append(res.Writes, c)
			}
		}
	}
	for _, c := range sb.mq.Calls() {
		if c.Caller.RoleName == sb.role {
			calls[c.RAMAction]++
			if c.Denial != "" {
				res.Denials = append(res.Denials, c.Denial)
			}
		}
	}
	res.RolePolicy = sb.rolePolicy
	if len(res.Failures) > 0 && len(res.Denials) > 0 {
		// A scenario that fails while RAM denied the functions says so: the usual cause
		// is a policy that lacks what the code calls.
		res.Failures = append(res.Failures, "RAM denied the functions' role: "+strings.Join(distinct(res.Denials, 5), "; "))
	}
	res.Stats = Stats{Invocations: inv, Calls: calls, Events: sb.events, EmulatedEnd: sb.clock.Now()}
	return res, nil
}

// distinct returns the first n distinct strings of xs, in order.
func distinct(xs []string, n int) []string {
	var out []string
	for _, x := range xs {
		if len(out) < n && !slices.Contains(out, x) {
			out = append(out, x)
		}
	}
	return out
}

func dedupRefusals(rs []Refusal) []Refusal {
	out := rs[:0]
	for i, r := range rs {
		if i > 0 && r == rs[i-1] {
			continue
		}
		out = append(out, r)
	}
	if out == nil {
		return []Refusal{}
	}
	return out
}

// images returns the state of every image, of every region (copies elsewhere, images
// of other accounts (owner: others) included, so that expectations can say they are
// untouched); an image outside the scenario's region carries its region and status.
func (sb *sandbox) images() map[string]ImageState {
	out := map[string]ImageState{}
	for _, v := range sb.cloud.AllImages() {
		st := ImageState{Direct: nonNil(v.Direct), Organization: nonNil(v.Organization), Tags: v.Tags}
		if st.Tags == nil {
			st.Tags = map[string]string{}
		}
		if v.Region != sb.sc.Region {
			st.Region, st.Status = v.Region, v.Status
		}
		out[v.ID] = st
	}
	return out
}

// nonNil copies s; an empty list stays a list (`[]` in --json, never null).
func nonNil(s []string) []string {
	return append([]string{}, s...)
}

// onLog reads one line a function printed: R10 reports (and so refusals) are collected.
// Lines reach it before the invocation's result, and the clock moves only between
// invocations, so the clock is the invocation's emulated time.
func (sb *sandbox) onLog(function string, instance int, line []byte) {
	now := sb.clock.Now()
	if sb.opts.Logs != nil {
		fmt.Fprintf(sb.opts.Logs, "[%s#%d] %s\n", function, instance, EmulatedTime(line, now))
	}
	sb.audit.line(function, line)
	if len(line) == 0 || line[0] != '{' {
		return
	}
	var rec struct {
		Msg               string         `json:"msg"`
		Region            string         `json:"region"`
		Action            string         `json:"action"`
		Image             string         `json:"image"`
		Subject           string         `json:"subject"`
		Reason            string         `json:"reason"`
		Detail            string         `json:"detail"`
		DryRun            bool           `json:"dryRun"`
		AfterConfirmation bool           `json:"afterConfirmation"`
		RequestIDs        []string       `json:"requestIds"`
		Actors            []report.Actor `json:"actors"`
	}
	if json.Unmarshal(line, &rec) != nil || rec.Action == "" || rec.Msg != "imageshare "+rec.Action {
		return
	}
	sb.mu.Lock()
	r := Report{At: now, Step: len(sb.steps) - 1, Function: function, Entry: report.Entry{
		Region: rec.Region, Image: rec.Image, Action: rec.Action, Subject: rec.Subject, Reason: rec.Reason, Message: rec.Detail,
		DryRun: rec.DryRun, AfterConfirmation: rec.AfterConfirmation, RequestIDs: rec.RequestIDs, Actors: rec.Actors}}
	if sb.onReport == nil {
		// A scenario keeps them for its story; a live world hands them on instead.
		sb.reports = append(sb.reports, r)
	}
	if rec.Action == "refuse" && sb.onReport == nil {
		sb.refusals = append(sb.refusals, Refusal{Image: rec.Image, Subject: rec.Subject, Reason: rec.Reason})
	}
	sb.mu.Unlock()
	if sb.onReport != nil {
		sb.onReport(r)
	}
}

// EmulatedTime rewrites the "time" of a function's JSON log line (log/slog's first
// field) to the emulated time at, keeping the process's own clock in "wallTime": the
// functions stamp lines with the wall clock, while a run's story happens on the
// emulated clock. Other lines are returned as they are.
func EmulatedTime(line []byte, at time.Time) []byte {
	const head = `{"time":"`
	if !bytes.HasPrefix(line, []byte(head)) {
		return line
	}
	end := bytes.IndexByte(line[len(head):], '"')
	if end < 0 {
		return line
	}
	wall, rest := line[len(head):len(head)+end], line[len(head)+end+1:]
	return fmt.Appendf(nil, `{"time":"%s","wallTime":"%s"%s`, at.UTC().Format(time.RFC3339Nano), wall, rest)
}
