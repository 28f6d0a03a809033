package plan

import (
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
	"time"

	"imageshare/pkg/policy"
	"imageshare/pkg/settings"
	"imageshare/pkg/state"
)

// Postpone backoff for images still being created: wait as long again as the image
// has existed, within these bounds, so that duplicate chains of checks fall in step.
const (
	postponeMin = 30 * time.Second
	postponeMax = 15 * time.Minute
	// FailedRetryAfter: a Failed association is tried again after this long even when
	// nothing changed (R4).
	FailedRetryAfter = 24 * time.Hour
)

// Tag-value and tag-count limits of ECS (TagResources API reference): R8 must fit in them.
const (
	maxTagValue = 128
	maxTags     = 20
)

// Make plans one run over the images of st.
func Make(st *state.State, set settings.Settings) *Plan {
	p := &planner{st: st, set: set, groups: map[string][]*state.Share{},
		removing: map[string]map[string]bool{}, adding: map[string]map[string]bool{}}
	p.indexShares()
	var ctxs []*imageCtx
	for i := range st.Images {
		if c := p.prepare(&st.Images[i]); c != nil {
			ctxs = append(ctxs, c)
		}
	}
	sort.Slice(ctxs, func(i, j int) bool { return ctxs[i].img.ID < ctxs[j].img.ID })
	p.planShares(ctxs)
	out := &Plan{Region: st.Region, Shares: p.ops}
	for _, c := range ctxs {
		out.Images = append(out.Images, p.finish(c))
	}
	return out
}

type planner struct {
	st     *state.State
	set    settings.Settings
	groups map[string][]*state.Share // managed name → shares, oldest first
	ops    []ShareOp
	// created: names of managed shares this plan creates, with the images it starts with.
	created map[string]*ShareOp
	// limited: wanted names refused by MAX_MANAGED_SHARES.
	limited map[string]bool
	// removing / adding: share ID → targets this plan disassociates from / associates with it.
	removing map[string]map[string]bool
	adding   map[string]map[string]bool
	// targetRefusals: refusals about a managed share's targets, per name.
	targetRefusals map[string][]Refusal
	// pendingTargets: names whose canonical share has targets in transition or being fixed.
	pendingTargets map[string]bool
	// gated: names whose canonical share still holds targets outside the wanted set, so
	// no image may join it yet (it would reach accounts the tags do not name).
	gated map[string]bool
}

// imageCtx is one image between the two passes of the planner.
type imageCtx struct {
	img  *state.Image
	pol  policy.Policy
	plan ImagePlan
	done bool // nothing more to decide (frozen, postponed, unmanaged…)
	// allowed: tag accounts R3 lets through, in tag order; refused: the others.
	allowed []string
	refused map[string]bool
	targets []string // normalized organization target set O
	name    string   // managed share name for O ("" when O is empty)
	// onWay: the image is in, or on its way into, the managed share for O.
	onWay bool
}

func (p *planner) indexShares() {
	for i := range p.st.Shares {
		sh := &p.st.Shares[i]
		if IsManagedName(sh.Name) {
			p.groups[sh.Name] = append(p.groups[sh.Name], sh)
		}
	}
	for _, g := range p.groups {
		sort.Slice(g, func(i, j int) bool {
			if !g[i].Created.Equal(g[j].Created) {
				return g[i].Created.Before(g[j].Created)
			}
			return g[i].ID < g[j].ID
		})
	}
}

func (p *planner) managedCount() int {
	n := 0
	for _, g := range p.groups {
		n += len(g)
	}
	return n
}

