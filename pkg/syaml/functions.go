package syaml

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// Function is the typed view of one fc3 resource. Field names follow the fc3 props.
type Function struct {
	Key                 string // resource key
	Name                string // functionName
	Region, Runtime     string
	Handler, Code       string // Code: a path, or the src of an OSS code object
	Timeout             int    // seconds; 0 when not set
	MemorySize          int    // MB; 0 when not set
	InstanceConcurrency int    // 0 when not set
	Role                string
	Env                 map[string]string // environmentVariables
	Triggers            []Trigger
}

// Trigger is one entry of `triggers`; Timer or EventBridge is set for those types.
type Trigger struct {
	Name, Type, Qualifier string
	Timer                 *TimerConfig
	EventBridge           *EventBridgeConfig
}

// TimerConfig is a timer trigger's config.
type TimerConfig struct {
	Cron    string // cronExpression
	Enable  bool
	Payload string
}

// EventBridgeConfig is an eventbridge trigger's config (triggerConfig of the fc3 props).
type EventBridgeConfig struct {
	Enable        bool   // triggerEnable
	Async         bool   // asyncInvocationType
	FilterPattern string // eventRuleFilterPattern, the JSON text
	SourceType    string // eventSourceConfig.eventSourceType: "Default", "MNS", …
	// eventSourceConfig.eventSourceParameters.sourceMNSParameters
	MNSQueue       string // .QueueName
	IsBase64Decode bool   // .IsBase64Decode
	Retry          RetryStrategy
	BatchWindow    BatchWindow
	DeadLetterArn  string // runOptions.deadLetterQueue.Arn
	// ErrorsTolerance is runOptions.errorsTolerance ("ALL" or "NONE").
	ErrorsTolerance string
}

// RetryStrategy is runOptions.retryStrategy.
type RetryStrategy struct {
	Strategy           string // PushRetryStrategy: BACKOFF_RETRY or EXPONENTIAL_DECAY_RETRY
	MaxAttempts        int    // MaximumRetryAttempts
	MaxEventAgeSeconds int    // MaximumEventAgeInSeconds
}

// BatchWindow is runOptions.batchWindow.
type BatchWindow struct {
	Count   int // CountBasedWindow
	Seconds int // TimeBasedWindow
}

// IsFC3 reports whether the resource uses the fc3 component (any version).
func (r *Resource) IsFC3() bool {
	return r.Component == "fc3" || strings.HasPrefix(r.Component, "fc3@")
}

// Functions returns the fc3 resources as functions, in file order. Other components
// are skipped. Values of the wrong type are errors naming the resource and the field.
func (p *Project) Functions() ([]Function, error) {
	var out []Function
	for i := range p.Resources {
		r := &p.Resources[i]
		if !r.IsFC3() {
			continue
		}
		f, err := r.function()
		if err != nil {
			return nil, fmt.Errorf("resources.%s.props: %w", r.Key, err)
		}
		out = append(out, f)
	}
	return out, nil
}

// props reads typed values out of a props map; the first error sticks.
type props struct {
	err error
}

func (pr *props) at(m map[string]any, path ...string) (any, bool) {
	var cur any = m
	for _, k := range path {
		mm, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		if cur, ok = mm[k]; !ok {
			return nil, false
		}
	}
	return cur, true
}

func (pr *props) fail(path []string, format string, args ...any) {
	if pr.err == nil {
		pr.err = fmt.Errorf("%s: %s", strings.Join(path, "."), fmt.Sprintf(format, args...))
	}
}

func (pr *props) str(m map[string]any, path ...string) string {
	v, ok := pr.at(m, path...)
	if !ok || v == nil {
		return ""
	}
	s, ok := v.(string)
	if !ok {
		pr.fail(path, "want a string, found %v", v)
	}
	return s
}

