// Package mns emulates Alibaba Cloud MNS (Simple Message Queue): queues and topics
// over the REST/XML protocol (API version 2015-06-06) exactly as aliyun-mns-go-sdk
// v1.0.11 speaks it, plus an in-process side the sandbox uses without signatures.
//
// One server serves every account and region: they come from the Host header, which
// the SDK sends as the real endpoint name <uid>.mns.<region>.aliyuncs.com. Every delay,
// visibility timeout and retention period runs on the emulated clock; only request
// signing (the Date header) is checked against the wall clock, as SDKs stamp requests
// with it.
package mns

import (
	"fmt"
	"slices"
	"sync"
	"time"

	"imageshare/pkg/cloudsim/emu"
	"imageshare/pkg/cloudsim/ram"
)

// Config configures the emulated MNS.
type Config struct {
	Clock  *emu.Clock
	Keys   *emu.Keyring
	Faults *emu.FaultPlan // nil: no faults
	// RAM holds the policies every call by a RAM user or an assumed role is evaluated
	// against (nil: an empty store); share the RPC cloud's.
	RAM *emu.RAMStore
	// FunctionRole is the RAM role of the functions; faults apply only to its calls.
	FunctionRole string
}

// QueueAttributes are a queue's settings in seconds and bytes. A zero field means the
// real default (0, 65536, 345600, 30, 0).
type QueueAttributes struct {
	DelaySeconds, MaximumMessageSize, MessageRetentionPeriod, VisibilityTimeout, PollingWaitSeconds int
}

// Message is a queue message as a receiver sees it.
type Message struct {
	ID, ReceiptHandle, Body                        string
	EnqueueTime, FirstDequeueTime, NextVisibleTime time.Time
	DequeueCount, Priority                         int
}

// Published is a message published to a topic.
type Published struct {
	Topic, Body, MessageID string
	Time                   time.Time
}

// MNSCall is one HTTP call as the emulated service saw it. Code is "" on success, the
// error code otherwise, "ConnectionAborted" when a kill fault cut the connection.
type MNSCall struct {
	Time                    time.Time
	Operation, Queue, Topic string
	Caller                  emu.Identity
	Code                    string
	Status                  int // HTTP status of an error answer
	// RAMAction is the RAM action the operation is checked against (from the ram
	// table); Denial describes RAM's denial when it denied the call.
	RAMAction, Denial string
}

// MNS is the emulated service. It is safe for concurrent use.
type MNS struct {
	cfg Config

	mu       sync.Mutex
	queues   map[string]*queue // by key(account, region, name)
	topics   map[string]*topic
	calls    []MNSCall
	unlisted []string
	seq      uint64 // message sequence, for IDs and handles

	hookMu sync.RWMutex
	onKill []func(emu.Identity)
}

// New returns an empty MNS.
func New(cfg Config) *MNS {
	if cfg.Clock == nil {
		cfg.Clock = emu.NewClock(emu.Epoch)
	}
	if cfg.Keys == nil {
		cfg.Keys = emu.NewKeyring()
	}
	if cfg.RAM == nil {
		cfg.RAM = ram.NewStore()
	}
	return &MNS{cfg: cfg, queues: map[string]*queue{}, topics: map[string]*topic{}}
}

// OnKill registers f, called (outside locks) when a kill fault hits a call, before the
// connection is aborted.
func (m *MNS) OnKill(f func(caller emu.Identity)) {
	m.hookMu.Lock()
	defer m.hookMu.Unlock()
	m.onKill = append(m.onKill, f)
}

// Calls returns every HTTP call recorded so far, in order.
func (m *MNS) Calls() []MNSCall {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.calls)
}

// Unlisted returns the answers MNS gave that the error catalogue (emu.Catalogue) does
// not list for the operation, one line each.
func (m *MNS) Unlisted() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.unlisted)
}

// recordLocked appends a call and notes an answer the catalogue does not list.
func (m *MNS) recordLocked(c MNSCall) {
	m.calls = append(m.calls, c)
	if c.Code != "" && !emu.Listed("mns", c.Operation, c.Code, c.Status) {
		m.unlisted = append(m.unlisted, fmt.Sprintf("mns:%s answered %s (HTTP %d), which the error catalogue does not list", c.Operation, c.Code, c.Status))
	}
}

func key(account, region, name string) string { return account + "/" + region + "/" + name }

// EnsureQueue creates the queue if it does not exist. An existing queue with other
// attributes is an error (QueueAlreadyExist), as CreateQueue answers.
func (m *MNS) EnsureQueue(account, region, name string, attrs QueueAttributes) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, err := m.createQueueLocked(account, region, name, attrs, m.cfg.Clock.Now()); err != nil {
		return fmt.Errorf("ensure queue %s in %s/%s: %w", name, account, region, err)
	}
	return nil
}

