// Package queue sends reconcile jobs to the MNS job queue and notifications to the MNS
// topic, with the MNS SDK (github.com/aliyun/aliyun-mns-go-sdk).
package queue

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	mns "github.com/aliyun/aliyun-mns-go-sdk"
	"github.com/valyala/fasthttp"

	"imageshare/pkg/cloud"
)

// MNS limits (BatchSendMessage API reference, https://www.alibabacloud.com/help/en/mns/developer-reference/batchsendmessage).
const (
	MaxBatch      = 16       // messages per BatchSendMessage
	MaxBatchBytes = 64 << 10 // bytes per BatchSendMessage
	MaxDelay      = 7 * 24 * time.Hour
	// priority is always set: v1.0.11 sends the field even when zero.
	priority = 8
)

// Config says where MNS is.
type Config struct {
	AccountID, Region string
	Credentials       cloud.Credentials
	// Endpoint overrides the MNS endpoint (validated by package settings): a loopback
	// URL reaches an emulator while the SDK still sees the real-shaped endpoint it
	// requires; an *.aliyuncs.com URL (e.g. the -internal one) is used as it is.
	Endpoint string
}

// Client sends messages.
type Client struct {
	client mns.MNSClient
}

// Endpoint returns the public MNS endpoint of an account and region.
func Endpoint(accountID, region string) string {
	return "https://" + accountID + ".mns." + region + ".aliyuncs.com"
}

// New makes a client. The SDK panics on endpoints that are not shaped
// <scheme>://<uid>.mns.<region>.aliyuncs.com, so the shape is checked first.
func New(cfg Config) (*Client, error) {
	if cfg.AccountID == "" || cfg.Region == "" {
		return nil, errors.New("queue: account and region are required")
	}
	if cfg.Credentials.AccessKeyID == "" {
		return nil, errors.New("queue: no credentials")
	}
	endpoint := Endpoint(cfg.AccountID, cfg.Region)
	var dial string
	if cfg.Endpoint != "" {
		u, err := url.Parse(cfg.Endpoint)
		if err != nil {
			return nil, fmt.Errorf("queue: endpoint %q: %w", cfg.Endpoint, err)
		}
		if strings.HasSuffix(u.Hostname(), ".aliyuncs.com") {
			endpoint = strings.TrimRight(cfg.Endpoint, "/")
		} else {
			// Loopback: keep the real-shaped name, reach the emulator through a transport
			// (v1.0.11 stores SetProxy but never uses it).
			endpoint = "http://" + cfg.AccountID + ".mns." + cfg.Region + ".aliyuncs.com"
			dial = u.Host
		}
	}
	if n := len(strings.Split(endpoint, ".")); n != 5 {
		return nil, fmt.Errorf("queue: endpoint %q is not shaped <scheme>://<uid>.mns.<region>.aliyuncs.com", endpoint)
	}
	c := mns.NewAliMNSClientWithConfig(mns.AliMNSClientConfig{
		EndPoint: endpoint, AccessKeyId: cfg.Credentials.AccessKeyID, AccessKeySecret: cfg.Credentials.AccessKeySecret,
		Token: cfg.Credentials.SecurityToken, TimeoutSecond: 10,
	})
	if dial != "" {
		c.SetTransport(&loopback{hc: &fasthttp.HostClient{Addr: dial, ReadTimeout: 10 * time.Second, WriteTimeout: 10 * time.Second}})
	}
	return &Client{client: c}, nil
}

// loopback sends every request to one address, whatever host the URL names.
type loopback struct{ hc *fasthttp.HostClient }

func (l *loopback) RoundTrip(_ *fasthttp.HostClient, req *fasthttp.Request, resp *fasthttp.Response) (bool, error) {
	return false, l.hc.Do(req, resp)
}

// Send enqueues bodies on queue, delayed by delay, in as few batches as the limits
// allow. Messages a batch reports as failed are sent again once; a remaining failure is
// an error (the caller's invocation fails and EventBridge retries it).
func (c *Client) Send(ctx context.Context, queue string, bodies []string, delay time.Duration) error {
	if delay < 0 {
		delay = 0
	}
	if delay > MaxDelay {
		delay = MaxDelay
	}
	q := mns.NewMNSQueue(queue, c.client)
	var batch []mns.MessageSendRequest
	size := 0
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		err := c.sendBatch(ctx, q, batch)
		batch, size = nil, 0
		return err
	}
	for _, b := range bodies {
		if len(b) > MaxBatchBytes {
			return fmt.Errorf("queue %s: message of %d bytes exceeds %d", queue, len(b), MaxBatchBytes)
		}
		if len(batch) == MaxBatch || size+len(b) > MaxBatchBytes {
			if err := flush(); err != nil {
				return err
			}
		}
		batch = append(batch, mns.MessageSendRequest{MessageBody: b, DelaySeconds: int64(delay / time.Second), Priority: priority})
		size += len(b)
	}
	return flush()
}

func (c *Client) sendBatch(ctx context.Context, q mns.AliMNSQueue, batch []mns.MessageSendRequest) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	resp, err := q.BatchSendMessage(batch...)
	if err == nil {
		return nil
	}
	if mns.ERR_MNS_QUEUE_NOT_EXIST.IsEqual(err) {
		// Not retried: a queue that does not exist (a region without a deployment, for a
		// copy's job) does not appear by trying again.
		return &cloud.Error{Code: "QueueNotExist", HTTPStatus: 404, Action: "BatchSendMessage", Message: "queue " + q.Name() + " does not exist"}
	}
	if len(resp.Messages) != len(batch) {
		return fmt.Errorf("send to queue %s: %w", q.Name(), err)
	}
	// Partial failure: resend the failed ones once.
	var again []mns.MessageSendRequest
	for i, m := range resp.Messages {
		if m.ErrorCode != "" {
			again = append(again, batch[i])
		}
	}
	if len(again) == 0 {
		return nil
	}
	if _, err := q.BatchSendMessage(again...); err != nil {
		return fmt.Errorf("send to queue %s (%d of %d messages failed twice): %w", q.Name(), len(again), len(batch), err)
	}
	return nil
}

// Publish sends one message to a topic.
func (c *Client) Publish(ctx context.Context, topic, body string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	t := mns.NewMNSTopic(topic, c.client)
	if _, err := t.PublishMessage(mns.MessagePublishRequest{MessageBody: body}); err != nil {
		return fmt.Errorf("publish to topic %s: %w", topic, err)
	}
	return nil
}
