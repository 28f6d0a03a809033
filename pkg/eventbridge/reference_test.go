package eventbridge

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/netip"
	"strconv"
	"strings"
	"testing"
)

// A reference matcher written from the documented semantics (the package comment),
// independently of Compile and Match: it walks the decoded pattern directly, with no
// compiled form. FuzzMatch and TestMatchAgreesWithReference check that the two agree.
//
// Where the documentation is silent the reference states its reading:
//   - a nested pattern object needs its field present (only {"exists": false} matches
//     a missing field);
//   - prefix, suffix, contains and cidr look at strings only, numeric at numbers only
//     (a number outside float64 is no number to compare), anything-but at strings and
//     numbers (its values are strings or numbers), exact conditions at any scalar;
//   - an array in the event matches a value condition when one of its scalar elements
//     does, and a nested pattern when one of its object elements does.

// refDecode decodes JSON keeping numbers as their text; ok is false for anything but
// exactly one JSON value.
func refDecode(s string) (any, bool) {
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	var v any
	if dec.Decode(&v) != nil {
		return nil, false
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, false
	}
	return v, true
}

// refValid says why a decoded pattern is not a valid pattern ("" when it is).
func refValid(p any) string {
	m, ok := p.(map[string]any)
	if !ok {
		return "not an object"
	}
	return refValidObject(m)
}

func refValidObject(m map[string]any) string {
	for k, v := range m {
		switch t := v.(type) {
		case map[string]any:
			if len(t) == 0 {
				return k + ": empty object"
			}
			if why := refValidObject(t); why != "" {
				return k + "." + why
			}
		case []any:
			if len(t) == 0 {
				return k + ": empty condition list"
			}
			for _, c := range t {
				if why := refValidCondition(c); why != "" {
					return k + ": " + why
				}
			}
		default:
			return k + ": neither an object nor a condition list"
		}
	}
	return ""
}

func isStringOrNumber(v any) bool {
	switch v.(type) {
	case string, json.Number:
		return true
	}
	return false
}

func refValidCondition(c any) string {
	switch t := c.(type) {
	case string, json.Number, bool, nil:
		return ""
	case map[string]any:
		if len(t) != 1 {
			return "an operator object has one key"
		}
		for op, arg := range t {
			switch op {
			case "prefix", "suffix", "contains":
				if _, ok := arg.(string); !ok {
					return op + " wants a string"
				}
			case "anything-but":
				switch a := arg.(type) {
				case string, json.Number:
				case []any:
					if len(a) == 0 {
						return "anything-but: empty list"
					}
					for _, x := range a {
						if !isStringOrNumber(x) {
							return "anything-but: a list of strings and numbers"
						}
					}
				case map[string]any:
					if len(a) != 1 {
						return "anything-but: one of prefix or suffix"
					}
					for k, v := range a {
						if _, ok := v.(string); !ok || (k != "prefix" && k != "suffix") {
							return "anything-but: prefix or suffix with a string"
						}
					}
				default:
					return "anything-but: a string, a number, a list or prefix/suffix"
				}
			case "numeric":
				a, ok := arg.([]any)
				if !ok || (len(a) != 2 && len(a) != 4) {
					return "numeric: [op, n] or [op, n, op, n]"
				}
				for i := 0; i < len(a); i += 2 {
					op, _ := a[i].(string)
					n, isNum := a[i+1].(json.Number)
					if !strings.Contains(" = < <= > >= ", " "+op+" ") || op == "" || !isNum {
						return "numeric: bad bound"
					}
					if _, err := strconv.ParseFloat(string(n), 64); err != nil {
						return "numeric: bound out of range"
					}
				}
			case "cidr":
				s, ok := arg.(string)
				if !ok {
					return "cidr wants a string"
				}
				if pr, err := netip.ParsePrefix(s); err != nil || !pr.Addr().Is4() {
					return "cidr: not an IPv4 prefix"
				}
			case "exists":
				if _, ok := arg.(bool); !ok {
					return "exists wants true or false"
				}
			default:
				return "unknown operator " + op
			}
		}
		return ""
	}
	return "a condition is a scalar or an operator object"
}

