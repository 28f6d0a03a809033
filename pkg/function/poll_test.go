package function

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"imageshare/pkg/cloud"
	"imageshare/pkg/job"
)

// The organization poll: its window, its calls, and the jobs of what it finds.

// trailRecord is an ActionTrail record as LookupEvents returns it.
type trailRecord struct {
	at, listed time.Time
	body       map[string]any
}

// fakeTrail answers LookupEvents from records (those listed by the tick the test sets,
// with eventTime in the window, newest first, pages of MaxResults), and counts calls.
type fakeTrail struct {
	cloud.API
	mu         sync.Mutex
	records    []trailRecord
	now        time.Time // what LookupEvents sees as now (records listed after it are not)
	throttle   int       // answer Throttling.User to this many calls first
	calls      []cloud.LookupEventsInput
	handshakes []cloud.Handshake
	lists      int // ListHandshakes calls
}

func (f *fakeTrail) LookupEvents(_ context.Context, in cloud.LookupEventsInput) (cloud.EventPage, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, in)
	if f.throttle > 0 {
		f.throttle--
		return cloud.EventPage{}, &cloud.Error{Code: "Throttling.User", HTTPStatus: 400, Action: "LookupEvents"}
	}
	var hits []trailRecord
	for _, r := range f.records {
		if !r.listed.After(f.now) && !r.at.Before(in.Start) && !r.at.After(in.End) {
			hits = append(hits, r)
		}
	}
	slices.SortStableFunc(hits, func(a, b trailRecord) int { return b.at.Compare(a.at) })
	off := 0
	if in.NextToken != "" {
		fmt.Sscan(in.NextToken, &off)
	}
	out := cloud.EventPage{RequestID: "R"}
	for _, r := range hits[off:min(len(hits), off+in.MaxResults)] {
		b, _ := json.Marshal(r.body)
		out.Events = append(out.Events, b)
	}
	if off+in.MaxResults < len(hits) {
		out.NextToken = fmt.Sprint(off + in.MaxResults)
	}
	return out, nil
}

func (f *fakeTrail) ListHandshakes(_ context.Context, page int) (cloud.HandshakePage, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.lists++
	return cloud.HandshakePage{Handshakes: f.handshakes, Total: len(f.handshakes)}, nil
}

// rdWrite is a Resource Directory write's record at t.
func rdWrite(id, name string, t time.Time, params, resp map[string]any) map[string]any {
	return map[string]any{"eventId": id, "eventVersion": 1, "eventName": name, "eventType": "ApiCall", "eventRW": "Write",
		"serviceName": "ResourceManager", "isGlobal": true, "acsRegion": "cn-hangzhou", "eventTime": t.UTC().Format(time.RFC3339),
		"requestParameters": params, "responseElements": resp,
		"userIdentity": map[string]any{"type": "ram-user", "accountId": "1000000000000001", "principalId": "29", "userName": "bob", "accessKeyId": "LTAIbobsecret"}}
}

func tickPayload(t time.Time) string {
	return fmt.Sprintf(`{"triggerTime":%q,"triggerName":"org-poll","payload":"org-poll"}`, t.UTC().Format(time.RFC3339))
}

var day = time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)

func pollDeps(t *testing.T, env map[string]string, f *fakeTrail) (*Deps, *fakeQueue) {
	t.Helper()
	d, q, _ := deps(t, env)
	d.API = func(Invocation) (cloud.API, error) { return f, nil }
	d.Now = func() time.Time { return time.Time{} } // never on the tick's time: no offset wait
	d.Sleep = func(context.Context, time.Duration) error { return nil }
	return d, q
}

