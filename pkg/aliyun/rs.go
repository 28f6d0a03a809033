package aliyun

import (
	"context"
	"encoding/json"

	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/requests"
	"github.com/aliyun/alibaba-cloud-sdk-go/services/resourcesharing"

	"imageshare/pkg/cloud"
)

// ListResourceShares lists one page of the caller's own resource shares.
func (c *Client) ListResourceShares(ctx context.Context, region, token string) (cloud.SharePage, error) {
	req := resourcesharing.CreateListResourceSharesRequest()
	req.RegionId = region
	req.ResourceOwner = "Self"
	req.NextToken = token
	req.MaxResults = requests.NewInteger(cloud.MaxSharingPage)
	var resp *resourcesharing.ListResourceSharesResponse
	if err := c.send(ctx, req.RpcRequest, "resourcesharing", region, "ListResourceShares", func() (err error) {
		resp, err = c.rs.ListResourceShares(req)
		return err
	}); err != nil {
		return cloud.SharePage{}, err
	}
	out := cloud.SharePage{NextToken: resp.NextToken}
	for _, s := range resp.ResourceShares {
		out.Shares = append(out.Shares, shareInfo(s))
	}
	return out, nil
}

func shareInfo(s resourcesharing.ResourceShare) cloud.ShareInfo {
	return cloud.ShareInfo{ID: s.ResourceShareId, Name: s.ResourceShareName, Status: s.ResourceShareStatus,
		AllowExternal: s.AllowExternalTargets, Created: parseTime(s.CreateTime)}
}

// ListResourceShareAssociations lists one page of the caller's associations of a type.
func (c *Client) ListResourceShareAssociations(ctx context.Context, region, associationType, token string) (cloud.AssociationPage, error) {
	return c.ListAssociations(ctx, cloud.AssociationQuery{Region: region, Type: associationType, Token: token})
}

// ListAssociations lists one page of the caller's associations of a type, of one
// resource and/or of at most five shares.
func (c *Client) ListAssociations(ctx context.Context, q cloud.AssociationQuery) (cloud.AssociationPage, error) {
	req := resourcesharing.CreateListResourceShareAssociationsRequest()
	req.RegionId = q.Region
	req.AssociationType = q.Type
	req.ResourceId = q.Resource
	if len(q.ShareIDs) > 0 {
		req.ResourceShareIds = orEmpty(q.ShareIDs)
	}
	req.NextToken = q.Token
	req.MaxResults = requests.NewInteger(cloud.MaxSharingPage)
	var resp *resourcesharing.ListResourceShareAssociationsResponse
	if err := c.send(ctx, req.RpcRequest, "resourcesharing", q.Region, "ListResourceShareAssociations", func() (err error) {
		resp, err = c.rs.ListResourceShareAssociations(req)
		return err
	}); err != nil {
		return cloud.AssociationPage{}, err
	}
	details := failedDetails(resp.GetHttpContentBytes(), len(resp.ResourceShareAssociations))
	out := cloud.AssociationPage{NextToken: resp.NextToken}
	for i, a := range resp.ResourceShareAssociations {
		as := cloud.Association{ShareID: a.ResourceShareId, ShareName: a.ResourceShareName, EntityID: a.EntityId,
			Type: a.AssociationType, Status: a.AssociationStatus, Message: a.AssociationStatusMessage, Updated: parseTime(a.UpdateTime)}
		ds := details[i]
		if ds == nil {
			for _, d := range a.AssociationFailedDetails {
				ds = append(ds, failedDetail{Status: d.Status, StatusMessage: d.StatusMessage})
			}
		}
		// The details name the counterparts the association failed with (for an image,
		// the targets); the first that says why is the association's reason.
		for _, d := range ds {
			if reason, msg := d.reason(); reason != "" {
				as.FailureReason = reason
				if msg != "" {
					as.Message = msg
				}
				break
			}
		}
		out.Associations = append(out.Associations, as)
	}
	return out, nil
}

// failedDetail is one AssociationFailedDetails item: the current names and the
// deprecated ones (Status, StatusMessage), which the service may or may not send.
type failedDetail struct {
	FailureReason, FailureDescription string
	Status, StatusMessage             string
}

func (d failedDetail) reason() (reason, message string) {
	reason, message = d.FailureReason, d.FailureDescription
	if reason == "" {
		reason = d.Status
	}
	if message == "" {
		message = d.StatusMessage
	}
	return reason, message
}

// failedDetails reads each association's AssociationFailedDetails from the raw answer:
// the SDK's struct (v1.63.107) declares only the deprecated names, while the current
// API sends FailureReason, FailureDescription and OperationType
// (https://www.alibabacloud.com/help/en/resource-management/resource-sharing/
// developer-reference/api-resourcesharing-2020-01-10-listresourceshareassociations).
// A nil slice at i means the raw answer could not be read for that association.
func failedDetails(body []byte, n int) [][]failedDetail {
	out := make([][]failedDetail, n)
	var raw struct {
		ResourceShareAssociations []struct {
			AssociationFailedDetails []failedDetail
		}
	}
	if err := json.Unmarshal(body, &raw); err != nil || len(raw.ResourceShareAssociations) != n {
		return out
	}
	for i, a := range raw.ResourceShareAssociations {
		out[i] = a.AssociationFailedDetails
		if out[i] == nil {
			out[i] = []failedDetail{}
		}
	}
	return out
}

