package cloudsim_test

import (
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/aliyun/alibaba-cloud-sdk-go/services/ecs"
	"github.com/aliyun/alibaba-cloud-sdk-go/services/resourcemanager"

	"imageshare/pkg/cloudsim"
)

func TestAccessFollowsTargetsAndMembership(t *testing.T) {
	e := world(t, cloudsim.Config{})
	c := e.cloud
	for _, id := range []string{"m-dir", "m-prod", "m-acct", "m-ext", "m-direct"} {
		c.PutImage(region, cloudsim.ImageSpec{ID: id, Owner: owner})
	}
	c.PutImage(region, cloudsim.ImageSpec{ID: "m-direct", Owner: owner, SharedWith: []string{outside, owner}})
	c.PutResourceShare(region, owner, "whole-org", []string{dirID}, []string{"m-dir"})
	c.PutResourceShare(region, owner, "prod", []string{prod}, []string{"m-prod"})
	c.PutResourceShare(region, owner, "one", []string{m4}, []string{"m-acct"})
	rs := e.rs(e.ownerKey)
	_, err := createShare(rs, "external", []string{"m-ext"}, []string{outside}, true)
	must(t, err)
	e.advance(20 * time.Second)

	check := func(step string, want map[string][]string) {
		t.Helper()
		for im, accs := range want {
			if got := sortedSet(c.Access(region, im)); !slices.Equal(got, accs) {
				t.Errorf("%s: access to %s = %v, want %v", step, im, got, accs)
			}
		}
	}
	check("start", map[string][]string{
		"m-dir":    {m2, m3, m4}, // every member, the owner excluded
		"m-prod":   {m2, m3},     // prod and below
		"m-acct":   {m4},
		"m-ext":    {outside},
		"m-direct": {outside}, // direct shares, the owner excluded
	})

	rm := e.rm(e.ownerKey)
	mv := resourcemanager.CreateMoveAccountRequest()
	mv.AccountId, mv.DestinationFolderId = m3, other
	_, err = rm.MoveAccount(mv)
	must(t, err)
	check("m3 moved out of prod", map[string][]string{"m-prod": {m2}, "m-dir": {m2, m3, m4}})

	rc := resourcemanager.CreateRemoveCloudAccountRequest()
	rc.AccountId = m4
	_, err = rm.RemoveCloudAccount(rc)
	must(t, err)
	check("m4 left", map[string][]string{"m-dir": {m2, m3}, "m-acct": {}})

	if aerr := e.cloud.InviteAccountAs(e.ownerKey.Identity, m4, team, time.Minute); aerr != nil {
		t.Fatal(aerr)
	}
	e.advance(time.Minute)
	check("m4 back in team", map[string][]string{"m-dir": {m2, m3, m4}, "m-prod": {m2, m4}, "m-acct": {m4}})
}

func sharePermission(t *testing.T, cl *ecs.Client, image string) []string {
	t.Helper()
	req := ecs.CreateDescribeImageSharePermissionRequest()
	req.RegionId, req.ImageId = region, image
	resp, err := cl.DescribeImageSharePermission(req)
	must(t, err)
	var out []string
	for _, a := range resp.Accounts.Account {
		out = append(out, a.AliyunId)
	}
	return out
}

func TestOrgGrantsListed(t *testing.T) {
	for _, listed := range []bool{false, true} {
		e := world(t, cloudsim.Config{OrgGrantsListed: listed})
		e.cloud.PutImage(region, cloudsim.ImageSpec{ID: "m-og", Owner: owner, SharedWith: []string{outside}})
		e.cloud.PutResourceShare(region, owner, "prod", []string{prod}, []string{"m-og"})
		cl := e.ecs(e.ownerKey)
		got := sharePermission(t, cl, "m-og")
		if !listed {
			if !slices.Equal(got, []string{outside}) {
				t.Fatalf("without org grants listed: %v", got)
			}
			// Removing a covered account that is not shared directly changes nothing.
			must(t, modify(cl, "m-og", nil, []string{m2}, false))
			if !e.cloud.Access(region, "m-og")[m2] {
				t.Fatal("m2 lost access although covered")
			}
			continue
		}
		if !slices.Equal(got, []string{m2, m3, outside}) {
			t.Fatalf("with org grants listed: %v", got)
		}
		if resp := describe(t, cl, nil); resp.Images.Image[0].IsSelfShared != "true" {
			t.Fatal("IsSelfShared should follow the listing")
		}
		must(t, modify(cl, "m-og", nil, []string{m2}, false))
		if e.cloud.Access(region, "m-og")[m2] {
			t.Fatal("removing a listed covered account must cut its access")
		}
		if got := sharePermission(t, cl, "m-og"); !slices.Equal(got, []string{m3, outside}) {
			t.Fatalf("after the removal: %v", got)
		}
		must(t, modify(cl, "m-og", []string{m2}, nil, false))
		if !e.cloud.Access(region, "m-og")[m2] {
			t.Fatal("adding it again must restore access")
		}
		if im, _ := e.cloud.Image(region, "m-og"); !slices.Equal(im.Direct, []string{m2, outside}) {
			t.Fatalf("direct = %v", im.Direct)
		}
	}
}

func TestTrackAccess(t *testing.T) {
	e := world(t, cloudsim.Config{TrackAccess: true})
	e.cloud.PutImage(region, cloudsim.ImageSpec{ID: "m-tr", Owner: owner, SharedWith: []string{m2}})
	var mu sync.Mutex // the hook runs on the server's goroutine
	var writes []cloudsim.WriteRecord
	e.cloud.OnWrite(func(w cloudsim.WriteRecord) {
		mu.Lock()
		defer mu.Unlock()
		writes = append(writes, w)
	})

	must(t, modify(e.ecs(e.fnKey), "m-tr", []string{m3}, []string{m2}, false))
	must(t, modify(e.ecs(e.ownerKey), "m-tr", []string{m4}, nil, false)) // a person's: not tracked
	if err := modify(e.ecs(e.fnKey), "m-tr", []string{owner}, nil, false); err == nil {
		t.Fatal("sharing with the owner succeeded")
	}
	describe(t, e.ecs(e.fnKey), nil) // a read: not tracked
	mu.Lock()
	defer mu.Unlock()
	if len(writes) != 1 {
		t.Fatalf("%d write records, want the one applied write by the functions", len(writes))
	}
	w := writes[0]
	if w.Action != "ModifyImageSharePermission" || w.Region != region || w.Caller.RoleName != fnRole || w.RequestID == "" ||
		w.Params["AddAccount.1"] != m3 {
		t.Fatalf("record = %+v", w)
	}
	if i := slices.IndexFunc(e.cloud.Calls(), func(c cloudsim.CallRecord) bool { return c.RequestID == w.RequestID }); i < 0 ||
		e.cloud.Calls()[i].Seq != w.Seq {
		t.Fatalf("the write record's Seq %d does not match its call record", w.Seq)
	}
	if got := sortedSet(w.Before["m-tr"]); !slices.Equal(got, []string{m2}) {
		t.Fatalf("before = %v", got)
	}
	if got := sortedSet(w.After["m-tr"]); !slices.Equal(got, []string{m3}) {
		t.Fatalf("after = %v", got)
	}
}
