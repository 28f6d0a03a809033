package emu

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"
)

// RAMStore is the state of the emulated RAM service that every emulated product reads
// to authorize a call: roles (with their trust policies), RAM users, custom policies
// with their versions, and which policies are attached to which principal. What a
// policy document means is not its business: the document checker it is built with
// (package cloudsim/ram) refuses a document it cannot evaluate, when the document is
// created, as RAM refuses a malformed one.
//
// It is shaped after the RAM API (CreateRole, CreatePolicy, CreatePolicyVersion,
// SetDefaultPolicyVersion, AttachPolicyToRole, …), which package cloudsim/ram serves on
// top of it. Safe for concurrent use.
type RAMStore struct {
	check func(document string) error

	mu       sync.Mutex
	roles    map[string]*RAMRole   // principalKey("role", account, name)
	users    map[string]*RAMUser   // principalKey("user", account, name)
	policies map[string]*RAMPolicy // policyKey(type, account, name)
	attached map[string][]PolicyRef
	when     map[string]time.Time // principal key + "|" + policy key → attached at
	now      func() time.Time
}

// Policy types, as RAM names them.
const (
	PolicyCustom = "Custom"
	PolicySystem = "System"
)

// MaxPolicyVersions is how many versions RAM keeps of one custom policy.
const MaxPolicyVersions = 5

// RAMRole is a role of an account.
type RAMRole struct {
	Account, Name string
	// TrustPolicy is the AssumeRolePolicyDocument (who may assume the role).
	TrustPolicy        string
	ID, Description    string
	MaxSessionDuration int // seconds
	Created, Updated   time.Time
	// ServiceLinked: a service-linked role, which its service made and manages.
	ServiceLinked bool
}

// RAMUser is a RAM user of an account.
type RAMUser struct{ Account, Name string }

// RAMPolicy is a policy with its versions (custom policies belong to an account;
// system policies to nobody).
type RAMPolicy struct {
	Type, Account, Name string
	Description         string
	Versions            []PolicyVersion // oldest first
	Default             string          // the version in force
	Created, Updated    time.Time
	next                int // number of the next version
}

// PolicyVersion is one version of a policy.
type PolicyVersion struct {
	ID       string // v1, v2, …
	Document string
	Created  time.Time
}

// Attachment is a policy attached to a principal, with when it was attached.
type Attachment struct {
	PolicyRef
	Attached time.Time
}

// PolicyRef names an attached policy.
type PolicyRef struct{ Type, Account, Name string }

// AttachedPolicy is a policy in force for a principal: its default version's document.
type AttachedPolicy struct {
	PolicyRef
	Version, Document string
}

// NewRAMStore returns an empty store whose policy documents must pass check.
func NewRAMStore(check func(document string) error) *RAMStore {
	if check == nil {
		check = func(string) error { return nil }
	}
	return &RAMStore{check: check, roles: map[string]*RAMRole{}, users: map[string]*RAMUser{},
		policies: map[string]*RAMPolicy{}, attached: map[string][]PolicyRef{}, when: map[string]time.Time{},
		now: func() time.Time { return time.Now().UTC() }}
}

// SetClock makes the store date what it creates with now (default: the wall clock).
func (s *RAMStore) SetClock(now func() time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.now = now
}

func principalKey(kind, account, name string) string { return kind + "/" + account + "/" + name }

func policyKey(typ, account, name string) string {
	if typ == PolicySystem {
		account = ""
	}
	return typ + "/" + account + "/" + name
}

// The error codes below are the RAM API's; the HTTP statuses follow its error pages.
// Each code is written out, so that the error catalogue's static check sees it.
func notExist(kind, name string) *APIError {
	msg := fmt.Sprintf("The %s does not exist: %s.", strings.ToLower(kind), name)
	switch kind {
	case "Role":
		return Errorf(404, "EntityNotExist.Role", "%s", msg)
	case "User":
		return Errorf(404, "EntityNotExist.User", "%s", msg)
	case "Policy":
		return Errorf(404, "EntityNotExist.Policy", "%s", msg)
	case "Policy.Version":
		return Errorf(404, "EntityNotExist.Policy.Version", "%s", msg)
	case "Role.Policy":
		return Errorf(404, "EntityNotExist.Role.Policy", "%s", msg)
	default:
		return Errorf(404, "EntityNotExist.User.Policy", "%s", msg)
	}
}

