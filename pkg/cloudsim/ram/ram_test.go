package ram_test

import (
	"slices"
	"strings"
	"testing"

	"imageshare/pkg/cloudsim"
	"imageshare/pkg/cloudsim/actiontrail"
	"imageshare/pkg/cloudsim/emu"
	"imageshare/pkg/cloudsim/eventbridge"
	"imageshare/pkg/cloudsim/mns"
	"imageshare/pkg/cloudsim/ram"
	"imageshare/pkg/cloudsim/sts"
)

const acct = "1000000000000001"

func parse(t *testing.T, doc string) ram.Named {
	t.Helper()
	p, err := ram.Parse([]byte(doc))
	if err != nil {
		t.Fatalf("parse %s: %v", doc, err)
	}
	return ram.Named{Name: "p", Policy: p}
}

func allow(action, resource string) string {
	return `{"Version":"1","Statement":[{"Effect":"Allow","Action":"` + action + `","Resource":"` + resource + `"}]}`
}

func TestEvaluate(t *testing.T) {
	img := "acs:ecs:cn-hangzhou:" + acct + ":image/m-1"
	cases := []struct {
		name      string
		policies  []string
		action    string
		resources []string
		all       bool // All Resources action
		allowed   bool
		explicit  bool
	}{
		{"no policy: implicit deny", nil, "ecs:TagResources", []string{img}, false, false, false},
		{"exact match", []string{allow("ecs:TagResources", img)}, "ecs:TagResources", []string{img}, false, true, false},
		{"other action", []string{allow("ecs:UntagResources", img)}, "ecs:TagResources", []string{img}, false, false, false},
		{"action names ignore case", []string{allow("ECS:tagresources", img)}, "ecs:TagResources", []string{img}, false, true, false},
		{"resources do not ignore case", []string{allow("ecs:TagResources", strings.ToUpper(img))}, "ecs:TagResources", []string{img}, false, false, false},
		{"* in the action", []string{allow("ecs:*Resources", img)}, "ecs:TagResources", []string{img}, false, true, false},
		{"? is one character", []string{allow("ecs:TagResource?", img)}, "ecs:TagResources", []string{img}, false, true, false},
		{"? is not two", []string{allow("ecs:TagResourc?", img)}, "ecs:TagResources", []string{img}, false, false, false},
		{"* in the resource", []string{allow("ecs:TagResources", "acs:ecs:*:"+acct+":image/*")}, "ecs:TagResources", []string{img}, false, true, false},
		{"resource of another account", []string{allow("ecs:TagResources", "acs:ecs:*:2000000000000001:image/*")}, "ecs:TagResources", []string{img}, false, false, false},
		{"every resource must be allowed", []string{allow("ecs:TagResources", img)}, "ecs:TagResources",
			[]string{img, "acs:ecs:cn-hangzhou:" + acct + ":image/m-2"}, false, false, false},
		{"explicit deny wins", []string{allow("ecs:*", "*"),
			`{"Version":"1","Statement":[{"Effect":"Deny","Action":["ecs:TagResources"],"Resource":["*"]}]}`},
			"ecs:TagResources", []string{img}, false, false, true},
		{"deny of another action", []string{allow("ecs:*", "*"),
			`{"Version":"1","Statement":[{"Effect":"Deny","Action":"ecs:UntagResources","Resource":"*"}]}`},
			"ecs:TagResources", []string{img}, false, true, false},
		{"union of policies", []string{allow("ecs:DescribeImages", "*"), allow("ecs:TagResources", img)},
			"ecs:TagResources", []string{img}, false, true, false},
		{"All Resources needs *", []string{allow("resourcesharing:CreateResourceShare", "acs:resourcesharing:*:"+acct+":resourceshare/*")},
			"resourcesharing:CreateResourceShare", []string{"*"}, true, false, false},
		{"All Resources is not matched by a pattern", []string{allow("resourcesharing:CreateResourceShare", "acs:*")},
			"resourcesharing:CreateResourceShare", []string{"*"}, true, false, false},
		{"All Resources on *", []string{allow("resourcesharing:CreateResourceShare", "*")},
			"resourcesharing:CreateResourceShare", []string{"*"}, true, true, false},
		{"statement with several resources", []string{`{"Version":"1","Statement":[{"Effect":"Allow","Action":"ecs:TagResources",
			"Resource":["acs:ecs:cn-shanghai:` + acct + `:image/*","` + img + `"]}]}`}, "ecs:TagResources", []string{img}, false, true, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var ps []ram.Named
			for _, d := range c.policies {
				ps = append(ps, parse(t, d))
			}
			d := ram.Evaluate(ps, c.action, c.resources, c.all)
			if d.Allowed != c.allowed || d.ExplicitDeny != c.explicit {
				t.Fatalf("allowed=%v explicit=%v, want %v %v (%s)", d.Allowed, d.ExplicitDeny, c.allowed, c.explicit, d)
			}
			if !d.Allowed && !strings.HasPrefix(d.String(), c.action+" on ") {
				t.Fatalf("denial %q does not name the action", d)
			}
		})
	}
}

