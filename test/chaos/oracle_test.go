package chaos

// The oracle: a second, deliberately simple implementation of the tag language and rules R1-R12 (tag
// language, settings, reconcile rules), written for this test from the text of the rules and
// sharing no code with the product (no pkg/policy, pkg/plan, pkg/state). It works on
// plain maps: a world (directory, hand-made resource shares, images) that the scenario's
// steps change, and a reconcile of one image that computes its direct shares and its
// managed organization targets from the world at that moment.
//
// When reconciles happen is the part the oracle cannot know alone: it follows the
// design of docs/architecture.md (events → jobs after SETTLE_DELAY, org changes → every managed image, the
// 30-minute sweep) with the sweep times and the deliveries EventBridge gave up on as the
// sandbox recorded them. Points the chaos made uncertain (a sweep that died, a job that
// ended in the dead-letter queue, a sweep in the middle of a `together`) are branched
// on, image by image, and the product's end state must be one of the branches.
//
// R12: a reconcile does at once everything but the removals that take access away
// (a direct share whose account does not stay covered, leaving a managed share the tags
// no longer ask for); it looks again SETTLE_DELAY later (a confirming reconcile on the
// timeline) and does them then only if the image's prefix tags are the same as at the
// first look, and only those both looks found. So removals happen, SETTLE_DELAY later;
// and a removal the tags took back in between (an untag-then-tag straddling a sweep)
// does not happen at all.
//
// The settings and clouds the generator varies are modelled too: DRY_RUN (a look
// changes nothing and records what it would do), REDUNDANCY_SCOPE=all (R8: an untagged
// image's covered direct shares recorded in tags, then revoked), a cloud that lists
// organization grants as direct shares (the list is direct shares ∪ coverage), encrypted
// images (adds refused for the whole image; make before break then keeps the shares it
// was to leave), and the actions RAM denies (ecs:TagResources for R8,
// ecs:ModifyImageSharePermission). Each look records its refusals and when it was, for
// the exact comparison of refusals.

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"

	"imageshare/pkg/sandbox"
	"imageshare/pkg/scenario"
)

const prefix = "imageshare"

var (
	oAccountRE   = regexp.MustCompile(`^[0-9]{16}$`)
	oFolderRE    = regexp.MustCompile(`^fd-[A-Za-z0-9]{10}$`)
	oDirectoryRE = regexp.MustCompile(`^rd-[A-Za-z0-9]{6,}$`)
)

// tagsRead is what the tag language makes of an image's tags.
type tagsRead struct {
	managed  bool
	accounts []string // tag order, first occurrence wins
	folders  []string
	additive bool
	errs     []refusal // tag errors: subject is the bad token, or the key
}

type refusal struct{ subject, reason string }

// splitValue cuts on runs of , ， ; and white space.
func splitValue(v string) []string {
	var out []string
	cur := strings.Builder{}
	flush := func() {
		if cur.Len() > 0 {
			out = append(out, cur.String())
			cur.Reset()
		}
	}
	for _, r := range v {
		if r == ',' || r == '，' || r == ';' || unicode.IsSpace(r) {
			flush()
			continue
		}
		cur.WriteRune(r)
	}
	flush()
	return out
}

// keyRank orders account keys: the bare key, then numeric suffixes numerically, then
// the other suffixes bytewise.
func keyLess(a, b string) bool {
	sa, sb := suffix(a), suffix(b)
	if (sa == "") != (sb == "") {
		return sa == ""
	}
	na, aNum := digits(sa)
	nb, bNum := digits(sb)
	if aNum != bNum {
		return aNum
	}
	if aNum && na != nb {
		if len(na) != len(nb) {
			return len(na) < len(nb)
		}
		return na < nb
	}
	return sa < sb
}

func suffix(key string) string {
	for _, base := range []string{prefix + ":accounts:", prefix + ":folders:"} {
		if strings.HasPrefix(key, base) {
			return key[len(base):]
		}
	}
	return ""
}

func digits(s string) (string, bool) {
	if s == "" {
		return "", false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return "", false
		}
	}
	t := strings.TrimLeft(s, "0")
	if t == "" {
		t = "0"
	}
	return t, true
}

func readTags(tags map[string]string) tagsRead {
	var t tagsRead
	var accountKeys, folderKeys []string
	for k := range tags {
		if k != prefix && !strings.HasPrefix(k, prefix+":") {
			continue
		}
		t.managed = true
		switch {
		case k == prefix+":accounts" || strings.HasPrefix(k, prefix+":accounts:"):
			accountKeys = append(accountKeys, k)
		case k == prefix+":folders" || strings.HasPrefix(k, prefix+":folders:"):
			folderKeys = append(folderKeys, k)
		case k == prefix+":mode":
			toks := splitValue(tags[k])
			switch {
			case len(toks) == 1 && toks[0] == "exact":
			case len(toks) == 1 && toks[0] == "additive":
				t.additive = true
			case len(toks) == 0:
				t.errs = append(t.errs, refusal{k, "tag-error"})
			default:
				t.errs = append(t.errs, refusal{strings.TrimSpace(tags[k]), "tag-error"})
			}
		default:
			t.errs = append(t.errs, refusal{k, "tag-error"})
		}
	}
	sort.Slice(accountKeys, func(i, j int) bool { return keyLess(accountKeys[i], accountKeys[j]) })
	sort.Strings(folderKeys)
	list := func(k string, ok func(string) bool, into *[]string) {
		toks := splitValue(tags[k])
		if len(toks) == 0 {
			t.errs = append(t.errs, refusal{k, "tag-error"})
			return
		}
		if len(toks) == 1 && toks[0] == "none" {
			return
		}
		for _, tok := range toks {
			if tok == "none" || !ok(tok) {
				t.errs = append(t.errs, refusal{tok, "tag-error"})
				continue
			}
			if !slices.Contains(*into, tok) {
				*into = append(*into, tok)
			}
		}
	}
	for _, k := range accountKeys {
		list(k, oAccountRE.MatchString, &t.accounts)
	}
	for _, k := range folderKeys {
		list(k, func(s string) bool { return oFolderRE.MatchString(s) || oDirectoryRE.MatchString(s) }, &t.folders)
	}
	return t
}

