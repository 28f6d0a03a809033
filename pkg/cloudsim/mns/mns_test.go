package mns_test

import (
	"crypto/hmac"
	"crypto/md5"
	"crypto/sha1"
	"encoding/base64"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	ali_mns "github.com/aliyun/aliyun-mns-go-sdk"

	"imageshare/pkg/cloudsim/emu"
	"imageshare/pkg/cloudsim/mns"
	"imageshare/pkg/cloudsim/ram"
)

const (
	acct   = "1000000000000001"
	other  = "1000000000000002"
	region = "cn-hangzhou"
	fnRole = "imageshare-fn"
)

type env struct {
	clock  *emu.Clock
	keys   *emu.Keyring
	faults *emu.FaultPlan
	mns    *mns.MNS
	ram    *emu.RAMStore
	addr   string
	dialed atomic.Int64
	root   emu.Credential // root key of acct
}

func newEnv(t *testing.T) *env {
	t.Helper()
	e := &env{clock: emu.NewClock(emu.Epoch), keys: emu.NewKeyring(), faults: emu.NewFaultPlan(emu.Faults{Seed: 7})}
	e.ram = ram.NewStore()
	e.mns = mns.New(mns.Config{Clock: e.clock, Keys: e.keys, RAM: e.ram, Faults: e.faults, FunctionRole: fnRole})
	// The roles of these tests may do anything; RAM denials are tested on their own.
	for _, role := range []string{fnRole, "worker"} {
		if err := e.ram.Grant(acct, role, "allow-all-"+role, `{"Version":"1","Statement":[{"Effect":"Allow","Action":"mns:*","Resource":"*"}]}`); err != nil {
			t.Fatal(err)
		}
	}
	srv, err := emu.Listen(e.mns)
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	// Every answer the test drew must be in the error catalogue.
	t.Cleanup(func() {
		for _, u := range e.mns.Unlisted() {
			t.Errorf("unlisted answer: %s", u)
		}
	})
	e.addr = srv.Addr
	e.root = e.keys.AccessKey(acct)
	return e
}

func endpoint(account string) string {
	return fmt.Sprintf("http://%s.mns.%s.aliyuncs.com", account, region)
}

// client is a real SDK client for account's endpoint, signing with c.
func (e *env) client(account string, c emu.Credential) ali_mns.MNSClient {
	cl := ali_mns.NewAliMNSClientWithConfig(ali_mns.AliMNSClientConfig{
		EndPoint: endpoint(account), AccessKeyId: c.AccessKeyID, AccessKeySecret: c.AccessKeySecret,
		Token: c.SecurityToken, TimeoutSecond: 10,
	})
	cl.SetTransport(loopback{addr: e.addr, dialed: &e.dialed})
	return cl
}

// queue creates name (VisibilityTimeout vis) through the SDK and returns it.
func (e *env) queue(t *testing.T, name string, vis int32) ali_mns.AliMNSQueue {
	t.Helper()
	cl := e.client(acct, e.root)
	if err := ali_mns.NewMNSQueueManager(cl).CreateQueueWithOptions(name, ali_mns.WithVisibilityTimeout(vis)); err != nil {
		t.Fatalf("CreateQueue %s: %v", name, err)
	}
	return ali_mns.NewMNSQueue(name, cl)
}

type sentinel interface{ IsEqual(error) bool }

func wantErr(t *testing.T, what string, s sentinel, err error) {
	t.Helper()
	if err == nil {
		t.Fatalf("%s: no error, want one", what)
	}
	if !s.IsEqual(err) {
		t.Fatalf("%s: error = %v, not the expected SDK sentinel", what, err)
	}
}

func receive(q ali_mns.AliMNSQueue, wait ...int64) (ali_mns.MessageReceiveResponse, error) {
	rc := make(chan ali_mns.MessageReceiveResponse, 1)
	ec := make(chan error, len(wait)+1)
	q.ReceiveMessage(rc, ec, wait...)
	select {
	case r := <-rc:
		return r, nil
	case err := <-ec:
		return ali_mns.MessageReceiveResponse{}, err
	default:
		return ali_mns.MessageReceiveResponse{}, errors.New("ReceiveMessage reported nothing")
	}
}

func batchReceive(q ali_mns.AliMNSQueue, n int32, peek bool) (ali_mns.BatchMessageReceiveResponse, error) {
	rc := make(chan ali_mns.BatchMessageReceiveResponse, 1)
	ec := make(chan error, 1)
	if peek {
		q.BatchPeekMessage(rc, ec, n)
	} else {
		q.BatchReceiveMessage(rc, ec, n)
	}
	select {
	case r := <-rc:
		return r, nil
	case err := <-ec:
		return ali_mns.BatchMessageReceiveResponse{}, err
	default:
		return ali_mns.BatchMessageReceiveResponse{}, errors.New("batch receive reported nothing")
	}
}

func md5Upper(s string) string {
	sum := md5.Sum([]byte(s))
	return strings.ToUpper(hex.EncodeToString(sum[:]))
}

