package cloudsim_test

import (
	"encoding/json"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/requests"
	"github.com/aliyun/alibaba-cloud-sdk-go/services/resourcesharing"

	"imageshare/pkg/cloudsim"
)

func createShare(cl *resourcesharing.Client, name string, images, targets []string, external bool) (*resourcesharing.CreateResourceShareResponse, error) {
	req := resourcesharing.CreateCreateResourceShareRequest()
	req.RegionId, req.ResourceShareName = region, name
	req.AllowExternalTargets = requests.NewBoolean(external)
	if len(images) > 0 {
		var rs []resourcesharing.CreateResourceShareResources
		for _, im := range images {
			rs = append(rs, resourcesharing.CreateResourceShareResources{ResourceId: im, ResourceType: "Image"})
		}
		req.Resources = &rs
	}
	if len(targets) > 0 {
		req.Targets = &targets
	}
	return cl.CreateResourceShare(req)
}

func associate(cl *resourcesharing.Client, share string, images, targets []string) (*resourcesharing.AssociateResourceShareResponse, error) {
	req := resourcesharing.CreateAssociateResourceShareRequest()
	req.RegionId, req.ResourceShareId = region, share
	if len(images) > 0 {
		var rs []resourcesharing.AssociateResourceShareResources
		for _, im := range images {
			rs = append(rs, resourcesharing.AssociateResourceShareResources{ResourceId: im, ResourceType: "Image"})
		}
		req.Resources = &rs
	}
	if len(targets) > 0 {
		req.Targets = &targets
	}
	return cl.AssociateResourceShare(req)
}

func disassociate(cl *resourcesharing.Client, share string, images, targets []string) error {
	req := resourcesharing.CreateDisassociateResourceShareRequest()
	req.RegionId, req.ResourceShareId, req.ResourceOwner = region, share, "Self"
	if len(images) > 0 {
		var rs []resourcesharing.DisassociateResourceShareResources
		for _, im := range images {
			rs = append(rs, resourcesharing.DisassociateResourceShareResources{ResourceId: im, ResourceType: "Image"})
		}
		req.Resources = &rs
	}
	if len(targets) > 0 {
		req.Targets = &targets
	}
	_, err := cl.DisassociateResourceShare(req)
	return err
}

func associations(t *testing.T, cl *resourcesharing.Client, kind string) []resourcesharing.ResourceShareAssociation {
	t.Helper()
	var out []resourcesharing.ResourceShareAssociation
	for token := ""; ; {
		req := resourcesharing.CreateListResourceShareAssociationsRequest()
		req.RegionId, req.AssociationType, req.NextToken = region, kind, token
		req.MaxResults = requests.NewInteger(100)
		resp, err := cl.ListResourceShareAssociations(req)
		must(t, err)
		out = append(out, resp.ResourceShareAssociations...)
		if token = resp.NextToken; token == "" {
			return out
		}
	}
}

func images(prefix string, n int) []string {
	var out []string
	for i := range n {
		out = append(out, fmt.Sprintf("%s%02d", prefix, i))
	}
	return out
}

