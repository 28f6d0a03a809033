// Package fcruntime runs functions as local processes that speak the Function Compute
// runtime API, as github.com/aliyun/fc-runtime-go-sdk (v0.3.1) does under FC:
//
//   - the process gets FC_RUNTIME_API=host:port (one HTTP listener per instance);
//   - GET /2020-11-11/runtime/invocation/next blocks until an invocation is handed out,
//     and answers with the payload as the body and the invocation in x-fc-* headers
//     (the SDK fails an invocation without x-fc-function-deadline, in milliseconds
//     since the epoch by the wall clock, and x-fc-function-timeout, in seconds);
//   - POST /2020-11-11/runtime/invocation/{id}/response or /{id}/error ends it; an
//     error body is {"errorMessage", "errorType"}.
//
// The SDK calls next again as soon as it has handed an invocation to a goroutine, so
// one process could take any number; the runtime hands an instance at most
// InstanceConcurrency invocations at once, and starts up to MaxInstances instances.
// An instance whose process dies, or whose invocation times out (the process is then
// killed), fails its invocations with Crashed set and is replaced on demand.
//
// Processes get only PATH from the host's environment, plus the spec's Env and the FC_*
// variables, so host credentials never reach a function.
//
// Output: every line a process writes to stdout or stderr is passed to logf. Before
// an invocation's result is returned, every line the process wrote before posting the
// result (or before dying) has been passed to logf.
package fcruntime

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"time"
)

// FunctionSpec describes a function.
type FunctionSpec struct {
	Name string
	// Command is the argv that starts an instance.
	Command []string
	// Env holds extra KEY=VALUE entries.
	Env []string
	// Timeout of one invocation (default 3s, as FC), counted from when it is given to
	// an instance.
	Timeout             time.Duration
	MemoryMB            int
	Handler             string
	InstanceConcurrency int // default 1
	MaxInstances        int // default 1
}

// Credentials are the temporary credentials of one invocation.
type Credentials struct {
	AccessKeyID, AccessKeySecret, SecurityToken string
}

// Invocation is one call of a function.
type Invocation struct {
	Payload     []byte
	Credentials Credentials
	Region      string
	AccountID   string
	RetryCount  int
	// RequestID is generated when empty; it must not be in flight already.
	RequestID string
}

// Result is the outcome of an invocation.
type Result struct {
	Payload []byte
	Error   *FunctionError // nil: success
}

// FunctionError is a failed invocation.
type FunctionError struct {
	// Type is the errorType the function reported, or for a crash one of
	// "ProcessExited", "FunctionTimeout", "InstanceKilled", "Cancelled", "RuntimeClosed".
	Type, Message string
	// Crashed: the process died, was killed or timed out.
	Crashed bool
}

func (e *FunctionError) Error() string {
	if e.Crashed {
		return fmt.Sprintf("function crashed (%s): %s", e.Type, e.Message)
	}
	return fmt.Sprintf("function error (%s): %s", e.Type, e.Message)
}

// FunctionStats counts what happened to one function.
type FunctionStats struct {
	Starts      int // processes started
	Invocations int // invocations given to an instance
	Crashes     int // instances that died or were killed, other than by Close
	// ColdStarts: per instance, process start to its first GET next.
	ColdStarts []time.Duration
}

// ErrClosed is returned by Invoke once Close has been called.
var ErrClosed = errors.New("fcruntime: runtime closed")

const (
	apiPrefix      = "/2020-11-11/runtime/invocation/"
	defaultTimeout = 3 * time.Second
	maxBody        = 32 << 20
)

// Runtime runs registered functions. Its methods are safe for concurrent use.
type Runtime struct {
	logf func(function string, instance int, line []byte)

	mu       sync.Mutex
	funcs    map[string]*function
	calls    map[string]*call // assigned and not resolved, by request ID
	closed   bool
	inflight int
	reapers  sync.WaitGroup

	// omitHeaders drops invocation headers (tests show the SDK needs them).
	omitHeaders map[string]bool
}

