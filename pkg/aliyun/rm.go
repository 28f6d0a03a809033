package aliyun

import (
	"context"
	"sort"

	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/requests"
	"github.com/aliyun/alibaba-cloud-sdk-go/services/resourcemanager"

	"imageshare/pkg/cloud"
)

// GetResourceDirectory reads the caller's Resource Directory.
func (c *Client) GetResourceDirectory(ctx context.Context) (cloud.Directory, error) {
	if err := ctxErr(ctx); err != nil {
		return cloud.Directory{}, err
	}
	req := resourcemanager.CreateGetResourceDirectoryRequest()
	c.route(req.RpcRequest, "resourcemanager", "")
	resp, err := c.rm.GetResourceDirectory(req)
	if err != nil {
		return cloud.Directory{}, wrap("GetResourceDirectory", err)
	}
	d := resp.ResourceDirectory
	return cloud.Directory{ID: d.ResourceDirectoryId, RootID: d.RootFolderId, MasterAccountID: d.MasterAccountId}, nil
}

// ListAccounts lists one page of directory members with their paths.
func (c *Client) ListAccounts(ctx context.Context, page int) (cloud.AccountPage, error) {
	if err := ctxErr(ctx); err != nil {
		return cloud.AccountPage{}, err
	}
	req := resourcemanager.CreateListAccountsRequest()
	req.PageNumber = requests.NewInteger(max(page, 1))
	req.PageSize = requests.NewInteger(cloud.MaxDirectoryPage)
	c.route(req.RpcRequest, "resourcemanager", "")
	resp, err := c.rm.ListAccounts(req)
	if err != nil {
		return cloud.AccountPage{}, wrap("ListAccounts", err)
	}
	out := cloud.AccountPage{Total: resp.TotalCount}
	for _, a := range resp.Accounts.Account {
		out.Accounts = append(out.Accounts, cloud.Account{ID: a.AccountId, FolderID: a.FolderId, Path: a.ResourceDirectoryPath, Status: a.Status})
	}
	return out, nil
}

// ListAncestors returns a folder's ancestors, root first.
func (c *Client) ListAncestors(ctx context.Context, folder string) ([]string, error) {
	if err := ctxErr(ctx); err != nil {
		return nil, err
	}
	req := resourcemanager.CreateListAncestorsRequest()
	req.ChildId = folder
	c.route(req.RpcRequest, "resourcemanager", "")
	resp, err := c.rm.ListAncestors(req)
	if err != nil {
		return nil, wrap("ListAncestors", err)
	}
	out := []string{}
	for _, f := range resp.Folders.Folder {
		if f.FolderId != folder {
			out = append(out, f.FolderId)
		}
	}
	return out, nil
}

// ListHandshakes lists one page of the directory's invitations.
func (c *Client) ListHandshakes(ctx context.Context, page int) (cloud.HandshakePage, error) {
	if err := ctxErr(ctx); err != nil {
		return cloud.HandshakePage{}, err
	}
	req := resourcemanager.CreateListHandshakesForResourceDirectoryRequest()
	req.PageNumber = requests.NewInteger(max(page, 1))
	req.PageSize = requests.NewInteger(cloud.MaxDirectoryPage)
	c.route(req.RpcRequest, "resourcemanager", "")
	resp, err := c.rm.ListHandshakesForResourceDirectory(req)
	if err != nil {
		return cloud.HandshakePage{}, wrap("ListHandshakesForResourceDirectory", err)
	}
	out := cloud.HandshakePage{Total: resp.TotalCount}
	for _, h := range resp.Handshakes.Handshake {
		out.Handshakes = append(out.Handshakes, cloud.Handshake{ID: h.HandshakeId, Target: h.TargetEntity, Status: h.Status, Expire: parseTime(h.ExpireTime)})
	}
	return out, nil
}

func sortedKeys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
