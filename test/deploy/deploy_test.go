// Package deploy checks what `s deploy` is given: s.yaml against the fc3 props schema,
// the paths and handlers it names, the routing of its trigger filters, the settings it
// sets, the RAM policy against every action the code can call (evaluated by the emulated
// RAM), and the linux/amd64 build.
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
	"imageshare/pkg/cloudsim/actiontrail"
	"imageshare/pkg/cloudsim/emu"
	"imageshare/pkg/cloudsim/mns"
	"imageshare/pkg/cloudsim/ram"
	"imageshare/pkg/eventbridge"
	"imageshare/pkg/function"
	"imageshare/pkg/queue"
	"imageshare/pkg/rampolicy"
	"imageshare/pkg/settings"
	"imageshare/pkg/syaml"
	"imageshare/test/testcache"
)

const (
	root  = "../.."
	owner = "1000000000000001"
)

func read(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// deployer is the environment of a deployer who exported only the account ID, which
// has no default in s.yaml.
var deployer = map[string]string{"IMAGESHARE_ACCOUNT_ID": "1000000000000001"}

// load reads s.yaml as `s deploy` does in a shell whose environment is env.
func load(t *testing.T, env map[string]string) (*syaml.Project, []syaml.Function) {
	t.Helper()
	p, err := syaml.LoadWith(read(t, root+"/s.yaml"), syaml.Options{Env: syaml.HostEnv(func(k string) (string, bool) {
		v, ok := env[k]
		return v, ok
	})})
	if err != nil {
		t.Fatal(err)
	}
	fns, err := p.Functions()
	if err != nil {
		t.Fatal(err)
	}
	return p, fns
}

func project(t *testing.T) (*syaml.Project, []syaml.Function) {
	t.Helper()
	return load(t, deployer)
}

// with returns the deployer's environment plus more.
func with(more map[string]string) map[string]string {
	env := maps.Clone(deployer)
	maps.Copy(env, more)
	return env
}

func TestPropsMatchTheSchema(t *testing.T) {
	p, _ := project(t)
	schema := syaml.FC3Schema
	for _, r := range p.Resources {
		if err := syaml.ValidateProps(schema, r.Props); err != nil {
			t.Errorf("%s: %v", r.Key, err)
		}
	}
	// Other regions of the schema's enum work too (IMAGESHARE_REGION), and so do the
	// deployment's other values set away from their defaults.
	for _, region := range []string{"cn-shanghai", "ap-southeast-1", "eu-central-1"} {
		p, fns := load(t, with(map[string]string{"IMAGESHARE_REGION": region, "IMAGESHARE_JOB_QUEUE": "ops-jobs",
			"IMAGESHARE_DEAD_LETTER_QUEUE": "ops-dead", "IMAGESHARE_FUNCTION_ROLE": "ops-fc", "IMAGESHARE_NOTIFY_TOPIC": "ops-notices",
			"IMAGESHARE_DRY_RUN": "false", "IMAGESHARE_MAX_ACCOUNTS_PER_IMAGE": "60", "IMAGESHARE_REGIONS": "cn-beijing"}))
		for _, r := range p.Resources {
			if err := syaml.ValidateProps(schema, r.Props); err != nil {
				t.Errorf("%s in %s: %v", r.Key, region, err)
			}
		}
		for _, f := range fns {
			if f.Region != region || f.Role != "acs:ram::1000000000000001:role/ops-fc" {
				t.Errorf("%s in %s: region %q role %q", f.Key, region, f.Region, f.Role)
			}
			if _, err := settings.Load(func(k string) string { return f.Env[k] }); err != nil {
				t.Errorf("%s in %s: %v", f.Key, region, err)
			}
			for _, tr := range f.Triggers {
				if eb := tr.EventBridge; eb != nil && (eb.MNSQueue != "" && eb.MNSQueue != "ops-jobs" && eb.MNSQueue != "ops-dead" ||
					eb.DeadLetterArn != "" && eb.DeadLetterArn != "acs:mns:"+region+":1000000000000001:/queues/ops-dead") {
					t.Errorf("%s in %s: trigger %s reads %q, dead letters to %q", f.Key, region, tr.Name, eb.MNSQueue, eb.DeadLetterArn)
				}
			}
		}
	}
}

// Per-deployment values are ${env('IMAGESHARE_…', 'default')} (Serverless Devs has no
// --var); nothing else but ${vars.NAME} is used.
func TestOnlyVarsAndEnvAreSubstituted(t *testing.T) {
	envRE := regexp.MustCompile(`^env\('IMAGESHARE_[A-Z_]+'(, '[^']*')?\)$`)
	var code strings.Builder // s.yaml without its comments
	for _, line := range strings.Split(string(read(t, root+"/s.yaml")), "\n") {
		if !strings.HasPrefix(strings.TrimSpace(line), "#") {
			line, _, _ = strings.Cut(line, " #")
			code.WriteString(line + "\n")
		}
	}
	for _, m := range regexp.MustCompile(`\$\{([^}]*)\}`).FindAllStringSubmatch(code.String(), -1) {
		if !strings.HasPrefix(m[1], "vars.") && !envRE.MatchString(m[1]) {
			t.Errorf("s.yaml uses %s; only ${vars.NAME} and ${env('IMAGESHARE_NAME', 'default')} are allowed", m[0])
		}
	}
	p, _ := project(t)
	for _, r := range p.Env {
		if !r.HasDefault && r.Name != "IMAGESHARE_ACCOUNT_ID" {
			t.Errorf("%s at line %d has no default", r.Expr, r.Line)
		}
	}
	if _, err := syaml.LoadWith(read(t, root+"/s.yaml"), syaml.Options{Env: syaml.HostEnv(func(string) (string, bool) { return "", false })}); err == nil ||
		!strings.Contains(err.Error(), "IMAGESHARE_ACCOUNT_ID is not set") {
		t.Errorf("s.yaml without IMAGESHARE_ACCOUNT_ID: %v, want an error naming it", err)
	}
}

// A deployer can set every setting with IMAGESHARE_<SETTING>, and the defaults written
// in s.yaml are the settings' own defaults except DRY_RUN, which is true so that a
// first deployment only reports.
func TestEverySettingIsAnEnvironmentVariable(t *testing.T) {
	marked := map[string]string{}
	for _, v := range settings.Vars {
		marked["IMAGESHARE_"+v.Name] = "mark-" + v.Name
	}
	_, fns := load(t, with(marked))
	_, defaults := project(t)
	for i, f := range fns {
		for _, v := range settings.Vars {
			if got := f.Env[v.Name]; got != "mark-"+v.Name {
				t.Errorf("%s: IMAGESHARE_%s does not set %s (it is %q)", f.Key, v.Name, v.Name, got)
			}
			want := v.Default
			if v.Name == "DRY_RUN" {
				want = "true"
			}
			if got := defaults[i].Env[v.Name]; got != want {
				t.Errorf("%s: s.yaml's default for %s is %q, want %q", f.Key, v.Name, got, want)
			}
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

// TestRAMPolicyCoversTheCode calls every method of cloud.API through the SDK client,
// and the queue client's send and publish, as the functions' role holding the policy
// rampolicy builds for a deployment, against the emulated cloud, which evaluates RAM
// with its own table of actions and resources (package cloudsim/ram): no call may be
// denied, the policy may grant no action the code never calls, and each grant must be
// on a resource its action accepts.
func TestRAMPolicyCoversTheCode(t *testing.T) {
	d := rampolicy.Deployment{Account: owner, Region: "cn-hangzhou", JobQueue: "imageshare-jobs", NotifyTopic: "imageshare-notices", OrgPoll: true}
	doc, err := rampolicy.Build(d)
	if err != nil {
		t.Fatal(err)
	}
	seen, denials := actionsOfTheCode(t, string(doc.JSON()))
	for _, d := range denials {
		t.Errorf("RAM denied the code: %s", d)
	}
	granted := map[string]bool{}
	for _, st := range doc.Statement {
		for _, a := range st.Action {
			granted[a] = true
			if !slices.Contains(seen, a) {
				t.Errorf("the policy grants %s, which the code never calls (least privilege)", a)
			}
			row, ok := rowOf(a)
			if !ok {
				t.Errorf("%s has no row in the emulated RAM's table", a)
				continue
			}
			star := slices.Contains(st.Resource, "*")
			switch {
			case row.AllResources && !(star && len(st.Resource) == 1):
				t.Errorf("%s is an All Resources action (%s): granted on %v, the statement would be ineffective", a, row.Source, st.Resource)
			case !row.AllResources && star && !regexp.MustCompile(`:(Describe|List|Get)`).MatchString(a):
				t.Errorf("%s writes and supports resource-level permission (%s); it is granted on every resource", a, row.Source)
			}
		}
	}
	for _, a := range seen {
		if !granted[a] {
			t.Errorf("the code calls %s, which the policy does not grant", a)
		}
	}
}

// TestPreFixPolicyIsDenied: the policy this repository shipped before RAM was emulated
// (kept as test data) is denied exactly where the references say it is wrong: the
// queue client's BatchSendMessage (it granted mns:SendMessage on the queue, not its
// messages), and the "All Resources" Resource Sharing writes it scoped to resource
// shares.
func TestPreFixPolicyIsDenied(t *testing.T) {
	doc := strings.ReplaceAll(string(read(t, root+"/test/scenarios/testdata/pre-fix-ram-policy.json")), "ACCOUNT_ID", owner)
	_, denials := actionsOfTheCode(t, doc)
	var actions []string
	for _, d := range denials {
		a, _, _ := strings.Cut(d, " ")
		actions = append(actions, a)
	}
	slices.Sort(actions)
	// ecs:CopyImage and ecs:UntagResources came later (copies in other regions,
	// docs/regions.md): an old policy lacks them too.
	want := []string{"actiontrail:LookupEvents", "ecs:CopyImage", "ecs:UntagResources", "mns:BatchSendMessage", "resourcesharing:AssociateResourceShare", "resourcesharing:CreateResourceShare",
		"resourcesharing:DeleteResourceShare", "resourcesharing:DisassociateResourceShare", "resourcesharing:UpdateResourceShare"}
	if !slices.Equal(slices.Compact(actions), want) {
		t.Fatalf("denied %q, want %q", denials, want)
	}
}

// rowOf finds the emulated RAM's row of an action.
func rowOf(action string) (ram.API, bool) {
	for _, r := range ram.Table {
		if r.Action == action {
			return r, true
		}
	}
	return ram.API{}, false
}

// actionsOfTheCode returns the RAM actions (from the emulated RAM's table) of the calls
// the code makes, and RAM's denials of them under doc.
func actionsOfTheCode(t *testing.T, doc string) (actions, denials []string) {
	t.Helper()
	clock, keys := emu.NewClock(emu.Epoch), emu.NewKeyring()
	store := ram.NewStore()
	trail := actiontrail.New(actiontrail.Config{Now: clock.Now})
	c := cloudsim.New(cloudsim.Config{Clock: clock, Keys: keys, RAM: store, Services: []emu.Service{trail}, Trail: trail})
	m := mns.New(mns.Config{Clock: clock, Keys: keys, RAM: store})
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
	c.AddAccount(owner, "china")
	if err := store.Grant(owner, "imageshare-fc", "imageshare-fc", doc); err != nil {
		t.Fatal(err)
	}
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
		case "CopyImage":
			args[1] = reflect.ValueOf(cloud.CopyImageInput{Region: "cn-hangzhou", Image: "m-Base00000001", Destination: "cn-shanghai"})
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
		set[call.RAMAction] = true
		if call.Denial != "" {
			denials = append(denials, call.Denial)
		}
	}
	for _, call := range m.Calls() {
		set[call.RAMAction] = true
		if call.Denial != "" {
			denials = append(denials, call.Denial)
		}
	}
	if len(c.Calls()) != it.NumMethod() {
		t.Fatalf("%d calls reached the cloud for %d methods", len(c.Calls()), it.NumMethod())
	}
	if len(m.Calls()) != 2 {
		t.Fatalf("%d calls reached MNS for a send and a publish", len(m.Calls()))
	}
	return slices.Sorted(maps.Keys(set)), denials
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
