package mns

import (
	"fmt"
	"maps"
	"slices"
	"strconv"

	"imageshare/pkg/cloudsim/emu"
)

// The MNS management API (mns-open 2022-01-19, RPC over the shared wire of package
// cloudsim) on the same queues and topics the REST API serves: CreateQueue,
// GetQueueAttributes, SetQueueAttributes, DeleteQueue, CreateTopic, GetTopicAttributes,
// SetTopicAttributes, DeleteTopic. Reference pages:
// https://www.alibabacloud.com/help/en/mns/developer-reference/api-mns-open-2022-01-19-<action in lower case>
// (parameters, the Tag.N list of CreateQueue and CreateTopic, the response's Data with
// Tags of GetQueueAttributes). The pages list no error codes of their own; the
// emulation answers the codes the REST API documents for the same conditions (the MNS
// error codes page, https://www.alibabacloud.com/help/en/mns/developer-reference/syntax-of-error-responses),
// each listed for mns-open in the error catalogue.

const openDocs = "https://www.alibabacloud.com/help/en/mns/developer-reference/api-mns-open-2022-01-19-"

// MaxTags is how many tags a queue or topic takes (the Tag.N parameter: 1 to 20).
const MaxTags = 20

// Management is the MNS management API of an MNS.
type Management struct{ m *MNS }

// Management returns the management API (mns-open) of m, to mount on the RPC cloud.
func (m *MNS) Management() *Management { return &Management{m: m} }

var _ emu.Service = (*Management)(nil)

// Product implements emu.Service.
func (*Management) Product() string { return "mns-open" }

// Version implements emu.Service.
func (*Management) Version() string { return "2022-01-19" }

// Host implements emu.Service.
func (*Management) Host() string { return "mns-open.aliyuncs.com" }

func openMissing(name string) *emu.APIError {
	return emu.Errorf(400, "MissingParameter", "The input parameter %q that is mandatory for processing this request is not supplied.", name)
}

func nameParam(name string) emu.Param {
	return emu.Param{Name: name, Required: true, Missing: openMissing(name)}
}

func limitParam(name string, l Limit) emu.Param {
	return emu.Param{Name: name, Kind: emu.PInt, Min: l.Low, Max: l.High, Invalid: l.bad()}
}

func queueParams() []emu.Param {
	return []emu.Param{nameParam("QueueName"),
		limitParam("DelaySeconds", limDelaySeconds), limitParam("MaximumMessageSize", limMaximumMessageSize),
		limitParam("MessageRetentionPeriod", limRetention), limitParam("VisibilityTimeout", limVisibilityTimeout),
		limitParam("PollingWaitSeconds", limPollingWaitSeconds),
		{Name: "EnableLogging", Kind: emu.PBool, Invalid: emu.Errorf(400, "InvalidArgument", "The value of EnableLogging should be true or false.")}}
}

// Actions implements emu.Service.
func (g *Management) Actions() map[string]emu.Action {
	return map[string]emu.Action{
		"CreateQueue":        {Write: true, Source: openDocs + "createqueue", Do: g.createQueue, Params: queueParams()},
		"SetQueueAttributes": {Write: true, Source: openDocs + "setqueueattributes", Do: g.setQueueAttributes, Params: queueParams()},
		"GetQueueAttributes": {Source: openDocs + "getqueueattributes", Do: g.getQueueAttributes, Params: []emu.Param{nameParam("QueueName")}},
		"DeleteQueue":        {Write: true, Source: openDocs + "deletequeue", Do: g.deleteQueue, Params: []emu.Param{nameParam("QueueName")}},
		"CreateTopic": {Write: true, Source: openDocs + "createtopic", Do: g.createTopic, Params: []emu.Param{nameParam("TopicName"),
			limitParam("MaxMessageSize", limMaximumMessageSize)}},
		"SetTopicAttributes": {Write: true, Source: openDocs + "settopicattributes", Do: g.setTopicAttributes, Params: []emu.Param{nameParam("TopicName"),
			limitParam("MaxMessageSize", limMaximumMessageSize)}},
		"GetTopicAttributes": {Source: openDocs + "gettopicattributes", Do: g.getTopicAttributes, Params: []emu.Param{nameParam("TopicName")}},
		"DeleteTopic":        {Write: true, Source: openDocs + "deletetopic", Do: g.deleteTopic, Params: []emu.Param{nameParam("TopicName")}},
	}
}

