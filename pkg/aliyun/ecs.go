package aliyun

import (
	"context"
	"maps"
	"slices"

	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/requests"
	"github.com/aliyun/alibaba-cloud-sdk-go/services/ecs"

	"imageshare/pkg/cloud"
)

// DescribeImages lists one page of images.
func (c *Client) DescribeImages(ctx context.Context, in cloud.DescribeImagesInput) (cloud.ImagePage, error) {
	req := ecs.CreateDescribeImagesRequest()
	req.RegionId = in.Region
	req.ImageId = join(in.ImageIDs)
	req.Status = join(in.Statuses)
	req.ImageOwnerAlias = in.OwnerAlias
	req.PageNumber = requests.NewInteger(max(in.Page, 1))
	req.PageSize = requests.NewInteger(max(in.PageSize, 1))
	if len(in.Tags) > 0 {
		var ts []ecs.DescribeImagesTag
		for _, k := range slices.Sorted(maps.Keys(in.Tags)) {
			ts = append(ts, ecs.DescribeImagesTag{Key: k, Value: in.Tags[k]})
		}
		req.Tag = &ts
	}
	var resp *ecs.DescribeImagesResponse
	if err := c.send(ctx, req.RpcRequest, "ecs", in.Region, "DescribeImages", func() (err error) {
		resp, err = c.ecs.DescribeImages(req)
		return err
	}); err != nil {
		return cloud.ImagePage{}, err
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
	req := ecs.CreateDescribeImageSharePermissionRequest()
	req.RegionId = region
	req.ImageId = image
	req.PageNumber = requests.NewInteger(max(page, 1))
	req.PageSize = requests.NewInteger(cloud.MaxSharePage)
	var resp *ecs.DescribeImageSharePermissionResponse
	if err := c.send(ctx, req.RpcRequest, "ecs", region, "DescribeImageSharePermission", func() (err error) {
		resp, err = c.ecs.DescribeImageSharePermission(req)
		return err
	}); err != nil {
		return cloud.SharePermissionPage{}, err
	}
	out := cloud.SharePermissionPage{Total: resp.TotalCount}
	for _, a := range resp.Accounts.Account {
		out.Accounts = append(out.Accounts, a.AliyunId)
	}
	return out, nil
}

// ModifyImageSharePermission adds and removes direct shares (at most ten each).
func (c *Client) ModifyImageSharePermission(ctx context.Context, region, image string, add, remove []string) (cloud.Result, error) {
	req := ecs.CreateModifyImageSharePermissionRequest()
	req.RegionId = region
	req.ImageId = image
	if len(add) > 0 {
		req.AddAccount = orEmpty(add)
	}
	if len(remove) > 0 {
		req.RemoveAccount = orEmpty(remove)
	}
	var resp *ecs.ModifyImageSharePermissionResponse
	if err := c.send(ctx, req.RpcRequest, "ecs", region, "ModifyImageSharePermission", func() (err error) {
		resp, err = c.ecs.ModifyImageSharePermission(req)
		return err
	}); err != nil {
		return cloud.Result{}, err
	}
	return cloud.Result{RequestID: resp.RequestId}, nil
}

// TagResources sets tags on images.
func (c *Client) TagResources(ctx context.Context, region string, images []string, tags map[string]string) (cloud.Result, error) {
	req := ecs.CreateTagResourcesRequest()
	req.RegionId = region
	req.ResourceType = "image"
	req.ResourceId = orEmpty(images)
	var ts []ecs.TagResourcesTag
	for _, k := range slices.Sorted(maps.Keys(tags)) {
		ts = append(ts, ecs.TagResourcesTag{Key: k, Value: tags[k]})
	}
	req.Tag = &ts
	var resp *ecs.TagResourcesResponse
	if err := c.send(ctx, req.RpcRequest, "ecs", region, "TagResources", func() (err error) {
		resp, err = c.ecs.TagResources(req)
		return err
	}); err != nil {
		return cloud.Result{}, err
	}
	return cloud.Result{RequestID: resp.RequestId}, nil
}

// UntagResources removes tag keys from images (ECS UntagResources,
// https://www.alibabacloud.com/help/en/ecs/developer-reference/api-ecs-2014-05-26-untagresources:
// TagKey.N at most 20). Not part of cloud.API: the functions never untag; `imageshare
// tag --remove` does, as a person would.
func (c *Client) UntagResources(ctx context.Context, region string, images, keys []string) (cloud.Result, error) {
	req := ecs.CreateUntagResourcesRequest()
	req.RegionId = region
	req.ResourceType = "image"
	req.ResourceId = orEmpty(images)
	req.TagKey = orEmpty(keys)
	var resp *ecs.UntagResourcesResponse
	if err := c.send(ctx, req.RpcRequest, "ecs", region, "UntagResources", func() (err error) {
		resp, err = c.ecs.UntagResources(req)
		return err
	}); err != nil {
		return cloud.Result{}, err
	}
	return cloud.Result{RequestID: resp.RequestId}, nil
}

// CopyImage copies an image to another region, tagging the copy at creation. The SDK's
// request has no ClientToken field (v1.63.107); the current API accepts one (official
// API metadata; alibabacloud-go/ecs-20140526 CopyImageRequest), so it is sent as a
// query parameter like the SDK's own fields.
func (c *Client) CopyImage(ctx context.Context, in cloud.CopyImageInput) (string, cloud.Result, error) {
	req := ecs.CreateCopyImageRequest()
	req.RegionId = in.Region
	req.ImageId = in.Image
	req.DestinationRegionId = in.Destination
	if len(in.Tags) > 0 {
		var ts []ecs.CopyImageTag
		for _, k := range slices.Sorted(maps.Keys(in.Tags)) {
			ts = append(ts, ecs.CopyImageTag{Key: k, Value: in.Tags[k]})
		}
		req.Tag = &ts
	}
	if in.KMSKeyID != "" {
		req.Encrypted = requests.NewBoolean(true)
		req.KMSKeyId = in.KMSKeyID
	}
	if in.ClientToken != "" {
		req.QueryParams["ClientToken"] = in.ClientToken
	}
	var resp *ecs.CopyImageResponse
	if err := c.send(ctx, req.RpcRequest, "ecs", in.Region, "CopyImage", func() (err error) {
		resp, err = c.ecs.CopyImage(req)
		return err
	}); err != nil {
		return "", cloud.Result{}, err
	}
	return resp.ImageId, cloud.Result{RequestID: resp.RequestId}, nil
}
