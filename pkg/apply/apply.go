// Package apply executes a plan through the cloud API in the order that keeps every
// account's access: managed shares and associations first, R8's tags, direct removes,
// direct adds, and only then disassociations (make before break). It retries what R9
// says to retry, narrows failing batches down to the accounts failing alone, and turns
// the rest into refusals with a remedy.
package apply

import (
	"context"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"
	"time"

	"imageshare/pkg/cloud"
	"imageshare/pkg/plan"
	"imageshare/pkg/policy"
	"imageshare/pkg/report"
	"imageshare/pkg/settings"
	"imageshare/pkg/state"
)

// Applier executes plans.
type Applier struct {
	API      cloud.API
	Settings settings.Settings
	// Sleep waits between retries; nil sleeps for real (and stops with ctx).
	Sleep func(ctx context.Context, d time.Duration) error
	// Jitter returns a number in [0, 1); nil uses math/rand.
	Jitter func() float64
	// OnRetry is told about each retried call (for logs); may be nil.
	OnRetry func(action string, attempt int, err error)
}

// Outcome is what a run did.
type Outcome struct {
	Entries []report.Entry
	// Recheck lists images whose associations are in transition: a delayed re-check
	// must follow.
	Recheck []string
	// Postpone: images not Available yet, with when to look again.
	Postpone map[string]time.Duration
	// Confirm: per image, the R12 removals this look found, with the fingerprint of the
	// tags it saw, for a confirming job SETTLE_DELAY later (none in a dry run).
	Confirm map[string]state.Confirmation
	// Held: per image, confirmed removals make-before-break still holds back, for the
	// re-checks of the chain to carry.
	Held map[string]state.Confirmation
	// Handoff: per region, the copies this run made or retagged (docs/regions.md), whose
	// jobs go to the deployment of the region.
	Handoff map[string][]string
	// Actors of a handed-over copy are those of its source: Handoff's copy → source.
	HandoffSource map[string]string
	// Asks: copies whose tags are not what their source asks for: a job for each source,
	// to its deployment.
	Asks []plan.SourceAsk
}

// Changes counts the changes among the entries.
func (o *Outcome) Changes() int {
	n := 0
	for _, e := range o.Entries {
		if e.Change() {
			n++
		}
	}
	return n
}

// Call runs one cloud call with R9's retries: throttling, server errors and conflicts
// are retried with exponential backoff and jitter from RETRY_BASE up to RETRY_MAX; then
// the error is returned and the job is redelivered.
func (a *Applier) Call(ctx context.Context, action string, call func() error) error {
	delay := a.Settings.RetryBase
	for attempt := 1; ; attempt++ {
		err := call()
		if err == nil || !cloud.Retryable(err) {
			return err
		}
		if delay > a.Settings.RetryMax {
			return fmt.Errorf("%s: gave up after %d attempts: %w", action, attempt, err)
		}
		if a.OnRetry != nil {
			a.OnRetry(action, attempt, err)
		}
		// Equal jitter: half the delay fixed, half random, so concurrent runs spread out.
		d := delay/2 + time.Duration(a.jitter()*float64(delay/2))
		if dl, ok := ctx.Deadline(); ok && time.Until(dl) < d {
			return fmt.Errorf("%s: no time left to retry: %w", action, err)
		}
		if serr := a.sleep(ctx, d); serr != nil {
			return fmt.Errorf("%s: %w (while retrying %v)", action, serr, err)
		}
		delay *= 2
	}
}

func (a *Applier) jitter() float64 {
	if a.Jitter != nil {
		return a.Jitter()
	}
	return rand.Float64()
}

func (a *Applier) sleep(ctx context.Context, d time.Duration) error {
	if a.Sleep != nil {
		return a.Sleep(ctx, d)
	}
	return cloud.Sleep(ctx, d)
}

