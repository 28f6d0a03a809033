package mns

import (
	"bytes"
	"crypto/hmac"
	"crypto/md5"
	"crypto/sha1"
	"encoding/base64"
	"encoding/hex"
	"encoding/xml"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"
	"time"

	"imageshare/pkg/cloudsim/emu"
	"imageshare/pkg/cloudsim/ram"
)

const (
	apiVersion = "2015-06-06"
	xmlNS      = "http://mns.aliyuncs.com/doc/v1/"
	// maxSkew is how far the Date header may be from the wall clock.
	maxSkew = 15 * time.Minute
	// maxRequestBody bounds what is read: a 64 KB batch whose bodies are all XML
	// escapes (&quot; is 6 bytes) stays well below it.
	maxRequestBody = 8 << 20
)

// exchange is one HTTP call being served.
type exchange struct {
	r               *http.Request
	body            []byte
	query           url.Values
	account, region string
	now             time.Time
}

// result is what an operation answers: status and XML document, or an API error.
type result struct {
	status  int
	doc     any // marshalled as XML; nil: empty body
	headers map[string]string
	err     *emu.APIError
}

func fail(err *emu.APIError) result { return result{err: err} }

// route is an operation recognised from the method, path, query and body root.
type route struct {
	op           string
	queue, topic string
	write        bool // changes state (a receive does: it hides and re-handles messages)
	run          func(m *MNS, x *exchange) result
}

// ServeHTTP serves the MNS REST API for every account and region.
func (m *MNS) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	reqID := emu.NewRequestID()
	w.Header().Set("x-mns-request-id", reqID)
	w.Header().Set("x-mns-version", apiVersion)
	hostID := "http://" + r.Host

	body, err := io.ReadAll(io.LimitReader(r.Body, maxRequestBody+1))
	if err != nil {
		// The client went away mid-request; there is nobody to answer.
		return
	}
	rt, rerr := routeOf(r, body)
	var aerr *emu.APIError
	var caller emu.Identity
	account, region, herr := parseHost(r.Host)
	switch {
	case len(body) > maxRequestBody:
		aerr = emu.Errorf(400, "InvalidArgument", "The request body is too large.")
	case herr != nil:
		aerr = herr
	default:
		caller, aerr = m.authenticate(r, body)
	}
	if aerr == nil && caller.AccountID != account {
		aerr = emu.Errorf(403, "AccessDenied", "The OwnerId that your Access Key Id associated to is forbidden for this operation.")
	}
	if aerr == nil {
		aerr = rerr
	}
	action, denial := ram.ActionOf("mns", rt.op), ""
	if aerr == nil {
		// RAM: the queue or topic is the host account's, in the host's region.
		d, evaluated := ram.Authorize(m.cfg.RAM, caller, "mns", rt.op, ram.Request{Region: region, Account: account,
			Params: map[string]string{"QueueName": rt.queue, "TopicName": rt.topic}})
		if evaluated && !d.Allowed {
			aerr, denial = ram.DeniedMNS(), d.String()
		}
	}
	if aerr != nil {
		m.record(MNSCall{Operation: rt.op, Queue: rt.queue, Topic: rt.topic, Caller: caller, Code: aerr.Code, Status: aerr.HTTPStatus, RAMAction: action, Denial: denial})
		writeError(w, aerr, reqID, hostID)
		return
	}

	apply, killed := true, false
	var gate *emu.APIError // answered instead of the operation's own answer
	if m.isFunction(caller) && m.cfg.Faults != nil {
		d := m.cfg.Faults.Decide("mns:"+rt.op, faultParams(r, body))
		switch {
		case d.Throttle:
			gate, apply = emu.Errorf(403, "QpsLimitExceeded", "The Qps of queue exceed limit."), false
		case d.ServerError:
			gate = emu.Errorf(500, "InternalError", "Internal error.")
			apply = rt.write && d.ApplyWrite
		}
		if d.Kill {
			// The process dies waiting for the answer: a write lands iff the plan says so.
			killed, apply = true, rt.write && d.ApplyWrite
		}
	}

	var res result
	m.mu.Lock()
	now := m.cfg.Clock.Now()
	if apply {
		res = rt.run(m, &exchange{r: r, body: body, query: r.URL.Query(), account: account, region: region, now: now})
	}
	final := gate
	if final == nil {
		final = res.err
	}
	code, status := "", 0
	switch {
	case killed:
		code = "ConnectionAborted"
	case final != nil:
		code, status = final.Code, final.HTTPStatus
	case res.status >= 400:
		// A batch that partly failed answers an error status with a result per item.
		code, status = batchCode(res.doc), res.status
	}
	m.recordLocked(MNSCall{Time: now, Operation: rt.op, Queue: rt.queue, Topic: rt.topic, Caller: caller, Code: code, Status: status, RAMAction: action})
	m.mu.Unlock()

	if killed {
		m.hookMu.RLock()
		hooks := slices.Clone(m.onKill)
		m.hookMu.RUnlock()
		for _, f := range hooks {
			f(caller)
		}
		panic(http.ErrAbortHandler) // the client sees the connection drop
	}
	if final != nil {
		writeError(w, final, reqID, hostID)
		return
	}
	for k, v := range res.headers {
		w.Header().Set(k, v)
	}
	if res.doc == nil {
		w.WriteHeader(res.status)
		return
	}
	writeXML(w, res.status, res.doc)
}