// Send enqueues body; delay 0 means the queue's DelaySeconds. The priority is the
// default 8.
func (m *MNS) Send(account, region, queueName, body string, delay time.Duration) (string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.cfg.Clock.Now()
	q, aerr := m.queueLocked(account, region, queueName, now)
	if aerr == nil {
		var msg *message
		if msg, aerr = m.sendLocked(q, body, delay, defaultPriority, now); aerr == nil {
			return msg.id, nil
		}
	}
	return "", fmt.Errorf("send to queue %s: %w", queueName, aerr)
}

// Receive takes up to n visible messages (1..16), making them invisible for the
// queue's VisibilityTimeout. No visible message is an empty result, not an error.
func (m *MNS) Receive(account, region, queueName string, n int) ([]Message, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.cfg.Clock.Now()
	q, aerr := m.queueLocked(account, region, queueName, now)
	if aerr != nil {
		return nil, fmt.Errorf("receive from queue %s: %w", queueName, aerr)
	}
	if err := limNumOfMessages.check(n); err != nil {
		return nil, fmt.Errorf("receive from queue %s: %w", queueName, err)
	}
	var out []Message
	for _, msg := range m.receiveLocked(q, n, now) {
		out = append(out, msg.view(true))
	}
	return out, nil
}

// Delete removes the message whose current receipt handle is receiptHandle.
func (m *MNS) Delete(account, region, queueName, receiptHandle string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.cfg.Clock.Now()
	q, aerr := m.queueLocked(account, region, queueName, now)
	if aerr == nil {
		aerr = q.deleteMessage(receiptHandle, now)
	}
	if aerr != nil {
		return fmt.Errorf("delete message from queue %s: %w", queueName, aerr)
	}
	return nil
}

// ChangeVisibility makes the message invisible for d from now (whole seconds,
// 1..43200) and returns its new receipt handle; the old one stops working.
func (m *MNS) ChangeVisibility(account, region, queueName, receiptHandle string, d time.Duration) (string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.cfg.Clock.Now()
	q, aerr := m.queueLocked(account, region, queueName, now)
	if aerr == nil {
		var msg *message
		if msg, aerr = m.changeVisibilityLocked(q, receiptHandle, d, now); aerr == nil {
			return msg.handle, nil
		}
	}
	return "", fmt.Errorf("change message visibility in queue %s: %w", queueName, aerr)
}

// NextVisible returns the earliest time a message of the queue is visible: now when one
// is visible, else when the first delayed or in-flight one becomes visible. false: the
// queue is empty or does not exist.
func (m *MNS) NextVisible(account, region, queueName string) (time.Time, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.cfg.Clock.Now()
	q, aerr := m.queueLocked(account, region, queueName, now)
	if aerr != nil || len(q.msgs) == 0 {
		return time.Time{}, false
	}
	var first time.Time
	for _, msg := range q.msgs {
		t := msg.visibleAt
		if t.Before(now) {
			t = now
		}
		if first.IsZero() || t.Before(first) {
			first = t
		}
	}
	return first, true
}

// Depth counts the queue's messages: visible now, delayed (never delivered, not yet
// visible) and in flight (delivered, invisible until their visibility timeout ends).
func (m *MNS) Depth(account, region, queueName string) (visible, delayed, inflight int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.cfg.Clock.Now()
	q, aerr := m.queueLocked(account, region, queueName, now)
	if aerr != nil {
		return 0, 0, 0
	}
	return q.depth(now)
}

// EnsureTopic creates the topic (default attributes) if it does not exist.
func (m *MNS) EnsureTopic(account, region, name string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, err := m.createTopicLocked(account, region, name, 0, m.cfg.Clock.Now()); err != nil {
		return fmt.Errorf("ensure topic %s in %s/%s: %w", name, account, region, err)
	}
	return nil
}

// Published returns the messages published to the topic, oldest first (nil if the
// topic does not exist).
func (m *MNS) Published(account, region, topicName string) []Published {
	m.mu.Lock()
	defer m.mu.Unlock()
	t := m.topics[key(account, region, topicName)]
	if t == nil {
		return nil
	}
	return slices.Clone(t.published)
}

// Operations lists every operation the emulator serves; each is checked against its
// row of the RAM table (package cloudsim/ram).
var Operations = []string{"ListQueue", "CreateQueue", "SetQueueAttributes", "GetQueueAttributes", "DeleteQueue",
	"SendMessage", "BatchSendMessage", "ReceiveMessage", "BatchReceiveMessage", "PeekMessage", "BatchPeekMessage",
	"DeleteMessage", "BatchDeleteMessage", "ChangeMessageVisibility",
	"ListTopic", "CreateTopic", "SetTopicAttributes", "GetTopicAttributes", "DeleteTopic", "PublishMessage"}
