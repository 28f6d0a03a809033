package plan

import (
	"strings"
	"testing"

	"imageshare/pkg/state"
)

// SPEC R12: the fingerprint is the image's prefix keys and values, byte-exact, as
// sorted key=value lines; other tags do not count.
func TestFingerprint(t *testing.T) {
	base := map[string]string{"imageshare:accounts": m2, "imageshare:mode": "exact", "env": "prod"}
	fp := Fingerprint("imageshare", base)
	if len(fp) != 64 || strings.Trim(fp, "0123456789abcdef") != "" {
		t.Fatalf("fingerprint %q is not 64 hex digits", fp)
	}
	same := map[string]string{"imageshare:mode": "exact", "imageshare:accounts": m2, "env": "dev", "team": "web"}
	if Fingerprint("imageshare", same) != fp {
		t.Error("other tags and map order must not change the fingerprint")
	}
	for name, tags := range map[string]map[string]string{
		"a value changed":                {"imageshare:accounts": m3, "imageshare:mode": "exact"},
		"white space in a value":         {"imageshare:accounts": m2 + " ", "imageshare:mode": "exact"},
		"a key removed":                  {"imageshare:accounts": m2},
		"a key added":                    {"imageshare:accounts": m2, "imageshare:mode": "exact", "imageshare:folders": prod},
		"the bare prefix key counts":     {"imageshare:accounts": m2, "imageshare:mode": "exact", "imageshare": "x"},
		"a value moved to another key":   {"imageshare:accounts:2": m2, "imageshare:mode": "exact"},
		"key and value joined otherwise": {"imageshare:accounts=" + m2: "", "imageshare:mode": "exact"},
	} {
		if Fingerprint("imageshare", tags) == fp {
			t.Errorf("%s: the fingerprint did not change", name)
		}
	}
	if Fingerprint("imageshare", map[string]string{"imageshareX": "1"}) != Fingerprint("imageshare", nil) {
		t.Error("a key that merely starts with the prefix is not a prefix key")
	}
	if Fingerprint("ops", map[string]string{"ops:accounts": m2}) == Fingerprint("imageshare", map[string]string{"ops:accounts": m2}) {
		t.Error("the prefix decides which keys count")
	}
}

// The confirming run does only the removals that are both in the carried set and in its
// own plan, and only with the same fingerprint; every other R12 removal it plans is a
// new first look.
func TestConfirmingRun(t *testing.T) {
	set := testSettings(t, nil)
	tags := map[string]string{"imageshare:accounts": m2}
	st := testState(img("m-1", tags, m2, m3, m4, m5))
	first := Make(st, set).Image("m-1")
	eq(t, "first look unshare", unshareKeys(first), []string(nil))
	eq(t, "first look awaiting", confirmKeys(first), []string{m3 + "|untagged", m4 + "|untagged", m5 + "|untagged"})
	if first.Writes() {
		t.Fatalf("a first look with only R12 removals writes nothing: %+v", first)
	}
	fp := first.Fingerprint

	// Carried {m3, m4, out-of-plan}; the plan now also removes m5: m3 and m4 go, m5 is a
	// new first look, and a carried account the plan keeps is not removed.
	st.Images[0].Tags = map[string]string{"imageshare:accounts": m2 + " " + ext}
	st.Images[0].Direct = []string{m2, m3, m4, m5, ext}
	st.Confirmed = map[string][]state.Confirmation{"m-1": {{Fingerprint: Fingerprint("imageshare", st.Images[0].Tags), Removals: []string{m3, m4, ext}}}}
	ip := Make(st, set).Image("m-1")
	eq(t, "unshare", unshareKeys(ip), []string{m3 + "|untagged", m4 + "|untagged"})
	eq(t, "confirmed", ip.Confirmed, []string{m3, m4})
	eq(t, "new first look", confirmKeys(ip), []string{m5 + "|untagged"})

	// The tags changed since the first look: nothing is removed, all is a new first look.
	st.Images[0].Tags = tags
	st.Images[0].Direct = []string{m2, m3, m4, m5}
	st.Confirmed = map[string][]state.Confirmation{"m-1": {{Fingerprint: strings.Repeat("a", 64), Removals: []string{m3, m4, m5}}}}
	ip = Make(st, set).Image("m-1")
	eq(t, "unshare with another fingerprint", unshareKeys(ip), []string(nil))
	eq(t, "awaiting again", confirmKeys(ip), []string{m3 + "|untagged", m4 + "|untagged", m5 + "|untagged"})

	// Several carried looks (merged jobs): the one with the same fingerprint counts.
	st.Confirmed["m-1"] = append(st.Confirmed["m-1"], state.Confirmation{Fingerprint: fp, Removals: []string{m5}})
	ip = Make(st, set).Image("m-1")
	eq(t, "unshare of the matching look", unshareKeys(ip), []string{m5 + "|untagged"})

	// An account R3 now refuses is an R12 removal too.
	st = testState(img("m-1", map[string]string{"imageshare:accounts": out}, out))
	ip = Make(st, set).Image("m-1")
	eq(t, "refused: awaiting", confirmKeys(ip), []string{out + "|refused"})
	eq(t, "refused: refusal at once", refusalKeys(ip), []string{out + "|not-allowed"})

	// Test-only: ConfirmAll does every R12 removal on the first look.
	st.ConfirmAll = true
	ip = Make(st, set).Image("m-1")
	eq(t, "ConfirmAll", unshareKeys(ip), []string{out + "|refused"})
}

