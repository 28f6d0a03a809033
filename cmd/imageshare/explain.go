package main

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"text/tabwriter"

	"imageshare/pkg/inspect"
	"imageshare/pkg/policy"
	"imageshare/pkg/report"
)

const explainUsage = `explain IMAGE [--account A] [--region R] [--json]
  Why an account has or lacks access to IMAGE: which tag, which resource share and
  directory path, which rule, and what the next run of the functions would change.
  Without --account: every account the image concerns, and its resource shares.`

func explainCmd(ctx context.Context, args []string, e *env) int {
	fs := newFlags("explain", e, explainUsage)
	var c common
	c.register(fs)
	account := fs.String("account", "", "the account to explain (16 digits)")
	asJSON := fs.Bool("json", false, "print JSON")
	if wantsHelp(args) {
		return help(fs, e)
	}
	pos, err := parse(fs, args)
	if err != nil {
		return exitUsage
	}
	if len(pos) != 1 {
		fs.Usage()
		return exitUsage
	}
	image := pos[0]
	s, err := c.connect(ctx, e, false)
	if err != nil {
		return fail(e, "explain", err)
	}
	cfg := inspect.Config{API: s.api, Settings: s.set, Owner: s.owner, Now: e.now}
	v, err := inspect.Look(ctx, cfg, inspect.Request{Region: s.regions[0], Images: []string{image}})
	if err != nil {
		return fail(e, "explain", err)
	}
	if *account == "" {
		sum, err := inspect.Summarize(cfg, v, image)
		if err != nil {
			return fail(e, "explain", err)
		}
		if *asJSON {
			if err := writeJSON(e.stdout, sum); err != nil {
				return fail(e, "explain", err)
			}
			return exitOK
		}
		printSummary(e, v, sum, s.dep.Line())
		return exitOK
	}
	x, err := inspect.Explain(ctx, cfg, v, image, *account)
	if err != nil {
		return fail(e, "explain", err)
	}
	if *asJSON {
		if err := writeJSON(e.stdout, x); err != nil {
			return fail(e, "explain", err)
		}
		return exitOK
	}
	fmt.Fprintf(e.stdout, "imageshare explain: image %s, account %s (%s)\n%s\n\n", image, *account, v.Region, s.dep.Line())
	for _, r := range x.Reasons {
		fmt.Fprintln(e.stdout, r)
	}
	return exitOK
}

func printSummary(e *env, v *inspect.View, s *inspect.Summary, settingsLine string) {
	w := e.stdout
	state := "not managed (no tags)"
	switch {
	case s.Frozen:
		state = "managed, tags have errors: left as it is"
	case s.Managed:
		state = "managed, mode " + string(s.Mode)
	}
	fmt.Fprintf(w, "imageshare explain: image %s (%s), %s, %s\n%s\n\n", s.Image, v.Region, s.Status, state, settingsLine)
	if len(s.Accounts) == 0 {
		fmt.Fprintln(w, "no direct share, and no account named by the tags")
	} else {
		tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ACCOUNT\tDIRECT\tTAGGED\tNEXT RUN\tWHY")
		for _, a := range s.Accounts {
			next := strings.Join(a.Next, ",")
			if next == "" {
				next = "-"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", a.Account, yes(a.Direct), yes(a.Tagged), next, a.Why)
		}
		_ = tw.Flush()
	}
	if len(s.Shares) > 0 {
		fmt.Fprintln(w, "\nresource shares holding the image (access needs the image and a target both Associated):")
		for _, sh := range s.Shares {
			kind := "made by a person"
			if sh.Managed {
				kind = "managed by imageshare"
			}
			var ts []string
			for t, st := range sh.Targets {
				ts = append(ts, t+" "+st)
			}
			sort.Strings(ts)
			fmt.Fprintf(w, "  %s (%s, %s): image %s; targets %s\n", sh.Name, sh.ID, kind, sh.ImageStatus, strings.Join(ts, ", "))
		}
	}
	var org []report.Entry
	for _, n := range s.Next {
		if n.Action == "associate" || n.Action == "disassociate" || n.Action == "postpone" || (n.Action == "refuse" && !policy.IsAccount(n.Subject)) {
			org = append(org, n)
		}
	}
	if len(org) > 0 {
		fmt.Fprintln(w, "\nnext run, besides the accounts above:")
		for _, n := range org {
			fmt.Fprintf(w, "  %s\n", v.Sentence(n))
		}
	}
	fmt.Fprintf(w, "\n`imageshare explain %s --account ID` says why one account has or lacks access.\n", s.Image)
}

func yes(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}
