// Package actiontrail emulates ActionTrail's event history and its LookupEvents
// (ActionTrail 2020-07-06, RPC): every write the emulated cloud performs is recorded in
// the writer's account, as the ActionTrail record the cloud also puts on the event bus;
// LookupEvents lists an account's records, filtered, ordered and paged as the reference
// says. It keeps the history; package cloudsim records into it (Config.Trail) and serves
// LookupEvents through its RPC wire (signatures, RAM, call records, error catalogue).
//
// References:
//   - LookupEvents: https://www.alibabacloud.com/help/en/actiontrail/developer-reference/api-actiontrail-2020-07-06-lookupevents
//     (StartTime/EndTime YYYY-MM-DDThh:mm:ssZ in UTC, both or neither, 7 days before now
//     to now by default; MaxResults 1–50; Direction FORWARD | BACKWARD, BACKWARD by
//     default; NextToken with the previous request's parameters, absent on the last
//     page; "at most two calls a second"; error codes InvalidParameterStartTime,
//     InvalidParameterEndTime, InvalidParameterCombination, InvalidQueryParameter).
//     The API metadata behind the page is in dew-serverless/acs-sdk-php,
//     data/actiontrail/2020-07-06/api-docs.json.
//   - LookupAttribute: https://www.alibabacloud.com/help/en/actiontrail/support/how-to-set-the-lookupattribute-parameter
//     (the keys; exact, case-sensitive matches; two conditions are ANDed; of two with
//     the same key the second counts; beyond two only the first two count).
//   - 90 days of history: https://www.alibabacloud.com/help/doc-detail/41920.htm.
//   - Global events (Resource Directory, RAM) are stored in one region per account:
//     https://www.alibabacloud.com/help/en/actiontrail/developer-reference/api-actiontrail-2020-07-06-getglobaleventsstorageregion
//     (ap-southeast-1 or cn-hangzhou; the international site's page says Singapore by
//     default, the China site's Hangzhou: UNVERIFIED which a given account has, so it
//     is a setting of the emulation, Singapore by default).
package actiontrail

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"maps"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"imageshare/pkg/cloudsim/emu"
)

// Reference pages.
const (
	lookupRef = "https://www.alibabacloud.com/help/en/actiontrail/developer-reference/api-actiontrail-2020-07-06-lookupevents"
	attrRef   = "https://www.alibabacloud.com/help/en/actiontrail/support/how-to-set-the-lookupattribute-parameter"
)

// Limits and defaults of LookupEvents (lookupRef unless said).
const (
	// DefaultGlobalRegion is where an account's global events are listed unless
	// SetGlobalRegion says otherwise.
	DefaultGlobalRegion = "ap-southeast-1"
	// Retention: events of the last 90 days are kept (doc-detail/41920).
	Retention = 90 * 24 * time.Hour
	// DefaultWindow: without StartTime and EndTime, the last 7 days.
	DefaultWindow = 7 * 24 * time.Hour
	// MaxResults is the most events a page holds; DefaultMaxResults the page size when
	// MaxResults is left out (the page gives 20 as its example; the default is not
	// stated: UNVERIFIED).
	MaxResults        = 50
	DefaultMaxResults = 20
	// Rate is how many calls an account may make a second ("at most twice per second").
	Rate = 2.0
)

// timeRE is the documented format of StartTime and EndTime.
var timeRE = regexp.MustCompile(`^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$`)

// Keys are the LookupAttribute keys the reference documents, each with the record
// field it matches.
var Keys = []string{"ServiceName", "EventName", "User", "EventId", "ResourceType", "ResourceName", "EventRW",
	"EventAccessKeyId", "SensitiveAction", "SourceIpAddress", "EventType", "RoleName"}

// Config configures a Trail.
type Config struct {
	// Now is the emulated clock (when events happen and are listed).
	Now func() time.Time
	// Region is the region of the endpoint the service answers as (default
	// DefaultGlobalRegion): LookupEvents lists the regional events of that region, and
	// the global events of the accounts whose global events are stored there.
	Region string
	// LookupDelay: a global event is listed this long after it happened (default 0).
	LookupDelay time.Duration
	// Wall is the real clock (default time.Now). The flow control counts the time that
	// passed on both clocks: a sandbox's emulated clock stands still while a function
	// runs (its calls are spaced in real time) and leaps between invocations (minutes
	// pass in milliseconds).
	Wall func() time.Time
	// Rate overrides Rate (calls a second per account); a negative rate: no limit.
	Rate float64
}