func send(t *testing.T, q ali_mns.AliMNSQueue, body string, delay int64) ali_mns.MessageSendResponse {
	t.Helper()
	r, err := q.SendMessage(ali_mns.MessageSendRequest{MessageBody: body, DelaySeconds: delay, Priority: 8})
	if err != nil {
		t.Fatalf("SendMessage: %v", err)
	}
	return r
}

func TestRoundTrip(t *testing.T) {
	e := newEnv(t)
	q := e.queue(t, "jobs", 30)
	mgr := ali_mns.NewMNSQueueManager(e.client(acct, e.root))

	// Same attributes again: 204, which the SDK reports as "already exists, same attributes".
	wantErr(t, "CreateQueue same", &ali_mns.ERR_MNS_QUEUE_ALREADY_EXIST_AND_HAVE_SAME_ATTR,
		mgr.CreateQueueWithOptions("jobs", ali_mns.WithVisibilityTimeout(30)))
	wantErr(t, "CreateQueue different", &ali_mns.ERR_MNS_QUEUE_ALREADY_EXIST,
		mgr.CreateQueueWithOptions("jobs", ali_mns.WithVisibilityTimeout(60)))
	wantErr(t, "CreateQueue bad size", &ali_mns.ERR_MNS_INVALID_ARGUMENT,
		mgr.CreateQueueWithOptions("other", ali_mns.WithMaxMessageSize(100)))

	sent := send(t, q, "hello", 0)
	if sent.MessageId == "" || sent.MessageBodyMD5 != md5Upper("hello") || sent.RequestId == "" {
		t.Fatalf("send response = %+v", sent)
	}
	attr, err := mgr.GetQueueAttributes("jobs")
	if err != nil {
		t.Fatalf("GetQueueAttributes: %v", err)
	}
	if attr.QueueName != "jobs" || attr.VisibilityTimeout != 30 || attr.MaxMessageSize != 65536 ||
		attr.MessageRetentionPeriod != 345600 || attr.ActiveMessages != 1 {
		t.Fatalf("attributes = %+v", attr)
	}

	got, err := receive(q)
	if err != nil {
		t.Fatalf("ReceiveMessage: %v", err)
	}
	now := e.clock.Now()
	if got.MessageId != sent.MessageId || got.MessageBody != "hello" || got.MessageBodyMD5 != md5Upper("hello") ||
		got.DequeueCount != 1 || got.Priority != 8 || got.ReceiptHandle == "" ||
		got.EnqueueTime != now.UnixMilli() || got.FirstDequeueTime != now.UnixMilli() ||
		got.NextVisibleTime != now.Add(30*time.Second).UnixMilli() {
		t.Fatalf("received %+v", got)
	}
	if v, d, f := e.mns.Depth(acct, region, "jobs"); v != 0 || d != 0 || f != 1 {
		t.Fatalf("depth after receive = %d/%d/%d", v, d, f)
	}
	if err := q.DeleteMessage(got.ReceiptHandle); err != nil {
		t.Fatalf("DeleteMessage: %v", err)
	}
	_, err = receive(q, 5) // long polling answers at once on the emulated clock
	wantErr(t, "receive from empty queue", &ali_mns.ERR_MNS_MESSAGE_NOT_EXIST, err)

	_, err = receive(ali_mns.NewMNSQueue("nope", e.client(acct, e.root)))
	wantErr(t, "receive from missing queue", &ali_mns.ERR_MNS_QUEUE_NOT_EXIST, err)

	if err := mgr.DeleteQueue("jobs"); err != nil {
		t.Fatalf("DeleteQueue: %v", err)
	}
	_, err = q.SendMessage(ali_mns.MessageSendRequest{MessageBody: "x", Priority: 8})
	wantErr(t, "send to deleted queue", &ali_mns.ERR_MNS_QUEUE_NOT_EXIST, err)

	if e.dialed.Load() == 0 {
		t.Fatal("the SDK never used the transport set with SetTransport")
	}
	calls := e.mns.Calls()
	var ops []string
	for _, c := range calls {
		ops = append(ops, c.Operation+"/"+c.Code)
	}
	want := "CreateQueue//CreateQueue//CreateQueue/QueueAlreadyExist/CreateQueue/InvalidArgument/SendMessage//" +
		"GetQueueAttributes//ReceiveMessage//DeleteMessage//ReceiveMessage/MessageNotExist/ReceiveMessage/QueueNotExist/" +
		"DeleteQueue//SendMessage/QueueNotExist"
	if strings.Join(ops, "/") != want {
		t.Fatalf("call log = %s", strings.Join(ops, "/"))
	}
	if calls[0].Queue != "jobs" || calls[0].Caller.AccountID != acct || !calls[0].Time.Equal(emu.Epoch) {
		t.Fatalf("first call = %+v", calls[0])
	}
}

