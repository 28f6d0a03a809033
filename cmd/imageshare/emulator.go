package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	neturl "net/url"
	"os"
	"os/signal"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"imageshare"
	"imageshare/pkg/cloudsim/emu"
	deploy "imageshare/pkg/deployment"
	"imageshare/pkg/sandbox"
	"imageshare/pkg/scenario"
)

const emulatorUsage = `emulator [--functions] [--logs] [--json] [--port-base N] [--syaml FILE] [--bare] [FILE]
serve the emulated cloud (ECS, Resource Manager, Resource Sharing, MNS, and for
imageshare setup and doctor RAM, STS, EventBridge and the MNS management API) on
loopback with the world of FILE (a scenario; without FILE, the demo's), without the
file's steps and expectations, and print the endpoints and credentials; runs until
interrupted (exit 0). The emulated clock follows the wall clock; imageshare emulator
advance D moves it D ahead at once. See docs/emulator.md, and docs/try-it.md for a
walkthrough.
  --functions    also run the five functions as the sandbox does (processes speaking the
                 FC runtime API; ActionTrail events routed by s.yaml's triggers, the
                 sweep timer, EventBridge's retries): a tag edit by any client is
                 shared, and what they change or refuse is printed as it happens
  --logs         with --functions, print the functions' JSON log lines on stderr
  --json         print the endpoints and credentials as one JSON object on one line
  --port-base N  listen on 127.0.0.1:N (ecs), N+1 (resourcemanager), N+2
                 (resourcesharing), N+3 (mns), N+4 (ram), N+5 (sts), N+6
                 (eventbridge), N+7 (mns-open), N+8 (actiontrail), and the emulator's
                 control after them (N+9);
                 default: free ports
  --syaml FILE   the s.yaml whose queues, topic, function role, settings and triggers
                 to use (default: the embedded one)
  --bare         without the deployment's queues, topic and the functions' role, for
                 imageshare setup to make them (not with --functions)
emulator advance D [--emulator URL]
  move the running emulator's clock D (e.g. 2m, 1h) ahead at once, doing everything that
  falls due on the way in time order (with --functions: delayed jobs, the second look
  of a removal, timers), and print the emulated time; URL: EMULATOR_ENDPOINT, which
  the emulator prints`

// stsLifetime is how long the functions' role credentials the emulator prints stay valid.
const stsLifetime = 12 * time.Hour

// emulatorInfo is what `imageshare emulator --json` prints.
type emulatorInfo struct {
	Scenario        string            `json:"scenario"`
	Region          string            `json:"region"`
	AccountID       string            `json:"account_id"`
	Endpoints       map[string]string `json:"endpoints"`
	MNSHost         string            `json:"mns_host"`
	AccessKeyID     string            `json:"access_key_id"`
	AccessKeySecret string            `json:"access_key_secret"`
	FunctionRole    roleCredentials   `json:"function_role"`
	Queues          []string          `json:"queues"`
	Topic           string            `json:"topic"`
	Settings        map[string]string `json:"settings"`
	// Env is the export block: the variables the functions and the operator commands read.
	Env map[string]string `json:"env"`
	// Control is the emulator's own endpoint (GET /_emulator/clock, POST
	// /_emulator/advance?d=D); Functions says whether the functions run.
	Control   string `json:"control"`
	Functions bool   `json:"functions"`
	// settingVars are the IMAGESHARE_* variables of Env, in settings order.
	settingVars []string
}

type roleCredentials struct {
	Name            string `json:"name"`
	AccessKeyID     string `json:"access_key_id"`
	AccessKeySecret string `json:"access_key_secret"`
	SecurityToken   string `json:"security_token"`
	Expiration      string `json:"expiration"`
}