// prepare applies R1, R2, the tag language and R3 to one image.
func (p *planner) prepare(img *state.Image) *imageCtx {
	if img.Missing || img.OwnerAlias != "self" { // R1; a missing image is gone (R9 no-op)
		return nil
	}
	c := &imageCtx{img: img, refused: map[string]bool{}}
	c.pol = policy.Parse(p.set.TagPrefix, img.Tags)
	c.plan = ImagePlan{Image: img.ID, Managed: c.pol.Managed, ProductCode: img.ProductCode}
	if !c.pol.Managed {
		c.done = true
		if p.set.RedundancyScope == settings.ScopeAll && p.set.RevokeRedundant && img.Status == state.Available {
			p.retain(c)
		}
		return c
	}
	c.plan.Mode = c.pol.Mode
	c.plan.Fingerprint = Fingerprint(p.set.TagPrefix, img.Tags)
	switch img.Status {
	case state.Available:
	case state.Creating, state.Waiting:
		p.postpone(c)
		return c
	default:
		c.refuse("", ReasonImageStatus, fmt.Sprintf("the image is %s; nothing is shared until it is Available (an image can be shared only when Available)", img.Status))
		c.done = true
		return c
	}
	if len(c.pol.Errors) > 0 {
		for _, e := range c.pol.Errors {
			c.refuse(e.Subject, ReasonTagError, fmt.Sprintf("tag %s: %s; the image is left exactly as it is until the tag is fixed", e.Key, e.Reason))
		}
		c.done = true
		return c
	}
	if c.pol.IsCopy() && len(c.pol.RegionsKeys) > 0 {
		c.refuse(c.pol.RegionsKeys[0], ReasonRegionsOnCopy, fmt.Sprintf("this image is the copy of %s: a copy is never copied again, so its regions keys are ignored; set them on the source",
			policy.SourceValue(c.pol.SourceRegion, c.pol.SourceImage)))
	}
	p.guard(c)
	return c
}

// confirmed reports whether an earlier look at the image, with the same fingerprint,
// carried the R12 removal key (SPEC R12: a removal needs two looks at unchanged tags).
func (p *planner) confirmed(c *imageCtx, key string) bool {
	if p.st.ConfirmAll {
		return true
	}
	for _, conf := range p.st.Confirmed[c.img.ID] {
		if conf.Fingerprint == c.plan.Fingerprint && slices.Contains(conf.Removals, key) {
			return true
		}
	}
	return false
}

// awaiting adds an R12 removal to the ones awaiting confirmation (once per subject).
func (c *imageCtx) awaiting(r Removal) {
	if !slices.ContainsFunc(c.plan.Confirm, func(o Removal) bool { return o.Subject == r.Subject }) {
		c.plan.Confirm = append(c.plan.Confirm, r)
	}
}

func (c *imageCtx) refuse(subject, reason, msg string) {
	c.plan.Refusals = append(c.plan.Refusals, Refusal{Subject: subject, Reason: reason, Message: msg})
}

func (p *planner) postpone(c *imageCtx) {
	c.done = true
	now, created, limit := p.st.Now, c.img.Created, p.set.ImageWaitMax
	if created.IsZero() {
		c.plan.Postpone = time.Minute
		return
	}
	age := now.Sub(created)
	if age >= limit {
		c.refuse("", ReasonImageWait, fmt.Sprintf("the image has been %s for %s, longer than IMAGE_WAIT_MAX (%s); fix or delete it, or retag it once it is Available", c.img.Status, age.Round(time.Second), limit))
		return
	}
	d := min(max(age, postponeMin), postponeMax)
	if left := created.Add(limit).Sub(now); left < d {
		d = left + time.Second
	}
	c.plan.Postpone = d
}

// guard is R3: direct targets must be members or allowed and not the owner; folder
// targets must exist. It also normalizes the organization target set (R4).
func (p *planner) guard(c *imageCtx) {
	for _, a := range c.pol.Accounts {
		switch {
		case a == p.st.Owner:
			c.refused[a] = true
			c.refuse(a, ReasonOwner, "this is the image owner's own account; an image cannot be shared with its owner")
		case p.st.IsMember(a) || p.set.Allowed(a):
			c.allowed = append(c.allowed, a)
		default:
			c.refused[a] = true
			c.refuse(a, ReasonNotAllowed, "the account is neither a member of the Resource Directory nor listed in ALLOWED_EXTERNAL_ACCOUNTS; invite it into the directory or add it to ALLOWED_EXTERNAL_ACCOUNTS")
		}
	}
	var ok []string
	for _, f := range c.pol.Folders {
		switch {
		case p.st.Directory == nil:
			c.refuse(f, ReasonNoDirectory, "the owner has no Resource Directory, so nothing can be shared with folders; create one and enable sharing with it, or use account IDs")
		case policy.IsDirectory(f) && f != p.st.Directory.ID:
			c.refuse(f, ReasonUnknownDirectory, fmt.Sprintf("this is not the owner's Resource Directory (%s)", p.st.Directory.ID))
		case policy.IsFolder(f) && !p.st.FolderExists(f):
			c.refuse(f, ReasonUnknownFolder, "the folder does not exist in the Resource Directory; check the ID in the Resource Management console")
		default:
			ok = append(ok, f)
		}
	}
	c.targets = p.normalize(ok)
	if len(c.targets) > 0 {
		c.name = ShareName(c.targets)
	}
}

