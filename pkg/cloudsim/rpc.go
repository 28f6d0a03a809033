package cloudsim

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"encoding/json"
	"io"
	"maps"
	"mime"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"imageshare/pkg/cloudsim/emu"
)

// The RPC wire of the Alibaba Cloud services. Signature V1, as
// sdk/auth/rpc_signature_composer.go of the classic Go SDK sends it: parameters in the
// query string and the form body, signed with HMAC-SHA1 over the sorted,
// percent-encoded parameters. Signature V3 (ACS3-HMAC-SHA256, the new-generation SDKs'
// default) is in sigv3.go.

// clockSkew is how far a request's Timestamp may be from the wall clock.
const clockSkew = 15 * time.Minute

// envelope parameters: signature, credentials and protocol, not the action's.
var envelope = map[string]bool{
	"Signature": true, "SignatureMethod": true, "SignatureVersion": true, "SignatureNonce": true, "SignatureType": true,
	"Timestamp": true, "AccessKeyId": true, "SecurityToken": true, "BearerToken": true, "Format": true, "Version": true,
	"Action": true,
}

var hosts = map[string]string{
	"ecs": "ecs.aliyuncs.com", "resourcemanager": "resourcemanager.aliyuncs.com", "resourcesharing": "resourcesharing.aliyuncs.com",
}

// Handler serves one product ("ecs", "resourcemanager", "resourcesharing" or a mounted
// service's) over HTTP. It panics for an unknown product (a programming error of the
// caller).
func (c *Cloud) Handler(product string) http.Handler {
	version, ok := c.version(product)
	if !ok {
		panic("cloudsim: unknown product " + product)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c.serveRPC(product, version, w, r)
	})
}

func (c *Cloud) serveRPC(product, version string, w http.ResponseWriter, r *http.Request) {
	fail := func(err *emu.APIError) { writeError(w, c.host(product), product, emu.NewRequestID(), err) }
	body, err := io.ReadAll(io.LimitReader(r.Body, maxRPCBody+1))
	if err != nil {
		return // the client went away mid-request; there is nobody to answer
	}
	if len(body) > maxRPCBody {
		fail(emu.Errorf(400, "InvalidParameter", "The request body is larger than %d bytes.", maxRPCBody))
		return
	}
	// Signature V3 puts its envelope in x-acs-* headers and an ACS3 Authorization
	// header; V1 puts it in the parameters.
	var req signedRequest
	var aerr *emu.APIError
	if isV3(r) {
		req, aerr = parseV3(r, body)
	} else {
		req, aerr = parseV1(r, body)
	}
	if aerr != nil {
		fail(aerr)
		return
	}
	if req.version() != version {
		fail(emu.Errorf(400, "InvalidVersion", "Specified parameter Version is not valid."))
		return
	}
	if _, ok := c.spec(product, req.action()); !ok {
		fail(emu.Errorf(404, "InvalidAction.NotFound", "Specified api is not found, please check your url and method."))
		return
	}
	cred, aerr := req.authenticate(c)
	if aerr != nil {
		fail(aerr)
		return
	}
	callParams := map[string]string{}
	for k, v := range req.params() {
		if !envelope[k] {
			callParams[k] = v
		}
	}
	ip, _, _ := net.SplitHostPort(r.RemoteAddr)
	out := c.do(request{caller: cred.Identity, product: product, action: req.action(), params: callParams,
		sourceIP: ip, userAgent: r.UserAgent()})
	if out.killed {
		panic(http.ErrAbortHandler) // the client sees the connection drop
	}
	if out.err != nil {
		writeError(w, c.host(product), product, out.reqID, out.err)
		return
	}
	resp := map[string]any{}
	for k, v := range out.resp {
		resp[k] = v
	}
	resp["RequestId"] = out.reqID
	writeJSON(w, http.StatusOK, out.reqID, resp)
}

// signedRequest is an RPC request whose envelope has been read but not yet checked.
type signedRequest interface {
	action() string
	version() string
	// params are the request's parameters (query and form body; for V1 the envelope too).
	params() map[string]string
	// authenticate checks the timestamp, the credential, the signature and the nonce, in
	// that order, and returns the caller's credential or the error the gateway answers.
	authenticate(c *Cloud) (emu.Credential, *emu.APIError)
}

// maxRPCBody bounds what is read of a request body; RPC parameters are small.
const maxRPCBody = 8 << 20

// formParams merges the query and, for a form body, the body's parameters (the body
// wins), as net/http's ParseForm does.
func formParams(r *http.Request, body []byte) (map[string]string, *emu.APIError) {
	params := map[string]string{}
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return nil, emu.Errorf(400, "InvalidParameter", "The query string could not be parsed.")
	}
	for k, v := range q {
		params[k] = v[0]
	}
	if len(body) > 0 && isForm(r) {
		f, err := url.ParseQuery(string(body))
		if err != nil {
			return nil, emu.Errorf(400, "InvalidParameter", "The form body could not be parsed.")
		}
		for k, v := range f {
			params[k] = v[0]
		}
	}
	return params, nil
}

