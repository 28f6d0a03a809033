package setup

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
)

// canonical returns a JSON value in a canonical form: objects with sorted keys (as
// encoding/json writes maps), and lists sorted, since a list in an event pattern or a
// policy is a set of alternatives whose order means nothing.
func canonical(text string) (string, error) {
	dec := json.NewDecoder(strings.NewReader(text))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return "", fmt.Errorf("not JSON: %w", err)
	}
	if dec.More() {
		return "", fmt.Errorf("not one JSON value")
	}
	b, err := json.Marshal(sortLists(v))
	if err != nil {
		return "", err
	}
	return string(b), nil
}

func sortLists(v any) any {
	switch t := v.(type) {
	case map[string]any:
		for k, x := range t {
			t[k] = sortLists(x)
		}
		return t
	case []any:
		keyed := make([]struct {
			k string
			v any
		}, len(t))
		for i, x := range t {
			x = sortLists(x)
			b, _ := json.Marshal(x)
			keyed[i].k, keyed[i].v = string(b), x
		}
		sort.Slice(keyed, func(i, j int) bool { return keyed[i].k < keyed[j].k })
		out := make([]any, len(t))
		for i, kv := range keyed {
			out[i] = kv.v
		}
		return out
	}
	return v
}

// SamePattern reports whether two event patterns select the same events, compared as
// JSON with their lists as sets.
func SamePattern(a, b string) bool {
	ca, err1 := canonical(a)
	cb, err2 := canonical(b)
	return err1 == nil && err2 == nil && ca == cb
}

// grant is one (effect, action, resource) a policy states.
type grant struct{ effect, action, resource string }

func (g grant) String() string { return fmt.Sprintf("%s %s on %s", g.effect, g.action, g.resource) }

// grants reads a policy document into the set of what it states. A document using an
// element beyond Effect, Action and Resource (Condition, NotAction, …) cannot be
// compared this way and is an error naming it.
func grants(document string) (map[grant]bool, error) {
	var doc struct {
		Version   string
		Statement []map[string]json.RawMessage
	}
	dec := json.NewDecoder(bytes.NewReader([]byte(document)))
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("the policy is not JSON: %w", err)
	}
	out := map[grant]bool{}
	for i, st := range doc.Statement {
		for k := range st {
			if !slices.Contains([]string{"Sid", "Effect", "Action", "Resource"}, k) {
				return nil, fmt.Errorf("statement %d uses %s, which this comparison does not read", i+1, k)
			}
		}
		var effect string
		if err := json.Unmarshal(st["Effect"], &effect); err != nil {
			return nil, fmt.Errorf("statement %d: Effect: %w", i+1, err)
		}
		actions, err := strs(st["Action"])
		if err != nil {
			return nil, fmt.Errorf("statement %d: Action: %w", i+1, err)
		}
		resources, err := strs(st["Resource"])
		if err != nil {
			return nil, fmt.Errorf("statement %d: Resource: %w", i+1, err)
		}
		for _, a := range actions {
			for _, r := range resources {
				// Action names compare case-insensitively; resources exactly.
				out[grant{effect, strings.ToLower(a), r}] = true
			}
		}
	}
	return out, nil
}

func strs(raw json.RawMessage) ([]string, error) {
	var one string
	if json.Unmarshal(raw, &one) == nil {
		return []string{one}, nil
	}
	var list []string
	if err := json.Unmarshal(raw, &list); err != nil {
		return nil, fmt.Errorf("neither a string nor a list of strings")
	}
	return list, nil
}

// PolicyDiff compares two policy documents by what they state, statement boundaries,
// Sids, order and letter case of actions aside. It returns what want states that got
// does not (missing) and what got states beyond want (extra), sorted.
func PolicyDiff(want, got string) (missing, extra []string, err error) {
	w, err := grants(want)
	if err != nil {
		return nil, nil, fmt.Errorf("the expected policy: %w", err)
	}
	g, err := grants(got)
	if err != nil {
		return nil, nil, err
	}
	for _, x := range slices.SortedFunc(maps.Keys(w), cmpGrant) {
		if !g[x] {
			missing = append(missing, x.String())
		}
	}
	for _, x := range slices.SortedFunc(maps.Keys(g), cmpGrant) {
		if !w[x] {
			extra = append(extra, x.String())
		}
	}
	return missing, extra, nil
}

func cmpGrant(a, b grant) int { return strings.Compare(a.String(), b.String()) }
