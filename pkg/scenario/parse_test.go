package scenario

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func readFile(t testing.TB, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// The illustrative file of the format (every field and step) parses, and every field lands where
// the format says.
func TestSpecIllustrativeFile(t *testing.T) {
	sc, err := Parse("spec-illustrative.yaml", readFile(t, "spec-illustrative.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if sc.Region != "cn-hangzhou" || sc.Owner != "1000000000000001" {
		t.Errorf("region/owner = %q/%q", sc.Region, sc.Owner)
	}
	d := sc.Directory
	if d == nil || d.ID != "rd-Ab12Cd" || d.Root != "r-Ab12Cd" || !d.SharingEnabled || d.Management != "1000000000000001" {
		t.Fatalf("directory = %+v", d)
	}
	if want := []Folder{{ID: "fd-Prod000001", Name: "prod", Parent: "r-Ab12Cd"}}; !reflect.DeepEqual(d.Folders, want) {
		t.Errorf("folders = %+v", d.Folders)
	}
	if want := []Account{{ID: "1000000000000002", Folder: "fd-Prod000001", Site: "china"}}; !reflect.DeepEqual(d.Accounts, want) {
		t.Errorf("accounts = %+v", d.Accounts)
	}
	if !reflect.DeepEqual(sc.Outside, []string{"2000000000000001"}) {
		t.Errorf("outside = %v", sc.Outside)
	}
	if !reflect.DeepEqual(sc.Settings, map[string]string{"ALLOWED_EXTERNAL_ACCOUNTS": "2000000000000001"}) {
		t.Errorf("settings = %v", sc.Settings)
	}
	if !reflect.DeepEqual(sc.Roles, []string{"AliyunECSShareEncryptImageDefaultRole"}) || sc.Deny == nil || len(sc.Deny) != 0 {
		t.Errorf("roles/deny = %v/%#v", sc.Roles, sc.Deny)
	}
	if sc.Cloud != (Cloud{OrgEvents: true, OrgGrantsListed: false}) {
		t.Errorf("cloud = %+v", sc.Cloud)
	}
	if sc.Faults != (Faults{Seed: 7, Throttle: 0.2, ServerError: 0.05, Kill: 0.02}) {
		t.Errorf("faults = %+v", sc.Faults)
	}
	wantImage := Image{ID: "m-Base00000001", Status: "Available", Owner: "self", ProductCode: "", Encrypted: "none",
		Tags: map[string]string{"imageshare:accounts": "1000000000000002"}, SharedWith: []string{"2000000000000001"}}
	if len(sc.Images) != 1 || !reflect.DeepEqual(sc.Images[0], wantImage) {
		t.Errorf("images = %+v", sc.Images)
	}
	if want := []ResourceShare{{Name: "golden", Targets: []string{"fd-Prod000001"}, Images: []string{"m-Base00000001"}}}; !reflect.DeepEqual(sc.ResourceShares, want) {
		t.Errorf("resource_shares = %+v", sc.ResourceShares)
	}

	kinds := []string{"tag_image", "untag_image", "create_image", "delete_image", "share_image", "create_account",
		"invite_account", "move_account", "remove_account", "org_share", "events", "event", "advance", "together"}
	if len(sc.Steps) != len(kinds) {
		t.Fatalf("%d steps, want %d", len(sc.Steps), len(kinds))
	}
	for i, k := range kinds {
		if got := sc.Steps[i].Kind(); got != k {
			t.Errorf("step %d is %q, want %q", i, got, k)
		}
		if sc.Steps[i].Line != 29+i {
			t.Errorf("step %d (%s) at line %d, want %d", i, k, sc.Steps[i].Line, 29+i)
		}
	}
	st := sc.Steps
	if !reflect.DeepEqual(st[0].TagImage, &TagImage{Image: "m-Base00000001", Tags: map[string]string{"imageshare:folders": "fd-Prod000001"}}) {
		t.Errorf("tag_image = %+v", st[0].TagImage)
	}
	if !reflect.DeepEqual(st[1].UntagImage, &UntagImage{Image: "m-Base00000001", Keys: []string{"imageshare:accounts"}}) {
		t.Errorf("untag_image = %+v", st[1].UntagImage)
	}
	if !reflect.DeepEqual(st[2].CreateImage, &CreateImage{Image: "m-New000000001", Tags: map[string]string{}, ReadyAfter: 3 * time.Minute}) {
		t.Errorf("create_image = %+v", st[2].CreateImage)
	}
	if !reflect.DeepEqual(st[4].ShareImage, &ShareImage{Image: "m-Base00000001", Add: []string{"2000000000000001"}, Remove: []string{}}) {
		t.Errorf("share_image = %+v", st[4].ShareImage)
	}
	if !reflect.DeepEqual(st[5].CreateAccount, &CreateAccount{Account: "1000000000000009", Folder: "fd-Prod000001"}) {
		t.Errorf("create_account = %+v", st[5].CreateAccount)
	}
	if !reflect.DeepEqual(st[6].InviteAccount, &InviteAccount{Account: "2000000000000001", Folder: "r-Ab12Cd", AcceptAfter: 5 * time.Minute}) {
		t.Errorf("invite_account = %+v", st[6].InviteAccount)
	}
	if !reflect.DeepEqual(st[7].MoveAccount, &MoveAccount{Account: "1000000000000002", To: "r-Ab12Cd"}) {
		t.Errorf("move_account = %+v", st[7].MoveAccount)
	}
	if !reflect.DeepEqual(st[9].OrgShare, &OrgShare{Name: "golden", AddImages: []string{}, RemoveImages: []string{}, AddTargets: []string{}, RemoveTargets: []string{}}) {
		t.Errorf("org_share = %+v", st[9].OrgShare)
	}
	if st[10].Events != "off" {
		t.Errorf("events = %q", st[10].Events)
	}
	if got, want := string(st[11].Event), `{"specversion":"1.0","id":"e-1","source":"acs.ecs","type":"ecs:ActionTrail:ApiCall","data":{}}`; got != want {
		t.Errorf("event = %s\nwant    %s", got, want)
	}
	if st[12].Advance != 45*time.Minute {
		t.Errorf("advance = %v", st[12].Advance)
	}
	tog := st[13].Together
	if len(tog) != 3 || tog[0].Kind() != "untag_image" || tog[1].Kind() != "wait" || tog[1].Wait != 5*time.Second || tog[2].Kind() != "tag_image" {
		t.Errorf("together = %+v", tog)
	}
	if tog[2].Line != 43 {
		t.Errorf("third step of together at line %d, want 43", tog[2].Line)
	}

	ei, ok := sc.Expect.Images["m-Base00000001"]
	if !ok || ei.Direct == nil || !reflect.DeepEqual(*ei.Direct, []string{"1000000000000003"}) ||
		ei.Organization == nil || !reflect.DeepEqual(*ei.Organization, []string{"fd-Prod000001"}) ||
		!reflect.DeepEqual(ei.Tags, map[string]string{"imageshare:mode": "additive"}) {
		t.Errorf("expect.images = %+v", sc.Expect.Images)
	}
	if want := []ExpectRefusal{{Image: "m-Base00000001", Subject: "2000000000000009"}}; !reflect.DeepEqual(sc.Expect.Refusals, want) {
		t.Errorf("expect.refusals = %+v", sc.Expect.Refusals)
	}
}

// Scalars are read as their source text, and defaults apply where fields are left out.
func TestScalarsStayTextAndDefaults(t *testing.T) {
	src := `region: cn-shanghai
owner: 1000000000000001
directory:
  id: rd-Ab12Cd
  root: r-Ab12Cd
  folders:
    - {id: fd-Child00001, parent: fd-Prod000001}   # parent defined below
    - {id: fd-Prod000001, parent: r-Ab12Cd}
  accounts:
    - {id: 0000000000000002}
    - {id: 1000000000000003, folder: fd-Child00001, site: intl}
settings:
  DRY_RUN: true
  MAX_ACCOUNTS_PER_IMAGE: 3
  RETRY_BASE: 0.5
  NOTIFY_TOPIC:
  TAG_PREFIX: "yes"
images:
  - id: m-A1
    tags: {imageshare:accounts: 1000000000000003, imageshare:mode: off, "k": yes, empty: "", "imageshare:folders": on}
steps:
  - events: off
  - events: on
  - event:
      id: 123
      data:
        eventVersion: 1
        eventName: TagResources
        ok: true
        quoted: "false"
        none: null
        tilde: ~
        empty:
        list: [1, on, no]
        requestParameters: {RegionId: cn-shanghai, ResourceId.1: m-A1}
expect:
  images:
    m-A1: {}
`
	sc, err := Parse("t.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	if sc.Owner != "1000000000000001" {
		t.Errorf("owner = %q", sc.Owner)
	}
	if a := sc.Directory.Accounts[0]; a != (Account{ID: "0000000000000002", Folder: "r-Ab12Cd", Site: "china"}) {
		t.Errorf("account defaults = %+v (leading zero must survive)", a)
	}
	if !sc.Directory.SharingEnabled || !sc.Cloud.OrgEvents || sc.Cloud.OrgGrantsListed {
		t.Errorf("defaults: sharing_enabled=%v org_events=%v org_grants_listed=%v", sc.Directory.SharingEnabled, sc.Cloud.OrgEvents, sc.Cloud.OrgGrantsListed)
	}
	wantSettings := map[string]string{"DRY_RUN": "true", "MAX_ACCOUNTS_PER_IMAGE": "3", "RETRY_BASE": "0.5", "NOTIFY_TOPIC": "", "TAG_PREFIX": "yes"}
	if !reflect.DeepEqual(sc.Settings, wantSettings) {
		t.Errorf("settings = %v", sc.Settings)
	}
	im := sc.Images[0]
	if im.Status != "Available" || im.Owner != "self" || im.Encrypted != "none" || im.SharedWith != nil {
		t.Errorf("image defaults = %+v", im)
	}
	wantTags := map[string]string{"imageshare:accounts": "1000000000000003", "imageshare:mode": "off", "k": "yes", "empty": "", "imageshare:folders": "on"}
	if !reflect.DeepEqual(im.Tags, wantTags) {
		t.Errorf("tags = %v", im.Tags)
	}
	if sc.Steps[0].Events != "off" || sc.Steps[1].Events != "on" {
		t.Errorf("events = %q, %q", sc.Steps[0].Events, sc.Steps[1].Events)
	}
	want := `{"id":"123","data":{"eventVersion":"1","eventName":"TagResources","ok":true,"quoted":"false","none":null,"tilde":null,"empty":null,"list":["1","on","no"],"requestParameters":{"RegionId":"cn-shanghai","ResourceId.1":"m-A1"}}}`
	if got := string(sc.Steps[2].Event); got != want {
		t.Errorf("event JSON\n got %s\nwant %s", got, want)
	}
	if !json.Valid(sc.Steps[2].Event) {
		t.Error("event is not valid JSON")
	}
	if ei, ok := sc.Expect.Images["m-A1"]; !ok || ei.Direct != nil || ei.Organization != nil || ei.Tags != nil {
		t.Errorf("an empty expectation checks nothing: %+v", ei)
	}
}

// Each malformed file is rejected with an *Error on the right line whose message names
// the problem.
func TestMalformed(t *testing.T) {
	const head = "region: cn-hangzhou\nowner: \"1000000000000001\"\n" // lines 1-2
	const dir = head + `directory:
  id: rd-Ab12Cd
  root: r-Ab12Cd
  folders:
    - {id: fd-Prod000001, name: prod, parent: r-Ab12Cd}
  accounts:
    - {id: "1000000000000002", folder: fd-Prod000001}
outside: ["2000000000000001"]
` // lines 3-10
	cases := []struct {
		name string
		src  string
		line int
		msg  []string
	}{
		{"empty file", "", 1, []string{"empty scenario"}},
		{"not a mapping", "- a\n- b\n", 1, []string{"scenario", "want a mapping"}},
		{"yaml syntax", head + "images: [\n", 3, []string{"YAML"}},
		{"two documents", head + "---\nregion: x\n", 3, []string{"one YAML document"}},
		{"unknown top key", head + "steps: []\nregoin: x\n", 4, []string{`unknown key "regoin"`}},
		{"duplicate key", head + "region: cn-beijing\n", 3, []string{`"region" given twice`, "line 1"}},
		{"missing owner", "region: cn-hangzhou\n", 1, []string{"owner is missing"}},
		{"bad owner", "region: cn-hangzhou\nowner: 12345\n", 2, []string{"owner", "bad account ID", `"12345"`}},
		{"owner as float", "region: cn-hangzhou\nowner: 1.0e15\n", 2, []string{"owner", "bad account ID"}},
		{"bad region", "region: Hangzhou\nowner: \"1000000000000001\"\n", 1, []string{"region", `"Hangzhou"`}},
		{"alias", head + "roles: &r [a]\ndeny: *r\n", 3, []string{"anchors and aliases"}},
		{"bad directory id", head + "directory: {id: rd-1, root: r-Ab12Cd}\n", 3, []string{"directory.id", "bad directory ID"}},
		{"bad root id", head + "directory: {id: rd-Ab12Cd, root: root}\n", 3, []string{"directory.root", "bad root folder ID"}},
		{"bad folder id", head + "directory:\n  id: rd-Ab12Cd\n  root: r-Ab12Cd\n  folders:\n    - {id: fd-short, parent: r-Ab12Cd}\n", 7, []string{"folders[0].id", "bad folder ID"}},
		{"folder parent undefined", head + "directory:\n  id: rd-Ab12Cd\n  root: r-Ab12Cd\n  folders:\n    - {id: fd-Prod000001, parent: fd-Nope000001}\n", 7, []string{"folders[0]", `parent "fd-Nope000001"`}},
		{"folder cycle", head + "directory:\n  id: rd-Ab12Cd\n  root: r-Ab12Cd\n  folders:\n    - {id: fd-Aaaa000001, parent: fd-Bbbb000001}\n    - {id: fd-Bbbb000001, parent: fd-Aaaa000001}\n", 7, []string{"own ancestor"}},
		{"baseline is valid", dir + "images: []\nresource_shares: []\n", 0, nil},
		{"duplicate folder", head + "directory:\n  id: rd-Ab12Cd\n  root: r-Ab12Cd\n  folders:\n    - {id: fd-Prod000001, parent: r-Ab12Cd}\n    - {id: fd-Prod000001, parent: r-Ab12Cd}\n", 8, []string{"duplicate folder fd-Prod000001", "line 7"}},
		{"account in undefined folder", head + "directory:\n  id: rd-Ab12Cd\n  root: r-Ab12Cd\n  accounts:\n    - {id: \"1000000000000002\", folder: fd-Prod000001}\n", 7, []string{"accounts[0].folder", "neither the root nor a folder"}},
		{"duplicate account", head + "directory:\n  id: rd-Ab12Cd\n  root: r-Ab12Cd\n  accounts:\n    - {id: \"1000000000000002\"}\n    - {id: \"1000000000000002\"}\n", 8, []string{"duplicate ID 1000000000000002", "line 7"}},
		{"account also outside", head + "directory:\n  id: rd-Ab12Cd\n  root: r-Ab12Cd\n  accounts:\n    - {id: \"1000000000000002\"}\noutside:\n  - \"1000000000000002\"\n", 9, []string{"duplicate ID 1000000000000002", "line 7"}},
		{"owner listed as member", head + "directory:\n  id: rd-Ab12Cd\n  root: r-Ab12Cd\n  accounts:\n    - {id: \"1000000000000001\"}\n", 0, nil},
		{"owner listed twice as member", head + "directory:\n  id: rd-Ab12Cd\n  root: r-Ab12Cd\n  accounts:\n    - {id: \"1000000000000001\"}\n    - {id: \"1000000000000002\"}\n    - {id: \"1000000000000001\"}\n", 9, []string{"accounts[2]", "duplicate ID 1000000000000001", "line 7"}},
		{"owner listed outside", head + "outside: [\"2000000000000001\", \"1000000000000001\"]\n", 3, []string{"outside[1]", "1000000000000001 is the owner (line 2)", "directory.accounts"}},
		{"owner outside and member", head + "directory:\n  id: rd-Ab12Cd\n  root: r-Ab12Cd\n  accounts:\n    - {id: \"1000000000000001\"}\noutside:\n  - \"1000000000000001\"\n", 9, []string{"outside[0]", "duplicate ID 1000000000000001", "line 7"}},
		{"bad management", head + "directory:\n  id: rd-Ab12Cd\n  root: r-Ab12Cd\n  management: 12345\n", 6, []string{"directory.management", "bad account ID", `"12345"`}},
		{"management listed as member", head + "directory:\n  id: rd-Ab12Cd\n  root: r-Ab12Cd\n  management: \"1000000000000009\"\n  accounts:\n    - {id: \"1000000000000002\"}\n    - {id: \"1000000000000009\"}\n", 9, []string{"directory.accounts[1]", "1000000000000009 is the management account", "member at the root"}},
		{"management also outside", head + "directory:\n  id: rd-Ab12Cd\n  root: r-Ab12Cd\n  management: \"1000000000000009\"\noutside: [\"1000000000000009\"]\n", 7, []string{"duplicate ID 1000000000000009", "line 6"}},
		{"move the management account", head + "directory:\n  id: rd-Ab12Cd\n  root: r-Ab12Cd\n  management: \"1000000000000009\"\nsteps:\n  - move_account: {account: \"1000000000000009\", to: r-Ab12Cd}\n", 8, []string{"move_account", "1000000000000009 is the management account"}},
		{"site enum", head + "directory:\n  id: rd-Ab12Cd\n  root: r-Ab12Cd\n  accounts:\n    - {id: \"1000000000000002\", site: europe}\n", 7, []string{"site", `"europe"`, "china | intl"}},
		{"sharing_enabled yes", head + "directory: {id: rd-Ab12Cd, root: r-Ab12Cd, sharing_enabled: yes}\n", 3, []string{"sharing_enabled", `"yes"`}},
		{"outside is a map", head + "outside: {a: b}\n", 3, []string{"outside", "want a list", "mapping"}},
		{"bad outside id", head + "outside: [\"20000000000000011\"]\n", 3, []string{"outside[0]", "bad account ID"}},
		{"settings list", head + "settings: [a]\n", 3, []string{"settings", "want a mapping"}},
		{"settings nested", head + "settings:\n  DRY_RUN: [true]\n", 4, []string{"settings.DRY_RUN", "want a scalar"}},
		{"settings bad name", head + "settings:\n  bad-name: x\n", 4, []string{`"bad-name"`, "environment variable"}},
		{"deny bad action", head + "deny: [TagResources]\n", 3, []string{"deny[0]", "bad API action"}},
		{"cloud unknown key", head + "cloud: {org_event: true}\n", 3, []string{`unknown key "org_event"`}},
		{"cloud bool off", head + "cloud:\n  org_events: off\n", 4, []string{"org_events", `"off"`}},
		{"lookup_delay without unit", head + "cloud:\n  org_events: false\n  lookup_delay: 10\n", 5, []string{"cloud.lookup_delay", `bad duration "10"`}},
		{"lookup_delay negative", head + "cloud: {lookup_delay: -1m}\n", 3, []string{"cloud.lookup_delay", `"-1m"`}},
		{"lookup_delay too long", head + "cloud: {lookup_delay: 25h}\n", 3, []string{"cloud.lookup_delay", "24h0m0s"}},
		{"lookup_delay list", head + "cloud: {lookup_delay: [1m]}\n", 3, []string{"cloud.lookup_delay"}},
		{"rate above 1", head + "faults:\n  seed: 1\n  kill: 1.5\n", 5, []string{"faults.kill", "[0,1]"}},
		{"rate negative", head + "faults: {throttle: -0.1}\n", 3, []string{"faults.throttle", "[0,1]"}},
		{"rate nan", head + "faults: {server_error: .nan}\n", 3, []string{"faults.server_error"}},
		{"bad seed", head + "faults: {seed: 1.5}\n", 3, []string{"faults.seed", "integer"}},
		{"images not a list", head + "images:\n  m-A1: {}\n", 4, []string{"images", "want a list"}},
		{"bad image id", head + "images:\n  - id: img-1\n", 4, []string{"images[0].id", "bad image ID"}},
		{"duplicate image", head + "images:\n  - id: m-A1\n  - id: m-A1\n", 5, []string{"duplicate image m-A1", "line 4"}},
		{"image unknown key", head + "images:\n  - id: m-A1\n    sharedwith: []\n", 5, []string{`unknown key "sharedwith"`}},
		{"status enum", head + "images:\n  - id: m-A1\n    status: available\n", 5, []string{"status", `"available"`, "Available"}},
		{"owner enum", head + "images:\n  - {id: m-A1, owner: me}\n", 4, []string{"owner", `"me"`}},
		{"encrypted enum", head + "images:\n  - {id: m-A1, encrypted: kms}\n", 4, []string{"encrypted", `"kms"`, "service-key"}},
		{"tags not a map", head + "images:\n  - {id: m-A1, tags: [a]}\n", 4, []string{"tags", "want a mapping"}},
		{"tag value list", head + "images:\n  - id: m-A1\n    tags:\n      imageshare:accounts: [\"1000000000000002\"]\n", 6, []string{"imageshare:accounts", "want a scalar"}},
		{"shared_with bad", head + "images:\n  - {id: m-A1, shared_with: [abc]}\n", 4, []string{"shared_with[0]", "bad account ID"}},
		{"share without directory", head + "images: [{id: m-A1}]\nresource_shares:\n  - {name: s, targets: [fd-Prod000001], images: [m-A1]}\n", 5, []string{"targets[0]", "no directory"}},
		{"share target unknown folder", dir + "images: [{id: m-A1}]\nresource_shares:\n  - {name: s, targets: [fd-Othr000001], images: [m-A1]}\n", 13, []string{"targets[0]", "not a folder"}},
		{"share target other directory", dir + "resource_shares:\n  - {name: s, targets: [rd-Zz12Zz]}\n", 12, []string{"not the directory"}},
		{"share target non-member", dir + "resource_shares:\n  - {name: s, targets: [\"2000000000000001\"]}\n", 12, []string{"not a member"}},
		{"share unknown image", dir + "resource_shares:\n  - {name: s, images: [m-Nope]}\n", 12, []string{"images[0]", "m-Nope", "not among"}},
		{"share repeated name", dir + "resource_shares:\n  - {name: s}\n  - {name: s}\n", 0, nil},
		{"share without name", dir + "resource_shares:\n  - {name: s}\n  - {targets: [fd-Prod000001]}\n", 13, []string{"resource_shares[1]", "name is missing", "a name may repeat", "oldest first"}},
		{"org_share without name", dir + "steps:\n  - org_share: {add_targets: [fd-Prod000001]}\n", 12, []string{"steps[0]", "name is missing", "the oldest when several have it"}},
		{"share bad name", dir + "resource_shares:\n  - {name: \"a b\"}\n", 12, []string{"resource share name"}},
		{"steps not a list", head + "steps: {advance: 1m}\n", 3, []string{"steps", "want a list"}},
		{"unknown step", head + "steps:\n  - advance: 1m\n  - sleep: 5s\n", 5, []string{"steps[1]", `unknown step "sleep"`}},
		{"two keys in a step", head + "steps:\n  - {advance: 1m, events: off}\n", 4, []string{"steps[0]", "exactly one key"}},
		{"step is a scalar", head + "steps:\n  - advance\n", 4, []string{"steps[0]", "exactly one key"}},
		{"duration without unit", head + "steps:\n  - advance: 45\n", 4, []string{"advance", `bad duration "45"`}},
		{"duration words", head + "steps:\n  - advance: 3 minutes\n", 4, []string{`bad duration "3 minutes"`}},
		{"duration zero", head + "steps:\n  - advance: 0s\n", 4, []string{"bad duration"}},
		{"duration negative", head + "steps:\n  - advance: -5s\n", 4, []string{"bad duration"}},
		{"ready_after bad", head + "steps:\n  - create_image: {image: m-A1, ready_after: 1d}\n", 4, []string{"ready_after", `"1d"`}},
		{"wait outside together", head + "steps:\n  - advance: 1m\n  - wait: 5s\n", 5, []string{"wait is only allowed inside together"}},
		{"nested together", head + "steps:\n  - together:\n      - together: [{advance: 1m}]\n", 5, []string{"cannot be nested"}},
		{"empty together", head + "steps:\n  - together: []\n", 4, []string{"at least one step"}},
		{"together not a list", head + "steps:\n  - together: {wait: 5s}\n", 4, []string{"together", "want a list"}},
		{"bad step inside together", head + "steps:\n  - together:\n      - wait: 5s\n      - tag_image: {image: m-A1, tags: {}}\n", 6, []string{"steps[0] (together)[1] (tag_image)", "at least one tag"}},
		{"tag_image missing tags", head + "steps:\n  - tag_image: {image: m-A1}\n", 4, []string{"tags is missing"}},
		{"tag_image bad image", head + "steps:\n  - tag_image: {image: ami-1, tags: {a: b}}\n", 4, []string{"tag_image", "bad image ID"}},
		{"tag_image tags list", head + "steps:\n  - tag_image:\n      image: m-A1\n      tags: [a]\n", 6, []string{"tags", "want a mapping"}},
		{"untag keys map", head + "steps:\n  - untag_image: {image: m-A1, keys: {a: b}}\n", 4, []string{"keys", "want a list"}},
		{"untag unknown field", head + "steps:\n  - untag_image: {image: m-A1, key: a}\n", 4, []string{`unknown key "key"`}},
		{"share_image too many", head + "steps:\n  - share_image:\n      image: m-A1\n      add: [\"1000000000000001\",\"1000000000000002\",\"1000000000000003\",\"1000000000000004\",\"1000000000000005\",\"1000000000000006\",\"1000000000000007\",\"1000000000000008\",\"1000000000000009\",\"1000000000000010\",\"1000000000000011\"]\n", 6, []string{"add", "at most 10"}},
		{"share_image bad account", head + "steps:\n  - share_image: {image: m-A1, remove: [\"1\"]}\n", 4, []string{"remove[0]", "bad account ID"}},
		{"create_account without directory", head + "steps:\n  - create_account: {account: \"1000000000000009\", folder: r-Ab12Cd}\n", 4, []string{"no directory"}},
		{"create_account undefined folder", dir + "steps:\n  - create_account: {account: \"1000000000000009\", folder: fd-Nope000001}\n", 12, []string{"folder", "neither the root nor a folder"}},
		{"create_account existing", dir + "steps:\n  - create_account: {account: \"1000000000000002\", folder: r-Ab12Cd}\n", 12, []string{"already exists"}},
		{"create_account twice", dir + "steps:\n  - create_account: {account: \"1000000000000009\", folder: r-Ab12Cd}\n  - create_account: {account: \"1000000000000009\", folder: r-Ab12Cd}\n", 13, []string{"steps[1]", "already exists"}},
		{"invite not outside", dir + "steps:\n  - invite_account: {account: \"1000000000000002\", folder: r-Ab12Cd}\n", 12, []string{"not listed in outside"}},
		{"invite bad accept_after", dir + "steps:\n  - invite_account: {account: \"2000000000000001\", folder: r-Ab12Cd, accept_after: soon}\n", 12, []string{"accept_after", `"soon"`}},
		{"move unknown account", dir + "steps:\n  - move_account: {account: \"1000000000000009\", to: r-Ab12Cd}\n", 12, []string{"unknown account"}},
		{"move owner", dir + "steps:\n  - move_account: {account: \"1000000000000001\", to: r-Ab12Cd}\n", 12, []string{"is the owner"}},
		{"move undefined folder", dir + "steps:\n  - move_account: {account: \"1000000000000002\", to: fd-Nope000001}\n", 12, []string{"to", "neither the root nor a folder"}},
		{"remove unknown account", dir + "steps:\n  - remove_account: {account: \"3000000000000001\"}\n", 12, []string{"unknown account"}},
		{"org_share bad target", dir + "steps:\n  - org_share: {name: golden, add_targets: [r-Ab12Cd]}\n", 12, []string{"add_targets[0]", "bad target"}},
		{"events yes", head + "steps:\n  - events: yes\n", 4, []string{"events", `"yes"`, "on | off"}},
		{"events bool quoted", head + "steps:\n  - events: \"true\"\n", 4, []string{"events", `"true"`}},
		{"event scalar", head + "steps:\n  - event: '{\"id\":\"x\"}'\n", 4, []string{"event", "a CloudEvent is a mapping"}},
		{"event duplicate key", head + "steps:\n  - event:\n      id: a\n      id: b\n", 6, []string{`"id" given twice`}},
		{"expect unknown key", head + "expect:\n  image: {}\n", 4, []string{`unknown key "image"`}},
		{"expect images list", head + "expect:\n  images: [m-A1]\n", 4, []string{"expect.images", "mapping"}},
		{"expect bad image", head + "expect:\n  images:\n    ami-1: {}\n", 5, []string{"expect.images", "bad image ID"}},
		{"expect direct null", head + "expect:\n  images:\n    m-A1:\n      direct:\n", 6, []string{"direct", "use []"}},
		{"expect direct bad", head + "expect:\n  images:\n    m-A1: {direct: [fd-Prod000001]}\n", 5, []string{"direct[0]", "bad account ID"}},
		{"expect org bad", head + "expect:\n  images:\n    m-A1: {organization: [r-Ab12Cd]}\n", 5, []string{"organization[0]", "bad target"}},
		{"expect unknown field", head + "expect:\n  images:\n    m-A1: {shared: []}\n", 5, []string{`unknown key "shared"`}},
		{"refusal missing subject", head + "expect:\n  refusals:\n    - {image: m-A1}\n", 5, []string{"subject is missing"}},
		{"refusal bad image", head + "expect:\n  refusals:\n    - {image: A1, subject: x}\n", 5, []string{"refusals[0].image", "bad image ID"}},
		{"refusal empty reason", head + "expect:\n  refusals:\n    - {image: m-A1, subject: x, reason: \"\"}\n", 5, []string{"refusals[0].reason", "empty"}},
		{"refusal unknown field", head + "expect:\n  refusals:\n    - {image: m-A1, subject: x, why: y}\n", 5, []string{`unknown key "why"`}},
		{"no other refusals not a boolean", head + "expect:\n  no_other_refusals: yes\n", 4, []string{"no_other_refusals"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			sc, err := Parse("bad.yaml", []byte(c.src))
			if c.msg == nil { // a valid neighbour of the malformed cases
				if err != nil {
					t.Fatalf("valid file rejected: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("accepted: %+v", sc)
			}
			var pe *Error
			if !errors.As(err, &pe) {
				t.Fatalf("error %T %v is not a *scenario.Error", err, err)
			}
			if pe.File != "bad.yaml" || pe.Line != c.line {
				t.Errorf("error at %s:%d, want bad.yaml:%d: %v", pe.File, pe.Line, c.line, err)
			}
			if !strings.HasPrefix(err.Error(), "bad.yaml:") {
				t.Errorf("error %q does not start with FILE:LINE", err)
			}
			for _, m := range c.msg {
				if !strings.Contains(pe.Msg, m) {
					t.Errorf("message %q does not mention %q", pe.Msg, m)
				}
			}
		})
	}
}

// clearLines zeroes Step.Line, the only field Marshal does not keep.
func clearLines(steps []Step) {
	for i := range steps {
		steps[i].Line = 0
		clearLines(steps[i].Together)
	}
}

func roundTrip(t testing.TB, name string, data []byte) {
	t.Helper()
	a, err := Parse(name, data)
	if err != nil {
		t.Fatal(err)
	}
	out, err := a.Marshal()
	if err != nil {
		t.Fatalf("marshal: %v", err)
	}
	b, err := Parse("marshalled", out)
	if err != nil {
		t.Fatalf("marshalled scenario does not parse: %v\n%s", err, out)
	}
	clearLines(a.Steps)
	clearLines(b.Steps)
	if !reflect.DeepEqual(a, b) {
		t.Fatalf("round trip changed the scenario\nbefore %+v\nafter  %+v\nYAML:\n%s", a, b, out)
	}
}

func TestMarshalRoundTrip(t *testing.T) {
	for _, name := range []string{"spec-illustrative.yaml", "rich.yaml"} {
		t.Run(name, func(t *testing.T) { roundTrip(t, name, readFile(t, name)) })
	}
}

// Marshal quotes IDs: a 16-digit account and "off" survive being written out.
func TestMarshalQuotesIDs(t *testing.T) {
	sc := &Scenario{Region: "cn-hangzhou", Owner: "0000000000000001", Cloud: Cloud{OrgEvents: true},
		Images: []Image{{ID: "m-1", Status: "Available", Owner: "self", Encrypted: "none",
			Tags: map[string]string{"imageshare:accounts": "0000000000000002", "x": "yes"}}},
		Steps: []Step{{Events: "off"}}}
	out, err := sc.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`owner: "0000000000000001"`, `"imageshare:accounts": "0000000000000002"`, `events: "off"`, `"x": "yes"`} {
		if !strings.Contains(string(out), want) {
			t.Errorf("output lacks %s:\n%s", want, out)
		}
	}
	back, err := Parse("out", out)
	if err != nil {
		t.Fatal(err)
	}
	clearLines(back.Steps)
	if !reflect.DeepEqual(back, sc) {
		t.Errorf("round trip: %+v", back)
	}
}

func TestMarshalRejects(t *testing.T) {
	base := func() *Scenario { return &Scenario{Region: "cn-hangzhou", Owner: "1000000000000001"} }
	cases := map[string]*Scenario{
		"two kinds in a step": func() *Scenario { s := base(); s.Steps = []Step{{Advance: time.Minute, Wait: time.Minute}}; return s }(),
		"empty step":          func() *Scenario { s := base(); s.Steps = []Step{{}}; return s }(),
		"number in an event": func() *Scenario {
			s := base()
			s.Steps = []Step{{Event: json.RawMessage(`{"eventVersion":1}`)}}
			return s
		}(),
		"invalid owner":         func() *Scenario { s := base(); s.Owner = "1"; return s }(),
		"wait outside together": func() *Scenario { s := base(); s.Steps = []Step{{Wait: time.Minute}}; return s }(),
	}
	for name, sc := range cases {
		if out, err := sc.Marshal(); err == nil {
			t.Errorf("%s: marshalled without error:\n%s", name, out)
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, name := range []string{"spec-illustrative.yaml", "rich.yaml"} {
		f.Add(readFile(f, name))
	}
	f.Add([]byte("region: cn-hangzhou\nowner: 1000000000000001\nsteps:\n  - events: off\n"))
	f.Add([]byte("region: cn-hangzhou\nowner: \"1000000000000001\"\nsteps:\n  - event: {a: [1, true, null, {b: ~}]}\n"))
	f.Add([]byte("a: &x [*x]\n"))
	f.Add([]byte("region: [\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		sc, err := Parse("fuzz.yaml", data)
		if err != nil {
			var pe *Error
			if !errors.As(err, &pe) || pe.Line < 1 {
				t.Fatalf("error without a line: %T %v", err, err)
			}
			return
		}
		roundTrip(t, "fuzz.yaml", data)
		_ = sc
	})
}

// docs/scenarios.md: the owner is a member at the root unless directory.accounts lists it
// (then it sits in the folder given), and resource_shares may repeat a name, kept in
// file order (oldest first).
func TestOwnerInAFolderAndRepeatedShareNames(t *testing.T) {
	src := `region: cn-hangzhou
owner: "1000000000000001"
directory:
  id: rd-Ab12Cd
  root: r-Ab12Cd
  folders:
    - {id: fd-Prod000001, parent: r-Ab12Cd}
    - {id: fd-Dev0000001, parent: r-Ab12Cd}
  accounts:
    - {id: "1000000000000002", folder: fd-Dev0000001}
    - {id: "1000000000000001", folder: fd-Prod000001, site: intl}
images: [{id: m-A1}, {id: m-B1}]
resource_shares:
  - {name: golden, targets: [fd-Prod000001], images: [m-A1]}
  - {name: golden, targets: [fd-Dev0000001], images: [m-B1]}
  - {name: other, targets: ["1000000000000001"]}
steps:
  - org_share: {name: golden, add_images: [m-B1]}
  - create_account: {account: "1000000000000001", folder: r-Ab12Cd}
`
	_, err := Parse("s.yaml", []byte(src))
	var pe *Error
	if !errors.As(err, &pe) || pe.Line != 19 || !strings.Contains(pe.Msg, "already exists") {
		t.Fatalf("creating the owner must be refused on line 19 as an existing account: %v", err)
	}
	sc, err := Parse("s.yaml", []byte(strings.TrimSuffix(src, "  - create_account: {account: \"1000000000000001\", folder: r-Ab12Cd}\n")))
	if err != nil {
		t.Fatal(err)
	}
	if got := sc.Directory.Accounts[1]; got != (Account{ID: "1000000000000001", Folder: "fd-Prod000001", Site: "intl"}) {
		t.Errorf("the owner as a member: %+v", got)
	}
	var names []string
	for _, rs := range sc.ResourceShares {
		names = append(names, rs.Name+":"+strings.Join(rs.Targets, ","))
	}
	if want := "golden:fd-Prod000001 golden:fd-Dev0000001 other:1000000000000001"; strings.Join(names, " ") != want {
		t.Errorf("shares %v, want %s", names, want)
	}
	roundTrip(t, "s.yaml", []byte(strings.TrimSuffix(src, "  - create_account: {account: \"1000000000000001\", folder: r-Ab12Cd}\n")))
}

// cloud.lookup_delay is a duration from 0s (the default) to a day.
func TestLookupDelay(t *testing.T) {
	sc, err := Parse("rich.yaml", readFile(t, "rich.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if sc.Cloud != (Cloud{OrgEvents: false, OrgGrantsListed: true, LookupDelay: 7*time.Minute + 30*time.Second}) {
		t.Fatalf("cloud = %+v", sc.Cloud)
	}
	for v, want := range map[string]time.Duration{"0s": 0, "0": 0, "10m": 10 * time.Minute, "24h": 24 * time.Hour} {
		sc, err := Parse("x.yaml", []byte("region: cn-hangzhou\nowner: \"1000000000000001\"\ncloud: {lookup_delay: "+v+"}\n"))
		if err != nil || sc.Cloud.LookupDelay != want || !sc.Cloud.OrgEvents {
			t.Errorf("lookup_delay %s: %+v, %v", v, sc, err)
		}
	}
}
