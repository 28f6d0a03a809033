package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"

	"imageshare"
	"imageshare/pkg/cloudsim/emu"
	emueventbridge "imageshare/pkg/cloudsim/eventbridge"
	"imageshare/pkg/rampolicy"
	"imageshare/pkg/sandbox"
	"imageshare/pkg/scenario"
	"imageshare/pkg/setup"
)

// imageshare setup and doctor are tested as a deployer runs them: the CLI, with the
// real SDK clients, against a world served on loopback by the emulated cloud (RAM, STS,
// EventBridge and the MNS management API included), signatures checked and RAM
// evaluated for RAM users.

const (
	jobs        = "imageshare-jobs"
	deadLetters = "imageshare-dead-letters"
	role        = "imageshare-fc"
	imageRule   = "imageshare-setup-imageshare-image-events-ecs-calls"
	orgRule     = "imageshare-setup-imageshare-org-events-directory-calls"
)

type deployment struct {
	t    *testing.T
	w    *sandbox.World
	vars map[string]string // the deployer's environment (IMAGESHARE_*, endpoints)
	root emu.Identity
}

// newDeployment serves a world without the deployment's queues, role and rules (the
// emulator's --bare), and points the credentials at its owner's root account.
func newDeployment(t *testing.T, sharing bool) *deployment {
	t.Helper()
	sc, err := scenario.Parse("world.yaml", fmt.Appendf(nil, `region: cn-hangzhou
owner: "%s"
directory:
  id: %s
  root: %s
  sharing_enabled: %t
  folders: [{id: %s, name: prod, parent: %s}]
  accounts: [{id: "%s", folder: %s}]
images:
  - id: m-Base00000001
    tags: {"imageshare:folders": "%s"}
`, owner, dirID, rootID, sharing, prod, rootID, m2, prod, prod))
	if err != nil {
		t.Fatal(err)
	}
	w, err := sandbox.NewWorld(sc, sandbox.WorldOptions{SYAML: imageshare.SYAML, Bare: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.Close)
	// The deployer's shell, as docs/deploy.md has it: the account named.
	d := &deployment{t: t, w: w, vars: map[string]string{"IMAGESHARE_ACCOUNT_ID": owner}, root: w.OwnerKey().Identity}
	for svc, u := range w.Endpoints() {
		d.vars[endpointVar(svc)] = u
	}
	d.as(w.OwnerKey())
	return d
}

// as makes the commands run with cred.
func (d *deployment) as(cred emu.Credential) {
	for k, v := range map[string]string{
		"HOME": d.t.TempDir(), "ALIBABA_CLOUD_ACCESS_KEY_ID": cred.AccessKeyID, "ALIBABA_CLOUD_ACCESS_KEY_SECRET": cred.AccessKeySecret,
		"ALIBABA_CLOUD_SECURITY_TOKEN": cred.SecurityToken, "ALIBABA_CLOUD_PROFILE": "", "ALIBABA_CLOUD_ECS_METADATA": "",
		"ALIBABA_CLOUD_ROLE_ARN": "", "ALIBABA_CLOUD_OIDC_PROVIDER_ARN": "", "ALIBABA_CLOUD_OIDC_TOKEN_FILE": "", "ALIBABA_CLOUD_CREDENTIALS_FILE": "",
	} {
		d.t.Setenv(k, v)
	}
}

// run runs `imageshare setup|doctor ARGS` and returns the exit code and the output.
func (d *deployment) run(args ...string) (int, string, string) {
	d.t.Helper()
	var out, errb bytes.Buffer
	e := &env{stdin: strings.NewReader(""), stdout: &out, stderr: &errb, getenv: func(k string) string { return d.vars[k] },
		terminal: func() bool { return false }}
	code := setupCmd(args[0], args[1:], e)
	if u := d.w.Cloud().Unlisted(); len(u) > 0 {
		d.t.Fatalf("the emulated cloud gave answers its catalogue does not list: %q", u)
	}
	return code, out.String(), errb.String()
}

// must runs a command that must exit 0.
func (d *deployment) must(args ...string) string {
	d.t.Helper()
	code, out, errOut := d.run(args...)
	if code != 0 {
		d.t.Fatalf("imageshare %s: exit %d\n%s%s", strings.Join(args, " "), code, out, errOut)
	}
	return out
}

// changes returns the change lines of setup's output (the rest are # comments).
func changes(out string) []string {
	var lines []string
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		if l != "" && !strings.HasPrefix(l, "#") {
			lines = append(lines, l)
		}
	}
	return lines
}

