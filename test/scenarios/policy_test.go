package scenarios

import (
	"context"
	"os"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"

	"imageshare"
	"imageshare/pkg/policy"
	"imageshare/pkg/rampolicy"
	"imageshare/pkg/sandbox"
	"imageshare/pkg/scenario"
)

// checkPolicy: over the whole library, where the functions' role held the deployment's
// policy (evaluated by the emulated RAM, action and resource), RAM denied only what a
// scenario's deny names, and the library called every action of the policy.
func checkPolicy(t *testing.T, seen map[string]bool, unexpected []string) {
	t.Helper()
	for _, d := range unexpected {
		t.Errorf("RAM denied the functions although no scenario denies it: %s", d)
	}
	doc, err := rampolicy.Build(rampolicy.Deployment{Account: "1000000000000001", Region: "cn-hangzhou", JobQueue: "imageshare-jobs", OrgPoll: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, st := range doc.Statement {
		for _, a := range st.Action {
			if !seen[a] && needs[a].test == "" {
				t.Errorf("the policy grants %s, which no scenario of the library calls", a)
			}
		}
	}
	if len(seen) < 8 {
		t.Fatalf("too few actions seen to prove anything: %v", seen)
	}
}

// deniedUnexpectedly returns the denials of res that the scenario's deny does not name.
func deniedUnexpectedly(name string, sc *scenario.Scenario, res *sandbox.Result) []string {
	var out []string
	for _, d := range res.Denials {
		action, _, _ := strings.Cut(d, " ")
		if !slices.Contains(sc.Deny, action) || !strings.Contains(d, "ExplicitDeny") {
			out = append(out, name+": "+d)
		}
	}
	return out
}

func load(t *testing.T, f string) *scenario.Scenario {
	t.Helper()
	data, err := os.ReadFile(f)
	if err != nil {
		t.Fatal(err)
	}
	sc, err := scenario.Parse(f, data)
	if err != nil {
		t.Fatalf("invalid scenario: %v", err)
	}
	return sc
}

func run(t *testing.T, sc *scenario.Scenario, opts sandbox.Options) *sandbox.Result {
	t.Helper()
	opts.SYAML, opts.FunctionCommand = imageshare.SYAML, command
	res, err := sandbox.Run(context.Background(), sc, opts)
	if err != nil {
		t.Fatalf("sandbox: %v", err)
	}
	return res
}

// The sandbox's role holds the generator's policy for the scenario's deployment, and
// that is deploy/ram-policy.json with only the account and region filled in.
func TestRoleHoldsTheDeploymentPolicy(t *testing.T) {
	sc := load(t, "events-tag-resources.yaml")
	res := run(t, sc, sandbox.Options{})
	if !res.OK() {
		t.Fatalf("scenario failed: %v", res.Failures)
	}
	file, err := os.ReadFile("../../deploy/ram-policy.json")
	if err != nil {
		t.Fatal(err)
	}
	want := strings.NewReplacer(rampolicy.AccountPlaceholder, sc.Owner, rampolicy.RegionPlaceholder, sc.Region).Replace(string(file))
	if string(res.RolePolicy) != want {
		t.Fatalf("the role held\n%s\nwant deploy/ram-policy.json filled in:\n%s", res.RolePolicy, want)
	}
	// A deployment that notifies also may publish, to its own topic only.
	sc.Settings["NOTIFY_TOPIC"] = "ops-notices"
	res = run(t, sc, sandbox.Options{})
	if !res.OK() || len(res.Notifications) == 0 {
		t.Fatalf("with NOTIFY_TOPIC: failures %v, %d notifications", res.Failures, len(res.Notifications))
	}
	if !strings.Contains(string(res.RolePolicy), `"acs:mns:cn-hangzhou:`+sc.Owner+`:/topics/ops-notices/messages"`) {
		t.Fatalf("the role held\n%s", res.RolePolicy)
	}
}

// With the policy this repository shipped before RAM was emulated (test data), the
// functions cannot enqueue a job: the scenario fails, and its failure names the denied
// action and resource.
func TestPreFixPolicyFailsOnTheEnqueue(t *testing.T) {
	pre, err := os.ReadFile("testdata/pre-fix-ram-policy.json")
	if err != nil {
		t.Fatal(err)
	}
	sc := load(t, "events-tag-resources.yaml")
	res := run(t, sc, sandbox.Options{RolePolicy: pre})
	if res.OK() {
		t.Fatal("the scenario passed with the pre-fix policy")
	}
	want := "mns:BatchSendMessage on acs:mns:cn-hangzhou:" + sc.Owner + ":/queues/imageshare-jobs/messages: ImplicitDeny"
	if !strings.Contains(strings.Join(res.Failures, "\n"), want) {
		t.Fatalf("the failure does not name %q:\n%s", want, strings.Join(res.Failures, "\n"))
	}
}

// need names what shows that a part of the policy is needed: a scenario of the library
// that fails without it, or, for publishing, the notifications a scenario then loses, or
// a test elsewhere that runs without it (where the scenario format cannot set the
// situation up).
type need struct {
	scenario string
	notify   bool // run with NOTIFY_TOPIC set; "fails" means no notification arrives
	// denied: "fails" means RAM denied one of the functions' calls of this action. The
	// end state alone cannot show it: the dead-letter split turns the large run that
	// needs the action into small runs that read the directory account by account.
	denied bool
	test   string // the package and test that shows the need instead of a scenario
}

// needs maps every action of the policy to the scenario that needs it.
var needs = map[string]need{
	"ecs:DescribeImages":                                 {scenario: "events-tag-resources.yaml"},
	"ecs:DescribeImageSharePermission":                   {scenario: "events-tag-resources.yaml"},
	"ecs:ModifyImageSharePermission":                     {scenario: "events-tag-resources.yaml"},
	"ecs:TagResources":                                   {scenario: "r08-untagged-retained.yaml"},
	"ecs:CopyImage":                                      {scenario: "regions-copy.yaml"},
	"ecs:UntagResources":                                 {scenario: "regions-follow-and-withdraw.yaml"},
	"resourcemanager:GetResourceDirectory":               {scenario: "events-tag-resources.yaml"},
	"resourcemanager:GetAccount":                         {scenario: "events-tag-resources.yaml"},
	"resourcemanager:ListAccounts":                       {scenario: "sweep-large-batch.yaml", denied: true},
	"resourcemanager:ListAncestors":                      {scenario: "r05-directory-and-subfolders.yaml"},
	"resourcemanager:ListHandshakesForResourceDirectory": {scenario: "org-invite-events.yaml"},
	"resourcesharing:ListResourceShares":                 {scenario: "r04-folders-make-before-break.yaml"},
	"resourcesharing:ListResourceShareAssociations":      {scenario: "r04-folders-make-before-break.yaml"},
	"resourcesharing:CreateResourceShare":                {scenario: "r04-folders-make-before-break.yaml"},
	"resourcesharing:AssociateResourceShare":             {scenario: "r04-share-identity-by-name.yaml"},
	"resourcesharing:DisassociateResourceShare":          {scenario: "r04-folders-make-before-break.yaml"},
	// A person setting AllowExternalTargets on a managed share is not a scenario step.
	"resourcesharing:UpdateResourceShare": {test: "test/integration TestRepairsExternalTargetsOfAManagedShare/without_UpdateResourceShare"},
	"resourcesharing:DeleteResourceShare": {scenario: "sweep-empty-managed-share.yaml"},
	"mns:BatchSendMessage":                {scenario: "events-tag-resources.yaml"},
	"mns:PublishMessage":                  {scenario: "events-tag-resources.yaml", notify: true},
	"actiontrail:LookupEvents":            {scenario: "org-poll-move.yaml"},
}

// TestEveryPartOfThePolicyIsNeeded removes each statement, and each action of each
// statement, from the deployment's policy in turn, and shows that a named scenario then
// fails. It runs only the named scenarios: about 25 sandbox runs.
func TestEveryPartOfThePolicyIsNeeded(t *testing.T) {
	if testing.Short() {
		t.Skip("runs about 25 scenarios; skipped with -short")
	}
	full := func(sc *scenario.Scenario) rampolicy.Document {
		d := rampolicy.Deployment{Account: sc.Owner, Region: sc.Region, JobQueue: "imageshare-jobs", OrgPoll: sc.Settings["ORG_POLL"] != "0"}
		if sc.Settings["NOTIFY_TOPIC"] != "" {
			d.NotifyTopic = sc.Settings["NOTIFY_TOPIC"]
		}
		// The regions the scenario's deployment covers (its copies' regions).
		for _, r := range policy.Split(sc.Settings["REGIONS"]) {
			if r != sc.Region {
				d.Regions = append(d.Regions, r)
			}
		}
		doc, err := rampolicy.Build(d)
		if err != nil {
			t.Fatal(err)
		}
		return doc
	}
	type cut struct{ sid, action string }
	notifying := &scenario.Scenario{Owner: "1000000000000001", Region: "cn-hangzhou", Settings: map[string]string{"NOTIFY_TOPIC": "imageshare-notices"}}
	var cuts []cut
	covered := map[string]bool{}
	for _, st := range full(notifying).Statement {
		cuts = append(cuts, cut{st.Sid, ""})
		for _, a := range st.Action {
			cuts = append(cuts, cut{st.Sid, a})
			covered[a] = true
		}
	}
	for a := range needs {
		if !covered[a] {
			t.Errorf("needs names %s, which the policy does not grant", a)
		}
	}
	var mu sync.Mutex
	var report []string
	for _, c := range cuts {
		name := c.sid
		if c.action != "" {
			name += "/" + c.action
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			action := c.action
			if action == "" { // a whole statement: the scenario of its first action
				for _, st := range full(notifying).Statement {
					if st.Sid == c.sid {
						action = st.Action[0]
					}
				}
			}
			n, ok := needs[action]
			if !ok {
				t.Fatalf("no scenario is named as needing %s: name one in needs, or drop it from the policy", action)
			}
			if n.test != "" && c.action != "" {
				mu.Lock()
				report = append(report, name+" ← "+n.test)
				mu.Unlock()
				t.Skipf("shown by %s", n.test)
			}
			sc := load(t, n.scenario)
			if n.notify {
				sc.Settings["NOTIFY_TOPIC"] = "imageshare-notices"
			}
			doc, err := full(sc).Without(c.sid, c.action)
			if err != nil {
				t.Fatal(err)
			}
			res := run(t, sc, sandbox.Options{RolePolicy: doc.JSON()})
			failed := !res.OK()
			if n.notify {
				failed = len(res.Notifications) == 0
			}
			if n.denied {
				for _, d := range res.Denials {
					failed = failed || strings.Contains(d, action)
				}
			}
			if !failed {
				t.Fatalf("%s still passes without %s", n.scenario, name)
			}
			mu.Lock()
			report = append(report, name+" ← "+n.scenario)
			mu.Unlock()
		})
	}
	t.Cleanup(func() {
		sort.Strings(report)
		t.Logf("each part of the policy and the scenario that fails without it:\n%s", strings.Join(report, "\n"))
	})
}
