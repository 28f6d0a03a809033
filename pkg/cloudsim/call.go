package cloudsim

import (
	"crypto/rand"
	"fmt"
	"hash/fnv"
	"maps"
	"math/big"
	"slices"
	"strconv"
	"strings"
	"time"

	"imageshare/pkg/cloudsim/emu"
	"imageshare/pkg/cloudsim/ram"
)

// API versions per product.
var versions = map[string]string{
	"ecs":             "2014-05-26",
	"resourcemanager": "2020-03-31",
	"resourcesharing": "2020-01-10",
}

// actionFn applies one action under the state lock. It returns the response body
// (without RequestId) or an API error; an error means nothing was changed.
type actionFn func(c *Cloud, x *exec) (map[string]any, *emu.APIError)

type actionSpec struct {
	fn    actionFn
	write bool
}

// actions is filled by ecs.go, rm.go and rs.go.
var actions = map[string]map[string]actionSpec{}

func register(product string, write bool, specs map[string]actionFn) {
	if actions[product] == nil {
		actions[product] = map[string]actionSpec{}
	}
	for name, fn := range specs {
		actions[product][name] = actionSpec{fn: fn, write: write}
	}
}

// request is one call, from HTTP or from the sandbox.
type request struct {
	caller          emu.Identity
	product, action string
	params          map[string]string
	sourceIP        string
	userAgent       string
	// internal: a transition of the cloud itself (no latency, no QPS).
	internal bool
	// Knobs the API has no parameter for (person steps).
	imageID    string
	readyAfter *time.Duration
	accountID  string
	acceptFor  *time.Duration
	// acceptFolder: where an invitee lands when it accepts (the API has no folder).
	acceptFolder string
}

// exec is the context of one action being applied.
type exec struct {
	req    *request
	caller emu.Identity
	params map[string]string
	region string
	now    time.Time
	reqID  string
	// respElems: ActionTrail responseElements (default {"RequestId"}).
	respElems map[string]any
	events    []Event
}

type outcome struct {
	resp   map[string]any
	reqID  string
	err    *emu.APIError
	killed bool
}

func (x *exec) p(name string) string { return x.params[name] }

// isFunction reports whether caller is the functions' role.
func (c *Cloud) isFunction(id emu.Identity) bool {
	return c.cfg.FunctionRole != "" && id.Type == "assumed-role" && id.RoleName == c.cfg.FunctionRole
}

// Call is the one dispatcher behind the HTTP handlers. It applies QPS limits, RAM (for
// RAM users and assumed roles), and for the functions' calls faults; records the call; applies the action; emits
// the ActionTrail events; and returns the response body (without RequestId) or an
// *APIError. A kill fault runs the OnKill hooks and, where the HTTP handler would abort
// the connection, answers ConnectionAborted (status 0).
func (c *Cloud) Call(caller emu.Identity, product, action string, params map[string]string) (map[string]any, string, *emu.APIError) {
	out := c.do(request{caller: caller, product: product, action: action, params: params})
	if out.killed {
		return nil, out.reqID, &emu.APIError{Code: "ConnectionAborted", Message: "The connection was aborted."}
	}
	return out.resp, out.reqID, out.err
}

// CreateImageAs is a person's CreateImage with a chosen image id and ready delay.
func (c *Cloud) CreateImageAs(caller emu.Identity, region, imageID string, tags map[string]string, readyAfter time.Duration) *emu.APIError {
	// CreateImage needs a source (SnapshotId, InstanceId or DiskDeviceMapping); instances
	// are not emulated, so any instance ID serves.
	params := map[string]string{"RegionId": region, "ImageName": imageID, "InstanceId": "i-" + strings.TrimPrefix(imageID, "m-")}
	for i, k := range slices.Sorted(maps.Keys(tags)) {
		params[fmt.Sprintf("Tag.%d.Key", i+1)] = k
		params[fmt.Sprintf("Tag.%d.Value", i+1)] = tags[k]
	}
	return c.do(request{caller: caller, product: "ecs", action: "CreateImage", params: params, imageID: imageID, readyAfter: &readyAfter}).err
}

