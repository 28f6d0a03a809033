package function

import (
	"context"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"time"

	"imageshare/pkg/cloud"
	"imageshare/pkg/event"
)

// The organization poll (SPEC section 5): EventBridge documents no Resource Management
// source, so org-events also looks the directory's writes up in ActionTrail. Its timer
// fires every minute; on a minute since midnight UTC that is a multiple of ORG_POLL it
// calls LookupEvents in ORG_EVENTS_REGION (where global events are listed) for the
// window of the last ORG_POLL + ORG_POLL_LAG, and feeds every record it finds through
// the code of a bus event (orgJobs).

// pollWindow is the window a poll looks at: [Start, End] of eventTime.
type pollWindow struct{ Start, End time.Time }

// windowOf returns the window of the poll of tick, and false when tick's minute is not a
// poll (ORG_POLL off, or the minutes since midnight UTC not a multiple of it). The window
// ends at the tick's minute and reaches back ORG_POLL + ORG_POLL_LAG: consecutive polls
// overlap by ORG_POLL_LAG, so an event ActionTrail lists up to ORG_POLL_LAG late is
// still in the window of a poll that runs after it is listed, and nothing falls between
// two polls.
func windowOf(tick time.Time, poll, lag time.Duration) (pollWindow, bool) {
	if poll <= 0 {
		return pollWindow{}, false
	}
	end := tick.UTC().Truncate(time.Minute)
	minutes := end.Hour()*60 + end.Minute()
	if minutes%int(poll/time.Minute) != 0 {
		return pollWindow{}, false
	}
	return pollWindow{Start: end.Add(-(poll + lag)), End: end}, true
}

// orgWriteAttributes select the Resource Directory's writes: the two conditions
// LookupEvents allows (https://www.alibabacloud.com/help/en/actiontrail/support/how-to-set-the-lookupattribute-parameter),
// ANDed. ServiceName=ResourceManager is the directory's service (its records carry
// serviceName ResourceManager); EventRW=Write leaves out the reads, which are most of
// the service's events in the account the functions run in (every reconcile run reads
// the directory). An EventName condition would take one call per API name.
var orgWriteAttributes = []cloud.LookupAttribute{{Key: "ServiceName", Value: "ResourceManager"}, {Key: "EventRW", Value: "Write"}}

// maxPollPages bounds the pages one poll reads (50 events each): a directory with more
// writes than that in one window is left to the sweep for the rest.
const maxPollPages = 100

// pageGap spaces a poll's calls at the rate LookupEvents takes: "at most two calls a
// second" per account.
const pageGap = time.Second / 2

// pollSpread is the span over which the deployments of the regions spread their polls:
// every regional deployment polls the same account's global events, and LookupEvents
// takes two calls a second per account.
const pollSpread = 30 * time.Second

// pollOffset is the second of the minute a region's poll calls at: a fixed hash of the
// region, so that the deployments of several regions, whose timers fire at the same
// second, do not call at once.
func pollOffset(region string) time.Duration {
	h := fnv.New32a()
	h.Write([]byte(region))
	return time.Duration(h.Sum32()%uint32(pollSpread/time.Second)) * time.Second
}

// orgPoll handles org-events' timer.
func (d *Deps) orgPoll(ctx context.Context, inv Invocation, payload []byte) ([]byte, error) {
	var s summary
	t, err := event.DecodeTimer(payload)
	if err != nil {
		d.ignore(err, nil, "")
		return s.bytes(), nil
	}
	tick, err := time.Parse(time.RFC3339, t.TriggerTime)
	if err != nil {
		d.ignore(&event.Error{Reason: "timer payload: triggerTime is not an RFC 3339 time"}, nil, "")
		return s.bytes(), nil
	}
	w, ok := windowOf(tick, d.Settings.OrgPoll, d.Settings.OrgPollLag)
	if !ok {
		return s.bytes(), nil // not a poll minute: nothing to say, every minute
	}
	if err := d.waitOffset(ctx, inv.Region, w.End); err != nil {
		return nil, err
	}
	api, err := d.API(inv)
	if err != nil {
		return nil, fmt.Errorf("cloud clients: %w", err)
	}
	records, calls, malformed, err := d.lookupOrgWrites(ctx, api, w)
	if err != nil {
		return nil, fmt.Errorf("org poll %s: %w", d.Settings.OrgEventsRegion, err)
	}
	s.Skipped += malformed
	var evs []event.CloudEvent
	for _, r := range records {
		ev, err := event.FromTrail(r)
		if err != nil {
			d.ignore(err, nil, "")
			s.Skipped++
			continue
		}
		evs = append(evs, ev)
	}
	if err := d.orgJobs(ctx, inv, evs, orgSource{poll: true, now: w.End}, &s); err != nil {
		return nil, err
	}
	d.Log.Info("organization poll", "region", d.Settings.OrgEventsRegion, "from", w.Start.Format(time.RFC3339),
		"to", w.End.Format(time.RFC3339), "calls", calls, "records", len(records), "jobs", s.Jobs, "skipped", s.Skipped)
	return s.bytes(), nil
}

// waitOffset waits until the region's second of the tick's minute, when the tick is on
// time (a late or retried tick, or a clock that is not the tick's, calls at once).
func (d *Deps) waitOffset(ctx context.Context, region string, tick time.Time) error {
	now := d.now()
	due := tick.Add(pollOffset(region))
	if now.Before(tick) || !now.Before(due) {
		return nil
	}
	if err := d.sleep(ctx, due.Sub(now)); err != nil {
		return fmt.Errorf("org poll: waiting for its second: %w", err)
	}
	return nil
}

func (d *Deps) sleep(ctx context.Context, dl time.Duration) error {
	if d.Sleep != nil {
		return d.Sleep(ctx, dl)
	}
	return cloud.Sleep(ctx, dl)
}

// lookupOrgWrites reads every page of the directory's writes in w (R9's retries on each
// call), and returns them with the number of calls made and of records that were not
// JSON objects.
func (d *Deps) lookupOrgWrites(ctx context.Context, api cloud.API, w pollWindow) ([]json.RawMessage, int, int, error) {
	in := cloud.LookupEventsInput{Region: d.Settings.OrgEventsRegion, Start: w.Start, End: w.End, Attributes: orgWriteAttributes,
		MaxResults: cloud.MaxEventPage}
	var out []json.RawMessage
	calls, malformed := 0, 0
	for page := 1; ; page++ {
		var p cloud.EventPage
		if err := d.retry(ctx, "LookupEvents", func() (err error) {
			calls++
			p, err = api.LookupEvents(ctx, in)
			return err
		}); err != nil {
			return nil, calls, malformed, err
		}
		out = append(out, p.Events...)
		malformed += p.Malformed
		if p.NextToken == "" || p.NextToken == in.NextToken {
			return out, calls, malformed, nil
		}
		if page >= maxPollPages {
			d.Log.Warn("organization poll: too many directory writes in the window; the sweep covers the rest",
				"pages", page, "records", len(out))
			return out, calls, malformed, nil
		}
		in.NextToken = p.NextToken
		if err := d.sleep(ctx, pageGap); err != nil {
			return nil, calls, malformed, fmt.Errorf("between pages: %w", err)
		}
	}
}
