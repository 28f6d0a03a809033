package queue_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"imageshare/pkg/cloud"
	"imageshare/pkg/cloudsim/emu"
	"imageshare/pkg/cloudsim/mns"
	"imageshare/pkg/cloudsim/ram"
	"imageshare/pkg/queue"
	"imageshare/pkg/rampolicy"
)

const (
	acct   = "1000000000000001"
	region = "cn-hangzhou"
)

func setup(t *testing.T, faults emu.Faults) (*mns.MNS, *emu.Clock, *queue.Client) {
	t.Helper()
	clock, keys := emu.NewClock(emu.Epoch), emu.NewKeyring()
	store := ram.NewStore()
	m := mns.New(mns.Config{Clock: clock, Keys: keys, RAM: store, Faults: emu.NewFaultPlan(faults), FunctionRole: "imageshare-fc"})
	// The functions' role holds the deployment's policy.
	if doc, err := rampolicy.Render(rampolicy.Deployment{Account: acct, Region: region, JobQueue: "imageshare-jobs", NotifyTopic: "imageshare-notices"}); err != nil {
		t.Fatal(err)
	} else if err := store.Grant(acct, "imageshare-fc", "imageshare-fc", string(doc)); err != nil {
		t.Fatal(err)
	}
	srv, err := emu.Listen(m)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	if err := m.EnsureQueue(acct, region, "imageshare-jobs", mns.QueueAttributes{MaximumMessageSize: 65536, MessageRetentionPeriod: 345600, VisibilityTimeout: 30}); err != nil {
		t.Fatal(err)
	}
	cred := keys.AssumeRole(acct, "imageshare-fc", "s", time.Hour)
	c, err := queue.New(queue.Config{AccountID: acct, Region: region, Endpoint: srv.URL(),
		Credentials: cloud.Credentials{AccessKeyID: cred.AccessKeyID, AccessKeySecret: cred.AccessKeySecret, SecurityToken: cred.SecurityToken}})
	if err != nil {
		t.Fatal(err)
	}
	return m, clock, c
}

func TestSendBatchesAndDelay(t *testing.T) {
	m, clock, c := setup(t, emu.Faults{})
	var bodies []string
	for i := 0; i < 20; i++ {
		bodies = append(bodies, fmt.Sprintf(`{"v":1,"n":%d,"x":"<&>"}`, i))
	}
	if err := c.Send(context.Background(), "imageshare-jobs", bodies, time.Minute); err != nil {
		t.Fatal(err)
	}
	if v, d, _ := m.Depth(acct, region, "imageshare-jobs"); v != 0 || d != 20 {
		t.Fatalf("visible %d delayed %d", v, d)
	}
	sends := 0
	for _, call := range m.Calls() {
		if call.Operation == "BatchSendMessage" {
			sends++
		}
	}
	if sends != 2 {
		t.Fatalf("20 messages took %d batch calls, want 2 (16 + 4)", sends)
	}
	clock.Advance(time.Minute)
	msgs, err := m.Receive(acct, region, "imageshare-jobs", 16)
	if err != nil || len(msgs) != 16 || !strings.Contains(msgs[0].Body, "<&>") {
		t.Fatalf("%v %d", err, len(msgs))
	}
}

func TestBatchesRespectSize(t *testing.T) {
	m, _, c := setup(t, emu.Faults{})
	big := strings.Repeat("x", 30<<10)
	if err := c.Send(context.Background(), "imageshare-jobs", []string{big, big, big}, 0); err != nil {
		t.Fatal(err)
	}
	if v, _, _ := m.Depth(acct, region, "imageshare-jobs"); v != 3 {
		t.Fatalf("visible %d", v)
	}
	if err := c.Send(context.Background(), "imageshare-jobs", []string{strings.Repeat("x", 70<<10)}, 0); err == nil {
		t.Fatal("a message larger than 64 KB must be refused before sending")
	}
}

func TestPublish(t *testing.T) {
	m, _, c := setup(t, emu.Faults{})
	if err := m.EnsureTopic(acct, region, "imageshare-notices"); err != nil {
		t.Fatal(err)
	}
	if err := c.Publish(context.Background(), "imageshare-notices", `{"text":"hello"}`); err != nil {
		t.Fatal(err)
	}
	if p := m.Published(acct, region, "imageshare-notices"); len(p) != 1 || p[0].Body != `{"text":"hello"}` {
		t.Fatalf("published %+v", p)
	}
}

func TestServerErrorsSurface(t *testing.T) {
	_, _, c := setup(t, emu.Faults{Seed: 1, ServerError: 1})
	if err := c.Send(context.Background(), "imageshare-jobs", []string{"{}"}, 0); err == nil {
		t.Fatal("a failing send must be an error (the invocation fails and is retried)")
	}
}

