package sandbox

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/rand"
	"sort"
	"sync"
	"time"

	"imageshare/pkg/cloudsim"
	"imageshare/pkg/cloudsim/emu"
	"imageshare/pkg/cloudsim/mns"
	"imageshare/pkg/fcruntime"
)

// detRand is the seeded randomness of the emulated EventBridge (retry jitter), so
// that a scenario replays the same way.
type detRand struct{ r *rand.Rand }

func newDetRand(seed int64) *detRand { return &detRand{r: rand.New(rand.NewSource(seed))} }

func (d *detRand) between(lo, hi time.Duration) time.Duration {
	return lo + time.Duration(d.r.Int63n(int64(hi-lo)+1))
}

// onEvent receives every ActionTrail event the cloud emits; the owner's bus routes it
// unless the scenario switched events off (or org events are not emitted).
func (sb *sandbox) onEvent(ev cloudsim.Event) {
	if ev.Bus != sb.sc.Owner {
		return
	}
	var head struct {
		Source string `json:"source"`
		Region string `json:"aliyunregionid"`
	}
	_ = json.Unmarshal(ev.Body, &head)
	sb.mu.Lock()
	defer sb.mu.Unlock()
	if !sb.eventsOn || (head.Source == "acs.resourcemanager" && !sb.sc.Cloud.OrgEvents) {
		return
	}
	if head.Source == "acs.ecs" && head.Region != sb.sc.Region {
		// EventBridge is regional: an ECS call in another region goes to that region's
		// bus, where the scenario has no deployment (its REGIONS are swept, not heard).
		return
	}
	sb.bus = append(sb.bus, pending{body: ev.Body})
}

// onKill ends the function process that made the call (kill fault).
func (sb *sandbox) onKill(caller emu.Identity) {
	if caller.SessionName != "" {
		sb.tracef("kill fault: ending the process running %s", caller.SessionName)
		sb.rt.KillInvocation(caller.SessionName)
	}
}

// invoke calls a function once, with fresh STS credentials of the functions' role.
func (sb *sandbox) invoke(ctx context.Context, fn *function, payload []byte, retryCount int) (bool, error) {
	reqID := emu.NewRequestID()
	cred := sb.keys.AssumeRole(sb.sc.Owner, sb.role, reqID, time.Hour)
	sb.audit.remember("functions' STS credentials", cred.AccessKeyID[len("STS."):], cred.AccessKeySecret, cred.SecurityToken[len("CAIS"):])
	inv := fcruntime.Invocation{Payload: payload, Region: sb.sc.Region, AccountID: sb.sc.Owner, RetryCount: retryCount, RequestID: reqID}
	inv.Credentials.AccessKeyID, inv.Credentials.AccessKeySecret, inv.Credentials.SecurityToken = cred.AccessKeyID, cred.AccessKeySecret, cred.SecurityToken
	res, err := sb.rt.Invoke(ctx, fn.key, inv)
	sb.keys.Revoke(cred.AccessKeyID)
	sb.mu.Lock()
	sb.invocations[fn.key]++
	sb.mu.Unlock()
	if err != nil {
		return false, fmt.Errorf("invoke %s: %w", fn.key, err)
	}
	if res.Error != nil {
		sb.tracef("%s %s failed: %s %s", fn.key, reqID, res.Error.Type, res.Error.Message)
		return false, nil
	}
	sb.tracef("%s %s ok %s", fn.key, reqID, clip(res.Payload))
	return true, nil
}

func clip(b []byte) string {
	if len(b) > 120 {
		return string(b[:120]) + "…"
	}
	return string(b)
}

