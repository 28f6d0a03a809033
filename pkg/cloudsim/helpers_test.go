package cloudsim_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/aliyun/alibaba-cloud-sdk-go/sdk"
	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/auth"
	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/auth/credentials"
	sdkerrors "github.com/aliyun/alibaba-cloud-sdk-go/sdk/errors"
	"github.com/aliyun/alibaba-cloud-sdk-go/services/ecs"
	"github.com/aliyun/alibaba-cloud-sdk-go/services/resourcemanager"
	"github.com/aliyun/alibaba-cloud-sdk-go/services/resourcesharing"

	"imageshare/pkg/cloudsim"
	"imageshare/pkg/cloudsim/emu"
)

// The test world: a directory managed by owner, with folders prod ⊃ team and other.
const (
	region  = "cn-hangzhou"
	owner   = "1000000000000001"
	m2      = "1000000000000002" // member in prod
	m3      = "1000000000000003" // member in team (under prod)
	m4      = "1000000000000004" // member in the root
	outside = "2000000000000001" // china site, not a member
	intl    = "3000000000000001" // international site, not a member
	dirID   = "rd-Ab12Cd34"
	rootID  = "r-Ab12Cd"
	prod    = "fd-Prod000001"
	team    = "fd-Team000001"
	other   = "fd-Othr000001"
	fnRole  = "imageshare-fn"
)

const allowAll = `{"Version":"1","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`

type env struct {
	t     *testing.T
	cloud *cloudsim.Cloud
	clock *emu.Clock
	keys  *emu.Keyring
	srv   map[string]*emu.Server
	// owner's root key and the functions' STS credentials
	ownerKey, fnKey emu.Credential

	mu     sync.Mutex
	events []cloudsim.Event
}

// newEnv starts the three endpoints of an empty cloud.
func newEnv(t *testing.T, cfg cloudsim.Config) *env {
	t.Helper()
	e := &env{t: t, clock: emu.NewClock(emu.Epoch), keys: emu.NewKeyring(), srv: map[string]*emu.Server{}}
	cfg.Clock, cfg.Keys = e.clock, e.keys
	if cfg.FunctionRole == "" {
		cfg.FunctionRole = fnRole
	}
	e.cloud = cloudsim.New(cfg)
	// The functions' role may do anything here; RAM itself is tested in ram_test.go.
	if err := e.cloud.RAM().Grant(owner, fnRole, "allow-all", allowAll); err != nil {
		t.Fatal(err)
	}
	// Every answer the test drew from the cloud must be in the error catalogue.
	t.Cleanup(func() {
		for _, u := range e.cloud.Unlisted() {
			t.Errorf("unlisted answer: %s", u)
		}
	})
	e.cloud.OnEvent(func(ev cloudsim.Event) {
		e.mu.Lock()
		defer e.mu.Unlock()
		e.events = append(e.events, ev)
	})
	for _, p := range []string{"ecs", "resourcemanager", "resourcesharing"} {
		s, err := emu.Listen(e.cloud.Handler(p))
		if err != nil {
			t.Fatalf("listen %s: %v", p, err)
		}
		t.Cleanup(func() { _ = s.Close() })
		e.srv[p] = s
	}
	return e
}

// world returns an env holding the standard directory.
func world(t *testing.T, cfg cloudsim.Config) *env {
	t.Helper()
	e := newEnv(t, cfg)
	c := e.cloud
	for _, a := range []string{owner, m2, m3, m4, outside} {
		c.AddAccount(a, "china")
	}
	c.AddAccount(intl, "intl")
	c.SetDirectory(cloudsim.DirectorySpec{ID: dirID, RootID: rootID, Master: owner, SharingEnabled: true})
	c.AddFolder(prod, "prod", rootID)
	c.AddFolder(team, "team", prod)
	c.AddFolder(other, "other", rootID)
	c.AddMember(m2, prod)
	c.AddMember(m3, team)
	c.AddMember(m4, rootID)
	e.ownerKey = e.keys.AccessKey(owner)
	e.fnKey = e.keys.AssumeRole(owner, fnRole, "run-1", time.Hour)
	return e
}

func sdkCred(c emu.Credential) auth.Credential {
	if c.SecurityToken != "" {
		return credentials.NewStsTokenCredential(c.AccessKeyID, c.AccessKeySecret, c.SecurityToken)
	}
	return credentials.NewAccessKeyCredential(c.AccessKeyID, c.AccessKeySecret)
}