func TestEndpointShape(t *testing.T) {
	if _, err := queue.New(queue.Config{AccountID: acct, Region: region, Endpoint: "https://mns.aliyuncs.com",
		Credentials: cloud.Credentials{AccessKeyID: "a", AccessKeySecret: "b"}}); err == nil {
		t.Fatal("an endpoint the SDK would panic on must be refused")
	}
	if got := queue.Endpoint(acct, region); got != "https://"+acct+".mns.cn-hangzhou.aliyuncs.com" {
		t.Fatal(got)
	}
}

// The queue client sends in batches: a role granted only mns:SendMessage cannot enqueue,
// and the failure surfaces (the invocation fails and is retried; nothing is dropped).
func TestSendNeedsBatchSendMessage(t *testing.T) {
	clock, keys := emu.NewClock(emu.Epoch), emu.NewKeyring()
	store := ram.NewStore()
	m := mns.New(mns.Config{Clock: clock, Keys: keys, RAM: store})
	srv, err := emu.Listen(m)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	if err := m.EnsureQueue(acct, region, "imageshare-jobs", mns.QueueAttributes{}); err != nil {
		t.Fatal(err)
	}
	doc := `{"Version":"1","Statement":[{"Effect":"Allow","Action":"mns:SendMessage","Resource":"acs:mns:` + region + `:` + acct + `:/queues/imageshare-jobs/messages"}]}`
	if err := store.Grant(acct, "sender", "sender", doc); err != nil {
		t.Fatal(err)
	}
	cred := keys.AssumeRole(acct, "sender", "s", time.Hour)
	c, err := queue.New(queue.Config{AccountID: acct, Region: region, Endpoint: srv.URL(),
		Credentials: cloud.Credentials{AccessKeyID: cred.AccessKeyID, AccessKeySecret: cred.AccessKeySecret, SecurityToken: cred.SecurityToken}})
	if err != nil {
		t.Fatal(err)
	}
	err = c.Send(context.Background(), "imageshare-jobs", []string{"{}"}, 0)
	if err == nil || !strings.Contains(err.Error(), "AccessDenied") {
		t.Fatalf("send with mns:SendMessage only: %v", err)
	}
	if v, d, _ := m.Depth(acct, region, "imageshare-jobs"); v+d != 0 {
		t.Fatal("a denied send enqueued a message")
	}
}

// A copy's job goes to the job queue of the copy's region (docs/regions.md): the client
// of another region reaches that region's queue with the deployment's policy (the job
// queue of every region), and a region without the queue (no deployment there) is
// answered QueueNotExist, which is not retried.
func TestSendToTheQueueOfAnotherRegion(t *testing.T) {
	clock, keys := emu.NewClock(emu.Epoch), emu.NewKeyring()
	store := ram.NewStore()
	m := mns.New(mns.Config{Clock: clock, Keys: keys, RAM: store, FunctionRole: "imageshare-fc"})
	doc, err := rampolicy.Render(rampolicy.Deployment{Account: acct, Region: region, JobQueue: "imageshare-jobs"})
	if err != nil {
		t.Fatal(err)
	}
	if err := store.Grant(acct, "imageshare-fc", "imageshare-fc", string(doc)); err != nil {
		t.Fatal(err)
	}
	srv, err := emu.Listen(m)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	if err := m.EnsureQueue(acct, "cn-shanghai", "imageshare-jobs", mns.QueueAttributes{MaximumMessageSize: 65536, MessageRetentionPeriod: 345600, VisibilityTimeout: 30}); err != nil {
		t.Fatal(err)
	}
	cred := keys.AssumeRole(acct, "imageshare-fc", "s", time.Hour)
	for _, tc := range []struct {
		region  string
		missing bool
	}{{"cn-shanghai", false}, {"cn-beijing", true}} {
		c, err := queue.New(queue.Config{AccountID: acct, Region: tc.region, Endpoint: srv.URL(),
			Credentials: cloud.Credentials{AccessKeyID: cred.AccessKeyID, AccessKeySecret: cred.AccessKeySecret, SecurityToken: cred.SecurityToken}})
		if err != nil {
			t.Fatal(err)
		}
		err = c.Send(context.Background(), "imageshare-jobs", []string{`{"v":1}`}, time.Minute)
		switch {
		case tc.missing && (cloud.Code(err) != "QueueNotExist" || cloud.Retryable(err)):
			t.Fatalf("%s: %v, want QueueNotExist, not retried", tc.region, err)
		case !tc.missing && err != nil:
			t.Fatalf("%s: %v", tc.region, err)
		}
	}
	if _, d, _ := m.Depth(acct, "cn-shanghai", "imageshare-jobs"); d != 1 {
		t.Fatalf("cn-shanghai's queue holds %d delayed jobs, want 1", d)
	}
}
