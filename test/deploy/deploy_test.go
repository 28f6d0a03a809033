// Package deploy checks what `s deploy` is given: s.yaml against the fc3 props schema,
// the paths and handlers it names, the routing of its trigger filters, the settings it
// sets, the RAM policy against every action the code can call, and the linux/amd64 build.
package deploy

import (
	"context"
	"encoding/json"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"runtime/debug"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"imageshare/pkg/aliyun"
	"imageshare/pkg/cloud"
	"imageshare/pkg/cloudsim"
	"imageshare/pkg/cloudsim/emu"
	"imageshare/pkg/cloudsim/mns"
	"imageshare/pkg/eventbridge"
	"imageshare/pkg/function"
	"imageshare/pkg/queue"
	"imageshare/pkg/settings"
	"imageshare/pkg/syaml"
	"imageshare/test/testcache"
)

const root = "../.."

func read(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func project(t *testing.T) (*syaml.Project, []syaml.Function) {
	t.Helper()
	p, err := syaml.Load(read(t, root+"/s.yaml"), nil)
	if err != nil {
		t.Fatal(err)
	}
	fns, err := p.Functions()
	if err != nil {
		t.Fatal(err)
	}
	return p, fns
}

func TestPropsMatchTheSchema(t *testing.T) {
	p, _ := project(t)
	schema := read(t, root+"/../shared/schemas/fc3-props.schema.json")
	for _, r := range p.Resources {
		if err := syaml.ValidateProps(schema, r.Props); err != nil {
			t.Errorf("%s: %v", r.Key, err)
		}
	}
	// Other regions of the schema's enum must work too, as deployers pass --var region.
	for _, region := range []string{"cn-shanghai", "ap-southeast-1", "eu-central-1"} {
		p, err := syaml.Load(read(t, root+"/s.yaml"), map[string]string{"region": region})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range p.Resources {
			if err := syaml.ValidateProps(schema, r.Props); err != nil {
				t.Errorf("%s in %s: %v", r.Key, region, err)
			}
		}
	}
}

func TestOnlyVarsAreSubstituted(t *testing.T) {
	for _, m := range regexp.MustCompile(`\$\{([^}]*)\}`).FindAllStringSubmatch(string(read(t, root+"/s.yaml")), -1) {
		if !strings.HasPrefix(m[1], "vars.") {
			t.Errorf("s.yaml uses %s; only ${vars.NAME} is allowed", m[0])
		}
	}
}

var buildRE = regexp.MustCompile(`^GOOS=linux GOARCH=amd64 CGO_ENABLED=0 go build .*-o (\S+) (\./functions/\S+)$`)

func TestPathsAndHandlersExist(t *testing.T) {
	p, fns := project(t)
	keys := map[string]bool{}
	for _, f := range fns {
		keys[f.Key] = true
		if f.Runtime != "go1" || f.Handler != "main" {
			t.Errorf("%s: runtime %q handler %q, want go1 and main (the binary's name)", f.Key, f.Runtime, f.Handler)
		}
		if !strings.HasPrefix(f.Name, "imageshare-") {
			t.Errorf("%s: function name %q", f.Key, f.Name)
		}
	}
	if want := function.Names; !reflect.DeepEqual(slices.Sorted(maps.Keys(keys)), sortedCopy(want)) {
		t.Fatalf("functions %v, want %v", slices.Sorted(maps.Keys(keys)), want)
	}
	for _, r := range p.Resources {
		if len(r.PreDeploy) != 1 {
			t.Errorf("%s: want one pre-deploy build, got %d", r.Key, len(r.PreDeploy))
			continue
		}
		m := buildRE.FindStringSubmatch(r.PreDeploy[0].Run)
		if m == nil {
			t.Errorf("%s: pre-deploy %q must build GOOS=linux GOARCH=amd64 CGO_ENABLED=0 from ./functions/…", r.Key, r.PreDeploy[0].Run)
			continue
		}
		out, pkg := m[1], m[2]
		if pkg != "./functions/"+r.Key {
			t.Errorf("%s builds %s", r.Key, pkg)
		}
		main := read(t, filepath.Join(root, pkg, "main.go"))
		if !strings.Contains(string(main), "package main") || !strings.Contains(string(main), "function.Main(") {
			t.Errorf("%s: %s is not a function main", r.Key, pkg)
		}
		code, _ := r.Props["code"].(string)
		if filepath.Clean(out) != filepath.Join(filepath.Clean(code), "main") {
			t.Errorf("%s: builds %s but deploys code %s with handler main", r.Key, out, code)
		}
	}
}

func TestSettingsAreAllSetAndValid(t *testing.T) {
	_, fns := project(t)
	for _, f := range fns {
		for _, v := range settings.Vars {
			if _, ok := f.Env[v.Name]; !ok {
				t.Errorf("%s: environment lacks %s", f.Key, v.Name)
			}
		}
		if _, err := settings.Load(func(k string) string { return f.Env[k] }); err != nil {
			t.Errorf("%s: the default settings are invalid: %v", f.Key, err)
		}
		if f.Env["FUNCTION_ROLE"] == "" || !strings.HasSuffix(f.Role, ":role/"+f.Env["FUNCTION_ROLE"]) {
			t.Errorf("%s: role %q and FUNCTION_ROLE %q must name the same role (own events are dropped by it)", f.Key, f.Role, f.Env["FUNCTION_ROLE"])
		}
	}
}

// event is an ActionTrail CloudEvent as EventBridge delivers it.
func event(source, typ, name string) []byte {
	b, _ := json.Marshal(map[string]any{"specversion": "1.0", "id": "e", "source": source, "type": typ,
		"data": map[string]any{"eventName": name, "requestParameters": map[string]any{}}})
	return b
}

func TestTriggerRouting(t *testing.T) {
	_, fns := project(t)
	route := func(ev []byte) []string {
		var out []string
		for _, f := range fns {
			for _, tr := range f.Triggers {
				if tr.EventBridge == nil || tr.EventBridge.SourceType != "Default" {
					continue
				}
				p, err := eventbridge.Compile([]byte(tr.EventBridge.FilterPattern))
				if err != nil {
					t.Fatalf("%s: %v", f.Key, err)
				}
				if p.Match(ev) {
					out = append(out, f.Key)
				}
			}
		}
		return out
	}
	for _, typ := range []string{"ApiCall", "ConsoleOperation"} {
		for _, name := range []string{"CreateImage", "CopyImage", "ImportImage", "TagResources", "UntagResources", "AddTags", "RemoveTags", "ModifyImageSharePermission", "DeleteImage"} {
			if got := route(event("acs.ecs", "ecs:ActionTrail:"+typ, name)); !slices.Equal(got, []string{"image-events"}) {
				t.Errorf("ecs %s %s routes to %v", typ, name, got)
			}
		}
		for _, name := range []string{"CreateResourceAccount", "InviteAccountToResourceDirectory", "AcceptHandshake", "MoveAccount", "RemoveCloudAccount", "DeleteAccount"} {
			if got := route(event("acs.resourcemanager", "resourcemanager:ActionTrail:"+typ, name)); !slices.Equal(got, []string{"org-events"}) {
				t.Errorf("resourcemanager %s %s routes to %v", typ, name, got)
			}
		}
	}
	for _, ev := range [][]byte{event("acs.ecs", "ecs:ActionTrail:ApiCall", "StartInstance"), event("acs.ecs", "ecs:Instance:StateChange", "TagResources"),
		event("acs.resourcemanager", "resourcemanager:ResourceSharing:AssociationStatusChange", "x")} {
		if got := route(ev); len(got) != 0 {
			t.Errorf("%s routes to %v", ev, got)
		}
	}
	// MNS sources: EventBridge names their events MNS-<functionName>-<triggerName>.
	for _, f := range fns {
		for _, tr := range f.Triggers {
			if tr.EventBridge == nil || tr.EventBridge.SourceType != "MNS" {
				continue
			}
			p, _ := eventbridge.Compile([]byte(tr.EventBridge.FilterPattern))
			ev, _ := json.Marshal(map[string]any{"id": "1", "source": "MNS-" + f.Name + "-" + tr.Name, "type": "mns:Queue:SendMessage", "data": map[string]any{}})
			if !p.Match(ev) {
				t.Errorf("%s: the pattern %s misses its own MNS source", f.Key, tr.EventBridge.FilterPattern)
			}
		}
	}
}

// TestRAMPolicyCoversTheCode calls every method of cloud.API through the SDK client and
// the queue client against the emulated cloud, and checks that every action the cloud
// saw is allowed by deploy/ram-policy.json, and that the policy allows nothing else.
func TestRAMPolicyCoversTheCode(t *testing.T) {
	var pol struct {
		Statement []struct {
			Action   []string
			Resource any
		}
	}
	if err := json.Unmarshal(read(t, root+"/deploy/ram-policy.json"), &pol); err != nil {
		t.Fatal(err)
	}
	allowed := map[string]bool{}
	for _, s := range pol.Statement {
		for _, a := range s.Action {
			allowed[a] = true
		}
		if s.Resource == "*" {
			for _, a := range s.Action {
				if !regexp.MustCompile(`:(Describe|List|Get)`).MatchString(a) {
					t.Errorf("%s is allowed on every resource; scope it to the account's resources", a)
				}
			}
		}
	}
	seen := actionsOfTheCode(t)
	for _, a := range seen {
		if !allowed[a] {
			t.Errorf("the code calls %s, which deploy/ram-policy.json does not allow", a)
		}
	}
	for a := range allowed {
		if !slices.Contains(seen, a) {
			t.Errorf("deploy/ram-policy.json allows %s, which the code never calls (least privilege)", a)
		}
	}
}

func actionsOfTheCode(t *testing.T) []string {
	t.Helper()
	clock, keys := emu.NewClock(emu.Epoch), emu.NewKeyring()
	c := cloudsim.New(cloudsim.Config{Clock: clock, Keys: keys})
	m := mns.New(mns.Config{Clock: clock, Keys: keys})
	eps, stop, err := c.Serve()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop)
	ms, err := emu.Listen(m)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ms.Close() })
	const owner = "1000000000000001"
	c.AddAccount(owner, "china")
	cred := keys.AssumeRole(owner, "imageshare-fc", "s", time.Hour)
	creds := cloud.Credentials{AccessKeyID: cred.AccessKeyID, AccessKeySecret: cred.AccessKeySecret, SecurityToken: cred.SecurityToken}
	api, err := aliyun.New(aliyun.Config{Region: "cn-hangzhou", Credentials: creds, Endpoints: eps})
	if err != nil {
		t.Fatal(err)
	}
	// Call every method of the interface once (answers, even errors, do not matter).
	v := reflect.ValueOf(api)
	it := reflect.TypeOf((*cloud.API)(nil)).Elem()
	for i := 0; i < it.NumMethod(); i++ {
		meth := v.MethodByName(it.Method(i).Name)
		args := []reflect.Value{reflect.ValueOf(context.Background())}
		for j := 1; j < meth.Type().NumIn(); j++ {
			args = append(args, reflect.Zero(meth.Type().In(j)))
		}
		switch it.Method(i).Name {
		case "DescribeImages":
			args[1] = reflect.ValueOf(cloud.DescribeImagesInput{Region: "cn-hangzhou", Page: 1, PageSize: 10})
		}
		for j := 1; j < len(args); j++ {
			if args[j].Kind() == reflect.String {
				args[j] = reflect.ValueOf("cn-hangzhou")
			}
		}
		meth.Call(args)
	}
	q, err := queue.New(queue.Config{AccountID: owner, Region: "cn-hangzhou", Credentials: creds, Endpoint: ms.URL()})
	if err != nil {
		t.Fatal(err)
	}
	_ = q.Send(context.Background(), "imageshare-jobs", []string{"{}"}, 0)
	_ = q.Publish(context.Background(), "imageshare-notices", "{}")

	set := map[string]bool{}
	for _, call := range c.Calls() {
		set[call.Product+":"+call.Action] = true
	}
	for _, call := range m.Calls() {
		switch call.Operation {
		case "SendMessage", "BatchSendMessage":
			set["mns:SendMessage"] = true
		case "PublishMessage":
			set["mns:PublishMessage"] = true
		default:
			set["mns:"+call.Operation] = true
		}
	}
	if len(c.Calls()) != it.NumMethod() {
		t.Fatalf("%d calls reached the cloud for %d methods", len(c.Calls()), it.NumMethod())
	}
	return slices.Sorted(maps.Keys(set))
}

