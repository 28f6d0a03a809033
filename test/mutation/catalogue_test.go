package main

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// catalogueFloor is the number of mutants the catalogue may never go below: raise it
// when you add mutants, never lower it.
const catalogueFloor = 70

func TestCatalogueOnlyGrows(t *testing.T) {
	if len(catalogue) < catalogueFloor {
		t.Fatalf("the catalogue holds %d mutants, fewer than its floor %d: mutants are rewritten for new code, never dropped", len(catalogue), catalogueFloor)
	}
}

var nameRE = regexp.MustCompile(`^[a-z0-9]+/[a-z0-9-]+$`)

func TestCatalogueEntries(t *testing.T) {
	seen := map[string]bool{}
	for _, m := range catalogue {
		switch {
		case !nameRE.MatchString(m.Name):
			t.Errorf("%q: a name is area/what-breaks in lower case", m.Name)
		case seen[m.Name]:
			t.Errorf("%s: named twice", m.Name)
		case m.Rule == "" || m.Breaks == "" || m.File == "":
			t.Errorf("%s: rule, promise and file are required", m.Name)
		case m.Original == "" || m.Original == m.Replacement:
			t.Errorf("%s: the replacement must change the snippet", m.Name)
		case len(m.Tests) == 0:
			t.Errorf("%s: no test named to catch it", m.Name)
		}
		seen[m.Name] = true
		for _, tc := range m.Tests {
			if !strings.HasPrefix(tc.Pkg, "./") || strings.Contains(tc.Pkg, "...") {
				t.Errorf("%s: test package %q: one package, as ./path", m.Name, tc.Pkg)
			} else if st, err := os.Stat(filepath.Join("../..", tc.Pkg)); err != nil || !st.IsDir() {
				t.Errorf("%s: test package %s does not exist", m.Name, tc.Pkg)
			}
			if _, err := regexp.Compile(tc.Run); err != nil {
				t.Errorf("%s: -run %q: %v", m.Name, tc.Run, err)
			}
		}
	}
}

// Every reconcile rule has at least one mutant.
func TestEveryRuleHasAMutant(t *testing.T) {
	for i := 1; i <= 11; i++ {
		rule := fmt.Sprintf("R%d", i)
		if !slices.ContainsFunc(catalogue, func(m Mutant) bool { return m.Rule == rule }) {
			t.Errorf("no mutant breaks %s", rule)
		}
	}
}

// TestSnippetsApply: every snippet occurs exactly once in its file as the repository
// holds it now, so the catalogue cannot rot unnoticed (`go run ./test/mutation -check`
// also compiles each mutant).
func TestSnippetsApply(t *testing.T) {
	for _, m := range catalogue {
		src, err := os.ReadFile(filepath.Join("../..", filepath.FromSlash(m.File)))
		if err != nil {
			t.Errorf("%s: %v", m.Name, err)
			continue
		}
		if _, err := m.Apply(string(src)); err != nil {
			t.Error(err)
		}
	}
}

func TestApply(t *testing.T) {
	m := Mutant{Name: "x/y", File: "f.go", Original: "a < b", Replacement: "a <= b"}
	if got, err := m.Apply("if a < b {}"); err != nil || got != "if a <= b {}" {
		t.Errorf("Apply = %q, %v", got, err)
	}
	if _, err := m.Apply("if a > b {}"); err == nil || !strings.Contains(err.Error(), "not found in f.go") {
		t.Errorf("missing snippet: %v", err)
	}
	if _, err := m.Apply("a < b; a < b"); err == nil || !strings.Contains(err.Error(), "2 times") {
		t.Errorf("ambiguous snippet: %v", err)
	}
}