func TestDelayOnEmulatedClock(t *testing.T) {
	e := newEnv(t)
	q := e.queue(t, "delayed", 30)
	send(t, q, "later", 60)

	_, err := receive(q)
	wantErr(t, "receive before the delay", &ali_mns.ERR_MNS_MESSAGE_NOT_EXIST, err)
	if v, d, f := e.mns.Depth(acct, region, "delayed"); v != 0 || d != 1 || f != 0 {
		t.Fatalf("depth = %d/%d/%d, want 0/1/0", v, d, f)
	}
	next, ok := e.mns.NextVisible(acct, region, "delayed")
	if !ok || !next.Equal(emu.Epoch.Add(60*time.Second)) {
		t.Fatalf("NextVisible = %v %v", next, ok)
	}
	e.clock.Advance(59 * time.Second)
	_, err = receive(q)
	wantErr(t, "receive 1 s before the delay ends", &ali_mns.ERR_MNS_MESSAGE_NOT_EXIST, err)
	e.clock.Advance(time.Second)
	got, err := receive(q)
	if err != nil || got.MessageBody != "later" || got.EnqueueTime != emu.Epoch.UnixMilli() {
		t.Fatalf("receive after the delay: %+v, %v", got, err)
	}
}

func TestVisibilityTimeoutAndStaleHandles(t *testing.T) {
	e := newEnv(t)
	q := e.queue(t, "vis", 30)
	send(t, q, "work", 0)

	first, err := receive(q)
	if err != nil {
		t.Fatalf("first receive: %v", err)
	}
	_, err = receive(q)
	wantErr(t, "receive while in flight", &ali_mns.ERR_MNS_MESSAGE_NOT_EXIST, err)
	next, ok := e.mns.NextVisible(acct, region, "vis")
	if !ok || !next.Equal(emu.Epoch.Add(30*time.Second)) {
		t.Fatalf("NextVisible while in flight = %v %v", next, ok)
	}

	e.clock.Advance(30 * time.Second)
	// The first handle expired with the visibility timeout.
	wantErr(t, "delete with an expired handle", &ali_mns.ERR_MNS_MESSAGE_NOT_EXIST, q.DeleteMessage(first.ReceiptHandle))
	second, err := receive(q)
	if err != nil {
		t.Fatalf("second receive: %v", err)
	}
	if second.DequeueCount != 2 || second.MessageId != first.MessageId || second.ReceiptHandle == first.ReceiptHandle ||
		second.FirstDequeueTime != emu.Epoch.UnixMilli() {
		t.Fatalf("redelivery = %+v (first %+v)", second, first)
	}
	wantErr(t, "delete with a superseded handle", &ali_mns.ERR_MNS_MESSAGE_NOT_EXIST, q.DeleteMessage(first.ReceiptHandle))
	wantErr(t, "delete with a malformed handle", &ali_mns.ERR_MNS_RECEIPT_HANDLE_ERROR, q.DeleteMessage("not-a-handle"))
	if err := q.DeleteMessage(second.ReceiptHandle); err != nil {
		t.Fatalf("delete with the current handle: %v", err)
	}
	wantErr(t, "delete twice", &ali_mns.ERR_MNS_MESSAGE_NOT_EXIST, q.DeleteMessage(second.ReceiptHandle))
}

func TestChangeMessageVisibility(t *testing.T) {
	e := newEnv(t)
	q := e.queue(t, "cv", 30)
	send(t, q, "slow", 0)
	got, err := receive(q)
	if err != nil {
		t.Fatalf("receive: %v", err)
	}
	e.clock.Advance(10 * time.Second)
	ch, err := q.ChangeMessageVisibility(got.ReceiptHandle, 60)
	if err != nil {
		t.Fatalf("ChangeMessageVisibility: %v", err)
	}
	if ch.ReceiptHandle == "" || ch.ReceiptHandle == got.ReceiptHandle ||
		ch.NextVisibleTime != emu.Epoch.Add(70*time.Second).UnixMilli() {
		t.Fatalf("change visibility = %+v", ch)
	}
	_, err = q.ChangeMessageVisibility(got.ReceiptHandle, 60)
	wantErr(t, "change with the old handle", &ali_mns.ERR_MNS_MESSAGE_NOT_EXIST, err)
	wantErr(t, "delete with the old handle", &ali_mns.ERR_MNS_MESSAGE_NOT_EXIST, q.DeleteMessage(got.ReceiptHandle))
	_, err = q.ChangeMessageVisibility(ch.ReceiptHandle, 0)
	wantErr(t, "visibility 0", &ali_mns.ERR_MNS_INVALID_ARGUMENT, err)

	e.clock.Advance(30 * time.Second) // past the original timeout, before the new one
	_, err = receive(q)
	wantErr(t, "receive while still invisible", &ali_mns.ERR_MNS_MESSAGE_NOT_EXIST, err)
	if err := q.DeleteMessage(ch.ReceiptHandle); err != nil {
		t.Fatalf("delete with the new handle: %v", err)
	}
}

