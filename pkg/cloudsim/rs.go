package cloudsim

import (
	"maps"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"imageshare/pkg/cloudsim/emu"
)

// ResourceSharing 2020-01-10: resource shares of images with the directory, its
// folders and accounts (regional).

func init() {
	register("resourcesharing", false, map[string]actionFn{
		"CheckSharingWithResourceDirectoryStatus": (*Cloud).checkSharing,
		"ListResourceShares":                      (*Cloud).listResourceShares,
		"ListResourceShareAssociations":           (*Cloud).listAssociations,
		"ListSharedResources":                     (*Cloud).listSharedResources,
		"ListSharedTargets":                       (*Cloud).listSharedTargets,
	})
	register("resourcesharing", true, map[string]actionFn{
		"EnableSharingWithResourceDirectory": (*Cloud).enableSharing,
		"CreateResourceShare":                (*Cloud).createResourceShare,
		"UpdateResourceShare":                (*Cloud).updateResourceShare,
		"DeleteResourceShare":                (*Cloud).deleteResourceShare,
		"AssociateResourceShare":             (*Cloud).associateResourceShare,
		"DisassociateResourceShare":          (*Cloud).disassociateResourceShare,
	})
}

// ---- sharing with the directory ----

func (c *Cloud) enableSharing(x *exec) (map[string]any, *emu.APIError) {
	d := c.dirOf(x.caller.AccountID)
	if d == nil || d.Master != x.caller.AccountID {
		return nil, emu.Errorf(409, "ActionNotPermitted", "The caller must be the master account for the Resource Directory.")
	}
	if d.SharingEnabled {
		return nil, emu.Errorf(409, "AlreadyEnabled", "You have already enabled sharing with the Resource Directory.")
	}
	d.SharingEnabled = true
	return nil, nil
}

func (c *Cloud) checkSharing(x *exec) (map[string]any, *emu.APIError) {
	d := c.dirOf(x.caller.AccountID)
	return map[string]any{"EnableSharingWithRd": d != nil && d.SharingEnabled}, nil
}

// ---- shares ----

func (c *Cloud) shareJSON(s *share) map[string]any {
	return map[string]any{"ResourceShareId": s.ID, "ResourceShareName": s.Name, "ResourceShareOwner": s.Owner,
		"ResourceShareStatus": s.Status, "AllowExternalTargets": s.AllowExternal, "CreateTime": rsTime(s.Created),
		"UpdateTime": rsTime(s.Updated), "ResourceGroupId": ""}
}

// ownShare finds the caller's share named by ResourceShareId (the contract made sure it
// is given).
func (c *Cloud) ownShare(x *exec) (*share, *emu.APIError) {
	if x.region == "" {
		return nil, missing("RegionId")
	}
	s := c.region(x.region).shares[x.p("ResourceShareId")]
	if s == nil || s.Owner != x.caller.AccountID {
		return nil, emu.Errorf(404, "EntityNotExists.ResourceShare", "The resource share does not exist in the current account.")
	}
	return s, nil
}

func activeShare(s *share) *emu.APIError {
	if s.Status != shareActive {
		return emu.Errorf(409, "ResourceShareStatusMismatchAction", "The status of the resource share does not allow the specified operation.")
	}
	return nil
}

// entities reads Resources.N.ResourceId and Targets.N (the contract checked their
// number, pairs, types and duplicates).
func entities(x *exec) (resources, targets []string) {
	for _, r := range structs(x.params, "Resources") {
		resources = append(resources, r["ResourceId"])
	}
	return resources, list(x.params, "Targets")
}

// sharedCount counts the owner's shared resources in a region (associations that are
// or will be Associated).
func (c *Cloud) sharedCount(owner, region string) int {
	n := 0
	for _, s := range c.region(region).shares {
		if s.Owner != owner {
			continue
		}
		for _, a := range s.Resources {
			if (a.Status == assocAssociating && a.failWith == "") || a.Status == assocAssociated {
				n++
			}
		}
	}
	return n
}

