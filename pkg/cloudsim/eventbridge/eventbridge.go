// Package eventbridge emulates EventBridge's rules and targets on event buses
// (EventBridge 2020-04-01, RPC), and the service-linked role EventBridge uses to deliver
// events to Function Compute. It keeps rules; it does not route events (the sandbox
// routes by s.yaml's triggers, pkg/sandbox).
//
// References: the API pages,
// https://www.alibabacloud.com/help/en/eventbridge/developer-reference/api-eventbridge-2020-04-01-<action in lower case>;
// target parameters, https://www.alibabacloud.com/help/en/eventbridge/user-guide/event-target-parameters;
// error codes, https://www.alibabacloud.com/help/en/eventbridge/error-codes. The cloud's
// pages list only the gateway's codes; the answers about rules and buses carry the codes
// the SDKs' examples and the Terraform provider show (EventRuleNotExisted,
// EventBusNotExist) with the statuses of the open-source EventBridge's code table
// (apache/rocketmq-eventbridge, EventBridgeErrorCode), which Alibaba wrote: each is in
// the error catalogue (emu.Catalogue) with its source.
package eventbridge

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"imageshare/pkg/cloudsim/emu"
)

const docs = "https://www.alibabacloud.com/help/en/eventbridge/developer-reference/api-eventbridge-2020-04-01-"

// DefaultBus is the bus every account has in every region; other buses are not emulated.
const DefaultBus = "default"

// MaxServiceRules is how many rules the default bus holds for Alibaba Cloud service
// event sources (sources acs.*): "Configure event triggers for Alibaba Cloud services",
// https://www.alibabacloud.com/help/en/functioncompute/fc/user-guide/configure-event-triggers-for-alibaba-cloud-services, Limits.
const MaxServiceRules = 10

// ServiceLinkedRoles are the products CreateServiceLinkedRoleForProduct takes (its
// ProductName), each the name of the role it creates.
var ServiceLinkedRoles = []string{
	"AliyunServiceRoleForEventBridgeSendToFC", "AliyunServiceRoleForEventBridgeSendToSMS",
	"AliyunServiceRoleForEventBridgeSendToDirectMail", "AliyunServiceRoleForEventBridgeSourceRocketMQ",
	"AliyunServiceRoleForEventBridgeSourceMNS", "AliyunServiceRoleForEventBridgeConnectVPC",
	"AliyunServiceRoleForEventBridgeSourceActionTrail", "AliyunServiceRoleForEventBridgeSourceRabbitMQ",
	"AliyunServiceRoleForEventBridgeSendToRabbitMQ", "AliyunServiceRoleForEventBridgeSendToRocketMQ",
	"AliyunServiceRoleForEventBridgeSendToMNS",
}

// Rule is an event rule with its targets.
type Rule struct {
	Account, Region, Bus, Name string
	Description                string
	Status                     string // ENABLE | DISABLE
	FilterPattern              string
	Created                    time.Time
	Targets                    []Target // by Id, in the order put
}

// ARN is the rule's ARN.
func (r Rule) ARN() string {
	return "acs:eventbridge:" + r.Region + ":" + r.Account + ":eventbus/" + r.Bus + "/rule/" + r.Name
}

// Target is one target of a rule, as PutTargets takes it.
type Target struct {
	Id                string
	Type              string
	Endpoint          string
	PushRetryStrategy string
	ErrorsTolerance   string
	DeadLetterQueue   *DeadLetterQueue `json:",omitempty"`
	ParamList         []Param
}

// DeadLetterQueue is a target's dead-letter queue.
type DeadLetterQueue struct{ Arn string }

// Param is one item of a target's ParamList.
type Param struct {
	ResourceKey, Form, Value, Template string
}

// EventBridge is the emulated service. Safe for concurrent use.
type EventBridge struct {
	ram *emu.RAMStore

	mu    sync.Mutex
	rules map[string]*Rule // key(account, region, bus, name)
}

