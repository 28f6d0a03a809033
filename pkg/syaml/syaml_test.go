package syaml

import (
	"os"
	"reflect"
	"strings"
	"testing"
)

func read(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func loadFixture(t *testing.T, vars map[string]string) *Project {
	t.Helper()
	p, err := Load(read(t, "testdata/s.yaml"), vars)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestLoad(t *testing.T) {
	p := loadFixture(t, map[string]string{"region": "cn-shanghai", "extra": "x"})
	if p.Edition != "3.0.0" || p.Name != "fixture" || p.Access != "default" {
		t.Errorf("header = %q %q %q", p.Edition, p.Name, p.Access)
	}
	wantVars := map[string]string{"region": "cn-shanghai", "accountId": "1000000000000001", "queue": "jobs", "prefix": "fx",
		"dlqArn": "acs:mns:cn-shanghai:1000000000000001:/queues/dlq", "extra": "x"}
	if !reflect.DeepEqual(p.Vars, wantVars) {
		t.Errorf("vars = %v", p.Vars)
	}
	var keys, comps []string
	for _, r := range p.Resources {
		keys = append(keys, r.Key)
		comps = append(comps, r.Component)
	}
	if !reflect.DeepEqual(keys, []string{"worker", "ticker", "site"}) || !reflect.DeepEqual(comps, []string{"fc3", "fc3@0.1.0", "fc3-domain"}) {
		t.Errorf("resources = %v %v", keys, comps)
	}
	w := p.Resources[0]
	if want := []Action{{Run: "go build -o target/worker ./cmd/worker", Path: "./"}}; !reflect.DeepEqual(w.PreDeploy, want) {
		t.Errorf("pre-deploy = %+v", w.PreDeploy)
	}
	if w.Props["region"] != "cn-shanghai" || w.Props["functionName"] != "fx-worker" {
		t.Errorf("substitution: region=%v functionName=%v", w.Props["region"], w.Props["functionName"])
	}
	if w.Props["timeout"] != 60 || w.Props["role"] != "acs:ram::1000000000000001:role/fx-role" {
		t.Errorf("timeout=%#v role=%#v", w.Props["timeout"], w.Props["role"])
	}
	tc := w.Props["triggers"].([]any)[0].(map[string]any)["triggerConfig"].(map[string]any)
	if tc["triggerEnable"] != true || tc["eventRuleFilterPattern"] != `{"source":["MNS-fx-worker-jobs"]}` {
		t.Errorf("triggerConfig = %v", tc)
	}
}

func TestFunctions(t *testing.T) {
	fns, err := loadFixture(t, nil).Functions()
	if err != nil {
		t.Fatal(err)
	}
	if len(fns) != 2 {
		t.Fatalf("%d functions, want 2 (the fc3-domain resource is not a function)", len(fns))
	}
	w := fns[0]
	want := Function{Key: "worker", Name: "fx-worker", Region: "cn-hangzhou", Runtime: "custom.debian10", Handler: "main",
		Code: "./target/worker", Timeout: 60, MemorySize: 256, InstanceConcurrency: 2, Role: "acs:ram::1000000000000001:role/fx-role",
		Env: map[string]string{"JOB_QUEUE": "jobs", "DRY_RUN": "false", "OWNER": "1000000000000001"},
		Triggers: []Trigger{{Name: "jobs", Type: "eventbridge", Qualifier: "LATEST", EventBridge: &EventBridgeConfig{
			Enable: true, Async: false, FilterPattern: `{"source":["MNS-fx-worker-jobs"]}`, SourceType: "MNS",
			MNSQueue: "jobs", IsBase64Decode: true,
			Retry:         RetryStrategy{Strategy: "EXPONENTIAL_DECAY_RETRY", MaxAttempts: 5, MaxEventAgeSeconds: 3600},
			BatchWindow:   BatchWindow{Count: 10, Seconds: 2},
			DeadLetterArn: "acs:mns:cn-hangzhou:1000000000000001:/queues/dlq", ErrorsTolerance: "ALL"}}}}
	if !reflect.DeepEqual(w, want) {
		t.Errorf("worker =\n%+v\nwant\n%+v\n(trigger %+v)", w, want, w.Triggers[0].EventBridge)
	}
	tk := fns[1]
	if tk.Name != "fx-ticker" || tk.Timeout != 0 || tk.InstanceConcurrency != 0 {
		t.Errorf("ticker = %+v", tk)
	}
	if !reflect.DeepEqual(tk.Env, map[string]string{"JOB_QUEUE": "jobs", "DRY_RUN": "true", "OWNER": "1000000000000001"}) {
		t.Errorf("merged env = %v (explicit keys win over <<)", tk.Env)
	}
	if len(tk.Triggers) != 2 {
		t.Fatalf("ticker triggers = %+v", tk.Triggers)
	}
	if tm := tk.Triggers[0]; tm.Type != "timer" || tm.EventBridge != nil || *tm.Timer != (TimerConfig{Cron: "@every 10m", Enable: true, Payload: "tick"}) {
		t.Errorf("timer = %+v %+v", tm, tm.Timer)
	}
	eb := tk.Triggers[1].EventBridge
	if eb == nil || eb.Enable || !eb.Async || eb.SourceType != "Default" || eb.MNSQueue != "" || eb.Retry.Strategy != "BACKOFF_RETRY" {
		t.Errorf("bus trigger = %+v", eb)
	}
}

func TestValidateProps(t *testing.T) {
	schema := FC3Schema
	p := loadFixture(t, nil)
	for _, r := range p.Resources {
		if !r.IsFC3() {
			continue
		}
		if err := ValidateProps(schema, r.Props); err != nil {
			t.Errorf("%s: %v", r.Key, err)
		}
	}

	cases := []struct {
		name  string
		vars  map[string]string
		edit  func(props map[string]any)
		wants []string
	}{
		{"bad runtime", nil, func(m map[string]any) { m["runtime"] = "go2" }, []string{"/runtime"}},
		{"region outside the enum after substitution", map[string]string{"region": "mars-north-1"}, nil, []string{"/region"}},
		{"timeout as text", nil, func(m map[string]any) { m["timeout"] = "60" }, []string{"/timeout"}},
		{"memory not a multiple of 64", nil, func(m map[string]any) { m["memorySize"] = 100 }, []string{"/memorySize"}},
		{"missing functionName", nil, func(m map[string]any) { delete(m, "functionName") }, []string{"functionName"}},
		{"eventbridge trigger without eventSinkConfig", nil, func(m map[string]any) {
			delete(m["triggers"].([]any)[0].(map[string]any)["triggerConfig"].(map[string]any), "eventSinkConfig")
		}, []string{"triggers[0] (eventbridge)", "IEventBridge", "eventSinkConfig"}},
		{"eventbridge trigger without eventSourceParameters", nil, func(m map[string]any) {
			tc := m["triggers"].([]any)[0].(map[string]any)["triggerConfig"].(map[string]any)
			delete(tc["eventSourceConfig"].(map[string]any), "eventSourceParameters")
		}, []string{"triggers[0] (eventbridge)", "eventSourceParameters"}},
		{"timer without enable", nil, func(m map[string]any) {
			m["triggers"] = []any{map[string]any{"triggerName": "t", "triggerType": "timer",
				"triggerConfig": map[string]any{"cronExpression": "@every 1m"}}}
		}, []string{"triggers[0] (timer)", "enable"}},
		{"unknown trigger type", nil, func(m map[string]any) {
			m["triggers"].([]any)[0].(map[string]any)["triggerType"] = "mns_queue"
		}, []string{"/triggers/0/triggerType"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			props := loadFixture(t, c.vars).Resources[0].Props
			if c.edit != nil {
				c.edit(props)
			}
			err := ValidateProps(schema, props)
			if err == nil {
				t.Fatal("accepted")
			}
			for _, w := range c.wants {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error does not mention %q:\n%v", w, err)
				}
			}
		})
	}
	if err := ValidateProps([]byte("{"), map[string]any{}); err == nil {
		t.Error("a broken schema was accepted")
	}
}

func TestLoadErrors(t *testing.T) {
	const head = "edition: 3.0.0\nname: x\nvars: {region: cn-hangzhou}\n"
	cases := []struct{ name, src, want string }{
		{"empty", "", "empty"},
		{"not a mapping", "- a\n", "top level must be a mapping"},
		{"two documents", head + "resources: {}\n---\na: b\n", "more than one YAML document"},
		{"edition", "edition: 2.0.0\nresources: {}\n", `edition "2.0.0"`},
		{"no resources", head, "resources is missing"},
		{"unknown var", head + "resources:\n  f:\n    component: fc3\n    props: {region: '${vars.regoin}'}\n", "line 7: resources.f.props.region: unknown variable ${vars.regoin}"},
		{"env var", head + "resources:\n  f:\n    component: fc3\n    props:\n      functionName: ${env.USER}\n", "line 8: resources.f.props.functionName: unsupported variable ${env.USER}"},
		{"this props", head + "resources:\n  f:\n    component: fc3\n    props: {a: '${this.props.b}'}\n", "unsupported variable ${this.props.b}"},
		{"config function", head + "resources:\n  f:\n    component: fc3\n    props: {a: '${config(\"AccountID\")}'}\n", "unsupported variable"},
		{"unterminated", head + "resources:\n  f:\n    component: fc3\n    props: {a: 'x-${vars.region'}\n", "unterminated"},
		{"var in a run action", head + "resources:\n  f:\n    component: fc3\n    actions:\n      pre-deploy:\n        - run: echo ${HOME}\n", "line 9: resources.f.actions.pre-deploy[0].run: unsupported variable ${HOME}"},
		{"unknown var inside vars", "edition: 3.0.0\nvars: {a: '${vars.b}'}\nresources: {}\n", "vars.a: unknown variable ${vars.b}"},
		{"map var", "edition: 3.0.0\nvars:\n  env: {A: b}\nresources: {}\n", "line 3: vars.env: only scalar variables"},
		{"duplicate key", head + "resources:\n  f:\n    component: fc3\n  f:\n    component: fc3\n", `key "f" given twice`},
		{"missing component", head + "resources:\n  f:\n    props: {}\n", "component is missing"},
		{"extend", head + "resources:\n  f:\n    component: fc3\n    extend: {name: base}\n", "extend (templates) is not supported"},
		{"props list", head + "resources:\n  f:\n    component: fc3\n    props: [a]\n", "props: want a mapping"},
		{"alias bomb", "edition: 3.0.0\na: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\ne: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\nf: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\ng: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f, *f]\nresources:\n  r:\n    component: fc3\n    props: {x: *g}\n", "aliases expand too far"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p, err := Load([]byte(c.src), nil)
			if err == nil {
				t.Fatalf("accepted: %+v", p)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %q does not mention %q", err, c.want)
			}
		})
	}
}

