package docs

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestReliabilityCommandsNameRealTests: every `go test ./PKG -run NAMES` in RELIABILITY.md
// names tests that exist in PKG, so the page cannot point at a check that is gone.
func TestReliabilityCommandsNameRealTests(t *testing.T) {
	md := read(t, "RELIABILITY.md")
	cmdRE := regexp.MustCompile("`go test (\\./[a-z0-9/]+)[^`]*?-run[ =]('[^']*'|[A-Za-z0-9_]+)[^`]*`")
	found := 0
	for _, m := range cmdRE.FindAllStringSubmatch(md, -1) {
		pkg, expr := m[1], strings.Trim(m[2], "'")
		names := testNameRE.FindAllStringSubmatch(testSources(t, filepath.Join(root, pkg)), -1)
		// -run is a regular expression per level of subtest, matched unanchored: each
		// alternative of its first level must match a test of the package.
		for _, alt := range strings.Split(strings.ReplaceAll(expr, `\|`, "|"), "|") {
			alt = strings.SplitN(alt, "/", 2)[0]
			if alt == "" {
				continue
			}
			found++
			re, err := regexp.Compile(alt)
			if err != nil {
				t.Errorf("RELIABILITY.md: -run %q in %s: %v", alt, pkg, err)
				continue
			}
			match := false
			for _, n := range names {
				match = match || re.MatchString(n[1])
			}
			if !match {
				t.Errorf("RELIABILITY.md runs %q in %s, which matches no test there", alt, pkg)
			}
		}
	}
	if found < 10 {
		t.Fatalf("found %d test names in RELIABILITY.md's commands: the pattern no longer reads them", found)
	}
}

var testNameRE = regexp.MustCompile(`(?m)^func ((?:Test|Fuzz|Benchmark)\w*)\(`)

// testSources is the text of a package's test files.
func testSources(t *testing.T, dir string) string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*_test.go"))
	if err != nil || len(files) == 0 {
		t.Errorf("%s: no test files (%v)", dir, err)
		return ""
	}
	var b strings.Builder
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		b.Write(data)
	}
	return b.String()
}