func attached(a *assoc) bool {
	return a != nil && (a.Status == assocAssociating || a.Status == assocAssociated)
}

// checkAssociate validates an association of resources and targets with a share of
// owner (s nil: the share is being created), all or nothing.
//
// Targets (CreateResourceShare): the directory, a folder or a member, and with
// AllowExternalTargets any account. The answers, from the Create/AssociateResourceShare
// references: ShareWithYourself (the owner itself), InvalidTarget.SiteMismatch
// ("Cross-site resource sharing is not supported": an account of the other site, China
// or international), AccountNotInResourceDirectory ("The account is not a master or a
// member of a resource directory": the owner, for a target that needs its directory),
// NotEnableSharingWithResourceDirectory, and InvalidTarget ("The shared target does not
// exist in the resource directory").
func (c *Cloud) checkAssociate(x *exec, s *share, owner string, allowExternal bool, resources, targets []string) *emu.APIError {
	for _, r := range resources {
		im := c.region(x.region).images[r]
		if im == nil || im.Owner != owner {
			return emu.Errorf(400, "InvalidParameter.Resources", "The Resources is invalid.")
		}
	}
	d := c.dirOf(owner)
	needDirectory := func() *emu.APIError {
		switch {
		case d == nil:
			return emu.Errorf(409, "AccountNotInResourceDirectory", "The account is not a master or a member of a resource directory.")
		case !d.SharingEnabled:
			return emu.Errorf(409, "NotEnableSharingWithResourceDirectory", "You have not enabled sharing with your Resource Directory.")
		}
		return nil
	}
	for _, t := range targets {
		if t == owner {
			return emu.Errorf(409, "ShareWithYourself", "You cannot share resources with yourself.")
		}
		if acc := c.accounts[t]; acc != nil && accountRE.MatchString(t) {
			if acc.Site != c.accountLocked(owner).Site {
				return emu.Errorf(409, "InvalidTarget.SiteMismatch", "Cross-site resource sharing is not supported.")
			}
			if d != nil && c.isMember(t) {
				if err := needDirectory(); err != nil {
					return err
				}
				continue
			}
			if allowExternal {
				continue
			}
		}
		if err := needDirectory(); err != nil {
			return err
		}
		if t != d.ID && !(folderRE.MatchString(t) && c.folders[t] != nil) {
			return emu.Errorf(400, "InvalidTarget", "The shared target does not exist in the resource directory.")
		}
	}
	if s != nil {
		for _, r := range resources {
			if a := s.Resources[r]; a != nil && a.Status == assocDisassociating {
				return emu.Errorf(409, "AssociateConflict", "You cannot perform the operation while disassociation operation is being performed.")
			}
		}
		for _, t := range targets {
			if a := s.Targets[t]; a != nil && a.Status == assocDisassociating {
				return emu.Errorf(409, "AssociateConflict", "You cannot perform the operation while disassociation operation is being performed.")
			}
		}
	}
	fresh := 0
	for _, r := range resources {
		if s == nil || !attached(s.Resources[r]) {
			fresh++
		}
	}
	if fresh > 0 && c.sharedCount(owner, x.region)+fresh > c.cfg.MaxSharedResources {
		return emu.Errorf(409, "QuotaExceeded.SharedResource.Count", "The maximum number of shared resources per account  exceeds the limit.")
	}
	return nil
}

