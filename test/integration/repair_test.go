package integration

import (
	"testing"

	"imageshare/pkg/cloudsim/emu"
	"imageshare/pkg/plan"
)

// TestRepairAllowExternalTargets: a person opens a managed share to external targets;
// the next run sets AllowExternalTargets back to false through UpdateResourceShare,
// which requires ResourceShareName — the share keeps its managed name.
func TestRepairAllowExternalTargets(t *testing.T) {
	w := newWorld(t, emu.Faults{}, nil)
	w.image("m-1", map[string]string{"imageshare:folders": prod})
	api := w.api()
	w.converge(api, nil)
	name := plan.ShareName([]string{prod})
	shares := w.cloud.ResourceShares(region)
	if len(shares) != 1 || shares[0].Name != name {
		t.Fatalf("shares = %+v", shares)
	}
	person := emu.Identity{AccountID: owner, Type: "root-account", PrincipalID: owner}
	if _, _, err := w.cloud.Call(person, "resourcesharing", "UpdateResourceShare", map[string]string{"RegionId": region,
		"ResourceShareId": shares[0].ID, "ResourceShareName": name, "AllowExternalTargets": "true"}); err != nil {
		t.Fatal(err)
	}
	since := len(w.cloud.Calls())
	w.converge(api, nil)
	if got := w.writes(since); got["UpdateResourceShare"] != 1 {
		t.Fatalf("writes = %v, want one UpdateResourceShare", got)
	}
	s := w.cloud.ResourceShares(region)[0]
	if s.AllowExternal || s.Name != name {
		t.Fatalf("after the repair: %+v", s)
	}
}
