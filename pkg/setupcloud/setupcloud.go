// Package setupcloud implements setup.Cloud with the Alibaba Cloud SDK
// (github.com/aliyun/alibaba-cloud-sdk-go): STS, RAM, EventBridge, the MNS management
// API (mns-open), Resource Manager and Resource Sharing over RPC with signed requests.
// It is the only package that compiles the SDK's RAM, STS, EventBridge and mns-open
// service packages, so that the functions do not.
package setupcloud

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"time"

	"github.com/aliyun/alibaba-cloud-sdk-go/sdk"
	sdkerrors "github.com/aliyun/alibaba-cloud-sdk-go/sdk/errors"
	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/requests"
	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/responses"
	"github.com/aliyun/alibaba-cloud-sdk-go/services/eventbridge"
	mnsopen "github.com/aliyun/alibaba-cloud-sdk-go/services/mns-open"
	"github.com/aliyun/alibaba-cloud-sdk-go/services/ram"
	"github.com/aliyun/alibaba-cloud-sdk-go/services/resourcemanager"
	"github.com/aliyun/alibaba-cloud-sdk-go/services/resourcesharing"
	"github.com/aliyun/alibaba-cloud-sdk-go/services/sts"

	"imageshare/pkg/aliyun"
	"imageshare/pkg/cloud"
	"imageshare/pkg/setup"
)

// Config configures a Client.
type Config struct {
	Region      string
	Credentials cloud.Credentials
	// Endpoints overrides per service ("ram", "sts", "eventbridge", "mns-open",
	// "resourcemanager", "resourcesharing", "actiontrail"): scheme://host[:port], validated by package
	// settings (loopback or *.aliyuncs.com only).
	Endpoints map[string]string
	Timeout   time.Duration // per request (default 10s)
}

// Client is a setup.Cloud over the SDK.
type Client struct {
	cfg Config
	ram *ram.Client
	sts *sts.Client
	eb  *eventbridge.Client
	mq  *mnsopen.Client
	rm  *resourcemanager.Client
	rs  *resourcesharing.Client
	// trail reads ActionTrail through the functions' own client (package aliyun keeps
	// the SDK's actiontrail package).
	trail *aliyun.Client
}

var _ setup.Cloud = (*Client)(nil)

// New builds the SDK clients.
func New(cfg Config) (*Client, error) {
	if cfg.Credentials.AccessKeyID == "" || cfg.Credentials.AccessKeySecret == "" {
		return nil, errors.New("setupcloud: no credentials")
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = 10 * time.Second
	}
	cred := aliyun.Credential(cfg.Credentials)
	conf := func() *sdk.Config { return aliyun.SDKConfig(cfg.Timeout) }
	c := &Client{cfg: cfg}
	var err error
	if c.ram, err = ram.NewClientWithOptions(cfg.Region, conf(), cred); err != nil {
		return nil, fmt.Errorf("ram client: %w", err)
	}
	if c.sts, err = sts.NewClientWithOptions(cfg.Region, conf(), cred); err != nil {
		return nil, fmt.Errorf("sts client: %w", err)
	}
	if c.eb, err = eventbridge.NewClientWithOptions(cfg.Region, conf(), cred); err != nil {
		return nil, fmt.Errorf("eventbridge client: %w", err)
	}
	if c.mq, err = mnsopen.NewClientWithOptions(cfg.Region, conf(), cred); err != nil {
		return nil, fmt.Errorf("mns-open client: %w", err)
	}
	if c.rm, err = resourcemanager.NewClientWithOptions(cfg.Region, conf(), cred); err != nil {
		return nil, fmt.Errorf("resourcemanager client: %w", err)
	}
	if c.rs, err = resourcesharing.NewClientWithOptions(cfg.Region, conf(), cred); err != nil {
		return nil, fmt.Errorf("resourcesharing client: %w", err)
	}
	eps := map[string]string{}
	if ep, ok := cfg.Endpoints["actiontrail"]; ok {
		eps["actiontrail"] = ep
	}
	if c.trail, err = aliyun.New(aliyun.Config{Region: cfg.Region, Credentials: cfg.Credentials, Endpoints: eps, Timeout: cfg.Timeout}); err != nil {
		return nil, fmt.Errorf("actiontrail client: %w", err)
	}
	return c, nil
}

