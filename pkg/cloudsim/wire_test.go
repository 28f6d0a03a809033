package cloudsim_test

import (
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	sdkerrors "github.com/aliyun/alibaba-cloud-sdk-go/sdk/errors"
	"github.com/aliyun/alibaba-cloud-sdk-go/services/ecs"
	"github.com/aliyun/alibaba-cloud-sdk-go/services/resourcesharing"

	"imageshare/pkg/cloudsim"
	"imageshare/pkg/cloudsim/emu"
	"imageshare/pkg/event"
)

func TestAuthentication(t *testing.T) {
	e := world(t, cloudsim.Config{})
	e.cloud.PutImage(region, cloudsim.ImageSpec{ID: "m-auth", Owner: owner})
	call := func(cred emu.Credential) error {
		req := ecs.CreateDescribeImagesRequest()
		req.RegionId = region
		_, err := e.ecs(cred).DescribeImages(req)
		return err
	}
	wrongSecret := e.ownerKey
	wrongSecret.AccessKeySecret = "not-the-secret"
	otherToken := e.fnKey
	otherToken.SecurityToken = e.keys.AssumeRole(owner, fnRole, "run-2", time.Hour).SecurityToken
	noToken := e.fnKey
	noToken.SecurityToken = ""
	expired := e.keys.AssumeRole(owner, fnRole, "old", -time.Minute)
	unknown := emu.Credential{AccessKeyID: "LTAInope", AccessKeySecret: "x"}
	for _, tc := range []struct {
		name   string
		cred   emu.Credential
		code   string
		status int
	}{
		{"root key", e.ownerKey, "", 0},
		{"STS token", e.fnKey, "", 0},
		{"bad signature", wrongSecret, "SignatureDoesNotMatch", 400},
		{"token of another session", otherToken, "InvalidSecurityToken.Malformed", 400},
		{"STS key without its token", noToken, "MissingSecurityToken", 400},
		{"expired token", expired, "InvalidSecurityToken.Expired", 400},
		{"unknown key", unknown, "InvalidAccessKeyId.NotFound", 404},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := call(tc.cred)
			if got := code(t, err); got != tc.code {
				t.Fatalf("code = %q, want %q (%v)", got, tc.code, err)
			}
			if tc.code != "" && status(t, err) != tc.status {
				t.Fatalf("status = %d, want %d", status(t, err), tc.status)
			}
		})
	}
	if err := call(wrongSecret); !strings.Contains(err.Error(), "Specified signature is not matched with our calculation.") {
		t.Fatalf("message: %v", err)
	}

	// Replays: a nonce is good once; a timestamp must be near the wall clock.
	rec := &recorder{}
	cl := e.ecs(e.ownerKey)
	cl.SetTransport(rec)
	req := ecs.CreateDescribeImagesRequest()
	req.RegionId = region
	_, err := cl.DescribeImages(req)
	must(t, err)
	if st, c := rec.replay(t, nil); st != 400 || c != "SignatureNonceUsed" {
		t.Fatalf("replay: %d %s", st, c)
	}
	old := func(u string) string {
		i := strings.Index(u, "Timestamp=")
		return u[:i] + "Timestamp=2020-01-01T00%3A00%3A00Z" + u[i+len("Timestamp=2006-01-02T15%3A04%3A05Z"):]
	}
	if st, c := rec.replay(t, old); st != 400 || c != "InvalidTimeStamp.Expired" {
		t.Fatalf("old timestamp: %d %s", st, c)
	}
	tampered := func(u string) string { return strings.Replace(u, "RegionId=cn-hangzhou", "RegionId=cn-shanghai", 1) }
	if st, c := rec.replay(t, tampered); st != 400 || c != "SignatureDoesNotMatch" {
		t.Fatalf("tampered: %d %s", st, c)
	}

	// The product's version and actions.
	wrong, err := resourcesharing.NewClientWithOptions(region, sdkConfig(), sdkCred(e.ownerKey))
	must(t, err)
	wrong.Domain = e.srv["ecs"].Addr
	lr := resourcesharing.CreateListResourceSharesRequest()
	lr.RegionId, lr.ResourceOwner = region, "Self"
	if _, err := wrong.ListResourceShares(lr); code(t, err) != "InvalidVersion" {
		t.Fatalf("resourcesharing call to the ECS endpoint: %v", err)
	}
	if _, _, aerr := e.cloud.Call(e.ownerKey.Identity, "ecs", "RunInstances", nil); aerr == nil || aerr.Code != "InvalidAction.NotFound" || aerr.HTTPStatus != 404 {
		t.Fatalf("unknown action: %v", aerr)
	}
}