// doctorLine returns doctor's line for the check named name.
func doctorLine(t *testing.T, out, status, name string) string {
	t.Helper()
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, fmt.Sprintf("%-4s %s: ", status, name)) {
			return l
		}
	}
	t.Fatalf("doctor has no %q line for %q:\n%s", status, name, out)
	return ""
}

// call makes a call as the owner's root account, as a person at the console would.
func (d *deployment) call(product, action string, params map[string]string) {
	d.t.Helper()
	params["RegionId"] = region
	if _, _, err := d.w.Cloud().Call(d.root, product, action, params); err != nil {
		d.t.Fatalf("%s %s: %v", product, action, err)
	}
}

func TestSetupFromNothingThenDoctor(t *testing.T) {
	d := newDeployment(t, true)
	// Before: doctor names every missing piece with its remedy.
	code, out, _ := d.run("doctor")
	if code != 1 {
		t.Fatalf("doctor before setup: exit %d\n%s", code, out)
	}
	for _, name := range []string{"queue " + jobs, "queue " + deadLetters, "role " + role,
		"trigger imageshare-image-events/ecs-calls", "trigger imageshare-org-events/directory-calls", "EventBridge's role " + setup.SendToFCRole} {
		if l := doctorLine(t, out, "FAIL", name); !strings.HasSuffix(l, "→ run imageshare setup") {
			t.Errorf("%s: %q", name, l)
		}
	}

	// The dry run lists the changes, one a line, and makes none.
	before := len(d.w.Cloud().Calls())
	out = d.must("setup", "--dry-run")
	want := []string{"create queue " + jobs, "create queue " + deadLetters, "create role " + role, "create policy " + role,
		"attach policy " + role + " to role " + role, "create EventBridge's service-linked role " + setup.SendToFCRole,
		"create rule " + imageRule, "create rule " + orgRule}
	got := changes(out)
	if len(got) != len(want) {
		t.Fatalf("dry run: %d changes, want %d:\n%s", len(got), len(want), out)
	}
	for i, w := range want {
		if !strings.HasPrefix(got[i], w) {
			t.Errorf("change %d: %q, want %q…", i+1, got[i], w)
		}
	}
	for _, c := range d.w.Cloud().Calls()[before:] {
		if c.Write {
			t.Fatalf("the dry run wrote: %s %s", c.Product, c.Action)
		}
	}
	if !strings.Contains(out, "# covers trigger imageshare-image-events/ecs-calls") || !strings.Contains(out, "# leaves trigger imageshare-sweep/every-30-minutes: a timer") {
		t.Errorf("the triggers covered and left are not said:\n%s", out)
	}

	out = d.must("setup")
	if !slices.Equal(changes(out), got) {
		t.Errorf("setup made other changes than the dry run said:\n%s", out)
	}
	// What it made, as the cloud holds it.
	if tags := d.w.MNS().QueueTags(owner, region, jobs); tags[setup.TagKey] != setup.TagValue {
		t.Errorf("queue tags = %v", tags)
	}
	if r := d.w.RAM().Role(owner, role); r == nil || !strings.Contains(r.TrustPolicy, `"fc.aliyuncs.com"`) || !strings.Contains(r.Description, setup.ManagedMark) {
		t.Errorf("role = %+v", r)
	}
	rules := d.w.EventBridge().Rules(owner, region, "default")
	if len(rules) != 2 || rules[0].Name != imageRule || rules[0].Targets[0].Type != "acs.fc.function" {
		t.Fatalf("rules = %+v", rules)
	}

	// A second run, and its dry run, on a complete deployment change nothing.
	before = len(d.w.Cloud().Calls())
	for _, args := range [][]string{{"setup", "--dry-run"}, {"setup"}} {
		if out := d.must(args...); !slices.Equal(changes(out), []string{"nothing to do"}) {
			t.Errorf("%v on a complete deployment:\n%s", args, out)
		}
	}
	for _, c := range d.w.Cloud().Calls()[before:] {
		if c.Write {
			t.Fatalf("a run with nothing to do wrote: %s %s", c.Product, c.Action)
		}
	}

	// Doctor before any change of the directory: ActionTrail answers, but lists no
	// directory write to show which region lists them (a warning, not a failure).
	out = d.must("doctor")
	if l := doctorLine(t, out, "warn", "organization poll (ActionTrail LookupEvents)"); !strings.Contains(l, "LookupEvents works in ap-southeast-1") {
		t.Errorf("doctor: %s", l)
	}
	// After one (a person moves a member), every check passes, one line each.
	d.call("resourcemanager", "MoveAccount", map[string]string{"AccountId": m2, "DestinationFolderId": rootID})
	out = d.must("doctor")
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		if strings.HasPrefix(l, "FAIL") || strings.HasPrefix(l, "warn") {
			t.Errorf("doctor: %s", l)
		}
	}
	if l := doctorLine(t, out, "ok", "organization poll (ActionTrail LookupEvents)"); !strings.HasSuffix(strings.TrimSpace(out), "checks pass") ||
		!strings.Contains(l, "LookupEvents in ap-southeast-1 (ORG_EVENTS_REGION) lists Resource Directory writes of the last 7 days") {
		t.Errorf("doctor:\n%s", out)
	}
	// With ORG_POLL=0 the functions may not look ActionTrail up: setup takes the
	// statement out of their policy (doctor fails until it did), and there is nothing
	// left to check.
	d.vars["IMAGESHARE_ORG_POLL"] = "0"
	code, out, _ = d.run("doctor")
	if l := doctorLine(t, out, "FAIL", "policy "+role); code != 1 || !strings.Contains(l, "removes Allow actiontrail:lookupevents on *") {
		t.Errorf("doctor with ORG_POLL=0 before setup: exit %d: %s", code, l)
	}
	if ch := changes(d.must("setup")); len(ch) != 1 || !strings.HasPrefix(ch[0], "add a version of policy "+role) {
		t.Errorf("setup with ORG_POLL=0: %q", ch)
	}
	if l := doctorLine(t, d.must("doctor"), "note", "organization poll (ActionTrail LookupEvents)"); !strings.Contains(l, "ORG_POLL=0") {
		t.Errorf("doctor with ORG_POLL=0: %s", l)
	}
}

