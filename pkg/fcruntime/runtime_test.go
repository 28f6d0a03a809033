package fcruntime

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"imageshare/test/testcache"
)

// fnproc is testdata/fnproc built once: a function on the real fc-runtime-go-sdk.
var (
	fnproc        string
	fnprocSources *testcache.Sources
)

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "fcruntime-test")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fnproc = filepath.Join(dir, "fnproc")
	goTool, err := exec.LookPath("go")
	if err != nil {
		goTool = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	// Built out of go test's sight: its sources are declared by the tests that run it,
	// so that a cached result of this package is never one of another fnproc.
	if fnprocSources, err = testcache.Find(".", "./testdata/fnproc"); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	build := exec.Command(goTool, "build", "-o", fnproc, "./testdata/fnproc")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building testdata/fnproc:", err)
		os.Exit(1)
	}
	code := m.Run()
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

// logs collects what the processes print.
// outcome is what an Invoke run in a goroutine returned (goroutines must not call t
// after the test ends).
type outcome struct {
	res Result
	err error
}

func goInvoke(rt *Runtime, inv Invocation, out chan<- outcome) {
	go func() {
		res, err := rt.Invoke(context.Background(), "fn", inv)
		out <- outcome{res, err}
	}()
}

type logs struct {
	mu    sync.Mutex
	lines []string
}

func (l *logs) add(fn string, inst int, line []byte) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, fmt.Sprintf("%s#%d %s", fn, inst, line))
}

func (l *logs) count(sub string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, s := range l.lines {
		if strings.Contains(s, sub) {
			n++
		}
	}
	return n
}

func (l *logs) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.lines, "\n")
}

func newRuntime(t *testing.T, specs ...FunctionSpec) (*Runtime, *logs) {
	t.Helper()
	fnprocSources.Declare()
	l := &logs{}
	rt := NewRuntime(l.add)
	for _, s := range specs {
		if len(s.Command) == 0 {
			s.Command = []string{fnproc}
		}
		if err := rt.Register(s); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() { _ = rt.Close() })
	return rt, l
}

func payload(mode, text, file string) []byte {
	b, _ := json.Marshal(map[string]string{"mode": mode, "text": text, "file": file})
	return b
}

// waitFor polls a condition; the minute is only a guard against a hung test.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for stop := time.Now().Add(time.Minute); !cond(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(stop) {
			t.Fatalf("%s never happened", what)
		}
	}
}

func invoke(t *testing.T, rt *Runtime, fn string, inv Invocation) Result {
	t.Helper()
	res, err := rt.Invoke(context.Background(), fn, inv)
	if err != nil {
		t.Fatalf("invoke: %v", err)
	}
	return res
}

func TestEchoAndLogs(t *testing.T) {
	rt, l := newRuntime(t, FunctionSpec{Name: "fn", Timeout: 30 * time.Second})
	for i, text := range []string{"hello", "again"} {
		res := invoke(t, rt, "fn", Invocation{Payload: payload("echo", text, "")})
		if res.Error != nil {
			t.Fatalf("error: %v", res.Error)
		}
		var got map[string]string
		if err := json.Unmarshal(res.Payload, &got); err != nil || got["mode"] != "echo" || got["text"] != text {
			t.Errorf("payload = %s", res.Payload)
		}
		// Lines printed before the result arrive before Invoke returns.
		for _, want := range []string{"fn#1 out echo " + text, "fn#1 err echo " + text} {
			if l.count(want) != 1 {
				t.Errorf("invocation %d: log line %q missing:\n%s", i, want, l)
			}
		}
	}
	st := rt.Stats()["fn"]
	if st.Starts != 1 || st.Invocations != 2 || st.Crashes != 0 || len(st.ColdStarts) != 1 || st.ColdStarts[0] <= 0 {
		t.Errorf("stats = %+v", st)
	}
	if rt.InFlight() != 0 {
		t.Errorf("in flight = %d", rt.InFlight())
	}
}