// normalize keeps only the directory when it is named, and drops folders that sit
// under another folder of the set (sub-folders are covered anyway).
func (p *planner) normalize(targets []string) []string {
	if p.st.Directory != nil && slices.Contains(targets, p.st.Directory.ID) {
		return []string{p.st.Directory.ID}
	}
	set := map[string]bool{}
	for _, t := range targets {
		set[t] = true
	}
	var out []string
	for _, t := range targets {
		under := false
		for _, anc := range p.st.Ancestors(t) {
			if set[anc] {
				under = true
				break
			}
		}
		if !under {
			out = append(out, t)
		}
	}
	sort.Strings(out)
	return out
}

// retryable says whether a Failed association may be tried again now.
func (p *planner) retryable(a state.Association) bool {
	return p.st.RetryFailed || p.st.Now.Sub(a.Updated) >= FailedRetryAfter
}

// planShares decides the share-level operations: create missing managed shares, repair
// targets and AllowExternalTargets of the ones the batch wants, delete empty duplicates.
func (p *planner) planShares(ctxs []*imageCtx) {
	p.created = map[string]*ShareOp{}
	p.limited = map[string]bool{}
	p.targetRefusals = map[string][]Refusal{}
	p.pendingTargets = map[string]bool{}
	p.gated = map[string]bool{}
	want := map[string][]string{}
	var names []string
	for _, c := range ctxs {
		if c.done || c.name == "" {
			continue
		}
		if _, ok := want[c.name]; !ok {
			names = append(names, c.name)
			want[c.name] = c.targets
		}
	}
	count := p.managedCount()
	for _, name := range names {
		targets := want[name]
		g := p.groups[name]
		if len(g) == 0 {
			if count >= p.set.MaxManagedShares {
				p.limited[name] = true
				continue
			}
			count++
			op := &ShareOp{Op: OpCreate, Share: ShareRef{Name: name}, Targets: targets}
			for _, c := range ctxs {
				if !c.done && c.name == name {
					op.Resources = append(op.Resources, c.img.ID)
				}
			}
			p.created[name] = op
			p.ops = append(p.ops, *op)
			continue
		}
		p.repair(g[0], targets)
	}
	// Empty duplicates go at once; the sweep deletes other empty managed shares.
	for _, name := range slices.Sorted(maps.Keys(p.groups)) {
		for _, sh := range p.groups[name][1:] {
			if !holdsAny(sh) {
				p.ops = append(p.ops, ShareOp{Op: OpDelete, Share: ShareRef{ID: sh.ID, Name: sh.Name}})
			}
		}
	}
}