// Each piece taken away is named by doctor with its remedy, and setup puts it back.
func TestDoctorNamesEachMissingPieceAndSetupRepairsIt(t *testing.T) {
	d := newDeployment(t, true)
	d.must("setup")
	policyWithout := func(sid string) string {
		doc, err := setup.Load(imageshare.SYAML, func(string) (string, bool) { return "", false }, owner, "")
		if err != nil {
			t.Fatal(err)
		}
		less, err := doc.Policy.Without(sid, "")
		if err != nil {
			t.Fatal(err)
		}
		return string(less.JSON())
	}
	cases := []struct {
		name   string
		remove func()
		check  string // doctor's failing check
		detail string // in its line
		change string // setup's change
	}{
		{"a queue", func() { d.w.MNS().DeleteQueue(owner, region, jobs) }, "queue " + jobs, "does not exist", "create queue " + jobs},
		{"a rule", func() { d.w.EventBridge().DeleteRule(owner, region, "default", imageRule) }, "trigger imageshare-image-events/ecs-calls",
			"no enabled rule on bus default delivers its events", "create rule " + imageRule},
		{"a disabled rule", func() {
			d.call("eventbridge", "DisableRule", map[string]string{"EventBusName": "default", "RuleName": orgRule})
		}, "trigger imageshare-org-events/directory-calls", "disabled", "enable rule " + orgRule},
		{"a statement of the policy", func() {
			if _, err := d.w.RAM().CreatePolicyVersion(owner, role, policyWithout("EnqueueJobs"), true); err != nil {
				t.Fatal(err)
			}
		}, "policy " + role, "adds Allow mns:batchsendmessage on acs:mns:*:" + owner + ":/queues/" + jobs + "/messages", "add a version of policy " + role},
		{"a queue's visibility timeout", func() {
			d.call("mns-open", "SetQueueAttributes", map[string]string{"QueueName": deadLetters, "VisibilityTimeout": "30"})
		}, "queue " + deadLetters, "needs VisibilityTimeout 30 → 300", "set attributes of queue " + deadLetters},
		{"the role's trust", func() {
			other := `{"Version":"1","Statement":[{"Action":"sts:AssumeRole","Effect":"Allow","Principal":{"RAM":["acs:ram::` + owner + `:root"]}}]}`
			if _, err := d.w.RAM().UpdateRole(owner, role, other, nil); err != nil {
				t.Fatal(err)
			}
		}, "role " + role + " trust policy", "does not let Function Compute (fc.aliyuncs.com) assume the role", "reset the trust policy of role " + role},
		{"EventBridge's role", func() {
			if err := d.w.RAM().DeleteRole(owner, setup.SendToFCRole); err != nil {
				t.Fatal(err)
			}
		}, "EventBridge's role " + setup.SendToFCRole, "does not exist", "create EventBridge's service-linked role"},
	}
	for _, c := range cases {
		c.remove()
		code, out, _ := d.run("doctor")
		if code != 1 {
			t.Fatalf("%s: doctor exit %d\n%s", c.name, code, out)
		}
		l := doctorLine(t, out, "FAIL", c.check)
		if !strings.Contains(l, c.detail) || !strings.Contains(l, "→ run imageshare setup") {
			t.Errorf("%s: doctor says %q, want %q and its remedy", c.name, l, c.detail)
		}
		out = d.must("setup")
		if ch := changes(out); len(ch) == 0 || !strings.HasPrefix(ch[0], c.change) {
			t.Errorf("%s: setup did %q, want %q", c.name, ch, c.change)
		}
		if code, out, _ := d.run("doctor"); code != 0 {
			t.Fatalf("%s: doctor after setup: exit %d\n%s", c.name, code, out)
		}
	}
	// The policy's versions: v1, the one without a statement, setup's repair.
	if p := d.w.RAM().Policy(emu.PolicyCustom, owner, role); p == nil || len(p.Versions) != 3 || p.Default != "v3" {
		t.Fatalf("policy = %+v", p)
	}
}

