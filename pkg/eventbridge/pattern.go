// Package eventbridge matches CloudEvents against Alibaba Cloud EventBridge event
// patterns, as the bus does before it hands an event to a rule's target.
//
// Semantics (EventBridge "Event patterns" documentation):
//   - A pattern is a JSON object shaped like the events it matches. Keys are ANDed; a
//     key's value is either a nested object (matched against the event's object at that
//     key) or an array of conditions, ORed.
//   - Conditions: an exact value (string, number, true, false, null, ""), or an object
//     with one operator: prefix, suffix, contains, anything-but (a value, a list of
//     values, or {prefix} / {suffix}), numeric ([op, n] or [op, n, op, n] with ops
//     = < <= > >=), cidr (IPv4), exists (true/false).
//   - Matching is exact and case-sensitive; numbers in exact conditions are compared as
//     their JSON text (300 and 300.0 differ), as the documentation says.
//   - A field the pattern names must exist in the event, except for {"exists": false}.
//   - When the event's value is an array, the condition list matches if any element
//     matches; a nested pattern object matches if any object element matches it.
//
// Operators the Alibaba documentation does not list (equals-ignore-case, wildcard,
// $or, …) are rejected by Compile rather than guessed at.
package eventbridge

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"sort"
	"strconv"
	"strings"
)

// Pattern is a compiled event pattern; it is safe for concurrent use.
type Pattern struct {
	root *object
}

// object is a nested pattern: every field must match.
type object struct {
	fields []field
}

type field struct {
	key string
	// exactly one of obj and conds is set
	obj   *object
	conds []condition
}

type condKind int

const (
	condExact condKind = iota
	condPrefix
	condSuffix
	condContains
	condAnythingBut
	condAnythingButPrefix
	condAnythingButSuffix
	condNumeric
	condCIDR
	condExists
)

type condition struct {
	kind condKind
	// exact: the value; anything-but: the excluded values
	values []value
	text   string // prefix, suffix, contains
	exists bool
	ranges []numericBound
	prefix netip.Prefix
}

// value is a JSON scalar: for numbers, raw is the JSON text.
type value struct {
	kind byte // 's' string, 'n' number, 'b' bool, 'z' null
	raw  string
	b    bool
}

type numericBound struct {
	op string
	n  float64
}

// Compile parses a pattern; the error says what is wrong and where (a dotted path).
func Compile(pattern []byte) (*Pattern, error) {
	dec := json.NewDecoder(bytes.NewReader(pattern))
	dec.UseNumber()
	var raw any
	if err := dec.Decode(&raw); err != nil {
		return nil, fmt.Errorf("event pattern is not JSON: %w", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, errors.New("event pattern: trailing data after the JSON object")
	}
	m, ok := raw.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("event pattern must be a JSON object, found %s", typeName(raw))
	}
	root, err := compileObject(m, "")
	if err != nil {
		return nil, fmt.Errorf("event pattern: %w", err)
	}
	return &Pattern{root: root}, nil
}

func compileObject(m map[string]any, path string) (*object, error) {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	o := &object{}
	for _, k := range keys {
		p := join(path, k)
		switch v := m[k].(type) {
		case map[string]any:
			sub, err := compileObject(v, p)
			if err != nil {
				return nil, err
			}
			if len(sub.fields) == 0 {
				return nil, fmt.Errorf("%s: empty object", p)
			}
			o.fields = append(o.fields, field{key: k, obj: sub})
		case []any:
			if len(v) == 0 {
				return nil, fmt.Errorf("%s: empty array matches nothing", p)
			}
			f := field{key: k}
			for i, c := range v {
				cond, err := compileCondition(c, fmt.Sprintf("%s[%d]", p, i))
				if err != nil {
					return nil, err
				}
				f.conds = append(f.conds, cond)
			}
			o.fields = append(o.fields, f)
		default:
			return nil, fmt.Errorf("%s: value must be an array of conditions or a nested object, found %s", p, typeName(v))
		}
	}
	return o, nil
}

func join(path, k string) string {
	if path == "" {
		return k
	}
	return path + "." + k
}

func typeName(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "a boolean"
	case json.Number:
		return "a number"
	case string:
		return "a string"
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	}
	return fmt.Sprintf("%T", v)
}