// Apply executes p, which was planned from st.
func (a *Applier) Apply(ctx context.Context, st *state.State, p *plan.Plan) (*Outcome, error) {
	r := &run{a: a, st: st, p: p, out: &Outcome{Postpone: map[string]time.Duration{}, Confirm: map[string]state.Confirmation{}, Held: map[string]state.Confirmation{},
		Handoff: map[string][]string{}, HandoffSource: map[string]string{}},
		shareIDs: map[string]string{}, broken: map[string]bool{}, skip: map[string]bool{}, gone: map[string]bool{}, removesRefused: map[string]bool{}, recheck: map[string]bool{},
		rsRefused: map[string]bool{}, stopReported: map[string]bool{}, products: map[string]string{}}
	for _, ip := range p.Images {
		r.products[ip.Image] = ip.ProductCode
	}
	r.indexShares()
	for _, ip := range p.Images {
		for _, ref := range ip.Refusals {
			r.entry(ip.Image, plan.ActRefuse, ref.Subject, ref.Reason, ref.Message)
		}
		if ip.Postpone > 0 {
			r.out.Postpone[ip.Image] = ip.Postpone
			r.entry(ip.Image, plan.ActPostpone, "", "image-not-available", fmt.Sprintf("the image is not Available yet; looking again in %s", ip.Postpone))
		}
		for _, k := range ip.Keep {
			r.entry(ip.Image, plan.ActKeep, k.Subject, k.Reason, k.Message)
		}
		if ip.AskSource != nil && !a.Settings.DryRun {
			r.out.Asks = append(r.out.Asks, *ip.AskSource)
		}
	}
	if a.Settings.DryRun {
		r.dryRun()
		return r.out, nil
	}
	steps := []func(context.Context) error{r.make, r.associate, r.retain, r.direct, r.breakPhase, r.copies}
	for _, step := range steps {
		if err := step(ctx); err != nil {
			r.finish()
			return r.out, err
		}
	}
	r.finish()
	return r.out, nil
}

type run struct {
	a        *Applier
	st       *state.State
	p        *plan.Plan
	out      *Outcome
	shareIDs map[string]string // managed name → canonical share ID (existing or created)
	broken   map[string]bool   // images whose make phase did not complete: no break for them
	skip     map[string]bool   // images to leave alone for the rest of the run (gone, refused)
	gone     map[string]bool   // images the cloud no longer knows
	// removesRefused: images a removal of whose direct shares the cloud refused for the
	// whole image.
	removesRefused map[string]bool
	stopRS         string // a whole-run error code: no further Resource Sharing writes
	stopErr        error  // the error that set stopRS
	// stopReported: images already refused because of stopRS.
	stopReported map[string]bool
	recheck      map[string]bool
	// rsRefused: images whose Resource Sharing writes the cloud refused (or a whole-run
	// error stopped): the moves the plan counted on did not start.
	rsRefused map[string]bool
	products  map[string]string
}

func (r *run) indexShares() {
	created := map[string]time.Time{}
	for _, sh := range r.st.Shares {
		if !plan.IsManagedName(sh.Name) {
			continue
		}
		if t, ok := created[sh.Name]; !ok || sh.Created.Before(t) || sh.Created.Equal(t) && sh.ID < r.shareIDs[sh.Name] {
			created[sh.Name] = sh.Created
			r.shareIDs[sh.Name] = sh.ID
		}
	}
}

func (r *run) entry(image, action, subject, reason, msg string, requestIDs ...string) {
	var ids []string
	for _, id := range requestIDs {
		if id != "" {
			ids = append(ids, id)
		}
	}
	r.out.Entries = append(r.out.Entries, report.Entry{Region: r.st.Region, Image: image, Action: action, Subject: subject,
		Reason: reason, Message: msg, RequestIDs: ids, DryRun: r.a.Settings.DryRun, ProductCode: r.products[image]})
}

// refuseErr turns a cloud error into a refusal entry with its remedy.
func (r *run) refuseErr(image, subject string, err error) {
	code := cloud.Code(err)
	if code == "" {
		code = "error"
	}
	r.entry(image, plan.ActRefuse, subject, code, remedyFor(code).text+" ("+err.Error()+")", cloud.RequestIDOf(err))
}

