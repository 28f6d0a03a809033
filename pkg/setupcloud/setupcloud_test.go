package setupcloud_test

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"imageshare/pkg/cloud"
	"imageshare/pkg/cloudsim"
	"imageshare/pkg/cloudsim/emu"
	"imageshare/pkg/cloudsim/eventbridge"
	"imageshare/pkg/cloudsim/mns"
	"imageshare/pkg/cloudsim/ram"
	"imageshare/pkg/cloudsim/sts"
	"imageshare/pkg/setup"
	"imageshare/pkg/setupcloud"
)

// The emulated services behind setup and doctor, driven through the SDK as the product
// drives them: each call signed, answered on the wire, its documented errors included.

const (
	acct   = "1000000000000001"
	region = "cn-hangzhou"
)

type world struct {
	cloud *cloudsim.Cloud
	store *emu.RAMStore
	eb    *eventbridge.EventBridge
	keys  *emu.Keyring
	eps   map[string]string
}

func newWorld(t *testing.T) *world {
	t.Helper()
	w := &world{store: ram.NewStore(), keys: emu.NewKeyring()}
	mq := mns.New(mns.Config{Keys: w.keys, RAM: w.store})
	w.eb = eventbridge.New(w.store)
	w.cloud = cloudsim.New(cloudsim.Config{Keys: w.keys, RAM: w.store,
		Services: []emu.Service{ram.NewService(w.store), sts.New(), w.eb, mq.Management()}})
	w.cloud.AddAccount(acct, "china")
	eps, stop, err := w.cloud.Serve()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop)
	w.eps = eps
	t.Cleanup(func() {
		if u := w.cloud.Unlisted(); len(u) > 0 {
			t.Errorf("answers the catalogue does not list: %q", u)
		}
	})
	return w
}

func (w *world) client(t *testing.T, cred emu.Credential) *setupcloud.Client {
	t.Helper()
	c, err := setupcloud.New(setupcloud.Config{Region: region, Endpoints: w.eps,
		Credentials: cloud.Credentials{AccessKeyID: cred.AccessKeyID, AccessKeySecret: cred.AccessKeySecret, SecurityToken: cred.SecurityToken}})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func code(t *testing.T, err error, want string) {
	t.Helper()
	if got := cloud.Code(err); got != want {
		t.Fatalf("answer %v, want %s", err, want)
	}
}

func TestCallerIdentity(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	if err := w.store.CreateUser(acct, "deployer"); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		cred     emu.Credential
		typ, arn string
	}{
		{w.keys.AccessKey(acct), "Account", "acs:ram::" + acct + ":root"},
		{w.keys.UserAccessKey(acct, "deployer"), "RAMUser", "acs:ram::" + acct + ":user/deployer"},
		{w.keys.AssumeRole(acct, "ops", "s1", 3600e9), "AssumedRoleUser", "acs:ram::" + acct + ":assumed-role/ops/s1"},
	} {
		got, err := w.client(t, c.cred).CallerIdentity(ctx)
		if err != nil || got.AccountID != acct || got.IdentityType != c.typ || got.Arn != c.arn {
			t.Errorf("%s: %+v, %v", c.typ, got, err)
		}
	}
}

