package cron

import (
	"strings"
	"testing"
	"time"
	_ "time/tzdata" // CRON_TZ tests must not depend on the host's zoneinfo
)

var start = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC) // a Thursday

func ts(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

func TestNext(t *testing.T) {
	cases := []struct {
		expr  string
		after time.Time
		want  []string // successive firings
	}{
		// A boundary at the start does not fire: Next is strictly after.
		{"0 */30 * * * *", start, []string{"2026-01-01T00:30:00Z", "2026-01-01T01:00:00Z", "2026-01-01T01:30:00Z"}},
		{"0 0/30 * * * *", start, []string{"2026-01-01T00:30:00Z", "2026-01-01T01:00:00Z"}},
		{"0 0/30 * * * *", start.Add(29*time.Minute + 59*time.Second + 500*time.Millisecond), []string{"2026-01-01T00:30:00Z"}},
		{"@every 10m", start, []string{"2026-01-01T00:10:00Z", "2026-01-01T00:20:00Z", "2026-01-01T00:30:00Z"}},
		{"@every 1h30m", start.Add(250 * time.Millisecond), []string{"2026-01-01T01:30:00Z"}},
		{"0 0 0 * * *", start, []string{"2026-01-02T00:00:00Z", "2026-01-03T00:00:00Z"}},
		{"5,10 * * * * *", start.Add(5 * time.Second), []string{"2026-01-01T00:00:10Z", "2026-01-01T00:01:05Z"}},
		{"*/20 * * * * *", start, []string{"2026-01-01T00:00:20Z", "2026-01-01T00:00:40Z", "2026-01-01T00:01:00Z"}},
		{"10-12/2 0 0 * * *", start, []string{"2026-01-01T00:00:10Z", "2026-01-01T00:00:12Z", "2026-01-02T00:00:10Z"}},
		{"0 0 4 1 * *", start, []string{"2026-01-01T04:00:00Z", "2026-02-01T04:00:00Z"}},
		{"0 0 9 ? * MON-FRI", start.Add(10 * time.Hour), []string{"2026-01-02T09:00:00Z", "2026-01-05T09:00:00Z"}},
		{"0 0 9 ? * mon,wed", start, []string{"2026-01-05T09:00:00Z", "2026-01-07T09:00:00Z"}},
		{"0 0 0 ? * 7", start, []string{"2026-01-04T00:00:00Z", "2026-01-11T00:00:00Z"}},
		{"0 0 0 ? * 0", start, []string{"2026-01-04T00:00:00Z"}},
		{"0 0 0 31 * ?", start.Add(31 * 24 * time.Hour), []string{"2026-03-31T00:00:00Z", "2026-05-31T00:00:00Z"}},
		{"0 0 0 29 FEB *", start, []string{"2028-02-29T00:00:00Z"}},
		{"0 0 0 1 jan-mar/2 *", start, []string{"2026-03-01T00:00:00Z", "2027-01-01T00:00:00Z"}},
		// Both day fields restricted: either matches (the 13th or a Friday).
		{"0 0 0 13 * FRI", start, []string{"2026-01-02T00:00:00Z", "2026-01-09T00:00:00Z", "2026-01-13T00:00:00Z"}},
		{"59 59 23 31 12 *", start, []string{"2026-12-31T23:59:59Z"}},
		// 04:00 in Shanghai is 20:00 UTC the day before.
		{"CRON_TZ=Asia/Shanghai 0 0 4 1 * *", start, []string{"2026-01-31T20:00:00Z", "2026-02-28T20:00:00Z"}},
	}
	for _, c := range cases {
		s, err := Parse(c.expr)
		if err != nil {
			t.Errorf("%s: %v", c.expr, err)
			continue
		}
		at := c.after
		for i, w := range c.want {
			got := s.Next(at)
			if !got.Equal(ts(w)) {
				t.Errorf("%s: firing %d after %s = %s, want %s", c.expr, i+1, at.Format(time.RFC3339Nano), got.Format(time.RFC3339), w)
				break
			}
			if got.Location() != at.Location() {
				t.Errorf("%s: result in %v, want the caller's %v", c.expr, got.Location(), at.Location())
			}
			at = got
		}
	}
}

func TestNeverFires(t *testing.T) {
	s, err := Parse("0 0 0 30 2 *")
	if err != nil {
		t.Fatal(err)
	}
	if got := s.Next(start); !got.IsZero() {
		t.Errorf("Feb 30 fired at %s", got)
	}
}

func TestParseErrors(t *testing.T) {
	cases := map[string]string{
		"":                                    "want 6 fields",
		"0 * * * *":                           "want 6 fields",
		"0 0 * * * * 2026":                    "want 6 fields",
		"60 * * * * *":                        "seconds field",
		"* 60 * * * *":                        "minutes field",
		"* * 24 * * *":                        "hours field",
		"* * * 0 * *":                         "day-of-month field",
		"* * * 32 * *":                        "day-of-month field",
		"* * * * 13 *":                        "month field",
		"* * * * JANX *":                      "not a number or a name",
		"* * * * * 8":                         "day-of-week field",
		"* * * * * FUNDAY":                    "day-of-week field",
		"? * * * * *":                         "? is only allowed",
		"*/0 * * * * *":                       "bad step",
		"*/x * * * * *":                       "bad step",
		"5-1 * * * * *":                       "runs backwards",
		"1,,2 * * * * *":                      "empty list element",
		"L * * * * *":                         "not a number",
		"@every":                              "only @every",
		"@every 0s":                           "at least 1s",
		"@every -1m":                          "at least 1s",
		"@every 1500ms":                       "whole seconds",
		"@every 10":                           "bad @every duration",
		"@hourly":                             "only @every",
		"CRON_TZ=Nowhere/Special 0 * * * * *": "unknown time zone",
	}
	for expr, want := range cases {
		_, err := Parse(expr)
		if err == nil {
			t.Errorf("%q: parsed", expr)
			continue
		}
		if !strings.Contains(err.Error(), want) {
			t.Errorf("%q: error %q does not mention %q", expr, err, want)
		}
	}
}

func FuzzNext(f *testing.F) {
	f.Add("0 */30 * * * *", int64(0))
	f.Add("0 0 0 29 2 ?", int64(1e9))
	f.Add("CRON_TZ=America/New_York 30 2 * * * *", int64(1772953200))
	f.Fuzz(func(t *testing.T, expr string, unix int64) {
		s, err := Parse(expr)
		if err != nil {
			return
		}
		after := time.Unix(unix%(1<<40), 0).UTC()
		if next := s.Next(after); !next.IsZero() && !next.After(after) {
			t.Fatalf("%q: Next(%s) = %s is not after", expr, after, next)
		}
	})
}
