package main

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"

	"imageshare/pkg/plan"
	"imageshare/pkg/scenario"
)

// Size is the shape of a workload.
type Size struct {
	Images       int // custom images of the owner
	Accounts     int // members of the directory
	Top          int // top-level folders
	Children     int // folders under each top-level folder
	ManagedEvery int // every n-th image is managed (5: 20%)
	DriftPercent int // share of the managed images that need changes
	Events       int // events of the latency run
}

var (
	fullSize  = Size{Images: 10000, Accounts: 1000, Top: 10, Children: 4, ManagedEvery: 5, DriftPercent: 30, Events: 500}
	smallSize = Size{Images: 1000, Accounts: 200, Top: 4, Children: 4, ManagedEvery: 5, DriftPercent: 30, Events: 60}
)

const (
	region = "cn-hangzhou"
	owner  = "1000000000000001"
	dirID  = "rd-Bench1"
	rootID = "r-Bench1"
	prefix = "imageshare"
)

// Drift kinds: what a managed image needs at the start of the sweep.
const (
	driftNone      = ""
	driftAdd       = "add"    // tagged accounts missing from the direct shares
	driftRemove    = "remove" // direct shares the tags do not name (exact mode)
	driftBoth      = "add+remove"
	driftRedundant = "redundant" // a direct share an organization share covers
	driftJoin      = "join"      // not yet in its folder set's resource share
	driftNewSet    = "new-set"   // its folder set has no resource share yet
)

// Image is one generated image.
type Image struct {
	ID       string
	Managed  bool
	Tags     map[string]string
	Mode     string
	Accounts []string // tagged accounts, tag order
	Folders  []string // tagged folder set (already normalized: no folder under another)
	Extra    []string // additive mode: untagged direct shares that are kept
	Start    []string // direct shares at the start
	Drift    string
	InShare  bool // associated with its folder set's share at the start
}

// Want is an image's converged direct shares.
func (im *Image) Want() []string {
	out := slices.Concat(im.Accounts, im.Extra)
	sort.Strings(out)
	return slices.Compact(out)
}

// World is a generated directory, image set and the shares of the organization.
type World struct {
	Size     Size
	Folders  []string          // every folder
	Parent   map[string]string // folder → parent folder or root
	Home     map[string]string // member → its folder (or the root)
	Members  []string
	Images   []*Image
	Shares   map[string][]string // existing share name → its targets
	NewSets  map[string]bool     // share names that do not exist at the start
	imageIdx map[string]*Image
}

// under reports whether folder f is t or below t.
func (w *World) under(f, t string) bool {
	for ; f != "" && f != rootID; f = w.Parent[f] {
		if f == t {
			return true
		}
	}
	return false
}

// covered reports whether a folder set reaches member a.
func (w *World) covered(a string, set []string) bool {
	for _, t := range set {
		if w.under(w.Home[a], t) {
			return true
		}
	}
	return false
}

func accountID(i int) string { return fmt.Sprintf("11%014d", i) }
func imageID(i int) string   { return fmt.Sprintf("m-Bench%07d", i) }
func folderID(i int) string  { return fmt.Sprintf("fd-Bench%05d", i) }