// refMatch matches a valid decoded pattern against a decoded event.
func refMatch(p map[string]any, ev any) bool {
	e, ok := ev.(map[string]any)
	if !ok {
		return false
	}
	for k, pv := range p {
		v, present := e[k]
		switch t := pv.(type) {
		case map[string]any:
			if !present || !refNested(t, v) {
				return false
			}
		case []any:
			any := false
			for _, c := range t {
				if refCondition(c, v, present) {
					any = true
				}
			}
			if !any {
				return false
			}
		}
	}
	return true
}

func refNested(p map[string]any, v any) bool {
	if arr, ok := v.([]any); ok {
		for _, el := range arr {
			if _, isObj := el.(map[string]any); isObj && refMatch(p, el) {
				return true
			}
		}
		return false
	}
	_, isObj := v.(map[string]any)
	return isObj && refMatch(p, v)
}

func refCondition(c, v any, present bool) bool {
	if op, ok := c.(map[string]any); ok {
		if want, ok := op["exists"]; ok {
			return want.(bool) == present
		}
	}
	if !present {
		return false
	}
	if arr, ok := v.([]any); ok {
		for _, el := range arr {
			if refScalar(c, el) {
				return true
			}
		}
		return false
	}
	return refScalar(c, v)
}

// refScalar matches one condition against one event value; objects and arrays are no
// scalar and match nothing.
func refScalar(c, v any) bool {
	switch v.(type) {
	case map[string]any, []any:
		return false
	}
	op, isOp := c.(map[string]any)
	if !isOp {
		return refSame(c, v)
	}
	s, isString := v.(string)
	for name, arg := range op {
		switch name {
		case "prefix":
			return isString && strings.HasPrefix(s, arg.(string))
		case "suffix":
			return isString && strings.HasSuffix(s, arg.(string))
		case "contains":
			return isString && strings.Contains(s, arg.(string))
		case "anything-but":
			if m, ok := arg.(map[string]any); ok {
				if p, ok := m["prefix"]; ok {
					return isString && !strings.HasPrefix(s, p.(string))
				}
				return isString && !strings.HasSuffix(s, m["suffix"].(string))
			}
			if !isStringOrNumber(v) {
				return false
			}
			excluded := []any{arg}
			if l, ok := arg.([]any); ok {
				excluded = l
			}
			for _, x := range excluded {
				if refSame(x, v) {
					return false
				}
			}
			return true
		case "numeric":
			n, ok := v.(json.Number)
			if !ok {
				return false
			}
			f, err := strconv.ParseFloat(string(n), 64)
			if err != nil {
				return false
			}
			bounds := arg.([]any)
			for i := 0; i < len(bounds); i += 2 {
				b, _ := strconv.ParseFloat(string(bounds[i+1].(json.Number)), 64)
				var ok bool
				switch bounds[i].(string) {
				case "=":
					ok = f == b
				case "<":
					ok = f < b
				case "<=":
					ok = f <= b
				case ">":
					ok = f > b
				case ">=":
					ok = f >= b
				}
				if !ok {
					return false
				}
			}
			return true
		case "cidr":
			if !isString {
				return false
			}
			a, err := netip.ParseAddr(s)
			return err == nil && a.Is4() && netip.MustParsePrefix(arg.(string)).Contains(a)
		}
	}
	return false
}

// refSame is exact equality of scalars: same JSON type, numbers by their text.
func refSame(a, b any) bool {
	switch x := a.(type) {
	case nil:
		return b == nil
	case bool:
		y, ok := b.(bool)
		return ok && x == y
	case string:
		y, ok := b.(string)
		return ok && x == y
	case json.Number:
		y, ok := b.(json.Number)
		return ok && x == y
	}
	return false
}

