package function

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"testing"
	"time"

	"imageshare/pkg/aliyun"
	"imageshare/pkg/cloud"
	"imageshare/pkg/cloudsim"
	"imageshare/pkg/cloudsim/emu"
	"imageshare/pkg/job"
	"imageshare/pkg/plan"
	"imageshare/pkg/rampolicy"
)

const (
	pOwner = "1000000000000001"
	pDir   = "rd-Pipe01"
	pRoot  = "r-Pipe01"
	pF     = "fd-PipeF00001"
	pG     = "fd-PipeG00001"
	pX     = "1300000000000001"
	pY     = "1300000000000002"
)

// grantPolicy gives the functions' role the deployment's policy (for regions beyond
// cn-hangzhou, the sweep's REGIONS), as a deployment holds it.
func grantPolicy(t *testing.T, c *cloudsim.Cloud, regions ...string) {
	t.Helper()
	doc, err := rampolicy.Render(rampolicy.Deployment{Account: pOwner, Region: "cn-hangzhou", Regions: regions, JobQueue: "imageshare-jobs"})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.RAM().Grant(pOwner, "imageshare-fc", "imageshare-fc", string(doc)); err != nil {
		t.Fatal(err)
	}
}

// simDeps returns handlers whose cloud is an emulated one, reached through the SDK.
func simDeps(t *testing.T) (*Deps, *fakeQueue, *cloudsim.Cloud, emu.Identity) {
	t.Helper()
	keys := emu.NewKeyring()
	c, eps := testCloud(t, cloudsim.Config{Clock: emu.NewClock(emu.Epoch), Keys: keys}, []string{pX, pY})
	d, q, _ := deps(t, map[string]string{"RETRY_BASE": "1ms", "RETRY_MAX": "10ms"})
	useCloud(d, keys, eps, "cn-hangzhou")
	return d, q, c, keys.AccessKey(pOwner).Identity
}

// testCloud serves an emulated cloud made with cfg (its clock and keys; the functions'
// role is set here, holding the policy for cn-hangzhou and regions) with the tests'
// directory: the owner, folders pF and pG under the root, and members in pG.
func testCloud(t *testing.T, cfg cloudsim.Config, members []string, regions ...string) (*cloudsim.Cloud, map[string]string) {
	t.Helper()
	cfg.FunctionRole = "imageshare-fc"
	c := cloudsim.New(cfg)
	grantPolicy(t, c, regions...)
	eps, stop, err := c.Serve()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop)
	c.AddAccount(pOwner, "china")
	c.SetDirectory(cloudsim.DirectorySpec{ID: pDir, RootID: pRoot, Master: pOwner, SharingEnabled: true})
	c.AddFolder(pF, "f", pRoot)
	c.AddFolder(pG, "g", pRoot)
	for _, a := range members {
		c.AddAccount(a, "china")
		c.AddMember(a, pG)
	}
	return c, eps
}

// useCloud makes d's handlers call the emulated cloud at eps through the SDK, as the
// functions' role in region.
func useCloud(d *Deps, keys *emu.Keyring, eps map[string]string, region string) {
	cred := keys.AssumeRole(pOwner, "imageshare-fc", "test", time.Hour)
	d.API = func(Invocation) (cloud.API, error) {
		return aliyun.New(aliyun.Config{Region: region, Endpoints: eps, Pacer: cloud.NewPacer(),
			Credentials: cloud.Credentials{AccessKeyID: cred.AccessKeyID, AccessKeySecret: cred.AccessKeySecret, SecurityToken: cred.SecurityToken}})
	}
}

func jobEvent(t *testing.T, j job.Job) []byte {
	t.Helper()
	body, _ := json.Marshal(j.Encode())
	return []byte(`[{"id":"1","source":"MNS-x","type":"mns:Queue:SendMessage","data":{"messageId":"M","messageBody":` + string(body) + `}}]`)
}

var pInv = Invocation{RequestID: "r", Region: "cn-hangzhou", AccountID: pOwner}

