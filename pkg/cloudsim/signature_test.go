package cloudsim_test

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aliyun/alibaba-cloud-sdk-go/sdk"
	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/requests"

	"imageshare/pkg/cloudsim"
	"imageshare/pkg/cloudsim/emu"
)

// ---- Signature V3 (ACS3-HMAC-SHA256) ----

// v3Call is one RPC call to sign with signature V3. The test signs it with its own
// small signer, written from the "request syntax and signature method V3" document;
// the new-generation SDK itself is exercised by test/conformance.
type v3Call struct {
	method  string // default POST
	action  string
	version string // default 2014-05-26
	query   url.Values
	form    url.Values // nil: no body
	cred    emu.Credential
	date    time.Time // default now
	nonce   string    // default random
	// unsigned: headers left out of SignedHeaders; algorithm: default ACS3-HMAC-SHA256
	unsigned  []string
	algorithm string
}

func rfc3986(s string) string { return strings.ReplaceAll(url.QueryEscape(s), "+", "%20") }

// request builds the signed HTTP request for base (the endpoint URL).
func (c v3Call) request(t *testing.T, base string) *http.Request {
	t.Helper()
	if c.method == "" {
		c.method = "POST"
	}
	if c.version == "" {
		c.version = "2014-05-26"
	}
	if c.date.IsZero() {
		c.date = time.Now()
	}
	if c.nonce == "" {
		c.nonce = emu.RandomHex(16)
	}
	if c.algorithm == "" {
		c.algorithm = "ACS3-HMAC-SHA256"
	}
	var body []byte
	if c.form != nil {
		body = []byte(c.form.Encode())
	}
	u := base + "/"
	if len(c.query) > 0 {
		u += "?" + c.query.Encode()
	}
	req, err := http.NewRequest(c.method, u, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(body)
	headers := map[string]string{
		"host":                  req.URL.Host,
		"x-acs-action":          c.action,
		"x-acs-version":         c.version,
		"x-acs-date":            c.date.UTC().Format("2006-01-02T15:04:05Z"),
		"x-acs-signature-nonce": c.nonce,
		"x-acs-content-sha256":  hex.EncodeToString(sum[:]),
	}
	if c.form != nil {
		headers["content-type"] = "application/x-www-form-urlencoded"
	}
	if c.cred.SecurityToken != "" {
		headers["x-acs-security-token"] = c.cred.SecurityToken
	}
	var signed []string
	for h := range headers {
		if !slices.Contains(c.unsigned, h) {
			signed = append(signed, h)
		}
	}
	sort.Strings(signed)
	var keys []string
	for k := range c.query {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var cq []string
	for _, k := range keys {
		cq = append(cq, rfc3986(k)+"="+rfc3986(c.query.Get(k)))
	}
	canon := c.method + "\n/\n" + strings.Join(cq, "&") + "\n"
	for _, h := range signed {
		canon += h + ":" + headers[h] + "\n"
	}
	canon += "\n" + strings.Join(signed, ";") + "\n" + headers["x-acs-content-sha256"]
	ch := sha256.Sum256([]byte(canon))
	mac := hmac.New(sha256.New, []byte(c.cred.AccessKeySecret))
	mac.Write([]byte(c.algorithm + "\n" + hex.EncodeToString(ch[:])))
	for h, v := range headers {
		if h != "host" {
			req.Header.Set(h, v)
		}
	}
	req.Header.Set("Authorization", c.algorithm+" Credential="+c.cred.AccessKeyID+",SignedHeaders="+strings.Join(signed, ";")+
		",Signature="+hex.EncodeToString(mac.Sum(nil)))
	return req
}

// answer is what the emulated cloud said.
type answer struct {
	status        int
	code, message string
	body          map[string]any
}

func send(t *testing.T, req *http.Request) answer {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	a := answer{status: resp.StatusCode}
	if err := json.Unmarshal(b, &a.body); err != nil {
		t.Fatalf("answer is not JSON: %s", b)
	}
	a.code, _ = a.body["Code"].(string)
	a.message, _ = a.body["Message"].(string)
	return a
}

func TestSignatureV3Accepted(t *testing.T) {
	e := world(t, cloudsim.Config{})
	e.cloud.PutImage(region, cloudsim.ImageSpec{ID: "m-v3", Owner: owner})
	ecsURL := e.srv["ecs"].URL()

	// Parameters in the query string, as the new-generation SDK sends them.
	a := send(t, v3Call{action: "DescribeImages", query: url.Values{"RegionId": {region}, "ImageId": {"m-v3"}}, cred: e.ownerKey}.request(t, ecsURL))
	if a.status != 200 || a.body["TotalCount"] != float64(1) {
		t.Fatalf("DescribeImages: %d %v", a.status, a.body)
	}
	// In a form body, with a value that needs encoding in the query.
	a = send(t, v3Call{action: "ModifyImageSharePermission", query: url.Values{"RegionId": {region}},
		form: url.Values{"ImageId": {"m-v3"}, "AddAccount.1": {m2}}, cred: e.ownerKey}.request(t, ecsURL))
	if a.status != 200 {
		t.Fatalf("ModifyImageSharePermission with a form body: %d %v", a.status, a.body)
	}
	if im, _ := e.cloud.Image(region, "m-v3"); !slices.Equal(im.Direct, []string{m2}) {
		t.Fatalf("direct = %v", im.Direct)
	}
	a = send(t, v3Call{method: "GET", action: "DescribeImages", query: url.Values{"RegionId": {region}, "ImageName": {"a b*c~"}}, cred: e.ownerKey}.request(t, ecsURL))
	if a.status != 200 {
		t.Fatalf("GET with a value to encode: %d %v", a.status, a.body)
	}
	// STS credentials: x-acs-security-token, and the call is the role's.
	a = send(t, v3Call{action: "TagResources", query: url.Values{"RegionId": {region}, "ResourceType": {"image"}, "ResourceId.1": {"m-v3"},
		"Tag.1.Key": {"k"}, "Tag.1.Value": {"v"}}, cred: e.fnKey}.request(t, ecsURL))
	if a.status != 200 {
		t.Fatalf("STS: %d %v", a.status, a.body)
	}
	calls := e.cloud.Calls()
	if last := calls[len(calls)-1]; last.Action != "TagResources" || last.Caller.RoleName != fnRole || last.Params["Tag.1.Key"] != "k" {
		t.Fatalf("last call = %+v", last)
	}
	for _, c := range calls {
		for k := range c.Params {
			if strings.HasPrefix(strings.ToLower(k), "x-acs-") {
				t.Fatalf("a header became a parameter: %v", c.Params)
			}
		}
	}
	// The other products take V3 too.
	a = send(t, v3Call{action: "GetResourceDirectory", version: "2020-03-31", cred: e.ownerKey}.request(t, e.srv["resourcemanager"].URL()))
	if a.status != 200 {
		t.Fatalf("GetResourceDirectory: %d %v", a.status, a.body)
	}
	a = send(t, v3Call{action: "ListResourceShares", version: "2020-01-10", query: url.Values{"RegionId": {region}, "ResourceOwner": {"Self"}},
		cred: e.ownerKey}.request(t, e.srv["resourcesharing"].URL()))
	if a.status != 200 {
		t.Fatalf("ListResourceShares: %d %v", a.status, a.body)
	}
}

func TestSignatureV3Rejections(t *testing.T) {
	e := world(t, cloudsim.Config{})
	e.cloud.PutImage(region, cloudsim.ImageSpec{ID: "m-v3", Owner: owner})
	ecsURL := e.srv["ecs"].URL()
	// Every case asks to share m-v3 with m2; none may.
	share := func() v3Call {
		return v3Call{action: "ModifyImageSharePermission", query: url.Values{"RegionId": {region}, "ImageId": {"m-v3"}, "AddAccount.1": {m2}}, cred: e.ownerKey}
	}
	shareForm := func() v3Call {
		c := share()
		c.query = url.Values{"RegionId": {region}}
		c.form = url.Values{"ImageId": {"m-v3"}, "AddAccount.1": {m2}}
		return c
	}
	wrongSecret := e.ownerKey
	wrongSecret.AccessKeySecret = "not-the-secret"
	noToken := e.fnKey
	noToken.SecurityToken = ""
	for _, tc := range []struct {
		name    string
		req     func() *http.Request
		status  int
		code    string
		message string
	}{
		{"wrong secret", func() *http.Request { c := share(); c.cred = wrongSecret; return c.request(t, ecsURL) },
			400, "SignatureDoesNotMatch", "Specified signature does not match our calculation. server StringToSign is [ACS3-HMAC-SHA256 "},
		{"tampered query", func() *http.Request {
			r := share().request(t, ecsURL)
			r.URL.RawQuery = strings.Replace(r.URL.RawQuery, "AddAccount.1="+m2, "AddAccount.1="+m3, 1)
			return r
		}, 400, "SignatureDoesNotMatch", ""},
		{"tampered body", func() *http.Request {
			r := shareForm().request(t, ecsURL)
			b, _ := io.ReadAll(r.Body)
			b = bytes.Replace(b, []byte(m2), []byte(m3), 1)
			r.Body, r.ContentLength = io.NopCloser(bytes.NewReader(b)), int64(len(b))
			return r
		}, 400, "SignatureDoesNotMatch", ""},
		{"tampered body with its hash", func() *http.Request {
			r := shareForm().request(t, ecsURL)
			b, _ := io.ReadAll(r.Body)
			b = bytes.Replace(b, []byte(m2), []byte(m3), 1)
			r.Body, r.ContentLength = io.NopCloser(bytes.NewReader(b)), int64(len(b))
			sum := sha256.Sum256(b)
			r.Header.Set("x-acs-content-sha256", hex.EncodeToString(sum[:]))
			return r
		}, 400, "SignatureDoesNotMatch", ""},
		{"tampered signed header", func() *http.Request {
			c := share()
			c.action = "DescribeImageSharePermission" // signed as a read, sent as a write
			r := c.request(t, ecsURL)
			r.Header.Set("x-acs-action", "ModifyImageSharePermission")
			return r
		}, 400, "SignatureDoesNotMatch", ""},
		{"tampered host", func() *http.Request { r := share().request(t, ecsURL); r.Host = "ecs.aliyuncs.com"; return r },
			400, "SignatureDoesNotMatch", ""},
		{"stale timestamp", func() *http.Request {
			c := share()
			c.date = time.Now().Add(-20 * time.Minute)
			return c.request(t, ecsURL)
		},
			400, "InvalidTimeStamp.Expired", "Specified time stamp or date value is expired."},
		{"timestamp from the future", func() *http.Request {
			c := share()
			c.date = time.Now().Add(20 * time.Minute)
			return c.request(t, ecsURL)
		},
			400, "InvalidTimeStamp.Expired", ""},
		{"timestamp not ISO 8601", func() *http.Request {
			r := share().request(t, ecsURL)
			r.Header.Set("x-acs-date", time.Now().UTC().Format(http.TimeFormat))
			return r
		}, 400, "InvalidTimeStamp.Format", ""},
		{"unsigned nonce", func() *http.Request {
			c := share()
			c.unsigned = []string{"x-acs-signature-nonce"}
			return c.request(t, ecsURL)
		},
			400, "IncompleteSignature", `The header "x-acs-signature-nonce" is not signed.`},
		{"unsigned host", func() *http.Request { c := share(); c.unsigned = []string{"host"}; return c.request(t, ecsURL) },
			400, "IncompleteSignature", `The header "host" is not signed.`},
		{"an added unsigned x-acs header", func() *http.Request {
			r := share().request(t, ecsURL)
			r.Header.Set("x-acs-security-token", "CAISsmuggled")
			return r
		}, 400, "IncompleteSignature", ""},
		{"malformed Authorization", func() *http.Request {
			r := share().request(t, ecsURL)
			r.Header.Set("Authorization", "ACS3-HMAC-SHA256 "+e.ownerKey.AccessKeyID+":deadbeef")
			return r
		}, 400, "IncompleteSignature", ""},
		{"another algorithm", func() *http.Request { c := share(); c.algorithm = "ACS3-HMAC-SM3"; return c.request(t, ecsURL) },
			400, "InvalidSignatureMethod", ""},
		{"unknown access key", func() *http.Request {
			c := share()
			c.cred = emu.Credential{AccessKeyID: "LTAInope", AccessKeySecret: "x"}
			return c.request(t, ecsURL)
		}, 404, "InvalidAccessKeyId.NotFound", ""},
		{"STS key without its token", func() *http.Request { c := share(); c.cred = noToken; return c.request(t, ecsURL) },
			400, "MissingSecurityToken", ""},
		{"no action", func() *http.Request { r := share().request(t, ecsURL); r.Header.Del("x-acs-action"); return r },
			400, "MissingParameter", `"x-acs-action"`},
		{"a JSON body", func() *http.Request {
			c := share()
			r := c.request(t, ecsURL)
			b := []byte(`{"ImageId":"m-v3"}`)
			r.Body, r.ContentLength = io.NopCloser(bytes.NewReader(b)), int64(len(b))
			r.Header.Set("Content-Type", "application/json")
			return r
		}, 400, "InvalidParameter", "application/x-www-form-urlencoded"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := send(t, tc.req())
			if a.status != tc.status || a.code != tc.code || !strings.Contains(a.message, tc.message) {
				t.Fatalf("answer %d %s %q, want %d %s containing %q", a.status, a.code, a.message, tc.status, tc.code, tc.message)
			}
			if im, _ := e.cloud.Image(region, "m-v3"); len(im.Direct) != 0 {
				t.Fatalf("a rejected request shared the image: %v", im.Direct)
			}
		})
	}

	t.Run("replayed nonce", func(t *testing.T) {
		r := share().request(t, ecsURL)
		replay := r.Clone(r.Context())
		if a := send(t, r); a.status != 200 {
			t.Fatalf("first: %d %v", a.status, a.body)
		}
		must(t, modify(e.ecs(e.ownerKey), "m-v3", nil, []string{m2}, false)) // undo, so a replay would show
		if a := send(t, replay); a.status != 400 || a.code != "SignatureNonceUsed" {
			t.Fatalf("replay: %d %s", a.status, a.code)
		}
		if im, _ := e.cloud.Image(region, "m-v3"); len(im.Direct) != 0 {
			t.Fatalf("the replay shared the image: %v", im.Direct)
		}
	})
}

// ---- Signature V1 (HMAC-SHA1), as the classic SDK sends it ----

// replayV1 sends the recorded request again, its URL and body changed by the mutators.
func (r *recorder) replayV1(t *testing.T, mutURL, mutBody func(string) string) answer {
	t.Helper()
	r.mu.Lock()
	u, body := r.url, string(r.body)
	r.mu.Unlock()
	if mutURL != nil {
		u = mutURL(u)
	}
	if mutBody != nil {
		body = mutBody(body)
	}
	req, err := http.NewRequest("POST", u, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return send(t, req)
}

func TestSignatureV1Rejections(t *testing.T) {
	e := world(t, cloudsim.Config{})
	e.cloud.PutImage(region, cloudsim.ImageSpec{ID: "m-v1", Owner: owner})
	// The classic SDK's common request: RegionId in the query, the rest in a form body.
	call := func(cred emu.Credential, rec *recorder) error {
		cl, err := sdk.NewClientWithOptions(region, sdkConfig(), sdkCred(cred))
		must(t, err)
		if rec != nil {
			cl.SetTransport(rec)
		}
		req := requests.NewCommonRequest()
		req.Method, req.Scheme, req.Domain = "POST", "http", e.srv["ecs"].Addr
		req.Version, req.ApiName = "2014-05-26", "ModifyImageSharePermission"
		req.QueryParams["RegionId"] = region
		req.FormParams["ImageId"] = "m-v1"
		req.FormParams["AddAccount.1"] = m2
		_, err = cl.ProcessCommonRequest(req)
		return err
	}
	unshare := func() { must(t, modify(e.ecs(e.ownerKey), "m-v1", nil, []string{m2}, false)) }
	rec := &recorder{}
	must(t, call(e.ownerKey, rec))
	rec.mu.Lock()
	recorded := rec.body
	rec.mu.Unlock()
	if !bytes.Contains(recorded, []byte("AddAccount.1="+m2)) {
		t.Fatalf("the SDK sent no form body: %s", recorded)
	}
	unshare()

	wrongSecret := e.ownerKey
	wrongSecret.AccessKeySecret = "not-the-secret"
	t.Run("wrong secret", func(t *testing.T) {
		err := call(wrongSecret, nil)
		if code(t, err) != "SignatureDoesNotMatch" || status(t, err) != 400 ||
			!strings.Contains(err.Error(), "Specified signature is not matched with our calculation.") {
			t.Fatalf("answer: %v", err)
		}
	})
	for _, tc := range []struct {
		name          string
		mutURL, mutBy func(string) string
		code          string
	}{
		{"tampered query", func(u string) string { return strings.Replace(u, "RegionId="+region, "RegionId=cn-shanghai", 1) }, nil, "SignatureDoesNotMatch"},
		{"tampered body", nil, func(b string) string { return strings.Replace(b, m2, m3, 1) }, "SignatureDoesNotMatch"},
		{"stale timestamp", func(u string) string {
			ts := url.QueryEscape(time.Now().UTC().Add(-20 * time.Minute).Format("2006-01-02T15:04:05Z"))
			return replaceParam(u, "Timestamp", ts)
		}, nil, "InvalidTimeStamp.Expired"},
		{"replayed nonce", nil, nil, "SignatureNonceUsed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := rec.replayV1(t, tc.mutURL, tc.mutBy)
			if a.status != 400 || a.code != tc.code {
				t.Fatalf("answer %d %s %q, want 400 %s", a.status, a.code, a.message, tc.code)
			}
			if im, _ := e.cloud.Image(region, "m-v1"); len(im.Direct) != 0 {
				t.Fatalf("a rejected request shared the image: %v", im.Direct)
			}
		})
	}
}

// replaceParam sets the value of a query parameter in a URL string.
func replaceParam(u, name, value string) string {
	i := strings.Index(u, name+"=")
	if i < 0 {
		return u
	}
	j := strings.IndexByte(u[i:], '&')
	if j < 0 {
		return u[:i] + name + "=" + value
	}
	return u[:i] + name + "=" + value + u[i+j:]
}