// agree checks the compiled matcher against the reference on one pair; it returns a
// description of a disagreement, "" when they agree (or the pattern is invalid to both).
func agree(pattern, event string) string {
	p, err := Compile([]byte(pattern))
	dp, decoded := refDecode(pattern)
	why := "not JSON"
	if decoded {
		why = refValid(dp)
	}
	if err != nil {
		return "" // rejected: nothing is routed by it (a stricter Compile is safe)
	}
	if why != "" {
		return fmt.Sprintf("Compile accepted an invalid pattern (%s)", why)
	}
	de, ok := refDecode(event)
	want := ok && refMatch(dp.(map[string]any), de)
	if got := p.Match([]byte(event)); got != want {
		return fmt.Sprintf("Match = %v, reference = %v", got, want)
	}
	return ""
}

// gen makes patterns and events from one small vocabulary, so that matches and near
// misses are common.
type gen struct{ r *rand.Rand }

var (
	genKeys    = []string{"source", "type", "data", "a", "b"}
	genStrings = []string{"acs.ecs", "acs.ecs.x", "ecs:ActionTrail:ApiCall", "ApiCall", "", "10.0.0.7", "10.0.1.7", "x", "1"}
	genNumbers = []string{"1", "1.0", "2", "-3", "300", "1e2", "0.5"}
	genParts   = []string{"acs.", "ecs", "Call", "", "x", "10."}
	genCIDRs   = []string{"10.0.0.0/24", "10.0.0.0/8", "0.0.0.0/0", "10.0.0.7/32"}
	genOps     = []string{"=", "<", "<=", ">", ">="}
	// genInvalid are conditions no valid pattern holds: Compile must refuse them.
	genInvalid = []string{`[]`, `{}`, `{"prefix":1}`, `{"prefix":"a","suffix":"b"}`, `{"anything-but":true}`, `{"anything-but":[]}`,
		`{"anything-but":[null]}`, `{"anything-but":{"contains":"x"}}`, `{"numeric":[">"]}`, `{"numeric":["~",1]}`, `{"numeric":[">","1"]}`,
		`{"numeric":[">",1,"<"]}`, `{"cidr":"10.0.0.0"}`, `{"cidr":"fe80::/10"}`, `{"exists":"yes"}`, `{"wildcard":"*"}`, `{"equals-ignore-case":"x"}`}
)

func (g gen) pick(xs []string) string { return xs[g.r.IntN(len(xs))] }

func (g gen) scalar() string {
	switch g.r.IntN(6) {
	case 0, 1, 2:
		return strconv.Quote(g.pick(genStrings))
	case 3, 4:
		return g.pick(genNumbers)
	}
	return g.pick([]string{"true", "false", "null"})
}

func (g gen) stringOrNumber() string {
	if g.r.IntN(3) == 0 {
		return g.pick(genNumbers)
	}
	return strconv.Quote(g.pick(genStrings))
}

func (g gen) condition() string {
	q := func(s string) string { return strconv.Quote(s) }
	switch g.r.IntN(10) {
	case 0, 1, 2:
		return g.scalar()
	case 3:
		return fmt.Sprintf(`{%s:%s}`, q(g.pick([]string{"prefix", "suffix", "contains"})), q(g.pick(genParts)))
	case 4:
		switch g.r.IntN(4) {
		case 0:
			return fmt.Sprintf(`{"anything-but":%s}`, g.stringOrNumber())
		case 1:
			return fmt.Sprintf(`{"anything-but":[%s,%s]}`, g.stringOrNumber(), g.stringOrNumber())
		case 2:
			return fmt.Sprintf(`{"anything-but":{"prefix":%s}}`, q(g.pick(genParts)))
		}
		return fmt.Sprintf(`{"anything-but":{"suffix":%s}}`, q(g.pick(genParts)))
	case 5:
		if g.r.IntN(2) == 0 {
			return fmt.Sprintf(`{"numeric":[%s,%s]}`, q(g.pick(genOps)), g.pick(genNumbers))
		}
		return fmt.Sprintf(`{"numeric":[%s,%s,%s,%s]}`, q(g.pick(genOps)), g.pick(genNumbers), q(g.pick(genOps)), g.pick(genNumbers))
	case 6:
		return fmt.Sprintf(`{"cidr":%s}`, q(g.pick(genCIDRs)))
	case 7:
		return fmt.Sprintf(`{"exists":%t}`, g.r.IntN(2) == 0)
	case 8:
		if g.r.IntN(4) == 0 {
			return g.pick(genInvalid)
		}
	}
	return g.scalar()
}

