package aliyun

import (
	"context"

	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/requests"
	"github.com/aliyun/alibaba-cloud-sdk-go/services/ecs"

	"imageshare/pkg/cloud"
)

// DescribeImages lists one page of images.
func (c *Client) DescribeImages(ctx context.Context, in cloud.DescribeImagesInput) (cloud.ImagePage, error) {
	if err := ctxErr(ctx); err != nil {
		return cloud.ImagePage{}, err
	}
	req := ecs.CreateDescribeImagesRequest()
	req.RegionId = in.Region
	req.ImageId = join(in.ImageIDs)
	req.Status = join(in.Statuses)
	req.ImageOwnerAlias = in.OwnerAlias
	req.PageNumber = requests.NewInteger(max(in.Page, 1))
	req.PageSize = requests.NewInteger(max(in.PageSize, 1))
	c.route(req.RpcRequest, "ecs", in.Region)
	resp, err := c.ecs.DescribeImages(req)
	if err != nil {
		return cloud.ImagePage{}, wrap("DescribeImages", err)
	}
	page := cloud.ImagePage{Total: resp.TotalCount, RequestID: resp.RequestId}
	for _, im := range resp.Images.Image {
		tags := map[string]string{}
		for _, t := range im.Tags.Tag {
			k, v := t.TagKey, t.TagValue
			if k == "" {
				k, v = t.Key, t.Value
			}
			tags[k] = v
		}
		enc := false
		for _, d := range im.DiskDeviceMappings.DiskDeviceMapping {
			enc = enc || d.Encrypted
		}
		page.Images = append(page.Images, cloud.Image{ID: im.ImageId, OwnerAlias: im.ImageOwnerAlias, Status: im.Status,
			Created: parseTime(im.CreationTime), ProductCode: im.ProductCode, SelfShared: im.IsSelfShared == "true" || im.IsSelfShared == "True",
			Encrypted: enc, Tags: tags})
	}
	return page, nil
}

// DescribeImageSharePermission lists one page of an image's direct shares.
func (c *Client) DescribeImageSharePermission(ctx context.Context, region, image string, page int) (cloud.SharePermissionPage, error) {
	if err := ctxErr(ctx); err != nil {
		return cloud.SharePermissionPage{}, err
	}
	req := ecs.CreateDescribeImageSharePermissionRequest()
	req.RegionId = region
	req.ImageId = image
	req.PageNumber = requests.NewInteger(max(page, 1))
	req.PageSize = requests.NewInteger(cloud.MaxSharePage)
	c.route(req.RpcRequest, "ecs", region)
	resp, err := c.ecs.DescribeImageSharePermission(req)
	if err != nil {
		return cloud.SharePermissionPage{}, wrap("DescribeImageSharePermission", err)
	}
	out := cloud.SharePermissionPage{Total: resp.TotalCount}
	for _, a := range resp.Accounts.Account {
		out.Accounts = append(out.Accounts, a.AliyunId)
	}
	return out, nil
}

// ModifyImageSharePermission adds and removes direct shares (at most ten each).
func (c *Client) ModifyImageSharePermission(ctx context.Context, region, image string, add, remove []string) (cloud.Result, error) {
	if err := ctxErr(ctx); err != nil {
		return cloud.Result{}, err
	}
	req := ecs.CreateModifyImageSharePermissionRequest()
	req.RegionId = region
	req.ImageId = image
	if len(add) > 0 {
		req.AddAccount = orEmpty(add)
	}
	if len(remove) > 0 {
		req.RemoveAccount = orEmpty(remove)
	}
	c.route(req.RpcRequest, "ecs", region)
	resp, err := c.ecs.ModifyImageSharePermission(req)
	if err != nil {
		return cloud.Result{}, wrap("ModifyImageSharePermission", err)
	}
	return cloud.Result{RequestID: resp.RequestId}, nil
}

// TagResources sets tags on images.
func (c *Client) TagResources(ctx context.Context, region string, images []string, tags map[string]string) (cloud.Result, error) {
	if err := ctxErr(ctx); err != nil {
		return cloud.Result{}, err
	}
	req := ecs.CreateTagResourcesRequest()
	req.RegionId = region
	req.ResourceType = "image"
	req.ResourceId = orEmpty(images)
	var ts []ecs.TagResourcesTag
	for _, k := range sortedKeys(tags) {
		ts = append(ts, ecs.TagResourcesTag{Key: k, Value: tags[k]})
	}
	req.Tag = &ts
	c.route(req.RpcRequest, "ecs", region)
	resp, err := c.ecs.TagResources(req)
	if err != nil {
		return cloud.Result{}, wrap("TagResources", err)
	}
	return cloud.Result{RequestID: resp.RequestId}, nil
}
