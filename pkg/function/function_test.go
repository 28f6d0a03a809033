package function

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"imageshare/pkg/cloud"
	"imageshare/pkg/job"
	"imageshare/pkg/report"
	"imageshare/pkg/settings"
)

type sent struct {
	queue  string
	bodies []string
	delay  time.Duration
}

type fakeQueue struct {
	mu        sync.Mutex
	sends     []sent
	published []string
	fail      error
}

func (q *fakeQueue) Send(_ context.Context, queue string, bodies []string, delay time.Duration) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.fail != nil {
		return q.fail
	}
	q.sends = append(q.sends, sent{queue, append([]string(nil), bodies...), delay})
	return nil
}

func (q *fakeQueue) Publish(_ context.Context, topic, body string) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.published = append(q.published, body)
	return nil
}

func deps(t *testing.T, env map[string]string) (*Deps, *fakeQueue, *bytes.Buffer) {
	t.Helper()
	s, err := settings.Load(func(k string) string { return env[k] })
	var buf bytes.Buffer
	q := &fakeQueue{}
	d := &Deps{Settings: s, SettingsErr: err, Log: slog.New(slog.NewJSONHandler(&buf, nil)),
		API:   func(Invocation) (cloud.API, error) { return nil, errors.New("no cloud in this test") },
		Queue: func(Invocation) (Queue, error) { return q, nil }}
	return d, q, &buf
}

var inv = Invocation{RequestID: "r-1", Region: "cn-hangzhou", AccountID: "1000000000000001",
	Credentials: cloud.Credentials{AccessKeyID: "STS.secretid", AccessKeySecret: "secretsecret", SecurityToken: "tok"}}

func call(t *testing.T, d *Deps, name string, payload string) ([]byte, error) {
	t.Helper()
	h, err := d.Handler(name)
	if err != nil {
		t.Fatal(err)
	}
	return h(context.Background(), inv, []byte(payload))
}

func jobsOf(t *testing.T, s sent) []job.Job {
	t.Helper()
	var out []job.Job
	for _, b := range s.bodies {
		j, err := job.Decode(b)
		if err != nil {
			t.Fatalf("bad job %s: %v", b, err)
		}
		out = append(out, j)
	}
	return out
}

const tagCall = `{"specversion":"1.0","id":"ev-%s","source":"acs.ecs","type":"ecs:ActionTrail:ApiCall","data":{"eventName":"TagResources","acsRegion":"cn-hangzhou",
 "requestParameters":{"RegionId":"cn-hangzhou","ResourceType":"image","ResourceId.1":"%s"},"userIdentity":{"type":"root-account","accessKeyId":"LTAIsecret"}}}`

func tag(id, image string) string {
	return strings.Replace(strings.Replace(tagCall, "%s", id, 1), "%s", image, 1)
}

func TestImageEventsCoalesceAndDelay(t *testing.T) {
	d, q, logs := deps(t, map[string]string{"SETTLE_DELAY": "45s", "JOB_QUEUE": "jobs"})
	payload := "[" + tag("1", "m-B") + "," + tag("2", "m-A") + "," + tag("3", "m-B") + `,{"id":"x","source":"acs.ecs","type":"ecs:Instance:StateChange","data":{}}, "garbage"]`
	if _, err := call(t, d, ImageEvents, payload); err != nil {
		t.Fatal(err)
	}
	if len(q.sends) != 1 || q.sends[0].delay != 45*time.Second || q.sends[0].queue != "jobs" {
		t.Fatalf("sends %+v", q.sends)
	}
	js := jobsOf(t, q.sends[0])
	if len(js) != 1 || strings.Join(js[0].Images, ",") != "m-A,m-B" || !js[0].Notify || !js[0].RetryFailed || js[0].Cause != "ev-1" {
		t.Fatalf("jobs %+v", js)
	}
	for _, secret := range []string{"LTAIsecret", "STS.secretid", "secretsecret", "garbage", "requestParameters"} {
		if strings.Contains(logs.String(), secret) {
			t.Fatalf("log leaks %q:\n%s", secret, logs)
		}
	}
	if !strings.Contains(logs.String(), `"id":"x"`) {
		t.Fatalf("ignored event not logged by id:\n%s", logs)
	}
}

