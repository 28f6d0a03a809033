package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"maps"
	"os"
	"os/signal"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"imageshare"
	"imageshare/pkg/sandbox"
	"imageshare/pkg/scenario"
)

const emulatorUsage = `emulator [--json] [--port-base N] [--syaml FILE] [--bare] [FILE]
serve the emulated cloud (ECS, Resource Manager, Resource Sharing, MNS, and for
imageshare setup and doctor RAM, STS, EventBridge and the MNS management API) on
loopback with the world of FILE (a scenario; without FILE, the demo's), without running
the functions or the file's steps, and print the endpoints and credentials; runs until
interrupted (exit 0). See docs/emulator.md.
  --json         print the endpoints and credentials as one JSON object on one line
  --port-base N  listen on 127.0.0.1:N (ecs), N+1 (resourcemanager), N+2
                 (resourcesharing), N+3 (mns), N+4 (ram), N+5 (sts), N+6
                 (eventbridge), N+7 (mns-open); default: free ports
  --syaml FILE   the s.yaml whose queues, topic and function role to create (default: the embedded one)
  --bare         without the deployment's queues, topic and the functions' role, for
                 imageshare setup to make them`

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
// before the deployment services were emulated, then those.
var emulatedServices = []string{"ecs", "resourcemanager", "resourcesharing", "mns", "ram", "sts", "eventbridge", "mns-open", "actiontrail"}

// endpointVar is the variable that points a client at a service.
func endpointVar(service string) string {
	return strings.ToUpper(strings.ReplaceAll(service, "-", "_")) + "_ENDPOINT"
}

func emulatorCmd(args []string, stdout, stderr io.Writer) int {
	for _, a := range args {
		if a == "-h" || a == "-help" || a == "--help" {
			fmt.Fprintln(stdout, "usage: imageshare "+emulatorUsage)
			return 0
		}
	}
	fs := flag.NewFlagSet("emulator", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprintln(stderr, "usage: imageshare "+emulatorUsage) }
	asJSON := fs.Bool("json", false, "")
	portBase := fs.Int("port-base", 0, "")
	syamlPath := fs.String("syaml", "", "")
	bare := fs.Bool("bare", false, "")
	pos, err := parse(fs, args)
	if err != nil {
		return exitUsage
	}
	if len(pos) > 1 {
		fmt.Fprintln(stderr, "imageshare emulator: at most one scenario file")
		return exitUsage
	}
	if last := len(emulatedServices) - 1; *portBase != 0 && (*portBase < 1 || *portBase > 65535-last) {
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
	if *portBase != 0 {
		port := map[string]int{}
		for i, p := range emulatedServices {
			port[p] = *portBase + i
		}
		opts.Addr = func(service string) string { return "127.0.0.1:" + strconv.Itoa(port[service]) }
	}
	w, err := sandbox.NewWorld(sc, opts)
	if err != nil {
		fmt.Fprintf(stderr, "imageshare emulator: %v\n", err)
		return exitError
	}
	defer w.Close()
	info := describeWorld(name, w)

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if *asJSON {
		b, err := json.Marshal(info)
		if err != nil {
			fmt.Fprintf(stderr, "imageshare emulator: %v\n", err)
			return exitError
		}
		fmt.Fprintf(stdout, "%s\n", b)
	} else {
		printWorld(stdout, info, len(sc.Steps) > 0, *bare)
	}
	<-ctx.Done()
	fmt.Fprintln(stderr, "imageshare emulator: stopped")
	return exitOK
}

func describeWorld(name string, w *sandbox.World) emulatorInfo {
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
	if info.Settings == nil {
		info.Settings = map[string]string{}
	}
	if info.Queues == nil {
		info.Queues = []string{}
	}
	return info
}

func printWorld(out io.Writer, info emulatorInfo, steps, bare bool) {
	fmt.Fprintf(out, "imageshare emulator: the world of %s (region %s, owner %s) on loopback\n", info.Scenario, info.Region, info.AccountID)
	if steps {
		fmt.Fprintln(out, "  (the file's steps and expectations are not run; no functions run)")
	}
	for _, p := range emulatedServices {
		fmt.Fprintf(out, "  %-16s %s\n", p, info.Endpoints[p])
	}
	fmt.Fprintf(out, "  %-16s MNS clients must send Host: %s (docs/emulator.md)\n", "", info.MNSHost)
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
	if len(info.Settings) > 0 {
		fmt.Fprintln(out, "# The scenario's settings, as the functions see them:")
		for _, k := range slices.Sorted(maps.Keys(info.Settings)) {
			fmt.Fprintf(out, "export %s=%s\n", k, shellQuote(info.Settings[k]))
		}
	}
	r := info.FunctionRole
	fmt.Fprintf(out, "\n# STS credentials of the functions' role %s (until %s; the file's deny and faults apply to them):\n", r.Name, r.Expiration)
	fmt.Fprintf(out, "#   access key ID      %s\n#   access key secret  %s\n#   security token     %s\n", r.AccessKeyID, r.AccessKeySecret, r.SecurityToken)
	fmt.Fprintln(out, "\nStop with Ctrl-C.")
}

var shellSafe = regexp.MustCompile(`^[A-Za-z0-9_./:@,+=%-]+$`)

// shellQuote quotes v for a POSIX shell.
func shellQuote(v string) string {
	if shellSafe.MatchString(v) {
		return v
	}
	return "'" + strings.ReplaceAll(v, "'", `'\''`) + "'"
}