// New returns an EventBridge whose service-linked roles are made in ram.
func New(ram *emu.RAMStore) *EventBridge {
	return &EventBridge{ram: ram, rules: map[string]*Rule{}}
}

var _ emu.Service = (*EventBridge)(nil)

// Product implements emu.Service.
func (*EventBridge) Product() string { return "eventbridge" }

// Version implements emu.Service.
func (*EventBridge) Version() string { return "2020-04-01" }

// Host implements emu.Service.
func (*EventBridge) Host() string { return "eventbridge.aliyuncs.com" }

func key(account, region, bus, name string) string {
	return account + "/" + region + "/" + bus + "/" + name
}

// ruleNameRE: letters, digits, hyphens and underscores, at most 127 characters (the
// console's rule; the API page states none).
var ruleNameRE = regexp.MustCompile(`^[A-Za-z0-9_-]{1,127}$`)

func missing(name string) *emu.APIError {
	return emu.Errorf(400, "MissingParameter", "The input parameter %q that is mandatory for processing this request is not supplied.", name)
}

func invalid(name string) *emu.APIError {
	return emu.Errorf(400, "InvalidParameter", "The specified parameter %q is not valid.", name)
}

func busParam() emu.Param {
	return emu.Param{Name: "EventBusName", Required: true, Missing: missing("EventBusName")}
}

func ruleParam() emu.Param {
	return emu.Param{Name: "RuleName", Required: true, Pattern: ruleNameRE, Missing: missing("RuleName"),
		Invalid: emu.Errorf(409, "EventRuleNameInvalid", "The event rule name is invalid!")}
}

func statusParam() emu.Param {
	return emu.Param{Name: "Status", Enum: []string{"ENABLE", "DISABLE"}, Invalid: invalid("Status")}
}

func patternParam(required bool) emu.Param {
	return emu.Param{Name: "FilterPattern", Kind: emu.PJSON, Required: required, Missing: missing("FilterPattern"), Invalid: invalid("FilterPattern")}
}

func pagingParams() []emu.Param {
	return []emu.Param{
		{Name: "Limit", Kind: emu.PInt, Min: 1, Max: 100, Invalid: invalid("Limit")},
		{Name: "NextToken", Kind: emu.PInt, Invalid: invalid("NextToken")},
	}
}

// Actions implements emu.Service.
func (e *EventBridge) Actions() map[string]emu.Action {
	return map[string]emu.Action{
		"CreateRule": {Write: true, Source: docs + "createrule", Do: e.createRule, Params: []emu.Param{
			busParam(), ruleParam(), statusParam(), patternParam(true),
			{Name: "EventTargets", Kind: emu.PJSON, Invalid: invalid("EventTargets")},
			{Name: "Targets", Kind: emu.PJSON, Invalid: invalid("Targets")},
		}},
		"GetRule":     {Source: docs + "getrule", Do: e.getRule, Params: []emu.Param{busParam(), ruleParam()}},
		"ListRules":   {Source: docs + "listrules", Do: e.listRules, Params: append([]emu.Param{busParam()}, pagingParams()...)},
		"UpdateRule":  {Write: true, Source: docs + "updaterule", Do: e.updateRule, Params: []emu.Param{busParam(), ruleParam(), statusParam(), patternParam(true)}},
		"EnableRule":  {Write: true, Source: docs + "enablerule", Do: e.status("ENABLE"), Params: []emu.Param{busParam(), ruleParam()}},
		"DisableRule": {Write: true, Source: docs + "disablerule", Do: e.status("DISABLE"), Params: []emu.Param{busParam(), ruleParam()}},
		"DeleteRule":  {Write: true, Source: docs + "deleterule", Do: e.deleteRule, Params: []emu.Param{busParam(), ruleParam()}},
		"PutTargets": {Write: true, Source: docs + "puttargets", Do: e.putTargets, Params: []emu.Param{busParam(), ruleParam(),
			{Name: "Targets", Kind: emu.PJSON, Required: true, Missing: missing("Targets"), Invalid: invalid("Targets")}}},
		"DeleteTargets": {Write: true, Source: docs + "deletetargets", Do: e.deleteTargets, Params: []emu.Param{busParam(), ruleParam(),
			{Name: "TargetIds", Kind: emu.PJSON, Invalid: invalid("TargetIds")}}},
		// ListTargets documents every parameter as optional; without a rule it answers
		// for none (the emulation needs the rule).
		"ListTargets": {Source: docs + "listtargets", Do: e.listTargets, Params: append([]emu.Param{
			{Name: "EventBusName", Required: true, Missing: missing("EventBusName")}, ruleParam()}, pagingParams()...)},
		"CreateServiceLinkedRoleForProduct": {Write: true, Source: docs + "createservicelinkedroleforproduct", Do: e.createSLR,
			Params: []emu.Param{{Name: "ProductName", Required: true, Enum: ServiceLinkedRoles, Missing: missing("ProductName"), Invalid: invalid("ProductName")}}},
	}
}

