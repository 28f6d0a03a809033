package plan

import (
	"strings"
	"testing"
	"time"

	"imageshare/pkg/state"
)

func TestDirectPart(t *testing.T) {
	tests := []struct {
		name     string
		env      map[string]string
		tags     map[string]string
		direct   []string
		shares   []state.Share
		share    []string
		unshare  []string
		refusals []string
	}{
		{name: "exact shares tag accounts in tag order",
			tags:  map[string]string{"imageshare:accounts": m3 + " " + m2, "imageshare:accounts:2": m4},
			share: []string{m3, m2, m4}},
		{name: "nothing to do when converged",
			tags: map[string]string{"imageshare:accounts": m2}, direct: []string{m2}},
		{name: "exact removes untagged shares",
			tags: map[string]string{"imageshare:accounts": m2}, direct: []string{m4, m2},
			unshare: []string{m4 + "|untagged"}},
		{name: "accounts none removes every direct share",
			tags: map[string]string{"imageshare:accounts": "none"}, direct: []string{m4, ext},
			unshare: []string{m4 + "|untagged", ext + "|untagged"}},
		{name: "additive keeps untagged shares",
			tags: map[string]string{"imageshare:accounts": m2, "imageshare:mode": "additive"}, direct: []string{m4},
			share: []string{m2}},
		{name: "guardrail: outsiders refused, allowed external shared, owner refused",
			tags:     map[string]string{"imageshare:accounts": out + " " + ext + " " + owner},
			share:    []string{ext},
			refusals: []string{out + "|not-allowed", owner + "|owner"}},
		{name: "guardrail exact: a refused account's existing share is revoked",
			tags: map[string]string{"imageshare:accounts": out}, direct: []string{out},
			unshare: []string{out + "|refused"}, refusals: []string{out + "|not-allowed"}},
		{name: "guardrail additive: a refused account's existing share is kept and reported",
			tags: map[string]string{"imageshare:accounts": out, "imageshare:mode": "additive"}, direct: []string{out},
			refusals: []string{out + "|not-allowed"}},
		{name: "additive: an untagged outsider is kept and reported",
			tags: map[string]string{"imageshare:mode": "additive"}, direct: []string{out},
			refusals: []string{out + "|not-allowed"}},
		{name: "redundant direct share revoked when coverage is Associated",
			tags:    map[string]string{"imageshare:accounts": m2 + " " + m4},
			direct:  []string{m2, m4},
			shares:  []state.Share{share("rs-1", "golden", t0, state.Associated, []string{prod}, "m-1")},
			unshare: []string{m2 + "|redundant"}},
		{name: "sub-folder members are covered too",
			tags:    map[string]string{"imageshare:accounts": m3},
			direct:  []string{m3},
			shares:  []state.Share{share("rs-1", "golden", t0, state.Associated, []string{prod}, "m-1")},
			unshare: []string{m3 + "|redundant"}},
		{name: "directory target covers every member",
			tags:    map[string]string{"imageshare:mode": "additive"},
			direct:  []string{m5, ext},
			shares:  []state.Share{share("rs-1", "all", t0, state.Associated, []string{rdID}, "m-1")},
			unshare: []string{m5 + "|redundant"}},
		{name: "account target covers itself",
			tags:    map[string]string{"imageshare:accounts": m4},
			direct:  []string{m4},
			shares:  []state.Share{share("rs-1", "one", t0, state.Associated, []string{m4}, "m-1")},
			unshare: []string{m4 + "|redundant"}},
		{name: "a covered tag account is not shared directly",
			tags:   map[string]string{"imageshare:accounts": m2},
			shares: []state.Share{share("rs-1", "golden", t0, state.Associated, []string{prod}, "m-1")}},
		{name: "no revoke while coverage is still Associating",
			tags:   map[string]string{"imageshare:accounts": m2},
			direct: []string{m2},
			shares: []state.Share{share("rs-1", "golden", t0, state.Associating, []string{prod}, "m-1")}},
		{name: "no revoke when the image is Associated but the target is not",
			tags:   map[string]string{"imageshare:accounts": m2},
			direct: []string{m2},
			shares: []state.Share{func() state.Share {
				s := share("rs-1", "golden", t0, state.Associated, []string{prod}, "m-1")
				s.Targets[prod] = assoc(state.Associating)
				return s
			}()}},
		{name: "REVOKE_REDUNDANT=false keeps covered accounts, even untagged ones in exact mode",
			env:    map[string]string{"REVOKE_REDUNDANT": "false"},
			tags:   map[string]string{"imageshare:accounts": m2},
			direct: []string{m2, m3},
			shares: []state.Share{share("rs-1", "golden", t0, state.Associated, []string{prod}, "m-1")}},
		{name: "restore: a tag account that lost coverage is shared again",
			tags:   map[string]string{"imageshare:accounts": m2},
			shares: []state.Share{share("rs-1", "golden", t0, state.Disassociated, []string{prod}, "m-1")},
			share:  []string{m2}},
		{name: "share limit: keep current, add in tag order, refuse the rest",
			env:      map[string]string{"MAX_ACCOUNTS_PER_IMAGE": "3"},
			tags:     map[string]string{"imageshare:accounts": m2 + " " + m3 + " " + m4 + " " + m5 + " " + ext},
			direct:   []string{m4},
			share:    []string{m2, m3},
			refusals: []string{m5 + "|share-limit", ext + "|share-limit"}},
		{name: "share limit counts after removals",
			env:    map[string]string{"MAX_ACCOUNTS_PER_IMAGE": "2"},
			tags:   map[string]string{"imageshare:accounts": m2 + " " + m3},
			direct: []string{m4, m5}, share: []string{m2, m3},
			unshare: []string{m4 + "|untagged", m5 + "|untagged"}},
		{name: "share limit never removes a wanted share to make room",
			env:      map[string]string{"MAX_ACCOUNTS_PER_IMAGE": "2"},
			tags:     map[string]string{"imageshare:accounts": m2 + " " + m3, "imageshare:mode": "additive"},
			direct:   []string{m4, m5},
			refusals: []string{m2 + "|share-limit", m3 + "|share-limit"}},
		{name: "share limit with REVOKE_REDUNDANT=false counts kept covered shares",
			env:      map[string]string{"MAX_ACCOUNTS_PER_IMAGE": "2", "REVOKE_REDUNDANT": "false"},
			tags:     map[string]string{"imageshare:accounts": m4 + " " + m5},
			direct:   []string{m2},
			shares:   []state.Share{share("rs-1", "golden", t0, state.Associated, []string{prod}, "m-1")},
			share:    []string{m4},
			refusals: []string{m5 + "|share-limit"}},
		{name: "tag error freezes the image",
			tags:     map[string]string{"imageshare:accounts": m2 + " 42"},
			direct:   []string{m4},
			shares:   []state.Share{share("rs-1", "golden", t0, state.Associated, []string{dev}, "m-1")},
			refusals: []string{"42|tag-error"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st := testState(img("m-1", tc.tags, tc.direct...))
			st.Shares = tc.shares
			// The first look does at once only the removals whose account stays covered
			// (R7); the others wait for a second look at unchanged tags (R12).
			first := Make(st, testSettings(t, tc.env)).Image("m-1")
			var now, later []string
			for _, u := range tc.unshare {
				if strings.HasSuffix(u, "|"+WhyRedundant) {
					now = append(now, u)
				} else {
					later = append(later, u)
				}
			}
			eq(t, "first look unshare", unshareKeys(first), now)
			eq(t, "first look awaiting confirmation", confirmKeys(first), later)
			carry(st, &Plan{Images: []ImagePlan{*first}})
			p := Make(st, testSettings(t, tc.env))
			ip := p.Image("m-1")
			eq(t, "confirm (second look)", ip.Confirm, []Removal(nil))
			if ip == nil {
				t.Fatal("no plan for m-1")
			}
			eq(t, "share", ip.Share, tc.share)
			eq(t, "unshare", unshareKeys(ip), tc.unshare)
			eq(t, "refusals", refusalKeys(ip), tc.refusals)
			if len(ip.Associate)+len(ip.Disassociate) > 0 || len(p.Shares) > 0 {
				t.Errorf("unexpected organization changes:\n%s", p)
			}
			for _, r := range ip.Refusals {
				if r.Message == "" {
					t.Errorf("refusal without message: %+v", r)
				}
			}
		})
	}
}