// envOrder is the order of the export block.
var envOrder = []string{"ALIBABA_CLOUD_ACCESS_KEY_ID", "ALIBABA_CLOUD_ACCESS_KEY_SECRET", "ALIBABA_CLOUD_REGION_ID",
	"ALIBABA_CLOUD_ACCOUNT_ID", "ECS_ENDPOINT", "RESOURCEMANAGER_ENDPOINT", "RESOURCESHARING_ENDPOINT", "MNS_ENDPOINT",
	"RAM_ENDPOINT", "STS_ENDPOINT", "EVENTBRIDGE_ENDPOINT", "MNS_OPEN_ENDPOINT", "ACTIONTRAIL_ENDPOINT"}

// emulatedServices are the services in the order of --port-base: the first four as
// before the deployment services were emulated, then those. The emulator's control
// endpoint listens on the port after the last.
var emulatedServices = []string{"ecs", "resourcemanager", "resourcesharing", "mns", "ram", "sts", "eventbridge", "mns-open", "actiontrail"}

// controlVar is the variable that names the emulator's control endpoint.
const controlVar = "EMULATOR_ENDPOINT"

// endpointVar is the variable that points a client at a service.
func endpointVar(service string) string {
	return strings.ToUpper(strings.ReplaceAll(service, "-", "_")) + "_ENDPOINT"
}