// repair brings a canonical managed share's targets to the wanted set.
func (p *planner) repair(sh *state.Share, targets []string) {
	ref := ShareRef{ID: sh.ID, Name: sh.Name}
	if sh.AllowExternal {
		p.ops = append(p.ops, ShareOp{Op: OpSetInternal, Share: ref})
	}
	var add, remove []string
	for _, t := range targets {
		a, ok := sh.Targets[t]
		switch {
		case !ok || a.Status == state.Disassociated:
			add = append(add, t)
		case a.Status == state.Failed:
			p.targetRefusals[sh.Name] = append(p.targetRefusals[sh.Name], Refusal{Subject: t, Reason: ReasonAssociationFailed,
				Message: fmt.Sprintf("resource share %s could not add this target: %s %s", sh.Name, a.FailureReason, a.Message)})
			if p.retryable(a) {
				add = append(add, t)
			}
		case a.Status != state.Associated:
			p.pendingTargets[sh.Name] = true
		}
	}
	// Extra targets go only once every wanted target is Associated: the wanted ones may
	// reach the same accounts, and removing first would open a gap (make before break).
	complete := true
	for _, t := range targets {
		if !sh.Targets[t].Active() {
			complete = false
		}
	}
	for _, t := range slices.Sorted(maps.Keys(sh.Targets)) {
		a := sh.Targets[t]
		if slices.Contains(targets, t) || a.Status == state.Disassociated {
			continue
		}
		p.gated[sh.Name] = true
		if a.Status != state.Disassociating && complete {
			remove = append(remove, t)
		}
	}
	if len(add) > 0 {
		p.ops = append(p.ops, ShareOp{Op: OpAddTargets, Share: ref, Targets: add})
		p.pendingTargets[sh.Name] = true
		p.adding[sh.ID] = map[string]bool{}
		for _, t := range add {
			p.adding[sh.ID][t] = true
		}
	}
	if len(remove) > 0 {
		p.ops = append(p.ops, ShareOp{Op: OpRemoveTargets, Share: ref, Targets: remove})
		if p.removing[sh.ID] == nil {
			p.removing[sh.ID] = map[string]bool{}
		}
		for _, t := range remove {
			p.removing[sh.ID][t] = true
		}
	}
	if p.gated[sh.Name] {
		p.pendingTargets[sh.Name] = true
	}
}

func holdsAny(sh *state.Share) bool {
	for _, a := range sh.Resources {
		if a.Status != state.Disassociated && a.Status != state.Disassociating {
			return true
		}
	}
	return false
}

// finish decides the organization part (R4) and then the direct part (R6, R7) of one image.
func (p *planner) finish(c *imageCtx) ImagePlan {
	if c.done {
		return c.plan
	}
	leaving, out := p.organization(c)
	gone := maps.Clone(leaving)
	maps.Copy(gone, out)
	p.direct(c, leaving, gone, p.prospective(c, gone))
	if p.inTransition(c.img.ID) {
		c.plan.Recheck = true
	}
	p.copies(c)
	return c.plan
}

// organization is R4 for one image; it returns the IDs of the shares the image leaves
// in this plan (leaving), and of the managed shares whose folder set the tags no longer
// ask for that the image is being taken out of, now, once confirmed, or once
// make-before-break lets it (out): R5 counts neither as coverage that makes a direct
// share redundant.
func (p *planner) organization(c *imageCtx) (leaving, out map[string]bool) {
	img := c.img.ID
	var canonical *state.Share
	ready := false // the image is Associated in its share and every wanted target is too
	switch {
	case c.name == "":
	case p.limited[c.name]:
		// One refusal for the folder set that is left without a share: its IDs, sorted
		// and joined by commas, are the subject (SPEC section 4, refusal subject).
		c.refuse(strings.Join(c.targets, ","), ReasonManagedShareLimit, fmt.Sprintf("the functions already own MAX_MANAGED_SHARES (%d) resource shares, so this folder set gets none; raise the setting or reuse a folder set other images already use", p.set.MaxManagedShares))
	case p.created[c.name] != nil:
		c.plan.Associate = append(c.plan.Associate, ShareRef{Name: c.name})
		c.plan.Recheck = true
		c.onWay = true
	default:
		canonical = p.groups[c.name][0]
		c.plan.Refusals = append(c.plan.Refusals, p.targetRefusals[c.name]...)
		ref := ShareRef{ID: canonical.ID, Name: canonical.Name}
		a, ok := canonical.Resources[img]
		switch {
		case !ok || a.Status == state.Disassociated:
			c.onWay = true
			c.plan.Recheck = true
			if !p.gated[c.name] {
				c.plan.Associate = append(c.plan.Associate, ref)
			}
		case a.Status == state.Failed:
			c.refuse("", ReasonAssociationFailed, fmt.Sprintf("joining resource share %s failed: %s %s; it is tried again when the tags or the directory change, or after a day", canonical.Name, a.FailureReason, a.Message))
			if p.retryable(a) {
				c.onWay = true
				c.plan.Recheck = true
				if !p.gated[c.name] {
					c.plan.Associate = append(c.plan.Associate, ref)
				}
			}
		case a.Status == state.Associating, a.Status == state.Disassociating:
			c.onWay = true // a leaving association comes back once it is gone
		case a.Status == state.Associated:
			c.onWay = true
			ready = !p.pendingTargets[c.name]
			for _, t := range c.targets {
				if !canonical.Targets[t].Active() {
					ready = false
				}
			}
		}
		if p.pendingTargets[c.name] {
			c.plan.Recheck = true
		}
	}
	leaving, out = map[string]bool{}, map[string]bool{}
	leave := func(sh *state.Share) {
		c.plan.Disassociate = append(c.plan.Disassociate, ShareRef{ID: sh.ID, Name: sh.Name, Merge: sh.Name == c.name})
		leaving[sh.ID] = true
		c.plan.Recheck = true
	}
	for _, name := range slices.Sorted(maps.Keys(p.groups)) {
		for _, sh := range p.groups[name] {
			if sh == canonical {
				continue
			}
			a, ok := sh.Resources[img]
			if !ok || !a.Holding() {
				continue
			}
			// Make before break: leave the old share only once the new one covers, or
			// when no share is wanted at all, or when the old association grants nothing.
			// Otherwise the old share stays; a re-check follows only if the new one is
			// moving (its transitions set Recheck), not when it failed for good.
			unblocked := c.name == "" || ready || a.Status == state.Failed
			if sh.Name == c.name || a.Status == state.Failed {
				// Merging a duplicate of the wanted share, or leaving an association that
				// grants nothing, takes no access away: not an R12 removal.
				if unblocked {
					leave(sh)
				}
				continue
			}
			if !unblocked && !c.plan.Recheck && !p.inTransition(img) {
				continue // the new share is stuck (limit, failed for good): the old one stays
			}
			// R12: the tags no longer ask for this share's folder set, and leaving it takes
			// access away; it needs a second look at unchanged tags.
			out[sh.ID] = true
			switch {
			case !p.confirmed(c, sh.Name):
				c.awaiting(Removal{Action: ActDisassociate, Subject: sh.Name, ShareID: sh.ID})
			case unblocked:
				leave(sh)
				c.plan.Confirmed = append(c.plan.Confirmed, sh.Name)
			case !slices.Contains(c.plan.Held, sh.Name):
				c.plan.Held = append(c.plan.Held, sh.Name)
			}
		}
	}
	return leaving, out
}

