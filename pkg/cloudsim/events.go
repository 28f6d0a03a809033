package cloudsim

import (
	"encoding/json"
	"maps"
	"slices"
	"strings"
	"time"

	"imageshare/pkg/cloudsim/emu"
)

// The events the cloud puts on accounts' event buses: ActionTrail records of ECS and
// ResourceManager writes (on the caller's bus), and resource-sharing association changes
// (on each target account's bus). Resource Sharing writes put nothing on the owner's bus.

// prc is the zone of aliyunpublishtime, which EventBridge writes in China time with a
// "PRC" suffix instead of an offset.
var prc = time.FixedZone("PRC", 8*3600)

func publishTime(t time.Time) string { return t.In(prc).Format("2006-01-02T15:04:05.000") + "PRC" }

func eventID() string { return strings.ToLower(emu.NewRequestID()) }

type service struct {
	source, typ, eventSource, serviceName string
	global                                bool
}

// services are the products whose writes ActionTrail records: source and type of the
// bus event (ECS and Resource Management only: the bus gets nothing else from this
// cloud), eventSource and serviceName of the record, and whether its events are global
// (listed in one region; Resource Management and RAM are global services). The service
// names of Resource Sharing, RAM, EventBridge and MNS in ActionTrail records are
// UNVERIFIED: Resource Sharing is logged as Resource Management here, as the resource
// group events of Resource Management are
// (https://www.alibabacloud.com/help/en/resource-management/latest/use-actiontrail-to-record-operations-on-resource-groups).
var services = map[string]service{
	"ecs": {source: "acs.ecs", typ: "ecs:ActionTrail:ApiCall", eventSource: "ecs.aliyuncs.com", serviceName: "Ecs"},
	"resourcemanager": {source: "acs.resourcemanager", typ: "resourcemanager:ActionTrail:ApiCall",
		eventSource: "resourcemanager.aliyuncs.com", serviceName: "ResourceManager", global: true},
	"resourcesharing": {eventSource: "resourcesharing.aliyuncs.com", serviceName: "ResourceManager"},
	"ram":             {eventSource: "ram.aliyuncs.com", serviceName: "Ram", global: true},
	"eventbridge":     {eventSource: "eventbridge.aliyuncs.com", serviceName: "EventBridge"},
	"mns-open":        {eventSource: "mns-open.aliyuncs.com", serviceName: "Mns"},
}

// trailRecordLocked builds the ActionTrail record of a write (errCode "" = success),
// in the caller's account.
func (c *Cloud) trailRecordLocked(x *exec, errCode, errMsg string) (string, map[string]any) {
	r := x.req
	svc, ok := services[r.product]
	if !ok {
		svc = service{eventSource: c.host(r.product), serviceName: r.product}
	}
	region := x.region
	if region == "" {
		region = "cn-hangzhou" // global calls without a region are logged in the central region
	}
	acc := x.caller.AccountID
	resp := x.respElems
	if resp == nil {
		resp = map[string]any{"RequestId": x.reqID}
	}
	if errCode != "" {
		resp = nil
	}
	sourceIP, agent := r.sourceIP, r.userAgent
	if sourceIP == "" {
		sourceIP = "127.0.0.1"
	}
	if agent == "" {
		agent = "AlibabaCloud (console)"
	}
	userName := x.caller.UserName
	if x.caller.Type == "root-account" || x.caller.Type == "" {
		userName = "root"
	}
	identityType := x.caller.Type
	if identityType == "" {
		identityType = "root-account"
	}
	version, _ := c.version(r.product)
	data := map[string]any{
		"eventId": eventID(), "eventVersion": 1, "eventName": r.action, "eventType": "ApiCall", "eventRW": "Write",
		"eventSource": svc.eventSource, "serviceName": svc.serviceName, "apiVersion": version,
		"acsRegion": region, "isGlobal": svc.global, "requestId": x.reqID,
		"requestParameters": maps.Clone(r.params), "responseElements": resp,
		"userIdentity": map[string]any{"type": identityType, "principalId": x.caller.PrincipalID, "accountId": acc,
			"userName": userName, "arn": x.caller.ARN(), "accessKeyId": x.caller.AccessKeyID},
		"sourceIpAddress": sourceIP, "userAgent": agent, "eventTime": ecsTime(x.now),
	}
	if errCode != "" {
		data["errorCode"], data["errorMessage"] = errCode, errMsg
	}
	return acc, data
}