func (pr *props) integer(m map[string]any, path ...string) int {
	v, ok := pr.at(m, path...)
	if !ok || v == nil {
		return 0
	}
	switch t := v.(type) {
	case int:
		return t
	case int64:
		return int(t)
	case uint64:
		if t <= math.MaxInt32 {
			return int(t)
		}
	case float64:
		if t == math.Trunc(t) && math.Abs(t) <= math.MaxInt32 {
			return int(t)
		}
	case string: // a substituted ${vars.X} is text
		if n, err := strconv.Atoi(strings.TrimSpace(t)); err == nil {
			return n
		}
	}
	pr.fail(path, "want an integer, found %v", v)
	return 0
}

func (pr *props) boolean(m map[string]any, path ...string) bool {
	v, ok := pr.at(m, path...)
	if !ok || v == nil {
		return false
	}
	switch t := v.(type) {
	case bool:
		return t
	case string:
		if t == "true" || t == "false" {
			return t == "true"
		}
	}
	pr.fail(path, "want true or false, found %v", v)
	return false
}

func (r *Resource) function() (Function, error) {
	pr := &props{}
	m := r.Props
	f := Function{
		Key:                 r.Key,
		Name:                pr.str(m, "functionName"),
		Region:              pr.str(m, "region"),
		Runtime:             pr.str(m, "runtime"),
		Handler:             pr.str(m, "handler"),
		Timeout:             pr.integer(m, "timeout"),
		MemorySize:          pr.integer(m, "memorySize"),
		InstanceConcurrency: pr.integer(m, "instanceConcurrency"),
		Role:                pr.str(m, "role"),
	}
	if c, ok := pr.at(m, "code"); ok {
		if _, isMap := c.(map[string]any); isMap {
			f.Code = pr.str(m, "code", "src")
		} else {
			f.Code = pr.str(m, "code")
		}
	}
	if pr.err == nil && f.Name == "" {
		return f, fmt.Errorf("functionName is missing")
	}
	if env, ok := pr.at(m, "environmentVariables"); ok && env != nil {
		em, ok := env.(map[string]any)
		if !ok {
			return f, fmt.Errorf("environmentVariables: want a mapping")
		}
		f.Env = make(map[string]string, len(em))
		for k, v := range em {
			s, ok := asText(v)
			if !ok {
				return f, fmt.Errorf("environmentVariables.%s: want a scalar", k)
			}
			f.Env[k] = s
		}
	}
	if tv, ok := pr.at(m, "triggers"); ok && tv != nil {
		tl, ok := tv.([]any)
		if !ok {
			return f, fmt.Errorf("triggers: want a list")
		}
		for i, t := range tl {
			tm, ok := t.(map[string]any)
			if !ok {
				return f, fmt.Errorf("triggers[%d]: want a mapping", i)
			}
			tr, err := trigger(tm)
			if err != nil {
				return f, fmt.Errorf("triggers[%d]: %w", i, err)
			}
			f.Triggers = append(f.Triggers, tr)
		}
	}
	return f, pr.err
}

