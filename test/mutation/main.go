// Command mutation measures whether the tests catch real bugs: it applies each mutant
// of the catalogue (a deliberate bug, catalogue.go) to an isolated copy of the
// repository, one at a time, runs the tests named for it, and reports it killed (a test
// failed), survived (every test passed) or invalid (its snippet is gone or it does not
// compile — the catalogue rotted, which fails the run). The working tree is never
// written.
//
//	go run ./test/mutation                 # the score (about half an hour on 2 cores)
//	go run ./test/mutation -check          # every snippet applies once and compiles (CI)
//	go run ./test/mutation -run 'sweep/'   # some mutants
//	go run ./test/mutation -list
//
// Exit status: 0 every mutant killed (or, with -check, valid); 1 a mutant survived or is
// invalid; 2 the tests fail without any mutant, or the tool could not run.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"
)

// Result is the outcome of one mutant.
type Result struct {
	Name    string  `json:"name"`
	Rule    string  `json:"rule"`
	Status  string  `json:"status"` // killed, survived, invalid, valid (-check)
	By      string  `json:"by,omitempty"`
	Detail  string  `json:"detail,omitempty"`
	Seconds float64 `json:"seconds"`
}

const (
	killed   = "killed"
	survived = "survived"
	invalid  = "invalid"
	valid    = "valid"
)

func main() {
	check := flag.Bool("check", false, "only check that every snippet applies exactly once and the mutant compiles")
	run := flag.String("run", "", "only the mutants whose name matches this regular expression")
	list := flag.Bool("list", false, "list the mutants and exit")
	timeout := flag.Duration("timeout", 10*time.Minute, "go test -timeout of each test run")
	jsonOut := flag.String("json", "", "also write the results as JSON to this file")
	keep := flag.Bool("keep", false, "keep the isolated copy (its path is printed)")
	flag.Parse()
	code, err := main1(*check, *run, *list, *timeout, *jsonOut, *keep)
	if err != nil {
		fmt.Fprintln(os.Stderr, "mutation:", err)
	}
	os.Exit(code)
}

func main1(check bool, run string, list bool, timeout time.Duration, jsonOut string, keep bool) (int, error) {
	mutants, err := selectMutants(catalogue, run)
	if err != nil {
		return 2, err
	}
	if list {
		for _, m := range mutants {
			fmt.Printf("%-45s %-8s %s\n", m.Name, m.Rule, m.Breaks)
		}
		return 0, nil
	}
	root, err := moduleRoot()
	if err != nil {
		return 2, err
	}
	work, err := os.MkdirTemp("", "imageshare-mutation-")
	if err != nil {
		return 2, err
	}
	tree := filepath.Join(work, "imageshare")
	if keep {
		fmt.Println("isolated copy:", tree)
	} else {
		defer os.RemoveAll(work)
	}
	if err := copyRepository(root, tree); err != nil {
		return 2, fmt.Errorf("copy the repository: %w", err)
	}
	r := &runner{tree: tree, timeout: timeout}
	start := time.Now()
	if !check {
		if err := r.baseline(mutants); err != nil {
			return 2, err
		}
	}
	var results []Result
	for i, m := range mutants {
		res := r.mutant(m, check)
		results = append(results, res)
		fmt.Printf("[%2d/%d] %-8s %-45s %5.1fs %s\n", i+1, len(mutants), res.Status, m.Name, res.Seconds, res.By)
		if res.Status == invalid || res.Status == survived {
			fmt.Printf("        %s\n", strings.ReplaceAll(strings.TrimSpace(res.Detail), "\n", "\n        "))
		}
	}
	code := summary(results, check, time.Since(start))
	if jsonOut != "" {
		b, _ := json.MarshalIndent(results, "", "  ")
		if err := os.WriteFile(jsonOut, append(b, '\n'), 0o644); err != nil {
			return 2, err
		}
	}
	return code, nil
}

