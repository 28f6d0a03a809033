package docs

import (
	"regexp"
	"slices"
	"strings"
	"testing"

	"imageshare/pkg/cloudsim"
	"imageshare/pkg/cloudsim/actiontrail"
	"imageshare/pkg/cloudsim/emu"
	"imageshare/pkg/cloudsim/eventbridge"
	"imageshare/pkg/cloudsim/mns"
	"imageshare/pkg/cloudsim/ram"
	"imageshare/pkg/cloudsim/sts"
)

// docs/emulator.md lists, per product, the actions the emulated cloud answers (before
// the " — " of its remarks): exactly the registry's, so the page neither promises an
// action nor hides one.
func TestEmulatorDocListsTheActions(t *testing.T) {
	md := read(t, "docs/emulator.md")
	action := regexp.MustCompile("`([A-Z][A-Za-z]+)`")
	answers := map[string][]string{}
	for _, p := range cloudsim.Products {
		answers[p] = cloudsim.Actions(p)
	}
	store := ram.NewStore()
	for _, svc := range []emu.Service{ram.NewService(store), sts.New(), eventbridge.New(store), mns.New(mns.Config{}).Management(),
		actiontrail.New(actiontrail.Config{})} {
		for a := range svc.Actions() {
			answers[svc.Product()] = append(answers[svc.Product()], a)
		}
		slices.Sort(answers[svc.Product()])
	}
	for product, heading := range map[string]string{"ecs": "- **ECS** (2014-05-26):", "resourcemanager": "- **Resource Manager** (2020-03-31):",
		"resourcesharing": "- **Resource Sharing** (2020-01-10):", "ram": "- **RAM** (2015-05-01):", "sts": "- **STS** (2015-04-01):",
		"eventbridge": "- **EventBridge** (2020-04-01):", "mns-open": "- **MNS management API** (mns-open 2022-01-19):",
		"actiontrail": "- **ActionTrail** (2020-07-06):"} {
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
		if want := answers[product]; !slices.Equal(listed, want) {
			t.Errorf("docs/emulator.md lists for %s\n  %v\nthe emulated cloud answers\n  %v", product, listed, want)
		}
	}
	for _, v := range []string{"ALIBABA_CLOUD_ACCESS_KEY_ID", "ALIBABA_CLOUD_ACCESS_KEY_SECRET", "ALIBABA_CLOUD_REGION_ID",
		"ALIBABA_CLOUD_ACCOUNT_ID", "ECS_ENDPOINT", "RESOURCEMANAGER_ENDPOINT", "RESOURCESHARING_ENDPOINT", "MNS_ENDPOINT",
		"RAM_ENDPOINT", "STS_ENDPOINT", "EVENTBRIDGE_ENDPOINT", "MNS_OPEN_ENDPOINT", "ACTIONTRAIL_ENDPOINT"} {
		if !strings.Contains(md, "export "+v+"=") {
			t.Errorf("docs/emulator.md's export block lacks %s", v)
		}
	}
}