// publicHost is each service's public endpoint: global for RAM, STS and Resource
// Manager, regional for the others (the SDKs' endpoint tables).
func (c *Client) publicHost(service string) string {
	switch service {
	case "ram":
		return "ram.aliyuncs.com"
	case "sts":
		return "sts.aliyuncs.com"
	case "resourcemanager":
		return "resourcemanager.aliyuncs.com"
	}
	return service + "." + c.cfg.Region + ".aliyuncs.com"
}

// send routes r to its service's endpoint and runs call; SDK errors become *cloud.Error.
func (c *Client) send(ctx context.Context, r *requests.RpcRequest, service, action string, call func() error) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("before calling the cloud: %w", err)
	}
	if ep, ok := c.cfg.Endpoints[service]; ok {
		u, _ := url.Parse(ep) // validated by package settings
		r.Domain, r.Scheme = u.Host, u.Scheme
	} else {
		r.Domain, r.Scheme = c.publicHost(service), "https"
	}
	r.RegionId = c.cfg.Region
	return wrap(action, call())
}

func wrap(action string, err error) error {
	if err == nil {
		return nil
	}
	var se *sdkerrors.ServerError
	if errors.As(err, &se) {
		return &cloud.Error{Code: se.ErrorCode(), Message: se.Message(), RequestID: se.RequestId(), HTTPStatus: se.HttpStatus(), Action: action}
	}
	// Transport errors quote the request URL, whose query carries the access key ID and
	// the signature: keep only the action and the cause's kind.
	return fmt.Errorf("%s: %s", action, redact(err.Error()))
}

var queryRE = regexp.MustCompile(`\?[^\s"']*`)

func redact(s string) string { return queryRE.ReplaceAllString(s, "?<redacted>") }

// bodyFailure turns an answer of HTTP 200 whose body says it failed (EventBridge and
// mns-open carry Success and Code in the body) into an error.
func bodyFailure(action string, resp responses.AcsResponse, success bool, code, message, reqID string) error {
	if success || code == "" || code == "Success" || code == "200" {
		return nil
	}
	return &cloud.Error{Code: code, Message: message, RequestID: reqID, HTTPStatus: resp.GetHttpStatus(), Action: action}
}

// ---- STS ----

// CallerIdentity implements setup.Cloud.
func (c *Client) CallerIdentity(ctx context.Context) (setup.Caller, error) {
	req := sts.CreateGetCallerIdentityRequest()
	var resp *sts.GetCallerIdentityResponse
	if err := c.send(ctx, req.RpcRequest, "sts", "GetCallerIdentity", func() (err error) { resp, err = c.sts.GetCallerIdentity(req); return err }); err != nil {
		return setup.Caller{}, err
	}
	return setup.Caller{AccountID: resp.AccountId, Arn: resp.Arn, IdentityType: resp.IdentityType}, nil
}

// ---- MNS management API ----

// GetQueue implements setup.Cloud.
func (c *Client) GetQueue(ctx context.Context, name string) (setup.Queue, error) {
	req := mnsopen.CreateGetQueueAttributesRequest()
	req.QueueName = name
	var resp *mnsopen.GetQueueAttributesResponse
	if err := c.send(ctx, req.RpcRequest, "mns-open", "GetQueueAttributes", func() (err error) { resp, err = c.mq.GetQueueAttributes(req); return err }); err != nil {
		return setup.Queue{}, err
	}
	if err := bodyFailure("GetQueueAttributes", resp, resp.Success, resp.Status, resp.Message, resp.RequestId); err != nil {
		return setup.Queue{}, err
	}
	d := resp.Data
	return setup.Queue{Name: d.QueueName, Tags: tagsOf(resp.GetHttpContentBytes()), Attrs: setup.QueueAttrs{
		VisibilityTimeout: int(d.VisibilityTimeout), MessageRetentionPeriod: int(d.MessageRetentionPeriod),
		MaximumMessageSize: int(d.MaximumMessageSize), DelaySeconds: int(d.DelaySeconds)}}, nil
}

// tagsOf reads Data.Tags from a raw answer: the SDK's Data (v1.63.107) has no Tags,
// which the current API returns (GetQueueAttributes, GetTopicAttributes reference).
func tagsOf(body []byte) map[string]string {
	var raw struct {
		Data struct {
			Tags []struct{ TagKey, TagValue string }
		}
	}
	out := map[string]string{}
	if json.Unmarshal(body, &raw) == nil {
		for _, t := range raw.Data.Tags {
			out[t.TagKey] = t.TagValue
		}
	}
	return out
}

