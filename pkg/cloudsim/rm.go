package cloudsim

import (
	"slices"
	"sort"
	"strings"
	"time"

	"imageshare/pkg/cloudsim/emu"
)

// ResourceManager 2020-03-31: the Resource Directory (global; RegionId is ignored).

func init() {
	register("resourcemanager", false, map[string]actionFn{
		"GetResourceDirectory":               (*Cloud).getResourceDirectory,
		"ListAccounts":                       (*Cloud).listAccounts,
		"ListAccountsForParent":              (*Cloud).listAccountsForParent,
		"ListFoldersForParent":               (*Cloud).listFoldersForParent,
		"ListAncestors":                      (*Cloud).listAncestors,
		"GetFolder":                          (*Cloud).getFolder,
		"GetAccount":                         (*Cloud).getAccount,
		"ListHandshakesForResourceDirectory": (*Cloud).listHandshakes,
		"ListDelegatedAdministrators":        (*Cloud).listDelegatedAdministrators,
		"ListDelegatedServicesForAccount":    (*Cloud).listDelegatedServicesForAccount,
	})
	register("resourcemanager", true, map[string]actionFn{
		"CreateResourceAccount":            (*Cloud).createResourceAccount,
		"InviteAccountToResourceDirectory": (*Cloud).inviteAccount,
		"AcceptHandshake":                  (*Cloud).acceptHandshake,
		"MoveAccount":                      (*Cloud).moveAccount,
		"RemoveCloudAccount":               (*Cloud).removeCloudAccount,
		"DeleteAccount":                    (*Cloud).deleteAccount,
		"RegisterDelegatedAdministrator":   (*Cloud).registerDelegatedAdministrator,
		"DeregisterDelegatedAdministrator": (*Cloud).deregisterDelegatedAdministrator,
	})
}

// The management account may read and change the directory; a delegated administrator
// (a member registered for a trusted service with RegisterDelegatedAdministrator) may
// read it: "The delegated administrator account can be used to access the information
// of the resource directory and view the structure and members of the resource
// directory" (…/api-resourcemanager-2020-03-31-registerdelegatedadministrator; ListAccounts:
// "You can use only the management account of a resource directory or a delegated
// administrator account of a trusted service to call this operation").
//
// Any other caller gets EntityNotExists.ResourceDirectory (404, "The resource directory
// for the account is not enabled."), the one answer these APIs document for a caller
// without a directory to manage; the references list no other code for a member that
// is not a delegated administrator.

func noDirectory() *emu.APIError {
	return emu.Errorf(404, "EntityNotExists.ResourceDirectory", "The resource directory for the account is not enabled. We recommend that you first enable the resource directory for the account.")
}

// managed returns the directory the caller manages (the management account only).
func (c *Cloud) managed(x *exec) (*directory, *emu.APIError) {
	d := c.dirOf(x.caller.AccountID)
	if d == nil || d.Master != x.caller.AccountID {
		return nil, noDirectory()
	}
	return d, nil
}

// readable returns the directory the caller may read: its management account's or a
// delegated administrator's.
func (c *Cloud) readable(x *exec) (*directory, *emu.APIError) {
	d := c.dirOf(x.caller.AccountID)
	if d == nil || (d.Master != x.caller.AccountID && len(d.Delegated[x.caller.AccountID]) == 0) {
		return nil, noDirectory()
	}
	return d, nil
}

func folderNotFound() *emu.APIError {
	return emu.Errorf(404, "EntityNotExists.Folder", "The resource directory folder does not exist.")
}

func accountNotFound() *emu.APIError {
	return emu.Errorf(404, "EntityNotExists.Account", "This resource directory account does not exist.")
}

// paging reads PageNumber and PageSize (the contract checked their ranges).
func paging(x *exec) (page, size int) {
	return intOr(x.params, "PageNumber", 1), intOr(x.params, "PageSize", 10)
}

