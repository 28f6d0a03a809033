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
	"time"

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

// TestDemoNarrates (issue 14): before its table the demo tells each step with its
// emulated time and who did it, and what the functions did about it; it names its
// scenario file, says what "every expectation holds" refers to, and gives each
// refusal's remedy.
func TestDemoNarrates(t *testing.T) {
	code, out, errOut := run(t, "sandbox")
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	story, table, ok := strings.Cut(out, "IMAGE  ")
	if !ok {
		t.Fatalf("no table:\n%s", out)
	}
	for _, want := range []string{
		"the built-in demo, cmd/imageshare/demo.yaml",
		"What happened (emulated time; the clock starts at 2026-01-01 00:00 UTC)",
		"00:00–00:31  31m pass",
		"00:31  the root account 1000000000000001 tags m-Golden000001: imageshare:accounts=1000000000000004 2000000000000001 2000000000000002",
		"the root account 1000000000000001 moves account 1000000000000004 to fd-Prod000001",
		"Image m-Golden000001 is now shared directly with account 2000000000000001.",
		"Image m-Golden000001 is no longer shared directly with account 1000000000000004 (redundant via",
		"Image m-Golden000001: refused 2000000000000002 (not-allowed): the account is neither a member of the Resource Directory nor listed in ALLOWED_EXTERNAL_ACCOUNTS; invite it",
		"Asked for by the root account 1000000000000001.",
		"Image m-New000000001 is being shared with fd-Prod000001 through resource sharing.",
	} {
		if !strings.Contains(story, want) {
			t.Errorf("the story lacks %q:\n%s", want, story)
		}
	}
	// The steps come in order, each function line after its step.
	if i, j := strings.Index(story, "tags m-Golden000001"), strings.Index(story, "refused 2000000000000002"); i < 0 || j < i {
		t.Errorf("the refusal is not told after the tag edit that caused it:\n%s", story)
	}
	for _, want := range []string{
		"refused, with what to do:",
		"m-Typo00000001  100000000000000  tag-error: tag imageshare:accounts: not an account ID (16 digits); the image is left exactly as it is until the tag is fixed",
		"every expectation holds: the expect block of demo.yaml (each image's direct shares and organization targets at the end, and the refusals that must be reported) is met",
	} {
		if !strings.Contains(table, want) {
			t.Errorf("after the table, %q is missing:\n%s", want, table)
		}
	}
	// A scenario file is named by its path.
	p := write(t, "ok.yaml", fmt.Sprintf(small, `"1000000000000002"`))
	if _, out, _ := run(t, "sandbox", p); !strings.Contains(out, "imageshare sandbox: scenario file "+p) {
		t.Errorf("the file is not named:\n%s", out)
	}
}

// TestLogsCarryEmulatedTime (issue 14): --logs shows each function line with the
// invocation's emulated time in "time" (the run's clock, from 2026-01-01), the
// machine's in "wallTime".
func TestLogsCarryEmulatedTime(t *testing.T) {
	code, _, errOut := run(t, "sandbox", "--logs")
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, errOut)
	}
	start, end := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 1, 1, 1, 0, 0, 0, time.UTC)
	n := 0
	times := map[string]bool{}
	for _, line := range strings.Split(errOut, "\n") {
		_, body, ok := strings.Cut(line, "] {")
		if !ok {
			continue
		}
		var rec struct {
			Time     time.Time `json:"time"`
			WallTime time.Time `json:"wallTime"`
		}
		if err := json.Unmarshal([]byte("{"+body), &rec); err != nil {
			t.Fatalf("a log line is not JSON: %v\n%s", err, line)
		}
		if rec.Time.Before(start) || !rec.Time.Before(end) || rec.WallTime.IsZero() || !strings.HasPrefix(body, `"time":"2026-01-01T`) {
			t.Errorf("line not on the emulated clock: %s", line)
		}
		times[rec.Time.Format("15:04")] = true
		n++
	}
	// The demo runs at 00:30 (the sweep), 00:32, 00:33 and 00:37 at least.
	if n < 10 || !times["00:30"] || !times["00:37"] {
		t.Fatalf("%d log lines, at %v:\n%s", n, times, errOut)
	}
}

// TestEveryHelpExitsZero (issue 14): --help and -h of every subcommand print its usage
// on stdout and exit 0, with nothing on stderr.
func TestEveryHelpExitsZero(t *testing.T) {
	for _, cmd := range []string{"sandbox", "function", "emulator", "plan", "explain", "status", "probe", "policy", "setup", "doctor",
		"check-tags", "report", "tag"} {
		for _, flag := range []string{"--help", "-h"} {
			code, out, errOut := run(t, cmd, flag)
			if code != 0 || !strings.HasPrefix(out, "usage: imageshare "+cmd) || errOut != "" {
				t.Errorf("imageshare %s %s: exit %d, stdout %q, stderr %q", cmd, flag, code, clip(out), errOut)
			}
		}
	}
	if code, out, errOut := run(t, "--help"); code != 0 || !strings.HasPrefix(out, "usage:") || errOut != "" {
		t.Errorf("imageshare --help: exit %d, stdout %q, stderr %q", code, clip(out), errOut)
	}
	// sandbox --help says what the command does, not only its flags.
	if _, out, _ := run(t, "sandbox", "--help"); !strings.Contains(out, "docs/scenarios.md") || !strings.Contains(out, "exit 0: every expectation holds") ||
		!strings.Contains(out, "emulated time") {
		t.Errorf("sandbox --help:\n%s", out)
	}
	// Without it, a bad flag is still a usage error on stderr.
	if code, _, errOut := run(t, "plan", "--nope"); code != 2 || !strings.Contains(errOut, "-nope") {
		t.Errorf("plan --nope: exit %d %s", code, errOut)
	}
}

// TestBadValuesNameThemselves (issue 14): a bad flag value is named with what it may be.
func TestBadValuesNameThemselves(t *testing.T) {
	code, out, errOut := run(t, "status", "--progress", "sometimes")
	if code != 2 || !strings.Contains(errOut, `--progress "sometimes": must be auto, always or never`) || out != "" {
		t.Errorf("status --progress sometimes: exit %d\n%s%s", code, out, errOut)
	}
}

func clip(s string) string {
	if len(s) > 80 {
		return s[:80] + "…"
	}
	return s
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
