package main

import (
	"context"
	_ "embed"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"strings"
	"text/tabwriter"

	"imageshare"
	"imageshare/pkg/sandbox"
	"imageshare/pkg/scenario"
)

//go:embed demo.yaml
var demo []byte

const sandboxUsage = `sandbox [--json] [--logs] [--trace] [--syaml FILE] [FILE]
  Run scenario FILE on the embedded emulated cloud and check its expectations: the five
  functions run as processes speaking the FC runtime API, fed by the events the
  emulated cloud emits and routed by s.yaml's triggers, on an emulated clock that starts
  at 2026-01-01 00:00 UTC and moves only when nothing is left to do now. It tells what
  happened step by step (the emulated time, who did what, what the functions changed or
  refused and the remedy), then each image's shares before and after. Without FILE,
  the built-in demo (cmd/imageshare/demo.yaml). The format of FILE, its timing rules,
  expectations and invariant: docs/scenarios.md; examples: test/scenarios/*.yaml.
  --json         print the final state as JSON instead: {"images": {ID: {"direct",
                 "organization", "tags"}}, "refusals": [{"image", "subject", "reason"}],
                 "violations": [...]}
  --logs         print the functions' log lines on stderr as "[function#instance] {json}";
                 "time" is the emulated time of the invocation, "wallTime" the machine's
  --trace        print what the sandbox does on stderr (deliveries, retries, timers)
  --syaml FILE   route events and configure the functions from FILE, not the built-in s.yaml
  exit 0: every expectation holds; 1: one fails, an invariant broke or a step did not
  settle; 2: invalid file or command line; 3: internal error
  examples: imageshare sandbox
            imageshare sandbox --logs test/scenarios/r12-sweep-straddle.yaml`

func sandboxCmd(args []string) int {
	if wantsHelp(args) {
		fmt.Println("usage: imageshare " + sandboxUsage)
		return 0
	}
	fs := flag.NewFlagSet("sandbox", flag.ContinueOnError)
	asJSON := fs.Bool("json", false, "print the final state as JSON")
	syamlPath := fs.String("syaml", "", "s.yaml to route events with (default: the embedded one)")
	logs := fs.Bool("logs", false, "print every line the function processes log")
	trace := fs.Bool("trace", false, "print what the sandbox does")
	fs.Usage = func() { fmt.Fprintln(fs.Output(), "usage: imageshare "+sandboxUsage) }
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 1 {
		fmt.Fprintln(os.Stderr, "imageshare sandbox: at most one scenario file")
		return 2
	}
	name, data, title := "demo.yaml", demo, "the built-in demo, cmd/imageshare/demo.yaml"
	if fs.NArg() == 1 {
		name, title = fs.Arg(0), "scenario file "+fs.Arg(0)
		b, err := os.ReadFile(name)
		if err != nil {
			fmt.Fprintf(os.Stderr, "imageshare sandbox: %v\n", err)
			return 2
		}
		data = b
	}
	sc, err := scenario.Parse(name, data)
	if err != nil {
		fmt.Fprintf(os.Stderr, "imageshare sandbox: invalid scenario: %v\n", err)
		return 2
	}
	sy := imageshare.SYAML
	if *syamlPath != "" {
		if sy, err = os.ReadFile(*syamlPath); err != nil {
			fmt.Fprintf(os.Stderr, "imageshare sandbox: %v\n", err)
			return 3
		}
	}
	exe, err := os.Executable()
	if err != nil {
		fmt.Fprintf(os.Stderr, "imageshare sandbox: %v\n", err)
		return 3
	}
	opts := sandbox.Options{SYAML: sy, FunctionCommand: func(fn string) []string { return []string{exe, "function", fn} }}
	if *logs {
		opts.Logs = os.Stderr
	}
	if *trace {
		opts.Trace = os.Stderr
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	res, err := sandbox.Run(ctx, sc, opts)
	if err != nil {
		fmt.Fprintf(os.Stderr, "imageshare sandbox: %v\n", err)
		return 3
	}
	if *asJSON {
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(res); err != nil {
			return 3
		}
	} else {
		fmt.Fprintf(os.Stdout, "imageshare sandbox: %s (region %s, owner %s)\n\n", title, sc.Region, sc.Owner)
		printStory(os.Stdout, sc, res)
		printTable(os.Stdout, name, res)
	}
	if !res.OK() {
		for _, f := range res.Failures {
			fmt.Fprintln(os.Stderr, "FAIL:", f)
		}
		for _, v := range res.Violations {
			fmt.Fprintln(os.Stderr, "INVARIANT:", v)
		}
		return 1
	}
	return 0
}

// printTable shows each image's direct and organization shares before and after.
func printTable(w io.Writer, name string, res *sandbox.Result) {
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "IMAGE\tDIRECT (before → after)\tORGANIZATION (before → after)")
	ids := make([]string, 0, len(res.Images))
	for id := range res.Images {
		ids = append(ids, id)
	}
	for id := range res.Before {
		if _, ok := res.Images[id]; !ok {
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	for _, id := range ids {
		b, a := res.Before[id], res.Images[id]
		fmt.Fprintf(tw, "%s\t%s → %s\t%s → %s\n", id, list(b.Direct), list(a.Direct), list(b.Organization), list(a.Organization))
	}
	_ = tw.Flush()
	if len(res.Refusals) > 0 {
		fmt.Fprintln(w, "\nrefused, with what to do:")
		for _, r := range res.Refusals {
			subject := r.Subject
			if subject == "" {
				subject = "(the image)"
			}
			fmt.Fprintf(w, "  %s  %s  %s", r.Image, subject, r.Reason)
			if m := remedyOf(res, r); m != "" {
				fmt.Fprintf(w, ": %s", m)
			}
			fmt.Fprintln(w)
		}
	}
	fmt.Fprintf(w, "\n%d function invocations, %d cloud calls by the functions, emulated time %s\n",
		sum(res.Stats.Invocations), sum(res.Stats.Calls), res.Stats.EmulatedEnd.Format("2006-01-02 15:04"))
	if res.OK() {
		fmt.Fprintf(w, "every expectation holds: the expect block of %s (each image's direct shares and organization targets at the end, and the refusals that must be reported) is met, and no account lost access on the way\n", name)
	}
}

func list(xs []string) string {
	if len(xs) == 0 {
		return "-"
	}
	return strings.Join(xs, ",")
}

func sum(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}