func memberStatus(a *account) string {
	if a.JoinMethod == "created" {
		return "CreateSuccess"
	}
	return "InviteSuccess"
}

func (c *Cloud) accountJSON(a *account, withPath bool) map[string]any {
	m := map[string]any{
		"AccountId": a.ID, "DisplayName": a.DisplayName, "FolderId": a.Folder, "ResourceDirectoryId": c.dir.ID,
		"JoinMethod": a.JoinMethod, "JoinTime": ecsTime(a.JoinTime), "ModifyTime": ecsTime(a.ModifyTime),
		"Status": memberStatus(a), "Type": a.Type, "Tags": map[string]any{"Tag": []any{}},
	}
	if withPath {
		m["ResourceDirectoryPath"] = c.path(a)
	}
	return m
}

func (c *Cloud) folderJSON(id string) map[string]any {
	if id == c.dir.RootID {
		return map[string]any{"FolderId": id, "FolderName": "Root", "CreateTime": ecsTime(c.dir.Created), "ParentFolderId": "",
			"ResourceDirectoryPath": c.dir.ID + "/" + id}
	}
	f := c.folders[id]
	return map[string]any{"FolderId": f.ID, "FolderName": f.Name, "CreateTime": ecsTime(f.Created), "ParentFolderId": f.Parent,
		"ResourceDirectoryPath": strings.Join(append([]string{c.dir.ID}, c.chain(id)...), "/")}
}

func (c *Cloud) handshakeJSON(h *handshake) map[string]any {
	return map[string]any{"HandshakeId": h.ID, "ResourceDirectoryId": c.dir.ID, "MasterAccountId": c.dir.Master,
		"MasterAccountName": "master-" + c.dir.Master, "TargetEntity": h.Target, "TargetType": "Account", "Note": h.Note,
		"Status": h.Status, "CreateTime": ecsTime(h.Created), "ModifyTime": ecsTime(h.Modified), "ExpireTime": ecsTime(h.Expire),
		"MasterAccountRealName": "", "InvitedAccountRealName": ""}
}

// ---- reads ----

// getResourceDirectory answers the management account and any member: "From a member
// account it returns the resource directory the member belongs to."
func (c *Cloud) getResourceDirectory(x *exec) (map[string]any, *emu.APIError) {
	d := c.dirOf(x.caller.AccountID)
	if d == nil {
		return nil, emu.Errorf(404, "ResourceDirectoryNotInUse", "The specified account is not an Alibaba Cloud account or a member account of the resource directory.")
	}
	return map[string]any{"ResourceDirectory": map[string]any{
		"ResourceDirectoryId": d.ID, "RootFolderId": d.RootID, "MasterAccountId": d.Master, "MasterAccountName": "master-" + d.Master,
		"CreateTime": ecsTime(d.Created), "ControlPolicyStatus": "Disabled", "MemberDeletionStatus": "Enabled", "ScpStatus": "Disabled",
		"IdentityInformation": "",
	}}, nil
}

func (c *Cloud) listAccounts(x *exec) (map[string]any, *emu.APIError) {
	if _, err := c.readable(x); err != nil {
		return nil, err
	}
	page, size := paging(x)
	all := c.members()
	items := []any{}
	for _, a := range pageOf(all, page, size) {
		items = append(items, c.accountJSON(a, true))
	}
	return map[string]any{"TotalCount": len(all), "PageNumber": page, "PageSize": size, "Accounts": map[string]any{"Account": items}}, nil
}

