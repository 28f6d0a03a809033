// Package job is the message format of the reconcile queue: a job names what to look at
// (images of a region, every managed image of a region, or an invitation to follow) and
// why. Jobs carry no decision: the reconcile run reads fresh state.
package job

import (
	"encoding/json"
	"errors"
	"fmt"
	"math/bits"
	"regexp"
	"slices"
	"time"

	"imageshare/pkg/event"
	"imageshare/pkg/report"
)

// Version is the current job format.
const Version = 1

// Kinds of job.
const (
	KindImages    = "images"    // reconcile Images of Region
	KindRegion    = "region"    // reconcile every managed image of Region
	KindHandshake = "handshake" // follow an invitation; when accepted, reconcile Region
)

// Reasons a job was made.
const (
	ReasonEvent = "event"
	ReasonOrg   = "org"
	// ReasonMove: an org job about an account that moved between folders (Account names
	// it); other org jobs naming an Account are about one that joined or left.
	ReasonMove      = "org-move"
	ReasonSweep     = "sweep"
	ReasonRecheck   = "recheck"
	ReasonPostpone  = "postpone"
	ReasonHandshake = "handshake"
	// ReasonConfirm: the second look of R12, SETTLE_DELAY after a run that found
	// removals; it carries them (Confirm).
	ReasonConfirm = "confirm"
	// ReasonCopy: copies a run of their source made or retagged, handed to the
	// deployment of their region (docs/regions.md); ReasonCopyCheck: a copy asks the
	// deployment of its source to look at the source (Regions names the copy's region).
	ReasonCopy      = "copy"
	ReasonCopyCheck = "copy-check"
)

// MaxImages bounds the images of one job (one DescribeImages call).
const MaxImages = 100

// Job is one message of the queue.
type Job struct {
	V           int      `json:"v"`
	Kind        string   `json:"kind"`
	Region      string   `json:"region"`
	Images      []string `json:"images,omitempty"`
	Reason      string   `json:"reason"`
	RetryFailed bool     `json:"retryFailed,omitempty"`
	// Attempt counts the links of a chain of delayed checks.
	Attempt   int    `json:"attempt,omitempty"`
	Handshake string `json:"handshake,omitempty"`
	Account   string `json:"account,omitempty"`
	// Cause is the ID of the event that started the chain, for the logs.
	Cause string `json:"cause,omitempty"`
	// Notify: the run was caused by an event, so changes and refusals are published.
	Notify bool `json:"notify,omitempty"`
	// ChangesOnly: of what Notify publishes, only the changes. The job was found by the
	// organization poll, whose windows overlap, so that every directory change is found
	// several times: its refusals (unchanged ones, mostly) go to the log alone.
	ChangesOnly bool `json:"changesOnly,omitempty"`
	// Since is when the invitation a handshake job follows was made (RFC 3339): its
	// chain's links fall due at fixed times after it (HandshakeDue), so that the chains
	// the bus and the overlapping polls start for one invitation meet in one batch,
	// where they are one check.
	Since string `json:"since,omitempty"`
	// Notified holds fingerprints of the refusals already published by earlier links of
	// the chain, so that a re-check does not publish the same refusal again.
	Notified []string `json:"notified,omitempty"`
	// Split says how the job came to be when the dead-letters function made it from a
	// job whose retries ran out (docs/architecture.md): it is a half of such a job, or one of
	// the image jobs a region job was turned into, Split rounds down the chain. A job
	// that runs out again is split again, down to single images; one at MaxSplit is
	// not split any more. SplitFrom is the queue message ID of the first job of the
	// chain that ran out, SplitOf how many images that job held (or its region listed).
	Split     int    `json:"split,omitempty"`
	SplitFrom string `json:"splitFrom,omitempty"`
	SplitOf   int    `json:"splitOf,omitempty"`
	// Confirm carries, per image, the R12 removals a first look found and the
	// fingerprint of the tags it saw (a confirming job), or removals already confirmed
	// that make-before-break still held back (a re-check of the chain).
	Confirm []Confirmation `json:"confirm,omitempty"`
	// Actors are the people whose edits started the chain (every distinct one).
	Actors []report.Actor `json:"actors,omitempty"`
	// Untagged lists images of the job whose event removed prefix tags: a hint for the
	// report (an image released with its shares), never an input of a decision.
	Untagged []string `json:"untagged,omitempty"`
	// Regions are further regions to look for copies of the job's images in, beyond
	// those their tags name and the deployment covers: a copy there asked (docs/regions.md).
	Regions []string `json:"regions,omitempty"`
}

