package function

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"maps"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"imageshare/pkg/apply"
	"imageshare/pkg/cloud"
	"imageshare/pkg/event"
	"imageshare/pkg/job"
	"imageshare/pkg/observe"
	"imageshare/pkg/plan"
	"imageshare/pkg/policy"
	"imageshare/pkg/report"
	"imageshare/pkg/settings"
	"imageshare/pkg/state"
)

// group is the union of the jobs of one region in one invocation: one run reads the
// directory and the region's resource shares once for all of them.
type group struct {
	images []string
	all    bool
	// moved and joined: accounts that moved in the directory, or joined or left it; the
	// run looks at the images these changes can affect (events.go).
	moved, joined map[string]bool
	retryFailed   bool
	notify        bool
	// refusals: some job asks for refusals to be published too (job.ChangesOnly not
	// set); with notify alone, only changes are (jobs of the organization poll).
	refusals bool
	notified map[string]bool // refusal fingerprints published earlier in the chain
	recheck  int             // highest recheck attempt among the jobs (-1: none)
	cause    string
	reason   string // of the first job, for the jobs a run hands on
	// actors: per image, the people whose edits the jobs naming it carry; under "" those
	// of jobs about a whole region or an account (they concern every image).
	actors map[string][]report.Actor
	// confirm: per image, the earlier looks the jobs carry (SPEC R12).
	confirm map[string][]state.Confirmation
	// untagged: images whose event removed prefix tags (a hint for the report).
	untagged map[string]bool
	// hints: per image, further regions to look for its copies in (a copy there asked).
	hints map[string][]string
	// copies: images named by jobs that hand a new copy over, with the job's attempt: a
	// copy the region does not list yet is looked at again (docs/regions.md).
	copies map[string]int
}

// regionsOf lists the regions to look for copies in that the jobs carried for images.
func (g *group) regionsOf(images []string) []string {
	var out []string
	for _, im := range images {
		out = append(out, g.hints[im]...)
	}
	slices.Sort(out)
	out = slices.Compact(out)
	if len(out) > job.MaxRegions {
		out = out[:job.MaxRegions]
	}
	return out
}

// changesOnly is what the jobs a run hands on say of its notifications.
func (g *group) changesOnly() bool { return g.notify && !g.refusals }

// actorsOf lists the distinct actors a run names for an image ("" for a report about a
// managed share itself: every actor of the run).
func (g *group) actorsOf(image string) []report.Actor {
	out := slices.Clone(g.actors[""])
	var keys []string
	if image == "" {
		keys = slices.Sorted(maps.Keys(g.actors))
	} else {
		keys = []string{image}
	}
	for _, k := range keys {
		for _, a := range g.actors[k] {
			out = addActor(out, a)
		}
	}
	return out
}