func TestResourceShareArgumentLimits(t *testing.T) {
	e := world(t, cloudsim.Config{})
	for _, id := range images("m-r", 6) {
		e.cloud.PutImage(region, cloudsim.ImageSpec{ID: id, Owner: owner})
	}
	for i := range 6 {
		e.cloud.AddAccount(accountID(i), "china")
		e.cloud.AddMember(accountID(i), prod)
	}
	cl := e.rs(e.ownerKey)
	six := []string{accountID(0), accountID(1), accountID(2), accountID(3), accountID(4), accountID(5)}
	for _, tc := range []struct {
		name            string
		share           string
		images, targets []string
		code            string
	}{
		{"6 resources", "ok", images("m-r", 6), nil, "InvalidParameter.Resources.Length"},
		{"6 targets", "ok", nil, six, "InvalidParameter.Targets.Length"},
		{"duplicate targets", "ok", nil, []string{prod, prod}, "InvalidParameter.Targets.Duplicate"},
		{"bad name", "no spaces", nil, nil, "InvalidParameter.ResourceShareName"},
		{"long name", string(slices.Repeat([]byte("a"), 51)), nil, nil, "InvalidParameter.ResourceShareName.Length"},
		{"unknown image", "ok", []string{"m-nope"}, nil, "InvalidParameter.Resources"},
		{"5 and 5", "ok", images("m-r", 5), six[:5], ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := createShare(cl, tc.share, tc.images, tc.targets, false)
			if got := code(t, err); got != tc.code {
				t.Fatalf("code = %q, want %q", got, tc.code)
			}
			if tc.code != "" && status(t, err) != 400 {
				t.Fatalf("status = %d", status(t, err))
			}
		})
	}
	if n := len(e.cloud.ResourceShares(region)); n != 1 {
		t.Fatalf("%d shares exist, want only the valid one", n)
	}
	share := e.cloud.ResourceShares(region)[0].ID
	if _, err := associate(cl, share, images("m-r", 6), nil); code(t, err) != "InvalidParameter.Resources.Length" {
		t.Fatalf("associate 6 resources: %v", err)
	}
	if err := disassociate(cl, share, nil, six); code(t, err) != "InvalidParameter.Targets.Length" {
		t.Fatalf("disassociate 6 targets: %v", err)
	}
	if _, err := associate(cl, share, nil, nil); code(t, err) != "ResourceAndTargetBothEmpty" {
		t.Fatalf("associate nothing: %v", err)
	}
}

func TestAssociationLifecycle(t *testing.T) {
	e := world(t, cloudsim.Config{AssociationDelay: 30 * time.Second})
	e.cloud.PutImage(region, cloudsim.ImageSpec{ID: "m-org", Owner: owner})
	cl := e.rs(e.ownerKey)

	resp, err := createShare(cl, "imageshare-abc", []string{"m-org"}, []string{prod}, false)
	must(t, err)
	share := resp.ResourceShare
	if share.ResourceShareStatus != "Active" || share.ResourceShareOwner != owner || share.AllowExternalTargets {
		t.Fatalf("share = %+v", share)
	}
	for _, a := range slices.Concat(associations(t, cl, "Resource"), associations(t, cl, "Target")) {
		if a.AssociationStatus != "Associating" || a.ResourceShareId != share.ResourceShareId {
			t.Fatalf("fresh association = %+v", a)
		}
	}
	if len(e.cloud.Access(region, "m-org")) != 0 {
		t.Fatal("access before the associations settle")
	}
	if at, ok := e.cloud.NextDue(); !ok || !at.Equal(e.clock.Now().Add(30*time.Second)) {
		t.Fatalf("NextDue = %v %v", at, ok)
	}
	// Associating the same entities again is fine.
	_, err = associate(cl, share.ResourceShareId, []string{"m-org"}, []string{prod})
	must(t, err)
	if err := disassociate(cl, share.ResourceShareId, nil, []string{prod}); code(t, err) != "DisassociateConflict" || status(t, err) != 409 {
		t.Fatalf("disassociate while associating: %v", err)
	}

	e.advance(30 * time.Second)
	for _, a := range slices.Concat(associations(t, cl, "Resource"), associations(t, cl, "Target")) {
		if a.AssociationStatus != "Associated" {
			t.Fatalf("after the delay = %+v", a)
		}
	}
	if got := sortedSet(e.cloud.Access(region, "m-org")); !slices.Equal(got, []string{m2, m3}) {
		t.Fatalf("access through prod = %v, want the members in prod and below", got)
	}
	if im, _ := e.cloud.Image(region, "m-org"); !slices.Equal(im.Organization, []string{prod}) {
		t.Fatalf("Organization = %v", im.Organization)
	}

	must(t, disassociate(cl, share.ResourceShareId, nil, []string{prod}))
	if _, err := associate(cl, share.ResourceShareId, nil, []string{prod}); code(t, err) != "AssociateConflict" || status(t, err) != 409 {
		t.Fatalf("associate while disassociating: %v", err)
	}
	if len(e.cloud.Access(region, "m-org")) != 0 {
		t.Fatal("a Disassociating target still grants access")
	}
	e.advance(30 * time.Second)
	ts := associations(t, cl, "Target")
	if len(ts) != 1 || ts[0].AssociationStatus != "Disassociated" {
		t.Fatalf("targets after disassociation = %+v", ts)
	}
	// Associating again after Disassociated starts over.
	_, err = associate(cl, share.ResourceShareId, nil, []string{prod})
	must(t, err)
	e.advance(30 * time.Second)
	if got := sortedSet(e.cloud.Access(region, "m-org")); !slices.Equal(got, []string{m2, m3}) {
		t.Fatalf("access after re-association = %v", got)
	}
	// Disassociated records are purged 48 h later.
	must(t, disassociate(cl, share.ResourceShareId, nil, []string{prod}))
	e.advance(30 * time.Second)
	if _, ok := e.cloud.NextDue(); ok {
		t.Fatal("the purge must not count as a pending transition")
	}
	e.advance(48 * time.Hour)
	if ts := associations(t, cl, "Target"); len(ts) != 0 {
		t.Fatalf("targets 48h after disassociation = %+v", ts)
	}

	del := resourcesharing.CreateDeleteResourceShareRequest()
	del.RegionId, del.ResourceShareId = region, share.ResourceShareId
	_, err = cl.DeleteResourceShare(del)
	must(t, err)
	if s := e.cloud.ResourceShares(region)[0]; s.Status != "Deleting" || s.Resources["m-org"] != "Disassociated" {
		t.Fatalf("after delete: %+v", s)
	}
	if _, err := associate(cl, share.ResourceShareId, nil, []string{prod}); code(t, err) != "ResourceShareStatusMismatchAction" {
		t.Fatalf("associate with a deleting share: %v", err)
	}
	e.advance(30 * time.Second)
	if s := e.cloud.ResourceShares(region)[0]; s.Status != "Deleted" {
		t.Fatalf("after the delay: %s", s.Status)
	}
}

