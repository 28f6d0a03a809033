package scenarios

import (
	"encoding/json"
	"os"
	"sort"
	"testing"
)

// checkPolicy: every action the emulated cloud saw the functions call, over the whole
// scenario library, is allowed by deploy/ram-policy.json.
func checkPolicy(t *testing.T, seen map[string]bool) {
	t.Helper()
	var pol struct{ Statement []struct{ Action []string } }
	b, err := os.ReadFile("../../deploy/ram-policy.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &pol); err != nil {
		t.Fatal(err)
	}
	allowed := map[string]bool{}
	for _, s := range pol.Statement {
		for _, a := range s.Action {
			allowed[a] = true
		}
	}
	var actions []string
	for a := range seen {
		actions = append(actions, a)
		if !allowed[a] {
			t.Errorf("the functions called %s in the scenario suite; deploy/ram-policy.json does not allow it", a)
		}
	}
	sort.Strings(actions)
	if len(actions) < 8 {
		t.Fatalf("too few actions seen to prove anything: %v", actions)
	}
}
