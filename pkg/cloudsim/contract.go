package cloudsim

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"imageshare/pkg/cloudsim/emu"
)

// API contracts: for every action the emulated cloud serves, the request parameters its
// reference documents — required ones, enumerations, ranges, lengths and list limits —
// with the documented answer when a request breaks one. They are checked before the
// action runs, so an action only ever sees a request the real service would accept
// (the action still answers what depends on state: unknown IDs, quotas, statuses).
//
// The tables are per product (contract_ecs.go, contract_rm.go, contract_rs.go); each
// names its source. Parameters the emulation does not model are not listed and are
// ignored, as the real services ignore parameters they do not know.
//
// Sources of the tables, besides the per-API reference pages named in them: the
// official API metadata (parameters, maxItems and errorCodes) as mirrored in
// github.com/dew-serverless/acs-sdk-php, data/{ecs,resourcemanager,resourcesharing}/
// …/api-docs.json at commit 1890224213189167d9a7fdd83ded0e54a5f4ae8e (2024-07-30), and
// its current api-docs.php at 4ca78154 (2025-12-03) where the two differ.

// kind is how a parameter travels in an RPC request.
type kind int

const (
	kString  kind = iota
	kInt          // a decimal integer
	kBool         // true | false
	kList         // repeatList: Name.1 … Name.N
	kStructs      // repeatList of objects: Name.N.Field
)

// answer is a documented error answer.
type answer struct {
	status        int
	code, message string
}

func (a answer) err() *emu.APIError {
	return &emu.APIError{HTTPStatus: a.status, Code: a.code, Message: a.message}
}

// param is one request parameter as the reference documents it.
type param struct {
	name     string
	kind     kind
	required bool
	enum     []string // allowed values (kString, and each item of a kList)
	// min and max bound a kInt's value when max > 0; for kList and kStructs, max is the
	// documented maximum number of items (N from 1 to max).
	min, max int
	minLen   int // kString: fewest characters when given
	maxLen   int // kString: most characters
	pattern  *regexp.Regexp
	// truncate: more than max items is not an error, the service uses the first max
	// and ignores the rest (ModifyImageSharePermission's AddAccount.N).
	truncate bool
	// unique: the items of a kList must differ.
	unique bool
	// forbidden: the parameter may not be given at all (answer: invalid).
	forbidden bool
	// fields are the fields of each kStructs item; a required field must be present
	// in every item given.
	fields []param

	missing answer // required and absent (or empty)
	invalid answer // not in enum, out of range, bad length or pattern, not an integer
	tooMany answer // a list over max (unless truncate)
	dup     answer // a repeated item of a unique list
	tooLong answer // a string over maxLen, where the reference has a code of its own
}

// contract is the request contract of one action.
type contract struct {
	product, action string
	source          string // the API reference page
	// dryRun: the API documents DryRun; a request with DryRun=true that passes the
	// contract answers DryRunOperation and changes nothing.
	dryRun bool
	params []param
	// check is a rule over several parameters (nil: none).
	check func(p map[string]string) *emu.APIError
}

// contracts holds every contract by product and action, filled by the contract_*.go
// files.
var contracts = map[string]map[string]*contract{}

func addContracts(cs ...*contract) {
	for _, c := range cs {
		if contracts[c.product] == nil {
			contracts[c.product] = map[string]*contract{}
		}
		if contracts[c.product][c.action] != nil {
			panic("cloudsim: two contracts for " + c.product + ":" + c.action)
		}
		contracts[c.product][c.action] = c
	}
}

// dryRunOperation is ECS's answer to a valid request with DryRun=true: HTTP 400 and this
// code (the ECS API metadata lists it so for ResetDisk and ResetDisks; the DryRun
// parameter of each API says "if the check passes, DryRunOperation is returned").
func dryRunOperation() *emu.APIError {
	return emu.Errorf(400, "DryRunOperation", "Request validation has been passed with DryRun flag set.")
}