func TestParseRefuses(t *testing.T) {
	cases := []struct{ doc, want string }{
		{`[]`, "not a JSON object"},
		{`{"Version":"2","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`, `Version must be "1"`},
		{`{"Version":"1","Statement":[]}`, "non-empty list"},
		{`{"Version":"1","Statement":[{"Effect":"allow","Action":"*","Resource":"*"}]}`, `statement 1: Effect must be`},
		{`{"Version":"1","Statement":[{"Effect":"Allow","Resource":"*"}]}`, "statement 1: Action is missing"},
		{`{"Version":"1","Statement":[{"Effect":"Allow","Action":"*"}]}`, "statement 1: Resource is missing"},
		{`{"Version":"1","Statement":[{"Effect":"Allow","Action":[],"Resource":"*"}]}`, "Action is an empty list"},
		{`{"Version":"1","Statement":[{"Effect":"Allow","Action":"TagResources","Resource":"*"}]}`, "is not <service>:<action>"},
		{`{"Version":"1","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"},
			{"Sid":"Ip","Effect":"Deny","Action":"*","Resource":"*","Condition":{"NotIpAddress":{"acs:SourceIp":"10.0.0.0/8"}}}]}`,
			"statement 2 (Ip): Condition is not supported"},
		{`{"Version":"1","Statement":[{"Effect":"Allow","NotAction":"ram:*","Resource":"*"}]}`, "statement 1: NotAction is not supported"},
		{`{"Version":"1","Statement":[{"Effect":"Allow","Action":"*","NotResource":"x"}]}`, "statement 1: NotResource is not supported"},
		{`{"Version":"1","Statement":[{"Effect":"Allow","Action":"*","Resource":"*","Principal":{"Service":"fc.aliyuncs.com"}}]}`, "statement 1: Principal is not supported"},
		{`{"Version":"1","Statement":[{"Effect":"Allow","Action":"*","Resource":"*","Extra":1}]}`, `statement 1: unknown element "Extra"`},
		{`{"Version":"1","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}],"Id":"x"}`, `unknown element "Id"`},
	}
	for _, c := range cases {
		_, err := ram.Parse([]byte(c.doc))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Parse(%s) = %v, want an error containing %q", c.doc, err, c.want)
		}
	}
	// The store refuses such a document when it is created, with RAM's code.
	s := ram.NewStore()
	err := s.CreatePolicy(acct, "p", `{"Version":"1","Statement":[{"Effect":"Allow","NotAction":"ram:*","Resource":"*"}]}`)
	if err == nil || err.Code != "MalformedPolicyDocument" || !strings.Contains(err.Message, "NotAction") {
		t.Fatalf("CreatePolicy = %v", err)
	}
}