func TestPollWindow(t *testing.T) {
	at := func(h, m, s int) time.Time {
		return day.Add(time.Duration(h)*time.Hour + time.Duration(m)*time.Minute + time.Duration(s)*time.Second)
	}
	for _, tc := range []struct {
		tick       time.Time
		poll, lag  time.Duration
		ok         bool
		start, end time.Time
	}{
		{at(0, 5, 0), 5 * time.Minute, 10 * time.Minute, true, at(0, -10, 0), at(0, 5, 0)},
		{at(0, 5, 42), 5 * time.Minute, 10 * time.Minute, true, at(0, -10, 0), at(0, 5, 0)}, // a late tick keeps its minute
		{at(0, 0, 0), 5 * time.Minute, 10 * time.Minute, true, at(0, -15, 0), at(0, 0, 0)},
		{at(0, 7, 0), 5 * time.Minute, 10 * time.Minute, false, time.Time{}, time.Time{}},
		{at(13, 0, 0), time.Hour, 10 * time.Minute, true, at(11, 50, 0), at(13, 0, 0)},
		{at(13, 30, 0), time.Hour, 10 * time.Minute, false, time.Time{}, time.Time{}},
		{at(23, 45, 0), 15 * time.Minute, 0, true, at(23, 30, 0), at(23, 45, 0)},
		{at(0, 5, 0), 0, 10 * time.Minute, false, time.Time{}, time.Time{}},
	} {
		w, ok := windowOf(tc.tick, tc.poll, tc.lag)
		if ok != tc.ok || !w.Start.Equal(tc.start) || !w.End.Equal(tc.end) {
			t.Errorf("tick %s poll %s lag %s: %v %v–%v, want %v %v–%v", tc.tick.Format("15:04:05"), tc.poll, tc.lag, ok, w.Start, w.End, tc.ok, tc.start, tc.end)
		}
	}
	// Over a day, consecutive polls' windows overlap by exactly ORG_POLL_LAG and leave no
	// gap; 288 polls of 5 minutes.
	var prev *pollWindow
	n := 0
	for m := range 24 * 60 {
		w, ok := windowOf(day.Add(time.Duration(m)*time.Minute), 5*time.Minute, 10*time.Minute)
		if !ok {
			continue
		}
		n++
		if prev != nil && prev.End.Sub(w.Start) != 10*time.Minute {
			t.Fatalf("windows %v and %v overlap by %s, want the lag (10m)", *prev, w, prev.End.Sub(w.Start))
		}
		prev = &w
	}
	if n != 288 {
		t.Fatalf("%d polls a day, want 288", n)
	}
}

// Every directory write of a day, each listed by ActionTrail up to ORG_POLL_LAG late, is
// found by some poll: the windows reach back ORG_POLL + ORG_POLL_LAG. (With windows of
// ORG_POLL alone, a write listed after the first poll whose window holds it is missed.)
func TestPollFindsEveryWriteListedWithinTheLag(t *testing.T) {
	const poll, lag = 5 * time.Minute, 10 * time.Minute
	f := &fakeTrail{}
	want := map[string]bool{}
	for i := range 200 {
		at := day.Add(time.Duration(i*397) * time.Second) // spread over the day, at every second of the minute
		delay := time.Duration(i%11) * lag / 10           // 0 to the whole lag
		id := fmt.Sprintf("e-%03d", i)
		want[id] = true
		f.records = append(f.records, trailRecord{at: at, listed: at.Add(delay),
			body: rdWrite(id, "MoveAccount", at, map[string]any{"AccountId": fmt.Sprintf("1%015d", i)}, nil)})
	}
	d, q := pollDeps(t, map[string]string{"ORG_POLL": poll.String(), "ORG_POLL_LAG": lag.String()}, f)
	for m := range 24*60 + 30 {
		tick := day.Add(time.Duration(m) * time.Minute)
		f.now = tick
		if _, err := call(t, d, OrgEvents, tickPayload(tick)); err != nil {
			t.Fatal(err)
		}
	}
	found := map[string]bool{}
	for _, s := range q.sends {
		for _, j := range jobsOf(t, s) {
			found[j.Cause] = true
		}
	}
	for id := range want {
		if !found[id] {
			t.Errorf("write %s was found by no poll", id)
		}
	}
	if len(f.calls) != 24*60/5+6 {
		t.Errorf("%d LookupEvents calls, want one a poll (%d)", len(f.calls), 24*60/5+6)
	}
}