func emulatorCmd(args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 && args[0] == "advance" {
		return emulatorAdvance(args[1:], stdout, stderr, os.Getenv)
	}
	if wantsHelp(args) {
		fmt.Fprintln(stdout, "usage: imageshare "+emulatorUsage)
		return 0
	}
	fs := flag.NewFlagSet("emulator", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprintln(stderr, "usage: imageshare "+emulatorUsage) }
	asJSON := fs.Bool("json", false, "")
	portBase := fs.Int("port-base", 0, "")
	syamlPath := fs.String("syaml", "", "")
	bare := fs.Bool("bare", false, "")
	functions := fs.Bool("functions", false, "")
	logs := fs.Bool("logs", false, "")
	pos, err := parse(fs, args)
	if err != nil {
		return exitUsage
	}
	if len(pos) > 1 {
		fmt.Fprintln(stderr, "imageshare emulator: at most one scenario file")
		return exitUsage
	}
	if *functions && *bare {
		fmt.Fprintln(stderr, "imageshare emulator: --functions needs the deployment's role and queues, which --bare leaves out")
		return exitUsage
	}
	if *logs && !*functions {
		fmt.Fprintln(stderr, "imageshare emulator: --logs prints the functions' lines: it needs --functions")
		return exitUsage
	}
	if last := len(emulatedServices); *portBase != 0 && (*portBase < 1 || *portBase > 65535-last) {
		fmt.Fprintf(stderr, "imageshare emulator: --port-base %d: the %d ports N..N+%d must lie in 1..65535\n", *portBase, last+1, last)
		return exitUsage
	}
	name, data := "demo.yaml", demo
	if len(pos) == 1 {
		name = pos[0]
		if data, err = os.ReadFile(name); err != nil {
			fmt.Fprintf(stderr, "imageshare emulator: %v\n", err)
			return exitUsage
		}
	}
	sc, err := scenario.Parse(name, data)
	if err != nil {
		fmt.Fprintf(stderr, "imageshare emulator: invalid scenario: %v\n", err)
		return exitUsage
	}
	sy := imageshare.SYAML
	if *syamlPath != "" {
		if sy, err = os.ReadFile(*syamlPath); err != nil {
			fmt.Fprintf(stderr, "imageshare emulator: %v\n", err)
			return exitUsage
		}
	}
	opts := sandbox.WorldOptions{SYAML: sy, Bare: *bare}
	controlAddr := "127.0.0.1:0"
	if *portBase != 0 {
		port := map[string]int{}
		for i, p := range emulatedServices {
			port[p] = *portBase + i
		}
		opts.Addr = func(service string) string { return "127.0.0.1:" + strconv.Itoa(port[service]) }
		controlAddr = "127.0.0.1:" + strconv.Itoa(*portBase+len(emulatedServices))
	}
	var outMu sync.Mutex
	if *functions {
		exe, err := os.Executable()
		if err != nil {
			fmt.Fprintf(stderr, "imageshare emulator: %v\n", err)
			return exitError
		}
		opts.FunctionCommand = func(fn string) []string { return []string{exe, "function", fn} }
		// The sandbox's time: the demo's story and a walkthrough read the same.
		opts.Start = emu.Epoch
		if *logs {
			opts.Logs = lockedWriter{&outMu, stderr}
		}
		opts.OnReport = func(r sandbox.Report) {
			outMu.Lock()
			defer outMu.Unlock()
			fmt.Fprintf(stdout, "%s  %-12s %s\n", r.At.UTC().Format("15:04:05"), r.Function+":", sentence(r.Entry))
		}
	}
	w, err := sandbox.NewWorld(sc, opts)
	if err != nil {
		fmt.Fprintf(stderr, "imageshare emulator: %v\n", err)
		return exitError
	}
	defer w.Close()
	ln, err := net.Listen("tcp", controlAddr)
	if err != nil {
		fmt.Fprintf(stderr, "imageshare emulator: the control endpoint: %v\n", err)
		return exitError
	}
	defer ln.Close()
	srv := &http.Server{Handler: controlHandler(w), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	defer srv.Close()
	info, err := describeWorld(name, w, sy)
	if err != nil {
		fmt.Fprintf(stderr, "imageshare emulator: %v\n", err)
		return exitError
	}
	info.Control = "http://" + ln.Addr().String()
	info.Env[controlVar] = info.Control
	info.Functions = *functions

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	outMu.Lock()
	if *asJSON {
		b, err := json.Marshal(info)
		if err != nil {
			outMu.Unlock()
			fmt.Fprintf(stderr, "imageshare emulator: %v\n", err)
			return exitError
		}
		fmt.Fprintf(stdout, "%s\n", b)
	} else {
		printWorld(stdout, info, len(sc.Steps) > 0, *bare)
	}
	outMu.Unlock()
	<-ctx.Done()
	fmt.Fprintln(stderr, "imageshare emulator: stopped")
	return exitOK
}

// lockedWriter serializes writes to one stream from several goroutines.
type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// clockJSON is the control endpoint's answer.
type clockJSON struct {
	Now       string `json:"now"`
	From      string `json:"from,omitempty"`
	Ahead     string `json:"ahead"`
	Functions bool   `json:"functions"`
}

// controlHandler serves the emulator's own endpoint: GET /_emulator/clock, and POST
// /_emulator/advance?d=D (a Go duration, at most a week) that moves the clock ahead.
func controlHandler(w *sandbox.World) http.Handler {
	mux := http.NewServeMux()
	answer := func(rw http.ResponseWriter, v clockJSON) {
		rw.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(rw).Encode(v)
	}
	mux.HandleFunc("/_emulator/clock", func(rw http.ResponseWriter, r *http.Request) {
		answer(rw, clockJSON{Now: w.Now().Format(time.RFC3339), Ahead: w.Ahead().String(), Functions: w.Live()})
	})
	mux.HandleFunc("/_emulator/advance", func(rw http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			rw.Header().Set("Allow", "POST")
			http.Error(rw, "POST /_emulator/advance?d=2m", http.StatusMethodNotAllowed)
			return
		}
		d, err := time.ParseDuration(r.URL.Query().Get("d"))
		if err != nil || d < 0 || d > 7*24*time.Hour {
			http.Error(rw, fmt.Sprintf("d=%q: give a duration from 0s to 168h, such as 90s or 2m", r.URL.Query().Get("d")), http.StatusBadRequest)
			return
		}
		from, to, err := w.Advance(d)
		if err != nil {
			http.Error(rw, err.Error(), http.StatusInternalServerError)
			return
		}
		answer(rw, clockJSON{From: from.Format(time.RFC3339), Now: to.Format(time.RFC3339), Ahead: w.Ahead().String(), Functions: w.Live()})
	})
	return mux
}

