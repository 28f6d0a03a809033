package syaml

import (
	"crypto/sha256"
	"encoding/hex"
	"reflect"
	"regexp"
	"strings"
	"testing"
)

// The embedded schema is the copy fc3/README.md describes, with its licence beside it.
func TestFC3SchemaCopy(t *testing.T) {
	note := string(read(t, "fc3/README.md"))
	m := regexp.MustCompile("sha256 `([0-9a-f]{64})`").FindStringSubmatch(note)
	if m == nil {
		t.Fatal("fc3/README.md does not record the sha256 of the copy")
	}
	sum := sha256.Sum256(FC3Schema)
	if got := hex.EncodeToString(sum[:]); got != m[1] {
		t.Errorf("fc3/props.schema.json has sha256 %s; fc3/README.md says %s (update the note with the copy)", got, m[1])
	}
	lic := string(read(t, "fc3/LICENSE"))
	for _, want := range []string{"MIT License", "Copyright (c) 2020 Serverless Devs", "The above copyright notice and this permission notice shall be included"} {
		if !strings.Contains(lic, want) {
			t.Errorf("fc3/LICENSE lacks %q", want)
		}
	}
	if len(FC3Schema) < 1000 || !strings.Contains(string(FC3Schema), `"IEventBridge"`) {
		t.Errorf("FC3Schema (%d bytes) is not the fc3 props schema", len(FC3Schema))
	}
}

// one is a project whose single fc3 resource has props {v: VALUE}.
func one(value string) string {
	return "edition: 3.0.0\nvars: {region: cn-hangzhou}\nresources:\n  f:\n    component: fc3\n    props:\n      v: " + value + "\n"
}

func lookupIn(env map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := env[k]; return v, ok }
}

// The quoting forms Serverless Devs (a JavaScript expression) accepts all work.
func TestEnvForms(t *testing.T) {
	host := HostEnv(lookupIn(map[string]string{"A": "from-host", "EMPTY": ""}))
	cases := []struct{ src, written, host string }{
		{`"${env('A', 'd')}"`, "d", "from-host"},
		{`'${env("A", "d")}'`, "d", "from-host"},
		{`"${env('A','d')}"`, "d", "from-host"},
		{`"${ env( 'A' ,  \"d\" ) }"`, "d", "from-host"},
		{`"x-${env('A', '')}-y"`, "x--y", "x-from-host-y"},
		{`"${env('UNSET', 'd')}"`, "d", "d"},
		{`"${env('EMPTY', 'd')}"`, "d", "d"}, // Serverless Devs: an empty value counts as unset
		{`"${env('A', 'a}b')}"`, "a}b", "from-host"},
		{`"${env('A')}"`, "", "from-host"},
	}
	for _, c := range cases {
		for _, r := range []struct {
			name string
			env  EnvResolver
			want string
		}{{"written", nil, c.written}, {"host", host, c.host}} {
			p, err := LoadWith([]byte(one(c.src)), Options{Env: r.env})
			if c.src == `"${env('A')}"` && r.name == "written" {
				if err == nil || !strings.Contains(err.Error(), "line 7: resources.f.props.v: ${env('A')} has no default") {
					t.Errorf("%s %s: error %v, want one saying it has no default", c.src, r.name, err)
				}
				continue
			}
			if err != nil {
				t.Errorf("%s %s: %v", c.src, r.name, err)
				continue
			}
			if got := p.Resources[0].Props["v"]; got != r.want {
				t.Errorf("%s %s: %q, want %q", c.src, r.name, got, r.want)
			}
		}
	}
	_, err := LoadWith([]byte(one(`"${env('UNSET')}"`)), Options{Env: host})
	if err == nil || !strings.Contains(err.Error(), "environment variable UNSET is not set and there is no default") {
		t.Errorf("unset without default: %v", err)
	}
}

// Anything but ${vars.NAME} and ${env(…)} is refused, naming the expression and its place.
func TestUnsupportedExpressions(t *testing.T) {
	for _, expr := range []string{
		`${env.USER}`, `${env(USER)}`, `${env('A', d)}`, `${env('A\'b')}`, `${env('A', 'b', 'c')}`,
		`${env('1A', 'x')}`, `${this.props.code}`, `${resources.f.props.v}`, `${config('AccountID')}`,
		`${file('./a.txt')}`, `${vars.}`, `${varz.region}`, `${vars.region.x}`, `${}`, `${ENV('A', 'b')}`,
	} {
		// A literal block keeps the expression's text as written.
		_, err := LoadWith([]byte(one("|-\n        "+expr)), Options{Env: HostEnv(lookupIn(nil))})
		if err == nil {
			t.Errorf("%s was accepted", expr)
			continue
		}
		if !strings.Contains(err.Error(), "line 7: resources.f.props.v: ") || !strings.Contains(err.Error(), expr) {
			t.Errorf("%s: error %q does not name the expression and its place", expr, err)
		}
	}
}