// Trail is the emulated ActionTrail of every account. Safe for concurrent use.
type Trail struct {
	cfg Config

	mu      sync.Mutex
	seq     int
	events  map[string][]*record // by account, in the order recorded
	global  map[string]string    // account → region of its global events
	buckets map[string]*bucket   // flow control, by account
}

type record struct {
	seq    int
	at     time.Time // eventTime
	listed time.Time // when LookupEvents lists it
	region string    // the region that lists it
	data   map[string]any
}

type bucket struct {
	tokens         float64
	lastEmu, lastW time.Time
}

// New returns an empty Trail.
func New(cfg Config) *Trail {
	if cfg.Now == nil {
		cfg.Now = func() time.Time { return time.Now().UTC() }
	}
	if cfg.Wall == nil {
		cfg.Wall = time.Now
	}
	if cfg.Region == "" {
		cfg.Region = DefaultGlobalRegion
	}
	if cfg.Rate == 0 {
		cfg.Rate = Rate
	}
	return &Trail{cfg: cfg, events: map[string][]*record{}, global: map[string]string{}, buckets: map[string]*bucket{}}
}

// Region returns the region the service answers as.
func (t *Trail) Region() string { return t.cfg.Region }

// SetGlobalRegion sets where an account's global events are listed
// (UpdateGlobalEventsStorageRegion: ap-southeast-1 or cn-hangzhou).
func (t *Trail) SetGlobalRegion(account, region string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.global[account] = region
}

func (t *Trail) globalRegionLocked(account string) string {
	if r, ok := t.global[account]; ok {
		return r
	}
	return DefaultGlobalRegion
}

// Record files an ActionTrail record in account's history. data is the record as the
// event bus carries it (eventId, eventName, eventTime, acsRegion, isGlobal, …): a
// global event is listed in the account's global-events region LookupDelay after its
// eventTime, a regional one in its acsRegion at once.
func (t *Trail) Record(account string, data map[string]any) {
	at, _ := time.Parse(time.RFC3339, str(data, "eventTime"))
	if at.IsZero() {
		at = t.cfg.Now()
	}
	global, _ := data["isGlobal"].(bool)
	t.mu.Lock()
	defer t.mu.Unlock()
	t.seq++
	r := &record{seq: t.seq, at: at.UTC(), listed: at.UTC(), region: str(data, "acsRegion"), data: maps.Clone(data)}
	if global {
		r.region, r.listed = t.globalRegionLocked(account), r.at.Add(t.cfg.LookupDelay)
	}
	t.events[account] = append(t.events[account], r)
}

// Count returns how many records account's history holds (listed or not yet).
func (t *Trail) Count(account string) int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.events[account])
}

var _ emu.Service = (*Trail)(nil)

// Product implements emu.Service.
func (*Trail) Product() string { return "actiontrail" }

// Version implements emu.Service.
func (*Trail) Version() string { return "2020-07-06" }

// Host implements emu.Service: the regional endpoint (the API's endpoint list gives
// actiontrail.<region>.aliyuncs.com for the public regions).
func (t *Trail) Host() string { return "actiontrail." + t.cfg.Region + ".aliyuncs.com" }

func queryInvalid() *emu.APIError {
	return emu.Errorf(400, "InvalidQueryParameter", "The specified query parameter is invalid.")
}

// Actions implements emu.Service.
func (t *Trail) Actions() map[string]emu.Action {
	return map[string]emu.Action{
		"LookupEvents": {Source: lookupRef, Do: t.lookupEvents, Params: []emu.Param{
			{Name: "StartTime", Pattern: timeRE, Invalid: emu.Errorf(400, "InvalidParameterStartTime", "The specified StartTime is invalid.")},
			{Name: "EndTime", Pattern: timeRE, Invalid: emu.Errorf(400, "InvalidParameterEndTime", "The specified EndTime is invalid.")},
			{Name: "MaxResults", Kind: emu.PInt, Min: 1, Max: MaxResults, Invalid: queryInvalid()},
			{Name: "Direction", Enum: []string{"FORWARD", "BACKWARD"}, Invalid: queryInvalid()},
		}},
	}
}