func exists(kind, name string) *APIError {
	msg := fmt.Sprintf("The %s already exists: %s.", strings.ToLower(kind), name)
	switch kind {
	case "Role":
		return Errorf(409, "EntityAlreadyExists.Role", "%s", msg)
	case "User":
		return Errorf(409, "EntityAlreadyExists.User", "%s", msg)
	case "Policy":
		return Errorf(409, "EntityAlreadyExists.Policy", "%s", msg)
	case "Role.Policy":
		return Errorf(409, "EntityAlreadyExists.Role.Policy", "%s", msg)
	default:
		return Errorf(409, "EntityAlreadyExists.User.Policy", "%s", msg)
	}
}

// CreateRole creates a role with its trust policy.
func (s *RAMStore) CreateRole(account, name, trustPolicy string) *APIError {
	_, err := s.CreateRoleWith(RAMRole{Account: account, Name: name, TrustPolicy: trustPolicy})
	return err
}

// CreateRoleWith creates a role as r describes it (Account, Name, TrustPolicy,
// Description, MaxSessionDuration, ServiceLinked) and returns it with its ID and dates.
// The trust policy is the caller's to check (the RAM API checks it).
func (s *RAMStore) CreateRoleWith(r RAMRole) (RAMRole, *APIError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := principalKey("role", r.Account, r.Name)
	if s.roles[k] != nil {
		return RAMRole{}, exists("Role", r.Name)
	}
	now := s.now()
	r.ID = fmt.Sprintf("3%018d", len(s.roles)+1)
	r.Created, r.Updated = now, now
	if r.MaxSessionDuration == 0 {
		r.MaxSessionDuration = 3600
	}
	s.roles[k] = &r
	return r, nil
}

// UpdateRole replaces a role's trust policy (when trust is not "") and description
// (when description is not nil).
func (s *RAMStore) UpdateRole(account, name, trust string, description *string) (RAMRole, *APIError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.roles[principalKey("role", account, name)]
	if r == nil {
		return RAMRole{}, notExist("Role", name)
	}
	if trust != "" {
		r.TrustPolicy = trust
	}
	if description != nil {
		r.Description = *description
	}
	r.Updated = s.now()
	return *r, nil
}

// DeleteRole removes a role and its attachments (tests use it to take a piece away).
func (s *RAMStore) DeleteRole(account, name string) *APIError {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := principalKey("role", account, name)
	if s.roles[k] == nil {
		return notExist("Role", name)
	}
	delete(s.roles, k)
	delete(s.attached, k)
	return nil
}

// CreateUser creates a RAM user.
func (s *RAMStore) CreateUser(account, name string) *APIError {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := principalKey("user", account, name)
	if s.users[k] != nil {
		return exists("User", name)
	}
	s.users[k] = &RAMUser{Account: account, Name: name}
	return nil
}

// CreatePolicy creates a custom policy of account whose version v1 is document.
func (s *RAMStore) CreatePolicy(account, name, document string) *APIError {
	return s.create(PolicyCustom, account, name, document)
}

// CreateSystemPolicy adds a policy that every account may attach (as Alibaba's own).
func (s *RAMStore) CreateSystemPolicy(name, document string) *APIError {
	return s.create(PolicySystem, "", name, document)
}

func (s *RAMStore) create(typ, account, name, document string) *APIError {
	_, err := s.createWith(typ, account, name, document, "")
	return err
}

// CreatePolicyWith creates a custom policy with a description and returns it.
func (s *RAMStore) CreatePolicyWith(account, name, document, description string) (RAMPolicy, *APIError) {
	return s.createWith(PolicyCustom, account, name, document, description)
}

