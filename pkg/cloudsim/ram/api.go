package ram

import (
	"regexp"
	"strings"
	"time"

	"imageshare/pkg/cloudsim/emu"
)

// The RAM API (2015-05-01, RPC) on top of the RAM store: roles with their trust
// policies, custom policies and their versions (at most five), and the policies
// attached to roles. Every call is authorized by RAM itself, as the emulated cloud
// authorizes every product (table.go, rows "ram"). Reference pages:
// https://www.alibabacloud.com/help/en/ram/developer-reference/api-ram-2015-05-01-<action in lower case>.

const ramDocs = "https://www.alibabacloud.com/help/en/ram/developer-reference/api-ram-2015-05-01-"

// Service serves the RAM API from a store.
type Service struct{ store *emu.RAMStore }

// NewService returns the RAM API over store.
func NewService(store *emu.RAMStore) *Service { return &Service{store: store} }

var _ emu.Service = (*Service)(nil)

// Product implements emu.Service.
func (*Service) Product() string { return "ram" }

// Version implements emu.Service.
func (*Service) Version() string { return "2015-05-01" }

// Host implements emu.Service.
func (*Service) Host() string { return "ram.aliyuncs.com" }

var (
	// RoleName: 1 to 64 letters, digits, periods and hyphens (CreateRole).
	roleNameRE = regexp.MustCompile(`^[A-Za-z0-9.-]{1,64}$`)
	// PolicyName: 1 to 128 letters, digits and hyphens (CreatePolicy).
	policyNameRE = regexp.MustCompile(`^[A-Za-z0-9-]{1,128}$`)
	// VersionId: v1, v2, … (GetPolicyVersion's example).
	versionRE = regexp.MustCompile(`^v[1-9][0-9]*$`)
)

func missingParam(name string) *emu.APIError {
	return emu.Errorf(400, "MissingParameter", "The input parameter %q that is mandatory for processing this request is not supplied.", name)
}

func roleName() emu.Param {
	return emu.Param{Name: "RoleName", Required: true, Pattern: roleNameRE, Missing: missingParam("RoleName"),
		Invalid: emu.Errorf(400, "InvalidParameter.RoleName.InvalidChars", "The parameter RoleName contains invalid chars or is longer than 64 characters.")}
}

func policyName() emu.Param {
	return emu.Param{Name: "PolicyName", Required: true, Pattern: policyNameRE, Missing: missingParam("PolicyName"),
		Invalid: emu.Errorf(400, "InvalidParameter.PolicyName.InvalidChars", "The parameter PolicyName contains invalid chars or is longer than 128 characters.")}
}

func policyType(required bool) emu.Param {
	return emu.Param{Name: "PolicyType", Required: required, Enum: []string{emu.PolicySystem, emu.PolicyCustom}, Missing: missingParam("PolicyType"),
		Invalid: emu.Errorf(400, "InvalidParameter.PolicyType.InvalidValue", "The parameter PolicyType must be System or Custom.")}
}

func versionID() emu.Param {
	return emu.Param{Name: "VersionId", Required: true, Pattern: versionRE, Missing: missingParam("VersionId"),
		Invalid: emu.Errorf(404, "EntityNotExist.Policy.Version", "The policy version does not exist.")}
}

func description(name string) emu.Param {
	return emu.Param{Name: name, MaxLen: 1024,
		Invalid: emu.Errorf(400, "InvalidParameter.Description.Length", "The parameter Description is longer than 1024 characters.")}
}

func document(name string) emu.Param {
	return emu.Param{Name: name, Required: true, Missing: missingParam(name)}
}

