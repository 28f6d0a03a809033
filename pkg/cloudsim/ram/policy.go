package ram

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"

	"imageshare/pkg/cloudsim/emu"
)

// Policy is a parsed policy document.
type Policy struct {
	Statements []Statement
}

// Statement is one statement of a policy.
type Statement struct {
	Index     int    // 1-based position in the document, for messages
	Sid       string // may be empty
	Effect    string // "Allow" or "Deny"
	Actions   []string
	Resources []string
}

// Name names the statement in messages: its Sid, or its position.
func (s Statement) Name() string {
	if s.Sid != "" {
		return fmt.Sprintf("statement %d (%s)", s.Index, s.Sid)
	}
	return fmt.Sprintf("statement %d", s.Index)
}

// Elements a statement may hold, and the ones this emulator refuses rather than
// evaluate half-way (see the package comment).
var (
	known   = []string{"Sid", "Effect", "Action", "Resource"}
	refused = []string{"NotAction", "NotResource", "Condition", "Principal"}
)

// Parse reads a policy document. It refuses, with an error naming the statement and
// the element, anything RAM would refuse and any construct this emulator does not
// evaluate.
func Parse(document []byte) (*Policy, error) {
	var top map[string]json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(document))
	if err := dec.Decode(&top); err != nil {
		return nil, fmt.Errorf("policy document is not a JSON object: %w", err)
	}
	if dec.More() {
		return nil, fmt.Errorf("policy document has data after its JSON object")
	}
	for k := range top {
		if k != "Version" && k != "Statement" {
			return nil, fmt.Errorf("policy document: unknown element %q (only Version and Statement)", k)
		}
	}
	var version string
	if err := json.Unmarshal(top["Version"], &version); err != nil || version != "1" {
		return nil, fmt.Errorf(`policy document: Version must be "1", got %s`, orMissing(top["Version"]))
	}
	var raw []map[string]json.RawMessage
	if err := json.Unmarshal(top["Statement"], &raw); err != nil || len(raw) == 0 {
		return nil, fmt.Errorf("policy document: Statement must be a non-empty list of statements")
	}
	p := &Policy{}
	for i, st := range raw {
		s := Statement{Index: i + 1}
		if v, ok := st["Sid"]; ok {
			if err := json.Unmarshal(v, &s.Sid); err != nil {
				return nil, fmt.Errorf("%s: Sid must be a string", s.Name())
			}
		}
		for k := range st {
			if slices.Contains(refused, k) {
				return nil, fmt.Errorf("%s: %s is not supported by the emulated RAM (it would not be evaluated); remove it", s.Name(), k)
			}
			if !slices.Contains(known, k) {
				return nil, fmt.Errorf("%s: unknown element %q", s.Name(), k)
			}
		}
		if err := json.Unmarshal(st["Effect"], &s.Effect); err != nil || (s.Effect != "Allow" && s.Effect != "Deny") {
			return nil, fmt.Errorf("%s: Effect must be \"Allow\" or \"Deny\", got %s", s.Name(), orMissing(st["Effect"]))
		}
		var err error
		if s.Actions, err = stringOrList(st["Action"]); err != nil {
			return nil, fmt.Errorf("%s: Action %v", s.Name(), err)
		}
		for _, a := range s.Actions {
			if a != "*" && !strings.Contains(a, ":") {
				return nil, fmt.Errorf("%s: Action %q is not <service>:<action> or *", s.Name(), a)
			}
		}
		if s.Resources, err = stringOrList(st["Resource"]); err != nil {
			return nil, fmt.Errorf("%s: Resource %v", s.Name(), err)
		}
		p.Statements = append(p.Statements, s)
	}
	return p, nil
}

func orMissing(v json.RawMessage) string {
	if v == nil {
		return "nothing"
	}
	return string(v)
}

// stringOrList reads an element that is a string or a non-empty list of strings.
func stringOrList(v json.RawMessage) ([]string, error) {
	if v == nil {
		return nil, fmt.Errorf("is missing")
	}
	var one string
	if json.Unmarshal(v, &one) == nil {
		if one == "" {
			return nil, fmt.Errorf("is empty")
		}
		return []string{one}, nil
	}
	var list []string
	if err := json.Unmarshal(v, &list); err != nil {
		return nil, fmt.Errorf("must be a string or a list of strings, got %s", v)
	}
	if len(list) == 0 {
		return nil, fmt.Errorf("is an empty list")
	}
	for _, s := range list {
		if s == "" {
			return nil, fmt.Errorf("holds an empty string")
		}
	}
	return list, nil
}

// Check is the document checker of the RAM store (emu.NewRAMStore): a document is
// accepted iff Parse accepts it.
func Check(document string) error {
	_, err := cached(document)
	return err
}

// The store keeps documents as text; a parsed copy is kept per distinct document, so
// that evaluating every call does not parse JSON every time. Documents are few.
var cache sync.Map // document → *Policy

func cached(document string) (*Policy, error) {
	if p, ok := cache.Load(document); ok {
		return p.(*Policy), nil
	}
	p, err := Parse([]byte(document))
	if err != nil {
		return nil, err
	}
	cache.Store(document, p)
	return p, nil
}

// NewStore returns an empty RAM store that refuses documents Parse refuses.
func NewStore() *emu.RAMStore { return emu.NewRAMStore(Check) }
