package plan

import (
	"slices"
	"testing"

	"imageshare/pkg/settings"
)

// TestDefaultEmptyAllowListRefusesOutsiders is R3 with the deployed default: with
// ALLOWED_EXTERNAL_ACCOUNTS unset, an account outside the directory is refused and not
// shared, an existing direct share to one is revoked in exact mode and kept (reported)
// in additive mode, while members are shared as usual.
func TestDefaultEmptyAllowListRefusesOutsiders(t *testing.T) {
	set, err := settings.Load(func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	if len(set.AllowedExternal) != 0 || set.Allowed(ext) || set.Allowed(out) {
		t.Fatalf("the default allow-list must be empty and allow nobody: %v", set.AllowedExternal)
	}
	st := testState(
		img("m-Exact", map[string]string{"imageshare:accounts": m2 + "," + ext}, out),
		img("m-Additive", map[string]string{"imageshare:accounts": m2, "imageshare:mode": "additive"}, out),
	)
	p := Make(st, set)
	exact := p.Image("m-Exact")
	if !slices.Equal(exact.Share, []string{m2}) {
		t.Fatalf("exact image shares %v, want only the member %s\n%s", exact.Share, m2, p)
	}
	// R12: the removal waits for a second look at the same tags.
	if len(exact.Unshare) != 0 || len(exact.Confirm) != 1 || exact.Confirm[0].Subject != out || exact.Confirm[0].Why != WhyUntagged {
		t.Fatalf("exact image: the outsider's direct share no tag names must go (after confirmation): unshare %+v, confirm %+v", exact.Unshare, exact.Confirm)
	}
	if len(exact.Refusals) != 1 || exact.Refusals[0].Subject != ext || exact.Refusals[0].Reason != ReasonNotAllowed {
		t.Fatalf("exact image: the tagged outsider must be refused as not allowed: %+v", exact.Refusals)
	}
	add := p.Image("m-Additive")
	if len(add.Unshare) != 0 || !slices.Equal(add.Share, []string{m2}) {
		t.Fatalf("additive image keeps the outsider's share and adds the member: %s", p)
	}
	if len(add.Refusals) != 1 || add.Refusals[0].Subject != out || add.Refusals[0].Reason != ReasonNotAllowed {
		t.Fatalf("additive image: the kept outsider share must be reported: %+v", add.Refusals)
	}
	// The refused account is not reached by anything else: nothing shares with it.
	for _, ip := range p.Images {
		if slices.Contains(ip.Share, ext) || slices.Contains(ip.Share, out) || slices.Contains(ip.Deferred, ext) {
			t.Fatalf("%s: an outsider is shared although the allow-list is empty\n%s", ip.Image, p)
		}
	}
}
