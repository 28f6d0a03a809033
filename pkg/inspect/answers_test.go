package inspect

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"imageshare/pkg/apply"
	"imageshare/pkg/cloud"
	"imageshare/pkg/plan"
	"imageshare/pkg/settings"
	"imageshare/pkg/state"
)

// The answers of plan, explain and status, on a region observed by hand: the view is
// planned and dry-run exactly as Look does after observing (the observation itself is
// tested over the wire in cmd/imageshare).

const (
	owner   = "1000000000000001"
	mProd   = "1000000000000002" // in prod
	mSub    = "1000000000000003" // in sub, under prod
	mDev    = "1000000000000004" // in dev
	mLate   = "1000000000000009" // a member the observation did not read (GetAccount knows it)
	stray   = "2000000000000002" // outside, not allowed
	allowed = "2000000000000001" // outside, allowed
	rd      = "rd-Insp01"
	root    = "r-Insp01"
	prod    = "fd-Prod000001"
	sub     = "fd-Sub0000001"
	dev     = "fd-Dev0000001"
)

var t0 = time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)

func testSettings(t *testing.T, env map[string]string) settings.Settings {
	t.Helper()
	e := map[string]string{"ALLOWED_EXTERNAL_ACCOUNTS": allowed}
	for k, v := range env {
		e[k] = v
	}
	s, err := settings.Load(func(k string) string { return e[k] })
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func image(id, status string, tags map[string]string, direct ...string) state.Image {
	return state.Image{ID: id, OwnerAlias: "self", Status: status, Created: t0.Add(-time.Hour), Tags: tags, Direct: direct}
}

func associated(id, name string, targets []string, images ...string) state.Share {
	sh := state.Share{ID: id, Name: name, Created: t0.Add(-2 * time.Hour), Resources: map[string]state.Association{}, Targets: map[string]state.Association{}}
	for _, tg := range targets {
		sh.Targets[tg] = state.Association{Status: state.Associated, Updated: t0.Add(-time.Hour)}
	}
	for _, im := range images {
		sh.Resources[im] = state.Association{Status: state.Associated, Updated: t0.Add(-time.Hour)}
	}
	return sh
}

func region(images []state.Image, shares ...state.Share) *state.State {
	return &state.State{Region: "cn-hangzhou", Owner: owner, Now: t0, Images: images, Shares: shares,
		Directory: &state.Directory{ID: rd, RootID: root,
			Members: map[string]state.Member{
				mProd: {ID: mProd, Path: []string{rd, root, prod}},
				mSub:  {ID: mSub, Path: []string{rd, root, prod, sub}},
				mDev:  {ID: mDev, Path: []string{rd, root, dev}},
			},
			Folders: map[string][]string{prod: {root}, sub: {root, prod}, dev: {root}}}}
}

// viewOf plans st and dry-runs the plan, as Look does.
func viewOf(t *testing.T, st *state.State, set settings.Settings) *View {
	t.Helper()
	p := plan.Make(st, set)
	dry := set
	dry.DryRun = true
	out, err := (&apply.Applier{API: noCalls{}, Settings: dry}).Apply(context.Background(), st, p)
	if err != nil {
		t.Fatal(err)
	}
	return &View{Region: st.Region, Owner: st.Owner, State: st, Plan: p, Entries: out.Entries}
}

// noCalls fails every call: a dry run and the pure answers call nothing.
type noCalls struct{ cloud.API }

// members answers GetAccount for accounts the observation did not read.
type members struct {
	cloud.API
	paths map[string]string
}

func (m members) GetAccount(_ context.Context, id string) (cloud.Account, error) {
	if p, ok := m.paths[id]; ok {
		return cloud.Account{ID: id, Path: p + "/" + id}, nil
	}
	return cloud.Account{}, &cloud.Error{Code: "EntityNotExists.Account", HTTPStatus: 404}
}

func has(t *testing.T, what string, lines []string, wants ...string) {
	t.Helper()
	all := strings.Join(lines, "\n")
	for _, w := range wants {
		if !strings.Contains(all, w) {
			t.Errorf("%s lacks %q:\n%s", what, w, all)
		}
	}
}

// The golden image is tagged with prod and one account; it is shared directly with the
// tagged account, with a stray outsider, and with mSub, which prod is about to reach.
const golden = "m-Golden000001"

func goldenView(t *testing.T, set settings.Settings) *View {
	st := region([]state.Image{
		image(golden, state.Available, map[string]string{"imageshare:accounts": mDev, "imageshare:folders": prod}, mDev, stray, mSub),
		image("m-Frozen000001", state.Available, map[string]string{"imageshare:accounts": "12345"}, mProd),
		image("m-New000000001", state.Creating, map[string]string{"imageshare:accounts": mDev}),
		image("m-Plain0000001", state.Available, nil, mProd),
	}, associated("rs-hand", "golden-by-hand", []string{dev}, golden, "m-Plain0000001"))
	return viewOf(t, st, set)
}

func TestExplain(t *testing.T) {
	set := testSettings(t, nil)
	v := goldenView(t, set)
	cfg := Config{API: members{paths: map[string]string{mLate: rd + "/" + root + "/" + prod}}, Settings: set, Owner: owner}

	// The tagged account: shared directly and reached by a person's share.
	x, err := Explain(context.Background(), cfg, v, golden, mDev)
	if err != nil {
		t.Fatal(err)
	}
	if !x.Access || !x.Direct || !x.Member || x.Path != rd+"/"+root+"/"+dev+"/"+mDev || len(x.AccountTags) != 1 || len(x.Grants) != 1 || !x.Grants[0].Active {
		t.Fatalf("tagged member %+v", x)
	}
	has(t, "explain of the tagged member", x.Reasons, "has access to image "+golden+" now", "reached through resource share golden-by-hand (made by a person), target "+dev,
		"revoked once that share reads Associated (R7)", "After the next run it has access.")

	// The stray outsider: R3, its share goes.
	x, err = Explain(context.Background(), cfg, v, golden, stray)
	if err != nil {
		t.Fatal(err)
	}
	if !x.Access || x.After || x.Member || x.AllowedExternal {
		t.Fatalf("stray %+v", x)
	}
	has(t, "explain of the stray", x.Reasons, "not in ALLOWED_EXTERNAL_ACCOUNTS", "(R3)", "would no longer be shared directly with account "+stray,
		"After the next run it has no access.")

	// A member under prod the observation did not read: GetAccount places it, and the
	// share for prod the next run creates will reach it.
	x, err = Explain(context.Background(), cfg, v, golden, mLate)
	if err != nil {
		t.Fatal(err)
	}
	if x.Access || !x.Member || !x.After || len(x.FolderTags) != 1 || x.FolderTags[0].Token != prod {
		t.Fatalf("late member %+v", x)
	}
	has(t, "explain of the late member", x.Reasons, "Tag imageshare:folders names "+prod+", which holds the account",
		"would join resource share "+plan.ShareName([]string{prod})+" (targets "+prod+")", "once the new association reads Associated")

	// mSub: its direct share stays until prod's share reaches it (R6, R7).
	x, err = Explain(context.Background(), cfg, v, golden, mSub)
	if err != nil {
		t.Fatal(err)
	}
	if !x.Access || !x.After {
		t.Fatalf("sub-folder member %+v", x)
	}
	has(t, "explain of the sub-folder member", x.Reasons, "its direct share stays until the organization share reaches it")

	// The owner, an outsider nobody knows, errors.
	x, err = Explain(context.Background(), cfg, v, golden, owner)
	if err != nil || x.Access || x.After || !x.Owner {
		t.Fatalf("owner %+v %v", x, err)
	}
	has(t, "explain of the owner", x.Reasons, "owns image "+golden, "never shares an image with its owner (R3)")
	if x, err = Explain(context.Background(), cfg, v, golden, "2999999999999999"); err != nil || x.Member || x.Access {
		t.Fatalf("unknown outsider %+v %v", x, err)
	}
	if _, err := Explain(context.Background(), cfg, v, "m-Nope00000001", mDev); err == nil || !strings.Contains(err.Error(), "not found") {
		t.Fatalf("unknown image: %v", err)
	}
	if _, err := Explain(context.Background(), cfg, v, golden, "12345"); err == nil || !strings.Contains(err.Error(), "not an account ID") {
		t.Fatalf("bad account: %v", err)
	}

	// Frozen and unmanaged images change nothing and say why.
	x, _ = Explain(context.Background(), cfg, v, "m-Frozen000001", mProd)
	if !x.Frozen || !x.After || len(x.Next) != 0 {
		t.Fatalf("frozen image %+v", x)
	}
	has(t, "explain on a frozen image", x.Reasons, "left exactly as it is until they are fixed: 12345", "The next run changes nothing for this account.")
	x, _ = Explain(context.Background(), cfg, v, "m-Plain0000001", mProd)
	if x.Managed || !x.After {
		t.Fatalf("unmanaged image %+v", x)
	}
	has(t, "explain on an unmanaged image", x.Reasons, "carries no imageshare tags")
}

func TestSummarize(t *testing.T) {
	set := testSettings(t, nil)
	v := goldenView(t, set)
	s, err := Summarize(Config{Settings: set, Owner: owner}, v, golden)
	if err != nil {
		t.Fatal(err)
	}
	why := map[string]string{}
	for _, l := range s.Accounts {
		why[l.Account] = l.Why
	}
	want := map[string]string{
		mDev:  "unshare (redundant via golden-by-hand/fd-Dev0000001)",
		stray: "unshare (untagged) — awaiting confirmation (R12)",
		mSub:  "kept until the organization share on its way reaches it; then revoked as redundant (R7)",
	}
	for a, w := range want {
		if why[a] != w {
			t.Errorf("%s: why %q, want %q", a, why[a], w)
		}
	}
	if len(s.Accounts) != len(want) || len(s.Shares) != 1 || s.Shares[0].Name != "golden-by-hand" || s.Shares[0].Targets[dev] != state.Associated {
		t.Errorf("summary %+v", s)
	}
	if _, err := Summarize(Config{Settings: set}, v, "m-Nope00000001"); err == nil {
		t.Error("an unknown image was summarized")
	}
}

func TestStatusOf(t *testing.T) {
	set := testSettings(t, nil)
	v := goldenView(t, set)
	s := StatusOf(Config{Settings: set, Owner: owner}, v)
	if s.Images != 4 || s.Managed != 3 || s.Frozen != 1 || s.ByStatus[state.Available] != 3 || s.ByStatus[state.Creating] != 1 {
		t.Errorf("image counts %+v", s)
	}
	if s.DirectShares != 5 || s.DirectImages != 3 {
		t.Errorf("direct shares %d on %d images, want 5 on 3", s.DirectShares, s.DirectImages)
	}
	if s.Pending != len(v.Changes()) || s.Pending == 0 {
		t.Errorf("pending %d, changes %d", s.Pending, len(v.Changes()))
	}
	var refused []string
	for _, r := range s.Refusals {
		refused = append(refused, r.Image+" "+r.Subject)
	}
	slices.Sort(refused)
	if want := []string{"m-Frozen000001 12345"}; !slices.Equal(refused, want) {
		t.Errorf("refusals %v, want %v", refused, want)
	}
	if len(s.Postponed) != 1 || s.Postponed[0].Image != "m-New000000001" || s.Postponed[0].Status != state.Creating || s.Postponed[0].Created == "" {
		t.Errorf("postponed %+v", s.Postponed)
	}
	if len(s.Shares) != 1 || s.Shares[0].Managed || s.Shares[0].Images != 2 || s.ManagedShares() != 0 {
		t.Errorf("shares %+v", s.Shares)
	}

	// Managed shares are listed first, with their images and those on the move.
	st := region([]state.Image{image("m-A", state.Available, map[string]string{"imageshare:folders": prod})},
		associated("rs-hand", "a-hand-made-share", []string{dev}),
		func() state.Share {
			sh := associated("rs-m", plan.ShareName([]string{prod}), []string{prod}, "m-A")
			sh.Resources["m-B"] = state.Association{Status: state.Associating}
			return sh
		}())
	s = StatusOf(Config{Settings: set, Owner: owner}, viewOf(t, st, set))
	if len(s.Shares) != 2 || !s.Shares[0].Managed || s.Shares[0].Images != 1 || s.Shares[0].Moving != 1 || s.ManagedShares() != 1 {
		t.Errorf("shares %+v", s.Shares)
	}
}

// TestOverlay: imagined tag edits apply to the images named, and only to them.
func TestOverlay(t *testing.T) {
	api := pages{images: []cloud.Image{{ID: "m-A", Tags: map[string]string{"imageshare:accounts": mDev, "x": "1"}}, {ID: "m-B", Tags: map[string]string{"x": "1"}}}}
	o := &overlay{API: api, images: []string{"m-A"}, set: map[string]string{"imageshare:folders": prod}, unset: []string{"x"}}
	p, err := o.DescribeImages(context.Background(), cloud.DescribeImagesInput{})
	if err != nil {
		t.Fatal(err)
	}
	if a := p.Images[0].Tags; len(a) != 2 || a["imageshare:folders"] != prod || a["imageshare:accounts"] != mDev {
		t.Errorf("m-A tags %v", a)
	}
	if b := p.Images[1].Tags; len(b) != 1 || b["x"] != "1" {
		t.Errorf("m-B tags %v", b)
	}
	if api.images[0].Tags["x"] != "1" {
		t.Error("the overlay changed the cloud's answer in place")
	}
}

type pages struct {
	cloud.API
	images []cloud.Image
}

func (p pages) DescribeImages(context.Context, cloud.DescribeImagesInput) (cloud.ImagePage, error) {
	out := make([]cloud.Image, len(p.images))
	copy(out, p.images)
	return cloud.ImagePage{Images: out, Total: len(out)}, nil
}

func (p pages) ListAccounts(context.Context, int) (cloud.AccountPage, error) {
	return cloud.AccountPage{Accounts: []cloud.Account{{ID: mProd}, {ID: mDev}}, Total: 2}, nil
}

func TestCounter(t *testing.T) {
	c := NewCounter(pages{images: []cloud.Image{{ID: "m-A"}, {ID: "m-B"}, {ID: "m-C"}}})
	ctx := context.Background()
	for i := 0; i < 2; i++ {
		if _, err := c.DescribeImages(ctx, cloud.DescribeImagesInput{}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.ListAccounts(ctx, 1); err != nil {
		t.Fatal(err)
	}
	p := c.Snapshot()
	if p.Calls != 3 || p.Images != 6 || p.Accounts != 2 || p.ShareLists != 0 {
		t.Errorf("progress %+v", p)
	}
}

func TestLookRefusesBadRequests(t *testing.T) {
	set := testSettings(t, nil)
	if _, err := Look(context.Background(), Config{API: noCalls{}, Settings: set, Owner: owner}, Request{}); err == nil || !strings.Contains(err.Error(), "no region") {
		t.Errorf("no region: %v", err)
	}
	_, err := Look(context.Background(), Config{API: noCalls{}, Settings: set, Owner: owner},
		Request{Region: "cn-hangzhou", Set: map[string]string{"imageshare:accounts": mDev}})
	if err == nil || !strings.Contains(err.Error(), "need the images") {
		t.Errorf("tag edits without images: %v", err)
	}
}