// vars may use env() and each other, as Serverless Devs resolves vars first; EnvRef
// says where each expression sits and which function environment variable it sets.
func TestEnvInVarsAndRefs(t *testing.T) {
	const src = `edition: 3.0.0
vars:
  region: ${env('X_REGION', 'cn-hangzhou')}
  arn: acs:mns:${vars.region}:1:/queues/${vars.queue}
  queue: q
resources:
  a:
    component: fc3
    props:
      region: ${vars.region}
      dlq: ${vars.arn}
      environmentVariables: &env
        DRY_RUN: ${env('X_DRY_RUN', 'true')}
        PLAIN: ${env('X_PLAIN', 'p')}-suffix
  b:
    component: fc3
    props:
      environmentVariables: *env
`
	p, err := Load([]byte(src), nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := p.Resources[0].Props["dlq"]; got != "acs:mns:cn-hangzhou:1:/queues/q" {
		t.Errorf("dlq = %v", got)
	}
	want := []EnvRef{
		{Name: "X_REGION", Default: "cn-hangzhou", HasDefault: true, Expr: "${env('X_REGION', 'cn-hangzhou')}", Path: "vars.region", Line: 3},
		{Name: "X_DRY_RUN", Default: "true", HasDefault: true, Expr: "${env('X_DRY_RUN', 'true')}", Path: "resources.a.props.environmentVariables.DRY_RUN", Line: 13, EnvVar: "DRY_RUN"},
		{Name: "X_PLAIN", Default: "p", HasDefault: true, Expr: "${env('X_PLAIN', 'p')}", Path: "resources.a.props.environmentVariables.PLAIN", Line: 14, EnvVar: "PLAIN"},
		{Name: "X_DRY_RUN", Default: "true", HasDefault: true, Expr: "${env('X_DRY_RUN', 'true')}", Path: "resources.b.props.environmentVariables.DRY_RUN", Line: 13, EnvVar: "DRY_RUN"},
		{Name: "X_PLAIN", Default: "p", HasDefault: true, Expr: "${env('X_PLAIN', 'p')}", Path: "resources.b.props.environmentVariables.PLAIN", Line: 14, EnvVar: "PLAIN"},
	}
	if !reflect.DeepEqual(p.Env, want) {
		t.Errorf("Env =\n%+v\nwant\n%+v", p.Env, want)
	}

	// The resolver sees each place: a sandbox-like one gives DRY_RUN its own default.
	seen := map[string]bool{}
	p, err = LoadWith([]byte(src), Options{Env: func(r EnvRef) (string, error) {
		seen[r.Path] = true
		if r.EnvVar == "DRY_RUN" {
			return "false", nil
		}
		if r.Name == "X_REGION" {
			return "eu-central-1", nil
		}
		return WrittenDefault(r)
	}})
	if err != nil {
		t.Fatal(err)
	}
	env := p.Resources[1].Props["environmentVariables"].(map[string]any)
	if env["DRY_RUN"] != "false" || env["PLAIN"] != "p-suffix" || p.Resources[0].Props["dlq"] != "acs:mns:eu-central-1:1:/queues/q" {
		t.Errorf("resolved: env %v dlq %v", env, p.Resources[0].Props["dlq"])
	}
	if len(seen) != 5 {
		t.Errorf("the resolver saw %v", seen)
	}

	// Caller vars replace the file's, env() in them included.
	p, err = LoadWith([]byte(src), Options{Vars: map[string]string{"region": "cn-shanghai"}, Env: HostEnv(lookupIn(map[string]string{"X_REGION": "ignored"}))})
	if err != nil {
		t.Fatal(err)
	}
	if p.Vars["region"] != "cn-shanghai" || p.Vars["arn"] != "acs:mns:cn-shanghai:1:/queues/q" {
		t.Errorf("vars = %v", p.Vars)
	}
}

func TestVarsInACircle(t *testing.T) {
	_, err := Load([]byte("edition: 3.0.0\nvars:\n  a: ${vars.b}\n  b: x-${vars.a}\nresources: {}\n"), nil)
	if err == nil || !strings.Contains(err.Error(), "refer to each other in a circle (a → b → a)") {
		t.Errorf("error %v", err)
	}
	_, err = Load([]byte("edition: 3.0.0\nvars:\n  a: ${vars.a}\nresources: {}\n"), nil)
	if err == nil || !strings.Contains(err.Error(), "circle (a → a)") {
		t.Errorf("error %v", err)
	}
}
