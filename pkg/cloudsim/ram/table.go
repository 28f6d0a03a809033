package ram

import "sort"

// API is one row of the authorization table: an API as the wire names it, the RAM
// action a call of it is checked against, and the resource(s) the call is checked on.
type API struct {
	Product string // "ecs", "resourcemanager", "resourcesharing", "actiontrail", "mns"
	Name    string // the API (for MNS: the operation the REST call is)
	Action  string // the RAM action, e.g. "mns:BatchSendMessage"
	// Resource is the ARN the call is checked on, as a template over the request (see
	// Resources): "*" for an "All Resources" action or where no resource is documented.
	Resource string
	// AllResources: the reference lists the action as "All Resources"; only a statement
	// whose Resource is "*" matches it.
	AllResources bool
	// Also are further resources the call is checked on, as templates like Resource:
	// the reference lists several resource types, and every one must be allowed.
	Also []string
	// NoAuth: the reference says the API needs no authorization; RAM allows it to every
	// RAM user and role.
	NoAuth bool
	Source string // the official page documenting Action and Resource
	Note   string // what the page left open, or "undocumented: …"
}

// Pages the table cites more than once.
const (
	ecsRAM = "https://www.alibabacloud.com/help/en/ecs/authentication-rules" // ECS "RAM authorization" (doc-detail/25497)
	rdAPI  = "https://www.alibabacloud.com/help/en/resource-management/resource-directory/developer-reference/api-resourcedirectorymaster-2022-04-19-"
	rmAPI  = "https://www.alibabacloud.com/help/en/resource-management/developer-reference/api-resourcemanager-2020-03-31-"
	rsAPI  = "https://www.alibabacloud.com/help/en/resource-management/resource-sharing/developer-reference/api-resourcesharing-2020-01-10-"
	rmRAM  = "https://www.alibabacloud.com/help/en/resource-management/developer-reference/ram-authorization"
	mnsRAM = "https://www.alibabacloud.com/help/en/mns/permission-policies-and-examples" // doc-detail/27447
	mnsAPI = "https://www.alibabacloud.com/help/en/mns/developer-reference/"
	ramAPI = "https://www.alibabacloud.com/help/en/ram/developer-reference/api-ram-2015-05-01-"
	ebAPI  = "https://www.alibabacloud.com/help/en/eventbridge/developer-reference/api-eventbridge-2020-04-01-"
	mnsRPC = "https://www.alibabacloud.com/help/en/mns/developer-reference/api-mns-open-2022-01-19-"
)

const (
	image      = "acs:ecs:{region}:{account}:image/"
	queue      = "acs:mns:{region}:{account}:/queues/{QueueName}"
	topic      = "acs:mns:{region}:{account}:/topics/{TopicName}"
	undocument = "undocumented: the stored references list no RAM resource for this API; checked on *"
	ramRole    = "acs:ram:*:{account}:role/{RoleName}"
	ramPolicy  = "acs:ram:*:{account}:policy/{PolicyName}"
	ebRule     = "acs:eventbridge:{region}:{account}:eventbus/{EventBusName}/rule/{RuleName}"
	ebRuleNote = "the rule ARN of CreateRule's page (acs:eventbridge:{#regionId}:{#accountId}:eventbus/{#EventBusName}/rule/{#RuleName})"
)