func TestImageEventsOwnAndFailedCallsDropped(t *testing.T) {
	d, q, _ := deps(t, nil)
	own := strings.Replace(tag("1", "m-A"), `"type":"root-account","accessKeyId":"LTAIsecret"`, `"type":"assumed-role","arn":"acs:ram::1:assumed-role/imageshare-fc/s"`, 1)
	failed := strings.Replace(tag("2", "m-B"), `"acsRegion"`, `"errorCode":"Throttling.User","acsRegion"`, 1)
	if _, err := call(t, d, ImageEvents, "["+own+","+failed+"]"); err != nil {
		t.Fatal(err)
	}
	if len(q.sends) != 0 {
		t.Fatalf("own and failed calls must cause no job: %+v", q.sends)
	}
}

func TestImageEventsQueueFailureFails(t *testing.T) {
	d, q, _ := deps(t, map[string]string{"RETRY_BASE": "1ms", "RETRY_MAX": "2ms"})
	q.fail = errors.New("mns down")
	if _, err := call(t, d, ImageEvents, tag("1", "m-A")); err == nil {
		t.Fatal("a job that cannot be enqueued must fail the invocation (EventBridge retries it)")
	}
}

func TestInvalidSettingFailsFast(t *testing.T) {
	d, q, logs := deps(t, map[string]string{"MAX_ACCOUNTS_PER_IMAGE": "lots"})
	if _, err := call(t, d, ImageEvents, tag("1", "m-A")); err == nil || !strings.Contains(err.Error(), "MAX_ACCOUNTS_PER_IMAGE") {
		t.Fatalf("want the setting named, got %v", err)
	}
	if len(q.sends) != 0 || strings.Count(logs.String(), "\n") != 1 || !strings.Contains(logs.String(), "MAX_ACCOUNTS_PER_IMAGE") {
		t.Fatalf("one log line naming the setting, nothing sent:\n%s", logs)
	}
}

func TestOrgEvents(t *testing.T) {
	d, q, _ := deps(t, map[string]string{"REGIONS": "cn-shanghai"})
	invite := `{"id":"o1","source":"acs.resourcemanager","type":"resourcemanager:ActionTrail:ApiCall","data":{"eventName":"InviteAccountToResourceDirectory",
	 "requestParameters":{"TargetEntity":"2000000000000001"},"responseElements":{"Handshake":{"HandshakeId":"h-1"}}}}`
	move := `{"id":"o2","source":"acs.resourcemanager","type":"resourcemanager:ActionTrail:ConsoleOperation","data":{"eventName":"MoveAccount","requestParameters":{"AccountId":"1000000000000002"},
	 "userIdentity":{"type":"ram-user","accountId":"1000000000000001","principalId":"29","userName":"bob","accessKeyId":"LTAIbobsecret"}}}`
	if _, err := call(t, d, OrgEvents, "["+invite+","+move+"]"); err != nil {
		t.Fatal(err)
	}
	if len(q.sends) != 2 {
		t.Fatalf("sends %+v", q.sends)
	}
	regions := jobsOf(t, q.sends[0])
	if len(regions) != 2 || regions[0].Region != "cn-hangzhou" || regions[1].Region != "cn-shanghai" || regions[0].Kind != job.KindRegion {
		t.Fatalf("region jobs %+v", regions)
	}
	hs := jobsOf(t, q.sends[1])
	if len(hs) != 1 || hs[0].Handshake != "h-1" || q.sends[1].delay != job.HandshakeBase {
		t.Fatalf("handshake job %+v", hs)
	}
	// The move's job names who moved the account, without the access key.
	if a := regions[0].Actors; len(a) != 1 || a[0].UserName != "bob" || strings.Contains(q.sends[0].bodies[0], "LTAI") {
		t.Fatalf("actors of the org job: %+v", a)
	}
}

