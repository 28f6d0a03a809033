package mns

import (
	"encoding/xml"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"imageshare/pkg/cloudsim/emu"
)

// Request documents. Pointers tell an absent element from a zero one.

type xmlQueueRequest struct {
	XMLName                xml.Name `xml:"Queue"`
	DelaySeconds           *int     `xml:"DelaySeconds"`
	MaximumMessageSize     *int     `xml:"MaximumMessageSize"`
	MessageRetentionPeriod *int     `xml:"MessageRetentionPeriod"`
	VisibilityTimeout      *int     `xml:"VisibilityTimeout"`
	PollingWaitSeconds     *int     `xml:"PollingWaitSeconds"`
}

type xmlTopicRequest struct {
	XMLName            xml.Name `xml:"Topic"`
	MaximumMessageSize *int     `xml:"MaximumMessageSize"`
}

type xmlSendRequest struct {
	XMLName      xml.Name `xml:"Message"`
	MessageBody  string   `xml:"MessageBody"`
	DelaySeconds *int     `xml:"DelaySeconds"`
	Priority     *int     `xml:"Priority"`
}

type xmlBatchSendRequest struct {
	XMLName  xml.Name         `xml:"Messages"`
	Messages []xmlSendRequest `xml:"Message"`
}

type xmlReceiptHandles struct {
	XMLName        xml.Name `xml:"ReceiptHandles"`
	ReceiptHandles []string `xml:"ReceiptHandle"`
}

// Response documents. Xmlns is set on the document element only.

type xmlMessage struct {
	XMLName          xml.Name `xml:"Message"`
	Xmlns            string   `xml:"xmlns,attr,omitempty"`
	ErrorCode        string   `xml:"ErrorCode,omitempty"`
	ErrorMessage     string   `xml:"ErrorMessage,omitempty"`
	MessageID        string   `xml:"MessageId,omitempty"`
	ReceiptHandle    string   `xml:"ReceiptHandle,omitempty"`
	MessageBodyMD5   string   `xml:"MessageBodyMD5,omitempty"`
	MessageBody      *string  `xml:"MessageBody"`
	EnqueueTime      int64    `xml:"EnqueueTime,omitempty"`
	NextVisibleTime  int64    `xml:"NextVisibleTime,omitempty"`
	FirstDequeueTime int64    `xml:"FirstDequeueTime,omitempty"`
	DequeueCount     int      `xml:"DequeueCount,omitempty"`
	Priority         int      `xml:"Priority,omitempty"`
}

type xmlMessages struct {
	XMLName  xml.Name     `xml:"Messages"`
	Xmlns    string       `xml:"xmlns,attr"`
	Messages []xmlMessage `xml:"Message"`
}

type xmlDeleteError struct {
	XMLName       xml.Name `xml:"Error"`
	ErrorCode     string   `xml:"ErrorCode"`
	ErrorMessage  string   `xml:"ErrorMessage"`
	ReceiptHandle string   `xml:"ReceiptHandle"`
}

type xmlDeleteErrors struct {
	XMLName xml.Name         `xml:"Errors"`
	Xmlns   string           `xml:"xmlns,attr"`
	Errors  []xmlDeleteError `xml:"Error"`
}

type xmlChangeVisibility struct {
	XMLName         xml.Name `xml:"ChangeVisibility"`
	Xmlns           string   `xml:"xmlns,attr"`
	ReceiptHandle   string   `xml:"ReceiptHandle"`
	NextVisibleTime int64    `xml:"NextVisibleTime"`
}

type xmlQueue struct {
	XMLName                xml.Name `xml:"Queue"`
	Xmlns                  string   `xml:"xmlns,attr,omitempty"`
	QueueURL               string   `xml:"QueueURL,omitempty"`
	QueueName              string   `xml:"QueueName,omitempty"`
	CreateTime             int64    `xml:"CreateTime,omitempty"`
	LastModifyTime         int64    `xml:"LastModifyTime,omitempty"`
	DelaySeconds           *int     `xml:"DelaySeconds,omitempty"`
	MaximumMessageSize     int      `xml:"MaximumMessageSize,omitempty"`
	MessageRetentionPeriod int      `xml:"MessageRetentionPeriod,omitempty"`
	VisibilityTimeout      int      `xml:"VisibilityTimeout,omitempty"`
	PollingWaitSeconds     *int     `xml:"PollingWaitSeconds,omitempty"`
	ActiveMessages         *int     `xml:"ActiveMessages,omitempty"`
	InactiveMessages       *int     `xml:"InactiveMessages,omitempty"`
	DelayMessages          *int     `xml:"DelayMessages,omitempty"`
	LoggingEnabled         *bool    `xml:"LoggingEnabled,omitempty"`
}

