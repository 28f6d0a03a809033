package event

import (
	"bytes"
	"encoding/json"
	"strings"
)

// FromTrail wraps an ActionTrail record, as LookupEvents returns it, in the CloudEvent
// EventBridge would deliver it as (source acs.<service>, type
// <service>:ActionTrail:<eventType>, id the record's eventId, data the record), so that a
// record found by a poll goes through the same code as an event from the bus. The
// record is read loosely: a field of an unexpected type is named, never the payload.
func FromTrail(raw json.RawMessage) (CloudEvent, error) {
	var rec map[string]json.RawMessage
	if len(raw) > MaxPayload {
		return CloudEvent{}, &Error{Reason: "ActionTrail record too large"}
	}
	if err := json.Unmarshal(raw, &rec); err != nil || rec == nil {
		return CloudEvent{}, &Error{Reason: "ActionTrail record is not a JSON object"}
	}
	var f struct{ id, typ, service, at string }
	for key, dst := range map[string]*string{"eventId": &f.id, "eventType": &f.typ, "serviceName": &f.service, "eventTime": &f.at} {
		if v, ok := rec[key]; ok && string(v) != "null" {
			if err := json.Unmarshal(v, dst); err != nil {
				return CloudEvent{}, &Error{ID: f.id, Reason: "ActionTrail record: " + key + " is not a string"}
			}
		}
	}
	if f.id == "" || f.typ == "" || f.service == "" {
		return CloudEvent{}, &Error{ID: f.id, Reason: "ActionTrail record without eventId, eventType or serviceName"}
	}
	svc := strings.ToLower(f.service)
	return CloudEvent{SpecVersion: "1.0", ID: f.id, Source: "acs." + svc, Type: svc + ":ActionTrail:" + f.typ, Time: f.at,
		Data: bytes.Clone(raw)}, nil
}

// IsTimer reports whether payload is a timer trigger's ({"triggerTime", …}) rather than
// a CloudEvent or a batch of them.
func IsTimer(payload []byte) bool {
	p := bytes.TrimSpace(payload)
	if len(p) == 0 || p[0] != '{' || len(p) > MaxPayload {
		return false
	}
	var head map[string]json.RawMessage
	if json.Unmarshal(p, &head) != nil {
		return false
	}
	_, timer := head["triggerTime"]
	_, typ := head["type"]
	_, spec := head["specversion"]
	return timer && !typ && !spec
}