func TestStatus(t *testing.T) {
	set := testSettings(t, nil)
	mk := func(status string, age time.Duration, tags map[string]string) *ImagePlan {
		i := img("m-1", tags, m4)
		i.Status, i.Created = status, t0.Add(-age)
		return Make(testState(i), set).Image("m-1")
	}
	tagged := map[string]string{"imageshare:accounts": m2}
	if ip := mk(state.Creating, 10*time.Second, tagged); ip.Postpone != 30*time.Second || ip.Writes() || len(ip.Refusals) > 0 {
		t.Errorf("young Creating image: %+v", ip)
	}
	if ip := mk(state.Waiting, 2*time.Minute, tagged); ip.Postpone != 2*time.Minute {
		t.Errorf("Waiting image: postpone %v, want 2m (doubling)", ip.Postpone)
	}
	if ip := mk(state.Creating, 3*time.Hour, tagged); ip.Postpone != 15*time.Minute {
		t.Errorf("old Creating image: postpone %v, want the 15m cap", ip.Postpone)
	}
	if ip := mk(state.Creating, 24*time.Hour-time.Minute, tagged); ip.Postpone != time.Minute+time.Second {
		t.Errorf("near IMAGE_WAIT_MAX: postpone %v, want to look again just after it", ip.Postpone)
	}
	if ip := mk(state.Creating, 25*time.Hour, tagged); ip.Postpone != 0 || !eqStrings(refusalKeys(ip), []string{"|image-wait"}) {
		t.Errorf("past IMAGE_WAIT_MAX: %+v", ip)
	}
	for _, s := range []string{state.CreateFailed, state.UnAvailable, state.Deprecated} {
		ip := mk(s, time.Hour, tagged)
		if ip.Writes() || !eqStrings(refusalKeys(ip), []string{"|image-status"}) {
			t.Errorf("%s managed: %+v", s, ip)
		}
		if ip := mk(s, time.Hour, map[string]string{"env": "x"}); ip.Writes() || len(ip.Refusals) > 0 {
			t.Errorf("%s unmanaged must be silent: %+v", s, ip)
		}
	}
	// Status comes before tag errors: a Creating image with a bad tag is postponed.
	if ip := mk(state.Creating, time.Minute, map[string]string{"imageshare:accounts": "bad"}); ip.Postpone == 0 {
		t.Errorf("Creating with tag error: %+v", ip)
	}
}