// world is what the oracle knows of the cloud.
type world struct {
	owner     string
	dirID     string            // "" when the owner has no directory
	parent    map[string]string // folder → parent (a folder or the root)
	members   map[string]string // member → folder (or the root)
	accounts  map[string]bool   // accounts that exist
	allowed   map[string]bool   // ALLOWED_EXTERNAL_ACCOUNTS
	maxDirect int
	revoke    bool
	// dryRun: DRY_RUN=true, nothing changes; scopeAll: REDUNDANCY_SCOPE=all (R8);
	// listed: the cloud lists organization grants in DescribeImageSharePermission;
	// role: the owner has AliyunECSShareEncryptImageDefaultRole; denyTag: the
	// functions' role may not call ecs:TagResources.
	// denyModify: nor ecs:ModifyImageSharePermission.
	dryRun, scopeAll, listed, role, denyTag, denyModify bool
	hand                                                []*handShare
	images                                              map[string]*image
	imageOrder                                          []string
	// R12 in this simulation: second looks, removals they did, removals the tags took
	// back in between (counted for the suite's tally).
	looks, confirmed, withdrawn int
}

type handShare struct {
	name            string
	images, targets map[string]bool
}

type image struct {
	id      string
	others  bool
	status  string
	readyAt time.Time // Creating until then (zero: stays as is)
	tags    map[string]string
	direct  map[string]bool
	// shares: the target sets of the managed shares the image is in; more than one while
	// it waits for the confirmation of leaving the ones the tags no longer ask for.
	shares  [][]string
	deleted bool
	enc     string // none, cmk, service-key
	// refusals of the image's last reconcile, and when it was
	refusals   []refusal
	lastLook   time.Time
	lastFailed bool
	lastJoined bool      // the last look joined a managed share (two runs of the product)
	joinedAt   time.Time // when a look last did
	// lastPoint: the last look that is a point of the timeline (no confirmation nor
	// postponed job of one).
	lastPoint time.Time
	// would: under DRY_RUN, what the last reconcile reported it would do
	would []change
}

// change is one change a reconcile reports (R10): share, unshare, associate,
// disassociate, with its subject (an account, or a managed share's name); after: an R12
// removal a dry run reports "after confirmation".
type change struct {
	action, subject string
	after           bool
}