// Sharing with the directory disabled: doctor names it; setup, run by the management
// account, enables it.
func TestSetupEnablesSharingWithTheDirectory(t *testing.T) {
	d := newDeployment(t, false)
	code, out, _ := d.run("doctor")
	if l := doctorLine(t, out, "FAIL", "sharing with the resource directory"); code != 1 || !strings.Contains(l, "not enabled") || !strings.Contains(l, "→ run imageshare setup in the management account") {
		t.Fatalf("doctor: exit %d: %q", code, l)
	}
	out = d.must("setup")
	if ch := changes(out); len(ch) == 0 || !strings.HasPrefix(ch[0], "enable sharing with the Resource Directory "+dirID) {
		t.Fatalf("setup: %q", ch)
	}
	d.must("doctor")
}

// Setup changes nothing it did not make: a queue made by hand, a role and policy made
// by hand, and the rule `s deploy` made for a trigger. It makes no second rule for an
// event another rule delivers, and deletes its own when such a rule appears.
func TestSetupLeavesWhatItDidNotMake(t *testing.T) {
	d := newDeployment(t, true)
	// By hand, as the old instructions said: the defaults of the MNS console, and the
	// role with the policy.
	d.call("mns-open", "CreateQueue", map[string]string{"QueueName": jobs})
	doc, err := setup.Load(imageshare.SYAML, func(string) (string, bool) { return "", false }, owner, "")
	if err != nil {
		t.Fatal(err)
	}
	if err := d.w.RAM().Grant(owner, role, role, string(doc.Policy.JSON())); err != nil {
		t.Fatal(err)
	}
	if _, err := d.w.RAM().UpdateRole(owner, role, setup.TrustPolicy, nil); err != nil {
		t.Fatal(err)
	}
	// `s deploy` made image-events' trigger: Function Compute's rule, FC 2.0's target form.
	fcRule := emueventbridge.Rule{Account: owner, Region: region, Bus: "default", Name: "imageshare-image-events-ecs-calls",
		FilterPattern: doc.Rules[0].Pattern, Targets: []emueventbridge.Target{{Id: "fc", Type: "acs.fc.function",
			Endpoint: "acs:fc:cn-hangzhou:" + owner + ":services/default.LATEST/functions/imageshare-image-events"}}}
	d.w.EventBridge().PutRule(fcRule)

	out := d.must("setup")
	for _, note := range []string{
		"# note: queue " + jobs + " was not made by imageshare setup (no tag managed-by=imageshare-setup): left as it is, though it needs VisibilityTimeout 30 → 300",
		"# note: role " + role + " was not made by imageshare setup",
		"# note: policy " + role + " was not made by imageshare setup",
		"# note: trigger imageshare-image-events/ecs-calls: imageshare-image-events-ecs-calls (made by s deploy) delivers its events; left as it is",
	} {
		if !strings.Contains(out, note) {
			t.Errorf("setup does not say %q:\n%s", note, out)
		}
	}
	if ch := changes(out); slices.ContainsFunc(ch, func(l string) bool {
		return strings.Contains(l, "queue "+jobs) || strings.Contains(l, "role "+role) || strings.Contains(l, imageRule)
	}) {
		t.Errorf("setup changed what it did not make: %q", ch)
	}
	if d.w.RAM().Role(owner, role).Description != "" || len(d.w.EventBridge().Rules(owner, region, "default")) != 2 {
		t.Fatal("setup changed the role, or made a second path for image-events")
	}
	// Doctor: the hand-made queue is too short-lived for reconcile; the rest passes,
	// image-events through s deploy's rule.
	code, out, _ := d.run("doctor")
	if l := doctorLine(t, out, "FAIL", "queue "+jobs); code != 1 || !strings.Contains(l, "it was not made by imageshare setup") || !strings.Contains(l, "→ set these attributes") {
		t.Fatalf("doctor: exit %d: %q\n%s", code, l, out)
	}
	if l := doctorLine(t, out, "ok", "trigger imageshare-image-events/ecs-calls"); !strings.Contains(l, "made by s deploy") {
		t.Errorf("doctor: %q", l)
	}

	// Later `s deploy` makes org-events' rule too: two paths, which doctor names, and
	// setup removes its own.
	orgFC := emueventbridge.Rule{Account: owner, Region: region, Bus: "default", Name: "imageshare-org-events-directory-calls",
		FilterPattern: doc.Rules[1].Pattern, Targets: []emueventbridge.Target{{Id: "fc", Type: "acs.fc.function",
			Endpoint: "acs:fc:cn-hangzhou:" + owner + ":functions/imageshare-org-events"}}}
	d.w.EventBridge().PutRule(orgFC)
	_, out, _ = d.run("doctor")
	if l := doctorLine(t, out, "FAIL", "trigger imageshare-org-events/directory-calls"); !strings.Contains(l, "twice") || !strings.Contains(l, "→ run imageshare setup (it deletes its own rule") {
		t.Errorf("doctor: %q", l)
	}
	out = d.must("setup")
	if ch := changes(out); len(ch) != 1 || !strings.HasPrefix(ch[0], "delete rule "+orgRule+": imageshare-org-events-directory-calls (made by s deploy) already delivers") {
		t.Errorf("setup: %q", ch)
	}
	var names []string
	for _, r := range d.w.EventBridge().Rules(owner, region, "default") {
		names = append(names, r.Name)
	}
	if !slices.Equal(names, []string{"imageshare-image-events-ecs-calls", "imageshare-org-events-directory-calls"}) {
		t.Errorf("rules = %q", names)
	}
}

