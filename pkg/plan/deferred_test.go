package plan

import (
	"testing"

	"imageshare/pkg/state"
)

// A tagged account that the folder share on its way will reach is not shared directly
// in the meantime: the direct share would overlap the organization share seconds later,
// and with REVOKE_REDUNDANT=false it would stay for good, so the end state would depend
// on whether a run happened to finish while the association was in progress (found by
// the chaos suite, seeds 481 and 1588: R11). It is deferred, within the quota, and a
// re-check follows; an account the coming coverage does not reach is shared at once.
func TestCoverageOnItsWayDefersDirectShares(t *testing.T) {
	for _, revoke := range []string{"true", "false"} {
		t.Run("REVOKE_REDUNDANT="+revoke, func(t *testing.T) {
			set := testSettings(t, map[string]string{"REVOKE_REDUNDANT": revoke, "MAX_ACCOUNTS_PER_IMAGE": "3"})
			tags := map[string]string{"imageshare:accounts": m2 + " " + m4 + " " + m3 + " " + m5, "imageshare:folders": prod}

			// The managed share for {prod} does not exist yet: this plan creates it.
			p := Make(testState(img("m-1", tags)), set)
			ip := p.Image("m-1")
			eq(t, "share", ip.Share, []string{m4, m5})
			eq(t, "deferred (quota 3: one slot left)", ip.Deferred, []string{m2})
			eq(t, "refusals", refusalKeys(ip), []string(nil))
			if !ip.Recheck {
				t.Error("a deferred account needs a re-check")
			}

			// The image is Associating in the managed share: still deferred.
			name := ShareName([]string{prod})
			st := testState(img("m-1", tags, m4, m5))
			st.Shares = []state.Share{share("rs-1", name, t0, state.Associating, []string{prod}, "m-1")}
			ip = Make(st, set).Image("m-1")
			eq(t, "share while Associating", ip.Share, []string(nil))
			eq(t, "deferred while Associating", ip.Deferred, []string{m2})

			// Associated: m2 and m3 are covered; nothing more to do.
			st.Shares = []state.Share{share("rs-1", name, t0, state.Associated, []string{prod}, "m-1")}
			p = Make(st, set)
			ip = p.Image("m-1")
			eq(t, "share once Associated", ip.Share, []string(nil))
			eq(t, "deferred once Associated", ip.Deferred, []string(nil))
			if p.Writes() {
				t.Errorf("nothing left to write:\n%s", p)
			}
		})
	}
}

// An association that failed for good is no coverage on its way: the tagged account is
// shared directly.
func TestFailedAssociationDoesNotDefer(t *testing.T) {
	tags := map[string]string{"imageshare:accounts": m2, "imageshare:folders": prod}
	st := testState(img("m-1", tags))
	st.Shares = []state.Share{share("rs-1", ShareName([]string{prod}), t0, state.Failed, []string{prod}, "m-1")}
	st.Shares[0].Targets[prod] = assoc(state.Associated)
	ip := Make(st, testSettings(t, nil)).Image("m-1")
	eq(t, "share", ip.Share, []string{m2})
	eq(t, "deferred", ip.Deferred, []string(nil))
}

// Leaving a share: a wanted account the share list shows and the leaving share reaches
// is added again before the break. On a cloud that lists organization grants in
// DescribeImageSharePermission the listed entry may be the grant itself, which the
// disassociation ends (found by TestOrgGrantsListed in test/guardrail on
// r04-direct-folder-switch); elsewhere the add is a no-op.
func TestLeavingReassertsListedAccounts(t *testing.T) {
	name := ShareName([]string{prod})
	st := testState(img("m-1", map[string]string{"imageshare:accounts": m2 + " " + m4}, m2, m3))
	st.Shares = []state.Share{share("rs-1", name, t0, state.Associated, []string{prod}, "m-1")}
	for _, revoke := range []string{"true", "false"} {
		set := testSettings(t, map[string]string{"REVOKE_REDUNDANT": revoke})
		st.Confirmed = map[string][]state.Confirmation{"m-1": {{Fingerprint: Fingerprint("imageshare", st.Images[0].Tags), Removals: []string{name, m3}}}}
		p := Make(st, set)
		ip := p.Image("m-1")
		eq(t, "disassociate", names(ip.Disassociate), []string{name})
		eq(t, "share", ip.Share, []string{m4})
		eq(t, "reassert", ip.Reassert, []string{m2})
		want := []string{m3 + "|untagged"} // no longer covered once the share is left
		if revoke == "false" {
			want = nil // covered now by an Associated share: never removed with R7 off
		}
		eq(t, "unshare", unshareKeys(ip), want)
	}
	// Staying in the share: nothing to reassert.
	st.Confirmed = nil
	st.Images[0].Tags["imageshare:folders"] = prod
	ip := Make(st, testSettings(t, map[string]string{"REVOKE_REDUNDANT": "false"})).Image("m-1")
	eq(t, "reassert when staying", ip.Reassert, []string(nil))
}