func TestQueuesAndTopics(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	c := w.client(t, w.keys.AccessKey(acct))
	_, err := c.GetQueue(ctx, "jobs")
	code(t, err, "QueueNotExist")
	if !setup.NotFound(err) {
		t.Fatal("QueueNotExist is not-found")
	}
	want := setup.QueueAttrs{VisibilityTimeout: 300, MessageRetentionPeriod: 604800, MaximumMessageSize: 65536}
	if err := c.CreateQueue(ctx, setup.Queue{Name: "jobs", Attrs: want, Tags: map[string]string{"managed-by": "imageshare-setup"}}); err != nil {
		t.Fatal(err)
	}
	q, err := c.GetQueue(ctx, "jobs")
	if err != nil || q.Attrs != want || q.Tags["managed-by"] != "imageshare-setup" {
		t.Fatalf("queue = %+v, %v", q, err)
	}
	// The same queue again is a success; other attributes are QueueAlreadyExist.
	if err := c.CreateQueue(ctx, setup.Queue{Name: "jobs", Attrs: want}); err != nil {
		t.Fatal(err)
	}
	code(t, c.CreateQueue(ctx, setup.Queue{Name: "jobs", Attrs: setup.QueueAttrs{VisibilityTimeout: 30, MessageRetentionPeriod: 604800, MaximumMessageSize: 65536}}), "QueueAlreadyExist")
	// Ranges (CreateQueue's reference): VisibilityTimeout 1 to 43200.
	code(t, c.SetQueueAttributes(ctx, "jobs", setup.QueueAttrs{VisibilityTimeout: 50000, MessageRetentionPeriod: 604800, MaximumMessageSize: 65536}), "InvalidArgument")
	code(t, c.CreateQueue(ctx, setup.Queue{Name: "9-starts-with-a-digit", Attrs: want}), "InvalidQueueName")
	if err := c.SetQueueAttributes(ctx, "jobs", setup.QueueAttrs{VisibilityTimeout: 60, MessageRetentionPeriod: 86400, MaximumMessageSize: 1024}); err != nil {
		t.Fatal(err)
	}
	if q, _ := c.GetQueue(ctx, "jobs"); q.Attrs.VisibilityTimeout != 60 || q.Attrs.MaximumMessageSize != 1024 {
		t.Fatalf("after SetQueueAttributes: %+v", q)
	}
	_, err = c.GetTopic(ctx, "notices")
	code(t, err, "TopicNotExist")
	if err := c.CreateTopic(ctx, setup.Topic{Name: "notices", MaxMessageSize: 65536, Tags: map[string]string{"managed-by": "imageshare-setup"}}); err != nil {
		t.Fatal(err)
	}
	if err := c.SetTopicAttributes(ctx, "notices", 2048); err != nil {
		t.Fatal(err)
	}
	if tp, err := c.GetTopic(ctx, "notices"); err != nil || tp.MaxMessageSize != 2048 || tp.Tags["managed-by"] != "imageshare-setup" {
		t.Fatalf("topic = %+v, %v", tp, err)
	}
}

func TestRolesAndPolicies(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	c := w.client(t, w.keys.AccessKey(acct))
	code(t, c.CreateRole(ctx, "fc", `{"Version":"1","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole"}]}`, ""), "MalformedPolicyDocument")
	code(t, c.CreateRole(ctx, "bad/name", setup.TrustPolicy, ""), "InvalidParameter.RoleName.InvalidChars")
	if err := c.CreateRole(ctx, "fc", setup.TrustPolicy, "mine"); err != nil {
		t.Fatal(err)
	}
	code(t, c.CreateRole(ctx, "fc", setup.TrustPolicy, ""), "EntityAlreadyExists.Role")
	r, err := c.GetRole(ctx, "fc")
	if err != nil || r.Trust != setup.TrustPolicy || r.Description != "mine" || r.Arn != "acs:ram::"+acct+":role/fc" {
		t.Fatalf("role = %+v, %v", r, err)
	}
	_, err = c.GetRole(ctx, "nope")
	code(t, err, "EntityNotExist.Role")

	doc := func(action string) string {
		return `{"Version":"1","Statement":[{"Effect":"Allow","Action":"` + action + `","Resource":"*"}]}`
	}
	code(t, c.CreatePolicy(ctx, "p", `{"Version":"1","Statement":[{"Effect":"Allow","NotAction":"x:y","Resource":"*"}]}`, ""), "MalformedPolicyDocument")
	if err := c.CreatePolicy(ctx, "p", doc("ecs:DescribeImages"), "d"); err != nil {
		t.Fatal(err)
	}
	for i := 2; i <= 5; i++ {
		if err := c.CreatePolicyVersion(ctx, "p", doc(fmt.Sprintf("ecs:Action%d", i))); err != nil {
			t.Fatal(err)
		}
	}
	// RAM keeps five versions.
	code(t, c.CreatePolicyVersion(ctx, "p", doc("ecs:Action6")), "LimitExceeded.Policy.Version")
	vs, err := c.ListPolicyVersions(ctx, "p")
	if err != nil || len(vs) != 5 || !vs[4].IsDefault || vs[4].ID != "v5" {
		t.Fatalf("versions = %+v, %v", vs, err)
	}
	code(t, c.DeletePolicyVersion(ctx, "p", "v5"), "DeleteConflict.PolicyVersion.Default")
	if err := c.DeletePolicyVersion(ctx, "p", "v1"); err != nil {
		t.Fatal(err)
	}
	if err := c.CreatePolicyVersion(ctx, "p", doc("ecs:Action6")); err != nil {
		t.Fatal(err)
	}
	p, err := c.GetPolicy(ctx, setup.Custom("p"))
	if err != nil || p.DefaultVersion != "v6" || p.Document != doc("ecs:Action6") || p.Description != "d" {
		t.Fatalf("policy = %+v, %v", p, err)
	}
	if err := c.AttachPolicyToRole(ctx, "fc", setup.Custom("p")); err != nil {
		t.Fatal(err)
	}
	code(t, c.AttachPolicyToRole(ctx, "fc", setup.Custom("p")), "EntityAlreadyExists.Role.Policy")
	code(t, c.AttachPolicyToRole(ctx, "fc", setup.Custom("none")), "EntityNotExist.Policy")
	refs, err := c.ListPoliciesForRole(ctx, "fc")
	if err != nil || !slices.Equal(refs, []setup.PolicyRef{setup.Custom("p")}) {
		t.Fatalf("attached = %v, %v", refs, err)
	}
	// What is attached through the API governs the role's calls at once.
	role := w.keys.AssumeRole(acct, "fc", "s", 3600e9)
	if _, err := w.client(t, role).GetRole(ctx, "fc"); cloud.Code(err) != "NoPermission" {
		t.Fatalf("the role holds only ecs:Action6: %v", err)
	}
	if err := c.UpdateRoleTrust(ctx, "fc", `{"Version":"1","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Principal":{"RAM":["acs:ram::`+acct+`:root"]}}]}`); err != nil {
		t.Fatal(err)
	}
	if r, _ := c.GetRole(ctx, "fc"); r.Trust == setup.TrustPolicy {
		t.Fatal("UpdateRole did not change the trust policy")
	}
}

