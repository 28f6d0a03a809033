package event

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

// A TagResources call as EventBridge delivers it from ActionTrail (shape from the
// ActionTrail management-event docs, https://www.alibabacloud.com/help/document_detail/28819.html).
const tagEvent = `{"specversion":"1.0","id":"45ef4dew-7c35","source":"acs.ecs","type":"ecs:ActionTrail:ApiCall",
 "subject":"acs:ecs:cn-hangzhou:1000000000000001:image/m-Base00000001","time":"2026-01-01T00:01:00Z",
 "datacontenttype":"application/json;charset=utf-8","aliyunaccountid":"1000000000000001",
 "aliyunpublishtime":"2026-01-01T08:01:00.179PRC","aliyuneventbusname":"default","aliyunregionid":"cn-hangzhou",
 "data":{"eventId":"e-1","eventVersion":1,"eventName":"TagResources","eventType":"ApiCall","eventRW":"Write",
  "serviceName":"Ecs","acsRegion":"cn-hangzhou","requestId":"R-1","isGlobal":false,
  "requestParameters":{"RegionId":"cn-hangzhou","ResourceType":"image","ResourceId.2":"m-Base00000002","ResourceId.1":"m-Base00000001",
   "Tag.1.Key":"imageshare:accounts","Tag.1.Value":"1000000000000002"},
  "userIdentity":{"type":"root-account","accountId":"1000000000000001","principalId":"1000000000000001"},
  "eventTime":"2026-01-01T00:01:00Z"}}`

func one(t *testing.T, payload string) (CloudEvent, ActionTrail) {
	t.Helper()
	evs, errs := Decode([]byte(payload))
	if len(errs) > 0 || len(evs) != 1 {
		t.Fatalf("Decode: %v %v", evs, errs)
	}
	at, err := ParseActionTrail(evs[0])
	if err != nil {
		t.Fatalf("ParseActionTrail: %v", err)
	}
	return evs[0], at
}

func TestTagResources(t *testing.T) {
	ev, at := one(t, tagEvent)
	if ev.AliyunPublishTime != "2026-01-01T08:01:00.179PRC" {
		t.Fatalf("publish time kept as text: %q", ev.AliyunPublishTime)
	}
	if err := Filter(ev, at, ImageEventNames, "imageshare-fc"); err != nil {
		t.Fatal(err)
	}
	tg, err := ImageTarget(ev, at)
	if err != nil {
		t.Fatal(err)
	}
	want := Target{Region: "cn-hangzhou", Images: []string{"m-Base00000001", "m-Base00000002"}}
	if !reflect.DeepEqual(tg, want) {
		t.Fatalf("got %+v want %+v", tg, want)
	}
}

func mk(eventName, typ string, req, resp, extra string) string {
	if typ == "" {
		typ = "ecs:ActionTrail:ApiCall"
	}
	if resp == "" {
		resp = "null"
	}
	return `{"specversion":"1.0","id":"e-` + eventName + `","source":"acs.ecs","type":"` + typ + `","aliyunregionid":"cn-hangzhou",
	 "data":{"eventName":"` + eventName + `","acsRegion":"cn-hangzhou","requestParameters":` + req + `,"responseElements":` + resp + extra + `}}`
}

