// Package event decodes what EventBridge delivers to the functions: CloudEvents (one,
// or a batch as a JSON array of objects or of JSON strings), ActionTrail records inside
// them, MNS-source envelopes around job messages, and timer payloads. It decides only
// what to look at — which images, which region — never what to do.
package event

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
)

// MaxPayload bounds what is decoded; larger payloads are refused, not parsed.
const MaxPayload = 6 << 20

// CloudEvent is the envelope. Extension attributes are kept as raw JSON strings because
// their formats vary (aliyunpublishtime is not always RFC 3339).
type CloudEvent struct {
	SpecVersion       string          `json:"specversion"`
	ID                string          `json:"id"`
	Source            string          `json:"source"`
	Type              string          `json:"type"`
	Subject           string          `json:"subject"`
	Time              string          `json:"time"`
	Data              json.RawMessage `json:"data"`
	AliyunAccountID   string          `json:"aliyunaccountid"`
	AliyunRegionID    string          `json:"aliyunregionid"`
	AliyunPublishTime string          `json:"aliyunpublishtime"`
	AliyunEventBus    string          `json:"aliyuneventbusname"`
}

// Error says why a payload or an event cannot be used; it names the event (id, type,
// eventName) but never repeats the payload.
type Error struct {
	ID, Type, EventName string
	Reason              string
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("event")
	if e.ID != "" {
		fmt.Fprintf(&b, " id=%q", clip(e.ID))
	}
	if e.Type != "" {
		fmt.Fprintf(&b, " type=%q", clip(e.Type))
	}
	if e.EventName != "" {
		fmt.Fprintf(&b, " eventName=%q", clip(e.EventName))
	}
	return b.String() + ": " + e.Reason
}

// clip keeps identifiers in log lines short and printable.
func clip(s string) string {
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return '?'
		}
		return r
	}, s)
	if len(s) > 80 {
		s = s[:80] + "…"
	}
	return s
}

// Decode reads a payload holding one CloudEvent, a JSON array of CloudEvents, or a JSON
// array of strings each holding a CloudEvent (EventBridge's batch form). Elements that
// cannot be read are returned as errors beside the good ones.
func Decode(payload []byte) ([]CloudEvent, []error) {
	if len(payload) > MaxPayload {
		return nil, []error{&Error{Reason: fmt.Sprintf("payload of %d bytes is larger than %d", len(payload), MaxPayload)}}
	}
	p := bytes.TrimSpace(payload)
	if len(p) == 0 {
		return nil, []error{&Error{Reason: "empty payload"}}
	}
	switch p[0] {
	case '{':
		ev, err := decodeOne(p)
		if err != nil {
			return nil, []error{err}
		}
		return []CloudEvent{ev}, nil
	case '[':
		var items []json.RawMessage
		if err := json.Unmarshal(p, &items); err != nil {
			return nil, []error{&Error{Reason: "batch is not a JSON array: " + jsonReason(err)}}
		}
		var evs []CloudEvent
		var errs []error
		for i, it := range items {
			it = bytes.TrimSpace(it)
			if len(it) > 0 && it[0] == '"' {
				var s string
				if err := json.Unmarshal(it, &s); err != nil {
					errs = append(errs, &Error{Reason: fmt.Sprintf("batch element %d: %s", i, jsonReason(err))})
					continue
				}
				it = []byte(s)
			}
			ev, err := decodeOne(it)
			if err != nil {
				var e *Error
				if errors.As(err, &e) {
					e.Reason = fmt.Sprintf("batch element %d: %s", i, e.Reason)
				}
				errs = append(errs, err)
				continue
			}
			evs = append(evs, ev)
		}
		return evs, errs
	}
	return nil, []error{&Error{Reason: "payload is neither a JSON object nor an array"}}
}

func decodeOne(b []byte) (CloudEvent, error) {
	// Decode loosely first so that a field of an unexpected type is reported by name.
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return CloudEvent{}, &Error{Reason: "not a JSON object: " + jsonReason(err)}
	}
	var ev CloudEvent
	str := func(key string, dst *string) error {
		v, ok := raw[key]
		if !ok || string(v) == "null" {
			return nil
		}
		if err := json.Unmarshal(v, dst); err != nil {
			return fmt.Errorf("attribute %s is not a string", key)
		}
		return nil
	}
	for key, dst := range map[string]*string{
		"specversion": &ev.SpecVersion, "id": &ev.ID, "source": &ev.Source, "type": &ev.Type, "subject": &ev.Subject,
		"time": &ev.Time, "aliyunaccountid": &ev.AliyunAccountID, "aliyunregionid": &ev.AliyunRegionID,
		"aliyunpublishtime": &ev.AliyunPublishTime, "aliyuneventbusname": &ev.AliyunEventBus,
	} {
		if err := str(key, dst); err != nil {
			return CloudEvent{}, &Error{ID: ev.ID, Type: ev.Type, Reason: err.Error()}
		}
	}
	ev.Data = raw["data"]
	if ev.ID == "" || ev.Source == "" || ev.Type == "" {
		return CloudEvent{}, &Error{ID: ev.ID, Type: ev.Type, Reason: "not a CloudEvent: id, source and type are required"}
	}
	return ev, nil
}

