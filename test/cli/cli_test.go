// Package cli tests the imageshare command as users run it: the sandbox demo, scenario
// files (valid, failing, malformed), exit codes, --json, and a wrong s.yaml filter.
package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"imageshare/test/testcache"
)

var (
	bin     string
	sources *testcache.Sources
)

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "imageshare-cli")
	if err != nil {
		panic(err)
	}
	bin = filepath.Join(dir, "imageshare")
	// The binary is built here, out of go test's sight: run declares its sources, so
	// that a cached result of this package is never one of other code.
	if sources, err = testcache.Find("../..", "./cmd/imageshare"); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	build := exec.Command("go", "build", "-o", bin, "./cmd/imageshare")
	build.Dir = "../.."
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "build imageshare: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

func run(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	sources.Declare()
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return code, stdout.String(), stderr.String()
}

func write(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestDemo(t *testing.T) {
	code, out, errOut := run(t, "sandbox")
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	for _, want := range []string{"IMAGE", "DIRECT (before → after)", "m-Golden000001", "1000000000000002 → 2000000000000001", "- → fd-Prod000001", "no account lost access"} {
		if !strings.Contains(out, want) {
			t.Errorf("demo output lacks %q:\n%s", want, out)
		}
	}
}

func TestJSON(t *testing.T) {
	code, out, errOut := run(t, "sandbox", "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var res struct {
		Images map[string]struct {
			Direct       []string          `json:"direct"`
			Organization []string          `json:"organization"`
			Tags         map[string]string `json:"tags"`
		} `json:"images"`
		Refusals   []map[string]string `json:"refusals"`
		Violations []string            `json:"violations"`
	}
	dec := json.NewDecoder(strings.NewReader(out))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&res); err != nil {
		t.Fatalf("--json output is not the documented shape: %v\n%s", err, out)
	}
	g := res.Images["m-Golden000001"]
	if len(g.Direct) != 1 || g.Direct[0] != "2000000000000001" || g.Organization[0] != "fd-Prod000001" || g.Tags["imageshare:folders"] != "fd-Prod000001" {
		t.Fatalf("golden image %+v", g)
	}
	if len(res.Refusals) == 0 || res.Refusals[0]["image"] == "" || res.Violations == nil {
		t.Fatalf("refusals %v violations %v", res.Refusals, res.Violations)
	}
}

const small = `region: cn-hangzhou
owner: "1000000000000001"
directory:
  id: rd-Cli001
  root: r-Cli001
  accounts:
    - {id: "1000000000000002"}
settings: {RETRY_BASE: 1ms, RETRY_MAX: 10ms}
images:
  - id: m-Cli000000001
steps:
  - tag_image: {image: m-Cli000000001, tags: {"imageshare:accounts": "1000000000000002"}}
  - advance: 5m
expect:
  images:
    m-Cli000000001: {direct: [%s]}
`