func cloneMap[K comparable, V any](m map[K]V) map[K]V {
	out := make(map[K]V, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// under reports whether folder f is t or below it.
func (w *world) under(f, t string) bool {
	for i := 0; f != "" && i < 100; i++ {
		if f == t {
			return true
		}
		f = w.parent[f]
	}
	return false
}

// reach lists the members a resource-share target reaches (the owner excluded).
func (w *world) reach(target string) []string {
	var out []string
	for m, f := range w.members {
		if m == w.owner {
			continue
		}
		switch {
		case target == w.dirID && w.dirID != "":
			out = append(out, m)
		case oFolderRE.MatchString(target) && w.under(f, target):
			out = append(out, m)
		case target == m:
			out = append(out, m)
		}
	}
	return out
}

// coverage is R5: accounts reached through the given managed target sets of the image
// and the hand-made shares that hold it (after a settle every association is Associated).
func (w *world) coverage(im *image, managed ...[]string) map[string]bool {
	out := map[string]bool{}
	for _, set := range managed {
		for _, t := range set {
			for _, m := range w.reach(t) {
				out[m] = true
			}
		}
	}
	for _, h := range w.hand {
		if h.images[im.id] {
			for t := range h.targets {
				for _, m := range w.reach(t) {
					out[m] = true
				}
			}
		}
	}
	return out
}

// normalize is R4's target set: only the directory when named; no folder under another.
func (w *world) normalize(targets []string) []string {
	if slices.Contains(targets, w.dirID) {
		return []string{w.dirID}
	}
	var out []string
	for _, t := range targets {
		below := false
		for _, o := range targets {
			if o != t && w.under(w.parent[t], o) {
				below = true
			}
		}
		if !below {
			out = append(out, t)
		}
	}
	sort.Strings(out)
	return out
}

// confirmation is what a look carries to its second look (R12): the fingerprint of the
// image's prefix tags, and the removals it found (account IDs, "share:" + target set).
type confirmation struct {
	fp   string
	keys map[string]bool
}

// fingerprint is R12's: the prefix keys and values as sorted key=value lines.
func fingerprint(tags map[string]string) string {
	var lines []string
	for k, v := range tags {
		if k == prefix || strings.HasPrefix(k, prefix+":") {
			lines = append(lines, k+"="+v+"\n")
		}
	}
	sort.Strings(lines)
	return strings.Join(lines, "")
}

func shareKey(set []string) string { return "share:" + strings.Join(set, ",") }

// reconcile is R1-R7 and R12 for one image at time now, with what an earlier look
// carried (nil: none). It reports whether the image was postponed (R2: not Available
// yet; a delayed job looks again), and the removals awaiting a second look (nil: none).
func (w *world) reconcile(im *image, now time.Time, carried *confirmation) (postponed bool, awaiting *confirmation) {
	if im.deleted || im.others {
		return false, nil // R1: gone, or not ours
	}
	t := readTags(im.tags)
	status := im.status
	if (status == "Creating" || status == "Waiting") && !im.readyAt.IsZero() && !now.Before(im.readyAt) {
		status = "Available"
		im.status = status
	}
	if !t.managed {
		// Never managed, or released: left as it is, except that R8 records and revokes
		// the redundant direct shares of an Available one when REDUNDANCY_SCOPE=all.
		im.lastLook, im.refusals, im.would = now, nil, nil
		if w.scopeAll && w.revoke && status == "Available" {
			w.retain(im)
		}
		return false, nil
	}
	if status == "Creating" || status == "Waiting" {
		return true, nil
	}
	im.lastLook, im.would, im.lastJoined = now, nil, false
	if status != "Available" {
		im.refusals = []refusal{{"", "image-status"}}
		return false, nil
	}
	if len(t.errs) > 0 {
		im.refusals = t.errs // frozen: left exactly as it is
		return false, nil
	}
	if w.dryRun {
		// Decide and report, change nothing: every run is a first look (R12 queues no
		// confirming job under DRY_RUN).
		direct, shares := cloneMap(im.direct), slices.Clone(im.shares)
		defer func() { im.direct, im.shares = direct, shares }()
		carried = nil
	}
	fp := fingerprint(im.tags)
	wait := &confirmation{fp: fp, keys: map[string]bool{}}
	confirmed := func(key string) bool {
		if carried != nil && carried.fp == fp && carried.keys[key] {
			w.confirmed++
			return true
		}
		return false
	}
	if carried != nil {
		w.looks++
		if carried.fp != fp {
			w.withdrawn += len(carried.keys)
		}
	}
	var refused []refusal
	// R3: accounts.
	var allowed []string
	for _, a := range t.accounts {
		switch {
		case a == w.owner:
			refused = append(refused, refusal{a, "owner"})
		case w.members[a] != "" || w.allowed[a]:
			allowed = append(allowed, a)
		default:
			refused = append(refused, refusal{a, "not-allowed"})
		}
	}
	// R3: folders; R4: the normalized set.
	var ok []string
	for _, f := range t.folders {
		switch {
		case w.dirID == "":
			refused = append(refused, refusal{f, "no-directory"})
		case oDirectoryRE.MatchString(f) && f != w.dirID:
			refused = append(refused, refusal{f, "unknown-directory"})
		case oFolderRE.MatchString(f) && w.parent[f] == "":
			refused = append(refused, refusal{f, "unknown-folder"})
		default:
			ok = append(ok, f)
		}
	}
	var target []string
	if len(ok) > 0 {
		target = w.normalize(ok)
	}
	// R4 with make before break, R5-R7, R12. When the image moves into the managed share
	// of a new target set, the run that starts the association sees only the coverage
	// that is Associated and will remain (R5: not the shares it is being taken out of),
	// and keeps an untagged direct share that the coming coverage will reach; the
	// re-checks that follow see the new share Associated. Leaving the shares the tags no
	// longer ask for is an R12 removal: done only once confirmed.
	in := func(set []string) bool {
		return slices.ContainsFunc(im.shares, func(s []string) bool { return slices.Equal(s, set) })
	}
	if len(target) > 0 && !in(target) {
		soon := map[string]bool{}
		for _, t := range target {
			for _, m := range w.reach(t) {
				soon[m] = true
			}
		}
		before := cloneMap(im.direct)
		first, _ := w.direct(im, t, allowed, w.coverage(im), w.coverage(im, im.shares...), soon, nil, confirmed, wait)
		if w.dryRun {
			// The dry run's look: the association it would start, the direct part
			// against the coverage there is now; nothing after it happens.
			im.would = append(w.changes(before, im.direct, wait), change{"associate", shareName(target), false})
			im.refusals = append(refused, first...)
			return false, nil
		}
		im.shares = append(im.shares, target)
		// The product does this in two runs, the second a re-check once the association
		// reads Associated (tens of seconds later, more under faults): the refusals the
		// first one logged are not this look's.
		im.lastJoined, im.joinedAt = true, now
	}
	var keep, leaving [][]string
	for _, set := range im.shares {
		switch {
		case slices.Equal(set, target):
			keep = append(keep, set)
		case confirmed(shareKey(set)):
			leaving = append(leaving, set)
		default:
			keep = append(keep, set)
			wait.keys[shareKey(set)] = true
		}
	}
	var remain [][]string
	if len(target) > 0 {
		remain = [][]string{target}
	}
	before := cloneMap(im.direct)
	covNow := w.coverage(im, im.shares...)
	im.shares = keep
	ending := map[string]bool{}
	for _, set := range leaving {
		for _, t := range set {
			for _, m := range w.reach(t) {
				ending[m] = true
			}
		}
	}
	more, broken := w.direct(im, t, allowed, w.coverage(im, remain...), covNow, nil, ending, confirmed, wait)
	im.refusals = append(refused, more...)
	if broken {
		// The adds failed (R9, the image's whole direct part): make before break keeps
		// the image in the shares it was to leave. The leave was confirmed, so no
		// confirming job follows: a later run looks again.
		im.shares = append(im.shares, leaving...)
		leaving = nil
	}
	if w.dryRun {
		im.would = w.changes(before, im.direct, wait)
		for _, set := range leaving {
			im.would = append(im.would, change{"disassociate", shareName(set), false})
		}
		return false, nil
	}
	if len(wait.keys) == 0 {
		return false, nil
	}
	return false, wait
}

// changes lists what a dry run reports for the direct part: the shares it would add
// and remove, and the removals awaiting a second look, "after confirmation".
func (w *world) changes(before, after map[string]bool, wait *confirmation) []change {
	var out []change
	for a := range after {
		if !before[a] {
			out = append(out, change{"share", a, false})
		}
	}
	for a := range before {
		if !after[a] {
			out = append(out, change{"unshare", a, false})
		}
	}
	for k := range wait.keys {
		if strings.HasPrefix(k, "share:") {
			out = append(out, change{"disassociate", shareName(strings.Split(strings.TrimPrefix(k, "share:"), ",")), true})
		} else {
			out = append(out, change{"unshare", k, true})
		}
	}
	return out
}

// shareName is R4's name of the managed share of a normalized target set.
func shareName(set []string) string {
	s := slices.Clone(set)
	sort.Strings(s)
	sum := sha256.Sum256([]byte(strings.Join(s, ",")))
	return "imageshare-" + hex.EncodeToString(sum[:])[:32]
}

// retain is R8 for an untagged image: the direct shares its coverage reaches are
// recorded in one tag write (mode additive, the accounts under accounts:retained, the
// targets of the managed shares that hold it under folders) and then revoked; the image
// is managed from then on. Without the right to tag, nothing is revoked: a refusal.
func (w *world) retain(im *image) {
	cov := w.coverage(im, im.shares...)
	var revoke []string
	for _, a := range sortedSet(im.direct) {
		if cov[a] {
			revoke = append(revoke, a)
		}
	}
	if len(revoke) == 0 {
		return
	}
	if w.dryRun {
		for _, a := range revoke {
			im.would = append(im.would, change{"unshare", a, false})
		}
		return
	}
	if w.denyTag {
		im.refusals = []refusal{{"", "retain-limit"}}
		return
	}
	base := prefix + ":accounts:retained"
	var ids []string
	for i := 1; ; i++ {
		k := base
		if i > 1 {
			k = fmt.Sprintf("%s:%d", base, i)
		}
		v, ok := im.tags[k]
		if !ok {
			break
		}
		ids = append(ids, splitValue(v)...)
	}
	for _, a := range revoke {
		if !slices.Contains(ids, a) {
			ids = append(ids, a)
		}
	}
	im.tags[prefix+":mode"] = "additive"
	for i, v := range chunks(ids) {
		k := base
		if i > 0 {
			k = fmt.Sprintf("%s:%d", base, i+1)
		}
		im.tags[k] = v
	}
	sets := slices.Clone(im.shares)
	sort.Slice(sets, func(i, j int) bool { return shareName(sets[i]) < shareName(sets[j]) })
	var folders []string
	for _, set := range sets {
		for _, t := range set {
			if !slices.Contains(folders, t) {
				folders = append(folders, t)
			}
		}
	}
	for i, v := range chunks(folders) {
		k := prefix + ":folders"
		if i > 0 {
			k = fmt.Sprintf("%s:%d", k, i+1)
		}
		im.tags[k] = v
	}
	if w.denyModify {
		im.refusals = []refusal{{"", "Forbidden.RAM"}} // recorded, not revoked
		return
	}
	for _, a := range revoke {
		delete(im.direct, a)
	}
}

// chunks joins IDs with commas into tag values of at most 128 characters.
func chunks(ids []string) []string {
	var out []string
	cur := ""
	for _, id := range ids {
		switch {
		case cur == "":
			cur = id
		case len(cur)+1+len(id) <= 128:
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

// direct is R6, R7 and R12 in one run: the wanted direct shares are the allowed tag
// accounts (and in additive mode the current ones) minus the coverage that will remain
// (cov); soon holds the accounts coverage on its way will reach: they are neither
// revoked nor added yet (the rules are silent on adds; a direct share added seconds before the
// organization share covers the account is the overlap Alibaba warns against, and with
// REVOKE_REDUNDANT=false it would stay, making the end state depend on timing). A
// covered account goes at once (R7) unless REVOKE_REDUNDANT=false, which keeps any
// account covered now (covNow); any other removal waits for a confirmation (R12).
//
// On a cloud that lists organization grants, the current list is the direct shares
// and every account covered now: an account only listed is never written (R7 off keeps
// it), unless the tags name it and a share the run leaves (ending) reaches it — then it
// is added again before the break, while MAX_ACCOUNTS_PER_IMAGE leaves room, and is a
// direct share from then on.
//
// An image encrypted with the service key, or with a customer key without the role,
// cannot be shared with: its adds fail, one refusal of the image, and broken says the
// run then leaves no share (make before break). A dry run makes no call.
func (w *world) direct(im *image, t tagsRead, allowed []string, cov, covNow, soon, ending map[string]bool, confirmed func(string) bool, wait *confirmation) (refused []refusal, broken bool) {
	current := cloneMap(im.direct)
	onlyListed := map[string]bool{}
	if w.listed {
		for a := range covNow {
			if a != w.owner && !current[a] {
				current[a] = true
				onlyListed[a] = true
			}
		}
	}
	var want []string
	for _, a := range allowed {
		if !cov[a] {
			want = append(want, a)
		}
	}
	if t.additive {
		for _, a := range sortedSet(current) {
			if !cov[a] && !slices.Contains(want, a) {
				want = append(want, a)
				if a != w.owner && w.members[a] == "" && !w.allowed[a] {
					refused = append(refused, refusal{a, "not-allowed"})
				}
			}
		}
	}
	next := map[string]bool{}
	for a := range current {
		switch {
		case slices.Contains(want, a):
			next[a] = true
		case covNow[a] && !w.revoke:
			next[a] = true // R7 off: an account covered now is never removed
		case cov[a]:
			// R7: redundant, revoked at once
		case soon[a]:
			next[a] = true // revoked once the coverage on its way is Associated
		case confirmed(a):
			// R12: the second look at the same tags
		default:
			next[a] = true // R12: awaits a second look
			wait.keys[a] = true
		}
	}
	var adds []string
	for _, a := range want {
		if next[a] {
			continue
		}
		if soon[a] {
			continue // coverage on its way reaches it: no direct share in the meantime
		}
		if len(next) >= w.maxDirect {
			refused = append(refused, refusal{a, "share-limit"})
			continue
		}
		next[a] = true
		adds = append(adds, a)
	}
	// What the cloud ends up with: the direct shares kept, the adds, and the listed
	// accounts added again before a share that reaches them is left.
	real := map[string]bool{}
	for a := range next {
		if !onlyListed[a] {
			real[a] = true
		}
	}
	// Assert again, before the break, the accounts the tags name that the list shows
	// and a share the run leaves reaches, in tag order, while MAX_ACCOUNTS_PER_IMAGE
	// leaves room counting the accounts that are direct shares for certain (listed, not
	// covered now) and the adds; the rest is refused. On a cloud that does not list
	// grants these are direct shares already: a no-op.
	room, reasserted := w.maxDirect-len(adds), 0
	for a := range next {
		if current[a] && !covNow[a] {
			room--
		}
	}
	for _, a := range allowed {
		if cov[a] || !current[a] || !ending[a] {
			continue
		}
		if room <= 0 {
			refused = append(refused, refusal{a, "share-limit"})
			continue
		}
		room--
		reasserted++ // a call all the same: it fails where the adds fail
		if onlyListed[a] {
			real[a] = true
			adds = append(adds, a)
		}
	}
	removes := false
	for a := range im.direct {
		removes = removes || !real[a]
	}
	if w.denyModify && !w.dryRun && (removes || len(adds)+reasserted > 0) {
		// RAM denies every share-list write: the first one fails (removes go first),
		// the image's direct part is refused as a whole, and a refused removal ends the
		// chain of confirmations (the next look starts over).
		refused = append(refused, refusal{"", "Forbidden.RAM"})
		if removes {
			clear(wait.keys)
		}
		return refused, true
	}
	if len(adds)+reasserted > 0 && !w.dryRun {
		code := ""
		switch {
		case im.enc == "service-key":
			code = "InvalidOperation.ServiceKeyEncryptedImageUnsupported"
		case im.enc == "cmk" && !w.role:
			code = "AssumeRoleError"
		}
		if code != "" {
			for _, a := range adds {
				delete(real, a)
			}
			refused = append(refused, refusal{"", code})
			broken = true
		}
	}
	im.direct = real
	return refused, broken
}

func sortedSet(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k, v := range m {
		if v {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}

// ---- from a scenario to a world and a timeline ----

func newWorld(sc *scenario.Scenario) *world {
	w := &world{owner: sc.Owner, parent: map[string]string{}, members: map[string]string{}, accounts: map[string]bool{sc.Owner: true},
		allowed: map[string]bool{}, maxDirect: 50, revoke: true, images: map[string]*image{}}
	if d := sc.Directory; d != nil {
		w.dirID = d.ID
		w.members[sc.Owner] = d.Root // the management account is a member, in the root
		for _, f := range d.Folders {
			w.parent[f.ID] = f.Parent
		}
		for _, a := range d.Accounts {
			w.accounts[a.ID] = true
			w.members[a.ID] = a.Folder
		}
	}
	for _, a := range sc.Outside {
		w.accounts[a] = true
	}
	for _, a := range splitValue(sc.Settings["ALLOWED_EXTERNAL_ACCOUNTS"]) {
		w.allowed[a] = true
	}
	if v, err := strconv.Atoi(sc.Settings["MAX_ACCOUNTS_PER_IMAGE"]); err == nil {
		w.maxDirect = v
	}
	w.revoke = sc.Settings["REVOKE_REDUNDANT"] != "false"
	w.dryRun = sc.Settings["DRY_RUN"] == "true"
	w.scopeAll = sc.Settings["REDUNDANCY_SCOPE"] == "all"
	w.listed = sc.Cloud.OrgGrantsListed
	w.role = slices.Contains(sc.Roles, "AliyunECSShareEncryptImageDefaultRole")
	w.denyTag = slices.Contains(sc.Deny, "ecs:TagResources")
	w.denyModify = slices.Contains(sc.Deny, "ecs:ModifyImageSharePermission")
	for _, si := range sc.Images {
		im := &image{id: si.ID, others: si.Owner == "others", status: si.Status, tags: cloneMap(si.Tags), direct: map[string]bool{}, enc: si.Encrypted}
		if im.status == "" {
			im.status = "Available"
		}
		if im.status == "Creating" || im.status == "Waiting" {
			im.readyAt = emuEpoch.Add(scenario.DefaultReadyAfter)
		}
		if im.tags == nil {
			im.tags = map[string]string{}
		}
		for _, a := range si.SharedWith {
			im.direct[a] = true
		}
		w.images[si.ID] = im
		w.imageOrder = append(w.imageOrder, si.ID)
	}
	for _, rs := range sc.ResourceShares {
		h := &handShare{name: rs.Name, images: map[string]bool{}, targets: map[string]bool{}}
		for _, i := range rs.Images {
			h.images[i] = true
		}
		for _, t := range rs.Targets {
			h.targets[t] = true
		}
		w.hand = append(w.hand, h)
	}
	return w
}

var emuEpoch = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// Timing of the events and functions the oracle relies on.
const (
	settleDelay   = 60 * time.Second // SETTLE_DELAY default
	handshakeWait = 5 * time.Minute  // first check of an invitation
)

// orgWrite is a Resource Directory write of a step, which the organization poll finds.
type orgWrite struct {
	at           time.Time
	org, account string
	why          string
	onBus        bool // its event reached the owner's bus
}

// The organization poll's defaults (ORG_POLL, ORG_POLL_LAG); the generator sets neither.
const (
	orgPoll    = 5 * time.Minute
	orgPollLag = 10 * time.Minute
)

// item is one thing on the timeline: a change of the world (a step or a part of a
// `together`, an invitation accepted, an image turning Available) or a reconcile.
type item struct {
	at    time.Time
	order int // at equal times: cloud transitions, then reconciles, then steps
	step  *scenario.Step
	join  *scenario.InviteAccount
	recon *point
	// carry: what an earlier look carried to this one, a confirming reconcile (R12).
	carry *confirmation
}

// point is one reconcile: of some images, or (all) every managed image at that time.
type point struct {
	id     int
	images []string
	all    bool
	// uncertain: the chaos may have kept this reconcile from happening.
	uncertain bool
	why       string
	// org, account: a reconcile caused by a change of one account ("join" for an account
	// that joined or left the directory, "move" for one that moved). The design asks
	// for the images the change can affect; the oracle requires the images whose tags
	// name the account (for a move, only those some resource share holds: a move changes
	// nothing but coverage) and lets the product reconcile the others or not.
	org, account string
	// failed: the reconcile may have been cut short, not only left out.
	failed bool
}

// affected reports whether the org change of p certainly matters to im.
func (w *world) affected(im *image, p *point) bool {
	if p.org == "" {
		return true
	}
	if !slices.Contains(readTags(im.tags).accounts, p.account) {
		return false
	}
	if p.org == "move" {
		if len(im.shares) > 0 {
			return true
		}
		for _, h := range w.hand {
			if h.images[im.id] {
				return true
			}
		}
		return false
	}
	return true
}

// timeline builds the items of a run from the steps and what the sandbox recorded.
func timeline(sc *scenario.Scenario, rec []sandbox.StepRecord) ([]item, []*point, error) {
	if len(rec) != len(sc.Steps) {
		return nil, nil, fmt.Errorf("the sandbox recorded %d steps of %d", len(rec), len(sc.Steps))
	}
	var items []item
	var points []*point
	add := func(at time.Time, p *point) {
		p.id = len(points)
		points = append(points, p)
		items = append(items, item{at: at, order: 1, recon: p})
	}
	eventsOn := true
	orgEvents := sc.Cloud.OrgEvents
	var writes []orgWrite
	var polls []time.Time // org-events firings that polled and succeeded
	for k := range sc.Steps {
		st := &sc.Steps[k]
		r := rec[k]
		parts := []*scenario.Step{st}
		times := []time.Time{r.Start}
		if st.Together != nil {
			parts, times = nil, nil
			t := r.Start
			for i := range st.Together {
				in := &st.Together[i]
				if in.Wait > 0 {
					t = t.Add(in.Wait)
					continue
				}
				parts = append(parts, in)
				times = append(times, t)
			}
		}
		for i, p := range parts {
			at := times[i]
			items = append(items, item{at: at, order: 2, step: p})
			switch {
			case p.Events != "":
				eventsOn = p.Events == "on"
			case p.TagImage != nil && eventsOn:
				add(at.Add(settleDelay), &point{images: []string{p.TagImage.Image}, why: "tag event"})
			case p.UntagImage != nil && eventsOn:
				add(at.Add(settleDelay), &point{images: []string{p.UntagImage.Image}, why: "untag event"})
			case p.ShareImage != nil && eventsOn:
				add(at.Add(settleDelay), &point{images: []string{p.ShareImage.Image}, why: "share event"})
			case p.CreateImage != nil && eventsOn:
				ready := at.Add(p.CreateImage.ReadyAfter)
				if p.CreateImage.ReadyAfter == 0 {
					ready = at.Add(scenario.DefaultReadyAfter)
				}
				when := at.Add(settleDelay)
				if ready.After(when) {
					when = ready
				}
				add(when, &point{images: []string{p.CreateImage.Image}, why: "create event"})
			case p.CreateAccount != nil:
				writes = append(writes, orgWrite{at: at, org: "join", account: p.CreateAccount.Account, why: "account created", onBus: eventsOn && orgEvents})
				if when, ok := orgNoticed(at, eventsOn && orgEvents); ok {
					add(when, &point{all: true, org: "join", account: p.CreateAccount.Account, why: "account created"})
				}
			case p.RemoveAccount != nil:
				writes = append(writes, orgWrite{at: at, org: "join", account: p.RemoveAccount.Account, why: "account removed", onBus: eventsOn && orgEvents})
				if when, ok := orgNoticed(at, eventsOn && orgEvents); ok {
					add(when, &point{all: true, org: "join", account: p.RemoveAccount.Account, why: "account removed"})
				}
			case p.MoveAccount != nil:
				writes = append(writes, orgWrite{at: at, org: "move", account: p.MoveAccount.Account, why: "account moved", onBus: eventsOn && orgEvents})
				if when, ok := orgNoticed(at, eventsOn && orgEvents); ok {
					add(when, &point{all: true, org: "move", account: p.MoveAccount.Account, why: "account moved"})
				}
			case p.InviteAccount != nil:
				acc := p.InviteAccount.AcceptAfter
				if acc == 0 {
					acc = scenario.DefaultAcceptAfter
				}
				items = append(items, item{at: at.Add(acc), order: 0, join: p.InviteAccount})
				if when, ok := orgNoticed(at, eventsOn && orgEvents); ok {
					// Nothing changes until the invitation is accepted: a run at the
					// invitation may happen or not.
					add(when, &point{all: true, uncertain: true, why: "invitation sent"})
					when := at.Add(handshakeWait)
					for when.Before(at.Add(acc)) {
						when = when.Add(handshakeWait)
					}
					add(when, &point{all: true, org: "join", account: p.InviteAccount.Account, why: "invitation accepted"})
				}
			}
		}
		for _, tf := range r.Timers {
			if tf.Function == "org-events" && tf.OK && tf.At.Minute()%int(orgPoll/time.Minute) == 0 {
				polls = append(polls, tf.At)
			}
		}
		// Sweeps that ran during the step.
		var end time.Time
		if st.Together != nil && len(times) > 0 {
			end = times[len(times)-1]
		}
		for _, tf := range r.Timers {
			if tf.Function != "sweep" {
				continue
			}
			p := &point{all: true, uncertain: !tf.OK, failed: !tf.OK, why: "sweep at " + tf.At.Format("15:04:05")}
			if !tf.OK {
				p.why += " (the sweep failed)"
			}
			if st.Together != nil && tf.At.After(r.Start) && !tf.At.After(end) {
				// A sweep inside a together: a retried job of it may see later parts.
				p.uncertain = true
				add(end, &point{all: true, uncertain: true, why: "sweep at " + tf.At.Format("15:04:05") + " retried after the together"})
			}
			add(tf.At, p)
		}
		// Deliveries given up on: the reconciles they carried may not have happened.
		for _, dl := range r.DeadLetters {
			named := imageIDRE.FindAllString(dl.Event, -1)
			for _, p := range points {
				if p.failed {
					continue
				}
				pt := itemTime(items, p)
				if pt.Before(r.Start) || pt.After(r.End) {
					continue
				}
				if len(named) == 0 || p.all || intersects(p.images, named) {
					p.uncertain, p.failed = true, true
					p.why += " (a delivery was dead-lettered)"
				}
			}
		}
	}
	// The organization poll: each poll lists the directory's writes of its window (from
	// ORG_POLL + ORG_POLL_LAG before its minute to that minute), and their jobs run
	// SETTLE_DELAY later. A write off the bus is acted on by the first poll that lists
	// it (seed 1129: a poll's look shared tagged accounts directly before a folder tag
	// came, and with REVOKE_REDUNDANT=false they stay); whether that run happened is left
	// open (a branch). The later polls that find it again, and the polls that find a
	// write the bus delivered, only repeat a decision, and are not modelled (as
	// re-checks are not): each would be one more branch point.
	for _, w := range writes {
		if w.onBus {
			continue
		}
		for _, t := range polls {
			end := t.Truncate(time.Minute)
			if w.at.Before(end) && !w.at.Before(end.Add(-(orgPoll + orgPollLag))) {
				add(t.Add(settleDelay), &point{all: true, uncertain: true, org: w.org, account: w.account, why: w.why + " (found by the poll at " + t.Format("15:04") + ")"})
				break
			}
		}
	}
	sort.SliceStable(items, func(i, j int) bool {
		if !items[i].at.Equal(items[j].at) {
			return items[i].at.Before(items[j].at)
		}
		return items[i].order < items[j].order
	})
	return items, points, nil
}

// orgNoticed says when the functions act on a Resource Directory write made at `at`
// whose event reaches the owner's bus (onBus) or not: SETTLE_DELAY after it, through
// the bus, or never through the bus (the organization poll finds it: timeline, which
// acts on a write off the bus SETTLE_DELAY after the first poll that lists it; a write
// on the bus found again by a poll only repeats the first run's decision).
func orgNoticed(at time.Time, onBus bool) (time.Time, bool) {
	if !onBus {
		return time.Time{}, false
	}
	return at.Add(settleDelay), true
}

var imageIDRE = regexp.MustCompile(`m-[A-Za-z0-9]+`)

func itemTime(items []item, p *point) time.Time {
	for _, it := range items {
		if it.recon == p {
			return it.at
		}
	}
	return time.Time{}
}

func intersects(a, b []string) bool {
	for _, x := range a {
		if slices.Contains(b, x) {
			return true
		}
	}
	return false
}

// simulate runs the timeline; skip says which (point, image) reconciles not to do.
func simulate(sc *scenario.Scenario, items []item, skip func(w *world, p *point, im *image) bool) *world {
	w := newWorld(sc)
	items = slices.Clone(items)
	for i := 0; i < len(items); i++ {
		it := items[i]
		switch {
		case it.join != nil:
			if w.accounts[it.join.Account] && w.members[it.join.Account] == "" {
				w.members[it.join.Account] = it.join.Folder
			}
		case it.step != nil:
			w.apply(it.step, it.at)
		case it.recon != nil:
			for _, id := range w.imageOrder {
				im := w.images[id]
				if !it.recon.all && !slices.Contains(it.recon.images, id) {
					continue
				}
				if skip != nil && skip(w, it.recon, im) {
					continue
				}
				postponed, awaiting := w.reconcile(im, it.at, it.carry)
				if im.lastLook.Equal(it.at) && it.recon.id >= 0 {
					im.lastPoint = it.at
				}
				if im.lastLook.Equal(it.at) {
					// A look that follows from a run the chaos may have cut short (or
					// that is one) may not have happened, nor logged its refusals.
					im.lastFailed = it.recon.failed || it.recon.uncertain
				}
				var later *item
				switch {
				case postponed && !im.readyAt.IsZero():
					// The postponed job runs once the image is Available.
					later = &item{at: im.readyAt, order: 1, recon: &point{id: -1, images: []string{id}, why: "postponed", failed: it.recon.failed || it.recon.uncertain}}
				case awaiting != nil:
					// R12: the confirming job, SETTLE_DELAY later.
					later = &item{at: it.at.Add(settleDelay), order: 1, recon: &point{id: -1, images: []string{id}, why: "confirmation", failed: it.recon.failed || it.recon.uncertain}, carry: awaiting}
				}
				if later != nil {
					j := i + 1
					for j < len(items) && (items[j].at.Before(later.at) || items[j].at.Equal(later.at) && items[j].order <= later.order) {
						j++
					}
					items = slices.Insert(items, j, *later)
				}
			}
		}
	}
	return w
}

// apply is what a step does to the world (docs/scenarios.md, as a person does it).
func (w *world) apply(st *scenario.Step, at time.Time) {
	switch {
	case st.TagImage != nil:
		if im := w.images[st.TagImage.Image]; im != nil && !im.deleted {
			for k, v := range st.TagImage.Tags {
				im.tags[k] = v
			}
		}
	case st.UntagImage != nil:
		if im := w.images[st.UntagImage.Image]; im != nil && !im.deleted {
			for _, k := range st.UntagImage.Keys {
				delete(im.tags, k)
			}
		}
	case st.CreateImage != nil:
		c := st.CreateImage
		ready := c.ReadyAfter
		if ready == 0 {
			ready = scenario.DefaultReadyAfter
		}
		im := &image{id: c.Image, status: "Creating", readyAt: at.Add(ready), tags: cloneMap(c.Tags), direct: map[string]bool{}}
		if im.tags == nil {
			im.tags = map[string]string{}
		}
		w.images[c.Image] = im
		w.imageOrder = append(w.imageOrder, c.Image)
	case st.DeleteImage != nil:
		if im := w.images[st.DeleteImage.Image]; im != nil {
			im.deleted = true
			for _, h := range w.hand {
				delete(h.images, im.id)
			}
		}
	case st.ShareImage != nil:
		if im := w.images[st.ShareImage.Image]; im != nil && !im.deleted {
			for _, a := range st.ShareImage.Remove {
				delete(im.direct, a)
			}
			for _, a := range st.ShareImage.Add {
				im.direct[a] = true
			}
		}
	case st.CreateAccount != nil:
		w.accounts[st.CreateAccount.Account] = true
		w.members[st.CreateAccount.Account] = st.CreateAccount.Folder
	case st.MoveAccount != nil:
		if w.members[st.MoveAccount.Account] != "" {
			w.members[st.MoveAccount.Account] = st.MoveAccount.To
		}
	case st.RemoveAccount != nil:
		delete(w.members, st.RemoveAccount.Account)
	case st.OrgShare != nil:
		o := st.OrgShare
		var h *handShare
		for _, x := range w.hand {
			if x.name == o.Name {
				h = x
			}
		}
		if h == nil {
			h = &handShare{name: o.Name, images: map[string]bool{}, targets: map[string]bool{}}
			w.hand = append(w.hand, h)
		}
		for _, i := range o.AddImages {
			h.images[i] = true
		}
		for _, t := range o.AddTargets {
			h.targets[t] = true
		}
		for _, i := range o.RemoveImages {
			delete(h.images, i)
		}
		for _, t := range o.RemoveTargets {
			delete(h.targets, t)
		}
	}
}

// outcome is the oracle's end state of one image.
type outcome struct {
	direct, organization []string
	tags                 map[string]string
	refusals             []refusal
	deleted              bool
	// lastLook: when the image was last reconciled (zero: never); would: what a dry
	// run's last look reported it would do.
	lastLook, lastPoint    time.Time
	joinedAt               time.Time
	lastFailed, lastJoined bool
	would                  []change
	// viaFailed: the branch has a run the chaos cut short happen in full; its history
	// of looks (and so of refusals) need not be the product's.
	viaFailed bool
}

func (w *world) outcome(id string) outcome {
	im := w.images[id]
	o := outcome{direct: sortedSet(im.direct), tags: im.tags, refusals: im.refusals, deleted: im.deleted, lastLook: im.lastLook, lastFailed: im.lastFailed, lastJoined: im.lastJoined, lastPoint: im.lastPoint, joinedAt: im.joinedAt, would: im.would}
	org := map[string]bool{}
	for _, set := range im.shares {
		for _, t := range set {
			org[t] = true
		}
	}
	for _, h := range w.hand {
		if h.images[id] {
			for t := range h.targets {
				org[t] = true
			}
		}
	}
	o.organization = sortedSet(org)
	if o.direct == nil {
		o.direct = []string{}
	}
	return o
}

func (o outcome) String() string {
	return fmt.Sprintf("direct %v organization %v", o.direct, o.organization)
}

// expectation is the oracle's answer for one image: the nominal end state (every
// reconcile happened) and every end state a branch of the uncertain points allows.
type expectation struct {
	nominal outcome
	allowed []outcome
	// uncertain lists why the image has branches.
	uncertain []string
	// lost: a reconcile of the image may have stopped half way (its delivery was
	// dead-lettered, or the sweep died): if no later reconcile completed, the end state
	// may lie between the branches, e.g. the organization share joined and the direct
	// part not applied.
	lost bool
	// lostAt: the time of the latest such run; a reconcile after it logged its refusals.
	lostAt time.Time
}

// maxBranchPoints bounds the branching per image (2^n simulations).
const maxBranchPoints = 8

// expect computes the oracle's expectations for every image of the run.
func expect(sc *scenario.Scenario, rec []sandbox.StepRecord) (map[string]*expectation, *world, error) {
	items, points, err := timeline(sc, rec)
	if err != nil {
		return nil, nil, err
	}
	nominal := simulate(sc, items, nil)
	out := map[string]*expectation{}
	for _, id := range nominal.imageOrder {
		e := &expectation{nominal: nominal.outcome(id)}
		e.allowed = []outcome{e.nominal}
		// The branch points: reconciles the chaos may have lost, and reconciles caused
		// by an account's change (skipped in a branch only where the change does not
		// certainly affect the image in that branch's state).
		var unc []*point
		for _, p := range points {
			if (p.uncertain || p.org != "") && (p.all || slices.Contains(p.images, id)) {
				unc = append(unc, p)
				e.uncertain = append(e.uncertain, p.why)
				if p.failed {
					e.lost = true
					if at := itemTime(items, p); at.After(e.lostAt) {
						e.lostAt = at
					}
				}
			}
		}
		failedKept := len(unc) > maxBranchPoints && slices.ContainsFunc(unc[:len(unc)-maxBranchPoints], func(p *point) bool { return p.failed })
		if len(unc) > maxBranchPoints {
			unc = unc[len(unc)-maxBranchPoints:] // the latest ones decide the end state most
		}
		e.allowed[0].viaFailed = e.lost
		for mask := 1; mask < 1<<len(unc); mask++ {
			dropped := map[int]bool{}
			viaFailed := failedKept
			for i, p := range unc {
				if mask&(1<<i) != 0 {
					dropped[p.id] = true
				} else if p.failed {
					viaFailed = true
				}
			}
			w := simulate(sc, items, func(w *world, p *point, im *image) bool {
				return im.id == id && dropped[p.id] && (p.uncertain || !w.affected(im, p))
			})
			o := w.outcome(id)
			o.viaFailed = viaFailed
			e.allowed = append(e.allowed, o)
		}
		out[id] = e
	}
	return out, nominal, nil
}