type function struct {
	spec      FunctionSpec
	instances []*instance
	nextID    int
	wake      chan struct{} // closed when a slot may have freed
	stats     FunctionStats
}

type instance struct {
	id      int
	fn      *function
	cmd     *exec.Cmd
	srv     *http.Server
	pending chan *call
	calls   map[string]*call
	dead    chan struct{}
	started time.Time
	sawNext bool
	waiting int  // GET next requests waiting for an invocation
	dying   bool // killed, not yet reaped
	closing bool // killed by Close
	reasons map[string]*FunctionError
	pipes   []*logPipe
}

type call struct {
	id       string
	inv      Invocation
	inst     *instance
	deadline time.Time
	timer    *time.Timer
	done     chan Result
	resolved bool
}

// NewRuntime returns a runtime; logf receives each output line of every process (it
// may be called from several goroutines at once, and should return quickly).
func NewRuntime(logf func(function string, instance int, line []byte)) *Runtime {
	if logf == nil {
		logf = func(string, int, []byte) {}
	}
	return &Runtime{logf: logf, funcs: map[string]*function{}, calls: map[string]*call{}}
}

// Register adds a function; defaults are filled in.
func (r *Runtime) Register(spec FunctionSpec) error {
	if spec.Name == "" {
		return errors.New("fcruntime: function name is empty")
	}
	if len(spec.Command) == 0 || spec.Command[0] == "" {
		return fmt.Errorf("fcruntime: function %s: empty command", spec.Name)
	}
	if spec.Timeout <= 0 {
		spec.Timeout = defaultTimeout
	}
	if spec.InstanceConcurrency <= 0 {
		spec.InstanceConcurrency = 1
	}
	if spec.MaxInstances <= 0 {
		spec.MaxInstances = 1
	}
	spec.Command = append([]string(nil), spec.Command...)
	spec.Env = append([]string(nil), spec.Env...)
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return ErrClosed
	}
	if _, dup := r.funcs[spec.Name]; dup {
		return fmt.Errorf("fcruntime: function %s registered twice", spec.Name)
	}
	r.funcs[spec.Name] = &function{spec: spec, wake: make(chan struct{})}
	return nil
}

func newRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	h := hex.EncodeToString(b[:])
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// Invoke runs one invocation and waits for its result. It starts an instance when none
// has a free slot and MaxInstances allows, or waits for a slot. A function error or a
// crash is a Result with Error set; the error return is for the runtime's own failures
// (unknown function, ctx done, closed, process could not start).
func (r *Runtime) Invoke(ctx context.Context, name string, inv Invocation) (Result, error) {
	if err := ctx.Err(); err != nil {
		return Result{}, err
	}
	r.mu.Lock()
	fn, ok := r.funcs[name]
	if !ok {
		r.mu.Unlock()
		return Result{}, fmt.Errorf("fcruntime: unknown function %q", name)
	}
	if inv.RequestID == "" {
		inv.RequestID = newRequestID()
	}
	if _, dup := r.calls[inv.RequestID]; dup {
		r.mu.Unlock()
		return Result{}, fmt.Errorf("fcruntime: request %s is already in flight", inv.RequestID)
	}
	r.inflight++
	defer func() {
		r.mu.Lock()
		r.inflight--
		r.mu.Unlock()
	}()
	var inst *instance
	for inst == nil {
		if r.closed {
			r.mu.Unlock()
			return Result{}, ErrClosed
		}
		inst = fn.freeInstance()
		if inst == nil && len(fn.instances) < fn.spec.MaxInstances {
			var err error
			if inst, err = r.startInstance(fn); err != nil {
				r.mu.Unlock()
				return Result{}, err
			}
		}
		if inst == nil {
			wake := fn.wake
			r.mu.Unlock()
			select {
			case <-wake:
			case <-ctx.Done():
				return Result{}, ctx.Err()
			}
			r.mu.Lock()
		}
	}
	c := &call{id: inv.RequestID, inv: inv, inst: inst, done: make(chan Result, 1),
		deadline: time.Now().Add(fn.spec.Timeout)}
	inst.calls[c.id] = c
	r.calls[c.id] = c
	fn.stats.Invocations++
	c.timer = time.AfterFunc(fn.spec.Timeout, func() { r.onTimeout(c) })
	inst.pending <- c // never blocks: at most InstanceConcurrency calls per instance
	r.mu.Unlock()

	select {
	case res := <-c.done:
		if res.Error != nil && res.Error.Type == "RuntimeClosed" {
			return res, ErrClosed
		}
		return res, nil
	case <-ctx.Done():
		r.mu.Lock()
		if !c.resolved {
			r.killLocked(inst, c.id, &FunctionError{Type: "Cancelled", Message: "the caller gave up on the invocation", Crashed: true})
		}
		r.mu.Unlock()
		return Result{}, ctx.Err()
	}
}

