package cli

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aliyun/alibaba-cloud-sdk-go/sdk"
	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/auth/credentials"
	"github.com/aliyun/alibaba-cloud-sdk-go/services/ecs"

	"imageshare/pkg/cloud"
	"imageshare/pkg/queue"
)

// emulator is a running `imageshare emulator` process.
type emulator struct {
	cmd     *exec.Cmd
	mu      sync.Mutex
	lines   []string     // stdout so far
	stderr  bytes.Buffer // guarded by mu
	changed chan struct{}
	exited  chan struct{}
	err     error // of Wait, once exited is closed
}

type lockedWriter struct{ e *emulator }

func (w lockedWriter) Write(p []byte) (int, error) {
	w.e.mu.Lock()
	defer w.e.mu.Unlock()
	return w.e.stderr.Write(p)
}

func (e *emulator) snapshot() ([]string, string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return slices.Clone(e.lines), e.stderr.String()
}

// startEmulator starts the command and returns it, with what it printed, once a line
// satisfies ready.
func startEmulator(t *testing.T, ready func(line string) bool, args ...string) (*emulator, []string) {
	t.Helper()
	e := &emulator{cmd: exec.Command(bin, append([]string{"emulator"}, args...)...), changed: make(chan struct{}, 1), exited: make(chan struct{})}
	out, err := e.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	e.cmd.Stderr = lockedWriter{e}
	if err := e.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		sc := bufio.NewScanner(out)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			e.mu.Lock()
			e.lines = append(e.lines, sc.Text())
			e.mu.Unlock()
			select {
			case e.changed <- struct{}{}:
			default:
			}
		}
		e.err = e.cmd.Wait() // only after every read, as StdoutPipe requires
		close(e.exited)
	}()
	t.Cleanup(func() {
		_ = e.cmd.Process.Kill()
		<-e.exited
	})
	deadline := time.After(60 * time.Second)
	for {
		lines, errOut := e.snapshot()
		if slices.ContainsFunc(lines, ready) {
			return e, lines
		}
		select {
		case <-e.changed:
		case <-e.exited:
			lines, errOut = e.snapshot()
			if slices.ContainsFunc(lines, ready) {
				return e, lines
			}
			t.Fatalf("the emulator exited (%v) before it was ready:\n%s\n%s", e.err, strings.Join(lines, "\n"), errOut)
		case <-deadline:
			t.Fatalf("the emulator was not ready in 60 s:\n%s\n%s", strings.Join(lines, "\n"), errOut)
		}
	}
}

// stop sends SIGTERM and returns the exit code.
func (e *emulator) stop(t *testing.T) int {
	t.Helper()
	if err := e.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-e.exited:
	case <-time.After(20 * time.Second):
		t.Fatal("the emulator did not stop within 20 s of SIGTERM")
	}
	if ee, ok := e.err.(*exec.ExitError); ok {
		return ee.ExitCode()
	}
	if e.err != nil {
		t.Fatal(e.err)
	}
	return 0
}

type emulatorJSON struct {
	Region          string            `json:"region"`
	AccountID       string            `json:"account_id"`
	Endpoints       map[string]string `json:"endpoints"`
	MNSHost         string            `json:"mns_host"`
	AccessKeyID     string            `json:"access_key_id"`
	AccessKeySecret string            `json:"access_key_secret"`
	FunctionRole    struct {
		Name            string `json:"name"`
		AccessKeyID     string `json:"access_key_id"`
		AccessKeySecret string `json:"access_key_secret"`
		SecurityToken   string `json:"security_token"`
	} `json:"function_role"`
	Queues   []string          `json:"queues"`
	Settings map[string]string `json:"settings"`
	Env      map[string]string `json:"env"`
}

func ecsClient(t *testing.T, endpoint, ak, secret, token string) *ecs.Client {
	t.Helper()
	cfg := sdk.NewConfig().WithAutoRetry(false).WithScheme("HTTP").WithTimeout(20 * time.Second)
	var c *ecs.Client
	var err error
	if token != "" {
		c, err = ecs.NewClientWithOptions("cn-hangzhou", cfg, credentials.NewStsTokenCredential(ak, secret, token))
	} else {
		c, err = ecs.NewClientWithOptions("cn-hangzhou", cfg, credentials.NewAccessKeyCredential(ak, secret))
	}
	if err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(endpoint)
	if err != nil {
		t.Fatal(err)
	}
	c.Domain = u.Host
	return c
}