func selectMutants(all []Mutant, expr string) ([]Mutant, error) {
	if expr == "" {
		return all, nil
	}
	re, err := regexp.Compile(expr)
	if err != nil {
		return nil, fmt.Errorf("-run: %w", err)
	}
	var out []Mutant
	for _, m := range all {
		if re.MatchString(m.Name) {
			out = append(out, m)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("-run %q matches no mutant", expr)
	}
	return out, nil
}

func summary(results []Result, check bool, took time.Duration) int {
	count := map[string]int{}
	for _, r := range results {
		count[r.Status]++
	}
	fmt.Println()
	if check {
		fmt.Printf("catalogue check: %d mutants, %d valid, %d invalid (%s)\n", len(results), count[valid], count[invalid], took.Round(time.Second))
		if count[invalid] > 0 {
			return 1
		}
		return 0
	}
	scored := count[killed] + count[survived]
	score := 0.0
	if scored > 0 {
		score = 100 * float64(count[killed]) / float64(scored)
	}
	fmt.Printf("mutation score: %d of %d killed (%.1f%%); %d invalid; %s; %s\n", count[killed], scored, score, count[invalid],
		time.Now().UTC().Format("2006-01-02"), took.Round(time.Second))
	for _, r := range results {
		if r.Status != killed {
			fmt.Printf("  %s: %s\n", r.Status, r.Name)
		}
	}
	if count[invalid] > 0 || count[survived] > 0 {
		return 1
	}
	return 0
}

// runner applies mutants in the isolated copy and runs go there.
type runner struct {
	tree    string
	timeout time.Duration
}

// goCmd runs the go command in the copy. -trimpath makes the build cache's entries
// independent of the copy's path, so that packages a mutant does not touch are reused
// from earlier runs (and from CI, which builds with -trimpath too).
func (r *runner) goCmd(limit time.Duration, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = r.tree
	flags := os.Getenv("GOFLAGS")
	if !strings.Contains(flags, "-trimpath") {
		flags = strings.TrimSpace(flags + " -trimpath")
	}
	cmd.Env = append(os.Environ(), "GOFLAGS="+flags)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	if ctx.Err() != nil {
		err = fmt.Errorf("%w (no answer within %s)", ctx.Err(), limit)
	}
	return out.String(), err
}

func (r *runner) goTest(t Test) (string, error) {
	args := []string{"test", "-count=1", "-timeout", r.timeout.String()}
	if t.Run != "" {
		args = append(args, "-run", t.Run)
	}
	return r.goCmd(r.timeout+2*time.Minute, append(args, t.Pkg)...)
}

// baseline runs, without any mutant, every package the mutants name: a mutant is killed
// only by a test that passes on the code as it is.
func (r *runner) baseline(mutants []Mutant) error {
	var pkgs []string
	for _, m := range mutants {
		for _, t := range m.Tests {
			if !slices.Contains(pkgs, t.Pkg) {
				pkgs = append(pkgs, t.Pkg)
			}
		}
	}
	fmt.Printf("baseline: %d packages without any mutant\n", len(pkgs))
	for _, p := range pkgs {
		start := time.Now()
		out, err := r.goTest(Test{Pkg: p})
		if err != nil {
			return fmt.Errorf("the tests fail without any mutant (%s): fix that first\n%s", p, tail(out, 40))
		}
		fmt.Printf("  ok %-30s %5.1fs\n", p, time.Since(start).Seconds())
	}
	return nil
}

func (r *runner) mutant(m Mutant, check bool) (res Result) {
	start := time.Now()
	res = Result{Name: m.Name, Rule: m.Rule}
	defer func() { res.Seconds = time.Since(start).Seconds() }()
	path := filepath.Join(r.tree, filepath.FromSlash(m.File))
	orig, err := os.ReadFile(path)
	if err != nil {
		res.Status, res.Detail = invalid, err.Error()
		return res
	}
	mutated, err := m.Apply(string(orig))
	if err != nil {
		res.Status, res.Detail = invalid, err.Error()
		return res
	}
	if err := os.WriteFile(path, []byte(mutated), 0o644); err != nil {
		res.Status, res.Detail = invalid, err.Error()
		return res
	}
	defer func() {
		if err := os.WriteFile(path, orig, 0o644); err != nil {
			panic(fmt.Sprintf("restore %s in the copy: %v", m.File, err)) // every later result would be wrong
		}
	}()
	if out, err := r.compile(m.File); err != nil {
		res.Status, res.Detail = invalid, "does not compile: "+tail(out, 15)
		return res
	}
	if check {
		res.Status = valid
		return res
	}
	for _, t := range m.Tests {
		out, err := r.goTest(t)
		if err == nil {
			continue
		}
		if strings.Contains(out, "[build failed]") || strings.Contains(out, "[setup failed]") {
			res.Status, res.Detail = invalid, "the tests do not compile with it: "+tail(out, 15)
			return res
		}
		res.Status, res.By = killed, t.String()+": "+failure(out, err)
		return res
	}
	res.Status, res.Detail = survived, "every test passed: "+testList(m.Tests)
	return res
}

// compile builds the package of file (its test binary for a _test.go file).
func (r *runner) compile(file string) (string, error) {
	pkg := "./" + filepath.ToSlash(filepath.Dir(file))
	if strings.HasSuffix(file, "_test.go") {
		return r.goCmd(r.timeout, "test", "-c", "-o", os.DevNull, pkg)
	}
	return r.goCmd(r.timeout, "build", "-o", os.DevNull, pkg)
}

func testList(ts []Test) string {
	var s []string
	for _, t := range ts {
		s = append(s, t.String())
	}
	return strings.Join(s, "; ")
}

// failure names what failed: the first failing tests, or a panic or timeout.
func failure(out string, err error) string {
	var names []string
	for _, line := range strings.Split(out, "\n") {
		line = strings.TrimSpace(line)
		switch {
		case strings.HasPrefix(line, "--- FAIL: "):
			names = append(names, strings.Fields(strings.TrimPrefix(line, "--- FAIL: "))[0])
		case strings.HasPrefix(line, "panic: "):
			names = append(names, line)
		}
		if len(names) == 3 {
			break
		}
	}
	if len(names) == 0 {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return "exit " + fmt.Sprint(ee.ExitCode())
		}
		return err.Error()
	}
	return strings.Join(names, ", ")
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

func moduleRoot() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	mod := strings.TrimSpace(string(out))
	if mod == "" || mod == os.DevNull {
		return "", errors.New("run it inside the imageshare module")
	}
	return filepath.Dir(mod), nil
}