func TestImageTargets(t *testing.T) {
	tests := []struct {
		name    string
		payload string
		region  string
		images  []string
		skip    bool
		bad     string
	}{
		{name: "legacy AddTags single ResourceId", payload: mk("AddTags", "", `{"ResourceType":"image","ResourceId":"m-Abc","Tag.1.Key":"k"}`, "", ""),
			region: "cn-hangzhou", images: []string{"m-Abc"}},
		{name: "RemoveTags console operation", payload: mk("RemoveTags", "ecs:ActionTrail:ConsoleOperation", `{"ResourceType":"Image","ResourceId":"m-Abc"}`, "", ""),
			region: "cn-hangzhou", images: []string{"m-Abc"}},
		{name: "UntagResources as an array", payload: mk("UntagResources", "", `{"RegionId":"cn-beijing","ResourceType":"image","ResourceId":["m-B","m-A","m-B"]}`, "", ""),
			region: "cn-beijing", images: []string{"m-A", "m-B"}},
		{name: "tags of an instance are skipped", payload: mk("TagResources", "", `{"ResourceType":"instance","ResourceId.1":"i-1"}`, "", ""), skip: true},
		{name: "CreateImage from the response", payload: mk("CreateImage", "", `{"RegionId":"cn-hangzhou","InstanceId":"i-1"}`, `{"ImageId":"m-New1","RequestId":"x"}`, ""),
			region: "cn-hangzhou", images: []string{"m-New1"}},
		{name: "CreateImage without response: the whole region", payload: mk("CreateImage", "", `{"RegionId":"cn-hangzhou"}`, "", ""),
			region: "cn-hangzhou"},
		{name: "CopyImage names the destination", payload: mk("CopyImage", "", `{"RegionId":"cn-hangzhou","ImageId":"m-Src","DestinationRegionId":"cn-shanghai"}`, `{"ImageId":"m-Copy"}`, ""),
			region: "cn-shanghai", images: []string{"m-Copy"}},
		{name: "ModifyImageSharePermission by a person", payload: mk("ModifyImageSharePermission", "", `{"RegionId":"cn-hangzhou","ImageId":"m-X","AddAccount.1":"1000000000000002"}`, "", ""),
			region: "cn-hangzhou", images: []string{"m-X"}},
		{name: "DeleteImage", payload: mk("DeleteImage", "", `{"RegionId":"cn-hangzhou","ImageId":"m-X"}`, "", ""), region: "cn-hangzhou", images: []string{"m-X"}},
		{name: "bad image id", payload: mk("DeleteImage", "", `{"RegionId":"cn-hangzhou","ImageId":"i-notimage"}`, "", ""), bad: "not an image ID"},
		{name: "missing ImageId", payload: mk("ModifyImageSharePermission", "", `{"RegionId":"cn-hangzhou"}`, "", ""), bad: "no ImageId"},
		{name: "bad region", payload: mk("DeleteImage", "", `{"RegionId":"Hangzhou!","ImageId":"m-X"}`, "", ""), bad: "no usable region"},
		{name: "CopyImage without destination", payload: mk("CopyImage", "", `{"ImageId":"m-X"}`, "", ""), bad: "DestinationRegionId"},
		{name: "tags without resources", payload: mk("TagResources", "", `{"ResourceType":"image"}`, "", ""), bad: "no ResourceId"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ev, at := one(t, tc.payload)
			if err := Filter(ev, at, ImageEventNames, "imageshare-fc"); err != nil {
				t.Fatalf("Filter: %v", err)
			}
			tg, err := ImageTarget(ev, at)
			var skip *Skip
			switch {
			case tc.skip:
				if !errors.As(err, &skip) {
					t.Fatalf("want skip, got %v %+v", err, tg)
				}
			case tc.bad != "":
				var e *Error
				if !errors.As(err, &e) || !strings.Contains(err.Error(), tc.bad) || !strings.Contains(err.Error(), "e-") {
					t.Fatalf("want error naming %q and the event id, got %v", tc.bad, err)
				}
			default:
				if err != nil {
					t.Fatal(err)
				}
				if tg.Region != tc.region || !reflect.DeepEqual(tg.Images, tc.images) {
					t.Fatalf("got %+v", tg)
				}
			}
		})
	}
}

func TestFilter(t *testing.T) {
	base := mk("TagResources", "", `{"ResourceType":"image","ResourceId.1":"m-A"}`, "", "")
	tests := []struct{ name, payload, want string }{
		{"failed call", mk("TagResources", "", `{}`, "", `,"errorCode":"Forbidden.RAM","errorMessage":"x"`), "the call failed"},
		{"own role", mk("TagResources", "", `{}`, "", `,"userIdentity":{"type":"assumed-role","arn":"acs:ram::1:assumed-role/imageshare-fc/s1","userName":"imageshare-fc"}`), "own role"},
		{"other role", mk("TagResources", "", `{}`, "", `,"userIdentity":{"type":"assumed-role","arn":"acs:ram::1:assumed-role/terraform/s1"}`), ""},
		{"not ActionTrail", strings.Replace(base, "ecs:ActionTrail:ApiCall", "ecs:Instance:StateChange", 1), "not an ActionTrail"},
		{"unrelated API", mk("StartInstance", "", `{}`, "", ""), "not an API call"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ev, at := one(t, tc.payload)
			err := Filter(ev, at, ImageEventNames, "imageshare-fc")
			if tc.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("want %q, got %v", tc.want, err)
			}
		})
	}
}