// associateLocked starts the association of entities (already checked).
func (c *Cloud) associateLocked(x *exec, s *share, resources, targets []string) []any {
	var out []any
	start := func(m map[string]*assoc, e, kind, etype string) *assoc {
		a := m[e]
		if attached(a) {
			return a
		}
		if a == nil {
			a = &assoc{Entity: e, EntityType: etype, Kind: kind, Created: x.now, seq: c.nextSeq()}
			m[e] = a
		}
		a.Status, a.Updated, a.due, a.failWith, a.Failure = assocAssociating, x.now, x.now.Add(c.cfg.AssociationDelay), "", nil
		return a
	}
	for _, r := range resources {
		if attached(s.Resources[r]) {
			out = append(out, c.assocJSON(s, s.Resources[r]))
			continue
		}
		// An image encrypted with the service key cannot be shared ("only images encrypted
		// with a CMK can be shared", ECS share-an-encrypted-custom-image); through Resource
		// Sharing the association ends Failed, FailureReason UnsupportedOperation ("the
		// operation is not supported", ListResourceShareAssociations).
		fail := ""
		if im := c.region(x.region).images[r]; im != nil && im.Encrypted == "service-key" {
			fail = "UnsupportedOperation"
		}
		a := start(s.Resources, r, kindResource, "Image")
		a.failWith = fail
		out = append(out, c.assocJSON(s, a))
	}
	for _, t := range targets {
		a := start(s.Targets, t, kindTarget, targetType(t))
		a.External = c.external(s, t)
		out = append(out, c.assocJSON(s, a))
	}
	s.Updated = x.now
	return out
}

func (c *Cloud) createResourceShare(x *exec) (map[string]any, *emu.APIError) {
	if x.region == "" {
		return nil, missing("RegionId")
	}
	name := x.p("ResourceShareName")
	resources, targets := entities(x)
	allow := boolParam(x.params, "AllowExternalTargets")
	me := x.caller.AccountID
	if err := c.checkAssociate(x, nil, me, allow, resources, targets); err != nil {
		return nil, err
	}
	n := 0
	for _, s := range c.region(x.region).shares {
		if s.Owner == me && s.Status != shareDeleted {
			n++
		}
	}
	if n >= c.cfg.MaxResourceShares {
		return nil, emu.Errorf(409, "QuotaExceeded.ResourceShare.Count", "The maximum number of ResourceShare exceeds the limit.")
	}
	s := c.newShareLocked(x.region, me, name, allow, x.now)
	c.associateLocked(x, s, resources, targets)
	return map[string]any{"ResourceShare": c.shareJSON(s)}, nil
}

func (c *Cloud) updateResourceShare(x *exec) (map[string]any, *emu.APIError) {
	s, err := c.ownShare(x)
	if err != nil {
		return nil, err
	}
	if err := activeShare(s); err != nil {
		return nil, err
	}
	s.Name = x.p("ResourceShareName") // required: an update always names the share
	if v, ok := x.params["AllowExternalTargets"]; ok && v != "" {
		s.AllowExternal = strings.EqualFold(v, "true")
		for t, a := range s.Targets {
			a.External = c.external(s, t)
		}
	}
	s.Updated = x.now
	return map[string]any{"ResourceShare": c.shareJSON(s)}, nil
}

// deleteResourceShare: Deleting at once (its associations go), Deleted after the delay.
func (c *Cloud) deleteResourceShare(x *exec) (map[string]any, *emu.APIError) {
	s, err := c.ownShare(x)
	if err != nil {
		return nil, err
	}
	if s.Status != shareActive {
		return nil, nil
	}
	s.Status, s.Updated, s.due = shareDeleting, x.now, x.now.Add(c.cfg.AssociationDelay)
	for _, t := range slices.Sorted(maps.Keys(s.Targets)) {
		if targetType(t) != "Account" || s.Targets[t].Status != assocAssociated {
			continue
		}
		for _, r := range slices.Sorted(maps.Keys(s.Resources)) {
			if s.Resources[r].Status == assocAssociated {
				x.events = append(x.events, assocEvent(s, t, r, assocDisassociated, x.now))
			}
		}
	}
	for _, m := range []map[string]*assoc{s.Resources, s.Targets} {
		for _, a := range m {
			if a.Status != assocDisassociated {
				a.Status, a.Updated, a.due, a.failWith = assocDisassociated, x.now, time.Time{}, ""
			}
		}
	}
	return nil, nil
}

func (c *Cloud) associateResourceShare(x *exec) (map[string]any, *emu.APIError) {
	s, err := c.ownShare(x)
	if err != nil {
		return nil, err
	}
	if err := activeShare(s); err != nil {
		return nil, err
	}
	resources, targets := entities(x)
	if err := c.checkAssociate(x, s, s.Owner, s.AllowExternal, resources, targets); err != nil {
		return nil, err
	}
	return map[string]any{"ResourceShareAssociations": c.associateLocked(x, s, resources, targets)}, nil
}

