package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// checkTags runs check-tags offline with the environment vars (and nothing else: no
// credentials, no endpoints).
func checkTags(t *testing.T, vars map[string]string, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	e := &env{stdin: strings.NewReader(stdin), stdout: &out, stderr: &errb, getenv: func(k string) string { return vars[k] }}
	code := checkTagsCmd(args, e)
	return code, out.String(), errb.String()
}

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// The ListAccounts answer of a directory with prod (and team under it) and dev.
const listAccountsJSON = `{"TotalCount": 3, "PageNumber": 1, "PageSize": 100, "RequestId": "r-1", "Accounts": {"Account": [
  {"AccountId": "1000000000000002", "FolderId": "fd-Prod000001", "ResourceDirectoryId": "rd-Ab12Cd", "ResourceDirectoryPath": "rd-Ab12Cd/r-Ab12Cd/fd-Prod000001/1000000000000002"},
  {"AccountId": "1000000000000003", "FolderId": "fd-Team000001", "ResourceDirectoryId": "rd-Ab12Cd", "ResourceDirectoryPath": "rd-Ab12Cd/r-Ab12Cd/fd-Prod000001/fd-Team000001/1000000000000003"}]}}
{"TotalCount": 3, "PageNumber": 2, "PageSize": 100, "Accounts": {"Account": [
  {"AccountId": 1000000000000004, "FolderId": "fd-Dev0000001", "ResourceDirectoryId": "rd-Ab12Cd", "ResourceDirectoryPath": "rd-Ab12Cd/r-Ab12Cd/fd-Dev0000001/1000000000000004"}]}}`

// TestCheckTagsExitCodes: 0 when nothing is refused (targets that need the directory
// included), 4 for refusals, 2 for usage; no credentials are read.
func TestCheckTagsExitCodes(t *testing.T) {
	for _, c := range []struct {
		name string
		args []string
		code int
		want []string
	}{
		{"well-formed, membership unknown", []string{"imageshare:accounts=1000000000000002", "imageshare:folders=fd-Prod000001"}, exitOK,
			[]string{"needs-directory  1000000000000002", "needs-directory  fd-Prod000001", "0 refusals."}},
		{"a tag error freezes the image", []string{"imageshare:accounts=1000000000000002,12345"}, exitRefusals,
			[]string{"a tag error freezes it", "refused (tag-error)  12345  tag imageshare:accounts: not an account ID (16 digits)", "1 refusal."}},
		{"a wrong mode", []string{"imageshare:mode=Exact", "imageshare:accounts=none"}, exitRefusals,
			[]string{"refused (tag-error)  Exact  tag imageshare:mode: mode must be exact or additive"}},
		{"an unknown key", []string{"imageshare:acounts=1000000000000002"}, exitRefusals,
			[]string{"refused (tag-error)  imageshare:acounts  tag imageshare:acounts: unknown key under the prefix"}},
		{"none beside an ID", []string{"imageshare:accounts=none 1000000000000002"}, exitRefusals, []string{"none must stand alone"}},
		{"not managed", []string{"team=web"}, exitOK, []string{"not managed: no imageshare:* tag"}},
		{"a value the cloud refuses", []string{"imageshare:accounts=" + strings.Repeat("1000000000000002,", 8)}, exitRefusals,
			[]string{"refused (tag-too-long)  imageshare:accounts  the value is 136 characters; ECS takes at most 128"}},
		{"no tags", nil, exitUsage, nil},
		{"not KEY=VALUE", []string{"imageshare:accounts"}, exitUsage, nil},
		{"a bad --owner", []string{"--owner", "12", "a=b"}, exitUsage, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			code, out, errOut := checkTags(t, nil, "", c.args...)
			if code != c.code {
				t.Fatalf("exit %d, want %d\n%s%s", code, c.code, out, errOut)
			}
			for _, w := range c.want {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
			if c.code == exitUsage && errOut == "" {
				t.Error("a usage error says nothing")
			}
		})
	}
}

