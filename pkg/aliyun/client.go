// Package aliyun implements cloud.API with the real Alibaba Cloud SDK
// (github.com/aliyun/alibaba-cloud-sdk-go): ECS, ResourceManager, ResourceSharing and
// ActionTrail over RPC with signed requests. It is the only package that compiles the SDK's service
// packages, which are heavy; everything else talks to cloud.API.
package aliyun

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"sync/atomic"
	"time"

	"github.com/aliyun/alibaba-cloud-sdk-go/sdk"
	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/auth"
	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/auth/credentials"
	sdkerrors "github.com/aliyun/alibaba-cloud-sdk-go/sdk/errors"
	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/requests"
	"github.com/aliyun/alibaba-cloud-sdk-go/services/actiontrail"
	"github.com/aliyun/alibaba-cloud-sdk-go/services/ecs"
	"github.com/aliyun/alibaba-cloud-sdk-go/services/resourcemanager"
	"github.com/aliyun/alibaba-cloud-sdk-go/services/resourcesharing"

	"imageshare/pkg/cloud"
)

// Config configures a Client.
type Config struct {
	// Region is the home region (used where a call names none).
	Region      string
	Credentials cloud.Credentials
	// Endpoints overrides per service ("ecs", "resourcemanager", "resourcesharing",
	// "actiontrail"):
	// scheme://host[:port], validated by package settings.
	Endpoints map[string]string
	// Timeout bounds each request (default 10s).
	Timeout time.Duration
	// Pacer paces each action per endpoint (nil: the process's shared DefaultPacer).
	Pacer *cloud.Pacer
}

// DefaultPacer is shared by every Client of the process, so that the clients of
// successive invocations (each with its own credentials) and their goroutines keep
// what they learnt about the cloud's flow control.
var DefaultPacer = cloud.NewPacer()

// Client is a cloud.API over the SDK.
type Client struct {
	cfg   Config
	ecs   *ecs.Client
	rm    *resourcemanager.Client
	rs    *resourcesharing.Client
	at    *actiontrail.Client
	calls atomic.Int64
}

var _ cloud.API = (*Client)(nil)

// Credential is the SDK's credential for c: an STS token when it has one.
func Credential(c cloud.Credentials) auth.Credential {
	if c.SecurityToken != "" {
		return credentials.NewStsTokenCredential(c.AccessKeyID, c.AccessKeySecret, c.SecurityToken)
	}
	return credentials.NewAccessKeyCredential(c.AccessKeyID, c.AccessKeySecret)
}

// SDKConfig is the SDK client configuration every client of the project uses: HTTPS,
// the timeout, and no retries by the SDK (our own policy, R9, decides).
func SDKConfig(timeout time.Duration) *sdk.Config {
	c := sdk.NewConfig().WithAutoRetry(false).WithTimeout(timeout)
	c.Scheme = "https"
	return c
}

// New builds the SDK clients.
func New(cfg Config) (*Client, error) {
	if cfg.Credentials.AccessKeyID == "" || cfg.Credentials.AccessKeySecret == "" {
		return nil, errors.New("aliyun: no credentials")
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = 10 * time.Second
	}
	cred := Credential(cfg.Credentials)
	conf := func() *sdk.Config { return SDKConfig(cfg.Timeout) }
	if cfg.Pacer == nil {
		cfg.Pacer = DefaultPacer
	}
	c := &Client{cfg: cfg}
	var err error
	if c.ecs, err = ecs.NewClientWithOptions(cfg.Region, conf(), cred); err != nil {
		return nil, fmt.Errorf("ecs client: %w", err)
	}
	if c.rm, err = resourcemanager.NewClientWithOptions(cfg.Region, conf(), cred); err != nil {
		return nil, fmt.Errorf("resourcemanager client: %w", err)
	}
	if c.rs, err = resourcesharing.NewClientWithOptions(cfg.Region, conf(), cred); err != nil {
		return nil, fmt.Errorf("resourcesharing client: %w", err)
	}
	if c.at, err = actiontrail.NewClientWithOptions(cfg.Region, conf(), cred); err != nil {
		return nil, fmt.Errorf("actiontrail client: %w", err)
	}
	return c, nil
}