// A poll reads every page of the directory's writes in ORG_EVENTS_REGION, and feeds each
// record through the bus event's code: one job per moved account, delayed SETTLE_DELAY,
// carrying the ActionTrail eventId and the actor (never the access key), marked to
// publish changes only.
func TestPollPagesAndEnqueuesLikeABusEvent(t *testing.T) {
	f := &fakeTrail{now: day.Add(time.Hour)}
	for i := range 120 {
		at := day.Add(45*time.Minute + time.Duration(i)*time.Second)
		f.records = append(f.records, trailRecord{at: at, listed: at,
			body: rdWrite(fmt.Sprintf("e-%03d", i), "MoveAccount", at, map[string]any{"AccountId": fmt.Sprintf("1%015d", i)}, nil)})
	}
	// Not the directory's business, or failed: skipped.
	at := day.Add(50 * time.Minute)
	failed := rdWrite("e-failed", "MoveAccount", at, map[string]any{"AccountId": "1999999999999999"}, nil)
	failed["errorCode"] = "EntityNotExists.Account"
	f.records = append(f.records, trailRecord{at: at, listed: at, body: failed},
		trailRecord{at: at, listed: at, body: rdWrite("e-group", "CreateResourceGroup", at, map[string]any{"Name": "g"}, nil)})
	d, q := pollDeps(t, map[string]string{"ORG_EVENTS_REGION": "cn-hangzhou", "SETTLE_DELAY": "90s", "REGIONS": "cn-shanghai"}, f)
	var gaps []time.Duration
	d.Sleep = func(_ context.Context, dl time.Duration) error { gaps = append(gaps, dl); return nil }
	out, err := call(t, d, OrgEvents, tickPayload(day.Add(time.Hour)))
	if err != nil {
		t.Fatal(err)
	}
	if len(f.calls) != 3 {
		t.Fatalf("%d calls for 122 records, want 3 pages of 50", len(f.calls))
	}
	c := f.calls[0]
	if c.Region != "cn-hangzhou" || !c.Start.Equal(day.Add(45*time.Minute)) || !c.End.Equal(day.Add(time.Hour)) || c.MaxResults != 50 ||
		!slices.Equal(c.Attributes, []cloud.LookupAttribute{{Key: "ServiceName", Value: "ResourceManager"}, {Key: "EventRW", Value: "Write"}}) {
		t.Fatalf("first call %+v", c)
	}
	if f.calls[1].NextToken == "" || f.calls[2].NextToken == f.calls[1].NextToken {
		t.Fatalf("pages not followed: %+v", f.calls)
	}
	if len(gaps) != 2 || gaps[0] != pageGap || pageGap < time.Second/2 {
		t.Fatalf("the pages were %v apart, want half a second (two calls a second)", gaps)
	}
	var jobs []job.Job
	for _, s := range q.sends {
		if s.delay != 90*time.Second {
			t.Fatalf("jobs delayed %s, want SETTLE_DELAY", s.delay)
		}
		for _, b := range s.bodies {
			if strings.Contains(b, "LTAI") {
				t.Fatalf("a job carries the access key: %s", b)
			}
		}
		jobs = append(jobs, jobsOf(t, s)...)
	}
	if len(jobs) != 240 {
		t.Fatalf("%d jobs, want one per moved account and region (240)", len(jobs))
	}
	for _, j := range jobs {
		if j.Kind != job.KindRegion || j.Reason != job.ReasonMove || !j.Notify || !j.ChangesOnly || !strings.HasPrefix(j.Cause, "e-") ||
			j.Cause[2:] != j.Account[13:] || len(j.Actors) != 1 || j.Actors[0].UserName != "bob" {
			t.Fatalf("job %+v", j)
		}
	}
	if !strings.Contains(string(out), `"skipped":2`) {
		t.Fatalf("summary %s: the failed call and the resource group must be skipped", out)
	}
}