func (s *RAMStore) createWith(typ, account, name, document, description string) (RAMPolicy, *APIError) {
	if err := s.check(document); err != nil {
		return RAMPolicy{}, malformed(err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	k := policyKey(typ, account, name)
	if s.policies[k] != nil {
		return RAMPolicy{}, exists("Policy", name)
	}
	now := s.now()
	p := &RAMPolicy{Type: typ, Account: account, Name: name, Description: description, Default: "v1", next: 2,
		Created: now, Updated: now, Versions: []PolicyVersion{{ID: "v1", Document: document, Created: now}}}
	s.policies[k] = p
	return p.clone(), nil
}

func (p *RAMPolicy) clone() RAMPolicy {
	cp := *p
	cp.Versions = slices.Clone(p.Versions)
	return cp
}

func malformed(err error) *APIError {
	return Errorf(400, "MalformedPolicyDocument", "The policy document is malformed: %v", err)
}

// CreatePolicyVersion adds a version to a custom policy, made the default when
// setDefault, and returns its ID. RAM keeps at most MaxPolicyVersions versions.
func (s *RAMStore) CreatePolicyVersion(account, name, document string, setDefault bool) (string, *APIError) {
	return s.CreatePolicyVersionRotating(account, name, document, setDefault, false)
}

// CreatePolicyVersionRotating is CreatePolicyVersion; with rotate, a policy at the
// limit first loses its oldest version that is not the default (the RAM API's
// RotateStrategy DeleteOldestNonDefaultVersionWhenLimitExceeded).
func (s *RAMStore) CreatePolicyVersionRotating(account, name, document string, setDefault, rotate bool) (string, *APIError) {
	if err := s.check(document); err != nil {
		return "", malformed(err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.policies[policyKey(PolicyCustom, account, name)]
	if p == nil {
		return "", notExist("Policy", name)
	}
	if len(p.Versions) >= MaxPolicyVersions && rotate {
		if i := slices.IndexFunc(p.Versions, func(v PolicyVersion) bool { return v.ID != p.Default }); i >= 0 {
			p.Versions = slices.Delete(p.Versions, i, i+1)
		}
	}
	if len(p.Versions) >= MaxPolicyVersions {
		return "", Errorf(409, "LimitExceeded.Policy.Version", "Exceeded the maximum number of versions (%d) of policy %s.", MaxPolicyVersions, name)
	}
	id := fmt.Sprintf("v%d", p.next)
	p.next++
	now := s.now()
	p.Versions = append(p.Versions, PolicyVersion{ID: id, Document: document, Created: now})
	p.Updated = now
	if setDefault {
		p.Default = id
	}
	return id, nil
}

// SetDefaultPolicyVersion makes version the one in force.
func (s *RAMStore) SetDefaultPolicyVersion(account, name, version string) *APIError {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.policies[policyKey(PolicyCustom, account, name)]
	if p == nil {
		return notExist("Policy", name)
	}
	if !slices.ContainsFunc(p.Versions, func(v PolicyVersion) bool { return v.ID == version }) {
		return notExist("Policy.Version", version)
	}
	p.Default = version
	return nil
}

// DeletePolicyVersion removes a version that is not the default.
func (s *RAMStore) DeletePolicyVersion(account, name, version string) *APIError {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.policies[policyKey(PolicyCustom, account, name)]
	if p == nil {
		return notExist("Policy", name)
	}
	if p.Default == version {
		return Errorf(409, "DeleteConflict.PolicyVersion.Default", "The default version %s of policy %s cannot be deleted.", version, name)
	}
	i := slices.IndexFunc(p.Versions, func(v PolicyVersion) bool { return v.ID == version })
	if i < 0 {
		return notExist("Policy.Version", version)
	}
	p.Versions = slices.Delete(p.Versions, i, i+1)
	return nil
}

// AttachPolicyToRole attaches a policy (Custom of the role's account, or System).
func (s *RAMStore) AttachPolicyToRole(account, policyType, policyName, role string) *APIError {
	return s.attach("role", "Role", account, policyType, policyName, role)
}

// AttachPolicyToUser attaches a policy to a RAM user.
func (s *RAMStore) AttachPolicyToUser(account, policyType, policyName, user string) *APIError {
	return s.attach("user", "User", account, policyType, policyName, user)
}

func (s *RAMStore) attach(kind, entity, account, policyType, policyName, principal string) *APIError {
	s.mu.Lock()
	defer s.mu.Unlock()
	pk := principalKey(kind, account, principal)
	if (kind == "role" && s.roles[pk] == nil) || (kind == "user" && s.users[pk] == nil) {
		return notExist(entity, principal)
	}
	ref := PolicyRef{Type: policyType, Account: account, Name: policyName}
	if policyType == PolicySystem {
		ref.Account = ""
	}
	if s.policies[policyKey(ref.Type, ref.Account, ref.Name)] == nil {
		return notExist("Policy", policyName)
	}
	if slices.Contains(s.attached[pk], ref) {
		return exists(entity+".Policy", policyName)
	}
	s.attached[pk] = append(s.attached[pk], ref)
	s.when[pk+"|"+policyKey(ref.Type, ref.Account, ref.Name)] = s.now()
	return nil
}

// PoliciesOfRole returns the policies attached to a role, in the order attached.
func (s *RAMStore) PoliciesOfRole(account, role string) ([]Attachment, *APIError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	pk := principalKey("role", account, role)
	if s.roles[pk] == nil {
		return nil, notExist("Role", role)
	}
	var out []Attachment
	for _, ref := range s.attached[pk] {
		out = append(out, Attachment{PolicyRef: ref, Attached: s.when[pk+"|"+policyKey(ref.Type, ref.Account, ref.Name)]})
	}
	return out, nil
}

// AttachmentCount counts the principals a policy is attached to.
func (s *RAMStore) AttachmentCount(policyType, account, name string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	ref := PolicyRef{Type: policyType, Account: account, Name: name}
	if policyType == PolicySystem {
		ref.Account = ""
	}
	n := 0
	for _, refs := range s.attached {
		if slices.Contains(refs, ref) {
			n++
		}
	}
	return n
}

// DetachPolicyFromRole detaches a policy from a role.
func (s *RAMStore) DetachPolicyFromRole(account, policyType, policyName, role string) *APIError {
	s.mu.Lock()
	defer s.mu.Unlock()
	pk := principalKey("role", account, role)
	ref := PolicyRef{Type: policyType, Account: account, Name: policyName}
	if policyType == PolicySystem {
		ref.Account = ""
	}
	i := slices.Index(s.attached[pk], ref)
	if i < 0 {
		return notExist("Role.Policy", policyName)
	}
	s.attached[pk] = slices.Delete(s.attached[pk], i, i+1)
	return nil
}

// Grant is the shortcut tests and the sandbox use: it creates the role if missing,
// creates the custom policy name with document, and attaches it to the role.
func (s *RAMStore) Grant(account, role, name, document string) *APIError {
	if err := s.CreateRole(account, role, ""); err != nil && err.Code != "EntityAlreadyExists.Role" {
		return err
	}
	if err := s.CreatePolicy(account, name, document); err != nil {
		return err
	}
	return s.AttachPolicyToRole(account, PolicyCustom, name, role)
}

// PoliciesFor returns the policies in force for the caller, and whether RAM evaluates
// its calls at all: an account's root identity is not evaluated (as in RAM); RAM users
// and assumed roles are, and an unknown principal holds nothing.
func (s *RAMStore) PoliciesFor(id Identity) ([]AttachedPolicy, bool) {
	var pk string
	switch id.Type {
	case "assumed-role":
		pk = principalKey("role", id.AccountID, id.RoleName)
	case "ram-user":
		pk = principalKey("user", id.AccountID, id.UserName)
	default:
		return nil, false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []AttachedPolicy
	for _, ref := range s.attached[pk] {
		p := s.policies[policyKey(ref.Type, ref.Account, ref.Name)]
		if p == nil {
			continue
		}
		for _, v := range p.Versions {
			if v.ID == p.Default {
				out = append(out, AttachedPolicy{PolicyRef: ref, Version: v.ID, Document: v.Document})
			}
		}
	}
	return out, true
}

// Policy returns a copy of a policy (nil if absent).
func (s *RAMStore) Policy(policyType, account, name string) *RAMPolicy {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.policies[policyKey(policyType, account, name)]
	if p == nil {
		return nil
	}
	cp := p.clone()
	return &cp
}

// Role returns a copy of a role (nil if absent).
func (s *RAMStore) Role(account, name string) *RAMRole {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.roles[principalKey("role", account, name)]
	if r == nil {
		return nil
	}
	cp := *r
	return &cp
}