func TestEmulatorJSON(t *testing.T) {
	e, lines := startEmulator(t, func(string) bool { return true }, "--json")
	var info emulatorJSON
	if err := json.Unmarshal([]byte(lines[0]), &info); err != nil {
		t.Fatalf("--json printed no JSON object: %v\n%s", err, lines[0])
	}
	if info.Region != "cn-hangzhou" || info.AccountID != "1000000000000001" || info.MNSHost != "1000000000000001.mns.cn-hangzhou.aliyuncs.com" {
		t.Fatalf("world = %+v", info)
	}
	for _, s := range []string{"ecs", "resourcemanager", "resourcesharing", "mns", "ram", "sts", "eventbridge", "mns-open", "actiontrail"} {
		u, err := url.Parse(info.Endpoints[s])
		if err != nil || u.Scheme != "http" || !net.ParseIP(u.Hostname()).IsLoopback() {
			t.Fatalf("endpoint %s = %q: not a loopback URL", s, info.Endpoints[s])
		}
	}
	for _, k := range []string{"ALIBABA_CLOUD_ACCESS_KEY_ID", "ALIBABA_CLOUD_ACCESS_KEY_SECRET", "ALIBABA_CLOUD_REGION_ID", "ALIBABA_CLOUD_ACCOUNT_ID",
		"ECS_ENDPOINT", "RESOURCEMANAGER_ENDPOINT", "RESOURCESHARING_ENDPOINT", "MNS_ENDPOINT",
		"RAM_ENDPOINT", "STS_ENDPOINT", "EVENTBRIDGE_ENDPOINT", "MNS_OPEN_ENDPOINT", "ACTIONTRAIL_ENDPOINT"} {
		if info.Env[k] == "" {
			t.Errorf("env lacks %s", k)
		}
	}
	if !slices.Contains(info.Queues, "imageshare-jobs") || info.Settings["ALLOWED_EXTERNAL_ACCOUNTS"] != "2000000000000001" {
		t.Errorf("queues %v, settings %v", info.Queues, info.Settings)
	}

	// The classic SDK, as the product uses it, with the printed root key: the demo's images.
	cl := ecsClient(t, info.Endpoints["ecs"], info.AccessKeyID, info.AccessKeySecret, "")
	req := ecs.CreateDescribeImagesRequest()
	req.RegionId, req.ImageOwnerAlias, req.Status = info.Region, "self", "Available,Creating"
	resp, err := cl.DescribeImages(req)
	if err != nil {
		t.Fatalf("DescribeImages with the printed credentials: %v", err)
	}
	var ids []string
	for _, im := range resp.Images.Image {
		ids = append(ids, im.ImageId)
	}
	if !slices.Contains(ids, "m-Golden000001") || len(ids) != 3 {
		t.Fatalf("the demo's images: %v", ids)
	}
	// A wrong secret is refused as the cloud refuses it.
	bad := ecsClient(t, info.Endpoints["ecs"], info.AccessKeyID, "wrong", "")
	if _, err := bad.DescribeImages(req); err == nil || !strings.Contains(err.Error(), "SignatureDoesNotMatch") {
		t.Fatalf("a wrong secret: %v", err)
	}
	// The functions' role: STS credentials that work.
	r := info.FunctionRole
	role := ecsClient(t, info.Endpoints["ecs"], r.AccessKeyID, r.AccessKeySecret, r.SecurityToken)
	if _, err := role.DescribeImages(req); err != nil || r.Name != "imageshare-fc" {
		t.Fatalf("the functions' role %q: %v", r.Name, err)
	}
	// MNS through the product's queue client and the printed MNS_ENDPOINT.
	q, err := queue.New(queue.Config{AccountID: info.AccountID, Region: info.Region, Endpoint: info.Env["MNS_ENDPOINT"],
		Credentials: cloud.Credentials{AccessKeyID: info.AccessKeyID, AccessKeySecret: info.AccessKeySecret}})
	if err != nil {
		t.Fatal(err)
	}
	if err := q.Send(context.Background(), "imageshare-jobs", []string{`{"hello":"emulator"}`}, 0); err != nil {
		t.Fatalf("MNS send: %v", err)
	}

	if code := e.stop(t); code != 0 {
		_, errOut := e.snapshot()
		t.Fatalf("SIGTERM: exit %d\n%s", code, errOut)
	}
	// Stopped means stopped: the endpoint no longer answers.
	if c, err := net.DialTimeout("tcp", strings.TrimPrefix(info.Endpoints["ecs"], "http://"), time.Second); err == nil {
		c.Close()
		t.Fatal("the ECS endpoint still accepts connections after the emulator stopped")
	}
}