func (c *Cloud) listAccountsForParent(x *exec) (map[string]any, *emu.APIError) {
	d, err := c.readable(x)
	if err != nil {
		return nil, err
	}
	parent := x.p("ParentFolderId")
	if parent == "" {
		parent = d.RootID
	}
	if !c.folderExists(parent) {
		return nil, folderNotFound()
	}
	page, size := paging(x)
	kw := x.p("QueryKeyword")
	var hits []*account
	for _, a := range c.members() {
		if a.Folder == parent && (kw == "" || strings.Contains(a.ID, kw) || strings.Contains(a.DisplayName, kw)) {
			hits = append(hits, a)
		}
	}
	items := []any{}
	for _, a := range pageOf(hits, page, size) {
		items = append(items, c.accountJSON(a, false))
	}
	return map[string]any{"TotalCount": len(hits), "PageNumber": page, "PageSize": size, "Accounts": map[string]any{"Account": items}}, nil
}

func (c *Cloud) listFoldersForParent(x *exec) (map[string]any, *emu.APIError) {
	d, err := c.readable(x)
	if err != nil {
		return nil, err
	}
	parent := x.p("ParentFolderId")
	if parent == "" {
		parent = d.RootID
	}
	if !c.folderExists(parent) {
		return nil, folderNotFound()
	}
	page, size := paging(x)
	kw := x.p("QueryKeyword")
	var hits []*folder
	for _, f := range c.folders {
		if f.Parent == parent && (kw == "" || strings.Contains(f.Name, kw) || strings.Contains(f.ID, kw)) {
			hits = append(hits, f)
		}
	}
	sort.Slice(hits, func(i, j int) bool { return hits[i].seq < hits[j].seq })
	items := []any{}
	for _, f := range pageOf(hits, page, size) {
		items = append(items, map[string]any{"FolderId": f.ID, "FolderName": f.Name, "CreateTime": ecsTime(f.Created)})
	}
	return map[string]any{"TotalCount": len(hits), "PageNumber": page, "PageSize": size, "Folders": map[string]any{"Folder": items}}, nil
}

func (c *Cloud) listAncestors(x *exec) (map[string]any, *emu.APIError) {
	if _, err := c.readable(x); err != nil {
		return nil, err
	}
	id := x.p("ChildId")
	if !c.folderExists(id) {
		return nil, folderNotFound()
	}
	items := []any{}
	chain := c.chain(id)
	for _, f := range chain[:len(chain)-1] { // root first, the folder itself excluded
		j := c.folderJSON(f)
		items = append(items, map[string]any{"FolderId": j["FolderId"], "FolderName": j["FolderName"], "CreateTime": j["CreateTime"]})
	}
	return map[string]any{"Folders": map[string]any{"Folder": items}}, nil
}

func (c *Cloud) getFolder(x *exec) (map[string]any, *emu.APIError) {
	if _, err := c.readable(x); err != nil {
		return nil, err
	}
	id := x.p("FolderId")
	if !c.folderExists(id) {
		return nil, folderNotFound()
	}
	return map[string]any{"Folder": c.folderJSON(id)}, nil
}

func (c *Cloud) getAccount(x *exec) (map[string]any, *emu.APIError) {
	if _, err := c.readable(x); err != nil {
		return nil, err
	}
	id := x.p("AccountId")
	if !c.isMember(id) {
		return nil, accountNotFound()
	}
	a := c.accounts[id]
	m := c.accountJSON(a, true)
	m["AccountName"] = a.ID + "@example.onaliyun.com"
	m["Location"] = strings.Join(c.chain(a.Folder), "/")
	m["EmailStatus"] = ""
	m["IdentityInformation"] = ""
	m["Tags"] = []any{} // a single Account carries its tags as a plain array
	return map[string]any{"Account": m}, nil
}

// listHandshakes is the management account's: invitations are not the directory's
// structure or members, which is all a delegated administrator is documented to see.
func (c *Cloud) listHandshakes(x *exec) (map[string]any, *emu.APIError) {
	if _, err := c.managed(x); err != nil {
		return nil, err
	}
	page, size := paging(x)
	items := []any{}
	for _, h := range pageOf(c.handshakes, page, size) {
		items = append(items, c.handshakeJSON(h))
	}
	return map[string]any{"TotalCount": len(c.handshakes), "PageNumber": page, "PageSize": size,
		"Handshakes": map[string]any{"Handshake": items}}, nil
}