func TestDecodeForms(t *testing.T) {
	obj := `{"specversion":"1.0","id":"a","source":"s","type":"t","data":{}}`
	evs, errs := Decode([]byte("[" + obj + "," + obj + "]"))
	if len(evs) != 2 || len(errs) != 0 {
		t.Fatalf("array of objects: %v %v", evs, errs)
	}
	evs, errs = Decode([]byte(`["{\"id\":\"a\",\"source\":\"s\",\"type\":\"t\"}", 42, "{"]`))
	if len(evs) != 1 || len(errs) != 2 {
		t.Fatalf("array of strings with bad elements: %v %v", evs, errs)
	}
	for _, bad := range []string{"", "   ", "null", "42", `{"id":1,"source":"s","type":"t"}`, `{"id":"a"}`, `{"id":"a","source":"s","type":"t"`} {
		evs, errs := Decode([]byte(bad))
		if len(evs) != 0 || len(errs) != 1 {
			t.Fatalf("%q: want one error, got %v %v", bad, evs, errs)
		}
		if strings.Contains(errs[0].Error(), bad) && len(bad) > 4 {
			t.Fatalf("error repeats the payload: %v", errs[0])
		}
	}
	huge := make([]byte, MaxPayload+1)
	if _, errs := Decode(huge); len(errs) != 1 || !strings.Contains(errs[0].Error(), "larger") {
		t.Fatalf("huge payload: %v", errs)
	}
	// A wrongly typed attribute is named.
	_, errs = Decode([]byte(`{"id":"a","source":"s","type":"t","aliyunpublishtime":1}`))
	if len(errs) != 1 || !strings.Contains(errs[0].Error(), "aliyunpublishtime") {
		t.Fatalf("typed attribute: %v", errs)
	}
	ev, _ := one(t, mk("TagResources", "", `"{\"ResourceType\":\"image\",\"ResourceId.1\":\"m-A\"}"`, "", ""))
	_ = ev
}

func TestActionTrailErrors(t *testing.T) {
	for _, data := range []string{`null`, `[]`, `{"eventName":5}`, `{}`, `{"eventName":"X","requestParameters":[1]}`, `{"eventName":"X","userIdentity":{"type":1}}`} {
		evs, _ := Decode([]byte(`{"id":"a","source":"s","type":"t","data":` + data + `}`))
		if _, err := ParseActionTrail(evs[0]); err == nil {
			t.Errorf("%s: want an error", data)
		}
	}
}

func TestQueueMessages(t *testing.T) {
	payload := `[{"id":"1","source":"MNS-reconcile","type":"mns:Queue:SendMessage","data":{"requestId":"r","messageId":"M1","messageBody":"{\"v\":1}"}},
	 {"id":"2","source":"MNS-reconcile","type":"mns:Queue:SendMessage","data":{"messageId":"M2","messageBody":{"v":1}}},
	 {"id":"3","source":"x","type":"ecs:ActionTrail:ApiCall","data":{}},
	 {"id":"4","source":"MNS-reconcile","type":"mns:Queue:SendMessage","data":{"messageId":"M4"}}]`
	evs, errs := Decode([]byte(payload))
	if len(errs) != 0 {
		t.Fatal(errs)
	}
	msgs, errs := QueueMessages(evs)
	if len(msgs) != 2 || len(errs) != 2 || msgs[0].Body != `{"v":1}` || msgs[1].Body != `{"v":1}` || msgs[0].MessageID != "M1" {
		t.Fatalf("got %+v %v", msgs, errs)
	}
}

func TestTimer(t *testing.T) {
	tm, err := DecodeTimer([]byte(`{"triggerTime":"2026-01-01T00:30:00Z","triggerName":"sweep","payload":""}`))
	if err != nil || tm.TriggerName != "sweep" {
		t.Fatal(tm, err)
	}
	for _, bad := range []string{`{}`, `[]`, `x`} {
		if _, err := DecodeTimer([]byte(bad)); err == nil {
			t.Errorf("%s: want error", bad)
		}
	}
}

func TestOrgChange(t *testing.T) {
	p := `{"id":"o1","source":"acs.resourcemanager","type":"resourcemanager:ActionTrail:ApiCall","data":{"eventName":"InviteAccountToResourceDirectory",
	 "requestParameters":{"TargetEntity":"2000000000000001","TargetType":"Account"},"responseElements":{"Handshake":{"HandshakeId":"h-1","Status":"Pending"}}}}`
	ev, at := one(t, p)
	if err := Filter(ev, at, OrgEventNames, "imageshare-fc"); err != nil {
		t.Fatal(err)
	}
	c := ReadOrgChange(at)
	if !c.Invitation || c.Handshake != "h-1" || c.Account != "2000000000000001" {
		t.Fatalf("%+v", c)
	}
}