// deliverDue does everything due at the current emulated time; it reports whether it
// did anything.
func (sb *sandbox) deliverDue(ctx context.Context) (bool, error) {
	did := false
	sb.cloud.RunDue()
	now := sb.clock.Now()
	// Events on the bus, in order.
	sb.mu.Lock()
	bus := sb.bus
	sb.bus = nil
	sb.mu.Unlock()
	if sb.chaos.shuffle(len(bus), func(i, j int) { bus[i], bus[j] = bus[j], bus[i] }) {
		sb.tracef("chaos: %d bus events shuffled", len(bus))
	}
	for _, ev := range bus {
		did = true
		sb.events++
		for _, fn := range sb.sortedFuncs() {
			for i := range fn.triggers {
				t := &fn.triggers[i]
				if t.kind != "bus" || !t.pattern.Match(ev.body) {
					continue
				}
				if err := sb.deliver(ctx, t, ev.body, nil, []string{string(ev.body)}, 0, now); err != nil {
					return did, err
				}
			}
		}
		if !ev.dup && sb.chaos.duplicate() {
			// At-least-once: the bus delivers this event again (in the next round).
			sb.tracef("chaos: a bus event is delivered again")
			sb.mu.Lock()
			sb.bus = append(sb.bus, pending{body: ev.body, dup: true})
			sb.mu.Unlock()
		}
	}
	// Retries due.
	sb.mu.Lock()
	var due []retry
	rest := sb.retries[:0]
	for _, r := range sb.retries {
		if !r.at.After(now) {
			due = append(due, r)
		} else {
			rest = append(rest, r)
		}
	}
	sb.retries = rest
	sb.mu.Unlock()
	for _, r := range due {
		did = true
		if err := sb.deliver(ctx, r.trig, r.payload, r.handles, r.bodies, r.attempt, r.first); err != nil {
			return did, err
		}
	}
	// MNS sources: one batch per trigger per round.
	for _, fn := range sb.sortedFuncs() {
		for i := range fn.triggers {
			t := &fn.triggers[i]
			if t.kind != "mns" {
				continue
			}
			// EventBridge gathers up to CountBasedWindow messages (1..10000); one MNS
			// receive returns at most 16, so it takes several.
			var msgs []mns.Message
			for len(msgs) < t.batch {
				got, err := sb.mq.Receive(sb.sc.Owner, sb.sc.Region, t.queue, min(16, t.batch-len(msgs)))
				if err != nil {
					return did, fmt.Errorf("receive from %s: %w", t.queue, err)
				}
				if len(got) == 0 {
					break
				}
				msgs = append(msgs, got...)
			}
			if len(msgs) == 0 {
				continue
			}
			did = true
			var events []string
			var handles []string
			for _, m := range msgs {
				ev := sb.mnsEvent(t, m.ID, m.Body)
				if !t.pattern.Match(ev) {
					// The rule does not match the source's events: they go nowhere.
					sb.tracef("%s: event of %s does not match the trigger's pattern; dropped", t.name, t.queue)
					_ = sb.mq.Delete(sb.sc.Owner, sb.sc.Region, t.queue, m.ReceiptHandle)
					continue
				}
				events = append(events, string(ev))
				handles = append(handles, m.ReceiptHandle)
			}
			if len(events) == 0 {
				continue
			}
			if sb.chaos.shuffle(len(events), func(i, j int) {
				events[i], events[j] = events[j], events[i]
				handles[i], handles[j] = handles[j], handles[i]
			}) {
				sb.tracef("chaos: a batch of %d messages of %s shuffled", len(events), t.queue)
			}
			payload, _ := json.Marshal(events)
			if err := sb.deliver(ctx, t, payload, handles, events, 0, now); err != nil {
				return did, err
			}
			if sb.chaos.duplicate() {
				// At-least-once: the batch is delivered once more, at once, as when the
				// acknowledgement of the first delivery was lost.
				sb.tracef("chaos: a batch of %s is delivered again", t.queue)
				sb.mu.Lock()
				sb.retries = append(sb.retries, retry{at: now, trig: t, payload: payload, first: now, bodies: events})
				sb.mu.Unlock()
			}
		}
	}
	// Timers due.
	for _, tm := range sb.timers {
		for !tm.next.After(now) {
			did = true
			p, _ := json.Marshal(map[string]string{"triggerTime": tm.next.UTC().Format(time.RFC3339), "triggerName": tm.trig.name, "payload": tm.payload})
			at := tm.next
			tm.next = tm.sched.Next(tm.next)
			// A timer invokes asynchronously, and Function Compute retries a failed
			// asynchronous invocation up to 3 times by default
			// (https://www.alibabacloud.com/help/en/functioncompute/fc/error-handling-1-2);
			// the interval is not documented: the retries come at once.
			ok := false
			for try := 0; try <= timerRetries && !ok; try++ {
				var err error
				if ok, err = sb.invoke(ctx, tm.trig.fn, p, try); err != nil {
					return did, err
				}
				if !ok && try < timerRetries {
					sb.tracef("%s: the timer's invocation is retried (%d of %d)", tm.trig.fn.key, try+1, timerRetries)
				}
			}
			sb.recordTimer(tm.trig.fn.key, at, ok)
		}
	}
	return did, nil
}

func (sb *sandbox) sortedFuncs() []*function {
	out := make([]*function, 0, len(sb.funcs))
	for _, f := range sb.funcs {
		out = append(out, f)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].key < out[j].key })
	return out
}

// timerRetries is how many times Function Compute retries a failed asynchronous
// invocation, a timer's included, by default.
const timerRetries = 3

// mnsEvent wraps a queue message the way the EventBridge MNS source does.
func (sb *sandbox) mnsEvent(t *trigger, id, body string) []byte {
	if t.base64 {
		if b, err := base64.StdEncoding.DecodeString(body); err == nil {
			body = string(b)
		}
	}
	now := sb.clock.Now().UTC()
	ev := map[string]any{
		"specversion": "1.0", "id": emu.NewRequestID(), "source": t.source, "type": "mns:Queue:SendMessage",
		"subject": "acs:mns:" + sb.sc.Region + ":" + sb.sc.Owner + ":queues/" + t.queue, "time": now.Format(time.RFC3339Nano),
		"datacontenttype": "application/json;charset=utf-8", "aliyunaccountid": sb.sc.Owner, "aliyunregionid": sb.sc.Region,
		"aliyunpublishtime": now.Add(8*time.Hour).Format("2006-01-02T15:04:05.000") + "PRC", "aliyuneventbusname": "MNS-" + t.queue,
		"aliyunoriginalaccountid": sb.sc.Owner,
		"data":                    map[string]string{"requestId": emu.NewRequestID(), "messageId": id, "messageBody": body},
	}
	b, _ := json.Marshal(ev)
	return b
}

