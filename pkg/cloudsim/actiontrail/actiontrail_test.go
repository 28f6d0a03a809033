package actiontrail_test

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aliyun/alibaba-cloud-sdk-go/sdk"
	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/auth/credentials"
	sdkerrors "github.com/aliyun/alibaba-cloud-sdk-go/sdk/errors"
	"github.com/aliyun/alibaba-cloud-sdk-go/services/actiontrail"

	"imageshare/pkg/cloudsim"
	emutrail "imageshare/pkg/cloudsim/actiontrail"
	"imageshare/pkg/cloudsim/emu"
)

// The emulated ActionTrail through the classic SDK's actiontrail client and the RPC
// wire of the emulated cloud (signatures, RAM and the error catalogue apply).

const (
	owner  = "1000000000000001"
	member = "1000000000000002"
	other  = "1000000000000003"
	dirID  = "rd-Ab12Cd"
	rootID = "r-Ab12Cd"
	prod   = "fd-Prod000001"
	dev    = "fd-Dev0000001"
)

// wallClock is a flow-control clock the test moves by hand.
type wallClock struct {
	mu sync.Mutex
	t  time.Time
}

func (w *wallClock) now() time.Time {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.t
}

func (w *wallClock) add(d time.Duration) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.t = w.t.Add(d)
}

type env struct {
	t     *testing.T
	clock *emu.Clock
	wall  *wallClock
	keys  *emu.Keyring
	cloud *cloudsim.Cloud
	trail *emutrail.Trail
	eps   map[string]string
	root  emu.Identity
}

// newEnv serves a cloud whose ActionTrail endpoint answers as region, with a directory
// managed by owner (member in prod, other in dev).
func newEnv(t *testing.T, region string, delay time.Duration) *env {
	t.Helper()
	e := &env{t: t, clock: emu.NewClock(emu.Epoch), wall: &wallClock{t: time.Unix(1_700_000_000, 0)}, keys: emu.NewKeyring()}
	e.trail = emutrail.New(emutrail.Config{Now: e.clock.Now, Region: region, LookupDelay: delay, Wall: e.wall.now})
	e.cloud = cloudsim.New(cloudsim.Config{Clock: e.clock, Keys: e.keys, Services: []emu.Service{e.trail}, Trail: e.trail})
	eps, stop, err := e.cloud.Serve()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop)
	t.Cleanup(func() {
		for _, u := range e.cloud.Unlisted() {
			t.Errorf("unlisted answer: %s", u)
		}
	})
	e.eps = eps
	c := e.cloud
	for _, a := range []string{owner, member, other} {
		c.AddAccount(a, "china")
	}
	c.SetDirectory(cloudsim.DirectorySpec{ID: dirID, RootID: rootID, Master: owner, SharingEnabled: true})
	c.AddFolder(prod, "prod", rootID)
	c.AddFolder(dev, "dev", rootID)
	c.AddMember(member, prod)
	c.AddMember(other, dev)
	e.root = emu.Identity{AccountID: owner, Type: "root-account", PrincipalID: owner}
	return e
}

// move is a person's MoveAccount (a Resource Directory write: a global event).
func (e *env) move(account, to string) {
	e.t.Helper()
	if _, _, err := e.cloud.Call(e.root, "resourcemanager", "MoveAccount", map[string]string{"AccountId": account, "DestinationFolderId": to}); err != nil {
		e.t.Fatalf("MoveAccount: %v", err)
	}
}

// client is the SDK's ActionTrail client with cred, pointed at the emulated endpoint.
func (e *env) client(cred emu.Credential) *actiontrail.Client {
	e.t.Helper()
	cfg := sdk.NewConfig().WithAutoRetry(false).WithTimeout(5 * time.Second)
	cfg.Scheme = "http"
	var c *actiontrail.Client
	var err error
	if cred.SecurityToken != "" {
		c, err = actiontrail.NewClientWithOptions("ap-southeast-1", cfg, credentials.NewStsTokenCredential(cred.AccessKeyID, cred.AccessKeySecret, cred.SecurityToken))
	} else {
		c, err = actiontrail.NewClientWithOptions("ap-southeast-1", cfg, credentials.NewAccessKeyCredential(cred.AccessKeyID, cred.AccessKeySecret))
	}
	if err != nil {
		e.t.Fatal(err)
	}
	u, _ := url.Parse(e.eps["actiontrail"])
	c.Domain = u.Host
	return c
}

type lookup struct {
	start, end, token, max, direction string
	attrs                             [][2]string
}

