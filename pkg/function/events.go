package function

import (
	"context"
	"errors"
	"fmt"
	"time"

	"imageshare/pkg/event"
	"imageshare/pkg/job"
)

// ignore logs why an event causes no job: identifiers and a reason, never the payload.
// The logger already names the function (Main), so the line does not repeat the key.
func (d *Deps) ignore(err error, ev *event.CloudEvent, eventName string) {
	attrs := []any{"reason", err.Error()}
	if ev != nil {
		attrs = append(attrs, "id", ev.ID, "type", ev.Type)
	}
	if eventName != "" {
		attrs = append(attrs, "eventName", eventName)
	}
	var skip *event.Skip
	if errors.As(err, &skip) {
		d.Log.Info("event skipped", attrs...)
		return
	}
	d.Log.Warn("event refused", attrs...)
}

// imageEvents enqueues one job per region with the images the events name, delayed by
// SETTLE_DELAY so that an untag-then-tag edit is seen whole.
func (d *Deps) imageEvents(ctx context.Context, inv Invocation, payload []byte) ([]byte, error) {
	evs, errs := event.Decode(payload)
	var s summary
	for _, err := range errs {
		d.ignore(err, nil, "")
		s.Skipped++
	}
	byRegion := map[string][]string{}
	whole := map[string]bool{}
	cause := map[string]string{}
	var order []string
	for i := range evs {
		ev := &evs[i]
		at, err := event.ParseActionTrail(*ev)
		if err == nil {
			err = event.Filter(*ev, at, event.ImageEventNames, d.Settings.FunctionRole)
		}
		var tg event.Target
		if err == nil {
			tg, err = event.ImageTarget(*ev, at)
		}
		if err != nil {
			d.ignore(err, ev, at.EventName)
			s.Skipped++
			continue
		}
		if _, ok := byRegion[tg.Region]; !ok && !whole[tg.Region] {
			order = append(order, tg.Region)
		}
		if tg.Images == nil {
			whole[tg.Region] = true
		}
		byRegion[tg.Region] = append(byRegion[tg.Region], tg.Images...)
		if cause[tg.Region] == "" {
			cause[tg.Region] = ev.ID
		}
	}
	var bodies []string
	for _, r := range order {
		var jobs []job.Job
		if whole[r] {
			jobs = []job.Job{{V: job.Version, Kind: job.KindRegion, Region: r, Reason: job.ReasonEvent}}
		} else {
			jobs = job.ForImages(r, byRegion[r], job.ReasonEvent)
		}
		for _, j := range jobs {
			j.RetryFailed, j.Notify, j.Cause = true, true, cause[r]
			bodies = append(bodies, j.Encode())
		}
	}
	if err := d.send(ctx, inv, bodies, d.Settings.SettleDelay); err != nil {
		return nil, err
	}
	s.Jobs = len(bodies)
	return s.bytes(), nil
}

// orgEvents enqueues a job for every managed image of every region the deployment
// covers, and, after an invitation, the first of a chain of handshake checks.
func (d *Deps) orgEvents(ctx context.Context, inv Invocation, payload []byte) ([]byte, error) {
	evs, errs := event.Decode(payload)
	var s summary
	for _, err := range errs {
		d.ignore(err, nil, "")
		s.Skipped++
	}
	changed := false
	cause := ""
	var follow []job.Job
	for i := range evs {
		ev := &evs[i]
		at, err := event.ParseActionTrail(*ev)
		if err == nil {
			err = event.Filter(*ev, at, event.OrgEventNames, d.Settings.FunctionRole)
		}
		if err != nil {
			d.ignore(err, ev, at.EventName)
			s.Skipped++
			continue
		}
		changed = true
		if cause == "" {
			cause = ev.ID
		}
		if c := event.ReadOrgChange(at); c.Invitation && (c.Handshake != "" || c.Account != "") {
			follow = append(follow, job.Job{V: job.Version, Kind: job.KindHandshake, Region: inv.Region, Reason: job.ReasonHandshake,
				Handshake: c.Handshake, Account: c.Account, Cause: ev.ID})
		}
	}
	var bodies []string
	if changed {
		for _, r := range d.regions(inv) {
			j := job.Job{V: job.Version, Kind: job.KindRegion, Region: r, Reason: job.ReasonOrg, RetryFailed: true, Notify: true, Cause: cause}
			bodies = append(bodies, j.Encode())
		}
	}
	if err := d.send(ctx, inv, bodies, d.Settings.SettleDelay); err != nil {
		return nil, err
	}
	var hs []string
	for _, j := range follow {
		hs = append(hs, j.Encode())
	}
	if err := d.send(ctx, inv, hs, job.HandshakeBase); err != nil {
		return nil, err
	}
	s.Jobs = len(bodies) + len(hs)
	return s.bytes(), nil
}

func (d *Deps) send(ctx context.Context, inv Invocation, bodies []string, delay time.Duration) error {
	if len(bodies) == 0 {
		return nil
	}
	q, err := d.Queue(inv)
	if err != nil {
		return fmt.Errorf("job queue: %w", err)
	}
	return d.retry(ctx, "SendMessage", func() error {
		return q.Send(ctx, d.Settings.JobQueue, bodies, delay)
	})
}