func TestBatches(t *testing.T) {
	e := newEnv(t)
	q := e.queue(t, "batch", 30)
	msgs := func(n, size int) []ali_mns.MessageSendRequest {
		var out []ali_mns.MessageSendRequest
		for i := range n {
			out = append(out, ali_mns.MessageSendRequest{MessageBody: fmt.Sprintf("%0*d", size, i), Priority: 8})
		}
		return out
	}

	_, err := q.BatchSendMessage(msgs(17, 4)...)
	wantErr(t, "batch of 17", &ali_mns.ERR_MNS_INVALID_ARGUMENT, err)
	_, err = q.BatchSendMessage(msgs(2, 33000)...)
	wantErr(t, "batch over 64 KB", &ali_mns.ERR_MNS_INVALID_ARGUMENT, err)
	if v, d, f := e.mns.Depth(acct, region, "batch"); v+d+f != 0 {
		t.Fatalf("refused batches left %d messages", v+d+f)
	}

	resp, err := q.BatchSendMessage(msgs(16, 4)...)
	if err != nil {
		t.Fatalf("batch of 16: %v", err)
	}
	if len(resp.Messages) != 16 || resp.Messages[3].MessageId == "" || resp.Messages[3].MessageBodyMD5 != md5Upper("0003") {
		t.Fatalf("batch of 16 answered %+v", resp)
	}

	peek, err := batchReceive(q, 16, true)
	if err != nil || len(peek.Messages) != 16 || peek.Messages[0].ReceiptHandle != "" || peek.Messages[0].DequeueCount != 0 {
		t.Fatalf("BatchPeekMessage = %+v, %v", peek, err)
	}
	got, err := batchReceive(q, 16, false)
	if err != nil || len(got.Messages) != 16 {
		t.Fatalf("BatchReceiveMessage = %d messages, %v", len(got.Messages), err)
	}
	for i, m := range got.Messages {
		if m.MessageBody != fmt.Sprintf("%04d", i) || m.DequeueCount != 1 {
			t.Fatalf("message %d = %+v", i, m)
		}
	}
	var handles []string
	for _, m := range got.Messages[:15] {
		handles = append(handles, m.ReceiptHandle)
	}
	if _, err := q.BatchDeleteMessage(handles...); err != nil {
		t.Fatalf("BatchDeleteMessage: %v", err)
	}
	// One current handle and one already used: partial failure.
	del, err := q.BatchDeleteMessage(got.Messages[15].ReceiptHandle, handles[0])
	wantErr(t, "batch delete with a used handle", &ali_mns.ERR_MNS_BATCH_OP_FAIL, err)
	if len(del.FailedMessages) != 1 || del.FailedMessages[0].ErrorCode != "MessageNotExist" ||
		del.FailedMessages[0].ReceiptHandle != handles[0] {
		t.Fatalf("failed deletes = %+v", del.FailedMessages)
	}
	if v, d, f := e.mns.Depth(acct, region, "batch"); v+d+f != 0 {
		t.Fatalf("after deleting all: %d/%d/%d", v, d, f)
	}

	// A per-message error: the rest of the batch is sent, the SDK reports the mix.
	small := e.client(acct, e.root)
	if err := ali_mns.NewMNSQueueManager(small).CreateQueueWithOptions("small", ali_mns.WithMaxMessageSize(1024)); err != nil {
		t.Fatalf("create small queue: %v", err)
	}
	mixed, err := ali_mns.NewMNSQueue("small", small).BatchSendMessage(
		ali_mns.MessageSendRequest{MessageBody: strings.Repeat("x", 2000), Priority: 8},
		ali_mns.MessageSendRequest{MessageBody: "fits", Priority: 8})
	wantErr(t, "batch with one oversized message", &ali_mns.ERR_MNS_BATCH_OP_FAIL, err)
	if len(mixed.Messages) != 2 || mixed.Messages[0].ErrorCode != "InvalidArgument" || mixed.Messages[1].MessageId == "" {
		t.Fatalf("mixed batch answered %+v", mixed)
	}
	if v, _, _ := e.mns.Depth(acct, region, "small"); v != 1 {
		t.Fatalf("small queue holds %d visible messages, want 1", v)
	}
}

func TestMessageValidation(t *testing.T) {
	e := newEnv(t)
	q := e.queue(t, "val", 30)
	for name, req := range map[string]ali_mns.MessageSendRequest{
		"priority 0":  {MessageBody: "x"},
		"priority 17": {MessageBody: "x", Priority: 17},
		"delay 8 d":   {MessageBody: "x", Priority: 8, DelaySeconds: 8 * 86400},
		"empty body":  {MessageBody: "", Priority: 8},
		"65537 bytes": {MessageBody: strings.Repeat("a", 65537), Priority: 8},
	} {
		_, err := q.SendMessage(req)
		wantErr(t, name, &ali_mns.ERR_MNS_INVALID_ARGUMENT, err)
	}
	send(t, q, strings.Repeat("a", 65536), 604800)
	if _, d, _ := e.mns.Depth(acct, region, "val"); d != 1 {
		t.Fatalf("the 64 KB message delayed 7 days is not there (delayed = %d)", d)
	}
}