// copyRepository copies the files git tracks or would track (uncommitted edits and new
// files included, ignored ones not); without git, every file but .git and node_modules.
func copyRepository(root, dst string) error {
	files, err := gitFiles(root)
	if err != nil {
		files = nil
		err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() && (d.Name() == ".git" || d.Name() == "node_modules") {
				return filepath.SkipDir
			}
			if d.Type().IsRegular() && d.Name() != ".git" { // a worktree's .git file
				rel, err := filepath.Rel(root, p)
				if err != nil {
					return err
				}
				files = append(files, rel)
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	for _, f := range files {
		src := filepath.Join(root, f)
		info, err := os.Lstat(src)
		if errors.Is(err, fs.ErrNotExist) {
			continue // deleted in the working tree
		}
		if err != nil {
			return err
		}
		if !info.Mode().IsRegular() {
			continue
		}
		b, err := os.ReadFile(src)
		if err != nil {
			return err
		}
		target := filepath.Join(dst, f)
		if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(target, b, info.Mode().Perm()); err != nil {
			return err
		}
	}
	if _, err := os.Stat(filepath.Join(dst, "go.mod")); err != nil {
		return fmt.Errorf("the copy has no go.mod: %w", err)
	}
	return nil
}

func gitFiles(root string) ([]string, error) {
	cmd := exec.Command("git", "ls-files", "-z", "--cached", "--others", "--exclude-standard")
	cmd.Dir = root
	out, err := cmd.Output()
	if err != nil {
		return nil, err
	}
	var files []string
	for _, f := range strings.Split(string(out), "\x00") {
		if f != "" {
			files = append(files, filepath.FromSlash(f))
		}
	}
	if len(files) == 0 {
		return nil, errors.New("git lists no file")
	}
	return files, nil
}
