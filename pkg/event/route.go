package event

import (
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// ImageEventNames are the ECS API calls image-events acts on (docs/architecture.md).
var ImageEventNames = []string{"CreateImage", "CopyImage", "ImportImage", "TagResources", "UntagResources",
	"AddTags", "RemoveTags", "ModifyImageSharePermission", "DeleteImage"}

// OrgEventNames are the Resource Management calls that can change who a folder or the
// directory reaches, or which folders exist.
var OrgEventNames = []string{"CreateResourceAccount", "CreateCloudAccount", "InviteAccountToResourceDirectory",
	"AcceptHandshake", "CancelHandshake", "DeclineHandshake", "MoveAccount", "RemoveCloudAccount", "DeleteAccount",
	"CreateFolder", "DeleteFolder", "InitResourceDirectory", "DestroyResourceDirectory"}

// Skip says why an event is acknowledged without a job. It is not an error: unrelated
// events are expected on a shared bus.
type Skip struct{ Reason string }

func (s *Skip) Error() string { return "skipped: " + s.Reason }

// Filter drops what must not cause work: events that are not ActionTrail API calls or
// console operations, failed calls (errorCode), calls by the functions' own role, and
// API names outside names.
func Filter(ev CloudEvent, at ActionTrail, names []string, ownRole string) error {
	if !strings.HasSuffix(ev.Type, ":ActionTrail:ApiCall") && !strings.HasSuffix(ev.Type, ":ActionTrail:ConsoleOperation") {
		return &Skip{Reason: "not an ActionTrail API call or console operation"}
	}
	if at.ErrorCode != "" {
		return &Skip{Reason: "the call failed (" + clip(at.ErrorCode) + ")"}
	}
	if ownRole != "" && at.UserIdentity.RoleName() == ownRole {
		return &Skip{Reason: "caused by the functions' own role"}
	}
	if !slices.Contains(names, at.EventName) {
		return &Skip{Reason: "not an API call imageshare acts on"}
	}
	return nil
}

// Target is what an event asks to look at: some images of a region, or (Images nil)
// every managed image of the region.
type Target struct {
	Region string
	Images []string
}

// ImageTarget reads which images of which region an ECS event names.
func ImageTarget(ev CloudEvent, at ActionTrail) (Target, error) {
	fail := func(reason string) (Target, error) {
		return Target{}, &Error{ID: ev.ID, Type: ev.Type, EventName: at.EventName, Reason: reason}
	}
	req, resp := at.RequestParameters, at.ResponseElements
	region := firstString(str(req, "RegionId"), at.AcsRegion, ev.AliyunRegionID)
	if at.EventName == "CopyImage" {
		region = str(req, "DestinationRegionId")
		if region == "" {
			return fail("CopyImage without requestParameters.DestinationRegionId")
		}
	}
	if !IsRegionID(region) {
		return fail(fmt.Sprintf("no usable region (got %q)", clip(region)))
	}
	var ids []string
	switch at.EventName {
	case "CreateImage", "CopyImage", "ImportImage":
		// The new image's ID is only in the response; without it, look at the region.
		if id := str(resp, "ImageId"); id != "" {
			ids = []string{id}
		}
	case "TagResources", "UntagResources", "AddTags", "RemoveTags":
		if rt := str(req, "ResourceType"); !strings.EqualFold(rt, "image") {
			return Target{}, &Skip{Reason: fmt.Sprintf("tags of resource type %q, not image", clip(rt))}
		}
		ids = resourceIDs(req)
		if len(ids) == 0 {
			return fail("no ResourceId in requestParameters")
		}
	default:
		ids = splitIDs(str(req, "ImageId"))
		if len(ids) == 0 {
			return fail("no ImageId in requestParameters")
		}
	}
	for _, id := range ids {
		if !IsImageID(id) {
			return fail(fmt.Sprintf("%q is not an image ID", clip(id)))
		}
	}
	sort.Strings(ids)
	return Target{Region: region, Images: slices.Compact(ids)}, nil
}

// resourceIDs collects ResourceId.N (flattened), ResourceId (legacy single value) and
// ResourceId as a JSON array.
func resourceIDs(req map[string]any) []string {
	var ids []string
	type kv struct {
		n  int
		id string
	}
	var numbered []kv
	for k, v := range req {
		if !strings.HasPrefix(k, "ResourceId.") {
			continue
		}
		n, err := strconv.Atoi(strings.TrimPrefix(k, "ResourceId."))
		if s, ok := v.(string); ok && err == nil {
			numbered = append(numbered, kv{n, s})
		}
	}
	sort.Slice(numbered, func(i, j int) bool { return numbered[i].n < numbered[j].n })
	for _, e := range numbered {
		ids = append(ids, e.id)
	}
	switch v := req["ResourceId"].(type) {
	case string:
		ids = append(ids, splitIDs(v)...)
	case []any:
		for _, e := range v {
			if s, ok := e.(string); ok {
				ids = append(ids, s)
			}
		}
	}
	return ids
}

func splitIDs(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func str(m map[string]any, key string) string {
	if s, ok := m[key].(string); ok {
		return strings.TrimSpace(s)
	}
	return ""
}

func firstString(xs ...string) string {
	for _, x := range xs {
		if x != "" {
			return x
		}
	}
	return ""
}

// OrgChange is what an org event asks for: look at every managed image, and, for an
// invitation, follow the handshake until it ends.
type OrgChange struct {
	Invitation bool
	Handshake  string // h-… when the response carries it
	Account    string
}

// ReadOrgChange reads an org event (after Filter).
func ReadOrgChange(at ActionTrail) OrgChange {
	c := OrgChange{Invitation: at.EventName == "InviteAccountToResourceDirectory"}
	if h, ok := at.ResponseElements["Handshake"].(map[string]any); ok {
		c.Handshake = str(h, "HandshakeId")
	}
	c.Account = firstString(str(at.RequestParameters, "TargetEntity"), str(at.RequestParameters, "AccountId"))
	return c
}

// RemovedTagKeys reads which tag keys an UntagResources or RemoveTags call removed
// (TagKey.N, Tag.N.Key, flattened or as JSON arrays), and whether it removed all tags
// (UntagResources All=true). Other calls remove none.
func RemovedTagKeys(at ActionTrail) (keys []string, all bool) {
	req := at.RequestParameters
	switch at.EventName {
	case "UntagResources":
		switch v := req["All"].(type) {
		case bool:
			all = v
		case string:
			all = strings.EqualFold(strings.TrimSpace(v), "true")
		}
		keys = numbered(req, "TagKey.", "")
		if arr, ok := req["TagKey"].([]any); ok {
			for _, e := range arr {
				if s, ok := e.(string); ok {
					keys = append(keys, s)
				}
			}
		}
	case "RemoveTags":
		keys = numbered(req, "Tag.", ".Key")
		if arr, ok := req["Tag"].([]any); ok {
			for _, e := range arr {
				if m, ok := e.(map[string]any); ok {
					if s, ok := m["Key"].(string); ok {
						keys = append(keys, s)
					}
				}
			}
		}
	}
	return keys, all
}

// numbered collects the string values of keys prefix+N+suffix in N order.
func numbered(req map[string]any, prefix, suffix string) []string {
	type kv struct {
		n int
		v string
	}
	var got []kv
	for k, v := range req {
		rest, ok := strings.CutPrefix(k, prefix)
		if !ok {
			continue
		}
		rest, ok = strings.CutSuffix(rest, suffix)
		n, err := strconv.Atoi(rest)
		if s, isStr := v.(string); ok && isStr && err == nil {
			got = append(got, kv{n, s})
		}
	}
	sort.Slice(got, func(i, j int) bool { return got[i].n < got[j].n })
	out := make([]string, len(got))
	for i, e := range got {
		out[i] = e.v
	}
	return out
}
