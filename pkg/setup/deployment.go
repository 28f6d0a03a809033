// Package setup makes and checks what a deployment needs beyond `s deploy`: the MNS
// job and dead-letter queues and the notification topic, the functions' RAM role with
// its trust policy and the policy `imageshare policy` prints, the EventBridge rules of
// the triggers Serverless Devs cannot create, and EventBridge's service-linked role for
// Function Compute (`imageshare setup`); and it checks a deployment end to end
// (`imageshare doctor`).
//
// It reads the deployment from s.yaml as Serverless Devs does, plans the changes
// against what the cloud holds, and applies them through Cloud (one method per API
// call; the SDK-backed implementation is package setupcloud). It changes only what it
// made, which it marks: queues and topics with the tag managed-by=imageshare-setup,
// the role and the policy with ManagedMark in their descriptions, rules with the name
// prefix RulePrefix.
package setup

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"

	"imageshare/pkg/rampolicy"
	"imageshare/pkg/settings"
	"imageshare/pkg/syaml"
)

// What marks the resources setup made.
const (
	// ManagedMark is in the description of the role and the policy setup made.
	ManagedMark = "managed by imageshare setup"
	// TagKey=TagValue is the tag of the queues and the topic setup made.
	TagKey   = "managed-by"
	TagValue = "imageshare-setup"
	// RulePrefix starts the name of every EventBridge rule setup made; Function
	// Compute names a trigger's rule {FunctionName}-{TriggerName}, which never starts so
	// for imageshare's functions (imageshare-…).
	RulePrefix = "imageshare-setup-"
	// Bus is the event bus of the Alibaba Cloud service events.
	Bus = "default"
	// TargetID is the Id of the target setup puts on its rules.
	TargetID = "imageshare-function"
)

// FCPrincipal is the service principal that Function Compute assumes a function's role
// as: AliyunFCFullAccess lets a user pass a role only to acs:Service fc.aliyuncs.com
// (https://www.alibabacloud.com/help/en/ram/developer-reference/aliyunfcfullaccess), and
// "Grant Function Compute permissions to access other Alibaba Cloud services"
// (https://www.alibabacloud.com/help/en/functioncompute/fc-3-0/grant-function-compute-permissions-to-access-other-alibaba-cloud-services)
// has the role trust Function Compute. Not verified against an FC 3.0 function on a
// real account: doctor says how to check it there.
const FCPrincipal = "fc.aliyuncs.com"

// TrustPolicy is the functions' role's trust policy: Function Compute may assume it.
var TrustPolicy = `{"Version":"1","Statement":[{"Action":"sts:AssumeRole","Effect":"Allow","Principal":{"Service":["` + FCPrincipal + `"]}}]}`

// SendToFCRole is the service-linked role EventBridge delivers events to Function
// Compute with, created with EventBridge's CreateServiceLinkedRoleForProduct
// (https://www.alibabacloud.com/help/en/eventbridge/developer-reference/api-eventbridge-2020-04-01-createservicelinkedroleforproduct,
// ProductName AliyunServiceRoleForEventBridgeSendToFC: "Delivers events to Function
// Compute (FC)").
const SendToFCRole = "AliyunServiceRoleForEventBridgeSendToFC"

// Queue attributes setup gives the queues (MNS CreateQueue,
// https://www.alibabacloud.com/help/en/mns/developer-reference/api-mns-open-2022-01-19-createqueue).
const (
	// MaxRetention is MNS's longest retention, 7 days: a job may be delayed up to the
	// longest MNS delay (7 days, SETTLE_DELAY's ceiling) and must still be there when
	// it becomes visible; a dead letter stays long enough to be looked at after a
	// weekend.
	MaxRetention = 604800
	// MaxMessageSize is MNS's largest message, 64 KiB: jobs are batched up to it and a
	// dead letter carries a whole job in EventBridge's envelope.
	MaxMessageSize = 65536
)