// CreateAccountAs is a person's CreateResourceAccount with a chosen account id.
func (c *Cloud) CreateAccountAs(caller emu.Identity, acc, folder string) *emu.APIError {
	params := map[string]string{"DisplayName": "account-" + acc, "ParentFolderId": folder}
	return c.do(request{caller: caller, product: "resourcemanager", action: "CreateResourceAccount", params: params, accountID: acc}).err
}

// InviteAccountAs is a person's InviteAccountToResourceDirectory; after acceptAfter the
// invitee accepts (an AcceptHandshake event on the invitee's bus) and joins folder.
func (c *Cloud) InviteAccountAs(caller emu.Identity, acc, folder string, acceptAfter time.Duration) *emu.APIError {
	params := map[string]string{"TargetEntity": acc, "TargetType": "Account"}
	return c.do(request{caller: caller, product: "resourcemanager", action: "InviteAccountToResourceDirectory", params: params,
		acceptFor: &acceptAfter, acceptFolder: folder}).err
}

// do runs one request through QPS, RAM, faults, the action, the records and events.
func (c *Cloud) do(r request) outcome {
	reqID := emu.NewRequestID()
	spec, ok := c.spec(r.product, r.action)
	if !ok {
		return outcome{reqID: reqID, err: emu.Errorf(404, "InvalidAction.NotFound", "Specified api is not found, please check your url and method.")}
	}
	if r.params == nil {
		r.params = map[string]string{}
	}
	if c.cfg.Latency > 0 && !r.internal {
		time.Sleep(c.cfg.Latency)
	}
	isFn := c.isFunction(r.caller)
	key := r.product + ":" + r.action

	var gate *emu.APIError // an answer given instead of the action's own
	apply := true
	killed := false
	denial := ""
	if !r.internal && !c.allowQPS(r.action) {
		gate, apply = throttled(), false
	} else if d, evaluated := c.authorize(r); evaluated && !d.Allowed {
		gate, apply, denial = ram.Denied(r.product, d, r.caller), false, d.String()
	} else if isFn && c.cfg.Faults != nil {
		d := c.cfg.Faults.Decide(key, r.params)
		switch {
		case d.Throttle:
			gate, apply = throttled(), false
		case d.ServerError:
			gate = serverError(key, r.params, d.Attempt)
			apply = spec.write && d.ApplyWrite
		}
		if d.Kill {
			// The process dies waiting for the answer: a write lands iff the plan says so.
			killed = true
			apply = spec.write && d.ApplyWrite
		}
	}

	c.mu.Lock()
	now := c.clock.Now()
	c.purge(now)
	c.callSeq++
	seq := c.callSeq // shared by the call's CallRecord and WriteRecord
	x := &exec{req: &r, caller: r.caller, params: r.params, region: r.params["RegionId"], now: now, reqID: reqID}
	var resp map[string]any
	var actErr *emu.APIError
	var writes []WriteRecord
	applied, dryRun := false, false
	if apply {
		// The request's contract comes first: the action sees only valid requests, and
		// a valid dry run changes nothing.
		x.params, dryRun, actErr = enforce(r.product, r.action, r.params)
		if dryRun {
			actErr = dryRunOperation()
		}
	}
	if apply && actErr == nil {
		track := c.cfg.TrackAccess && isFn && spec.write
		var before map[string]map[string]bool
		var directBefore map[string]int
		if track {
			before = c.snapshotLocked(x.region, r.product)
			directBefore = c.directCountsLocked(x.region, r.product)
		}
		resp, actErr = spec.fn(c, x)
		applied = actErr == nil
		if applied && track {
			writes = append(writes, WriteRecord{Seq: seq, Time: now, Action: r.action, RequestID: reqID, Region: x.region,
				Params: maps.Clone(r.params), Caller: r.caller, Before: before, After: c.snapshotLocked(x.region, r.product),
				DirectBefore: directBefore, DirectAfter: c.directCountsLocked(x.region, r.product)})
		}
	}
	final := gate
	if final == nil {
		final = actErr
	}
	code := ""
	if killed {
		code = "ConnectionAborted"
	} else if final != nil {
		code = final.Code
	}
	status := 0
	if final != nil && !killed {
		status = final.HTTPStatus
	}
	c.calls = append(c.calls, CallRecord{Seq: seq, Time: now, Product: r.product, Action: r.action, Params: maps.Clone(r.params),
		Caller: r.caller, Code: code, Status: status, RequestID: reqID, Write: spec.write, RAMAction: ram.ActionOf(r.product, r.action), Denial: denial})
	if code != "" && !emu.Listed(r.product, r.action, code, status) {
		c.unlisted = append(c.unlisted, fmt.Sprintf("%s:%s answered %s (HTTP %d), which the error catalogue does not list", r.product, r.action, code, status))
	}
	evs := x.events
	var trailAccount string
	var trailRecord map[string]any
	if spec.write {
		// A write that took effect is logged as a success whatever the client saw; one
		// that did not is logged with its error, except a killed one (never answered)
		// and a dry run (which only checks the request). ActionTrail records every
		// product's writes; only ECS's and Resource Management's reach the bus.
		switch {
		case applied:
			trailAccount, trailRecord = c.trailRecordLocked(x, "", "")
		case killed, dryRun:
		case final != nil:
			trailAccount, trailRecord = c.trailRecordLocked(x, final.Code, final.Message)
		}
		if trailRecord != nil && (r.product == "ecs" || r.product == "resourcemanager") {
			evs = append(evs, actionTrailEvent(x, trailAccount, trailRecord))
		}
	}
	c.mu.Unlock()
	if trailRecord != nil && c.cfg.Trail != nil {
		c.cfg.Trail.Record(trailAccount, trailRecord)
	}

	c.dispatch(evs, writes)
	if killed {
		c.hookMu.RLock()
		hooks := slices.Clone(c.onKill)
		c.hookMu.RUnlock()
		for _, f := range hooks {
			f(r.caller)
		}
		return outcome{reqID: reqID, killed: true}
	}
	if final != nil {
		return outcome{reqID: reqID, err: final}
	}
	if resp == nil {
		resp = map[string]any{}
	}
	return outcome{resp: resp, reqID: reqID}
}