// ok wraps a successful answer as EventBridge writes it.
func ok(data any) map[string]any {
	out := map[string]any{"Code": "Success", "Success": true, "Message": ""}
	if data != nil {
		out["Data"] = data
	}
	return out
}

func busNotExist(bus string) *emu.APIError {
	return emu.Errorf(409, "EventBusNotExist", "The event bus [%s] not existed!", bus)
}

func ruleNotExist(rule, bus string) *emu.APIError {
	return emu.Errorf(409, "EventRuleNotExisted", "The event rule [%s] of event bus [%s] not existed!", rule, bus)
}

// ruleLocked finds the rule a call names.
func (e *EventBridge) ruleLocked(c *emu.Call) (*Rule, *emu.APIError) {
	bus := c.P("EventBusName")
	if bus != DefaultBus {
		return nil, busNotExist(bus)
	}
	r := e.rules[key(c.Caller.AccountID, c.Region, bus, c.P("RuleName"))]
	if r == nil {
		return nil, ruleNotExist(c.P("RuleName"), bus)
	}
	return r, nil
}

// targetTypes are the target types the reference lists.
var targetTypes = []string{"acs.alikafka", "acs.api.destination", "acs.arms.loki", "acs.datahub", "acs.dingtalk", "acs.eventbridge",
	"acs.eventbridge.olap", "acs.eventbus.SLSCloudLens", "acs.fc.function", "acs.fnf", "acs.k8s", "acs.mail", "acs.mns.queue",
	"acs.mns.topic", "acs.openapi", "acs.rabbitmq", "acs.rds.mysql", "acs.rocketmq", "acs.sae", "acs.sls", "acs.sms", "http", "https", "mysql"}

var (
	retryStrategies = []string{"BACKOFF_RETRY", "EXPONENTIAL_DECAY_RETRY"}
	paramForms      = []string{"CONSTANT", "ORIGINAL", "JSONPATH", "TEMPLATE"}
)

// parseTargets reads a Targets (or EventTargets) parameter: a JSON list of targets, each
// with an Id, a Type, an Endpoint (for the types that have one), a PushRetryStrategy and
// a ParamList whose items have a ResourceKey and a Form.
func parseTargets(text, name string) ([]Target, *emu.APIError) {
	var ts []Target
	if err := json.Unmarshal([]byte(text), &ts); err != nil {
		return nil, invalid(name)
	}
	seen := map[string]bool{}
	for _, t := range ts {
		attr := ""
		switch {
		case t.Id == "":
			attr = "Id"
		case !slices.Contains(targetTypes, t.Type):
			attr = "Type"
		case t.Endpoint == "" && t.Type != "acs.eventbus.SLSCloudLens":
			attr = "Endpoint"
		case t.PushRetryStrategy != "" && !slices.Contains(retryStrategies, t.PushRetryStrategy):
			attr = "PushRetryStrategy"
		}
		for _, p := range t.ParamList {
			if attr == "" && (p.ResourceKey == "" || !slices.Contains(paramForms, p.Form)) {
				attr = "ParamList"
			}
		}
		if attr != "" {
			return nil, emu.Errorf(409, "EventTargetMissingAttribute", "Missing or invalid attribute [%s] of target [%s].", attr, t.Id)
		}
		if seen[t.Id] {
			return nil, invalid(name)
		}
		seen[t.Id] = true
	}
	return ts, nil
}

