package function

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"slices"
	"sort"
	"time"

	"imageshare/pkg/apply"
	"imageshare/pkg/cloud"
	"imageshare/pkg/event"
	"imageshare/pkg/job"
	"imageshare/pkg/observe"
	"imageshare/pkg/plan"
	"imageshare/pkg/report"
	"imageshare/pkg/settings"
)

// group is the union of the jobs of one region in one invocation: one run reads the
// directory and the region's resource shares once for all of them.
type group struct {
	images      []string
	all         bool
	retryFailed bool
	notify      bool
	notified    map[string]bool // refusal fingerprints published earlier in the chain
	recheck     int             // highest recheck attempt among the jobs (-1: none)
	cause       string
}

// reconcile runs R1–R11 for the jobs of a batch.
func (d *Deps) reconcile(ctx context.Context, inv Invocation, payload []byte) ([]byte, error) {
	evs, errs := event.Decode(payload)
	msgs, merrs := event.QueueMessages(evs)
	var s summary
	for _, err := range append(errs, merrs...) {
		d.ignore(err, nil, "")
		s.Skipped++
	}
	now := time.Time{}
	for _, ev := range evs {
		if t := d.eventTime(ev.Time); t.After(now) {
			now = t
		}
	}
	if now.IsZero() {
		now = d.now()
	}
	groups := map[string]*group{}
	var handshakes []job.Job
	for _, m := range msgs {
		j, err := job.Decode(m.Body)
		if err != nil {
			d.Log.Warn("job refused", "id", m.EventID, "messageId", m.MessageID, "reason", err.Error())
			s.Skipped++
			continue
		}
		if j.Kind == job.KindHandshake {
			handshakes = append(handshakes, j)
			continue
		}
		g := groups[j.Region]
		if g == nil {
			g = &group{recheck: -1, cause: j.Cause, notified: map[string]bool{}}
			groups[j.Region] = g
		}
		g.all = g.all || j.Kind == job.KindRegion
		g.images = append(g.images, j.Images...)
		g.retryFailed = g.retryFailed || j.RetryFailed
		g.notify = g.notify || j.Notify
		for _, f := range j.Notified {
			g.notified[f] = true
		}
		if j.Reason == job.ReasonRecheck && j.Attempt > g.recheck {
			g.recheck = j.Attempt
		}
	}
	if len(groups) == 0 && len(handshakes) == 0 {
		return s.bytes(), nil
	}
	api, err := d.API(inv)
	if err != nil {
		return nil, fmt.Errorf("cloud clients: %w", err)
	}
	for _, j := range handshakes {
		if err := d.handshake(ctx, api, inv, j); err != nil {
			return nil, err
		}
	}
	regions := make([]string, 0, len(groups))
	for r := range groups {
		regions = append(regions, r)
	}
	sort.Strings(regions)
	for _, r := range regions {
		out, err := d.run(ctx, api, inv, r, groups[r], now)
		if err != nil {
			return nil, err
		}
		s.Changes += out.Changes()
		for _, e := range out.Entries {
			if e.Action == plan.ActRefuse {
				s.Refused++
			}
		}
	}
	return s.bytes(), nil
}

// applier builds the applier with the deployment's settings.
func (d *Deps) applier(api cloud.API) *apply.Applier {
	return &apply.Applier{API: api, Settings: d.Settings, OnRetry: func(action string, attempt int, err error) {
		d.Log.Info("cloud call retried", "action", action, "attempt", attempt, "code", cloud.Code(err))
	}}
}

func (d *Deps) retry(ctx context.Context, action string, call func() error) error {
	return (&apply.Applier{Settings: d.Settings}).Call(ctx, action, call)
}

// run reconciles one region: observe, plan, apply, report, schedule follow-ups.
func (d *Deps) run(ctx context.Context, api cloud.API, inv Invocation, region string, g *group, now time.Time) (*apply.Outcome, error) {
	a := d.applier(api)
	st, err := observe.Observe(ctx, api, observe.Request{
		Region: region, Owner: inv.AccountID, Now: now, Images: g.images, All: g.all,
		Untagged: d.Settings.RedundancyScope == settings.ScopeAll, Prefix: d.Settings.TagPrefix, RetryFailed: g.retryFailed,
	}, a.Call)
	if err != nil {
		return nil, fmt.Errorf("observe %s: %w", region, err)
	}
	p := plan.Make(st, d.Settings)
	out, applyErr := a.Apply(ctx, st, p)
	// Whatever was done is reported, even when the run stops on an error.
	if out != nil {
		d.publish(ctx, inv, out.Entries, g.notify, g.notified)
	}
	if applyErr != nil {
		return nil, fmt.Errorf("apply %s: %w", region, applyErr)
	}
	if err := d.followUps(ctx, inv, region, g, out); err != nil {
		return nil, err
	}
	d.Log.Info("reconciled", "region", region, "images", len(st.Images), "changes", out.Changes(), "dryRun", d.Settings.DryRun)
	return out, nil
}

// publish logs every entry and, for runs caused by events, sends changes and refusals
// to NOTIFY_TOPIC.
func (d *Deps) publish(ctx context.Context, inv Invocation, entries []report.Entry, notify bool, notified map[string]bool) {
	for _, e := range entries {
		report.Log(ctx, d.Log, e)
	}
	if !notify || d.Settings.NotifyTopic == "" {
		return
	}
	q, err := d.Queue(inv)
	if err != nil {
		d.Log.Error("notifications not sent", "error", err.Error())
		return
	}
	for _, e := range entries {
		if e.Action == plan.ActPostpone {
			continue
		}
		if e.Action == plan.ActRefuse {
			fp := fingerprint(e)
			if notified[fp] {
				continue // already told, earlier in this chain of re-checks
			}
			if notified != nil {
				notified[fp] = true
			}
		}
		b, _ := json.Marshal(report.Notify(e))
		if err := d.retry(ctx, "PublishMessage", func() error { return q.Publish(ctx, d.Settings.NotifyTopic, string(b)) }); err != nil {
			d.Log.Error("notification not sent", "image", e.Image, "action", e.Action, "error", err.Error())
		}
	}
}