// Actions implements emu.Service.
func (a *Service) Actions() map[string]emu.Action {
	return map[string]emu.Action{
		"CreateRole": {Write: true, Source: ramDocs + "createrole", Do: a.createRole, Params: []emu.Param{
			roleName(), document("AssumeRolePolicyDocument"), description("Description"),
			{Name: "MaxSessionDuration", Kind: emu.PInt, Min: 3600, Max: 43200,
				Invalid: emu.Errorf(400, "InvalidParameter.MaxSessionDuration.InvalidValue", "The parameter MaxSessionDuration must be from 3600 to 43200.")},
		}},
		"GetRole":             {Source: ramDocs + "getrole", Do: a.getRole, Params: []emu.Param{roleName()}},
		"UpdateRole":          {Write: true, Source: ramDocs + "updaterole", Do: a.updateRole, Params: []emu.Param{roleName(), description("NewDescription")}},
		"ListPoliciesForRole": {Source: ramDocs + "listpoliciesforrole", Do: a.listPoliciesForRole, Params: []emu.Param{roleName()}},
		"AttachPolicyToRole": {Write: true, Source: ramDocs + "attachpolicytorole", Do: a.attach, Params: []emu.Param{
			policyType(true), policyName(), roleName()}},
		"DetachPolicyFromRole": {Write: true, Source: ramDocs + "detachpolicyfromrole", Do: a.detach, Params: []emu.Param{
			policyType(true), policyName(), roleName()}},
		"CreatePolicy": {Write: true, Source: ramDocs + "createpolicy", Do: a.createPolicy, Params: []emu.Param{
			policyName(), document("PolicyDocument"), description("Description")}},
		"GetPolicy":          {Source: ramDocs + "getpolicy", Do: a.getPolicy, Params: []emu.Param{policyType(true), policyName()}},
		"GetPolicyVersion":   {Source: ramDocs + "getpolicyversion", Do: a.getPolicyVersion, Params: []emu.Param{policyType(true), policyName(), versionID()}},
		"ListPolicyVersions": {Source: ramDocs + "listpolicyversions", Do: a.listPolicyVersions, Params: []emu.Param{policyType(true), policyName()}},
		"CreatePolicyVersion": {Write: true, Source: ramDocs + "createpolicyversion", Do: a.createPolicyVersion, Params: []emu.Param{
			policyName(), document("PolicyDocument"),
			{Name: "SetAsDefault", Kind: emu.PBool, Invalid: emu.Errorf(400, "InvalidParameter.SetAsDefault.InvalidValue", "The parameter SetAsDefault must be true or false.")},
			{Name: "RotateStrategy", Enum: []string{"None", "DeleteOldestNonDefaultVersionWhenLimitExceeded"},
				Invalid: emu.Errorf(400, "InvalidParameter.RotateStrategy.InvalidValue", "The parameter RotateStrategy must be None or DeleteOldestNonDefaultVersionWhenLimitExceeded.")},
		}},
		"DeletePolicyVersion":     {Write: true, Source: ramDocs + "deletepolicyversion", Do: a.deletePolicyVersion, Params: []emu.Param{policyName(), versionID()}},
		"SetDefaultPolicyVersion": {Write: true, Source: ramDocs + "setdefaultpolicyversion", Do: a.setDefault, Params: []emu.Param{policyName(), versionID()}},
	}
}