// ---- writes ----

func (c *Cloud) createResourceAccount(x *exec) (map[string]any, *emu.APIError) {
	d, err := c.managed(x)
	if err != nil {
		return nil, err
	}
	name := x.p("DisplayName")
	for _, a := range c.members() {
		if a.DisplayName == name {
			return nil, emu.Errorf(409, "InvalidParameter.Account.DisplayName.AlreadyUsed", "The displayname of account has been used.")
		}
	}
	parent := x.p("ParentFolderId")
	if parent == "" {
		parent = d.RootID
	}
	if !c.folderExists(parent) {
		return nil, folderNotFound()
	}
	id := x.req.accountID
	if id == "" {
		for id == "" || c.accounts[id] != nil {
			id = "1" + randomFrom("0123456789", 15)
		}
	} else if c.accounts[id] != nil {
		// The service picks new accounts' IDs; a sandbox step that picks one already
		// taken is refused like a taken account name.
		return nil, emu.Errorf(409, "EntityAlreadyExists.ResourceDirectory.Account", "The email address that the system generates when you create a member account already exists. Try again later.")
	}
	a := &account{ID: id, Site: c.accountLocked(d.Master).Site, Roles: map[string]bool{}, DisplayName: name}
	c.accounts[id] = a
	c.join(a, parent, "created", x.now)
	x.respElems = map[string]any{"Account": map[string]any{"AccountId": id, "DisplayName": name, "FolderId": parent}, "RequestId": x.reqID}
	m := c.accountJSON(a, true)
	m["Tags"] = []any{} // a single Account carries its tags as a plain array
	return map[string]any{"Account": m}, nil
}

// inviteAccount: the invitee joins the root when it accepts (the API has no folder); a
// sandbox step may name the folder it lands in (request.acceptFolder), as a person
// moving it there at once would.
func (c *Cloud) inviteAccount(x *exec) (map[string]any, *emu.APIError) {
	d, err := c.managed(x)
	if err != nil {
		return nil, err
	}
	target := x.p("TargetEntity")
	if x.p("TargetType") != "Account" || c.accounts[target] == nil {
		// The emulation knows accounts by ID only: an e-mail address is never found.
		return nil, emu.Errorf(400, "InvalidParameter.TargetEntity", "The TargetEntity is invalid.")
	}
	if c.dirOf(target) != nil {
		return nil, emu.Errorf(409, "NotSupport.AccountInAnotherResourceDirectory", "Your account is a management account for another resource directory or a member of another resource directory.")
	}
	for _, h := range c.handshakes {
		if h.Target == target && h.Status == "Pending" {
			return nil, emu.Errorf(409, "EntityAlreadyExists.Handshake", "Handshakes with the same target entity already exist.")
		}
	}
	folder := d.RootID
	if f := x.req.acceptFolder; f != "" {
		if !c.folderExists(f) {
			return nil, folderNotFound()
		}
		folder = f
	}
	h := &handshake{ID: "h-" + randomAlnum(16), Target: target, Folder: folder, Status: "Pending", Note: x.p("Note"),
		Created: x.now, Modified: x.now, Expire: x.now.Add(handshakeLife), seq: c.nextSeq()}
	if x.req.acceptFor != nil {
		h.acceptAt = x.now.Add(max(0, *x.req.acceptFor))
	}
	c.handshakes = append(c.handshakes, h)
	hj := c.handshakeJSON(h)
	x.respElems = map[string]any{"Handshake": hj, "RequestId": x.reqID}
	return map[string]any{"Handshake": hj}, nil
}

