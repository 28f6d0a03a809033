package rampolicy_test

import (
	"encoding/json"
	"os"
	"slices"
	"strings"
	"testing"

	"imageshare/pkg/rampolicy"
	"imageshare/pkg/settings"
)

// deploy/ram-policy.json is the generator's output for the default settings, byte for
// byte: the file in the repository cannot drift from the code.
func TestDeployFileIsTheGeneratorsOutput(t *testing.T) {
	file, err := os.ReadFile("../../deploy/ram-policy.json")
	if err != nil {
		t.Fatal(err)
	}
	out, err := rampolicy.Render(rampolicy.Defaults())
	if err != nil {
		t.Fatal(err)
	}
	if string(file) != string(out) {
		t.Fatalf("deploy/ram-policy.json differs from `imageshare policy`; regenerate it with\n  go run ./cmd/imageshare policy > deploy/ram-policy.json\ngenerator:\n%s", out)
	}
}

func TestBuildFollowsTheSettings(t *testing.T) {
	s, err := settings.Load(func(k string) string {
		return map[string]string{"JOB_QUEUE": "jobs-2", "NOTIFY_TOPIC": "notices", "REGIONS": "cn-shanghai cn-hangzhou"}[k]
	})
	if err != nil {
		t.Fatal(err)
	}
	d := rampolicy.ForSettings("1000000000000001", "cn-hangzhou", s)
	doc, err := rampolicy.Build(d)
	if err != nil {
		t.Fatal(err)
	}
	resources := map[string][]string{}
	for _, st := range doc.Statement {
		for _, a := range st.Action {
			resources[a] = st.Resource
		}
	}
	want := map[string][]string{
		"ecs:ModifyImageSharePermission":      {"acs:ecs:cn-hangzhou:1000000000000001:image/*", "acs:ecs:cn-shanghai:1000000000000001:image/*"},
		"mns:BatchSendMessage":                {"acs:mns:*:1000000000000001:/queues/jobs-2/messages"},
		"ecs:CopyImage":                       {"acs:ecs:cn-hangzhou:1000000000000001:image/*", "acs:ecs:cn-shanghai:1000000000000001:image/*"},
		"ecs:DescribeImages":                  {"acs:ecs:*:1000000000000001:image/*"},
		"ecs:UntagResources":                  {"acs:ecs:*:1000000000000001:image/*"},
		"mns:PublishMessage":                  {"acs:mns:cn-hangzhou:1000000000000001:/topics/notices/messages"},
		"resourcesharing:CreateResourceShare": {"*"},
		"resourcesharing:UpdateResourceShare": {"*"},
		"actiontrail:LookupEvents":            {"*"}, // All Resources; ORG_POLL is on by default
	}
	for a, w := range want {
		if !slices.Equal(resources[a], w) {
			t.Errorf("%s on %v, want %v", a, resources[a], w)
		}
	}
	// Without a topic, nothing may be published.
	d.NotifyTopic = ""
	doc, _ = rampolicy.Build(d)
	if strings.Contains(string(doc.JSON()), "PublishMessage") {
		t.Fatal("a deployment without NOTIFY_TOPIC may publish")
	}
	// The JSON is a RAM policy document.
	var back struct {
		Version   string
		Statement []struct{ Effect string }
	}
	if err := json.Unmarshal(doc.JSON(), &back); err != nil || back.Version != "1" || len(back.Statement) != 9 {
		t.Fatalf("%v %+v", err, back)
	}
	// Without the organization poll, ActionTrail is not read.
	s.OrgPoll = 0
	doc, _ = rampolicy.Build(rampolicy.ForSettings("1000000000000001", "cn-hangzhou", s))
	if strings.Contains(string(doc.JSON()), "actiontrail") {
		t.Fatal("a deployment with ORG_POLL=0 may look up ActionTrail")
	}
}

func TestBuildRefusesBadValues(t *testing.T) {
	for _, c := range []struct {
		d    rampolicy.Deployment
		want string
	}{
		{rampolicy.Deployment{Account: "12345", Region: "cn-hangzhou", JobQueue: "q"}, `account "12345"`},
		{rampolicy.Deployment{Account: "1000000000000001", Region: "cn hangzhou", JobQueue: "q"}, `region "cn hangzhou"`},
		{rampolicy.Deployment{Account: "1000000000000001", Region: "cn-hangzhou", Regions: []string{"*"}, JobQueue: "q"}, `region "*"`},
		{rampolicy.Deployment{Account: "1000000000000001", Region: "cn-hangzhou", JobQueue: "jobs/*"}, `job queue "jobs/*"`},
		{rampolicy.Deployment{Account: "1000000000000001", Region: "cn-hangzhou", JobQueue: "q", NotifyTopic: "t*"}, `notify topic "t*"`},
	} {
		if _, err := rampolicy.Build(c.d); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Build(%+v) = %v, want an error naming %s", c.d, err, c.want)
		}
	}
}

func TestWithout(t *testing.T) {
	doc, _ := rampolicy.Build(rampolicy.Defaults())
	less, err := doc.Without("EnqueueJobs", "mns:BatchSendMessage")
	if err != nil || len(less.Statement) != len(doc.Statement)-1 || strings.Contains(string(less.JSON()), "BatchSendMessage") {
		t.Fatalf("%v\n%s", err, less.JSON())
	}
	less, err = doc.Without("TagOwnImagesAndTheirCopiesInEveryRegion", "ecs:TagResources")
	if err != nil || !strings.Contains(string(less.JSON()), "ModifyImageSharePermission") || strings.Contains(string(less.JSON()), "TagResources") {
		t.Fatalf("%v\n%s", err, less.JSON())
	}
	if _, err := doc.Without("EnqueueJobs", "mns:SendMessage"); err == nil {
		t.Fatal("removed an action the statement does not have")
	}
	if _, err := doc.Without("Nope", ""); err == nil {
		t.Fatal("removed a statement that does not exist")
	}
	if !strings.Contains(string(doc.JSON()), "TagResources") {
		t.Fatal("Without changed the original")
	}
}