func eqStrings(a, b []string) bool { return strings.Join(a, ",") == strings.Join(b, ",") }

func TestScope(t *testing.T) {
	set := testSettings(t, nil)
	others := img("m-2", map[string]string{"imageshare:accounts": m2})
	others.OwnerAlias = "others"
	missing := img("m-3", map[string]string{"imageshare:accounts": m2})
	missing.Missing = true
	released := img("m-4", map[string]string{"env": "prod"}, m2, out)
	p := Make(testState(others, missing, released), set)
	if p.Image("m-2") != nil || p.Image("m-3") != nil {
		t.Fatalf("R1 / gone images must get no plan:\n%s", p)
	}
	if ip := p.Image("m-4"); ip == nil || ip.Writes() || ip.Managed {
		t.Fatalf("released image must be left alone: %+v", ip)
	}
}

func TestFolders(t *testing.T) {
	set := testSettings(t, nil)
	tests := []struct {
		name     string
		folders  string
		dir      bool
		targets  []string
		refusals []string
	}{
		{name: "one folder", folders: prod, dir: true, targets: []string{prod}},
		{name: "sub-folder dropped under its parent", folders: sub + " " + prod, dir: true, targets: []string{prod}},
		{name: "sibling folders kept, sorted", folders: prod + " " + dev, dir: true, targets: []string{dev, prod}},
		{name: "directory alone when named", folders: prod + " " + rdID, dir: true, targets: []string{rdID}},
		{name: "empty folder exists", folders: empty, dir: true, targets: []string{empty}},
		{name: "unknown folder refused, others apply", folders: "fd-Nope000001 " + dev, dir: true, targets: []string{dev},
			refusals: []string{"fd-Nope000001|unknown-folder"}},
		{name: "other directory refused", folders: "rd-Other1", dir: true, refusals: []string{"rd-Other1|unknown-directory"}},
		{name: "no directory", folders: prod, dir: false, refusals: []string{prod + "|no-directory"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st := testState(img("m-1", map[string]string{"imageshare:folders": tc.folders}))
			if !tc.dir {
				st.Directory = nil
			}
			p := Make(st, set)
			ip := p.Image("m-1")
			eq(t, "refusals", refusalKeys(ip), tc.refusals)
			if tc.targets == nil {
				if len(p.Shares) > 0 || len(ip.Associate) > 0 {
					t.Fatalf("no share expected:\n%s", p)
				}
				return
			}
			if len(p.Shares) != 1 || p.Shares[0].Op != OpCreate {
				t.Fatalf("want one create:\n%s", p)
			}
			op := p.Shares[0]
			eq(t, "targets", op.Targets, tc.targets)
			eq(t, "resources", op.Resources, []string{"m-1"})
			eq(t, "name", op.Share.Name, ShareName(tc.targets))
			eq(t, "associate", names(ip.Associate), []string{ShareName(tc.targets)})
			if !ip.Recheck {
				t.Error("an association change must be rechecked")
			}
		})
	}
}