func TestResourcesFromTheTable(t *testing.T) {
	api := func(product, name string) ram.API {
		a, ok := ram.Lookup(product, name)
		if !ok {
			t.Fatalf("no row for %s %s", product, name)
		}
		return a
	}
	req := func(params map[string]string) ram.Request {
		return ram.Request{Region: "cn-hangzhou", Account: acct, Params: params, Paths: fakePaths{}}
	}
	cases := []struct {
		api  ram.API
		req  ram.Request
		want []string
	}{
		{api("ecs", "DescribeImages"), req(nil), []string{"acs:ecs:cn-hangzhou:" + acct + ":image/*"}},
		{api("ecs", "DescribeImages"), req(map[string]string{"ImageId": "m-1, m-2"}),
			[]string{"acs:ecs:cn-hangzhou:" + acct + ":image/m-1", "acs:ecs:cn-hangzhou:" + acct + ":image/m-2"}},
		{api("ecs", "TagResources"), req(map[string]string{"ResourceType": "image", "ResourceId.1": "m-1", "ResourceId.2": "m-2"}),
			[]string{"acs:ecs:cn-hangzhou:" + acct + ":image/m-1", "acs:ecs:cn-hangzhou:" + acct + ":image/m-2"}},
		{api("ecs", "ModifyImageSharePermission"), req(map[string]string{"ImageId": "m-1"}), []string{"acs:ecs:cn-hangzhou:" + acct + ":image/m-1"}},
		{api("resourcesharing", "CreateResourceShare"), req(map[string]string{"ResourceShareName": "x"}), []string{"*"}},
		{api("resourcemanager", "GetAccount"), ram.Request{Account: acct, Params: map[string]string{"AccountId": "1000000000000002"}, Paths: fakePaths{}},
			[]string{"acs:resourcemanager::" + acct + ":account/rd-x/r-x/1000000000000002"}},
		{api("resourcemanager", "GetAccount"), ram.Request{Account: acct, Params: map[string]string{"AccountId": "2000000000000009"}, Paths: fakePaths{}},
			[]string{"acs:resourcemanager::" + acct + ":account/2000000000000009"}},
		{api("mns", "BatchSendMessage"), req(map[string]string{"QueueName": "jobs"}), []string{"acs:mns:cn-hangzhou:" + acct + ":/queues/jobs/messages"}},
		{api("mns", "PublishMessage"), req(map[string]string{"TopicName": "t"}), []string{"acs:mns:cn-hangzhou:" + acct + ":/topics/t/messages"}},
	}
	for _, c := range cases {
		if got := c.api.Resources(c.req); !slices.Equal(got, c.want) {
			t.Errorf("%s %s: %q, want %q", c.api.Product, c.api.Name, got, c.want)
		}
	}
}

type fakePaths struct{}

func (fakePaths) AccountPath(id string) (string, bool) {
	if id == "1000000000000002" {
		return "rd-x/r-x/" + id, true
	}
	return "", false
}

func (fakePaths) FolderPath(string) (string, bool) { return "", false }

// Every API the emulated cloud serves is checked against a row of the table, and every
// row names its source.
func TestTableCoversTheEmulatedServices(t *testing.T) {
	for product, names := range cloudsim.APIs() {
		for _, n := range names {
			if _, ok := ram.Lookup(product, n); !ok {
				t.Errorf("the emulated %s serves %s, which has no row in the RAM table", product, n)
			}
		}
	}
	for _, op := range mns.Operations {
		if _, ok := ram.Lookup("mns", op); !ok {
			t.Errorf("the emulated MNS serves %s, which has no row in the RAM table", op)
		}
	}
	// The services mounted on the RPC cloud (imageshare setup's and doctor's).
	store := ram.NewStore()
	for _, svc := range []emu.Service{ram.NewService(store), sts.New(), eventbridge.New(store), mns.New(mns.Config{}).Management(),
		actiontrail.New(actiontrail.Config{})} {
		for name := range svc.Actions() {
			if _, ok := ram.Lookup(svc.Product(), name); !ok {
				t.Errorf("the emulated %s serves %s, which has no row in the RAM table", svc.Product(), name)
			}
		}
	}
	if _, ok := ram.Lookup("actiontrail", "LookupEvents"); !ok {
		t.Error("no row for ActionTrail LookupEvents (the organization poll)")
	}
	// The RAM code of each product's actions: its own, except the MNS management API,
	// whose actions are MNS's, and EventBridge's service-linked role, which is RAM's.
	code := func(a ram.API) string {
		switch {
		case a.Product == "mns-open":
			return "mns"
		case a.Product == "eventbridge" && a.Name == "CreateServiceLinkedRoleForProduct":
			return "ram"
		}
		return a.Product
	}
	for _, a := range ram.Table {
		if !strings.HasPrefix(a.Source, "https://") || !strings.HasPrefix(strings.ToLower(a.Action), code(a)+":") {
			t.Errorf("row %s %s: action %q, source %q", a.Product, a.Name, a.Action, a.Source)
		}
		if a.Resource == "*" && !a.AllResources {
			t.Errorf("row %s %s: resource * must be an All Resources row (only * matches it)", a.Product, a.Name)
		}
		if a.AllResources && a.Resource != "*" {
			t.Errorf("row %s %s: All Resources with resource %q", a.Product, a.Name, a.Resource)
		}
	}
}