// serviceSource reports whether a pattern selects Alibaba Cloud service events (a
// source acs.*), which count against MaxServiceRules.
func serviceSource(pattern string) bool {
	var p map[string]any
	if json.Unmarshal([]byte(pattern), &p) != nil {
		return false
	}
	srcs, _ := p["source"].([]any)
	for _, s := range srcs {
		if str, ok := s.(string); ok && strings.HasPrefix(str, "acs.") {
			return true
		}
		if m, ok := s.(map[string]any); ok {
			if pre, ok := m["prefix"].(string); ok && strings.HasPrefix(pre, "acs.") {
				return true
			}
		}
	}
	return false
}

func (e *EventBridge) createRule(c *emu.Call) (map[string]any, *emu.APIError) {
	e.mu.Lock()
	defer e.mu.Unlock()
	bus, name := c.P("EventBusName"), c.P("RuleName")
	if bus != DefaultBus {
		return nil, busNotExist(bus)
	}
	k := key(c.Caller.AccountID, c.Region, bus, name)
	if e.rules[k] != nil {
		return nil, emu.Errorf(409, "EventRuleAlreadyExist", "The event rule [%s] of event bus [%s] already existed!", name, bus)
	}
	var targets []Target
	for _, p := range []string{"EventTargets", "Targets"} {
		if v := c.P(p); v != "" {
			ts, err := parseTargets(v, p)
			if err != nil {
				return nil, err
			}
			targets = append(targets, ts...)
		}
	}
	if serviceSource(c.P("FilterPattern")) {
		n := 0
		for _, r := range e.rules {
			if r.Account == c.Caller.AccountID && r.Region == c.Region && r.Bus == bus && serviceSource(r.FilterPattern) {
				n++
			}
		}
		if n >= MaxServiceRules {
			return nil, emu.Errorf(409, "EventRuleCountExceedLimit", "The current count of event rule is [%d], which will exceed the limit quota [%d]", n, MaxServiceRules)
		}
	}
	status := c.P("Status")
	if status == "" {
		status = "ENABLE"
	}
	r := &Rule{Account: c.Caller.AccountID, Region: c.Region, Bus: bus, Name: name, Description: c.P("Description"), Status: status,
		FilterPattern: c.P("FilterPattern"), Created: c.Now, Targets: targets}
	e.rules[k] = r
	return ok(map[string]any{"RuleARN": r.ARN()}), nil
}

// How much of a target each API shows (the response fields of each API's reference):
// ListRules Id, Type, Endpoint, ErrorsTolerance and PushSelector; ListTargets also
// ParamList, RuleName and EventBusName; GetRule also PushRetryStrategy and
// DeadLetterQueue.
type detail int

const (
	inListRules detail = iota
	inListTargets
	inGetRule
)

func targetView(r *Rule, t Target, d detail) map[string]any {
	out := map[string]any{"Id": t.Id, "Type": t.Type, "Endpoint": t.Endpoint, "ErrorsTolerance": t.ErrorsTolerance}
	if d == inListRules {
		out["PushSelector"] = ""
		return out
	}
	params := []any{}
	for _, p := range t.ParamList {
		params = append(params, map[string]any{"ResourceKey": p.ResourceKey, "Form": p.Form, "Value": p.Value, "Template": p.Template})
	}
	out["ParamList"] = params
	if d == inListTargets {
		out["RuleName"], out["EventBusName"] = r.Name, r.Bus
		return out
	}
	out["PushRetryStrategy"] = t.PushRetryStrategy
	if t.DeadLetterQueue != nil {
		out["DeadLetterQueue"] = map[string]any{"Arn": t.DeadLetterQueue.Arn}
	}
	return out
}