// enforce checks params against the action's contract. It returns the parameters the
// action sees (a list the service truncates is truncated), whether the request is a
// valid dry run, or the documented answer to the first rule broken.
func enforce(product, action string, params map[string]string) (map[string]string, bool, *emu.APIError) {
	c := contracts[product][action]
	if c == nil {
		return params, false, nil
	}
	out := params
	for _, p := range c.params {
		trimmed, err := p.enforce(out)
		if err != nil {
			return nil, false, err
		}
		out = trimmed
	}
	if c.check != nil {
		if err := c.check(out); err != nil {
			return nil, false, err
		}
	}
	if c.dryRun && strings.EqualFold(params["DryRun"], "true") {
		return out, true, nil
	}
	return out, false, nil
}

// indexed returns the item numbers N of Name.N or Name.N.Field present in params.
func indexed(params map[string]string, name string, structs bool) []int {
	seen := map[int]bool{}
	prefix := name + "."
	for k := range params {
		rest, ok := strings.CutPrefix(k, prefix)
		if !ok {
			continue
		}
		num := rest
		if structs {
			var ok bool
			if num, _, ok = strings.Cut(rest, "."); !ok {
				continue
			}
		}
		if n, err := strconv.Atoi(num); err == nil && n > 0 && strconv.Itoa(n) == num {
			seen[n] = true
		}
	}
	return slices.Sorted(maps.Keys(seen))
}

func (p param) enforce(params map[string]string) (map[string]string, *emu.APIError) {
	switch p.kind {
	case kList, kStructs:
		return p.enforceList(params)
	}
	v, present := params[p.name]
	if !present || v == "" {
		if p.required {
			return nil, p.missing.err()
		}
		return params, nil
	}
	if p.forbidden {
		return nil, p.invalid.err()
	}
	if err := p.value(v); err != nil {
		return nil, err
	}
	return params, nil
}

// value checks one scalar value.
func (p param) value(v string) *emu.APIError {
	switch p.kind {
	case kInt:
		n, err := strconv.Atoi(v)
		if err != nil || strconv.Itoa(n) != v || (p.max > 0 && (n < p.min || n > p.max)) {
			return p.invalid.err()
		}
	case kBool:
		// Only where the reference names an answer for a value that is not a boolean.
		if p.invalid.code != "" && !strings.EqualFold(v, "true") && !strings.EqualFold(v, "false") {
			return p.invalid.err()
		}
	default:
		n := len([]rune(v))
		if p.maxLen > 0 && n > p.maxLen {
			if p.tooLong.code != "" {
				return p.tooLong.err()
			}
			return p.invalid.err()
		}
		if n < p.minLen || (len(p.enum) > 0 && !slices.Contains(p.enum, v)) || (p.pattern != nil && !p.pattern.MatchString(v)) {
			return p.invalid.err()
		}
	}
	return nil
}

func (p param) enforceList(params map[string]string) (map[string]string, *emu.APIError) {
	idx := indexed(params, p.name, p.kind == kStructs)
	if len(idx) == 0 {
		if p.required {
			return nil, p.missing.err()
		}
		return params, nil
	}
	if p.max > 0 && len(idx) > p.max {
		if !p.truncate {
			return nil, p.tooMany.err()
		}
		// The service uses the first max items: the action sees only those.
		kept := maps.Clone(params)
		for _, n := range idx[p.max:] {
			for k := range kept {
				if k == fmt.Sprintf("%s.%d", p.name, n) || strings.HasPrefix(k, fmt.Sprintf("%s.%d.", p.name, n)) {
					delete(kept, k)
				}
			}
		}
		params, idx = kept, idx[:p.max]
	}
	if p.kind == kList {
		seen := map[string]bool{}
		for _, n := range idx {
			v := params[fmt.Sprintf("%s.%d", p.name, n)]
			if p.unique && seen[v] {
				return nil, p.dup.err()
			}
			seen[v] = true
			if v == "" && p.invalid.code != "" {
				return nil, p.invalid.err()
			}
			if v != "" && (len(p.enum) > 0 || p.pattern != nil || p.maxLen > 0) {
				if err := (param{kind: kString, enum: p.enum, pattern: p.pattern, maxLen: p.maxLen, invalid: p.invalid}).value(v); err != nil {
					return nil, err
				}
			}
		}
		return params, nil
	}
	seen := map[string]bool{}
	for _, n := range idx {
		item := fmt.Sprintf("%s.%d", p.name, n)
		var key strings.Builder
		for _, f := range p.fields {
			v, present := params[item+"."+f.name]
			if !present || v == "" {
				if f.required {
					return nil, f.missing.err()
				}
				continue
			}
			if err := f.value(v); err != nil {
				return nil, err
			}
			key.WriteString(f.name + "=" + v + "\x00")
		}
		if p.unique && seen[key.String()] {
			return nil, p.dup.err()
		}
		seen[key.String()] = true
	}
	return params, nil
}