// actionTrailEvent is the CloudEvent an ECS or Resource Management record is delivered
// as on the caller's bus.
func actionTrailEvent(x *exec, acc string, data map[string]any) Event {
	r := x.req
	svc := services[r.product]
	region, _ := data["acsRegion"].(string)
	resp, _ := data["responseElements"].(map[string]any)
	body := map[string]any{
		"specversion": "1.0", "id": eventID(), "source": svc.source, "type": svc.typ,
		"subject": subject(r.product, region, acc, r.params, resp), "time": x.now.UTC().Format(time.RFC3339),
		"datacontenttype": "application/json;charset=utf-8", "aliyunaccountid": acc, "aliyunpublishtime": publishTime(x.now),
		"aliyuneventbusname": "default", "aliyunregionid": region, "aliyunpublishaddr": "127.0.0.1", "data": data,
	}
	return Event{Bus: acc, Body: mustJSON(body)}
}

// subject names the resource an ActionTrail event is about.
func subject(product, region, acc string, params map[string]string, resp map[string]any) string {
	if product == "resourcemanager" {
		for _, k := range []string{"AccountId", "TargetEntity"} {
			if v := params[k]; v != "" {
				return "acs:resourcemanager::" + acc + ":account/" + v
			}
		}
		if v := params["HandshakeId"]; v != "" {
			return "acs:resourcemanager::" + acc + ":handshake/" + v
		}
		return "acs:resourcemanager::" + acc + ":resourcedirectory"
	}
	id := params["ImageId"]
	for _, k := range []string{"ResourceId.1", "ResourceId"} {
		if id == "" {
			id = params[k]
		}
	}
	if v, ok := resp["ImageId"].(string); ok && id == "" {
		id = v
	}
	if id == "" {
		id = "*"
	}
	return "acs:ecs:" + region + ":" + acc + ":image/" + id
}

// associationEventsLocked tells each target account of a share about a change of an
// association: for a target association, about every resource of the share; for a
// resource association, every account target.
func (c *Cloud) associationEventsLocked(s *share, a *assoc, now time.Time) []Event {
	var evs []Event
	if a.Kind == kindTarget {
		if targetType(a.Entity) != "Account" {
			return nil
		}
		for _, r := range slices.Sorted(maps.Keys(s.Resources)) {
			if s.Resources[r].Status == assocAssociated {
				evs = append(evs, assocEvent(s, a.Entity, r, a.Status, now))
			}
		}
		return evs
	}
	for _, t := range slices.Sorted(maps.Keys(s.Targets)) {
		if targetType(t) == "Account" && s.Targets[t].Status == assocAssociated {
			evs = append(evs, assocEvent(s, t, a.Entity, a.Status, now))
		}
	}
	return evs
}

// assocEvent is resourcemanager:ResourceSharing:AssociationStatusChange on the target's bus.
func assocEvent(s *share, target, resource, status string, now time.Time) Event {
	op := "Associate"
	if status == assocDisassociating || status == assocDisassociated {
		op = "Disassociate"
	}
	body := map[string]any{
		"specversion": "1.0", "id": eventID(), "source": "acs.resourcemanager",
		"type":    "resourcemanager:ResourceSharing:AssociationStatusChange",
		"subject": "acs:resourcesharing:" + s.Region + ":" + s.Owner + ":resourceshare/" + s.ID,
		"time":    now.UTC().Format(time.RFC3339), "datacontenttype": "application/json;charset=utf-8",
		"aliyunaccountid": target, "aliyunpublishtime": publishTime(now), "aliyuneventbusname": "default",
		"aliyunregionid": s.Region, "aliyunpublishaddr": "127.0.0.1",
		"data": map[string]any{"resourceShareId": s.ID, "resourceOwnerAccountId": s.Owner, "targetAccountId": target,
			"serviceName": "ECS", "resourceType": "Image", "resourceId": resource, "associationStatus": status,
			"associateType": op},
	}
	return Event{Bus: target, Body: mustJSON(body)}
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic("cloudsim: marshal event: " + err.Error()) // only maps of plain values reach here
	}
	return b
}
