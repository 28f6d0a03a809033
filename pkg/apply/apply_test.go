package apply

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"imageshare/pkg/cloud"
	"imageshare/pkg/plan"
	"imageshare/pkg/settings"
	"imageshare/pkg/state"
)

// fakeAPI records write calls and fails them by rule. It is a pure unit fake: the
// applier's tests through the real SDK and the emulated cloud live in test/.
type fakeAPI struct {
	cloud.API
	calls []string
	// fail returns the error for a call, or nil.
	fail func(call string, attempt int) error
	seen map[string]int
}

func (f *fakeAPI) do(call string) error {
	f.calls = append(f.calls, call)
	if f.seen == nil {
		f.seen = map[string]int{}
	}
	f.seen[call]++
	if f.fail != nil {
		return f.fail(call, f.seen[call])
	}
	return nil
}

func (f *fakeAPI) ModifyImageSharePermission(_ context.Context, region, image string, add, remove []string) (cloud.Result, error) {
	return cloud.Result{RequestID: "R"}, f.do(fmt.Sprintf("Modify %s add=%s remove=%s", image, strings.Join(add, ","), strings.Join(remove, ",")))
}

func (f *fakeAPI) CreateResourceShare(_ context.Context, region, name string, res, tg []string) (cloud.ShareInfo, cloud.Result, error) {
	err := f.do(fmt.Sprintf("Create %s res=%s targets=%s", name[:14], strings.Join(res, ","), strings.Join(tg, ",")))
	return cloud.ShareInfo{ID: "rs-new", Name: name}, cloud.Result{RequestID: "R"}, err
}

func (f *fakeAPI) AssociateResourceShare(_ context.Context, region, id string, res, tg []string) (cloud.Result, error) {
	return cloud.Result{}, f.do(fmt.Sprintf("Associate %s res=%s targets=%s", id, strings.Join(res, ","), strings.Join(tg, ",")))
}

func (f *fakeAPI) DisassociateResourceShare(_ context.Context, region, id string, res, tg []string) (cloud.Result, error) {
	return cloud.Result{}, f.do(fmt.Sprintf("Disassociate %s res=%s targets=%s", id, strings.Join(res, ","), strings.Join(tg, ",")))
}

func (f *fakeAPI) UpdateResourceShare(_ context.Context, region, id, name string, ext bool) (cloud.Result, error) {
	return cloud.Result{}, f.do(fmt.Sprintf("Update %s name=%s external=%v", id, name, ext))
}

func (f *fakeAPI) DeleteResourceShare(_ context.Context, region, id string) (cloud.Result, error) {
	return cloud.Result{}, f.do("Delete " + id)
}

func (f *fakeAPI) TagResources(_ context.Context, region string, images []string, tags map[string]string) (cloud.Result, error) {
	return cloud.Result{}, f.do("Tag " + strings.Join(images, ","))
}

func testApplier(t *testing.T, api cloud.API, env map[string]string) (*Applier, *[]time.Duration) {
	t.Helper()
	e := map[string]string{"RETRY_BASE": "100ms", "RETRY_MAX": "1s"}
	for k, v := range env {
		e[k] = v
	}
	s, err := settings.Load(func(k string) string { return e[k] })
	if err != nil {
		t.Fatal(err)
	}
	var sleeps []time.Duration
	return &Applier{API: api, Settings: s, Jitter: func() float64 { return 0.5 },
		Sleep: func(_ context.Context, d time.Duration) error { sleeps = append(sleeps, d); return nil }}, &sleeps
}

var st = &state.State{Region: "cn-hangzhou", Owner: "1000000000000001"}

func accounts(n int) []string {
	var out []string
	for i := 0; i < n; i++ {
		out = append(out, fmt.Sprintf("10000000000001%02d", i))
	}
	return out
}

func entries(out *Outcome, action string) []string {
	var r []string
	for _, e := range out.Entries {
		if e.Action == action {
			r = append(r, e.Image+"|"+e.Subject+"|"+e.Reason)
		}
	}
	return r
}