// Throttling is retried with R9's backoff; a poll that cannot get through fails (Function
// Compute retries the tick) and enqueues nothing.
func TestPollBacksOffWhenThrottled(t *testing.T) {
	at := day.Add(-2 * time.Minute)
	rec := trailRecord{at: at, listed: at, body: rdWrite("e-1", "MoveAccount", at, map[string]any{"AccountId": "1000000000000002"}, nil)}
	f := &fakeTrail{now: day, throttle: 3, records: []trailRecord{rec}}
	d, q := pollDeps(t, map[string]string{"RETRY_BASE": "2ms", "RETRY_MAX": "50ms"}, f)
	began := time.Now()
	if _, err := call(t, d, OrgEvents, tickPayload(day)); err != nil {
		t.Fatal(err)
	}
	if len(f.calls) != 4 || len(q.sends) != 1 {
		t.Fatalf("%d calls (3 throttled), %d sends", len(f.calls), len(q.sends))
	}
	if waited := time.Since(began); waited < (1+2+4)*time.Millisecond {
		t.Fatalf("the retries waited %s: no backoff", waited)
	}
	f2 := &fakeTrail{now: day, throttle: 1000, records: []trailRecord{rec}}
	d2, q2 := pollDeps(t, map[string]string{"RETRY_BASE": "1ms", "RETRY_MAX": "4ms"}, f2)
	if _, err := call(t, d2, OrgEvents, tickPayload(day)); err == nil || !strings.Contains(err.Error(), "Throttling.User") {
		t.Fatalf("a poll that is always throttled: %v", err)
	}
	if len(q2.sends) != 0 || len(f2.calls) != 4 {
		t.Fatalf("%d sends, %d calls", len(q2.sends), len(f2.calls))
	}
}

// ORG_POLL=0 never calls ActionTrail; a tick off the multiples of ORG_POLL calls
// nothing; the others call once.
func TestPollOnlyOnItsMinutes(t *testing.T) {
	for _, tc := range []struct {
		poll  string
		calls int
	}{{"0", 0}, {"5m", 12}, {"15m", 4}, {"60m", 1}, {"7m", -1}} {
		f := &fakeTrail{}
		d, q := pollDeps(t, map[string]string{"ORG_POLL": tc.poll}, f)
		if tc.calls < 0 {
			if d.SettingsErr == nil {
				t.Fatalf("ORG_POLL=%s accepted", tc.poll)
			}
			continue
		}
		for m := range 60 {
			tick := day.Add(3*time.Hour + time.Duration(m)*time.Minute + 7*time.Second)
			f.now = tick
			if _, err := call(t, d, OrgEvents, tickPayload(tick)); err != nil {
				t.Fatal(err)
			}
		}
		if len(f.calls) != tc.calls || len(q.sends) != 0 {
			t.Errorf("ORG_POLL=%s: %d calls in an hour, want %d (%d sends)", tc.poll, len(f.calls), tc.calls, len(q.sends))
		}
		for _, c := range f.calls {
			if c.End.Minute()%int(d.Settings.OrgPoll/time.Minute) != 0 || c.End.Second() != 0 {
				t.Errorf("ORG_POLL=%s: a poll at %s", tc.poll, c.End)
			}
		}
	}
}

// A tick on time waits for its region's second of the minute, the same for a region
// every time and different across regions; a late tick does not wait.
func TestPollOffsetByRegion(t *testing.T) {
	f := &fakeTrail{now: day}
	d, _ := pollDeps(t, nil, f)
	var slept []time.Duration
	d.Sleep = func(_ context.Context, dl time.Duration) error { slept = append(slept, dl); return nil }
	d.Now = func() time.Time { return day.Add(200 * time.Millisecond) }
	seen := map[time.Duration]bool{}
	for _, r := range []string{"cn-hangzhou", "cn-shanghai", "cn-beijing", "ap-southeast-1", "eu-central-1", "us-west-1"} {
		if err := d.waitOffset(context.Background(), r, day); err != nil {
			t.Fatal(err)
		}
		off := pollOffset(r)
		if off != pollOffset(r) || off < 0 || off >= pollSpread {
			t.Fatalf("offset of %s: %s", r, off)
		}
		seen[off] = true
		if off > 200*time.Millisecond && (len(slept) == 0 || slept[len(slept)-1] != off-200*time.Millisecond) {
			t.Fatalf("%s: slept %v, want %s", r, slept, off-200*time.Millisecond)
		}
	}
	if len(seen) < 4 {
		t.Fatalf("six regions share %d offsets", len(seen))
	}
	slept = nil
	d.Now = func() time.Time { return day.Add(pollSpread) }
	for _, r := range []string{"cn-hangzhou", "cn-shanghai"} {
		if err := d.waitOffset(context.Background(), r, day); err != nil || len(slept) != 0 {
			t.Fatalf("a late tick waited %v (%v)", slept, err)
		}
	}
}