func TestShareName(t *testing.T) {
	a := ShareName([]string{prod, dev})
	if a != ShareName([]string{dev, prod}) || !IsManagedName(a) || len(a) != len("imageshare-")+32 {
		t.Fatalf("ShareName %q", a)
	}
	if a == ShareName([]string{prod}) {
		t.Fatal("different sets must differ")
	}
	if IsManagedName("imageshare-golden") || IsManagedName("golden") {
		t.Fatal("hand-made names are not managed")
	}
}

func TestOneCreatePerTargetSet(t *testing.T) {
	tags := map[string]string{"imageshare:folders": prod}
	p := Make(testState(img("m-2", tags), img("m-1", tags), img("m-3", map[string]string{"imageshare:folders": dev})), testSettings(t, nil))
	if len(p.Shares) != 2 {
		t.Fatalf("want two creates:\n%s", p)
	}
	eq(t, "resources", p.Shares[0].Resources, []string{"m-1", "m-2"})
	eq(t, "resources", p.Shares[1].Resources, []string{"m-3"})
}

func TestManagedShareLimit(t *testing.T) {
	set := testSettings(t, map[string]string{"MAX_MANAGED_SHARES": "1"})
	existing := share("rs-1", ShareName([]string{dev}), t0, state.Associated, []string{dev})
	st := testState(img("m-1", map[string]string{"imageshare:folders": prod, "imageshare:accounts": m4}))
	st.Shares = []state.Share{existing}
	p := Make(st, set)
	ip := p.Image("m-1")
	eq(t, "refusals", refusalKeys(ip), []string{prod + "|managed-share-limit"})
	eq(t, "share", ip.Share, []string{m4})
	if len(p.Shares) != 0 {
		t.Fatalf("no share may be created:\n%s", p)
	}
	// A set of several folders is refused once, its normalized IDs sorted and joined by
	// commas as the subject (sub is under prod, so it is dropped).
	st.Images[0].Tags["imageshare:folders"] = sub + " " + prod + " " + empty
	ip = Make(st, set).Image("m-1")
	eq(t, "refusals of a set", refusalKeys(ip), []string{empty + "," + prod + "|managed-share-limit"})
}