func TestEvents(t *testing.T) {
	e := world(t, cloudsim.Config{})
	e.cloud.PutImage(region, cloudsim.ImageSpec{ID: "m-ev", Owner: owner})
	fn := e.ecs(e.fnKey)

	must(t, tag(fn, []string{"m-ev"}, map[string]string{"imageshare:mode": "additive"}))
	evs := e.takeEvents()
	if len(evs) != 1 || evs[0].Bus != owner {
		t.Fatalf("events = %v", evs)
	}
	b := decodeEvent(t, evs[0])
	if b.Source != "acs.ecs" || b.Type != "ecs:ActionTrail:ApiCall" || b.AliyunAccountID != owner ||
		b.Time != "2026-01-01T00:00:00Z" || b.PublishTime != "2026-01-01T08:00:00.000PRC" {
		t.Fatalf("envelope = %+v", b)
	}
	d := b.Data
	if d.EventName != "TagResources" || d.EventRW != "Write" || d.ErrorCode != "" || d.AcsRegion != region || d.RequestID == "" {
		t.Fatalf("data = %+v", d)
	}
	p := d.RequestParameters
	if p["ResourceId.1"] != "m-ev" || p["Tag.1.Key"] != "imageshare:mode" || p["Tag.1.Value"] != "additive" ||
		p["ResourceType"] != "image" || p["RegionId"] != region {
		t.Fatalf("requestParameters = %v", p)
	}
	for _, k := range []string{"Signature", "AccessKeyId", "SecurityToken", "SignatureNonce", "Timestamp"} {
		if _, ok := p[k]; ok {
			t.Fatalf("requestParameters carry %s", k)
		}
	}
	u := d.UserIdentity
	if u["type"] != "assumed-role" || u["accountId"] != owner || u["arn"] != "acs:ram::"+owner+":assumed-role/"+fnRole+"/run-1" ||
		u["accessKeyId"] != e.fnKey.AccessKeyID {
		t.Fatalf("userIdentity = %v", u)
	}

	// The functions' own decoder reads it.
	ces, errs := event.Decode(evs[0].Body)
	if len(errs) != 0 || len(ces) != 1 {
		t.Fatalf("event.Decode: %v", errs)
	}
	at, err := event.ParseActionTrail(ces[0])
	must(t, err)
	if at.EventName != "TagResources" || at.UserIdentity.RoleName() != fnRole || at.RequestParameters["ResourceId.1"] != "m-ev" {
		t.Fatalf("ParseActionTrail = %+v", at)
	}

	// A failed write is logged with its error.
	if err := modify(e.ecs(e.ownerKey), "m-ev", []string{owner}, nil, false); err == nil {
		t.Fatal("sharing with oneself succeeded")
	}
	evs = e.takeEvents()
	if len(evs) != 1 {
		t.Fatalf("%d events for a failed call", len(evs))
	}
	if b := decodeEvent(t, evs[0]); b.Data.ErrorCode != "InvalidAccount.Forbbiden" || b.Data.UserIdentity["type"] != "root-account" {
		t.Fatalf("failed call event = %+v", b.Data)
	}
	// So is a share of an image that is not Available: nothing changes.
	e.cloud.PutImage(region, cloudsim.ImageSpec{ID: "m-busy", Owner: owner, Status: "Creating"})
	if err := modify(e.ecs(e.ownerKey), "m-busy", []string{m2}, nil, false); code(t, err) != "IncorrectImageStatus" {
		t.Fatalf("sharing a Creating image: %v", err)
	}
	evs = e.takeEvents()
	if len(evs) != 1 {
		t.Fatalf("%d events for a failed call", len(evs))
	}
	if b := decodeEvent(t, evs[0]); b.Data.ErrorCode != "IncorrectImageStatus" || b.Data.EventName != "ModifyImageSharePermission" ||
		b.Data.RequestParameters["ImageId"] != "m-busy" {
		t.Fatalf("failed share event = %+v", b.Data)
	}
	if im, _ := e.cloud.Image(region, "m-busy"); len(im.Direct) != 0 {
		t.Fatalf("a failed share changed the image: %v", im.Direct)
	}

	// Reads emit nothing; CreateImage names the new image.
	describe(t, fn, nil)
	cr := ecs.CreateCreateImageRequest()
	cr.RegionId, cr.SnapshotId = region, "s-source"
	resp, err := e.ecs(e.ownerKey).CreateImage(cr)
	must(t, err)
	evs = e.takeEvents()
	if len(evs) != 1 || decodeEvent(t, evs[0]).Data.ResponseElements["ImageId"] != resp.ImageId {
		t.Fatalf("CreateImage events = %v", evs)
	}

	// Resource Sharing writes put nothing on the owner's bus; account targets hear of
	// their associations.
	rs := e.rs(e.ownerKey)
	_, err = createShare(rs, "to-m4", []string{"m-ev"}, []string{m4, prod}, false)
	must(t, err)
	if evs := e.takeEvents(); len(evs) != 0 {
		t.Fatalf("CreateResourceShare emitted %v", evs)
	}
	e.advance(20 * time.Second)
	evs = e.takeEvents()
	if len(evs) == 0 {
		t.Fatal("no association event for the account target")
	}
	for _, ev := range evs {
		b := decodeEvent(t, ev)
		if ev.Bus != m4 || b.Type != "resourcemanager:ResourceSharing:AssociationStatusChange" || b.Data.TargetAccountID != m4 ||
			b.Data.ResourceID != "m-ev" || b.Data.AssociationStatus != "Associated" {
			t.Fatalf("association event on %s: %+v", ev.Bus, b)
		}
	}
}