// A run with little time left before its deadline applies its first chunk and hands
// the others on as jobs, instead of being killed and redelivered whole.
func TestRunHandsOnWhatItHasNoTimeFor(t *testing.T) {
	d, q, c, _ := simDeps(t)
	var ids []string
	for i := 1; i <= 60; i++ {
		id := fmt.Sprintf("m-Pipe%03d", i)
		ids = append(ids, id)
		c.PutImage("cn-hangzhou", cloudsim.ImageSpec{ID: id, Owner: pOwner, Tags: map[string]string{"imageshare:accounts": pX}})
	}
	ctx, cancel := context.WithDeadline(context.Background(), time.Now().Add(deadlineReserve/2))
	defer cancel()
	j := job.Job{V: job.Version, Kind: job.KindImages, Region: "cn-hangzhou", Images: ids, Reason: job.ReasonSweep}
	if _, err := d.reconcile(ctx, pInv, jobEvent(t, j)); err != nil {
		t.Fatal(err)
	}
	var handed []string
	for _, s := range q.sends {
		for _, body := range s.bodies {
			hj, err := job.Decode(body)
			if err != nil {
				t.Fatal(err)
			}
			if s.delay != 0 || hj.Reason != job.ReasonSweep {
				t.Fatalf("handed-on job %+v with delay %s", hj, s.delay)
			}
			handed = append(handed, hj.Images...)
		}
	}
	// 60 images make chunks of minChunk: the first is applied, the rest handed on.
	if !slices.Equal(handed, ids[minChunk:]) {
		t.Fatalf("handed on %v, want the images after the first chunk", handed)
	}
	for i, id := range ids {
		v, _ := c.Image("cn-hangzhou", id)
		if shared := slices.Contains(v.Direct, pX); shared != (i < minChunk) {
			t.Fatalf("%s shared with %s: %v (first chunk: %v)", id, pX, shared, i < minChunk)
		}
	}
}

// After an account moves, a run looks only at the images the move can change: those
// that name it and that a resource share holds, and additive ones a share reaching its
// new place holds and that are shared with it. It lists no directory and reads the
// tags of the held images only.
func TestMovedAccountReconcilesTheImagesItMattersTo(t *testing.T) {
	d, _, c, person := simDeps(t)
	put := func(id string, tags map[string]string, shared ...string) {
		c.PutImage("cn-hangzhou", cloudsim.ImageSpec{ID: id, Owner: pOwner, Tags: tags, SharedWith: shared})
	}
	put("m-Named", map[string]string{"imageshare:accounts": pX, "imageshare:folders": pF}, pX)
	put("m-NoShare", map[string]string{"imageshare:accounts": pX}, pX)
	put("m-AddWithX", map[string]string{"imageshare:accounts": pY, "imageshare:folders": pF, "imageshare:mode": "additive"}, pX, pY)
	put("m-AddNoX", map[string]string{"imageshare:accounts": pY, "imageshare:folders": pF, "imageshare:mode": "additive"}, pY)
	put("m-Untagged", map[string]string{"env": "x"}, pX)
	c.PutResourceShare("cn-hangzhou", pOwner, plan.ShareName([]string{pF}), []string{pF}, []string{"m-Named", "m-AddWithX", "m-AddNoX"})
	if _, _, err := c.Call(person, "resourcemanager", "MoveAccount", map[string]string{"AccountId": pX, "DestinationFolderId": pF}); err != nil {
		t.Fatal(err)
	}
	n := len(c.Calls())
	j := job.Job{V: job.Version, Kind: job.KindRegion, Region: "cn-hangzhou", Account: pX, Reason: job.ReasonMove, RetryFailed: true}
	if _, err := d.reconcile(context.Background(), pInv, jobEvent(t, j)); err != nil {
		t.Fatal(err)
	}
	calls := map[string]int{}
	for _, call := range c.Calls()[n:] {
		calls[call.Action]++
	}
	if calls["ListAccounts"] != 0 || calls["DescribeImages"] != 1 {
		t.Errorf("calls %v: want no directory listing and one DescribeImages (the held images)", calls)
	}
	want := map[string][]string{"m-Named": {}, "m-NoShare": {pX}, "m-AddWithX": {pY}, "m-AddNoX": {pY}, "m-Untagged": {pX}}
	for id, direct := range want {
		v, _ := c.Image("cn-hangzhou", id)
		if !slices.Equal(v.Direct, direct) {
			t.Errorf("%s direct %v, want %v", id, v.Direct, direct)
		}
	}
}
