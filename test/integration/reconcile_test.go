package integration

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"imageshare/pkg/cloudsim/emu"
	"imageshare/pkg/observe"
	"imageshare/pkg/plan"
	"imageshare/pkg/rampolicy"
)

func TestObserveThroughTheSDK(t *testing.T) {
	w := newWorld(t, emu.Faults{}, nil)
	w.image("m-Golden000001", map[string]string{"imageshare:accounts": m2 + " " + ext, "imageshare:folders": prod}, m4)
	w.image("m-Plain0000001", map[string]string{"env": "prod"})
	w.cloud.PutResourceShare(region, owner, "golden", []string{dev}, []string{"m-Golden000001"})
	api := w.api()
	st, err := observe.Observe(context.Background(), api, observe.Request{Region: region, Owner: owner, Now: w.clock.Now(),
		All: true, Prefix: "imageshare"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Images) != 1 || st.Images[0].ID != "m-Golden000001" || !slices.Equal(st.Images[0].Direct, []string{m4}) {
		t.Fatalf("images %+v", st.Images)
	}
	if st.Directory == nil || st.Directory.ID != dirID || !slices.Equal(st.Directory.Members[m3].Path, []string{dirID, rootID, prod, team}) {
		t.Fatalf("directory %+v", st.Directory)
	}
	if anc := st.Ancestors(team); !slices.Equal(anc, []string{rootID, prod}) {
		t.Fatalf("ancestors of team %v", anc)
	}
	if len(st.Shares) != 1 || st.Shares[0].Name != "golden" || st.Shares[0].Resources["m-Golden000001"].Status != "Associated" ||
		st.Shares[0].Targets[dev].Status != "Associated" {
		t.Fatalf("shares %+v", st.Shares)
	}
	// Coverage from the hand-made share reaches m4 (dev): R5 through the real wire.
	if cov := st.Coverage("m-Golden000001", nil); len(cov[m4]) != 1 {
		t.Fatalf("coverage %v", cov)
	}
}

func TestReconcileConvergesAndIsIdempotent(t *testing.T) {
	w := newWorld(t, emu.Faults{}, nil)
	w.image("m-Golden000001", map[string]string{"imageshare:accounts": m4 + " " + ext, "imageshare:folders": prod}, m2, m3)
	api := w.api()
	w.converge(api, nil)
	v, _ := w.cloud.Image(region, "m-Golden000001")
	if !slices.Equal(v.Direct, []string{m4, ext}) || !slices.Equal(v.Organization, []string{prod}) {
		t.Fatalf("end state direct %v organization %v", v.Direct, v.Organization)
	}
	// R11: a run with nothing to do calls no write API.
	n := len(w.cloud.Calls())
	p, out := w.run(api, nil)
	if p.Writes() || len(w.writes(n)) != 0 || out.Changes() != 0 {
		t.Fatalf("second run wrote: %v\n%s", w.writes(n), p)
	}
}

func TestThrottlingAndServerErrorsConverge(t *testing.T) {
	w := newWorld(t, emu.Faults{Seed: 11, Throttle: 0.3, ServerError: 0.1}, map[string]string{"RETRY_MAX": "200ms"})
	var tagged []string
	for i := 0; i < 6; i++ {
		id := fmt.Sprintf("m-Image%07d", i)
		tagged = append(tagged, id)
		w.image(id, map[string]string{"imageshare:accounts": m2 + " " + m3 + " " + ext, "imageshare:folders": dev}, m4)
	}
	api := w.api()
	w.converge(api, nil)
	for _, id := range tagged {
		v, _ := w.cloud.Image(region, id)
		if !slices.Equal(v.Direct, []string{m2, m3, ext}) || !slices.Equal(v.Organization, []string{dev}) {
			t.Fatalf("%s: direct %v organization %v", id, v.Direct, v.Organization)
		}
	}
	faulted := 0
	for _, c := range w.cloud.Calls() {
		if c.Code == "Throttling.User" || c.Code == "ServiceUnavailable" || c.Code == "InternalError" {
			faulted++
		}
	}
	if faulted == 0 {
		t.Fatal("the fault plan injected nothing: the test proves nothing")
	}
}

func TestBatchErrorNarrowedToTheBadAccount(t *testing.T) {
	w := newWorld(t, emu.Faults{}, nil)
	var accts []string
	for i := 0; i < 11; i++ {
		a := fmt.Sprintf("10000000000010%02d", i)
		w.cloud.AddAccount(a, "china")
		w.cloud.AddMember(a, dev)
		accts = append(accts, a)
	}
	accts = append(accts[:5], append([]string{ghost}, accts[5:]...)...) // the bad one in the first batch of ten
	var keys = map[string]string{}
	for i := 0; i < len(accts); i += 6 {
		k := "imageshare:accounts"
		if i > 0 {
			k += fmt.Sprintf(":%d", i/6+1)
		}
		keys[k] = strings.Join(accts[i:min(i+6, len(accts))], ",")
	}
	w.image("m-Wide00000001", keys)
	api := w.api()
	_, out := w.run(api, []string{"m-Wide00000001"})
	var refused []string
	for _, e := range out.Entries {
		if e.Action == plan.ActRefuse {
			refused = append(refused, e.Subject+"|"+e.Reason)
		}
	}
	if !slices.Equal(refused, []string{ghost + "|InvalidAccount.NotFound"}) {
		t.Fatalf("refusals %v", refused)
	}
	v, _ := w.cloud.Image(region, "m-Wide00000001")
	if len(v.Direct) != 11 || slices.Contains(v.Direct, ghost) {
		t.Fatalf("direct %v", v.Direct)
	}
	// Every call carried at most ten accounts, and the bad one was tried alone.
	alone := false
	for _, c := range w.cloud.Calls() {
		if c.Action != "ModifyImageSharePermission" {
			continue
		}
		n := 0
		for k := range c.Params {
			if strings.HasPrefix(k, "AddAccount.") {
				n++
			}
		}
		if n > 10 {
			t.Fatalf("a call with %d accounts", n)
		}
		if n == 1 && c.Params["AddAccount.1"] == ghost {
			alone = true
		}
	}
	if !alone {
		t.Fatal("the failing account was never tried alone")
	}
}

// A managed share whose AllowExternalTargets someone set is repaired with
// UpdateResourceShare (R4) — and without resourcesharing:UpdateResourceShare in the
// role's policy it cannot be: this test names why the policy grants it (no scenario
// can set AllowExternalTargets by hand).
func TestRepairsExternalTargetsOfAManagedShare(t *testing.T) {
	full, err := rampolicy.Build(rampolicy.Deployment{Account: owner, Region: region, JobQueue: "imageshare-jobs"})
	if err != nil {
		t.Fatal(err)
	}
	without, err := full.Without("ManageResourceSharesAllResourcesOnly", "resourcesharing:UpdateResourceShare")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name     string
		doc      rampolicy.Document
		repaired bool
	}{{"deployment policy", full, true}, {"without UpdateResourceShare", without, false}} {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorldWithPolicy(t, emu.Faults{}, nil, tc.doc.JSON())
			w.image("m-Golden000001", map[string]string{"imageshare:folders": prod})
			api := w.api()
			w.converge(api, nil)
			shares := w.cloud.ResourceShares(region)
			if len(shares) != 1 || shares[0].AllowExternal {
				t.Fatalf("shares %+v", shares)
			}
			person := w.keys.AccessKey(owner).Identity
			if _, _, err := w.cloud.Call(person, "resourcesharing", "UpdateResourceShare", map[string]string{"RegionId": region,
				"ResourceShareId": shares[0].ID, "ResourceShareName": shares[0].Name, "AllowExternalTargets": "true"}); err != nil {
				t.Fatal(err)
			}
			n := len(w.cloud.Calls())
			w.run(api, nil)
			if got := !w.cloud.ResourceShares(region)[0].AllowExternal; got != tc.repaired {
				t.Fatalf("repaired = %v, want %v; calls %+v", got, tc.repaired, w.cloud.Calls()[n:])
			}
			var denials []string
			for _, c := range w.cloud.Calls()[n:] {
				if c.Denial != "" {
					denials = append(denials, c.Denial)
				}
			}
			if want := !tc.repaired; (len(denials) > 0) != want ||
				(want && !strings.HasPrefix(denials[0], "resourcesharing:UpdateResourceShare on *: ImplicitDeny")) {
				t.Fatalf("denials %q", denials)
			}
		})
	}
}