func TestFunctionError(t *testing.T) {
	rt, _ := newRuntime(t, FunctionSpec{Name: "fn", Timeout: 30 * time.Second})
	res := invoke(t, rt, "fn", Invocation{Payload: payload("fail", "boom", "")})
	want := FunctionError{Type: "errorString", Message: "boom", Crashed: false}
	if res.Error == nil || *res.Error != want {
		t.Fatalf("error = %+v, want %+v", res.Error, want)
	}
	if res := invoke(t, rt, "fn", Invocation{Payload: payload("echo", "x", "")}); res.Error != nil {
		t.Fatalf("after a function error: %v", res.Error)
	}
	if st := rt.Stats()["fn"]; st.Starts != 1 || st.Crashes != 0 {
		t.Errorf("a function error must not replace the instance: %+v", st)
	}
}

// What the SDK hands the handler comes from our headers and the process environment.
func TestInvocationContext(t *testing.T) {
	rt, _ := newRuntime(t, FunctionSpec{Name: "ctxfn", Timeout: 7 * time.Second, MemoryMB: 256, Handler: "main",
		Env: []string{"EXTRA=yes"}})
	inv := Invocation{Payload: payload("context", "", ""), RequestID: "req-1", Region: "cn-hangzhou",
		AccountID: "1000000000000001", RetryCount: 2,
		Credentials: Credentials{AccessKeyID: "STS.id", AccessKeySecret: "secret", SecurityToken: "token"}}
	before := time.Now()
	res := invoke(t, rt, "ctxfn", inv)
	after := time.Now()
	if res.Error != nil {
		t.Fatalf("error: %v", res.Error)
	}
	var got map[string]any
	if err := json.Unmarshal(res.Payload, &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"requestId": "req-1", "name": "ctxfn", "handler": "main", "memory": "256", "timeout": 7.0,
		"region": "cn-hangzhou", "accountId": "1000000000000001", "retryCount": 2.0, "akId": "STS.id",
		"akSecret": "secret", "token": "token", "qualifier": "LATEST", "envName": "ctxfn", "envExtra": "yes", "home": ""}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %#v, want %#v", k, got[k], v)
		}
	}
	// The deadline is the wall clock at hand-over plus the timeout.
	d := int64(got["deadlineMs"].(float64))
	if lo, hi := before.Add(7*time.Second).UnixMilli(), after.Add(7*time.Second).UnixMilli(); d < lo || d > hi {
		t.Errorf("deadline %d not within [%d, %d]", d, lo, hi)
	}
}

// Without the deadline and timeout headers the SDK cannot run the invocation: it logs
// why and never answers, so the invocation times out. (The other tests show that with
// them it works.)
func TestSDKNeedsDeadlineHeaders(t *testing.T) {
	rt, l := newRuntime(t, FunctionSpec{Name: "fn", Timeout: 2 * time.Second})
	rt.omitHeaders = map[string]bool{"x-fc-function-deadline": true, "x-fc-function-timeout": true}
	res := invoke(t, rt, "fn", Invocation{Payload: payload("echo", "x", "")})
	if res.Error == nil || !res.Error.Crashed || res.Error.Type != "FunctionTimeout" {
		t.Fatalf("result = %+v %+v", res, res.Error)
	}
	if l.count("failed to parse contents of header: x-fc-function-deadline") != 1 {
		t.Errorf("the SDK's complaint is not in the logs:\n%s", l)
	}
	if l.count("out echo") != 0 {
		t.Error("the handler ran without a deadline")
	}
}

func TestCrashReplacesInstance(t *testing.T) {
	rt, l := newRuntime(t, FunctionSpec{Name: "fn", Timeout: 30 * time.Second})
	res := invoke(t, rt, "fn", Invocation{Payload: payload("crash", "bye", "")})
	if res.Error == nil || !res.Error.Crashed || res.Error.Type != "ProcessExited" || !strings.Contains(res.Error.Message, "exit status 3") {
		t.Fatalf("error = %+v", res.Error)
	}
	if l.count("fn#1 out crash bye") != 1 {
		t.Errorf("output before the crash is missing:\n%s", l)
	}
	res = invoke(t, rt, "fn", Invocation{Payload: payload("echo", "x", "")})
	if res.Error != nil {
		t.Fatalf("after a crash: %v", res.Error)
	}
	if l.count("fn#2 out echo x") != 1 {
		t.Errorf("the next invocation did not run on a new instance:\n%s", l)
	}
	if st := rt.Stats()["fn"]; st.Starts != 2 || st.Crashes != 1 || st.Invocations != 2 {
		t.Errorf("stats = %+v", st)
	}
}

