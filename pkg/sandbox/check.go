package sandbox

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"imageshare/pkg/cloudsim"
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
	out = append(out, sb.copyFailures()...)
	out = append(out, refusalFailures(sb.sc.Expect, res.Refusals)...)
	return out
}

// copyFailures checks expect.copies: per source and region, the number of the owner's
// images there whose origin key names the source, and the live copy (the newest that
// is not CreateFailed): its status, shares and tags.
func (sb *sandbox) copyFailures() []string {
	var out []string
	if len(sb.sc.Expect.Copies) == 0 {
		return nil
	}
	prefix := sb.env["TAG_PREFIX"]
	if prefix == "" {
		prefix = "imageshare"
	}
	all := sb.cloud.AllImages()
	for _, src := range slices.Sorted(maps.Keys(sb.sc.Expect.Copies)) {
		origin := ""
		for _, v := range all {
			if v.ID == src {
				origin = v.Region + "/" + src
			}
		}
		for _, region := range slices.Sorted(maps.Keys(sb.sc.Expect.Copies[src])) {
			want := sb.sc.Expect.Copies[src][region]
			what := fmt.Sprintf("copies of %s in %s", src, region)
			var copies []cloudsim.ImageView
			for _, v := range all {
				if v.Region == region && v.Owner == sb.sc.Owner && strings.HasSuffix(v.Tags[prefix+":source"], "/"+src) &&
					(origin == "" || v.Tags[prefix+":source"] == origin) {
					copies = append(copies, v)
				}
			}
			var ids []string
			for _, c := range copies {
				ids = append(ids, c.ID+" ("+c.Status+")")
			}
			if want.Count != nil && len(copies) != *want.Count {
				out = append(out, fmt.Sprintf("%s: %d, want %d (%s)", what, len(copies), *want.Count, orNone(ids)))
			}
			if want.Status == "" && want.Direct == nil && want.Organization == nil && want.Tags == nil {
				continue
			}
			var live *cloudsim.ImageView
			for i := range copies {
				if copies[i].Status != "CreateFailed" && (live == nil || copies[i].Created.After(live.Created)) {
					live = &copies[i]
				}
			}
			if live == nil {
				out = append(out, fmt.Sprintf("%s: no live copy (%s)", what, orNone(ids)))
				continue
			}
			if want.Status != "" && live.Status != want.Status {
				out = append(out, fmt.Sprintf("%s: copy %s is %s, want %s", what, live.ID, live.Status, want.Status))
			}
			if want.Direct != nil {
				out = append(out, diffSet(what+" (copy "+live.ID+") direct", nonNil(live.Direct), *want.Direct)...)
			}
			if want.Organization != nil {
				out = append(out, diffSet(what+" (copy "+live.ID+") organization", nonNil(live.Organization), *want.Organization)...)
			}
			for _, k := range slices.Sorted(maps.Keys(want.Tags)) {
				if v, ok := live.Tags[k]; !ok || v != want.Tags[k] {
					out = append(out, fmt.Sprintf("%s (copy %s) tags: %s = %q, want %q", what, live.ID, k, v, want.Tags[k]))
				}
			}
		}
	}
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
