package main

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	deploy "imageshare/pkg/deployment"
	"imageshare/pkg/inspect"
)

const statusUsage = `status [--region R] [--json] [--progress auto|always|never]
  What imageshare manages: images, direct shares and resource shares by kind, refusals,
  and images waiting to be Available. On a terminal, long listings show progress.`

// statusJSON is the JSON answer of status.
type statusJSON struct {
	Owner   string           `json:"owner"`
	Regions []inspect.Status `json:"regions"`
	// Settings are the functions' settings the answer was made with, and their sources.
	Settings []deploy.Setting `json:"settings"`
}

func statusCmd(ctx context.Context, args []string, e *env) int {
	fs := newFlags("status", e, statusUsage)
	var c common
	c.register(fs)
	asJSON := fs.Bool("json", false, "print JSON")
	progress := fs.String("progress", "auto", "progress on stderr: auto (when it is a terminal), always, never")
	if wantsHelp(args) {
		return help(fs, e)
	}
	if !parseFlags(fs, args, e, "status", "") {
		return exitUsage
	}
	if *progress != "auto" && *progress != "always" && *progress != "never" {
		fmt.Fprintf(e.stderr, "imageshare status: --progress %q: must be auto, always or never\n", *progress)
		return exitUsage
	}
	s, err := c.connect(ctx, e, true)
	if err != nil {
		return fail(e, "status", err)
	}
	show := *progress == "always" || (*progress == "auto" && e.terminal())
	out, err := collectStatus(ctx, s, e, show)
	if err != nil {
		return fail(e, "status", err)
	}
	if *asJSON {
		if err := writeJSON(e.stdout, out); err != nil {
			return fail(e, "status", err)
		}
		return exitOK
	}
	for _, st := range out.Regions {
		printStatus(e.stdout, s, st)
	}
	return exitOK
}

// collectStatus looks at every region of the session: what status (and report) show.
func collectStatus(ctx context.Context, s *session, e *env, show bool) (statusJSON, error) {
	out := statusJSON{Owner: s.owner, Settings: s.dep.Settings}
	for _, region := range s.regions {
		counter := inspect.NewCounter(s.api)
		stop := func() {}
		if show {
			stop = progressLine(e.stderr, region, counter, 250*time.Millisecond)
		}
		cfg := inspect.Config{API: counter, Settings: s.set, Owner: s.owner, Now: e.now}
		v, err := inspect.Look(ctx, cfg, inspect.Request{Region: region})
		stop()
		if err != nil {
			return out, err
		}
		out.Regions = append(out.Regions, inspect.StatusOf(cfg, v))
	}
	return out, nil
}

// progressLine rewrites one line on w with the counts until stopped, then ends it with
// the totals.
func progressLine(w io.Writer, region string, c *inspect.Counter, every time.Duration) (stop func()) {
	line := func() string {
		p := c.Snapshot()
		return fmt.Sprintf("reading %s: %d images, %d share lists, %d members; %d calls (%.1f calls/s)",
			region, p.Images, p.ShareLists, p.Accounts, p.Calls, p.Rate)
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				fmt.Fprintf(w, "\r\033[K%s", line())
			}
		}
	}()
	return func() {
		close(done)
		wg.Wait()
		fmt.Fprintf(w, "\r\033[K%s\n", line())
	}
}

func printStatus(w io.Writer, s *session, st inspect.Status) {
	fmt.Fprintf(w, "imageshare status: %s, owner %s (%s)\n%s\n\n", st.Region, s.owner, s.ownerBy, s.dep.Line())
	var by []string
	for _, k := range sortedCounts(st.ByStatus) {
		by = append(by, fmt.Sprintf("%s %d", k, st.ByStatus[k]))
	}
	frozen := ""
	if st.Frozen > 0 {
		frozen = fmt.Sprintf(", %d frozen by tag errors", st.Frozen)
	}
	fmt.Fprintf(w, "images:          %d managed%s (%s)\n", st.Managed, frozen, strings.Join(by, ", "))
	if st.Images > st.Managed {
		fmt.Fprintf(w, "                 and %d untagged custom images (REDUNDANCY_SCOPE=all)\n", st.Images-st.Managed)
	}
	fmt.Fprintf(w, "direct shares:   %d on %s\n", st.DirectShares, count(st.DirectImages, "image"))
	fmt.Fprintf(w, "resource shares: %d managed by imageshare, %d made by people\n", st.ManagedShares(), len(st.Shares)-st.ManagedShares())
	if len(st.Shares) > 0 {
		tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
		for _, sh := range st.Shares {
			kind := "by hand"
			if sh.Managed {
				kind = "managed"
			}
			moving := ""
			if sh.Moving > 0 {
				moving = fmt.Sprintf(", %d moving", sh.Moving)
			}
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s%s\n", sh.Name, kind, strings.Join(sh.Targets, ","), count(sh.Images, "image"), moving)
		}
		_ = tw.Flush()
	}
	fmt.Fprintf(w, "pending changes: %d", st.Pending)
	if st.Awaiting > 0 {
		fmt.Fprintf(w, " (%s awaiting confirmation)", count(st.Awaiting, "image"))
	}
	if st.Pending > 0 {
		fmt.Fprint(w, " (`imageshare plan` lists them)")
	}
	fmt.Fprintf(w, "\nrefusals:        %d\n", len(st.Refusals))
	if len(st.Refusals) > 0 {
		tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
		for _, r := range st.Refusals {
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", r.Image, subjectOf(r), r.Reason, r.Message)
		}
		_ = tw.Flush()
	}
	fmt.Fprintf(w, "postponed:       %d\n", len(st.Postponed))
	for _, p := range st.Postponed {
		since := ""
		if p.Created != "" {
			since = " since " + p.Created
		}
		fmt.Fprintf(w, "  %s  %s%s: %s\n", p.Image, p.Status, since, p.Message)
	}
	fmt.Fprintln(w)
}

func sortedCounts(m map[string]int) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