// TestFunctionsBuildForLinux builds the five functions as s.yaml's pre-deploy does:
// linux/amd64, CGO_ENABLED=0. It builds with the -trimpath setting this test binary was
// built with (its build info says), so that when the tests are built for the same
// target — CI sets CGO_ENABLED=0 and GOFLAGS=-trimpath on linux/amd64 — the build cache
// already holds every package and only the links remain. s.yaml's -trimpath and
// -ldflags=-s change the paths and symbols recorded in a binary, not whether it builds.
func TestFunctionsBuildForLinux(t *testing.T) {
	if testing.Short() {
		t.Skip("builds five linux/amd64 binaries; skipped with -short")
	}
	srcs, err := testcache.Find(root, "./functions/...")
	if err != nil {
		t.Fatal(err)
	}
	srcs.Declare() // the build below is out of go test's sight
	out := t.TempDir()
	args := []string{"build", "-o", out + "/"}
	if builtWith("-trimpath") == "true" {
		args = append(args, "-trimpath")
	}
	cmd := exec.Command("go", append(args, "./functions/...")...)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "GOOS=linux", "GOARCH=amd64", "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, b)
	}
	for _, n := range function.Names {
		if st, err := os.Stat(filepath.Join(out, n)); err != nil || st.Size() == 0 {
			t.Errorf("%s not built: %v", n, err)
		}
	}
}

// builtWith returns a build setting of this test binary ("" when not set).
func builtWith(key string) string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == key {
				return s.Value
			}
		}
	}
	return ""
}

func sortedCopy(xs []string) []string {
	out := append([]string(nil), xs...)
	sort.Strings(out)
	return out
}
