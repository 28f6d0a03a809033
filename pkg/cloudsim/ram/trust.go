package ram

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// Trust is a role's trust policy (AssumeRolePolicyDocument): who may assume the role.
//
// Grammar (https://www.alibabacloud.com/help/en/ram/user-guide/policy-structure-and-syntax,
// "trust policy"; the example of CreateRole's page,
// https://www.alibabacloud.com/help/en/ram/developer-reference/api-ram-2015-05-01-createrole):
// Version "1"; Statement a non-empty list of {Effect, Action, Principal}; Action
// sts:AssumeRole (a string or a list); Principal an object whose keys are Service
// (trusted Alibaba Cloud services, e.g. fc.aliyuncs.com), RAM (trusted accounts or RAM
// users and roles, as ARNs) or Federated (identity providers), each a string or a list.
// Condition is not evaluated here and is refused, as in policies.
type Trust struct {
	Statements []TrustStatement
}

// TrustStatement is one statement of a trust policy.
type TrustStatement struct {
	Effect string
	// Principals: kind (Service, RAM, Federated) → the principals, sorted.
	Principals map[string][]string
}

var principalKinds = []string{"Service", "RAM", "Federated"}

// ParseTrust reads a trust policy, refusing what RAM would refuse and what this
// emulator does not evaluate, with an error naming the statement and the element.
func ParseTrust(document []byte) (*Trust, error) {
	var top map[string]json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(document))
	if err := dec.Decode(&top); err != nil {
		return nil, fmt.Errorf("trust policy is not a JSON object: %w", err)
	}
	if dec.More() {
		return nil, fmt.Errorf("trust policy has data after its JSON object")
	}
	for k := range top {
		if k != "Version" && k != "Statement" {
			return nil, fmt.Errorf("trust policy: unknown element %q (only Version and Statement)", k)
		}
	}
	var version string
	if err := json.Unmarshal(top["Version"], &version); err != nil || version != "1" {
		return nil, fmt.Errorf(`trust policy: Version must be "1", got %s`, orMissing(top["Version"]))
	}
	var raw []map[string]json.RawMessage
	if err := json.Unmarshal(top["Statement"], &raw); err != nil || len(raw) == 0 {
		return nil, fmt.Errorf("trust policy: Statement must be a non-empty list of statements")
	}
	t := &Trust{}
	for i, st := range raw {
		name := fmt.Sprintf("statement %d", i+1)
		for k := range st {
			if !slices.Contains([]string{"Sid", "Effect", "Action", "Principal"}, k) {
				return nil, fmt.Errorf("trust policy %s: element %q is not supported in a trust policy by the emulated RAM", name, k)
			}
		}
		s := TrustStatement{Principals: map[string][]string{}}
		if err := json.Unmarshal(st["Effect"], &s.Effect); err != nil || (s.Effect != "Allow" && s.Effect != "Deny") {
			return nil, fmt.Errorf("trust policy %s: Effect must be \"Allow\" or \"Deny\", got %s", name, orMissing(st["Effect"]))
		}
		actions, err := stringOrList(st["Action"])
		if err != nil {
			return nil, fmt.Errorf("trust policy %s: Action %v", name, err)
		}
		for _, a := range actions {
			if !strings.EqualFold(a, "sts:AssumeRole") {
				return nil, fmt.Errorf("trust policy %s: Action %q is not sts:AssumeRole", name, a)
			}
		}
		var principal map[string]json.RawMessage
		if err := json.Unmarshal(st["Principal"], &principal); err != nil || len(principal) == 0 {
			return nil, fmt.Errorf("trust policy %s: Principal must be an object naming Service, RAM or Federated principals", name)
		}
		for kind, v := range principal {
			if !slices.Contains(principalKinds, kind) {
				return nil, fmt.Errorf("trust policy %s: Principal kind %q is not Service, RAM or Federated", name, kind)
			}
			ps, err := stringOrList(v)
			if err != nil {
				return nil, fmt.Errorf("trust policy %s: Principal %s %v", name, kind, err)
			}
			slices.Sort(ps)
			s.Principals[kind] = slices.Compact(ps)
		}
		t.Statements = append(t.Statements, s)
	}
	return t, nil
}

// CheckTrust is ParseTrust for the RAM API's CreateRole and UpdateRole.
func CheckTrust(document string) error {
	_, err := ParseTrust([]byte(document))
	return err
}

// Trusts reports whether the trust policy lets principal (e.g. "fc.aliyuncs.com") of
// kind (e.g. "Service") assume the role: an Allow names it and no Deny does.
func (t *Trust) Trusts(kind, principal string) bool {
	allowed := false
	for _, s := range t.Statements {
		if !slices.Contains(s.Principals[kind], principal) {
			continue
		}
		if s.Effect == "Deny" {
			return false
		}
		allowed = true
	}
	return allowed
}