func TestMakeBeforeBreak(t *testing.T) {
	set := testSettings(t, nil)
	oldName, newName := ShareName([]string{dev}), ShareName([]string{prod})
	tags := map[string]string{"imageshare:folders": prod, "imageshare:accounts": m4}

	// Step 1: new share exists with its target Associated; the image is not in it yet.
	st := testState(img("m-1", tags))
	st.Shares = []state.Share{
		share("rs-old", oldName, t0, state.Associated, []string{dev}, "m-1"),
		share("rs-new", newName, t0, state.Associated, []string{prod}),
	}
	p := Make(st, set)
	ip := p.Image("m-1")
	eq(t, "associate", names(ip.Associate), []string{newName})
	eq(t, "disassociate", names(ip.Disassociate), []string(nil))
	// The old share is one the image is being taken out of: it still counts for make
	// before break, but not as coverage that spares m4 a direct share (R5).
	eq(t, "share", ip.Share, []string{m4})
	eq(t, "awaiting confirmation", confirmKeys(ip), []string{oldName + "|"})

	// Step 2: the new association is Associating: still no break, even confirmed.
	st.Images[0].Direct = []string{m4}
	st.Shares[1].Resources["m-1"] = assoc(state.Associating)
	carry(st, p)
	p = Make(st, set)
	ip = p.Image("m-1")
	if len(ip.Associate)+len(ip.Disassociate) > 0 || !ip.Recheck || ip.Writes() {
		t.Fatalf("while Associating: %+v", ip)
	}
	eq(t, "held back by make before break", ip.Held, []string{oldName})

	// Step 3: Associated, with the held confirmation carried by the re-check: leave the
	// old share.
	st.Shares[1].Resources["m-1"] = assoc(state.Associated)
	carry(st, p)
	p = Make(st, set)
	ip = p.Image("m-1")
	eq(t, "disassociate", names(ip.Disassociate), []string{oldName})
	eq(t, "confirmed", ip.Confirmed, []string{oldName})
	eq(t, "share", ip.Share, []string(nil))

	// Without a carried confirmation the same state is a first look: nothing is left.
	st.Confirmed = nil
	ip = Make(st, set).Image("m-1")
	eq(t, "first look disassociate", names(ip.Disassociate), []string(nil))
	eq(t, "first look awaiting", confirmKeys(ip), []string{oldName + "|"})

	// Step 4: the new share's target not yet Associated: no break.
	st.Confirmed = map[string][]state.Confirmation{"m-1": {{Fingerprint: ip.Fingerprint, Removals: []string{oldName}}}}
	st.Shares[1].Targets[prod] = assoc(state.Associating)
	if ip := Make(st, set).Image("m-1"); len(ip.Disassociate) > 0 {
		t.Fatalf("broke before the new targets were Associated: %+v", ip)
	}
}

func TestDropFolders(t *testing.T) {
	set := testSettings(t, nil)
	st := testState(img("m-1", map[string]string{"imageshare:accounts": m2}))
	st.Shares = []state.Share{share("rs-old", ShareName([]string{prod}), t0, state.Associated, []string{prod}, "m-1")}
	p := Make(st, set)
	ip := p.Image("m-1")
	eq(t, "first look disassociate", names(ip.Disassociate), []string(nil))
	eq(t, "share (m2 will not stay covered)", ip.Share, []string{m2})
	eq(t, "awaiting confirmation", confirmKeys(ip), []string{ShareName([]string{prod}) + "|"})
	st.Images[0].Direct = []string{m2}
	carry(st, p)
	ip = Make(st, set).Image("m-1")
	eq(t, "disassociate", names(ip.Disassociate), []string{ShareName([]string{prod})})
	eq(t, "reassert", ip.Reassert, []string{m2})
}

func TestHandMadeSharesNeverChanged(t *testing.T) {
	set := testSettings(t, nil)
	st := testState(img("m-1", map[string]string{"imageshare:accounts": m2}))
	hand := share("rs-h", "golden", t0, state.Associated, []string{prod, out}, "m-1")
	hand.AllowExternal = true
	st.Shares = []state.Share{hand}
	p := Make(st, set)
	if p.Writes() {
		t.Fatalf("hand-made share must only count for coverage:\n%s", p)
	}
}

