package emu

import "slices"

// Answer is one error code an emulated service may answer: for which products and
// actions, with which HTTP status, and where the code comes from — a reference URL, or
// "invented: " and why.
type Answer struct {
	Products []string // ecs, resourcemanager, resourcesharing, mns, and the mounted services: ram, sts, eventbridge, mns-open, actiontrail
	Actions  []string // the actions that may answer it; empty: any action
	Code     string
	Status   int // 0: no answer at all (a connection the emulation cuts)
	Source   string
}

// Listed reports whether the catalogue lists code with status for the action of product.
func Listed(product, action, code string, status int) bool {
	for _, a := range Catalogue {
		if a.Code == code && a.Status == status && slices.Contains(a.Products, product) &&
			(len(a.Actions) == 0 || slices.Contains(a.Actions, action)) {
			return true
		}
	}
	return false
}

// ListedAnywhere reports whether the catalogue lists code with status for some action
// of product.
func ListedAnywhere(product, code string, status int) bool {
	for _, a := range Catalogue {
		if a.Code == code && a.Status == status && slices.Contains(a.Products, product) {
			return true
		}
	}
	return false
}

// Codes returns the catalogue's codes an action of product may answer.
func Codes(product, action string) []Answer {
	var out []Answer
	for _, a := range Catalogue {
		if slices.Contains(a.Products, product) && (len(a.Actions) == 0 || slices.Contains(a.Actions, action)) {
			out = append(out, a)
		}
	}
	return out
}

var (
	// rpc: every product served through the RPC wire of package cloudsim, the mounted
	// services included.
	rpc = []string{"ecs", "resourcemanager", "resourcesharing", "ram", "sts", "eventbridge", "mns-open", "actiontrail"}
	ecs = []string{"ecs"}
	rm  = []string{"resourcemanager"}
	rs  = []string{"resourcesharing"}
	mq  = []string{"mns"}
	ra  = []string{"ram"}
	eb  = []string{"eventbridge"}
	mo  = []string{"mns-open"}
	at  = []string{"actiontrail"}
)

func acts(a ...string) []string { return a }

// Reference pages.
const (
	ecsRef = "https://www.alibabacloud.com/help/en/ecs/developer-reference/api-ecs-2014-05-26-"
	rmRef  = "https://www.alibabacloud.com/help/en/resource-management/developer-reference/api-resourcemanager-2020-03-31-"
	rsRef  = "https://www.alibabacloud.com/help/en/resource-management/resource-sharing/developer-reference/api-resourcesharing-2020-01-10-"
	// The MNS error codes page lists every code below with its status and message; the
	// MNS SDK maps the same codes (aliyun-mns-go-sdk v1.0.11 client.go, initMNSErrors).
	mnsRef = "https://www.alibabacloud.com/help/en/mns/developer-reference/syntax-of-error-responses"
	// The API error center's entry for a code, the page every RPC error answer links
	// in its Recommend field.
	errCenter = "https://api.aliyun.com/troubleshoot?q="
	// EventBridge's error codes page (the gateway's codes) and the open-source
	// EventBridge's code table, which Alibaba wrote and whose codes and statuses the
	// cloud's rule and bus answers share.
	ebRef   = "https://www.alibabacloud.com/help/en/eventbridge/error-codes"
	ebCodes = "https://github.com/apache/rocketmq-eventbridge/blob/main/domain/src/main/java/org/apache/rocketmq/eventbridge/domain/common/exception/EventBridgeErrorCode.java"
	mnsOpen = "https://www.alibabacloud.com/help/en/mns/developer-reference/api-mns-open-2022-01-19-"
	// The RAM API's reference pages, each of which lists the action's error codes.
	ramRef = "https://www.alibabacloud.com/help/en/ram/developer-reference/api-ram-2015-05-01-"
	// ActionTrail's LookupEvents page, which lists its error codes.
	atRef = "https://www.alibabacloud.com/help/en/actiontrail/developer-reference/api-actiontrail-2020-07-06-lookupevents"
	// Signature V3 (ACS3-HMAC-SHA256): the request syntax and signature method v3 page.
	v3Ref = "https://www.alibabacloud.com/help/en/sdk/product-overview/v3-request-structure-and-signature"
)