// emulatorAdvance is `imageshare emulator advance D`: it asks the running emulator's
// control endpoint to move the clock.
func emulatorAdvance(args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	usage := "usage: imageshare emulator advance D [--emulator URL]\n  move the running emulator's clock D (e.g. 2m) ahead; URL: " + controlVar + " (the emulator prints it)"
	if wantsHelp(args) {
		fmt.Fprintln(stdout, usage)
		return exitOK
	}
	fs := flag.NewFlagSet("emulator advance", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprintln(stderr, usage) }
	url := fs.String("emulator", getenv(controlVar), "")
	pos, err := parse(fs, args)
	if err != nil {
		return exitUsage
	}
	if len(pos) != 1 {
		fmt.Fprintln(stderr, usage)
		return exitUsage
	}
	d, err := time.ParseDuration(pos[0])
	if err != nil || d < 0 {
		fmt.Fprintf(stderr, "imageshare emulator advance: %q: give a duration such as 90s, 2m or 1h\n", pos[0])
		return exitUsage
	}
	if *url == "" {
		fmt.Fprintf(stderr, "imageshare emulator advance: no emulator: set %s (the emulator prints it) or give --emulator URL\n", controlVar)
		return exitUsage
	}
	if err := loopbackURL(*url); err != nil {
		fmt.Fprintf(stderr, "imageshare emulator advance: %s=%q: %v\n", controlVar, *url, err)
		return exitUsage
	}
	client := &http.Client{Timeout: 10 * time.Minute}
	resp, err := client.Post(strings.TrimRight(*url, "/")+"/_emulator/advance?d="+d.String(), "", nil)
	if err != nil {
		fmt.Fprintf(stderr, "imageshare emulator advance: the emulator at %s does not answer (is it running?): %v\n", *url, err)
		return exitError
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
	if resp.StatusCode != http.StatusOK {
		fmt.Fprintf(stderr, "imageshare emulator advance: %s: %s\n", resp.Status, strings.TrimSpace(string(body)))
		return exitError
	}
	var c clockJSON
	if err := json.Unmarshal(body, &c); err != nil {
		fmt.Fprintf(stderr, "imageshare emulator advance: %s answered %q\n", *url, body)
		return exitError
	}
	fmt.Fprintf(stdout, "emulated time %s → %s; what fell due on the way was done (advanced %s in all)\n", c.From, c.Now, c.Ahead)
	return exitOK
}

// loopbackURL accepts only http://127.0.0.1:PORT, http://[::1]:PORT or
// http://localhost:PORT: the emulator listens nowhere else.
func loopbackURL(s string) error {
	u, err := neturl.Parse(s)
	if err != nil || u.Scheme != "http" || u.Host == "" {
		return fmt.Errorf("not an http:// URL")
	}
	h := u.Hostname()
	if ip := net.ParseIP(h); h != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return fmt.Errorf("the emulator listens only on loopback")
	}
	return nil
}

func describeWorld(name string, w *sandbox.World, sy []byte) (emulatorInfo, error) {
	eps := w.Endpoints()
	key := w.OwnerKey()
	role := w.AssumeFunctionRole("emulator", stsLifetime)
	info := emulatorInfo{Scenario: name, Region: w.Region(), AccountID: w.Owner(), Endpoints: eps,
		MNSHost:     w.Owner() + ".mns." + w.Region() + ".aliyuncs.com",
		AccessKeyID: key.AccessKeyID, AccessKeySecret: key.AccessKeySecret,
		FunctionRole: roleCredentials{Name: w.FunctionRole(), AccessKeyID: role.AccessKeyID, AccessKeySecret: role.AccessKeySecret,
			SecurityToken: role.SecurityToken, Expiration: role.Expires.UTC().Format(time.RFC3339)},
		Queues: w.Queues(), Topic: w.Topic(), Settings: w.Settings(),
		Env: map[string]string{
			"ALIBABA_CLOUD_ACCESS_KEY_ID": key.AccessKeyID, "ALIBABA_CLOUD_ACCESS_KEY_SECRET": key.AccessKeySecret,
			"ALIBABA_CLOUD_REGION_ID": w.Region(), "ALIBABA_CLOUD_ACCOUNT_ID": w.Owner(),
		}}
	for _, s := range emulatedServices {
		info.Env[endpointVar(s)] = eps[s]
	}
	// The variables that make s.yaml give the functions' settings of this world, so
	// that the operator commands (which read s.yaml as s deploy does) decide as they do.
	exports, _, err := deploy.Exports(sy, map[string]string{"accountId": w.Owner(), "region": w.Region()}, w.FunctionEnv())
	if err != nil {
		return info, fmt.Errorf("s.yaml: %w", err)
	}
	for _, e := range exports {
		info.Env[e[0]] = e[1]
		info.settingVars = append(info.settingVars, e[0])
	}
	if info.Settings == nil {
		info.Settings = map[string]string{}
	}
	if info.Queues == nil {
		info.Queues = []string{}
	}
	return info, nil
}