// deliver invokes the trigger's function; on failure it schedules the next attempt as
// the trigger's retry strategy says, and when retries run out sends each event to the
// dead-letter queue.
func (sb *sandbox) deliver(ctx context.Context, t *trigger, payload []byte, handles, events []string, attempt int, first time.Time) error {
	ok, err := sb.invokeRacing(ctx, t, payload, attempt)
	if err != nil {
		return err
	}
	if ok {
		for _, h := range handles {
			_ = sb.mq.Delete(sb.sc.Owner, sb.sc.Region, t.queue, h)
		}
		if t.kind == "mns" {
			sb.recordDelivery(Delivery{Function: t.fn.key, Events: events, At: sb.clock.Now()})
		}
		return nil
	}
	delay, more := sb.nextRetry(t, attempt, first)
	if more {
		at := sb.clock.Now().Add(delay)
		for i, h := range handles {
			// Keep the messages invisible while the delivery waits to be retried.
			if nh, err := sb.mq.ChangeVisibility(sb.sc.Owner, sb.sc.Region, t.queue, h, delay+time.Minute); err == nil {
				handles[i] = nh
			}
		}
		sb.mu.Lock()
		sb.retries = append(sb.retries, retry{at: at, trig: t, payload: payload, attempt: attempt + 1, first: first, handles: handles, bodies: events})
		sb.mu.Unlock()
		sb.tracef("%s: retry %d at %s", t.name, attempt+1, at.Format("15:04:05"))
		return nil
	}
	for _, ev := range events {
		sb.recordDeadLetter(DeadLetter{Function: t.fn.key, Event: ev, At: sb.clock.Now(), Dropped: t.dlq == ""})
		if t.dlq == "" {
			sb.tracef("%s: retries ran out and no dead-letter queue: event dropped", t.name)
			continue
		}
		if _, err := sb.mq.Send(sb.sc.Owner, sb.sc.Region, t.dlq, ev, 0); err != nil {
			return fmt.Errorf("dead-letter queue %s: %w", t.dlq, err)
		}
		sb.tracef("%s: retries ran out; event sent to %s", t.name, t.dlq)
	}
	for _, h := range handles {
		_ = sb.mq.Delete(sb.sc.Owner, sb.sc.Region, t.queue, h)
	}
	return nil
}

// invokeRacing invokes the trigger's function; with Options.Concurrent, a batch of the
// job queue goes to that many instances at once, and counts as delivered only when
// every copy succeeded (a failed copy is retried like any failed delivery).
func (sb *sandbox) invokeRacing(ctx context.Context, t *trigger, payload []byte, attempt int) (bool, error) {
	n := 1
	if t.kind == "mns" && t.queue == sb.jobQueue && sb.opts.Concurrent > 1 {
		n = sb.opts.Concurrent
	}
	if n == 1 {
		return sb.invoke(ctx, t.fn, payload, attempt)
	}
	type outcome struct {
		ok  bool
		err error
	}
	outs := make([]outcome, n)
	var wg sync.WaitGroup
	for i := range outs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ok, err := sb.invoke(ctx, t.fn, payload, attempt)
			outs[i] = outcome{ok, err}
		}()
	}
	wg.Wait()
	all := true
	for _, o := range outs {
		if o.err != nil {
			return false, o.err
		}
		all = all && o.ok
	}
	return all, nil
}

// nextRetry applies EventBridge's push retry strategies: BACKOFF_RETRY retries 3 times
// 10-20 s apart; EXPONENTIAL_DECAY_RETRY doubles from 1 s to 512 s, 176 times.
func (sb *sandbox) nextRetry(t *trigger, attempt int, first time.Time) (time.Duration, bool) {
	max := t.retry.maxAttempts
	var d time.Duration
	switch t.retry.strategy {
	case "EXPONENTIAL_DECAY_RETRY":
		if max <= 0 {
			max = 176
		}
		d = min(time.Second<<min(attempt, 9), 512*time.Second)
	default:
		if max <= 0 {
			max = 3
		}
		d = sb.rand.between(10*time.Second, 20*time.Second)
	}
	if attempt >= max {
		return 0, false
	}
	if t.retry.maxAge > 0 && sb.clock.Now().Add(d).Sub(first) > t.retry.maxAge {
		return 0, false
	}
	return d, true
}
