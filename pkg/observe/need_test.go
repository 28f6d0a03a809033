package observe

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"imageshare/pkg/plan"
	"imageshare/pkg/settings"
	"imageshare/pkg/state"
)

// The planner's view of a batch must not depend on what a targeted observation leaves
// out: on random states, the plan from the parts need() says to read equals the plan
// from the whole state.

const (
	tOwner = "1000000000000001"
	tDir   = "rd-Prop01"
	tRoot  = "r-Prop01"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func acct(i int) string   { return fmt.Sprintf("10000000000001%02d", i) }
func folder(i int) string { return fmt.Sprintf("fd-Prop%06d", i) }

// randomWorld returns a whole state (directory, shares holding images of the batch and
// others) and the settings.
func randomWorld(r *rand.Rand) (*state.State, settings.Settings) {
	env := map[string]string{"ALLOWED_EXTERNAL_ACCOUNTS": "2000000000000001", "MAX_ACCOUNTS_PER_IMAGE": fmt.Sprint(2 + r.IntN(6)),
		"MAX_MANAGED_SHARES": fmt.Sprint(1 + r.IntN(6))}
	if r.IntN(4) == 0 {
		env["REVOKE_REDUNDANT"] = "false"
	}
	if r.IntN(3) == 0 {
		env["REDUNDANCY_SCOPE"] = "all"
	}
	set, err := settings.Load(func(k string) string { return env[k] })
	if err != nil {
		panic(err)
	}
	st := &state.State{Region: "cn-hangzhou", Owner: tOwner, Now: t0, RetryFailed: r.IntN(2) == 0}
	// Folders: a random tree of up to 8 under the root.
	nf := 2 + r.IntN(7)
	parents := map[string]string{}
	var folders []string
	for i := 1; i <= nf; i++ {
		f := folder(i)
		p := tRoot
		if len(folders) > 0 && r.IntN(2) == 0 {
			p = folders[r.IntN(len(folders))]
		}
		parents[f] = p
		folders = append(folders, f)
	}
	chain := func(f string) []string { // root first, f excluded
		var out []string
		for p := parents[f]; p != tRoot; p = parents[p] {
			out = append([]string{p}, out...)
		}
		return append([]string{tRoot}, out...)
	}
	if r.IntN(8) > 0 {
		d := &state.Directory{ID: tDir, RootID: tRoot, Members: map[string]state.Member{}, Folders: map[string][]string{}}
		for _, f := range folders {
			d.Folders[f] = chain(f)
		}
		for i := 1; i <= 12; i++ {
			a := acct(i)
			if r.IntN(5) == 0 {
				continue // not a member
			}
			home := tRoot
			path := []string{tDir, tRoot}
			if r.IntN(4) > 0 {
				home = folders[r.IntN(len(folders))]
				path = append([]string{tDir}, append(chain(home), home)...)
			}
			d.Members[a] = state.Member{ID: a, Path: path}
		}
		d.Members[tOwner] = state.Member{ID: tOwner, Path: []string{tDir, tRoot}}
		st.Directory = d
	}
	accountPool := []string{tOwner, "2000000000000001", "2000000000000002"}
	for i := 1; i <= 12; i++ {
		accountPool = append(accountPool, acct(i))
	}
	targetPool := append(slices.Clone(folders), tDir, "fd-Nope000001", "rd-Other01")
	pick := func(pool []string, n int) []string {
		var out []string
		for i := 0; i < n; i++ {
			out = append(out, pool[r.IntN(len(pool))])
		}
		return out
	}
	// Images: the batch (m-b…) and others (m-o…) that shares also hold.
	var all []string
	for i := 1; i <= 1+r.IntN(4); i++ {
		tags := map[string]string{}
		switch r.IntN(6) {
		case 0: // untagged
			tags["env"] = "x"
		case 1: // a tag error
			tags["imageshare:accounts"] = "12x"
		default:
			if n := r.IntN(4); n > 0 {
				tags["imageshare:accounts"] = strings.Join(pick(accountPool, n), ",")
			}
			if r.IntN(4) == 0 {
				tags["imageshare:accounts:2"] = strings.Join(pick(accountPool, 1+r.IntN(2)), " ")
			}
			if r.IntN(2) == 0 {
				tags["imageshare:folders"] = strings.Join(pick(targetPool, 1+r.IntN(3)), " ")
			}
			if r.IntN(3) == 0 {
				tags["imageshare:mode"] = []string{"exact", "additive"}[r.IntN(2)]
			}
			if len(tags) == 0 {
				tags["imageshare:accounts"] = "none"
			}
		}
		direct := pick(accountPool[1:], r.IntN(5))
		slices.Sort(direct)
		direct = slices.Compact(direct)
		status := state.Available
		if r.IntN(8) == 0 {
			status = []string{state.Creating, state.Deprecated}[r.IntN(2)]
		}
		im := state.Image{ID: fmt.Sprintf("m-b%d", i), OwnerAlias: "self", Status: status, Created: t0.Add(-time.Hour), Tags: tags,
			Direct: direct, SelfShared: len(direct) > 0}
		if r.IntN(10) == 0 {
			im = state.Image{ID: im.ID, OwnerAlias: "self", Missing: true}
		}
		st.Images = append(st.Images, im)
		all = append(all, im.ID)
	}
	all = append(all, "m-o1", "m-o2", "m-o3")
	statuses := []string{state.Associated, state.Associated, state.Associating, state.Disassociating, state.Failed, state.Disassociated}
	for i := 0; i < r.IntN(6); i++ {
		var name string
		switch r.IntN(3) {
		case 0:
			name = fmt.Sprintf("hand-%d", i)
		default:
			// Managed names of sets the images may want, so that duplicates happen.
			name = plan.ShareName(pick(targetPool[:min(3, len(targetPool))], 1+r.IntN(2)))
		}
		sh := state.Share{ID: fmt.Sprintf("rs-%d", i), Name: name, Created: t0.Add(-time.Duration(r.IntN(3)) * time.Hour),
			AllowExternal: r.IntN(6) == 0, Resources: map[string]state.Association{}, Targets: map[string]state.Association{}}
		for _, t := range pick(append(slices.Clone(targetPool), accountPool...), 1+r.IntN(3)) {
			sh.Targets[t] = state.Association{Status: statuses[r.IntN(len(statuses))], Updated: t0.Add(-time.Hour)}
		}
		for _, im := range all {
			if r.IntN(3) == 0 {
				sh.Resources[im] = state.Association{Status: statuses[r.IntN(len(statuses))], FailureReason: "LimitExceeded",
					Updated: t0.Add(-time.Duration(r.IntN(48)) * time.Hour)}
			}
		}
		st.Shares = append(st.Shares, sh)
	}
	return st, set
}

// restrict is what a targeted observation of st's images reads: the images with their
// share lists, the list of shares, the images' own associations (then the whole
// resource lists of duplicates of a managed name), and what need() asks for.
func restrict(o *Observer, full *state.State) *state.State {
	batch := map[string]bool{}
	for _, im := range full.Images {
		batch[im.ID] = true
	}
	var shares []state.Share
	for _, sh := range full.Shares {
		shares = append(shares, state.Share{ID: sh.ID, Name: sh.Name, Created: sh.Created, AllowExternal: sh.AllowExternal,
			Resources: map[string]state.Association{}, Targets: map[string]state.Association{}})
	}
	images := slices.Clone(full.Images)
	fill := func(ids []string) {
		for i, sh := range full.Shares {
			for im, a := range sh.Resources {
				if batch[im] || slices.Contains(ids, sh.ID) {
					shares[i].Resources[im] = a
				}
			}
		}
	}
	fill(nil)
	n := o.need(images, shares)
	fill(n.Resources)
	n = o.need(images, shares)
	for i, sh := range full.Shares {
		if slices.Contains(n.Targets, sh.ID) {
			for t, a := range sh.Targets {
				shares[i].Targets[t] = a
			}
		}
	}
	out := &state.State{Region: full.Region, Owner: full.Owner, Now: full.Now, RetryFailed: full.RetryFailed, Images: images, Shares: shares}
	if d := full.Directory; d != nil {
		out.Directory = &state.Directory{ID: d.ID, RootID: d.RootID, Members: map[string]state.Member{}, Folders: map[string][]string{}}
		for _, a := range n.Accounts {
			if m, ok := d.Members[a]; ok {
				out.Directory.Members[a] = m
			}
		}
		for _, f := range n.Folders {
			if anc, ok := d.Folders[f]; ok {
				out.Directory.Folders[f] = anc
			}
		}
	}
	return out
}

func TestTargetedStateGivesTheSamePlan(t *testing.T) {
	seeds := 5000
	if testing.Short() {
		seeds = 500
	}
	smaller := 0
	for seed := 0; seed < seeds; seed++ {
		r := rand.New(rand.NewPCG(uint64(seed), 3))
		full, set := randomWorld(r)
		o := New(nil, Request{Region: full.Region, Owner: full.Owner, Prefix: set.TagPrefix}, nil)
		part := restrict(o, full)
		want, got := plan.Make(full, set).String(), plan.Make(part, set).String()
		if want != got {
			t.Fatalf("seed %d: the targeted state plans differently\nfull plan:\n%s\ntargeted plan:\n%s\nfull state: %+v\ntargeted state: %+v",
				seed, want, got, *full, *part)
		}
		if full.Directory != nil && len(part.Directory.Members) < len(full.Directory.Members) {
			smaller++
		}
	}
	// The property is not vacuous: most targeted states leave members out.
	if smaller < seeds/2 {
		t.Fatalf("only %d of %d targeted states were smaller than the whole", smaller, seeds)
	}
}
