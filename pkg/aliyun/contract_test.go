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

// TestCopyImage: the product's CopyImage, DescribeImages with a tag filter in another
// region and UntagResources, through the SDK wire against the emulated cloud: the copy
// carries its tags from creation, a repeated ClientToken answers the first copy, and a
// token reused with other parameters is refused.
func TestCopyImage(t *testing.T) {
	w := newWorld(t, cloudsim.Config{CopyReadyAfter: 10 * time.Minute, KMSKeys: map[string][]string{"cn-shanghai": {"key-sh-1"}}})
	w.cloud.PutImage(region, cloudsim.ImageSpec{ID: "m-Base00000001", Owner: owner})
	w.cloud.PutImage(region, cloudsim.ImageSpec{ID: "m-Secret000001", Owner: owner, Encrypted: "cmk"})
	ctx := context.Background()
	c := w.client(t)
	tags := map[string]string{"imageshare:source": "cn-hangzhou/m-Base00000001", "imageshare:accounts": member}
	in := cloud.CopyImageInput{Region: region, Image: "m-Base00000001", Destination: "cn-shanghai", Tags: tags, ClientToken: "imageshare-tok-1"}
	id, res, err := c.CopyImage(ctx, in)
	if err != nil || res.RequestID == "" || id != cloudsim.CopyID("m-Base00000001", "cn-shanghai", 1) {
		t.Fatalf("CopyImage: %q %v", id, err)
	}
	again, _, err := c.CopyImage(ctx, in)
	if err != nil || again != id {
		t.Fatalf("the same token again: %q %v, want %s", again, err, id)
	}
	if n := len(w.cloud.Images("cn-shanghai")); n != 1 {
		t.Fatalf("%d images in cn-shanghai after a repeated token, want 1", n)
	}
	other := in
	other.Tags = map[string]string{"imageshare:source": "cn-hangzhou/m-Base00000001"}
	if _, _, err := c.CopyImage(ctx, other); cloud.Code(err) != "IdempotentParameterMismatch" {
		t.Fatalf("the token with other tags: %v, want IdempotentParameterMismatch", err)
	}
	// Found again by its origin key in its region, Creating, only when every status is asked for.
	find := cloud.DescribeImagesInput{Region: "cn-shanghai", OwnerAlias: "self", Page: 1, PageSize: 100,
		Tags: map[string]string{"imageshare:source": "cn-hangzhou/m-Base00000001"}}
	if p, err := c.DescribeImages(ctx, find); err != nil || len(p.Images) != 0 {
		t.Fatalf("without Status a Creating copy is not listed: %+v %v", p, err)
	}
	find.Statuses = cloud.AllStatuses
	p, err := c.DescribeImages(ctx, find)
	if err != nil || len(p.Images) != 1 || p.Images[0].ID != id || p.Images[0].Status != "Creating" || p.Images[0].Tags["imageshare:accounts"] != member {
		t.Fatalf("lookup by origin key: %+v %v", p, err)
	}
	find.Tags = map[string]string{"imageshare:source": ""} // every copy of the region
	if p, err := c.DescribeImages(ctx, find); err != nil || len(p.Images) != 1 {
		t.Fatalf("lookup by key: %+v %v", p, err)
	}
	if _, err := c.UntagResources(ctx, "cn-shanghai", []string{id}, []string{"imageshare:accounts"}); err != nil {
		t.Fatal(err)
	}
	if v, _ := w.cloud.Image("cn-shanghai", id); v.Tags["imageshare:accounts"] != "" || v.Tags["imageshare:source"] == "" {
		t.Fatalf("after UntagResources: %v", v.Tags)
	}
	w.clock.Advance(10 * time.Minute)
	w.cloud.RunDue()
	if v, _ := w.cloud.Image("cn-shanghai", id); v.Status != "Available" {
		t.Fatalf("copy is %s after its duration", v.Status)
	}

	// Encrypted sources: refused without a key of the destination, and with a key that
	// does not exist there; copied with one that does.
	enc := cloud.CopyImageInput{Region: region, Image: "m-Secret000001", Destination: "cn-shanghai"}
	if _, _, err := c.CopyImage(ctx, enc); cloud.Code(err) != "OperationDeined.EncryptedSnapshot" {
		t.Fatalf("encrypted without a key: %v", err)
	}
	enc.KMSKeyID = "key-bj-1"
	if _, _, err := c.CopyImage(ctx, enc); cloud.Code(err) != "InvalidParameter.KMSKeyId.NotFound" {
		t.Fatalf("a key of another region: %v", err)
	}
	enc.KMSKeyID = "key-sh-1"
	eid, _, err := c.CopyImage(ctx, enc)
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := w.cloud.Image("cn-shanghai", eid); v.Encrypted != "cmk" {
		t.Fatalf("encrypted copy: %+v", v)
	}
	// A region the cloud does not have.
	if _, _, err := c.CopyImage(ctx, cloud.CopyImageInput{Region: region, Image: "m-Base00000001", Destination: "cn-atlantis"}); cloud.Code(err) != "DestinationRegion.NotFound" {
		t.Fatalf("unknown region: %v", err)
	}
}