// addTags adds Tag.N.Key/Value, which the API takes and the SDK's request (v1.63.107)
// does not declare.
func addTags(r *requests.RpcRequest, tags map[string]string) {
	n := 0
	for _, k := range sortedKeys(tags) {
		n++
		r.QueryParams["Tag."+strconv.Itoa(n)+".Key"] = k
		r.QueryParams["Tag."+strconv.Itoa(n)+".Value"] = tags[k]
	}
}

// CreateQueue implements setup.Cloud.
func (c *Client) CreateQueue(ctx context.Context, q setup.Queue) error {
	req := mnsopen.CreateCreateQueueRequest()
	req.QueueName = q.Name
	req.VisibilityTimeout = requests.NewInteger(q.Attrs.VisibilityTimeout)
	req.MessageRetentionPeriod = requests.NewInteger(q.Attrs.MessageRetentionPeriod)
	req.MaximumMessageSize = requests.NewInteger(q.Attrs.MaximumMessageSize)
	req.DelaySeconds = requests.NewInteger(q.Attrs.DelaySeconds)
	addTags(req.RpcRequest, q.Tags)
	var resp *mnsopen.CreateQueueResponse
	if err := c.send(ctx, req.RpcRequest, "mns-open", "CreateQueue", func() (err error) { resp, err = c.mq.CreateQueue(req); return err }); err != nil {
		return err
	}
	return bodyFailure("CreateQueue", resp, resp.Success, resp.Status, resp.Message, resp.RequestId)
}

// SetQueueAttributes implements setup.Cloud.
func (c *Client) SetQueueAttributes(ctx context.Context, name string, a setup.QueueAttrs) error {
	req := mnsopen.CreateSetQueueAttributesRequest()
	req.QueueName = name
	req.VisibilityTimeout = requests.NewInteger(a.VisibilityTimeout)
	req.MessageRetentionPeriod = requests.NewInteger(a.MessageRetentionPeriod)
	req.MaximumMessageSize = requests.NewInteger(a.MaximumMessageSize)
	req.DelaySeconds = requests.NewInteger(a.DelaySeconds)
	var resp *mnsopen.SetQueueAttributesResponse
	if err := c.send(ctx, req.RpcRequest, "mns-open", "SetQueueAttributes", func() (err error) { resp, err = c.mq.SetQueueAttributes(req); return err }); err != nil {
		return err
	}
	return bodyFailure("SetQueueAttributes", resp, resp.Success, resp.Status, resp.Message, resp.RequestId)
}

// GetTopic implements setup.Cloud.
func (c *Client) GetTopic(ctx context.Context, name string) (setup.Topic, error) {
	req := mnsopen.CreateGetTopicAttributesRequest()
	req.TopicName = name
	var resp *mnsopen.GetTopicAttributesResponse
	if err := c.send(ctx, req.RpcRequest, "mns-open", "GetTopicAttributes", func() (err error) { resp, err = c.mq.GetTopicAttributes(req); return err }); err != nil {
		return setup.Topic{}, err
	}
	if err := bodyFailure("GetTopicAttributes", resp, resp.Success, resp.Status, resp.Message, resp.RequestId); err != nil {
		return setup.Topic{}, err
	}
	return setup.Topic{Name: resp.Data.TopicName, MaxMessageSize: int(resp.Data.MaxMessageSize), Tags: tagsOf(resp.GetHttpContentBytes())}, nil
}

// CreateTopic implements setup.Cloud.
func (c *Client) CreateTopic(ctx context.Context, t setup.Topic) error {
	req := mnsopen.CreateCreateTopicRequest()
	req.TopicName = t.Name
	req.MaxMessageSize = requests.NewInteger(t.MaxMessageSize)
	addTags(req.RpcRequest, t.Tags)
	var resp *mnsopen.CreateTopicResponse
	if err := c.send(ctx, req.RpcRequest, "mns-open", "CreateTopic", func() (err error) { resp, err = c.mq.CreateTopic(req); return err }); err != nil {
		return err
	}
	return bodyFailure("CreateTopic", resp, resp.Success, resp.Status, resp.Message, resp.RequestId)
}