func TestBodyByteExact(t *testing.T) {
	e := newEnv(t)
	q := e.queue(t, "exact", 30)
	body := "<job id=\"m-1\" a='b'>&amp; & ]]> \t\r\n  x</job> Grüße 日本語 🎉 \u00a0"
	sent := send(t, q, body, 0)
	if sent.MessageBodyMD5 != md5Upper(body) {
		t.Fatalf("MD5 on send = %s", sent.MessageBodyMD5)
	}
	got, err := receive(q)
	if err != nil {
		t.Fatalf("receive: %v", err)
	}
	if got.MessageBody != body || got.MessageBodyMD5 != md5Upper(body) {
		t.Fatalf("body came back as %q (md5 %s), sent %q", got.MessageBody, got.MessageBodyMD5, body)
	}
	msgs, err := e.mns.Receive(acct, region, "exact", 1)
	if err != nil || len(msgs) != 0 {
		t.Fatalf("in-process receive of an in-flight message = %+v, %v", msgs, err)
	}
	e.clock.Advance(30 * time.Second)
	msgs, err = e.mns.Receive(acct, region, "exact", 1)
	if err != nil || len(msgs) != 1 || msgs[0].Body != body {
		t.Fatalf("in-process receive = %+v, %v", msgs, err)
	}
}

func TestRetention(t *testing.T) {
	e := newEnv(t)
	cl := e.client(acct, e.root)
	if err := ali_mns.NewMNSQueueManager(cl).CreateQueueWithOptions("short", ali_mns.WithMessageRetentionPeriod(60)); err != nil {
		t.Fatalf("create: %v", err)
	}
	q := ali_mns.NewMNSQueue("short", cl)
	send(t, q, "old", 0)
	e.clock.Advance(60 * time.Second)
	_, err := receive(q)
	wantErr(t, "receive after retention", &ali_mns.ERR_MNS_MESSAGE_NOT_EXIST, err)
	if v, d, f := e.mns.Depth(acct, region, "short"); v+d+f != 0 {
		t.Fatalf("expired message still counted: %d/%d/%d", v, d, f)
	}
}

func TestAuthentication(t *testing.T) {
	e := newEnv(t)
	e.queue(t, "auth", 30)
	try := func(account string, c emu.Credential) error {
		_, err := ali_mns.NewMNSQueue("auth", e.client(account, c)).SendMessage(ali_mns.MessageSendRequest{MessageBody: "x", Priority: 8})
		return err
	}

	bad := e.root
	bad.AccessKeySecret = "not-the-secret"
	wantErr(t, "wrong secret", &ali_mns.ERR_MNS_SIGNATURE_DOES_NOT_MATCH, try(acct, bad))
	unknown := e.root
	unknown.AccessKeyID = "LTAIunknown"
	wantErr(t, "unknown key", &ali_mns.ERR_MNS_INVALID_ACCESS_KEY_ID, try(acct, unknown))
	wantErr(t, "other account's endpoint", &ali_mns.ERR_MNS_ACCESS_DENIED, try(other, e.root))

	sts := e.keys.AssumeRole(acct, "worker", "s1", time.Hour)
	if err := try(acct, sts); err != nil {
		t.Fatalf("STS credentials: %v", err)
	}
	forged := sts
	forged.SecurityToken = "CAISforged"
	wantErr(t, "wrong STS token", &ali_mns.ERR_MNS_INVALID_ACCESS_KEY_ID, try(acct, forged))

	// The other account has its own, separate queues.
	otherRoot := e.keys.AccessKey(other)
	wantErr(t, "queue of another account", &ali_mns.ERR_MNS_QUEUE_NOT_EXIST, try(other, otherRoot))

	if v, _, _ := e.mns.Depth(acct, region, "auth"); v != 1 {
		t.Fatalf("only the STS send should have landed, queue has %d", v)
	}
	var codes []string
	for _, c := range e.mns.Calls()[1:] {
		codes = append(codes, c.Code)
	}
	if got := strings.Join(codes, ","); got != "SignatureDoesNotMatch,InvalidAccessKeyId,AccessDenied,,InvalidAccessKeyId,QueueNotExist" {
		t.Fatalf("codes = %s", got)
	}
}

// signedRequest builds a request by the MNS signing rules with a chosen Date, to reach
// what the SDK cannot send (an old Date) and to look at the raw answer.
func signedRequest(t *testing.T, e *env, method, resource, date string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(method, "http://"+e.addr+resource, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Host = acct + ".mns." + region + ".aliyuncs.com"
	req.Header.Set("x-mns-version", "2015-06-06")
	req.Header.Set("Date", date)
	mac := hmac.New(sha1.New, []byte(e.root.AccessKeySecret))
	fmt.Fprintf(mac, "%s\n\n\n%s\nx-mns-version:2015-06-06\n%s", method, date, resource)
	req.Header.Set("Authorization", "MNS "+e.root.AccessKeyID+":"+base64.StdEncoding.EncodeToString(mac.Sum(nil)))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = resp.Body.Close() })
	return resp
}

func TestTimeExpiredAndErrorShape(t *testing.T) {
	e := newEnv(t)
	e.queue(t, "raw", 30)

	ok := signedRequest(t, e, "GET", "/queues/raw", time.Now().UTC().Format(http.TimeFormat))
	if ok.StatusCode != 200 || ok.Header.Get("x-mns-request-id") == "" {
		t.Fatalf("fresh request: %d, request id %q", ok.StatusCode, ok.Header.Get("x-mns-request-id"))
	}

	old := signedRequest(t, e, "GET", "/queues/raw", time.Now().Add(-16*time.Minute).UTC().Format(http.TimeFormat))
	body, _ := io.ReadAll(old.Body)
	var doc struct {
		XMLName   xml.Name
		Code      string
		Message   string
		RequestID string `xml:"RequestId"`
		HostID    string `xml:"HostId"`
	}
	if err := xml.Unmarshal(body, &doc); err != nil {
		t.Fatalf("error body %q: %v", body, err)
	}
	if old.StatusCode != 408 || doc.XMLName.Local != "Error" || doc.XMLName.Space != "http://mns.aliyuncs.com/doc/v1/" ||
		doc.Code != "TimeExpired" || doc.RequestID != old.Header.Get("x-mns-request-id") || doc.RequestID == "" ||
		doc.HostID != "http://"+acct+".mns."+region+".aliyuncs.com" {
		t.Fatalf("16 min old Date: %d %+v", old.StatusCode, doc)
	}
}

