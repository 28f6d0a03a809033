// Package testcache lets a test that drives a separately built binary (go build in a
// subprocess) tell `go test` what that build reads, so that a cached result is reused
// only while those sources are unchanged.
//
// `go test` caches a package's result by its test binary and by the files and
// environment variables the test consulted while it ran; a `go build` in a subprocess
// is invisible to it, so without this a test of the built binary could report
// "(cached)" from a run of other code. Declare opens the directory of every package of
// the main module the build needs (go test then records the name, size and
// modification time of every file in it), the files they embed, and go.mod and go.sum.
package testcache

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// Sources are the files of the main module a `go build` of some packages reads.
type Sources struct {
	Dirs  []string // package directories
	Files []string // embedded files, go.mod, go.sum
}

// Find lists the sources of patterns (package patterns, as `go build` takes them) in
// the module at dir. Call it anywhere, TestMain included.
func Find(dir string, patterns ...string) (*Sources, error) {
	const format = `{{if .Module}}{{if .Module.Main}}{{.Dir}}{{range .EmbedFiles}}{{"\t"}}{{.}}{{end}}{{"\n"}}{{end}}{{end}}`
	args := append([]string{"list", "-deps", "-f", format}, patterns...)
	out, err := goCmd(dir, args...)
	if err != nil {
		return nil, err
	}
	s := &Sources{}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		if line == "" {
			continue
		}
		fields := strings.Split(line, "\t")
		s.Dirs = append(s.Dirs, fields[0])
		for _, f := range fields[1:] {
			s.Files = append(s.Files, filepath.Join(fields[0], f))
		}
	}
	if len(s.Dirs) == 0 {
		return nil, fmt.Errorf("go list %s: no package of the main module", strings.Join(patterns, " "))
	}
	mod, err := goCmd(dir, "env", "GOMOD")
	if err != nil {
		return nil, err
	}
	if mod = strings.TrimSpace(mod); mod == "" || mod == os.DevNull {
		return nil, fmt.Errorf("%s is not in a module", dir)
	}
	s.Files = append(s.Files, mod, filepath.Join(filepath.Dir(mod), "go.sum"))
	return s, nil
}

// Declare reads the sources' metadata so that the result of the running test depends
// on them. go test records only what a test reads while tests run: call it from a
// test (or a helper every test of the binary uses), not before m.Run in TestMain.
func (s *Sources) Declare() {
	for _, d := range s.Dirs {
		_, _ = os.ReadDir(d) // an error is recorded too: a directory gone changes the key
	}
	for _, f := range s.Files {
		_, _ = os.Stat(f)
	}
}

// goCmd runs the go command (go test puts the toolchain that runs it first on PATH).
func goCmd(dir string, args ...string) (string, error) {
	cmd := exec.Command("go", args...)
	cmd.Dir = dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("go %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return string(out), nil
}