// SetTopicAttributes implements setup.Cloud.
func (c *Client) SetTopicAttributes(ctx context.Context, name string, maxMessageSize int) error {
	req := mnsopen.CreateSetTopicAttributesRequest()
	req.TopicName = name
	req.MaxMessageSize = requests.NewInteger(maxMessageSize)
	var resp *mnsopen.SetTopicAttributesResponse
	if err := c.send(ctx, req.RpcRequest, "mns-open", "SetTopicAttributes", func() (err error) { resp, err = c.mq.SetTopicAttributes(req); return err }); err != nil {
		return err
	}
	return bodyFailure("SetTopicAttributes", resp, resp.Success, resp.Status, resp.Message, resp.RequestId)
}

// ---- RAM ----

// GetRole implements setup.Cloud.
func (c *Client) GetRole(ctx context.Context, name string) (setup.Role, error) {
	req := ram.CreateGetRoleRequest()
	req.RoleName = name
	var resp *ram.GetRoleResponse
	if err := c.send(ctx, req.RpcRequest, "ram", "GetRole", func() (err error) { resp, err = c.ram.GetRole(req); return err }); err != nil {
		return setup.Role{}, err
	}
	r := resp.Role
	return setup.Role{Name: r.RoleName, Description: r.Description, Trust: r.AssumeRolePolicyDocument, Arn: r.Arn}, nil
}

// CreateRole implements setup.Cloud.
func (c *Client) CreateRole(ctx context.Context, name, trust, description string) error {
	req := ram.CreateCreateRoleRequest()
	req.RoleName, req.AssumeRolePolicyDocument, req.Description = name, trust, description
	return c.send(ctx, req.RpcRequest, "ram", "CreateRole", func() error { _, err := c.ram.CreateRole(req); return err })
}

// UpdateRoleTrust implements setup.Cloud.
func (c *Client) UpdateRoleTrust(ctx context.Context, name, trust string) error {
	req := ram.CreateUpdateRoleRequest()
	req.RoleName, req.NewAssumeRolePolicyDocument = name, trust
	return c.send(ctx, req.RpcRequest, "ram", "UpdateRole", func() error { _, err := c.ram.UpdateRole(req); return err })
}

// ListPoliciesForRole implements setup.Cloud.
func (c *Client) ListPoliciesForRole(ctx context.Context, role string) ([]setup.PolicyRef, error) {
	req := ram.CreateListPoliciesForRoleRequest()
	req.RoleName = role
	var resp *ram.ListPoliciesForRoleResponse
	if err := c.send(ctx, req.RpcRequest, "ram", "ListPoliciesForRole", func() (err error) { resp, err = c.ram.ListPoliciesForRole(req); return err }); err != nil {
		return nil, err
	}
	var out []setup.PolicyRef
	for _, p := range resp.Policies.Policy {
		out = append(out, setup.PolicyRef{Type: p.PolicyType, Name: p.PolicyName})
	}
	return out, nil
}

// AttachPolicyToRole implements setup.Cloud.
func (c *Client) AttachPolicyToRole(ctx context.Context, role string, p setup.PolicyRef) error {
	req := ram.CreateAttachPolicyToRoleRequest()
	req.RoleName, req.PolicyType, req.PolicyName = role, p.Type, p.Name
	return c.send(ctx, req.RpcRequest, "ram", "AttachPolicyToRole", func() error { _, err := c.ram.AttachPolicyToRole(req); return err })
}

// GetPolicy implements setup.Cloud.
func (c *Client) GetPolicy(ctx context.Context, p setup.PolicyRef) (setup.Policy, error) {
	req := ram.CreateGetPolicyRequest()
	req.PolicyType, req.PolicyName = p.Type, p.Name
	var resp *ram.GetPolicyResponse
	if err := c.send(ctx, req.RpcRequest, "ram", "GetPolicy", func() (err error) { resp, err = c.ram.GetPolicy(req); return err }); err != nil {
		return setup.Policy{}, err
	}
	return setup.Policy{PolicyRef: p, Description: resp.Policy.Description, DefaultVersion: resp.DefaultPolicyVersion.VersionId,
		Document: resp.DefaultPolicyVersion.PolicyDocument}, nil
}