func trigger(m map[string]any) (Trigger, error) {
	pr := &props{}
	t := Trigger{Name: pr.str(m, "triggerName"), Type: pr.str(m, "triggerType"), Qualifier: pr.str(m, "qualifier")}
	const tc = "triggerConfig"
	switch t.Type {
	case "timer":
		t.Timer = &TimerConfig{
			Cron:    pr.str(m, tc, "cronExpression"),
			Enable:  pr.boolean(m, tc, "enable"),
			Payload: pr.str(m, tc, "payload"),
		}
	case "eventbridge":
		eb := &EventBridgeConfig{
			Enable:          pr.boolean(m, tc, "triggerEnable"),
			Async:           pr.boolean(m, tc, "asyncInvocationType"),
			SourceType:      pr.str(m, tc, "eventSourceConfig", "eventSourceType"),
			MNSQueue:        pr.str(m, tc, "eventSourceConfig", "eventSourceParameters", "sourceMNSParameters", "QueueName"),
			IsBase64Decode:  pr.boolean(m, tc, "eventSourceConfig", "eventSourceParameters", "sourceMNSParameters", "IsBase64Decode"),
			DeadLetterArn:   pr.str(m, tc, "runOptions", "deadLetterQueue", "Arn"),
			ErrorsTolerance: pr.str(m, tc, "runOptions", "errorsTolerance"),
			Retry: RetryStrategy{
				Strategy:           pr.str(m, tc, "runOptions", "retryStrategy", "PushRetryStrategy"),
				MaxAttempts:        pr.integer(m, tc, "runOptions", "retryStrategy", "MaximumRetryAttempts"),
				MaxEventAgeSeconds: pr.integer(m, tc, "runOptions", "retryStrategy", "MaximumEventAgeInSeconds"),
			},
			BatchWindow: BatchWindow{
				Count:   pr.integer(m, tc, "runOptions", "batchWindow", "CountBasedWindow"),
				Seconds: pr.integer(m, tc, "runOptions", "batchWindow", "TimeBasedWindow"),
			},
		}
		// The schema wants the pattern as a JSON string; an inline object is accepted
		// here as its compact JSON, so the sandbox can still route by it.
		if v, ok := pr.at(m, tc, "eventRuleFilterPattern"); ok {
			if s, isStr := v.(string); isStr {
				eb.FilterPattern = s
			} else if v != nil {
				b, err := json.Marshal(v)
				if err != nil {
					return t, fmt.Errorf("triggerConfig.eventRuleFilterPattern: %w", err)
				}
				eb.FilterPattern = string(b)
			}
		}
		t.EventBridge = eb
	}
	return t, pr.err
}

// triggerDefinitions maps a triggerType to the schema definition of its config.
var triggerDefinitions = map[string]string{
	"eventbridge": "IEventBridge",
	"timer":       "ITimerTriggerConfig",
	"http":        "IHttpTriggerConfig",
	"oss":         "IOssTriggerConfig",
	"log":         "ILogTriggerConfig",
	"mns_topic":   "IMnsTriggerConfig",
	"cdn_events":  "ICdnTriggerConfig",
}

// FC3Schema is the JSON Schema of the fc3 component's props, a copy kept in this
// repository (fc3/README.md says where it comes from; fc3/LICENSE is its licence).
//
//go:embed fc3/props.schema.json
var FC3Schema []byte

// ValidateProps validates one resource's props against the fc3 props JSON Schema
// (draft-07, as shipped with the fc3 component). The error lists each failing
// location, e.g. "at '/runtime': value must be one of …".
//
// The schema's triggerConfig is an anyOf that includes an unconstrained object
// (IOtsConfig), so on its own it accepts any trigger config; each trigger's config is
// therefore also validated against the definition for its triggerType (eventbridge:
// IEventBridge, timer: ITimerTriggerConfig, …) when the schema has it.
func ValidateProps(schemaJSON []byte, props map[string]any) error {
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(schemaJSON))
	if err != nil {
		return fmt.Errorf("fc3 schema is not JSON: %w", err)
	}
	const url = "file:///fc3-props.schema.json"
	c := jsonschema.NewCompiler()
	if err := c.AddResource(url, doc); err != nil {
		return fmt.Errorf("fc3 schema: %w", err)
	}
	sch, err := c.Compile(url)
	if err != nil {
		return fmt.Errorf("fc3 schema does not compile: %w", err)
	}
	if err := sch.Validate(any(props)); err != nil {
		return fmt.Errorf("props do not match the fc3 schema: %w", err)
	}
	defs, _ := doc.(map[string]any)["definitions"].(map[string]any)
	triggers, _ := props["triggers"].([]any)
	for i, t := range triggers {
		tm, _ := t.(map[string]any)
		typ, _ := tm["triggerType"].(string)
		def := triggerDefinitions[typ]
		if _, ok := defs[def]; !ok {
			continue
		}
		sub, err := c.Compile(url + "#/definitions/" + def)
		if err != nil {
			return fmt.Errorf("fc3 schema: %s does not compile: %w", def, err)
		}
		if err := sub.Validate(tm["triggerConfig"]); err != nil {
			return fmt.Errorf("props do not match the fc3 schema: triggers[%d] (%s): triggerConfig does not match %s: %w", i, typ, def, err)
		}
	}
	return nil
}