// reconcile runs R1–R12 for the jobs of a batch.
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
			g = &group{recheck: -1, cause: j.Cause, reason: j.Reason, notified: map[string]bool{}, moved: map[string]bool{}, joined: map[string]bool{},
				actors: map[string][]report.Actor{}, confirm: map[string][]state.Confirmation{}, untagged: map[string]bool{}, hints: map[string][]string{},
				copies: map[string]int{}}
			groups[j.Region] = g
		}
		for _, a := range j.Actors {
			if j.Kind == job.KindRegion {
				g.actors[""] = addActor(g.actors[""], a)
			}
			for _, im := range j.Images {
				g.actors[im] = addActor(g.actors[im], a)
			}
		}
		for _, c := range j.Confirm {
			g.confirm[c.Image] = append(g.confirm[c.Image], state.Confirmation{Fingerprint: c.Fingerprint, Removals: c.Removals})
		}
		for _, im := range j.Untagged {
			g.untagged[im] = true
		}
		for _, im := range j.Images {
			for _, r := range j.Regions {
				if !slices.Contains(g.hints[im], r) {
					g.hints[im] = append(g.hints[im], r)
				}
			}
		}
		switch {
		case j.Kind == job.KindRegion && j.Account != "" && j.Reason == job.ReasonMove:
			g.moved[j.Account] = true
		case j.Kind == job.KindRegion && j.Account != "":
			g.joined[j.Account] = true
		case j.Kind == job.KindRegion:
			g.all = true
		}
		g.images = append(g.images, j.Images...)
		g.retryFailed = g.retryFailed || j.RetryFailed
		g.notify = g.notify || j.Notify
		g.refusals = g.refusals || (j.Notify && !j.ChangesOnly)
		for _, f := range j.Notified {
			g.notified[f] = true
		}
		if j.Reason == job.ReasonCopy {
			for _, im := range j.Images {
				g.copies[im] = max(g.copies[im], j.Attempt)
			}
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
	if err := d.handshakes(ctx, api, inv, handshakes, now); err != nil {
		return nil, err
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
	return (&apply.Applier{Settings: d.Settings, OnRetry: func(action string, attempt int, err error) {
		d.Log.Info("cloud call retried", "action", action, "attempt", attempt, "code", cloud.Code(err))
	}}).Call(ctx, action, call)
}

// Batches of images: a run about at most targetedImages images reads only what they
// need (an event's image, a short re-check); a larger run reads the directory and the
// shares once and its images in at least pipelineChunks chunks of minChunk to
// maxChunk images, reading the next chunk while it applies the current one (a run
// waits for its first chunk's reads and its last chunk's writes: smaller chunks make
// that shorter, larger ones join more images to a share per call).
const (
	targetedImages = 10
	pipelineChunks = 8
	minChunk       = 25
	maxChunk       = 100
	readsAhead     = 3 // chunks whose reads may be in flight
	// deadlineReserve: a run that has less time left than this (or than twice its
	// slowest chunk) before the invocation's deadline hands its remaining chunks on as
	// new jobs instead of being killed mid-way and redelivered whole.
	deadlineReserve = 20 * time.Second
)

// run reconciles one region: observe, plan, apply, report, schedule follow-ups.
func (d *Deps) run(ctx context.Context, api cloud.API, inv Invocation, region string, g *group, now time.Time) (*apply.Outcome, error) {
	a := d.applier(api)
	if as := g.actorsOf(""); len(as) > 0 {
		// Every line of the run names who asked (SPEC R10).
		a.OnRetry = func(action string, attempt int, err error) {
			d.Log.Info("cloud call retried", "action", action, "attempt", attempt, "code", cloud.Code(err), "actors", as)
		}
	}
	req := observe.Request{Region: region, Owner: inv.AccountID, Now: now, Images: g.images, All: g.all,
		Untagged: d.Settings.RedundancyScope == settings.ScopeAll, Prefix: d.Settings.TagPrefix, RetryFailed: g.retryFailed,
		Released: slices.Sorted(maps.Keys(g.untagged))}
	o := observe.New(api, req, a.Call)
	ids := slices.Clone(g.images)
	var known []state.Image
	if !g.all && len(g.moved)+len(g.joined) > 0 {
		related, err := d.related(ctx, o, g)
		if err != nil {
			return nil, fmt.Errorf("observe %s: %w", region, err)
		}
		for _, im := range related {
			if !slices.Contains(ids, im.ID) {
				ids = append(ids, im.ID)
				known = append(known, im)
			}
		}
	}
	r := &runner{d: d, inv: inv, region: region, g: g, a: a, o: o, total: &apply.Outcome{Postpone: map[string]time.Duration{},
		Confirm: map[string]state.Confirmation{}, Held: map[string]state.Confirmation{}, Handoff: map[string][]string{}, HandoffSource: map[string]string{}}}
	var err error
	switch {
	case !g.all && len(ids) == 0:
	case !g.all && len(ids) <= targetedImages:
		err = r.targeted(ctx, o, ids, known)
	default:
		err = r.pipeline(ctx, o, known)
	}
	if err != nil {
		return nil, err
	}
	if err := d.followUps(ctx, inv, region, g, r.total); err != nil {
		return nil, err
	}
	if err := d.unlistedCopies(ctx, inv, region, g, r.unlisted); err != nil {
		return nil, err
	}
	attrs := []any{"region", region, "images", r.images, "changes", r.total.Changes(), "dryRun", d.Settings.DryRun,
		"awaitingConfirmation", len(r.total.Confirm), "maxRSSKB", maxRSSKB()}
	if as := g.actorsOf(""); len(as) > 0 {
		attrs = append(attrs, "actors", as)
	}
	d.Log.Info("reconciled", attrs...)
	return r.total, nil
}

// runner plans and applies the chunks of one run and collects what they did.
type runner struct {
	d      *Deps
	o      *observe.Observer
	inv    Invocation
	region string
	g      *group
	a      *apply.Applier
	total  *apply.Outcome
	images int
	// unlisted: copies handed over that the region does not list yet.
	unlisted []string
}

// apply plans st, applies the plan, reports, and adds the outcome to the run's.
func (r *runner) apply(ctx context.Context, st *state.State) (*plan.Plan, error) {
	st.Confirmed = map[string][]state.Confirmation{}
	for _, im := range st.Images {
		if cs := r.g.confirm[im.ID]; len(cs) > 0 {
			st.Confirmed[im.ID] = cs
		}
	}
	st.ConfirmAll = r.d.SkipConfirmationForTests
	// Copies in other regions (docs/regions.md): the sources' copies where their tags,
	// the deployment and the jobs say to look, and the copies' sources.
	if err := r.o.Copies(ctx, st, r.d.regions(r.inv), r.g.hints); err != nil {
		return nil, fmt.Errorf("observe copies of %s: %w", r.region, err)
	}
	p := plan.Make(st, r.d.Settings)
	out, err := r.a.Apply(ctx, st, p)
	r.images += len(st.Images)
	for _, im := range st.Images {
		if _, ok := r.g.copies[im.ID]; ok && im.Missing {
			r.unlisted = append(r.unlisted, im.ID)
		}
	}
	// Whatever was done is reported, even when the run stops on an error.
	if out != nil {
		for i := range out.Entries {
			out.Entries[i].Actors = r.g.actorsOf(out.Entries[i].Image)
		}
		out.Entries = append(out.Entries, r.released(st)...)
		hold := r.chainGoesOn(out)
		if !r.g.refusals {
			// A run of the organization poll's jobs publishes its changes only.
			hold = func(e report.Entry) bool { return e.Action == plan.ActRefuse }
		}
		r.d.publishEntries(ctx, r.inv, out.Entries, r.g.notify, r.g.notified, hold)
		r.total.Entries = append(r.total.Entries, out.Entries...)
		r.total.Recheck = append(r.total.Recheck, out.Recheck...)
		for im, dl := range out.Postpone {
			r.total.Postpone[im] = dl
		}
		maps.Copy(r.total.Confirm, out.Confirm)
		maps.Copy(r.total.Held, out.Held)
		for region, ids := range out.Handoff {
			r.total.Handoff[region] = append(r.total.Handoff[region], ids...)
		}
		maps.Copy(r.total.HandoffSource, out.HandoffSource)
		r.total.Asks = append(r.total.Asks, out.Asks...)
	}
	if err != nil {
		return p, fmt.Errorf("apply %s: %w", r.region, err)
	}
	return p, nil
}

// chainGoesOn says which refusals to hold back from NOTIFY_TOPIC (SPEC R10): one that
// a pending association or confirmation of the same chain may still resolve is
// published only if the chain ends with it, so only when this run schedules no re-check
// and no confirmation for its image. The log has it at once all the same.
func (r *runner) chainGoesOn(out *apply.Outcome) func(report.Entry) bool {
	return func(e report.Entry) bool {
		if e.Action != plan.ActRefuse || e.Image == "" || !report.MayResolve(e.Reason) {
			return false
		}
		if _, ok := out.Confirm[e.Image]; ok {
			return true
		}
		if !slices.Contains(out.Recheck, e.Image) {
			return false
		}
		changed := slices.ContainsFunc(out.Entries, func(x report.Entry) bool { return x.Image == e.Image && x.Change() && !x.DryRun })
		return recheckAttempt(r.g, changed) < job.MaxRecheck
	}
}

// recheckAttempt is the link of the re-check chain an image's next check is: the chain
// starts again after a change, and goes on from the run's highest link otherwise.
func recheckAttempt(g *group, changed bool) int {
	if changed {
		return 0
	}
	return g.recheck + 1
}

// released reports images whose prefix tags an event removed while they still have
// direct shares or sit in a managed share: they are released with those shares (SPEC
// section 2), which a person withdrawing access should hear about.
func (r *runner) released(st *state.State) []report.Entry {
	prefix := r.d.Settings.TagPrefix
	var out []report.Entry
	for _, im := range st.Images {
		if !r.g.untagged[im.ID] || im.Missing || im.OwnerAlias != "self" || policy.Parse(prefix, im.Tags).Managed {
			continue
		}
		var parts []string
		if len(im.Direct) > 0 {
			parts = append(parts, "shared directly with "+strings.Join(slices.Sorted(slices.Values(im.Direct)), ", "))
		}
		for _, sh := range st.Shares {
			if !plan.IsManagedName(sh.Name) || !sh.Resources[im.ID].Holding() {
				continue
			}
			var ts []string
			for t, a := range sh.Targets {
				if a.Holding() {
					ts = append(ts, t)
				}
			}
			slices.Sort(ts)
			parts = append(parts, fmt.Sprintf("in resource share %s (%s)", sh.Name, strings.Join(ts, ", ")))
		}
		if len(parts) == 0 {
			continue
		}
		msg := fmt.Sprintf("its %s tags were removed while it is still %s; imageshare no longer manages it, so these stay. "+
			"To withdraw them, tag it %s:accounts=none (and no folders), wait until the change is done (its notification, or `imageshare plan --image %s` shows nothing pending), then remove the tags",
			prefix, strings.Join(parts, " and "), prefix, im.ID)
		out = append(out, report.Entry{Region: st.Region, Image: im.ID, Action: report.ActRelease, Reason: "released-with-shares",
			Message: msg, ProductCode: im.ProductCode, DryRun: r.d.Settings.DryRun, Actors: r.g.actorsOf(im.ID)})
	}
	return out
}

func (r *runner) targeted(ctx context.Context, o *observe.Observer, ids []string, known []state.Image) error {
	st, err := o.Targeted(ctx, ids, known)
	if err != nil {
		return fmt.Errorf("observe %s: %w", r.region, err)
	}
	_, err = r.apply(ctx, st)
	return err
}

// chunk is one chunk of a large run, read ahead of its turn.
type chunk struct {
	images    []state.Image
	ancestors map[string][]string
	err       error
}

// pipeline reads the directory, the shares and the images once (images that want the
// same folder set side by side, so that a share's joins, five per call, fall in few
// chunks), then each chunk's share lists (and the ancestors of folders no member path
// shows) one chunk ahead of the chunk being planned and applied, so that reads and
// writes overlap. After a chunk changed a managed share itself (created, repaired,
// deleted one), the shares are read again, so the next chunks plan against what is
// there now; a chunk's own associations concern only its own images.
func (r *runner) pipeline(ctx context.Context, o *observe.Observer, known []state.Image) error {
	var dir *state.Directory
	var shares []state.Share
	var imgs []state.Image
	if err := parallel(ctx,
		func(ctx context.Context) (err error) { dir, err = o.Directory(ctx); return err },
		func(ctx context.Context) (err error) { shares, err = o.Shares(ctx); return err },
		func(ctx context.Context) (err error) {
			if r.g.all {
				imgs, err = o.ListImages(ctx)
				return err
			}
			have := map[string]bool{}
			for _, im := range known {
				have[im.ID] = true
			}
			var todo []string
			for _, id := range r.g.images {
				if !have[id] {
					todo = append(todo, id)
				}
			}
			imgs, err = o.Images(ctx, todo)
			imgs = append(imgs, known...)
			return err
		},
	); err != nil {
		return fmt.Errorf("observe %s: %w", r.region, err)
	}
	keys := map[string]string{}
	for _, im := range imgs {
		f := slices.Clone(policy.Parse(r.d.Settings.TagPrefix, im.Tags).Folders)
		slices.Sort(f)
		keys[im.ID] = strings.Join(f, ",")
	}
	slices.SortFunc(imgs, func(a, b state.Image) int {
		if c := strings.Compare(keys[a.ID], keys[b.ID]); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	parts := chunks(imgs)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	// The reads of up to readsAhead chunks are in flight at once (the pacer keeps them
	// to the cloud's rate), so that a chunk's last retried calls do not hold up the next
	// one; each chunk's result is delivered in order.
	ready := make([]chan chunk, len(parts))
	for i := range ready {
		ready[i] = make(chan chunk, 1)
	}
	var seenMu sync.Mutex
	seen := map[string]bool{}
	if dir != nil {
		for f := range dir.Folders {
			seen[f] = true
		}
	}
	slots := make(chan struct{}, readsAhead)
	go func() {
		for i, part := range parts {
			select {
			case slots <- struct{}{}:
			case <-ctx.Done():
				return
			}
			go func() {
				c := chunk{images: part}
				err := o.ShareLists(ctx, c.images)
				if err == nil && dir != nil {
					var missing []string
					seenMu.Lock()
					for _, f := range o.TagFolders(c.images) {
						if !seen[f] {
							seen[f] = true
							missing = append(missing, f)
						}
					}
					seenMu.Unlock()
					c.ancestors, err = o.ReadAncestors(ctx, missing)
				}
				c.err = err
				ready[i] <- c
			}()
		}
	}()
	var slowest time.Duration
	for k := range parts {
		var c chunk
		select {
		case c = <-ready[k]:
		case <-ctx.Done():
			return ctx.Err()
		}
		<-slots
		if c.err != nil {
			return fmt.Errorf("observe %s: %w", r.region, c.err)
		}
		if dl, ok := ctx.Deadline(); ok && k > 0 && time.Until(dl) < max(deadlineReserve, 2*slowest) {
			return r.handOn(ctx, slices.Concat(parts[k:]...))
		}
		began := time.Now()
		for f, anc := range c.ancestors {
			dir.Folders[f] = anc
		}
		st := o.NewState()
		st.Directory, st.Shares, st.Images = dir, shares, c.images
		p, err := r.apply(ctx, st)
		if err != nil {
			return err
		}
		slowest = max(slowest, time.Since(began))
		if len(p.Shares) > 0 && !r.d.Settings.DryRun {
			if shares, err = o.RefreshShares(ctx, shares); err != nil {
				return fmt.Errorf("observe %s: %w", r.region, err)
			}
		}
	}
	return ctx.Err()
}

// chunks cuts a run's images into chunks: at least pipelineChunks of minChunk to
// maxChunk images, and, in a long run, the first two and the last two smaller (a
// quarter and a half of the others), since the run waits for the reads of the first
// and the writes of the last.
func chunks(imgs []state.Image) [][]state.Image {
	size := min(max((len(imgs)+pipelineChunks-1)/pipelineChunks, minChunk), maxChunk)
	if len(imgs) < 4*size {
		return slices.Collect(slices.Chunk(imgs, size))
	}
	small, half := size/4, size/2
	head := [][]state.Image{imgs[:small], imgs[small : small+half]}
	tail := [][]state.Image{imgs[len(imgs)-small-half : len(imgs)-small], imgs[len(imgs)-small:]}
	middle := slices.Collect(slices.Chunk(imgs[small+half:len(imgs)-small-half], size))
	return slices.Concat(head, middle, tail)
}

// handOn enqueues jobs for images the run has no time left for, with what their jobs
// carried (earlier looks, untag marks, actors).
func (r *runner) handOn(ctx context.Context, rest []state.Image) error {
	ids := make([]string, len(rest))
	for i, im := range rest {
		ids[i] = im.ID
	}
	proto := job.Job{V: job.Version, Region: r.region, Reason: r.g.reason, RetryFailed: r.g.retryFailed, Notify: r.g.notify, ChangesOnly: r.g.changesOnly(),
		Cause: r.g.cause, Notified: r.g.fingerprints(), Regions: r.g.regionsOf(ids)}
	if r.g.reason == job.ReasonRecheck {
		proto.Attempt = max(r.g.recheck, 0)
	}
	confirm := map[string][]job.Confirmation{}
	for _, id := range ids {
		for _, c := range r.g.confirm[id] {
			confirm[id] = append(confirm[id], jobConfirmation(id, c))
		}
	}
	bodies := r.g.bodies(proto, ids, confirm, r.g.untagged)
	r.d.Log.Warn("run handed on: the invocation's deadline is near", "region", r.region, "images", len(ids), "jobs", len(bodies),
		"actors", r.g.actorsOf(""))
	return r.d.send(ctx, r.inv, bodies, 0)
}

// parallel runs the functions at once and returns the first error.
func parallel(ctx context.Context, fns ...func(ctx context.Context) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	errs := make(chan error, len(fns))
	for _, fn := range fns {
		go func() {
			err := fn(ctx)
			if err != nil {
				cancel()
			}
			errs <- err
		}()
	}
	var first error
	for range fns {
		if err := <-errs; err != nil && (first == nil || errors.Is(first, context.Canceled)) {
			first = err
		}
	}
	return first
}

// publish logs every entry and, for runs caused by events, sends changes and refusals
// to NOTIFY_TOPIC.
func (d *Deps) publish(ctx context.Context, inv Invocation, entries []report.Entry, notify bool, notified map[string]bool) {
	d.publishEntries(ctx, inv, entries, notify, notified, nil)
}

// publishEntries is publish, holding back from the topic (not from the log) the
// entries hold says to.
func (d *Deps) publishEntries(ctx context.Context, inv Invocation, entries []report.Entry, notify bool, notified map[string]bool, hold func(report.Entry) bool) {
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
		if e.Action == plan.ActPostpone || (hold != nil && hold(e)) {
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
// transition (30 s doubling to 8 min), carrying confirmed removals still held back;
// confirming jobs SETTLE_DELAY later for the removals awaiting a second look (R12); and
// checks of images not yet Available. Each carries the actors of its images.
func (d *Deps) followUps(ctx context.Context, inv Invocation, region string, g *group, out *apply.Outcome) error {
	changed := map[string]bool{}
	for _, e := range out.Entries {
		if e.Change() && !e.DryRun {
			changed[e.Image] = true
		}
	}
	byAttempt := map[int][]string{}
	for _, im := range out.Recheck {
		attempt := recheckAttempt(g, changed[im])
		if attempt >= job.MaxRecheck {
			d.Log.Warn("association still in transition; leaving it to the sweep", "region", region, "image", im, "actors", g.actorsOf(im))
			continue
		}
		byAttempt[attempt] = append(byAttempt[attempt], im)
	}
	held := map[string][]job.Confirmation{}
	for im, c := range out.Held {
		held[im] = []job.Confirmation{jobConfirmation(im, c)}
	}
	for _, attempt := range sortedInts(byAttempt) {
		proto := job.Job{V: job.Version, Region: region, Reason: job.ReasonRecheck, Attempt: attempt, Notify: g.notify, ChangesOnly: g.changesOnly(), Cause: g.cause, Notified: g.fingerprints()}
		if err := d.send(ctx, inv, g.bodies(proto, byAttempt[attempt], held, nil), job.Backoff(job.RecheckBase, job.RecheckMax, attempt)); err != nil {
			return err
		}
	}
	if len(out.Confirm) > 0 {
		confirm := map[string][]job.Confirmation{}
		for _, im := range slices.Sorted(maps.Keys(out.Confirm)) {
			c := jobConfirmation(im, out.Confirm[im])
			confirm[im] = []job.Confirmation{c}
			d.Log.Info("removals awaiting confirmation", "region", region, "image", im, "removals", c.Removals,
				"after", d.Settings.SettleDelay.String(), "actors", g.actorsOf(im))
		}
		proto := job.Job{V: job.Version, Region: region, Reason: job.ReasonConfirm, RetryFailed: g.retryFailed, Notify: g.notify, ChangesOnly: g.changesOnly(),
			Cause: g.cause, Notified: g.fingerprints(), Regions: g.regionsOf(slices.Collect(maps.Keys(out.Confirm)))}
		if err := d.send(ctx, inv, g.bodies(proto, slices.Collect(maps.Keys(out.Confirm)), confirm, nil), d.Settings.SettleDelay); err != nil {
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
		proto := job.Job{V: job.Version, Region: region, Reason: job.ReasonPostpone, Notify: g.notify, ChangesOnly: g.changesOnly(), RetryFailed: g.retryFailed,
			Cause: g.cause, Notified: g.fingerprints()}
		if err := d.send(ctx, inv, g.bodies(proto, byDelay[dl], nil, nil), dl); err != nil {
			return err
		}
	}
	return d.copyJobs(ctx, inv, region, g, out)
}

// bodies encodes the jobs for images: copies of proto, one set per group of images with
// the same actors, carrying each image's confirmations and untag mark.
func (g *group) bodies(proto job.Job, images []string, confirm map[string][]job.Confirmation, untagged map[string]bool) []string {
	var out []string
	for _, grp := range byActors(images, g.actorsOf) {
		p := proto
		p.Actors = grp.actors
		for _, j := range job.Pack(p, grp.images, confirm, untagged) {
			out = append(out, j.Encode())
		}
	}
	return out
}

// jobConfirmation is a look's removals as a job carries them (at most job.MaxRemovals:
// the confirming run treats any others as a new first look).
func jobConfirmation(image string, c state.Confirmation) job.Confirmation {
	rm := c.Removals
	if len(rm) > job.MaxRemovals {
		rm = rm[:job.MaxRemovals]
	}
	return job.Confirmation{Image: image, Fingerprint: c.Fingerprint, Removals: slices.Clone(rm)}
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

// handshakeKey is what a chain of checks follows: the handshake, or (for an
// invitation whose event did not carry it) the invited account.
func handshakeKey(j job.Job) string {
	if j.Handshake != "" {
		return "h/" + j.Handshake
	}
	return "a/" + j.Account
}

// handshakes follows the invitations of a batch's handshake jobs. Jobs of one chain key
// are one check: the bus and the overlapping polls each start a chain for an
// invitation, but its links fall due at fixed times after the invitation (job.Since),
// so the duplicates are delivered together and end here, without a call. The
// directory's invitations are listed once for the batch.
func (d *Deps) handshakes(ctx context.Context, api cloud.API, inv Invocation, jobs []job.Job, now time.Time) error {
	if len(jobs) == 0 {
		return nil
	}
	byKey := map[string]int{}
	var chains []job.Job
	for _, j := range jobs {
		i, dup := byKey[handshakeKey(j)]
		if !dup {
			byKey[handshakeKey(j)] = len(chains)
			chains = append(chains, j)
			continue
		}
		// The duplicate ends here: its actors, and its wish that refusals be
		// published, go on with the chain that stays.
		c := &chains[i]
		for _, a := range j.Actors {
			c.Actors = addActor(c.Actors, a)
		}
		c.ChangesOnly = c.ChangesOnly && j.ChangesOnly
		if j.Attempt < c.Attempt {
			c.Attempt, c.Since = j.Attempt, j.Since
		}
		d.Log.Info("duplicate invitation check ended", "handshake", j.Handshake, "account", j.Account, "cause", j.Cause)
	}
	listed, err := d.listHandshakes(ctx, api, chains)
	if err != nil {
		return err
	}
	for _, j := range chains {
		if err := d.handshake(ctx, inv, j, listed, now); err != nil {
			return err
		}
	}
	return nil
}

// listHandshakes reads the directory's invitations, page by page, until every chain's
// is found or the list ends.
func (d *Deps) listHandshakes(ctx context.Context, api cloud.API, chains []job.Job) ([]cloud.Handshake, error) {
	a := d.applier(api)
	var out []cloud.Handshake
	missing := func() bool {
		for _, j := range chains {
			if findHandshake(out, j) == nil {
				return true
			}
		}
		return false
	}
	for page := 1; missing(); page++ {
		var p cloud.HandshakePage
		if err := a.Call(ctx, "ListHandshakesForResourceDirectory", func() (err error) {
			p, err = api.ListHandshakes(ctx, page)
			return err
		}); err != nil {
			if errors.Is(err, context.Canceled) {
				return nil, err
			}
			return nil, fmt.Errorf("list handshakes: %w", err)
		}
		out = append(out, p.Handshakes...)
		if len(p.Handshakes) < cloud.MaxDirectoryPage || page*cloud.MaxDirectoryPage >= p.Total {
			break
		}
	}
	return out, nil
}

// findHandshake returns the invitation a chain follows among hs (nil: not there).
func findHandshake(hs []cloud.Handshake, j job.Job) *cloud.Handshake {
	for i := range hs {
		if (j.Handshake != "" && hs[i].ID == j.Handshake) || (j.Handshake == "" && hs[i].Target == j.Account) {
			return &hs[i]
		}
	}
	return nil
}

// handshake follows an invitation: while it is pending, check again at the chain's next
// link (a chain, since invitations outlive one MNS delay); once accepted, reconcile
// every region.
func (d *Deps) handshake(ctx context.Context, inv Invocation, j job.Job, listed []cloud.Handshake, now time.Time) error {
	found := findHandshake(listed, j)
	status := "NotFound"
	if found != nil {
		status = found.Status
	}
	since, timed := time.Time{}, false
	if j.Since != "" {
		since, _ = time.Parse(time.RFC3339, j.Since)
		timed = !since.IsZero()
	}
	switch status {
	case "Pending", "NotFound":
		// An invitation not listed by its third link (35 minutes on) is not coming.
		if status == "NotFound" && ((timed && !now.Before(since.Add(job.HandshakeDue(2)))) || (!timed && j.Attempt >= 2)) {
			d.Log.Warn("invitation not found; stopped following it", "handshake", j.Handshake, "account", j.Account)
			return nil
		}
		next := j
		next.Attempt++
		delay := job.Backoff(job.HandshakeBase, job.HandshakeMax, next.Attempt)
		if timed {
			// The chain's next link: the first of its fixed times after now (a link
			// delivered late skips the times it missed).
			for next.Attempt < job.MaxHandshake && !since.Add(job.HandshakeDue(next.Attempt)).After(now) {
				next.Attempt++
			}
			delay = since.Add(job.HandshakeDue(next.Attempt)).Sub(now)
		}
		if next.Attempt >= job.MaxHandshake {
			d.Log.Warn("invitation still pending; stopped following it (the sweep covers it)", "handshake", j.Handshake)
			return nil
		}
		return d.send(ctx, inv, []string{next.Encode()}, delay)
	case "Accepted":
		var bodies []string
		for _, r := range d.regions(inv) {
			// The account joined: the images it can matter to (related) are looked at.
			bodies = append(bodies, job.Job{V: job.Version, Kind: job.KindRegion, Region: r, Reason: job.ReasonHandshake,
				Account: accountOf(found.Target), RetryFailed: true, Notify: true, ChangesOnly: j.ChangesOnly, Cause: j.Cause, Actors: j.Actors}.Encode())
		}
		d.Log.Info("invitation accepted", "handshake", found.ID, "account", found.Target)
		return d.send(ctx, inv, bodies, 0)
	default:
		d.Log.Info("invitation ended", "handshake", found.ID, "status", status)
		return nil
	}
}

// accountOf returns target when it is an account ID ("" otherwise: an invitation by
// e-mail, whose run then looks at every image).
func accountOf(target string) string {
	if policy.IsAccount(target) {
		return target
	}
	return ""
}