type xmlQueues struct {
	XMLName    xml.Name   `xml:"Queues"`
	Xmlns      string     `xml:"xmlns,attr"`
	Queues     []xmlQueue `xml:"Queue"`
	NextMarker string     `xml:"NextMarker,omitempty"`
}

type xmlTopic struct {
	XMLName                xml.Name `xml:"Topic"`
	Xmlns                  string   `xml:"xmlns,attr,omitempty"`
	TopicURL               string   `xml:"TopicURL,omitempty"`
	TopicName              string   `xml:"TopicName,omitempty"`
	CreateTime             int64    `xml:"CreateTime,omitempty"`
	LastModifyTime         int64    `xml:"LastModifyTime,omitempty"`
	MaximumMessageSize     int      `xml:"MaximumMessageSize,omitempty"`
	MessageRetentionPeriod int      `xml:"MessageRetentionPeriod,omitempty"`
	MessageCount           *int     `xml:"MessageCount,omitempty"`
	LoggingEnabled         *bool    `xml:"LoggingEnabled,omitempty"`
}

type xmlTopics struct {
	XMLName    xml.Name   `xml:"Topics"`
	Xmlns      string     `xml:"xmlns,attr"`
	Topics     []xmlTopic `xml:"Topic"`
	NextMarker string     `xml:"NextMarker,omitempty"`
}

func ptr[T any](v T) *T { return &v }

