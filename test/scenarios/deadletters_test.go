package scenarios

import (
	"encoding/json"
	"regexp"
	"slices"
	"testing"

	"imageshare/pkg/function"
	"imageshare/pkg/sandbox"
)

// mustRunFile runs a scenario file of the library and fails the test unless every
// expectation held.
func mustRunFile(t *testing.T, file string, opts sandbox.Options) *sandbox.Result {
	t.Helper()
	res := runFile(t, file, opts)
	if !res.OK() {
		t.Fatalf("%s: %v %v", file, res.Failures, res.Violations)
	}
	return res
}

var imageRE = regexp.MustCompile(`m-[A-Za-z0-9]+`)

// The dead-letters function (docs/architecture.md): a job whose run one image kills is split down to that image — the
// sweep's job of six images, and a region job (an account joined), which is first
// turned into image jobs. The poison's failure is reported exactly once (one
// notification), no other image is reported, every job given up on after
// the first image job holds at most half (rounded up) of the one before, and the chain
// ends with the poison alone.
func TestDeadLettersSplitDownToTheImageThatKillsItsRuns(t *testing.T) {
	for _, tc := range []struct {
		file  string
		first []int // sizes of the first dead-lettered jobs (0: a region job)
	}{
		{"deadletters-split.yaml", []int{6}},
		{"deadletters-region-job.yaml", []int{0, 4}},
	} {
		t.Run(tc.file, func(t *testing.T) {
			res := mustRunFile(t, tc.file, sandbox.Options{})
			var exhausted []string
			for _, n := range res.Notifications {
				var m struct{ Image, Action, Reason string }
				if err := json.Unmarshal([]byte(n), &m); err != nil {
					t.Fatalf("notification %s: %v", n, err)
				}
				if m.Reason == "retries-exhausted" {
					exhausted = append(exhausted, m.Image)
				}
			}
			if !slices.Equal(exhausted, []string{"m-Poison000001"}) {
				t.Fatalf("retries-exhausted notifications name %v, want m-Poison000001 once", exhausted)
			}
			for _, r := range res.Refusals {
				if r.Reason == "retries-exhausted" && r.Image != "m-Poison000001" {
					t.Errorf("a good image was reported: %+v", r)
				}
			}
			var sizes []int
			for _, st := range res.Steps {
				for _, dl := range st.DeadLetters {
					if dl.Function != function.Reconcile {
						t.Fatalf("a delivery to %s was given up on", dl.Function)
					}
					named := imageRE.FindAllString(dl.Event, -1)
					if len(named) > 0 && !slices.Contains(named, "m-Poison000001") {
						t.Errorf("a job without the poison was given up on: %v", named)
					}
					sizes = append(sizes, len(named))
				}
			}
			k := len(tc.first)
			if len(sizes) <= k || !slices.Equal(sizes[:k], tc.first) || sizes[len(sizes)-1] != 1 {
				t.Fatalf("dead-lettered job sizes %v, want %v first and a single image last", sizes, tc.first)
			}
			for i := k; i < len(sizes); i++ {
				if sizes[i] > (sizes[i-1]+1)/2 {
					t.Fatalf("dead-lettered job sizes %v: not halves", sizes)
				}
			}
			if n := res.Stats.Invocations[function.DeadLetters]; n != len(sizes) {
				t.Errorf("dead-letters invoked %d times for %d dead letters", n, len(sizes))
			}
		})
	}
}