func (g gen) pattern(depth int) string {
	var fields []string
	for i, n := 0, 1+g.r.IntN(2); i < n; i++ {
		k := strconv.Quote(g.pick(genKeys))
		if depth < 2 && g.r.IntN(4) == 0 {
			fields = append(fields, k+":"+g.pattern(depth+1))
			continue
		}
		var conds []string
		for j, m := 0, 1+g.r.IntN(3); j < m; j++ {
			conds = append(conds, g.condition())
		}
		fields = append(fields, k+":["+strings.Join(conds, ",")+"]")
	}
	return "{" + strings.Join(fields, ",") + "}"
}

func (g gen) value(depth int) string {
	switch g.r.IntN(8) {
	case 0:
		if depth < 2 {
			return g.event(depth + 1)
		}
	case 1:
		var els []string
		for i, n := 0, g.r.IntN(4); i < n; i++ {
			if depth < 2 && g.r.IntN(3) == 0 {
				els = append(els, g.event(depth+1))
			} else {
				els = append(els, g.scalar())
			}
		}
		return "[" + strings.Join(els, ",") + "]"
	}
	return g.scalar()
}

func (g gen) event(depth int) string {
	var fields []string
	for _, k := range genKeys {
		if g.r.IntN(3) > 0 {
			fields = append(fields, strconv.Quote(k)+":"+g.value(depth))
		}
	}
	return "{" + strings.Join(fields, ",") + "}"
}

// TestMatchAgreesWithReference: on generated patterns and events, Compile accepts only
// valid patterns and Match answers as the reference does; the generator must make
// both matches and misses, or it tests nothing.
func TestMatchAgreesWithReference(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	g := gen{r}
	var matched, missed, pairs, refused int
	for i := 0; i < 6000; i++ {
		pattern, event := g.pattern(0), g.event(0)
		if why := agree(pattern, event); why != "" {
			t.Fatalf("%s\npattern %s\nevent   %s", why, pattern, event)
		}
		p, err := Compile([]byte(pattern))
		switch {
		case err != nil:
			refused++
		case p.Match([]byte(event)):
			pairs, matched = pairs+1, matched+1
		default:
			pairs, missed = pairs+1, missed+1
		}
	}
	if matched < pairs/10 || missed < pairs/10 || refused < 100 {
		t.Fatalf("of %d compiled pairs %d matched and %d missed, %d patterns refused: the generator no longer makes all three", pairs, matched, missed, refused)
	}
	t.Logf("%d compiled pairs: %d matched, %d missed; %d patterns refused", pairs, matched, missed, refused)
}

// The reference itself, on the documented examples of TestMatch: a reference that
// agreed with a broken matcher by being broken the same way would fail here.
func TestReferenceOnTheDocumentedCases(t *testing.T) {
	for _, c := range matchCases {
		dp, ok := refDecode(c.pattern)
		if !ok || refValid(dp) != "" {
			t.Fatalf("%s: reference rejects the pattern: %s", c.name, refValid(dp))
		}
		de, ok := refDecode(c.event)
		if got := ok && refMatch(dp.(map[string]any), de); got != c.want {
			t.Errorf("%s: reference = %v, want %v", c.name, got, c.want)
		}
	}
	for _, c := range compileErrorCases {
		if dp, ok := refDecode(c.pattern); ok && refValid(dp) == "" {
			t.Errorf("%s: the reference accepts a pattern Compile rejects (%s)", c.pattern, c.want)
		}
	}
}
