package setup_test

import (
	"strings"
	"testing"

	"imageshare"
	emuram "imageshare/pkg/cloudsim/ram"
	"imageshare/pkg/setup"
)

const acct = "1000000000000001"

func env(kv ...string) func(string) (string, bool) {
	m := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok && v != "" }
}

func TestLoadReadsTheDeploymentFromSYAML(t *testing.T) {
	d, err := setup.Load(imageshare.SYAML, env("IMAGESHARE_NOTIFY_TOPIC", "imageshare-notices"), acct, "cn-shanghai")
	if err != nil {
		t.Fatal(err)
	}
	if d.Region != "cn-shanghai" || d.Role != "imageshare-fc" || d.PolicyName != "imageshare-fc" || d.Topic != "imageshare-notices" {
		t.Fatalf("deployment = %+v", d)
	}
	if len(d.Queues) != 2 || d.Queues[0].Name != "imageshare-jobs" || d.Queues[1].Name != "imageshare-dead-letters" {
		t.Fatalf("queues = %+v", d.Queues)
	}
	for _, q := range d.Queues {
		// reconcile's timeout in s.yaml is 300 s: a job must stay invisible that long.
		if q.Attrs.VisibilityTimeout != 300 || q.Attrs.MessageRetentionPeriod != 604800 || q.Attrs.MaximumMessageSize != 65536 {
			t.Errorf("queue %s: %+v", q.Name, q.Attrs)
		}
	}
	if len(d.Rules) != 2 || d.Rules[0].Function != "imageshare-image-events" || d.Rules[1].Function != "imageshare-org-events" {
		t.Fatalf("rules = %+v", d.Rules)
	}
	r := d.Rules[0]
	if r.Name() != "imageshare-setup-imageshare-image-events-ecs-calls" || r.FCName() != "imageshare-image-events-ecs-calls" || r.Async ||
		r.DeadLetterArn != "acs:mns:cn-shanghai:"+acct+":/queues/imageshare-dead-letters" || !strings.Contains(r.Pattern, `"acs.ecs"`) {
		t.Fatalf("rule = %+v", r)
	}
	if len(d.Covered) != 2 || len(d.Left) != 4 { // the timers (sweep, org-events' poll) and the two queue sources
		t.Fatalf("covered %q, left %q", d.Covered, d.Left)
	}
	// The policy is imageshare policy's for this deployment: the topic's statement too.
	if !strings.Contains(string(d.Policy.JSON()), "acs:mns:cn-shanghai:"+acct+":/topics/imageshare-notices/messages") {
		t.Fatalf("policy:\n%s", d.Policy.JSON())
	}
}

func TestLoadRefuses(t *testing.T) {
	cases := []struct {
		name   string
		lookup func(string) (string, bool)
		want   string
	}{
		{"another account", env("IMAGESHARE_ACCOUNT_ID", "1000000000000009"), "IMAGESHARE_ACCOUNT_ID is 1000000000000009, but the credentials are of account " + acct},
		{"an invalid setting", env("IMAGESHARE_SETTLE_DELAY", "forever"), "SETTLE_DELAY"},
		{"a bad queue name", env("IMAGESHARE_JOB_QUEUE", "no_underscores"), "JOB_QUEUE"},
	}
	for _, c := range cases {
		if _, err := setup.Load(imageshare.SYAML, c.lookup, acct, ""); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want an error naming %q", c.name, err, c.want)
		}
	}
	other := strings.Replace(string(imageshare.SYAML), "FUNCTION_ROLE: ${vars.functionRole}", "FUNCTION_ROLE: someone-else", 1)
	if _, err := setup.Load([]byte(other), env(), acct, ""); err == nil || !strings.Contains(err.Error(), "FUNCTION_ROLE is someone-else") {
		t.Errorf("a FUNCTION_ROLE that is not the functions' role: %v", err)
	}
}

func TestSamePattern(t *testing.T) {
	a := `{"source":["acs.ecs"],"type":["ecs:ActionTrail:ApiCall","ecs:ActionTrail:ConsoleOperation"]}`
	b := `{ "type": ["ecs:ActionTrail:ConsoleOperation", "ecs:ActionTrail:ApiCall"], "source": ["acs.ecs"] }`
	c := `{"source":["acs.ecs"],"type":["ecs:ActionTrail:ApiCall"]}`
	if !setup.SamePattern(a, b) || setup.SamePattern(a, c) || setup.SamePattern(a, "not json") {
		t.Fatal("SamePattern compares JSON with lists as sets")
	}
}

