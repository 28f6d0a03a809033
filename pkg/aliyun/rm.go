package aliyun

import (
	"context"

	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/requests"
	"github.com/aliyun/alibaba-cloud-sdk-go/services/resourcemanager"

	"imageshare/pkg/cloud"
)

// GetResourceDirectory reads the caller's Resource Directory.
func (c *Client) GetResourceDirectory(ctx context.Context) (cloud.Directory, error) {
	req := resourcemanager.CreateGetResourceDirectoryRequest()
	var resp *resourcemanager.GetResourceDirectoryResponse
	if err := c.send(ctx, req.RpcRequest, "resourcemanager", "", "GetResourceDirectory", func() (err error) {
		resp, err = c.rm.GetResourceDirectory(req)
		return err
	}); err != nil {
		return cloud.Directory{}, err
	}
	d := resp.ResourceDirectory
	return cloud.Directory{ID: d.ResourceDirectoryId, RootID: d.RootFolderId, MasterAccountID: d.MasterAccountId}, nil
}

// ListAccounts lists one page of directory members with their paths.
func (c *Client) ListAccounts(ctx context.Context, page int) (cloud.AccountPage, error) {
	req := resourcemanager.CreateListAccountsRequest()
	req.PageNumber = requests.NewInteger(max(page, 1))
	req.PageSize = requests.NewInteger(cloud.MaxDirectoryPage)
	var resp *resourcemanager.ListAccountsResponse
	if err := c.send(ctx, req.RpcRequest, "resourcemanager", "", "ListAccounts", func() (err error) {
		resp, err = c.rm.ListAccounts(req)
		return err
	}); err != nil {
		return cloud.AccountPage{}, err
	}
	out := cloud.AccountPage{Total: resp.TotalCount}
	for _, a := range resp.Accounts.Account {
		out.Accounts = append(out.Accounts, cloud.Account{ID: a.AccountId, FolderID: a.FolderId, Path: a.ResourceDirectoryPath, Status: a.Status})
	}
	return out, nil
}

// GetAccount reads one member with its path.
func (c *Client) GetAccount(ctx context.Context, account string) (cloud.Account, error) {
	req := resourcemanager.CreateGetAccountRequest()
	req.AccountId = account
	var resp *resourcemanager.GetAccountResponse
	if err := c.send(ctx, req.RpcRequest, "resourcemanager", "", "GetAccount", func() (err error) {
		resp, err = c.rm.GetAccount(req)
		return err
	}); err != nil {
		return cloud.Account{}, err
	}
	a := resp.Account
	return cloud.Account{ID: a.AccountId, FolderID: a.FolderId, Path: a.ResourceDirectoryPath, Status: a.Status}, nil
}

// ListAncestors returns a folder's ancestors, root first.
func (c *Client) ListAncestors(ctx context.Context, folder string) ([]string, error) {
	req := resourcemanager.CreateListAncestorsRequest()
	req.ChildId = folder
	var resp *resourcemanager.ListAncestorsResponse
	if err := c.send(ctx, req.RpcRequest, "resourcemanager", "", "ListAncestors", func() (err error) {
		resp, err = c.rm.ListAncestors(req)
		return err
	}); err != nil {
		return nil, err
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
	req := resourcemanager.CreateListHandshakesForResourceDirectoryRequest()
	req.PageNumber = requests.NewInteger(max(page, 1))
	req.PageSize = requests.NewInteger(cloud.MaxDirectoryPage)
	var resp *resourcemanager.ListHandshakesForResourceDirectoryResponse
	if err := c.send(ctx, req.RpcRequest, "resourcemanager", "", "ListHandshakesForResourceDirectory", func() (err error) {
		resp, err = c.rm.ListHandshakesForResourceDirectory(req)
		return err
	}); err != nil {
		return cloud.HandshakePage{}, err
	}
	out := cloud.HandshakePage{Total: resp.TotalCount}
	for _, h := range resp.Handshakes.Handshake {
		out.Handshakes = append(out.Handshakes, cloud.Handshake{ID: h.HandshakeId, Target: h.TargetEntity, Status: h.Status, Expire: parseTime(h.ExpireTime)})
	}
	return out, nil
}