func TestTopics(t *testing.T) {
	e := newEnv(t)
	cl := e.client(acct, e.root)
	tm := ali_mns.NewMNSTopicManager(cl)
	if err := tm.CreateSimpleTopic("events"); err != nil {
		t.Fatalf("CreateTopic: %v", err)
	}
	wantErr(t, "CreateTopic again", &ali_mns.ERR_MNS_TOPIC_ALREADY_EXIST_AND_HAVE_SAME_ATTR, tm.CreateSimpleTopic("events"))

	e.clock.Advance(5 * time.Minute)
	body := `{"image":"m-1","note":"<&>"}`
	resp, err := ali_mns.NewMNSTopic("events", cl).PublishMessage(ali_mns.MessagePublishRequest{MessageBody: body})
	if err != nil {
		t.Fatalf("PublishMessage: %v", err)
	}
	pub := e.mns.Published(acct, region, "events")
	if len(pub) != 1 || pub[0].Body != body || pub[0].MessageID != resp.MessageId || pub[0].Topic != "events" ||
		!pub[0].Time.Equal(emu.Epoch.Add(5*time.Minute)) || resp.MessageBodyMD5 != md5Upper(body) {
		t.Fatalf("published %+v, answer %+v", pub, resp)
	}
	attr, err := tm.GetTopicAttributes("events")
	if err != nil || attr.TopicName != "events" || attr.MessageCount != 1 {
		t.Fatalf("GetTopicAttributes = %+v, %v", attr, err)
	}
	_, err = ali_mns.NewMNSTopic("missing", cl).PublishMessage(ali_mns.MessagePublishRequest{MessageBody: "x"})
	wantErr(t, "publish to a missing topic", &ali_mns.ERR_MNS_TOPIC_NOT_EXIST, err)
	if err := tm.DeleteTopic("events"); err != nil {
		t.Fatalf("DeleteTopic: %v", err)
	}
	if e.mns.Published(acct, region, "events") != nil {
		t.Fatal("deleted topic still has messages")
	}

	if err := e.mns.EnsureTopic(acct, region, "made-inside"); err != nil {
		t.Fatalf("EnsureTopic: %v", err)
	}
	if _, err := ali_mns.NewMNSTopic("made-inside", cl).PublishMessage(ali_mns.MessagePublishRequest{MessageBody: "y"}); err != nil {
		t.Fatalf("publish to a topic made in process: %v", err)
	}
}

func TestFaults(t *testing.T) {
	e := newEnv(t)
	q := e.queue(t, "faulty", 30)
	role := e.keys.AssumeRole(acct, fnRole, "fc-session", time.Hour)
	fq := ali_mns.NewMNSQueue("faulty", e.client(acct, role))

	e.faults.Set(emu.Faults{Seed: 7, Throttle: 1})
	_, err := fq.SendMessage(ali_mns.MessageSendRequest{MessageBody: "t", Priority: 8})
	wantErr(t, "throttled send", &ali_mns.ERR_MNS_QPS_LIMIT_EXCEEDED, err)
	send(t, q, "root is not faulted", 0) // faults are for the functions' role only
	if v, _, _ := e.mns.Depth(acct, region, "faulty"); v != 1 {
		t.Fatalf("queue holds %d messages, want only the root's", v)
	}

	e.faults.Set(emu.Faults{Seed: 7, ServerError: 1})
	const n = 24
	for i := range n {
		_, err := fq.SendMessage(ali_mns.MessageSendRequest{MessageBody: fmt.Sprintf("s%02d", i), Priority: 8})
		wantErr(t, "send with server errors", &ali_mns.ERR_MNS_INTERNAL_ERROR, err)
	}
	// Every answer was an error, yet some writes were applied first (ApplyWrite) and
	// some not: which ones is fixed by the seed.
	if v, _, _ := e.mns.Depth(acct, region, "faulty"); v-1 <= 0 || v-1 >= n {
		t.Fatalf("%d of %d failed sends landed; want some but not all", v-1, n)
	}
	// Reads fail the same way (a peek changes nothing either way).
	rc, ec := make(chan ali_mns.MessageReceiveResponse, 1), make(chan error, 1)
	fq.PeekMessage(rc, ec)
	select {
	case err := <-ec:
		wantErr(t, "peek with server errors", &ali_mns.ERR_MNS_INTERNAL_ERROR, err)
	default:
		t.Fatal("peek with server errors answered a message")
	}

	var mu sync.Mutex // the hook runs on the server's goroutine
	var killed []emu.Identity
	e.mns.OnKill(func(id emu.Identity) {
		mu.Lock()
		defer mu.Unlock()
		killed = append(killed, id)
	})
	e.faults.Set(emu.Faults{Seed: 7, Kill: 1})
	_, err = fq.SendMessage(ali_mns.MessageSendRequest{MessageBody: "k", Priority: 8})
	if err == nil {
		t.Fatal("killed call answered")
	}
	mu.Lock()
	if len(killed) != 1 || killed[0].RoleName != fnRole || killed[0].SessionName != "fc-session" {
		t.Fatalf("OnKill saw %+v", killed)
	}
	mu.Unlock()
	calls := e.mns.Calls()
	last := calls[len(calls)-1]
	if last.Code != "ConnectionAborted" || last.Operation != "SendMessage" || last.Caller.RoleName != fnRole {
		t.Fatalf("last call = %+v", last)
	}
	if calls[1].Code != "QpsLimitExceeded" || calls[3].Code != "InternalError" {
		t.Fatalf("fault calls = %+v / %+v", calls[1], calls[3])
	}
}