// An update of the policy adds a default version and prunes the oldest versions that
// are not the default, since RAM keeps five.
func TestPolicyVersionsArePruned(t *testing.T) {
	d := newDeployment(t, true)
	d.must("setup")
	doc := string(d.w.RAM().Policy(emu.PolicyCustom, owner, role).Versions[0].Document)
	for range 4 { // v2..v5, v1 stays the default
		if _, err := d.w.RAM().CreatePolicyVersion(owner, role, doc, false); err != nil {
			t.Fatal(err)
		}
	}
	// The deployment now notifies: the policy gains PublishMessage on the topic.
	d.vars["IMAGESHARE_NOTIFY_TOPIC"] = "imageshare-notices"
	out := d.must("setup", "--dry-run")
	want := []string{"create topic imageshare-notices", "delete version v2 of policy " + role, "add a version of policy " + role + " and make it the default: adds Allow mns:publishmessage on acs:mns:cn-hangzhou:" + owner + ":/topics/imageshare-notices/messages"}
	ch := changes(out)
	if len(ch) != len(want) {
		t.Fatalf("dry run: %q", ch)
	}
	for i, w := range want {
		if !strings.HasPrefix(ch[i], w) {
			t.Errorf("change %d: %q, want %q…", i+1, ch[i], w)
		}
	}
	d.must("setup")
	p := d.w.RAM().Policy(emu.PolicyCustom, owner, role)
	var ids []string
	for _, v := range p.Versions {
		ids = append(ids, v.ID)
	}
	if !slices.Equal(ids, []string{"v1", "v3", "v4", "v5", "v6"}) || p.Default != "v6" {
		t.Fatalf("versions %q, default %s", ids, p.Default)
	}
	d.must("doctor")
}

