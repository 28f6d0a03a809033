package cloudsim

import (
	"regexp"

	"imageshare/pkg/cloudsim/emu"
)

// ResourceSharing 2020-01-10 request contracts. Pages: https://www.alibabacloud.com/help/
// en/resource-management/resource-sharing/developer-reference/
// api-resourcesharing-2020-01-10-<action in lower case>.
//
// List limits: the reference text and the error codes say 5 items per call for
// Resources.N, Targets.N, ResourceShareIds.N and ResourceIds.N ("N: 1 to 5"; e.g.
// InvalidParameter.Resources.Length "The maximum number of Resources exceeds 5."), while
// the metadata's maxItems says 20: the emulation follows the text and the codes.

const rsDocs = "https://www.alibabacloud.com/help/en/resource-management/resource-sharing/developer-reference/api-resourcesharing-2020-01-10-"

// shareNameRE: 1 to 50 characters: letters (Chinese included), digits, periods,
// underscores and hyphens.
var shareNameRE = regexp.MustCompile(`^[\p{L}0-9._-]+$`)

// rsResourceTypes are the resource types the emulation shares: ECS images. The service
// shares more (vSwitches, snapshots, …), which are not emulated.
var rsResourceTypes = []string{"Image"}

func shareID() param {
	return param{name: "ResourceShareId", required: true,
		missing: answer{400, "MissingParameter.ResourceShareId", "You must specify ResourceShareId."}}
}

func shareName(required bool) param {
	return param{name: "ResourceShareName", required: required, maxLen: 50, pattern: shareNameRE,
		missing: answer{400, "MissingParameter.ResourceShareName", "You must specify ResourceShareName."},
		invalid: answer{400, "InvalidParameter.ResourceShareName", "The ResourceShareName is invalid."},
		tooLong: answer{400, "InvalidParameter.ResourceShareName.Length", "The maximum length of ResourceShareName exceeds 50 characters."}}
}

// resourcesParam is Resources.N.{ResourceId,ResourceType}: at most 5, the two fields in
// pairs, no item twice.
func resourcesParam() param {
	bad := answer{400, "InvalidParameter.Resources", "The Resources is invalid."}
	return param{name: "Resources", kind: kStructs, max: 5, unique: true,
		fields: []param{
			{name: "ResourceId", required: true, missing: bad},
			{name: "ResourceType", required: true, enum: rsResourceTypes, missing: bad,
				invalid: answer{400, "InvalidParameter.ResourceType", "The ResourceType is invalid."}},
		},
		tooMany: answer{400, "InvalidParameter.Resources.Length", "The maximum number of Resources exceeds 5."},
		dup:     answer{400, "InvalidParameter.Resources.Duplicate", "The Resources contains duplicate values."}}
}

func targetsParam() param {
	return param{name: "Targets", kind: kList, max: 5, unique: true,
		invalid: answer{400, "InvalidParameter.Targets", "The Targets is invalid."},
		tooMany: answer{400, "InvalidParameter.Targets.Length", "The maximum number of Targets exceeds 5."},
		dup:     answer{400, "InvalidParameter.Targets.Duplicate", "The Targets contains duplicate values."}}
}

func shareIDsParam() param {
	return param{name: "ResourceShareIds", kind: kList, max: 5, unique: true,
		invalid: answer{400, "InvalidParameter.ResourceShareIds", "The ResourceShareIds is invalid."},
		tooMany: answer{400, "InvalidParameter.ResourceShareIds.Length", "The maximum length of ResourceShareIds exceeds 5 characters."},
		dup:     answer{400, "InvalidParameter.ResourceShareIds.Duplicate", "The ResourceShareIds contains duplicate values."}}
}

func resourceOwnerParam() param {
	return param{name: "ResourceOwner", required: true, enum: []string{"Self", "OtherAccounts"},
		missing: answer{400, "MissingParameter.ResourceOwner", "You must specify ResourceOwner."},
		invalid: answer{400, "InvalidParameter.ResourceOwner", "The ResourceOwner is invalid."}}
}

// pagingParams: MaxResults 1 to 100 (default 20); NextToken at most 256 characters.
func pagingParams() []param {
	return []param{
		{name: "MaxResults", kind: kInt, min: 1, max: 100, invalid: answer{400, "InvalidParameter.MaxResults", "The MaxResults is invalid."}},
		{name: "NextToken", maxLen: 256,
			tooLong: answer{400, "InvalidParameter.NextToken.Length", "The maximum length of NextToken exceeds 256 characters."}},
	}
}