// TestCheckTagsOwnerAndMembers: the owner's own account is refused only when --owner
// names it; with --members an outsider is refused and a member is fine, with its path;
// ALLOWED_EXTERNAL_ACCOUNTS (through IMAGESHARE_ALLOWED_EXTERNAL_ACCOUNTS, as s deploy
// reads it) lets an outsider in; folders the members' paths show exist.
func TestCheckTagsOwnerAndMembers(t *testing.T) {
	tags := []string{"imageshare:accounts=1000000000000001 1000000000000003 2000000000000001 2000000000000002", "imageshare:folders=fd-Prod000001 fd-Gone000001"}
	code, out, _ := checkTags(t, nil, "", tags...)
	if code != exitOK || strings.Contains(out, "refused") {
		t.Fatalf("without owner and members nothing is refused: exit %d\n%s", code, out)
	}
	code, out, _ = checkTags(t, nil, "", append(tags, "--owner", "1000000000000001")...)
	if code != exitRefusals || !strings.Contains(out, "refused (owner)  1000000000000001  this is the image owner's own account") {
		t.Fatalf("--owner: exit %d\n%s", code, out)
	}
	members := writeFile(t, "members.json", listAccountsJSON)
	vars := map[string]string{"IMAGESHARE_ALLOWED_EXTERNAL_ACCOUNTS": "2000000000000001"}
	code, out, errOut := checkTags(t, vars, "", append(tags, "--owner", "1000000000000001", "--members", members)...)
	for _, want := range []string{
		"3 members from " + members + " (directory rd-Ab12Cd)",
		"ALLOWED_EXTERNAL_ACCOUNTS=2000000000000001 (environment variable IMAGESHARE_ALLOWED_EXTERNAL_ACCOUNTS)",
		"refused (owner)        1000000000000001",
		"refused (not-allowed)  2000000000000002  the account is neither a member of the Resource Directory nor listed in ALLOWED_EXTERNAL_ACCOUNTS",
		"ok                     1000000000000003  shared directly: a member, at rd-Ab12Cd/r-Ab12Cd/fd-Prod000001/fd-Team000001",
		"ok                     2000000000000001  shared directly: listed in ALLOWED_EXTERNAL_ACCOUNTS",
		"ok                     fd-Prod000001",
		"needs-directory        fd-Gone000001     no member of the members file is in it",
		"2 refusals.",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("--members: output lacks %q:\n%s%s", want, out, errOut)
		}
	}
	if code != exitRefusals {
		t.Errorf("--members: exit %d", code)
	}
	// A plain list: membership, but no folders.
	list := writeFile(t, "members.txt", "# prod\n1000000000000003\n\n2000000000000001\n")
	code, out, _ = checkTags(t, nil, "", append(tags, "--members", list)...)
	if code != exitRefusals || !strings.Contains(out, "refused (not-allowed)  2000000000000002") || !strings.Contains(out, "needs-directory        fd-Prod000001") ||
		strings.Contains(out, "not-allowed)  2000000000000001") {
		t.Errorf("a plain list: exit %d\n%s", code, out)
	}
	for content, want := range map[string]string{"12\n": `line 1: "12" is not an account ID`, `{"Accounts": {"Account": [{"AccountId": "x"}]}}`: `AccountId "x"`,
		`{"x": 1}`: "not the JSON of ListAccounts", "": "no account in it"} {
		if code, _, errOut := checkTags(t, nil, "", "a=b", "--members", writeFile(t, "m", content)); code != exitUsage || !strings.Contains(errOut, want) {
			t.Errorf("members file %q: exit %d %s", content, code, errOut)
		}
	}
}

// TestCheckTagsPrefixFileAndJSON: TAG_PREFIX as the deployment sets it decides which
// keys are read; --file reads one image's tags or several by name (Terraform's), and
// --json answers in the documented shape.
func TestCheckTagsPrefixFileAndJSON(t *testing.T) {
	vars := map[string]string{"IMAGESHARE_TAG_PREFIX": "acme"}
	code, out, _ := checkTags(t, vars, "", "imageshare:accounts=12", "acme:accounts=1000000000000002")
	if code != exitOK || !strings.Contains(out, "prefix acme") || strings.Contains(out, "12 ") {
		t.Errorf("TAG_PREFIX=acme: exit %d\n%s", code, out)
	}
	if code, out, _ := checkTags(t, vars, "", "acme:accounts=12"); code != exitRefusals || !strings.Contains(out, "tag acme:accounts: not an account ID") {
		t.Errorf("TAG_PREFIX=acme, an error under it: exit %d\n%s", code, out)
	}
	// The shell's TAG_PREFIX is the functions' name, not what s deploy reads: not read.
	code, out, errOut := checkTags(t, map[string]string{"TAG_PREFIX": "acme"}, "", "acme:accounts=12")
	if code != exitOK || !strings.Contains(errOut, "TAG_PREFIX=acme in the environment is not read") {
		t.Errorf("TAG_PREFIX in the shell: exit %d\n%s%s", code, out, errOut)
	}
	one := writeFile(t, "tags.json", `{"imageshare:accounts": "1000000000000002", "imageshare:mode": "additive", "Name": "web"}`)
	if code, out, _ := checkTags(t, nil, "", "--file", one); code != exitOK || !strings.Contains(out, one+": managed, mode additive") {
		t.Errorf("--file, one image: exit %d\n%s", code, out)
	}
	many := `{"alicloud_image.web": {"imageshare:accounts": "1000000000000002"}, "alicloud_image.db": {"imageshare:folders": "fd-prod"}, "alicloud_image.plain": null}`
	code, out, _ = checkTags(t, nil, many, "--file", "-", "--json")
	res := decode[checkTagsJSON](t, out)
	if code != exitRefusals || res.ExitCode != exitRefusals || res.Refusals != 1 || res.Prefix != "imageshare" || len(res.Images) != 3 {
		t.Fatalf("--file -, several images, --json: exit %d %+v\n%s", code, res, out)
	}
	db, plain, web := res.Images[0], res.Images[1], res.Images[2]
	if db.Name != "alicloud_image.db" || !db.Frozen || len(db.Findings) != 1 || db.Findings[0].Subject != "fd-prod" || db.Findings[0].Status != "refused" ||
		db.Findings[0].Reason != "tag-error" {
		t.Errorf("db: %+v", db)
	}
	if plain.Managed || len(plain.Findings) != 0 {
		t.Errorf("plain: %+v", plain)
	}
	if !web.Managed || web.Mode != "exact" || len(web.Findings) != 1 || web.Findings[0].Status != "needs-directory" {
		t.Errorf("web: %+v", web)
	}
	for content, want := range map[string]string{`[1]`: "not a JSON object of tags", `{"a": 1}`: "quote numbers", `{"a": "b", "m": {}}`: "mixes tags"} {
		if code, _, errOut := checkTags(t, nil, "", "--file", writeFile(t, "t.json", content)); code != exitUsage || !strings.Contains(errOut, want) {
			t.Errorf("--file %s: exit %d %s", content, code, errOut)
		}
	}
	if code, _, errOut := checkTags(t, nil, "", "--file", one, "a=b"); code != exitUsage || !strings.Contains(errOut, "not both") {
		t.Errorf("both: exit %d %s", code, errOut)
	}
}