// authorize evaluates RAM for a request (internal transitions of the cloud are not
// calls). The ARN's account is the caller's: every resource acted on is its own.
func (c *Cloud) authorize(r request) (ram.Decision, bool) {
	if r.internal {
		return ram.Decision{Allowed: true}, false
	}
	region := r.params["RegionId"]
	if r.product == "resourcemanager" {
		region = "" // a global service: its ARNs carry no region
	}
	return ram.Authorize(c.cfg.RAM, r.caller, r.product, r.action,
		ram.Request{Region: region, Account: r.caller.AccountID, Params: r.params, Paths: paths{c}})
}

// paths resolves Resource Directory paths for the ARNs of Resource Manager calls.
type paths struct{ c *Cloud }

func (p paths) AccountPath(id string) (string, bool) {
	p.c.mu.Lock()
	defer p.c.mu.Unlock()
	a := p.c.accounts[id]
	if a == nil || a.Folder == "" || p.c.dir == nil {
		return "", false
	}
	return p.c.path(a), true
}

func (p paths) FolderPath(id string) (string, bool) {
	p.c.mu.Lock()
	defer p.c.mu.Unlock()
	if !p.c.folderExists(id) {
		return "", false
	}
	return strings.Join(append([]string{p.c.dir.ID}, p.c.chain(id)...), "/"), true
}

func throttled() *emu.APIError {
	return emu.Errorf(400, "Throttling.User", "Request was denied due to user flow control.")
}

// serverError alternates between the two 5xx answers by a hash of the request.
func serverError(key string, params map[string]string, attempt int) *emu.APIError {
	h := fnv.New32a()
	h.Write([]byte(key))
	for _, k := range slices.Sorted(maps.Keys(params)) {
		h.Write([]byte(k + "=" + params[k] + "\x00"))
	}
	fmt.Fprint(h, attempt)
	if h.Sum32()%2 == 0 {
		return emu.Errorf(503, "ServiceUnavailable", "The request has failed due to a temporary failure of the server.")
	}
	return emu.Errorf(500, "InternalError", "The request processing has failed due to some unknown error, exception or failure.")
}