func (c *Cloud) disassociateResourceShare(x *exec) (map[string]any, *emu.APIError) {
	s, err := c.ownShare(x)
	if err != nil {
		return nil, err
	}
	if err := activeShare(s); err != nil {
		return nil, err
	}
	if c.dirOf(s.Owner) == nil && !s.AllowExternal {
		return nil, emu.Errorf(409, "AccountNotInResourceDirectory", "The account is not a master or a member of a resource directory.")
	}
	resources, targets := entities(x)
	// "You can not disassociate unassociated resource or target": an entity the share
	// never held. One being or already disassociated is left as it is.
	for _, e := range resources {
		if s.Resources[e] == nil {
			return nil, emu.Errorf(400, "DisassociateInvalid", "You can not disassociate unassociated resource or target.")
		}
	}
	for _, e := range targets {
		if s.Targets[e] == nil {
			return nil, emu.Errorf(400, "DisassociateInvalid", "You can not disassociate unassociated resource or target.")
		}
	}
	for _, e := range resources {
		if a := s.Resources[e]; a != nil && a.Status == assocAssociating {
			return nil, emu.Errorf(409, "DisassociateConflict", "You cannot perform the operation while association is already in progress.")
		}
	}
	for _, e := range targets {
		if a := s.Targets[e]; a != nil && a.Status == assocAssociating {
			return nil, emu.Errorf(409, "DisassociateConflict", "You cannot perform the operation while association is already in progress.")
		}
	}
	out := []any{}
	stop := func(a *assoc) {
		if a.Status == assocAssociated || a.Status == assocFailed {
			a.Status, a.Updated, a.due, a.failWith = assocDisassociating, x.now, x.now.Add(c.cfg.AssociationDelay), ""
		}
		out = append(out, c.assocJSON(s, a))
	}
	for _, e := range resources {
		stop(s.Resources[e])
	}
	for _, e := range targets {
		stop(s.Targets[e])
	}
	s.Updated = x.now
	return map[string]any{"ResourceShareAssociations": out}, nil
}

// settleLocked ends an association's transition.
func (c *Cloud) settleLocked(s *share, a *assoc, now time.Time) []Event {
	switch a.Status {
	case assocAssociating:
		if a.failWith != "" {
			a.Status, a.Failure = assocFailed, c.failureLocked(s, a, a.failWith, "Associate")
		} else {
			a.Status = assocAssociated
		}
	case assocDisassociating:
		a.Status = assocDisassociated
	}
	a.Updated, a.due, a.failWith = now, time.Time{}, ""
	return c.associationEventsLocked(s, a, now)
}

// failureDescriptions are the FailureDescription texts of the failure reasons the
// emulation produces.
var failureDescriptions = map[string]string{
	"UnsupportedOperation": "You cannot share the specified resource: images encrypted with a service key cannot be shared.",
}

// failureLocked describes why association a of share s failed. Per
// ListResourceShareAssociations, AssociationFailedDetails name the counterparts the
// association failed with: for a resource association, the share's targets (EntityId a
// target ID, EntityType ResourceDirectory | Folder | Account | Service); for a target
// association, the share's resources.
func (c *Cloud) failureLocked(s *share, a *assoc, reason, op string) *failure {
	f := &failure{Reason: reason, Description: failureDescriptions[reason], Op: op}
	other := s.Targets
	if a.Kind == kindTarget {
		other = s.Resources
	}
	for _, e := range slices.Sorted(maps.Keys(other)) {
		if o := other[e]; attached(o) {
			f.Entities = append(f.Entities, [2]string{o.Entity, o.EntityType})
		}
	}
	return f
}

