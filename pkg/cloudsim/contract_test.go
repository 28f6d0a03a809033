package cloudsim_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/requests"
	"github.com/aliyun/alibaba-cloud-sdk-go/services/ecs"
	"github.com/aliyun/alibaba-cloud-sdk-go/services/resourcemanager"
	"github.com/aliyun/alibaba-cloud-sdk-go/services/resourcesharing"

	"imageshare/pkg/cloudsim"
)

// The API contracts through the SDK wire: a required parameter left out, a value
// outside an enumeration or a range, a list over its limit — each answered with the
// code, HTTP status and message the API's reference documents, and nothing changed.

type contractCase struct {
	name   string
	call   func() error
	code   string
	status int
	msg    string // part of the documented message ("" not checked)
}

func runContractCases(t *testing.T, e *env, cases []contractCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := len(e.cloud.Calls())
			err := tc.call()
			if got := code(t, err); got != tc.code {
				t.Fatalf("code = %q, want %q (%v)", got, tc.code, err)
			}
			if got := status(t, err); got != tc.status {
				t.Errorf("HTTP status = %d, want %d", got, tc.status)
			}
			if tc.msg != "" && !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("message does not say %q: %v", tc.msg, err)
			}
			calls := e.cloud.Calls()[before:]
			if len(calls) != 1 || calls[0].Code != tc.code || calls[0].Status != tc.status {
				t.Errorf("recorded calls = %+v", calls)
			}
		})
	}
}