// QueueAttrs are the attributes of a queue setup makes or checks.
type QueueAttrs struct {
	VisibilityTimeout, MessageRetentionPeriod, MaximumMessageSize, DelaySeconds int
}

// QueueSpec is a queue the deployment needs.
type QueueSpec struct {
	Name    string
	Purpose string // "jobs" or "dead letters"
	Attrs   QueueAttrs
	// Why says where VisibilityTimeout comes from, for the reports.
	Why string
}

// RuleSpec is an EventBridge trigger of s.yaml on the default bus (an Alibaba Cloud
// service event source): Serverless Devs may not create its rule, so setup does.
type RuleSpec struct {
	Function, Trigger string // FunctionName, TriggerName
	Pattern           string // eventRuleFilterPattern, JSON
	Qualifier         string // the function's version or alias (LATEST)
	Async             bool   // asyncInvocationType
	RetryStrategy     string // runOptions.retryStrategy.PushRetryStrategy
	DeadLetterArn     string // runOptions.deadLetterQueue.Arn
}

// Name is the name of the rule setup makes for the trigger.
func (r RuleSpec) Name() string { return RulePrefix + r.Function + "-" + r.Trigger }

// FCName is the name Function Compute gives the trigger's rule when `s deploy` makes it.
func (r RuleSpec) FCName() string { return r.Function + "-" + r.Trigger }

// Deployment is what one deployment needs beyond `s deploy`, read from s.yaml.
type Deployment struct {
	Account, Region string
	Settings        settings.Settings
	Role            string // the functions' RAM role (FUNCTION_ROLE)
	PolicyName      string // the custom policy setup attaches to the role
	Policy          rampolicy.Document
	Queues          []QueueSpec
	Topic           string // NOTIFY_TOPIC ("": none)
	Rules           []RuleSpec
	// Covered are the triggers setup makes rules for, and Left the others with why
	// (for the report: "which triggers it covers and why").
	Covered, Left []string
}

var roleARNRE = regexp.MustCompile(`^acs:ram::([0-9]+|` + rampolicy.AccountPlaceholder + `):role/([A-Za-z0-9.-]{1,64})$`)

