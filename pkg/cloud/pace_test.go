package cloud

import (
	"context"
	"math"
	"testing"
	"time"
)

// fakeClock drives a Pacer without real time: Sleep advances it.
type fakeClock struct {
	now    time.Time
	sleeps []time.Duration
}

func newPaced() (*Pacer, *fakeClock) {
	c := &fakeClock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	p := &Pacer{Now: func() time.Time { return c.now }, Sleep: func(_ context.Context, d time.Duration) error {
		c.sleeps = append(c.sleeps, d)
		c.now = c.now.Add(d)
		return nil
	}}
	return p, c
}

var throttle = &Error{Code: "Throttling.User", HTTPStatus: 400}

// limiter is a cloud-side token bucket of rate and burst rate, as the emulated cloud has.
type limiter struct {
	rate, tokens float64
	last         time.Time
}

func (l *limiter) call(now time.Time) error {
	if l.last.IsZero() {
		l.tokens, l.last = l.rate, now
	}
	l.tokens = math.Min(l.rate, l.tokens+now.Sub(l.last).Seconds()*l.rate)
	l.last = now
	if l.tokens < 1 {
		return throttle
	}
	l.tokens--
	return nil
}

// run makes n calls of key, each taking latency, through the pacer against answer.
func run(t *testing.T, p *Pacer, c *fakeClock, n int, latency time.Duration, answer func(i int, now time.Time) error) (ok, throttled int) {
	t.Helper()
	for i := 0; i < n; i++ {
		tk, err := p.Wait(context.Background(), "k")
		if err != nil {
			t.Fatal(err)
		}
		c.now = c.now.Add(latency)
		err = answer(i, c.now)
		if err == nil {
			ok++
		} else {
			throttled++
		}
		p.Done(tk, err)
	}
	return ok, throttled
}

func TestPacerUnpacedUntilThrottled(t *testing.T) {
	p, c := newPaced()
	run(t, p, c, 200, 10*time.Millisecond, func(int, time.Time) error { return nil })
	if r := p.Rate("k"); r != 0 {
		t.Fatalf("paced at %v without any throttling", r)
	}
	if len(c.sleeps) != 0 {
		t.Fatalf("slept %v", c.sleeps)
	}
}

func TestPacerFindsTheLimit(t *testing.T) {
	// 100 calls per second of latency against a limit of 20: the pacer must settle near
	// 20 and stop being throttled most of the time.
	p, c := newPaced()
	l := &limiter{rate: 20}
	run(t, p, c, 400, 10*time.Millisecond, func(_ int, now time.Time) error { return l.call(now) })
	r := p.Rate("k")
	if r < 15 || r > 25 {
		t.Fatalf("rate %.1f after 400 calls against a limit of 20", r)
	}
	start := c.now
	ok, throttled := run(t, p, c, 600, 10*time.Millisecond, func(_ int, now time.Time) error { return l.call(now) })
	got := float64(ok) / c.now.Sub(start).Seconds()
	if got < 17 {
		t.Fatalf("accepted %.1f calls per second against a limit of 20 (%d throttled)", got, throttled)
	}
	if throttled > 60 {
		t.Fatalf("%d of 600 calls throttled once paced", throttled)
	}
}

func TestPacerIgnoresThrottlingItsRateDoesNotCause(t *testing.T) {
	// One call in five throttled whatever the rate (faults, another caller): a cut is
	// tried, does not help, and is undone; the pacer stays unpaced.
	p, c := newPaced()
	run(t, p, c, 1000, 10*time.Millisecond, func(i int, _ time.Time) error {
		if i%5 == 0 {
			return throttle
		}
		return nil
	})
	if r := p.Rate("k"); r != 0 {
		t.Fatalf("paced at %.1f by throttling that does not depend on the rate", r)
	}
	// It slowed down at most briefly: 1000 calls of 10ms took little more than 10s.
	if c.now.Sub(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)) > 14*time.Second {
		t.Fatalf("1000 calls took %s", c.now.Sub(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)))
	}
}

func TestPacerCreepsBack(t *testing.T) {
	p, c := newPaced()
	l := &limiter{rate: 10}
	run(t, p, c, 200, 10*time.Millisecond, func(_ int, now time.Time) error { return l.call(now) })
	low := p.Rate("k")
	if low == 0 || low > 12 {
		t.Fatalf("rate %.1f against a limit of 10", low)
	}
	// The limit is lifted: the rate grows again (slowly past what the cloud accepted).
	run(t, p, c, 800, 10*time.Millisecond, func(int, time.Time) error { return nil })
	if high := p.Rate("k"); high < low*1.5 {
		t.Fatalf("rate %.1f → %.1f after 800 calls without throttling", low, high)
	}
}

func TestPacerSpacesCallsOfOneKeyOnly(t *testing.T) {
	p, c := newPaced()
	p.lane("k").rate = 4
	for i := 0; i < 3; i++ {
		if _, err := p.Wait(context.Background(), "k"); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := p.Wait(context.Background(), "other"); err != nil {
		t.Fatal(err)
	}
	if len(c.sleeps) != 2 || c.sleeps[0] != 250*time.Millisecond || c.sleeps[1] != 250*time.Millisecond {
		t.Fatalf("sleeps %v, want two of 250ms (4 per second) and none for another key", c.sleeps)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	real := &Pacer{}
	real.lane("k").rate = 0.001
	real.lane("k").next = time.Now().Add(time.Hour)
	if _, err := real.Wait(ctx, "k"); err == nil {
		t.Fatal("a cancelled wait must return the context's error")
	}
}