func TestContractRequiredParameters(t *testing.T) {
	e := world(t, cloudsim.Config{})
	e.cloud.PutImage(region, cloudsim.ImageSpec{ID: "m-1", Owner: owner})
	share := e.cloud.PutResourceShare(region, owner, "golden", []string{prod}, []string{"m-1"})
	ec, rmc, rsc := e.ecs(e.ownerKey), e.rm(e.ownerKey), e.rs(e.ownerKey)
	runContractCases(t, e, []contractCase{
		{"DescribeImageSharePermission without ImageId", func() error {
			req := ecs.CreateDescribeImageSharePermissionRequest()
			req.RegionId = region
			_, err := ec.DescribeImageSharePermission(req)
			return err
		}, "MissingParameter", 400, `The input parameter "ImageId" that is mandatory for processing this request is not supplied.`},
		{"ModifyImageSharePermission without ImageId", func() error {
			req := ecs.CreateModifyImageSharePermissionRequest()
			req.RegionId, req.AddAccount = region, strs(m2)
			_, err := ec.ModifyImageSharePermission(req)
			return err
		}, "MissingParameter", 400, `"ImageId"`},
		{"TagResources without ResourceType", func() error {
			req := ecs.CreateTagResourcesRequest()
			req.RegionId, req.ResourceId = region, strs("m-1")
			req.Tag = &[]ecs.TagResourcesTag{{Key: "k", Value: "v"}}
			_, err := ec.TagResources(req)
			return err
		}, "MissingParameter.ResourceType", 404, "The parameter - ResourceType should not be null."},
		{"TagResources without tags", func() error {
			req := ecs.CreateTagResourcesRequest()
			req.RegionId, req.ResourceType, req.ResourceId = region, "image", strs("m-1")
			_, err := ec.TagResources(req)
			return err
		}, "MissingParameter.Tags", 404, ""},
		{"TagResources without resources", func() error {
			req := ecs.CreateTagResourcesRequest()
			req.RegionId, req.ResourceType = region, "image"
			req.Tag = &[]ecs.TagResourcesTag{{Key: "k", Value: "v"}}
			_, err := ec.TagResources(req)
			return err
		}, "MissingParameter.ResourceIds", 404, ""},
		{"CreateImage without a source", func() error {
			req := ecs.CreateCreateImageRequest()
			req.RegionId, req.ImageName = region, "built"
			_, err := ec.CreateImage(req)
			return err
		}, "MissingParameter", 400, "SnapshotId or InstanceId or DiskDeviceMapping"},
		{"GetAccount without AccountId", func() error {
			_, err := rmc.GetAccount(resourcemanager.CreateGetAccountRequest())
			return err
		}, "MissingParameter.AccountId", 400, "You must specify AccountId."},
		{"ListAncestors without ChildId", func() error {
			_, err := rmc.ListAncestors(resourcemanager.CreateListAncestorsRequest())
			return err
		}, "MissingParameter.ChildId", 400, ""},
		{"InviteAccountToResourceDirectory without TargetType", func() error {
			req := resourcemanager.CreateInviteAccountToResourceDirectoryRequest()
			req.TargetEntity = outside
			_, err := rmc.InviteAccountToResourceDirectory(req)
			return err
		}, "MissingParameter.TargetType", 400, ""},
		{"CreateResourceAccount without DisplayName", func() error {
			_, err := rmc.CreateResourceAccount(resourcemanager.CreateCreateResourceAccountRequest())
			return err
		}, "MissingParameter.Account.DisplayName", 400, ""},
		{"UpdateResourceShare without ResourceShareName", func() error {
			req := resourcesharing.CreateUpdateResourceShareRequest()
			req.RegionId, req.ResourceShareId, req.AllowExternalTargets = region, share, requests.NewBoolean(false)
			_, err := rsc.UpdateResourceShare(req)
			return err
		}, "MissingParameter.ResourceShareName", 400, "You must specify ResourceShareName."},
		{"DeleteResourceShare without ResourceShareId", func() error {
			req := resourcesharing.CreateDeleteResourceShareRequest()
			req.RegionId = region
			_, err := rsc.DeleteResourceShare(req)
			return err
		}, "MissingParameter.ResourceShareId", 400, ""},
		{"ListResourceShares without ResourceOwner", func() error {
			req := resourcesharing.CreateListResourceSharesRequest()
			req.RegionId = region
			_, err := rsc.ListResourceShares(req)
			return err
		}, "MissingParameter.ResourceOwner", 400, ""},
		{"ListResourceShareAssociations without AssociationType", func() error {
			req := resourcesharing.CreateListResourceShareAssociationsRequest()
			req.RegionId = region
			_, err := rsc.ListResourceShareAssociations(req)
			return err
		}, "MissingParameter.AssociationType", 400, ""},
	})
	if s := e.cloud.ResourceShares(region)[0]; s.Name != "golden" {
		t.Fatalf("a refused update renamed the share: %+v", s)
	}
}