func TestReconcileRefusesBadJobsWithoutFailing(t *testing.T) {
	d, q, logs := deps(t, nil)
	payload := `[{"id":"1","source":"MNS-imageshare","type":"mns:Queue:SendMessage","data":{"messageId":"M1","messageBody":"{\"v\":9}"}}]`
	out, err := call(t, d, Reconcile, payload)
	if err != nil {
		t.Fatalf("a bad job is acknowledged: %v", err)
	}
	var s summary
	_ = json.Unmarshal(out, &s)
	if s.Skipped != 1 || len(q.sends) != 0 || !strings.Contains(logs.String(), "M1") {
		t.Fatalf("summary %+v logs %s", s, logs)
	}
}

// topLevelKeys returns the keys of one JSON object line, in order, duplicates included.
func topLevelKeys(t *testing.T, line string) []string {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(line))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		t.Fatalf("not a JSON object: %s", line)
	}
	var keys []string
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			t.Fatalf("bad JSON %s: %v", line, err)
		}
		keys = append(keys, tok.(string))
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			t.Fatalf("bad JSON %s: %v", line, err)
		}
	}
	return keys
}

// Main's logger carries the function's name; no line may repeat that key (a JSON object
// with a duplicate key is read differently by different log pipelines).
func TestLogLinesHaveNoDuplicateKeys(t *testing.T) {
	d, q, logs := deps(t, map[string]string{"RETRY_BASE": "1ms", "RETRY_MAX": "2ms"})
	d.Log = d.Log.With("function", ImageEvents)
	if _, err := call(t, d, ImageEvents, `[{"id":"x","source":"acs.ecs","type":"ecs:ActionTrail:ApiCall","data":{"eventName":"TagResources","requestParameters":[1]}}, "garbage"]`); err != nil {
		t.Fatal(err)
	}
	q.fail = errors.New("mns down")
	if _, err := call(t, d, ImageEvents, tag("1", "m-A")); err == nil {
		t.Fatal("a job that cannot be enqueued must fail the invocation")
	}
	lines := strings.Split(strings.TrimSpace(logs.String()), "\n")
	if len(lines) < 3 {
		t.Fatalf("want the two refused events and the failed invocation logged, got:\n%s", logs)
	}
	for _, line := range lines {
		seen := map[string]bool{}
		for _, k := range topLevelKeys(t, line) {
			if seen[k] {
				t.Errorf("key %q twice in %s", k, line)
			}
			seen[k] = true
		}
		if !seen["function"] {
			t.Errorf("line does not name the function: %s", line)
		}
	}
}

// fakeAPI answers the reads of one run: one managed image whose tags name an account
// outside the directory, so every run refuses it.
type refusingAPI struct{ cloud.API }

func (refusingAPI) DescribeImages(context.Context, cloud.DescribeImagesInput) (cloud.ImagePage, error) {
	return cloud.ImagePage{Total: 1, Images: []cloud.Image{{ID: "m-A", OwnerAlias: "self", Status: "Available",
		Tags: map[string]string{"imageshare:accounts": "2000000000000009"}}}}, nil
}
func (refusingAPI) GetResourceDirectory(context.Context) (cloud.Directory, error) {
	return cloud.Directory{}, &cloud.Error{Code: "ResourceDirectoryNotInUse"}
}
func (refusingAPI) ListResourceShares(context.Context, string, string) (cloud.SharePage, error) {
	return cloud.SharePage{}, nil
}
func (refusingAPI) DescribeImageSharePermission(context.Context, string, string, int) (cloud.SharePermissionPage, error) {
	return cloud.SharePermissionPage{}, nil
}
func (refusingAPI) ListAssociations(context.Context, cloud.AssociationQuery) (cloud.AssociationPage, error) {
	return cloud.AssociationPage{}, nil
}