func TestNarrowingToTheBadAccount(t *testing.T) {
	all := accounts(12)
	bad := all[6]
	api := &fakeAPI{fail: func(call string, _ int) error {
		if strings.HasPrefix(call, "Modify") && strings.Contains(call, bad) {
			return &cloud.Error{Code: "InvalidAccount.NotFound", HTTPStatus: 404}
		}
		return nil
	}}
	a, _ := testApplier(t, api, nil)
	out, err := a.Apply(context.Background(), st, &plan.Plan{Region: "cn-hangzhou", Images: []plan.ImagePlan{{Image: "m-1", Share: all}}})
	if err != nil {
		t.Fatal(err)
	}
	if got := entries(out, "refuse"); len(got) != 1 || !strings.HasPrefix(got[0], "m-1|"+bad+"|InvalidAccount.NotFound") {
		t.Fatalf("refusals %v", got)
	}
	if n := len(entries(out, "share")); n != 11 {
		t.Fatalf("shared %d, want 11; calls:\n%s", n, strings.Join(api.calls, "\n"))
	}
	// 10 at once, then halves 5/5, the bad half 2/3, then 1/2 … never more than 10 per call.
	for _, c := range api.calls {
		if n := strings.Count(c, ",") + 1; n > 10 {
			t.Fatalf("call with %d accounts: %s", n, c)
		}
	}
}

func TestRetryBackoffAndGiveUp(t *testing.T) {
	api := &fakeAPI{fail: func(call string, attempt int) error {
		if attempt <= 2 {
			return &cloud.Error{Code: "Throttling.User", HTTPStatus: 400}
		}
		return nil
	}}
	a, sleeps := testApplier(t, api, nil)
	out, err := a.Apply(context.Background(), st, &plan.Plan{Images: []plan.ImagePlan{{Image: "m-1", Share: accounts(1)}}})
	if err != nil || len(entries(out, "share")) != 1 {
		t.Fatalf("%v %+v", err, out)
	}
	// Equal jitter at 0.5: 3/4 of 100ms, then of 200ms.
	if fmt.Sprint(*sleeps) != "[75ms 150ms]" {
		t.Fatalf("sleeps %v", *sleeps)
	}
	api = &fakeAPI{fail: func(string, int) error { return &cloud.Error{Code: "ServiceUnavailable", HTTPStatus: 503} }}
	a, sleeps = testApplier(t, api, nil)
	_, err = a.Apply(context.Background(), st, &plan.Plan{Images: []plan.ImagePlan{{Image: "m-1", Share: accounts(1)}}})
	if err == nil || !strings.Contains(err.Error(), "gave up") {
		t.Fatalf("want give-up error, got %v", err)
	}
	// 100, 200, 400, 800 ms; the next (1.6s) is over RETRY_MAX.
	if len(*sleeps) != 4 || len(api.calls) != 5 {
		t.Fatalf("sleeps %v calls %d", *sleeps, len(api.calls))
	}
}

func TestOrderMakeBeforeBreak(t *testing.T) {
	api := &fakeAPI{}
	a, _ := testApplier(t, api, nil)
	p := &plan.Plan{Region: "cn-hangzhou", Images: []plan.ImagePlan{{
		Image: "m-1", Share: accounts(1), Unshare: []plan.Unshare{{Account: accounts(2)[1], Why: plan.WhyUntagged}},
		Associate: []plan.ShareRef{{ID: "rs-new", Name: "imageshare-new"}}, Disassociate: []plan.ShareRef{{ID: "rs-old", Name: "imageshare-old"}},
	}}, Shares: []plan.ShareOp{{Op: plan.OpRemoveTargets, Share: plan.ShareRef{ID: "rs-new", Name: "imageshare-new"}, Targets: []string{"fd-Extra00001"}}}}
	if _, err := a.Apply(context.Background(), st, p); err != nil {
		t.Fatal(err)
	}
	want := []string{
		"Associate rs-new res=m-1 targets=",
		"Modify m-1 add= remove=" + accounts(2)[1],
		"Modify m-1 add=" + accounts(1)[0] + " remove=",
		"Disassociate rs-old res=m-1 targets=",
		"Disassociate rs-new res= targets=fd-Extra00001",
	}
	if !slices.Equal(api.calls, want) {
		t.Fatalf("calls:\n%s\nwant:\n%s", strings.Join(api.calls, "\n"), strings.Join(want, "\n"))
	}
}