func TestTimeout(t *testing.T) {
	rt, _ := newRuntime(t, FunctionSpec{Name: "fn", Timeout: time.Second})
	res := invoke(t, rt, "fn", Invocation{Payload: payload("hang", "", "")})
	if res.Error == nil || !res.Error.Crashed || res.Error.Type != "FunctionTimeout" {
		t.Fatalf("error = %+v", res.Error)
	}
	if res := invoke(t, rt, "fn", Invocation{Payload: payload("echo", "x", "")}); res.Error != nil {
		t.Fatalf("after a timeout: %v", res.Error)
	}
	if st := rt.Stats()["fn"]; st.Starts != 2 || st.Crashes != 1 {
		t.Errorf("stats = %+v", st)
	}
}

func TestKillInvocation(t *testing.T) {
	rt, l := newRuntime(t, FunctionSpec{Name: "fn", Timeout: 30 * time.Second})
	never := filepath.Join(t.TempDir(), "never")
	done := make(chan outcome, 1)
	goInvoke(rt, Invocation{Payload: payload("hold", "k", never), RequestID: "kill-me"}, done)
	waitFor(t, "the invocation to start", func() bool { return l.count("out hold k") == 1 })
	if _, err := rt.Invoke(context.Background(), "fn", Invocation{Payload: payload("echo", "", ""), RequestID: "kill-me"}); err == nil {
		t.Error("a request ID already in flight was accepted")
	}
	if rt.KillInvocation("no-such-request") {
		t.Error("killed an unknown request")
	}
	if !rt.KillInvocation("kill-me") {
		t.Fatal("KillInvocation found nothing to kill")
	}
	o := <-done
	if o.err != nil || o.res.Error == nil || !o.res.Error.Crashed || o.res.Error.Type != "InstanceKilled" {
		t.Fatalf("result = %+v, %v", o.res.Error, o.err)
	}
	if rt.KillInvocation("kill-me") {
		t.Error("killed a finished request")
	}
	if st := rt.Stats()["fn"]; st.Crashes != 1 {
		t.Errorf("stats = %+v", st)
	}
}

// At most InstanceConcurrency invocations are handed to one instance, although the
// SDK asks for the next one as soon as it has started one.
func TestInstanceConcurrencyBound(t *testing.T) {
	rt, l := newRuntime(t, FunctionSpec{Name: "fn", Timeout: 30 * time.Second, InstanceConcurrency: 2, MaxInstances: 1})
	release := filepath.Join(t.TempDir(), "release")
	results := make(chan outcome, 3)
	for i := 0; i < 3; i++ {
		goInvoke(rt, Invocation{Payload: payload("hold", "c", release)}, results)
	}
	// Two run, the third waits, and the process is already asking for more.
	waitFor(t, "two held invocations, a third waiting, and the process asking for more", func() bool {
		rt.mu.Lock()
		defer rt.mu.Unlock()
		ins := rt.funcs["fn"].instances
		n := l.count("out hold c")
		return n > 2 || n == 2 && rt.inflight == 3 && len(ins) == 1 && ins[0].waiting == 1
	})
	if n := l.count("out hold c"); n != 2 {
		t.Fatalf("%d invocations running on one instance, want 2", n)
	}
	if err := os.WriteFile(release, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	pids := map[float64]bool{}
	for i := 0; i < 3; i++ {
		o := <-results
		var out struct{ Peak, Pid float64 }
		if o.err != nil || o.res.Error != nil || json.Unmarshal(o.res.Payload, &out) != nil {
			t.Fatalf("result = %s %+v %v", o.res.Payload, o.res.Error, o.err)
		}
		if out.Peak != 2 {
			t.Errorf("peak concurrency in the process = %v, want 2", out.Peak)
		}
		pids[out.Pid] = true
	}
	if st := rt.Stats()["fn"]; len(pids) != 1 || st.Starts != 1 || st.Invocations != 3 {
		t.Errorf("pids %v, stats %+v", pids, st)
	}
}

func TestMaxInstances(t *testing.T) {
	rt, l := newRuntime(t, FunctionSpec{Name: "fn", Timeout: 30 * time.Second, MaxInstances: 2})
	release := filepath.Join(t.TempDir(), "release")
	results := make(chan outcome, 2)
	for i := 0; i < 2; i++ {
		goInvoke(rt, Invocation{Payload: payload("hold", "m", release)}, results)
	}
	waitFor(t, "two instances each running one invocation", func() bool {
		return l.count("fn#1 out hold m") == 1 && l.count("fn#2 out hold m") == 1
	})
	if err := os.WriteFile(release, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	pids := map[float64]bool{}
	for i := 0; i < 2; i++ {
		o := <-results
		var out struct{ Peak, Pid float64 }
		if o.err != nil || o.res.Error != nil || json.Unmarshal(o.res.Payload, &out) != nil || out.Peak != 1 {
			t.Fatalf("result = %s %+v %v", o.res.Payload, o.res.Error, o.err)
		}
		pids[out.Pid] = true
	}
	if len(pids) != 2 {
		t.Errorf("pids = %v, want two processes", pids)
	}
	invoke(t, rt, "fn", Invocation{Payload: payload("echo", "", "")})
	if st := rt.Stats()["fn"]; st.Starts != 2 || len(st.ColdStarts) != 2 {
		t.Errorf("idle instances must be reused: %+v", st)
	}
}

func TestCancelKillsInstance(t *testing.T) {
	rt, l := newRuntime(t, FunctionSpec{Name: "fn", Timeout: 30 * time.Second})
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		_, err := rt.Invoke(ctx, "fn", Invocation{Payload: payload("hang", "", "")})
		errc <- err
	}()
	waitFor(t, "the invocation to start", func() bool { return l.count("out hang") == 1 })
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v", err)
	}
	if res := invoke(t, rt, "fn", Invocation{Payload: payload("echo", "", "")}); res.Error != nil {
		t.Fatalf("after a cancel: %v", res.Error)
	}
	if st := rt.Stats()["fn"]; st.Starts != 2 {
		t.Errorf("the abandoned instance was not replaced: %+v", st)
	}
}