// Generate builds a world from a seed. Converged: no image needs a change (the start
// of the latency run); otherwise DriftPercent of the managed images need one.
func Generate(sz Size, seed uint64, converged bool) *World {
	r := rand.New(rand.NewPCG(seed, 7))
	w := &World{Size: sz, Parent: map[string]string{}, Home: map[string]string{}, Shares: map[string][]string{},
		NewSets: map[string]bool{}, imageIdx: map[string]*Image{}}
	var tops, children []string
	n := 0
	for t := 0; t < sz.Top; t++ {
		n++
		top := folderID(n)
		tops = append(tops, top)
		w.Parent[top] = rootID
		w.Folders = append(w.Folders, top)
		for c := 0; c < sz.Children; c++ {
			n++
			ch := folderID(n)
			children = append(children, ch)
			w.Parent[ch] = top
			w.Folders = append(w.Folders, ch)
		}
	}
	// Members: the management account (a member at the root, as in the real service)
	// and the others, one in twenty at the root, the rest spread over every folder.
	for i := 0; i < sz.Accounts-1; i++ {
		a := accountID(i + 1)
		home := rootID
		if i%20 != 0 {
			home = w.Folders[i%len(w.Folders)]
		}
		w.Home[a] = home
		w.Members = append(w.Members, a)
	}
	// Folder sets: every folder alone, and pairs of folders under different top-level
	// folders; a few more pairs exist only in drifted tags (their share is created).
	var sets [][]string
	for _, f := range w.Folders {
		sets = append(sets, []string{f})
	}
	pairs := max(2, sz.Top)
	for i := 0; i < pairs; i++ {
		a, b := children[(i*3)%len(children)], tops[(i+1+i/len(tops))%len(tops)]
		if w.under(a, b) || w.under(b, a) {
			b = tops[(i+2)%len(tops)]
		}
		s := []string{a, b}
		sort.Strings(s)
		sets = append(sets, s)
	}
	var newSets [][]string
	for i := 0; i < max(1, sz.Top/2); i++ {
		s := []string{children[(i*5+1)%len(children)], children[(i*5+1+sz.Children)%len(children)]}
		sort.Strings(s)
		if s[0] != s[1] && !w.under(s[0], s[1]) && !w.under(s[1], s[0]) {
			newSets = append(newSets, s)
			w.NewSets[plan.ShareName(s)] = true
		}
	}
	outside := func(set []string, k int, not []string) []string {
		var out []string
		for len(out) < k {
			a := w.Members[r.IntN(len(w.Members))]
			if w.covered(a, set) || slices.Contains(out, a) || slices.Contains(not, a) {
				continue
			}
			out = append(out, a)
		}
		return out
	}
	for i := 1; i <= sz.Images; i++ {
		im := &Image{ID: imageID(i), Tags: map[string]string{"team": fmt.Sprintf("t%d", i%17)}}
		w.Images = append(w.Images, im)
		w.imageIdx[im.ID] = im
		if i%sz.ManagedEvery != 0 {
			// Unmanaged: one in ten has direct shares made by hand; never touched.
			if r.IntN(10) == 0 {
				im.Start = outside(nil, 1+r.IntN(3), nil)
				sort.Strings(im.Start)
			}
			continue
		}
		im.Managed = true
		im.Mode = "exact"
		kind := r.IntN(100)
		hasAccounts, hasFolders := kind < 75, kind >= 60 // 60% accounts, 25% folders, 15% both
		drift := !converged && r.IntN(100) < sz.DriftPercent
		if hasFolders {
			if drift && r.IntN(5) == 0 && len(newSets) > 0 {
				im.Folders = newSets[r.IntN(len(newSets))]
				im.Drift = driftNewSet
			} else {
				im.Folders = sets[r.IntN(len(sets))]
			}
			im.Tags["imageshare:folders"] = strings.Join(im.Folders, ",")
		}
		if hasAccounts {
			im.Accounts = outside(im.Folders, 1+r.IntN(7), nil)
			im.Tags["imageshare:accounts"] = strings.Join(im.Accounts, ",")
			if r.IntN(10) == 0 {
				more := outside(im.Folders, 1+r.IntN(7), im.Accounts)
				im.Tags["imageshare:accounts:2"] = strings.Join(more, " ")
				im.Accounts = append(im.Accounts, more...)
			}
			if r.IntN(10) == 0 {
				im.Mode = "additive"
				im.Tags["imageshare:mode"] = "additive"
				if r.IntN(2) == 0 {
					im.Extra = outside(im.Folders, 1, im.Accounts)
				}
			}
		}
		im.Start = im.Want()
		im.InShare = len(im.Folders) > 0 && im.Drift != driftNewSet
		if drift && im.Drift == "" {
			im.Drift = w.drift(r, im, outside)
		}
		if len(im.Folders) > 0 && im.Drift != driftNewSet {
			name := plan.ShareName(im.Folders)
			w.Shares[name] = im.Folders
		}
	}
	return w
}

// drift changes an image's start state so that it needs one kind of change.
func (w *World) drift(r *rand.Rand, im *Image, outside func([]string, int, []string) []string) string {
	var kinds []string
	if len(im.Accounts) > 0 {
		kinds = append(kinds, driftAdd, driftAdd)
		if im.Mode == "exact" {
			kinds = append(kinds, driftRemove, driftBoth)
		}
	}
	if len(im.Folders) > 0 {
		kinds = append(kinds, driftJoin, driftJoin, driftRedundant)
	}
	switch k := kinds[r.IntN(len(kinds))]; k {
	case driftAdd, driftBoth:
		// Drop some tagged accounts (all of them for one image in four, so that
		// images with many accounts need more than one call).
		drop := 1 + r.IntN(len(im.Accounts))
		if r.IntN(4) == 0 {
			drop = len(im.Accounts)
		}
		gone := im.Accounts[:drop]
		im.Start = slices.DeleteFunc(slices.Clone(im.Start), func(a string) bool { return slices.Contains(gone, a) })
		if k == driftBoth {
			im.Start = append(im.Start, outside(im.Folders, 1+r.IntN(2), im.Want())...)
		}
		sort.Strings(im.Start)
		return k
	case driftRemove:
		im.Start = append(im.Start, outside(im.Folders, 1+r.IntN(2), im.Want())...)
		sort.Strings(im.Start)
		return k
	case driftRedundant:
		for _, a := range w.Members {
			if w.covered(a, im.Folders) && !slices.Contains(im.Start, a) {
				im.Start = append(im.Start, a)
				sort.Strings(im.Start)
				return k
			}
		}
		im.InShare = false
		return driftJoin
	default:
		im.InShare = false
		return k
	}
}