func (c *Cloud) assocJSON(s *share, a *assoc) map[string]any {
	m := map[string]any{"ResourceShareId": s.ID, "ResourceShareName": s.Name, "EntityId": a.Entity, "EntityType": a.EntityType,
		"AssociationType": a.Kind, "AssociationStatus": a.Status, "AssociationStatusMessage": "", "CreateTime": rsTime(a.Created),
		"UpdateTime": rsTime(a.Updated), "External": a.External, "TargetProperty": ""}
	if a.Status == assocFailed && a.Failure != nil {
		m["AssociationStatusMessage"] = a.Failure.Description
		details := []any{}
		for _, e := range a.Failure.Entities {
			d := map[string]any{"EntityId": e[0], "EntityType": e[1],
				"FailureReason": a.Failure.Reason, "FailureDescription": a.Failure.Description, "OperationType": a.Failure.Op}
			if c.cfg.DeprecatedFailureFields {
				// Status, StatusMessage and AssociateType are the deprecated names of
				// FailureReason, FailureDescription and OperationType.
				d["Status"], d["StatusMessage"], d["AssociateType"] = a.Failure.Reason, a.Failure.Description, a.Failure.Op
			}
			details = append(details, d)
		}
		m["AssociationFailedDetails"] = details
	}
	return m
}

// ---- lists ----

// pageSeq pages items in seq order: the token is the seq of the last item returned.
func pageSeq[T any](x *exec, items []T, seq func(T) int) ([]T, string, *emu.APIError) {
	limit := intOr(x.params, "MaxResults", 20)
	sort.SliceStable(items, func(i, j int) bool { return seq(items[i]) < seq(items[j]) })
	after := 0
	if tok := x.p("NextToken"); tok != "" {
		s, ok := decodeToken(tok)
		n, perr := strconv.Atoi(s)
		if !ok || perr != nil {
			return nil, "", emu.Errorf(400, "InvalidParameter.NextToken", "The NextToken is invalid.")
		}
		after = n
	}
	start := sort.Search(len(items), func(i int) bool { return seq(items[i]) > after })
	end := min(len(items), start+limit)
	next := ""
	if end < len(items) {
		next = encodeToken(strconv.Itoa(seq(items[end-1])))
	}
	return items[start:end], next, nil
}

// resourceOwner reads ResourceOwner: Self (true) or OtherAccounts.
func resourceOwner(x *exec) bool { return x.p("ResourceOwner") == "Self" }

// visibleShares returns the shares the caller owns (self) or is reached by (others).
func (c *Cloud) visibleShares(x *exec, self bool) []*share {
	var out []*share
	me := x.caller.AccountID
	for _, s := range c.sharesLocked(x.region) {
		if self {
			if s.Owner == me {
				out = append(out, s)
			}
			continue
		}
		if s.Owner == me || s.Status != shareActive {
			continue
		}
		reached := map[string]bool{}
		for t, a := range s.Targets {
			if a.Status == assocAssociated {
				c.expandLocked(s, t, reached)
			}
		}
		if reached[me] {
			out = append(out, s)
		}
	}
	return out
}

func (c *Cloud) listResourceShares(x *exec) (map[string]any, *emu.APIError) {
	if x.region == "" {
		return nil, missing("RegionId")
	}
	self := resourceOwner(x)
	ids := list(x.params, "ResourceShareIds")
	name, status := x.p("ResourceShareName"), x.p("ResourceShareStatus")
	var hits []*share
	for _, s := range c.visibleShares(x, self) {
		if (len(ids) == 0 || slices.Contains(ids, s.ID)) && (name == "" || s.Name == name) && (status == "" || s.Status == status) {
			hits = append(hits, s)
		}
	}
	page, next, err := pageSeq(x, hits, func(s *share) int { return s.seq })
	if err != nil {
		return nil, err
	}
	items := []any{}
	for _, s := range page {
		items = append(items, c.shareJSON(s))
	}
	return map[string]any{"ResourceShares": items, "NextToken": next}, nil
}

type shareAssoc struct {
	s *share
	a *assoc
}