// rsError handles a Resource Sharing error that is not retryable: a whole-run error
// stops Resource Sharing writes; others are refused for the images concerned.
func (r *run) rsError(images []string, err error) {
	code := cloud.Code(err)
	if remedyFor(code).scope == scopeRun && r.stopRS == "" {
		r.stopRS, r.stopErr = code, err
		if len(images) == 0 {
			r.refuseErr("", "", err) // a share operation no image of the run waits for
		}
	}
	if r.stopRS != "" {
		r.stopped(images)
		return
	}
	for _, im := range images {
		r.broken[im] = true
		r.rsRefused[im] = true
		r.refuseErr(im, "", err)
	}
}

// stopped refuses, once each, the images whose Resource Sharing writes a whole-run error
// stopped: whole-run errors are reported as refusals of the whole image (subject ""),
// so that the owner of each image concerned learns why its folders are not shared.
func (r *run) stopped(images []string) {
	for _, im := range images {
		r.broken[im] = true
		r.rsRefused[im] = true
		if !r.stopReported[im] {
			r.stopReported[im] = true
			r.refuseErr(im, "", r.stopErr)
		}
	}
}

func (r *run) imagePlan(id string) *plan.ImagePlan { return r.p.Image(id) }

func targetsOf(op plan.ShareOp) string { return strings.Join(op.Targets, ",") }