// Scenario turns the world into a sandbox scenario (without steps).
func (w *World) Scenario() *scenario.Scenario {
	sc := &scenario.Scenario{Region: region, Owner: owner, Cloud: scenario.Cloud{OrgEvents: true}, Settings: map[string]string{},
		Directory: &scenario.Directory{ID: dirID, Root: rootID, SharingEnabled: true}}
	for _, f := range w.Folders {
		sc.Directory.Folders = append(sc.Directory.Folders, scenario.Folder{ID: f, Name: f, Parent: w.Parent[f]})
	}
	for _, a := range w.Members {
		sc.Directory.Accounts = append(sc.Directory.Accounts, scenario.Account{ID: a, Folder: w.Home[a], Site: "china"})
	}
	byShare := map[string][]string{}
	for _, im := range w.Images {
		sc.Images = append(sc.Images, scenario.Image{ID: im.ID, Status: "Available", Owner: "self", Encrypted: "none",
			Tags: im.Tags, SharedWith: im.Start})
		if im.InShare {
			name := plan.ShareName(im.Folders)
			byShare[name] = append(byShare[name], im.ID)
		}
	}
	names := make([]string, 0, len(w.Shares))
	for name := range w.Shares {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		sc.ResourceShares = append(sc.ResourceShares, scenario.ResourceShare{Name: name, Targets: w.Shares[name], Images: byShare[name]})
	}
	return sc
}

// Floor is the fewest calls that can observe the world's state and change it into the
// converged one, by action.
func (w *World) Floor() map[string]int {
	ceil := func(n, d int) int { return (n + d - 1) / d }
	f := map[string]int{}
	f["ecs:DescribeImages"] = ceil(len(w.Images), 100)
	f["resourcemanager:ListAccounts"] = ceil(len(w.Members)+1, 100) // and the management account
	assocs, targets := 0, 0
	joins := map[string]int{}
	second := 0 // images whose removals take access away: SPEC R12 needs a second look
	for _, im := range w.Images {
		if !im.Managed {
			continue
		}
		if len(im.Start) > 0 { // IsSelfShared says there is a list to read
			f["ecs:DescribeImageSharePermission"] += ceil(len(im.Start), 100)
		}
		var adds, redundant, removes int
		want := im.Want()
		for _, a := range want {
			if !slices.Contains(im.Start, a) {
				adds++
			}
		}
		for _, a := range im.Start {
			switch {
			case slices.Contains(want, a):
			case w.covered(a, im.Folders):
				redundant++ // R7: the account stays covered, revoked on the first look
			default:
				removes++ // R12: revoked on the second look, which reads tags and list again
			}
		}
		if removes > 0 {
			second++
			f["ecs:DescribeImageSharePermission"] += ceil(len(im.Start), 100)
		}
		f["ecs:ModifyImageSharePermission"] += ceil(adds, 10) + ceil(redundant, 10) + ceil(removes, 10)
		if im.InShare {
			assocs++
		} else if len(im.Folders) > 0 {
			joins[plan.ShareName(im.Folders)]++
		}
	}
	for _, t := range w.Shares {
		targets += len(t)
	}
	f["ecs:DescribeImages"] += ceil(second, 100)
	f["resourcesharing:ListResourceShares"] = max(1, ceil(len(w.Shares), 100))
	f["resourcesharing:ListResourceShareAssociations"] = ceil(assocs, 100) + ceil(targets, 100)
	for name, n := range joins {
		if w.NewSets[name] {
			f["resourcesharing:CreateResourceShare"]++ // with its first five images and its targets
			n -= 5
		}
		if n > 0 {
			f["resourcesharing:AssociateResourceShare"] += ceil(n, 5)
		}
	}
	for k, v := range f {
		if v == 0 {
			delete(f, k)
		}
	}
	return f
}

// Expect returns the converged direct shares and organization targets of every image.
func (w *World) Expect() map[string][2][]string {
	out := map[string][2][]string{}
	for _, im := range w.Images {
		if !im.Managed {
			out[im.ID] = [2][]string{im.Start, nil}
			continue
		}
		out[im.ID] = [2][]string{im.Want(), im.Folders}
	}
	return out
}

// Counts summarizes the world for the report.
func (w *World) Counts() map[string]int {
	c := map[string]int{"images": len(w.Images), "accounts": len(w.Members) + 1, "folders": len(w.Folders), "shares": len(w.Shares)}
	for _, im := range w.Images {
		if im.Managed {
			c["managed"]++
			if im.Drift != "" {
				c["drift:"+im.Drift]++
				c["needing_changes"]++
			}
			if len(im.Folders) > 0 {
				c["folder_targets"]++
			}
			if len(im.Accounts) > 0 {
				c["account_targets"]++
			}
		}
	}
	return c
}