// direct is R6 and R7: the wanted direct shares are the allowed tag accounts (and, in
// additive mode, the current ones) minus what the organization shares that stay cover
// (gone: the shares the image leaves now or is being taken out of, R5). A removal whose
// account stays covered is R7's and done at once; any other is R12's and waits for a
// confirmation.
func (p *planner) direct(c *imageCtx, leaving, gone map[string]bool, soon map[string]bool) {
	cov := p.st.Coverage(c.img.ID, func(shareID, target string) bool {
		if target == "" {
			return gone[shareID]
		}
		return p.removing[shareID][target]
	})
	covNow := p.st.Coverage(c.img.ID, nil)
	current := append([]string(nil), c.img.Direct...)
	sort.Strings(current)
	isCurrent := map[string]bool{}
	for _, a := range current {
		isCurrent[a] = true
	}
	var want []string
	wanted := map[string]bool{}
	for _, a := range c.allowed {
		if len(cov[a]) == 0 {
			want = append(want, a)
			wanted[a] = true
		}
	}
	if c.pol.Mode == policy.Additive {
		for _, a := range current {
			if len(cov[a]) == 0 && !wanted[a] {
				want = append(want, a)
				wanted[a] = true
				if a != p.st.Owner && !p.st.IsMember(a) && !p.set.Allowed(a) && !c.refused[a] {
					c.refuse(a, ReasonNotAllowed, "kept (additive mode) although the account is neither a member of the Resource Directory nor in ALLOWED_EXTERNAL_ACCOUNTS")
				}
			}
		}
	}
	for _, a := range current {
		if wanted[a] {
			continue
		}
		if !p.set.RevokeRedundant && len(covNow[a]) > 0 {
			// R7 off: an account covered now by any Associated share is never removed
			// (on a cloud that lists organization grants, the entry is the grant).
			continue
		}
		if src := cov[a]; len(src) > 0 {
			c.plan.Unshare = append(c.plan.Unshare, Unshare{Account: a, Why: WhyRedundant, Via: src[0].ShareName + "/" + src[0].Target})
			continue
		}
		if soon[a] {
			// Coverage on its way will reach the account: revoking now would open a
			// gap until it is Associated; it goes then, as redundant.
			c.plan.Recheck = true
			continue
		}
		why := WhyUntagged
		if c.refused[a] {
			why = WhyRefused
		}
		// R12: the account loses access; only on a second look at unchanged tags.
		if !p.confirmed(c, a) {
			c.awaiting(Removal{Action: ActUnshare, Subject: a, Why: why})
			continue
		}
		c.plan.Unshare = append(c.plan.Unshare, Unshare{Account: a, Why: why})
		c.plan.Confirmed = append(c.plan.Confirmed, a)
	}
	room := p.set.MaxAccountsPerImage - (len(current) - len(c.plan.Unshare))
	var deferred []string
	for _, a := range want {
		if isCurrent[a] {
			continue
		}
		if soon[a] {
			// Coverage on its way will reach the account: a direct share now would
			// overlap the organization share in a few seconds (what Alibaba warns
			// against), and with REVOKE_REDUNDANT=false would stay for good, so the end
			// state would depend on whether a run happened to finish in between (R11).
			deferred = append(deferred, a)
			continue
		}
		if room <= 0 {
			c.refuse(a, ReasonShareLimit, fmt.Sprintf("the image already has MAX_ACCOUNTS_PER_IMAGE (%d) direct shares; share with a folder instead (imageshare:folders), or raise the ECS quota and the setting", p.set.MaxAccountsPerImage))
			continue
		}
		c.plan.Share = append(c.plan.Share, a)
		room--
	}
	for _, a := range deferred {
		if room <= 0 {
			break // no refusal: the coverage is expected to reach it
		}
		c.plan.Deferred = append(c.plan.Deferred, a)
		room--
	}
	// A wanted account the share list shows, reached by a share or target this plan
	// removes, is added again before the break: a cloud that lists organization grants
	// in DescribeImageSharePermission (R7) shows the grant itself there, which the
	// removal ends; adding it again is a no-op where the listed share is a direct one.
	ending := p.st.Coverage(c.img.ID, func(shareID, target string) bool {
		if target == "" {
			return !leaving[shareID] && len(p.removing[shareID]) == 0
		}
		return !leaving[shareID] && !p.removing[shareID][target]
	})
	// Only accounts the tags name: an account additive mode keeps because the list
	// shows it may be the grant itself, and asserting every grant of a leaving share
	// would turn the share into direct shares the tags never asked for (a normal cloud
	// drops them with the share too). And never past MAX_ACCOUNTS_PER_IMAGE: the
	// accounts the list shows that no share covers now are direct shares for certain;
	// the rest, in tag order, is refused with the remedy (R6).
	certain := 0
	unshared := map[string]bool{}
	for _, u := range c.plan.Unshare {
		unshared[u.Account] = true
	}
	for _, a := range current {
		if len(covNow[a]) == 0 && !unshared[a] {
			certain++
		}
	}
	room = p.set.MaxAccountsPerImage - certain - len(c.plan.Share) - len(c.plan.Deferred)
	for _, a := range c.allowed {
		if !wanted[a] || !isCurrent[a] || len(ending[a]) == 0 {
			continue
		}
		if room <= 0 {
			c.refuse(a, ReasonShareLimit, fmt.Sprintf("the share list shows the account through a resource share the image leaves, and asserting it as a direct share would pass MAX_ACCOUNTS_PER_IMAGE (%d); share with a folder instead (imageshare:folders), or raise the ECS quota and the setting", p.set.MaxAccountsPerImage))
			continue
		}
		c.plan.Reassert = append(c.plan.Reassert, a)
		room--
	}
	if len(deferred) > 0 {
		c.plan.Recheck = true
	}
}