// The deployer's policy that `setup --print-deployer-policy` prints is enough for setup
// (from nothing, and repairing everything it can repair) and doctor, run as a RAM user
// holding exactly it; without any one of its actions, setup or doctor stops and names
// the action and the resource.
func TestDeployerPolicyIsEnoughAndEachPermissionIsNamed(t *testing.T) {
	var printed rampolicy.Document
	{
		d := newDeployment(t, true)
		d.vars["IMAGESHARE_ACCOUNT_ID"] = owner
		d.vars["IMAGESHARE_NOTIFY_TOPIC"] = "imageshare-notices"
		if err := json.Unmarshal([]byte(d.must("setup", "--print-deployer-policy")), &printed); err != nil {
			t.Fatal(err)
		}
	}
	// run goes through every path with the deployer holding doc: from nothing (sharing
	// disabled), then with every piece setup owns out of shape, then doctor. It returns
	// the output of the first command that failed ("" when none did).
	dep, err := setup.Load(imageshare.SYAML, func(string) (string, bool) { return "", false }, owner, "")
	if err != nil {
		t.Fatal(err)
	}
	run := func(t *testing.T, doc rampolicy.Document) string {
		d := newDeployment(t, false)
		d.vars["IMAGESHARE_NOTIFY_TOPIC"] = "imageshare-notices"
		store := d.w.RAM()
		if err := store.CreateUser(owner, "deployer"); err != nil {
			t.Fatal(err)
		}
		if err := store.CreatePolicy(owner, "deployer", string(doc.JSON())); err != nil {
			t.Fatal(err)
		}
		if err := store.AttachPolicyToUser(owner, emu.PolicyCustom, "deployer", "deployer"); err != nil {
			t.Fatal(err)
		}
		d.as(d.w.Keys().UserAccessKey(owner, "deployer"))
		if code, out, errOut := d.run("setup"); code != 0 {
			return out + errOut
		}
		// Every piece out of shape, as a person might leave it.
		d.call("mns-open", "SetQueueAttributes", map[string]string{"QueueName": deadLetters, "VisibilityTimeout": "30"})
		d.call("mns-open", "SetTopicAttributes", map[string]string{"TopicName": "imageshare-notices", "MaxMessageSize": "1024"})
		if _, err := store.UpdateRole(owner, role, `{"Version":"1","Statement":[{"Action":"sts:AssumeRole","Effect":"Allow","Principal":{"Service":["ecs.aliyuncs.com"]}}]}`, nil); err != nil {
			t.Fatal(err)
		}
		// Five versions, the default one without a statement: setup deletes the oldest
		// that is not the default and adds one.
		full := store.Policy(emu.PolicyCustom, owner, role).Versions[0].Document
		less, err := printedPolicy(t, full).Without("EnqueueJobs", "")
		if err != nil {
			t.Fatal(err)
		}
		for i := range 4 {
			v := full
			if i == 3 {
				v = string(less.JSON())
			}
			if _, err := store.CreatePolicyVersion(owner, role, v, i == 3); err != nil {
				t.Fatal(err)
			}
		}
		d.call("eventbridge", "UpdateRule", map[string]string{"EventBusName": "default", "RuleName": imageRule, "FilterPattern": `{"source":["acs.ecs"]}`, "Status": "DISABLE"})
		d.call("eventbridge", "PutTargets", map[string]string{"EventBusName": "default", "RuleName": imageRule,
			"Targets": `[{"Id":"stray","Type":"acs.mns.queue","Endpoint":"acs:mns:cn-hangzhou:` + owner + `:queues/x"},{"Id":"` + setup.TargetID + `","Type":"acs.fc.function","Endpoint":"acs:fc:cn-hangzhou:` + owner + `:functions/elsewhere"}]`})
		// `s deploy` made org-events' rule: setup's own is a second path.
		d.w.EventBridge().PutRule(emueventbridge.Rule{Account: owner, Region: region, Bus: "default", Name: "imageshare-org-events-directory-calls",
			FilterPattern: dep.Rules[1].Pattern,
			Targets:       []emueventbridge.Target{{Id: "fc", Type: "acs.fc.function", Endpoint: "acs:fc:cn-hangzhou:" + owner + ":functions/imageshare-org-events"}}})
		if err := store.DeleteRole(owner, setup.SendToFCRole); err != nil {
			t.Fatal(err)
		}
		if code, out, errOut := d.run("setup"); code != 0 {
			return out + errOut
		}
		if code, out, errOut := d.run("doctor"); code != 0 {
			return out + errOut
		}
		return ""
	}
	t.Run("the whole policy", func(t *testing.T) {
		if out := run(t, printed); out != "" {
			t.Fatalf("with the deployer's policy:\n%s", out)
		}
	})
	n := 0
	for _, st := range printed.Statement {
		for _, action := range st.Action {
			n++
			t.Run("without "+st.Sid+" "+action, func(t *testing.T) {
				less, err := printed.Without(st.Sid, action)
				if err != nil {
					t.Fatal(err)
				}
				out := run(t, less)
				// The denial names the resource the call was on, which the statement names
				// or matches (rule/imageshare-setup-* matches setup's rules).
				named := strings.Contains(out, action) && slices.ContainsFunc(st.Resource, func(r string) bool { return strings.Contains(out, " "+strings.TrimSuffix(r, "*")) })
				if !named {
					t.Fatalf("without %s on %q, nothing names it:\n%s", action, st.Resource, out)
				}
			})
		}
	}
	if n < 20 {
		t.Fatalf("only %d permissions", n)
	}
}