func resources(images []string) *[]resourcesharing.CreateResourceShareResources {
	var out []resourcesharing.CreateResourceShareResources
	for _, im := range images {
		out = append(out, resourcesharing.CreateResourceShareResources{ResourceId: im, ResourceType: cloud.ImageResourceType})
	}
	return &out
}

// CreateResourceShare creates a share that does not allow external targets.
func (c *Client) CreateResourceShare(ctx context.Context, region, name string, images, targets []string) (cloud.ShareInfo, cloud.Result, error) {
	req := resourcesharing.CreateCreateResourceShareRequest()
	req.RegionId = region
	req.ResourceShareName = name
	req.AllowExternalTargets = requests.NewBoolean(false)
	if len(images) > 0 {
		req.Resources = resources(images)
	}
	if len(targets) > 0 {
		req.Targets = orEmpty(targets)
	}
	var resp *resourcesharing.CreateResourceShareResponse
	if err := c.send(ctx, req.RpcRequest, "resourcesharing", region, "CreateResourceShare", func() (err error) {
		resp, err = c.rs.CreateResourceShare(req)
		return err
	}); err != nil {
		return cloud.ShareInfo{}, cloud.Result{}, err
	}
	return shareInfo(resp.ResourceShare), cloud.Result{RequestID: resp.RequestId}, nil
}

// AssociateResourceShare adds images and targets (at most five each).
func (c *Client) AssociateResourceShare(ctx context.Context, region, shareID string, images, targets []string) (cloud.Result, error) {
	req := resourcesharing.CreateAssociateResourceShareRequest()
	req.RegionId = region
	req.ResourceShareId = shareID
	if len(images) > 0 {
		var rs []resourcesharing.AssociateResourceShareResources
		for _, im := range images {
			rs = append(rs, resourcesharing.AssociateResourceShareResources{ResourceId: im, ResourceType: cloud.ImageResourceType})
		}
		req.Resources = &rs
	}
	if len(targets) > 0 {
		req.Targets = orEmpty(targets)
	}
	var resp *resourcesharing.AssociateResourceShareResponse
	if err := c.send(ctx, req.RpcRequest, "resourcesharing", region, "AssociateResourceShare", func() (err error) {
		resp, err = c.rs.AssociateResourceShare(req)
		return err
	}); err != nil {
		return cloud.Result{}, err
	}
	return cloud.Result{RequestID: resp.RequestId}, nil
}

// DisassociateResourceShare removes images and targets (at most five each).
func (c *Client) DisassociateResourceShare(ctx context.Context, region, shareID string, images, targets []string) (cloud.Result, error) {
	req := resourcesharing.CreateDisassociateResourceShareRequest()
	req.RegionId = region
	req.ResourceShareId = shareID
	req.ResourceOwner = "Self"
	if len(images) > 0 {
		var rs []resourcesharing.DisassociateResourceShareResources
		for _, im := range images {
			rs = append(rs, resourcesharing.DisassociateResourceShareResources{ResourceId: im, ResourceType: cloud.ImageResourceType})
		}
		req.Resources = &rs
	}
	if len(targets) > 0 {
		req.Targets = orEmpty(targets)
	}
	var resp *resourcesharing.DisassociateResourceShareResponse
	if err := c.send(ctx, req.RpcRequest, "resourcesharing", region, "DisassociateResourceShare", func() (err error) {
		resp, err = c.rs.DisassociateResourceShare(req)
		return err
	}); err != nil {
		return cloud.Result{}, err
	}
	return cloud.Result{RequestID: resp.RequestId}, nil
}

// UpdateResourceShare sets AllowExternalTargets. ResourceShareName is required by the
// API (https://www.alibabacloud.com/help/en/resource-management/resource-sharing/
// developer-reference/api-resourcesharing-2020-01-10-updateresourceshare): the caller
// passes the share's current name so that it stays.
func (c *Client) UpdateResourceShare(ctx context.Context, region, shareID, name string, allowExternal bool) (cloud.Result, error) {
	req := resourcesharing.CreateUpdateResourceShareRequest()
	req.RegionId = region
	req.ResourceShareId = shareID
	req.ResourceShareName = name
	req.AllowExternalTargets = requests.NewBoolean(allowExternal)
	var resp *resourcesharing.UpdateResourceShareResponse
	if err := c.send(ctx, req.RpcRequest, "resourcesharing", region, "UpdateResourceShare", func() (err error) {
		resp, err = c.rs.UpdateResourceShare(req)
		return err
	}); err != nil {
		return cloud.Result{}, err
	}
	return cloud.Result{RequestID: resp.RequestId}, nil
}

// DeleteResourceShare deletes a share.
func (c *Client) DeleteResourceShare(ctx context.Context, region, shareID string) (cloud.Result, error) {
	req := resourcesharing.CreateDeleteResourceShareRequest()
	req.RegionId = region
	req.ResourceShareId = shareID
	var resp *resourcesharing.DeleteResourceShareResponse
	if err := c.send(ctx, req.RpcRequest, "resourcesharing", region, "DeleteResourceShare", func() (err error) {
		resp, err = c.rs.DeleteResourceShare(req)
		return err
	}); err != nil {
		return cloud.Result{}, err
	}
	return cloud.Result{RequestID: resp.RequestId}, nil
}