// prospective lists the accounts that the image's organization shares will reach once
// what is under way is done: the wanted target set O (whatever state its share is in),
// and associations of other shares that are Associating, leaving out the shares and
// targets this plan removes.
func (p *planner) prospective(c *imageCtx, leaving map[string]bool) map[string]bool {
	out := map[string]bool{}
	if c.onWay {
		var canonical *state.Share
		if p.created[c.name] == nil {
			canonical = p.groups[c.name][0]
		}
		for _, t := range c.targets {
			if canonical != nil {
				switch canonical.Targets[t].Status {
				case state.Associating, state.Associated, state.Disassociating:
				default:
					if !p.adding[canonical.ID][t] {
						continue // failed for good, or not asked for
					}
				}
			}
			for _, acct := range p.st.Reaches(t, false) {
				out[acct] = true
			}
		}
	}
	moving := func(a state.Association) bool { return a.Status == state.Associating || a.Status == state.Associated }
	for _, sh := range p.st.Shares {
		if leaving[sh.ID] || !moving(sh.Resources[c.img.ID]) {
			continue
		}
		for t, a := range sh.Targets {
			if moving(a) && !p.removing[sh.ID][t] {
				for _, acct := range p.st.Reaches(t, sh.AllowExternal) {
					out[acct] = true
				}
			}
		}
	}
	return out
}

