package emu

import (
	"encoding/json"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Service is an RPC product whose state and semantics live in a package of its own
// (pkg/cloudsim/eventbridge, pkg/cloudsim/sts, the RAM API in pkg/cloudsim/ram, the MNS
// management API in pkg/cloudsim/mns). Package cloudsim serves it through the same wire
// as ECS, Resource Manager and Resource Sharing: signatures, credentials, RAM
// evaluation, the call records and the error catalogue's check all apply, so a service
// package only holds its state and what each action does.
type Service interface {
	// Product is the product code the RAM table and the error catalogue use, e.g.
	// "eventbridge".
	Product() string
	// Version is the API version requests must name, e.g. "2020-04-01".
	Version() string
	// Host is the public endpoint host, for the HostId of error answers.
	Host() string
	// Actions are the actions the service answers; others get InvalidAction.NotFound.
	Actions() map[string]Action
}

// Action is one API of a Service.
type Action struct {
	Write  bool
	Source string // the API reference page
	// Params is the request contract, checked before Do runs (in order; the first
	// broken rule is answered).
	Params []Param
	// Do applies the action (the service takes its own locks) and returns the response
	// body without RequestId, or an error; an error means nothing was changed.
	Do func(c *Call) (map[string]any, *APIError)
}

// Call is one request as a Service sees it.
type Call struct {
	Caller    Identity
	Params    map[string]string
	Region    string // the RegionId parameter ("" when absent)
	Now       time.Time
	RequestID string
}

// P returns a parameter ("" when absent).
func (c *Call) P(name string) string { return c.Params[name] }

// ParamKind is how a parameter's value is read.
type ParamKind int

// Parameter kinds.
const (
	PString ParamKind = iota
	PInt              // a decimal integer
	PBool             // true | false
	PJSON             // a JSON document (the classic SDK's type:"Json" parameters)
)

// Param is one request parameter as the reference documents it.
type Param struct {
	Name     string
	Kind     ParamKind
	Required bool
	Enum     []string
	Min, Max int // a PInt's range, when Max > 0
	MaxLen   int // a PString's most characters, when > 0
	Pattern  *regexp.Regexp
	// Missing answers a required parameter left out or empty; Invalid a value outside
	// the enumeration, range, length or pattern, or not of its kind.
	Missing, Invalid *APIError
}

// CheckParams checks params against a contract and returns the documented answer to
// the first rule broken, or nil.
func CheckParams(ps []Param, params map[string]string) *APIError {
	for _, p := range ps {
		v, ok := params[p.Name]
		if !ok || v == "" {
			if p.Required {
				return p.Missing.copy()
			}
			continue
		}
		if !p.valid(v) {
			return p.Invalid.copy()
		}
	}
	return nil
}

func (p Param) valid(v string) bool {
	switch p.Kind {
	case PInt:
		n, err := strconv.Atoi(v)
		return err == nil && (p.Max == 0 || (n >= p.Min && n <= p.Max))
	case PBool:
		return strings.EqualFold(v, "true") || strings.EqualFold(v, "false")
	case PJSON:
		return json.Valid([]byte(v))
	}
	if p.MaxLen > 0 && len([]rune(v)) > p.MaxLen {
		return false
	}
	if len(p.Enum) > 0 && !slices.Contains(p.Enum, v) {
		return false
	}
	return p.Pattern == nil || p.Pattern.MatchString(v)
}

// Answers returns every answer the contract can give (for the catalogue's tests).
func (a Action) Answers() []*APIError {
	var out []*APIError
	for _, p := range a.Params {
		if p.Required && p.Missing != nil {
			out = append(out, p.Missing)
		}
		if p.Invalid != nil {
			out = append(out, p.Invalid)
		}
	}
	return out
}

// Checked reports whether every rule of the contract has its answer: a required
// parameter its Missing, a constrained one its Invalid.
func (p Param) Checked() bool {
	constrained := p.Kind != PString || len(p.Enum) > 0 || p.Max > 0 || p.MaxLen > 0 || p.Pattern != nil
	return (!p.Required || p.Missing != nil) && (!constrained || p.Invalid != nil)
}

// copy returns a fresh error, so that callers may change what they answer.
func (e *APIError) copy() *APIError {
	if e == nil {
		return Errorf(400, "InvalidParameter", "The specified parameter is not valid.")
	}
	c := *e
	return &c
}