func TestSharedResourceQuota(t *testing.T) {
	e := world(t, cloudsim.Config{MaxSharedResources: 2, MaxResourceShares: 2})
	for _, id := range []string{"m-f1", "m-f2", "m-f3"} {
		e.cloud.PutImage(region, cloudsim.ImageSpec{ID: id, Owner: owner})
	}
	cl := e.rs(e.ownerKey)

	// QuotaExceeded.SharedResource.Count is the call's answer, all or nothing: a call
	// that would take the account over its quota shares nothing.
	if _, err := createShare(cl, "limits", []string{"m-f1", "m-f2", "m-f3"}, []string{dirID}, false); code(t, err) != "QuotaExceeded.SharedResource.Count" || status(t, err) != 409 {
		t.Fatalf("three resources with a quota of two: %v", err)
	}
	if n := len(e.cloud.ResourceShares(region)); n != 0 {
		t.Fatalf("%d shares made by a refused call", n)
	}
	resp, err := createShare(cl, "limits", []string{"m-f1", "m-f2"}, []string{dirID}, false)
	must(t, err)
	share := resp.ResourceShare.ResourceShareId
	if _, err := associate(cl, share, []string{"m-f3"}, nil); code(t, err) != "QuotaExceeded.SharedResource.Count" {
		t.Fatalf("associating when the quota is full: %v", err)
	}
	// Associating again what is there takes no quota.
	_, err = associate(cl, share, []string{"m-f1"}, nil)
	must(t, err)
	e.advance(20 * time.Second)
	must(t, disassociate(cl, share, []string{"m-f1"}, nil)) // make room
	e.advance(20 * time.Second)
	_, err = associate(cl, share, []string{"m-f3"}, nil)
	must(t, err)
	e.advance(20 * time.Second)
	if !e.cloud.Access(region, "m-f3")[m3] || e.cloud.Access(region, "m-f1")[m3] {
		t.Fatal("access must follow the associations")
	}
	if _, err := createShare(cl, "second", nil, nil, false); err != nil {
		t.Fatal(err)
	}
	if _, err := createShare(cl, "third", nil, nil, false); code(t, err) != "QuotaExceeded.ResourceShare.Count" {
		t.Fatalf("a third share with a quota of 2: %v", err)
	}
}

