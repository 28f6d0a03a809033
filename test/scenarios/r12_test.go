package scenarios

import (
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"imageshare"
	"imageshare/pkg/function"
	"imageshare/pkg/report"
	"imageshare/pkg/sandbox"
	"imageshare/pkg/scenario"
)

// The test-only hook of R12: this test binary, started as
// `imageshare-function-noconfirm NAME`, runs the functions with every R12 removal
// confirmed on the first look (function.Deps.SkipConfirmationForTests), as they were
// before R12. It is no setting: only this test binary can turn it on.
func init() {
	if len(os.Args) == 3 && os.Args[1] == "imageshare-function-noconfirm" {
		d := function.NewDeps(slog.New(slog.NewJSONHandler(os.Stdout, nil)).With("function", os.Args[2]))
		d.SkipConfirmationForTests = true
		function.Serve(os.Args[2], d)
	}
}

func noConfirm(name string) []string {
	return []string{os.Args[0], "imageshare-function-noconfirm", name}
}

// runFile runs a scenario file of the library with opts (FunctionCommand and SYAML set
// when empty).
func runFile(t *testing.T, file string, opts sandbox.Options) *sandbox.Result {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	sc, err := scenario.Parse(file, data)
	if err != nil {
		t.Fatal(err)
	}
	return runParsed(t, sc, opts)
}

