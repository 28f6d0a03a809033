package sandbox

import (
	"fmt"
	"slices"
	"strings"

	"imageshare/pkg/scenario"
)

// expectations compares the final state with the scenario's expect block.
func (sb *sandbox) expectations(res *Result) []string {
	var out []string
	ids := make([]string, 0, len(sb.sc.Expect.Images))
	for id := range sb.sc.Expect.Images {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		want := sb.sc.Expect.Images[id]
		got, ok := res.Images[id]
		if !ok {
			out = append(out, fmt.Sprintf("image %s: does not exist at the end", id))
			continue
		}
		if want.Direct != nil {
			out = append(out, diffSet("image "+id+" direct", got.Direct, *want.Direct)...)
		}
		if want.Organization != nil {
			out = append(out, diffSet("image "+id+" organization", got.Organization, *want.Organization)...)
		}
		keys := make([]string, 0, len(want.Tags))
		for k := range want.Tags {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			if v, ok := got.Tags[k]; !ok {
				out = append(out, fmt.Sprintf("image %s tags: %s missing (want %q)", id, k, want.Tags[k]))
			} else if v != want.Tags[k] {
				out = append(out, fmt.Sprintf("image %s tags: %s = %q, want %q", id, k, v, want.Tags[k]))
			}
		}
	}
	out = append(out, refusalFailures(sb.sc.Expect, res.Refusals)...)
	return out
}

// refusalFailures checks the expected refusals: each must be among the run's (image and
// subject, and reason when given), and with NoOtherRefusals every refusal of the run
// must be expected.
func refusalFailures(exp scenario.Expect, got []Refusal) []string {
	var out []string
	for _, r := range exp.Refusals {
		if slices.ContainsFunc(got, func(g Refusal) bool { return r.Matches(g.Image, g.Subject, g.Reason) }) {
			continue
		}
		var seen []string
		for _, g := range got {
			if g.Image == r.Image {
				seen = append(seen, fmt.Sprintf("%q (%s)", g.Subject, g.Reason))
			}
		}
		what := fmt.Sprintf("refusal of image %s subject %q", r.Image, r.Subject)
		if r.Reason != "" {
			what += " reason " + r.Reason
		}
		out = append(out, fmt.Sprintf("%s: not reported (refusals of %s: %s)", what, r.Image, orNone(seen)))
	}
	if exp.NoOtherRefusals {
		for _, g := range got {
			if !slices.ContainsFunc(exp.Refusals, func(r scenario.ExpectRefusal) bool { return r.Matches(g.Image, g.Subject, g.Reason) }) {
				out = append(out, fmt.Sprintf("unexpected refusal of image %s subject %q (%s): not in expect.refusals, and no_other_refusals is true", g.Image, g.Subject, g.Reason))
			}
		}
	}
	return out
}

func orNone(xs []string) string {
	if len(xs) == 0 {
		return "none"
	}
	return strings.Join(xs, ", ")
}

// diffSet says what is missing from and extra in got compared with want.
func diffSet(what string, got, want []string) []string {
	var missing, extra []string
	for _, w := range want {
		if !slices.Contains(got, w) {
			missing = append(missing, w)
		}
	}
	for _, g := range got {
		if !slices.Contains(want, g) {
			extra = append(extra, g)
		}
	}
	if len(missing)+len(extra) == 0 {
		return nil
	}
	return []string{fmt.Sprintf("%s: got [%s], want [%s] (missing %s; unexpected %s)", what,
		strings.Join(got, " "), strings.Join(want, " "), orNone(missing), orNone(extra))}
}
