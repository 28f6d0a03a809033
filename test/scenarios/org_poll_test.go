package scenarios

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"imageshare/pkg/sandbox"
	"imageshare/pkg/scenario"
)

// The organization poll: with no directory event on the bus, a change is acted on
// within ORG_POLL + SETTLE_DELAY (+ cloud.lookup_delay), not at the sweep.

// firstWrite returns the emulated time of the functions' first write of action that
// names value among its parameters (zero: none).
func firstWrite(res *sandbox.Result, action, value string) time.Time {
	for _, w := range res.Writes {
		if w.Action != action {
			continue
		}
		for _, v := range w.Params {
			if v == value {
				return w.Time
			}
		}
	}
	return time.Time{}
}

func at(hhmm string) time.Time {
	t, _ := time.Parse("15:04", hhmm)
	return time.Date(2026, 1, 1, t.Hour(), t.Minute(), 0, 0, time.UTC)
}

func TestPollReactsBeforeTheSweep(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the poll scenarios; skipped with -short")
	}
	sc := load(t, "org-poll-move.yaml")
	res := run(t, sc, sandbox.Options{})
	if !res.OK() {
		t.Fatalf("scenario failed: %v %v", res.Failures, res.Violations)
	}
	// Moved at 00:31: revoked by 00:31 + ORG_POLL (5m) + SETTLE_DELAY (1m).
	if w := firstWrite(res, "ModifyImageSharePermission", "1000000000000004"); w.IsZero() || w.After(at("00:37")) {
		t.Fatalf("the redundant share was revoked at %v, want by 00:37", w)
	}
	if res.Stats.Calls["actiontrail:LookupEvents"] < 7 {
		t.Fatalf("%d LookupEvents calls in 38 minutes, want one every 5 minutes", res.Stats.Calls["actiontrail:LookupEvents"])
	}
	// The same run without the poll, or polling a region that does not list the
	// account's global events, leaves the change to the 01:00 sweep.
	for _, s := range []map[string]string{{"ORG_POLL": "0"}, {"ORG_EVENTS_REGION": "cn-hangzhou"}} {
		sc := load(t, "org-poll-move.yaml")
		for k, v := range s {
			sc.Settings[k] = v
		}
		res := run(t, sc, sandbox.Options{})
		if res.OK() || !strings.Contains(strings.Join(res.Failures, "\n"), "unexpected 1000000000000004") {
			t.Fatalf("with %v the poll still reacted: %v", s, res.Failures)
		}
		if s["ORG_POLL"] == "0" && res.Stats.Calls["actiontrail:LookupEvents"] != 0 {
			t.Fatalf("ORG_POLL=0 called LookupEvents %d times", res.Stats.Calls["actiontrail:LookupEvents"])
		}
	}
}

// A write ActionTrail lists late (cloud.lookup_delay 7m) is found by the first poll
// after it is listed, because each poll looks back ORG_POLL + ORG_POLL_LAG; the run of
// a poll's job publishes its changes and not the refusals it finds again.
func TestPollFindsLateListedWritesAndPublishesChangesOnly(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the poll scenarios; skipped with -short")
	}
	share := func(lookupDelay time.Duration, orgEvents bool) (*sandbox.Result, *scenario.Scenario) {
		sc := load(t, "org-poll-create-account.yaml")
		sc.Cloud.LookupDelay, sc.Cloud.OrgEvents = lookupDelay, orgEvents
		sc.Settings["NOTIFY_TOPIC"] = "imageshare-notices"
		res := run(t, sc, sandbox.Options{})
		if !res.OK() {
			t.Fatalf("lookup_delay %s: %v %v", lookupDelay, res.Failures, res.Violations)
		}
		return res, sc
	}
	// Created at 00:31, listed at 00:38: not seen by the 00:35 poll; found by the 00:40
	// one, whose window starts at 00:25; shared at 00:41.
	res, _ := share(7*time.Minute, false)
	if w := firstWrite(res, "ModifyImageSharePermission", "1000000000000009"); w.Before(at("00:40")) || w.After(at("00:43")) {
		t.Fatalf("shared at %v, want after the 00:40 poll and by 00:31 + 5m + 1m + 7m", w)
	}
	// Listed at once: the 00:35 poll finds it.
	res, _ = share(0, false)
	if w := firstWrite(res, "ModifyImageSharePermission", "1000000000000009"); w.IsZero() || w.After(at("00:36")) {
		t.Fatalf("shared at %v, want by 00:36", w)
	}
	refusalsOf := func(res *sandbox.Result) (shares, refusals int) {
		for _, n := range res.Notifications {
			var m struct{ Action, Subject string }
			if err := json.Unmarshal([]byte(n), &m); err != nil {
				t.Fatalf("notification %s: %v", n, err)
			}
			switch {
			case m.Action == "share" && m.Subject == "1000000000000009":
				shares++
			case m.Action == "refuse" && m.Subject == "1000000000000007":
				refusals++
			}
		}
		return
	}
	if s, r := refusalsOf(res); s != 2 || r != 0 {
		t.Fatalf("the poll's runs published %d shares and %d refusals of 1000000000000007, want 2 and none:\n%s", s, r, strings.Join(res.Notifications, "\n"))
	}
	// The bus event's run publishes the refusal too (and the poll that finds the
	// change again adds nothing).
	res, _ = share(0, true)
	if s, r := refusalsOf(res); s != 2 || r == 0 {
		t.Fatalf("the bus event's run published %d shares and %d refusals, want 2 and the refusal", s, r)
	}
}