// Table lists every API the product, the sandbox's person steps and `imageshare probe`
// call, and every API the emulated cloud serves (a test keeps the two in step).
var Table = []API{
	// ---- ECS 2014-05-26 ----
	{Product: "ecs", Name: "DescribeImages", Action: "ecs:DescribeImages", Resource: image + "{ImageId,}", Source: ecsRAM,
		Note: "resource type Image is optional: image/{imageId} when ImageId names images, image/* otherwise"},
	{Product: "ecs", Name: "DescribeImageSharePermission", Action: "ecs:DescribeImageSharePermission", Resource: image + "{ImageId}", Source: ecsRAM},
	{Product: "ecs", Name: "ModifyImageSharePermission", Action: "ecs:ModifyImageSharePermission", Resource: image + "{ImageId}",
		Source: "https://www.alibabacloud.com/help/en/ecs/developer-reference/api-ecs-2014-05-26-modifyimagesharepermission"},
	{Product: "ecs", Name: "ListTagResources", Action: "ecs:ListTagResources", Resource: "*", AllResources: true, Source: ecsRAM},
	{Product: "ecs", Name: "TagResources", Action: "ecs:TagResources", Resource: "acs:ecs:{region}:{account}:{ResourceType}/{ResourceId.N}", Source: ecsRAM,
		Note: "one ARN per ResourceId.N; ResourceType image gives image/{imageId}"},
	{Product: "ecs", Name: "UntagResources", Action: "ecs:UntagResources", Resource: "acs:ecs:{region}:{account}:{ResourceType}/{ResourceId.N}", Source: ecsRAM,
		Note: "one ARN per ResourceId.N"},
	{Product: "ecs", Name: "AddTags", Action: "ecs:AddTags", Resource: "*", AllResources: true, Source: ecsRAM,
		Note: "undocumented: the legacy tag API is not in ECS's RAM authorization table; checked on *"},
	{Product: "ecs", Name: "RemoveTags", Action: "ecs:RemoveTags", Resource: "*", AllResources: true, Source: ecsRAM,
		Note: "undocumented: the legacy tag API is not in ECS's RAM authorization table; checked on *"},
	{Product: "ecs", Name: "CreateImage", Action: "ecs:CreateImage", Resource: image + "*", Source: ecsRAM,
		Note: "the optional Instance and Snapshot resources are not checked"},
	{Product: "ecs", Name: "CopyImage", Action: "ecs:CopyImage", Resource: image + "*", Source: ecsRAM},
	{Product: "ecs", Name: "DeleteImage", Action: "ecs:DeleteImage", Resource: image + "{ImageId}", Source: ecsRAM},

	// ---- Resource Manager 2020-03-31 (global: no region in its ARNs) ----
	{Product: "resourcemanager", Name: "GetResourceDirectory", Action: "resourcemanager:GetResourceDirectory", Resource: "*", AllResources: true,
		Source: rdAPI + "getresourcedirectory", Note: "undocumented: \"There is currently no authorization information disclosed in the API\"; checked on *"},
	{Product: "resourcemanager", Name: "ListAccounts", Action: "resourcemanager:ListAccounts", Resource: "acs:resourcemanager::{account}:account/*",
		Source: rdAPI + "listaccounts", Note: "the 2024 page of the 2020-03-31 API wrote acs:resourcemanager:*:{#accountId}:account/*"},
	{Product: "resourcemanager", Name: "GetAccount", Action: "resourcemanager:GetAccount", Resource: "acs:resourcemanager::{account}:account/{accountPath:AccountId}",
		Source: rdAPI + "getaccount", Note: "{#ResourceDirectoryPath} of the member (rd/r/fd…/account); the bare account ID when it is not a member"},
	{Product: "resourcemanager", Name: "ListAncestors", Action: "resourcemanager:ListAncestors", Resource: "*", AllResources: true,
		Source: rdAPI + "listancestors", Note: "the 2024 page of the 2020-03-31 API wrote Folder acs:resourcemanager:*:{#accountId}:folder/*; the 2025 page says All Resources"},
	{Product: "resourcemanager", Name: "GetFolder", Action: "resourcemanager:GetFolder", Resource: "acs:resourcemanager::{account}:folder/{folderPath:FolderId}",
		Source: "https://www.alibabacloud.com/help/en/resource-management/developer-reference/api-resourcedirectorymaster-2022-04-19-getfolder"},
	{Product: "resourcemanager", Name: "ListFoldersForParent", Action: "resourcemanager:ListFoldersForParent", Resource: "*", AllResources: true,
		Source: rmAPI + "listfoldersforparent", Note: undocument},
	{Product: "resourcemanager", Name: "ListAccountsForParent", Action: "resourcemanager:ListAccountsForParent", Resource: "*", AllResources: true,
		Source: rmAPI + "listaccountsforparent", Note: undocument},
	{Product: "resourcemanager", Name: "ListHandshakesForResourceDirectory", Action: "resourcemanager:ListHandshakesForResourceDirectory", Resource: "*", AllResources: true,
		Source: rmAPI + "listhandshakesforresourcedirectory", Note: "undocumented: the page's resource column is empty (GetHandshake and ListHandshakesForAccount name handshake/…); checked on *"},
	{Product: "resourcemanager", Name: "CreateResourceAccount", Action: "resourcemanager:CreateResourceAccount", Resource: "*", AllResources: true, Source: rmRAM, Note: undocument},
	{Product: "resourcemanager", Name: "InviteAccountToResourceDirectory", Action: "resourcemanager:InviteAccountToResourceDirectory", Resource: "*", AllResources: true, Source: rmRAM, Note: undocument},
	{Product: "resourcemanager", Name: "AcceptHandshake", Action: "resourcemanager:AcceptHandshake", Resource: "*", AllResources: true, Source: rmRAM, Note: undocument},
	{Product: "resourcemanager", Name: "MoveAccount", Action: "resourcemanager:MoveAccount", Resource: "*", AllResources: true, Source: rmRAM, Note: undocument},
	{Product: "resourcemanager", Name: "RemoveCloudAccount", Action: "resourcemanager:RemoveCloudAccount", Resource: "*", AllResources: true, Source: rmRAM, Note: undocument},
	{Product: "resourcemanager", Name: "RegisterDelegatedAdministrator", Action: "resourcemanager:RegisterDelegatedAdministrator", Resource: "*", AllResources: true,
		Source: rmAPI + "registerdelegatedadministrator", Note: undocument},
	{Product: "resourcemanager", Name: "DeregisterDelegatedAdministrator", Action: "resourcemanager:DeregisterDelegatedAdministrator", Resource: "*", AllResources: true,
		Source: rmAPI + "deregisterdelegatedadministrator", Note: undocument},
	{Product: "resourcemanager", Name: "ListDelegatedAdministrators", Action: "resourcemanager:ListDelegatedAdministrators", Resource: "*", AllResources: true,
		Source: rmAPI + "listdelegatedadministrators", Note: undocument},
	{Product: "resourcemanager", Name: "ListDelegatedServicesForAccount", Action: "resourcemanager:ListDelegatedServicesForAccount", Resource: "*", AllResources: true,
		Source: rmAPI + "listdelegatedservicesforaccount", Note: undocument},
	{Product: "resourcemanager", Name: "DeleteAccount", Action: "resourcemanager:DeleteAccount", Resource: "*", AllResources: true, Source: rmRAM, Note: undocument},

	// ---- Resource Sharing 2020-01-10: every action is "All Resources" ----
	{Product: "resourcesharing", Name: "CheckSharingWithResourceDirectoryStatus", Action: "resourcesharing:CheckSharingWithResourceDirectoryStatus", Resource: "*", AllResources: true, Source: rsAPI + "checksharingwithresourcedirectorystatus"},
	{Product: "resourcesharing", Name: "EnableSharingWithResourceDirectory", Action: "resourcesharing:EnableSharingWithResourceDirectory", Resource: "*", AllResources: true, Source: rsAPI + "enablesharingwithresourcedirectory"},
	{Product: "resourcesharing", Name: "ListResourceShares", Action: "resourcesharing:ListResourceShares", Resource: "*", AllResources: true, Source: rsAPI + "listresourceshares"},
	{Product: "resourcesharing", Name: "ListResourceShareAssociations", Action: "resourcesharing:ListResourceShareAssociations", Resource: "*", AllResources: true, Source: rsAPI + "listresourceshareassociations"},
	{Product: "resourcesharing", Name: "ListSharedResources", Action: "resourcesharing:ListSharedResources", Resource: "*", AllResources: true, Source: rsAPI + "listsharedresources"},
	{Product: "resourcesharing", Name: "ListSharedTargets", Action: "resourcesharing:ListSharedTargets", Resource: "*", AllResources: true, Source: rsAPI + "listsharedtargets"},
	{Product: "resourcesharing", Name: "CreateResourceShare", Action: "resourcesharing:CreateResourceShare", Resource: "*", AllResources: true, Source: rsAPI + "createresourceshare",
		Note: "condition keys resourcesharing:RequestedAllowExternalTargets, Target, RequestedResourceType, ResourceArn are not evaluated"},
	{Product: "resourcesharing", Name: "UpdateResourceShare", Action: "resourcesharing:UpdateResourceShare", Resource: "*", AllResources: true, Source: rsAPI + "updateresourceshare"},
	{Product: "resourcesharing", Name: "DeleteResourceShare", Action: "resourcesharing:DeleteResourceShare", Resource: "*", AllResources: true, Source: rsAPI + "deleteresourceshare"},
	{Product: "resourcesharing", Name: "AssociateResourceShare", Action: "resourcesharing:AssociateResourceShare", Resource: "*", AllResources: true, Source: rsAPI + "associateresourceshare"},
	{Product: "resourcesharing", Name: "DisassociateResourceShare", Action: "resourcesharing:DisassociateResourceShare", Resource: "*", AllResources: true, Source: rsAPI + "disassociateresourceshare"},

	// ---- ActionTrail 2020-07-06 (the organization poll) ----
	{Product: "actiontrail", Name: "LookupEvents", Action: "actiontrail:LookupEvents", Resource: "*", AllResources: true,
		Source: "https://www.alibabacloud.com/help/en/actiontrail/developer-reference/api-actiontrail-2020-07-06-lookupevents",
		Note:   "the page's RAM table: access level get, All Resources; the older doc-detail/103029 wrote acs:actiontrail:${region}:${AccountId}:*"},

	// ---- MNS (Simple Message Queue) 2015-06-06 REST API ----
	{Product: "mns", Name: "ListQueue", Action: "mns:ListQueue", Resource: "acs:mns:{region}:{account}:/queues", Source: mnsRAM},
	{Product: "mns", Name: "CreateQueue", Action: "mns:CreateQueue", Resource: queue, Source: mnsRAM},
	{Product: "mns", Name: "DeleteQueue", Action: "mns:DeleteQueue", Resource: queue, Source: mnsRAM},
	{Product: "mns", Name: "SetQueueAttributes", Action: "mns:SetQueueAttributes", Resource: queue, Source: mnsRAM},
	{Product: "mns", Name: "GetQueueAttributes", Action: "mns:GetQueueAttributes", Resource: queue, Source: mnsRAM},
	{Product: "mns", Name: "SendMessage", Action: "mns:SendMessage", Resource: queue + "/messages", Source: mnsAPI + "sendmessage"},
	{Product: "mns", Name: "BatchSendMessage", Action: "mns:BatchSendMessage", Resource: queue + "/messages", Source: mnsAPI + "batchsendmessage"},
	{Product: "mns", Name: "ReceiveMessage", Action: "mns:ReceiveMessage", Resource: queue + "/messages", Source: mnsRAM},
	{Product: "mns", Name: "BatchReceiveMessage", Action: "mns:BatchReceiveMessage", Resource: queue + "/messages", Source: mnsRAM},
	{Product: "mns", Name: "PeekMessage", Action: "mns:PeekMessage", Resource: queue + "/messages", Source: mnsRAM},
	{Product: "mns", Name: "BatchPeekMessage", Action: "mns:BatchPeekMessage", Resource: queue + "/messages", Source: mnsRAM},
	{Product: "mns", Name: "DeleteMessage", Action: "mns:DeleteMessage", Resource: queue + "/messages", Source: mnsRAM},
	{Product: "mns", Name: "BatchDeleteMessage", Action: "mns:BatchDeleteMessage", Resource: queue + "/messages", Source: mnsRAM},
	{Product: "mns", Name: "ChangeMessageVisibility", Action: "mns:ChangeMessageVisibility", Resource: queue + "/messages", Source: mnsRAM},
	{Product: "mns", Name: "ListTopic", Action: "mns:ListTopic", Resource: "acs:mns:{region}:{account}:/topics", Source: mnsRAM},
	{Product: "mns", Name: "CreateTopic", Action: "mns:CreateTopic", Resource: topic, Source: mnsRAM},
	{Product: "mns", Name: "DeleteTopic", Action: "mns:DeleteTopic", Resource: topic, Source: mnsRAM},
	{Product: "mns", Name: "SetTopicAttributes", Action: "mns:SetTopicAttributes", Resource: topic, Source: mnsRAM},
	{Product: "mns", Name: "GetTopicAttributes", Action: "mns:GetTopicAttributes", Resource: topic, Source: mnsRAM},
	{Product: "mns", Name: "PublishMessage", Action: "mns:PublishMessage", Resource: topic + "/messages", Source: mnsRAM},

	// ---- MNS management API (mns-open 2022-01-19, RPC): the same RAM actions and
	// resources as the REST API's operations of the same names ----
	{Product: "mns-open", Name: "CreateQueue", Action: "mns:CreateQueue", Resource: queue, Source: mnsRPC + "createqueue"},
	{Product: "mns-open", Name: "GetQueueAttributes", Action: "mns:GetQueueAttributes", Resource: queue, Source: mnsRPC + "getqueueattributes"},
	{Product: "mns-open", Name: "SetQueueAttributes", Action: "mns:SetQueueAttributes", Resource: queue, Source: mnsRPC + "setqueueattributes"},
	{Product: "mns-open", Name: "DeleteQueue", Action: "mns:DeleteQueue", Resource: queue, Source: mnsRPC + "deletequeue"},
	{Product: "mns-open", Name: "CreateTopic", Action: "mns:CreateTopic", Resource: topic, Source: mnsRPC + "createtopic"},
	{Product: "mns-open", Name: "GetTopicAttributes", Action: "mns:GetTopicAttributes", Resource: topic, Source: mnsRPC + "gettopicattributes"},
	{Product: "mns-open", Name: "SetTopicAttributes", Action: "mns:SetTopicAttributes", Resource: topic, Source: mnsRPC + "settopicattributes"},
	{Product: "mns-open", Name: "DeleteTopic", Action: "mns:DeleteTopic", Resource: topic, Source: mnsRPC + "deletetopic"},

	// ---- RAM 2015-05-01 (global: ARNs carry * for the region) ----
	{Product: "ram", Name: "CreateRole", Action: "ram:CreateRole", Resource: ramRole, Source: ramAPI + "createrole"},
	{Product: "ram", Name: "GetRole", Action: "ram:GetRole", Resource: ramRole, Source: ramAPI + "getrole"},
	{Product: "ram", Name: "UpdateRole", Action: "ram:UpdateRole", Resource: ramRole, Source: ramAPI + "updaterole"},
	{Product: "ram", Name: "ListPoliciesForRole", Action: "ram:ListPoliciesForRole", Resource: ramRole, Source: ramAPI + "listpoliciesforrole"},
	{Product: "ram", Name: "AttachPolicyToRole", Action: "ram:AttachPolicyToRole", Resource: ramRole, Also: []string{ramPolicy},
		Source: ramAPI + "attachpolicytorole", Note: "checked on the role and on the policy, the two resource types the page lists"},
	{Product: "ram", Name: "DetachPolicyFromRole", Action: "ram:DetachPolicyFromRole", Resource: ramRole, Also: []string{ramPolicy},
		Source: ramAPI + "detachpolicyfromrole", Note: "checked on the role and on the policy"},
	{Product: "ram", Name: "CreatePolicy", Action: "ram:CreatePolicy", Resource: ramPolicy, Source: ramAPI + "createpolicy"},
	{Product: "ram", Name: "GetPolicy", Action: "ram:GetPolicy", Resource: ramPolicy, Source: ramAPI + "getpolicy"},
	{Product: "ram", Name: "GetPolicyVersion", Action: "ram:GetPolicyVersion", Resource: ramPolicy, Source: ramAPI + "getpolicyversion"},
	{Product: "ram", Name: "ListPolicyVersions", Action: "ram:ListPolicyVersions", Resource: ramPolicy, Source: ramAPI + "listpolicyversions"},
	{Product: "ram", Name: "CreatePolicyVersion", Action: "ram:CreatePolicyVersion", Resource: ramPolicy, Source: ramAPI + "createpolicyversion"},
	{Product: "ram", Name: "DeletePolicyVersion", Action: "ram:DeletePolicyVersion", Resource: ramPolicy, Source: ramAPI + "deletepolicyversion"},
	{Product: "ram", Name: "SetDefaultPolicyVersion", Action: "ram:SetDefaultPolicyVersion", Resource: ramPolicy, Source: ramAPI + "setdefaultpolicyversion"},

	// ---- STS 2015-04-01 ----
	{Product: "sts", Name: "GetCallerIdentity", Action: "sts:GetCallerIdentity", Resource: "*", AllResources: true, NoAuth: true,
		Source: "https://www.alibabacloud.com/help/en/ram/developer-reference/api-sts-2015-04-01-getcalleridentity",
		Note:   "any identity may ask who it is: no permission is needed"},

	// ---- EventBridge 2020-04-01 ----
	{Product: "eventbridge", Name: "CreateRule", Action: "eventbridge:CreateRule", Resource: ebRule, Source: ebAPI + "createrule"},
	{Product: "eventbridge", Name: "GetRule", Action: "eventbridge:GetRule", Resource: ebRule, Source: ebAPI + "getrule", Note: ebRuleNote},
	{Product: "eventbridge", Name: "UpdateRule", Action: "eventbridge:UpdateRule", Resource: ebRule, Source: ebAPI + "updaterule", Note: ebRuleNote},
	{Product: "eventbridge", Name: "EnableRule", Action: "eventbridge:EnableRule", Resource: ebRule, Source: ebAPI + "enablerule", Note: ebRuleNote},
	{Product: "eventbridge", Name: "DisableRule", Action: "eventbridge:DisableRule", Resource: ebRule, Source: ebAPI + "disablerule", Note: ebRuleNote},
	{Product: "eventbridge", Name: "DeleteRule", Action: "eventbridge:DeleteRule", Resource: ebRule, Source: ebAPI + "deleterule", Note: ebRuleNote},
	{Product: "eventbridge", Name: "PutTargets", Action: "eventbridge:PutTargets", Resource: ebRule, Source: ebAPI + "puttargets", Note: ebRuleNote},
	{Product: "eventbridge", Name: "DeleteTargets", Action: "eventbridge:DeleteTargets", Resource: ebRule, Source: ebAPI + "deletetargets", Note: ebRuleNote},
	{Product: "eventbridge", Name: "ListTargets", Action: "eventbridge:ListTargets", Resource: ebRule, Source: ebAPI + "listtargets", Note: ebRuleNote},
	{Product: "eventbridge", Name: "ListRules", Action: "eventbridge:ListRules", Resource: "*", AllResources: true, Source: ebAPI + "listrules",
		Note: "the page's resource column is empty: All Resources"},
	{Product: "eventbridge", Name: "CreateServiceLinkedRoleForProduct", Action: "ram:CreateServiceLinkedRole", Resource: "*", AllResources: true,
		Source: "https://www.alibabacloud.com/help/en/ram/user-guide/service-linked-roles",
		Note:   "EventBridge's page says \"No authorization for this operation\"; RAM documents that creating a service-linked role needs ram:CreateServiceLinkedRole, which is what the emulation checks"},
}

var byName = func() map[string]API {
	m := map[string]API{}
	for _, a := range Table {
		m[a.Product+"/"+a.Name] = a
	}
	return m
}()

// Lookup returns the row of an API.
func Lookup(product, name string) (API, bool) {
	a, ok := byName[product+"/"+name]
	return a, ok
}

// ActionOf returns the RAM action of an API ("" when the table has no row).
func ActionOf(product, name string) string { return byName[product+"/"+name].Action }

// Actions returns every RAM action of the table, sorted.
func Actions() []string {
	var out []string
	for _, a := range Table {
		out = append(out, a.Action)
	}
	sort.Strings(out)
	return out
}