// done is the envelope of a successful answer.
func done(data any) map[string]any {
	out := map[string]any{"Code": 200, "Status": "Success", "Message": "operation success", "Success": true}
	if data == nil {
		data = map[string]any{"Code": 200, "Message": "operation success", "Success": true}
	}
	out["Data"] = data
	return out
}

// tagsOf reads Tag.N.Key / Tag.N.Value.
func tagsOf(p map[string]string) (map[string]string, *emu.APIError) {
	out := map[string]string{}
	for n := 1; ; n++ {
		k, ok := p[fmt.Sprintf("Tag.%d.Key", n)]
		if !ok {
			break
		}
		if n > MaxTags || k == "" || len(k) > 128 {
			return nil, emu.Errorf(400, "InvalidArgument", "The value of Tag should be 1 to %d tags, each with a key of 1 to 128 characters.", MaxTags)
		}
		out[k] = p[fmt.Sprintf("Tag.%d.Value", n)]
	}
	return out, nil
}

func intOf(p map[string]string, name string) *int {
	v, ok := p[name]
	if !ok || v == "" {
		return nil
	}
	n, _ := strconv.Atoi(v) // the contract checked it
	return &n
}

// requested reads the queue attributes a request sets over base.
func requested(p map[string]string, base QueueAttributes) QueueAttributes {
	set := func(dst *int, name string) {
		if v := intOf(p, name); v != nil {
			*dst = *v
		}
	}
	set(&base.DelaySeconds, "DelaySeconds")
	set(&base.MaximumMessageSize, "MaximumMessageSize")
	set(&base.MessageRetentionPeriod, "MessageRetentionPeriod")
	set(&base.VisibilityTimeout, "VisibilityTimeout")
	set(&base.PollingWaitSeconds, "PollingWaitSeconds")
	return base
}

func (g *Management) createQueue(c *emu.Call) (map[string]any, *emu.APIError) {
	tags, err := tagsOf(c.Params)
	if err != nil {
		return nil, err
	}
	m := g.m
	m.mu.Lock()
	defer m.mu.Unlock()
	name := c.P("QueueName")
	created, err := m.createQueueLocked(c.Caller.AccountID, c.Region, name, requested(c.Params, QueueAttributes{}), m.cfg.Clock.Now())
	if err != nil {
		return nil, err
	}
	if created && len(tags) > 0 {
		m.queues[key(c.Caller.AccountID, c.Region, name)].tags = tags
	}
	return done(nil), nil
}

func (g *Management) setQueueAttributes(c *emu.Call) (map[string]any, *emu.APIError) {
	m := g.m
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.cfg.Clock.Now()
	q, err := m.queueLocked(c.Caller.AccountID, c.Region, c.P("QueueName"), now)
	if err != nil {
		return nil, err
	}
	attrs, err := requested(c.Params, q.attrs).normalize()
	if err != nil {
		return nil, err
	}
	q.attrs, q.modified = attrs, now
	return done(nil), nil
}

func tagList(tags map[string]string) []any {
	out := []any{}
	for _, k := range slices.Sorted(maps.Keys(tags)) {
		out = append(out, map[string]any{"TagKey": k, "TagValue": tags[k]})
	}
	return out
}