func (c *Cloud) acceptHandshake(x *exec) (map[string]any, *emu.APIError) {
	id := x.p("HandshakeId")
	var h *handshake
	for _, hh := range c.handshakes {
		if hh.ID == id && hh.Target == x.caller.AccountID {
			h = hh
		}
	}
	if h == nil {
		return nil, emu.Errorf(404, "EntityNotExists.Handshake", "The specified handshake does not exist.")
	}
	if c.dir == nil {
		return nil, emu.Errorf(404, "SpecifiedResourceDirectoryNotExists", "The specified resource directory does not exist. You must specify a valid resource directory.")
	}
	if h.Status != "Pending" {
		return nil, emu.Errorf(409, "HandshakeStatusMismatch", "The invitation is invalid.")
	}
	if c.dirOf(h.Target) != nil {
		return nil, emu.Errorf(409, "NotSupport.AccountInAnotherResourceDirectory", "Your account is a management account for another resource directory or a member of another resource directory.")
	}
	folder := h.Folder
	if !c.folderExists(folder) {
		folder = c.dir.RootID
	}
	h.Status, h.Modified, h.acceptAt = "Accepted", x.now, time.Time{}
	c.join(c.accountLocked(h.Target), folder, "invited", x.now)
	hj := c.handshakeJSON(h)
	x.respElems = map[string]any{"Handshake": hj, "RequestId": x.reqID}
	return map[string]any{"Handshake": hj}, nil
}

// member finds the member account named by AccountId.
func (c *Cloud) member(x *exec) (*account, *emu.APIError) {
	id := x.p("AccountId")
	if !c.isMember(id) {
		return nil, accountNotFound()
	}
	return c.accounts[id], nil
}

func (c *Cloud) moveAccount(x *exec) (map[string]any, *emu.APIError) {
	if _, err := c.managed(x); err != nil {
		return nil, err
	}
	a, err := c.member(x)
	if err != nil {
		return nil, err
	}
	to := x.p("DestinationFolderId")
	if !c.folderExists(to) {
		return nil, folderNotFound()
	}
	a.Folder, a.ModifyTime = to, x.now
	return nil, nil
}

func (c *Cloud) leave(x *exec, forget bool) *emu.APIError {
	d, err := c.managed(x)
	if err != nil {
		return err
	}
	a, err := c.member(x)
	if err != nil {
		return err
	}
	if a.ID == d.Master {
		return emu.Errorf(409, "AccountTypeOrStatusMismatch", "You cannot perform the action on the member account.")
	}
	if services := d.Delegated[a.ID]; len(services) > 0 {
		if forget {
			return emu.Errorf(409, "RemoveConfilctAccountAsDelegatedAdministator", "You attempted to remove a member that is registered as a delegated administrator. To complete this operation, you must first deregister this account as a delegated administrator.")
		}
		return emu.Errorf(409, "Deny.TrustedService", "You attempted to remove an account that is used in %s. To complete this operation, you must first remove this account from the Trusted Service.", strings.Join(services, ","))
	}
	if forget && a.JoinMethod != "created" {
		return emu.Errorf(409, "MemberTypeError.DeleteAccount", "You can only delete accounts of the resource account type created by Resource Directory.")
	}
	a.Folder, a.JoinMethod, a.Type, a.ModifyTime = "", "", "", x.now
	if forget {
		delete(c.accounts, a.ID)
	}
	return nil
}

// removeCloudAccount: the member leaves the directory and lives on as a stand-alone account.
func (c *Cloud) removeCloudAccount(x *exec) (map[string]any, *emu.APIError) {
	return nil, c.leave(x, false)
}

// deleteAccount: the member leaves and no longer exists.
func (c *Cloud) deleteAccount(x *exec) (map[string]any, *emu.APIError) {
	if err := c.leave(x, true); err != nil {
		return nil, err
	}
	return map[string]any{"DeletionType": "single"}, nil
}

// ---- delegated administrators ----