func TestContractEnumsAndRanges(t *testing.T) {
	e := world(t, cloudsim.Config{})
	e.cloud.PutImage(region, cloudsim.ImageSpec{ID: "m-1", Owner: owner})
	ec, rmc, rsc := e.ecs(e.ownerKey), e.rm(e.ownerKey), e.rs(e.ownerKey)
	describe := func(mut func(*ecs.DescribeImagesRequest)) func() error {
		return func() error {
			req := ecs.CreateDescribeImagesRequest()
			req.RegionId = region
			mut(req)
			_, err := ec.DescribeImages(req)
			return err
		}
	}
	assoc := func(mut func(*resourcesharing.ListResourceShareAssociationsRequest)) func() error {
		return func() error {
			req := resourcesharing.CreateListResourceShareAssociationsRequest()
			req.RegionId, req.AssociationType = region, "Resource"
			mut(req)
			_, err := rsc.ListResourceShareAssociations(req)
			return err
		}
	}
	runContractCases(t, e, []contractCase{
		{"ImageOwnerAlias", describe(func(r *ecs.DescribeImagesRequest) { r.ImageOwnerAlias = "mine" }),
			"InvalidImageOwnerAlias.ValueNotSupported", 400, "The specified ImageOwnerAlias value is not supported."},
		{"Architecture", describe(func(r *ecs.DescribeImagesRequest) { r.Architecture = "sparc" }), "InvalidArchitecture", 404, ""},
		{"Usage", describe(func(r *ecs.DescribeImagesRequest) { r.Usage = "busy" }), "InvalidUsage", 404, ""},
		{"DescribeImages PageSize", describe(func(r *ecs.DescribeImagesRequest) { r.PageSize = requests.NewInteger(101) }), "InvalidParamter", 400, ""},
		{"DescribeImageSharePermission PageSize", func() error {
			req := ecs.CreateDescribeImageSharePermissionRequest()
			req.RegionId, req.ImageId, req.PageSize = region, "m-1", requests.NewInteger(101)
			_, err := ec.DescribeImageSharePermission(req)
			return err
		}, "InvalidParameter.PageSize", 400, ""},
		{"tag ResourceType", func() error {
			req := ecs.CreateTagResourcesRequest()
			req.RegionId, req.ResourceType, req.ResourceId = region, "images", strs("m-1")
			req.Tag = &[]ecs.TagResourcesTag{{Key: "k", Value: "v"}}
			_, err := ec.TagResources(req)
			return err
		}, "InvalidResourceType.NotFound", 404, ""},
		{"tag key too long", func() error {
			req := ecs.CreateTagResourcesRequest()
			req.RegionId, req.ResourceType, req.ResourceId = region, "image", strs("m-1")
			req.Tag = &[]ecs.TagResourcesTag{{Key: strings.Repeat("k", 129), Value: "v"}}
			_, err := ec.TagResources(req)
			return err
		}, "InvalidTagKey.Malformed", 400, ""},
		{"duplicate tag key", func() error {
			req := ecs.CreateTagResourcesRequest()
			req.RegionId, req.ResourceType, req.ResourceId = region, "image", strs("m-1")
			req.Tag = &[]ecs.TagResourcesTag{{Key: "k", Value: "1"}, {Key: "k", Value: "2"}}
			_, err := ec.TagResources(req)
			return err
		}, "Duplicate.TagKey", 400, ""},
		{"LaunchPermission", func() error {
			req := ecs.CreateModifyImageSharePermissionRequest()
			req.RegionId, req.ImageId, req.LaunchPermission = region, "m-1", "hide"
			_, err := ec.ModifyImageSharePermission(req)
			return err
		}, "ForbiddenParameter.LaunchPermission", 400, ""},
		{"InviteAccount TargetType", func() error {
			req := resourcemanager.CreateInviteAccountToResourceDirectoryRequest()
			req.TargetEntity, req.TargetType = outside, "Phone"
			_, err := rmc.InviteAccountToResourceDirectory(req)
			return err
		}, "InvalidParameter.TargetType", 400, ""},
		{"ListAccounts PageSize", func() error {
			req := resourcemanager.CreateListAccountsRequest()
			req.PageSize = requests.NewInteger(101)
			_, err := rmc.ListAccounts(req)
			return err
		}, "InvalidParameter.PageSize", 400, ""},
		{"GetAccount AccountId", func() error {
			req := resourcemanager.CreateGetAccountRequest()
			req.AccountId = "42"
			_, err := rmc.GetAccount(req)
			return err
		}, "InvalidParameter.AccountId", 400, ""},
		{"ListAccountsForParent ParentFolderId", func() error {
			req := resourcemanager.CreateListAccountsForParentRequest()
			req.ParentFolderId = "folder-1"
			_, err := rmc.ListAccountsForParent(req)
			return err
		}, "InvalidParameter.ParentFolderId", 400, ""},
		{"CreateResourceAccount DisplayName length", func() error {
			req := resourcemanager.CreateCreateResourceAccountRequest()
			req.DisplayName = strings.Repeat("d", 51)
			_, err := rmc.CreateResourceAccount(req)
			return err
		}, "InvalidParameter.Account.DisplayName.Length", 400, ""},
		{"ResourceOwner", func() error {
			req := resourcesharing.CreateListResourceSharesRequest()
			req.RegionId, req.ResourceOwner = region, "Me"
			_, err := rsc.ListResourceShares(req)
			return err
		}, "InvalidParameter.ResourceOwner", 400, "The ResourceOwner is invalid."},
		{"ResourceShareStatus", func() error {
			req := resourcesharing.CreateListResourceSharesRequest()
			req.RegionId, req.ResourceOwner, req.ResourceShareStatus = region, "Self", "Gone"
			_, err := rsc.ListResourceShares(req)
			return err
		}, "InvalidParameter.ResourceShareStatus", 400, ""},
		{"AssociationType", assoc(func(r *resourcesharing.ListResourceShareAssociationsRequest) { r.AssociationType = "Share" }),
			"InvalidParameter.AssociationType", 400, ""},
		{"AssociationStatus", assoc(func(r *resourcesharing.ListResourceShareAssociationsRequest) { r.AssociationStatus = "Done" }),
			"InvalidParameter.AssociationStatus", 400, ""},
		{"Target with AssociationType Resource", assoc(func(r *resourcesharing.ListResourceShareAssociationsRequest) { r.Target = m2 }),
			"ConflictedAssociationType", 400, ""},
		{"MaxResults", assoc(func(r *resourcesharing.ListResourceShareAssociationsRequest) { r.MaxResults = requests.NewInteger(101) }),
			"InvalidParameter.MaxResults", 400, ""},
		{"NextToken length", assoc(func(r *resourcesharing.ListResourceShareAssociationsRequest) { r.NextToken = strings.Repeat("t", 257) }),
			"InvalidParameter.NextToken.Length", 400, ""},
		{"Resources ResourceType", func() error {
			req := resourcesharing.CreateCreateResourceShareRequest()
			req.RegionId, req.ResourceShareName = region, "s"
			req.Resources = &[]resourcesharing.CreateResourceShareResources{{ResourceId: "m-1", ResourceType: "Vm"}}
			_, err := rsc.CreateResourceShare(req)
			return err
		}, "InvalidParameter.ResourceType", 400, ""},
		{"PermissionNames", func() error {
			req := resourcesharing.CreateCreateResourceShareRequest()
			req.RegionId, req.ResourceShareName, req.PermissionNames = region, "s", strs("AliyunRSDefaultPermissionVSwitch")
			_, err := rsc.CreateResourceShare(req)
			return err
		}, "EntityNotExists.Permission", 404, ""},
	})
	if n := len(e.cloud.ResourceShares(region)); n != 0 {
		t.Fatalf("%d shares made by refused requests", n)
	}
}