// MaxRegions bounds the regions a job names.
const MaxRegions = 64

// MaxSplit bounds a chain of dead-letter splits: one round to turn a region job into
// image jobs, then halvings of at most MaxImages images down to one.
var MaxSplit = 1 + bits.Len(uint(MaxImages-1))

// Confirmation is what a look found to take away from one image (SPEC R12): account IDs
// (direct shares) and managed resource share names (shares to leave), and the
// fingerprint of the image's tags at that look.
type Confirmation struct {
	Image       string   `json:"image"`
	Fingerprint string   `json:"fp"`
	Removals    []string `json:"remove"`
}

// Bounds of what a job carries.
const (
	// MaxNotified bounds the fingerprints a job carries (8 characters each).
	MaxNotified = 512
	// MaxActors bounds the actors a job names.
	MaxActors = 16
	// MaxRemovals bounds the removals of one image in a job.
	MaxRemovals = 2000
	// maxBody keeps a job well inside an MNS message (64 KiB).
	maxBody = 48 << 10
)

var (
	fingerprintRE = regexp.MustCompile(`^[0-9a-f]{64}$`)
	accountRE     = regexp.MustCompile(`^[0-9]{16}$`)
	shareNameRE   = regexp.MustCompile(`^imageshare-[0-9a-f]{32}$`)
	regionRE      = regexp.MustCompile(`^[a-z]{2,}(-[a-z0-9]+)+$`)
)

// validActor: identifiers only, short and printable (they come from an event).
func validActor(a report.Actor) error {
	for _, f := range []string{a.Type, a.AccountID, a.PrincipalID, a.UserName} {
		if len(f) > 128 {
			return fmt.Errorf("job actor field of %d characters is longer than 128", len(f))
		}
		for _, r := range f {
			if r < 0x20 || r == 0x7f {
				return errors.New("job actor field has a control character")
			}
		}
	}
	return nil
}