func ms(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

func malformed(err error) *emu.APIError {
	return emu.Errorf(400, "MalformedXML", "The XML you provided was not well-formed: %v", err)
}

// decode parses an XML request body; an empty body leaves v as it is.
func decode(body []byte, v any) *emu.APIError {
	if len(strings.TrimSpace(string(body))) == 0 {
		return nil
	}
	if err := xml.Unmarshal(body, v); err != nil {
		return malformed(err)
	}
	return nil
}

// intParam reads an integer query parameter within its limit; ok is false when it is
// absent.
func intParam(x *exchange, l Limit) (v int, ok bool, err *emu.APIError) {
	s, present := x.query[l.Name]
	if !present {
		return 0, false, nil
	}
	v, e := strconv.Atoi(strings.Join(s, ""))
	if e != nil || l.check(v) != nil {
		return 0, true, l.bad()
	}
	return v, true, nil
}

func (x *exchange) resourceURL(kind, name string) string {
	return "http://" + x.r.Host + "/" + kind + "/" + name
}

// ---- queues

func (q *queue) xml(withName bool, now time.Time) xmlQueue {
	a := q.attrs
	vis, delayed, inflight := q.depth(now)
	out := xmlQueue{
		CreateTime: q.created.Unix(), LastModifyTime: q.modified.Unix(),
		DelaySeconds: ptr(a.DelaySeconds), MaximumMessageSize: a.MaximumMessageSize,
		MessageRetentionPeriod: a.MessageRetentionPeriod, VisibilityTimeout: a.VisibilityTimeout,
		PollingWaitSeconds: ptr(a.PollingWaitSeconds), ActiveMessages: ptr(vis), InactiveMessages: ptr(inflight),
		DelayMessages: ptr(delayed), LoggingEnabled: ptr(false),
	}
	if withName {
		out.QueueName = q.name
	}
	return out
}

func (r xmlQueueRequest) merge(a QueueAttributes) QueueAttributes {
	set := func(dst *int, src *int) {
		if src != nil {
			*dst = *src
		}
	}
	set(&a.DelaySeconds, r.DelaySeconds)
	set(&a.MaximumMessageSize, r.MaximumMessageSize)
	set(&a.MessageRetentionPeriod, r.MessageRetentionPeriod)
	set(&a.VisibilityTimeout, r.VisibilityTimeout)
	set(&a.PollingWaitSeconds, r.PollingWaitSeconds)
	return a
}

func (m *MNS) createQueue(x *exchange) result {
	var req xmlQueueRequest
	if err := decode(x.body, &req); err != nil {
		return fail(err)
	}
	name := resourceName(x)
	created, err := m.createQueueLocked(x.account, x.region, name, req.merge(QueueAttributes{}), x.now)
	switch {
	case err != nil:
		return fail(err)
	case !created: // same attributes: the SDK reports ERR_MNS_QUEUE_ALREADY_EXIST_AND_HAVE_SAME_ATTR
		return result{status: http.StatusNoContent}
	}
	return result{status: http.StatusCreated, headers: map[string]string{"Location": x.resourceURL("queues", name)}}
}

// resourceName is the queue or topic name in /queues/NAME[/messages] or /topics/NAME[/messages].
func resourceName(x *exchange) string { return strings.Split(strings.Trim(x.r.URL.Path, "/"), "/")[1] }

func (m *MNS) setQueueAttributes(x *exchange) result {
	var req xmlQueueRequest
	if err := decode(x.body, &req); err != nil {
		return fail(err)
	}
	q, err := m.queueLocked(x.account, x.region, resourceName(x), x.now)
	if err != nil {
		return fail(err)
	}
	attrs, err := req.merge(q.attrs).normalize()
	if err != nil {
		return fail(err)
	}
	q.attrs, q.modified = attrs, x.now
	return result{status: http.StatusNoContent}
}

func (m *MNS) getQueueAttributes(x *exchange) result {
	q, err := m.queueLocked(x.account, x.region, resourceName(x), x.now)
	if err != nil {
		return fail(err)
	}
	doc := q.xml(true, x.now)
	doc.Xmlns = xmlNS
	return result{status: http.StatusOK, doc: doc}
}

// deleteQueue succeeds whether or not the queue exists (the API lists no error of its own).
func (m *MNS) deleteQueue(x *exchange) result {
	delete(m.queues, key(x.account, x.region, resourceName(x)))
	return result{status: http.StatusNoContent}
}

// listing answers ListQueue/ListTopic paging: x-mns-prefix, x-mns-marker (the first
// name to return) and x-mns-ret-number (1..1000).
func listing(x *exchange, names []string) (page []string, next string, err *emu.APIError) {
	prefix, marker := x.r.Header.Get("x-mns-prefix"), x.r.Header.Get("x-mns-marker")
	limit := limRetNumber.High
	if s := x.r.Header.Get(limRetNumber.Name); s != "" {
		n, e := strconv.Atoi(s)
		if e != nil || limRetNumber.check(n) != nil {
			return nil, "", limRetNumber.bad()
		}
		limit = n
	}
	slices.Sort(names)
	for _, n := range names {
		if !strings.HasPrefix(n, prefix) || n < marker {
			continue
		}
		if len(page) == limit {
			return page, n, nil
		}
		page = append(page, n)
	}
	return page, "", nil
}

func (m *MNS) listQueues(x *exchange) result {
	var names []string
	for _, q := range m.queues {
		if q.account == x.account && q.region == x.region {
			names = append(names, q.name)
		}
	}
	page, next, err := listing(x, names)
	if err != nil {
		return fail(err)
	}
	doc := xmlQueues{Xmlns: xmlNS, NextMarker: next}
	for _, n := range page {
		item := xmlQueue{QueueURL: x.resourceURL("queues", n)}
		if x.r.Header.Get("x-mns-with-meta") == "true" {
			q, _ := m.queueLocked(x.account, x.region, n, x.now)
			item = q.xml(true, x.now)
			item.QueueURL = x.resourceURL("queues", n)
		}
		doc.Queues = append(doc.Queues, item)
	}
	return result{status: http.StatusOK, doc: doc}
}

// ---- messages

func sentXML(id, body string) xmlMessage {
	return xmlMessage{MessageID: id, MessageBodyMD5: bodyMD5(body)}
}

// sendOne validates and enqueues one message of a SendMessage/BatchSendMessage.
func (m *MNS) sendOne(q *queue, req xmlSendRequest, now time.Time) (*message, *emu.APIError) {
	delay, priority := 0, defaultPriority
	if req.DelaySeconds != nil {
		delay = *req.DelaySeconds
	}
	if req.Priority != nil {
		priority = *req.Priority
	}
	return m.sendLocked(q, req.MessageBody, time.Duration(delay)*time.Second, priority, now)
}

func (m *MNS) sendMessage(x *exchange) result {
	var req xmlSendRequest
	if err := decode(x.body, &req); err != nil {
		return fail(err)
	}
	q, err := m.queueLocked(x.account, x.region, resourceName(x), x.now)
	if err != nil {
		return fail(err)
	}
	msg, err := m.sendOne(q, req, x.now)
	if err != nil {
		return fail(err)
	}
	doc := sentXML(msg.id, msg.body)
	doc.Xmlns = xmlNS
	return result{status: http.StatusCreated, doc: doc}
}

// batchSendMessage refuses a whole batch of more than 16 messages or 64 KB of bodies;
// otherwise it sends the valid messages and, if some were invalid, answers 500 with a
// result per message (the SDK then returns ERR_MNS_BATCH_OP_FAIL and the results).
func (m *MNS) batchSendMessage(x *exchange) result {
	var req xmlBatchSendRequest
	if err := decode(x.body, &req); err != nil {
		return fail(err)
	}
	if err := limBatchMessages.check(len(req.Messages)); err != nil {
		return fail(err)
	}
	total := 0
	for _, msg := range req.Messages {
		total += len(msg.MessageBody)
	}
	if err := limBatchBytes.check(total); err != nil {
		return fail(err)
	}
	q, err := m.queueLocked(x.account, x.region, resourceName(x), x.now)
	if err != nil {
		return fail(err)
	}
	doc := xmlMessages{Xmlns: xmlNS}
	failed := false
	for _, one := range req.Messages {
		msg, err := m.sendOne(q, one, x.now)
		if err != nil {
			failed = true
			doc.Messages = append(doc.Messages, xmlMessage{ErrorCode: err.Code, ErrorMessage: err.Message})
			continue
		}
		doc.Messages = append(doc.Messages, sentXML(msg.id, msg.body))
	}
	status := http.StatusCreated
	if failed {
		status = http.StatusInternalServerError
	}
	return result{status: status, doc: doc}
}

func deliveredXML(v Message) xmlMessage {
	return xmlMessage{
		MessageID: v.ID, ReceiptHandle: v.ReceiptHandle, MessageBodyMD5: bodyMD5(v.Body), MessageBody: ptr(v.Body),
		EnqueueTime: ms(v.EnqueueTime), NextVisibleTime: ms(v.NextVisibleTime), FirstDequeueTime: ms(v.FirstDequeueTime),
		DequeueCount: v.DequeueCount, Priority: v.Priority,
	}
}

// receiveMessages serves ReceiveMessage and BatchReceiveMessage. Long polling never
// waits: the emulated clock does not move while a request is open, so an empty queue
// answers MessageNotExist at once.
func (m *MNS) receiveMessages(x *exchange) result {
	return m.deliver(x, true)
}

func (m *MNS) peekMessages(x *exchange) result {
	return m.deliver(x, false)
}

func (m *MNS) deliver(x *exchange, receive bool) result {
	n, batch, err := intParam(x, limNumOfMessages)
	if err != nil {
		return fail(err)
	}
	if !batch {
		n = 1
	}
	if _, _, err := intParam(x, limWaitSeconds); err != nil {
		return fail(err)
	}
	q, err := m.queueLocked(x.account, x.region, resourceName(x), x.now)
	if err != nil {
		return fail(err)
	}
	var msgs []*message
	if receive {
		msgs = m.receiveLocked(q, n, x.now)
	} else {
		msgs = q.visible(x.now)
		msgs = msgs[:min(n, len(msgs))]
	}
	if len(msgs) == 0 {
		return fail(emu.Errorf(404, "MessageNotExist", "Message not exist."))
	}
	doc := xmlMessages{Xmlns: xmlNS}
	for _, msg := range msgs {
		doc.Messages = append(doc.Messages, deliveredXML(msg.view(receive)))
	}
	if !batch {
		one := doc.Messages[0]
		one.Xmlns = xmlNS
		return result{status: http.StatusOK, doc: one}
	}
	return result{status: http.StatusOK, doc: doc}
}

func (m *MNS) deleteMessage(x *exchange) result {
	q, err := m.queueLocked(x.account, x.region, resourceName(x), x.now)
	if err != nil {
		return fail(err)
	}
	if err := q.deleteMessage(x.query.Get("ReceiptHandle"), x.now); err != nil {
		return fail(err)
	}
	return result{status: http.StatusNoContent}
}

// batchDeleteMessage deletes what it can; if some handles fail it answers 404 with one
// error per failed handle.
func (m *MNS) batchDeleteMessage(x *exchange) result {
	var req xmlReceiptHandles
	if err := decode(x.body, &req); err != nil {
		return fail(err)
	}
	if err := limBatchHandles.check(len(req.ReceiptHandles)); err != nil {
		return fail(err)
	}
	q, err := m.queueLocked(x.account, x.region, resourceName(x), x.now)
	if err != nil {
		return fail(err)
	}
	doc := xmlDeleteErrors{Xmlns: xmlNS}
	for _, h := range req.ReceiptHandles {
		if err := q.deleteMessage(h, x.now); err != nil {
			doc.Errors = append(doc.Errors, xmlDeleteError{ErrorCode: err.Code, ErrorMessage: err.Message, ReceiptHandle: h})
		}
	}
	if len(doc.Errors) > 0 {
		return result{status: http.StatusNotFound, doc: doc}
	}
	return result{status: http.StatusNoContent}
}

func (m *MNS) changeMessageVisibility(x *exchange) result {
	if _, ok := x.query["VisibilityTimeout"]; !ok {
		return fail(emu.Errorf(400, "MissingVisibilityTimeout", "VisibilityTimeout is required."))
	}
	secs, _, err := intParam(x, limVisibilityTimeout)
	if err != nil {
		return fail(err)
	}
	q, err := m.queueLocked(x.account, x.region, resourceName(x), x.now)
	if err != nil {
		return fail(err)
	}
	msg, err := m.changeVisibilityLocked(q, x.query.Get("ReceiptHandle"), time.Duration(secs)*time.Second, x.now)
	if err != nil {
		return fail(err)
	}
	return result{status: http.StatusOK, doc: xmlChangeVisibility{Xmlns: xmlNS, ReceiptHandle: msg.handle, NextVisibleTime: ms(msg.visibleAt)}}
}

// ---- topics

func topicNotExist() *emu.APIError {
	return emu.Errorf(404, "TopicNotExist", "The topic name you provided is not exist.")
}

func (m *MNS) topicLocked(x *exchange) (*topic, *emu.APIError) {
	t := m.topics[key(x.account, x.region, resourceName(x))]
	if t == nil {
		return nil, topicNotExist()
	}
	return t, nil
}

func (t *topic) xml() xmlTopic {
	return xmlTopic{
		TopicName: t.name, CreateTime: t.created.Unix(), LastModifyTime: t.modified.Unix(),
		MaximumMessageSize: t.maxMessageSize, MessageRetentionPeriod: topicDefaultRetention,
		MessageCount: ptr(len(t.published)), LoggingEnabled: ptr(false),
	}
}

func (m *MNS) createTopic(x *exchange) result {
	var req xmlTopicRequest
	if err := decode(x.body, &req); err != nil {
		return fail(err)
	}
	size := 0
	if req.MaximumMessageSize != nil {
		size = *req.MaximumMessageSize
	}
	name := resourceName(x)
	created, err := m.createTopicLocked(x.account, x.region, name, size, x.now)
	switch {
	case err != nil:
		return fail(err)
	case !created:
		return result{status: http.StatusNoContent}
	}
	return result{status: http.StatusCreated, headers: map[string]string{"Location": x.resourceURL("topics", name)}}
}

func (m *MNS) setTopicAttributes(x *exchange) result {
	var req xmlTopicRequest
	if err := decode(x.body, &req); err != nil {
		return fail(err)
	}
	t, err := m.topicLocked(x)
	if err != nil {
		return fail(err)
	}
	if req.MaximumMessageSize != nil && *req.MaximumMessageSize != 0 {
		size := *req.MaximumMessageSize
		if err := limMaximumMessageSize.check(size); err != nil {
			return fail(err)
		}
		t.maxMessageSize = size
	}
	t.modified = x.now
	return result{status: http.StatusNoContent}
}

func (m *MNS) getTopicAttributes(x *exchange) result {
	t, err := m.topicLocked(x)
	if err != nil {
		return fail(err)
	}
	doc := t.xml()
	doc.Xmlns = xmlNS
	return result{status: http.StatusOK, doc: doc}
}

func (m *MNS) deleteTopic(x *exchange) result {
	delete(m.topics, key(x.account, x.region, resourceName(x)))
	return result{status: http.StatusNoContent}
}

func (m *MNS) listTopics(x *exchange) result {
	var names []string
	for _, t := range m.topics {
		if t.account == x.account && t.region == x.region {
			names = append(names, t.name)
		}
	}
	page, next, err := listing(x, names)
	if err != nil {
		return fail(err)
	}
	doc := xmlTopics{Xmlns: xmlNS, NextMarker: next}
	for _, n := range page {
		item := xmlTopic{TopicURL: x.resourceURL("topics", n)}
		if x.r.Header.Get("x-mns-with-meta") == "true" {
			item = m.topics[key(x.account, x.region, n)].xml()
			item.TopicURL = x.resourceURL("topics", n)
		}
		doc.Topics = append(doc.Topics, item)
	}
	return result{status: http.StatusOK, doc: doc}
}

func (m *MNS) publishMessage(x *exchange) result {
	var req xmlSendRequest
	if err := decode(x.body, &req); err != nil {
		return fail(err)
	}
	t, err := m.topicLocked(x)
	if err != nil {
		return fail(err)
	}
	p, err := m.publishLocked(t, req.MessageBody, x.now)
	if err != nil {
		return fail(err)
	}
	doc := sentXML(p.MessageID, p.Body)
	doc.Xmlns = xmlNS
	return result{status: http.StatusCreated, doc: doc}
}
