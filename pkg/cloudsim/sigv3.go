package cloudsim

import (
	"cmp"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"imageshare/pkg/cloudsim/emu"
)

// Signature V3 (ACS3-HMAC-SHA256) of RPC requests, as the new-generation SDKs send it
// by default. The envelope travels in headers: x-acs-action, x-acs-version, x-acs-date,
// x-acs-signature-nonce, x-acs-content-sha256 (and x-acs-security-token for STS), and
//
//	Authorization: ACS3-HMAC-SHA256 Credential=<AccessKeyId>,SignedHeaders=<h1;h2;…>,Signature=<hex>
//
// The signature is hex(HMAC-SHA256(secret, "ACS3-HMAC-SHA256\n" + hex(SHA256(CanonicalRequest))))
// over
//
//	CanonicalRequest = Method \n CanonicalURI \n CanonicalQueryString \n CanonicalHeaders \n SignedHeaders \n hex(SHA256(body))
//
// with the query's parameters sorted and RFC 3986-encoded, and each signed header as
// "name:trimmed value\n" in the order of SignedHeaders. Every x-acs-* header and host
// must be signed. The parameters of an RPC action come from the query string and a
// form body.
//
// Sources: "Request syntax and signature method V3",
// https://www.alibabacloud.com/help/en/sdk/product-overview/v3-request-structure-and-signature
// (common request headers; "all common request headers except Authorization must be
// signed"; x-acs-date within 15 minutes); the signer of darabonba-openapi v2.1.14
// (utils.GetAuthorization, getCanonicalQueryString, getCanonicalHeaders; client.DoRequest
// for the headers it sends). Error codes: SignatureDoesNotMatch for a V3 signature that
// does not verify ("Specified signature does not match our calculation. server
// StringToSign is [...]", as the gateway answers, https://developer.aliyun.com/ask/678646);
// IncompleteSignature for an Authorization header that does not follow the format (the
// gateway's "The request signature does not conform to Aliyun standards.", see
// aliyun/alibaba-cloud-sdk-go#216); InvalidTimeStamp.*, SignatureNonceUsed and the
// credential errors are the gateway's common ones, shared with V1.

const v3Algorithm = "ACS3-HMAC-SHA256"

// isV3 reports whether a request is signed with signature V3.
func isV3(r *http.Request) bool {
	return strings.HasPrefix(r.Header.Get("Authorization"), "ACS3-")
}

// v3Request is a request signed with signature V3.
type v3Request struct {
	r           *http.Request
	body        []byte
	all         map[string]string
	algorithm   string
	accessKeyID string
	signed      []string // SignedHeaders, as given
	signature   string
}

func incomplete(format string, args ...any) *emu.APIError {
	return emu.Errorf(400, "IncompleteSignature", "The request signature does not conform to Aliyun standards. "+format, args...)
}

func parseV3(r *http.Request, body []byte) (*v3Request, *emu.APIError) {
	q := &v3Request{r: r, body: body}
	auth := r.Header.Get("Authorization")
	alg, rest, _ := strings.Cut(auth, " ")
	q.algorithm = alg
	fields := map[string]string{}
	for _, f := range strings.Split(rest, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(f), "=")
		if !ok {
			return nil, incomplete("The Authorization header is not ACS3-HMAC-SHA256 Credential=…,SignedHeaders=…,Signature=….")
		}
		fields[k] = v
	}
	q.accessKeyID, q.signature = fields["Credential"], fields["Signature"]
	if q.accessKeyID == "" || fields["SignedHeaders"] == "" || q.signature == "" {
		return nil, incomplete("The Authorization header lacks Credential, SignedHeaders or Signature.")
	}
	q.signed = strings.Split(fields["SignedHeaders"], ";")
	for _, h := range []string{"x-acs-action", "x-acs-version", "x-acs-date", "x-acs-signature-nonce", "x-acs-content-sha256"} {
		if r.Header.Get(h) == "" {
			return nil, missing(h)
		}
	}
	if len(body) > 0 && !isForm(r) {
		return nil, emu.Errorf(400, "InvalidParameter", "The body of an RPC request must be application/x-www-form-urlencoded, not %q.", r.Header.Get("Content-Type"))
	}
	params, aerr := formParams(r, body)
	if aerr != nil {
		return nil, aerr
	}
	q.all = params
	return q, nil
}

func (q *v3Request) action() string            { return q.r.Header.Get("x-acs-action") }
func (q *v3Request) version() string           { return q.r.Header.Get("x-acs-version") }
func (q *v3Request) params() map[string]string { return q.all }