func scalar(v any) (value, bool) {
	switch t := v.(type) {
	case nil:
		return value{kind: 'z'}, true
	case bool:
		return value{kind: 'b', b: t}, true
	case string:
		return value{kind: 's', raw: t}, true
	case json.Number:
		return value{kind: 'n', raw: t.String()}, true
	}
	return value{}, false
}

func compileCondition(c any, path string) (condition, error) {
	if v, ok := scalar(c); ok {
		return condition{kind: condExact, values: []value{v}}, nil
	}
	op, ok := c.(map[string]any)
	if !ok {
		return condition{}, fmt.Errorf("%s: a condition is a value or an operator object, found %s", path, typeName(c))
	}
	if len(op) != 1 {
		return condition{}, fmt.Errorf("%s: an operator object has exactly one key, found %d", path, len(op))
	}
	for name, arg := range op {
		p := path + "." + name
		switch name {
		case "prefix", "suffix", "contains":
			s, ok := arg.(string)
			if !ok {
				return condition{}, fmt.Errorf("%s: want a string, found %s", p, typeName(arg))
			}
			kind := map[string]condKind{"prefix": condPrefix, "suffix": condSuffix, "contains": condContains}[name]
			return condition{kind: kind, text: s}, nil
		case "anything-but":
			return compileAnythingBut(arg, p)
		case "numeric":
			return compileNumeric(arg, p)
		case "cidr":
			s, ok := arg.(string)
			if !ok {
				return condition{}, fmt.Errorf("%s: want a string such as \"10.0.0.0/24\", found %s", p, typeName(arg))
			}
			pfx, err := netip.ParsePrefix(s)
			if err != nil || !pfx.Addr().Is4() {
				return condition{}, fmt.Errorf("%s: %q is not an IPv4 CIDR block", p, s)
			}
			return condition{kind: condCIDR, prefix: pfx.Masked()}, nil
		case "exists":
			b, ok := arg.(bool)
			if !ok {
				return condition{}, fmt.Errorf("%s: want true or false, found %s", p, typeName(arg))
			}
			return condition{kind: condExists, exists: b}, nil
		default:
			return condition{}, fmt.Errorf("%s: unsupported operator %q (EventBridge documents prefix, suffix, contains, anything-but, numeric, cidr, exists)", path, name)
		}
	}
	return condition{}, fmt.Errorf("%s: empty operator object", path) // len(op) == 1: not reached
}

func compileAnythingBut(arg any, p string) (condition, error) {
	if v, ok := scalar(arg); ok {
		if v.kind != 's' && v.kind != 'n' {
			return condition{}, fmt.Errorf("%s: want a string, a number, a list of them, or {prefix}/{suffix}", p)
		}
		return condition{kind: condAnythingBut, values: []value{v}}, nil
	}
	switch t := arg.(type) {
	case []any:
		if len(t) == 0 {
			return condition{}, fmt.Errorf("%s: empty list", p)
		}
		c := condition{kind: condAnythingBut}
		for i, e := range t {
			v, ok := scalar(e)
			if !ok || (v.kind != 's' && v.kind != 'n') {
				return condition{}, fmt.Errorf("%s[%d]: want a string or a number, found %s", p, i, typeName(e))
			}
			c.values = append(c.values, v)
		}
		return c, nil
	case map[string]any:
		if len(t) != 1 {
			return condition{}, fmt.Errorf("%s: want exactly one of prefix or suffix", p)
		}
		for name, a := range t {
			s, ok := a.(string)
			if !ok {
				return condition{}, fmt.Errorf("%s.%s: want a string, found %s", p, name, typeName(a))
			}
			switch name {
			case "prefix":
				return condition{kind: condAnythingButPrefix, text: s}, nil
			case "suffix":
				return condition{kind: condAnythingButSuffix, text: s}, nil
			}
			return condition{}, fmt.Errorf("%s: unsupported operator %q inside anything-but (prefix or suffix)", p, name)
		}
	}
	return condition{}, fmt.Errorf("%s: want a string, a number, a list of them, or {prefix}/{suffix}, found %s", p, typeName(arg))
}