func TestRepairManagedShare(t *testing.T) {
	set := testSettings(t, nil)
	name := ShareName([]string{prod})
	sh := share("rs-1", name, t0, state.Associated, []string{prod, dev})
	sh.AllowExternal = true
	st := testState(img("m-1", map[string]string{"imageshare:folders": prod, "imageshare:accounts": m4}, m4))
	st.Shares = []state.Share{sh}
	p := Make(st, set)
	var ops []string
	for _, op := range p.Shares {
		ops = append(ops, op.Op+":"+strings.Join(op.Targets, ","))
	}
	eq(t, "ops", ops, []string{"set-internal:", "remove-targets:" + dev})
	ip := p.Image("m-1")
	if len(ip.Associate) > 0 {
		t.Fatal("must not join a share that still reaches extra targets")
	}
	if !ip.Recheck {
		t.Fatal("recheck expected")
	}
	// m4 (dev) would not be covered by the repaired share: it stays direct.
	eq(t, "unshare", unshareKeys(ip), []string(nil))

	// A missing target is added; the image may join meanwhile (a subset is no leak).
	sh2 := share("rs-1", name, t0, state.Associated, nil)
	st.Shares = []state.Share{sh2}
	p = Make(st, set)
	eq(t, "op", p.Shares[0].Op+":"+strings.Join(p.Shares[0].Targets, ","), "add-targets:"+prod)
	eq(t, "associate", names(p.Image("m-1").Associate), []string{name})
}

func TestDuplicatesMergeIntoOldest(t *testing.T) {
	set := testSettings(t, nil)
	name := ShareName([]string{prod})
	tags := map[string]string{"imageshare:folders": prod}
	st := testState(img("m-1", tags), img("m-2", tags))
	st.Shares = []state.Share{
		share("rs-b", name, t0.Add(time.Minute), state.Associated, []string{prod}, "m-1"),
		share("rs-a", name, t0, state.Associated, []string{prod}, "m-2"),
		share("rs-c", name, t0.Add(2*time.Minute), state.Associated, []string{prod}),
	}
	p := Make(st, set)
	eq(t, "m-1 associate", p.Image("m-1").Associate, []ShareRef{{ID: "rs-a", Name: name}})
	eq(t, "m-1 disassociate", p.Image("m-1").Disassociate, []ShareRef(nil))
	if p.Image("m-2").Writes() {
		t.Fatalf("m-2 is in the oldest already: %+v", p.Image("m-2"))
	}
	eq(t, "ops", p.Shares, []ShareOp{{Op: OpDelete, Share: ShareRef{ID: "rs-c", Name: name}}})

	st.Shares[1].Resources["m-1"] = assoc(state.Associated)
	p = Make(st, set)
	eq(t, "m-1 disassociate", p.Image("m-1").Disassociate, []ShareRef{{ID: "rs-b", Name: name, Merge: true}})
}

func TestFailedAssociation(t *testing.T) {
	name := ShareName([]string{prod})
	mk := func(retry bool, age time.Duration) *ImagePlan {
		sh := share("rs-1", name, t0, state.Associated, []string{prod})
		sh.Resources["m-1"] = state.Association{Status: state.Failed, FailureReason: "LimitExceeded", Updated: t0.Add(-age)}
		st := testState(img("m-1", map[string]string{"imageshare:folders": prod}))
		st.Shares = []state.Share{sh}
		st.RetryFailed = retry
		return Make(st, testSettings(t, nil)).Image("m-1")
	}
	ip := mk(false, time.Hour)
	eq(t, "refusals", refusalKeys(ip), []string{"|association-failed"})
	if !strings.Contains(ip.Refusals[0].Message, "LimitExceeded") || len(ip.Associate) > 0 {
		t.Fatalf("failed, no retry: %+v", ip)
	}
	if ip := mk(true, time.Hour); len(ip.Associate) != 1 {
		t.Fatalf("retry after a tag or directory change: %+v", ip)
	}
	if ip := mk(false, 25*time.Hour); len(ip.Associate) != 1 {
		t.Fatalf("retry after a day: %+v", ip)
	}
}