// failedDetail is one AssociationFailedDetails item as the wire carries it, current and
// deprecated names.
type failedDetail struct {
	EntityId, EntityType, FailureReason, FailureDescription, OperationType string
	Status, StatusMessage, AssociateType                                   *string
}

// rawAssociations reads ListResourceShareAssociations' raw JSON (the SDK's struct only
// has the deprecated names of the failure details).
func rawAssociations(t *testing.T, cl *resourcesharing.Client, kind string) map[string][]failedDetail {
	t.Helper()
	req := resourcesharing.CreateListResourceShareAssociationsRequest()
	req.RegionId, req.AssociationType = region, kind
	req.MaxResults = requests.NewInteger(100)
	resp, err := cl.ListResourceShareAssociations(req)
	must(t, err)
	var raw struct {
		ResourceShareAssociations []struct {
			EntityId, AssociationStatus string
			AssociationFailedDetails    []failedDetail
		}
	}
	if err := json.Unmarshal(resp.GetHttpContentBytes(), &raw); err != nil {
		t.Fatal(err)
	}
	out := map[string][]failedDetail{}
	for _, a := range raw.ResourceShareAssociations {
		if a.AssociationStatus == "Failed" {
			out[a.EntityId] = a.AssociationFailedDetails
		}
	}
	return out
}

// TestFailedAssociationDetails: an image encrypted with the service key cannot be
// shared: its association ends Failed, and AssociationFailedDetails name each target
// it failed with (EntityId and EntityType of the counterpart), FailureReason
// UnsupportedOperation and OperationType Associate. The deprecated names (Status,
// StatusMessage, AssociateType) come only behind the switch.
func TestFailedAssociationDetails(t *testing.T) {
	for _, deprecated := range []bool{false, true} {
		t.Run(fmt.Sprintf("deprecated=%v", deprecated), func(t *testing.T) {
			e := world(t, cloudsim.Config{DeprecatedFailureFields: deprecated})
			e.cloud.PutImage(region, cloudsim.ImageSpec{ID: "m-svc", Owner: owner, Encrypted: "service-key"})
			e.cloud.PutImage(region, cloudsim.ImageSpec{ID: "m-plain", Owner: owner})
			cl := e.rs(e.ownerKey)
			_, err := createShare(cl, "svc", []string{"m-svc", "m-plain"}, []string{prod, m4}, false)
			must(t, err)
			e.advance(20 * time.Second)
			got := rawAssociations(t, cl, "Resource")
			if len(got) != 1 || len(got["m-svc"]) != 2 {
				t.Fatalf("failed associations = %+v, want m-svc failing with both targets", got)
			}
			byEntity := map[string]failedDetail{}
			for _, d := range got["m-svc"] {
				byEntity[d.EntityId] = d
			}
			if byEntity[prod].EntityType != "Folder" || byEntity[m4].EntityType != "Account" {
				t.Fatalf("details = %+v, want one per target with its type", got["m-svc"])
			}
			for _, d := range got["m-svc"] {
				if d.FailureReason != "UnsupportedOperation" || d.OperationType != "Associate" || d.FailureDescription == "" {
					t.Fatalf("detail = %+v", d)
				}
				if (d.Status != nil) != deprecated || (d.StatusMessage != nil) != deprecated || (d.AssociateType != nil) != deprecated {
					t.Fatalf("deprecated fields present = %v, want %v: %+v", d.Status != nil, deprecated, d)
				}
				if deprecated && (*d.Status != d.FailureReason || *d.AssociateType != d.OperationType) {
					t.Fatalf("deprecated fields differ from the current ones: %+v", d)
				}
			}
			// The SDK's struct sees the deprecated names only.
			for _, a := range associations(t, cl, "Resource") {
				if a.EntityId != "m-svc" {
					continue
				}
				if a.AssociationStatus != "Failed" || a.AssociationStatusMessage == "" {
					t.Fatalf("m-svc = %+v", a)
				}
				if reason := a.AssociationFailedDetails[0].Status; (reason == "UnsupportedOperation") != deprecated {
					t.Fatalf("SDK Status = %q with the switch %v", reason, deprecated)
				}
			}
			if e.cloud.Access(region, "m-svc")[m2] || !e.cloud.Access(region, "m-plain")[m2] {
				t.Fatal("access must follow the associations")
			}
		})
	}
}

