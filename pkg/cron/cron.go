// Package cron reads Function Compute 3.0 timer-trigger expressions and computes when
// they fire.
//
// Syntax (FC "time triggers" documentation):
//   - six fields, `Seconds Minutes Hours Day-of-month Month Day-of-week`, in UTC;
//     an optional `CRON_TZ=<IANA zone> ` prefix selects another zone;
//   - each field is `*`, a value, a range `a-b`, a step `*/n`, `a/n` or `a-b/n`, or a
//     comma-separated list of these; `?` (day-of-month and day-of-week only) means
//     "no particular value";
//   - months are 1-12 or JAN-DEC; days of the week are 0-7 or SUN-SAT, where 0 and 7
//     are both Sunday (the documentation gives "1-7 or MON-SUN": 1 is Monday either
//     way); names are case-insensitive;
//   - when both day fields are restricted, a day matches if either does (as classic
//     cron); when one is `*` or `?`, the other alone decides;
//   - `@every <Go duration>` fires every interval (whole seconds, at least 1s) counted
//     from the previous firing.
package cron

import (
	"errors"
	"fmt"
	"math/bits"
	"strconv"
	"strings"
	"time"
)

// Schedule is a parsed expression.
type Schedule struct {
	expr  string
	every time.Duration
	loc   *time.Location

	sec, min, hour, dom, month, dow uint64 // bit i set: value i allowed
	domAny, dowAny                  bool   // the field was * or ?
}

type fieldSpec struct {
	name     string
	min, max int
	names    map[string]int
	question bool // ? allowed
}

var (
	monthNames = map[string]int{"JAN": 1, "FEB": 2, "MAR": 3, "APR": 4, "MAY": 5, "JUN": 6,
		"JUL": 7, "AUG": 8, "SEP": 9, "OCT": 10, "NOV": 11, "DEC": 12}
	dayNames = map[string]int{"SUN": 0, "MON": 1, "TUE": 2, "WED": 3, "THU": 4, "FRI": 5, "SAT": 6}

	fields = []fieldSpec{
		{name: "seconds", min: 0, max: 59},
		{name: "minutes", min: 0, max: 59},
		{name: "hours", min: 0, max: 23},
		{name: "day-of-month", min: 1, max: 31, question: true},
		{name: "month", min: 1, max: 12, names: monthNames},
		{name: "day-of-week", min: 0, max: 7, names: dayNames, question: true},
	}
)

// Parse reads an expression; the error names the field and the bad part.
func Parse(expr string) (*Schedule, error) {
	s := &Schedule{expr: expr, loc: time.UTC}
	rest := strings.TrimSpace(expr)
	if strings.HasPrefix(rest, "CRON_TZ=") {
		zone, after, _ := strings.Cut(rest[len("CRON_TZ="):], " ")
		loc, err := time.LoadLocation(zone)
		if err != nil || zone == "" {
			return nil, fmt.Errorf("cron %q: unknown time zone %q", expr, zone)
		}
		s.loc = loc
		rest = strings.TrimSpace(after)
	}
	if strings.HasPrefix(rest, "@") {
		arg, ok := strings.CutPrefix(rest, "@every ")
		if !ok {
			return nil, fmt.Errorf("cron %q: only @every is supported among @ expressions", expr)
		}
		d, err := time.ParseDuration(strings.TrimSpace(arg))
		if err != nil {
			return nil, fmt.Errorf("cron %q: bad @every duration: %w", expr, err)
		}
		if d < time.Second || d%time.Second != 0 {
			return nil, fmt.Errorf("cron %q: @every needs whole seconds, at least 1s", expr)
		}
		s.every = d
		return s, nil
	}
	parts := strings.Fields(rest)
	if len(parts) != len(fields) {
		return nil, fmt.Errorf("cron %q: want 6 fields (seconds minutes hours day-of-month month day-of-week), found %d", expr, len(parts))
	}
	dst := []*uint64{&s.sec, &s.min, &s.hour, &s.dom, &s.month, &s.dow}
	anyDst := []*bool{nil, nil, nil, &s.domAny, nil, &s.dowAny}
	for i, f := range fields {
		set, any, err := parseField(parts[i], f)
		if err != nil {
			return nil, fmt.Errorf("cron %q: %s field %q: %w", expr, f.name, parts[i], err)
		}
		*dst[i] = set
		if anyDst[i] != nil {
			*anyDst[i] = any
		}
	}
	if s.dow&(1<<7) != 0 { // 7 is Sunday too
		s.dow |= 1
	}
	return s, nil
}