func (m *MNS) record(c MNSCall) {
	m.mu.Lock()
	defer m.mu.Unlock()
	c.Time = m.cfg.Clock.Now()
	m.recordLocked(c)
}

// batchCode is the first item error of a batch answer.
func batchCode(doc any) string {
	switch d := doc.(type) {
	case xmlMessages:
		for _, msg := range d.Messages {
			if msg.ErrorCode != "" {
				return msg.ErrorCode
			}
		}
	case xmlDeleteErrors:
		if len(d.Errors) > 0 {
			return d.Errors[0].ErrorCode
		}
	}
	return ""
}

func (m *MNS) isFunction(id emu.Identity) bool {
	return m.cfg.FunctionRole != "" && id.Type == "assumed-role" && id.RoleName == m.cfg.FunctionRole
}

// faultParams identify a request for the fault plan: what it does to which resource,
// not when or with which credentials it was sent.
func faultParams(r *http.Request, body []byte) map[string]string {
	sum := md5.Sum(body)
	return map[string]string{"host": r.Host, "method": r.Method, "path": r.URL.Path, "query": r.URL.RawQuery,
		"body": hex.EncodeToString(sum[:])}
}

// parseHost reads account and region from <uid>.mns.<region>[-internal[-vpc]].aliyuncs.com.
func parseHost(host string) (account, region string, err *emu.APIError) {
	if h, _, e := net.SplitHostPort(host); e == nil {
		host = h
	}
	p := strings.Split(strings.ToLower(host), ".")
	if len(p) != 5 || p[0] == "" || p[1] != "mns" || p[3] != "aliyuncs" || p[4] != "com" {
		return "", "", emu.Errorf(400, "InvalidRequestURL", "Http request URL format invalid: host %q is not an MNS endpoint.", host)
	}
	region = p[2]
	for _, suffix := range []string{"-internal-vpc", "-internal", "-control"} {
		region = strings.TrimSuffix(region, suffix)
	}
	return p[0], region, nil
}

