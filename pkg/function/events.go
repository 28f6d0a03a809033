package function

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"imageshare/pkg/cloud"
	"imageshare/pkg/event"
	"imageshare/pkg/job"
	"imageshare/pkg/observe"
	"imageshare/pkg/policy"
	"imageshare/pkg/report"
	"imageshare/pkg/settings"
	"imageshare/pkg/state"
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

// imageEvents enqueues jobs per region with the images the events name, delayed by
// SETTLE_DELAY so that an untag-then-tag edit is seen whole. Each job names the people
// whose calls named its images (images edited by different people go in different
// jobs), and marks the images whose prefix tags a call removed (a hint for the report
// of an image released with its shares).
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
	actors := map[string][]report.Actor{} // region/image → who named it
	untagged := map[string]bool{}         // region/image → a call removed prefix tags
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
		a, ok := actorOf(at.UserIdentity)
		removesPrefix := d.removesPrefix(at)
		for _, im := range append(tg.Images, "") { // "" stands for the whole region
			if ok {
				actors[tg.Region+"/"+im] = addActor(actors[tg.Region+"/"+im], a)
			}
			if removesPrefix && im != "" {
				untagged[tg.Region+"/"+im] = true
			}
		}
	}
	var bodies []string
	elsewhere := map[string][]string{} // jobs of regions this deployment does not cover
	for _, r := range order {
		own := slices.Contains(d.regions(inv), r)
		n := len(bodies)
		proto := job.Job{V: job.Version, Region: r, Reason: job.ReasonEvent, RetryFailed: true, Notify: true, Cause: cause[r]}
		if whole[r] {
			j := proto
			j.Kind, j.Actors = job.KindRegion, actors[r+"/"]
			bodies = append(bodies, j.Encode())
			continue
		}
		marks := map[string]bool{}
		for _, im := range byRegion[r] {
			marks[im] = untagged[r+"/"+im]
		}
		for _, grp := range byActors(byRegion[r], func(im string) []report.Actor { return actors[r+"/"+im] }) {
			p := proto
			p.Actors = grp.actors
			for _, j := range job.Pack(p, grp.images, nil, marks) {
				bodies = append(bodies, j.Encode())
			}
		}
		if !own {
			// A CopyImage names its destination: a region another deployment covers gets
			// the job in its queue (docs/regions.md).
			elsewhere[r] = append(elsewhere[r], bodies[n:]...)
			bodies = bodies[:n]
		}
	}
	if err := d.send(ctx, inv, bodies, d.Settings.SettleDelay); err != nil {
		return nil, err
	}
	s.Jobs = len(bodies)
	for _, r := range slices.Sorted(maps.Keys(elsewhere)) {
		err := d.sendToRegion(ctx, inv, r, elsewhere[r], d.Settings.SettleDelay)
		if cloud.Code(err) == "QueueNotExist" {
			d.Log.Warn("no deployment covers the region an event names: the image waits for one", "region", r, "jobs", len(elsewhere[r]))
			continue
		}
		if err != nil {
			return nil, err
		}
		s.Jobs += len(elsewhere[r])
	}
	return s.bytes(), nil
}

// orgEvents enqueues, for every region the deployment covers, a job about the images a
// change of the directory can affect: an account that moved, joined or left names the
// account, and the run looks only at the images that account can matter to (related);
// other changes (folders, the directory itself) reconcile every managed image. An
// invitation changes nothing until it is accepted, so it starts a chain of handshake
// checks instead, which ends in a job for the account once it joined. Its timer (every
// minute) makes it look the same changes up in ActionTrail (poll.go).
func (d *Deps) orgEvents(ctx context.Context, inv Invocation, payload []byte) ([]byte, error) {
	if event.IsTimer(payload) {
		return d.orgPoll(ctx, inv, payload)
	}
	evs, errs := event.Decode(payload)
	var s summary
	for _, err := range errs {
		d.ignore(err, nil, "")
		s.Skipped++
	}
	// A bus event is delivered seconds after the call: its time stands for the
	// invocation's, which keeps a sandbox on its emulated clock.
	now := time.Time{}
	for _, ev := range evs {
		if t := d.eventTime(ev.Time); t.After(now) {
			now = t
		}
	}
	if err := d.orgJobs(ctx, inv, evs, orgSource{now: now}, &s); err != nil {
		return nil, err
	}
	return s.bytes(), nil
}

// orgSource says where directory changes were found.
type orgSource struct {
	// poll: found by the ActionTrail poll, whose windows overlap: the jobs publish
	// changes only (job.ChangesOnly).
	poll bool
	// now is the invocation's time: the handshake chains' links fall due after it.
	now time.Time
}