func printedPolicy(t *testing.T, doc string) rampolicy.Document {
	t.Helper()
	var p rampolicy.Document
	if err := json.Unmarshal([]byte(doc), &p); err != nil {
		t.Fatal(err)
	}
	return p
}

// docs/deploy.md shows the deployer's policy for the defaults, as --print-deployer-policy
// prints it.
func TestDeployDocsHoldTheDeployerPolicy(t *testing.T) {
	var out bytes.Buffer
	e := &env{stdout: &out, stderr: &bytes.Buffer{}, getenv: func(string) string { return "" }}
	if code := setupCmd("setup", []string{"--print-deployer-policy"}, e); code != 0 {
		t.Fatalf("exit %d", code)
	}
	b, err := os.ReadFile("../../docs/deploy.md")
	if err != nil {
		t.Fatal(err)
	}
	_, after, ok := strings.Cut(string(b), "<!-- deployer-policy -->\n```json\n")
	doc, _, ok2 := strings.Cut(after, "```")
	if !ok || !ok2 {
		t.Fatal("docs/deploy.md has no <!-- deployer-policy --> JSON block")
	}
	if doc != out.String() {
		t.Fatalf("docs/deploy.md's deployer policy differs from setup --print-deployer-policy:\n%s", out.String())
	}
}