// Contract is an action's contract as tests and documentation read it.
type Contract struct {
	Product, Action, Source string
	DryRun                  bool
	Params                  []ContractParam
}

// ContractParam is one parameter of a Contract; list items' fields are named
// Name.N.Field.
type ContractParam struct {
	Name     string
	Required bool
	Enum     []string
	Max      int // list limit, or the top of an integer range
	Truncate bool
	// Answers: rule ("missing", "invalid", "too many", "duplicate", "too long") → answer.
	Answers map[string]ContractAnswer
	// Checks: which rules the parameter has ("required", "enum", "range", "pattern",
	// "length", "list limit", "unique", "forbidden"), to check that each has an answer.
	Checks []string
}

// ContractAnswer is a documented error answer.
type ContractAnswer struct {
	Code   string
	Status int
}

// Contracts returns every contract, for tests and documentation.
func Contracts() []Contract {
	var out []Contract
	for _, prod := range slices.Sorted(maps.Keys(contracts)) {
		for _, act := range slices.Sorted(maps.Keys(contracts[prod])) {
			c := contracts[prod][act]
			cc := Contract{Product: prod, Action: act, Source: c.source, DryRun: c.dryRun}
			var add func(prefix string, ps []param)
			add = func(prefix string, ps []param) {
				for _, p := range ps {
					cp := ContractParam{Name: prefix + p.name, Required: p.required, Enum: p.enum, Max: p.max, Truncate: p.truncate,
						Answers: map[string]ContractAnswer{}}
					for rule, a := range map[string]answer{"missing": p.missing, "invalid": p.invalid, "too many": p.tooMany,
						"duplicate": p.dup, "too long": p.tooLong} {
						if a.code != "" && (rule != "missing" || p.required) {
							cp.Answers[rule] = ContractAnswer{Code: a.code, Status: a.status}
						}
					}
					for rule, has := range map[string]bool{"required": p.required, "enum": len(p.enum) > 0,
						"range": p.kind == kInt && p.max > 0, "pattern": p.pattern != nil, "length": p.maxLen > 0 || p.minLen > 0,
						"list limit": (p.kind == kList || p.kind == kStructs) && p.max > 0 && !p.truncate, "unique": p.unique,
						"forbidden": p.forbidden} {
						if has {
							cp.Checks = append(cp.Checks, rule)
						}
					}
					slices.Sort(cp.Checks)
					cc.Params = append(cc.Params, cp)
					add(prefix+p.name+".N.", p.fields)
				}
			}
			add("", c.params)
			out = append(out, cc)
		}
	}
	return out
}

// Reusable pieces.

// missingParameter is the answer of ECS's core APIs to a required parameter left out.
func missingParameter(name string) answer {
	return answer{400, "MissingParameter", fmt.Sprintf("The input parameter %q that is mandatory for processing this request is not supplied.", name)}
}

// regionID is ECS's RegionId: required, MissingParameter when absent.
func regionID() param {
	return param{name: "RegionId", required: true, missing: missingParameter("RegionId")}
}

var (
	// folderIDRE: "either a 6-character string that starts with r- or a 10-character
	// string that starts with fd-" (ListAccountsForParent, InvalidParameter.ParentFolderId);
	// the emulation also takes the shorter root IDs its scenarios use.
	folderIDRE = regexp.MustCompile(`^(fd-[A-Za-z0-9]{10}|r-[A-Za-z0-9]{4,})$`)
)
