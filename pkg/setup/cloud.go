package setup

import (
	"context"
	"slices"
	"strings"

	"imageshare/pkg/cloud"
)

// Cloud is every call setup and doctor make, one method per API call, with plain Go
// types. Errors the cloud answers are *cloud.Error. Package setupcloud implements it
// with the Alibaba Cloud SDK.
type Cloud interface {
	// STS 2015-04-01
	CallerIdentity(ctx context.Context) (Caller, error)
	// MNS management API (mns-open 2022-01-19)
	GetQueue(ctx context.Context, name string) (Queue, error)
	CreateQueue(ctx context.Context, q Queue) error
	SetQueueAttributes(ctx context.Context, name string, a QueueAttrs) error
	GetTopic(ctx context.Context, name string) (Topic, error)
	CreateTopic(ctx context.Context, t Topic) error
	SetTopicAttributes(ctx context.Context, name string, maxMessageSize int) error
	// RAM 2015-05-01
	GetRole(ctx context.Context, name string) (Role, error)
	CreateRole(ctx context.Context, name, trust, description string) error
	UpdateRoleTrust(ctx context.Context, name, trust string) error
	ListPoliciesForRole(ctx context.Context, role string) ([]PolicyRef, error)
	AttachPolicyToRole(ctx context.Context, role string, p PolicyRef) error
	// GetPolicy reads a policy with its default version's document.
	GetPolicy(ctx context.Context, p PolicyRef) (Policy, error)
	CreatePolicy(ctx context.Context, name, document, description string) error
	ListPolicyVersions(ctx context.Context, name string) ([]PolicyVersion, error)
	// CreatePolicyVersion adds a version and makes it the default.
	CreatePolicyVersion(ctx context.Context, name, document string) error
	DeletePolicyVersion(ctx context.Context, name, version string) error
	// EventBridge 2020-04-01. ListRules shows of each target only its Id, Type and
	// Endpoint; GetRule shows targets whole.
	ListRules(ctx context.Context, bus string) ([]Rule, error)
	GetRule(ctx context.Context, bus, name string) (Rule, error)
	CreateRule(ctx context.Context, bus string, r Rule) error
	UpdateRule(ctx context.Context, bus string, r Rule) error
	EnableRule(ctx context.Context, bus, name string) error
	PutTargets(ctx context.Context, bus, rule string, ts []Target) error
	DeleteTargets(ctx context.Context, bus, rule string, ids []string) error
	DeleteRule(ctx context.Context, bus, name string) error
	CreateServiceLinkedRole(ctx context.Context, product string) error
	// Resource Manager 2020-03-31 and Resource Sharing 2020-01-10
	GetResourceDirectory(ctx context.Context) (cloud.Directory, error)
	SharingWithDirectoryEnabled(ctx context.Context) (bool, error)
	EnableSharingWithDirectory(ctx context.Context) error
	// ActionTrail 2020-07-06 (doctor's check of the organization poll)
	LookupEvents(ctx context.Context, in cloud.LookupEventsInput) (cloud.EventPage, error)
}

// Caller is who the credentials are (GetCallerIdentity).
type Caller struct {
	AccountID, Arn, IdentityType string
}

// Queue is a queue with its attributes and tags.
type Queue struct {
	Name  string
	Attrs QueueAttrs
	Tags  map[string]string
}

// Topic is a topic with its attributes and tags.
type Topic struct {
	Name           string
	MaxMessageSize int
	Tags           map[string]string
}

// Role is a RAM role.
type Role struct {
	Name, Description, Trust, Arn string
}

// PolicyRef names a policy: Type Custom or System.
type PolicyRef struct{ Type, Name string }

// Custom names a custom policy.
func Custom(name string) PolicyRef { return PolicyRef{Type: "Custom", Name: name} }

// Policy is a policy with its default version's document.
type Policy struct {
	PolicyRef
	Description, DefaultVersion, Document string
}

// PolicyVersion is one version of a policy.
type PolicyVersion struct {
	ID        string
	IsDefault bool
	Document  string
}

// Rule is an EventBridge rule with its targets.
type Rule struct {
	Name, Description, Pattern string
	Enabled                    bool
	Targets                    []Target
}

// Target is one target of a rule.
type Target struct {
	ID, Type, Endpoint string
	RetryStrategy      string
	ErrorsTolerance    string
	DeadLetterArn      string
	Params             []TargetParam
}

// TargetParam is one item of a target's ParamList.
type TargetParam struct{ Key, Form, Value string }

// Param returns the value of the parameter key ("" when absent).
func (t Target) Param(key string) string {
	for _, p := range t.Params {
		if p.Key == key {
			return p.Value
		}
	}
	return ""
}

// Invokes reports whether t is a Function Compute target invoking function fn, in the
// 3.0 form setup writes or the 2.0 form (…:services/<service>.<qualifier>/functions/<fn>).
func (t Target) Invokes(fn string) bool {
	if t.Type != "acs.fc.function" {
		return false
	}
	if t.Param("functionName") == fn {
		return true
	}
	// …:functions/<fn> (3.0) or …/functions/<fn> (2.0).
	return strings.HasSuffix(t.Endpoint, ":functions/"+fn) || strings.HasSuffix(t.Endpoint, "/functions/"+fn)
}

// Same reports whether two targets deliver the same way.
func (t Target) Same(o Target) bool {
	sorted := func(ps []TargetParam) []TargetParam {
		out := slices.Clone(ps)
		slices.SortFunc(out, func(a, b TargetParam) int {
			if a.Key != b.Key {
				if a.Key < b.Key {
					return -1
				}
				return 1
			}
			return 0
		})
		return out
	}
	return t.ID == o.ID && t.Type == o.Type && t.Endpoint == o.Endpoint && t.RetryStrategy == o.RetryStrategy &&
		t.ErrorsTolerance == o.ErrorsTolerance && t.DeadLetterArn == o.DeadLetterArn && slices.Equal(sorted(t.Params), sorted(o.Params))
}

// Codes the cloud answers for what does not exist.
var notFoundCodes = []string{"QueueNotExist", "TopicNotExist", "EntityNotExist.Role", "EntityNotExist.Policy", "EventRuleNotExisted"}

// NotFound reports whether err says the thing asked for does not exist.
func NotFound(err error) bool { return slices.Contains(notFoundCodes, cloud.Code(err)) }

// denialCodes are the answers of a call RAM denied: NoPermission (RAM, Resource
// Management, Resource Sharing), Forbidden.RAM (ECS), AccessDenied (EventBridge, MNS),
// and NotAuthorized, all listed by "How do I troubleshoot an access denied error?",
// https://www.alibabacloud.com/help/en/ram/support/how-to-troubleshoot-an-access-denied-error.
var denialCodes = []string{"NoPermission", "Forbidden.RAM", "AccessDenied", "NotAuthorized", "Forbidden"}

// Denied reports whether err is RAM's denial of the call.
func Denied(err error) bool { return slices.Contains(denialCodes, cloud.Code(err)) }