// allow takes one call of account from its bucket (Rate a second, a burst of Rate),
// refilled by the time that passed on the emulated and on the real clock.
func (t *Trail) allow(account string, emuNow time.Time) bool {
	if t.cfg.Rate < 0 {
		return true
	}
	wall := t.cfg.Wall()
	t.mu.Lock()
	defer t.mu.Unlock()
	b := t.buckets[account]
	if b == nil {
		b = &bucket{tokens: t.cfg.Rate, lastEmu: emuNow, lastW: wall}
		t.buckets[account] = b
	}
	passed := max(emuNow.Sub(b.lastEmu), 0) + max(wall.Sub(b.lastW), 0)
	b.tokens = min(t.cfg.Rate, b.tokens+passed.Seconds()*t.cfg.Rate)
	b.lastEmu, b.lastW = emuNow, wall
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

// query is one LookupEvents request, read and checked.
type query struct {
	start, end time.Time
	attrs      [][2]string // key, value; at most two
	max        int
	forward    bool
	// key identifies the request without its NextToken, so that a token is used only
	// with the parameters it was made for.
	key string
}

// cursor is where a page ended: the last event listed.
type cursor struct {
	Key string `json:"k"`
	At  int64  `json:"t"`
	Seq int    `json:"s"`
}

func (t *Trail) lookupEvents(c *emu.Call) (map[string]any, *emu.APIError) {
	// Flow control first, as the gateway answers it before the service reads anything:
	// "at most two calls a second" (lookupRef); the page names no code for it, and
	// Throttling.User is the gateway's code for flow control (emu.Catalogue).
	if !t.allow(c.Caller.AccountID, c.Now) {
		return nil, emu.Errorf(400, "Throttling.User", "Request was denied due to user flow control.")
	}
	q, err := readQuery(c)
	if err != nil {
		return nil, err
	}
	var after *cursor
	if tok := c.P("NextToken"); tok != "" {
		b, derr := base64.RawURLEncoding.DecodeString(tok)
		var cur cursor
		if derr != nil || json.Unmarshal(b, &cur) != nil || cur.Key != q.key {
			// The reference: "the request parameters must be the same as those of the
			// previous request"; its answer to a token that is not is not documented.
			return nil, queryInvalid()
		}
		after = &cur
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	now := c.Now
	var hits []*record
	for _, r := range t.events[c.Caller.AccountID] {
		// Listed where and once the reference says (global events: GetGlobalEventsStorageRegion),
		// within the 90 days of history (doc-detail/41920) and the time range (lookupRef).
		if r.region != t.cfg.Region || r.listed.After(now) || now.Sub(r.at) > Retention || r.at.Before(q.start) || r.at.After(q.end) {
			continue
		}
		if matches(r.data, q.attrs) {
			hits = append(hits, r)
		}
	}
	// Direction: BACKWARD (the default) newest first, FORWARD oldest first (lookupRef).
	sort.Slice(hits, func(i, j int) bool {
		a, b := hits[i], hits[j]
		if !a.at.Equal(b.at) {
			return a.at.Before(b.at) == q.forward
		}
		return (a.seq < b.seq) == q.forward
	})
	if after != nil {
		at := time.Unix(0, after.At).UTC()
		i := sort.Search(len(hits), func(i int) bool {
			r := hits[i]
			if q.forward {
				return r.at.After(at) || (r.at.Equal(at) && r.seq > after.Seq)
			}
			return r.at.Before(at) || (r.at.Equal(at) && r.seq < after.Seq)
		})
		hits = hits[i:]
	}
	out := map[string]any{"StartTime": q.start.Format(time.RFC3339), "EndTime": q.end.Format(time.RFC3339)}
	page := hits[:min(len(hits), q.max)]
	evs := make([]any, len(page))
	for i, r := range page {
		evs[i] = maps.Clone(r.data)
	}
	out["Events"] = evs
	// NextToken only when more remain: "if there are no more results, this field is not
	// returned" (lookupRef).
	if len(hits) > len(page) {
		last := page[len(page)-1]
		b, _ := json.Marshal(cursor{Key: q.key, At: last.at.UnixNano(), Seq: last.seq})
		out["NextToken"] = base64.RawURLEncoding.EncodeToString(b)
	}
	return out, nil
}

// readQuery reads what the contract does not check: the time range (both or neither,
// the end after the start), the lookup conditions and the defaults.
func readQuery(c *emu.Call) (query, *emu.APIError) {
	q := query{max: DefaultMaxResults}
	s, e := c.P("StartTime"), c.P("EndTime")
	switch {
	case s == "" && e == "":
		// The defaults: "7 days before the current time" to the current time (lookupRef).
		q.end = c.Now.UTC().Truncate(time.Second)
		q.start = q.end.Add(-DefaultWindow)
	case s == "" || e == "":
		// "You must specify both StartTime and EndTime, or leave both unspecified"; the
		// code of the answer is not documented.
		return q, queryInvalid()
	default:
		var err error
		if q.start, err = time.Parse(time.RFC3339, s); err != nil {
			return q, emu.Errorf(400, "InvalidParameterStartTime", "The specified StartTime is invalid.")
		}
		if q.end, err = time.Parse(time.RFC3339, e); err != nil {
			return q, emu.Errorf(400, "InvalidParameterEndTime", "The specified EndTime is invalid.")
		}
		if !q.end.After(q.start) { // lookupRef's InvalidParameterCombination
			return q, emu.Errorf(400, "InvalidParameterCombination", "The end time must be later than the start time.")
		}
	}
	if v := c.P("MaxResults"); v != "" {
		q.max, _ = strconv.Atoi(v) // the contract checked it
	}
	q.forward = c.P("Direction") == "FORWARD"
	attrs, err := readAttributes(c.Params)
	if err != nil {
		return q, err
	}
	q.attrs = attrs
	h := sha256.New()
	for _, k := range slices.Sorted(maps.Keys(c.Params)) {
		if k != "NextToken" {
			h.Write([]byte(k + "=" + c.Params[k] + "\x00"))
		}
	}
	q.key = hex.EncodeToString(h.Sum(nil))[:16]
	return q, nil
}

// readAttributes reads LookupAttribute.N.Key/Value in N order (attrRef): a condition
// needs a documented key and a value; of two with the same key the later one counts,
// and only the first two conditions count.
func readAttributes(params map[string]string) ([][2]string, *emu.APIError) {
	type item struct {
		n          int
		key, value string
	}
	byN := map[int]*item{}
	for k, v := range params {
		rest, ok := strings.CutPrefix(k, "LookupAttribute.")
		if !ok {
			continue
		}
		ns, field, ok := strings.Cut(rest, ".")
		n, err := strconv.Atoi(ns)
		if !ok || err != nil || n < 1 || (field != "Key" && field != "Value") {
			return nil, queryInvalid()
		}
		it := byN[n]
		if it == nil {
			it = &item{n: n}
			byN[n] = it
		}
		if field == "Key" {
			it.key = v
		} else {
			it.value = v
		}
	}
	var items []*item
	for _, it := range byN {
		items = append(items, it)
	}
	sort.Slice(items, func(i, j int) bool { return items[i].n < items[j].n })
	if len(items) > 2 {
		items = items[:2] // "the system queries data only based on the first two conditions"
	}
	var out [][2]string
	for _, it := range items {
		if !slices.Contains(Keys, it.key) || it.value == "" {
			return nil, queryInvalid()
		}
		if i := slices.IndexFunc(out, func(a [2]string) bool { return a[0] == it.key }); i >= 0 {
			out[i][1] = it.value // "returns only the results that match the second condition"
			continue
		}
		out = append(out, [2]string{it.key, it.value})
	}
	return out, nil
}

// matches reports whether a record meets every condition (exact and case-sensitive).
func matches(data map[string]any, attrs [][2]string) bool {
	for _, a := range attrs {
		if !slices.Contains(fieldValues(data, a[0]), a[1]) {
			return false
		}
	}
	return true
}

// fieldValues are the values of a record a key matches.
func fieldValues(data map[string]any, key string) []string {
	id, _ := data["userIdentity"].(map[string]any)
	switch key {
	case "ServiceName":
		return []string{str(data, "serviceName")}
	case "EventName":
		return []string{str(data, "eventName")}
	case "EventId":
		return []string{str(data, "eventId")}
	case "EventRW":
		return []string{str(data, "eventRW")}
	case "EventType":
		return []string{str(data, "eventType")}
	case "SourceIpAddress":
		return []string{str(data, "sourceIpAddress")}
	case "User":
		return []string{str(id, "userName")}
	case "EventAccessKeyId":
		return []string{str(id, "accessKeyId")}
	case "RoleName":
		// acs:ram::<uid>:assumed-role/<role>/<session>
		if _, rest, ok := strings.Cut(str(id, "arn"), ":assumed-role/"); ok {
			role, _, _ := strings.Cut(rest, "/")
			return []string{role}
		}
	case "SensitiveAction":
		if b, ok := data["sensitiveAction"].(bool); ok {
			return []string{strconv.FormatBool(b)}
		}
	case "ResourceType", "ResourceName":
		// referencedResources: {"ACS::ECS::Instance": ["i-…"], …}
		refs, _ := data["referencedResources"].(map[string]any)
		var out []string
		for typ, names := range refs {
			if key == "ResourceType" {
				out = append(out, typ)
				continue
			}
			list, _ := names.([]any)
			for _, n := range list {
				if s, ok := n.(string); ok {
					out = append(out, s)
				}
			}
		}
		return out
	}
	return nil
}

func str(m map[string]any, key string) string {
	s, _ := m[key].(string)
	return s
}
