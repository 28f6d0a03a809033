package function

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"imageshare/pkg/event"
	"imageshare/pkg/job"
	"imageshare/pkg/observe"
	"imageshare/pkg/plan"
	"imageshare/pkg/report"
	"imageshare/pkg/settings"
)

// deadLetters handles what EventBridge gave up on (docs/architecture.md). A reconcile job of
// several images whose retries ran out is queued again in halves, delayed, down to
// single images, so that one image that kills every run it is in cannot hold the
// others back; a region job is turned into image jobs by listing the region as the
// sweep does; only a job that cannot be split (one image, an invitation to follow, or
// the end of the chain) is reported, with one refusal per image it names (or one for
// the region when it names none). A failed image-events or org-events event is
// reported as it is. Nothing here fails the invocation: what cannot be queued again
// is reported instead, so every image's failure is reported once.
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
	var dead []deadJob
	for _, m := range msgs {
		inner, ierrs := event.Decode([]byte(m.Body))
		if len(ierrs) > 0 && len(inner) == 0 {
			// Not an event: perhaps a bare job.
			if j, err := job.Decode(m.Body); err == nil {
				dead = append(dead, deadJob{j, m.MessageID})
				continue
			}
			d.ignore(ierrs[0], nil, "")
			s.Skipped++
			continue
		}
		for _, ev := range inner {
			// A failed reconcile batch: each of its events wraps a job.
			if qm, _ := event.QueueMessages([]event.CloudEvent{ev}); len(qm) == 1 {
				if j, err := job.Decode(qm[0].Body); err == nil {
					dead = append(dead, deadJob{j, qm[0].MessageID})
					continue
				}
			}
			entries = append(entries, d.deadEvent(ev, inv)...)
		}
	}
	again, reported, quiet := d.requeue(ctx, inv, dead)
	entries = append(entries, reported...)
	d.publish(ctx, inv, entries, true, nil)
	// The organization poll finds every directory change several times (its windows
	// overlap), each in a chain of its own: what runs out in one of those is logged,
	// not published (job.ChangesOnly). The bus's chain, or the sweep's, publishes it.
	d.publish(ctx, inv, quiet, false, nil)
	s.Refused, s.Jobs = len(entries)+len(quiet), again
	return s.bytes(), nil
}

// deadJob is a reconcile job whose retries ran out, with its queue message ID.
type deadJob struct {
	job job.Job
	id  string
}

// requeue queues again, split, the dead jobs that can be split, each job of this
// invocation SplitStagger after the one before so that none meets another in a batch,
// and returns how many it queued and the reports of the rest: to publish, and to log
// only (of the organization poll's jobs).
func (d *Deps) requeue(ctx context.Context, inv Invocation, dead []deadJob) (int, []report.Entry, []report.Entry) {
	var reports, quiet []report.Entry
	var next []job.Job
	for _, dj := range dead {
		j := dj.job
		out := &reports
		if j.ChangesOnly {
			out = &quiet
		}
		switch j.Kind {
		case job.KindImages:
			a, b, ok := j.Halves(dj.id)
			if !ok {
				*out = append(*out, exhausted(j, dj.id, "")...)
				continue
			}
			d.Log.Info("dead-lettered job queued again in halves", "region", j.Region, "images", len(j.Images),
				"halves", []int{len(a.Images), len(b.Images)}, "split", a.Split, "splitFrom", a.SplitFrom)
			next = append(next, a, b)
		case job.KindRegion:
			jobs, err := d.regionImages(ctx, inv, j, dj.id)
			if err != nil {
				d.Log.Warn("dead-lettered region job not turned into image jobs", "region", j.Region, "error", err.Error())
				*out = append(*out, exhausted(j, dj.id, "")...)
				continue
			}
			if len(jobs) == 0 {
				*out = append(*out, exhausted(j, dj.id, "; the region has no image to look at again")...)
				continue
			}
			d.Log.Info("dead-lettered region job queued again as image jobs", "region", j.Region, "jobs", len(jobs), "images", jobs[0].SplitOf)
			next = append(next, jobs...)
		default:
			// An invitation to follow: its chain ends here; the sweep covers the account
			// once it joins.
			*out = append(*out, exhausted(j, dj.id, "")...)
		}
	}
	queued := 0
	for i, j := range next {
		delay := job.SplitDelay + time.Duration(i)*job.SplitStagger
		if err := d.send(ctx, inv, []string{j.Encode()}, delay); err != nil {
			d.Log.Error("dead-lettered job not queued again; its images are reported", "region", j.Region, "images", len(j.Images), "error", err.Error())
			if j.ChangesOnly {
				quiet = append(quiet, exhausted(j, j.SplitFrom, "; it could not be queued again")...)
			} else {
				reports = append(reports, exhausted(j, j.SplitFrom, "; it could not be queued again")...)
			}
			continue
		}
		queued++
	}
	return queued, reports, quiet
}