func printWorld(out io.Writer, info emulatorInfo, steps, bare bool) {
	fmt.Fprintf(out, "imageshare emulator: the world of %s (region %s, owner %s) on loopback\n", info.Scenario, info.Region, info.AccountID)
	if steps {
		fmt.Fprintln(out, "  (the file's steps and expectations are not run)")
	}
	for _, p := range emulatedServices {
		fmt.Fprintf(out, "  %-16s %s\n", p, info.Endpoints[p])
	}
	fmt.Fprintf(out, "  %-16s MNS clients must send Host: %s (docs/emulator.md)\n", "", info.MNSHost)
	fmt.Fprintf(out, "  %-16s %s (GET /_emulator/clock, POST /_emulator/advance?d=2m)\n", "control", info.Control)
	topic := info.Topic
	if topic == "" {
		topic = "-"
	}
	fmt.Fprintf(out, "  %-16s %s; topic %s\n", "queues", strings.Join(info.Queues, ", "), topic)
	if bare {
		fmt.Fprintf(out, "  %-16s (--bare: the queues, the topic and the role %s are not made; imageshare setup makes them)\n", "", info.FunctionRole.Name)
	}
	fmt.Fprintln(out, "\n# The owner's root account, for the operator commands and any client:")
	for _, k := range envOrder {
		fmt.Fprintf(out, "export %s=%s\n", k, shellQuote(info.Env[k]))
	}
	if len(info.settingVars) > 0 {
		fmt.Fprintln(out, "# The functions' settings in this world, as s deploy would read them from s.yaml:")
		for _, k := range info.settingVars {
			fmt.Fprintf(out, "export %s=%s\n", k, shellQuote(info.Env[k]))
		}
	}
	fmt.Fprintln(out, "# The emulator's clock (imageshare emulator advance 2m):")
	fmt.Fprintf(out, "export %s=%s\n", controlVar, info.Control)
	r := info.FunctionRole
	fmt.Fprintf(out, "\n# STS credentials of the functions' role %s (until %s; the file's deny and faults apply to them):\n", r.Name, r.Expiration)
	fmt.Fprintf(out, "#   access key ID      %s\n#   access key secret  %s\n#   security token     %s\n", r.AccessKeyID, r.AccessKeySecret, r.SecurityToken)
	if info.Functions {
		fmt.Fprintln(out, "\nThe functions run: what they change or refuse is printed below as it happens (emulated time).")
	} else {
		fmt.Fprintln(out, "\nNo function runs (--functions runs them).")
	}
	fmt.Fprintln(out, "Stop with Ctrl-C.")
}

var shellSafe = regexp.MustCompile(`^[A-Za-z0-9_./:@,+=%-]+$`)

// shellQuote quotes v for a POSIX shell.
func shellQuote(v string) string {
	if shellSafe.MatchString(v) {
		return v
	}
	return "'" + strings.ReplaceAll(v, "'", `'\''`) + "'"
}
