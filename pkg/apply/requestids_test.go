package apply

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"imageshare/pkg/cloud"
	"imageshare/pkg/plan"
)

// idAPI answers every write with a request ID of its own and remembers which call got
// which.
type idAPI struct {
	cloud.API
	n   int
	ids map[string]string // request ID → call
}

func (f *idAPI) next(call string) cloud.Result {
	f.n++
	id := fmt.Sprintf("req-%d", f.n)
	if f.ids == nil {
		f.ids = map[string]string{}
	}
	f.ids[id] = call
	return cloud.Result{RequestID: id}
}

func (f *idAPI) ModifyImageSharePermission(_ context.Context, _, image string, add, remove []string) (cloud.Result, error) {
	return f.next(fmt.Sprintf("Modify %s add=%s remove=%s", image, strings.Join(add, ","), strings.Join(remove, ","))), nil
}

func (f *idAPI) CreateResourceShare(_ context.Context, _, name string, res, tg []string) (cloud.ShareInfo, cloud.Result, error) {
	return cloud.ShareInfo{ID: "rs-new", Name: name}, f.next("Create " + name), nil
}

func (f *idAPI) AssociateResourceShare(_ context.Context, _, id string, res, tg []string) (cloud.Result, error) {
	return f.next(fmt.Sprintf("Associate %s res=%s targets=%s", id, strings.Join(res, ","), strings.Join(tg, ","))), nil
}

func (f *idAPI) DisassociateResourceShare(_ context.Context, _, id string, res, tg []string) (cloud.Result, error) {
	return f.next(fmt.Sprintf("Disassociate %s res=%s targets=%s", id, strings.Join(res, ","), strings.Join(tg, ","))), nil
}

// TestChangesCarryTheirRequestIDs is R10: every change is reported with the request ID
// of the cloud call that made it.
func TestChangesCarryTheirRequestIDs(t *testing.T) {
	api := &idAPI{}
	a, _ := testApplier(t, api, nil)
	acc := accounts(3)
	created := plan.ShareName([]string{"fd-New0000001"})
	p := &plan.Plan{Region: "cn-hangzhou",
		Shares: []plan.ShareOp{{Op: plan.OpCreate, Share: plan.ShareRef{Name: created}, Targets: []string{"fd-New0000001"}, Resources: []string{"m-2"}}},
		Images: []plan.ImagePlan{
			{Image: "m-1", Share: acc[:1], Unshare: []plan.Unshare{{Account: acc[1], Why: plan.WhyUntagged}},
				Associate: []plan.ShareRef{{ID: "rs-1", Name: "imageshare-one"}}, Disassociate: []plan.ShareRef{{ID: "rs-old", Name: "imageshare-old"}}},
			{Image: "m-2", Associate: []plan.ShareRef{{Name: created}}},
		}}
	out, err := a.Apply(context.Background(), st, p)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{ // entry → the call that must have made it
		"m-1 share " + acc[0]:             "Modify m-1 add=" + acc[0] + " remove=",
		"m-1 unshare " + acc[1]:           "Modify m-1 add= remove=" + acc[1],
		"m-1 associate ":                  "Associate rs-1 res=m-1 targets=",
		"m-1 disassociate imageshare-old": "Disassociate rs-old res=m-1 targets=",
		"m-2 associate fd-New0000001":     "Create " + created,
		" associate fd-New0000001":        "Create " + created,
	}
	seen := 0
	for _, e := range out.Entries {
		if !e.Change() {
			continue
		}
		key := e.Image + " " + e.Action + " " + e.Subject
		call, ok := want[key]
		if !ok {
			t.Errorf("unexpected change %q", key)
			continue
		}
		seen++
		if len(e.RequestIDs) != 1 || api.ids[e.RequestIDs[0]] != call {
			t.Errorf("%q reports request IDs %v; want the one of %q", key, e.RequestIDs, call)
		}
	}
	if seen != len(want) {
		t.Errorf("%d changes reported, want %d: %+v", seen, len(want), out.Entries)
	}
}