func TestInProcessWithHTTP(t *testing.T) {
	e := newEnv(t)
	if err := e.mns.EnsureQueue(acct, region, "shared", mns.QueueAttributes{VisibilityTimeout: 60}); err != nil {
		t.Fatalf("EnsureQueue: %v", err)
	}
	if err := e.mns.EnsureQueue(acct, region, "shared", mns.QueueAttributes{VisibilityTimeout: 60}); err != nil {
		t.Fatalf("EnsureQueue again: %v", err)
	}
	err := e.mns.EnsureQueue(acct, region, "shared", mns.QueueAttributes{VisibilityTimeout: 90})
	var apiErr *emu.APIError
	if !errors.As(err, &apiErr) || apiErr.Code != "QueueAlreadyExist" {
		t.Fatalf("EnsureQueue with other attributes: %v", err)
	}
	cl := e.client(acct, e.root)
	q := ali_mns.NewMNSQueue("shared", cl)
	wantErr(t, "CreateQueue over an ensured queue", &ali_mns.ERR_MNS_QUEUE_ALREADY_EXIST_AND_HAVE_SAME_ATTR,
		ali_mns.NewMNSQueueManager(cl).CreateQueueWithOptions("shared", ali_mns.WithVisibilityTimeout(60)))

	// HTTP send, in-process receive and delete.
	sent := send(t, q, "from http", 0)
	msgs, err := e.mns.Receive(acct, region, "shared", 16)
	if err != nil || len(msgs) != 1 || msgs[0].ID != sent.MessageId || msgs[0].Body != "from http" ||
		msgs[0].DequeueCount != 1 || !msgs[0].NextVisibleTime.Equal(emu.Epoch.Add(60*time.Second)) {
		t.Fatalf("in-process receive = %+v, %v", msgs, err)
	}
	if err := e.mns.Delete(acct, region, "shared", msgs[0].ReceiptHandle); err != nil {
		t.Fatalf("in-process delete: %v", err)
	}

	// In-process send (delayed), HTTP receive after the clock moves.
	id, err := e.mns.Send(acct, region, "shared", "from inside", 2*time.Minute)
	if err != nil {
		t.Fatalf("in-process send: %v", err)
	}
	if next, ok := e.mns.NextVisible(acct, region, "shared"); !ok || !next.Equal(emu.Epoch.Add(2*time.Minute)) {
		t.Fatalf("NextVisible = %v %v", next, ok)
	}
	e.clock.Advance(2 * time.Minute)
	got, err := receive(q)
	if err != nil || got.MessageId != id || got.MessageBody != "from inside" || got.Priority != 8 {
		t.Fatalf("HTTP receive = %+v, %v", got, err)
	}

	// In-process visibility change: the HTTP side's handle stops working.
	h, err := e.mns.ChangeVisibility(acct, region, "shared", got.ReceiptHandle, 5*time.Minute)
	if err != nil || h == got.ReceiptHandle {
		t.Fatalf("ChangeVisibility = %q, %v", h, err)
	}
	wantErr(t, "HTTP delete with the superseded handle", &ali_mns.ERR_MNS_MESSAGE_NOT_EXIST, q.DeleteMessage(got.ReceiptHandle))
	if v, d, f := e.mns.Depth(acct, region, "shared"); v != 0 || d != 0 || f != 1 {
		t.Fatalf("depth = %d/%d/%d, want 0/0/1", v, d, f)
	}
	if err := q.DeleteMessage(h); err != nil {
		t.Fatalf("HTTP delete with the in-process handle: %v", err)
	}
	if _, ok := e.mns.NextVisible(acct, region, "shared"); ok {
		t.Fatal("NextVisible on an empty queue")
	}
	if err := e.mns.Delete(acct, region, "shared", h); !errors.As(err, &apiErr) || apiErr.Code != "MessageNotExist" {
		t.Fatalf("in-process delete twice: %v", err)
	}
	if _, err := e.mns.Receive(acct, region, "missing", 1); !errors.As(err, &apiErr) || apiErr.Code != "QueueNotExist" {
		t.Fatalf("in-process receive from a missing queue: %v", err)
	}
	if _, err := e.mns.Send(acct, region, "shared", strings.Repeat("b", 65537), 0); !errors.As(err, &apiErr) || apiErr.Code != "InvalidArgument" {
		t.Fatalf("in-process oversized send: %v", err)
	}
	// The in-process side is not an HTTP call.
	for _, c := range e.mns.Calls() {
		if c.Caller.AccountID != acct {
			t.Fatalf("call without an HTTP caller: %+v", c)
		}
	}
}

