package cloudsim_test

import (
	"slices"
	"testing"
	"time"

	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/requests"
	"github.com/aliyun/alibaba-cloud-sdk-go/services/resourcemanager"

	"imageshare/pkg/cloudsim"
)

func TestResourceDirectoryReads(t *testing.T) {
	e := world(t, cloudsim.Config{})
	cl := e.rm(e.ownerKey)

	gd, err := cl.GetResourceDirectory(resourcemanager.CreateGetResourceDirectoryRequest())
	must(t, err)
	if d := gd.ResourceDirectory; d.ResourceDirectoryId != dirID || d.RootFolderId != rootID || d.MasterAccountId != owner {
		t.Fatalf("directory = %+v", d)
	}

	la := resourcemanager.CreateListAccountsRequest()
	la.PageSize = requests.NewInteger(100)
	accs, err := cl.ListAccounts(la)
	must(t, err)
	paths := map[string]string{}
	for _, a := range accs.Accounts.Account {
		paths[a.AccountId] = a.ResourceDirectoryPath
	}
	want := map[string]string{
		owner: dirID + "/" + rootID + "/" + owner,
		m2:    dirID + "/" + rootID + "/" + prod + "/" + m2,
		m3:    dirID + "/" + rootID + "/" + prod + "/" + team + "/" + m3,
		m4:    dirID + "/" + rootID + "/" + m4,
	}
	if accs.TotalCount != 4 || len(paths) != 4 {
		t.Fatalf("ListAccounts = %d %v", accs.TotalCount, paths)
	}
	for a, p := range want {
		if paths[a] != p {
			t.Errorf("path of %s = %q, want %q", a, paths[a], p)
		}
	}

	anc := func(child string) ([]string, error) {
		req := resourcemanager.CreateListAncestorsRequest()
		req.ChildId = child
		resp, err := cl.ListAncestors(req)
		if err != nil {
			return nil, err
		}
		var out []string
		for _, f := range resp.Folders.Folder {
			out = append(out, f.FolderId)
		}
		return out, nil
	}
	if got, err := anc(team); err != nil || !slices.Equal(got, []string{rootID, prod}) {
		t.Errorf("ListAncestors(team) = %v %v, want root then prod", got, err)
	}
	if got, err := anc(rootID); err != nil || len(got) != 0 {
		t.Errorf("ListAncestors(root) = %v %v", got, err)
	}
	if _, err := anc("fd-Nope000001"); code(t, err) != "EntityNotExists.Folder" || status(t, err) != 404 {
		t.Errorf("unknown folder: %v", err)
	}
	if _, err := anc("bogus"); code(t, err) != "InvalidParameter.ChildId" || status(t, err) != 400 {
		t.Errorf("bad id: %v", err)
	}

	lp := resourcemanager.CreateListAccountsForParentRequest()
	lp.ParentFolderId = prod
	kids, err := cl.ListAccountsForParent(lp)
	must(t, err)
	if kids.TotalCount != 1 || kids.Accounts.Account[0].AccountId != m2 {
		t.Errorf("ListAccountsForParent(prod) = %+v (direct children only)", kids.Accounts)
	}
	lp.ParentFolderId = "fd-Nope000001"
	if _, err := cl.ListAccountsForParent(lp); code(t, err) != "EntityNotExists.Folder" {
		t.Errorf("unknown parent: %v", err)
	}

	lf := resourcemanager.CreateListFoldersForParentRequest()
	folders, err := cl.ListFoldersForParent(lf)
	must(t, err)
	var fs []string
	for _, f := range folders.Folders.Folder {
		fs = append(fs, f.FolderId)
	}
	if !slices.Equal(fs, []string{prod, other}) {
		t.Errorf("root's folders = %v", fs)
	}

	ga := resourcemanager.CreateGetAccountRequest()
	ga.AccountId = m3
	acc, err := cl.GetAccount(ga)
	must(t, err)
	if acc.Account.FolderId != team || acc.Account.JoinMethod != "created" {
		t.Errorf("GetAccount = %+v", acc.Account)
	}
	ga.AccountId = outside
	if _, err := cl.GetAccount(ga); code(t, err) != "EntityNotExists.Account" || status(t, err) != 404 {
		t.Errorf("GetAccount of a non-member: %v", err)
	}
	gf := resourcemanager.CreateGetFolderRequest()
	gf.FolderId = team
	f, err := cl.GetFolder(gf)
	must(t, err)
	if f.Folder.ParentFolderId != prod || f.Folder.FolderName != "team" {
		t.Errorf("GetFolder = %+v", f.Folder)
	}

	// A member that is neither the management account nor a delegated administrator
	// has no directory to read; an outsider has no directory at all.
	memberKey := e.keys.AccessKey(m2)
	if _, err := e.rm(memberKey).ListAccounts(resourcemanager.CreateListAccountsRequest()); code(t, err) != "EntityNotExists.ResourceDirectory" || status(t, err) != 404 {
		t.Errorf("member ListAccounts: %v", err)
	}
	if d, err := e.rm(memberKey).GetResourceDirectory(resourcemanager.CreateGetResourceDirectoryRequest()); err != nil || d.ResourceDirectory.ResourceDirectoryId != dirID {
		t.Errorf("member GetResourceDirectory: %v", err)
	}
	outKey := e.keys.AccessKey(outside)
	if _, err := e.rm(outKey).GetResourceDirectory(resourcemanager.CreateGetResourceDirectoryRequest()); code(t, err) != "ResourceDirectoryNotInUse" || status(t, err) != 404 {
		t.Errorf("outsider GetResourceDirectory: %v", err)
	}
}