// make creates managed shares, adds missing targets and clears AllowExternalTargets.
func (r *run) make(ctx context.Context) error {
	for _, op := range r.p.Shares {
		if r.stopRS != "" {
			if op.Op == plan.OpCreate || op.Op == plan.OpAddTargets || op.Op == plan.OpSetInternal {
				r.stopped(r.imagesWanting(op.Share.Name))
			}
			continue
		}
		var err error
		switch op.Op {
		case plan.OpCreate:
			err = r.create(ctx, op)
		case plan.OpAddTargets:
			err = r.addTargets(ctx, op.Share.ID, op.Share.Name, op.Targets, r.imagesWanting(op.Share.Name))
		case plan.OpSetInternal:
			var res cloud.Result
			err = r.a.Call(ctx, "UpdateResourceShare", func() (e error) {
				res, e = r.a.API.UpdateResourceShare(ctx, r.st.Region, op.Share.ID, op.Share.Name, false)
				return e
			})
			if err == nil {
				r.entry("", "repair", op.Share.Name, "allow-external-targets", "AllowExternalTargets set back to false on a managed share", res.RequestID)
			} else if !cloud.Retryable(err) {
				r.rsError(r.imagesWanting(op.Share.Name), err)
				err = nil
			}
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func (r *run) imagesWanting(name string) []string {
	var out []string
	for _, ip := range r.p.Images {
		for _, ref := range ip.Associate {
			if ref.Name == name {
				out = append(out, ip.Image)
			}
		}
	}
	for _, op := range r.p.Shares {
		if op.Op == plan.OpCreate && op.Share.Name == name {
			for _, im := range op.Resources {
				if !slices.Contains(out, im) {
					out = append(out, im)
				}
			}
		}
	}
	sort.Strings(out)
	return out
}

func (r *run) create(ctx context.Context, op plan.ShareOp) error {
	res := op.Resources[:min(len(op.Resources), cloud.MaxSharingEntities)]
	tgs := op.Targets[:min(len(op.Targets), cloud.MaxSharingEntities)]
	var info cloud.ShareInfo
	var result cloud.Result
	found := false // a retry found the share an earlier attempt made
	call := func(targets []string) error {
		attempt := 0
		return r.a.Call(ctx, "CreateResourceShare", func() (e error) {
			if attempt++; attempt > 1 {
				// CreateResourceShare has no idempotency token, and a server error may
				// come after the share was made: look before making a second one (a
				// duplicate would count against MAX_MANAGED_SHARES until merged).
				if sh, ok, err := r.findShare(ctx, op.Share.Name); err != nil || ok {
					info, found = sh, ok
					return err
				}
			}
			info, result, e = r.a.API.CreateResourceShare(ctx, r.st.Region, op.Share.Name, res, targets)
			return e
		})
	}
	err := call(tgs)
	if remedyFor(cloud.Code(err)).scope == scopeTarget {
		// One of the targets is refused: create without them, then add them one batch
		// at a time so that only the bad ones are refused.
		tgs = nil
		err = call(nil)
	}
	if err != nil {
		if cloud.Retryable(err) {
			return err
		}
		r.rsError(op.Resources, err)
		return nil
	}
	r.shareIDs[op.Share.Name] = info.ID
	if found {
		// Whether the attempt that made it carried the targets and images is unknown:
		// associate them all (associating again what is there succeeds).
		if err := r.addTargets(ctx, info.ID, op.Share.Name, op.Targets, op.Resources); err != nil {
			return err
		}
		return r.associateImages(ctx, info.ID, op.Share.Name, targetsOf(op), op.Resources)
	}
	for _, t := range tgs {
		r.entry("", plan.ActAssociate, t, op.Share.Name, "target of a new managed resource share", result.RequestID)
	}
	for _, im := range res {
		r.entry(im, plan.ActAssociate, targetsOf(op), op.Share.Name, "joined managed resource share "+op.Share.Name, result.RequestID)
		r.recheck[im] = true
	}
	var rest []string
	for _, t := range op.Targets {
		if !slices.Contains(tgs, t) {
			rest = append(rest, t)
		}
	}
	if err := r.addTargets(ctx, info.ID, op.Share.Name, rest, op.Resources); err != nil {
		return err
	}
	return r.associateImages(ctx, info.ID, op.Share.Name, targetsOf(op), op.Resources[len(res):])
}

// findShare looks for an active resource share of the owner with this name.
func (r *run) findShare(ctx context.Context, name string) (cloud.ShareInfo, bool, error) {
	for token := ""; ; {
		p, err := r.a.API.ListResourceShares(ctx, r.st.Region, token)
		if err != nil {
			return cloud.ShareInfo{}, false, err
		}
		for _, sh := range p.Shares {
			if sh.Name == name && (sh.Status == "" || sh.Status == "Active") {
				return sh, true, nil
			}
		}
		if token = p.NextToken; token == "" {
			return cloud.ShareInfo{}, false, nil
		}
	}
}

// addTargets associates targets with a share, narrowing a refused batch to the targets
// that fail alone.
func (r *run) addTargets(ctx context.Context, shareID, name string, targets, images []string) error {
	for chunk := range slices.Chunk(targets, cloud.MaxSharingEntities) {
		if err := r.narrowTargets(ctx, shareID, name, chunk, images); err != nil {
			return err
		}
	}
	for _, im := range images {
		r.recheck[im] = true
	}
	return nil
}

func (r *run) narrowTargets(ctx context.Context, shareID, name string, targets, images []string) error {
	if len(targets) == 0 || r.stopRS != "" {
		return nil
	}
	var res cloud.Result
	err := r.a.Call(ctx, "AssociateResourceShare", func() (e error) {
		res, e = r.a.API.AssociateResourceShare(ctx, r.st.Region, shareID, nil, targets)
		return e
	})
	switch {
	case err == nil:
		for _, t := range targets {
			r.entry("", plan.ActAssociate, t, name, "target added to managed resource share", res.RequestID)
		}
		return nil
	case cloud.Retryable(err):
		return err
	case remedyFor(cloud.Code(err)).scope == scopeTarget:
		if len(targets) == 1 {
			for _, im := range images {
				r.refuseErr(im, targets[0], err)
			}
			return nil
		}
		h := len(targets) / 2
		if err := r.narrowTargets(ctx, shareID, name, targets[:h], images); err != nil {
			return err
		}
		return r.narrowTargets(ctx, shareID, name, targets[h:], images)
	}
	r.rsError(images, err)
	return nil
}

// associate joins images to their managed shares, five per call.
func (r *run) associate(ctx context.Context) error {
	byShare := map[string][]string{}
	var order []string
	for _, ip := range r.p.Images {
		for _, ref := range ip.Associate {
			id := ref.ID
			if id == "" {
				continue // created with the share, or its creation failed
			}
			if _, ok := byShare[id]; !ok {
				order = append(order, id)
			}
			byShare[id] = append(byShare[id], ip.Image)
		}
	}
	for _, id := range order {
		name := ""
		for _, sh := range r.st.Shares {
			if sh.ID == id {
				name = sh.Name
			}
		}
		if err := r.associateImages(ctx, id, name, "", byShare[id]); err != nil {
			return err
		}
	}
	return nil
}

func (r *run) associateImages(ctx context.Context, shareID, name, targets string, images []string) error {
	if targets == "" {
		for _, sh := range r.st.Shares {
			if sh.ID == shareID {
				var ts []string
				for t := range sh.Targets {
					ts = append(ts, t)
				}
				sort.Strings(ts)
				targets = strings.Join(ts, ",")
			}
		}
	}
	for chunk := range slices.Chunk(images, cloud.MaxSharingEntities) {
		if err := r.narrowResources(ctx, shareID, name, targets, chunk); err != nil {
			return err
		}
	}
	return nil
}

func (r *run) narrowResources(ctx context.Context, shareID, name, targets string, images []string) error {
	if r.stopRS != "" {
		r.stopped(images)
		return nil
	}
	if len(images) == 0 {
		return nil
	}
	var res cloud.Result
	err := r.a.Call(ctx, "AssociateResourceShare", func() (e error) {
		res, e = r.a.API.AssociateResourceShare(ctx, r.st.Region, shareID, images, nil)
		return e
	})
	switch {
	case err == nil:
		for _, im := range images {
			r.entry(im, plan.ActAssociate, targets, name, "joined managed resource share "+name, res.RequestID)
			r.recheck[im] = true
		}
		return nil
	case cloud.Retryable(err):
		return err
	case remedyFor(cloud.Code(err)).scope != scopeRun && len(images) > 1:
		h := len(images) / 2
		if err := r.narrowResources(ctx, shareID, name, targets, images[:h]); err != nil {
			return err
		}
		return r.narrowResources(ctx, shareID, name, targets, images[h:])
	}
	r.rsError(images, err)
	return nil
}

// retain is R8: write the tags, read them back, revoke only what is recorded.
func (r *run) retain(ctx context.Context) error {
	for _, ip := range r.p.Images {
		if ip.Retain == nil || r.skip[ip.Image] {
			continue
		}
		var res cloud.Result
		err := r.a.Call(ctx, "TagResources", func() (e error) {
			res, e = r.a.API.TagResources(ctx, r.st.Region, []string{ip.Image}, ip.Retain.Tags)
			return e
		})
		if err != nil {
			if cloud.Retryable(err) {
				return err
			}
			r.skip[ip.Image] = true
			if remedyFor(cloud.Code(err)).scope != scopeGone {
				r.entry(ip.Image, plan.ActRefuse, "", plan.ReasonRetain, "recording redundant direct shares in tags failed, so none was revoked: "+remedyFor(cloud.Code(err)).text+" ("+err.Error()+")", cloud.RequestIDOf(err))
			}
			continue
		}
		for _, k := range slices.Sorted(maps.Keys(ip.Retain.Tags)) {
			r.entry(ip.Image, plan.ActRetain, k+"="+ip.Retain.Tags[k], "redundant-direct-shares", "", res.RequestID)
		}
		var page cloud.ImagePage
		err = r.a.Call(ctx, "DescribeImages", func() (e error) {
			page, e = r.a.API.DescribeImages(ctx, cloud.DescribeImagesInput{Region: r.st.Region, ImageIDs: []string{ip.Image},
				Statuses: cloud.AllStatuses, OwnerAlias: "self", Page: 1, PageSize: cloud.MaxImagePage})
			return e
		})
		if err != nil {
			if cloud.Retryable(err) {
				return err
			}
			r.skip[ip.Image] = true
			continue
		}
		recorded := map[string]bool{}
		for _, im := range page.Images {
			for k, v := range im.Tags {
				base := r.a.Settings.TagPrefix + ":accounts:retained"
				if k == base || strings.HasPrefix(k, base+":") {
					for _, id := range policy.Split(v) {
						recorded[id] = true
					}
				}
			}
		}
		var revoke []string
		for _, acct := range ip.Retain.Accounts {
			if recorded[acct] {
				revoke = append(revoke, acct)
			}
		}
		if err := r.modify(ctx, ip.Image, nil, revoke, plan.WhyRedundant); err != nil {
			return err
		}
	}
	return nil
}

// direct applies each image's direct part: removes first (they free quota and never cut
// access the plan keeps), then adds.
func (r *run) direct(ctx context.Context) error {
	for _, ip := range r.p.Images {
		if r.skip[ip.Image] {
			continue
		}
		var remove []string
		for _, u := range ip.Unshare {
			remove = append(remove, u.Account)
		}
		if err := r.modify(ctx, ip.Image, nil, remove, ""); err != nil {
			return err
		}
		if r.skip[ip.Image] {
			r.broken[ip.Image] = true
			continue
		}
		if err := r.modify(ctx, ip.Image, ip.Share, nil, "tag"); err != nil {
			return err
		}
		if err := r.modify(ctx, ip.Image, ip.Reassert, nil, "reassert before leaving a share that reaches it"); err != nil {
			return err
		}
		if r.rsRefused[ip.Image] && len(ip.Deferred) > 0 {
			// The organization share the plan counted on was refused: share directly.
			if err := r.modify(ctx, ip.Image, ip.Deferred, nil, "tag"); err != nil {
				return err
			}
		}
	}
	return nil
}

// modify calls ModifyImageSharePermission in batches of ten, narrowing a refused batch
// by halves to the accounts that fail alone.
func (r *run) modify(ctx context.Context, image string, add, remove []string, reason string) error {
	for chunk := range slices.Chunk(remove, cloud.MaxAccountsPerCall) {
		if err := r.narrowModify(ctx, image, nil, chunk, reason); err != nil {
			return err
		}
	}
	for chunk := range slices.Chunk(add, cloud.MaxAccountsPerCall) {
		if err := r.narrowModify(ctx, image, chunk, nil, reason); err != nil {
			return err
		}
	}
	return nil
}

func (r *run) narrowModify(ctx context.Context, image string, add, remove []string, reason string) error {
	if r.skip[image] || len(add)+len(remove) == 0 {
		if len(add) > 0 {
			r.broken[image] = true
		}
		return nil
	}
	var res cloud.Result
	err := r.a.Call(ctx, "ModifyImageSharePermission", func() (e error) {
		res, e = r.a.API.ModifyImageSharePermission(ctx, r.st.Region, image, add, remove)
		return e
	})
	if err == nil {
		ip := r.imagePlan(image)
		for _, a := range add {
			r.entry(image, plan.ActShare, a, reason, "", res.RequestID)
		}
		for _, a := range remove {
			why := reason
			if ip != nil {
				for _, u := range ip.Unshare {
					if u.Account == a {
						why = u.Why
						if u.Via != "" {
							why += " via " + u.Via
						}
					}
				}
			}
			r.entry(image, plan.ActUnshare, a, why, "", res.RequestID)
		}
		return nil
	}
	if cloud.Retryable(err) {
		return err
	}
	switch remedyFor(cloud.Code(err)).scope {
	case scopeGone:
		r.skip[image] = true
		r.gone[image] = true
		return nil
	case scopeAccount:
		batch := append(slices.Clone(add), remove...)
		if len(batch) == 1 {
			if len(add) > 0 {
				r.broken[image] = true
			}
			r.refuseErr(image, batch[0], err)
			return nil
		}
		if len(add) > 0 {
			h := len(add) / 2
			if err := r.narrowModify(ctx, image, add[:h], nil, reason); err != nil {
				return err
			}
			return r.narrowModify(ctx, image, add[h:], nil, reason)
		}
		h := len(remove) / 2
		if err := r.narrowModify(ctx, image, nil, remove[:h], reason); err != nil {
			return err
		}
		return r.narrowModify(ctx, image, nil, remove[h:], reason)
	}
	r.skip[image] = true
	r.broken[image] = true
	if len(remove) > 0 {
		r.removesRefused[image] = true
	}
	r.refuseErr(image, "", err)
	return nil
}

// breakPhase disassociates images from the shares they leave and removes extra targets,
// after every add of the run, and never for an image whose make phase failed.
func (r *run) breakPhase(ctx context.Context) error {
	byShare := map[string][]string{}
	names := map[string]string{}
	var order []string
	for _, ip := range r.p.Images {
		for _, ref := range ip.Disassociate {
			if r.broken[ip.Image] && !(ref.Merge && !r.gone[ip.Image]) {
				// The image's adds were refused: the leaves that take access away wait
				// (make before break); merging a duplicate of the share it stays in does not.
				continue
			}
			if _, ok := byShare[ref.ID]; !ok {
				order = append(order, ref.ID)
			}
			byShare[ref.ID] = append(byShare[ref.ID], ip.Image)
			names[ref.ID] = ref.Name
		}
	}
	for _, id := range order {
		for chunk := range slices.Chunk(byShare[id], cloud.MaxSharingEntities) {
			if r.stopRS != "" {
				r.stopped(chunk) // they stay in the old share: safe, and reported
				continue
			}
			var res cloud.Result
			err := r.a.Call(ctx, "DisassociateResourceShare", func() (e error) {
				res, e = r.a.API.DisassociateResourceShare(ctx, r.st.Region, id, chunk, nil)
				return e
			})
			if err != nil {
				if cloud.Retryable(err) {
					return err
				}
				r.rsError(chunk, err)
				continue
			}
			for _, im := range chunk {
				r.entry(im, plan.ActDisassociate, names[id], "left resource share", "", res.RequestID)
				r.recheck[im] = true
			}
		}
	}
	anyBroken := len(r.broken) > 0
	for _, op := range r.p.Shares {
		if r.stopRS != "" {
			return nil
		}
		switch {
		case op.Op == plan.OpRemoveTargets && !anyBroken:
			for chunk := range slices.Chunk(op.Targets, cloud.MaxSharingEntities) {
				var res cloud.Result
				err := r.a.Call(ctx, "DisassociateResourceShare", func() (e error) {
					res, e = r.a.API.DisassociateResourceShare(ctx, r.st.Region, op.Share.ID, nil, chunk)
					return e
				})
				if err != nil {
					if cloud.Retryable(err) {
						return err
					}
					r.rsError(nil, err)
					continue
				}
				for _, t := range chunk {
					r.entry("", plan.ActDisassociate, t, op.Share.Name, "target removed from managed resource share (it was not in the tags' folder set)", res.RequestID)
				}
			}
		case op.Op == plan.OpDelete:
			var res cloud.Result
			err := r.a.Call(ctx, "DeleteResourceShare", func() (e error) {
				res, e = r.a.API.DeleteResourceShare(ctx, r.st.Region, op.Share.ID)
				return e
			})
			if err != nil && cloud.Retryable(err) {
				return err
			}
			if err == nil {
				r.entry("", "delete", op.Share.Name, "empty-managed-share", "deleted an empty duplicate managed resource share "+op.Share.ID, res.RequestID)
			}
		}
	}
	return nil
}

// finish collects the images to re-check. When the cloud refused an image's Resource
// Sharing writes, nothing moves because of this run: a chain of re-checks would only
// repeat the refusal (and, for event-caused runs, its notification) until it ran out.
// Such an image is re-checked only while the cloud shows one of its associations in
// transition; the refused part is tried again on the next event or sweep.
func (r *run) finish() {
	for _, ip := range r.p.Images {
		if !ip.Recheck || r.skip[ip.Image] {
			continue
		}
		if r.rsRefused[ip.Image] && !r.moving(ip.Image) {
			continue
		}
		r.recheck[ip.Image] = true
	}
	for im := range r.recheck {
		r.out.Recheck = append(r.out.Recheck, im)
	}
	sort.Strings(r.out.Recheck)
	// R12: what awaits a second look goes to a confirming job; confirmed leaves still
	// held back ride on the chain's re-checks. An image that is gone, or whose removals
	// the cloud refused for the whole image, gets neither: the next look starts over.
	// An image whose adds alone were refused (encrypted without the role, say) keeps
	// its confirming job: the removals do not depend on the adds, and starting over at
	// every look would keep a share the tags no longer name for good.
	for _, ip := range r.p.Images {
		if r.gone[ip.Image] || r.removesRefused[ip.Image] {
			continue
		}
		if len(ip.Confirm) > 0 {
			r.out.Confirm[ip.Image] = state.Confirmation{Fingerprint: ip.Fingerprint, Removals: plan.Keys(ip.Confirm)}
		}
		if len(ip.Held) > 0 && r.recheck[ip.Image] {
			r.out.Held[ip.Image] = state.Confirmation{Fingerprint: ip.Fingerprint, Removals: slices.Clone(ip.Held)}
		}
	}
}

// moving reports whether an association of the image was observed in transition.
func (r *run) moving(image string) bool {
	for _, sh := range r.st.Shares {
		if a, ok := sh.Resources[image]; ok && (a.Status == state.Associating || a.Status == state.Disassociating) {
			return true
		}
	}
	return false
}

// dryRun reports every planned change without calling any write API.
func (r *run) dryRun() {
	for _, op := range r.p.Shares {
		switch op.Op {
		case plan.OpCreate, plan.OpAddTargets:
			for _, t := range op.Targets {
				r.entry("", plan.ActAssociate, t, op.Share.Name, op.Op)
			}
		case plan.OpRemoveTargets:
			for _, t := range op.Targets {
				r.entry("", plan.ActDisassociate, t, op.Share.Name, op.Op)
			}
		default:
			r.entry("", op.Op, op.Share.Name, "managed-share", "")
		}
	}
	for _, ip := range r.p.Images {
		for _, ref := range ip.Associate {
			r.entry(ip.Image, plan.ActAssociate, ref.Name, "tag", "")
		}
		if ip.Retain != nil {
			for _, k := range slices.Sorted(maps.Keys(ip.Retain.Tags)) {
				r.entry(ip.Image, plan.ActRetain, k+"="+ip.Retain.Tags[k], "redundant-direct-shares", "")
			}
			for _, a := range ip.Retain.Accounts {
				r.entry(ip.Image, plan.ActUnshare, a, plan.WhyRedundant, "")
			}
		}
		for _, u := range ip.Unshare {
			r.entry(ip.Image, plan.ActUnshare, u.Account, u.Why+prefixed(" via ", u.Via), "")
		}
		for _, a := range ip.Share {
			r.entry(ip.Image, plan.ActShare, a, "tag", "")
		}
		for _, ref := range ip.Disassociate {
			r.entry(ip.Image, plan.ActDisassociate, ref.Name, "left resource share", "")
		}
		for _, op := range ip.Copies {
			r.copyEntry(ip.Image, op)
		}
		// R12: a first look reports its removals "after confirmation" and queues nothing.
		for _, rm := range ip.Confirm {
			reason := rm.Why
			if rm.Action == plan.ActDisassociate {
				reason = "left resource share"
			}
			r.entry(ip.Image, rm.Action, rm.Subject, reason, "after confirmation: a second look SETTLE_DELAY later must find the tags unchanged (R12)")
			r.out.Entries[len(r.out.Entries)-1].AfterConfirmation = true
		}
	}
}

func prefixed(p, s string) string {
	if s == "" {
		return ""
	}
	return p + s
}
