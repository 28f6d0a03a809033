package event

import (
	"encoding/json"
	"fmt"
	"strings"
)

// QueueMessage is one MNS message delivered through an EventBridge MNS source.
type QueueMessage struct {
	EventID   string
	MessageID string
	Body      string
	// DequeueCount is not delivered by EventBridge; retries are counted by the job.
}

// QueueMessages unwraps MNS-source CloudEvents (type mns:Queue:SendMessage, data
// {requestId, messageId, messageBody}). Events of other types are errors.
func QueueMessages(evs []CloudEvent) ([]QueueMessage, []error) {
	var out []QueueMessage
	var errs []error
	for _, ev := range evs {
		if !strings.HasPrefix(ev.Type, "mns:Queue:") {
			errs = append(errs, &Error{ID: ev.ID, Type: ev.Type, Reason: "not an MNS queue event"})
			continue
		}
		var d struct {
			MessageID   json.RawMessage `json:"messageId"`
			MessageBody json.RawMessage `json:"messageBody"`
		}
		if err := json.Unmarshal(ev.Data, &d); err != nil {
			errs = append(errs, &Error{ID: ev.ID, Type: ev.Type, Reason: "data is not an MNS message: " + jsonReason(err)})
			continue
		}
		var body string
		if len(d.MessageBody) == 0 {
			errs = append(errs, &Error{ID: ev.ID, Type: ev.Type, Reason: "data.messageBody is missing"})
			continue
		}
		if d.MessageBody[0] == '"' {
			if err := json.Unmarshal(d.MessageBody, &body); err != nil {
				errs = append(errs, &Error{ID: ev.ID, Type: ev.Type, Reason: "data.messageBody: " + jsonReason(err)})
				continue
			}
		} else {
			// Some deliveries carry a JSON body as an object rather than as text.
			body = string(d.MessageBody)
		}
		var id string
		_ = json.Unmarshal(d.MessageID, &id)
		out = append(out, QueueMessage{EventID: ev.ID, MessageID: id, Body: body})
	}
	return out, errs
}

// Timer is the payload of a timer trigger.
type Timer struct {
	TriggerTime string `json:"triggerTime"`
	TriggerName string `json:"triggerName"`
	Payload     string `json:"payload"`
}

// DecodeTimer reads a timer payload.
func DecodeTimer(payload []byte) (Timer, error) {
	var t Timer
	if len(payload) > MaxPayload {
		return t, &Error{Reason: "timer payload too large"}
	}
	if err := json.Unmarshal(payload, &t); err != nil {
		return t, &Error{Reason: "timer payload is not {triggerTime, triggerName, payload}: " + jsonReason(err)}
	}
	if t.TriggerTime == "" {
		return t, &Error{Reason: fmt.Sprintf("timer payload without triggerTime (trigger %q)", clip(t.TriggerName))}
	}
	return t, nil
}