func parseField(text string, f fieldSpec) (set uint64, any bool, err error) {
	if text == "?" {
		if !f.question {
			return 0, false, errors.New("? is only allowed in day-of-month and day-of-week")
		}
		return rangeBits(f.min, f.max, 1), true, nil
	}
	if text == "*" {
		return rangeBits(f.min, f.max, 1), true, nil
	}
	for _, term := range strings.Split(text, ",") {
		if term == "" {
			return 0, false, errors.New("empty list element")
		}
		rng, stepText, hasStep := strings.Cut(term, "/")
		step := 1
		if hasStep {
			n, err := strconv.Atoi(stepText)
			if err != nil || n <= 0 {
				return 0, false, fmt.Errorf("bad step %q", stepText)
			}
			step = n
		}
		var lo, hi int
		switch {
		case rng == "*":
			lo, hi = f.min, f.max
		case strings.Contains(rng, "-"):
			a, b, _ := strings.Cut(rng, "-")
			if lo, err = value(a, f); err != nil {
				return 0, false, err
			}
			if hi, err = value(b, f); err != nil {
				return 0, false, err
			}
			if lo > hi {
				return 0, false, fmt.Errorf("range %s-%s runs backwards", a, b)
			}
		default:
			if lo, err = value(rng, f); err != nil {
				return 0, false, err
			}
			hi = lo
			if hasStep { // a/n: from a to the end of the range
				hi = f.max
			}
		}
		set |= rangeBits(lo, hi, step)
	}
	return set, false, nil
}

func value(s string, f fieldSpec) (int, error) {
	if n, ok := f.names[strings.ToUpper(s)]; ok {
		return n, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0, fmt.Errorf("%q is not a number or a name", s)
	}
	if n < f.min || n > f.max {
		return 0, fmt.Errorf("%d is outside %d-%d", n, f.min, f.max)
	}
	return n, nil
}

func rangeBits(lo, hi, step int) uint64 {
	var b uint64
	for i := lo; i <= hi; i += step {
		b |= 1 << uint(i)
	}
	return b
}

// String returns the expression as given.
func (s *Schedule) String() string { return s.expr }

// horizon bounds the search: an expression that never fires (Feb 30) gives the zero time.
const horizon = 5 * 366 * 24 * time.Hour

// Next returns the first firing time strictly after `after` (in after's location), or
// the zero time if the expression never fires within five years.
func (s *Schedule) Next(after time.Time) time.Time {
	if s.every > 0 {
		return after.Truncate(time.Second).Add(s.every)
	}
	origLoc := after.Location()
	t := after.In(s.loc).Truncate(time.Second).Add(time.Second)
	limit := t.Add(horizon)
	for t.Before(limit) {
		y, mo, d := t.Date()
		h, mi, se := t.Clock()
		var next time.Time
		switch {
		case !has(s.month, int(mo)):
			next = time.Date(y, mo+1, 1, 0, 0, 0, 0, s.loc)
		case !s.dayMatches(t):
			next = time.Date(y, mo, d+1, 0, 0, 0, 0, s.loc)
		case !has(s.hour, h):
			next = time.Date(y, mo, d, h+1, 0, 0, 0, s.loc)
		case !has(s.min, mi):
			next = time.Date(y, mo, d, h, mi+1, 0, 0, s.loc)
		case !has(s.sec, se):
			next = t.Add(nextBitGap(s.sec, se))
		default:
			return t.In(origLoc)
		}
		if !next.After(t) { // a daylight-saving fold maps the wall time back
			next = t.Add(time.Second)
		}
		t = next
	}
	return time.Time{}
}

func has(set uint64, i int) bool { return set&(1<<uint(i)) != 0 }

// nextBitGap is the distance in seconds to the next allowed second in this minute, or
// to the next minute.
func nextBitGap(set uint64, cur int) time.Duration {
	above := set &^ ((2 << uint(cur)) - 1) & ((1 << 60) - 1)
	if above == 0 {
		return time.Duration(60-cur) * time.Second
	}
	return time.Duration(bits.TrailingZeros64(above)-cur) * time.Second
}

func (s *Schedule) dayMatches(t time.Time) bool {
	domOK := has(s.dom, t.Day())
	dowOK := has(s.dow, int(t.Weekday()))
	switch {
	case s.domAny && s.dowAny:
		return true
	case s.domAny:
		return dowOK
	case s.dowAny:
		return domOK
	}
	return domOK || dowOK
}