// freeInstance returns a live instance with a free slot, preferring the busiest (so
// idle instances are not woken needlessly).
func (fn *function) freeInstance() *instance {
	var best *instance
	for _, in := range fn.instances {
		if in.dying || len(in.calls) >= fn.spec.InstanceConcurrency {
			continue
		}
		if best == nil || len(in.calls) > len(best.calls) {
			best = in
		}
	}
	return best
}

func (fn *function) notify() {
	close(fn.wake)
	fn.wake = make(chan struct{})
}

// resolve ends a call once; r.mu must be held.
func (r *Runtime) resolve(c *call, res Result) {
	if c.resolved {
		return
	}
	c.resolved = true
	c.timer.Stop()
	delete(c.inst.calls, c.id)
	delete(r.calls, c.id)
	c.done <- res
	c.inst.fn.notify()
}

func (r *Runtime) onTimeout(c *call) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if c.resolved {
		return
	}
	t := c.inst.fn.spec.Timeout
	r.killLocked(c.inst, c.id, &FunctionError{Type: "FunctionTimeout",
		Message: fmt.Sprintf("the invocation did not finish within %s; the instance was killed", t), Crashed: true})
}

// killLocked kills an instance's process; reason (if any) is what call id gets.
func (r *Runtime) killLocked(inst *instance, id string, reason *FunctionError) {
	if id != "" && reason != nil {
		if _, set := inst.reasons[id]; !set {
			inst.reasons[id] = reason
		}
	}
	if inst.dying {
		return
	}
	inst.dying = true
	_ = inst.cmd.Process.Kill() // an error means it is already gone; the reaper sees that
}

// KillInvocation kills the process running the invocation (a fault); it reports
// whether the invocation was in flight on an instance.
func (r *Runtime) KillInvocation(requestID string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	c, ok := r.calls[requestID]
	if !ok || c.resolved {
		return false
	}
	r.killLocked(c.inst, c.id, &FunctionError{Type: "InstanceKilled", Message: "the function process was killed during the invocation", Crashed: true})
	return true
}

// InFlight is the number of Invoke calls that have not returned.
func (r *Runtime) InFlight() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.inflight
}

// Stats returns a copy of the counters of every function.
func (r *Runtime) Stats() map[string]FunctionStats {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make(map[string]FunctionStats, len(r.funcs))
	for name, fn := range r.funcs {
		s := fn.stats
		s.ColdStarts = append([]time.Duration(nil), s.ColdStarts...)
		out[name] = s
	}
	return out
}

// Close kills every process and waits until they are reaped and their output is
// delivered. Invocations in flight return ErrClosed.
func (r *Runtime) Close() error {
	r.mu.Lock()
	r.closed = true
	for _, fn := range r.funcs {
		for _, in := range fn.instances {
			in.closing = true
			r.killLocked(in, "", nil)
		}
		fn.notify()
	}
	r.mu.Unlock()
	r.reapers.Wait()
	return nil
}