// followUps schedules the delayed jobs a run needs: re-checks while associations are in
// transition (30 s doubling to 8 min), and checks of images not yet Available.
func (d *Deps) followUps(ctx context.Context, inv Invocation, region string, g *group, out *apply.Outcome) error {
	changed := map[string]bool{}
	for _, e := range out.Entries {
		if e.Change() && !e.DryRun {
			changed[e.Image] = true
		}
	}
	byAttempt := map[int][]string{}
	for _, im := range out.Recheck {
		attempt := g.recheck + 1
		if changed[im] {
			attempt = 0
		}
		if attempt >= job.MaxRecheck {
			d.Log.Warn("association still in transition; leaving it to the sweep", "region", region, "image", im)
			continue
		}
		byAttempt[attempt] = append(byAttempt[attempt], im)
	}
	for _, attempt := range sortedInts(byAttempt) {
		var bodies []string
		for _, j := range job.ForImages(region, byAttempt[attempt], job.ReasonRecheck) {
			j.Attempt, j.Notify, j.Cause, j.Notified = attempt, g.notify, g.cause, g.fingerprints()
			bodies = append(bodies, j.Encode())
		}
		if err := d.send(ctx, inv, bodies, job.Backoff(job.RecheckBase, job.RecheckMax, attempt)); err != nil {
			return err
		}
	}
	byDelay := map[time.Duration][]string{}
	for im, delay := range out.Postpone {
		byDelay[delay] = append(byDelay[delay], im)
	}
	delays := make([]time.Duration, 0, len(byDelay))
	for dl := range byDelay {
		delays = append(delays, dl)
	}
	slices.Sort(delays)
	for _, dl := range delays {
		var bodies []string
		for _, j := range job.ForImages(region, byDelay[dl], job.ReasonPostpone) {
			j.Notify, j.RetryFailed, j.Cause, j.Notified = g.notify, g.retryFailed, g.cause, g.fingerprints()
			bodies = append(bodies, j.Encode())
		}
		if err := d.send(ctx, inv, bodies, dl); err != nil {
			return err
		}
	}
	return nil
}

// fingerprint identifies a refusal (image, subject, reason) in 8 hex characters.
func fingerprint(e report.Entry) string {
	h := fnv.New32a()
	h.Write([]byte(e.Image + "\x00" + e.Subject + "\x00" + e.Reason))
	return fmt.Sprintf("%08x", h.Sum32())
}

// fingerprints lists what the chain has published, bounded so a job stays small.
func (g *group) fingerprints() []string {
	out := make([]string, 0, len(g.notified))
	for f := range g.notified {
		out = append(out, f)
	}
	slices.Sort(out)
	if len(out) > job.MaxNotified {
		out = out[:job.MaxNotified]
	}
	return out
}

func sortedInts[V any](m map[int]V) []int {
	out := make([]int, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// handshake follows an invitation: while it is pending, check again later (a chain,
// since invitations outlive one MNS delay); once accepted, reconcile every region.
func (d *Deps) handshake(ctx context.Context, api cloud.API, inv Invocation, j job.Job) error {
	a := d.applier(api)
	var found *cloud.Handshake
	for page := 1; found == nil; page++ {
		var p cloud.HandshakePage
		if err := a.Call(ctx, "ListHandshakesForResourceDirectory", func() (err error) {
			p, err = api.ListHandshakes(ctx, page)
			return err
		}); err != nil {
			if errors.Is(err, context.Canceled) {
				return err
			}
			return fmt.Errorf("list handshakes: %w", err)
		}
		for i := range p.Handshakes {
			h := p.Handshakes[i]
			if (j.Handshake != "" && h.ID == j.Handshake) || (j.Handshake == "" && h.Target == j.Account) {
				found = &h
				break
			}
		}
		if len(p.Handshakes) < cloud.MaxDirectoryPage || page*cloud.MaxDirectoryPage >= p.Total {
			break
		}
	}
	status := "NotFound"
	if found != nil {
		status = found.Status
	}
	switch status {
	case "Pending", "NotFound":
		if status == "NotFound" && j.Attempt >= 2 {
			d.Log.Warn("invitation not found; stopped following it", "handshake", j.Handshake, "account", j.Account)
			return nil
		}
		if j.Attempt+1 >= job.MaxHandshake {
			d.Log.Warn("invitation still pending; stopped following it (the sweep covers it)", "handshake", j.Handshake)
			return nil
		}
		next := j
		next.Attempt++
		return d.send(ctx, inv, []string{next.Encode()}, job.Backoff(job.HandshakeBase, job.HandshakeMax, next.Attempt))
	case "Accepted":
		var bodies []string
		for _, r := range d.regions(inv) {
			bodies = append(bodies, job.Job{V: job.Version, Kind: job.KindRegion, Region: r, Reason: job.ReasonHandshake,
				RetryFailed: true, Notify: true, Cause: j.Cause}.Encode())
		}
		d.Log.Info("invitation accepted", "handshake", found.ID, "account", found.Target)
		return d.send(ctx, inv, bodies, 0)
	default:
		d.Log.Info("invitation ended", "handshake", found.ID, "status", status)
		return nil
	}
}