func isForm(r *http.Request) bool {
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return ct == "application/x-www-form-urlencoded"
}

// v1Request is a request signed with signature V1 (HMAC-SHA1 over the parameters).
type v1Request struct {
	method string
	all    map[string]string
}

func parseV1(r *http.Request, body []byte) (*v1Request, *emu.APIError) {
	params, aerr := formParams(r, body)
	if aerr != nil {
		return nil, aerr
	}
	for _, k := range []string{"Action", "Version", "AccessKeyId", "Signature", "SignatureMethod", "SignatureNonce", "Timestamp"} {
		if params[k] == "" {
			return nil, missing(k)
		}
	}
	return &v1Request{method: r.Method, all: params}, nil
}

func (q *v1Request) action() string            { return q.all["Action"] }
func (q *v1Request) version() string           { return q.all["Version"] }
func (q *v1Request) params() map[string]string { return q.all }

func (q *v1Request) authenticate(c *Cloud) (emu.Credential, *emu.APIError) {
	p := q.all
	ts, err := time.Parse(time.RFC3339, p["Timestamp"])
	if err != nil {
		return emu.Credential{}, emu.Errorf(400, "InvalidTimeStamp.Format", "Specified time stamp or date value is not well formatted.")
	}
	if d := time.Since(ts); d > clockSkew || d < -clockSkew {
		return emu.Credential{}, emu.Errorf(400, "InvalidTimeStamp.Expired", "Specified time stamp or date value is expired.")
	}
	if p["SignatureMethod"] != "HMAC-SHA1" {
		return emu.Credential{}, emu.Errorf(400, "InvalidSignatureMethod", "Specified signature method is not valid.")
	}
	cred, aerr := c.cfg.Keys.Lookup(p["AccessKeyId"], p["SecurityToken"])
	if aerr != nil {
		return emu.Credential{}, aerr
	}
	want := sign(q.method, p, cred.AccessKeySecret)
	if !hmac.Equal([]byte(want), []byte(p["Signature"])) {
		return emu.Credential{}, emu.Errorf(400, "SignatureDoesNotMatch", "Specified signature is not matched with our calculation.")
	}
	if !c.freshNonce(p["SignatureNonce"]) {
		return emu.Credential{}, emu.Errorf(400, "SignatureNonceUsed", "Specified signature nonce was used already.")
	}
	return cred, nil
}

// sign computes the RPC signature of params (Signature itself excluded) for secret,
// exactly as the SDK composes it.
func sign(method string, params map[string]string, secret string) string {
	v := url.Values{}
	for k, val := range params {
		if k != "Signature" {
			v.Set(k, val)
		}
	}
	s := v.Encode()
	s = strings.ReplaceAll(s, "+", "%20")
	s = strings.ReplaceAll(s, "*", "%2A")
	s = strings.ReplaceAll(s, "%7E", "~")
	toSign := method + "&%2F&" + url.QueryEscape(s)
	mac := hmac.New(sha1.New, []byte(secret+"&"))
	mac.Write([]byte(toSign))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// freshNonce records a nonce; it is false when the nonce was seen within the skew window.
func (c *Cloud) freshNonce(n string) bool {
	c.nonceMu.Lock()
	defer c.nonceMu.Unlock()
	now := time.Now()
	if len(c.nonces) > 4096 {
		for k, t := range c.nonces {
			if now.Sub(t) > 2*clockSkew {
				delete(c.nonces, k)
			}
		}
	}
	if t, ok := c.nonces[n]; ok && now.Sub(t) <= 2*clockSkew {
		return false
	}
	c.nonces[n] = now
	return true
}

func writeError(w http.ResponseWriter, host, product, reqID string, err *emu.APIError) {
	status := err.HTTPStatus
	if status == 0 {
		status = http.StatusInternalServerError
	}
	body := map[string]any{
		"RequestId": reqID, "HostId": host, "Code": err.Code, "Message": err.Message,
		"Recommend": "https://api.aliyun.com/troubleshoot?q=" + url.QueryEscape(err.Code) + "&product=" + product,
	}
	if err.AccessDeniedDetail != nil {
		body["AccessDeniedDetail"] = err.AccessDeniedDetail
	}
	writeJSON(w, status, reqID, body)
}

func writeJSON(w http.ResponseWriter, status int, reqID string, body any) {
	b, err := json.Marshal(body)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"Code":"InternalError","Message":"response encoding failed"}`)
	}
	w.Header().Set("Content-Type", "application/json;charset=utf-8")
	w.Header().Set("x-acs-request-id", reqID)
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// Actions returns the actions a product ("ecs", "resourcemanager", "resourcesharing")
// answers, sorted; other actions get InvalidAction.NotFound.
func Actions(product string) []string {
	return slices.Sorted(maps.Keys(actions[product]))
}