func TestRecheckDoesNotRepublishRefusals(t *testing.T) {
	d, q, _ := deps(t, map[string]string{"NOTIFY_TOPIC": "notices"})
	d.API = func(Invocation) (cloud.API, error) { return refusingAPI{}, nil }
	mk := func(j job.Job) string {
		body, _ := json.Marshal(j.Encode())
		return `{"id":"1","source":"MNS-x","type":"mns:Queue:SendMessage","data":{"messageId":"M","messageBody":` + string(body) + `}}`
	}
	first := job.Job{Kind: job.KindImages, Region: "cn-hangzhou", Images: []string{"m-A"}, Reason: job.ReasonEvent, Notify: true}
	if _, err := call(t, d, Reconcile, mk(first)); err != nil {
		t.Fatal(err)
	}
	if len(q.published) != 1 {
		t.Fatalf("first run publishes the refusal once: %v", q.published)
	}
	// A later link of the chain that carries the fingerprint publishes nothing new.
	again := first
	again.Reason, again.Notified = job.ReasonRecheck, []string{fingerprintOf(t, q.published[0])}
	if _, err := call(t, d, Reconcile, mk(again)); err != nil {
		t.Fatal(err)
	}
	if len(q.published) != 1 {
		t.Fatalf("the re-check republished: %v", q.published)
	}
}

func fingerprintOf(t *testing.T, notification string) string {
	t.Helper()
	var n struct {
		Image, Subject, Reason string
	}
	if err := json.Unmarshal([]byte(notification), &n); err != nil {
		t.Fatal(err)
	}
	return fingerprint(report.Entry{Image: n.Image, Subject: n.Subject, Reason: n.Reason})
}

// Jobs name who asked (the event's userIdentity without its access key), images edited
// by different people go in different jobs, and an untag of prefix keys marks its image.
func TestImageEventsCarryActorsAndUntagMarks(t *testing.T) {
	d, q, _ := deps(t, nil)
	alice := `"userIdentity":{"type":"ram-user","accountId":"1000000000000001","principalId":"2811","userName":"alice","accessKeyId":"LTAIalicesecret"}`
	bob := `"userIdentity":{"type":"ram-user","accountId":"1000000000000001","principalId":"2812","userName":"bob","accessKeyId":"LTAIbobsecret"}`
	withUser := func(ev, who string) string {
		return strings.Replace(ev, `"userIdentity":{"type":"root-account","accessKeyId":"LTAIsecret"}`, who, 1)
	}
	untag := `{"specversion":"1.0","id":"ev-u","source":"acs.ecs","type":"ecs:ActionTrail:ConsoleOperation","data":{"eventName":"UntagResources","acsRegion":"cn-hangzhou",
 "requestParameters":{"RegionId":"cn-hangzhou","ResourceType":"image","ResourceId.1":"m-B","TagKey.1":"env","TagKey.2":"imageshare:accounts"},` + bob + `}}`
	untagOther := `{"specversion":"1.0","id":"ev-v","source":"acs.ecs","type":"ecs:ActionTrail:ApiCall","data":{"eventName":"RemoveTags","acsRegion":"cn-hangzhou",
 "requestParameters":{"RegionId":"cn-hangzhou","ResourceType":"image","ResourceId":"m-C","Tag.1.Key":"env"},` + alice + `}}`
	payload := "[" + withUser(tag("1", "m-A"), alice) + "," + withUser(tag("2", "m-B"), alice) + "," + untag + "," + untagOther + "]"
	if _, err := call(t, d, ImageEvents, payload); err != nil {
		t.Fatal(err)
	}
	if len(q.sends) != 1 {
		t.Fatalf("sends %+v", q.sends)
	}
	got := map[string]string{}
	for _, j := range jobsOf(t, q.sends[0]) {
		var names []string
		for _, a := range j.Actors {
			names = append(names, a.UserName)
		}
		got[strings.Join(j.Images, ",")] = strings.Join(names, "+") + " untagged=" + strings.Join(j.Untagged, ",")
	}
	want := map[string]string{"m-A,m-C": "alice untagged=", "m-B": "alice+bob untagged=m-B"}
	if len(got) != len(want) || got["m-A,m-C"] != want["m-A,m-C"] || got["m-B"] != want["m-B"] {
		t.Fatalf("jobs by actors: %v, want %v", got, want)
	}
	for _, b := range q.sends[0].bodies {
		if strings.Contains(b, "LTAI") || strings.Contains(b, "accessKeyId") {
			t.Fatalf("a job carries an access key: %s", b)
		}
	}
}