// authenticate checks the headers and signature of a request as the SDK builds them:
// Authorization "MNS <AccessKeyId>:base64(HMAC-SHA1(secret, StringToSign))".
func (m *MNS) authenticate(r *http.Request, body []byte) (emu.Identity, *emu.APIError) {
	switch v := r.Header.Get("x-mns-version"); {
	case v == "":
		return emu.Identity{}, emu.Errorf(400, "MissingVersionHeader", "Version header is required.")
	case v != apiVersion:
		return emu.Identity{}, emu.Errorf(400, "InvalidVersionHeader", "The version header %q is not supported.", v)
	}
	auth := r.Header.Get("Authorization")
	if auth == "" {
		return emu.Identity{}, emu.Errorf(400, "MissingAuthorizationHeader", "Authorization header is required.")
	}
	rest, ok := strings.CutPrefix(auth, "MNS ")
	ak, sig, ok2 := strings.Cut(rest, ":")
	if !ok || !ok2 || ak == "" || sig == "" {
		return emu.Identity{}, emu.Errorf(400, "InvalidAuthorizationHeader", "The Authorization header format is invalid.")
	}
	date := r.Header.Get("Date")
	if date == "" {
		return emu.Identity{}, emu.Errorf(400, "MissingDateHeader", "Date header is required.")
	}
	sent, err := http.ParseTime(date)
	if err != nil {
		return emu.Identity{}, emu.Errorf(400, "InvalidDateHeader", "The Date header format is invalid.")
	}
	// v1.0.11 sends the STS token as "security-token"; other SDKs as x-mns-security-token.
	token := r.Header.Get("security-token")
	if token == "" {
		token = r.Header.Get("x-mns-security-token")
	}
	cred, kerr := m.cfg.Keys.Lookup(ak, token)
	if kerr != nil {
		msg := "The AccessKey Id you provided is not exist."
		if kerr.Code != "InvalidAccessKeyId.NotFound" {
			msg = "The SecurityToken you provided is not valid: " + kerr.Message
		}
		return emu.Identity{}, emu.Errorf(403, "InvalidAccessKeyId", "%s", msg)
	}
	if md := r.Header.Get("Content-MD5"); md != "" && !contentMD5Matches(md, body) {
		return emu.Identity{}, emu.Errorf(400, "InvalidDegist", "The Content-MD5 you specified is invalid.")
	}
	mac := hmac.New(sha1.New, []byte(cred.AccessKeySecret))
	mac.Write([]byte(stringToSign(r)))
	want := base64.StdEncoding.EncodeToString(mac.Sum(nil))
	if !hmac.Equal([]byte(want), []byte(sig)) {
		return emu.Identity{}, emu.Errorf(403, "SignatureDoesNotMatch", "The request signature we calculated does not match the signature you provided.")
	}
	if skew := time.Since(sent); skew > maxSkew || skew < -maxSkew {
		return emu.Identity{}, emu.Errorf(408, "TimeExpired", "The Http request you have sent is expired.")
	}
	return cred.Identity, nil
}

// contentMD5Matches accepts the SDK's base64 of the hex digest and RFC 1864's base64
// of the raw digest.
func contentMD5Matches(header string, body []byte) bool {
	sum := md5.Sum(body)
	return header == base64.StdEncoding.EncodeToString([]byte(hex.EncodeToString(sum[:]))) ||
		header == base64.StdEncoding.EncodeToString(sum[:])
}

// stringToSign is METHOD, Content-MD5, Content-Type, Date, the sorted x-mns-* headers
// (lower-case name:trimmed value) and the resource (path and raw query), one a line.
func stringToSign(r *http.Request) string {
	var mnsHeaders []string
	for k, vs := range r.Header {
		if lk := strings.ToLower(k); strings.HasPrefix(lk, "x-mns-") {
			mnsHeaders = append(mnsHeaders, lk+":"+strings.TrimSpace(strings.Join(vs, ",")))
		}
	}
	sort.Strings(mnsHeaders)
	resource := r.RequestURI
	if !strings.HasPrefix(resource, "/") { // absolute form, as through a proxy
		resource = r.URL.RequestURI()
	}
	return r.Method + "\n" + r.Header.Get("Content-MD5") + "\n" + r.Header.Get("Content-Type") + "\n" +
		r.Header.Get("Date") + "\n" + strings.Join(mnsHeaders, "\n") + "\n" + resource
}

// rootElement returns the name of the document element of body ("" if none).
func rootElement(body []byte) string {
	d := xml.NewDecoder(bytes.NewReader(body))
	for {
		tok, err := d.Token()
		if err != nil {
			return ""
		}
		if se, ok := tok.(xml.StartElement); ok {
			return se.Name.Local
		}
	}
}

