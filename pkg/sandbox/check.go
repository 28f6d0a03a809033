package sandbox

import (
	"fmt"
	"slices"
	"strings"
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
	for _, r := range sb.sc.Expect.Refusals {
		found := false
		for _, g := range res.Refusals {
			if g.Image == r.Image && g.Subject == r.Subject {
				found = true
				break
			}
		}
		if !found {
			var seen []string
			for _, g := range res.Refusals {
				if g.Image == r.Image {
					seen = append(seen, fmt.Sprintf("%q (%s)", g.Subject, g.Reason))
				}
			}
			out = append(out, fmt.Sprintf("refusal of image %s subject %q: not reported (refusals of %s: %s)", r.Image, r.Subject, r.Image, orNone(seen)))
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
