package testcache

import (
	"bytes"
	"context"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestProductChangeIsNeverACachedResult shows on a copy of the repository that `go test
// ./test/cli` — whose tests drive a binary built in a subprocess — reuses its result
// while nothing changed, and runs again, seeing the change, after a product edit the
// test binary does not link (an account ID that no longer parses in pkg/policy).
func TestProductChangeIsNeverACachedResult(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go test three times on a copy of the repository; skipped with -short")
	}
	if out, err := goCmd(".", "env", "GOCACHE"); err != nil || strings.TrimSpace(out) == "off" {
		t.Skipf("the build cache is off (GOCACHE=%q): go test caches nothing to check (%v)", strings.TrimSpace(out), err)
	}
	tree := filepath.Join(t.TempDir(), "imageshare")
	copyTree(t, "../..", tree)

	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	goTest := func() (string, error) {
		cmd := exec.CommandContext(ctx, "go", "test", "-run", "^TestDemo$", "./test/cli")
		cmd.Dir = tree
		// Whatever the caller's GOFLAGS (a -count=1 there would defeat the cache this
		// test is about); -trimpath lets the copy reuse the packages other builds made.
		cmd.Env = append(os.Environ(), "GOFLAGS=-trimpath -buildvcs=false")
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		err := cmd.Run()
		return out.String(), err
	}
	if out, err := goTest(); err != nil || strings.Contains(out, "(cached)") {
		t.Fatalf("first run: %v\n%s", err, out)
	}
	// Unchanged: the result is reused, so the cache is on and this test can tell.
	if out, err := goTest(); err != nil || !strings.Contains(out, "(cached)") {
		t.Fatalf("second run, nothing changed: want a cached pass (%v)\n%s", err, out)
	}
	policy := filepath.Join(tree, "pkg", "policy", "policy.go")
	src, err := os.ReadFile(policy)
	if err != nil {
		t.Fatal(err)
	}
	const good, bad = "accountRE   = regexp.MustCompile(`^[0-9]{16}$`)", "accountRE   = regexp.MustCompile(`^[0-9]{17}$`)"
	if !bytes.Contains(src, []byte(good)) {
		t.Fatalf("pkg/policy/policy.go no longer holds %s: pick another product change for this test", good)
	}
	if err := os.WriteFile(policy, bytes.Replace(src, []byte(good), []byte(bad), 1), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := goTest()
	if strings.Contains(out, "(cached)") {
		t.Fatalf("after a product change go test reused a result of other code:\n%s", out)
	}
	if err == nil || !strings.Contains(out, "--- FAIL: TestDemo") {
		t.Fatalf("after a product change that breaks the demo, want TestDemo to fail (%v):\n%s", err, out)
	}
}

// copyTree copies the repository at src to dst, without .git and installed
// dependencies.
func copyTree(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		if d.Name() == ".git" || d.IsDir() && d.Name() == "node_modules" {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil // a worktree's .git file
		}
		target := filepath.Join(dst, rel)
		switch {
		case d.IsDir():
			return os.MkdirAll(target, 0o755)
		case d.Type().IsRegular():
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			info, err := d.Info()
			if err != nil {
				return err
			}
			return os.WriteFile(target, b, info.Mode().Perm())
		}
		return nil // links
	})
	if err != nil {
		t.Fatal(err)
	}
}