func TestNoBreakWhenMakeFailed(t *testing.T) {
	api := &fakeAPI{fail: func(call string, _ int) error {
		if strings.Contains(call, "add=1") {
			return &cloud.Error{Code: "AssumeRoleError", HTTPStatus: 403}
		}
		return nil
	}}
	a, _ := testApplier(t, api, nil)
	p := &plan.Plan{Images: []plan.ImagePlan{{Image: "m-1", Share: accounts(1), Disassociate: []plan.ShareRef{{ID: "rs-old", Name: "imageshare-old"}}}}}
	out, err := a.Apply(context.Background(), st, p)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range api.calls {
		if strings.HasPrefix(c, "Disassociate") {
			t.Fatalf("broke although the make failed: %v", api.calls)
		}
	}
	if r := entries(out, "refuse"); len(r) != 1 || !strings.Contains(r[0], "AssumeRoleError") {
		t.Fatalf("refusals %v", r)
	}
	if !strings.Contains(out.Entries[0].Message, "AliyunECSShareEncryptImageDefaultRole") {
		t.Fatalf("remedy missing: %q", out.Entries[0].Message)
	}
}

// A duplicate of the share the image stays in (same name, R4) is merged even when the
// image's adds were refused: leaving it takes no access away. A leave to another share
// still waits for the make.
func TestMergeWhenMakeFailed(t *testing.T) {
	api := &fakeAPI{fail: func(call string, _ int) error {
		if strings.Contains(call, "add=1") {
			return &cloud.Error{Code: "Forbidden.RAM", HTTPStatus: 403}
		}
		return nil
	}}
	a, _ := testApplier(t, api, nil)
	p := &plan.Plan{Images: []plan.ImagePlan{{Image: "m-1", Share: accounts(1), Disassociate: []plan.ShareRef{
		{ID: "rs-dup", Name: "imageshare-same", Merge: true}, {ID: "rs-old", Name: "imageshare-old"}}}}}
	if _, err := a.Apply(context.Background(), st, p); err != nil {
		t.Fatal(err)
	}
	var leaves []string
	for _, c := range api.calls {
		if strings.HasPrefix(c, "Disassociate") {
			leaves = append(leaves, c)
		}
	}
	if !slices.Equal(leaves, []string{"Disassociate rs-dup res=m-1 targets="}) {
		t.Fatalf("leaves %q, want only the merge of rs-dup", leaves)
	}
}

func TestWholeRunErrorStopsResourceSharing(t *testing.T) {
	api := &fakeAPI{fail: func(call string, _ int) error {
		if strings.HasPrefix(call, "Create") {
			return &cloud.Error{Code: "NotEnableSharingWithResourceDirectory", HTTPStatus: 409}
		}
		return nil
	}}
	a, _ := testApplier(t, api, nil)
	name := plan.ShareName([]string{"fd-Prod000001"})
	p := &plan.Plan{Shares: []plan.ShareOp{
		{Op: plan.OpCreate, Share: plan.ShareRef{Name: name}, Targets: []string{"fd-Prod000001"}, Resources: []string{"m-1"}},
		{Op: plan.OpAddTargets, Share: plan.ShareRef{ID: "rs-2", Name: "imageshare-x"}, Targets: []string{"fd-Dev0000001"}},
	}, Images: []plan.ImagePlan{{Image: "m-1", Share: accounts(1), Associate: []plan.ShareRef{{Name: name}}}}}
	out, err := a.Apply(context.Background(), st, p)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"Create " + name[:14] + " res=m-1 targets=fd-Prod000001", "Modify m-1 add=" + accounts(1)[0] + " remove="}
	if !slices.Equal(api.calls, want) {
		t.Fatalf("calls %v", api.calls)
	}
	if r := entries(out, "refuse"); len(r) != 1 || !strings.Contains(r[0], "NotEnableSharingWithResourceDirectory") {
		t.Fatalf("one whole-run refusal expected: %v", r)
	}
}

