package main

import (
	"fmt"
	"strings"
)

// Mutant is one deliberate bug: a snippet of a file replaced by another.
type Mutant struct {
	// Name is area/what-breaks, unique in the catalogue.
	Name string
	// Rule is what it breaks: R1…R11, §2 (tags), §3 (settings), §5 (events), or
	// "tests" for the honesty of the test harness itself, or "regions" for copies in
	// other regions (docs/regions.md).
	Rule string
	// Breaks says the promise it breaks, in a sentence.
	Breaks string
	// File is the path from the repository root.
	File string
	// Original must occur exactly once in File; Replacement takes its place.
	Original, Replacement string
	// Tests are the tests that must catch it; they run in order until one fails.
	Tests []Test
}

// Test is one go test run: a package, and optionally a -run expression.
type Test struct {
	Pkg string // "./pkg/plan"
	Run string // "" runs the whole package
}

func (t Test) String() string {
	if t.Run == "" {
		return t.Pkg
	}
	return t.Pkg + " -run " + t.Run
}

// Apply returns src with the mutant's snippet replaced; the snippet must occur exactly
// once, or the catalogue has rotted and says where.
func (m Mutant) Apply(src string) (string, error) {
	switch n := strings.Count(src, m.Original); n {
	case 1:
		return strings.Replace(src, m.Original, m.Replacement, 1), nil
	case 0:
		return "", fmt.Errorf("%s: snippet not found in %s (the code changed: update the mutant to the new code, never drop it)", m.Name, m.File)
	default:
		return "", fmt.Errorf("%s: snippet found %d times in %s (make it longer so it is unique)", m.Name, n, m.File)
	}
}
