package main

import (
	"context"
	"fmt"
	"io"
	"maps"
	"slices"
	"sort"
	"strings"
	"text/tabwriter"

	deploy "imageshare/pkg/deployment"
	"imageshare/pkg/inspect"
	"imageshare/pkg/plan"
	"imageshare/pkg/report"
	"imageshare/pkg/state"
)

const planUsage = `plan [--region R] [--image ID]... [--set KEY=VALUE]... [--unset KEY]... [--json]
  What the functions would do now, per image: the changes and the refusals. Read-only.
  --set/--unset imagine tag edits on the --image images first: what a tag would do
  before anyone sets it. Settings: the deployment's s.yaml with the IMAGESHARE_*
  variables (and .env), as s deploy reads them, or --setting NAME=VALUE.
  exit 0: nothing would change; 3: changes are pending; 4: only refusals remain; 1: error`

// planJSON is the JSON answer of plan.
type planJSON struct {
	Regions  []regionPlan `json:"regions"`
	Changes  int          `json:"changes"`
	Refusals int          `json:"refusals"`
	ExitCode int          `json:"exitCode"`
	// Settings are the functions' settings the plan was made with, and their sources.
	Settings []deploy.Setting `json:"settings"`
}

type regionPlan struct {
	Region       string `json:"region"`
	Owner        string `json:"owner"`
	Hypothetical bool   `json:"hypothetical,omitempty"`
	// Shares are changes to managed resource shares themselves (image "").
	Shares []report.Entry `json:"shares"`
	Images []imagePlan    `json:"images"`
	// Missing: images asked for that the owner does not have in the region.
	Missing []string `json:"missing,omitempty"`
}

type imagePlan struct {
	Image        string         `json:"image"`
	Status       string         `json:"status"`
	Managed      bool           `json:"managed"`
	Direct       []string       `json:"direct"`
	Organization []string       `json:"organization"`
	Changes      []report.Entry `json:"changes"`
	Refusals     []report.Entry `json:"refusals"`
	Postponed    []report.Entry `json:"postponed,omitempty"`
	// InTransition: an association of the image is still moving; the functions look again.
	InTransition bool `json:"inTransition,omitempty"`
	// AwaitingConfirmation: the plan holds an R12 removal (changes marked
	// afterConfirmation), done only on a second look at unchanged tags.
	AwaitingConfirmation bool `json:"awaitingConfirmation,omitempty"`
}

func planCmd(ctx context.Context, args []string, e *env) int {
	fs := newFlags("plan", e, planUsage)
	var c common
	c.register(fs)
	var images, unset multi
	set := pairs{}
	fs.Var(&images, "image", "image ID (repeatable or comma-separated; default: every image the sweep covers)")
	fs.Var(set, "set", "imagine tag KEY=VALUE on the --image images (repeatable)")
	fs.Var(&unset, "unset", "imagine tag KEY removed from the --image images (repeatable)")
	asJSON := fs.Bool("json", false, "print JSON")
	if wantsHelp(args) {
		return help(fs, e)
	}
	if !parseFlags(fs, args, e, "plan", " (images go in --image)") {
		return exitUsage
	}
	if (len(set) > 0 || len(unset) > 0) && len(images) == 0 {
		fmt.Fprintln(e.stderr, "imageshare plan: --set and --unset need the images they apply to (--image)")
		return exitUsage
	}
	s, err := c.connect(ctx, e, len(images) == 0)
	if err != nil {
		return fail(e, "plan", err)
	}
	cfg := inspect.Config{API: s.api, Settings: s.set, Owner: s.owner, Now: e.now}
	out := planJSON{Settings: s.dep.Settings}
	var views []*inspect.View
	for _, region := range s.regions {
		v, err := inspect.Look(ctx, cfg, inspect.Request{Region: region, Images: images, Set: set, Unset: unset})
		if err != nil {
			return fail(e, "plan", err)
		}
		views = append(views, v)
		out.Regions = append(out.Regions, planOf(v))
		out.Changes += len(v.Changes())
		out.Refusals += len(v.Refusals())
	}
	switch {
	case out.Changes > 0:
		out.ExitCode = exitChanges
	case out.Refusals > 0:
		out.ExitCode = exitRefusals
	}
	if *asJSON {
		if err := writeJSON(e.stdout, out); err != nil {
			return fail(e, "plan", err)
		}
		return out.ExitCode
	}
	for i, v := range views {
		printPlan(e.stdout, s, v, out.Regions[i], set, unset)
	}
	awaiting := 0
	for _, v := range views {
		awaiting += len(v.Awaiting())
	}
	fmt.Fprintf(e.stdout, "\n%s pending, %s.", count(out.Changes, "change"), count(out.Refusals, "refusal"))
	if awaiting > 0 {
		fmt.Fprintf(e.stdout, " %s awaiting confirmation: removals are done by a second look SETTLE_DELAY (%s) later that finds the tags unchanged.",
			count(awaiting, "image"), s.set.SettleDelay)
	}
	if s.set.DryRun {
		fmt.Fprint(e.stdout, " (The deployment has DRY_RUN=true: its functions only report these.)")
	}
	fmt.Fprintln(e.stdout)
	return out.ExitCode
}

