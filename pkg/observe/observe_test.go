package observe

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"imageshare/pkg/aliyun"
	"imageshare/pkg/cloud"
	"imageshare/pkg/cloudsim"
	"imageshare/pkg/cloudsim/emu"
	"imageshare/pkg/plan"
	"imageshare/pkg/rampolicy"
	"imageshare/pkg/settings"
)

const (
	region = "cn-hangzhou"
	role   = "imageshare-fc"
)

// simWorld is a random region of the emulated cloud, read through the real SDK.
type simWorld struct {
	cloud  *cloudsim.Cloud
	clock  *emu.Clock
	api    cloud.API
	images []string
}

// grantPolicy gives the functions' role the deployment's policy, as a deployment holds it.
// serve serves an emulated cloud made with cfg, the functions' role (role) holding
// the deployment's policy.
func serve(t *testing.T, cfg cloudsim.Config) (*cloudsim.Cloud, map[string]string) {
	t.Helper()
	cfg.FunctionRole = role
	c := cloudsim.New(cfg)
	grantPolicy(t, c)
	eps, stop, err := c.Serve()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop)
	return c, eps
}

func grantPolicy(t *testing.T, c *cloudsim.Cloud) {
	t.Helper()
	doc, err := rampolicy.Render(rampolicy.Deployment{Account: tOwner, Region: region, JobQueue: "imageshare-jobs"})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.RAM().Grant(tOwner, role, "imageshare-fc", string(doc)); err != nil {
		t.Fatal(err)
	}
}

func newSimWorld(t *testing.T, r *rand.Rand) *simWorld {
	t.Helper()
	clock, keys := emu.NewClock(emu.Epoch), emu.NewKeyring()
	c, eps := serve(t, cloudsim.Config{Clock: clock, Keys: keys, AssociationDelay: 20 * time.Second})
	c.AddAccount(tOwner, "china")
	c.SetDirectory(cloudsim.DirectorySpec{ID: tDir, RootID: tRoot, Master: tOwner, SharingEnabled: true})
	var folders []string
	for i := 1; i <= 5; i++ {
		parent := tRoot
		if len(folders) > 0 && r.IntN(2) == 0 {
			parent = folders[r.IntN(len(folders))]
		}
		c.AddFolder(folder(i), folder(i), parent)
		folders = append(folders, folder(i))
	}
	var accounts []string
	for i := 1; i <= 10; i++ {
		c.AddAccount(acct(i), "china")
		home := tRoot
		if r.IntN(4) > 0 {
			home = folders[r.IntN(len(folders))]
		}
		c.AddMember(acct(i), home)
		accounts = append(accounts, acct(i))
	}
	c.AddAccount("2000000000000001", "china")
	accounts = append(accounts, "2000000000000001", "2000000000000002", tOwner)
	targets := append(slices.Clone(folders), tDir, "fd-Nope000001")
	pick := func(pool []string, n int) []string {
		var out []string
		for i := 0; i < n; i++ {
			out = append(out, pool[r.IntN(len(pool))])
		}
		return out
	}
	w := &simWorld{cloud: c, clock: clock}
	for i := 1; i <= 8; i++ {
		id := fmt.Sprintf("m-Sim%d", i)
		tags := map[string]string{}
		if r.IntN(5) > 0 {
			tags["imageshare:accounts"] = strings.Join(pick(accounts, 1+r.IntN(3)), ",")
			if r.IntN(2) == 0 {
				tags["imageshare:folders"] = strings.Join(pick(targets, 1+r.IntN(2)), ",")
			}
			if r.IntN(3) == 0 {
				tags["imageshare:mode"] = "additive"
			}
		}
		enc := "none"
		if r.IntN(6) == 0 {
			enc = "service-key" // its associations fail
		}
		c.PutImage(region, cloudsim.ImageSpec{ID: id, Owner: tOwner, Tags: tags, Encrypted: enc, Created: clock.Now().Add(-time.Hour),
			SharedWith: pick(accounts[:11], r.IntN(4))})
		w.images = append(w.images, id)
	}
	person := keys.AccessKey(tOwner).Identity
	for i := 0; i < 1+r.IntN(4); i++ {
		name := fmt.Sprintf("hand-%d", i)
		if r.IntN(2) == 0 {
			name = plan.ShareName(pick(targets[:3], 1))
		}
		id := c.PutResourceShare(region, tOwner, name, pick(append(slices.Clone(folders), tDir, acct(1)), 1+r.IntN(2)), pick(w.images, r.IntN(4)))
		// Associations in transition, and failed ones once time passes.
		for _, im := range pick(w.images, r.IntN(3)) {
			_, _, _ = c.Call(person, "resourcesharing", "AssociateResourceShare", map[string]string{"RegionId": region, "ResourceShareId": id,
				"Resources.1.ResourceId": im, "Resources.1.ResourceType": "Image"})
		}
	}
	if r.IntN(2) == 0 {
		clock.Advance(time.Minute)
		c.RunDue()
	}
	cred := keys.AssumeRole(tOwner, role, "test", time.Hour)
	api, err := aliyun.New(aliyun.Config{Region: region, Endpoints: eps, Pacer: cloud.NewPacer(),
		Credentials: cloud.Credentials{AccessKeyID: cred.AccessKeyID, AccessKeySecret: cred.AccessKeySecret, SecurityToken: cred.SecurityToken}})
	if err != nil {
		t.Fatal(err)
	}
	w.api = api
	return w
}