func TestContractListLimits(t *testing.T) {
	e := world(t, cloudsim.Config{})
	var ids, accounts []string
	for i := range 51 {
		id := fmt.Sprintf("m-lim%02d", i)
		ids = append(ids, id)
		e.cloud.PutImage(region, cloudsim.ImageSpec{ID: id, Owner: owner})
		accounts = append(accounts, accountID(i))
	}
	ec, rsc := e.ecs(e.ownerKey), e.rs(e.ownerKey)
	var tags []ecs.TagResourcesTag
	for i := range 21 {
		tags = append(tags, ecs.TagResourcesTag{Key: fmt.Sprintf("k%d", i), Value: "v"})
	}
	six := []string{"rs-a", "rs-b", "rs-c", "rs-d", "rs-e", "rs-f"}
	runContractCases(t, e, []contractCase{
		{"TagResources 51 resources", func() error {
			req := ecs.CreateTagResourcesRequest()
			req.RegionId, req.ResourceType, req.ResourceId = region, "image", strs(ids...)
			req.Tag = &[]ecs.TagResourcesTag{{Key: "k", Value: "v"}}
			_, err := ec.TagResources(req)
			return err
		}, "NumberExceed.ResourceIds", 400, "Valid : 50"},
		{"TagResources 21 tags", func() error {
			req := ecs.CreateTagResourcesRequest()
			req.RegionId, req.ResourceType, req.ResourceId = region, "image", strs(ids[0])
			req.Tag = &tags
			_, err := ec.TagResources(req)
			return err
		}, "NumberExceed.Tags", 400, "Valid : 20"},
		{"DescribeImages 21 tag filters", func() error {
			req := ecs.CreateDescribeImagesRequest()
			req.RegionId = region
			var ft []ecs.DescribeImagesTag
			for _, tg := range tags {
				ft = append(ft, ecs.DescribeImagesTag{Key: tg.Key, Value: tg.Value})
			}
			req.Tag = &ft
			_, err := ec.DescribeImages(req)
			return err
		}, "InvalidTagCount", 400, ""},
		{"ListResourceShares 6 share IDs", func() error {
			req := resourcesharing.CreateListResourceSharesRequest()
			req.RegionId, req.ResourceOwner, req.ResourceShareIds = region, "Self", strs(six...)
			_, err := rsc.ListResourceShares(req)
			return err
		}, "InvalidParameter.ResourceShareIds.Length", 400, ""},
		{"ListSharedResources 6 resource IDs", func() error {
			req := resourcesharing.CreateListSharedResourcesRequest()
			req.RegionId, req.ResourceOwner, req.ResourceIds = region, "Self", strs(ids[:6]...)
			_, err := rsc.ListSharedResources(req)
			return err
		}, "InvalidParameter.ResourceIds.Length", 400, ""},
		{"ListSharedTargets 6 targets", func() error {
			req := resourcesharing.CreateListSharedTargetsRequest()
			req.RegionId, req.ResourceOwner, req.Targets = region, "Self", strs(accounts[:6]...)
			_, err := rsc.ListSharedTargets(req)
			return err
		}, "InvalidParameter.Targets.Length", 400, ""},
		{"duplicate share IDs", func() error {
			req := resourcesharing.CreateListResourceSharesRequest()
			req.RegionId, req.ResourceOwner, req.ResourceShareIds = region, "Self", strs("rs-a", "rs-a")
			_, err := rsc.ListResourceShares(req)
			return err
		}, "InvalidParameter.ResourceShareIds.Duplicate", 400, ""},
	})
	for _, id := range ids {
		if im, _ := e.cloud.Image(region, id); len(im.Tags) != 0 {
			t.Fatalf("a refused TagResources tagged %s", id)
		}
	}
}

