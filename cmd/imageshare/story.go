package main

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"time"

	"imageshare/pkg/report"
	"imageshare/pkg/sandbox"
	"imageshare/pkg/scenario"
)

// printStory tells what happened in a run, step by step: the emulated time, who did
// what (the step, as the person or the cloud that does it), and what the functions did
// about it — their changes, refusals with the remedy, postponements — in the order they
// logged them.
func printStory(w io.Writer, sc *scenario.Scenario, res *sandbox.Result) {
	if len(sc.Steps) == 0 {
		return
	}
	start := res.Stats.EmulatedEnd
	if len(res.Steps) > 0 {
		start = res.Steps[0].Start
	}
	fmt.Fprintf(w, "What happened (emulated time; the clock starts at %s UTC):\n", start.Format("2006-01-02 15:04"))
	byStep := map[int][]sandbox.Report{}
	for _, r := range res.Reports {
		byStep[r.Step] = append(byStep[r.Step], r)
	}
	for i, st := range sc.Steps {
		if i >= len(res.Steps) {
			break // the run stopped (a step did not settle)
		}
		rec := res.Steps[i]
		when := clock(rec.Start)
		if st.Advance > 0 {
			when += "–" + clock(rec.Start.Add(st.Advance))
		}
		fmt.Fprintf(w, "\n%s  %s\n", when, describeStep(sc, st))
		seen := map[string]bool{}
		for _, r := range byStep[i] {
			key := r.Image + "\x00" + r.Action + "\x00" + r.Subject + "\x00" + r.Reason
			if seen[key] {
				continue // a later run saying the same again (a sweep, a re-check)
			}
			seen[key] = true
			fmt.Fprintf(w, "  %s  %-12s %s\n", r.At.UTC().Format("15:04:05"), r.Function+":", sentence(r.Entry))
		}
		if len(byStep[i]) == 0 {
			fmt.Fprintln(w, "  (the functions changed nothing)")
		}
	}
	fmt.Fprintln(w)
}

// sentence says a report in words; a change of a managed resource share itself (no
// image) names the share.
func sentence(e report.Entry) string {
	if e.Image != "" {
		return report.Sentence(e)
	}
	switch e.Action {
	case "associate":
		return fmt.Sprintf("Resource share %s gets target %s (%s).", e.Reason, e.Subject, strings.TrimSuffix(e.Message, "."))
	case "disassociate":
		return fmt.Sprintf("Resource share %s loses target %s (%s).", e.Reason, e.Subject, strings.TrimSuffix(e.Message, "."))
	}
	s := fmt.Sprintf("Resource share %s: %s", e.Subject, e.Action)
	if e.Message != "" {
		s += " (" + strings.TrimSuffix(e.Message, ".") + ")"
	}
	return s + "."
}

// clock shows an emulated time of day, with the seconds when they are not zero.
func clock(t time.Time) string {
	if t.Second() == 0 {
		return t.UTC().Format("15:04")
	}
	return t.UTC().Format("15:04:05")
}

// describeStep says a step as what a person (or the cloud) does.
func describeStep(sc *scenario.Scenario, st scenario.Step) string {
	owner := report.Actor{Type: "root-account", AccountID: sc.Owner}.String()
	manager := owner
	if sc.Directory != nil && sc.Directory.Management != "" && sc.Directory.Management != sc.Owner {
		manager = "the management account " + sc.Directory.Management
	}
	switch {
	case st.TagImage != nil:
		return fmt.Sprintf("%s tags %s: %s", owner, st.TagImage.Image, tagList(st.TagImage.Tags))
	case st.UntagImage != nil:
		return fmt.Sprintf("%s removes tags %s from %s", owner, strings.Join(st.UntagImage.Keys, ", "), st.UntagImage.Image)
	case st.CreateImage != nil:
		c := st.CreateImage
		tags := ""
		if len(c.Tags) > 0 {
			tags = " tagged " + tagList(c.Tags)
		}
		ready := c.ReadyAfter
		if ready == 0 {
			ready = scenario.DefaultReadyAfter
		}
		return fmt.Sprintf("%s creates image %s%s; it is Available %s later", owner, c.Image, tags, human(ready))
	case st.DeleteImage != nil:
		return fmt.Sprintf("%s deletes image %s", owner, st.DeleteImage.Image)
	case st.ShareImage != nil:
		s := st.ShareImage
		var parts []string
		if len(s.Add) > 0 {
			parts = append(parts, "shares it with "+strings.Join(s.Add, ", "))
		}
		if len(s.Remove) > 0 {
			parts = append(parts, "stops sharing it with "+strings.Join(s.Remove, ", "))
		}
		return fmt.Sprintf("%s edits the share list of %s by hand: %s", owner, s.Image, strings.Join(parts, "; "))
	case st.CreateAccount != nil:
		return fmt.Sprintf("%s creates member account %s in %s", manager, st.CreateAccount.Account, st.CreateAccount.Folder)
	case st.InviteAccount != nil:
		i := st.InviteAccount
		after := i.AcceptAfter
		if after == 0 {
			after = time.Minute
		}
		return fmt.Sprintf("%s invites account %s into %s; it accepts %s later", manager, i.Account, i.Folder, human(after))
	case st.MoveAccount != nil:
		return fmt.Sprintf("%s moves account %s to %s", manager, st.MoveAccount.Account, st.MoveAccount.To)
	case st.RemoveAccount != nil:
		return fmt.Sprintf("%s removes account %s from the Resource Directory", manager, st.RemoveAccount.Account)
	case st.OrgShare != nil:
		o := st.OrgShare
		var parts []string
		for _, p := range []struct {
			what string
			ids  []string
		}{{"adds images", o.AddImages}, {"removes images", o.RemoveImages}, {"adds targets", o.AddTargets}, {"removes targets", o.RemoveTargets}} {
			if len(p.ids) > 0 {
				parts = append(parts, p.what+" "+strings.Join(p.ids, ", "))
			}
		}
		return fmt.Sprintf("%s edits resource share %q by hand: %s", owner, o.Name, strings.Join(parts, "; "))
	case st.Events == "off":
		return "the cloud stops delivering ActionTrail events to EventBridge (timers and queues go on)"
	case st.Events == "on":
		return "the cloud delivers ActionTrail events to EventBridge again"
	case st.Event != nil:
		return "a hand-written event reaches the bus: " + clipText(string(st.Event), 100)
	case st.Advance > 0:
		return human(st.Advance) + " pass (timers fire, delayed jobs run)"
	case st.Together != nil:
		var parts []string
		for _, in := range st.Together {
			if in.Wait > 0 {
				parts = append(parts, human(in.Wait)+" later")
				continue
			}
			parts = append(parts, describeStep(sc, in))
		}
		return "at once: " + strings.Join(parts, "; then ")
	}
	return st.Kind()
}

func tagList(tags map[string]string) string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(tags)) {
		parts = append(parts, k+"="+tags[k])
	}
	return strings.Join(parts, ", ")
}

// human says a duration as people do: 31m, 1h30m, 45s.
func human(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

func clipText(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

// remedyOf finds the message the functions logged with a refusal.
func remedyOf(res *sandbox.Result, r sandbox.Refusal) string {
	for i := len(res.Reports) - 1; i >= 0; i-- {
		e := res.Reports[i]
		if e.Action == "refuse" && e.Image == r.Image && e.Subject == r.Subject && e.Reason == r.Reason {
			return e.Message
		}
	}
	return ""
}
