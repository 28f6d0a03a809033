package deployment

import (
	"os"
	"strings"
	"testing"
)

func project(t *testing.T) []byte {
	t.Helper()
	b, err := os.ReadFile("../../s.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func lookupIn(env map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := env[k]; return v, ok }
}

var account = map[string]string{"accountId": "1000000000000001"}

func setting(t *testing.T, r *Resolved, name string) Setting {
	t.Helper()
	for _, s := range r.Settings {
		if s.Name == name {
			return s
		}
	}
	t.Fatalf("no setting %s", name)
	return Setting{}
}

// TestSourcesOfTheSettings: each setting says where it came from — the functions'
// default, s.yaml's written default, the IMAGESHARE_* variable s deploy reads (also
// through vars), or a flag — and the functions' own variable names in the shell are
// named as not read.
func TestSourcesOfTheSettings(t *testing.T) {
	env := map[string]string{
		"IMAGESHARE_ALLOWED_EXTERNAL_ACCOUNTS": "2000000000000001",
		"IMAGESHARE_JOB_QUEUE":                 "ops-jobs",
		"IMAGESHARE_REGION":                    "cn-shanghai",
		"REVOKE_REDUNDANT":                     "false", // the functions' name: not what s deploy reads
		"TAG_PREFIX":                           "imageshare",
	}
	r, err := Resolve(Options{Data: project(t), File: "s.yaml", Lookup: lookupIn(env), Vars: account,
		Overrides: map[string]string{"RETRY_BASE": "5ms"}})
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]Setting{
		"ALLOWED_EXTERNAL_ACCOUNTS": {Value: "2000000000000001", Source: "environment variable IMAGESHARE_ALLOWED_EXTERNAL_ACCOUNTS"},
		"JOB_QUEUE":                 {Value: "ops-jobs", Source: "environment variable IMAGESHARE_JOB_QUEUE"},
		"DRY_RUN":                   {Value: "true", Source: FromSYAML},
		"RETRY_BASE":                {Value: "5ms", Source: FromFlag},
		"REVOKE_REDUNDANT":          {Value: "true", Source: FromSYAML},
	} {
		got := setting(t, r, name)
		if got.Value != want.Value || got.Source != want.Source {
			t.Errorf("%s = %q (%s), want %q (%s)", name, got.Value, got.Source, want.Value, want.Source)
		}
	}
	if r.Region != "cn-shanghai" || r.RegionVar != "IMAGESHARE_REGION" {
		t.Errorf("region %q from %q", r.Region, r.RegionVar)
	}
	if len(r.Ignored) != 1 || !strings.HasPrefix(r.Ignored[0], "REVOKE_REDUNDANT=false in the environment is not read") ||
		!strings.Contains(r.Ignored[0], "set IMAGESHARE_REVOKE_REDUNDANT") {
		t.Errorf("ignored: %q", r.Ignored)
	}
	line := r.Line()
	for _, want := range []string{"settings from s.yaml: ", "DRY_RUN=true (s.yaml default)", "RETRY_BASE=5ms (--setting)",
		"JOB_QUEUE=ops-jobs (environment variable IMAGESHARE_JOB_QUEUE)"} {
		if !strings.Contains(line, want) {
			t.Errorf("line lacks %q: %s", want, line)
		}
	}
	if strings.Contains(line, "REVOKE_REDUNDANT") || strings.Contains(line, "TAG_PREFIX") {
		t.Errorf("the line names a default setting: %s", line)
	}
	if _, err := Resolve(Options{Data: project(t), Vars: account, Overrides: map[string]string{"ALLOWED": "x"}}); err == nil ||
		!strings.Contains(err.Error(), "--setting ALLOWED: not a setting") {
		t.Errorf("an unknown --setting: %v", err)
	}
}

// TestExportsRoundTrip: the variables Exports prints make s.yaml give exactly the
// settings asked for.
func TestExportsRoundTrip(t *testing.T) {
	want := map[string]string{"DRY_RUN": "false", "ALLOWED_EXTERNAL_ACCOUNTS": "2000000000000001", "RETRY_BASE": "5ms",
		"JOB_QUEUE": "imageshare-jobs", "TAG_PREFIX": "imageshare"}
	ex, missing, err := Exports(project(t), account, want)
	if err != nil || len(missing) > 0 {
		t.Fatal(err, missing)
	}
	got := map[string]string{}
	for _, e := range ex {
		got[e[0]] = e[1]
	}
	if len(got) != 3 || got["IMAGESHARE_DRY_RUN"] != "false" || got["IMAGESHARE_ALLOWED_EXTERNAL_ACCOUNTS"] != "2000000000000001" ||
		got["IMAGESHARE_RETRY_BASE"] != "5ms" {
		t.Fatalf("exports %v", ex)
	}
	r, err := Resolve(Options{Data: project(t), Lookup: lookupIn(got), Vars: account})
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range want {
		if r.Lookup(k) != v {
			t.Errorf("%s = %q after the exports, want %q", k, r.Lookup(k), v)
		}
	}
}

// TestDotenv: the .env beside s.yaml gives variables as Serverless Devs reads them, and
// the environment wins over it; each setting names which it came from.
func TestDotenv(t *testing.T) {
	dot, err := ParseDotenv([]byte("# the deployment\nexport IMAGESHARE_ALLOWED_EXTERNAL_ACCOUNTS=\"2000000000000001\"\n\nIMAGESHARE_RETRY_BASE='5ms'\nIMAGESHARE_RETRY_MAX=1s\n"))
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"IMAGESHARE_RETRY_MAX": "2s"}
	r, err := Resolve(Options{Data: project(t), Lookup: lookupIn(env), Vars: account, Dotenv: dot, DotenvFile: "./.env"})
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]Setting{
		"ALLOWED_EXTERNAL_ACCOUNTS": {Value: "2000000000000001", Source: "IMAGESHARE_ALLOWED_EXTERNAL_ACCOUNTS in ./.env"},
		"RETRY_BASE":                {Value: "5ms", Source: "IMAGESHARE_RETRY_BASE in ./.env"},
		"RETRY_MAX":                 {Value: "2s", Source: "environment variable IMAGESHARE_RETRY_MAX"},
	} {
		if got := setting(t, r, name); got.Value != want.Value || got.Source != want.Source {
			t.Errorf("%s = %q (%s), want %q (%s)", name, got.Value, got.Source, want.Value, want.Source)
		}
	}
	if _, err := ParseDotenv([]byte("NOT A LINE\n")); err == nil || !strings.Contains(err.Error(), "line 1") {
		t.Errorf("a bad line: %v", err)
	}
}