// TestEmulatorExportBlock: the text output's export block, pasted into a shell, is what
// the operator commands need.
func TestEmulatorExportBlock(t *testing.T) {
	e, lines := startEmulator(t, func(l string) bool { return strings.HasPrefix(l, "Stop with") })
	env := map[string]string{}
	for _, l := range lines {
		if rest, ok := strings.CutPrefix(l, "export "); ok {
			k, v, _ := strings.Cut(rest, "=")
			env[k] = v
		}
	}
	for _, k := range []string{"ALIBABA_CLOUD_ACCESS_KEY_ID", "ALIBABA_CLOUD_ACCESS_KEY_SECRET", "ALIBABA_CLOUD_REGION_ID", "ALIBABA_CLOUD_ACCOUNT_ID",
		"ECS_ENDPOINT", "RESOURCEMANAGER_ENDPOINT", "RESOURCESHARING_ENDPOINT", "MNS_ENDPOINT"} {
		if env[k] == "" {
			t.Fatalf("the export block lacks %s:\n%s", k, strings.Join(lines, "\n"))
		}
	}
	cmd := exec.Command(bin, "status")
	cmd.Env = []string{"HOME=" + t.TempDir(), "PATH=" + os.Getenv("PATH")}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "2 managed") {
		t.Fatalf("imageshare status with the export block: %v\n%s", err, out)
	}
	if code := e.stop(t); code != 0 {
		t.Fatalf("SIGTERM: exit %d", code)
	}
}

func TestEmulatorScenarioFileAndPorts(t *testing.T) {
	// A free block of eight ports: probe, release, then ask for them (another process
	// may take one in between; the test then says so rather than failing silently).
	base := 0
	for p := 20000 + os.Getpid()%20000; p < 65000 && base == 0; p += 8 {
		ok := true
		var held []net.Listener
		for i := range 8 {
			l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", p+i))
			if err != nil {
				ok = false
				break
			}
			held = append(held, l)
		}
		for _, l := range held {
			l.Close()
		}
		if ok {
			base = p
		}
	}
	file := write(t, "world.yaml", `region: cn-shanghai
owner: "1000000000000009"
images:
  - id: m-Only00000001
    tags: {"imageshare:accounts": "none"}
`)
	e, lines := startEmulator(t, func(string) bool { return true }, "--json", "--port-base", fmt.Sprint(base), file)
	var info emulatorJSON
	if err := json.Unmarshal([]byte(lines[0]), &info); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"ecs": fmt.Sprintf("http://127.0.0.1:%d", base), "resourcemanager": fmt.Sprintf("http://127.0.0.1:%d", base+1),
		"resourcesharing": fmt.Sprintf("http://127.0.0.1:%d", base+2), "mns": fmt.Sprintf("http://127.0.0.1:%d", base+3),
		"ram": fmt.Sprintf("http://127.0.0.1:%d", base+4), "sts": fmt.Sprintf("http://127.0.0.1:%d", base+5),
		"eventbridge": fmt.Sprintf("http://127.0.0.1:%d", base+6), "mns-open": fmt.Sprintf("http://127.0.0.1:%d", base+7),
		"actiontrail": fmt.Sprintf("http://127.0.0.1:%d", base+8)}
	for s, u := range want {
		if info.Endpoints[s] != u {
			t.Fatalf("--port-base %d: %s at %s, want %s", base, s, info.Endpoints[s], u)
		}
	}
	cl := ecsClient(t, info.Endpoints["ecs"], info.AccessKeyID, info.AccessKeySecret, "")
	req := ecs.CreateDescribeImagesRequest()
	req.RegionId = "cn-shanghai"
	resp, err := cl.DescribeImages(req)
	if err != nil || len(resp.Images.Image) != 1 || resp.Images.Image[0].ImageId != "m-Only00000001" || info.AccountID != "1000000000000009" {
		t.Fatalf("the file's world: %v %+v", err, resp)
	}

	// A second emulator on the same ports fails with a message, exit 1.
	code, _, errOut := run(t, "emulator", "--port-base", fmt.Sprint(base), file)
	if code != 1 || !strings.Contains(errOut, fmt.Sprintf("127.0.0.1:%d", base)) {
		t.Fatalf("ports in use: exit %d: %s", code, errOut)
	}
	if code := e.stop(t); code != 0 {
		t.Fatalf("SIGTERM: exit %d", code)
	}
}

func TestEmulatorUsage(t *testing.T) {
	code, out, _ := run(t, "emulator", "--help")
	if code != 0 || !strings.Contains(out, "usage: imageshare emulator") || !strings.Contains(out, "--port-base N") {
		t.Fatalf("--help: exit %d\n%s", code, out)
	}
	for _, args := range [][]string{{"--port-base", "65534"}, {"--port-base", "x"}, {"a.yaml", "b.yaml"}, {"--nope"}} {
		code, _, errOut := run(t, append([]string{"emulator"}, args...)...)
		if code != 2 || errOut == "" {
			t.Errorf("emulator %v: exit %d, stderr %q", args, code, errOut)
		}
	}
	bad := write(t, "bad.yaml", "region: cn-hangzhou\nowner: 12\n")
	if code, _, errOut := run(t, "emulator", bad); code != 2 || !strings.Contains(errOut, "invalid scenario") {
		t.Errorf("an invalid file: exit %d: %s", code, errOut)
	}
}
