package setup

import (
	"context"
	"fmt"
	"strings"

	"imageshare/pkg/rampolicy"
)

// ramAction is the RAM action each API that setup and doctor call is checked against,
// from each API's reference page (RAM authorization table): MNS's management API
// (…/mns/developer-reference/api-mns-open-2022-01-19-*), RAM's
// (…/ram/developer-reference/api-ram-2015-05-01-*), EventBridge's
// (…/eventbridge/developer-reference/api-eventbridge-2020-04-01-*; CreateServiceLinkedRoleForProduct
// documents none of its own, and RAM requires ram:CreateServiceLinkedRole to create a
// service-linked role, https://www.alibabacloud.com/help/en/ram/user-guide/service-linked-roles),
// Resource Manager's and Resource Sharing's. GetCallerIdentity needs none.
var ramAction = map[string]string{
	"GetQueueAttributes": "mns:GetQueueAttributes", "CreateQueue": "mns:CreateQueue", "SetQueueAttributes": "mns:SetQueueAttributes",
	"GetTopicAttributes": "mns:GetTopicAttributes", "CreateTopic": "mns:CreateTopic", "SetTopicAttributes": "mns:SetTopicAttributes",
	"GetRole": "ram:GetRole", "CreateRole": "ram:CreateRole", "UpdateRole": "ram:UpdateRole",
	"ListPoliciesForRole": "ram:ListPoliciesForRole", "AttachPolicyToRole": "ram:AttachPolicyToRole",
	"GetPolicy": "ram:GetPolicy", "CreatePolicy": "ram:CreatePolicy", "ListPolicyVersions": "ram:ListPolicyVersions",
	"CreatePolicyVersion": "ram:CreatePolicyVersion", "DeletePolicyVersion": "ram:DeletePolicyVersion",
	"ListRules": "eventbridge:ListRules", "GetRule": "eventbridge:GetRule", "CreateRule": "eventbridge:CreateRule", "UpdateRule": "eventbridge:UpdateRule",
	"EnableRule": "eventbridge:EnableRule", "PutTargets": "eventbridge:PutTargets", "DeleteTargets": "eventbridge:DeleteTargets",
	"DeleteRule":                              "eventbridge:DeleteRule",
	"CreateServiceLinkedRoleForProduct":       "ram:CreateServiceLinkedRole",
	"GetResourceDirectory":                    "resourcemanager:GetResourceDirectory",
	"CheckSharingWithResourceDirectoryStatus": "resourcesharing:CheckSharingWithResourceDirectoryStatus",
	"EnableSharingWithResourceDirectory":      "resourcesharing:EnableSharingWithResourceDirectory",
	"LookupEvents":                            "actiontrail:LookupEvents",
}

// DeniedError is RAM's denial of a call setup or doctor made: it names the API, the
// RAM action and the resources the deployer lacks.
type DeniedError struct {
	API, Action string
	Resources   []string
	Err         error
}

func (e *DeniedError) Error() string {
	return fmt.Sprintf("%s was denied by RAM: the deployer needs %s on %s (imageshare setup --print-deployer-policy prints every permission setup and doctor need): %v",
		e.API, e.Action, strings.Join(e.Resources, " and "), e.Err)
}

func (e *DeniedError) Unwrap() error { return e.Err }

// call runs one API call; a denial becomes a *DeniedError naming the action and the
// resources, any other error is wrapped with the API's name.
func call(ctx context.Context, api string, resources []string, f func(context.Context) error) error {
	err := f(ctx)
	switch {
	case err == nil:
		return nil
	case Denied(err):
		return &DeniedError{API: api, Action: ramAction[api], Resources: resources, Err: err}
	}
	return fmt.Errorf("%s: %w", api, err)
}

