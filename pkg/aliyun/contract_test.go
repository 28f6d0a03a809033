package aliyun_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aliyun/alibaba-cloud-sdk-go/sdk"
	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/auth/credentials"
	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/requests"
	"github.com/aliyun/alibaba-cloud-sdk-go/services/resourcesharing"

	"imageshare/pkg/aliyun"
	"imageshare/pkg/cloud"
	"imageshare/pkg/cloudsim"
	"imageshare/pkg/cloudsim/emu"
	"imageshare/pkg/rampolicy"
)

// The product's Resource Sharing calls against the emulated cloud's contracts, through
// the SDK wire.

const (
	region = "cn-hangzhou"
	owner  = "1000000000000001"
	member = "1000000000000002"
	dirID  = "rd-Ab12Cd"
	rootID = "r-Ab12Cd"
	prod   = "fd-Prod000001"
)

type world struct {
	cloud *cloudsim.Cloud
	clock *emu.Clock
	keys  *emu.Keyring
	eps   map[string]string
	cred  emu.Credential
}

func newWorld(t *testing.T, cfg cloudsim.Config) *world {
	t.Helper()
	w := &world{clock: emu.NewClock(emu.Epoch), keys: emu.NewKeyring()}
	cfg.Clock, cfg.Keys = w.clock, w.keys
	w.cloud = cloudsim.New(cfg)
	eps, stop, err := w.cloud.Serve()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop)
	t.Cleanup(func() {
		for _, u := range w.cloud.Unlisted() {
			t.Errorf("unlisted answer: %s", u)
		}
	})
	w.eps = eps
	c := w.cloud
	c.AddAccount(owner, "china")
	c.AddAccount(member, "china")
	c.SetDirectory(cloudsim.DirectorySpec{ID: dirID, RootID: rootID, Master: owner, SharingEnabled: true})
	c.AddFolder(prod, "prod", rootID)
	c.AddMember(member, prod)
	// The functions' role holds the deployment's policy.
	doc, err := rampolicy.Render(rampolicy.Deployment{Account: owner, Region: region, JobQueue: "imageshare-jobs"})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.RAM().Grant(owner, "imageshare-fc", "imageshare-fc", string(doc)); err != nil {
		t.Fatal(err)
	}
	w.cred = w.keys.AssumeRole(owner, "imageshare-fc", "test", time.Hour)
	return w
}

func (w *world) client(t *testing.T) *aliyun.Client {
	t.Helper()
	c, err := aliyun.New(aliyun.Config{Region: region, Endpoints: w.eps, Credentials: cloud.Credentials{
		AccessKeyID: w.cred.AccessKeyID, AccessKeySecret: w.cred.AccessKeySecret, SecurityToken: w.cred.SecurityToken}})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestUpdateResourceShareSendsTheName: UpdateResourceShare requires ResourceShareName.
// The request the product sent before (ID and AllowExternalTargets only) is refused by
// the contract; the product's request sets AllowExternalTargets back and keeps the name.
func TestUpdateResourceShareSendsTheName(t *testing.T) {
	w := newWorld(t, cloudsim.Config{})
	w.cloud.PutImage(region, cloudsim.ImageSpec{ID: "m-1", Owner: owner})
	id := w.cloud.PutResourceShare(region, owner, "imageshare-0123456789abcdef0123456789abcdef", []string{prod}, []string{"m-1"})
	ctx := context.Background()

	// The request without the name, as the SDK sends it.
	rs, err := resourcesharing.NewClientWithOptions(region, sdk.NewConfig().WithScheme("HTTP").WithAutoRetry(false),
		credentials.NewStsTokenCredential(w.cred.AccessKeyID, w.cred.AccessKeySecret, w.cred.SecurityToken))
	if err != nil {
		t.Fatal(err)
	}
	rs.Domain = w.eps["resourcesharing"][len("http://"):]
	req := resourcesharing.CreateUpdateResourceShareRequest()
	req.RegionId, req.ResourceShareId, req.AllowExternalTargets = region, id, requests.NewBoolean(true)
	if _, err := rs.UpdateResourceShare(req); err == nil || !strings.Contains(err.Error(), "MissingParameter.ResourceShareName") {
		t.Fatalf("an update without ResourceShareName: %v, want MissingParameter.ResourceShareName", err)
	}
	req.ResourceShareName = "imageshare-0123456789abcdef0123456789abcdef"
	if _, err := rs.UpdateResourceShare(req); err != nil {
		t.Fatal(err) // a person opens the share to external targets
	}

	res, err := w.client(t).UpdateResourceShare(ctx, region, id, "imageshare-0123456789abcdef0123456789abcdef", false)
	if err != nil || res.RequestID == "" {
		t.Fatalf("the product's repair: %v", err)
	}
	s := w.cloud.ResourceShares(region)[0]
	if s.AllowExternal || s.Name != "imageshare-0123456789abcdef0123456789abcdef" {
		t.Fatalf("after the repair: %+v", s)
	}
}

// TestFailedAssociationReason: the product reads FailureReason and FailureDescription
// from the raw answer, since the SDK's struct only knows the deprecated names; it works
// whether the cloud sends the deprecated names too or not.
func TestFailedAssociationReason(t *testing.T) {
	for _, deprecated := range []bool{false, true} {
		t.Run(fmt.Sprintf("deprecated=%v", deprecated), func(t *testing.T) {
			w := newWorld(t, cloudsim.Config{DeprecatedFailureFields: deprecated})
			w.cloud.PutImage(region, cloudsim.ImageSpec{ID: "m-svc", Owner: owner, Encrypted: "service-key"})
			w.cloud.PutImage(region, cloudsim.ImageSpec{ID: "m-ok", Owner: owner})
			ctx := context.Background()
			c := w.client(t)
			if _, _, err := c.CreateResourceShare(ctx, region, "s", []string{"m-svc", "m-ok"}, []string{prod}); err != nil {
				t.Fatal(err)
			}
			w.clock.Advance(time.Minute)
			w.cloud.RunDue()
			page, err := c.ListAssociations(ctx, cloud.AssociationQuery{Region: region, Type: cloud.AssociationResource})
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]cloud.Association{}
			for _, a := range page.Associations {
				got[a.EntityID] = a
			}
			if a := got["m-svc"]; a.Status != "Failed" || a.FailureReason != "UnsupportedOperation" || a.Message == "" {
				t.Fatalf("m-svc = %+v, want Failed with its reason and description", a)
			}
			if a := got["m-ok"]; a.Status != "Associated" || a.FailureReason != "" {
				t.Fatalf("m-ok = %+v", a)
			}
		})
	}
}
