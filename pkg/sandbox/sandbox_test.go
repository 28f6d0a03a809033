package sandbox

import (
	"encoding/json"
	"strings"
	"testing"

	"imageshare"
	"imageshare/pkg/settings"
	"imageshare/pkg/syaml"
)

// --json must print empty share lists as [] (docs/scenarios.md shows lists), whether the
// cloud's view held a nil or an empty slice.
func TestEmptyListsPrintAsLists(t *testing.T) {
	b, err := json.Marshal(ImageState{Direct: nonNil(nil), Organization: nonNil([]string{}), Tags: map[string]string{}})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"direct":[]`, `"organization":[]`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("%s lacks %s", b, want)
		}
	}
	src := []string{"1000000000000002"}
	cp := nonNil(src)
	cp[0] = "changed"
	if src[0] != "1000000000000002" {
		t.Error("nonNil must copy, not alias, the cloud's slice")
	}
}

// In the sandbox every setting of s.yaml takes the setting's own default (DRY_RUN=false,
// although a first deployment's default is true), whatever the host's environment
// says; other ${env(…)} take their written default, and an ${env(…)} without one outside
// a setting is an error.
func TestSYamlSettingsTakeTheirDefaults(t *testing.T) {
	t.Setenv("IMAGESHARE_DRY_RUN", "true")
	t.Setenv("IMAGESHARE_MAX_ACCOUNTS_PER_IMAGE", "7")
	p, err := syaml.LoadWith(imageshare.SYAML, syaml.Options{Vars: map[string]string{"region": "cn-beijing", "accountId": "1000000000000009"}, Env: settingDefaults})
	if err != nil {
		t.Fatal(err)
	}
	fns, err := p.Functions()
	if err != nil || len(fns) == 0 {
		t.Fatalf("%d functions: %v", len(fns), err)
	}
	for _, f := range fns {
		for _, v := range settings.Vars {
			if got, ok := f.Env[v.Name]; !ok || got != v.Default {
				t.Errorf("%s: %s = %q, want its default %q", f.Key, v.Name, got, v.Default)
			}
		}
		if f.Region != "cn-beijing" || f.Role != "acs:ram::1000000000000009:role/imageshare-fc" {
			t.Errorf("%s: region %q role %q", f.Key, f.Region, f.Role)
		}
	}
	dryRunRefs := 0
	for _, r := range p.Env {
		if r.EnvVar == "DRY_RUN" {
			dryRunRefs++
			if r.Default != "true" {
				t.Errorf("s.yaml's written DRY_RUN default is %q; a first deployment must be a dry run", r.Default)
			}
		}
	}
	if dryRunRefs == 0 {
		t.Error("s.yaml sets DRY_RUN without ${env(…)}: the test proves nothing")
	}

	const other = "edition: 3.0.0\nresources:\n  f:\n    component: fc3\n    props:\n      functionName: f\n      description: ${env('X', 'written')}\n      environmentVariables: {DRY_RUN: \"${env('X', 'true')}\", OTHER: \"${env('Y', 'y')}\"}\n"
	p, err = syaml.LoadWith([]byte(other), syaml.Options{Env: settingDefaults})
	if err != nil {
		t.Fatal(err)
	}
	env := p.Resources[0].Props["environmentVariables"].(map[string]any)
	if p.Resources[0].Props["description"] != "written" || env["DRY_RUN"] != "false" || env["OTHER"] != "y" {
		t.Errorf("description %v env %v", p.Resources[0].Props["description"], env)
	}
	if _, err := syaml.LoadWith([]byte(strings.Replace(other, "'X', 'written'", "'X'", 1)), syaml.Options{Env: settingDefaults}); err == nil {
		t.Error("an ${env(…)} without a default outside a setting was accepted")
	}
}
