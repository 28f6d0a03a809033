package cloudsim

import (
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
	})
	register("resourcemanager", true, map[string]actionFn{
		"CreateResourceAccount":            (*Cloud).createResourceAccount,
		"InviteAccountToResourceDirectory": (*Cloud).inviteAccount,
		"AcceptHandshake":                  (*Cloud).acceptHandshake,
		"MoveAccount":                      (*Cloud).moveAccount,
		"RemoveCloudAccount":               (*Cloud).removeCloudAccount,
		"DeleteAccount":                    (*Cloud).deleteAccount,
	})
}

// managed returns the directory the caller manages. Members that are not the
// management account get Forbidden.NotManagementAccount (the emulation's choice of code).
func (c *Cloud) managed(x *exec) (*directory, *emu.APIError) {
	d := c.dirOf(x.caller.AccountID)
	if d == nil {
		return nil, emu.Errorf(404, "EntityNotExists.ResourceDirectory", "The resource directory does not exist.")
	}
	if d.Master != x.caller.AccountID {
		return nil, emu.Errorf(403, "Forbidden.NotManagementAccount", "Only the management account of the resource directory can perform this operation.")
	}
	return d, nil
}

func folderNotFound() *emu.APIError {
	return emu.Errorf(404, "EntityNotExists.Folder", "The folder does not exist.")
}

func accountNotFound() *emu.APIError {
	return emu.Errorf(404, "EntityNotExists.Account", "This resource directory account does not exist.")
}