// Load reads the deployment from s.yaml as `s deploy` would for the account and
// region: ${env(…)} through lookup (the deployer's environment), the account as
// vars.accountId, and the region as vars.region when region is not "" (else s.yaml's,
// from IMAGESHARE_REGION or its default).
func Load(data []byte, lookup func(string) (string, bool), account, region string) (Deployment, error) {
	if v, ok := lookup("IMAGESHARE_ACCOUNT_ID"); ok && v != "" && v != account {
		return Deployment{}, fmt.Errorf("IMAGESHARE_ACCOUNT_ID is %s, but the credentials are of account %s: deploy with the credentials of the account the functions run in", v, account)
	}
	vars := map[string]string{"accountId": account}
	if region != "" {
		vars["region"] = region
	}
	p, err := syaml.LoadWith(data, syaml.Options{Vars: vars, Env: syaml.HostEnv(lookup)})
	if err != nil {
		return Deployment{}, fmt.Errorf("s.yaml: %w", err)
	}
	fns, err := p.Functions()
	if err != nil {
		return Deployment{}, fmt.Errorf("s.yaml: %w", err)
	}
	if len(fns) == 0 {
		return Deployment{}, fmt.Errorf("s.yaml: no fc3 function")
	}
	d := Deployment{Account: account, Region: fns[0].Region}
	// Every function shares the settings (s.yaml's &settings anchor).
	if d.Settings, err = settings.Load(func(k string) string { return fns[0].Env[k] }); err != nil {
		return Deployment{}, fmt.Errorf("s.yaml, the functions' environment: %w", err)
	}
	consumers := map[string][]int{} // queue → timeouts of the functions it triggers
	var dlqs []string
	for _, f := range fns {
		if f.Region != d.Region {
			return Deployment{}, fmt.Errorf("s.yaml: function %s is in region %s, %s in %s: one deployment is one region", f.Name, f.Region, fns[0].Name, d.Region)
		}
		m := roleARNRE.FindStringSubmatch(f.Role)
		if m == nil {
			return Deployment{}, fmt.Errorf("s.yaml: function %s: role %q is not acs:ram::<account>:role/<name>", f.Name, f.Role)
		}
		if m[1] != account {
			return Deployment{}, fmt.Errorf("s.yaml: function %s: role %s is in account %s, not %s", f.Name, f.Role, m[1], account)
		}
		if d.Role == "" {
			d.Role = m[2]
		} else if d.Role != m[2] {
			return Deployment{}, fmt.Errorf("s.yaml: functions run as roles %s and %s: setup makes one role", d.Role, m[2])
		}
		for _, t := range f.Triggers {
			name := f.Name + "/" + t.Name
			eb := t.EventBridge
			switch {
			case t.Timer != nil:
				d.Left = append(d.Left, name+": a timer, which `s deploy` creates")
				continue
			case eb == nil:
				d.Left = append(d.Left, name+": a "+t.Type+" trigger, which `s deploy` creates")
				continue
			}
			if eb.DeadLetterArn != "" {
				q := queueOfArn(eb.DeadLetterArn)
				if q == "" {
					return Deployment{}, fmt.Errorf("s.yaml: trigger %s: dead-letter queue %q is not an MNS queue ARN", name, eb.DeadLetterArn)
				}
				if !slices.Contains(dlqs, q) {
					dlqs = append(dlqs, q)
				}
			}
			switch eb.SourceType {
			case "MNS":
				consumers[eb.MNSQueue] = append(consumers[eb.MNSQueue], f.Timeout)
				d.Left = append(d.Left, name+": an MNS queue source, which `s deploy` creates (setup makes the queue "+eb.MNSQueue+")")
			case "Default":
				if !eb.Enable {
					d.Left = append(d.Left, name+": disabled in s.yaml")
					continue
				}
				async := "Sync"
				if eb.Async {
					async = "Async"
				}
				rs := RuleSpec{Function: f.Name, Trigger: t.Name, Pattern: eb.FilterPattern, Qualifier: t.Qualifier, Async: eb.Async,
					RetryStrategy: eb.Retry.Strategy, DeadLetterArn: eb.DeadLetterArn}
				if rs.Qualifier == "" {
					rs.Qualifier = "LATEST"
				}
				if _, err := canonical(rs.Pattern); err != nil {
					return Deployment{}, fmt.Errorf("s.yaml: trigger %s: eventRuleFilterPattern: %w", name, err)
				}
				d.Rules = append(d.Rules, rs)
				d.Covered = append(d.Covered, name+": Alibaba Cloud service events on the default bus, which Serverless Devs cannot create ("+async+" invocation)")
			default:
				d.Left = append(d.Left, name+": event source "+eb.SourceType+", which `s deploy` creates")
			}
		}
	}
	if d.Settings.FunctionRole != d.Role {
		return Deployment{}, fmt.Errorf("s.yaml: the functions run as role %s but their setting FUNCTION_ROLE is %s (their own events would not be recognised)", d.Role, d.Settings.FunctionRole)
	}
	d.PolicyName = d.Role
	if d.Policy, err = rampolicy.Build(rampolicy.ForSettings(account, d.Region, d.Settings)); err != nil {
		return Deployment{}, fmt.Errorf("the functions' policy: %w", err)
	}
	// Every queue a trigger reads, its dead-letter queues and JOB_QUEUE; each is read
	// by functions as long-running as reconcile (the longest): a message must stay
	// invisible while a delivery of it may still be running.
	longest := 0
	for _, f := range fns {
		longest = max(longest, f.Timeout)
	}
	add := func(name, purpose string) {
		if name == "" || slices.ContainsFunc(d.Queues, func(q QueueSpec) bool { return q.Name == name }) {
			return
		}
		vt := longest
		for _, t := range consumers[name] {
			vt = max(vt, t)
		}
		d.Queues = append(d.Queues, QueueSpec{Name: name, Purpose: purpose,
			Attrs: QueueAttrs{VisibilityTimeout: vt, MessageRetentionPeriod: MaxRetention, MaximumMessageSize: MaxMessageSize},
			Why:   fmt.Sprintf("the longest function timeout in s.yaml, %ds", vt)})
	}
	add(d.Settings.JobQueue, "jobs")
	for _, q := range slices.Sorted(maps.Keys(consumers)) {
		if q == d.Settings.JobQueue {
			continue
		}
		if slices.Contains(dlqs, q) {
			continue
		}
		add(q, "jobs")
	}
	for _, q := range dlqs {
		add(q, "dead letters")
	}
	d.Topic = d.Settings.NotifyTopic
	return d, nil
}

