package cloud

import (
	"context"
	"sync"
	"time"
)

// Pacer keeps the calls of each action (of each endpoint) at a rate the cloud's flow
// control accepts, so that a throttled run spends its time calling instead of backing
// off: ECS, the directory and Resource Sharing limit the queries per second of each API
// per account, and answer Throttling.User above it. The goroutines of a process share
// one Pacer, so a pool of readers and the applier slow down together.
//
// The limit is not known in advance; the Pacer learns it. Calls are unpaced until the
// cloud throttles repeatedly. A second after the first throttled call of a window came
// back, the Pacer estimates the cloud's rate as the calls it accepted among those sent
// from then to the last throttled one (its burst allowance is spent by then), and
// probes: it paces at 80% of the estimate, lets a second pass (for the calls already
// waiting, and for the cloud's allowance to refill a little), and watches one window.
// When the share of throttled calls falls by a quarter or more, the throttling was
// about our rate: the pace becomes 95% of the estimate, and creeps up in each window in
// which it held calls back without throttling (by 3% up to the confirmed estimate, by
// 1% past it, faster while well under it). When it does not (and more than one call was throttled), it
// was not (faults, or another caller of the account): the probe is
// undone, and that share is treated as noise until the throttling rises above it.
type Pacer struct {
	// Now and Sleep replace the clock in tests; nil: real time.
	Now   func() time.Time
	Sleep func(ctx context.Context, d time.Duration) error

	mu    sync.Mutex
	lanes map[string]*lane
}

// Ticket is one call between Wait and Done.
type Ticket struct {
	key  string
	sent time.Time
}

type lane struct {
	rate float64   // calls per second; 0: not paced
	next time.Time // when the next call may start
	// The current window of observation: from the end of its first call; the send
	// times of its accepted and throttled calls; when its first throttled call ended.
	start           time.Time
	firstThrottle   time.Time
	calls           int
	accepted, thrtl []time.Time
	waited          bool // a call of the window waited for its slot: the pace was binding
	// probing: the rate was just cut to paceProbe of estimate; the window says whether
	// slowing down helped.
	probing  bool
	settle   time.Time // calls ending before this are not counted (the probe is taking effect)
	estimate float64   // the cloud's rate, as last estimated
	good     float64   // the last estimate a probe confirmed
	prevRate float64   // the rate before the probe (0: unpaced)
	cutFrac  float64   // the throttled share of the window that caused the probe
	// noise is the throttled share that slowing down did not reduce.
	noise float64
}

// Tuning of the Pacer.
const (
	paceWindow    = time.Second     // a window lasts at least this long…
	paceMinCalls  = 5               // …and holds this many calls,
	paceMaxWindow = 5 * time.Second // or lasts this long
	paceEvidence  = 3               // throttled calls in a window before the rate is estimated
	paceMinRate   = 1.0             // calls per second
	paceProbe     = 0.8             // a probe paces at this share of the estimate…
	paceHeadroom  = 0.95            // …and a confirmed cut at this one
	paceMaxCut    = 0.67            // a paced lane's estimate is at least this share of its rate
	paceCreep     = 1.03            // growth per window without throttling…
	paceReturn    = 1.25            // …or back towards the last confirmed estimate,
	paceSeek      = 1.01            // …or past it
	paceMaxNoise  = 0.5             // throttling above this share is never taken for noise
	paceSettle    = paceWindow      // a probe's calls are counted after this
)

// NewPacer returns a Pacer on the real clock.
func NewPacer() *Pacer { return &Pacer{} }

func (p *Pacer) now() time.Time {
	if p.Now != nil {
		return p.Now()
	}
	return time.Now()
}

func (p *Pacer) sleep(ctx context.Context, d time.Duration) error {
	if p.Sleep != nil {
		return p.Sleep(ctx, d)
	}
	return Sleep(ctx, d)
}

func (p *Pacer) lane(key string) *lane {
	if p.lanes == nil {
		p.lanes = map[string]*lane{}
	}
	l := p.lanes[key]
	if l == nil {
		l = &lane{}
		p.lanes[key] = l
	}
	return l
}