func (g *Management) getQueueAttributes(c *emu.Call) (map[string]any, *emu.APIError) {
	m := g.m
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.cfg.Clock.Now()
	q, err := m.queueLocked(c.Caller.AccountID, c.Region, c.P("QueueName"), now)
	if err != nil {
		return nil, err
	}
	a := q.attrs
	vis, delayed, inflight := q.depth(now)
	return done(map[string]any{
		"QueueName": q.name, "CreateTime": q.created.Unix(), "LastModifyTime": q.modified.Unix(),
		"DelaySeconds": a.DelaySeconds, "MaximumMessageSize": a.MaximumMessageSize, "MessageRetentionPeriod": a.MessageRetentionPeriod,
		"VisibilityTimeout": a.VisibilityTimeout, "PollingWaitSeconds": a.PollingWaitSeconds,
		"ActiveMessages": vis, "InactiveMessages": inflight, "DelayMessages": delayed, "LoggingEnabled": false,
		"Tags": tagList(q.tags),
	}), nil
}

// deleteQueue removes the queue; a queue that does not exist is no error (as the REST
// API's DeleteQueue).
func (g *Management) deleteQueue(c *emu.Call) (map[string]any, *emu.APIError) {
	m := g.m
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.queues, key(c.Caller.AccountID, c.Region, c.P("QueueName")))
	return done(nil), nil
}

func (g *Management) createTopic(c *emu.Call) (map[string]any, *emu.APIError) {
	tags, err := tagsOf(c.Params)
	if err != nil {
		return nil, err
	}
	m := g.m
	m.mu.Lock()
	defer m.mu.Unlock()
	size := 0
	if v := intOf(c.Params, "MaxMessageSize"); v != nil {
		size = *v
	}
	name := c.P("TopicName")
	created, err := m.createTopicLocked(c.Caller.AccountID, c.Region, name, size, m.cfg.Clock.Now())
	if err != nil {
		return nil, err
	}
	if created && len(tags) > 0 {
		m.topics[key(c.Caller.AccountID, c.Region, name)].tags = tags
	}
	return done(nil), nil
}

func (g *Management) topicLocked(c *emu.Call) (*topic, *emu.APIError) {
	t := g.m.topics[key(c.Caller.AccountID, c.Region, c.P("TopicName"))]
	if t == nil {
		return nil, topicNotExist()
	}
	return t, nil
}

func (g *Management) setTopicAttributes(c *emu.Call) (map[string]any, *emu.APIError) {
	m := g.m
	m.mu.Lock()
	defer m.mu.Unlock()
	t, err := g.topicLocked(c)
	if err != nil {
		return nil, err
	}
	if v := intOf(c.Params, "MaxMessageSize"); v != nil {
		t.maxMessageSize = *v
	}
	t.modified = m.cfg.Clock.Now()
	return done(nil), nil
}

func (g *Management) getTopicAttributes(c *emu.Call) (map[string]any, *emu.APIError) {
	m := g.m
	m.mu.Lock()
	defer m.mu.Unlock()
	t, err := g.topicLocked(c)
	if err != nil {
		return nil, err
	}
	return done(map[string]any{
		"TopicName": t.name, "CreateTime": t.created.Unix(), "LastModifyTime": t.modified.Unix(),
		"MaxMessageSize": t.maxMessageSize, "MessageRetentionPeriod": topicDefaultRetention, "MessageCount": len(t.published),
		"LoggingEnabled": false, "Tags": tagList(t.tags),
	}), nil
}

func (g *Management) deleteTopic(c *emu.Call) (map[string]any, *emu.APIError) {
	m := g.m
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.topics, key(c.Caller.AccountID, c.Region, c.P("TopicName")))
	return done(nil), nil
}

// QueueTags returns a queue's tags (nil when it has none or does not exist).
func (m *MNS) QueueTags(account, region, name string) map[string]string {
	m.mu.Lock()
	defer m.mu.Unlock()
	if q := m.queues[key(account, region, name)]; q != nil {
		return maps.Clone(q.tags)
	}
	return nil
}

// DeleteQueue removes a queue directly (tests take a piece of a deployment away with it).
func (m *MNS) DeleteQueue(account, region, name string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	k := key(account, region, name)
	_, found := m.queues[k]
	delete(m.queues, k)
	return found
}
