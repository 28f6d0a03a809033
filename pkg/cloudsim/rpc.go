package cloudsim

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"encoding/json"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"imageshare/pkg/cloudsim/emu"
)

// The RPC wire of the Alibaba Cloud services, as sdk/auth/rpc_signature_composer.go
// of the classic Go SDK sends it: parameters in the query string and the form body,
// signed with HMAC-SHA1 over the sorted, percent-encoded parameters.

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

// Handler serves one product ("ecs", "resourcemanager" or "resourcesharing") over
// HTTP. It panics for an unknown product (a programming error of the caller).
func (c *Cloud) Handler(product string) http.Handler {
	version, ok := versions[product]
	if !ok {
		panic("cloudsim: unknown product " + product)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c.serveRPC(product, version, w, r)
	})
}

func (c *Cloud) serveRPC(product, version string, w http.ResponseWriter, r *http.Request) {
	fail := func(err *emu.APIError) { writeError(w, product, emu.NewRequestID(), err) }
	if err := r.ParseForm(); err != nil {
		fail(emu.Errorf(400, "InvalidParameter", "The request could not be parsed."))
		return
	}
	// Query first, the form body over it: the SDK signs the union the same way.
	params := map[string]string{}
	for k, v := range r.URL.Query() {
		params[k] = v[0]
	}
	for k, v := range r.PostForm {
		params[k] = v[0]
	}
	for _, k := range []string{"Action", "Version", "AccessKeyId", "Signature", "SignatureMethod", "SignatureNonce", "Timestamp"} {
		if params[k] == "" {
			fail(missing(k))
			return
		}
	}
	if params["Version"] != version {
		fail(emu.Errorf(400, "InvalidVersion", "Specified parameter Version is not valid."))
		return
	}
	if _, ok := actions[product][params["Action"]]; !ok {
		fail(emu.Errorf(404, "InvalidAction.NotFound", "Specified api is not found, please check your url and method."))
		return
	}
	ts, err := time.Parse(time.RFC3339, params["Timestamp"])
	if err != nil {
		fail(emu.Errorf(400, "InvalidTimeStamp.Format", "Specified time stamp or date value is not well formatted."))
		return
	}
	if d := time.Since(ts); d > clockSkew || d < -clockSkew {
		fail(emu.Errorf(400, "InvalidTimeStamp.Expired", "Specified time stamp or date value is expired."))
		return
	}
	if params["SignatureMethod"] != "HMAC-SHA1" {
		fail(emu.Errorf(400, "InvalidSignatureMethod", "Specified signature method is not valid."))
		return
	}
	cred, aerr := c.cfg.Keys.Lookup(params["AccessKeyId"], params["SecurityToken"])
	if aerr != nil {
		fail(aerr)
		return
	}
	want := sign(r.Method, params, cred.AccessKeySecret)
	if !hmac.Equal([]byte(want), []byte(params["Signature"])) {
		fail(emu.Errorf(400, "SignatureDoesNotMatch", "Specified signature is not matched with our calculation."))
		return
	}
	if !c.freshNonce(params["SignatureNonce"]) {
		fail(emu.Errorf(400, "SignatureNonceUsed", "Specified signature nonce was used already."))
		return
	}
	callParams := map[string]string{}
	for k, v := range params {
		if !envelope[k] {
			callParams[k] = v
		}
	}
	ip, _, _ := net.SplitHostPort(r.RemoteAddr)
	out := c.do(request{caller: cred.Identity, product: product, action: params["Action"], params: callParams,
		sourceIP: ip, userAgent: r.UserAgent()})
	if out.killed {
		panic(http.ErrAbortHandler) // the client sees the connection drop
	}
	if out.err != nil {
		writeError(w, product, out.reqID, out.err)
		return
	}
	body := map[string]any{}
	for k, v := range out.resp {
		body[k] = v
	}
	body["RequestId"] = out.reqID
	writeJSON(w, http.StatusOK, out.reqID, body)
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

func writeError(w http.ResponseWriter, product, reqID string, err *emu.APIError) {
	status := err.HTTPStatus
	if status == 0 {
		status = http.StatusInternalServerError
	}
	body := map[string]any{
		"RequestId": reqID, "HostId": hosts[product], "Code": err.Code, "Message": err.Message,
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