func TestResourceShareTargets(t *testing.T) {
	e := world(t, cloudsim.Config{})
	e.cloud.PutImage(region, cloudsim.ImageSpec{ID: "m-tg", Owner: owner})
	cl := e.rs(e.ownerKey)
	for _, tc := range []struct {
		name     string
		targets  []string
		external bool
		code     string
		status   int
	}{
		{"an account outside the directory", []string{outside}, false, "InvalidTarget", 400},
		{"an unknown folder", []string{"fd-Nope000001"}, false, "InvalidTarget", 400},
		{"another directory", []string{"rd-Other1234"}, false, "InvalidTarget", 400},
		{"the root folder", []string{rootID}, false, "InvalidTarget", 400},
		{"the owner", []string{owner}, false, "ShareWithYourself", 409},
		{"an unknown account, external allowed", []string{"2999999999999999"}, true, "InvalidTarget", 400},
		{"an outside account, external allowed", []string{outside}, true, "", 0},
		{"an account of the other site", []string{intl}, true, "InvalidTarget.SiteMismatch", 409},
		{"directory, folder and member", []string{dirID, team, m4}, false, "", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := createShare(cl, "t", []string{"m-tg"}, tc.targets, tc.external)
			if got := code(t, err); got != tc.code {
				t.Fatalf("code = %q, want %q", got, tc.code)
			}
			if tc.code != "" && status(t, err) != tc.status {
				t.Fatalf("status = %d, want %d", status(t, err), tc.status)
			}
		})
	}

	// Sharing with the directory not enabled.
	e2 := newEnv(t, cloudsim.Config{})
	e2.cloud.AddAccount(owner, "china")
	e2.cloud.AddAccount(m2, "china")
	e2.cloud.SetDirectory(cloudsim.DirectorySpec{ID: dirID, RootID: rootID, Master: owner})
	e2.cloud.AddMember(m2, rootID)
	e2.cloud.PutImage(region, cloudsim.ImageSpec{ID: "m-tg", Owner: owner})
	e2.ownerKey = e2.keys.AccessKey(owner)
	cl2 := e2.rs(e2.ownerKey)
	if _, err := createShare(cl2, "t", []string{"m-tg"}, []string{m2}, false); code(t, err) != "NotEnableSharingWithResourceDirectory" || status(t, err) != 409 {
		t.Fatalf("sharing not enabled: %v", err)
	}
	chk, err := cl2.CheckSharingWithResourceDirectoryStatus(resourcesharing.CreateCheckSharingWithResourceDirectoryStatusRequest())
	must(t, err)
	if chk.EnableSharingWithRd {
		t.Fatal("CheckSharingWithResourceDirectoryStatus = true before enabling")
	}
	en := resourcesharing.CreateEnableSharingWithResourceDirectoryRequest()
	en.RegionId = region
	_, err = cl2.EnableSharingWithResourceDirectory(en)
	must(t, err)
	if _, err := createShare(cl2, "t", []string{"m-tg"}, []string{m2}, false); err != nil {
		t.Fatalf("after enabling: %v", err)
	}

	// An owner in no directory: a target inside one needs the owner's directory
	// (AccountNotInResourceDirectory); any account is fine with external targets allowed.
	e2.cloud.AddAccount(outside, "china")
	e2.cloud.PutImage(region, cloudsim.ImageSpec{ID: "m-out", Owner: outside})
	outCl := e2.rs(e2.keys.AccessKey(outside))
	if _, err := createShare(outCl, "t", []string{"m-out"}, []string{m2}, false); code(t, err) != "AccountNotInResourceDirectory" || status(t, err) != 409 {
		t.Fatalf("owner without a directory: %v", err)
	}
	if _, err := createShare(outCl, "t", []string{"m-out"}, []string{dirID}, true); code(t, err) != "AccountNotInResourceDirectory" {
		t.Fatalf("owner without a directory, directory target: %v", err)
	}
	if _, err := createShare(outCl, "t", []string{"m-out"}, []string{m2}, true); err != nil {
		t.Fatalf("owner without a directory, external targets allowed: %v", err)
	}
}