// Credentials of another account than the deployment's are refused before any write.
func TestSetupRefusesAnotherAccount(t *testing.T) {
	d := newDeployment(t, true)
	d.vars["IMAGESHARE_ACCOUNT_ID"] = "1000000000000009"
	code, _, errOut := d.run("setup")
	if code != 2 || !strings.Contains(errOut, "IMAGESHARE_ACCOUNT_ID is 1000000000000009, but the credentials are of account "+owner) {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, c := range d.w.Cloud().Calls() {
		if c.Write {
			t.Fatalf("wrote %s %s", c.Product, c.Action)
		}
	}
}

func TestSetupAndDoctorUsage(t *testing.T) {
	for _, cmd := range []string{"setup", "doctor"} {
		var out, errb bytes.Buffer
		e := &env{stdout: &out, stderr: &errb, getenv: func(string) string { return "" }}
		if code := setupCmd(cmd, []string{"--help"}, e); code != 0 || !strings.HasPrefix(out.String(), "usage: imageshare "+cmd) || errb.Len() != 0 {
			t.Errorf("%s --help: exit %d, stdout %q, stderr %q", cmd, code, out.String(), errb.String())
		}
		out.Reset()
		errb.Reset()
		if code := setupCmd(cmd, []string{"--nope"}, e); code != 2 || errb.Len() == 0 {
			t.Errorf("%s --nope: exit %d, stderr %q", cmd, code, errb.String())
		}
	}
	var errb bytes.Buffer
	e := &env{stdout: &bytes.Buffer{}, stderr: &errb, getenv: func(k string) string { return map[string]string{"IMAGESHARE_SETTLE_DELAY": "soon"}[k] }}
	if code := setupCmd("setup", []string{"--print-deployer-policy"}, e); code != 2 || !strings.Contains(errb.String(), "SETTLE_DELAY") {
		t.Errorf("an invalid setting: exit %d: %s", code, errb.String())
	}
	if _, err := os.Stat("../../s.yaml"); err != nil {
		t.Fatal(err)
	}
}

// In a delegated administrator's account, doctor warns that directory changes are seen
// only by the sweep, and does not fail for it.
func TestDoctorWarnsADelegatedAdministrator(t *testing.T) {
	sc, err := scenario.Parse("world.yaml", fmt.Appendf(nil, `region: cn-hangzhou
owner: "%s"
directory:
  id: %s
  management: "1000000000000009"
  root: %s
images: []
`, owner, dirID, rootID))
	if err != nil {
		t.Fatal(err)
	}
	w, err := sandbox.NewWorld(sc, sandbox.WorldOptions{SYAML: imageshare.SYAML, Bare: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.Close)
	d := &deployment{t: t, w: w, vars: map[string]string{}, root: w.OwnerKey().Identity}
	for svc, u := range w.Endpoints() {
		d.vars[endpointVar(svc)] = u
	}
	d.as(w.OwnerKey())
	d.must("setup")
	out := d.must("doctor")
	if l := doctorLine(t, out, "warn", "resource directory"); !strings.Contains(l, "delegated administrator of "+dirID+", whose management account is 1000000000000009") ||
		!strings.Contains(l, "only through the 30-minute sweep") {
		t.Fatalf("doctor: %q", l)
	}
}
