package docs

import (
	"regexp"
	"slices"
	"strings"
	"testing"

	"imageshare/pkg/cloudsim"
)

// docs/emulator.md lists, per product, the actions the emulated cloud answers (before
// the " — " of its remarks): exactly the registry's, so the page neither promises an
// action nor hides one.
func TestEmulatorDocListsTheActions(t *testing.T) {
	md := read(t, "docs/emulator.md")
	action := regexp.MustCompile("`([A-Z][A-Za-z]+)`")
	for product, heading := range map[string]string{"ecs": "- **ECS** (2014-05-26):", "resourcemanager": "- **Resource Manager** (2020-03-31):",
		"resourcesharing": "- **Resource Sharing** (2020-01-10):"} {
		i := strings.Index(md, heading)
		if i < 0 {
			t.Errorf("docs/emulator.md has no %q item", heading)
			continue
		}
		item := md[i+len(heading):]
		if j := strings.Index(item, "\n- "); j >= 0 {
			item = item[:j]
		}
		item, _, _ = strings.Cut(item, " — ") // the actions come before the remarks
		var listed []string
		for _, m := range action.FindAllStringSubmatch(item, -1) {
			listed = append(listed, m[1])
		}
		slices.Sort(listed)
		if want := cloudsim.Actions(product); !slices.Equal(listed, want) {
			t.Errorf("docs/emulator.md lists for %s\n  %v\nthe emulated cloud answers\n  %v", product, listed, want)
		}
	}
	for _, v := range []string{"ALIBABA_CLOUD_ACCESS_KEY_ID", "ALIBABA_CLOUD_ACCESS_KEY_SECRET", "ALIBABA_CLOUD_REGION_ID",
		"ALIBABA_CLOUD_ACCOUNT_ID", "ECS_ENDPOINT", "RESOURCEMANAGER_ENDPOINT", "RESOURCESHARING_ENDPOINT", "MNS_ENDPOINT"} {
		if !strings.Contains(md, "export "+v+"=") {
			t.Errorf("docs/emulator.md's export block lacks %s", v)
		}
	}
}
