package cloudsim

import (
	"regexp"
)

// ResourceManager 2020-03-31 request contracts. Pages: https://www.alibabacloud.com/help/
// en/resource-management/developer-reference/api-resourcemanager-2020-03-31-<action in
// lower case>.

const rmDocs = "https://www.alibabacloud.com/help/en/resource-management/developer-reference/api-resourcemanager-2020-03-31-"

// rmPaging: PageNumber from 1, PageSize 1 to 100 (default 10). The reference gives the
// ranges and no code for them; the catalogue lists these answers as invented.
func rmPaging() []param {
	return []param{
		{name: "PageNumber", kind: kInt, min: 1, max: 1 << 30,
			invalid: answer{400, "InvalidParameter.PageNumber", "The specified parameter PageNumber is not valid."}},
		{name: "PageSize", kind: kInt, min: 1, max: 100,
			invalid: answer{400, "InvalidParameter.PageSize", "The specified parameter PageSize is not valid."}},
	}
}

// rmAccountID is a member's AccountId: required, 16 digits.
func rmAccountID() param {
	return param{name: "AccountId", required: true, pattern: accountRE,
		missing: answer{400, "MissingParameter.AccountId", "You must specify AccountId."},
		invalid: answer{400, "InvalidParameter.AccountId", "The AccountId is invalid."}}
}

// displayNameRE: 2 to 50 characters: letters (Chinese included), digits, underscores,
// periods, hyphens and spaces (CreateResourceAccount DisplayName).
var displayNameRE = regexp.MustCompile(`^[\p{L}0-9_. -]+$`)

func init() {
	parentFolder := param{name: "ParentFolderId", pattern: folderIDRE,
		invalid: answer{400, "InvalidParameter.ParentFolderId", "The ParentFolderId is invalid."}}
	addContracts(
		&contract{product: "resourcemanager", action: "GetResourceDirectory", source: rmDocs + "getresourcedirectory"},
		&contract{product: "resourcemanager", action: "ListAccounts", source: rmDocs + "listaccounts", params: rmPaging()},
		&contract{product: "resourcemanager", action: "ListAccountsForParent", source: rmDocs + "listaccountsforparent",
			params: append([]param{parentFolder}, rmPaging()...)},
		&contract{product: "resourcemanager", action: "ListFoldersForParent", source: rmDocs + "listfoldersforparent",
			params: append([]param{parentFolder}, rmPaging()...)},
		&contract{product: "resourcemanager", action: "ListAncestors", source: rmDocs + "listancestors", params: []param{
			{name: "ChildId", required: true, pattern: folderIDRE,
				missing: answer{400, "MissingParameter.ChildId", "You must specify ChildId."},
				invalid: answer{400, "InvalidParameter.ChildId", "The ChildId is invalid."}},
		}},
		&contract{product: "resourcemanager", action: "GetFolder", source: rmDocs + "getfolder", params: []param{
			{name: "FolderId", required: true, pattern: folderIDRE,
				missing: answer{400, "MissingParameter.FolderId", "You must specify FolderId."},
				invalid: answer{400, "InvalidParameter.FolderId", "The FolderId is invalid."}},
		}},
		&contract{product: "resourcemanager", action: "GetAccount", source: rmDocs + "getaccount", params: []param{rmAccountID()}},
		&contract{product: "resourcemanager", action: "ListHandshakesForResourceDirectory", source: rmDocs + "listhandshakesforresourcedirectory",
			params: rmPaging()},
		&contract{product: "resourcemanager", action: "CreateResourceAccount", source: rmDocs + "createresourceaccount", params: []param{
			{name: "DisplayName", required: true, minLen: 2, maxLen: 50, pattern: displayNameRE,
				missing: answer{400, "MissingParameter.Account.DisplayName", "You must specify DisplayName."},
				invalid: answer{400, "InvalidParameter.Account.DisplayName", "The DisplayName of account is invalid."},
				tooLong: answer{400, "InvalidParameter.Account.DisplayName.Length", "The DisplayName of the account exceeds the length limit."}},
			parentFolder,
		}},
		&contract{product: "resourcemanager", action: "InviteAccountToResourceDirectory", source: rmDocs + "inviteaccounttoresourcedirectory", params: []param{
			{name: "TargetEntity", required: true,
				missing: answer{400, "MissingParameter.TargetEntity", "You must specify TargetEntity."}},
			{name: "TargetType", required: true, enum: []string{"Account", "Email"},
				missing: answer{400, "MissingParameter.TargetType", "You must specify TargetType."},
				invalid: answer{400, "InvalidParameter.TargetType", "The TargetType is invalid."}},
			{name: "Note", maxLen: 1024,
				tooLong: answer{400, "InvalidParameter.Note.Length", "The length of the invitation note exceeds the limit."}},
		}},
		&contract{product: "resourcemanager", action: "AcceptHandshake", source: rmDocs + "accepthandshake", params: []param{
			{name: "HandshakeId", required: true, missing: answer{400, "MissingParameter.HandshakeId", "You must specify HandshakeId."}},
		}},
		&contract{product: "resourcemanager", action: "MoveAccount", source: rmDocs + "moveaccount", params: []param{
			rmAccountID(),
			{name: "DestinationFolderId", required: true, pattern: folderIDRE,
				missing: answer{400, "MissingParameter.DestinationFolderId", "You must specify DestinationFolderId."},
				invalid: answer{400, "InvalidParameter.DestinationFolderId", "The DestinationFolderId is invalid."}},
		}},
		&contract{product: "resourcemanager", action: "RemoveCloudAccount", source: rmDocs + "removecloudaccount", params: []param{rmAccountID()}},
		&contract{product: "resourcemanager", action: "DeleteAccount", source: rmDocs + "deleteaccount", params: []param{rmAccountID()}},
		// The delegated administrator APIs document ServicePrincipal's answer
		// (InvalidParameter.ServicePrincipal, 409) and none for AccountId: the
		// resource directory's MissingParameter.AccountId / InvalidParameter.AccountId.
		&contract{product: "resourcemanager", action: "RegisterDelegatedAdministrator", source: rmDocs + "registerdelegatedadministrator", params: []param{
			rmAccountID(), servicePrincipal(true),
		}},
		&contract{product: "resourcemanager", action: "DeregisterDelegatedAdministrator", source: rmDocs + "deregisterdelegatedadministrator", params: []param{
			rmAccountID(), servicePrincipal(true),
		}},
		&contract{product: "resourcemanager", action: "ListDelegatedAdministrators", source: rmDocs + "listdelegatedadministrators",
			params: append([]param{servicePrincipal(false)}, rmPaging()...)},
		&contract{product: "resourcemanager", action: "ListDelegatedServicesForAccount", source: rmDocs + "listdelegatedservicesforaccount",
			params: []param{rmAccountID()}},
	)
}

// servicePrincipalRE: a trusted service's identifier, e.g. cloudfw.aliyuncs.com.
var servicePrincipalRE = regexp.MustCompile(`^[a-z0-9-]+(\.[a-z0-9-]+)*\.aliyuncs\.com$`)

func servicePrincipal(required bool) param {
	bad := answer{409, "InvalidParameter.ServicePrincipal", "The specified ServicePrincipal is invalid."}
	return param{name: "ServicePrincipal", required: required, pattern: servicePrincipalRE, missing: bad, invalid: bad}
}