// Calls counts the requests sent.
func (c *Client) Calls() int64 { return c.calls.Load() }

// route points a request at the service's endpoint: the override when set, else the
// public endpoint (regional for ECS, Resource Sharing and ActionTrail, central for the
// directory).
func (c *Client) route(r *requests.RpcRequest, service, region string) {
	if region == "" {
		region = c.cfg.Region
	}
	if ep, ok := c.cfg.Endpoints[service]; ok {
		u, _ := url.Parse(ep) // validated by settings
		r.Domain = u.Host
		r.Scheme = u.Scheme
		return
	}
	r.Scheme = "https"
	switch service {
	case "ecs":
		r.Domain = "ecs." + region + ".aliyuncs.com"
	case "resourcemanager":
		r.Domain = "resourcemanager.aliyuncs.com"
	case "resourcesharing":
		r.Domain = "resourcesharing." + region + ".aliyuncs.com"
	case "actiontrail":
		// The API's endpoint list: actiontrail.<region>.aliyuncs.com for the public
		// regions (dew-serverless/acs-sdk-php data/actiontrail/2020-07-06/api-docs.json).
		r.Domain = "actiontrail." + region + ".aliyuncs.com"
	}
}

// send routes r, waits for the pacer of its endpoint and action, runs call (the SDK
// request) and tells the pacer how it ended; SDK errors become *cloud.Error.
func (c *Client) send(ctx context.Context, r *requests.RpcRequest, service, region, action string, call func() error) error {
	if err := ctxErr(ctx); err != nil {
		return err
	}
	c.route(r, service, region)
	t, err := c.cfg.Pacer.Wait(ctx, r.Domain+" "+action)
	if err != nil {
		return fmt.Errorf("%s: waiting for the rate limit: %w", action, err)
	}
	c.calls.Add(1)
	err = wrap(action, call())
	c.cfg.Pacer.Done(t, err)
	return err
}

// wrap turns an SDK error into a *cloud.Error (answers) or keeps it (transport errors).
func wrap(action string, err error) error {
	if err == nil {
		return nil
	}
	var se *sdkerrors.ServerError
	if errors.As(err, &se) {
		return &cloud.Error{Code: se.ErrorCode(), Message: se.Message(), RequestID: se.RequestId(), HTTPStatus: se.HttpStatus(), Action: action}
	}
	// Transport errors quote the request URL, whose query string carries the access
	// key ID, the STS token and the signature: never let them reach a log line.
	return &transportError{action: action, msg: redact(err.Error()), err: err}
}

// transportError is a failure to reach the service, with credentials removed from its text.
type transportError struct {
	action, msg string
	err         error
}

func (e *transportError) Error() string { return e.action + ": " + e.msg }

// Unwrap keeps errors.Is working (context cancellation) without exposing the text.
func (e *transportError) Unwrap() error { return e.err }

var queryRE = regexp.MustCompile(`\?[^\s"']*`)

// redact removes query strings (and with them any credential) from a message.
func redact(s string) string { return queryRE.ReplaceAllString(s, "?<redacted>") }

// parseTime reads the time formats the services use.
func parseTime(s string) time.Time {
	for _, layout := range []string{time.RFC3339Nano, time.RFC3339, "2006-01-02T15:04Z", "2006-01-02T15:04:05Z0700", "2006-01-02 15:04:05"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC()
		}
	}
	return time.Time{}
}

func ctxErr(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("before calling the cloud: %w", err)
	}
	return nil
}

func orEmpty(s []string) *[]string { return &s }

func join(xs []string) string { return strings.Join(xs, ",") }