func (c *Cloud) listAssociations(x *exec) (map[string]any, *emu.APIError) {
	if x.region == "" {
		return nil, missing("RegionId")
	}
	kind := x.p("AssociationType")
	ids := list(x.params, "ResourceShareIds")
	status, resource, target := x.p("AssociationStatus"), x.p("ResourceId"), x.p("Target")
	var hits []shareAssoc
	for _, s := range c.visibleShares(x, true) {
		if len(ids) > 0 && !slices.Contains(ids, s.ID) {
			continue
		}
		m := s.Resources
		if kind == kindTarget {
			m = s.Targets
		}
		for e, a := range m {
			if (status == "" || a.Status == status) && (kind != kindResource || resource == "" || e == resource) &&
				(kind != kindTarget || target == "" || e == target) {
				hits = append(hits, shareAssoc{s, a})
			}
		}
	}
	page, next, err := pageSeq(x, hits, func(h shareAssoc) int { return h.a.seq })
	if err != nil {
		return nil, err
	}
	items := []any{}
	for _, h := range page {
		items = append(items, c.assocJSON(h.s, h.a))
	}
	return map[string]any{"ResourceShareAssociations": items, "NextToken": next}, nil
}

func (c *Cloud) listSharedResources(x *exec) (map[string]any, *emu.APIError) {
	if x.region == "" {
		return nil, missing("RegionId")
	}
	self := resourceOwner(x)
	ids := list(x.params, "ResourceShareIds")
	rids := list(x.params, "ResourceIds")
	rtype, target := x.p("ResourceType"), x.p("Target")
	var hits []shareAssoc
	for _, s := range c.visibleShares(x, self) {
		if len(ids) > 0 && !slices.Contains(ids, s.ID) {
			continue
		}
		if rtype != "" && rtype != "Image" {
			continue
		}
		if target != "" && !attached(s.Targets[target]) {
			continue
		}
		for e, a := range s.Resources {
			want := attached(a)
			if !self {
				want = a.Status == assocAssociated
			}
			if want && (len(rids) == 0 || slices.Contains(rids, e)) {
				hits = append(hits, shareAssoc{s, a})
			}
		}
	}
	page, next, err := pageSeq(x, hits, func(h shareAssoc) int { return h.a.seq })
	if err != nil {
		return nil, err
	}
	items := []any{}
	for _, h := range page {
		st := ""
		if !self {
			st = "Available"
		}
		items = append(items, map[string]any{"ResourceShareId": h.s.ID, "ResourceId": h.a.Entity, "ResourceType": "Image",
			"ResourceStatus": st, "ResourceStatusMessage": "", "CreateTime": rsTime(h.a.Created), "UpdateTime": rsTime(h.a.Updated)})
	}
	return map[string]any{"SharedResources": items, "NextToken": next}, nil
}

func (c *Cloud) listSharedTargets(x *exec) (map[string]any, *emu.APIError) {
	if x.region == "" {
		return nil, missing("RegionId")
	}
	self := resourceOwner(x)
	ids := list(x.params, "ResourceShareIds")
	targets := list(x.params, "Targets")
	rtype, resource := x.p("ResourceType"), x.p("ResourceId")
	var hits []shareAssoc
	for _, s := range c.visibleShares(x, self) {
		if len(ids) > 0 && !slices.Contains(ids, s.ID) {
			continue
		}
		if rtype != "" && rtype != "Image" {
			continue
		}
		if resource != "" && !attached(s.Resources[resource]) {
			continue
		}
		for e, a := range s.Targets {
			if attached(a) && (len(targets) == 0 || slices.Contains(targets, e)) {
				hits = append(hits, shareAssoc{s, a})
			}
		}
	}
	page, next, err := pageSeq(x, hits, func(h shareAssoc) int { return h.a.seq })
	if err != nil {
		return nil, err
	}
	items := []any{}
	for _, h := range page {
		items = append(items, map[string]any{"ResourceShareId": h.s.ID, "TargetId": h.a.Entity, "External": h.a.External,
			"TargetProperty": "", "CreateTime": rsTime(h.a.Created), "UpdateTime": rsTime(h.a.Updated)})
	}
	return map[string]any{"SharedTargets": items, "NextToken": next}, nil
}
