package ram

import (
	"fmt"
	"strings"

	"imageshare/pkg/cloudsim/emu"
)

// Decision is the outcome of evaluating one call.
type Decision struct {
	Allowed bool
	// ExplicitDeny: a Deny statement matched (else a denial is implicit: no Allow).
	ExplicitDeny bool
	Action       string
	Resources    []string
	// Denied is the first resource that was not allowed, and By the Deny statement
	// (policy and statement) that matched it, when there was one.
	Denied, By string
}

// String describes a denial for traces and test failures.
func (d Decision) String() string {
	if d.Allowed {
		return "allowed " + d.Action
	}
	kind := "ImplicitDeny (no statement allows it)"
	if d.ExplicitDeny {
		kind = "ExplicitDeny by " + d.By
	}
	return fmt.Sprintf("%s on %s: %s", d.Action, d.Denied, kind)
}

// Named is a parsed policy with the name it is attached under.
type Named struct {
	Name   string
	Policy *Policy
}

// Evaluate decides whether the policies allow action on every one of resources.
// allResources: the action is "All Resources", matched only by Resource "*".
func Evaluate(policies []Named, action string, resources []string, allResources bool) Decision {
	d := Decision{Action: action, Resources: resources}
	for _, r := range resources {
		allowed := false
		for _, p := range policies {
			for _, s := range p.Policy.Statements {
				if !s.matches(action, r, allResources) {
					continue
				}
				if s.Effect == "Deny" {
					d.ExplicitDeny, d.Denied, d.By = true, r, p.Name+" "+s.Name()
					return d
				}
				allowed = true
			}
		}
		if !allowed && d.Denied == "" {
			d.Denied = r
		}
	}
	d.Allowed = d.Denied == ""
	return d
}

func (s Statement) matches(action, resource string, allResources bool) bool {
	actionOK := false
	for _, a := range s.Actions {
		if wildcard(strings.ToLower(a), strings.ToLower(action)) {
			actionOK = true
			break
		}
	}
	if !actionOK {
		return false
	}
	for _, r := range s.Resources {
		if allResources {
			if r == "*" {
				return true
			}
			continue
		}
		if wildcard(r, resource) {
			return true
		}
	}
	return false
}

// wildcard matches s against pattern, where * is any run of characters and ? one.
func wildcard(pattern, s string) bool {
	// Iterative matching with backtracking to the last star: linear for policies.
	p, i, star, mark := 0, 0, -1, 0
	for i < len(s) {
		switch {
		case p < len(pattern) && (pattern[p] == '?' || pattern[p] == s[i]):
			p++
			i++
		case p < len(pattern) && pattern[p] == '*':
			star, mark = p, i
			p++
		case star >= 0:
			p = star + 1
			mark++
			i = mark
		default:
			return false
		}
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}

// Authorize evaluates a call of api by caller, with the policies store holds for it.
// evaluated is false for callers RAM does not evaluate (an account's root identity).
// A call of an API the table lacks is denied (implicitly): nothing can grant it.
func Authorize(store *emu.RAMStore, caller emu.Identity, product, name string, req Request) (d Decision, evaluated bool) {
	attached, evaluated := store.PoliciesFor(caller)
	if !evaluated {
		return Decision{Allowed: true}, false
	}
	api, ok := Lookup(product, name)
	if !ok {
		return Decision{Action: product + ":" + name, Denied: "*", Resources: []string{"*"}}, true
	}
	if api.NoAuth {
		return Decision{Allowed: true, Action: api.Action, Resources: []string{"*"}}, true
	}
	var named []Named
	for _, a := range attached {
		p, err := cached(a.Document)
		if err != nil {
			continue // the store refuses such documents; nothing to grant from it
		}
		named = append(named, Named{Name: a.Type + " policy " + a.Name, Policy: p})
	}
	return Evaluate(named, api.Action, api.Resources(req), api.AllResources), true
}

// Denied is the answer of an RPC service (ECS, Resource Manager, Resource Sharing,
// ActionTrail) to a call RAM denied. ECS answers Forbidden.RAM, the others NoPermission,
// both 403 (https://www.alibabacloud.com/help/en/ram/support/how-to-troubleshoot-an-access-denied-error
// lists NoPermission, Forbidden.RAM and NotAuthorized as the OpenAPI denials), with
// AccessDeniedDetail beside Code (fields: https://help.aliyun.com/en/agentrun/api-agentrun-2025-09-10-accessdenieddetail;
// read by the classic SDK's sdk/errors/server_error.go).
//
// EventBridge and the MNS management API answer AccessDenied, 403 (EventBridge's error
// codes, https://www.alibabacloud.com/help/en/eventbridge/error-codes; MNS's,
// https://www.alibabacloud.com/help/en/mns/developer-reference/syntax-of-error-responses).
// RAM's own API answers NoPermission naming the resource and the action, "You are not
// authorized to do this action. Resource: acs:ram:*:<account>:role/<name> Action:
// ram:CreateRole", the message its denials carry.
func Denied(product string, d Decision, caller emu.Identity) *emu.APIError {
	var e *emu.APIError
	switch product {
	case "ecs":
		e = emu.Errorf(403, "Forbidden.RAM", "User not authorized to operate on the specified resource, or this API doesn't support RAM.")
	case "eventbridge", "mns-open":
		e = emu.Errorf(403, "AccessDenied", "The OwnerId that your Access Key Id associated to is forbidden for this operation.")
	case "ram":
		e = emu.Errorf(403, "NoPermission", "You are not authorized to do this action. Resource: %s Action: %s", d.Denied, d.Action)
	default:
		e = emu.Errorf(403, "NoPermission", "You are not authorized to do this action. You should be authorized by RAM.")
	}
	e.AccessDeniedDetail = Detail(d, caller)
	return e
}

// DeniedMNS is MNS's answer to a call RAM denied: AccessDenied, 403, in its XML error
// (https://www.alibabacloud.com/help/en/mns/error-codes; the same answer as a call on
// another account's queue, per https://www.alibabacloud.com/help/doc-detail/39220.htm).
func DeniedMNS() *emu.APIError {
	return emu.Errorf(403, "AccessDenied", "The OwnerId that your Access Key Id associated to is forbidden for this operation.")
}

// Detail is the AccessDeniedDetail of a denial.
func Detail(d Decision, caller emu.Identity) map[string]string {
	typ, name := "SubUser", caller.UserName
	if caller.Type == "assumed-role" {
		typ, name = "AssumedRoleUser", caller.RoleName+":"+caller.SessionName
	}
	kind := "ImplicitDeny"
	if d.ExplicitDeny {
		kind = "ExplicitDeny"
	}
	return map[string]string{
		"AuthAction": d.Action, "AuthPrincipalType": typ, "AuthPrincipalDisplayName": name,
		"AuthPrincipalOwnerId": caller.AccountID, "NoPermissionType": kind, "PolicyType": "AccountLevelIdentityBasedPolicy",
	}
}