func TestExpectationFailsWithADiff(t *testing.T) {
	ok := write(t, "ok.yaml", fmt.Sprintf(small, `"1000000000000002"`))
	if code, out, errOut := run(t, "sandbox", ok); code != 0 {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	bad := write(t, "bad.yaml", fmt.Sprintf(small, `"1000000000000009"`))
	code, _, errOut := run(t, "sandbox", bad)
	if code != 1 || !strings.Contains(errOut, "missing 1000000000000009") || !strings.Contains(errOut, "unexpected 1000000000000002") {
		t.Fatalf("exit %d, stderr:\n%s", code, errOut)
	}
}

func TestMalformedFileNamesTheLine(t *testing.T) {
	p := write(t, "broken.yaml", strings.Replace(fmt.Sprintf(small, `"1000000000000002"`), "  - advance: 5m", "  - advanse: 5m", 1))
	code, _, errOut := run(t, "sandbox", p)
	if code != 2 || !strings.Contains(errOut, "broken.yaml:13") || !strings.Contains(errOut, "advanse") {
		t.Fatalf("exit %d, stderr:\n%s", code, errOut)
	}
	if code, _, _ := run(t, "sandbox", filepath.Join(t.TempDir(), "missing.yaml")); code != 2 {
		t.Fatalf("missing file: exit %d", code)
	}
}

func TestInternalErrorExits3(t *testing.T) {
	sy := write(t, "s.yaml", "edition: 3.0.0\nresources: [")
	if code, _, errOut := run(t, "sandbox", "--syaml", sy); code != 3 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
}

// TestFilterDecidesWhatAFunctionSees: with TagResources removed from image-events'
// filter, a tag edit never reaches the function, so the image is not shared within the
// five minutes before the sweep.
func TestFilterDecidesWhatAFunctionSees(t *testing.T) {
	orig, err := os.ReadFile("../../s.yaml")
	if err != nil {
		t.Fatal(err)
	}
	broken := strings.Replace(string(orig), `"ImportImage","TagResources",`, `"ImportImage",`, 1)
	if broken == string(orig) {
		t.Fatal("could not remove TagResources from the filter")
	}
	sy := write(t, "s.yaml", broken)
	sc := write(t, "sc.yaml", fmt.Sprintf(small, `"1000000000000002"`))
	code, _, errOut := run(t, "sandbox", "--syaml", sy, sc)
	if code != 1 || !strings.Contains(errOut, "missing 1000000000000002") {
		t.Fatalf("exit %d: %s", code, errOut)
	}
}

// TestDidNotSettle: an image that stays Creating for ten hours keeps a chain of delayed
// checks going; a settle that needs more than 60 emulated minutes exits 1.
func TestDidNotSettle(t *testing.T) {
	p := write(t, "slow.yaml", `region: cn-hangzhou
owner: "1000000000000001"
settings: {RETRY_BASE: 1ms, RETRY_MAX: 10ms}
steps:
  - create_image: {image: m-Slow00000001, tags: {"imageshare:accounts": none}, ready_after: 10h}
`)
	code, _, errOut := run(t, "sandbox", p)
	if code != 1 || !strings.Contains(errOut, "did not settle") {
		t.Fatalf("exit %d: %s", code, errOut)
	}
}

// TestRefusalExpectations: an expected refusal's reason is compared, and
// no_other_refusals fails on a refusal the file does not expect.
func TestRefusalExpectations(t *testing.T) {
	const sc = `region: cn-hangzhou
owner: "1000000000000001"
directory:
  id: rd-Cli001
  root: r-Cli001
  accounts:
    - {id: "1000000000000002"}
outside: ["2000000000000001"]
settings: {RETRY_BASE: 1ms, RETRY_MAX: 10ms}
images:
  - id: m-Cli000000001
steps:
  - tag_image: {image: m-Cli000000001, tags: {"imageshare:accounts": "1000000000000002 2000000000000001 1000000000000001"}}
  - advance: 5m
expect:
  images:
    m-Cli000000001: {direct: ["1000000000000002"]}
  refusals:
    - {image: m-Cli000000001, subject: "2000000000000001", reason: %s}
%s`
	cases := []struct {
		name, reason, extra string
		code                int
		stderr              string
	}{
		{"reason matches, others allowed", "not-allowed", "", 0, ""},
		{"reason differs", "owner", "", 1, `subject "2000000000000001" reason owner: not reported (refusals of m-Cli000000001: "1000000000000001" (owner), "2000000000000001" (not-allowed))`},
		{"no other refusals", "not-allowed", "  no_other_refusals: true\n", 1, `unexpected refusal of image m-Cli000000001 subject "1000000000000001" (owner)`},
		{"every refusal listed", "not-allowed", "    - {image: m-Cli000000001, subject: \"1000000000000001\", reason: owner}\n  no_other_refusals: true\n", 0, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := write(t, "refusals.yaml", fmt.Sprintf(sc, c.reason, c.extra))
			code, out, errOut := run(t, "sandbox", p)
			if code != c.code || !strings.Contains(errOut, c.stderr) {
				t.Fatalf("exit %d (want %d), stderr lacks %q:\n%s%s", code, c.code, c.stderr, out, errOut)
			}
		})
	}
}