// TestDryRun: on the APIs that document DryRun, a valid request with DryRun=true
// answers DryRunOperation (HTTP 400) and changes nothing: no write, no write record,
// no ActionTrail event. A request the contract refuses gets that answer instead.
func TestDryRun(t *testing.T) {
	e := world(t, cloudsim.Config{TrackAccess: true})
	e.cloud.PutImage(region, cloudsim.ImageSpec{ID: "m-dry", Owner: owner, SharedWith: []string{m4}})
	writes := 0
	e.cloud.OnWrite(func(cloudsim.WriteRecord) { writes++ })
	fn := e.ecs(e.fnKey) // the functions' calls are the tracked ones
	e.takeEvents()

	share := ecs.CreateModifyImageSharePermissionRequest()
	share.RegionId, share.ImageId, share.AddAccount = region, "m-dry", strs(m2)
	share.QueryParams["DryRun"] = "true" // v1.63.107's request struct has no DryRun field
	_, err := fn.ModifyImageSharePermission(share)
	if code(t, err) != "DryRunOperation" || status(t, err) != 400 || !strings.Contains(err.Error(), "Request validation has been passed with DryRun flag set.") {
		t.Fatalf("dry run of a valid share: %v", err)
	}
	del := ecs.CreateDeleteImageRequest()
	del.RegionId, del.ImageId, del.Force = region, "m-dry", requests.NewBoolean(true)
	del.QueryParams["DryRun"] = "true"
	if _, err := fn.DeleteImage(del); code(t, err) != "DryRunOperation" {
		t.Fatalf("dry run of a delete: %v", err)
	}
	cr := ecs.CreateCreateImageRequest()
	cr.RegionId, cr.InstanceId, cr.ImageName = region, "i-1", "dry-build"
	cr.QueryParams["DryRun"] = "true"
	if _, err := fn.CreateImage(cr); code(t, err) != "DryRunOperation" {
		t.Fatalf("dry run of a create: %v", err)
	}
	desc := ecs.CreateDescribeImagesRequest()
	desc.RegionId, desc.DryRun = region, requests.NewBoolean(true)
	if _, err := fn.DescribeImages(desc); code(t, err) != "DryRunOperation" {
		t.Fatalf("dry run of a read: %v", err)
	}
	if im, ok := e.cloud.Image(region, "m-dry"); !ok || !slices.Equal(im.Direct, []string{m4}) {
		t.Fatalf("a dry run changed the image: %+v %v", im, ok)
	}
	if n := len(e.cloud.Images(region)); n != 1 {
		t.Fatalf("%d images after a dry-run create", n)
	}
	if evs := e.takeEvents(); len(evs) != 0 || writes != 0 {
		t.Fatalf("dry runs emitted %d events and %d write records", len(evs), writes)
	}

	// The contract comes first: a dry run of an invalid request gets the request's error.
	bad := ecs.CreateModifyImageSharePermissionRequest()
	bad.RegionId = region
	bad.QueryParams["DryRun"] = "true"
	if _, err := fn.ModifyImageSharePermission(bad); code(t, err) != "MissingParameter" {
		t.Fatalf("dry run without ImageId: %v", err)
	}
	// DryRun=false is an ordinary request.
	share.QueryParams["DryRun"] = "false"
	_, err = fn.ModifyImageSharePermission(share)
	must(t, err)
	if im, _ := e.cloud.Image(region, "m-dry"); !slices.Equal(im.Direct, []string{m2, m4}) || writes != 1 {
		t.Fatalf("after a real share: %v (%d writes)", im.Direct, writes)
	}
}