// regionImages lists the images a region job would have looked at (every managed
// image, or every owned custom image with REDUNDANCY_SCOPE=all, of every status, as
// the sweep lists them) as image jobs, one round down a split chain from id.
func (d *Deps) regionImages(ctx context.Context, inv Invocation, j job.Job, id string) ([]job.Job, error) {
	api, err := d.API(inv)
	if err != nil {
		return nil, fmt.Errorf("cloud clients: %w", err)
	}
	a := d.applier(api)
	o := observe.New(api, observe.Request{Region: j.Region, Untagged: d.Settings.RedundancyScope == settings.ScopeAll,
		Prefix: d.Settings.TagPrefix}, a.Call)
	imgs, err := o.ListImages(ctx)
	if err != nil {
		return nil, fmt.Errorf("list the images of %s: %w", j.Region, err)
	}
	ids := make([]string, len(imgs))
	for i, im := range imgs {
		ids[i] = im.ID
	}
	var out []job.Job
	for _, c := range job.ForImages(j.Region, ids, j.Reason) {
		// The image jobs keep what the region job carried, except the account it was
		// about: an image job looks at its images whatever changed.
		c.RetryFailed, c.Notify, c.ChangesOnly, c.Cause, c.Notified, c.Attempt = j.RetryFailed, j.Notify, j.ChangesOnly, j.Cause, j.Notified, j.Attempt
		c.Split, c.SplitFrom, c.SplitOf = 1, id, len(ids)
		out = append(out, c)
	}
	return out, nil
}

// exhausted reports a job whose retries ran out and that is not queued again: one
// refusal of the whole image per image it names, or one for its region.
func exhausted(j job.Job, id, more string) []report.Entry {
	msg := "the job's retries ran out (" + j.Reason + ", message " + id
	if j.Split > 0 {
		msg += ", split " + strconv.Itoa(j.Split) + " times from a job of " + strconv.Itoa(j.SplitOf) + " images, message " + j.SplitFrom
	}
	msg += ")" + more + "; it is looked at again by the next sweep — check the reconcile function's logs for the cause"
	if len(j.Images) == 0 {
		return []report.Entry{{Region: j.Region, Action: plan.ActRefuse, Reason: "retries-exhausted", Message: msg}}
	}
	var out []report.Entry
	for _, im := range j.Images {
		out = append(out, report.Entry{Region: j.Region, Image: im, Action: plan.ActRefuse, Reason: "retries-exhausted", Message: msg})
	}
	return out
}

// deadEvent reports a failed image-events or org-events invocation: one refusal per
// image the API call names, or one for the region.
func (d *Deps) deadEvent(ev event.CloudEvent, inv Invocation) []report.Entry {
	if at, err := event.ParseActionTrail(ev); err == nil {
		if tg, err := event.ImageTarget(ev, at); err == nil && len(tg.Images) > 0 {
			return exhausted(job.Job{Region: tg.Region, Images: tg.Images, Reason: "event " + at.EventName}, ev.ID, "")
		}
		return exhausted(job.Job{Region: inv.Region, Reason: "event " + at.EventName}, ev.ID, "")
	}
	b, _ := json.Marshal(ev.ID)
	return exhausted(job.Job{Region: inv.Region, Reason: "event"}, string(b), "")
}
