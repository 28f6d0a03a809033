// Package job is the message format of the reconcile queue: a job names what to look at
// (images of a region, every managed image of a region, or an invitation to follow) and
// why. Jobs carry no decision: the reconcile run reads fresh state.
package job

import (
	"encoding/json"
	"errors"
	"fmt"
	"math/bits"
	"slices"
	"time"

	"imageshare/pkg/event"
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
}

// MaxSplit bounds a chain of dead-letter splits: one round to turn a region job into
// image jobs, then halvings of at most MaxImages images down to one.
var MaxSplit = 1 + bits.Len(uint(MaxImages-1))

// MaxNotified bounds the fingerprints a job carries (8 characters each).
const MaxNotified = 512

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

// Backoff returns base·2^attempt capped at limit.
func Backoff(base, limit time.Duration, attempt int) time.Duration {
	d := base
	for i := 0; i < attempt && d < limit; i++ {
		d *= 2
	}
	return min(d, limit)
}