// RAM: a role is checked on the documented action and resource of each operation.
// SendMessage on the queue (without /messages) allows neither kind of send, and
// SendMessage does not allow BatchSendMessage; the denial is MNS's AccessDenied.
func TestRAMEvaluatesActionAndResource(t *testing.T) {
	e := newEnv(t)
	e.queue(t, "jobs", 30)
	send := func(doc string) (single, batch error, calls []mns.MNSCall) {
		t.Helper()
		role := fmt.Sprintf("sender-%d", len(e.mns.Calls()))
		if err := e.ram.Grant(acct, role, role, doc); err != nil {
			t.Fatal(err)
		}
		q := ali_mns.NewMNSQueue("jobs", e.client(acct, e.keys.AssumeRole(acct, role, "s", time.Hour)))
		before := len(e.mns.Calls())
		_, single = q.SendMessage(ali_mns.MessageSendRequest{MessageBody: "x", Priority: 8})
		_, batch = q.BatchSendMessage(ali_mns.MessageSendRequest{MessageBody: "y", Priority: 8})
		return single, batch, e.mns.Calls()[before:]
	}
	policy := func(action, resource string) string {
		return `{"Version":"1","Statement":[{"Effect":"Allow","Action":"` + action + `","Resource":"` + resource + `"}]}`
	}
	queueARN := "acs:mns:" + region + ":" + acct + ":/queues/jobs"

	single, batch, calls := send(policy("mns:SendMessage", queueARN))
	wantErr(t, "SendMessage on the queue ARN", &ali_mns.ERR_MNS_ACCESS_DENIED, single)
	wantErr(t, "BatchSendMessage under SendMessage", &ali_mns.ERR_MNS_ACCESS_DENIED, batch)
	if len(calls) != 2 || calls[1].RAMAction != "mns:BatchSendMessage" ||
		!strings.HasPrefix(calls[1].Denial, "mns:BatchSendMessage on "+queueARN+"/messages: ImplicitDeny") {
		t.Fatalf("calls = %+v", calls)
	}

	single, batch, _ = send(policy("mns:SendMessage", queueARN+"/messages"))
	if single != nil {
		t.Fatalf("SendMessage on the messages: %v", single)
	}
	wantErr(t, "BatchSendMessage under SendMessage", &ali_mns.ERR_MNS_ACCESS_DENIED, batch)

	single, batch, _ = send(policy("MNS:batchsendmessage", queueARN+"/messages"))
	wantErr(t, "SendMessage under BatchSendMessage", &ali_mns.ERR_MNS_ACCESS_DENIED, single)
	if batch != nil {
		t.Fatalf("BatchSendMessage (action names ignore case): %v", batch)
	}
	if v, _, _ := e.mns.Depth(acct, region, "jobs"); v != 2 {
		t.Fatalf("queue holds %d messages, want the 2 allowed sends", v)
	}
}

// Receipt handles have the real service's shape, which holds no '+' or '/': a client
// that puts one unescaped in the query string (the Node SDK does) can delete with it.
func TestReceiptHandlesSurviveAnUnescapedQuery(t *testing.T) {
	e := newEnv(t)
	q := e.queue(t, "handles", 30)
	shape := regexp.MustCompile(`^1-[A-Za-z0-9]+=*$`)
	for i := range 64 {
		send(t, q, fmt.Sprintf("m%d", i), 0)
		r, err := receive(q)
		if err != nil {
			t.Fatal(err)
		}
		if !shape.MatchString(r.ReceiptHandle) {
			t.Fatalf("handle %q does not have the real service's shape", r.ReceiptHandle)
		}
		resp := signedRequest(t, e, "DELETE", "/queues/handles/messages?ReceiptHandle="+r.ReceiptHandle, time.Now().UTC().Format(http.TimeFormat))
		if resp.StatusCode != 204 {
			b, _ := io.ReadAll(resp.Body)
			t.Fatalf("delete with the raw handle %q: %d %s", r.ReceiptHandle, resp.StatusCode, b)
		}
	}
}

// TestLimitsHaveSources: every documented range the emulated MNS enforces names the
// operations it bounds and its reference page.
func TestLimitsHaveSources(t *testing.T) {
	if len(mns.Limits) < 10 {
		t.Fatalf("only %d limits", len(mns.Limits))
	}
	for _, l := range mns.Limits {
		if !strings.HasPrefix(l.Source, "https://www.alibabacloud.com/help/") || len(l.Operations) == 0 || l.Low > l.High {
			t.Errorf("limit %+v: want a reference page, the operations it bounds and a range", l)
		}
	}
}