// startInstance starts a process for fn; r.mu must be held.
func (r *Runtime) startInstance(fn *function) (*instance, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("fcruntime: %s: listen: %w", fn.spec.Name, err)
	}
	fn.nextID++
	in := &instance{id: fn.nextID, fn: fn, pending: make(chan *call, fn.spec.InstanceConcurrency),
		calls: map[string]*call{}, dead: make(chan struct{}), reasons: map[string]*FunctionError{}}
	in.srv = &http.Server{Handler: r.handler(in), ReadHeaderTimeout: time.Minute}
	go func() { _ = in.srv.Serve(ln) }() // returns when the server is closed

	spec := fn.spec
	cmd := exec.Command(spec.Command[0], spec.Command[1:]...)
	env := []string{"PATH=" + os.Getenv("PATH"),
		"FC_FUNCTION_NAME=" + spec.Name,
		"FC_FUNCTION_HANDLER=" + spec.Handler,
		"FC_FUNCTION_MEMORY_SIZE=" + strconv.Itoa(spec.MemoryMB),
		"FC_INSTANCE_ID=" + fmt.Sprintf("%s-%d", spec.Name, in.id)}
	env = append(env, spec.Env...)
	cmd.Env = append(env, "FC_RUNTIME_API="+ln.Addr().String())

	var writers []*os.File
	closeAll := func() {
		for _, w := range writers {
			_ = w.Close()
		}
		for _, p := range in.pipes {
			p.close()
		}
	}
	for _, dst := range []*io.Writer{&cmd.Stdout, &cmd.Stderr} {
		rd, wr, err := os.Pipe()
		if err != nil {
			closeAll()
			_ = in.srv.Close()
			return nil, fmt.Errorf("fcruntime: %s: pipe: %w", spec.Name, err)
		}
		writers = append(writers, wr)
		*dst = wr
		id := in.id
		p, err := newLogPipe(rd, func(line []byte) { r.logf(spec.Name, id, line) })
		if err != nil {
			_ = rd.Close()
			closeAll()
			_ = in.srv.Close()
			return nil, fmt.Errorf("fcruntime: %s: %w", spec.Name, err)
		}
		in.pipes = append(in.pipes, p)
	}
	in.started = time.Now()
	if err := cmd.Start(); err != nil {
		closeAll()
		_ = in.srv.Close()
		return nil, fmt.Errorf("fcruntime: %s: start %v: %w", spec.Name, spec.Command, err)
	}
	for _, w := range writers { // the child holds its own copies
		_ = w.Close()
	}
	in.cmd = cmd
	for _, p := range in.pipes {
		go p.run()
	}
	fn.instances = append(fn.instances, in)
	fn.stats.Starts++
	r.reapers.Add(1)
	go r.reap(in)
	return in, nil
}

// reap waits for the process to end, then fails its remaining calls.
func (r *Runtime) reap(in *instance) {
	defer r.reapers.Done()
	werr := in.cmd.Wait()
	for _, p := range in.pipes {
		p.sync() // what the process wrote before it died comes first
	}
	r.mu.Lock()
	close(in.dead)
	fn := in.fn
	for i, x := range fn.instances {
		if x == in {
			fn.instances = append(fn.instances[:i], fn.instances[i+1:]...)
			break
		}
	}
	if !in.closing {
		fn.stats.Crashes++
	}
	for _, c := range in.calls {
		reason := in.reasons[c.id]
		switch {
		case reason != nil:
		case in.closing:
			reason = &FunctionError{Type: "RuntimeClosed", Message: "the runtime was closed during the invocation", Crashed: true}
		default:
			reason = &FunctionError{Type: "ProcessExited", Message: fmt.Sprintf("the function process ended during the invocation: %v", exitText(werr)), Crashed: true}
		}
		r.resolve(c, Result{Error: reason})
	}
	fn.notify()
	r.mu.Unlock()
	_ = in.srv.Close()
	for _, p := range in.pipes {
		p.close()
	}
}

func exitText(err error) string {
	if err == nil {
		return "exit status 0"
	}
	return err.Error()
}