// orgJobs enqueues the jobs for directory changes, ActionTrail records wrapped as
// CloudEvents (from the bus, or found by the poll): the same narrowing, handshake
// chains and actors whichever way they came. Each job carries the ID of the first event
// that asked for it (for a poll, the ActionTrail eventId).
func (d *Deps) orgJobs(ctx context.Context, inv Invocation, evs []event.CloudEvent, src orgSource, s *summary) error {
	whole := false
	cause := map[string]string{} // "" (whole), "move/<account>" or "join/<account>" → event ID
	var actors []report.Actor
	moved, joined := map[string]bool{}, map[string]bool{}
	follow := map[time.Duration][]job.Job{} // handshake checks by delay
	var delays []time.Duration
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
		a, hasActor := actorOf(at.UserIdentity)
		if hasActor {
			actors = addActor(actors, a)
		}
		c := event.ReadOrgChange(at)
		account := c.Account
		if acct, ok := at.ResponseElements["Account"].(map[string]any); ok && account == "" {
			account, _ = acct["AccountId"].(string) // CreateResourceAccount answers with the new account
		}
		key := ""
		switch {
		case c.Invitation && (c.Handshake != "" || c.Account != ""):
			// Keyed by the invitation's time: the chain's links fall due at the same
			// times whoever starts it (the bus, each overlapping poll), so duplicates
			// meet in one batch and are one check (reconcile.go, handshakes).
			since := src.now
			if t, err := time.Parse(time.RFC3339Nano, firstOf(at.EventTime, ev.Time)); err == nil {
				since = t.UTC()
			}
			attempt, delay, ok := job.HandshakeLink(since, src.now)
			if !ok {
				d.Log.Info("invitation older than its chain of checks; left to the sweep", "id", ev.ID, "handshake", c.Handshake)
				continue
			}
			hs := job.Job{V: job.Version, Kind: job.KindHandshake, Region: inv.Region, Reason: job.ReasonHandshake,
				Handshake: c.Handshake, Account: c.Account, Cause: ev.ID, Attempt: attempt, Since: since.Format(time.RFC3339),
				ChangesOnly: src.poll}
			if hasActor {
				hs.Actors = []report.Actor{a} // the inviter asked for what the acceptance brings
			}
			if _, seen := follow[delay]; !seen {
				delays = append(delays, delay)
			}
			follow[delay] = append(follow[delay], hs)
			continue
		case c.Invitation:
			whole = true
		case !policy.IsAccount(account):
			whole = true
		case at.EventName == "MoveAccount":
			moved[account], key = true, "move/"+account
		case slices.Contains(membershipEvents, at.EventName):
			joined[account], key = true, "join/"+account
		default:
			whole = true
		}
		if _, ok := cause[key]; !ok {
			cause[key] = ev.ID
		}
	}
	var bodies []string
	for _, r := range d.regions(inv) {
		mk := func(reason, account, key string) {
			j := job.Job{V: job.Version, Kind: job.KindRegion, Region: r, Reason: reason, Account: account, RetryFailed: true, Notify: true,
				ChangesOnly: src.poll, Cause: cause[key], Actors: actors}
			bodies = append(bodies, j.Encode())
		}
		if whole {
			mk(job.ReasonOrg, "", "")
			continue
		}
		for _, a := range slices.Sorted(maps.Keys(moved)) {
			mk(job.ReasonMove, a, "move/"+a)
		}
		for _, a := range slices.Sorted(maps.Keys(joined)) {
			mk(job.ReasonOrg, a, "join/"+a)
		}
	}
	if err := d.send(ctx, inv, bodies, d.Settings.SettleDelay); err != nil {
		return err
	}
	s.Jobs += len(bodies)
	slices.Sort(delays)
	for _, dl := range delays {
		var hs []string
		for _, j := range follow[dl] {
			hs = append(hs, j.Encode())
		}
		if err := d.send(ctx, inv, hs, dl); err != nil {
			return err
		}
		s.Jobs += len(hs)
	}
	return nil
}

func firstOf(xs ...string) string {
	for _, x := range xs {
		if x != "" {
			return x
		}
	}
	return ""
}

// actorOf reads who made a call as reports name them (SPEC R10): type, account,
// principal and user name, clipped to what a job carries; never the access key ID.
func actorOf(u event.UserIdentity) (report.Actor, bool) {
	clean := func(s string) string {
		s = strings.Map(func(r rune) rune {
			if r < 0x20 || r == 0x7f {
				return -1
			}
			return r
		}, s)
		if len(s) > 128 {
			s = strings.ToValidUTF8(s[:128], "")
		}
		return s
	}
	a := report.Actor{Type: clean(u.Type), AccountID: clean(u.AccountID), PrincipalID: clean(u.PrincipalID), UserName: clean(u.UserName)}
	return a, a != report.Actor{}
}

// addActor adds a to the distinct actors of list, at most job.MaxActors of them.
func addActor(list []report.Actor, a report.Actor) []report.Actor {
	if slices.Contains(list, a) || len(list) >= job.MaxActors {
		return list
	}
	return append(list, a)
}

// actorGroup is images that the same people asked about.
type actorGroup struct {
	actors []report.Actor
	images []string
}