func (e *env) lookup(c *actiontrail.Client, q lookup) (*actiontrail.LookupEventsResponse, error) {
	req := actiontrail.CreateLookupEventsRequest()
	req.Scheme = "http"
	req.StartTime, req.EndTime, req.NextToken, req.MaxResults, req.Direction = q.start, q.end, q.token, q.max, q.direction
	if len(q.attrs) > 0 {
		as := make([]actiontrail.LookupEventsLookupAttribute, len(q.attrs))
		for i, a := range q.attrs {
			as[i] = actiontrail.LookupEventsLookupAttribute{Key: a[0], Value: a[1]}
		}
		req.LookupAttribute = &as
	}
	return c.LookupEvents(req)
}

func code(err error) string {
	var se *sdkerrors.ServerError
	if errors.As(err, &se) {
		return se.ErrorCode()
	}
	return ""
}

func names(resp *actiontrail.LookupEventsResponse) []string {
	var out []string
	for _, ev := range resp.Events {
		out = append(out, fmt.Sprint(ev["eventName"]))
	}
	return out
}

const (
	startOfDay = "2026-01-01T00:00:00Z"
	endOfDay   = "2026-01-01T23:59:59Z"
)

var rdWrites = [][2]string{{"ServiceName", "ResourceManager"}, {"EventRW", "Write"}}

// A Resource Directory write is a global event: listed by the global-events region's
// endpoint only, in the writer's account, with the record the bus carries (userIdentity
// included); an ECS write is listed in its own region.
func TestWritesAreRecordedWhereTheReferenceListsThem(t *testing.T) {
	e := newEnv(t, "ap-southeast-1", 0)
	e.move(member, dev)
	if _, _, err := e.cloud.Call(e.root, "ecs", "TagResources", map[string]string{"RegionId": "cn-hangzhou", "ResourceType": "image",
		"ResourceId.1": "m-Nope00000001", "Tag.1.Key": "k", "Tag.1.Value": "v"}); err == nil {
		t.Fatal("TagResources of a missing image succeeded")
	}
	c := e.client(e.keys.AccessKey(owner))
	resp, err := e.lookup(c, lookup{start: startOfDay, end: endOfDay})
	if err != nil {
		t.Fatal(err)
	}
	if got := names(resp); len(got) != 1 || got[0] != "MoveAccount" {
		t.Fatalf("Singapore lists %v, want the MoveAccount alone (the ECS write is cn-hangzhou's)", got)
	}
	ev := resp.Events[0]
	id, _ := ev["userIdentity"].(map[string]any)
	if ev["serviceName"] != "ResourceManager" || ev["eventRW"] != "Write" || ev["isGlobal"] != true || id["accountId"] != owner ||
		ev["eventId"] == "" || ev["eventTime"] != "2026-01-01T00:00:00Z" || resp.StartTime != startOfDay || resp.EndTime != endOfDay || resp.NextToken != "" {
		t.Fatalf("record %v, page %+v", ev, resp)
	}
	// Another account's history is its own.
	if resp, err := e.lookup(e.client(e.keys.AccessKey(member)), lookup{start: startOfDay, end: endOfDay}); err != nil || len(resp.Events) != 0 {
		t.Fatalf("the member sees %v, %v", names(resp), err)
	}

	// cn-hangzhou's endpoint lists the ECS write (failed: with its errorCode) and no
	// global event.
	h := newEnv(t, "cn-hangzhou", 0)
	h.move(member, dev)
	if _, _, err := h.cloud.Call(h.root, "ecs", "TagResources", map[string]string{"RegionId": "cn-hangzhou", "ResourceType": "image",
		"ResourceId.1": "m-Nope00000001", "Tag.1.Key": "k", "Tag.1.Value": "v"}); err == nil {
		t.Fatal("TagResources of a missing image succeeded")
	}
	resp, err = h.lookup(h.client(h.keys.AccessKey(owner)), lookup{start: startOfDay, end: endOfDay})
	if err != nil {
		t.Fatal(err)
	}
	if got := names(resp); len(got) != 1 || got[0] != "TagResources" || resp.Events[0]["errorCode"] == nil {
		t.Fatalf("Hangzhou lists %v (%v), want the failed TagResources alone", got, resp.Events)
	}
	// An account whose global events are stored in Hangzhou has them listed there.
	h.trail.SetGlobalRegion(owner, "cn-hangzhou")
	h.move(member, prod)
	resp, err = h.lookup(h.client(h.keys.AccessKey(owner)), lookup{start: startOfDay, end: endOfDay, attrs: rdWrites})
	if err != nil || len(resp.Events) != 1 {
		t.Fatalf("after UpdateGlobalEventsStorageRegion: %v, %v", names(resp), err)
	}
}