// TestModelledFailures: failures the references document, as the call's error code.
func TestModelledFailures(t *testing.T) {
	e := world(t, cloudsim.Config{})
	e.cloud.PutImage(region, cloudsim.ImageSpec{ID: "m-1", Owner: owner})
	e.cloud.AddAccount("3000000000000002", "intl")
	e.cloud.AddMember("3000000000000002", prod)
	shareID := e.cloud.PutResourceShare(region, owner, "golden", []string{prod}, []string{"m-1"})
	rmc, rsc := e.rm(e.ownerKey), e.rs(e.ownerKey)
	inviteReq := func(target string) *resourcemanager.InviteAccountToResourceDirectoryRequest {
		req := resourcemanager.CreateInviteAccountToResourceDirectoryRequest()
		req.TargetEntity, req.TargetType = target, "Account"
		return req
	}
	_, err := rmc.InviteAccountToResourceDirectory(inviteReq(outside))
	must(t, err)
	runContractCases(t, e, []contractCase{
		{"a second invitation", func() error {
			_, err := rmc.InviteAccountToResourceDirectory(inviteReq(outside))
			return err
		}, "EntityAlreadyExists.Handshake", 409, ""},
		{"inviting a member", func() error {
			_, err := rmc.InviteAccountToResourceDirectory(inviteReq(m2))
			return err
		}, "NotSupport.AccountInAnotherResourceDirectory", 409, ""},
		{"removing the management account", func() error {
			req := resourcemanager.CreateRemoveCloudAccountRequest()
			req.AccountId = owner
			_, err := rmc.RemoveCloudAccount(req)
			return err
		}, "AccountTypeOrStatusMismatch", 409, ""},
		{"a display name taken", func() error {
			req := resourcemanager.CreateCreateResourceAccountRequest()
			req.DisplayName = "account-" + m2
			_, err := rmc.CreateResourceAccount(req)
			return err
		}, "InvalidParameter.Account.DisplayName.AlreadyUsed", 409, ""},
		{"a cross-site member as target", func() error {
			_, err := associate(rsc, shareID, nil, []string{"3000000000000002"})
			return err
		}, "InvalidTarget.SiteMismatch", 409, "Cross-site resource sharing is not supported."},
		{"a target outside the directory", func() error {
			_, err := associate(rsc, shareID, nil, []string{outside})
			return err
		}, "InvalidTarget", 400, "The shared target does not exist in the resource directory."},
		{"disassociating what the share never held", func() error {
			return disassociate(rsc, shareID, nil, []string{team})
		}, "DisassociateInvalid", 400, ""},
	})
	// Deleting a member that joined by invitation is refused; created ones go.
	e.cloud.AddAccount("2000000000000005", "china")
	if err := e.cloud.InviteAccountAs(e.ownerKey.Identity, "2000000000000005", rootID, 0); err != nil {
		t.Fatal(err)
	}
	e.advance(time.Second)
	del := resourcemanager.CreateDeleteAccountRequest()
	del.AccountId = "2000000000000005"
	if _, err := rmc.DeleteAccount(del); code(t, err) != "MemberTypeError.DeleteAccount" {
		t.Fatalf("deleting an invited member: %v", err)
	}
}