func (q *v3Request) authenticate(c *Cloud) (emu.Credential, *emu.APIError) {
	r := q.r
	ts, err := time.Parse("2006-01-02T15:04:05Z", r.Header.Get("x-acs-date"))
	if err != nil {
		return emu.Credential{}, emu.Errorf(400, "InvalidTimeStamp.Format", "Specified time stamp or date value is not well formatted.")
	}
	if d := time.Since(ts); d > clockSkew || d < -clockSkew {
		return emu.Credential{}, emu.Errorf(400, "InvalidTimeStamp.Expired", "Specified time stamp or date value is expired.")
	}
	if q.algorithm != v3Algorithm {
		// ACS3-HMAC-SM3 and ACS3-RSA-SHA256 exist in the real cloud; they are not emulated.
		return emu.Credential{}, emu.Errorf(400, "InvalidSignatureMethod", "Specified signature method %q is not supported here; use %s.", q.algorithm, v3Algorithm)
	}
	// The signed headers: lower-case, sorted, unique, covering host and every x-acs-*
	// header the request carries, so that none of the envelope can be changed unseen.
	if !slices.IsSorted(q.signed) || len(slices.Compact(slices.Clone(q.signed))) != len(q.signed) {
		return emu.Credential{}, incomplete("SignedHeaders must be sorted and unique.")
	}
	for _, h := range q.signed {
		if h != strings.ToLower(h) || h == "" || h == "authorization" {
			return emu.Credential{}, incomplete("SignedHeaders may not hold %q.", h)
		}
	}
	mustSign := []string{"host"}
	for name := range r.Header {
		if l := strings.ToLower(name); strings.HasPrefix(l, "x-acs-") {
			mustSign = append(mustSign, l)
		}
	}
	for _, h := range mustSign {
		if !slices.Contains(q.signed, h) {
			return emu.Credential{}, incomplete("The header %q is not signed.", h)
		}
	}
	if id := r.Header.Get("x-acs-accesskey-id"); id != "" && id != q.accessKeyID {
		return emu.Credential{}, incomplete("x-acs-accesskey-id is not the Credential of the Authorization header.")
	}
	cred, aerr := c.cfg.Keys.Lookup(q.accessKeyID, r.Header.Get("x-acs-security-token"))
	if aerr != nil {
		return emu.Credential{}, aerr
	}
	// The payload hash the client signed must be the body's: a body changed on the way
	// is a signature that does not match.
	sum := sha256.Sum256(q.body)
	payload := hex.EncodeToString(sum[:])
	stringToSign := v3StringToSign(r, q.signed, payload)
	mac := hmac.New(sha256.New, []byte(cred.AccessKeySecret))
	mac.Write([]byte(stringToSign))
	want := hex.EncodeToString(mac.Sum(nil))
	if !hmac.Equal([]byte(want), []byte(strings.ToLower(q.signature))) || !strings.EqualFold(r.Header.Get("x-acs-content-sha256"), payload) {
		return emu.Credential{}, emu.Errorf(400, "SignatureDoesNotMatch", "Specified signature does not match our calculation. server StringToSign is [%s]",
			strings.ReplaceAll(stringToSign, "\n", " "))
	}
	if !c.freshNonce(r.Header.Get("x-acs-signature-nonce")) {
		return emu.Credential{}, emu.Errorf(400, "SignatureNonceUsed", "Specified signature nonce was used already.")
	}
	return cred, nil
}

// v3StringToSign builds the string to sign of a V3 request from what it carries.
func v3StringToSign(r *http.Request, signed []string, payloadHash string) string {
	path := r.URL.EscapedPath()
	if path == "" {
		path = "/"
	}
	var b strings.Builder
	b.WriteString(r.Method + "\n" + path + "\n" + canonicalQuery(r.URL.RawQuery) + "\n")
	for _, h := range signed {
		var v string
		if h == "host" {
			v = r.Host
		} else {
			vals := slices.Clone(r.Header.Values(h))
			for i := range vals {
				vals[i] = strings.TrimSpace(vals[i])
			}
			slices.Sort(vals)
			v = strings.Join(vals, ",")
		}
		b.WriteString(h + ":" + v + "\n")
	}
	b.WriteString("\n" + strings.Join(signed, ";") + "\n" + payloadHash)
	sum := sha256.Sum256([]byte(b.String()))
	return v3Algorithm + "\n" + hex.EncodeToString(sum[:])
}

// canonicalQuery sorts the query's parameters by name (then value), as the SDK's
// signer does, and encodes names and values as RFC 3986 says (only A-Z a-z 0-9 - _ . ~
// stay as they are).
func canonicalQuery(raw string) string {
	q, _ := url.ParseQuery(raw) // already parsed once: an error cannot happen here
	type pair struct{ k, v string }
	var pairs []pair
	for k, vs := range q {
		for _, v := range vs {
			pairs = append(pairs, pair{k, v})
		}
	}
	slices.SortFunc(pairs, func(a, b pair) int { return cmp.Or(strings.Compare(a.k, b.k), strings.Compare(a.v, b.v)) })
	out := make([]string, len(pairs))
	for i, p := range pairs {
		out[i] = rfc3986(p.k) + "=" + rfc3986(p.v)
	}
	return strings.Join(out, "&")
}

func rfc3986(s string) string {
	return strings.ReplaceAll(url.QueryEscape(s), "+", "%20")
}