// snapshotLocked returns, for every image the write may touch (its region's; every
// region's for global calls), the accounts with access.
func (c *Cloud) snapshotLocked(region, product string) map[string]map[string]bool {
	out := map[string]map[string]bool{}
	for rn, r := range c.regions {
		if product != "resourcemanager" && region != "" && rn != region {
			continue
		}
		for id, im := range r.images {
			out[id] = c.accessLocked(im)
		}
	}
	return out
}

// directCountsLocked returns, for the images snapshotLocked covers, how many accounts
// each is shared with directly.
func (c *Cloud) directCountsLocked(region, product string) map[string]int {
	out := map[string]int{}
	for rn, r := range c.regions {
		if product != "resourcemanager" && region != "" && rn != region {
			continue
		}
		for id, im := range r.images {
			out[id] = len(im.Direct)
		}
	}
	return out
}

// ---- QPS ----

type bucket struct {
	tokens float64
	last   time.Time
}

// allowQPS takes a token of action's bucket (real time: QPS protects real resources).
func (c *Cloud) allowQPS(action string) bool {
	rate, ok := c.cfg.QPS[action]
	if !ok || rate <= 0 {
		return true
	}
	c.qpsMu.Lock()
	defer c.qpsMu.Unlock()
	now := time.Now()
	burst := max(1, rate)
	b := c.buckets[action]
	if b == nil {
		b = &bucket{tokens: burst, last: now}
		c.buckets[action] = b
	}
	b.tokens = min(burst, b.tokens+now.Sub(b.last).Seconds()*rate)
	b.last = now
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

// ---- parameters ----

// list returns the values of a repeated parameter name.1, name.2, … in index order.
func list(params map[string]string, name string) []string {
	type iv struct {
		i int
		v string
	}
	var items []iv
	prefix := name + "."
	for k, v := range params {
		if rest, ok := strings.CutPrefix(k, prefix); ok {
			var n int
			if _, err := fmt.Sscanf(rest, "%d", &n); err == nil && fmt.Sprint(n) == rest && n > 0 {
				items = append(items, iv{n, v})
			}
		}
	}
	slices.SortFunc(items, func(a, b iv) int { return a.i - b.i })
	out := make([]string, len(items))
	for i, it := range items {
		out[i] = it.v
	}
	return out
}

// structs returns the elements of a repeated struct parameter (name.N.Field) in index
// order, each as field → value.
func structs(params map[string]string, name string) []map[string]string {
	byIndex := map[int]map[string]string{}
	prefix := name + "."
	for k, v := range params {
		rest, ok := strings.CutPrefix(k, prefix)
		if !ok {
			continue
		}
		num, field, ok := strings.Cut(rest, ".")
		if !ok {
			continue
		}
		var n int
		if _, err := fmt.Sscanf(num, "%d", &n); err != nil || fmt.Sprint(n) != num || n <= 0 {
			continue
		}
		if byIndex[n] == nil {
			byIndex[n] = map[string]string{}
		}
		byIndex[n][field] = v
	}
	idx := slices.Sorted(maps.Keys(byIndex))
	out := make([]map[string]string, len(idx))
	for i, n := range idx {
		out[i] = byIndex[n]
	}
	return out
}

// intOr reads an integer parameter whose range the contract checked, or def.
func intOr(params map[string]string, name string, def int) int {
	if n, err := strconv.Atoi(params[name]); err == nil {
		return n
	}
	return def
}

func boolParam(params map[string]string, name string) bool {
	return strings.EqualFold(params[name], "true")
}

// splitList splits a comma-separated parameter, dropping empty items.
func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

const alnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

func randomFrom(alphabet string, n int) string {
	b := make([]byte, n)
	for i := range b {
		k, _ := rand.Int(rand.Reader, big.NewInt(int64(len(alphabet))))
		b[i] = alphabet[k.Int64()]
	}
	return string(b)
}

func randomAlnum(n int) string { return randomFrom(alnum, n) }

// missing is the answer to a required envelope parameter (Action, Version, …) left out.
func missing(name string) *emu.APIError {
	return emu.Errorf(400, "MissingParameter", "The input parameter %q that is mandatory for processing this request is not supplied.", name)
}