// routeOf recognises the operation. An unknown one comes back with an error (and the
// operation "Unknown") so that it is still authenticated and recorded.
func routeOf(r *http.Request, body []byte) (route, *emu.APIError) {
	seg := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	q := r.URL.Query()
	has := func(k string) bool { _, ok := q[k]; return ok }
	unknown := route{op: "Unknown"}
	bad := emu.Errorf(400, "InvalidRequestURL", "Http request URL format invalid.")
	switch {
	case len(seg) == 1 && seg[0] == "queues" && r.Method == http.MethodGet:
		return route{op: "ListQueue", run: (*MNS).listQueues}, nil
	case len(seg) == 1 && seg[0] == "topics" && r.Method == http.MethodGet:
		return route{op: "ListTopic", run: (*MNS).listTopics}, nil
	case len(seg) == 2 && seg[0] == "queues":
		rt := route{queue: seg[1]}
		switch {
		case r.Method == http.MethodPut && q.Get("metaoverride") == "true":
			rt.op, rt.write, rt.run = "SetQueueAttributes", true, (*MNS).setQueueAttributes
		case r.Method == http.MethodPut:
			rt.op, rt.write, rt.run = "CreateQueue", true, (*MNS).createQueue
		case r.Method == http.MethodGet:
			rt.op, rt.run = "GetQueueAttributes", (*MNS).getQueueAttributes
		case r.Method == http.MethodDelete:
			rt.op, rt.write, rt.run = "DeleteQueue", true, (*MNS).deleteQueue
		default:
			return unknown, bad
		}
		return rt, nil
	case len(seg) == 3 && seg[0] == "queues" && seg[2] == "messages":
		rt := route{queue: seg[1]}
		switch r.Method {
		case http.MethodPost:
			rt.op, rt.write, rt.run = "SendMessage", true, (*MNS).sendMessage
			if rootElement(body) == "Messages" {
				rt.op, rt.run = "BatchSendMessage", (*MNS).batchSendMessage
			}
		case http.MethodGet:
			batch := has("numOfMessages")
			switch {
			case q.Get("peekonly") == "true" && batch:
				rt.op, rt.run = "BatchPeekMessage", (*MNS).peekMessages
			case q.Get("peekonly") == "true":
				rt.op, rt.run = "PeekMessage", (*MNS).peekMessages
			case batch:
				rt.op, rt.write, rt.run = "BatchReceiveMessage", true, (*MNS).receiveMessages
			default:
				rt.op, rt.write, rt.run = "ReceiveMessage", true, (*MNS).receiveMessages
			}
		case http.MethodDelete:
			rt.op, rt.write, rt.run = "BatchDeleteMessage", true, (*MNS).batchDeleteMessage
			if has("ReceiptHandle") {
				rt.op, rt.run = "DeleteMessage", (*MNS).deleteMessage
			}
		case http.MethodPut:
			rt.op, rt.write, rt.run = "ChangeMessageVisibility", true, (*MNS).changeMessageVisibility
		default:
			return unknown, bad
		}
		return rt, nil
	case len(seg) == 2 && seg[0] == "topics":
		rt := route{topic: seg[1]}
		switch {
		case r.Method == http.MethodPut && q.Get("metaoverride") == "true":
			rt.op, rt.write, rt.run = "SetTopicAttributes", true, (*MNS).setTopicAttributes
		case r.Method == http.MethodPut:
			rt.op, rt.write, rt.run = "CreateTopic", true, (*MNS).createTopic
		case r.Method == http.MethodGet:
			rt.op, rt.run = "GetTopicAttributes", (*MNS).getTopicAttributes
		case r.Method == http.MethodDelete:
			rt.op, rt.write, rt.run = "DeleteTopic", true, (*MNS).deleteTopic
		default:
			return unknown, bad
		}
		return rt, nil
	case len(seg) == 3 && seg[0] == "topics" && seg[2] == "messages" && r.Method == http.MethodPost:
		return route{op: "PublishMessage", topic: seg[1], write: true, run: (*MNS).publishMessage}, nil
	}
	return unknown, bad
}

func writeXML(w http.ResponseWriter, status int, doc any) {
	out, err := xml.Marshal(doc)
	if err != nil {
		// Only our own response types are marshalled; failing here is a bug.
		panic("mns: marshal response: " + err.Error())
	}
	w.Header().Set("Content-Type", "text/xml;charset=utf-8")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, xml.Header)
	_, _ = w.Write(out)
}

type xmlError struct {
	XMLName   xml.Name `xml:"Error"`
	Xmlns     string   `xml:"xmlns,attr"`
	Code      string   `xml:"Code"`
	Message   string   `xml:"Message"`
	RequestID string   `xml:"RequestId"`
	HostID    string   `xml:"HostId"`
}

func writeError(w http.ResponseWriter, e *emu.APIError, reqID, hostID string) {
	writeXML(w, e.HTTPStatus, xmlError{Xmlns: xmlNS, Code: e.Code, Message: e.Message, RequestID: reqID, HostID: hostID})
}