func sdkConfig() *sdk.Config {
	return sdk.NewConfig().WithAutoRetry(false).WithScheme("HTTP").WithTimeout(20 * time.Second)
}

func (e *env) ecs(c emu.Credential) *ecs.Client {
	e.t.Helper()
	cl, err := ecs.NewClientWithOptions(region, sdkConfig(), sdkCred(c))
	if err != nil {
		e.t.Fatal(err)
	}
	cl.Domain = e.srv["ecs"].Addr
	return cl
}

func (e *env) rm(c emu.Credential) *resourcemanager.Client {
	e.t.Helper()
	cl, err := resourcemanager.NewClientWithOptions(region, sdkConfig(), sdkCred(c))
	if err != nil {
		e.t.Fatal(err)
	}
	cl.Domain = e.srv["resourcemanager"].Addr
	return cl
}

func (e *env) rs(c emu.Credential) *resourcesharing.Client {
	e.t.Helper()
	cl, err := resourcesharing.NewClientWithOptions(region, sdkConfig(), sdkCred(c))
	if err != nil {
		e.t.Fatal(err)
	}
	cl.Domain = e.srv["resourcesharing"].Addr
	return cl
}

// code returns the service error code of err ("" for nil; fails on other errors).
func code(t *testing.T, err error) string {
	t.Helper()
	if err == nil {
		return ""
	}
	var se *sdkerrors.ServerError
	if !errors.As(err, &se) {
		t.Fatalf("not a service error: %v", err)
	}
	return se.ErrorCode()
}

func status(t *testing.T, err error) int {
	t.Helper()
	var se *sdkerrors.ServerError
	if !errors.As(err, &se) {
		t.Fatalf("not a service error: %v", err)
	}
	return se.HttpStatus()
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func strs(xs ...string) *[]string { return &xs }

// advance moves the clock and applies what fell due.
func (e *env) advance(d time.Duration) {
	e.clock.Advance(d)
	e.cloud.RunDue()
}

func (e *env) takeEvents() []cloudsim.Event {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := e.events
	e.events = nil
	return out
}

// eventBody is the part of a CloudEvent the tests read.
type eventBody struct {
	Source          string `json:"source"`
	Type            string `json:"type"`
	AliyunAccountID string `json:"aliyunaccountid"`
	PublishTime     string `json:"aliyunpublishtime"`
	Time            string `json:"time"`
	Data            struct {
		EventName         string            `json:"eventName"`
		EventRW           string            `json:"eventRW"`
		ErrorCode         string            `json:"errorCode"`
		RequestID         string            `json:"requestId"`
		AcsRegion         string            `json:"acsRegion"`
		RequestParameters map[string]string `json:"requestParameters"`
		ResponseElements  map[string]any    `json:"responseElements"`
		UserIdentity      map[string]string `json:"userIdentity"`
		// association events
		AssociationStatus string `json:"associationStatus"`
		ResourceID        string `json:"resourceId"`
		TargetAccountID   string `json:"targetAccountId"`
	} `json:"data"`
}

func decodeEvent(t *testing.T, ev cloudsim.Event) eventBody {
	t.Helper()
	var b eventBody
	if err := json.Unmarshal(ev.Body, &b); err != nil {
		t.Fatalf("event is not JSON: %v: %s", err, ev.Body)
	}
	return b
}

// recorder is a transport that keeps the last request sent, for replays.
type recorder struct {
	mu   sync.Mutex
	url  string
	body []byte
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	var body []byte
	if req.Body != nil {
		body, _ = io.ReadAll(req.Body)
		req.Body = io.NopCloser(bytes.NewReader(body))
	}
	r.mu.Lock()
	r.url, r.body = req.URL.String(), body
	r.mu.Unlock()
	return http.DefaultTransport.RoundTrip(req)
}

// replay sends the recorded request again and returns the error code answered.
func (r *recorder) replay(t *testing.T, mutate func(u string) string) (int, string) {
	t.Helper()
	r.mu.Lock()
	u, body := r.url, r.body
	r.mu.Unlock()
	if mutate != nil {
		u = mutate(u)
	}
	resp, err := http.Post(u, "application/x-www-form-urlencoded", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct{ Code string }
	b, _ := io.ReadAll(resp.Body)
	_ = json.Unmarshal(b, &out)
	return resp.StatusCode, out.Code
}

func sortedSet(m map[string]bool) []string {
	var out []string
	for k, v := range m {
		if v {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}

func accountID(i int) string { return fmt.Sprintf("19%014d", i) }