func TestCreateSplitsBatches(t *testing.T) {
	api := &fakeAPI{}
	a, _ := testApplier(t, api, nil)
	var imgs []string
	for i := 0; i < 7; i++ {
		imgs = append(imgs, fmt.Sprintf("m-%d", i))
	}
	targets := []string{"fd-A000000001", "fd-A000000002", "fd-A000000003", "fd-A000000004", "fd-A000000005", "fd-A000000006"}
	name := plan.ShareName(targets)
	out, err := a.Apply(context.Background(), st, &plan.Plan{Shares: []plan.ShareOp{{Op: plan.OpCreate, Share: plan.ShareRef{Name: name}, Targets: targets, Resources: imgs}}})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"Create " + name[:14] + " res=m-0,m-1,m-2,m-3,m-4 targets=" + strings.Join(targets[:5], ","),
		"Associate rs-new res= targets=fd-A000000006",
		"Associate rs-new res=m-5,m-6 targets=",
	}
	if !slices.Equal(api.calls, want) {
		t.Fatalf("calls:\n%s", strings.Join(api.calls, "\n"))
	}
	if len(out.Recheck) != 7 {
		t.Fatalf("every image of a new share is rechecked: %v", out.Recheck)
	}
}

func TestInvalidTargetNarrowed(t *testing.T) {
	api := &fakeAPI{fail: func(call string, _ int) error {
		if strings.Contains(call, "fd-Gone000001") {
			return &cloud.Error{Code: "InvalidTarget", HTTPStatus: 400}
		}
		return nil
	}}
	a, _ := testApplier(t, api, nil)
	targets := []string{"fd-Gone000001", "fd-Ok00000001"}
	name := plan.ShareName(targets)
	out, err := a.Apply(context.Background(), st, &plan.Plan{Shares: []plan.ShareOp{{Op: plan.OpCreate, Share: plan.ShareRef{Name: name}, Targets: targets, Resources: []string{"m-1"}}}})
	if err != nil {
		t.Fatal(err)
	}
	if r := entries(out, "refuse"); len(r) != 1 || !strings.HasPrefix(r[0], "m-1|fd-Gone000001|InvalidTarget") {
		t.Fatalf("refusals %v\ncalls %v", r, api.calls)
	}
	if !slices.Contains(api.calls, "Associate rs-new res= targets=fd-Ok00000001") {
		t.Fatalf("the good target must still be added: %v", api.calls)
	}
}

func TestDryRunWritesNothing(t *testing.T) {
	api := &fakeAPI{}
	a, _ := testApplier(t, api, map[string]string{"DRY_RUN": "true"})
	p := &plan.Plan{Images: []plan.ImagePlan{{Image: "m-1", Share: accounts(3), Unshare: []plan.Unshare{{Account: "2000000000000001", Why: "untagged"}}}}}
	out, err := a.Apply(context.Background(), st, p)
	if err != nil || len(api.calls) != 0 {
		t.Fatalf("dry run called %v (%v)", api.calls, err)
	}
	if len(out.Entries) != 4 || !out.Entries[0].DryRun {
		t.Fatalf("dry run reports every change: %+v", out.Entries)
	}
}

