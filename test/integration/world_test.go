package integration

import (
	"context"
	"testing"
	"time"

	"imageshare/pkg/aliyun"
	"imageshare/pkg/apply"
	"imageshare/pkg/cloud"
	"imageshare/pkg/cloudsim"
	"imageshare/pkg/cloudsim/emu"
	"imageshare/pkg/observe"
	"imageshare/pkg/plan"
	"imageshare/pkg/rampolicy"
	"imageshare/pkg/settings"
)

const (
	region = "cn-hangzhou"
	owner  = "1000000000000001"
	m2     = "1000000000000002" // prod
	m3     = "1000000000000003" // team, under prod
	m4     = "1000000000000004" // dev
	ext    = "2000000000000001" // outside, allowed
	ghost  = "2999999999999999" // allowed but does not exist
	dirID  = "rd-Ab12Cd"
	rootID = "r-Ab12Cd"
	prod   = "fd-Prod000001"
	team   = "fd-Team000001"
	dev    = "fd-Dev0000001"
	role   = "imageshare-fc"
)

type world struct {
	t     *testing.T
	clock *emu.Clock
	keys  *emu.Keyring
	cloud *cloudsim.Cloud
	eps   map[string]string
	set   settings.Settings
}

func newWorld(t *testing.T, faults emu.Faults, env map[string]string) *world {
	t.Helper()
	return newWorldWithPolicy(t, faults, env, nil)
}

// newWorldWithPolicy is newWorld whose functions' role holds doc (nil: the deployment's
// policy, from rampolicy).
func newWorldWithPolicy(t *testing.T, faults emu.Faults, env map[string]string, doc []byte) *world {
	t.Helper()
	w := &world{t: t, clock: emu.NewClock(emu.Epoch), keys: emu.NewKeyring(), eps: map[string]string{}}
	w.cloud = cloudsim.New(cloudsim.Config{Clock: w.clock, Keys: w.keys, Faults: emu.NewFaultPlan(faults), FunctionRole: role})
	// The functions' role holds the deployment's policy.
	if doc == nil {
		var err error
		if doc, err = rampolicy.Render(rampolicy.Deployment{Account: owner, Region: region, JobQueue: "imageshare-jobs"}); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.cloud.RAM().Grant(owner, role, "imageshare-fc", string(doc)); err != nil {
		t.Fatal(err)
	}
	eps, stop, err := w.cloud.Serve()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop)
	w.eps = eps
	c := w.cloud
	c.AddAccount(owner, "china")
	c.SetDirectory(cloudsim.DirectorySpec{ID: dirID, RootID: rootID, Master: owner, SharingEnabled: true})
	c.AddFolder(prod, "prod", rootID)
	c.AddFolder(team, "team", prod)
	c.AddFolder(dev, "dev", rootID)
	for a, f := range map[string]string{m2: prod, m3: team, m4: dev} {
		c.AddAccount(a, "china")
		c.AddMember(a, f)
	}
	c.AddAccount(ext, "china")
	e := map[string]string{"ALLOWED_EXTERNAL_ACCOUNTS": ext + " " + ghost, "RETRY_BASE": "1ms", "RETRY_MAX": "20ms", "FUNCTION_ROLE": role}
	for k, v := range env {
		e[k] = v
	}
	s, err := settings.Load(func(k string) string { return e[k] })
	if err != nil {
		t.Fatal(err)
	}
	w.set = s
	return w
}

// api returns an SDK client acting as the functions' role (so that faults apply).
func (w *world) api() *aliyun.Client {
	w.t.Helper()
	cred := w.keys.AssumeRole(owner, role, "test-session", time.Hour)
	c, err := aliyun.New(aliyun.Config{Region: region, Endpoints: w.eps,
		Credentials: cloud.Credentials{AccessKeyID: cred.AccessKeyID, AccessKeySecret: cred.AccessKeySecret, SecurityToken: cred.SecurityToken}})
	if err != nil {
		w.t.Fatal(err)
	}
	return c
}

func (w *world) image(id string, tags map[string]string, shared ...string) {
	w.cloud.PutImage(region, cloudsim.ImageSpec{ID: id, Owner: owner, Status: "Available", Tags: tags, SharedWith: shared,
		Created: w.clock.Now().Add(-time.Hour)})
}

// run observes, plans and applies once, for the given images (nil: every managed one).
func (w *world) run(api cloud.API, images []string) (*plan.Plan, *apply.Outcome) {
	w.t.Helper()
	a := &apply.Applier{API: api, Settings: w.set}
	st, err := observe.Observe(context.Background(), api, observe.Request{Region: region, Owner: owner, Now: w.clock.Now(),
		Images: images, All: images == nil, Prefix: w.set.TagPrefix, RetryFailed: true}, a.Call)
	if err != nil {
		w.t.Fatalf("observe: %v", err)
	}
	p := plan.Make(st, w.set)
	out, err := a.Apply(context.Background(), st, p)
	if err != nil {
		w.t.Fatalf("apply: %v\nplan:\n%s", err, p)
	}
	return p, out
}

// converge runs until a run plans no write and nothing is in transition, letting
// emulated time pass between runs.
func (w *world) converge(api cloud.API, images []string) int {
	w.t.Helper()
	for round := 1; round <= 10; round++ {
		p, out := w.run(api, images)
		if !p.Writes() && len(out.Recheck) == 0 {
			return round
		}
		w.clock.Advance(time.Minute)
		w.cloud.RunDue()
	}
	w.t.Fatal("did not converge in 10 runs")
	return 0
}

func (w *world) writes(since int) map[string]int {
	out := map[string]int{}
	for _, c := range w.cloud.Calls()[since:] {
		if c.Write && c.Caller.RoleName == role {
			out[c.Action]++
		}
	}
	return out
}