func TestPolicyDiff(t *testing.T) {
	want := `{"Version":"1","Statement":[{"Sid":"A","Effect":"Allow","Action":["ecs:DescribeImages","mns:BatchSendMessage"],"Resource":["*"]}]}`
	same := `{"Version":"1","Statement":[{"Effect":"Allow","Action":"mns:batchsendmessage","Resource":"*"},{"Effect":"Allow","Action":"ecs:DescribeImages","Resource":["*"]}]}`
	if m, e, err := setup.PolicyDiff(want, same); err != nil || len(m)+len(e) != 0 {
		t.Fatalf("same statements, other layout: %q %q %v", m, e, err)
	}
	less := `{"Version":"1","Statement":[{"Effect":"Allow","Action":"ecs:DescribeImages","Resource":"*"},{"Effect":"Allow","Action":"ecs:DeleteImage","Resource":"*"}]}`
	m, e, err := setup.PolicyDiff(want, less)
	if err != nil || len(m) != 1 || m[0] != "Allow mns:batchsendmessage on *" || len(e) != 1 || e[0] != "Allow ecs:deleteimage on *" {
		t.Fatalf("missing %q, extra %q, %v", m, e, err)
	}
	cond := `{"Version":"1","Statement":[{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"Bool":{"acs:MFAPresent":"true"}}}]}`
	if _, _, err := setup.PolicyDiff(want, cond); err == nil || !strings.Contains(err.Error(), "Condition") {
		t.Fatalf("a condition: %v", err)
	}
}

func TestTargetInvokes(t *testing.T) {
	d, err := setup.Load(imageshare.SYAML, env(), acct, "")
	if err != nil {
		t.Fatal(err)
	}
	own := d.Target(d.Rules[0])
	if !own.Invokes("imageshare-image-events") || own.Invokes("imageshare-org-events") || own.Param("Body") != "" ||
		own.Endpoint != "acs:fc:cn-hangzhou:"+acct+":functions/imageshare-image-events" {
		t.Fatalf("target = %+v", own)
	}
	// The Function Compute 2.0 form of EventBridge's examples invokes the function too.
	fc2 := setup.Target{Type: "acs.fc.function", Endpoint: "acs:fc:cn-hangzhou:" + acct + ":services/svc.LATEST/functions/imageshare-image-events"}
	if !fc2.Invokes("imageshare-image-events") || fc2.Invokes("image-events") {
		t.Fatal("the 2.0 endpoint form")
	}
	fc3 := setup.Target{Type: "acs.fc.function", Endpoint: "acs:fc:cn-hangzhou:" + acct + ":functions/imageshare-image-events"}
	if !fc3.Invokes("imageshare-image-events") {
		t.Fatal("the 3.0 endpoint form without a functionName parameter")
	}
	if (setup.Target{Type: "acs.mns.queue", Endpoint: own.Endpoint}).Invokes("imageshare-image-events") {
		t.Fatal("another target type")
	}
}

// The deployer's policy is one the emulated RAM evaluates (no construct it refuses),
// and it grants EventBridge writes only on setup's own rules.
func TestDeployerPolicyShape(t *testing.T) {
	d, err := setup.Load(imageshare.SYAML, env(), acct, "")
	if err != nil {
		t.Fatal(err)
	}
	doc := setup.DeployerPolicy(d).JSON()
	p, err := emuram.Parse(doc)
	if err != nil {
		t.Fatalf("%v\n%s", err, doc)
	}
	named := []emuram.Named{{Name: "deployer", Policy: p}}
	rule := func(name string) []string {
		return []string{"acs:eventbridge:cn-hangzhou:" + acct + ":eventbus/default/rule/" + name}
	}
	if !emuram.Evaluate(named, "eventbridge:CreateRule", rule(d.Rules[0].Name()), false).Allowed {
		t.Error("setup's own rule is not writable")
	}
	if emuram.Evaluate(named, "eventbridge:DeleteRule", rule(d.Rules[0].FCName()), false).Allowed {
		t.Error("the deployer may delete the rule s deploy made")
	}
}