// Catalogue lists every error code the emulated cloud can answer. A code the emulation
// answers and this table does not list fails the tests (Cloud.Unlisted, MNS.Unlisted,
// the sandbox's violations, and the static scan of the emulator's source).
var Catalogue = []Answer{
	// ---- the RPC wire, the credentials and the dispatcher (every RPC product) ----
	{rpc, nil, "MissingParameter", 400, errCenter + "MissingParameter (common: a required request parameter such as Action, Version, AccessKeyId, Signature, SignatureNonce, Timestamp or RegionId is missing)"},
	{rpc, nil, "InvalidParameter", 400, errCenter + "InvalidParameter (common: the request could not be read)"},
	{rpc, nil, "InvalidVersion", 400, errCenter + "InvalidVersion"},
	{rpc, nil, "InvalidAction.NotFound", 404, errCenter + "InvalidAction.NotFound"},
	{rpc, nil, "InvalidTimeStamp.Format", 400, errCenter + "InvalidTimeStamp.Format"},
	{rpc, nil, "InvalidTimeStamp.Expired", 400, errCenter + "InvalidTimeStamp.Expired"},
	{rpc, nil, "InvalidSignatureMethod", 400, errCenter + "InvalidSignatureMethod"},
	{rpc, nil, "SignatureDoesNotMatch", 400, errCenter + "SignatureDoesNotMatch"},
	{rpc, nil, "SignatureNonceUsed", 400, errCenter + "SignatureNonceUsed"},
	{rpc, nil, "InvalidAccessKeyId.NotFound", 404, "https://www.alibabacloud.com/help/doc-detail/69008.htm"},
	{rpc, nil, "MissingSecurityToken", 400, errCenter + "MissingSecurityToken"},
	{rpc, nil, "InvalidSecurityToken.Malformed", 400, errCenter + "InvalidSecurityToken.Malformed"},
	{rpc, nil, "InvalidSecurityToken.Expired", 400, errCenter + "InvalidSecurityToken.Expired"},
	{rpc, nil, "Throttling.User", 400, errCenter + "Throttling.User (flow control; the Terraform provider retries any code matching Throttling)"},
	{rpc, nil, "ServiceUnavailable", 503, errCenter + "ServiceUnavailable"},
	{rpc, nil, "InternalError", 500, errCenter + "InternalError"},
	// RAM denials (the RAM evaluation of the emulated cloud answers them).
	{ecs, nil, "Forbidden.RAM", 403, errCenter + "Forbidden.RAM"},
	{acts2(rm, rs), nil, "NoPermission", 403, errCenter + "NoPermission (Resource Management lists it, 403 \"You are not authorized to perform the operation.\", e.g. for GetResourceGroup)"},
	{ra, nil, "NoPermission", 403, "https://www.alibabacloud.com/help/en/ram/support/how-to-troubleshoot-an-access-denied-error (RAM's own API answers NoPermission, naming the resource and the action)"},
	{at, nil, "NoPermission", 403, "https://www.alibabacloud.com/help/en/ram/support/how-to-troubleshoot-an-access-denied-error (NoPermission: the code of the services that do not name their own; ActionTrail's pages name none)"},
	{acts2(eb, mo), nil, "AccessDenied", 403, ebRef + " (AccessDenied, 403: \"The OwnerId that your Access Key Id associated to is forbidden for this operation.\"; MNS answers the same code)"},
	{append(slices.Clone(rpc), "mns"), nil, "ConnectionAborted", 0, "invented: not an answer — the record of a connection a kill fault cut before any answer"},

	// ---- ECS 2014-05-26 ----
	{ecs, acts("DescribeImages", "ModifyImageSharePermission", "CreateImage", "CopyImage", "DeleteImage"), "DryRunOperation", 400,
		ecsRef + "modifyimagesharepermission (DryRun: \"if the request passes the check, DryRunOperation is returned\"; HTTP 400 as the ECS metadata lists it for ResetDisk)"},
	{ecs, acts("DescribeImages"), "InvalidImageOwnerAlias.ValueNotSupported", 400, ecsRef + "describeimages"},
	{ecs, acts("DescribeImages"), "InvalidOSType", 404, ecsRef + "describeimages"},
	{ecs, acts("DescribeImages"), "InvalidArchitecture", 404, ecsRef + "describeimages"},
	{ecs, acts("DescribeImages"), "InvalidUsage", 404, ecsRef + "describeimages"},
	{ecs, acts("DescribeImages"), "InvalidParamter", 400, ecsRef + "describeimages (sic)"},
	{ecs, acts("DescribeImages", "AddTags", "RemoveTags"), "InvalidTagCount", 400, ecsRef + "describeimages"},
	{ecs, acts("DescribeImageSharePermission"), "InvalidParameter.PageNumber", 400,
		"invented: the reference gives the range (from 1) but no code; named as ECS names it elsewhere (DescribeInstanceAutoRenewAttribute)"},
	{ecs, acts("DescribeImageSharePermission"), "InvalidParameter.PageSize", 400,
		"invented: the reference gives the range (1 to 100) but no code; named as ECS names it elsewhere (DescribeInstanceAutoRenewAttribute)"},
	{ecs, acts("DescribeImageSharePermission", "ModifyImageSharePermission", "CopyImage", "DeleteImage"), "InvalidImageId.NotFound", 404, ecsRef + "modifyimagesharepermission"},
	{ecs, acts("ModifyImageSharePermission"), "ForbiddenParameter.LaunchPermission", 400, ecsRef + "modifyimagesharepermission"},
	{ecs, acts("ModifyImageSharePermission"), "PublicImageAgreement.NotSigned", 403, ecsRef + "modifyimagesharepermission"},
	{ecs, acts("ModifyImageSharePermission"), "OperationDenied.InvalidImageStatus", 403, ecsRef + "modifyimagesharepermission"},
	{ecs, acts("ModifyImageSharePermission", "CopyImage"), "IncorrectImageStatus", 400,
		ecsRef + "copyimage (\"The image not available.\"; ModifyImageSharePermission's 2018 reference lists it too)"},
	{ecs, acts("ModifyImageSharePermission"), "InvalidOperation.ServiceKeyEncryptedImageUnsupported", 403, ecsRef + "modifyimagesharepermission"},
	{ecs, acts("ModifyImageSharePermission"), "AssumeRoleError", 403, ecsRef + "modifyimagesharepermission"},
	{ecs, acts("ModifyImageSharePermission"), "InvalidAccount.NotFound", 404, ecsRef + "modifyimagesharepermission"},
	{ecs, acts("ModifyImageSharePermission"), "InvalidAccount.Forbbiden", 404, ecsRef + "modifyimagesharepermission (sic)"},
	{ecs, acts("ModifyImageSharePermission"), "InvalidImageId.BidMismatch", 403, ecsRef + "modifyimagesharepermission"},
	{ecs, acts("ModifyImageSharePermission"), "QuotaExceed.ShareImageUser", 403, ecsRef + "modifyimagesharepermission"},
	{ecs, acts("TagResources", "UntagResources", "ListTagResources"), "MissingParameter.RegionId", 404, ecsRef + "tagresources"},
	{ecs, acts("TagResources", "UntagResources", "ListTagResources"), "MissingParameter.ResourceType", 404, ecsRef + "tagresources"},
	{ecs, acts("TagResources", "UntagResources"), "MissingParameter.ResourceIds", 404, ecsRef + "tagresources"},
	{ecs, acts("TagResources"), "MissingParameter.Tags", 404, ecsRef + "tagresources"},
	{ecs, acts("TagResources", "UntagResources", "ListTagResources", "AddTags", "RemoveTags"), "InvalidResourceType.NotFound", 404, ecsRef + "tagresources"},
	{ecs, acts("TagResources", "UntagResources", "ListTagResources"), "NumberExceed.ResourceIds", 400, ecsRef + "tagresources"},
	{ecs, acts("TagResources", "UntagResources", "ListTagResources"), "NumberExceed.Tags", 400, ecsRef + "tagresources"},
	{ecs, acts("TagResources", "UntagResources", "ListTagResources", "AddTags", "RemoveTags", "CreateImage", "CopyImage"), "InvalidTagKey.Malformed", 400, ecsRef + "tagresources"},
	{ecs, acts("TagResources", "UntagResources", "ListTagResources", "AddTags", "RemoveTags", "CreateImage", "CopyImage"), "InvalidTagValue.Malformed", 400, ecsRef + "tagresources"},
	{ecs, acts("TagResources", "AddTags", "CreateImage", "CopyImage"), "InvalidTag.Mismatch", 400, ecsRef + "tagresources"},
	{ecs, acts("TagResources", "AddTags", "CreateImage", "CopyImage"), "Duplicate.TagKey", 400, ecsRef + "tagresources"},
	{ecs, acts("TagResources", "AddTags"), "OperationDenied.QuotaExceed", 400, ecsRef + "tagresources"},
	{ecs, acts("TagResources", "UntagResources", "ListTagResources", "AddTags", "RemoveTags"), "InvalidResourceId.NotFound", 404, ecsRef + "tagresources"},
	{ecs, acts("UntagResources"), "Param.Conflict", 403, ecsRef + "untagresources"},
	{ecs, acts("ListTagResources"), "BothEmpty.TagsAndResources", 403, ecsRef + "listtagresources"},
	{ecs, acts("ListTagResources"), "Invalid.NextToken", 403, ecsRef + "listtagresources"},
	{ecs, acts("ListTagResources"), "InvalidParameter.TagValue", 400,
		ecsRef + "listtagresources (Tag.N.Key: \"if you specify only Tag.N.Value, InvalidParameter.TagValue is returned\")"},
	{ecs, acts("CreateImage", "CopyImage"), "InvalidImageName.Malformed", 400, ecsRef + "createimage"},
	{ecs, acts("CreateImage", "CopyImage"), "InvalidImageName.Duplicated", 400, ecsRef + "createimage"},
	{ecs, acts("CreateImage", "CopyImage"), "QuotaExceed.Tags", 403, ecsRef + "createimage"},
	{ecs, acts("CopyImage"), "InvalidParameter.EncryptedIllegal", 400, ecsRef + "copyimage"},
	{ecs, acts("CopyImage"), "InvalidDescription.Malformed", 400, ecsRef + "copyimage"},
	{ecs, acts("CopyImage"), "DestinationRegion.NotFound", 400, ecsRef + "copyimage (\"The destination region not found.\")"},
	{ecs, acts("CopyImage"), "QuotaExceed.Image", 403, ecsRef + "copyimage (\"The Image Quota exceeds.\")"},
	{ecs, acts("CopyImage"), "OperationDenied.NotPublished", 403,
		ecsRef + "copyimage (\"corresponding marketplace image is not published in destination region\")"},
	{ecs, acts("CopyImage"), "OperationDeined.EncryptedSnapshot", 403,
		ecsRef + "copyimage (sic; \"The image contains encrypted snapshots, which do not support copying.\"; answered to a cross-region copy of an encrypted image without a key of the destination region)"},
	{ecs, acts("CopyImage"), "InvalidParameter.KMSKeyId.NotFound", 404, ecsRef + "copyimage (\"The specified KMSKeyId does not exist.\")"},
	{ecs, acts("CopyImage"), "IdempotentParameterMismatch", 403,
		"https://www.alibabacloud.com/help/doc-detail/25693.htm (How to ensure idempotence: a ClientToken reused with other parameters; 403 \"The specified clientToken is used.\" as ECS's metadata lists it for CreateSnapshot)"},
	{ecs, acts("DeleteImage"), "ImageUseShared", 403, ecsRef + "deleteimage"},

	// ---- ResourceManager 2020-03-31 ----
	{rm, acts("GetResourceDirectory"), "ResourceDirectoryNotInUse", 404, rmRef + "getresourcedirectory"},
	{rm, acts("ListAccounts", "ListAccountsForParent", "ListFoldersForParent", "ListAncestors", "GetFolder", "GetAccount",
		"ListHandshakesForResourceDirectory", "CreateResourceAccount", "InviteAccountToResourceDirectory", "MoveAccount",
		"RemoveCloudAccount", "DeleteAccount", "RegisterDelegatedAdministrator", "DeregisterDelegatedAdministrator",
		"ListDelegatedAdministrators", "ListDelegatedServicesForAccount"), "EntityNotExists.ResourceDirectory", 404,
		rmRef + "listaccounts (the answer documented for a caller that has no resource directory to manage; the emulation gives it to members that are neither its management account nor a delegated administrator)"},
	{rm, acts("ListAccounts", "ListAccountsForParent", "ListFoldersForParent", "ListHandshakesForResourceDirectory", "ListDelegatedAdministrators"),
		"InvalidParameter.PageNumber", 400, "invented: the reference gives the range (from 1) but no code"},
	{rm, acts("ListAccounts", "ListAccountsForParent", "ListFoldersForParent", "ListHandshakesForResourceDirectory", "ListDelegatedAdministrators"),
		"InvalidParameter.PageSize", 400, "invented: the reference gives the range (1 to 100) but no code"},
	{rm, acts("ListAccountsForParent", "ListFoldersForParent", "CreateResourceAccount"), "InvalidParameter.ParentFolderId", 400, rmRef + "listaccountsforparent"},
	{rm, acts("ListAccountsForParent", "ListFoldersForParent", "ListAncestors", "GetFolder", "CreateResourceAccount", "MoveAccount"),
		"EntityNotExists.Folder", 404, rmRef + "listaccountsforparent"},
	{rm, acts("ListAncestors"), "MissingParameter.ChildId", 400, rmRef + "listancestors"},
	{rm, acts("ListAncestors"), "InvalidParameter.ChildId", 400, rmRef + "listancestors"},
	{rm, acts("GetFolder"), "MissingParameter.FolderId", 400, rmRef + "getfolder"},
	{rm, acts("GetFolder"), "InvalidParameter.FolderId", 400, rmRef + "getfolder"},
	{rm, acts("GetAccount", "MoveAccount", "RemoveCloudAccount", "DeleteAccount", "RegisterDelegatedAdministrator",
		"DeregisterDelegatedAdministrator", "ListDelegatedServicesForAccount"), "MissingParameter.AccountId", 400, rmRef + "getaccount"},
	{rm, acts("GetAccount", "MoveAccount", "RemoveCloudAccount", "DeleteAccount", "RegisterDelegatedAdministrator",
		"DeregisterDelegatedAdministrator", "ListDelegatedServicesForAccount"), "InvalidParameter.AccountId", 400, rmRef + "getaccount"},
	{rm, acts("GetAccount", "MoveAccount", "RemoveCloudAccount", "DeleteAccount", "RegisterDelegatedAdministrator",
		"ListDelegatedServicesForAccount"), "EntityNotExists.Account", 404, rmRef + "getaccount"},
	{rm, acts("CreateResourceAccount"), "MissingParameter.Account.DisplayName", 400, rmRef + "createresourceaccount"},
	{rm, acts("CreateResourceAccount"), "InvalidParameter.Account.DisplayName", 400, rmRef + "createresourceaccount"},
	{rm, acts("CreateResourceAccount"), "InvalidParameter.Account.DisplayName.Length", 400, rmRef + "createresourceaccount"},
	{rm, acts("CreateResourceAccount"), "InvalidParameter.Account.DisplayName.AlreadyUsed", 409, rmRef + "createresourceaccount"},
	{rm, acts("CreateResourceAccount"), "EntityAlreadyExists.ResourceDirectory.Account", 409,
		rmRef + "createresourceaccount (the service picks new members' IDs; a sandbox step that picks a taken one is answered so)"},
	{rm, acts("InviteAccountToResourceDirectory"), "MissingParameter.TargetEntity", 400, rmRef + "inviteaccounttoresourcedirectory"},
	{rm, acts("InviteAccountToResourceDirectory"), "InvalidParameter.TargetEntity", 400, rmRef + "inviteaccounttoresourcedirectory"},
	{rm, acts("InviteAccountToResourceDirectory"), "MissingParameter.TargetType", 400, rmRef + "inviteaccounttoresourcedirectory"},
	{rm, acts("InviteAccountToResourceDirectory"), "InvalidParameter.TargetType", 400, rmRef + "inviteaccounttoresourcedirectory"},
	{rm, acts("InviteAccountToResourceDirectory"), "InvalidParameter.Note.Length", 400, rmRef + "inviteaccounttoresourcedirectory"},
	{rm, acts("InviteAccountToResourceDirectory", "AcceptHandshake"), "NotSupport.AccountInAnotherResourceDirectory", 409, rmRef + "inviteaccounttoresourcedirectory"},
	{rm, acts("InviteAccountToResourceDirectory"), "EntityAlreadyExists.Handshake", 409, rmRef + "inviteaccounttoresourcedirectory"},
	{rm, acts("AcceptHandshake"), "MissingParameter.HandshakeId", 400, rmRef + "accepthandshake"},
	{rm, acts("AcceptHandshake"), "EntityNotExists.Handshake", 404, rmRef + "accepthandshake"},
	{rm, acts("AcceptHandshake"), "SpecifiedResourceDirectoryNotExists", 404, rmRef + "accepthandshake"},
	{rm, acts("AcceptHandshake"), "HandshakeStatusMismatch", 409, rmRef + "accepthandshake"},
	{rm, acts("MoveAccount"), "MissingParameter.DestinationFolderId", 400, rmRef + "moveaccount"},
	{rm, acts("MoveAccount"), "InvalidParameter.DestinationFolderId", 400, rmRef + "moveaccount"},
	{rm, acts("RemoveCloudAccount", "DeleteAccount"), "AccountTypeOrStatusMismatch", 409, rmRef + "removecloudaccount"},
	{rm, acts("RemoveCloudAccount"), "Deny.TrustedService", 409, rmRef + "removecloudaccount"},
	{rm, acts("DeleteAccount"), "RemoveConfilctAccountAsDelegatedAdministator", 409, rmRef + "deleteaccount (sic)"},
	{rm, acts("DeleteAccount"), "MemberTypeError.DeleteAccount", 409, rmRef + "deleteaccount"},
	{rm, acts("RegisterDelegatedAdministrator", "DeregisterDelegatedAdministrator", "ListDelegatedAdministrators"),
		"InvalidParameter.ServicePrincipal", 409, rmRef + "registerdelegatedadministrator"},
	{rm, acts("RegisterDelegatedAdministrator"), "AccountAlreadyRegistered", 409, rmRef + "registerdelegatedadministrator"},
	{rm, acts("RegisterDelegatedAdministrator"), "CannotRegisterMasterAsDelegatedAdministrator", 409, rmRef + "registerdelegatedadministrator"},
	{rm, acts("DeregisterDelegatedAdministrator"), "AccountNotRegistered", 409, rmRef + "deregisterdelegatedadministrator"},

	// ---- ResourceSharing 2020-01-10 ----
	{rs, acts("EnableSharingWithResourceDirectory"), "ActionNotPermitted", 409, rsRef + "enablesharingwithresourcedirectory"},
	{rs, acts("EnableSharingWithResourceDirectory"), "AlreadyEnabled", 409, rsRef + "enablesharingwithresourcedirectory"},
	{rs, acts("UpdateResourceShare", "DeleteResourceShare", "AssociateResourceShare", "DisassociateResourceShare"),
		"MissingParameter.ResourceShareId", 400, rsRef + "updateresourceshare"},
	{rs, acts("CreateResourceShare", "UpdateResourceShare"), "MissingParameter.ResourceShareName", 400, rsRef + "updateresourceshare"},
	{rs, acts("CreateResourceShare", "UpdateResourceShare", "ListResourceShares"), "InvalidParameter.ResourceShareName", 400, rsRef + "updateresourceshare"},
	{rs, acts("CreateResourceShare", "UpdateResourceShare", "ListResourceShares"), "InvalidParameter.ResourceShareName.Length", 400, rsRef + "updateresourceshare"},
	{rs, acts("UpdateResourceShare", "DeleteResourceShare", "AssociateResourceShare", "DisassociateResourceShare"),
		"EntityNotExists.ResourceShare", 404, rsRef + "updateresourceshare"},
	{rs, acts("UpdateResourceShare", "DeleteResourceShare", "AssociateResourceShare", "DisassociateResourceShare"),
		"ResourceShareStatusMismatchAction", 409, rsRef + "updateresourceshare"},
	{rs, acts("CreateResourceShare", "AssociateResourceShare", "DisassociateResourceShare"), "InvalidParameter.Resources", 400, rsRef + "createresourceshare"},
	{rs, acts("CreateResourceShare", "AssociateResourceShare", "DisassociateResourceShare"), "InvalidParameter.Resources.Duplicate", 400, rsRef + "createresourceshare"},
	{rs, acts("CreateResourceShare", "AssociateResourceShare", "DisassociateResourceShare"), "InvalidParameter.Resources.Length", 400, rsRef + "createresourceshare"},
	{rs, acts("CreateResourceShare", "AssociateResourceShare", "DisassociateResourceShare"), "InvalidParameter.ResourceType", 400, rsRef + "createresourceshare"},
	{rs, acts("CreateResourceShare", "AssociateResourceShare", "DisassociateResourceShare", "ListSharedTargets"), "InvalidParameter.Targets", 400, rsRef + "createresourceshare"},
	{rs, acts("CreateResourceShare", "AssociateResourceShare", "DisassociateResourceShare", "ListSharedTargets"), "InvalidParameter.Targets.Duplicate", 400, rsRef + "createresourceshare"},
	{rs, acts("CreateResourceShare", "AssociateResourceShare", "DisassociateResourceShare", "ListSharedTargets"), "InvalidParameter.Targets.Length", 400, rsRef + "createresourceshare"},
	{rs, acts("CreateResourceShare", "AssociateResourceShare"), "EntityNotExists.Permission", 404, rsRef + "createresourceshare"},
	{rs, acts("CreateResourceShare", "AssociateResourceShare"), "InvalidParameter.PermissionNames.Duplicate", 400, rsRef + "createresourceshare"},
	{rs, acts("CreateResourceShare", "AssociateResourceShare"), "InvalidTarget", 400, rsRef + "createresourceshare"},
	{rs, acts("CreateResourceShare", "AssociateResourceShare"), "InvalidTarget.SiteMismatch", 409, rsRef + "createresourceshare"},
	{rs, acts("CreateResourceShare", "AssociateResourceShare", "DisassociateResourceShare"), "AccountNotInResourceDirectory", 409, rsRef + "createresourceshare"},
	{rs, acts("CreateResourceShare", "AssociateResourceShare"), "NotEnableSharingWithResourceDirectory", 409, rsRef + "createresourceshare"},
	{rs, acts("CreateResourceShare", "AssociateResourceShare"), "ShareWithYourself", 409, rsRef + "createresourceshare"},
	{rs, acts("CreateResourceShare"), "QuotaExceeded.ResourceShare.Count", 409, rsRef + "createresourceshare"},
	{rs, acts("CreateResourceShare", "AssociateResourceShare"), "QuotaExceeded.SharedResource.Count", 409, rsRef + "createresourceshare"},
	{rs, acts("AssociateResourceShare", "DisassociateResourceShare"), "ResourceAndTargetBothEmpty", 400, rsRef + "associateresourceshare"},
	{rs, acts("AssociateResourceShare"), "AssociateConflict", 409, rsRef + "associateresourceshare"},
	{rs, acts("DisassociateResourceShare"), "DisassociateConflict", 409, rsRef + "disassociateresourceshare"},
	{rs, acts("DisassociateResourceShare"), "DisassociateInvalid", 400, rsRef + "disassociateresourceshare"},
	{rs, acts("DisassociateResourceShare"), "InvalidParameter", 400, rsRef + "disassociateresourceshare"},
	{rs, acts("ListResourceShares", "ListSharedResources", "ListSharedTargets"), "MissingParameter.ResourceOwner", 400, rsRef + "listresourceshares"},
	{rs, acts("ListResourceShares", "ListSharedResources", "ListSharedTargets"), "InvalidParameter.ResourceOwner", 400, rsRef + "listresourceshares"},
	{rs, acts("ListResourceShares"), "InvalidParameter.ResourceShareStatus", 400, rsRef + "listresourceshares"},
	{rs, acts("ListResourceShares", "ListResourceShareAssociations", "ListSharedResources", "ListSharedTargets"), "InvalidParameter.MaxResults", 400, rsRef + "listresourceshares"},
	{rs, acts("ListResourceShares", "ListResourceShareAssociations", "ListSharedResources", "ListSharedTargets"), "InvalidParameter.NextToken", 400, rsRef + "listresourceshares"},
	{rs, acts("ListResourceShares", "ListResourceShareAssociations", "ListSharedResources", "ListSharedTargets"), "InvalidParameter.NextToken.Length", 400, rsRef + "listresourceshares"},
	{rs, acts("ListResourceShares", "ListResourceShareAssociations", "ListSharedResources", "ListSharedTargets"), "InvalidParameter.ResourceShareIds", 400, rsRef + "listresourceshares"},
	{rs, acts("ListResourceShares", "ListResourceShareAssociations", "ListSharedResources", "ListSharedTargets"), "InvalidParameter.ResourceShareIds.Duplicate", 400, rsRef + "listresourceshares"},
	{rs, acts("ListResourceShares", "ListResourceShareAssociations", "ListSharedResources", "ListSharedTargets"), "InvalidParameter.ResourceShareIds.Length", 400, rsRef + "listresourceshares"},
	{rs, acts("ListResourceShareAssociations"), "MissingParameter.AssociationType", 400, rsRef + "listresourceshareassociations"},
	{rs, acts("ListResourceShareAssociations"), "InvalidParameter.AssociationType", 400, rsRef + "listresourceshareassociations"},
	{rs, acts("ListResourceShareAssociations"), "InvalidParameter.AssociationStatus", 400, rsRef + "listresourceshareassociations"},
	{rs, acts("ListResourceShareAssociations"), "ConflictedAssociationType", 400, rsRef + "listresourceshareassociations"},
	{rs, acts("ListSharedResources"), "InvalidParameter.ResourceIds.Duplicate", 400, rsRef + "listsharedresources"},
	{rs, acts("ListSharedResources"), "InvalidParameter.ResourceIds.Length", 400, rsRef + "listsharedresources"},

	// ---- MNS (queues and topics, API version 2015-06-06) ----
	{mq, nil, "AccessDenied", 403, mnsRef},
	{mq, nil, "InvalidAccessKeyId", 403, mnsRef},
	{mq, nil, "InternalError", 500, mnsRef},
	{mq, nil, "InvalidAuthorizationHeader", 400, mnsRef},
	{mq, nil, "InvalidDateHeader", 400, mnsRef},
	{mq, nil, "InvalidArgument", 400, mnsRef},
	{mq, nil, "InvalidDegist", 400, mnsRef + " (sic)"},
	{mq, nil, "InvalidRequestURL", 400, mnsRef},
	{mq, nil, "MalformedXML", 400, mnsRef},
	{mq, nil, "MissingAuthorizationHeader", 400, mnsRef},
	{mq, nil, "MissingDateHeader", 400, mnsRef},
	{mq, nil, "MissingVersionHeader", 400, mnsRef},
	{mq, nil, "InvalidVersionHeader", 400, "invented: no code is documented for an x-mns-version other than 2015-06-06 (MissingVersionHeader is, for none)"},
	{mq, nil, "SignatureDoesNotMatch", 403, mnsRef},
	{mq, nil, "TimeExpired", 408, mnsRef},
	{mq, nil, "QpsLimitExceeded", 403, mnsRef},
	{mq, acts("DeleteMessage", "BatchDeleteMessage", "ChangeMessageVisibility"), "MissingReceiptHandle", 400, mnsRef},
	{mq, acts("ChangeMessageVisibility"), "MissingVisibilityTimeout", 400, mnsRef},
	{mq, acts("ReceiveMessage", "BatchReceiveMessage", "PeekMessage", "BatchPeekMessage", "DeleteMessage", "BatchDeleteMessage",
		"ChangeMessageVisibility"), "MessageNotExist", 404, mnsRef},
	{mq, acts("DeleteMessage", "BatchDeleteMessage", "ChangeMessageVisibility"), "ReceiptHandleError", 400, mnsRef},
	// A batch that partly fails answers with the batch's status and a code per item.
	{mq, acts("BatchSendMessage"), "InvalidArgument", 500, "https://www.alibabacloud.com/help/en/mns/developer-reference/batchsendmessage"},
	{mq, acts("BatchDeleteMessage"), "ReceiptHandleError", 404, "https://www.alibabacloud.com/help/en/mns/developer-reference/batchdeletemessage"},
	{mq, acts("BatchDeleteMessage"), "MissingReceiptHandle", 404, "https://www.alibabacloud.com/help/en/mns/developer-reference/batchdeletemessage"},
	{mq, acts("CreateQueue"), "QueueAlreadyExist", 409, mnsRef},
	{mq, acts("CreateQueue"), "InvalidQueueName", 400, mnsRef},
	{mq, acts("CreateQueue"), "QueueNameLengthError", 400, mnsRef},
	{mq, acts("SetQueueAttributes", "GetQueueAttributes", "SendMessage", "BatchSendMessage", "ReceiveMessage", "BatchReceiveMessage",
		"PeekMessage", "BatchPeekMessage", "DeleteMessage", "BatchDeleteMessage", "ChangeMessageVisibility"), "QueueNotExist", 404, mnsRef},
	{mq, acts("CreateTopic"), "TopicAlreadyExist", 409, mnsRef},
	{mq, acts("CreateTopic"), "TopicNameInvalid", 400, mnsRef},
	{mq, acts("CreateTopic"), "TopicNameLengthError", 400, mnsRef},
	{mq, acts("SetTopicAttributes", "GetTopicAttributes", "PublishMessage"), "TopicNotExist", 404, mnsRef},
	// ---- signature V3 (every RPC product) ----
	{rpc, nil, "IncompleteSignature", 400, v3Ref + " (the Authorization header is malformed or does not sign every x-acs-* header and host)"},

	// ---- RAM (the emulated RAM's store, served by the RAM API) ----
	{ra, acts("CreatePolicy", "CreatePolicyVersion", "CreateRole", "UpdateRole"), "MalformedPolicyDocument", 400,
		ramRef + "createpolicy (and for a trust policy, CreateRole's AssumeRolePolicyDocument and UpdateRole's NewAssumeRolePolicyDocument)"},
	{ra, acts("CreateRole", "GetRole", "UpdateRole", "ListPoliciesForRole", "AttachPolicyToRole", "DetachPolicyFromRole"),
		"InvalidParameter.RoleName.InvalidChars", 400, ramRef + "createrole (RoleName: 1 to 64 letters, digits, periods and hyphens)"},
	{ra, acts("CreatePolicy", "GetPolicy", "GetPolicyVersion", "ListPolicyVersions", "CreatePolicyVersion", "DeletePolicyVersion",
		"SetDefaultPolicyVersion", "AttachPolicyToRole", "DetachPolicyFromRole"), "InvalidParameter.PolicyName.InvalidChars", 400,
		ramRef + "createpolicy (PolicyName: 1 to 128 letters, digits and hyphens)"},
	{ra, acts("GetPolicy", "GetPolicyVersion", "ListPolicyVersions", "AttachPolicyToRole", "DetachPolicyFromRole"),
		"InvalidParameter.PolicyType.InvalidValue", 400, ramRef + "getpolicy (PolicyType: System or Custom)"},
	{ra, acts("CreateRole", "UpdateRole", "CreatePolicy"), "InvalidParameter.Description.Length", 400, ramRef + "createrole (Description: at most 1,024 characters)"},
	{ra, acts("CreateRole"), "InvalidParameter.MaxSessionDuration.InvalidValue", 400, ramRef + "createrole (MaxSessionDuration: 3600 to 43200)"},
	{ra, acts("CreatePolicyVersion"), "InvalidParameter.SetAsDefault.InvalidValue", 400, ramRef + "createpolicyversion (SetAsDefault: a boolean)"},
	{ra, acts("CreatePolicyVersion"), "InvalidParameter.RotateStrategy.InvalidValue", 400,
		ramRef + "createpolicyversion (RotateStrategy: None or DeleteOldestNonDefaultVersionWhenLimitExceeded)"},

	// ---- EventBridge 2020-04-01 (rules and targets on the default bus) ----
	{eb, acts("CreateRule", "GetRule", "ListRules", "UpdateRule", "EnableRule", "DisableRule", "DeleteRule", "PutTargets", "DeleteTargets", "ListTargets"),
		"EventBusNotExist", 409, ebCodes + " (EventBusNotExist, 409; the Terraform provider reads the same code from the cloud)"},
	{eb, acts("GetRule", "UpdateRule", "EnableRule", "DisableRule", "DeleteRule", "PutTargets", "DeleteTargets", "ListTargets"),
		"EventRuleNotExisted", 409, "https://www.alibabacloud.com/help/en/eventbridge/developer-reference/api-eventbridge-2020-04-01-listtargets (its example error message; status 409 as the open-source code table gives EventRuleNotExist)"},
	{eb, acts("CreateRule"), "EventRuleAlreadyExist", 409, ebCodes + " (EventRuleAlreadyExist, 409)"},
	{eb, acts("CreateRule", "GetRule", "UpdateRule", "EnableRule", "DisableRule", "DeleteRule", "PutTargets", "DeleteTargets", "ListTargets"),
		"EventRuleNameInvalid", 409, ebCodes + " (EventRuleNameInvalid, 409)"},
	{eb, acts("CreateRule", "PutTargets"), "EventTargetMissingAttribute", 409, ebCodes + " (EventTargetMissingAttribute, 409)"},
	{eb, acts("CreateRule"), "EventRuleCountExceedLimit", 409,
		ebCodes + " (EventRuleCountExceedLimit, 409; the default bus holds 10 rules for Alibaba Cloud service events, https://www.alibabacloud.com/help/en/functioncompute/fc/user-guide/configure-event-triggers-for-alibaba-cloud-services)"},

	// ---- ActionTrail 2020-07-06 (LookupEvents; its page lists these four, all 400) ----
	{at, acts("LookupEvents"), "InvalidParameterStartTime", 400, atRef},
	{at, acts("LookupEvents"), "InvalidParameterEndTime", 400, atRef},
	{at, acts("LookupEvents"), "InvalidParameterCombination", 400, atRef + " (\"The end time must be later than the start time.\")"},
	{at, acts("LookupEvents"), "InvalidQueryParameter", 400, atRef + " (\"The specified query parameter is invalid.\"; also the answer to one of StartTime and EndTime without the other, MaxResults or Direction out of range, an undocumented LookupAttribute key, and a NextToken of other parameters, for which the page names no code)"},

	// ---- MNS management API (mns-open 2022-01-19): the REST API's codes for the same conditions ----
	{mo, acts("GetQueueAttributes", "SetQueueAttributes"), "QueueNotExist", 404, mnsRef},
	{mo, acts("CreateQueue"), "QueueAlreadyExist", 409, mnsRef},
	{mo, acts("CreateQueue"), "InvalidQueueName", 400, mnsRef},
	{mo, acts("CreateQueue"), "QueueNameLengthError", 400, mnsRef},
	{mo, acts("CreateQueue", "SetQueueAttributes", "CreateTopic", "SetTopicAttributes"), "InvalidArgument", 400,
		mnsRef + " (\"The value of Element should between Low and High seconds or bytes\"; ranges of " + mnsOpen + "createqueue)"},
	{mo, acts("GetTopicAttributes", "SetTopicAttributes"), "TopicNotExist", 404, mnsRef},
	{mo, acts("CreateTopic"), "TopicAlreadyExist", 409, mnsRef},
	{mo, acts("CreateTopic"), "TopicNameInvalid", 400, mnsRef},
	{mo, acts("CreateTopic"), "TopicNameLengthError", 400, mnsRef},
	{ra, acts("CreatePolicyVersion"), "LimitExceeded.Policy.Version", 409, ramRef + "createpolicyversion"},
	{ra, acts("DeletePolicyVersion"), "DeleteConflict.PolicyVersion.Default", 409, ramRef + "deletepolicyversion"},
	{ra, nil, "EntityNotExist.Role", 404, ramRef + "getrole"},
	{ra, nil, "EntityNotExist.User", 404, ramRef + "getuser"},
	{ra, nil, "EntityNotExist.Policy", 404, ramRef + "getpolicy"},
	{ra, nil, "EntityNotExist.Policy.Version", 404, ramRef + "getpolicyversion"},
	{ra, nil, "EntityNotExist.Role.Policy", 404, ramRef + "detachpolicyfromrole"},
	{ra, nil, "EntityNotExist.User.Policy", 404, ramRef + "detachpolicyfromuser"},
	{ra, nil, "EntityAlreadyExists.Role", 409, ramRef + "createrole"},
	{ra, nil, "EntityAlreadyExists.User", 409, ramRef + "createuser"},
	{ra, nil, "EntityAlreadyExists.Policy", 409, ramRef + "createpolicy"},
	{ra, nil, "EntityAlreadyExists.Role.Policy", 409, ramRef + "attachpolicytorole"},
	{ra, nil, "EntityAlreadyExists.User.Policy", 409, ramRef + "attachpolicytouser"},
}

func acts2(a, b []string) []string { return append(slices.Clone(a), b...) }