// byActors groups images by the set of actors that named them, in a stable order.
func byActors(images []string, of func(string) []report.Actor) []actorGroup {
	var out []actorGroup
	index := map[string]int{}
	ids := slices.Clone(images)
	slices.Sort(ids)
	for _, im := range slices.Compact(ids) {
		as := of(im)
		var key strings.Builder
		for _, a := range as {
			fmt.Fprintf(&key, "%q/%q/%q/%q;", a.Type, a.AccountID, a.PrincipalID, a.UserName)
		}
		i, ok := index[key.String()]
		if !ok {
			i = len(out)
			index[key.String()] = i
			out = append(out, actorGroup{actors: as})
		}
		out[i].images = append(out[i].images, im)
	}
	return out
}

// removesPrefix reports whether an untag call removed prefix tags (or all tags).
func (d *Deps) removesPrefix(at event.ActionTrail) bool {
	keys, all := event.RemovedTagKeys(at)
	if all {
		return true
	}
	for _, k := range keys {
		if k == d.Settings.TagPrefix || strings.HasPrefix(k, d.Settings.TagPrefix+":") {
			return true
		}
	}
	return false
}

// membershipEvents make an account a member or take it out of the directory.
var membershipEvents = []string{"CreateResourceAccount", "CreateCloudAccount", "AcceptHandshake", "RemoveCloudAccount", "DeleteAccount"}

// related reads the images a change of the accounts of g can affect. The planner
// looks at an account's membership and place only for images whose tags name it or
// that are shared with it directly (R3, R5–R7); of those that are shared with it but do
// not name it, only additive images (and untagged ones with REDUNDANCY_SCOPE=all) keep
// the share, so only they can change. An account that joined or left matters to any
// image naming it: every image is listed. An account that moved is still a member, so
// it matters only through coverage, which only resource shares give: the candidates
// are the images some share holds, and of those not naming it only the ones a share
// reaching its new place holds (a direct share to it can have become redundant; one it
// lost coverage for is restored only if the tags name it). The images come back with
// their share lists read.
func (d *Deps) related(ctx context.Context, o *observe.Observer, g *group) ([]state.Image, error) {
	var imgs []state.Image
	var covering func(im string) bool // nil: any image may be covered anew
	if len(g.joined) > 0 {
		var err error
		if imgs, err = o.ListImages(ctx); err != nil {
			return nil, err
		}
	} else {
		var ids []string
		var shares []state.Share
		moved := slices.Sorted(maps.Keys(g.moved))
		places := make([]*cloud.Account, len(moved))
		err := parallel(ctx,
			func(ctx context.Context) (err error) { ids, shares, err = o.HeldImages(ctx); return err },
			func(ctx context.Context) error {
				for i, a := range moved {
					var err error
					if places[i], err = o.Member(ctx, a); err != nil {
						return err
					}
				}
				return nil
			})
		if err == nil {
			imgs, err = o.Images(ctx, ids)
		}
		if err != nil {
			return nil, err
		}
		reach := map[string]bool{} // targets that reach a moved account where it is now
		for i, a := range moved {
			if places[i] == nil {
				reach = nil // not a member any more: be safe
				break
			}
			reach[a] = true
			for _, part := range strings.Split(places[i].Path, "/") {
				reach[part] = true
			}
		}
		if reach != nil {
			held := map[string]bool{}
			for _, sh := range shares {
				for t, a := range sh.Targets {
					if reach[t] && a.Holding() {
						for im, ra := range sh.Resources {
							held[im] = held[im] || ra.Holding()
						}
					}
				}
			}
			covering = func(im string) bool { return held[im] }
		}
	}
	names := func(accounts []string) bool {
		for _, a := range accounts {
			if g.moved[a] || g.joined[a] {
				return true
			}
		}
		return false
	}
	scopeAll := d.Settings.RedundancyScope == settings.ScopeAll
	var named, maybe []state.Image
	for _, im := range imgs {
		if im.Missing || im.OwnerAlias != "self" {
			continue
		}
		p := policy.Parse(d.Settings.TagPrefix, im.Tags)
		switch {
		case p.Managed && len(p.Errors) == 0 && names(p.Accounts):
			named = append(named, im)
		case !im.SelfShared || (covering != nil && !covering(im.ID)):
		case (p.Managed && len(p.Errors) == 0 && p.Mode == policy.Additive) || (!p.Managed && scopeAll):
			maybe = append(maybe, im) // related if shared with the account
		}
	}
	candidates := slices.Concat(named, maybe)
	// The members and folders the candidates name are read meanwhile, for the run that
	// follows.
	var accounts []string
	for _, im := range candidates {
		accounts = append(accounts, policy.Parse(d.Settings.TagPrefix, im.Tags).Accounts...)
	}
	slices.Sort(accounts)
	if len(accounts) > observe.MaxTargetedAccounts {
		accounts = nil
	}
	if err := parallel(ctx,
		func(ctx context.Context) error { return o.ShareLists(ctx, candidates) },
		func(ctx context.Context) error { return o.Members(ctx, slices.Compact(accounts)) },
		func(ctx context.Context) error { _, err := o.ReadAncestors(ctx, o.TagFolders(candidates)); return err },
	); err != nil {
		return nil, err
	}
	out := slices.Clone(candidates[:len(named)])
	for _, im := range candidates[len(named):] {
		if names(im.Direct) {
			out = append(out, im)
		}
	}
	return out, nil
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
