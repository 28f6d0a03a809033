package function

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"imageshare/pkg/event"
	"imageshare/pkg/job"
)

// Payloads as EventBridge delivers them to the handlers (shapes from the ActionTrail
// and EventBridge MNS-source documentation, the fc-runtime-go-sdk event samples, and the emulated cloud).
const (
	fuzzTag     = `{"specversion":"1.0","id":"45ef4dew-7c35","source":"acs.ecs","type":"ecs:ActionTrail:ApiCall","subject":"acs:ecs:cn-hangzhou:1000000000000001:image/m-Base00000001","time":"2026-01-01T00:01:00Z","datacontenttype":"application/json;charset=utf-8","aliyunaccountid":"1000000000000001","aliyunpublishtime":"2026-01-01T08:01:00.179PRC","aliyuneventbusname":"default","aliyunregionid":"cn-hangzhou","data":{"eventId":"e-1","eventVersion":1,"eventName":"TagResources","eventType":"ApiCall","eventRW":"Write","serviceName":"Ecs","acsRegion":"cn-hangzhou","requestId":"R-1","isGlobal":false,"requestParameters":{"RegionId":"cn-hangzhou","ResourceType":"image","ResourceId.1":"m-Base00000001","Tag.1.Key":"imageshare:accounts","Tag.1.Value":"1000000000000002"},"userIdentity":{"type":"root-account","accountId":"1000000000000001","principalId":"1000000000000001","accessKeyId":"LTAI4Fexample"},"eventTime":"2026-01-01T00:01:00Z"}}`
	fuzzConsole = `{"specversion":"1.0","id":"c-2","source":"acs.ecs","type":"ecs:ActionTrail:ConsoleOperation","time":"2026-01-01T00:02:00Z","data":{"eventName":"AddTags","acsRegion":"cn-hangzhou","requestParameters":{"RegionId":"cn-hangzhou","ResourceType":"image","ResourceId":"m-Legacy000001","Tag.1.Key":"imageshare:folders","Tag.1.Value":"fd-Prod000001"},"userIdentity":{"type":"ram-user","accountId":"1000000000000001","userName":"ops"}}}`
	fuzzCopy    = `{"specversion":"1.0","id":"cp-3","source":"acs.ecs","type":"ecs:ActionTrail:ApiCall","data":{"eventName":"CopyImage","acsRegion":"cn-hangzhou","requestParameters":{"RegionId":"cn-hangzhou","ImageId":"m-Src000000001","DestinationRegionId":"cn-shanghai"},"responseElements":{"ImageId":"m-Dst000000001","RequestId":"R-3"}}}`
	fuzzOwn     = `{"specversion":"1.0","id":"own-4","source":"acs.ecs","type":"ecs:ActionTrail:ApiCall","data":{"eventName":"ModifyImageSharePermission","acsRegion":"cn-hangzhou","requestParameters":{"RegionId":"cn-hangzhou","ImageId":"m-Base00000001","AddAccount.1":"1000000000000002"},"userIdentity":{"type":"assumed-role","accountId":"1000000000000001","arn":"acs:ram::1000000000000001:assumed-role/imageshare-fc/fc-1"}}}`
	fuzzOrg     = `{"specversion":"1.0","id":"o-5","source":"acs.resourcemanager","type":"resourcemanager:ActionTrail:ApiCall","data":{"eventName":"InviteAccountToResourceDirectory","acsRegion":"cn-hangzhou","requestParameters":{"TargetEntity":"2000000000000001","TargetType":"Account"},"responseElements":{"Handshake":{"HandshakeId":"h-Ab12Cd34","Status":"Pending"}}}}`
	fuzzMove    = `{"specversion":"1.0","id":"o-6","source":"acs.resourcemanager","type":"resourcemanager:ActionTrail:ConsoleOperation","data":{"eventName":"MoveAccount","requestParameters":{"AccountId":"1000000000000002","DestinationFolderId":"fd-Dev0000001"}}}`
	fuzzJob     = `{"v":1,"kind":"images","region":"cn-hangzhou","images":["m-Base00000001"],"reason":"event","retryFailed":true,"cause":"45ef4dew-7c35","notify":true}`
)

// mnsEvent wraps a message body as the EventBridge MNS source does.
func mnsEvent(id, body string) string {
	b, _ := json.Marshal(body)
	return `{"specversion":"1.0","id":"` + id + `","source":"MNS-imageshare-reconcile-jobs","type":"mns:Queue:SendMessage","subject":"acs:mns:cn-hangzhou:1000000000000001:queues/imageshare-jobs","time":"2026-01-01T00:01:00Z","aliyunaccountid":"1000000000000001","aliyunregionid":"cn-hangzhou","data":{"requestId":"606B4C2A","messageId":"` + id + `-M","messageBody":` + string(b) + `}}`
}