// Validate checks a job read from the queue.
func (j Job) Validate() error {
	if j.V != Version {
		return fmt.Errorf("job version %d is not %d", j.V, Version)
	}
	if !event.IsRegionID(j.Region) {
		return fmt.Errorf("job region %q is not a region ID", j.Region)
	}
	switch j.Kind {
	case KindImages:
		if len(j.Images) == 0 || len(j.Images) > MaxImages {
			return fmt.Errorf("images job must name 1 to %d images, not %d", MaxImages, len(j.Images))
		}
		for _, id := range j.Images {
			if !event.IsImageID(id) {
				return fmt.Errorf("job image %q is not an image ID", id)
			}
		}
	case KindRegion:
		if len(j.Images) > 0 {
			return errors.New("region job must not name images")
		}
	case KindHandshake:
		if j.Handshake == "" && j.Account == "" {
			return errors.New("handshake job must name a handshake or an account")
		}
	default:
		return fmt.Errorf("unknown job kind %q", j.Kind)
	}
	if j.Since != "" {
		if j.Kind != KindHandshake {
			return fmt.Errorf("only a handshake job carries since, not a %q job", j.Kind)
		}
		if _, err := time.Parse(time.RFC3339, j.Since); err != nil {
			return fmt.Errorf("job since %q is not an RFC 3339 time", j.Since)
		}
	}
	if j.Attempt < 0 || j.Attempt > 1000 {
		return fmt.Errorf("job attempt %d out of range", j.Attempt)
	}
	if j.Split < 0 || j.Split > MaxSplit {
		return fmt.Errorf("job split %d out of range 0..%d", j.Split, MaxSplit)
	}
	if j.Split > 0 && j.Kind != KindImages {
		return fmt.Errorf("a split job must be an images job, not %q", j.Kind)
	}
	if j.SplitOf < 0 || j.SplitOf > maxSplitOf || (j.Split > 0 && j.SplitOf < len(j.Images)) {
		return fmt.Errorf("job splitOf %d out of range (%d images)", j.SplitOf, len(j.Images))
	}
	if len(j.SplitFrom) > 128 {
		return fmt.Errorf("job splitFrom of %d characters is too long", len(j.SplitFrom))
	}
	if len(j.Actors) > MaxActors {
		return fmt.Errorf("job names %d actors, more than %d", len(j.Actors), MaxActors)
	}
	for _, a := range j.Actors {
		if err := validActor(a); err != nil {
			return err
		}
	}
	for _, c := range j.Confirm {
		if !slices.Contains(j.Images, c.Image) {
			return fmt.Errorf("job confirmation of image %q, which the job does not name", c.Image)
		}
		if !fingerprintRE.MatchString(c.Fingerprint) {
			return fmt.Errorf("job confirmation of %s: fingerprint %q is not 64 hex digits", c.Image, c.Fingerprint)
		}
		if len(c.Removals) == 0 || len(c.Removals) > MaxRemovals {
			return fmt.Errorf("job confirmation of %s must carry 1 to %d removals, not %d", c.Image, MaxRemovals, len(c.Removals))
		}
		for _, r := range c.Removals {
			if !accountRE.MatchString(r) && !shareNameRE.MatchString(r) && !regionRE.MatchString(r) {
				return fmt.Errorf("job confirmation of %s: %q is neither an account ID, a managed share name nor a region (a copy's retag)", c.Image, r)
			}
		}
	}
	for _, im := range j.Untagged {
		if !slices.Contains(j.Images, im) {
			return fmt.Errorf("job marks image %q untagged, which the job does not name", im)
		}
	}
	if len(j.Regions) > MaxRegions || (len(j.Regions) > 0 && j.Kind != KindImages) {
		return fmt.Errorf("job names %d regions to look for copies in (at most %d, in an images job)", len(j.Regions), MaxRegions)
	}
	for _, r := range j.Regions {
		if !regionRE.MatchString(r) {
			return fmt.Errorf("job region to look for copies in %q is not a region ID", r)
		}
	}
	return nil
}

// maxSplitOf bounds SplitOf: the images a region job can list.
const maxSplitOf = 1 << 20

// Decode reads and validates a job.
func Decode(body string) (Job, error) {
	var j Job
	if len(body) > 64<<10 {
		return j, fmt.Errorf("job of %d bytes is larger than an MNS message", len(body))
	}
	if err := json.Unmarshal([]byte(body), &j); err != nil {
		return j, fmt.Errorf("job is not JSON of the job format: %w", err)
	}
	if err := j.Validate(); err != nil {
		return j, err
	}
	return j, nil
}

// Encode writes a job.
func (j Job) Encode() string {
	j.V = Version
	b, _ := json.Marshal(j)
	return string(b)
}

// ForImages makes image jobs of at most MaxImages each.
func ForImages(region string, images []string, reason string) []Job {
	ids := slices.Clone(images)
	slices.Sort(ids)
	ids = slices.Compact(ids)
	var out []Job
	for c := range slices.Chunk(ids, MaxImages) {
		out = append(out, Job{V: Version, Kind: KindImages, Region: region, Images: c, Reason: reason})
	}
	return out
}

// Halves splits an images job whose retries ran out into two jobs of half its images
// each (the first takes the odd one), one round further down the chain; from is the
// queue message ID of the job, used as SplitFrom when the chain starts here. Everything
// else the job carries (reason, notify, cause, …) stays. ok is false when the job
// cannot be split: it is not an images job, holds one image, or is at MaxSplit.
func (j Job) Halves(from string) (first, second Job, ok bool) {
	if j.Kind != KindImages || len(j.Images) < 2 || j.Split >= MaxSplit {
		return j, j, false
	}
	if j.Split == 0 {
		j.SplitFrom, j.SplitOf = from, len(j.Images)
	}
	j.V = Version
	j.Split++
	mid := (len(j.Images) + 1) / 2
	first, second = j, j
	first.Images = slices.Clone(j.Images[:mid])
	second.Images = slices.Clone(j.Images[mid:])
	// Each image's confirmation and untag mark go with it (Validate refuses them in a
	// job that does not name the image).
	first.Confirm, second.Confirm, first.Untagged, second.Untagged = nil, nil, nil, nil
	for _, c := range j.Confirm {
		if slices.Contains(first.Images, c.Image) {
			first.Confirm = append(first.Confirm, c)
		} else {
			second.Confirm = append(second.Confirm, c)
		}
	}
	for _, im := range j.Untagged {
		if slices.Contains(first.Images, im) {
			first.Untagged = append(first.Untagged, im)
		} else {
			second.Untagged = append(second.Untagged, im)
		}
	}
	return first, second, true
}