func init() {
	addContracts(
		&contract{product: "resourcesharing", action: "EnableSharingWithResourceDirectory", source: rsDocs + "enablesharingwithresourcedirectory"},
		&contract{product: "resourcesharing", action: "CheckSharingWithResourceDirectoryStatus", source: rsDocs + "checksharingwithresourcedirectorystatus"},
		&contract{product: "resourcesharing", action: "CreateResourceShare", source: rsDocs + "createresourceshare", params: []param{
			shareName(true), resourcesParam(), targetsParam(),
			// With no permission named the default one is bound; the only permission of
			// ECS images is AliyunRSDefaultPermissionImage (Resource Sharing permission
			// library, …/resource-sharing/user-guide/permissions-for-resource-sharing).
			permissionNames(),
		}},
		&contract{product: "resourcesharing", action: "UpdateResourceShare", source: rsDocs + "updateresourceshare", params: []param{
			shareID(), shareName(true),
		}},
		&contract{product: "resourcesharing", action: "DeleteResourceShare", source: rsDocs + "deleteresourceshare", params: []param{shareID()}},
		&contract{product: "resourcesharing", action: "AssociateResourceShare", source: rsDocs + "associateresourceshare", params: []param{
			shareID(), resourcesParam(), targetsParam(), permissionNames(),
		}, check: resourceOrTarget},
		&contract{product: "resourcesharing", action: "DisassociateResourceShare", source: rsDocs + "disassociateresourceshare", params: []param{
			shareID(), resourcesParam(), targetsParam(),
			// Self (default) or OtherAccounts; this API lists only the general answer.
			{name: "ResourceOwner", enum: []string{"Self", "OtherAccounts"},
				invalid: answer{400, "InvalidParameter", "The specified parameter is invalid."}},
		}, check: resourceOrTarget},
		&contract{product: "resourcesharing", action: "ListResourceShares", source: rsDocs + "listresourceshares", params: append([]param{
			resourceOwnerParam(), shareIDsParam(), shareName(false),
			{name: "ResourceShareStatus", enum: []string{"Active", "Pending", "Deleting", "Deleted"},
				invalid: answer{400, "InvalidParameter.ResourceShareStatus", "The ResourceShareStatus is invalid."}},
		}, pagingParams()...)},
		&contract{product: "resourcesharing", action: "ListResourceShareAssociations", source: rsDocs + "listresourceshareassociations", params: append([]param{
			{name: "AssociationType", required: true, enum: []string{"Resource", "Target"},
				missing: answer{400, "MissingParameter.AssociationType", "You must specify AssociationType."},
				invalid: answer{400, "InvalidParameter.AssociationType", "The AssociationType is invalid."}},
			{name: "AssociationStatus", enum: []string{"Associating", "Associated", "Failed", "Disassociating", "Disassociated"},
				invalid: answer{400, "InvalidParameter.AssociationStatus", "The AssociationStatus is invalid."}},
			shareIDsParam(),
		}, pagingParams()...), check: func(p map[string]string) *emu.APIError {
			// "ResourceId is not available when AssociationType is Target", and Target
			// not when it is Resource.
			if (p["AssociationType"] == "Target" && p["ResourceId"] != "") || (p["AssociationType"] == "Resource" && p["Target"] != "") {
				return emu.Errorf(400, "ConflictedAssociationType", "The specified ResourceId or Target conflicts with AssociationType.")
			}
			return nil
		}},
		&contract{product: "resourcesharing", action: "ListSharedResources", source: rsDocs + "listsharedresources", params: append([]param{
			resourceOwnerParam(), shareIDsParam(),
			{name: "ResourceIds", kind: kList, max: 5, unique: true,
				tooMany: answer{400, "InvalidParameter.ResourceIds.Length", "The maximum number of ResourceIds (5) is exceeded."},
				dup:     answer{400, "InvalidParameter.ResourceIds.Duplicate", "The specified ResourceId contains duplicate values."}},
		}, pagingParams()...)},
		&contract{product: "resourcesharing", action: "ListSharedTargets", source: rsDocs + "listsharedtargets", params: append([]param{
			resourceOwnerParam(), shareIDsParam(), targetsParam(),
		}, pagingParams()...)},
	)
}

func permissionNames() param {
	return param{name: "PermissionNames", kind: kList, unique: true, enum: []string{"AliyunRSDefaultPermissionImage"},
		invalid: answer{404, "EntityNotExists.Permission", "The resource share permission does not exist."},
		dup:     answer{400, "InvalidParameter.PermissionNames.Duplicate", "The PermissionNames duplicate values."}}
}

// resourceOrTarget: Associate and Disassociate need a resource or a target.
func resourceOrTarget(p map[string]string) *emu.APIError {
	if len(indexed(p, "Resources", true)) == 0 && len(indexed(p, "Targets", false)) == 0 {
		return emu.Errorf(400, "ResourceAndTargetBothEmpty", "Either a resource or a shared target must be specified.")
	}
	return nil
}