func TestResourceSharingPagesEveryItemOnce(t *testing.T) {
	e := world(t, cloudsim.Config{})
	e.cloud.PutImage(region, cloudsim.ImageSpec{ID: "m-p", Owner: owner})
	for i := range 250 {
		e.cloud.PutResourceShare(region, owner, fmt.Sprintf("s%03d", i), []string{prod}, []string{"m-p"})
	}
	e.cloud.PutResourceShare(region, m2, "not-mine", []string{prod}, nil)
	cl := e.rs(e.ownerKey)
	seen := map[string]int{}
	pages := 0
	for token := ""; ; {
		req := resourcesharing.CreateListResourceSharesRequest()
		req.RegionId, req.ResourceOwner, req.NextToken = region, "Self", token
		req.MaxResults = requests.NewInteger(100)
		resp, err := cl.ListResourceShares(req)
		must(t, err)
		pages++
		for _, s := range resp.ResourceShares {
			seen[s.ResourceShareId]++
		}
		if pages == 1 {
			// A share created between pages is listed once, at the end.
			e.cloud.PutResourceShare(region, owner, "late", nil, nil)
		}
		if token = resp.NextToken; token == "" {
			break
		}
	}
	if len(seen) != 251 || pages != 3 {
		t.Fatalf("%d shares in %d pages, want 251 in 3", len(seen), pages)
	}
	for id, n := range seen {
		if n != 1 {
			t.Fatalf("%s listed %d times", id, n)
		}
	}
	if got := associations(t, cl, "Target"); len(got) != 250 {
		t.Fatalf("%d target associations, want 250", len(got))
	}
	req := resourcesharing.CreateListResourceSharesRequest()
	req.RegionId = region
	if _, err := cl.ListResourceShares(req); code(t, err) != "MissingParameter.ResourceOwner" {
		t.Fatalf("without ResourceOwner: %v", err)
	}
	req.ResourceOwner, req.NextToken = "Self", "garbage!"
	if _, err := cl.ListResourceShares(req); code(t, err) != "InvalidParameter.NextToken" {
		t.Fatalf("bad token: %v", err)
	}
	la := resourcesharing.CreateListResourceShareAssociationsRequest()
	la.RegionId = region
	if _, err := cl.ListResourceShareAssociations(la); code(t, err) != "MissingParameter.AssociationType" {
		t.Fatalf("without AssociationType: %v", err)
	}

	// The other side: m2 sees the owner's shares that reach it.
	others := resourcesharing.CreateListSharedResourcesRequest()
	others.RegionId, others.ResourceOwner = region, "OtherAccounts"
	others.MaxResults = requests.NewInteger(100)
	sr, err := e.rs(e.keys.AccessKey(m2)).ListSharedResources(others)
	must(t, err)
	if len(sr.SharedResources) != 100 || sr.SharedResources[0].ResourceId != "m-p" || sr.NextToken == "" {
		t.Fatalf("shared with m2: %d, token %q", len(sr.SharedResources), sr.NextToken)
	}
	st := resourcesharing.CreateListSharedTargetsRequest()
	st.RegionId, st.ResourceOwner, st.ResourceId = region, "Self", "m-p"
	stResp, err := cl.ListSharedTargets(st)
	must(t, err)
	if len(stResp.SharedTargets) != 20 || stResp.SharedTargets[0].TargetId != prod {
		t.Fatalf("shared targets page = %d", len(stResp.SharedTargets))
	}
}
