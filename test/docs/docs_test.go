// Package docs checks that the documentation says what the code does: the notification
// examples are what the reconcile function publishes, the common tag mistakes give the
// refusals the tables promise, every refusal reason has a troubleshooting section, the
// JSON in the docs parses, and relative links lead somewhere.
package docs

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"imageshare/pkg/aliyun"
	"imageshare/pkg/cloud"
	"imageshare/pkg/cloudsim"
	"imageshare/pkg/cloudsim/emu"
	"imageshare/pkg/function"
	"imageshare/pkg/job"
	"imageshare/pkg/plan"
	"imageshare/pkg/rampolicy"
	"imageshare/pkg/report"
	"imageshare/pkg/settings"
	"imageshare/pkg/state"
)

const root = "../.."

var show = flag.Bool("show", false, "print the notifications the code publishes (to paste into docs/notifications.md)")

func read(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, path))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// capture is the functions' queue: it keeps what is published.
type capture struct {
	mu        sync.Mutex
	published []string
}

func (c *capture) Send(context.Context, string, []string, time.Duration) error { return nil }

func (c *capture) Publish(_ context.Context, _ string, body string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.published = append(c.published, body)
	return nil
}

// TestNotificationExamples runs the reconcile handler on the emulated cloud for a job
// an event caused, and checks each documented example is one of the messages it
// publishes (request IDs aside, which are random).
func TestNotificationExamples(t *testing.T) {
	const (
		region = "cn-hangzhou"
		owner  = "1000000000000001"
		member = "1000000000000002"
		stray  = "2000000000000002"
		image  = "m-Market000001"
	)
	clock := emu.NewClock(emu.Epoch)
	keys := emu.NewKeyring()
	c := cloudsim.New(cloudsim.Config{Clock: clock, Keys: keys, FunctionRole: "imageshare-fc"})
	// The functions' role holds the deployment's policy.
	if doc, err := rampolicy.Render(rampolicy.Deployment{Account: owner, Region: region, JobQueue: "imageshare-jobs"}); err != nil {
		t.Fatal(err)
	} else if err := c.RAM().Grant(owner, "imageshare-fc", "imageshare-fc", string(doc)); err != nil {
		t.Fatal(err)
	}
	eps, stop, err := c.Serve()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop)
	c.AddAccount(owner, "china")
	c.SetDirectory(cloudsim.DirectorySpec{ID: "rd-Ab12Cd", RootID: "r-Ab12Cd", Master: owner, SharingEnabled: true})
	c.AddFolder("fd-Prod000001", "prod", "r-Ab12Cd")
	c.AddAccount(member, "china")
	c.AddMember(member, "fd-Prod000001")
	c.AddAccount(stray, "china")
	c.PutImage(region, cloudsim.ImageSpec{ID: image, Owner: owner, Status: "Available", ProductCode: "cmjj000123",
		Tags: map[string]string{"imageshare:accounts": member + "," + stray}, Created: clock.Now().Add(-time.Hour)})
	env := map[string]string{"NOTIFY_TOPIC": "imageshare-notices", "RETRY_BASE": "1ms", "RETRY_MAX": "10ms"}
	set, err := settings.Load(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	q := &capture{}
	d := &function.Deps{Settings: set, Log: slog.New(slog.NewJSONHandler(io.Discard, nil)), Now: clock.Now,
		API: func(inv function.Invocation) (cloud.API, error) {
			return aliyun.New(aliyun.Config{Region: inv.Region, Credentials: inv.Credentials, Endpoints: eps})
		},
		Queue: func(function.Invocation) (function.Queue, error) { return q, nil },
	}
	h, err := d.Handler(function.Reconcile)
	if err != nil {
		t.Fatal(err)
	}
	// The job of the ops team's tag edit names who made it (SPEC R10), as image-events
	// reads it from the event's userIdentity.
	body := job.Job{V: job.Version, Kind: job.KindImages, Region: region, Images: []string{image}, Reason: job.ReasonEvent,
		Notify: true, RetryFailed: true,
		Actors: []report.Actor{{Type: "ram-user", AccountID: owner, PrincipalID: "203456789012345678", UserName: "alice"}}}.Encode()
	ev, _ := json.Marshal(map[string]any{"specversion": "1.0", "id": "evt-1", "source": "MNS-imageshare-reconcile-jobs",
		"type": "mns:Queue:SendMessage", "time": clock.Now().Format(time.RFC3339), "subject": "acs:mns:cn-hangzhou:" + owner + ":queues/imageshare-jobs",
		"data": map[string]any{"requestId": "r-1", "messageId": "m-1", "messageBody": body}})
	cred := keys.AssumeRole(owner, "imageshare-fc", "reconcile", time.Hour)
	if _, err := h(context.Background(), function.Invocation{RequestID: "req-1", Region: region, AccountID: owner,
		Credentials: cloud.Credentials{AccessKeyID: cred.AccessKeyID, AccessKeySecret: cred.AccessKeySecret, SecurityToken: cred.SecurityToken}}, ev); err != nil {
		t.Fatal(err)
	}
	if *show {
		for _, p := range q.published {
			var n report.Notification
			_ = json.Unmarshal([]byte(p), &n)
			b, _ := json.MarshalIndent(n, "", "  ")
			fmt.Println(string(b))
		}
	}
	got := map[string]report.Notification{}
	for _, p := range q.published {
		var n report.Notification
		if err := json.Unmarshal([]byte(p), &n); err != nil {
			t.Fatalf("published %q: %v", p, err)
		}
		got[n.Action+" "+n.Subject] = n
	}
	examples := jsonAfter(t, read(t, "docs/notifications.md"), "<!-- example")
	if len(examples) < 2 {
		t.Fatalf("docs/notifications.md has %d examples marked <!-- example -->", len(examples))
	}
	for _, ex := range examples {
		var doc report.Notification
		dec := json.NewDecoder(strings.NewReader(ex))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&doc); err != nil {
			t.Errorf("a documented example does not decode as a notification: %v\n%s", err, ex)
			continue
		}
		n, ok := got[doc.Action+" "+doc.Subject]
		if !ok {
			t.Errorf("the code published no %s notification about %q; it published %v", doc.Action, doc.Subject, keysOf(got))
			continue
		}
		if len(n.RequestIDs) == len(doc.RequestIDs) {
			n.RequestIDs = doc.RequestIDs
		}
		if !reflect.DeepEqual(n, doc) {
			b, _ := json.MarshalIndent(n, "", "  ")
			t.Errorf("documented example differs from what the code publishes; the code publishes:\n%s", b)
		}
	}
}