// An invitation is found by several polls (their windows overlap) and maybe the bus:
// every one starts its chain of checks at the same links, due at the same times after
// the invitation, and the duplicates delivered together are one check — one listing of
// the invitations, one next link.
func TestDuplicateInvitationChainsEndAtOnce(t *testing.T) {
	invited := day.Add(2*time.Minute + 10*time.Second)
	rec := trailRecord{at: invited, listed: invited.Add(time.Minute), body: rdWrite("e-inv", "InviteAccountToResourceDirectory", invited,
		map[string]any{"TargetEntity": "2000000000000001", "TargetType": "Account"}, map[string]any{"Handshake": map[string]any{"HandshakeId": "h-1"}})}
	f := &fakeTrail{records: []trailRecord{rec}, handshakes: []cloud.Handshake{{ID: "h-1", Target: "2000000000000001", Status: "Pending"}}}
	d, q := pollDeps(t, nil, f)
	type link struct {
		j   job.Job
		due time.Time
	}
	var links []link
	for _, m := range []int{5, 10, 15} {
		tick := day.Add(time.Duration(m) * time.Minute)
		f.now = tick
		q.sends = nil
		if _, err := call(t, d, OrgEvents, tickPayload(tick)); err != nil {
			t.Fatal(err)
		}
		if len(q.sends) != 1 {
			t.Fatalf("poll at %s: sends %+v", tick.Format("15:04"), q.sends)
		}
		j := jobsOf(t, q.sends[0])[0]
		links = append(links, link{j, tick.Add(q.sends[0].delay)})
	}
	// The bus's event of the same call, delivered at once.
	bus := `{"specversion":"1.0","id":"bus-1","source":"acs.resourcemanager","type":"resourcemanager:ActionTrail:ApiCall","time":"` + invited.Format(time.RFC3339) + `","data":` + mustJSON(rec.body) + `}`
	q.sends = nil
	if _, err := call(t, d, OrgEvents, bus); err != nil {
		t.Fatal(err)
	}
	links = append(links, link{jobsOf(t, q.sends[0])[0], invited.Add(q.sends[0].delay)})
	for _, l := range links {
		if l.j.Kind != job.KindHandshake || l.j.Handshake != "h-1" || l.j.Since != invited.Format(time.RFC3339) ||
			!l.due.Equal(invited.Add(job.HandshakeDue(l.j.Attempt))) {
			t.Fatalf("link %+v due %s", l.j, l.due)
		}
	}
	// Polls at 00:05 (before the first link, due 00:07:10) and the bus start at link 0;
	// 00:10 and 00:15 at link 1 (00:17:10): every chain is on the same times.
	if links[0].j.Attempt != 0 || links[3].j.Attempt != 0 || links[1].j.Attempt != 1 || links[2].j.Attempt != 1 ||
		!links[0].due.Equal(links[3].due) || !links[1].due.Equal(links[2].due) {
		t.Fatalf("links %+v", links)
	}
	// The four links of 00:07:10 and 00:17:10 delivered as the batches they fall in.
	for bi, batch := range [][]link{{links[0], links[3]}, {links[1], links[2]}} {
		q.sends, f.lists = nil, 0
		var msgs []string
		for i, l := range batch {
			// Delivered when due: the event's time is the reconcile's clock.
			msgs = append(msgs, strings.Replace(mnsEvent(fmt.Sprintf("m-%d", i), l.j.Encode()), "2026-01-01T00:01:00Z", l.due.Format(time.RFC3339), 1))
		}
		if _, err := call(t, d, Reconcile, "["+strings.Join(msgs, ",")+"]"); err != nil {
			t.Fatal(err)
		}
		if f.lists != 1 || len(q.sends) != 1 || len(q.sends[0].bodies) != 1 {
			t.Fatalf("batch of %d duplicates: %d listings, sends %+v; want one check and one next link", len(batch), f.lists, q.sends)
		}
		next := jobsOf(t, q.sends[0])[0]
		// The chain the bus started publishes refusals too; the polls' alone, changes only.
		if next.Attempt != batch[0].j.Attempt+1 || q.sends[0].delay != job.HandshakeDue(next.Attempt)-job.HandshakeDue(batch[0].j.Attempt) || next.ChangesOnly != (bi == 1) {
			t.Fatalf("next link %+v in %s", next, q.sends[0].delay)
		}
	}
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