// batch is an event-streaming batch: a JSON array of CloudEvents as strings.
func batch(evs ...string) string {
	b, _ := json.Marshal(evs)
	return string(b)
}

func fuzzSeeds(f *testing.F) {
	for _, p := range []string{
		fuzzTag, fuzzConsole, fuzzCopy, fuzzOwn, fuzzOrg, fuzzMove,
		`[` + fuzzTag + `,` + fuzzConsole + `]`,
		batch(fuzzTag, fuzzCopy),
		mnsEvent("j-1", fuzzJob),
		batch(mnsEvent("j-1", fuzzJob), mnsEvent("j-2", `{"v":1,"kind":"region","region":"cn-hangzhou","reason":"org"}`), mnsEvent("j-3", "not a job")),
		mnsEvent("d-1", mnsEvent("j-1", fuzzJob)),             // a dead letter: the failed delivery's event
		batch(mnsEvent("d-2", fuzzTag), mnsEvent("d-3", "{")), // dead letters of image-events, and garbage
		`{"triggerTime":"2026-01-01T00:30:00Z","triggerName":"every-30-minutes","payload":"sweep"}`,
		`[]`, `{}`, `[1,"2",null]`, `"x"`, ``,
	} {
		f.Add([]byte(p))
	}
}

// credentials of the invocation (inv): they must appear in no log line and no message.
var secrets = []string{inv.Credentials.AccessKeyID, inv.Credentials.AccessKeySecret}

// hasValidJob reports whether the payload carries a job the reconcile function would
// act on (so that a failure of the cloud may fail the invocation).
func hasValidJob(payload []byte) bool {
	evs, _ := event.Decode(payload)
	msgs, _ := event.QueueMessages(evs)
	for _, m := range msgs {
		if _, err := job.Decode(m.Body); err == nil {
			return true
		}
	}
	return false
}

// pollsNow reports whether the payload is a timer tick on which org-events polls
// ActionTrail (so that a missing cloud may fail the invocation).
func pollsNow(d *Deps, payload []byte) bool {
	if !event.IsTimer(payload) {
		return false
	}
	t, err := event.DecodeTimer(payload)
	if err != nil {
		return false
	}
	tick, err := time.Parse(time.RFC3339, t.TriggerTime)
	if err != nil {
		return false
	}
	_, ok := windowOf(tick, d.Settings.OrgPoll, d.Settings.OrgPollLag)
	return ok
}

// fuzzHandler runs one handler end to end on a payload with a fake queue (and no
// cloud): it must not panic; it must acknowledge whatever it cannot use (fail only when
// the cloud it needs is missing); every job it sends must be a valid job; and neither
// its log lines nor its messages carry credentials or a large piece of the payload.
func fuzzHandler(f *testing.F, name string) {
	fuzzSeeds(f)
	f.Fuzz(func(t *testing.T, payload []byte) {
		d, q, logs := deps(t, map[string]string{"NOTIFY_TOPIC": "notices"})
		h, err := d.Handler(name)
		if err != nil {
			t.Fatal(err)
		}
		_, err = h(context.Background(), inv, payload)
		if err != nil && !(name == Reconcile && hasValidJob(payload)) && !(name == OrgEvents && pollsNow(d, payload)) {
			t.Fatalf("%s failed on a payload it cannot use (it would be retried): %v", name, err)
		}
		for _, s := range q.sends {
			for _, b := range s.bodies {
				if _, err := job.Decode(b); err != nil {
					t.Fatalf("%s sent an invalid job %s: %v", name, b, err)
				}
			}
		}
		out := logs.String() + strings.Join(q.published, "\n")
		for _, s := range secrets {
			if strings.Contains(out, s) {
				t.Fatalf("%s logged or published a credential", name)
			}
		}
		for _, line := range strings.Split(out, "\n") {
			if len(line) > 4096 {
				t.Fatalf("%s wrote a line of %d bytes: a payload was copied out", name, len(line))
			}
		}
	})
}

func FuzzImageEvents(f *testing.F) { fuzzHandler(f, ImageEvents) }
func FuzzOrgEvents(f *testing.F)   { fuzzHandler(f, OrgEvents) }
func FuzzReconcile(f *testing.F)   { fuzzHandler(f, Reconcile) }
func FuzzDeadLetters(f *testing.F) { fuzzHandler(f, DeadLetters) }