func TestFunctionsTypeErrors(t *testing.T) {
	const head = "edition: 3.0.0\nresources:\n  f:\n    component: fc3\n    props:\n"
	cases := map[string]string{
		"timeout: soon\n      functionName: f\n":    "timeout: want an integer",
		"functionName: [a]\n":                       "functionName: want a string",
		"region: cn-hangzhou\n":                     "functionName is missing",
		"functionName: f\n      triggers: {a: b}\n": "triggers: want a list",
		"functionName: f\n      triggers:\n        - {triggerType: timer, triggerConfig: {enable: yes}}\n": "triggerConfig.enable: want true or false",
		"functionName: f\n      environmentVariables: {A: [1]}\n":                                          "environmentVariables.A: want a scalar",
	}
	for body, want := range cases {
		p, err := Load([]byte(head+"      "+body), nil)
		if err != nil {
			t.Errorf("%q: load: %v", body, err)
			continue
		}
		_, err = p.Functions()
		if err == nil || !strings.Contains(err.Error(), "resources.f.props: ") || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: error %v, want one mentioning %q", body, err, want)
		}
	}
}

// The project's own s.yaml loads with the sandbox's vars, passes the fc3 schema, and
// yields the five functions (docs/architecture.md, "What runs where") with their triggers.
func TestProjectSYaml(t *testing.T) {
	p, err := Load(read(t, "../../s.yaml"), map[string]string{"region": "cn-beijing", "accountId": "1000000000000077"})
	if err != nil {
		t.Fatal(err)
	}
	schema := FC3Schema
	for _, r := range p.Resources {
		if err := ValidateProps(schema, r.Props); err != nil {
			t.Errorf("%s: %v", r.Key, err)
		}
	}
	fns, err := p.Functions()
	if err != nil {
		t.Fatal(err)
	}
	byKey := map[string]Function{}
	for _, f := range fns {
		byKey[f.Key] = f
		if f.Region != "cn-beijing" || !strings.Contains(f.Role, "1000000000000077") {
			t.Errorf("%s: region %q role %q", f.Key, f.Region, f.Role)
		}
		if f.Env["JOB_QUEUE"] == "" || f.Env["MAX_ACCOUNTS_PER_IMAGE"] != "50" {
			t.Errorf("%s: env %v", f.Key, f.Env)
		}
		want := 1
		if f.Key == "org-events" {
			want = 2 // its bus trigger and the organization poll's timer
		}
		if len(f.Triggers) != want {
			t.Errorf("%s: %d triggers", f.Key, len(f.Triggers))
		}
	}
	for _, k := range []string{"image-events", "org-events", "reconcile", "sweep", "dead-letters"} {
		if _, ok := byKey[k]; !ok {
			t.Errorf("function %s is missing", k)
		}
	}
	if tm := byKey["sweep"].Triggers[0].Timer; tm == nil || !tm.Enable || tm.Cron == "" {
		t.Errorf("sweep timer = %+v", tm)
	}
	if tm := byKey["org-events"].Triggers[1].Timer; tm == nil || !tm.Enable || tm.Cron != "0 * * * * *" {
		t.Errorf("org-events' poll timer = %+v", tm)
	}
	rec := byKey["reconcile"].Triggers[0].EventBridge
	if rec == nil || rec.SourceType != "MNS" || rec.MNSQueue != byKey["reconcile"].Env["JOB_QUEUE"] || rec.BatchWindow.Count < 1 {
		t.Errorf("reconcile trigger = %+v", rec)
	}
	if ev := byKey["image-events"].Triggers[0].EventBridge; ev == nil || ev.SourceType != "Default" || !strings.Contains(ev.FilterPattern, "acs.ecs") {
		t.Errorf("image-events trigger = %+v", ev)
	}
}