// TestDelegatedAdministrator: the management account registers a member as a delegated
// administrator; it may then read the directory — not change it, not see invitations —
// and other members still may not read it. It shares its own images with folders and
// the whole directory like any member.
func TestDelegatedAdministrator(t *testing.T) {
	e := world(t, cloudsim.Config{})
	mgmt, da, plain := e.rm(e.ownerKey), e.rm(e.keys.AccessKey(m2)), e.rm(e.keys.AccessKey(m3))
	const svc = "resourcesharing.aliyuncs.com"
	register := func(cl *resourcemanager.Client, acc, principal string) error {
		req := resourcemanager.CreateRegisterDelegatedAdministratorRequest()
		req.AccountId, req.ServicePrincipal = acc, principal
		_, err := cl.RegisterDelegatedAdministrator(req)
		return err
	}
	listAccounts := func(cl *resourcemanager.Client) (int, error) {
		resp, err := cl.ListAccounts(resourcemanager.CreateListAccountsRequest())
		if err != nil {
			return 0, err
		}
		return resp.TotalCount, nil
	}
	if _, err := listAccounts(da); code(t, err) != "EntityNotExists.ResourceDirectory" || status(t, err) != 404 {
		t.Fatalf("a member reading the directory before it is registered: %v", err)
	}
	for _, tc := range []struct {
		name, acc, svc, code string
		cl                   *resourcemanager.Client
	}{
		{"the management account itself", owner, svc, "CannotRegisterMasterAsDelegatedAdministrator", mgmt},
		{"not a member", outside, svc, "EntityNotExists.Account", mgmt},
		{"a bad service principal", m2, "resourcesharing", "InvalidParameter.ServicePrincipal", mgmt},
		{"by a member", m2, svc, "EntityNotExists.ResourceDirectory", plain},
	} {
		if err := register(tc.cl, tc.acc, tc.svc); code(t, err) != tc.code {
			t.Errorf("register %s: %v, want %s", tc.name, err, tc.code)
		}
	}
	must(t, register(mgmt, m2, svc))
	if err := register(mgmt, m2, svc); code(t, err) != "AccountAlreadyRegistered" {
		t.Fatalf("registering twice: %v", err)
	}

	// The delegated administrator reads the directory.
	if n, err := listAccounts(da); err != nil || n != 4 {
		t.Fatalf("delegated administrator ListAccounts: %d %v", n, err)
	}
	ga := resourcemanager.CreateGetAccountRequest()
	ga.AccountId = m3
	if acc, err := da.GetAccount(ga); err != nil || acc.Account.ResourceDirectoryPath != dirID+"/"+rootID+"/"+prod+"/"+team+"/"+m3 {
		t.Fatalf("delegated administrator GetAccount: %+v %v", acc, err)
	}
	anc := resourcemanager.CreateListAncestorsRequest()
	anc.ChildId = team
	if resp, err := da.ListAncestors(anc); err != nil || len(resp.Folders.Folder) != 2 {
		t.Fatalf("delegated administrator ListAncestors: %v", err)
	}
	if resp, err := da.ListFoldersForParent(resourcemanager.CreateListFoldersForParentRequest()); err != nil || resp.TotalCount != 2 {
		t.Fatalf("delegated administrator ListFoldersForParent: %v", err)
	}
	// … but does not change it, nor see its invitations.
	if _, err := da.ListHandshakesForResourceDirectory(resourcemanager.CreateListHandshakesForResourceDirectoryRequest()); code(t, err) != "EntityNotExists.ResourceDirectory" {
		t.Fatalf("delegated administrator ListHandshakes: %v", err)
	}
	mv := resourcemanager.CreateMoveAccountRequest()
	mv.AccountId, mv.DestinationFolderId = m3, other
	if _, err := da.MoveAccount(mv); code(t, err) != "EntityNotExists.ResourceDirectory" {
		t.Fatalf("delegated administrator MoveAccount: %v", err)
	}
	// Another member still may not read it.
	if _, err := listAccounts(plain); code(t, err) != "EntityNotExists.ResourceDirectory" {
		t.Fatalf("another member ListAccounts: %v", err)
	}

	// The management account sees the registration.
	lda, err := mgmt.ListDelegatedAdministrators(resourcemanager.CreateListDelegatedAdministratorsRequest())
	must(t, err)
	if lda.TotalCount != 1 || lda.Accounts.Account[0].AccountId != m2 || lda.Accounts.Account[0].ServicePrincipal != svc {
		t.Fatalf("ListDelegatedAdministrators = %+v", lda.Accounts)
	}
	lds := resourcemanager.CreateListDelegatedServicesForAccountRequest()
	lds.AccountId = m2
	if resp, err := mgmt.ListDelegatedServicesForAccount(lds); err != nil || len(resp.DelegatedServices.DelegatedService) != 1 ||
		resp.DelegatedServices.DelegatedService[0].ServicePrincipal != svc {
		t.Fatalf("ListDelegatedServicesForAccount: %+v %v", resp, err)
	}

	// It shares its own images with a folder and the whole directory.
	e.cloud.PutImage(region, cloudsim.ImageSpec{ID: "m-factory", Owner: m2})
	_, err = createShare(e.rs(e.keys.AccessKey(m2)), "factory", []string{"m-factory"}, []string{prod, dirID}, false)
	must(t, err)
	e.advance(time.Minute)
	if got := sortedSet(e.cloud.Access(region, "m-factory")); !slices.Equal(got, []string{owner, m3, m4}) {
		t.Fatalf("the factory's image reaches %v", got)
	}

	// A delegated administrator cannot leave before it is deregistered.
	rc := resourcemanager.CreateRemoveCloudAccountRequest()
	rc.AccountId = m2
	if _, err := mgmt.RemoveCloudAccount(rc); code(t, err) != "Deny.TrustedService" {
		t.Fatalf("removing a delegated administrator: %v", err)
	}
	dr := resourcemanager.CreateDeregisterDelegatedAdministratorRequest()
	dr.AccountId, dr.ServicePrincipal = m2, svc
	_, err = mgmt.DeregisterDelegatedAdministrator(dr)
	must(t, err)
	if _, err := mgmt.DeregisterDelegatedAdministrator(dr); code(t, err) != "AccountNotRegistered" {
		t.Fatalf("deregistering twice: %v", err)
	}
	if _, err := listAccounts(da); code(t, err) != "EntityNotExists.ResourceDirectory" {
		t.Fatalf("reading after deregistration: %v", err)
	}
	_, err = mgmt.RemoveCloudAccount(rc)
	must(t, err)
}