func ruleView(r *Rule, d detail) map[string]any {
	targets := []any{}
	for _, t := range r.Targets {
		targets = append(targets, targetView(r, t, d))
	}
	return map[string]any{"RuleName": r.Name, "RuleARN": r.ARN(), "EventBusName": r.Bus, "Description": r.Description,
		"Status": r.Status, "FilterPattern": r.FilterPattern, "CreatedTimestamp": r.Created.UnixMilli(), "Targets": targets}
}

func (e *EventBridge) getRule(c *emu.Call) (map[string]any, *emu.APIError) {
	e.mu.Lock()
	defer e.mu.Unlock()
	r, err := e.ruleLocked(c)
	if err != nil {
		return nil, err
	}
	return ok(ruleView(r, inGetRule)), nil
}

// page cuts a list by Limit (default 10) and NextToken (an offset).
func page[T any](c *emu.Call, items []T) ([]T, string) {
	limit := 10
	if v := c.P("Limit"); v != "" {
		limit, _ = strconv.Atoi(v)
	}
	from, _ := strconv.Atoi(c.P("NextToken"))
	if from > len(items) {
		from = len(items)
	}
	to := min(from+limit, len(items))
	next := ""
	if to < len(items) {
		next = strconv.Itoa(to)
	}
	return items[from:to], next
}

func (e *EventBridge) listRules(c *emu.Call) (map[string]any, *emu.APIError) {
	e.mu.Lock()
	defer e.mu.Unlock()
	bus := c.P("EventBusName")
	if bus != DefaultBus {
		return nil, busNotExist(bus)
	}
	var names []string
	for _, r := range e.rules {
		if r.Account == c.Caller.AccountID && r.Region == c.Region && r.Bus == bus && strings.HasPrefix(r.Name, c.P("RuleNamePrefix")) {
			names = append(names, r.Name)
		}
	}
	slices.Sort(names)
	pg, next := page(c, names)
	rules := []any{}
	for _, n := range pg {
		rules = append(rules, ruleView(e.rules[key(c.Caller.AccountID, c.Region, bus, n)], inListRules))
	}
	return ok(map[string]any{"Rules": rules, "NextToken": next, "Total": len(names)}), nil
}

func (e *EventBridge) updateRule(c *emu.Call) (map[string]any, *emu.APIError) {
	e.mu.Lock()
	defer e.mu.Unlock()
	r, err := e.ruleLocked(c)
	if err != nil {
		return nil, err
	}
	r.FilterPattern = c.P("FilterPattern")
	if d, ok := c.Params["Description"]; ok {
		r.Description = d
	}
	if s := c.P("Status"); s != "" {
		r.Status = s
	}
	return ok(true), nil
}

func (e *EventBridge) status(s string) func(c *emu.Call) (map[string]any, *emu.APIError) {
	return func(c *emu.Call) (map[string]any, *emu.APIError) {
		e.mu.Lock()
		defer e.mu.Unlock()
		r, err := e.ruleLocked(c)
		if err != nil {
			return nil, err
		}
		r.Status = s
		return ok(true), nil
	}
}

// deleteRule removes a rule with its targets (the reference does not say whether a rule
// with targets may be deleted; the emulation lets it, as the console does).
func (e *EventBridge) deleteRule(c *emu.Call) (map[string]any, *emu.APIError) {
	e.mu.Lock()
	defer e.mu.Unlock()
	r, err := e.ruleLocked(c)
	if err != nil {
		return nil, err
	}
	delete(e.rules, key(r.Account, r.Region, r.Bus, r.Name))
	return ok(true), nil
}

// putTargets adds the targets, replacing those of the same Id.
func (e *EventBridge) putTargets(c *emu.Call) (map[string]any, *emu.APIError) {
	e.mu.Lock()
	defer e.mu.Unlock()
	r, err := e.ruleLocked(c)
	if err != nil {
		return nil, err
	}
	ts, err := parseTargets(c.P("Targets"), "Targets")
	if err != nil {
		return nil, err
	}
	for _, t := range ts {
		if i := slices.IndexFunc(r.Targets, func(x Target) bool { return x.Id == t.Id }); i >= 0 {
			r.Targets[i] = t
		} else {
			r.Targets = append(r.Targets, t)
		}
	}
	return ok(map[string]any{"ErrorEntriesCount": 0, "ErrorEntries": []any{}}), nil
}

