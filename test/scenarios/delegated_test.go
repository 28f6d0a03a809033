package scenarios

import (
	"context"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"imageshare"
	"imageshare/pkg/sandbox"
	"imageshare/pkg/scenario"
)

// TestDelegatedAdminReliesOnTheSweep runs org-delegated-admin.yaml stopped ten minutes
// after the directory changes, before the 01:00 sweep. With the management account
// another account, no event of its writes reaches the factory's bus: nothing has changed
// yet. With the owner managing the directory, the same steps' events reach its bus and
// org-events reacts at once. (The library runs the whole file: the sweep then catches up.)
func TestDelegatedAdminReliesOnTheSweep(t *testing.T) {
	data, err := os.ReadFile("org-delegated-admin.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name       string
		management string // "" keeps the file's
		direct     []string
	}{
		{"delegated administrator", "", []string{"1000000000000004"}},
		{"management account", "1000000000000001", []string{"1000000000000009"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			sc, err := scenario.Parse("org-delegated-admin.yaml", data)
			if err != nil {
				t.Fatal(err)
			}
			if sc.Directory.Management != "1000000000000090" {
				t.Fatalf("management = %q", sc.Directory.Management)
			}
			if tc.management != "" {
				sc.Directory.Management = tc.management
			}
			last := &sc.Steps[len(sc.Steps)-1]
			if last.Advance != 30*time.Minute {
				t.Fatalf("the file's last step is no longer the 30m advance: %+v", last)
			}
			last.Advance = 10 * time.Minute // stop before the 01:00 sweep
			sc.Expect = scenario.Expect{}
			var logs strings.Builder
			res, err := sandbox.Run(context.Background(), sc, sandbox.Options{SYAML: imageshare.SYAML, FunctionCommand: command, Trace: &logs})
			if err != nil {
				t.Fatal(err)
			}
			if !res.OK() {
				t.Fatalf("run failed:\n%s\n%s", strings.Join(res.Failures, "\n"), strings.Join(res.Violations, "\n"))
			}
			got := res.Images["m-Golden000001"]
			if !slices.Equal(got.Direct, tc.direct) || !slices.Equal(got.Organization, []string{"fd-Prod000001"}) {
				t.Fatalf("before the sweep: direct %v, organization %v; want direct %v\ntrace:\n%s", got.Direct, got.Organization, tc.direct, logs.String())
			}
		})
	}
}
