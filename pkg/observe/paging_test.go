package observe

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"imageshare/pkg/aliyun"
	"imageshare/pkg/apply"
	"imageshare/pkg/cloud"
	"imageshare/pkg/cloudsim"
	"imageshare/pkg/cloudsim/emu"
	"imageshare/pkg/plan"
)

// TestTaggedAccountOnTheSecondDirectoryPageIsShared: in a directory of 150 members, an
// account that ListAccounts returns on its second page is a member (R3) — a run that
// lists the directory shares the image with it — and an account on no page is refused.
func TestTaggedAccountOnTheSecondDirectoryPageIsShared(t *testing.T) {
	clock, keys := emu.NewClock(emu.Epoch), emu.NewKeyring()
	c, eps := serve(t, cloudsim.Config{Clock: clock, Keys: keys})
	c.AddAccount(tOwner, "china")
	c.SetDirectory(cloudsim.DirectorySpec{ID: tDir, RootID: tRoot, Master: tOwner, SharingEnabled: true})
	c.AddFolder(folder(1), "f1", tRoot)
	member := func(i int) string { return fmt.Sprintf("1300000000%06d", i) }
	for i := 1; i <= 150; i++ { // members join in order: ListAccounts pages them so
		c.AddAccount(member(i), "china")
		c.AddMember(member(i), folder(1))
	}
	late, outsider := member(140), "2000000000000009"
	c.AddAccount(outsider, "china")
	const img = "m-Page2Member1"
	c.PutImage(region, cloudsim.ImageSpec{ID: img, Owner: tOwner, Tags: map[string]string{"imageshare:accounts": late + "," + outsider}})
	cred := keys.AssumeRole(tOwner, role, "test", time.Hour)
	api, err := aliyun.New(aliyun.Config{Region: region, Endpoints: eps, Pacer: cloud.NewPacer(),
		Credentials: cloud.Credentials{AccessKeyID: cred.AccessKeyID, AccessKeySecret: cred.AccessKeySecret, SecurityToken: cred.SecurityToken}})
	if err != nil {
		t.Fatal(err)
	}

	// Where the account is: not on ListAccounts' first page.
	first, err := api.ListAccounts(context.Background(), 1)
	if err != nil {
		t.Fatal(err)
	}
	if first.Total < 150 || slices.ContainsFunc(first.Accounts, func(a cloud.Account) bool { return a.ID == late }) {
		t.Fatalf("the test needs %s beyond the first page of %d members (first page: %d accounts)", late, first.Total, len(first.Accounts))
	}

	st, err := Observe(context.Background(), api, Request{Region: region, Owner: tOwner, Now: clock.Now(), All: true, Prefix: "imageshare"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !st.IsMember(late) || len(st.Directory.Members) < 150 {
		t.Fatalf("the observed directory has %d members and %s member: %v", len(st.Directory.Members), late, st.IsMember(late))
	}
	set := testSettings(t)
	p := plan.Make(st, set)
	if _, err := (&apply.Applier{API: api, Settings: set}).Apply(context.Background(), st, p); err != nil {
		t.Fatal(err)
	}
	v, _ := c.Image(region, img)
	if !slices.Equal(v.Direct, []string{late}) {
		t.Fatalf("image shared with %v, want [%s] (plan:\n%s)", v.Direct, late, p)
	}
	ip := p.Image(img)
	if ip == nil || len(ip.Refusals) != 1 || ip.Refusals[0].Subject != outsider || ip.Refusals[0].Reason != plan.ReasonNotAllowed {
		t.Fatalf("want only the outsider refused, plan:\n%s", p)
	}
}
