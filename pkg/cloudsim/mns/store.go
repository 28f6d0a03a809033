package mns

import (
	"cmp"
	"crypto/md5"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"imageshare/pkg/cloudsim/emu"
)

// Constants of the emulation (the documented ranges are in limits.go).
const (
	defaultMaxMessageSize  = 65536
	topicDefaultRetention  = 86400
	handlePrefix           = "1-"
	handleRandomBytes      = 8
	messageIDRandomHexSize = 16
)

var nameRE = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9-]*$`)

type queue struct {
	account, region, name string
	attrs                 QueueAttributes // normalized: no zero defaults left
	created, modified     time.Time
	msgs                  []*message
	byHandle              map[string]*message // current and stale handles of live messages
	tags                  map[string]string   // set by the management API's CreateQueue
}

type message struct {
	id           string
	seq          uint64
	body         string
	priority     int
	enqueued     time.Time
	expires      time.Time // end of retention
	firstDequeue time.Time
	dequeueCount int
	visibleAt    time.Time // visible from then on; before: delayed or in flight
	handle       string    // handle of the latest receive; valid while visibleAt > now
	handles      []string  // every handle issued, to forget them with the message
}

type topic struct {
	account, region, name string
	maxMessageSize        int
	created, modified     time.Time
	published             []Published
	tags                  map[string]string
}

func invalidValue(name string, low, high int, unit string) *emu.APIError {
	return emu.Errorf(400, "InvalidArgument", "The value of %s should between %d and %d %s.", name, low, high, unit)
}

func queueNotExist() *emu.APIError {
	return emu.Errorf(404, "QueueNotExist", "The queue name you provided is not exist.")
}

func messageNotExist() *emu.APIError {
	return emu.Errorf(404, "MessageNotExist", "Message not exist.")
}

func checkName(kind, name string) *emu.APIError {
	switch {
	case kind == "queue" && limQueueName.check(len(name)) != nil:
		return emu.Errorf(400, "QueueNameLengthError", "The length of queue name should be between %d and %d.", limQueueName.Low, limQueueName.High)
	case kind == "topic" && limTopicName.check(len(name)) != nil:
		return emu.Errorf(400, "TopicNameLengthError", "The length of topic name should be between %d and %d.", limTopicName.Low, limTopicName.High)
	case kind == "queue" && !nameRE.MatchString(name):
		return emu.Errorf(400, "InvalidQueueName", "The queue name you provided is not valid.")
	case kind == "topic" && !nameRE.MatchString(name):
		return emu.Errorf(400, "TopicNameInvalid", "The topic name you provided is not valid.")
	}
	return nil
}

// normalize fills defaults and checks ranges.
func (a QueueAttributes) normalize() (QueueAttributes, *emu.APIError) {
	if a.MaximumMessageSize == 0 {
		a.MaximumMessageSize = defaultMaxMessageSize
	}
	if a.MessageRetentionPeriod == 0 {
		a.MessageRetentionPeriod = defaultRetention
	}
	if a.VisibilityTimeout == 0 {
		a.VisibilityTimeout = defaultVisibility
	}
	for _, c := range []struct {
		l Limit
		v int
	}{{limDelaySeconds, a.DelaySeconds}, {limMaximumMessageSize, a.MaximumMessageSize}, {limRetention, a.MessageRetentionPeriod},
		{limVisibilityTimeout, a.VisibilityTimeout}, {limPollingWaitSeconds, a.PollingWaitSeconds}} {
		if err := c.l.check(c.v); err != nil {
			return a, err
		}
	}
	return a, nil
}

// createQueueLocked creates a queue; created is false when an identical one exists.
func (m *MNS) createQueueLocked(account, region, name string, attrs QueueAttributes, now time.Time) (created bool, err *emu.APIError) {
	if err := checkName("queue", name); err != nil {
		return false, err
	}
	attrs, err = attrs.normalize()
	if err != nil {
		return false, err
	}
	k := key(account, region, name)
	if q := m.queues[k]; q != nil {
		if q.attrs == attrs {
			return false, nil
		}
		return false, emu.Errorf(409, "QueueAlreadyExist", "The queue you want to create already exists.")
	}
	m.queues[k] = &queue{account: account, region: region, name: name, attrs: attrs, created: now, modified: now,
		byHandle: map[string]*message{}}
	return true, nil
}

// queueLocked finds a queue and drops its messages past retention.
func (m *MNS) queueLocked(account, region, name string, now time.Time) (*queue, *emu.APIError) {
	q := m.queues[key(account, region, name)]
	if q == nil {
		return nil, queueNotExist()
	}
	q.purge(now)
	return q, nil
}

func (q *queue) purge(now time.Time) {
	q.msgs = slices.DeleteFunc(q.msgs, func(msg *message) bool {
		if now.Before(msg.expires) {
			return false
		}
		q.forget(msg)
		return true
	})
}

// forget drops every handle of msg.
func (q *queue) forget(msg *message) {
	for _, h := range msg.handles {
		delete(q.byHandle, h)
	}
}

func bodyMD5(body string) string {
	sum := md5.Sum([]byte(body))
	return strings.ToUpper(hex.EncodeToString(sum[:]))
}

// checkMessage validates one message to send to q. delay 0 means the queue's delay.
func (q *queue) checkMessage(body string, delay time.Duration, priority int) *emu.APIError {
	switch {
	case len(body) == 0 || len(body) > q.attrs.MaximumMessageSize:
		return invalidValue("MessageBody length", 1, q.attrs.MaximumMessageSize, "bytes")
	case delay < 0 || delay > limDelaySeconds.seconds():
		return limDelaySeconds.bad()
	case limPriority.check(priority) != nil:
		return limPriority.bad()
	}
	return nil
}

func (m *MNS) sendLocked(q *queue, body string, delay time.Duration, priority int, now time.Time) (*message, *emu.APIError) {
	if err := q.checkMessage(body, delay, priority); err != nil {
		return nil, err
	}
	if delay == 0 {
		delay = time.Duration(q.attrs.DelaySeconds) * time.Second
	}
	m.seq++
	msg := &message{
		id:        fmt.Sprintf("%s-1-%X-%X", strings.ToUpper(emu.RandomHex(messageIDRandomHexSize)), now.UnixMilli(), m.seq),
		seq:       m.seq,
		body:      body,
		priority:  priority,
		enqueued:  now,
		expires:   now.Add(time.Duration(q.attrs.MessageRetentionPeriod) * time.Second),
		visibleAt: now.Add(delay),
	}
	q.msgs = append(q.msgs, msg)
	return msg, nil
}

// visible returns the messages visible at now in delivery order: priority (1 first),
// then the time they became visible, then send order.
func (q *queue) visible(now time.Time) []*message {
	var out []*message
	for _, msg := range q.msgs {
		if !msg.visibleAt.After(now) {
			out = append(out, msg)
		}
	}
	slices.SortStableFunc(out, func(a, b *message) int {
		if a.priority != b.priority {
			return a.priority - b.priority
		}
		if c := a.visibleAt.Compare(b.visibleAt); c != 0 {
			return c
		}
		return cmp.Compare(a.seq, b.seq)
	})
	return out
}

// receiveLocked delivers up to n visible messages, each with a fresh receipt handle.
func (m *MNS) receiveLocked(q *queue, n int, now time.Time) []*message {
	vis := q.visible(now)
	if len(vis) > n {
		vis = vis[:n]
	}
	for _, msg := range vis {
		msg.dequeueCount++
		if msg.firstDequeue.IsZero() {
			msg.firstDequeue = now
		}
		msg.visibleAt = now.Add(time.Duration(q.attrs.VisibilityTimeout) * time.Second)
		q.rehandle(msg)
	}
	return vis
}

// rehandle gives msg a new receipt handle; the old ones stay known (so that using them
// answers MessageNotExist rather than ReceiptHandleError) but no longer match.
//
// A handle has the real service's shape, "1-" + base64 of "<digits>-<digits>" (the
// documented example 1-ODU4OTkzNDU5My0xNDMyNzI3ODI3LTItOA== decodes to
// 8589934593-1432727827-2-8): base64 of digits and dashes holds no '+' or '/', so
// clients that put the handle in a query string unescaped (the Node SDK does) work.
func (q *queue) rehandle(msg *message) {
	var r [8]byte
	copy(r[:], mustHex(emu.RandomHex(2*handleRandomBytes)))
	msg.handle = handlePrefix + base64.StdEncoding.EncodeToString(fmt.Appendf(nil, "%d-%d", msg.seq, binary.BigEndian.Uint64(r[:])))
	msg.handles = append(msg.handles, msg.handle)
	q.byHandle[msg.handle] = msg
}

func mustHex(s string) []byte {
	b, err := hex.DecodeString(s)
	if err != nil {
		panic(fmt.Sprintf("mns: random hex %q: %v", s, err))
	}
	return b
}

var handleBody = regexp.MustCompile(`^[0-9]+-[0-9]+$`)

// wellFormedHandle reports whether h has the shape of a handle this service issues.
func wellFormedHandle(h string) bool {
	rest, ok := strings.CutPrefix(h, handlePrefix)
	if !ok {
		return false
	}
	b, err := base64.StdEncoding.DecodeString(rest)
	return err == nil && handleBody.Match(b)
}

// inflight finds the message whose current, unexpired receipt handle is h.
func (q *queue) inflight(h string, now time.Time) (*message, *emu.APIError) {
	if h == "" {
		return nil, emu.Errorf(400, "MissingReceiptHandle", "ReceiptHandle is required.")
	}
	if !wellFormedHandle(h) {
		return nil, emu.Errorf(400, "ReceiptHandleError", "The receipt handle you provided is not valid.")
	}
	msg := q.byHandle[h]
	if msg == nil || msg.handle != h || !msg.visibleAt.After(now) {
		// Deleted, superseded by a later receive or visibility change, or past its
		// NextVisibleTime: the real service answers MessageNotExist.
		return nil, messageNotExist()
	}
	return msg, nil
}

func (q *queue) deleteMessage(h string, now time.Time) *emu.APIError {
	msg, err := q.inflight(h, now)
	if err != nil {
		return err
	}
	q.forget(msg)
	q.msgs = slices.DeleteFunc(q.msgs, func(x *message) bool { return x == msg })
	return nil
}

func (m *MNS) changeVisibilityLocked(q *queue, h string, d time.Duration, now time.Time) (*message, *emu.APIError) {
	if d < time.Second || d > limVisibilityTimeout.seconds() || d%time.Second != 0 {
		return nil, limVisibilityTimeout.bad()
	}
	msg, err := q.inflight(h, now)
	if err != nil {
		return nil, err
	}
	msg.visibleAt = now.Add(d)
	q.rehandle(msg)
	return msg, nil
}

func (q *queue) depth(now time.Time) (visible, delayed, inflight int) {
	for _, msg := range q.msgs {
		switch {
		case !msg.visibleAt.After(now):
			visible++
		case msg.dequeueCount == 0:
			delayed++
		default:
			inflight++
		}
	}
	return visible, delayed, inflight
}

// view is the message as a receive (handle, NextVisibleTime) or a peek shows it.
func (msg *message) view(received bool) Message {
	v := Message{ID: msg.id, Body: msg.body, EnqueueTime: msg.enqueued, FirstDequeueTime: msg.firstDequeue,
		DequeueCount: msg.dequeueCount, Priority: msg.priority}
	if received {
		v.ReceiptHandle = msg.handle
		v.NextVisibleTime = msg.visibleAt
	}
	return v
}

// createTopicLocked creates a topic; created is false when an identical one exists.
// maxSize 0 means the default 65536.
func (m *MNS) createTopicLocked(account, region, name string, maxSize int, now time.Time) (created bool, err *emu.APIError) {
	if err := checkName("topic", name); err != nil {
		return false, err
	}
	if maxSize == 0 {
		maxSize = defaultMaxMessageSize
	}
	if err := limMaximumMessageSize.check(maxSize); err != nil {
		return false, err
	}
	k := key(account, region, name)
	if t := m.topics[k]; t != nil {
		if t.maxMessageSize == maxSize {
			return false, nil
		}
		return false, emu.Errorf(409, "TopicAlreadyExist", "The topic you want to create already exists.")
	}
	m.topics[k] = &topic{account: account, region: region, name: name, maxMessageSize: maxSize, created: now, modified: now}
	return true, nil
}

func (m *MNS) publishLocked(t *topic, body string, now time.Time) (Published, *emu.APIError) {
	if len(body) == 0 || len(body) > t.maxMessageSize {
		return Published{}, invalidValue("MessageBody length", 1, t.maxMessageSize, "bytes")
	}
	m.seq++
	p := Published{
		Topic:     t.name,
		Body:      body,
		MessageID: fmt.Sprintf("%s-1-%X-%X", strings.ToUpper(emu.RandomHex(messageIDRandomHexSize)), now.UnixMilli(), m.seq),
		Time:      now,
	}
	t.published = append(t.published, p)
	return p, nil
}