func planOf(v *inspect.View) regionPlan {
	rp := regionPlan{Region: v.Region, Owner: v.Owner, Hypothetical: v.Hypothetical, Shares: []report.Entry{}, Images: []imagePlan{}}
	for _, e := range v.Entries {
		if e.Image == "" {
			rp.Shares = append(rp.Shares, e)
		}
	}
	ids := make([]string, 0, len(v.State.Images))
	for _, im := range v.State.Images {
		if im.Missing {
			rp.Missing = append(rp.Missing, im.ID)
		} else {
			ids = append(ids, im.ID)
		}
	}
	sort.Strings(ids)
	for _, id := range ids {
		im := v.Image(id)
		ip := imagePlan{Image: id, Status: im.Status, Direct: nonNil(im.Direct),
			Organization: nonNil(v.Organization(id)), Changes: []report.Entry{}, Refusals: []report.Entry{}}
		if p := v.Plan.Image(id); p != nil {
			ip.Managed, ip.InTransition = p.Managed, p.Recheck && !p.Writes()
			ip.AwaitingConfirmation = len(p.Confirm) > 0
		}
		for _, e := range v.ImageEntries(id) {
			switch e.Action {
			case plan.ActRefuse:
				ip.Refusals = append(ip.Refusals, e)
			case plan.ActPostpone:
				ip.Postponed = append(ip.Postponed, e)
			default:
				ip.Changes = append(ip.Changes, e)
			}
		}
		rp.Images = append(rp.Images, ip)
	}
	return rp
}

func nonNil(xs []string) []string {
	if xs == nil {
		return []string{}
	}
	s := append([]string(nil), xs...)
	sort.Strings(s)
	return s
}

func printPlan(w io.Writer, s *session, v *inspect.View, rp regionPlan, set pairs, unset multi) {
	fmt.Fprintf(w, "imageshare plan: %s, owner %s (%s)\n%s\n", v.Region, v.Owner, s.ownerBy, s.dep.Line())
	if v.Hypothetical {
		var edits []string
		for _, k := range slices.Sorted(maps.Keys(set)) {
			edits = append(edits, k+"="+set[k])
		}
		for _, k := range unset {
			edits = append(edits, "-"+k)
		}
		fmt.Fprintf(w, "imagining tag edits: %s\n", strings.Join(edits, " "))
	}
	fmt.Fprintln(w)
	for _, id := range rp.Missing {
		fmt.Fprintf(w, "%s: no such image among the images account %s owns in %s (check the ID and the region; images of other accounts are never managed)\n", id, v.Owner, v.Region)
	}
	if len(rp.Images) == 0 && len(rp.Shares) == 0 {
		if len(rp.Missing) == 0 {
			fmt.Fprintf(w, "no image to look at: no image of account %s in %s carries a %s:* tag\n", v.Owner, v.Region, s.set.TagPrefix)
		}
		return
	}
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	header := false
	row := func(format string, a ...any) {
		if !header {
			fmt.Fprintln(tw, "IMAGE\tACTION\tSUBJECT\tWHY")
			header = true
		}
		fmt.Fprintf(tw, format, a...)
	}
	var quiet []string
	for _, ip := range rp.Images {
		rows := append(append(append([]report.Entry(nil), ip.Changes...), ip.Refusals...), ip.Postponed...)
		for _, e := range rows {
			row("%s\t%s\t%s\t%s\n", e.Image, e.Action, subjectOf(e), why(v, e))
		}
		if len(rows) == 0 {
			switch {
			case ip.InTransition:
				quiet = append(quiet, ip.Image+": an association is still moving; the functions look again until it is final")
			case !ip.Managed:
				quiet = append(quiet, fmt.Sprintf("%s: not managed: it has no %s:* tag (%s:accounts, %s:folders, %s:mode), so the functions leave it as it is",
					ip.Image, s.set.TagPrefix, s.set.TagPrefix, s.set.TagPrefix, s.set.TagPrefix))
			case ip.Status != state.Available:
				quiet = append(quiet, ip.Image+": "+ip.Status)
			default:
				quiet = append(quiet, ip.Image+": in line with its tags")
			}
		}
	}
	for _, e := range rp.Shares {
		row("(share)\t%s\t%s\t%s\n", e.Action, subjectOf(e), shareWhy(e))
	}
	_ = tw.Flush()
	for _, q := range quiet {
		fmt.Fprintln(w, q)
	}
}

func subjectOf(e report.Entry) string {
	if e.Subject == "" {
		return "(the image)"
	}
	return e.Subject
}

// why is the reason column: the reason code and, for refusals, the remedy.
func why(v *inspect.View, e report.Entry) string {
	switch {
	case e.Action == plan.ActRefuse || e.Action == plan.ActPostpone:
		return e.Reason + ": " + e.Message
	case e.AfterConfirmation && e.Action == plan.ActDisassociate:
		return "awaiting confirmation: leave it on a second look at unchanged tags (R12), once the new share, if any, reads Associated"
	case e.AfterConfirmation:
		return e.Reason + "; awaiting confirmation: done on a second look at unchanged tags (R12)"
	case e.Action == plan.ActAssociate:
		return "join the share for " + strings.Join(v.ShareTargets(e.Subject), ",")
	case e.Action == plan.ActDisassociate:
		return "leave it once the new share reads Associated (make before break)"
	}
	return e.Reason
}

// shareWhy says what a change of a managed resource share is for.
func shareWhy(e report.Entry) string {
	switch e.Message {
	case plan.OpCreate:
		return "target of new managed share " + short(e.Reason)
	case plan.OpAddTargets:
		return "target added to managed share " + short(e.Reason)
	case plan.OpRemoveTargets:
		return "target removed from managed share " + short(e.Reason)
	}
	return e.Reason + " " + e.Message
}

// short abbreviates a managed share name for a table.
func short(name string) string {
	if plan.IsManagedName(name) {
		return name[:len(plan.ManagedPrefix)+8] + "…"
	}
	return name
}

func count(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}