func TestListAccountsPagesEveryMemberOnce(t *testing.T) {
	e := world(t, cloudsim.Config{})
	for i := range 250 {
		e.cloud.AddAccount(accountID(i), "china")
		e.cloud.AddMember(accountID(i), []string{prod, team, other, rootID}[i%4])
	}
	cl := e.rm(e.ownerKey)
	seen := map[string]int{}
	for page := 1; page <= 3; page++ {
		req := resourcemanager.CreateListAccountsRequest()
		req.PageNumber, req.PageSize = requests.NewInteger(page), requests.NewInteger(100)
		resp, err := cl.ListAccounts(req)
		must(t, err)
		if resp.TotalCount != 254 {
			t.Fatalf("TotalCount = %d", resp.TotalCount)
		}
		for _, a := range resp.Accounts.Account {
			seen[a.AccountId]++
		}
	}
	if len(seen) != 254 {
		t.Fatalf("saw %d members, want 254", len(seen))
	}
	for a, n := range seen {
		if n != 1 {
			t.Fatalf("%s listed %d times", a, n)
		}
	}
	req := resourcemanager.CreateListAccountsRequest()
	req.PageSize = requests.NewInteger(101)
	if _, err := cl.ListAccounts(req); code(t, err) != "InvalidParameter.PageSize" {
		t.Fatalf("PageSize 101: %v", err)
	}
}

