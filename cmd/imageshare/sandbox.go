package main

import (
	"context"
	_ "embed"
	"encoding/json"
	"errors"
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

func sandboxCmd(args []string) int {
	fs := flag.NewFlagSet("sandbox", flag.ContinueOnError)
	asJSON := fs.Bool("json", false, "print the final state as JSON")
	syamlPath := fs.String("syaml", "", "s.yaml to route events with (default: the embedded one)")
	logs := fs.Bool("logs", false, "print every line the function processes log")
	trace := fs.Bool("trace", false, "print what the sandbox does")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), `usage: imageshare sandbox [--json] [--syaml FILE] [--logs] [--trace] [FILE]

Runs scenario FILE (without FILE, the built-in demo) on the embedded emulated cloud.
The scenario format, the timing rules, the expectations and the invariant:
docs/scenarios.md. Exit 0: every expectation holds; 1: one fails, an invariant broke
or a step did not settle; 2: invalid file or command line; 3: internal error.

`)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 1 {
		fmt.Fprintln(os.Stderr, "imageshare sandbox: at most one scenario file")
		return 2
	}
	name, data := "demo.yaml", demo
	if fs.NArg() == 1 {
		name = fs.Arg(0)
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
	fmt.Fprintf(w, "imageshare sandbox: %s\n\n", name)
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
		fmt.Fprintln(w, "\nrefused:")
		for _, r := range res.Refusals {
			subject := r.Subject
			if subject == "" {
				subject = "(the image)"
			}
			fmt.Fprintf(w, "  %s  %s  %s\n", r.Image, subject, r.Reason)
		}
	}
	fmt.Fprintf(w, "\n%d function invocations, %d cloud calls by the functions, emulated time %s\n",
		sum(res.Stats.Invocations), sum(res.Stats.Calls), res.Stats.EmulatedEnd.Format("2006-01-02 15:04"))
	if res.OK() {
		fmt.Fprintln(w, "every expectation holds; no account lost access on the way")
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