func FuzzDecode(f *testing.F) {
	f.Add([]byte(tagEvent))
	f.Add([]byte(`[` + tagEvent + `]`))
	f.Add([]byte(`["{\"id\":\"a\",\"source\":\"s\",\"type\":\"mns:Queue:SendMessage\",\"data\":{\"messageBody\":\"x\"}}"]`))
	f.Add([]byte(mk("CopyImage", "", `{"ImageId":"m-X","DestinationRegionId":"cn-shanghai"}`, `{"ImageId":"m-Y"}`, "")))
	f.Fuzz(func(t *testing.T, payload []byte) {
		evs, errs := Decode(payload)
		for _, err := range errs {
			if err.Error() == "" {
				t.Fatal("empty error")
			}
		}
		QueueMessages(evs)
		for _, ev := range evs {
			at, err := ParseActionTrail(ev)
			if err != nil {
				continue
			}
			if Filter(ev, at, ImageEventNames, "r") == nil {
				if tg, err := ImageTarget(ev, at); err == nil {
					for _, id := range tg.Images {
						if !IsImageID(id) {
							t.Fatalf("bad image id %q passed", id)
						}
					}
					if !IsRegionID(tg.Region) {
						t.Fatalf("bad region %q passed", tg.Region)
					}
				}
			}
			ReadOrgChange(at)
		}
	})
}

func TestRemovedTagKeys(t *testing.T) {
	for _, tc := range []struct {
		at   ActionTrail
		keys string
		all  bool
	}{
		{ActionTrail{EventName: "UntagResources", RequestParameters: map[string]any{"TagKey.2": "b", "TagKey.1": "a", "TagKey.x": "no"}}, "a,b", false},
		{ActionTrail{EventName: "UntagResources", RequestParameters: map[string]any{"All": "true"}}, "", true},
		{ActionTrail{EventName: "UntagResources", RequestParameters: map[string]any{"All": true, "TagKey": []any{"k"}}}, "k", true},
		{ActionTrail{EventName: "RemoveTags", RequestParameters: map[string]any{"Tag.1.Key": "a", "Tag.1.Value": "v", "Tag.2.Key": "b"}}, "a,b", false},
		{ActionTrail{EventName: "RemoveTags", RequestParameters: map[string]any{"Tag": []any{map[string]any{"Key": "k"}}}}, "k", false},
		{ActionTrail{EventName: "TagResources", RequestParameters: map[string]any{"Tag.1.Key": "a"}}, "", false},
	} {
		keys, all := RemovedTagKeys(tc.at)
		if strings.Join(keys, ",") != tc.keys || all != tc.all {
			t.Errorf("%s %v: keys %v all %v, want %s %v", tc.at.EventName, tc.at.RequestParameters, keys, all, tc.keys, tc.all)
		}
	}
}

// A record LookupEvents returns becomes the CloudEvent the bus would carry it as, and
// goes through the same parsing; what is not a usable record is an error naming the
// problem, never the record.
func TestFromTrail(t *testing.T) {
	rec := `{"eventId":"E-1","eventType":"ConsoleOperation","serviceName":"ResourceManager","eventName":"MoveAccount","eventTime":"2026-01-01T00:31:00Z",
	 "requestParameters":{"AccountId":"1000000000000002"},"userIdentity":{"type":"ram-user","userName":"bob","accessKeyId":"LTAIsecret"}}`
	ev, err := FromTrail([]byte(rec))
	if err != nil {
		t.Fatal(err)
	}
	if ev.ID != "E-1" || ev.Source != "acs.resourcemanager" || ev.Type != "resourcemanager:ActionTrail:ConsoleOperation" || ev.Time != "2026-01-01T00:31:00Z" {
		t.Fatalf("event %+v", ev)
	}
	at, err := ParseActionTrail(ev)
	if err != nil || at.EventName != "MoveAccount" || at.EventID != "E-1" || at.EventTime != "2026-01-01T00:31:00Z" || at.UserIdentity.UserName != "bob" {
		t.Fatalf("record %+v, %v", at, err)
	}
	for _, bad := range []string{`[]`, `"x"`, `{}`, `{"eventId":"E","eventType":"ApiCall"}`, `{"eventId":7,"eventType":"ApiCall","serviceName":"Ecs"}`, `null`} {
		if _, err := FromTrail([]byte(bad)); err == nil || strings.Contains(err.Error(), bad) && len(bad) > 4 {
			t.Errorf("%s: %v", bad, err)
		}
	}
	if !IsTimer([]byte(`{"triggerTime":"2026-01-01T00:05:00Z","triggerName":"org-poll","payload":"org-poll"}`)) ||
		IsTimer([]byte(`{"specversion":"1.0","id":"x","source":"s","type":"t","triggerTime":"x"}`)) || IsTimer([]byte(`[{"triggerTime":"x"}]`)) {
		t.Fatal("IsTimer")
	}
}