func (w *simWorld) calls(since int) map[string]int {
	out := map[string]int{}
	for _, c := range w.cloud.Calls()[since:] {
		out[c.Action]++
	}
	return out
}

func testSettings(t *testing.T) settings.Settings {
	t.Helper()
	s, err := settings.Load(func(k string) string {
		return map[string]string{"ALLOWED_EXTERNAL_ACCOUNTS": "2000000000000001"}[k]
	})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// Through the emulated cloud: a targeted observation of a few images plans what a full
// observation of them plans, and reads no directory page.
func TestTargetedObservationPlansLikeAFullOne(t *testing.T) {
	set := testSettings(t)
	for seed := 0; seed < 25; seed++ {
		r := rand.New(rand.NewPCG(uint64(seed), 5))
		w := newSimWorld(t, r)
		batches := [][]string{w.images}
		for _, im := range w.images {
			batches = append(batches, []string{im})
		}
		for _, batch := range batches {
			req := Request{Region: region, Owner: tOwner, Now: w.clock.Now(), Images: batch, Prefix: "imageshare", RetryFailed: true}
			full, err := Observe(context.Background(), w.api, req, nil)
			if err != nil {
				t.Fatal(err)
			}
			n := len(w.cloud.Calls())
			req.Targeted = true
			part, err := Observe(context.Background(), w.api, req, nil)
			if err != nil {
				t.Fatal(err)
			}
			calls := w.calls(n)
			if want, got := plan.Make(full, set).String(), plan.Make(part, set).String(); want != got {
				t.Fatalf("seed %d batch %v: targeted plan differs\nfull:\n%s\ntargeted:\n%s", seed, batch, want, got)
			}
			if calls["ListAccounts"] > 0 {
				t.Fatalf("seed %d batch %v: a targeted observation listed the directory: %v", seed, batch, calls)
			}
		}
	}
}

// Call counts: one image costs one DescribeImages, its share list only when ECS says
// it has shares, one GetAccount per account it names or is shared with, and its own
// associations; a full observation pages everything once.
func TestObservationCallCounts(t *testing.T) {
	clock, keys := emu.NewClock(emu.Epoch), emu.NewKeyring()
	c, eps := serve(t, cloudsim.Config{Clock: clock, Keys: keys})
	c.AddAccount(tOwner, "china")
	c.SetDirectory(cloudsim.DirectorySpec{ID: tDir, RootID: tRoot, Master: tOwner, SharingEnabled: true})
	c.AddFolder(folder(1), "f1", tRoot)
	member := func(i int) string { return fmt.Sprintf("1200000000%06d", i) }
	for i := 1; i <= 250; i++ { // three pages of members with the management account
		c.AddAccount(member(i), "china")
		c.AddMember(member(i), folder(1))
	}
	a1, a2 := member(1), member(2)
	for i := 1; i <= 150; i++ { // two pages of images
		tags := map[string]string{}
		var shared []string
		if i <= 3 {
			tags["imageshare:accounts"] = a1
			shared = []string{a1, a2}
		}
		c.PutImage(region, cloudsim.ImageSpec{ID: fmt.Sprintf("m-Count%03d", i), Owner: tOwner, Tags: tags, SharedWith: shared})
	}
	c.PutResourceShare(region, tOwner, "hand", []string{folder(1)}, []string{"m-Count001"})
	cred := keys.AssumeRole(tOwner, role, "test", time.Hour)
	api, err := aliyun.New(aliyun.Config{Region: region, Endpoints: eps, Pacer: cloud.NewPacer(),
		Credentials: cloud.Credentials{AccessKeyID: cred.AccessKeyID, AccessKeySecret: cred.AccessKeySecret, SecurityToken: cred.SecurityToken}})
	if err != nil {
		t.Fatal(err)
	}
	count := func(req Request) map[string]int {
		n := len(c.Calls())
		if _, err := Observe(context.Background(), api, req, nil); err != nil {
			t.Fatal(err)
		}
		out := map[string]int{}
		for _, call := range c.Calls()[n:] {
			out[call.Action]++
		}
		return out
	}
	got := count(Request{Region: region, Owner: tOwner, Images: []string{"m-Count001"}, Prefix: "imageshare", Targeted: true})
	want := map[string]int{"DescribeImages": 1, "ListResourceShares": 1, "GetResourceDirectory": 1, "DescribeImageSharePermission": 1,
		"GetAccount": 2, "ListResourceShareAssociations": 2} // its associations, the targets of the share holding it
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("targeted observation of one image: %v, want %v", got, want)
	}
	got = count(Request{Region: region, Owner: tOwner, All: true, Prefix: "imageshare"})
	want = map[string]int{"DescribeImages": 2, "DescribeImageSharePermission": 3, "GetResourceDirectory": 1, "ListAccounts": 3,
		"ListResourceShares": 1, "ListResourceShareAssociations": 2}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("full observation of the region: %v, want %v", got, want)
	}
}