func paging(x *exec) (page, size int, err *emu.APIError) {
	if page, err = intParam(x.params, "PageNumber", 1, 1, 1<<30); err != nil {
		return
	}
	size, err = intParam(x.params, "PageSize", 10, 1, 100)
	return
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

func (c *Cloud) getResourceDirectory(x *exec) (map[string]any, *emu.APIError) {
	d := c.dirOf(x.caller.AccountID)
	if d == nil {
		return nil, emu.Errorf(404, "ResourceDirectoryNotInUse", "The resource directory is not enabled.")
	}
	return map[string]any{"ResourceDirectory": map[string]any{
		"ResourceDirectoryId": d.ID, "RootFolderId": d.RootID, "MasterAccountId": d.Master, "MasterAccountName": "master-" + d.Master,
		"CreateTime": ecsTime(d.Created), "ControlPolicyStatus": "Disabled", "MemberDeletionStatus": "Enabled", "ScpStatus": "Disabled",
		"IdentityInformation": "",
	}}, nil
}

func (c *Cloud) listAccounts(x *exec) (map[string]any, *emu.APIError) {
	if _, err := c.managed(x); err != nil {
		return nil, err
	}
	page, size, err := paging(x)
	if err != nil {
		return nil, err
	}
	all := c.members()
	items := []any{}
	for _, a := range pageOf(all, page, size) {
		items = append(items, c.accountJSON(a, true))
	}
	return map[string]any{"TotalCount": len(all), "PageNumber": page, "PageSize": size, "Accounts": map[string]any{"Account": items}}, nil
}

func (c *Cloud) listAccountsForParent(x *exec) (map[string]any, *emu.APIError) {
	if _, err := c.managed(x); err != nil {
		return nil, err
	}
	parent := x.p("ParentFolderId")
	if parent == "" {
		return nil, missing("ParentFolderId")
	}
	if !c.folderExists(parent) {
		return nil, folderNotFound()
	}
	page, size, err := paging(x)
	if err != nil {
		return nil, err
	}
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
	d, err := c.managed(x)
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
	page, size, err := paging(x)
	if err != nil {
		return nil, err
	}
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
	if _, err := c.managed(x); err != nil {
		return nil, err
	}
	id := x.p("ChildId")
	if id == "" {
		return nil, missing("ChildId")
	}
	if !folderRE.MatchString(id) && !rootRE.MatchString(id) {
		return nil, emu.Errorf(400, "InvalidParameter.ChildId", "The ChildId is invalid.")
	}
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
	if _, err := c.managed(x); err != nil {
		return nil, err
	}
	id := x.p("FolderId")
	if id == "" {
		return nil, missing("FolderId")
	}
	if !c.folderExists(id) {
		return nil, folderNotFound()
	}
	return map[string]any{"Folder": c.folderJSON(id)}, nil
}

func (c *Cloud) getAccount(x *exec) (map[string]any, *emu.APIError) {
	if _, err := c.managed(x); err != nil {
		return nil, err
	}
	id := x.p("AccountId")
	if id == "" {
		return nil, emu.Errorf(400, "MissingParameter.AccountId", "You must specify AccountId.")
	}
	if !accountRE.MatchString(id) {
		return nil, emu.Errorf(400, "InvalidParameter.AccountId", "The AccountId is invalid.")
	}
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

func (c *Cloud) listHandshakes(x *exec) (map[string]any, *emu.APIError) {
	if _, err := c.managed(x); err != nil {
		return nil, err
	}
	page, size, err := paging(x)
	if err != nil {
		return nil, err
	}
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
	if name == "" {
		return nil, emu.Errorf(400, "MissingParameter.DisplayName", "You must specify DisplayName.")
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
		return nil, emu.Errorf(409, "EntityAlreadyExists.Account", "The account %s already exists.", id)
	}
	a := &account{ID: id, Site: c.accountLocked(d.Master).Site, Roles: map[string]bool{}, DisplayName: name}
	c.accounts[id] = a
	c.join(a, parent, "created", x.now)
	x.respElems = map[string]any{"Account": map[string]any{"AccountId": id, "DisplayName": name, "FolderId": parent}, "RequestId": x.reqID}
	m := c.accountJSON(a, true)
	m["Tags"] = []any{} // a single Account carries its tags as a plain array
	return map[string]any{"Account": m}, nil
}

func (c *Cloud) inviteAccount(x *exec) (map[string]any, *emu.APIError) {
	d, err := c.managed(x)
	if err != nil {
		return nil, err
	}
	target := x.p("TargetEntity")
	if target == "" {
		return nil, emu.Errorf(400, "MissingParameter.TargetEntity", "You must specify TargetEntity.")
	}
	if tt := x.p("TargetType"); tt != "" && tt != "Account" {
		return nil, emu.Errorf(400, "InvalidParameter.TargetType", "Only TargetType Account is supported by this emulation.")
	}
	if c.accounts[target] == nil {
		return nil, emu.Errorf(400, "InvalidParameter.TargetEntity", "The account %s does not exist.", target)
	}
	if c.isMember(target) {
		return nil, emu.Errorf(409, "AccountAlreadyInResourceDirectory", "The account %s is already in a resource directory.", target)
	}
	for _, h := range c.handshakes {
		if h.Target == target && h.Status == "Pending" {
			return nil, emu.Errorf(409, "DuplicateHandshake", "A pending invitation for %s exists.", target)
		}
	}
	parent := x.p("ParentFolderId")
	if parent == "" {
		parent = d.RootID
	}
	if !c.folderExists(parent) {
		return nil, folderNotFound()
	}
	h := &handshake{ID: "h-" + randomAlnum(16), Target: target, Folder: parent, Status: "Pending", Note: x.p("Note"),
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
	if id == "" {
		return nil, emu.Errorf(400, "MissingParameter.HandshakeId", "You must specify HandshakeId.")
	}
	var h *handshake
	for _, hh := range c.handshakes {
		if hh.ID == id && hh.Target == x.caller.AccountID {
			h = hh
		}
	}
	if h == nil || c.dir == nil {
		return nil, emu.Errorf(404, "EntityNotExists.Handshake", "The handshake does not exist.")
	}
	if h.Status != "Pending" {
		return nil, emu.Errorf(409, "InvalidStatus.Handshake", "The handshake is %s.", h.Status)
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

// member finds a member account named by AccountId.
func (c *Cloud) member(x *exec) (*account, *emu.APIError) {
	id := x.p("AccountId")
	if id == "" {
		return nil, emu.Errorf(400, "MissingParameter.AccountId", "You must specify AccountId.")
	}
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
	if to == "" {
		return nil, emu.Errorf(400, "MissingParameter.DestinationFolderId", "You must specify DestinationFolderId.")
	}
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
		return emu.Errorf(409, "RemoveManagementAccountNotAllowed", "The management account cannot leave its resource directory.")
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