func TestDenyFaultsAndLimits(t *testing.T) {
	t.Run("deny", func(t *testing.T) {
		e := world(t, cloudsim.Config{})
		e.cloud.PutImage(region, cloudsim.ImageSpec{ID: "m-d", Owner: owner})
		if err := e.cloud.RAM().CreatePolicy(owner, "deny", `{"Version":"1","Statement":[{"Effect":"Deny",
			"Action":["ecs:TagResources","resourcesharing:CreateResourceShare"],"Resource":"*"}]}`); err != nil {
			t.Fatal(err)
		}
		if err := e.cloud.RAM().AttachPolicyToRole(owner, emu.PolicyCustom, "deny", fnRole); err != nil {
			t.Fatal(err)
		}
		err := tag(e.ecs(e.fnKey), []string{"m-d"}, map[string]string{"k": "v"})
		if code(t, err) != "Forbidden.RAM" || status(t, err) != 403 {
			t.Fatalf("denied ECS call: %v", err)
		}
		// The SDK reads which action was denied, and how, from AccessDeniedDetail.
		var se *sdkerrors.ServerError
		if !errors.As(err, &se) || se.AccessDeniedDetail()["AuthAction"] != "ecs:TagResources" ||
			se.AccessDeniedDetail()["NoPermissionType"] != "ExplicitDeny" || se.AccessDeniedDetail()["AuthPrincipalType"] != "AssumedRoleUser" {
			t.Fatalf("AccessDeniedDetail of %v", err)
		}
		if _, err := createShare(e.rs(e.fnKey), "x", nil, nil, false); code(t, err) != "NoPermission" || status(t, err) != 403 {
			t.Fatalf("denied RS call: %v", err)
		}
		// The denial is recorded with the action it was checked against.
		var denials []string
		for _, c := range e.cloud.Calls() {
			if c.Denial != "" {
				denials = append(denials, c.Denial)
			}
		}
		if len(denials) != 2 || !strings.HasPrefix(denials[0], "ecs:TagResources on acs:ecs:cn-hangzhou:"+owner+":image/m-d: ExplicitDeny") {
			t.Fatalf("denials = %q", denials)
		}
		// Root identities are not evaluated.
		must(t, tag(e.ecs(e.ownerKey), []string{"m-d"}, map[string]string{"k": "v"}))
		if im, _ := e.cloud.Image(region, "m-d"); len(im.Tags) != 1 {
			t.Fatalf("tags = %v", im.Tags)
		}
	})

	t.Run("throttle", func(t *testing.T) {
		e := world(t, cloudsim.Config{Faults: emu.NewFaultPlan(emu.Faults{Seed: 1, Throttle: 1})})
		e.cloud.PutImage(region, cloudsim.ImageSpec{ID: "m-t", Owner: owner})
		err := tag(e.ecs(e.fnKey), []string{"m-t"}, map[string]string{"k": "v"})
		if code(t, err) != "Throttling.User" || status(t, err) != 400 || !strings.Contains(err.Error(), "Request was denied due to user flow control.") {
			t.Fatalf("throttled call: %v", err)
		}
		if im, _ := e.cloud.Image(region, "m-t"); len(im.Tags) != 0 {
			t.Fatalf("a throttled write was applied: %v", im.Tags)
		}
		if evs := e.takeEvents(); len(evs) != 1 || decodeEvent(t, evs[0]).Data.ErrorCode != "Throttling.User" {
			t.Fatalf("throttled write's event: %v", evs)
		}
		must(t, tag(e.ecs(e.ownerKey), []string{"m-t"}, map[string]string{"k": "v"}))
		calls := e.cloud.Calls()
		if len(calls) != 2 || calls[0].Code != "Throttling.User" || !calls[0].Write || calls[1].Code != "" {
			t.Fatalf("calls = %+v", calls)
		}
	})

	t.Run("server error", func(t *testing.T) {
		faults := emu.Faults{Seed: 7, ServerError: 1}
		e := world(t, cloudsim.Config{Faults: emu.NewFaultPlan(faults)})
		twin := emu.NewFaultPlan(faults) // the same dice, to know what the cloud decided
		applied, skipped := 0, 0
		for i := range 16 {
			id := images("m-s", 16)[i]
			e.cloud.PutImage(region, cloudsim.ImageSpec{ID: id, Owner: owner})
			params := map[string]string{"RegionId": region, "ResourceType": "image", "ResourceId.1": id, "Tag.1.Key": "k", "Tag.1.Value": "v"}
			want := twin.Decide("ecs:TagResources", params)
			_, _, aerr := e.cloud.Call(e.fnKey.Identity, "ecs", "TagResources", params)
			if aerr == nil || (aerr.Code != "ServiceUnavailable" && aerr.Code != "InternalError") || aerr.HTTPStatus < 500 {
				t.Fatalf("server error: %v", aerr)
			}
			im, _ := e.cloud.Image(region, id)
			if got := im.Tags["k"] == "v"; got != want.ApplyWrite {
				t.Fatalf("%s: applied = %v, plan said %v", id, got, want.ApplyWrite)
			}
			if want.ApplyWrite {
				applied++
			} else {
				skipped++
			}
		}
		if applied == 0 || skipped == 0 {
			t.Fatalf("seed gives applied=%d skipped=%d: both cases must be exercised", applied, skipped)
		}
		// Over the wire the SDK sees a 5xx.
		err := tag(e.ecs(e.fnKey), []string{"m-s00"}, map[string]string{"k2": "v"})
		if st := status(t, err); st != 500 && st != 503 {
			t.Fatalf("status = %d", st)
		}
	})

	t.Run("kill", func(t *testing.T) {
		e := world(t, cloudsim.Config{Faults: emu.NewFaultPlan(emu.Faults{Seed: 3, Kill: 1})})
		e.cloud.PutImage(region, cloudsim.ImageSpec{ID: "m-k", Owner: owner})
		var mu sync.Mutex // the hook runs on the server's goroutine
		var killed []emu.Identity
		e.cloud.OnKill(func(id emu.Identity) {
			mu.Lock()
			defer mu.Unlock()
			killed = append(killed, id)
		})
		err := tag(e.ecs(e.fnKey), []string{"m-k"}, map[string]string{"k": "v"})
		if err == nil {
			t.Fatal("a killed call answered")
		}
		mu.Lock()
		defer mu.Unlock()
		if len(killed) != 1 || killed[0].RoleName != fnRole {
			t.Fatalf("OnKill calls = %v", killed)
		}
		if calls := e.cloud.Calls(); len(calls) != 1 || calls[0].Code != "ConnectionAborted" {
			t.Fatalf("calls = %+v", calls)
		}
	})

	t.Run("qps", func(t *testing.T) {
		// One token, refilled every 1000 s: the second call is over the limit whatever
		// the machine's speed.
		e := world(t, cloudsim.Config{QPS: map[string]float64{"DescribeImages": 0.001}})
		cl := e.ecs(e.ownerKey)
		describe(t, cl, nil)
		req := ecs.CreateDescribeImagesRequest()
		req.RegionId = region
		if _, err := cl.DescribeImages(req); code(t, err) != "Throttling.User" {
			t.Fatalf("second call: %v", err)
		}
		lr := resourcesharing.CreateListResourceSharesRequest()
		lr.RegionId, lr.ResourceOwner = region, "Self"
		_, err := e.rs(e.ownerKey).ListResourceShares(lr)
		must(t, err)
	})
}