// CreatePolicy implements setup.Cloud.
func (c *Client) CreatePolicy(ctx context.Context, name, document, description string) error {
	req := ram.CreateCreatePolicyRequest()
	req.PolicyName, req.PolicyDocument, req.Description = name, document, description
	return c.send(ctx, req.RpcRequest, "ram", "CreatePolicy", func() error { _, err := c.ram.CreatePolicy(req); return err })
}

// ListPolicyVersions implements setup.Cloud.
func (c *Client) ListPolicyVersions(ctx context.Context, name string) ([]setup.PolicyVersion, error) {
	req := ram.CreateListPolicyVersionsRequest()
	req.PolicyType, req.PolicyName = "Custom", name
	var resp *ram.ListPolicyVersionsResponse
	if err := c.send(ctx, req.RpcRequest, "ram", "ListPolicyVersions", func() (err error) { resp, err = c.ram.ListPolicyVersions(req); return err }); err != nil {
		return nil, err
	}
	var out []setup.PolicyVersion
	for _, v := range resp.PolicyVersions.PolicyVersion {
		out = append(out, setup.PolicyVersion{ID: v.VersionId, IsDefault: v.IsDefaultVersion, Document: v.PolicyDocument})
	}
	return out, nil
}

// CreatePolicyVersion implements setup.Cloud.
func (c *Client) CreatePolicyVersion(ctx context.Context, name, document string) error {
	req := ram.CreateCreatePolicyVersionRequest()
	req.PolicyName, req.PolicyDocument, req.SetAsDefault = name, document, requests.NewBoolean(true)
	return c.send(ctx, req.RpcRequest, "ram", "CreatePolicyVersion", func() error { _, err := c.ram.CreatePolicyVersion(req); return err })
}

// DeletePolicyVersion implements setup.Cloud.
func (c *Client) DeletePolicyVersion(ctx context.Context, name, version string) error {
	req := ram.CreateDeletePolicyVersionRequest()
	req.PolicyName, req.VersionId = name, version
	return c.send(ctx, req.RpcRequest, "ram", "DeletePolicyVersion", func() error { _, err := c.ram.DeletePolicyVersion(req); return err })
}

// ---- Resource Manager and Resource Sharing ----

// GetResourceDirectory implements setup.Cloud.
func (c *Client) GetResourceDirectory(ctx context.Context) (cloud.Directory, error) {
	req := resourcemanager.CreateGetResourceDirectoryRequest()
	var resp *resourcemanager.GetResourceDirectoryResponse
	if err := c.send(ctx, req.RpcRequest, "resourcemanager", "GetResourceDirectory", func() (err error) {
		resp, err = c.rm.GetResourceDirectory(req)
		return err
	}); err != nil {
		return cloud.Directory{}, err
	}
	d := resp.ResourceDirectory
	return cloud.Directory{ID: d.ResourceDirectoryId, RootID: d.RootFolderId, MasterAccountID: d.MasterAccountId}, nil
}

// SharingWithDirectoryEnabled implements setup.Cloud.
func (c *Client) SharingWithDirectoryEnabled(ctx context.Context) (bool, error) {
	req := resourcesharing.CreateCheckSharingWithResourceDirectoryStatusRequest()
	var resp *resourcesharing.CheckSharingWithResourceDirectoryStatusResponse
	if err := c.send(ctx, req.RpcRequest, "resourcesharing", "CheckSharingWithResourceDirectoryStatus", func() (err error) {
		resp, err = c.rs.CheckSharingWithResourceDirectoryStatus(req)
		return err
	}); err != nil {
		return false, err
	}
	return resp.EnableSharingWithRd, nil
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// EnableSharingWithDirectory implements setup.Cloud.
func (c *Client) EnableSharingWithDirectory(ctx context.Context) error {
	req := resourcesharing.CreateEnableSharingWithResourceDirectoryRequest()
	return c.send(ctx, req.RpcRequest, "resourcesharing", "EnableSharingWithResourceDirectory", func() error {
		_, err := c.rs.EnableSharingWithResourceDirectory(req)
		return err
	})
}

// ---- ActionTrail ----

// LookupEvents implements setup.Cloud.
func (c *Client) LookupEvents(ctx context.Context, in cloud.LookupEventsInput) (cloud.EventPage, error) {
	return c.trail.LookupEvents(ctx, in)
}