// Wait returns when a call of key may be sent (at once while key is not paced), or
// with ctx's error. The ticket goes to Done.
func (p *Pacer) Wait(ctx context.Context, key string) (Ticket, error) {
	p.mu.Lock()
	l := p.lane(key)
	now := p.now()
	if l.rate <= 0 {
		p.mu.Unlock()
		return Ticket{key: key, sent: now}, nil
	}
	at := l.next
	if at.Before(now) {
		at = now
	}
	l.next = at.Add(time.Duration(float64(time.Second) / l.rate))
	l.waited = l.waited || at.After(now)
	p.mu.Unlock()
	if d := at.Sub(now); d > 0 {
		if err := p.sleep(ctx, d); err != nil {
			return Ticket{}, err
		}
	}
	return Ticket{key: key, sent: at}, nil
}

// Done records how the call of t ended.
func (p *Pacer) Done(t Ticket, err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	l := p.lane(t.key)
	now := p.now()
	if now.Before(l.settle) {
		return
	}
	if l.start.IsZero() {
		l.start = now
	}
	l.calls++
	switch {
	case Throttled(err):
		l.thrtl = append(l.thrtl, t.sent)
		if l.firstThrottle.IsZero() {
			l.firstThrottle = now
		}
	case err == nil:
		l.accepted = append(l.accepted, t.sent)
	}
	if len(l.thrtl) > 0 {
		if now.Sub(l.firstThrottle) < paceWindow {
			return
		}
	} else if el := now.Sub(l.start); el < paceWindow || (l.calls < paceMinCalls && el < paceMaxWindow) {
		return
	}
	l.close(now)
	l.start, l.firstThrottle, l.calls, l.accepted, l.thrtl, l.waited = time.Time{}, time.Time{}, 0, l.accepted[:0], l.thrtl[:0], false
}

// Rate returns key's current rate (0: not paced), for logs and tests.
func (p *Pacer) Rate(key string) float64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.lane(key).rate
}

// close ends a window: probe, confirm or undo a probe, or creep.
func (l *lane) close(now time.Time) {
	frac := float64(len(l.thrtl)) / float64(l.calls)
	if l.probing {
		l.probing = false
		if len(l.thrtl) > 1 && frac >= l.cutFrac*0.75 {
			// Slowing down did not help: not our rate. (One throttled call says little.)
			l.rate, l.noise = l.prevRate, min(frac, paceMaxNoise)
			return
		}
		l.good = l.estimate
		l.rate = max(paceMinRate, l.estimate*paceHeadroom)
		return
	}
	if len(l.thrtl) >= paceEvidence && frac > l.noise*1.5 {
		// Once the first throttled call came back, the cloud's allowance was spent, and
		// it stayed saturated until the last throttled call was sent: what it accepted
		// of the calls sent meanwhile is its rate. (A throttled call or two say little:
		// the retries' backoff takes care of them.) Callers that paused meanwhile (a
		// reader waiting for the writer) make that low: a paced lane is not cut by more
		// than a third at once.
		first, last := l.firstThrottle, l.firstThrottle
		for _, t := range l.thrtl {
			last = maxTime(last, t)
		}
		ok := 0
		for _, t := range l.accepted {
			if !t.Before(first) && t.Before(last) {
				ok++
			}
		}
		if span := last.Sub(first); span >= paceWindow/4 {
			l.estimate = max(float64(ok), 1) / span.Seconds()
			if l.rate > 0 {
				l.estimate = min(max(l.estimate, l.rate*paceMaxCut), l.rate)
			}
			l.prevRate, l.cutFrac, l.probing = l.rate, frac, true
			l.rate = max(paceMinRate, l.estimate*paceProbe)
			// Calls already waiting went at the old pace, and the cloud's allowance is
			// empty: the probe counts from when both are past.
			l.settle = now.Add(paceSettle)
			return
		}
	}
	l.noise = 0.9*l.noise + 0.1*frac
	// Creep only when the pace held calls back: a lane whose callers paused has shown
	// nothing about a higher rate.
	if l.rate > 0 && len(l.thrtl) == 0 && l.waited {
		switch {
		case l.rate < l.good*paceHeadroom:
			// Below what the cloud accepted last time it was probed: back quickly.
			l.rate = min(l.rate*paceReturn, l.good*paceHeadroom)
		case l.rate < l.good:
			l.rate *= paceCreep
		default:
			// Past it: the cloud's rate may have grown (another caller stopped); look
			// for it slowly.
			l.rate *= paceSeek
		}
	}
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// Sleep waits d, or less if ctx ends first (then it returns ctx's error).
func Sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