// Delays of the jobs the dead-letters function queues again: SplitDelay lets whatever
// made the job fail pass; each further job of one invocation waits SplitStagger more,
// longer than the reconcile trigger's batch window (3 s, s.yaml), so that the halves
// do not meet again in one batch, where one image would fail them all once more.
const (
	SplitDelay   = 30 * time.Second
	SplitStagger = 5 * time.Second
)

// Pack cuts jobs for images (each job a copy of proto naming some of them), keeping each
// image's confirmation and untag mark with it and every job within an MNS message: at
// most MaxImages images, and fewer when the confirmations are large.
func Pack(proto Job, images []string, confirm map[string][]Confirmation, untagged map[string]bool) []Job {
	ids := slices.Clone(images)
	slices.Sort(ids)
	ids = slices.Compact(ids)
	var out []Job
	cur := proto
	cur.V, cur.Kind, cur.Images, cur.Confirm, cur.Untagged = Version, KindImages, nil, nil, nil
	size := len(cur.Encode())
	flush := func() {
		if len(cur.Images) > 0 {
			out = append(out, cur)
		}
		cur.Images, cur.Confirm, cur.Untagged = nil, nil, nil
		size = len(cur.Encode())
	}
	for _, id := range ids {
		add := len(id) + 3
		cs := confirm[id]
		for _, c := range cs {
			b, _ := json.Marshal(c)
			add += len(b) + 1
		}
		if untagged[id] {
			add += len(id) + 3
		}
		if len(cur.Images) >= MaxImages || (len(cur.Images) > 0 && size+add > maxBody) {
			flush()
		}
		cur.Images = append(cur.Images, id)
		cur.Confirm = append(cur.Confirm, cs...)
		if untagged[id] {
			cur.Untagged = append(cur.Untagged, id)
		}
		size += add
	}
	flush()
	return out
}

// Chained delays of re-checks after association changes (docs/architecture.md): 30 s doubling
// to 8 min; a chain ends after MaxRecheck links (the sweep is the safety net).
const (
	RecheckBase = 30 * time.Second
	RecheckMax  = 8 * time.Minute
	MaxRecheck  = 12
	// HandshakeBase..HandshakeMax: invitations live 14 days, longer than one MNS delay,
	// so the checks are a chain.
	HandshakeBase = 5 * time.Minute
	HandshakeMax  = 6 * time.Hour
	MaxHandshake  = 80
)

// HandshakeDue is when link attempt of an invitation's chain of checks falls due, after
// the invitation: the delays of the links before it and its own, HandshakeBase doubling
// to HandshakeMax (5, 15, 35, 75 minutes, …).
func HandshakeDue(attempt int) time.Duration {
	var d time.Duration
	for i := 0; i <= attempt; i++ {
		d += Backoff(HandshakeBase, HandshakeMax, i)
	}
	return d
}

// HandshakeLink returns the first link of the chain of an invitation made at since that
// falls due at now or later, and how long after now it does. ok is false when the
// chain's links are all past (the invitation is older than the chain follows).
func HandshakeLink(since, now time.Time) (attempt int, delay time.Duration, ok bool) {
	for attempt = 0; attempt < MaxHandshake; attempt++ {
		if due := since.Add(HandshakeDue(attempt)); !due.Before(now) {
			return attempt, due.Sub(now), true
		}
	}
	return MaxHandshake, 0, false
}

// Backoff returns base·2^attempt capped at limit.
func Backoff(base, limit time.Duration, attempt int) time.Duration {
	d := base
	for i := 0; i < attempt && d < limit; i++ {
		d *= 2
	}
	return min(d, limit)
}