func TestRetainUntagged(t *testing.T) {
	all := testSettings(t, map[string]string{"REDUNDANCY_SCOPE": "all"})
	hand := share("rs-h", "golden", t0, state.Associated, []string{prod}, "m-1")
	st := testState(img("m-1", map[string]string{"env": "prod"}, m2, m4, m3))
	st.Shares = []state.Share{hand}

	if ip := Make(st, testSettings(t, nil)).Image("m-1"); ip.Writes() {
		t.Fatalf("scope tagged leaves untagged images alone: %+v", ip)
	}
	if ip := Make(st, testSettings(t, map[string]string{"REDUNDANCY_SCOPE": "all", "REVOKE_REDUNDANT": "false"})).Image("m-1"); ip.Writes() {
		t.Fatalf("REVOKE_REDUNDANT=false: %+v", ip)
	}
	ip := Make(st, all).Image("m-1")
	if ip.Retain == nil {
		t.Fatalf("want retain: %+v", ip)
	}
	eq(t, "retain tags", ip.Retain.Tags, map[string]string{
		"imageshare:mode": "additive", "imageshare:accounts:retained": m2 + "," + m3,
	})
	eq(t, "retain accounts", ip.Retain.Accounts, []string{m2, m3})
	if len(ip.Unshare) > 0 || len(ip.Share) > 0 {
		t.Fatal("R8 revokes only after the read-back, in the applier")
	}

	// In a managed share: the folders tag keeps it there.
	managed := share("rs-m", ShareName([]string{dev}), t0, state.Associated, []string{dev}, "m-1")
	st.Shares = []state.Share{hand, managed}
	ip = Make(st, all).Image("m-1")
	eq(t, "folders tag", ip.Retain.Tags["imageshare:folders"], dev)

	// Many accounts are split over numbered keys of at most 128 characters.
	var many []string
	for i := 0; i < 9; i++ {
		many = append(many, "10000000000001"+string(rune('0'+i))+"0")
	}
	d := testDirectory()
	for _, a := range many {
		d.Members[a] = state.Member{ID: a, Path: []string{rdID, root, prod}}
	}
	st = testState(img("m-1", map[string]string{}, many...))
	st.Directory = d
	st.Shares = []state.Share{hand}
	ip = Make(st, all).Image("m-1")
	if ip.Retain == nil || ip.Retain.Tags["imageshare:accounts:retained:2"] == "" {
		t.Fatalf("want split retained keys: %+v", ip.Retain)
	}
	for k, v := range ip.Retain.Tags {
		if len(v) > 128 {
			t.Errorf("%s value too long: %d", k, len(v))
		}
	}

	// Too many tags: nothing revoked, refused.
	tags := map[string]string{}
	for i := 0; i < 19; i++ {
		tags["k"+string(rune('a'+i))] = "v"
	}
	st = testState(img("m-1", tags, m2))
	st.Shares = []state.Share{hand}
	ip = Make(st, all).Image("m-1")
	if ip.Retain != nil || !eqStrings(refusalKeys(ip), []string{"|retain-limit"}) {
		t.Fatalf("tag limit: %+v", ip)
	}
}

func TestDeterministic(t *testing.T) {
	set := testSettings(t, nil)
	mk := func() string {
		st := testState(
			img("m-3", map[string]string{"imageshare:folders": prod + " " + dev, "imageshare:accounts": m4 + " " + out}, m5),
			img("m-1", map[string]string{"imageshare:accounts": m2 + " " + m3}, m5, m4),
			img("m-2", map[string]string{"imageshare:folders": dev + " " + prod}),
		)
		return Make(st, set).String()
	}
	a := mk()
	for i := 0; i < 20; i++ {
		if b := mk(); a != b {
			t.Fatalf("plans differ:\n%s\n---\n%s", a, b)
		}
	}
}
