package apply

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"imageshare/pkg/cloud"
	"imageshare/pkg/plan"
)

// Deferred accounts (coverage on its way will reach them) are shared directly only
// when the cloud refuses the image's Resource Sharing writes: otherwise a refused
// organization share would leave them without access the tags ask for.
func TestDeferredSharedOnlyWhenTheOrganizationShareIsRefused(t *testing.T) {
	name := plan.ShareName([]string{"fd-Prod000001"})
	mk := func() *plan.Plan {
		return &plan.Plan{Shares: []plan.ShareOp{
			{Op: plan.OpCreate, Share: plan.ShareRef{Name: name}, Targets: []string{"fd-Prod000001"}, Resources: []string{"m-1"}},
		}, Images: []plan.ImagePlan{{Image: "m-1", Share: accounts(1), Deferred: accounts(3)[1:], Associate: []plan.ShareRef{{Name: name}}, Recheck: true}}}
	}
	create := "Create " + name[:14] + " res=m-1 targets=fd-Prod000001"

	api := &fakeAPI{}
	a, _ := testApplier(t, api, nil)
	if _, err := a.Apply(context.Background(), st, mk()); err != nil {
		t.Fatal(err)
	}
	if want := []string{create, "Modify m-1 add=" + accounts(1)[0] + " remove="}; !slices.Equal(api.calls, want) {
		t.Fatalf("the share is created: deferred accounts wait for it\ncalls %v\nwant  %v", api.calls, want)
	}

	for _, code := range []string{"NotEnableSharingWithResourceDirectory", "NoPermission"} {
		api = &fakeAPI{fail: func(call string, _ int) error {
			if strings.HasPrefix(call, "Create") {
				return &cloud.Error{Code: code, HTTPStatus: 409}
			}
			return nil
		}}
		a, _ = testApplier(t, api, nil)
		out, err := a.Apply(context.Background(), st, mk())
		if err != nil {
			t.Fatal(err)
		}
		want := []string{create, "Modify m-1 add=" + accounts(1)[0] + " remove=", "Modify m-1 add=" + strings.Join(accounts(3)[1:], ",") + " remove="}
		if !slices.Equal(api.calls, want) {
			t.Fatalf("%s: the share is refused, so the deferred accounts are shared directly\ncalls %v\nwant  %v", code, api.calls, want)
		}
		if n := len(entries(out, "share")); n != 3 {
			t.Fatalf("%s: %d shares reported, want 3", code, n)
		}
	}
}

// listingAPI adds ListResourceShares to fakeAPI: the shares its creates made.
type listingAPI struct {
	*fakeAPI
	made []cloud.ShareInfo
}

func (l *listingAPI) CreateResourceShare(ctx context.Context, region, name string, res, tg []string) (cloud.ShareInfo, cloud.Result, error) {
	info, result, err := l.fakeAPI.CreateResourceShare(ctx, region, name, res, tg)
	if err == nil || cloud.Code(err) == "ServiceUnavailable" {
		// A server error after the write: the share exists all the same.
		info.ID = fmt.Sprintf("rs-%d", len(l.made)+1)
		l.made = append(l.made, cloud.ShareInfo{ID: info.ID, Name: name, Status: "Active"})
	}
	return info, result, err
}

func (l *listingAPI) ListResourceShares(_ context.Context, region, token string) (cloud.SharePage, error) {
	l.calls = append(l.calls, "List")
	return cloud.SharePage{Shares: l.made}, nil
}

// CreateResourceShare has no idempotency token: when a server error answers a create
// that took effect, the retry finds the share instead of making a duplicate (which
// would count against MAX_MANAGED_SHARES until merged), and associates the targets and
// images in case the first attempt had not (found by the guardrail audit).
func TestCreateRetryDoesNotDuplicate(t *testing.T) {
	api := &listingAPI{fakeAPI: &fakeAPI{fail: func(call string, attempt int) error {
		if strings.HasPrefix(call, "Create") && attempt == 1 {
			return &cloud.Error{Code: "ServiceUnavailable", HTTPStatus: 503}
		}
		return nil
	}}}
	a, _ := testApplier(t, api, nil)
	name := plan.ShareName([]string{"fd-Prod000001"})
	p := &plan.Plan{Shares: []plan.ShareOp{
		{Op: plan.OpCreate, Share: plan.ShareRef{Name: name}, Targets: []string{"fd-Prod000001"}, Resources: []string{"m-1"}},
	}, Images: []plan.ImagePlan{{Image: "m-1", Associate: []plan.ShareRef{{Name: name}}}}}
	if _, err := a.Apply(context.Background(), st, p); err != nil {
		t.Fatal(err)
	}
	if len(api.made) != 1 {
		t.Fatalf("%d shares made, want 1; calls %v", len(api.made), api.calls)
	}
	want := []string{"Create " + name[:14] + " res=m-1 targets=fd-Prod000001", "List",
		"Associate rs-1 res= targets=fd-Prod000001", "Associate rs-1 res=m-1 targets="}
	if !slices.Equal(api.calls, want) {
		t.Fatalf("calls %v\nwant  %v", api.calls, want)
	}
}
