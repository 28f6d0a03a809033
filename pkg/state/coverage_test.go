package state

import (
	"fmt"
	"maps"
	"slices"
	"testing"
)

const (
	owner = "1000000000000001"
	inF   = "1000000000000002" // in fd-F000000001
	inSub = "1000000000000003" // in fd-Sub0000001, under fd-F000000001
	inG   = "1000000000000004" // in fd-G000000001
	atTop = "1000000000000005" // at the root
	other = "2000000000000001" // not a member
	dir   = "rd-Cov001"
	root  = "r-Cov001"
	fF    = "fd-F000000001"
	fSub  = "fd-Sub0000001"
	fG    = "fd-G000000001"
)

func world(shares ...Share) *State {
	return &State{Owner: owner, Shares: shares, Directory: &Directory{ID: dir, RootID: root,
		Members: map[string]Member{
			owner: {ID: owner, Path: []string{dir, root}},
			inF:   {ID: inF, Path: []string{dir, root, fF}},
			inSub: {ID: inSub, Path: []string{dir, root, fF, fSub}},
			inG:   {ID: inG, Path: []string{dir, root, fG}},
			atTop: {ID: atTop, Path: []string{dir, root}},
		},
		Folders: map[string][]string{fF: {root}, fSub: {root, fF}, fG: {root}},
	}}
}

// shareOf holds image with imageStatus and each target with its status.
func shareOf(id, image, imageStatus string, targets map[string]string) Share {
	sh := Share{ID: id, Name: "s-" + id, Resources: map[string]Association{image: {Status: imageStatus}}, Targets: map[string]Association{}}
	for t, st := range targets {
		sh.Targets[t] = Association{Status: st}
	}
	return sh
}

func covered(s Sources) []string { return slices.Sorted(maps.Keys(s)) }

// TestReaches: the directory reaches every member, a folder the members in it and
// below it, an account itself when it is a member or the share allows external targets.
func TestReaches(t *testing.T) {
	st := world()
	cases := []struct {
		target   string
		external bool
		want     []string
	}{
		{dir, false, []string{owner, inF, inSub, inG, atTop}},
		{fF, false, []string{inF, inSub}},
		{fSub, false, []string{inSub}},
		{fG, false, []string{inG}},
		{root, false, []string{owner, inF, inSub, inG, atTop}},
		{"fd-Nope000001", false, nil},
		{inG, false, []string{inG}},
		{other, false, nil},
		{other, true, []string{other}},
	}
	for _, c := range cases {
		got := st.Reaches(c.target, c.external)
		want := slices.Sorted(slices.Values(c.want))
		if !slices.Equal(got, want) {
			t.Errorf("Reaches(%s, external=%v) = %v, want %v", c.target, c.external, got, want)
		}
	}
	none := &State{Owner: owner}
	if got := none.Reaches(fF, false); got != nil {
		t.Errorf("without a directory a folder reaches %v", got)
	}
	if none.IsMember(inF) || none.FolderExists(fF) || none.Ancestors(fSub) != nil {
		t.Error("without a directory nobody is a member and no folder exists")
	}
	if !st.IsMember(inSub) || st.IsMember(other) || !st.FolderExists(fSub) || st.FolderExists("fd-Nope000001") {
		t.Error("membership or folder existence misread")
	}
	if got := st.Ancestors(fSub); !slices.Equal(got, []string{root, fF}) {
		t.Errorf("Ancestors(%s) = %v", fSub, got)
	}
}

// TestCoverageNeedsBothAssociated is R5: a share grants an account access only while
// the image and the target that reaches it are both Associated.
func TestCoverageNeedsBothAssociated(t *testing.T) {
	statuses := []string{Associating, Associated, Failed, Disassociating, Disassociated}
	for _, is := range statuses {
		for _, ts := range statuses {
			st := world(shareOf("rs-1", "m-1", is, map[string]string{fF: ts}))
			got := covered(st.Coverage("m-1", nil))
			var want []string
			if is == Associated && ts == Associated {
				want = []string{inF, inSub}
			}
			if !slices.Equal(got, want) {
				t.Errorf("image %s, target %s: covered %v, want %v", is, ts, got, want)
			}
		}
	}
}

func TestCoverage(t *testing.T) {
	st := world(
		shareOf("rs-dir", "m-1", Associated, map[string]string{dir: Associated}),
		shareOf("rs-f", "m-1", Associated, map[string]string{fF: Associated, inG: Associated, fG: Associating}),
		shareOf("rs-other", "m-2", Associated, map[string]string{atTop: Associated}), // another image
	)
	cov := st.Coverage("m-1", nil)
	if got, want := covered(cov), []string{inF, inSub, inG, atTop}; !slices.Equal(got, slices.Sorted(slices.Values(want))) {
		t.Fatalf("covered %v, want %v (never the owner)", got, want)
	}
	if _, ok := cov[owner]; ok {
		t.Fatal("the owner is covered: it must never count")
	}
	if got := fmt.Sprint(cov[inSub]); got != "[{rs-dir s-rs-dir rd-Cov001} {rs-f s-rs-f fd-F000000001}]" {
		t.Errorf("sources of %s: %s", inSub, got)
	}
	if got := fmt.Sprint(cov[inG]); got != "[{rs-dir s-rs-dir rd-Cov001} {rs-f s-rs-f 1000000000000004}]" {
		t.Errorf("sources of %s: %s (the Associating folder target must not count)", inG, got)
	}
	if got := covered(st.Coverage("m-3", nil)); len(got) != 0 {
		t.Errorf("an image in no share is covered for %v", got)
	}

	// A plan that leaves rs-dir: only rs-f's targets remain.
	leaving := st.Coverage("m-1", func(share, target string) bool { return share == "rs-dir" && target == "" })
	if got := covered(leaving); !slices.Equal(got, []string{inF, inSub, inG}) {
		t.Errorf("without rs-dir: %v", got)
	}
	// A plan that removes target fd-F000000001 from rs-f and leaves rs-dir.
	removing := st.Coverage("m-1", func(share, target string) bool {
		return share == "rs-dir" && target == "" || share == "rs-f" && target == fF
	})
	if got := covered(removing); !slices.Equal(got, []string{inG}) {
		t.Errorf("without rs-dir and rs-f/%s: %v", fF, got)
	}
}

// An account target outside the directory reaches the account only in a share that
// allows external targets.
func TestCoverageOfExternalAccountTargets(t *testing.T) {
	internal := shareOf("rs-1", "m-1", Associated, map[string]string{other: Associated})
	external := internal
	external.AllowExternal = true
	if got := covered(world(internal).Coverage("m-1", nil)); len(got) != 0 {
		t.Errorf("an internal share covers the outsider: %v", got)
	}
	if got := covered(world(external).Coverage("m-1", nil)); !slices.Equal(got, []string{other}) {
		t.Errorf("a share allowing external targets: %v", got)
	}
}

func TestAssociationStates(t *testing.T) {
	for _, c := range []struct {
		status          string
		active, holding bool
	}{
		{Associating, false, true},
		{Associated, true, true},
		{Failed, false, true},
		{Disassociating, false, false},
		{Disassociated, false, false},
		{"", false, false},
	} {
		a := Association{Status: c.status}
		if a.Active() != c.active || a.Holding() != c.holding {
			t.Errorf("%q: active %v holding %v, want %v %v", c.status, a.Active(), a.Holding(), c.active, c.holding)
		}
	}
}
