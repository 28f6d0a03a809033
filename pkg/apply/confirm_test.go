package apply

import (
	"context"
	"slices"
	"testing"

	"imageshare/pkg/cloud"
	"imageshare/pkg/plan"
	"imageshare/pkg/state"
)

const fp = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"

// R12: removals awaiting confirmation are not applied; the outcome hands them to a
// confirming job with the fingerprint, and confirmed leaves held back by make before
// break to the chain's re-checks. The rest of the plan is applied at once.
func TestAwaitingRemovalsAreNotApplied(t *testing.T) {
	api := &fakeAPI{}
	a, _ := testApplier(t, api, nil)
	p := &plan.Plan{Region: "cn-hangzhou", Images: []plan.ImagePlan{
		{Image: "m-1", Managed: true, Fingerprint: fp, Share: []string{"1000000000000002"},
			Unshare: []plan.Unshare{{Account: "1000000000000005", Why: plan.WhyRedundant, Via: "golden/fd-Prod000001"}},
			Confirm: []plan.Removal{{Action: plan.ActUnshare, Subject: "1000000000000004", Why: plan.WhyUntagged},
				{Action: plan.ActDisassociate, Subject: "imageshare-00000000000000000000000000000001", ShareID: "rs-old"}}},
		{Image: "m-2", Managed: true, Fingerprint: fp, Recheck: true, Held: []string{"imageshare-00000000000000000000000000000002"}},
		{Image: "m-3", Managed: true, Fingerprint: fp, Held: []string{"imageshare-00000000000000000000000000000003"}},
	}}
	out, err := a.Apply(context.Background(), st, p)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"Modify m-1 add= remove=1000000000000005", "Modify m-1 add=1000000000000002 remove="}
	if !slices.Equal(api.calls, want) {
		t.Fatalf("calls %q, want %q", api.calls, want)
	}
	if c := out.Confirm["m-1"]; c.Fingerprint != fp || !slices.Equal(c.Removals, []string{"1000000000000004", "imageshare-00000000000000000000000000000001"}) || len(out.Confirm) != 1 {
		t.Fatalf("confirm %+v", out.Confirm)
	}
	// m-3 is held but nothing re-checks it: the chain has nothing to carry it on.
	if h := out.Held["m-2"]; h.Fingerprint != fp || len(out.Held) != 1 {
		t.Fatalf("held %+v", out.Held)
	}
}

// Under DRY_RUN a first look reports its removals as unshare/disassociate "after
// confirmation" and hands nothing on.
func TestDryRunReportsAfterConfirmation(t *testing.T) {
	api := &fakeAPI{}
	a, _ := testApplier(t, api, map[string]string{"DRY_RUN": "true"})
	p := &plan.Plan{Region: "cn-hangzhou", Images: []plan.ImagePlan{{Image: "m-1", Managed: true, Fingerprint: fp,
		Confirm: []plan.Removal{{Action: plan.ActUnshare, Subject: "1000000000000004", Why: plan.WhyUntagged},
			{Action: plan.ActDisassociate, Subject: "imageshare-00000000000000000000000000000001"}}}}}
	out, err := a.Apply(context.Background(), st, p)
	if err != nil || len(api.calls) > 0 {
		t.Fatalf("dry run: %v %v", err, api.calls)
	}
	var got []string
	for _, e := range out.Entries {
		if e.AfterConfirmation && e.DryRun {
			got = append(got, e.Action+" "+e.Subject+" "+e.Reason)
		}
	}
	want := []string{"unshare 1000000000000004 untagged", "disassociate imageshare-00000000000000000000000000000001 left resource share"}
	if !slices.Equal(got, want) || len(out.Confirm)+len(out.Held) > 0 {
		t.Fatalf("entries %q (want %q), confirm %v held %v", got, want, out.Confirm, out.Held)
	}
}

// An image the cloud says is gone gets no confirming job.
func TestGoneImageIsNotConfirmed(t *testing.T) {
	api := &fakeAPI{fail: func(string, int) error { return &cloud.Error{Code: "InvalidImageId.NotFound", HTTPStatus: 404} }}
	a, _ := testApplier(t, api, nil)
	p := &plan.Plan{Region: "cn-hangzhou", Images: []plan.ImagePlan{{Image: "m-1", Managed: true, Fingerprint: fp,
		Share:   []string{"1000000000000002"},
		Confirm: []plan.Removal{{Action: plan.ActUnshare, Subject: "1000000000000004", Why: plan.WhyUntagged}}}}}
	out, err := a.Apply(context.Background(), &state.State{Region: "cn-hangzhou"}, p)
	if err != nil || len(out.Confirm) > 0 {
		t.Fatalf("gone image: %v %+v", err, out.Confirm)
	}
}
