package sandbox

import (
	"fmt"
	"math/rand"
	"sort"
	"sync"
	"time"

	"imageshare/pkg/cloudsim"
)

// Chaos configures at-least-once, out-of-order delivery by the emulated EventBridge.
// The real service promises neither exactly-once nor ordered delivery; the sandbox by
// default delivers each event once and in order, which hides bugs that only show when
// a job runs twice or after a later one. The dice are seeded, so a run replays.
type Chaos struct {
	Seed int64
	// Duplicate is the probability that an event routed from the bus to a function, or
	// a batch of queue messages delivered successfully, is delivered once more.
	Duplicate float64
	// Reorder is the probability that the events waiting on the bus, or the messages of
	// one queue batch, are shuffled before delivery.
	Reorder float64
}

func (c Chaos) on() bool { return c.Duplicate > 0 || c.Reorder > 0 }

// chaosState holds the dice; it is used only by the goroutine that delivers.
type chaosState struct {
	cfg Chaos
	r   *rand.Rand
}

func newChaos(c Chaos) *chaosState {
	if !c.on() {
		return nil
	}
	return &chaosState{cfg: c, r: rand.New(rand.NewSource(c.Seed))}
}

// duplicate rolls whether a delivery is made twice.
func (c *chaosState) duplicate() bool {
	return c != nil && c.r.Float64() < c.cfg.Duplicate
}

// shuffle reorders n items through swap when the dice say so.
func (c *chaosState) shuffle(n int, swap func(i, j int)) bool {
	if c == nil || n < 2 || c.r.Float64() >= c.cfg.Reorder {
		return false
	}
	c.r.Shuffle(n, swap)
	return true
}

// StepRecord is what happened during one top-level step, its settle included.
type StepRecord struct {
	// Start, End: the emulated clock when the step began and when its settle ended.
	Start, End time.Time
	// Wall: the wall clock when the step began (benchmarks time what follows from it).
	Wall time.Time
	// Timers lists the timer triggers that fired, in order.
	Timers []TimerFiring
	// DeadLetters lists the events whose retries ran out, in order.
	DeadLetters []DeadLetter
	// Delivered lists the queue batches a function took (its invocation succeeded), in
	// order: with DeadLetters, what became of every job.
	Delivered []Delivery
}

// Delivery is one batch of queue messages delivered to a function that succeeded.
type Delivery struct {
	Function string
	// Events are the CloudEvents of the batch, each wrapping one message.
	Events []string
	At     time.Time
}

// TimerFiring is one firing of a timer trigger.
type TimerFiring struct {
	Function string
	At       time.Time
	// OK: the invocation, or one of its retries (Function Compute retries a failed
	// asynchronous invocation up to 3 times, at once here), succeeded.
	OK bool
}

// DeadLetter is one event EventBridge gave up on: sent to the trigger's dead-letter
// queue, or dropped when the trigger has none.
type DeadLetter struct {
	Function string
	Event    string
	At       time.Time
	Dropped  bool
}

func (sb *sandbox) recordTimer(fn string, at time.Time, ok bool) {
	sb.mu.Lock()
	defer sb.mu.Unlock()
	if n := len(sb.steps); n > 0 {
		sb.steps[n-1].Timers = append(sb.steps[n-1].Timers, TimerFiring{Function: fn, At: at, OK: ok})
	}
}

func (sb *sandbox) recordDeadLetter(d DeadLetter) {
	sb.mu.Lock()
	defer sb.mu.Unlock()
	if n := len(sb.steps); n > 0 {
		sb.steps[n-1].DeadLetters = append(sb.steps[n-1].DeadLetters, d)
	}
}

func (sb *sandbox) recordDelivery(d Delivery) {
	sb.mu.Lock()
	defer sb.mu.Unlock()
	if n := len(sb.steps); n > 0 {
		sb.steps[n-1].Delivered = append(sb.steps[n-1].Delivered, d)
	}
}

// Write is one write by the functions that took effect, as Options.OnWrite sees it.
type Write struct {
	cloudsim.WriteRecord
	// Members: the directory's members right after the write (account → folder).
	Members map[string]string
	// Images: the images of the write's region right after it.
	Images []cloudsim.ImageView
	// Shares: the resource shares of the write's region right after it.
	Shares []cloudsim.ShareView
	// Elsewhere: the images of every other region right after it (the sources of copies).
	Elsewhere []cloudsim.ImageView
}

// audit finds credentials in what the functions log and publish (rule R10: credentials
// and access key IDs never appear in logs or messages). Every credential the sandbox
// hands out is remembered; each line is searched for them.
type audit struct {
	mu      sync.Mutex
	secrets map[string]string // secret text → what it is ("access key ID of …")
	lens    []int             // distinct lengths of the secrets' hex parts
	found   []string
}

func newAudit() *audit { return &audit{secrets: map[string]string{}} }

// remember adds a credential; hexParts are its random hex parts, which are what a log
// line could carry (with or without the STS./LTAI/CAIS prefix).
func (a *audit) remember(what string, hexParts ...string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, h := range hexParts {
		if len(h) < 16 {
			continue
		}
		a.secrets[h] = what
		known := false
		for _, n := range a.lens {
			known = known || n == len(h)
		}
		if !known {
			a.lens = append(a.lens, len(h))
		}
	}
}

func isHex(b byte) bool { return b >= '0' && b <= '9' || b >= 'a' && b <= 'f' || b >= 'A' && b <= 'F' }

// scan looks for remembered secrets in s; where says where s comes from.
func (a *audit) scan(where string, s []byte) {
	if a == nil {
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	for i := 0; i < len(s); {
		if !isHex(s[i]) {
			i++
			continue
		}
		j := i
		for j < len(s) && isHex(s[j]) {
			j++
		}
		run := string(s[i:j])
		for _, n := range a.lens {
			for k := 0; k+n <= len(run); k++ {
				if what, ok := a.secrets[run[k:k+n]]; ok {
					a.found = append(a.found, fmt.Sprintf("%s carries the %s (%s…)", where, what, run[k:k+4]))
				}
			}
		}
		i = j
	}
}

func (a *audit) line(function string, line []byte) {
	a.scan("a log line of "+function, line)
}

func (a *audit) notifications(bodies []string) {
	for i, b := range bodies {
		a.scan(fmt.Sprintf("notification %d", i+1), []byte(b))
	}
}

// leaks returns what was found, each once.
func (a *audit) leaks() []string {
	if a == nil {
		return nil
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	seen := map[string]bool{}
	var out []string
	for _, f := range a.found {
		if !seen[f] {
			seen[f] = true
			out = append(out, f)
		}
	}
	sort.Strings(out)
	return out
}