func keysOf[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// jsonAfter returns the ```json blocks that follow a line starting with marker (with
// marker "": every ```json block).
func jsonAfter(t *testing.T, md, marker string) []string {
	t.Helper()
	var out []string
	lines := strings.Split(md, "\n")
	for i := 0; i < len(lines); i++ {
		if marker == "" {
			if strings.TrimSpace(lines[i]) != "```json" {
				continue
			}
		} else if !strings.HasPrefix(strings.TrimSpace(lines[i]), marker) {
			continue
		} else {
			for i++; i < len(lines) && strings.TrimSpace(lines[i]) != "```json"; i++ {
			}
		}
		var b strings.Builder
		for i++; i < len(lines) && strings.TrimSpace(lines[i]) != "```"; i++ {
			b.WriteString(lines[i] + "\n")
		}
		out = append(out, b.String())
	}
	return out
}

// TestTagMistakes plans each row of the common-mistakes table of docs/tags.md on the
// example organization the page describes, and checks the refusal it names.
func TestTagMistakes(t *testing.T) {
	md := read(t, "docs/tags.md")
	i := strings.Index(md, "## Common mistakes")
	if i < 0 {
		t.Fatal("docs/tags.md has no section ## Common mistakes")
	}
	rowRE := regexp.MustCompile("^\\|([^|]*`[^|]*)\\|\\s*([^|]*?)\\s*\\|\\s*`?([a-z-]+|\\(not managed\\))`?\\s*\\|")
	codeRE := regexp.MustCompile("`([^`]*)`")
	set, err := settings.Load(func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	rows := 0
	for _, line := range strings.Split(md[i:], "\n")[1:] {
		if strings.HasPrefix(line, "## ") {
			break
		}
		m := rowRE.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		rows++
		tags := map[string]string{}
		for _, c := range codeRE.FindAllStringSubmatch(m[1], -1) {
			if k, v, ok := strings.Cut(c[1], "="); ok { // other code spans are commentary
				tags[k] = v
			}
		}
		if len(tags) == 0 {
			t.Fatalf("no KEY=VALUE tag in %q", line)
		}
		subject := strings.Trim(m[2], "` ")
		if subject == "(the image)" || subject == "—" {
			subject = ""
		}
		st := exampleOrganization(tags)
		ip := plan.Make(st, set).Image("m-Example00001")
		if m[3] == "(not managed)" {
			if ip == nil || ip.Managed || len(ip.Refusals) > 0 {
				t.Errorf("%s: want an image imageshare does not manage, got %+v", m[1], ip)
			}
			continue
		}
		found := false
		for _, r := range ip.Refusals {
			found = found || (r.Subject == subject && r.Reason == m[3])
		}
		if !found || len(ip.Share) > 0 && m[3] == plan.ReasonTagError {
			t.Errorf("%s: want refusal %q of %q; the plan refuses %+v", m[1], m[3], subject, ip.Refusals)
		}
	}
	if rows < 8 {
		t.Errorf("the common-mistakes table has %d checkable rows", rows)
	}
}

// exampleOrganization is the organization docs/tags.md describes for its examples.
func exampleOrganization(tags map[string]string) *state.State {
	return &state.State{Region: "cn-hangzhou", Owner: "1000000000000001", Now: emu.Epoch,
		Directory: &state.Directory{ID: "rd-Ab12Cd", RootID: "r-Ab12Cd",
			Members: map[string]state.Member{
				"1000000000000001": {ID: "1000000000000001", Path: []string{"rd-Ab12Cd", "r-Ab12Cd"}},
				"1000000000000002": {ID: "1000000000000002", Path: []string{"rd-Ab12Cd", "r-Ab12Cd", "fd-Prod000001"}},
			},
			Folders: map[string][]string{"fd-Prod000001": {"r-Ab12Cd"}}},
		Images: []state.Image{{ID: "m-Example00001", OwnerAlias: "self", Status: state.Available, Created: emu.Epoch.Add(-time.Hour), Tags: tags}},
	}
}

// TestTroubleshootingCoversEveryReason: every refusal reason the code can report has a
// section `### \`code\“ in docs/troubleshooting.md. The codes are read from the source,
// so a new one fails this test until it is documented.
func TestTroubleshootingCoversEveryReason(t *testing.T) {
	codes := map[string]bool{"retries-exhausted": true, "image-not-available": true, "error": true}
	fset := token.NewFileSet()
	pf, err := parser.ParseFile(fset, filepath.Join(root, "pkg/plan/plan.go"), nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	ast.Inspect(pf, func(n ast.Node) bool {
		if vs, ok := n.(*ast.ValueSpec); ok {
			for i, name := range vs.Names {
				if strings.HasPrefix(name.Name, "Reason") && i < len(vs.Values) {
					if lit, ok := vs.Values[i].(*ast.BasicLit); ok {
						s, _ := strconv.Unquote(lit.Value)
						codes[s] = true
					}
				}
			}
		}
		return true
	})
	rf, err := parser.ParseFile(fset, filepath.Join(root, "pkg/apply/remedy.go"), nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	ast.Inspect(rf, func(n ast.Node) bool {
		if kv, ok := n.(*ast.KeyValueExpr); ok {
			if lit, ok := kv.Key.(*ast.BasicLit); ok && lit.Kind == token.STRING {
				s, _ := strconv.Unquote(lit.Value)
				codes[s] = true
			}
		}
		return true
	})
	if len(codes) < 30 {
		t.Fatalf("found only %d reason codes in the source: %v", len(codes), keysOf(codes))
	}
	md := read(t, "docs/troubleshooting.md")
	for _, c := range keysOf(codes) {
		if !strings.Contains(md, "### `"+c+"`") {
			t.Errorf("docs/troubleshooting.md has no section ### `%s`", c)
		}
	}
	// The OperationDeined.* family (sic) is matched by prefix in the code.
	if !strings.Contains(md, "### `OperationDeined.*`") {
		t.Error("docs/troubleshooting.md has no section for OperationDeined.*")
	}
}

// TestDocsJSONAndLinks: every ```json block of the docs parses, the tag-guard policy of
// docs/deploy.md denies tag writes on images, and relative links lead to files.
func TestDocsJSONAndLinks(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(root, "docs", "*.md"))
	if err != nil || len(files) < 5 {
		t.Fatalf("docs: %v %v", files, err)
	}
	files = append(files, filepath.Join(root, "README.md"))
	linkRE := regexp.MustCompile(`\]\(([^)#\s]+)(#[^)]*)?\)`)
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		md := string(b)
		for _, block := range jsonAfter(t, md, "") {
			var v any
			if err := json.Unmarshal([]byte(block), &v); err != nil {
				t.Errorf("%s: a json block does not parse: %v\n%s", f, err, block)
			}
		}
		for _, m := range linkRE.FindAllStringSubmatch(md, -1) {
			target := m[1]
			if strings.Contains(target, "://") || strings.HasPrefix(target, "mailto:") {
				continue
			}
			if _, err := os.Stat(filepath.Join(filepath.Dir(f), target)); err != nil {
				t.Errorf("%s links to %s, which does not exist", f, target)
			}
		}
	}
	deploy := read(t, "docs/deploy.md")
	var guard struct {
		Statement []struct {
			Effect   string
			Action   []string
			Resource any
		}
	}
	blocks := jsonAfter(t, deploy, "<!-- tag-guard-policy -->")
	if len(blocks) != 1 {
		t.Fatal("docs/deploy.md has no <!-- tag-guard-policy --> block")
	}
	if err := json.Unmarshal([]byte(blocks[0]), &guard); err != nil {
		t.Fatal(err)
	}
	denied := map[string]bool{}
	for _, s := range guard.Statement {
		if s.Effect == "Deny" {
			for _, a := range s.Action {
				denied[a] = true
			}
		}
	}
	for _, a := range []string{"ecs:TagResources", "ecs:UntagResources", "ecs:AddTags", "ecs:RemoveTags", "ecs:ModifyImageSharePermission"} {
		if !denied[a] {
			t.Errorf("the tag-guard policy does not deny %s", a)
		}
	}
}