// R7 removals (the account stays covered) are done at once; with REVOKE_REDUNDANT=false
// an account covered now by any Associated share is never removed, even by a share the
// image is leaving; repairs of a managed share's targets are done at once.
func TestRemovalsNotConfirmed(t *testing.T) {
	prodName := ShareName([]string{prod})
	hand := share("rs-h", "golden", t0, state.Associated, []string{prod}, "m-1")
	st := testState(img("m-1", map[string]string{"imageshare:accounts": m4}, m2, m4))
	st.Shares = []state.Share{hand}
	ip := Make(st, testSettings(t, nil)).Image("m-1")
	eq(t, "redundant at once", unshareKeys(ip), []string{m2 + "|redundant"})
	eq(t, "nothing awaits", ip.Confirm, []Removal(nil))

	// The image leaves the managed prod share (no folders any more): m2 is covered now by
	// it, but will not stay covered.
	st.Shares = []state.Share{share("rs-p", prodName, t0, state.Associated, []string{prod}, "m-1")}
	off := testSettings(t, map[string]string{"REVOKE_REDUNDANT": "false"})
	ip = Make(st, off).Image("m-1")
	eq(t, "R7 off: covered now, kept", confirmKeys(ip), []string{prodName + "|"})
	eq(t, "R7 off: no unshare", unshareKeys(ip), []string(nil))
	ip = Make(st, testSettings(t, nil)).Image("m-1")
	eq(t, "R7 on: m2 awaits with the leave", confirmKeys(ip), []string{prodName + "|", m2 + "|untagged"})

	// A managed share's extra target is removed at once (a repair, not the tags).
	sh := share("rs-p", prodName, t0, state.Associated, []string{prod, dev}, "m-1")
	st = testState(img("m-1", map[string]string{"imageshare:folders": prod}))
	st.Shares = []state.Share{sh}
	p := Make(st, testSettings(t, nil))
	if len(p.Shares) != 1 || p.Shares[0].Op != OpRemoveTargets || len(p.Image("m-1").Confirm) > 0 {
		t.Fatalf("a repair is done at once:\n%s", p)
	}
}

// The plan prints what awaits confirmation, for `imageshare plan` and diffs.
func TestPlanStringShowsAwaiting(t *testing.T) {
	st := testState(img("m-1", map[string]string{"imageshare:accounts": m2}, m2, m4))
	s := Make(st, testSettings(t, nil)).String()
	if !strings.Contains(s, "m-1: unshare "+m4+" awaiting confirmation (untagged)") {
		t.Fatalf("plan:\n%s", s)
	}
}