// cloud.lookup_delay: a global event is listed only that long after it happened.
func TestGlobalEventsAreListedLate(t *testing.T) {
	e := newEnv(t, "ap-southeast-1", 7*time.Minute)
	e.move(member, dev)
	c := e.client(e.keys.AccessKey(owner))
	e.clock.Advance(6*time.Minute + 59*time.Second)
	if resp, err := e.lookup(c, lookup{start: startOfDay, end: endOfDay}); err != nil || len(resp.Events) != 0 {
		t.Fatalf("before the delay: %v, %v", names(resp), err)
	}
	e.wall.add(time.Second)
	e.clock.Advance(time.Second)
	if resp, err := e.lookup(c, lookup{start: startOfDay, end: endOfDay}); err != nil || len(resp.Events) != 1 {
		t.Fatalf("after the delay: %v, %v", names(resp), err)
	}
	// 90 days of history.
	e.clock.Advance(90*24*time.Hour + time.Minute)
	e.wall.add(time.Second)
	if resp, err := e.lookup(c, lookup{start: startOfDay, end: "2026-04-02T23:59:59Z"}); err != nil || len(resp.Events) != 0 {
		t.Fatalf("after 90 days: %v, %v", names(resp), err)
	}
}

// Pages of MaxResults, newest first by default (BACKWARD), oldest first FORWARD; the
// last page has no NextToken; a token works only with the parameters it came with.
func TestPagingAndDirection(t *testing.T) {
	e := newEnv(t, "ap-southeast-1", 0)
	var want []string
	for i := range 7 {
		to := dev
		if i%2 == 1 {
			to = prod
		}
		e.move(member, to)
		want = append(want, e.clock.Now().Format(time.RFC3339))
		e.clock.Advance(time.Minute)
	}
	c := e.client(e.keys.AccessKey(owner))
	read := func(direction string) []string {
		var got []string
		token := ""
		for page := 0; ; page++ {
			e.wall.add(time.Second)
			resp, err := e.lookup(c, lookup{start: startOfDay, end: endOfDay, max: "3", token: token, direction: direction, attrs: rdWrites})
			if err != nil {
				t.Fatalf("%s page %d: %v", direction, page, err)
			}
			if len(resp.Events) > 3 || (resp.NextToken != "" && len(resp.Events) != 3) {
				t.Fatalf("%s page %d: %d events, token %q", direction, page, len(resp.Events), resp.NextToken)
			}
			for _, ev := range resp.Events {
				got = append(got, fmt.Sprint(ev["eventTime"]))
			}
			if token = resp.NextToken; token == "" {
				if page != 2 {
					t.Fatalf("%s: %d pages, want 3", direction, page+1)
				}
				return got
			}
		}
	}
	if got := read("FORWARD"); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("FORWARD %v, want %v", got, want)
	}
	back := read("")
	for i := range want {
		if back[i] != want[len(want)-1-i] {
			t.Fatalf("BACKWARD (the default) %v, want newest first", back)
		}
	}
	resp, err := e.lookup(c, lookup{start: startOfDay, end: endOfDay, max: "3"})
	if err != nil || resp.NextToken == "" {
		t.Fatalf("first page: %v", err)
	}
	e.wall.add(time.Second)
	if _, err := e.lookup(c, lookup{start: startOfDay, end: endOfDay, max: "2", token: resp.NextToken}); code(err) != "InvalidQueryParameter" {
		t.Fatalf("a token with other parameters: %v", err)
	}
}

// The lookup conditions: the documented keys, exact matches, ANDed; of two with one key
// the second counts; beyond two only the first two count; an unknown key is refused.
func TestLookupAttributes(t *testing.T) {
	e := newEnv(t, "ap-southeast-1", 0)
	e.move(member, dev)
	if _, _, err := e.cloud.Call(e.root, "resourcemanager", "MoveAccount", map[string]string{"AccountId": "9999999999999999", "DestinationFolderId": dev}); err == nil {
		t.Fatal("moving a stranger succeeded")
	}
	c := e.client(e.keys.AccessKey(owner))
	for _, tc := range []struct {
		attrs [][2]string
		want  int
		code  string
	}{
		{rdWrites, 2, ""},
		{[][2]string{{"EventName", "MoveAccount"}}, 2, ""},
		{[][2]string{{"EventName", "moveaccount"}}, 0, ""},
		{[][2]string{{"ServiceName", "Ecs"}, {"EventRW", "Write"}}, 0, ""},
		{[][2]string{{"EventRW", "Read"}, {"EventRW", "Write"}}, 2, ""},
		{[][2]string{{"User", "root"}, {"EventType", "ApiCall"}, {"ServiceName", "Ecs"}}, 2, ""},
		{[][2]string{{"Colour", "blue"}}, 0, "InvalidQueryParameter"},
		{[][2]string{{"ServiceName", ""}}, 0, "InvalidQueryParameter"},
	} {
		e.wall.add(time.Second)
		resp, err := e.lookup(c, lookup{start: startOfDay, end: endOfDay, attrs: tc.attrs})
		if code(err) != tc.code || (err == nil && len(resp.Events) != tc.want) {
			t.Errorf("%v: %v, %v; want %d events, code %q", tc.attrs, resp, err, tc.want, tc.code)
		}
	}
}