func runParsed(t *testing.T, sc *scenario.Scenario, opts sandbox.Options) *sandbox.Result {
	t.Helper()
	if opts.FunctionCommand == nil {
		opts.FunctionCommand = command
	}
	opts.SYAML = imageshare.SYAML
	res, err := sandbox.Run(context.Background(), sc, opts)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// notifications decodes what NOTIFY_TOPIC received.
func notifications(t *testing.T, res *sandbox.Result) []report.Notification {
	t.Helper()
	var out []report.Notification
	for _, body := range res.Notifications {
		var n report.Notification
		if err := json.Unmarshal([]byte(body), &n); err != nil {
			t.Fatalf("notification %q: %v", body, err)
		}
		out = append(out, n)
	}
	return out
}

// The three untag-then-retag straddles pass the invariant in the library; without the
// confirmation (the test-only hook) each one cuts the account off on the half-edited
// tags and gives it back once the edit is whole, which the invariant reports.
func TestWithoutConfirmationTheInvariantFires(t *testing.T) {
	for file, account := range map[string]string{
		"r12-sweep-straddle.yaml":      "1000000000000002",
		"r12-recheck-straddle.yaml":    "1000000000000004",
		"r12-org-change-straddle.yaml": "1000000000000002",
	} {
		t.Run(strings.TrimSuffix(file, ".yaml"), func(t *testing.T) {
			t.Parallel()
			res := runFile(t, file, sandbox.Options{FunctionCommand: noConfirm})
			if len(res.Failures) != 0 {
				t.Fatalf("the end state is right without R12 too, so only the invariant may fail: %v", res.Failures)
			}
			v := strings.Join(res.Violations, "\n")
			if !strings.Contains(v, "ModifyImageSharePermission") || !strings.Contains(v, "cut account "+account) {
				t.Fatalf("the cut on the half-edited tags went unnoticed: %v", res.Violations)
			}
			t.Logf("caught without R12: %s", res.Violations[0])
		})
	}
}

// A removal takes effect about two SETTLE_DELAY after the edit (the event's delay, then
// the confirming job's), an add one SETTLE_DELAY after it.
func TestRemovalTakesTwoSettleDelays(t *testing.T) {
	const sc = `region: cn-hangzhou
owner: "1000000000000001"
directory:
  id: rd-Scen01
  root: r-Scen01
  accounts:
    - {id: "1000000000000002", folder: r-Scen01}
    - {id: "1000000000000003", folder: r-Scen01}
    - {id: "1000000000000004", folder: r-Scen01}
settings: {SETTLE_DELAY: 40s, RETRY_BASE: 1ms, RETRY_MAX: 10ms}
images:
  - id: m-Timing000001
    tags: {"imageshare:accounts": "1000000000000002 1000000000000003"}
    shared_with: ["1000000000000002", "1000000000000003"]
steps:
  - advance: 31m
  - tag_image: {image: m-Timing000001, tags: {"imageshare:accounts": "1000000000000002 1000000000000004"}}
expect:
  images:
    m-Timing000001: {direct: ["1000000000000002", "1000000000000004"]}
`
	parsed, err := scenario.Parse("timing.yaml", []byte(sc))
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var added, removed time.Time
	res := runParsed(t, parsed, sandbox.Options{OnWrite: func(w sandbox.Write) {
		mu.Lock()
		defer mu.Unlock()
		if w.Action != "ModifyImageSharePermission" {
			return
		}
		if w.Params["AddAccount.1"] == "1000000000000004" {
			added = w.Time
		}
		if w.Params["RemoveAccount.1"] == "1000000000000003" {
			removed = w.Time
		}
	}})
	if !res.OK() {
		t.Fatalf("%v %v", res.Failures, res.Violations)
	}
	edit := res.Steps[1].Start
	if got := added.Sub(edit); got != 40*time.Second {
		t.Errorf("add took %s after the edit, want SETTLE_DELAY (40s)", got)
	}
	if got := removed.Sub(edit); got != 80*time.Second {
		t.Errorf("removal took %s after the edit, want two SETTLE_DELAY (80s)", got)
	}
}

// DRY_RUN: a first look reports the removal as unshare "after confirmation", changes
// nothing and queues no confirming job.
func TestDryRunReportsRemovalsAfterConfirmation(t *testing.T) {
	const sc = `region: cn-hangzhou
owner: "1000000000000001"
directory:
  id: rd-Scen01
  root: r-Scen01
  accounts:
    - {id: "1000000000000002", folder: r-Scen01}
    - {id: "1000000000000003", folder: r-Scen01}
settings: {DRY_RUN: "true", RETRY_BASE: 1ms, RETRY_MAX: 10ms}
images:
  - id: m-DryRun000003
    tags: {"imageshare:accounts": "1000000000000002 1000000000000003"}
    shared_with: ["1000000000000002", "1000000000000003"]
steps:
  - tag_image: {image: m-DryRun000003, tags: {"imageshare:accounts": "1000000000000002"}}
expect:
  images:
    m-DryRun000003: {direct: ["1000000000000002", "1000000000000003"]}
`
	parsed, err := scenario.Parse("dry.yaml", []byte(sc))
	if err != nil {
		t.Fatal(err)
	}
	var logs sandbox.LogBuffer
	res := runParsed(t, parsed, sandbox.Options{Logs: &logs})
	if !res.OK() {
		t.Fatalf("%v %v", res.Failures, res.Violations)
	}
	var after, queued, runs int
	for _, line := range strings.Split(logs.String(), "\n") {
		switch {
		case strings.Contains(line, `"msg":"imageshare unshare"`):
			if !strings.Contains(line, `"subject":"1000000000000003"`) || !strings.Contains(line, `"dryRun":true`) || !strings.Contains(line, `"afterConfirmation":true`) {
				t.Errorf("dry-run unshare line: %s", line)
			}
			after++
		case strings.Contains(line, "removals awaiting confirmation"):
			queued++
		case strings.Contains(line, `"msg":"reconciled"`):
			runs++
		}
	}
	if after != 1 || queued != 0 || runs != 1 {
		t.Fatalf("want one unshare after confirmation, no confirming job and one run; got %d, %d, %d:\n%s", after, queued, runs, logs.String())
	}
}

// R10: the share-limit refusal of the first run is in the log, but the association of
// the same chain resolves it, so it is not published.
func TestQuotaFalseAlarmIsNotPublished(t *testing.T) {
	var logs sandbox.LogBuffer
	res := runFile(t, "r10-quota-false-alarm.yaml", sandbox.Options{Logs: &logs})
	if !res.OK() {
		t.Fatalf("%v %v", res.Failures, res.Violations)
	}
	if !strings.Contains(logs.String(), `"action":"refuse","subject":"1000000000000005","reason":"share-limit"`) {
		t.Fatalf("the log must keep the intermediate refusal:\n%s", logs.String())
	}
	shared, kept := false, 0
	for _, n := range notifications(t, res) {
		switch {
		case n.Action == "refuse" && n.Image == "m-Quota0000002" && n.Subject == "1000000000000008" && n.Reason == "share-limit":
			kept++
		case n.Action == "refuse":
			t.Errorf("a refusal the chain resolved was published: %s", n.Text)
		}
		shared = shared || n.Action == "share" && n.Subject == "1000000000000005"
	}
	if !shared {
		t.Errorf("the share that resolved it was not published: %v", res.Notifications)
	}
	if kept != 1 {
		t.Errorf("the refusal the chain ends with was published %d times, want once: %v", kept, res.Notifications)
	}
}

// R10: a notification names who asked, never their access key.
func TestNotificationsNameTheActor(t *testing.T) {
	res := runFile(t, "r10-actor.yaml", sandbox.Options{})
	if !res.OK() {
		t.Fatalf("%v %v", res.Failures, res.Violations)
	}
	want := map[string]report.Actor{
		"m-ByAlice00001": {Type: "ram-user", AccountID: "1000000000000001", PrincipalID: "281234567890", UserName: "alice"},
		"m-ByRoot000001": {Type: "root-account", AccountID: "1000000000000001", PrincipalID: "1000000000000001", UserName: "root"},
	}
	seen := map[string]bool{}
	for _, n := range notifications(t, res) {
		if n.Action != "share" {
			continue
		}
		if len(n.Actors) != 1 || n.Actors[0] != want[n.Image] {
			t.Errorf("%s: actors %+v, want %+v", n.Image, n.Actors, want[n.Image])
		}
		if !strings.Contains(n.Text, "Asked for by "+want[n.Image].String()) {
			t.Errorf("%s: the text does not name the actor: %s", n.Image, n.Text)
		}
		seen[n.Image] = true
	}
	if len(seen) != 2 {
		t.Fatalf("share notifications for %v, want both images: %v", seen, res.Notifications)
	}
	for _, body := range res.Notifications {
		if strings.Contains(body, "LTAI") || strings.Contains(body, "accessKeyId") {
			t.Fatalf("a notification carries an access key: %s", body)
		}
	}
}

// Section 2: an untag that releases an image with its shares is reported, with how to
// withdraw them; an image withdrawn first is released quietly.
func TestReleasedWithSharesIsReported(t *testing.T) {
	var logs sandbox.LogBuffer
	res := runFile(t, "release.yaml", sandbox.Options{Logs: &logs})
	if !res.OK() {
		t.Fatalf("%v %v", res.Failures, res.Violations)
	}
	var released []report.Notification
	for _, n := range notifications(t, res) {
		if n.Action == report.ActRelease {
			released = append(released, n)
		}
	}
	if len(released) != 1 || released[0].Image != "m-Released0001" {
		t.Fatalf("release notifications %+v, want one for m-Released0001", released)
	}
	n := released[0]
	for _, want := range []string{"1000000000000004", "imageshare-", "fd-Prod000001", "imageshare:accounts=none", "then remove the tags"} {
		if !strings.Contains(n.Text, want) {
			t.Errorf("the report does not say %q: %s", want, n.Text)
		}
	}
	if !strings.Contains(logs.String(), `"msg":"imageshare release"`) {
		t.Error("the release is not logged")
	}
	if slices.ContainsFunc(notifications(t, res), func(x report.Notification) bool { return x.Action == "refuse" }) {
		t.Errorf("unexpected refusals: %v", res.Notifications)
	}
}