func TestClose(t *testing.T) {
	rt, l := newRuntime(t, FunctionSpec{Name: "fn", Timeout: 30 * time.Second})
	errc := make(chan error, 1)
	go func() {
		_, err := rt.Invoke(context.Background(), "fn", Invocation{Payload: payload("hang", "", "")})
		errc <- err
	}()
	waitFor(t, "the invocation to start", func() bool { return l.count("out hang") == 1 })
	if err := rt.Close(); err != nil {
		t.Fatal(err)
	}
	if err := <-errc; !errors.Is(err, ErrClosed) {
		t.Errorf("in-flight invocation: err = %v", err)
	}
	if _, err := rt.Invoke(context.Background(), "fn", Invocation{}); !errors.Is(err, ErrClosed) {
		t.Errorf("after Close: err = %v", err)
	}
	if st := rt.Stats()["fn"]; st.Crashes != 0 {
		t.Errorf("Close counted as a crash: %+v", st)
	}
}

func TestRegisterAndStartErrors(t *testing.T) {
	fnprocSources.Declare()
	rt := NewRuntime(nil)
	defer rt.Close()
	if err := rt.Register(FunctionSpec{Name: "fn"}); err == nil {
		t.Error("a function without a command was registered")
	}
	if err := rt.Register(FunctionSpec{Command: []string{fnproc}}); err == nil {
		t.Error("a function without a name was registered")
	}
	if err := rt.Register(FunctionSpec{Name: "fn", Command: []string{fnproc}}); err != nil {
		t.Fatal(err)
	}
	if err := rt.Register(FunctionSpec{Name: "fn", Command: []string{fnproc}}); err == nil {
		t.Error("registered twice")
	}
	if _, err := rt.Invoke(context.Background(), "nope", Invocation{}); err == nil {
		t.Error("invoked an unknown function")
	}
	if err := rt.Register(FunctionSpec{Name: "missing", Command: []string{filepath.Join(t.TempDir(), "no-such-binary")}}); err != nil {
		t.Fatal(err)
	}
	if _, err := rt.Invoke(context.Background(), "missing", Invocation{}); err == nil || !strings.Contains(err.Error(), "start") {
		t.Errorf("err = %v", err)
	}
}