func TestMembershipChanges(t *testing.T) {
	e := world(t, cloudsim.Config{})
	cl := e.rm(e.ownerKey)

	cr := resourcemanager.CreateCreateResourceAccountRequest()
	cr.DisplayName, cr.ParentFolderId = "new-one", team
	resp, err := cl.CreateResourceAccount(cr)
	must(t, err)
	created := resp.Account.AccountId
	if len(created) != 16 || e.cloud.Members()[created] != team {
		t.Fatalf("created %q in %q", created, e.cloud.Members()[created])
	}

	mv := resourcemanager.CreateMoveAccountRequest()
	mv.AccountId, mv.DestinationFolderId = m2, other
	_, err = cl.MoveAccount(mv)
	must(t, err)
	if e.cloud.Members()[m2] != other {
		t.Fatalf("m2 in %s after the move", e.cloud.Members()[m2])
	}
	mv.DestinationFolderId = "fd-Nope000001"
	if _, err := cl.MoveAccount(mv); code(t, err) != "EntityNotExists.Folder" {
		t.Fatalf("move to nowhere: %v", err)
	}

	rc := resourcemanager.CreateRemoveCloudAccountRequest()
	rc.AccountId = m4
	_, err = cl.RemoveCloudAccount(rc)
	must(t, err)
	if _, ok := e.cloud.Members()[m4]; ok {
		t.Fatal("m4 still a member")
	}
	if _, err := cl.RemoveCloudAccount(rc); code(t, err) != "EntityNotExists.Account" {
		t.Fatalf("second removal: %v", err)
	}

	// Invitation through the API: the invitee accepts it itself.
	inv := resourcemanager.CreateInviteAccountToResourceDirectoryRequest()
	inv.TargetEntity, inv.TargetType = outside, "Account"
	ir, err := cl.InviteAccountToResourceDirectory(inv)
	must(t, err)
	h := ir.Handshake
	if h.Status != "Pending" || h.TargetEntity != outside || h.ExpireTime != "2026-01-15T00:00:00Z" {
		t.Fatalf("handshake = %+v", h)
	}
	lh, err := cl.ListHandshakesForResourceDirectory(resourcemanager.CreateListHandshakesForResourceDirectoryRequest())
	must(t, err)
	if lh.TotalCount != 1 || lh.Handshakes.Handshake[0].HandshakeId != h.HandshakeId {
		t.Fatalf("handshakes = %+v", lh.Handshakes)
	}
	acc := resourcemanager.CreateAcceptHandshakeRequest()
	acc.HandshakeId = h.HandshakeId
	if _, err := cl.AcceptHandshake(acc); code(t, err) != "EntityNotExists.Handshake" {
		t.Fatalf("the inviter accepting: %v", err)
	}
	_, err = e.rm(e.keys.AccessKey(outside)).AcceptHandshake(acc)
	must(t, err)
	if e.cloud.Members()[outside] != rootID {
		t.Fatalf("invitee in %q", e.cloud.Members()[outside])
	}

	// A person's invitation with a chosen folder, accepted by the cloud later.
	e.cloud.AddAccount("2000000000000002", "china")
	if err := e.cloud.InviteAccountAs(e.ownerKey.Identity, "2000000000000002", prod, 5*time.Minute); err != nil {
		t.Fatal(err)
	}
	e.takeEvents()
	e.advance(4 * time.Minute)
	if _, ok := e.cloud.Members()["2000000000000002"]; ok {
		t.Fatal("accepted too early")
	}
	e.advance(time.Minute)
	if e.cloud.Members()["2000000000000002"] != prod {
		t.Fatal("not accepted after 5m")
	}
	evs := e.takeEvents()
	if len(evs) != 1 || evs[0].Bus != "2000000000000002" {
		t.Fatalf("acceptance events = %v", evs)
	}
	if b := decodeEvent(t, evs[0]); b.Data.EventName != "AcceptHandshake" || b.Data.UserIdentity["accountId"] != "2000000000000002" {
		t.Fatalf("acceptance event = %+v", b.Data)
	}

	if err := e.cloud.CreateAccountAs(e.ownerKey.Identity, "1000000000000099", other); err != nil {
		t.Fatal(err)
	}
	if e.cloud.Members()["1000000000000099"] != other {
		t.Fatal("CreateAccountAs did not join the folder")
	}

	del := resourcemanager.CreateDeleteAccountRequest()
	del.AccountId = created
	_, err = cl.DeleteAccount(del)
	must(t, err)
	if _, ok := e.cloud.Members()[created]; ok {
		t.Fatal("deleted account still a member")
	}
}

// A scenario may put the management account in a folder: it is moved there and stays
// the management account's member (how it joined is kept), as GetAccount shows.
func TestManagementAccountPlacedInAFolder(t *testing.T) {
	e := world(t, cloudsim.Config{})
	cl := e.rm(e.ownerKey)
	ga := resourcemanager.CreateGetAccountRequest()
	ga.AccountId = owner
	before, err := cl.GetAccount(ga)
	must(t, err)
	e.cloud.AddMember(owner, prod)
	after, err := cl.GetAccount(ga)
	must(t, err)
	a := after.Account
	if a.FolderId != prod || a.ResourceDirectoryPath != dirID+"/"+rootID+"/"+prod+"/"+owner {
		t.Fatalf("the management account is at %s (%s), want prod", a.FolderId, a.ResourceDirectoryPath)
	}
	if a.JoinMethod != before.Account.JoinMethod || a.Type != before.Account.Type || a.JoinMethod == "created" {
		t.Fatalf("placing the management account changed how it joined: %s/%s → %s/%s", before.Account.JoinMethod, before.Account.Type, a.JoinMethod, a.Type)
	}
	gd, err := cl.GetResourceDirectory(resourcemanager.CreateGetResourceDirectoryRequest())
	must(t, err)
	if gd.ResourceDirectory.MasterAccountId != owner {
		t.Fatalf("management account = %s", gd.ResourceDirectory.MasterAccountId)
	}
}