func jsonReason(err error) string {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Sprintf("invalid JSON at byte %d", se.Offset)
	}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return fmt.Sprintf("field %q has the wrong type (%s)", te.Field, te.Value)
	}
	return "invalid JSON"
}

// ActionTrail is the record of one API call, as ActionTrail delivers it in data.
type ActionTrail struct {
	EventID   string
	EventName string
	// EventTime is when the call was made (RFC 3339, UTC), as the record says it.
	EventTime         string
	EventType         string
	AcsRegion         string
	ServiceName       string
	ErrorCode         string
	RequestParameters map[string]any
	ResponseElements  map[string]any
	UserIdentity      UserIdentity
}

// UserIdentity is who made the call.
type UserIdentity struct {
	Type        string `json:"type"`
	AccountID   string `json:"accountId"`
	PrincipalID string `json:"principalId"`
	UserName    string `json:"userName"`
	Arn         string `json:"arn"`
}

// RoleName returns the RAM role of an assumed-role caller ("" otherwise).
func (u UserIdentity) RoleName() string {
	if u.Type != "assumed-role" {
		return ""
	}
	// acs:ram::<uid>:assumed-role/<role>/<session>
	if i := strings.Index(u.Arn, ":assumed-role/"); i >= 0 {
		rest := u.Arn[i+len(":assumed-role/"):]
		if j := strings.IndexByte(rest, '/'); j >= 0 {
			return rest[:j]
		}
		return rest
	}
	return u.UserName
}

// ParseActionTrail reads data as an ActionTrail record.
func ParseActionTrail(ev CloudEvent) (ActionTrail, error) {
	fail := func(reason string) (ActionTrail, error) {
		return ActionTrail{}, &Error{ID: ev.ID, Type: ev.Type, Reason: reason}
	}
	if len(ev.Data) == 0 || string(ev.Data) == "null" {
		return fail("no data")
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(ev.Data, &raw); err != nil {
		return fail("data is not a JSON object: " + jsonReason(err))
	}
	var at ActionTrail
	for key, dst := range map[string]*string{"eventName": &at.EventName, "eventType": &at.EventType, "acsRegion": &at.AcsRegion,
		"serviceName": &at.ServiceName, "errorCode": &at.ErrorCode} {
		if v, ok := raw[key]; ok && string(v) != "null" {
			if err := json.Unmarshal(v, dst); err != nil {
				return fail("data." + key + " is not a string")
			}
		}
	}
	if at.EventName == "" {
		return fail("data.eventName is missing")
	}
	// Only hints (the poll's cause, an invitation's time): read when they are strings.
	for key, dst := range map[string]*string{"eventId": &at.EventID, "eventTime": &at.EventTime} {
		if v, ok := raw[key]; ok {
			_ = json.Unmarshal(v, dst)
		}
	}
	for key, dst := range map[string]*map[string]any{"requestParameters": &at.RequestParameters, "responseElements": &at.ResponseElements} {
		if v, ok := raw[key]; ok && string(v) != "null" {
			if err := json.Unmarshal(v, dst); err != nil {
				// Some services deliver these as a JSON text; accept that form too.
				var s string
				if json.Unmarshal(v, &s) != nil || json.Unmarshal([]byte(s), dst) != nil {
					return ActionTrail{}, &Error{ID: ev.ID, Type: ev.Type, EventName: at.EventName, Reason: "data." + key + " is not an object"}
				}
			}
		}
	}
	if v, ok := raw["userIdentity"]; ok && string(v) != "null" {
		if err := json.Unmarshal(v, &at.UserIdentity); err != nil {
			return ActionTrail{}, &Error{ID: ev.ID, Type: ev.Type, EventName: at.EventName, Reason: "data.userIdentity is not an object of strings"}
		}
	}
	return at, nil
}

var (
	imageIDRE  = regexp.MustCompile(`^m-[A-Za-z0-9]{1,64}$`)
	regionIDRE = regexp.MustCompile(`^[a-z]{2,}(-[a-z0-9]+)+$`)
)

// IsImageID reports whether s looks like an image ID.
func IsImageID(s string) bool { return imageIDRE.MatchString(s) }

// IsRegionID reports whether s looks like a region ID.
func IsRegionID(s string) bool { return regionIDRE.MatchString(s) }
