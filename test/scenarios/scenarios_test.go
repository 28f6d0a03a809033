// Package scenarios runs every scenario file of this directory in the sandbox: the real
// function processes (this test binary re-executed as `function NAME`), the emulated
// cloud, EventBridge routing from the project's s.yaml.
package scenarios

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"imageshare"
	"imageshare/pkg/function"
	"imageshare/pkg/sandbox"
	"imageshare/pkg/scenario"
)

// TestMain lets the sandbox start this binary as a function process.
func TestMain(m *testing.M) {
	if len(os.Args) == 3 && os.Args[1] == "imageshare-function" {
		function.Main(os.Args[2])
	}
	os.Exit(m.Run())
}

// Command returns the argv that runs function NAME from this test binary.
func command(name string) []string { return []string{os.Args[0], "imageshare-function", name} }

func TestScenarios(t *testing.T) {
	files, err := filepath.Glob("*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no scenarios: %v", err)
	}
	// The built-in demo is a scenario too.
	files = append(files, "../../cmd/imageshare/demo.yaml")
	var mu sync.Mutex
	seen := map[string]bool{} // RAM actions the functions called over the whole library
	var unexpected []string   // RAM denials no scenario's deny names
	t.Run("library", func(t *testing.T) {
		for _, f := range files {
			runScenario(t, f, func(sc *scenario.Scenario, res *sandbox.Result) {
				mu.Lock()
				defer mu.Unlock()
				for a := range res.Stats.Calls {
					seen[a] = true
				}
				unexpected = append(unexpected, deniedUnexpectedly(f, sc, res)...)
			})
		}
	})
	checkPolicy(t, seen, unexpected)
}

func runScenario(t *testing.T, f string, stats func(*scenario.Scenario, *sandbox.Result)) {
	t.Run(strings.TrimSuffix(filepath.Base(f), ".yaml"), func(t *testing.T) {
		t.Parallel()
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		sc, err := scenario.Parse(f, data)
		if err != nil {
			t.Fatalf("invalid scenario: %v", err)
		}
		var logs strings.Builder
		res, err := sandbox.Run(context.Background(), sc, sandbox.Options{SYAML: imageshare.SYAML, FunctionCommand: command, Trace: &logs})
		if err != nil {
			t.Fatalf("sandbox: %v", err)
		}
		if !res.OK() {
			t.Errorf("scenario failed:\n%s\n%s\ntrace:\n%s", strings.Join(res.Failures, "\n"), strings.Join(res.Violations, "\n"), logs.String())
		}
		stats(sc, res)
	})
}
