package function

import (
	"context"
	"encoding/json"

	"imageshare/pkg/event"
	"imageshare/pkg/job"
	"imageshare/pkg/plan"
	"imageshare/pkg/report"
)

// deadLetters reports, for every event whose retries ran out, one refusal per image it
// named (or per region when it named none), so that nothing is dropped silently.
func (d *Deps) deadLetters(ctx context.Context, inv Invocation, payload []byte) ([]byte, error) {
	evs, errs := event.Decode(payload)
	var s summary
	for _, err := range errs {
		d.ignore(err, nil, "")
		s.Skipped++
	}
	// The dead-letter queue holds the failed events; its MNS source wraps each one.
	msgs, merrs := event.QueueMessages(evs)
	for _, err := range merrs {
		d.ignore(err, nil, "")
		s.Skipped++
	}
	var entries []report.Entry
	for _, m := range msgs {
		inner, ierrs := event.Decode([]byte(m.Body))
		if len(ierrs) > 0 && len(inner) == 0 {
			// Not an event: perhaps a bare job.
			if j, err := job.Decode(m.Body); err == nil {
				entries = append(entries, deadJob(j, m.MessageID)...)
				continue
			}
			d.ignore(ierrs[0], nil, "")
			s.Skipped++
			continue
		}
		for _, ev := range inner {
			entries = append(entries, d.deadEvent(ev, inv)...)
		}
	}
	d.publish(ctx, inv, entries, true, nil)
	s.Refused = len(entries)
	return s.bytes(), nil
}

func deadJob(j job.Job, id string) []report.Entry {
	msg := "the job's retries ran out (" + j.Reason + ", message " + id + "); it is looked at again by the next sweep — check the reconcile function's logs for the cause"
	if len(j.Images) == 0 {
		return []report.Entry{{Region: j.Region, Action: plan.ActRefuse, Reason: "retries-exhausted", Message: msg}}
	}
	var out []report.Entry
	for _, im := range j.Images {
		out = append(out, report.Entry{Region: j.Region, Image: im, Action: plan.ActRefuse, Reason: "retries-exhausted", Message: msg})
	}
	return out
}

func (d *Deps) deadEvent(ev event.CloudEvent, inv Invocation) []report.Entry {
	// A failed reconcile batch: the event wraps a job.
	if msgs, _ := event.QueueMessages([]event.CloudEvent{ev}); len(msgs) == 1 {
		if j, err := job.Decode(msgs[0].Body); err == nil {
			return deadJob(j, msgs[0].MessageID)
		}
	}
	// A failed image-events or org-events invocation: the event is an API call.
	if at, err := event.ParseActionTrail(ev); err == nil {
		if tg, err := event.ImageTarget(ev, at); err == nil && len(tg.Images) > 0 {
			return deadJob(job.Job{Region: tg.Region, Images: tg.Images, Reason: "event " + at.EventName}, ev.ID)
		}
		return deadJob(job.Job{Region: inv.Region, Reason: "event " + at.EventName}, ev.ID)
	}
	b, _ := json.Marshal(ev.ID)
	return deadJob(job.Job{Region: inv.Region, Reason: "event"}, string(b))
}
