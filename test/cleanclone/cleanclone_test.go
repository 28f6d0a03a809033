// Package cleanclone checks that the repository is self-contained: its tracked files,
// copied alone into an empty folder, run the README's demo, vet, and build and pass
// their tests with nothing but GOROOT, the module and build caches and that folder —
// no network, no HOME, and no file beside the copy.
package cleanclone

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Guard is set in the copy's environment, so that the copy's own run of this test
// skips instead of copying again.
const Guard = "IMAGESHARE_CLEANCLONE"

const root = "../.."

func TestCleanClone(t *testing.T) {
	if os.Getenv(Guard) != "" {
		t.Skip(Guard + " is set: this runs inside a clean-clone copy, which is not copied again")
	}
	if testing.Short() {
		t.Skip("copies the repository and builds and tests it again (minutes); skipped with -short")
	}
	out, err := exec.Command("git", "-C", root, "ls-files", "-z").Output()
	if err != nil {
		t.Skipf("no list of tracked files (git ls-files: %v): not a git checkout, nothing to copy", err)
	}
	goenv := outerGoEnv(t)

	// top/work/imageshare is the copy, alone in its folder; HOME and TMPDIR are beside
	// work/, inside top.
	top := t.TempDir()
	repo := filepath.Join(top, "work", "imageshare")
	home, tmp := filepath.Join(top, "home"), filepath.Join(top, "tmp")
	for _, d := range []string{repo, home, tmp} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	n := 0
	for _, f := range strings.Split(string(out), "\x00") {
		if f == "" {
			continue
		}
		if copyFile(t, filepath.Join(root, f), filepath.Join(repo, f)) {
			n++
		}
	}
	t.Logf("copied %d tracked files into %s", n, repo)

	gobin := filepath.Join(goenv["GOROOT"], "bin", "go")
	env := []string{
		"PATH=" + filepath.Join(goenv["GOROOT"], "bin"),
		"HOME=" + home, "TMPDIR=" + tmp, "GOPATH=" + filepath.Join(home, "go"),
		"GOROOT=" + goenv["GOROOT"], "GOMODCACHE=" + goenv["GOMODCACHE"], "GOCACHE=" + goenv["GOCACHE"],
		// No network and no go env file: every module must already be in the cache.
		"GOPROXY=off", "GOSUMDB=off", "GOTOOLCHAIN=local", "GOENV=off", "GOWORK=off",
		// -trimpath keeps the copy's build cache keys independent of the temporary path.
		"GOFLAGS=" + strings.TrimSpace(goenv["GOFLAGS"]+" -trimpath"),
		"CGO_ENABLED=0",
		Guard + "=1",
	}
	began := time.Now()
	for _, args := range [][]string{
		{"run", "./cmd/imageshare", "sandbox"},
		{"vet", "./..."},
		{"test", "-count=1", "./pkg/syaml", "./test/deploy", "./test/docs"},
		{"test", "-count=1", "-run", "^$", "./..."},
	} {
		start := time.Now()
		cmd := exec.Command(gobin, args...)
		cmd.Dir, cmd.Env = repo, env
		b, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("go %s in the clean copy: %v\n%s", strings.Join(args, " "), err, b)
		}
		t.Logf("go %s: ok in %s", strings.Join(args, " "), time.Since(start).Round(time.Second))
	}
	t.Logf("clean clone checked in %s", time.Since(began).Round(time.Second))
}

// outerGoEnv reads the go command's settings of the environment this test runs in.
func outerGoEnv(t *testing.T) map[string]string {
	t.Helper()
	var stdout bytes.Buffer
	cmd := exec.Command("go", "env", "-json", "GOROOT", "GOMODCACHE", "GOCACHE", "GOFLAGS")
	cmd.Stdout = &stdout
	if err := cmd.Run(); err != nil {
		t.Fatalf("go env: %v", err)
	}
	env := map[string]string{}
	if err := json.Unmarshal(stdout.Bytes(), &env); err != nil {
		t.Fatalf("go env: %v", err)
	}
	for _, k := range []string{"GOROOT", "GOMODCACHE", "GOCACHE"} {
		if env[k] == "" {
			t.Fatalf("go env %s is empty", k)
		}
	}
	return env
}

// copyFile copies a tracked file, keeping its mode; a tracked file deleted in the
// working tree is skipped (it is not part of what a clone of this state would hold).
func copyFile(t *testing.T, from, to string) bool {
	t.Helper()
	st, err := os.Lstat(from)
	if os.IsNotExist(err) {
		return false
	}
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
		t.Fatal(err)
	}
	if st.Mode()&os.ModeSymlink != 0 {
		target, err := os.Readlink(from)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(target, to); err != nil {
			t.Fatal(err)
		}
		return true
	}
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, st.Mode().Perm()); err != nil {
		t.Fatal(err)
	}
	return true
}