func compileNumeric(arg any, p string) (condition, error) {
	l, ok := arg.([]any)
	if !ok || (len(l) != 2 && len(l) != 4) {
		return condition{}, fmt.Errorf("%s: want [op, number] or [op, number, op, number]", p)
	}
	c := condition{kind: condNumeric}
	for i := 0; i < len(l); i += 2 {
		op, ok := l[i].(string)
		if !ok || !validOp(op) {
			return condition{}, fmt.Errorf("%s[%d]: operator must be one of = < <= > >=, found %v", p, i, l[i])
		}
		num, ok := l[i+1].(json.Number)
		if !ok {
			return condition{}, fmt.Errorf("%s[%d]: want a number, found %s", p, i+1, typeName(l[i+1]))
		}
		f, err := strconv.ParseFloat(num.String(), 64)
		if err != nil {
			return condition{}, fmt.Errorf("%s[%d]: %s is out of range", p, i+1, num)
		}
		c.ranges = append(c.ranges, numericBound{op: op, n: f})
	}
	return c, nil
}

func validOp(op string) bool {
	switch op {
	case "=", "<", "<=", ">", ">=":
		return true
	}
	return false
}

// Match reports whether the event (CloudEvent JSON) matches. Malformed JSON matches
// nothing.
func (p *Pattern) Match(event []byte) bool {
	dec := json.NewDecoder(bytes.NewReader(event))
	dec.UseNumber()
	var ev any
	if err := dec.Decode(&ev); err != nil {
		return false
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return false
	}
	m, ok := ev.(map[string]any)
	if !ok {
		return false
	}
	return p.root.match(m)
}

func (o *object) match(ev map[string]any) bool {
	for _, f := range o.fields {
		v, present := ev[f.key]
		if f.obj != nil {
			if !present || !f.obj.matchValue(v) {
				return false
			}
			continue
		}
		if !matchConds(f.conds, v, present) {
			return false
		}
	}
	return true
}

// matchValue matches a nested pattern against an object, or any object of an array.
func (o *object) matchValue(v any) bool {
	switch t := v.(type) {
	case map[string]any:
		return o.match(t)
	case []any:
		for _, e := range t {
			if m, ok := e.(map[string]any); ok && o.match(m) {
				return true
			}
		}
	}
	return false
}

func matchConds(conds []condition, v any, present bool) bool {
	for _, c := range conds {
		if c.kind == condExists {
			if c.exists == present {
				return true
			}
			continue
		}
		if !present {
			continue
		}
		if arr, ok := v.([]any); ok {
			for _, e := range arr {
				if c.matchScalar(e) {
					return true
				}
			}
			continue
		}
		if c.matchScalar(v) {
			return true
		}
	}
	return false
}

func (c *condition) matchScalar(x any) bool {
	v, ok := scalar(x)
	if !ok {
		return false // objects and nested arrays match no value condition
	}
	switch c.kind {
	case condExact:
		return equal(c.values[0], v)
	case condPrefix:
		return v.kind == 's' && strings.HasPrefix(v.raw, c.text)
	case condSuffix:
		return v.kind == 's' && strings.HasSuffix(v.raw, c.text)
	case condContains:
		return v.kind == 's' && strings.Contains(v.raw, c.text)
	case condAnythingBut:
		if v.kind != 's' && v.kind != 'n' {
			return false
		}
		for _, ex := range c.values {
			if equal(ex, v) {
				return false
			}
		}
		return true
	case condAnythingButPrefix:
		return v.kind == 's' && !strings.HasPrefix(v.raw, c.text)
	case condAnythingButSuffix:
		return v.kind == 's' && !strings.HasSuffix(v.raw, c.text)
	case condNumeric:
		if v.kind != 'n' {
			return false
		}
		f, err := strconv.ParseFloat(v.raw, 64)
		if err != nil {
			return false
		}
		for _, b := range c.ranges {
			if !compare(f, b) {
				return false
			}
		}
		return true
	case condCIDR:
		if v.kind != 's' {
			return false
		}
		a, err := netip.ParseAddr(v.raw)
		return err == nil && a.Is4() && c.prefix.Contains(a)
	}
	return false
}

func equal(a, b value) bool {
	if a.kind != b.kind {
		return false
	}
	switch a.kind {
	case 'b':
		return a.b == b.b
	case 'z':
		return true
	}
	return a.raw == b.raw
}

func compare(f float64, b numericBound) bool {
	switch b.op {
	case "=":
		return f == b.n
	case "<":
		return f < b.n
	case "<=":
		return f <= b.n
	case ">":
		return f > b.n
	case ">=":
		return f >= b.n
	}
	return false
}