func (r *Runtime) handler(in *instance) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		rest, ok := strings.CutPrefix(req.URL.Path, apiPrefix)
		switch {
		case !ok:
			http.NotFound(w, req)
		case rest == "next" && req.Method == http.MethodGet:
			r.next(in, w, req)
		case req.Method == http.MethodPost && strings.HasSuffix(rest, "/response"):
			r.finish(in, w, req, strings.TrimSuffix(rest, "/response"), false)
		case req.Method == http.MethodPost && strings.HasSuffix(rest, "/error"):
			r.finish(in, w, req, strings.TrimSuffix(rest, "/error"), true)
		default:
			http.NotFound(w, req)
		}
	})
}

func (r *Runtime) next(in *instance, w http.ResponseWriter, req *http.Request) {
	r.mu.Lock()
	if !in.sawNext {
		in.sawNext = true
		in.fn.stats.ColdStarts = append(in.fn.stats.ColdStarts, time.Since(in.started))
	}
	in.waiting++
	r.mu.Unlock()
	taken := false
	defer func() {
		if !taken {
			r.mu.Lock()
			in.waiting--
			r.mu.Unlock()
		}
	}()
	for {
		select {
		case c := <-in.pending:
			r.mu.Lock()
			skip := c.resolved // timed out or cancelled before the process asked for it
			if !skip {
				taken = true
				in.waiting--
			}
			spec := in.fn.spec
			r.mu.Unlock()
			if skip {
				continue
			}
			h := w.Header()
			inv := c.inv
			set := func(k, v string) {
				if !r.omitHeaders[k] {
					h.Set(k, v)
				}
			}
			set("Content-Type", "application/octet-stream")
			set("x-fc-request-id", c.id)
			set("x-fc-function-deadline", strconv.FormatInt(c.deadline.UnixMilli(), 10))
			set("x-fc-function-timeout", strconv.Itoa(int(math.Max(1, math.Ceil(spec.Timeout.Seconds())))))
			set("x-fc-access-key-id", inv.Credentials.AccessKeyID)
			set("x-fc-access-key-secret", inv.Credentials.AccessKeySecret)
			set("x-fc-security-token", inv.Credentials.SecurityToken)
			set("x-fc-function-name", spec.Name)
			set("x-fc-function-handler", spec.Handler)
			set("x-fc-function-memory", strconv.Itoa(spec.MemoryMB))
			set("x-fc-region", inv.Region)
			set("x-fc-account-id", inv.AccountID)
			set("x-fc-retry-count", strconv.Itoa(inv.RetryCount))
			set("x-fc-qualifier", "LATEST")
			// FC 3.0 has no services; the function name stands in for SDKs that read it.
			set("x-fc-service-name", spec.Name)
			w.WriteHeader(http.StatusOK)
			_, _ = w.Write(inv.Payload) // a failed write means the process died: the reaper fails the call
			return
		case <-in.dead:
			http.Error(w, "instance stopped", http.StatusServiceUnavailable)
			return
		case <-req.Context().Done():
			return
		}
	}
}

func (r *Runtime) finish(in *instance, w http.ResponseWriter, req *http.Request, id string, failed bool) {
	body, err := io.ReadAll(io.LimitReader(req.Body, maxBody))
	if err != nil {
		http.Error(w, "cannot read body", http.StatusBadRequest)
		return
	}
	r.mu.Lock()
	c, ok := in.calls[id]
	r.mu.Unlock()
	if !ok {
		http.Error(w, "no such invocation in flight on this instance", http.StatusNotFound)
		return
	}
	for _, p := range in.pipes {
		p.sync() // lines written before the result reach logf first
	}
	res := Result{Payload: body}
	if failed {
		var fe struct {
			Message string `json:"errorMessage"`
			Type    string `json:"errorType"`
		}
		if json.Unmarshal(body, &fe) != nil {
			fe.Type, fe.Message = "Unknown", string(body)
		}
		res = Result{Error: &FunctionError{Type: fe.Type, Message: fe.Message}}
	}
	r.mu.Lock()
	r.resolve(c, res)
	r.mu.Unlock()
	w.WriteHeader(http.StatusOK)
}