func TestRulesAndTargets(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	c := w.client(t, w.keys.AccessKey(acct))
	pattern := `{"source":["acs.ecs"]}`
	target := setup.Target{ID: "t", Type: "acs.fc.function", Endpoint: "acs:fc:" + region + ":" + acct + ":functions/f", RetryStrategy: "BACKOFF_RETRY",
		ErrorsTolerance: "ALL", DeadLetterArn: "acs:mns:" + region + ":" + acct + ":/queues/dl",
		Params: []setup.TargetParam{{Key: "functionName", Form: "CONSTANT", Value: "f"}, {Key: "Body", Form: "ORIGINAL"}}}
	if err := c.CreateRule(ctx, "default", setup.Rule{Name: "r1", Pattern: pattern, Enabled: true, Targets: []setup.Target{target}}); err != nil {
		t.Fatal(err)
	}
	code(t, c.CreateRule(ctx, "default", setup.Rule{Name: "r1", Pattern: pattern, Enabled: true}), "EventRuleAlreadyExist")
	code(t, c.CreateRule(ctx, "custom", setup.Rule{Name: "r2", Pattern: pattern}), "EventBusNotExist")
	code(t, c.CreateRule(ctx, "default", setup.Rule{Name: "bad name", Pattern: pattern}), "EventRuleNameInvalid")
	code(t, c.EnableRule(ctx, "default", "none"), "EventRuleNotExisted")
	code(t, c.PutTargets(ctx, "default", "r1", []setup.Target{{ID: "x", Type: "acs.nothing", Endpoint: "e"}}), "EventTargetMissingAttribute")
	// ListRules shows a target's Id, Type and Endpoint; GetRule all of it.
	rules, err := c.ListRules(ctx, "default")
	if err != nil || len(rules) != 1 || !rules[0].Enabled || len(rules[0].Targets) != 1 {
		t.Fatalf("rules = %+v, %v", rules, err)
	}
	if lt := rules[0].Targets[0]; lt.ID != "t" || lt.Endpoint != target.Endpoint || lt.Params != nil || lt.DeadLetterArn != "" || lt.RetryStrategy != "" {
		t.Fatalf("ListRules' target = %+v", lt)
	}
	full, err := c.GetRule(ctx, "default", "r1")
	if err != nil || len(full.Targets) != 1 || !full.Targets[0].Same(target) || full.Pattern != pattern {
		t.Fatalf("GetRule = %+v, %v", full, err)
	}
	_, err = c.GetRule(ctx, "default", "none")
	code(t, err, "EventRuleNotExisted")
	if err := c.UpdateRule(ctx, "default", setup.Rule{Name: "r1", Pattern: `{"source":["acs.resourcemanager"]}`}); err != nil {
		t.Fatal(err)
	}
	if err := c.PutTargets(ctx, "default", "r1", []setup.Target{{ID: "u", Type: "acs.mns.queue", Endpoint: "acs:mns:" + region + ":" + acct + ":queues/q"}}); err != nil {
		t.Fatal(err)
	}
	code(t, c.DeleteTargets(ctx, "default", "r1", []string{"nope"}), "EventTargetNotExist")
	if err := c.DeleteTargets(ctx, "default", "r1", []string{"t"}); err != nil {
		t.Fatal(err)
	}
	rules, _ = c.ListRules(ctx, "default")
	if len(rules) != 1 || rules[0].Enabled || rules[0].Pattern != `{"source":["acs.resourcemanager"]}` || len(rules[0].Targets) != 1 || rules[0].Targets[0].ID != "u" {
		t.Fatalf("after the update: %+v", rules)
	}
	if err := c.EnableRule(ctx, "default", "r1"); err != nil {
		t.Fatal(err)
	}
	// The default bus holds ten rules for Alibaba Cloud service events.
	for i := 2; i <= 10; i++ {
		if err := c.CreateRule(ctx, "default", setup.Rule{Name: fmt.Sprintf("r%d", i), Pattern: pattern, Enabled: true}); err != nil {
			t.Fatal(err)
		}
	}
	code(t, c.CreateRule(ctx, "default", setup.Rule{Name: "r11", Pattern: pattern}), "EventRuleCountExceedLimit")
	if err := c.CreateRule(ctx, "default", setup.Rule{Name: "custom-events", Pattern: `{"source":["my.app"]}`}); err != nil {
		t.Fatalf("a rule for custom events: %v", err)
	}
	// ListRules reads every page (ten a page by default on the emulated service; the
	// client asks for a hundred).
	if rules, err := c.ListRules(ctx, "default"); err != nil || len(rules) != 11 {
		t.Fatalf("%d rules, %v", len(rules), err)
	}
	if err := c.DeleteRule(ctx, "default", "r1"); err != nil {
		t.Fatal(err)
	}
	code(t, c.DeleteRule(ctx, "default", "r1"), "EventRuleNotExisted")

	// The service-linked role is made in RAM, once.
	for range 2 {
		if err := c.CreateServiceLinkedRole(ctx, setup.SendToFCRole); err != nil {
			t.Fatal(err)
		}
	}
	if r, err := c.GetRole(ctx, setup.SendToFCRole); err != nil || r.Name != setup.SendToFCRole {
		t.Fatalf("the service-linked role: %+v, %v", r, err)
	}
	code(t, c.CreateServiceLinkedRole(ctx, "AliyunServiceRoleForNothing"), "InvalidParameter")
}

// RAM evaluates the deployer: a RAM user without the permission is denied with the
// product's own code, which setup turns into a line naming the action and resource.
func TestDenialsAreRecognised(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	if err := w.store.CreateUser(acct, "u"); err != nil {
		t.Fatal(err)
	}
	c := w.client(t, w.keys.UserAccessKey(acct, "u"))
	for _, err := range []error{
		c.CreateQueue(ctx, setup.Queue{Name: "q", Attrs: setup.QueueAttrs{VisibilityTimeout: 30, MessageRetentionPeriod: 60, MaximumMessageSize: 1024}}),
		c.CreateRole(ctx, "fc", setup.TrustPolicy, ""),
		c.CreateRule(ctx, "default", setup.Rule{Name: "r", Pattern: `{}`}),
	} {
		if !setup.Denied(err) {
			t.Errorf("not a denial: %v", err)
		}
	}
	// GetCallerIdentity needs no permission.
	if _, err := c.CallerIdentity(ctx); err != nil {
		t.Fatal(err)
	}
}