// DeployerPolicy is the least-privilege policy of whoever runs `imageshare setup` and
// `imageshare doctor` for d: every call they make, on the narrowest resource its RAM
// reference accepts. EventBridge writes are limited to the rules setup owns (its name
// prefix), so the deployer cannot change the rules `s deploy` made. (`s deploy` itself
// needs Function Compute's permissions and ram:PassRole on the functions' role, which
// are Serverless Devs' and not listed here.)
func DeployerPolicy(d Deployment) rampolicy.Document {
	var queues []string
	for _, q := range d.Queues {
		queues = append(queues, d.QueueARN(q.Name))
	}
	doc := rampolicy.Document{Version: "1", Statement: []rampolicy.Statement{
		{Sid: "ManageTheQueues", Effect: "Allow",
			Action:   []string{"mns:GetQueueAttributes", "mns:CreateQueue", "mns:SetQueueAttributes"},
			Resource: queues},
	}}
	if d.Topic != "" {
		doc.Statement = append(doc.Statement, rampolicy.Statement{Sid: "ManageTheNotificationTopic", Effect: "Allow",
			Action:   []string{"mns:GetTopicAttributes", "mns:CreateTopic", "mns:SetTopicAttributes"},
			Resource: []string{d.TopicARN(d.Topic)}})
	}
	doc.Statement = append(doc.Statement,
		rampolicy.Statement{Sid: "ManageTheFunctionsRole", Effect: "Allow",
			Action:   []string{"ram:GetRole", "ram:CreateRole", "ram:UpdateRole", "ram:ListPoliciesForRole", "ram:AttachPolicyToRole"},
			Resource: []string{d.RoleARN(d.Role)}},
		rampolicy.Statement{Sid: "ManageTheFunctionsPolicy", Effect: "Allow",
			Action: []string{"ram:GetPolicy", "ram:CreatePolicy", "ram:ListPolicyVersions", "ram:CreatePolicyVersion",
				"ram:DeletePolicyVersion", "ram:AttachPolicyToRole"},
			Resource: []string{d.PolicyARN(d.PolicyName)}},
	)
	if len(d.Rules) > 0 {
		doc.Statement = append(doc.Statement,
			rampolicy.Statement{Sid: "CheckEventBridgesRoleForFunctionCompute", Effect: "Allow",
				Action: []string{"ram:GetRole"}, Resource: []string{d.RoleARN(SendToFCRole)}},
			rampolicy.Statement{Sid: "CreateEventBridgesRoleForFunctionComputeAllResourcesOnly", Effect: "Allow",
				Action: []string{"ram:CreateServiceLinkedRole"}, Resource: []string{"*"}},
			rampolicy.Statement{Sid: "ListTheRulesAllResourcesOnly", Effect: "Allow",
				Action: []string{"eventbridge:ListRules"}, Resource: []string{"*"}},
			rampolicy.Statement{Sid: "ManageOwnRules", Effect: "Allow",
				Action: []string{"eventbridge:GetRule", "eventbridge:CreateRule", "eventbridge:UpdateRule", "eventbridge:EnableRule",
					"eventbridge:PutTargets", "eventbridge:DeleteTargets", "eventbridge:DeleteRule"},
				Resource: []string{d.RuleARN(RulePrefix + "*")}},
		)
	}
	doc.Statement = append(doc.Statement, rampolicy.Statement{Sid: "SharingWithTheDirectoryAllResourcesOnly", Effect: "Allow",
		Action: []string{"resourcemanager:GetResourceDirectory", "resourcesharing:CheckSharingWithResourceDirectoryStatus",
			"resourcesharing:EnableSharingWithResourceDirectory"},
		Resource: []string{"*"}})
	if d.Settings.OrgPoll > 0 {
		// doctor looks the directory's writes up as the poll does.
		doc.Statement = append(doc.Statement, rampolicy.Statement{Sid: "LookUpDirectoryChangesAllResourcesOnly", Effect: "Allow",
			Action: []string{"actiontrail:LookupEvents"}, Resource: []string{"*"}})
	}
	return doc
}