func TestGoneImageIsNoOp(t *testing.T) {
	api := &fakeAPI{fail: func(string, int) error { return &cloud.Error{Code: "InvalidImageId.NotFound", HTTPStatus: 404} }}
	a, _ := testApplier(t, api, nil)
	out, err := a.Apply(context.Background(), st, &plan.Plan{Images: []plan.ImagePlan{{Image: "m-1", Share: accounts(2), Unshare: []plan.Unshare{{Account: accounts(3)[2]}}}}})
	if err != nil || len(out.Entries) != 0 || len(api.calls) != 1 {
		t.Fatalf("gone image: %v %+v %v", err, out.Entries, api.calls)
	}
}

// A whole-run error is a refusal of each image concerned (subject "" for whole-run
// errors), including the images whose writes it stopped; and since nothing of theirs
// moves, none of them is re-checked in a chain that would only repeat the refusal.
func TestWholeRunErrorRefusesEachImageWithoutRecheck(t *testing.T) {
	api := &fakeAPI{fail: func(call string, _ int) error {
		if strings.HasPrefix(call, "Create") {
			return &cloud.Error{Code: "NotEnableSharingWithResourceDirectory", HTTPStatus: 409}
		}
		return nil
	}}
	a, _ := testApplier(t, api, nil)
	prod, dev := plan.ShareName([]string{"fd-Prod000001"}), plan.ShareName([]string{"fd-Dev0000001"})
	moving := &state.State{Region: "cn-hangzhou", Owner: "1000000000000001", Shares: []state.Share{{ID: "rs-old", Name: "golden",
		Resources: map[string]state.Association{"m-3": {Status: state.Associating}}, Targets: map[string]state.Association{}}}}
	p := &plan.Plan{Shares: []plan.ShareOp{
		{Op: plan.OpCreate, Share: plan.ShareRef{Name: prod}, Targets: []string{"fd-Prod000001"}, Resources: []string{"m-1"}},
		{Op: plan.OpCreate, Share: plan.ShareRef{Name: dev}, Targets: []string{"fd-Dev0000001"}, Resources: []string{"m-2", "m-3"}},
	}, Images: []plan.ImagePlan{
		{Image: "m-1", Associate: []plan.ShareRef{{Name: prod}}, Recheck: true},
		{Image: "m-2", Associate: []plan.ShareRef{{Name: dev}}, Recheck: true},
		{Image: "m-3", Associate: []plan.ShareRef{{Name: dev}}, Recheck: true}, // also in transition elsewhere
	}}
	out, err := a.Apply(context.Background(), moving, p)
	if err != nil {
		t.Fatal(err)
	}
	if len(api.calls) != 1 {
		t.Fatalf("a whole-run error must stop further Resource Sharing writes: %v", api.calls)
	}
	got := entries(out, "refuse")
	want := []string{"m-1||NotEnableSharingWithResourceDirectory", "m-2||NotEnableSharingWithResourceDirectory", "m-3||NotEnableSharingWithResourceDirectory"}
	if !slices.Equal(got, want) {
		t.Fatalf("refusals %v, want %v", got, want)
	}
	if !slices.Equal(out.Recheck, []string{"m-3"}) {
		t.Fatalf("re-checks %v: only the image with an association in transition", out.Recheck)
	}
}

// TestRepairKeepsTheShareName: UpdateResourceShare requires ResourceShareName (it would
// rename the share): the repair of AllowExternalTargets sends the managed name.
func TestRepairKeepsTheShareName(t *testing.T) {
	api := &fakeAPI{}
	a, _ := testApplier(t, api, nil)
	name := "imageshare-0123456789abcdef0123456789abcdef"
	out, err := a.Apply(context.Background(), st, &plan.Plan{Region: "cn-hangzhou",
		Shares: []plan.ShareOp{{Op: plan.OpSetInternal, Share: plan.ShareRef{ID: "rs-1", Name: name}}}})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"Update rs-1 name=" + name + " external=false"}; !slices.Equal(api.calls, want) {
		t.Fatalf("calls = %q, want %q", api.calls, want)
	}
	if got := entries(out, "repair"); len(got) != 1 {
		t.Fatalf("repair entries = %v", got)
	}
}