func TestStore(t *testing.T) {
	s := ram.NewStore()
	doc := allow("ecs:DescribeImages", "*")
	role := emu.Identity{AccountID: acct, Type: "assumed-role", RoleName: "r", SessionName: "s"}
	if _, evaluated := s.PoliciesFor(emu.Identity{AccountID: acct, Type: "root-account"}); evaluated {
		t.Fatal("root identities are evaluated")
	}
	if ps, evaluated := s.PoliciesFor(role); !evaluated || len(ps) != 0 {
		t.Fatalf("unknown role: %v %v", ps, evaluated)
	}
	if err := s.AttachPolicyToRole(acct, emu.PolicyCustom, "p", "r"); err == nil || err.Code != "EntityNotExist.Role" {
		t.Fatalf("attach to a missing role: %v", err)
	}
	if err := s.Grant(acct, "r", "p", doc); err != nil {
		t.Fatal(err)
	}
	if err := s.CreatePolicy(acct, "p", doc); err == nil || err.Code != "EntityAlreadyExists.Policy" {
		t.Fatalf("second CreatePolicy: %v", err)
	}
	// Versions: at most five; the default is the one in force.
	for i := 2; i <= emu.MaxPolicyVersions; i++ {
		id, err := s.CreatePolicyVersion(acct, "p", allow("ecs:TagResources", "*"), i == 3)
		if err != nil || id != "v"+string(rune('0'+i)) {
			t.Fatalf("version %d: %s %v", i, id, err)
		}
	}
	if _, err := s.CreatePolicyVersion(acct, "p", doc, false); err == nil || err.Code != "LimitExceeded.Policy.Version" {
		t.Fatalf("sixth version: %v", err)
	}
	ps, _ := s.PoliciesFor(role)
	if len(ps) != 1 || ps[0].Version != "v3" || !strings.Contains(ps[0].Document, "TagResources") {
		t.Fatalf("in force: %+v", ps)
	}
	if err := s.DeletePolicyVersion(acct, "p", "v3"); err == nil {
		t.Fatal("deleted the default version")
	}
	if err := s.SetDefaultPolicyVersion(acct, "p", "v1"); err != nil {
		t.Fatal(err)
	}
	must := func(err *emu.APIError) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(s.DeletePolicyVersion(acct, "p", "v3"))
	d, _ := ram.Authorize(s, role, "ecs", "TagResources", ram.Request{Region: "cn-hangzhou", Account: acct,
		Params: map[string]string{"ResourceType": "image", "ResourceId.1": "m-1"}})
	if d.Allowed {
		t.Fatal("v1 allows only DescribeImages")
	}
	d, _ = ram.Authorize(s, role, "ecs", "DescribeImages", ram.Request{Region: "cn-hangzhou", Account: acct})
	if !d.Allowed {
		t.Fatalf("DescribeImages: %s", d)
	}
	must(s.DetachPolicyFromRole(acct, emu.PolicyCustom, "p", "r"))
	if ps, _ := s.PoliciesFor(role); len(ps) != 0 {
		t.Fatalf("after detach: %v", ps)
	}
	// A RAM user is evaluated like a role.
	must(s.CreateUser(acct, "alice"))
	must(s.CreateSystemPolicy("ReadOnly", allow("ecs:Describe*", "*")))
	must(s.AttachPolicyToUser(acct, emu.PolicySystem, "ReadOnly", "alice"))
	alice := emu.NewKeyring().UserAccessKey(acct, "alice").Identity
	if d, ev := ram.Authorize(s, alice, "ecs", "DescribeImages", ram.Request{Region: "cn-hangzhou", Account: acct}); !ev || !d.Allowed {
		t.Fatalf("alice DescribeImages: %s %v", d, ev)
	}
	if d, _ := ram.Authorize(s, alice, "ecs", "DeleteImage", ram.Request{Region: "cn-hangzhou", Account: acct}); d.Allowed {
		t.Fatal("alice may delete images")
	}
}