// queueOfArn reads acs:mns:<region>:<account>:/queues/<name>.
func queueOfArn(arn string) string {
	if i := strings.LastIndex(arn, ":/queues/"); i >= 0 {
		return arn[i+len(":/queues/"):]
	}
	return ""
}

// Target is the target setup puts on the rule of r: the function, invoked with the
// whole event, as the trigger of s.yaml says.
//
// The target type and its parameters are EventBridge's Function Compute target
// ("Event target parameters", https://www.alibabacloud.com/help/en/eventbridge/user-guide/event-target-parameters:
// Type acs.fc.function; ParamList functionName, Qualifier, InvocationType, Body with
// form ORIGINAL for the whole event). That page's examples name a Function Compute 2.0
// service (serviceName, endpoint …:services/<service>.<qualifier>/functions/<name>);
// Function Compute 3.0 has no services, so the endpoint is the 3.0 function's ARN
// acs:fc:<region>:<account>:functions/<name> (the ARN form of FC 3.0's API,
// https://www.alibabacloud.com/help/en/functioncompute/fc-3-0/developer-reference/api-fc-2023-03-30-struct-destination)
// and no serviceName is given. Not verified on a real account: doctor compares it with
// the rule `s deploy` made for the same trigger when there is one.
func (d Deployment) Target(r RuleSpec) Target {
	inv := "Sync"
	if r.Async {
		inv = "Async"
	}
	strategy := r.RetryStrategy
	if strategy == "" {
		strategy = "BACKOFF_RETRY"
	}
	return Target{ID: TargetID, Type: "acs.fc.function",
		Endpoint:      "acs:fc:" + d.Region + ":" + d.Account + ":functions/" + r.Function,
		RetryStrategy: strategy, ErrorsTolerance: "ALL", DeadLetterArn: r.DeadLetterArn,
		Params: []TargetParam{
			{Key: "functionName", Form: "CONSTANT", Value: r.Function},
			{Key: "Qualifier", Form: "CONSTANT", Value: r.Qualifier},
			{Key: "InvocationType", Form: "CONSTANT", Value: inv},
			{Key: "Body", Form: "ORIGINAL"},
		}}
}

// QueueARN is a queue's ARN as RAM checks it.
func (d Deployment) QueueARN(name string) string {
	return "acs:mns:" + d.Region + ":" + d.Account + ":/queues/" + name
}

// TopicARN is a topic's ARN as RAM checks it.
func (d Deployment) TopicARN(name string) string {
	return "acs:mns:" + d.Region + ":" + d.Account + ":/topics/" + name
}

// RoleARN is a RAM role's ARN as RAM checks calls on it.
func (d Deployment) RoleARN(name string) string { return "acs:ram:*:" + d.Account + ":role/" + name }

// PolicyARN is a custom policy's ARN as RAM checks calls on it.
func (d Deployment) PolicyARN(name string) string {
	return "acs:ram:*:" + d.Account + ":policy/" + name
}

// RuleARN is a rule's ARN on the default bus as RAM checks calls on it.
func (d Deployment) RuleARN(name string) string {
	return "acs:eventbridge:" + d.Region + ":" + d.Account + ":eventbus/" + Bus + "/rule/" + name
}