func date(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05Z") }

// RoleARN is a role's ARN as RAM writes it (the name in lower case).
func RoleARN(account, name string) string {
	return "acs:ram::" + account + ":role/" + strings.ToLower(name)
}

func roleView(r emu.RAMRole) map[string]any {
	return map[string]any{"Role": map[string]any{
		"RoleId": r.ID, "RoleName": r.Name, "Arn": RoleARN(r.Account, r.Name), "Description": r.Description,
		"AssumeRolePolicyDocument": r.TrustPolicy, "MaxSessionDuration": r.MaxSessionDuration,
		"CreateDate": date(r.Created), "UpdateDate": date(r.Updated),
	}}
}

func malformedTrust(err error) *emu.APIError {
	return emu.Errorf(400, "MalformedPolicyDocument", "The policy document is malformed: %v", err)
}

func (a *Service) createRole(c *emu.Call) (map[string]any, *emu.APIError) {
	if err := CheckTrust(c.P("AssumeRolePolicyDocument")); err != nil {
		return nil, malformedTrust(err)
	}
	max := 0
	if v := c.P("MaxSessionDuration"); v != "" {
		max = atoi(v)
	}
	r, err := a.store.CreateRoleWith(emu.RAMRole{Account: c.Caller.AccountID, Name: c.P("RoleName"), TrustPolicy: c.P("AssumeRolePolicyDocument"),
		Description: c.P("Description"), MaxSessionDuration: max})
	if err != nil {
		return nil, err
	}
	return roleView(r), nil
}

func (a *Service) getRole(c *emu.Call) (map[string]any, *emu.APIError) {
	r := a.store.Role(c.Caller.AccountID, c.P("RoleName"))
	if r == nil {
		return nil, emu.Errorf(404, "EntityNotExist.Role", "The role does not exist: %s.", c.P("RoleName"))
	}
	return roleView(*r), nil
}

func (a *Service) updateRole(c *emu.Call) (map[string]any, *emu.APIError) {
	trust := c.P("NewAssumeRolePolicyDocument")
	if trust != "" {
		if err := CheckTrust(trust); err != nil {
			return nil, malformedTrust(err)
		}
	}
	var desc *string
	if d, ok := c.Params["NewDescription"]; ok {
		desc = &d
	}
	r, err := a.store.UpdateRole(c.Caller.AccountID, c.P("RoleName"), trust, desc)
	if err != nil {
		return nil, err
	}
	return roleView(r), nil
}

func (a *Service) listPoliciesForRole(c *emu.Call) (map[string]any, *emu.APIError) {
	atts, err := a.store.PoliciesOfRole(c.Caller.AccountID, c.P("RoleName"))
	if err != nil {
		return nil, err
	}
	list := []any{}
	for _, at := range atts {
		item := map[string]any{"PolicyName": at.Name, "PolicyType": at.Type, "AttachDate": date(at.Attached)}
		if p := a.store.Policy(at.Type, at.Account, at.Name); p != nil {
			item["Description"], item["DefaultVersion"] = p.Description, p.Default
		}
		list = append(list, item)
	}
	return map[string]any{"Policies": map[string]any{"Policy": list}}, nil
}

// policyAccount is the account whose policy a call names: a custom policy is the
// caller's; a system policy is nobody's.
func policyAccount(c *emu.Call) string {
	if c.P("PolicyType") == emu.PolicySystem {
		return ""
	}
	return c.Caller.AccountID
}

func (a *Service) attach(c *emu.Call) (map[string]any, *emu.APIError) {
	if err := a.store.AttachPolicyToRole(c.Caller.AccountID, c.P("PolicyType"), c.P("PolicyName"), c.P("RoleName")); err != nil {
		return nil, err
	}
	return map[string]any{}, nil
}

func (a *Service) detach(c *emu.Call) (map[string]any, *emu.APIError) {
	if err := a.store.DetachPolicyFromRole(c.Caller.AccountID, c.P("PolicyType"), c.P("PolicyName"), c.P("RoleName")); err != nil {
		return nil, err
	}
	return map[string]any{}, nil
}

func policyView(p emu.RAMPolicy, attachments int) map[string]any {
	return map[string]any{"PolicyName": p.Name, "PolicyType": p.Type, "Description": p.Description, "DefaultVersion": p.Default,
		"CreateDate": date(p.Created), "UpdateDate": date(p.Updated), "AttachmentCount": attachments}
}

func versionView(v emu.PolicyVersion, def string) map[string]any {
	return map[string]any{"VersionId": v.ID, "IsDefaultVersion": v.ID == def, "PolicyDocument": v.Document, "CreateDate": date(v.Created)}
}

func (a *Service) createPolicy(c *emu.Call) (map[string]any, *emu.APIError) {
	p, err := a.store.CreatePolicyWith(c.Caller.AccountID, c.P("PolicyName"), c.P("PolicyDocument"), c.P("Description"))
	if err != nil {
		return nil, err
	}
	return map[string]any{"Policy": policyView(p, 0)}, nil
}

func (a *Service) policy(c *emu.Call) (*emu.RAMPolicy, *emu.APIError) {
	typ := c.P("PolicyType")
	if typ == "" {
		typ = emu.PolicyCustom
	}
	p := a.store.Policy(typ, policyAccount(c), c.P("PolicyName"))
	if p == nil {
		return nil, emu.Errorf(404, "EntityNotExist.Policy", "The policy does not exist: %s.", c.P("PolicyName"))
	}
	return p, nil
}

func (a *Service) getPolicy(c *emu.Call) (map[string]any, *emu.APIError) {
	p, err := a.policy(c)
	if err != nil {
		return nil, err
	}
	out := map[string]any{"Policy": policyView(*p, a.store.AttachmentCount(p.Type, p.Account, p.Name))}
	for _, v := range p.Versions {
		if v.ID == p.Default {
			out["DefaultPolicyVersion"] = versionView(v, p.Default)
		}
	}
	return out, nil
}

func (a *Service) getPolicyVersion(c *emu.Call) (map[string]any, *emu.APIError) {
	p, err := a.policy(c)
	if err != nil {
		return nil, err
	}
	for _, v := range p.Versions {
		if v.ID == c.P("VersionId") {
			return map[string]any{"PolicyVersion": versionView(v, p.Default)}, nil
		}
	}
	return nil, emu.Errorf(404, "EntityNotExist.Policy.Version", "The policy version does not exist: %s.", c.P("VersionId"))
}

func (a *Service) listPolicyVersions(c *emu.Call) (map[string]any, *emu.APIError) {
	p, err := a.policy(c)
	if err != nil {
		return nil, err
	}
	list := []any{}
	for _, v := range p.Versions {
		list = append(list, versionView(v, p.Default))
	}
	return map[string]any{"PolicyVersions": map[string]any{"PolicyVersion": list}}, nil
}

func (a *Service) createPolicyVersion(c *emu.Call) (map[string]any, *emu.APIError) {
	setDefault := strings.EqualFold(c.P("SetAsDefault"), "true")
	rotate := c.P("RotateStrategy") == "DeleteOldestNonDefaultVersionWhenLimitExceeded"
	id, err := a.store.CreatePolicyVersionRotating(c.Caller.AccountID, c.P("PolicyName"), c.P("PolicyDocument"), setDefault, rotate)
	if err != nil {
		return nil, err
	}
	p := a.store.Policy(emu.PolicyCustom, c.Caller.AccountID, c.P("PolicyName"))
	for _, v := range p.Versions {
		if v.ID == id {
			return map[string]any{"PolicyVersion": versionView(v, p.Default)}, nil
		}
	}
	return map[string]any{"PolicyVersion": map[string]any{"VersionId": id}}, nil
}

func (a *Service) deletePolicyVersion(c *emu.Call) (map[string]any, *emu.APIError) {
	if err := a.store.DeletePolicyVersion(c.Caller.AccountID, c.P("PolicyName"), c.P("VersionId")); err != nil {
		return nil, err
	}
	return map[string]any{}, nil
}

func (a *Service) setDefault(c *emu.Call) (map[string]any, *emu.APIError) {
	if err := a.store.SetDefaultPolicyVersion(c.Caller.AccountID, c.P("PolicyName"), c.P("VersionId")); err != nil {
		return nil, err
	}
	return map[string]any{}, nil
}

func atoi(s string) int {
	n := 0
	for _, r := range s {
		if r < '0' || r > '9' {
			return 0
		}
		n = n*10 + int(r-'0')
	}
	return n
}