// inTransition reports whether any association of the image, in any share, is moving.
func (p *planner) inTransition(image string) bool {
	for _, sh := range p.st.Shares {
		if a, ok := sh.Resources[image]; ok && (a.Status == state.Associating || a.Status == state.Disassociating) {
			return true
		}
	}
	return false
}

// retain is R8: before redundant direct shares of an untagged image are revoked, they
// are recorded in tags (and the image's managed share in a folders tag), in one write.
func (p *planner) retain(c *imageCtx) {
	cov := p.st.Coverage(c.img.ID, nil)
	var revoke []string
	for _, a := range c.img.Direct {
		if len(cov[a]) > 0 {
			revoke = append(revoke, a)
		}
	}
	if len(revoke) == 0 {
		return
	}
	sort.Strings(revoke)
	prefix := p.set.TagPrefix
	base := prefix + ":accounts:retained"
	// Merge with IDs already recorded under the retained keys.
	var ids []string
	var oldKeys []string
	for k := range c.img.Tags {
		if k == base || strings.HasPrefix(k, base+":") {
			oldKeys = append(oldKeys, k)
		}
	}
	for _, k := range policy.KeyOrder(prefix, "accounts", oldKeys) {
		ids = append(ids, policy.Split(c.img.Tags[k])...)
	}
	for _, a := range revoke {
		if !slices.Contains(ids, a) {
			ids = append(ids, a)
		}
	}
	tags := map[string]string{prefix + ":mode": string(policy.Additive)}
	for i, chunk := range chunkJoin(ids, maxTagValue) {
		k := base
		if i > 0 {
			k = fmt.Sprintf("%s:%d", base, i+1)
		}
		tags[k] = chunk
	}
	var folders []string
	for _, name := range slices.Sorted(maps.Keys(p.groups)) {
		for _, sh := range p.groups[name] {
			if !sh.Resources[c.img.ID].Holding() {
				continue
			}
			for _, t := range slices.Sorted(maps.Keys(sh.Targets)) {
				if sh.Targets[t].Holding() && (policy.IsFolder(t) || policy.IsDirectory(t)) && !slices.Contains(folders, t) {
					folders = append(folders, t)
				}
			}
		}
	}
	for i, chunk := range chunkJoin(folders, maxTagValue) {
		k := prefix + ":folders"
		if i > 0 {
			k = fmt.Sprintf("%s:%d", k, i+1)
		}
		tags[k] = chunk
	}
	total := len(tags)
	for k := range c.img.Tags {
		if _, overwritten := tags[k]; !overwritten && !strings.HasPrefix(k, "acs:") {
			total++
		}
	}
	if total > maxTags {
		c.refuse("", ReasonRetain, fmt.Sprintf("recording the %d redundant direct shares would need %d tags, more than the %d an image may have; nothing was revoked", len(revoke), total, maxTags))
		return
	}
	c.plan.Retain = &Retain{Tags: tags, Accounts: revoke}
}

// chunkJoin joins ids with commas into values no longer than limit.
func chunkJoin(ids []string, limit int) []string {
	var out []string
	cur := ""
	for _, id := range ids {
		switch {
		case cur == "":
			cur = id
		case len(cur)+1+len(id) <= limit:
			cur += "," + id
		default:
			out = append(out, cur)
			cur = id
		}
	}
	if cur != "" {
		out = append(out, cur)
	}
	return out
}
