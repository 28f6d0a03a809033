package sandbox

import (
	"context"
	"fmt"
	"sort"
	"time"
)

// notSettled: a settle needed more emulated time than the limit.
type notSettled struct {
	start time.Time
	limit time.Duration
	what  string
}

func (e *notSettled) Error() string {
	return fmt.Sprintf("did not settle: still %s after %s of emulated time (from %s)", e.what, e.limit, e.start.Format(time.RFC3339))
}

// drain does everything due now, until nothing is.
func (sb *sandbox) drain(ctx context.Context) error {
	for i := 0; ; i++ {
		did, err := sb.deliverDue(ctx)
		if err != nil {
			return err
		}
		if !did {
			return nil
		}
		if i > 100000 {
			return fmt.Errorf("work keeps falling due at %s without end", sb.clock.Now())
		}
	}
}

// nextDue returns the earliest time something other than a timer falls due: a cloud
// transition, a queued message becoming visible, a retry.
func (sb *sandbox) nextDue() (time.Time, string, bool) {
	var best time.Time
	what := ""
	consider := func(t time.Time, w string) {
		if best.IsZero() || t.Before(best) {
			best, what = t, w
		}
	}
	if t, ok := sb.cloud.NextDue(); ok {
		consider(t, "a cloud transition")
	}
	for _, fn := range sb.sortedFuncs() {
		for _, t := range fn.triggers {
			if t.kind == "mns" {
				if at, ok := sb.mq.NextVisible(sb.sc.Owner, sb.sc.Region, t.queue); ok {
					consider(at, "a message in "+t.queue)
				}
			}
		}
	}
	sb.mu.Lock()
	for _, r := range sb.retries {
		consider(r.at, "a retry of "+r.trig.name)
	}
	sb.mu.Unlock()
	return best, what, !best.IsZero()
}

// nextTimer returns the earliest timer.
func (sb *sandbox) nextTimer() (time.Time, bool) {
	var best time.Time
	for _, tm := range sb.timers {
		if best.IsZero() || tm.next.Before(best) {
			best = tm.next
		}
	}
	return best, !best.IsZero()
}

// settle delivers everything due; when nothing is due it moves the clock to the
// earliest delayed job, retry or cloud transition, firing the timers it passes in time
// order; it stops when only timers remain (docs/scenarios.md, "Time").
func (sb *sandbox) settle(ctx context.Context) error {
	start := sb.clock.Now()
	for {
		if err := sb.drain(ctx); err != nil {
			return err
		}
		next, what, ok := sb.nextDue()
		if !ok {
			return nil
		}
		if next.Sub(start) > sb.opts.SettleLimit {
			return &notSettled{start: start, limit: sb.opts.SettleLimit, what: what}
		}
		if err := sb.runUntil(ctx, next); err != nil {
			return err
		}
	}
}

// runUntil moves the clock to target, stopping at every timer and due time on the way.
func (sb *sandbox) runUntil(ctx context.Context, target time.Time) error {
	for {
		if err := sb.drain(ctx); err != nil {
			return err
		}
		stop := target
		if t, ok := sb.nextTimer(); ok && t.Before(stop) {
			stop = t
		}
		if t, _, ok := sb.nextDue(); ok && t.Before(stop) {
			stop = t
		}
		if !stop.After(sb.clock.Now()) && !stop.Equal(target) {
			// Something due now was not drained (it cannot be): avoid spinning.
			stop = target
		}
		sb.clock.Set(stop)
		if !stop.Before(target) {
			return sb.drain(ctx)
		}
	}
}

// advance processes everything in time order up to now + d.
func (sb *sandbox) advance(ctx context.Context, d time.Duration) error {
	return sb.runUntil(ctx, sb.clock.Now().Add(d))
}

// checkInvariant: every account that had access to an image just before a write by the
// functions, and has access in the settled state, still has access after the write.
// An account that a write cut off although an organization share of the image still
// reaches it (a cloud that lists organization grants as shares, cloud.org_grants_listed)
// is a violation too: it would never have access again, so the settled state cannot
// show the loss.
func (sb *sandbox) checkInvariant() {
	sb.mu.Lock()
	writes := sb.writes
	sb.writes = nil
	sb.mu.Unlock()
	cut := map[string]map[string]bool{}
	for _, v := range sb.allImages() {
		for _, a := range v.Cut {
			if cut[v.ID] == nil {
				cut[v.ID] = map[string]bool{}
			}
			cut[v.ID][a] = true
		}
	}
	final := map[string]map[string]bool{}
	for _, w := range writes {
		images := make([]string, 0, len(w.Before))
		for im := range w.Before {
			images = append(images, im)
		}
		sort.Strings(images)
		for _, im := range images {
			if _, ok := final[im]; !ok {
				final[im] = sb.cloud.Access(w.Region, im)
			}
			var lost []string
			for acct := range w.Before[im] {
				if !w.After[im][acct] && (final[im][acct] || cut[im][acct]) {
					lost = append(lost, acct)
				}
			}
			sort.Strings(lost)
			for _, acct := range lost {
				v := fmt.Sprintf("%s (request %s, %s) cut account %s off image %s, which has access again once settled",
					w.Action, w.RequestID, w.Time.Format(time.RFC3339), acct, im)
				if !final[im][acct] {
					v = fmt.Sprintf("%s (request %s, %s) cut account %s off image %s, which an organization share still reaches: this cloud lists organization grants as shares, and removing one cuts access (set REVOKE_REDUNDANT=false)",
						w.Action, w.RequestID, w.Time.Format(time.RFC3339), acct, im)
				}
				sb.mu.Lock()
				sb.violations = append(sb.violations, v)
				sb.mu.Unlock()
			}
		}
	}
}