func (e *EventBridge) deleteTargets(c *emu.Call) (map[string]any, *emu.APIError) {
	e.mu.Lock()
	defer e.mu.Unlock()
	r, err := e.ruleLocked(c)
	if err != nil {
		return nil, err
	}
	var ids []string
	if v := c.P("TargetIds"); v != "" {
		if json.Unmarshal([]byte(v), &ids) != nil {
			return nil, invalid("TargetIds")
		}
	}
	var entries []any
	for _, id := range ids {
		i := slices.IndexFunc(r.Targets, func(x Target) bool { return x.Id == id })
		if i < 0 {
			entries = append(entries, map[string]any{"EntryId": id, "ErrorCode": "EventTargetNotExist",
				"ErrorMessage": fmt.Sprintf("The event target [%s] of event rule [%s] on eventbus [%s] is not existed!", id, r.Name, r.Bus)})
			continue
		}
		r.Targets = slices.Delete(r.Targets, i, i+1)
	}
	if entries == nil {
		entries = []any{}
	}
	return ok(map[string]any{"ErrorEntriesCount": len(entries), "ErrorEntries": entries}), nil
}

func (e *EventBridge) listTargets(c *emu.Call) (map[string]any, *emu.APIError) {
	e.mu.Lock()
	defer e.mu.Unlock()
	r, err := e.ruleLocked(c)
	if err != nil {
		return nil, err
	}
	pg, next := page(c, r.Targets)
	targets := []any{}
	for _, t := range pg {
		targets = append(targets, targetView(r, t, inListTargets))
	}
	return ok(map[string]any{"Targets": targets, "NextToken": next, "Total": len(r.Targets)}), nil
}

// slrTrust is the trust policy of the service-linked roles made here. The real roles'
// trusted principal is the service's own and undisclosed; nothing reads it but the
// check that the role exists.
const slrTrust = `{"Version":"1","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Principal":{"Service":["eventbridge.aliyuncs.com"]}}]}`

// createSLR creates the service-linked role ProductName names in the caller's account;
// one that exists already is a success (the role is the service's, made once).
func (e *EventBridge) createSLR(c *emu.Call) (map[string]any, *emu.APIError) {
	name := c.P("ProductName")
	if e.ram.Role(c.Caller.AccountID, name) == nil {
		if _, err := e.ram.CreateRoleWith(emu.RAMRole{Account: c.Caller.AccountID, Name: name, TrustPolicy: slrTrust,
			Description: "EventBridge service-linked role", ServiceLinked: true}); err != nil && err.Code != "EntityAlreadyExists.Role" {
			return nil, err
		}
	}
	return ok(nil), nil
}

// Rules returns every rule of an account's bus in a region, sorted by name (for tests).
func (e *EventBridge) Rules(account, region, bus string) []Rule {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []Rule
	for _, r := range e.rules {
		if r.Account == account && r.Region == region && r.Bus == bus {
			cp := *r
			cp.Targets = slices.Clone(r.Targets)
			out = append(out, cp)
		}
	}
	slices.SortFunc(out, func(a, b Rule) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// DeleteRule removes a rule directly (tests take a piece of a deployment away with it).
func (e *EventBridge) DeleteRule(account, region, bus, name string) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	k := key(account, region, bus, name)
	_, found := e.rules[k]
	delete(e.rules, k)
	return found
}

// PutRule stores a rule directly, replacing one of the same name (tests make the rules
// `s deploy` would make with it).
func (e *EventBridge) PutRule(r Rule) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if r.Status == "" {
		r.Status = "ENABLE"
	}
	r.Targets = slices.Clone(r.Targets)
	e.rules[key(r.Account, r.Region, r.Bus, r.Name)] = &r
}