// TestDelegatedAdministratorObserves: functions in a member account read the directory
// once the management account registered it as a delegated administrator; before, the
// observation fails with an error that says so (not as "no directory").
func TestDelegatedAdministratorObserves(t *testing.T) {
	const mgmt = "1000000000000090"
	clock, keys := emu.NewClock(emu.Epoch), emu.NewKeyring()
	c, eps := serve(t, cloudsim.Config{Clock: clock, Keys: keys})
	c.AddAccount(mgmt, "china")
	c.AddAccount(tOwner, "china")
	c.SetDirectory(cloudsim.DirectorySpec{ID: tDir, RootID: tRoot, Master: mgmt, SharingEnabled: true})
	c.AddFolder(folder(1), "f1", tRoot)
	c.AddMember(tOwner, tRoot)
	c.AddAccount(acct(1), "china")
	c.AddMember(acct(1), folder(1))
	c.PutImage(region, cloudsim.ImageSpec{ID: "m-Factory", Owner: tOwner,
		Tags: map[string]string{"imageshare:folders": folder(1), "imageshare:accounts": acct(1)}})
	cred := keys.AssumeRole(tOwner, role, "test", time.Hour)
	api, err := aliyun.New(aliyun.Config{Region: region, Endpoints: eps, Pacer: cloud.NewPacer(),
		Credentials: cloud.Credentials{AccessKeyID: cred.AccessKeyID, AccessKeySecret: cred.AccessKeySecret, SecurityToken: cred.SecurityToken}})
	if err != nil {
		t.Fatal(err)
	}
	req := Request{Region: region, Owner: tOwner, Now: clock.Now(), All: true, Prefix: "imageshare", RetryFailed: true}
	_, err = Observe(context.Background(), api, req, nil)
	if err == nil || !strings.Contains(err.Error(), "delegated administrator") || cloud.Code(err) != "EntityNotExists.ResourceDirectory" {
		t.Fatalf("a member that may not read the directory: %v", err)
	}
	if err := c.RegisterDelegatedAdministrator(tOwner, "resourcesharing.aliyuncs.com"); err != nil {
		t.Fatal(err)
	}
	st, err := Observe(context.Background(), api, req, nil)
	if err != nil {
		t.Fatal(err)
	}
	if st.Directory == nil || st.Directory.ID != tDir || len(st.Directory.Members) != 3 {
		t.Fatalf("directory = %+v", st.Directory)
	}
	p := plan.Make(st, testSettings(t))
	// The folder is shared, and the member it holds is known (coverage on its way),
	// not refused as outside the directory.
	if got := p.String(); !strings.Contains(got, "create targets="+folder(1)) || !strings.Contains(got, "deferred "+acct(1)) {
		t.Fatalf("the factory's plan does not share with its folder and member:\n%s", got)
	}
}