// The time range and the other parameters are checked as the reference says, with its
// codes.
func TestRequestIsChecked(t *testing.T) {
	e := newEnv(t, "ap-southeast-1", 0)
	c := e.client(e.keys.AccessKey(owner))
	for _, tc := range []struct {
		q    lookup
		code string
	}{
		{lookup{start: startOfDay}, "InvalidQueryParameter"},
		{lookup{end: endOfDay}, "InvalidQueryParameter"},
		{lookup{start: "2026-01-01 00:00:00", end: endOfDay}, "InvalidParameterStartTime"},
		{lookup{start: startOfDay, end: "2026-01-01T23:59:59+08:00"}, "InvalidParameterEndTime"},
		{lookup{start: "2026-13-01T00:00:00Z", end: endOfDay}, "InvalidParameterStartTime"},
		{lookup{start: endOfDay, end: startOfDay}, "InvalidParameterCombination"},
		{lookup{start: startOfDay, end: startOfDay}, "InvalidParameterCombination"},
		{lookup{start: startOfDay, end: endOfDay, max: "0"}, "InvalidQueryParameter"},
		{lookup{start: startOfDay, end: endOfDay, max: "51"}, "InvalidQueryParameter"},
		{lookup{start: startOfDay, end: endOfDay, direction: "UP"}, "InvalidQueryParameter"},
		{lookup{start: startOfDay, end: endOfDay, token: "not-a-token"}, "InvalidQueryParameter"},
		{lookup{start: startOfDay, end: endOfDay, max: "50", direction: "FORWARD"}, ""},
		{lookup{}, ""},
	} {
		e.wall.add(time.Second)
		if _, err := e.lookup(c, tc.q); code(err) != tc.code {
			t.Errorf("%+v: %v, want %q", tc.q, err, tc.code)
		}
	}
}

// At most two calls a second per account: a third within the second is throttled
// (Throttling.User); another account is not; a second later calls pass again.
func TestTwoCallsASecond(t *testing.T) {
	e := newEnv(t, "ap-southeast-1", 0)
	c := e.client(e.keys.AccessKey(owner))
	q := lookup{start: startOfDay, end: endOfDay}
	for i := range 2 {
		if _, err := e.lookup(c, q); err != nil {
			t.Fatalf("call %d: %v", i+1, err)
		}
	}
	if _, err := e.lookup(c, q); code(err) != "Throttling.User" {
		t.Fatalf("third call in a second: %v", err)
	}
	if _, err := e.lookup(e.client(e.keys.AccessKey(member)), q); err != nil {
		t.Fatalf("another account: %v", err)
	}
	e.wall.add(500 * time.Millisecond)
	if _, err := e.lookup(c, q); err != nil {
		t.Fatalf("half a second later: %v", err)
	}
	if _, err := e.lookup(c, q); code(err) != "Throttling.User" {
		t.Fatalf("again at once: %v", err)
	}
	// Emulated time counts too: a minute later on the emulated clock (no real time
	// passed), the bucket is full again.
	e.clock.Advance(time.Minute)
	for i := range 2 {
		if _, err := e.lookup(c, q); err != nil {
			t.Fatalf("an emulated minute later, call %d: %v", i+1, err)
		}
	}
}

// RAM evaluates LookupEvents as actiontrail:LookupEvents on All Resources: a role
// without it is denied; with it on * allowed; on a narrower resource still denied.
func TestRAM(t *testing.T) {
	e := newEnv(t, "ap-southeast-1", 0)
	q := lookup{start: startOfDay, end: endOfDay}
	for _, tc := range []struct {
		role, policy string
		ok           bool
	}{
		{"none", `{"Version":"1","Statement":[{"Effect":"Allow","Action":"ecs:DescribeImages","Resource":"*"}]}`, false},
		{"star", `{"Version":"1","Statement":[{"Effect":"Allow","Action":"actiontrail:LookupEvents","Resource":"*"}]}`, true},
		{"narrow", `{"Version":"1","Statement":[{"Effect":"Allow","Action":"actiontrail:LookupEvents","Resource":"acs:actiontrail:ap-southeast-1:` + owner + `:*"}]}`, false},
	} {
		if err := e.cloud.RAM().Grant(owner, tc.role, tc.role, tc.policy); err != nil {
			t.Fatal(err)
		}
		e.wall.add(time.Second)
		_, err := e.lookup(e.client(e.keys.AssumeRole(owner, tc.role, "s", time.Hour)), q)
		if tc.ok != (err == nil) || (!tc.ok && code(err) != "NoPermission") {
			t.Errorf("role %s: %v", tc.role, err)
		}
	}
}