// registerDelegatedAdministrator: the management account makes a member the delegated
// administrator of a trusted service. Which trusted services accept delegated
// administrators is the service's business (the reference's "Supported trusted
// services" list); the emulation takes any well-formed service identifier.
func (c *Cloud) registerDelegatedAdministrator(x *exec) (map[string]any, *emu.APIError) {
	d, err := c.managed(x)
	if err != nil {
		return nil, err
	}
	acc, svc := x.p("AccountId"), x.p("ServicePrincipal")
	if acc == d.Master {
		return nil, emu.Errorf(409, "CannotRegisterMasterAsDelegatedAdministrator", "You attempted to register the enterprise management account as a delegated administrator for the service. You can designate only a member account as a delegated administrator.")
	}
	if !c.isMember(acc) {
		return nil, accountNotFound()
	}
	if slices.Contains(d.Delegated[acc], svc) {
		return nil, emu.Errorf(409, "AccountAlreadyRegistered", "The specified account is already a delegated administrator for this service.")
	}
	c.delegateLocked(d, acc, svc, x.now)
	return nil, nil
}

func (c *Cloud) deregisterDelegatedAdministrator(x *exec) (map[string]any, *emu.APIError) {
	d, err := c.managed(x)
	if err != nil {
		return nil, err
	}
	acc, svc := x.p("AccountId"), x.p("ServicePrincipal")
	i := slices.Index(d.Delegated[acc], svc)
	if i < 0 {
		return nil, emu.Errorf(409, "AccountNotRegistered", "The specified account is not a delegated administrator for this service.")
	}
	d.Delegated[acc] = slices.Delete(d.Delegated[acc], i, i+1)
	if len(d.Delegated[acc]) == 0 {
		delete(d.Delegated, acc)
	}
	delete(d.DelegatedAt, acc+"/"+svc)
	return nil, nil
}

// listDelegatedAdministrators lists the delegated administrators, of one service or all.
func (c *Cloud) listDelegatedAdministrators(x *exec) (map[string]any, *emu.APIError) {
	d, err := c.managed(x)
	if err != nil {
		return nil, err
	}
	svc := x.p("ServicePrincipal")
	type entry struct {
		a   *account
		svc string
	}
	var hits []entry
	for _, a := range c.members() {
		for _, s := range d.Delegated[a.ID] {
			if svc == "" || s == svc {
				hits = append(hits, entry{a, s})
			}
		}
	}
	page, size := paging(x)
	items := []any{}
	for _, h := range pageOf(hits, page, size) {
		items = append(items, map[string]any{"AccountId": h.a.ID, "DisplayName": h.a.DisplayName, "JoinMethod": h.a.JoinMethod,
			"ServicePrincipal": h.svc, "DelegationEnabledTime": ecsTime(d.DelegatedAt[h.a.ID+"/"+h.svc])})
	}
	return map[string]any{"TotalCount": len(hits), "PageNumber": page, "PageSize": size, "Accounts": map[string]any{"Account": items}}, nil
}

func (c *Cloud) listDelegatedServicesForAccount(x *exec) (map[string]any, *emu.APIError) {
	d, err := c.managed(x)
	if err != nil {
		return nil, err
	}
	acc := x.p("AccountId")
	if !c.isMember(acc) {
		return nil, accountNotFound()
	}
	items := []any{}
	for _, s := range d.Delegated[acc] {
		items = append(items, map[string]any{"ServicePrincipal": s, "Status": "ENABLED",
			"DelegationEnabledTime": ecsTime(d.DelegatedAt[acc+"/"+s])})
	}
	return map[string]any{"DelegatedServices": map[string]any{"DelegatedService": items}}, nil
}

func (c *Cloud) delegateLocked(d *directory, acc, svc string, now time.Time) {
	if d.Delegated == nil {
		d.Delegated, d.DelegatedAt = map[string][]string{}, map[string]time.Time{}
	}
	d.Delegated[acc] = append(d.Delegated[acc], svc)
	d.DelegatedAt[acc+"/"+svc] = now
}
