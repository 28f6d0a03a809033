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
	"path/filepath"
	"regexp"
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
	Queues    []string          `json:"queues"`
	Settings  map[string]string `json:"settings"`
	Env       map[string]string `json:"env"`
	Control   string            `json:"control"`
	Functions bool              `json:"functions"`
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
	// A free block of nine ports (eight services and the control endpoint): probe,
	// release, then ask for them (another process may take one in between; the test
	// then says so rather than failing silently).
	base := 0
	for p := 20000 + os.Getpid()%20000; p < 65000 && base == 0; p += 9 {
		ok := true
		var held []net.Listener
		for i := range 9 {
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
	if info.Control != fmt.Sprintf("http://127.0.0.1:%d", base+9) {
		t.Fatalf("--port-base %d: control at %s", base, info.Control)
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
	for _, args := range [][]string{{"--functions", "--bare"}, {"--logs"}, {"advance"}, {"advance", "soon"}, {"advance", "-1m"},
		{"advance", "1m", "--emulator", "http://example.com:80"}, {"advance", "1m", "--emulator", ""}} {
		code, _, errOut := run(t, append([]string{"emulator"}, args...)...)
		if code != 2 || errOut == "" {
			t.Errorf("emulator %v: exit %d, stderr %q", args, code, errOut)
		}
	}
	// No emulator where the variable says: one sentence, exit 1.
	if code, _, errOut := run(t, "emulator", "advance", "1m", "--emulator", "http://127.0.0.1:1"); code != 1 || !strings.Contains(errOut, "does not answer (is it running?)") {
		t.Errorf("advance without an emulator: exit %d %s", code, errOut)
	}
	bad := write(t, "bad.yaml", "region: cn-hangzhou\nowner: 12\n")
	if code, _, errOut := run(t, "emulator", bad); code != 2 || !strings.Contains(errOut, "invalid scenario") {
		t.Errorf("an invalid file: exit %d: %s", code, errOut)
	}
}

// walkBlock is one fenced block of docs/try-it.md that the walkthrough runs.
type walkBlock struct {
	where    string   // "setup", "terminal 1", "terminal 1 output", "terminal 2"
	lines    []string // the commands (or, for an output block, the lines shown)
	expected []string // the text block after a terminal 2 block: lines its output shows
	line     int      // where the block starts in the file
}

// walkthrough reads the blocks marked <!-- walkthrough: … --> and the text block that
// follows each terminal 2 block.
func walkthrough(t *testing.T, md string) []walkBlock {
	t.Helper()
	lines := strings.Split(md, "\n")
	var out []walkBlock
	fence := func(i int) (body []string, end int) {
		for j := i + 1; j < len(lines); j++ {
			if strings.HasPrefix(lines[j], "```") {
				return body, j
			}
			body = append(body, lines[j])
		}
		t.Fatalf("docs/try-it.md:%d: the block is not closed", i+1)
		return nil, 0
	}
	for i := 0; i < len(lines); i++ {
		where, ok := strings.CutPrefix(lines[i], "<!-- walkthrough: ")
		if !ok {
			continue
		}
		where = strings.TrimSuffix(where, " -->")
		if i+1 >= len(lines) || !strings.HasPrefix(lines[i+1], "```") {
			t.Fatalf("docs/try-it.md:%d: no block after the marker", i+1)
		}
		body, end := fence(i + 1)
		b := walkBlock{where: where, line: i + 2}
		for _, l := range body {
			if strings.TrimSpace(l) != "" {
				b.lines = append(b.lines, l)
			}
		}
		// The text block after a command block, before any other marker, shows its output.
		for j := end + 1; j < len(lines) && where == "terminal 2"; j++ {
			if strings.HasPrefix(lines[j], "<!-- walkthrough") || strings.HasPrefix(lines[j], "```sh") {
				break
			}
			if lines[j] == "```text" {
				text, _ := fence(j)
				for _, l := range text {
					if strings.TrimSpace(l) != "" {
						b.expected = append(b.expected, l)
					}
				}
				break
			}
		}
		out = append(out, b)
		i = end
	}
	return out
}

// shows reports whether some line of out matches want, where "…" in want stands for
// any text.
func shows(out, want string) bool {
	parts := strings.Split(strings.TrimSpace(want), "…")
	for i, p := range parts {
		parts[i] = regexp.QuoteMeta(p)
	}
	re := regexp.MustCompile("^" + strings.Join(parts, ".*") + "$")
	for _, l := range strings.Split(out, "\n") {
		if re.MatchString(strings.TrimSpace(l)) {
			return true
		}
	}
	return false
}

// TestTryItWalkthrough runs docs/try-it.md as a newcomer would: the emulator in one
// terminal, in another every command of the page as written (one shell, so the
// page's eval of the export block carries over), and checks that each output the page
// shows is what the commands print, and that the emulator's terminal shows what the
// page says it does.
func TestTryItWalkthrough(t *testing.T) {
	md, err := os.ReadFile("../../docs/try-it.md")
	if err != nil {
		t.Fatal(err)
	}
	blocks := walkthrough(t, string(md))
	dir := t.TempDir()
	// `go install ./cmd/imageshare` puts the command on PATH: here, the test's build.
	path := filepath.Dir(bin) + string(os.PathListSeparator) + os.Getenv("PATH")
	env := []string{"PATH=" + path, "HOME=" + dir}
	var term1 *exec.Cmd
	var term1Out string
	var script strings.Builder
	var cmds []walkBlock
	n := 0
	for _, b := range blocks {
		switch b.where {
		case "setup":
			if len(b.lines) != 1 || b.lines[0] != "go install ./cmd/imageshare" {
				t.Fatalf("docs/try-it.md:%d: the setup is %q; the test stands in for `go install ./cmd/imageshare` only", b.line, b.lines)
			}
		case "terminal 1":
			if len(b.lines) != 1 || term1 != nil {
				t.Fatalf("docs/try-it.md:%d: terminal 1 runs one command", b.line)
			}
			sources.Declare()
			term1 = exec.Command("bash", "-c", b.lines[0])
			term1.Dir, term1.Env = dir, env
			term1.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
			if err := term1.Start(); err != nil {
				t.Fatal(err)
			}
			pgid := term1.Process.Pid
			t.Cleanup(func() {
				_ = syscall.Kill(-pgid, syscall.SIGKILL)
				_ = term1.Wait()
			})
			deadline := time.Now().Add(60 * time.Second)
			for {
				b, _ := os.ReadFile(filepath.Join(dir, "emulator.out"))
				if strings.Contains(string(b), "Stop with Ctrl-C.") {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("terminal 1 did not get ready in 60 s:\n%s", b)
				}
				time.Sleep(100 * time.Millisecond)
			}
		case "terminal 1 output":
			defer func(want []string) {
				for _, w := range want {
					if !shows(term1Out, w) {
						t.Errorf("docs/try-it.md shows terminal 1 printing %q; it printed:\n%s", w, term1Out)
					}
				}
			}(b.lines)
		case "terminal 2":
			for _, c := range b.lines {
				fmt.Fprintf(&script, "echo '@@@ %d'\n%s\necho \"@@@ exit $?\"\n", n, c)
				n++
			}
			cmds = append(cmds, b)
		default:
			t.Fatalf("docs/try-it.md:%d: unknown walkthrough block %q", b.line, b.where)
		}
	}
	if term1 == nil || n < 10 {
		t.Fatalf("docs/try-it.md: terminal 1 %v, %d commands in terminal 2", term1 != nil, n)
	}
	sources.Declare()
	sh := exec.Command("bash", "-c", script.String())
	sh.Dir, sh.Env = dir, env
	raw, err := sh.CombinedOutput()
	if err != nil {
		t.Fatalf("terminal 2: %v\n%s", err, raw)
	}
	// Each command's output and exit code, in order.
	outs := regexp.MustCompile(`(?m)^@@@ \d+\n`).Split(string(raw), -1)[1:]
	if len(outs) != n {
		t.Fatalf("%d outputs for %d commands:\n%s", len(outs), n, raw)
	}
	i := 0
	for _, b := range cmds {
		var all strings.Builder
		for _, c := range b.lines {
			body, code, _ := strings.Cut(outs[i], "@@@ exit ")
			code = strings.TrimSpace(code)
			allowed := []string{"0"}
			switch {
			case strings.HasPrefix(c, "imageshare plan"):
				allowed = []string{"0", "3", "4"}
			case strings.HasPrefix(c, "imageshare check-tags"):
				allowed = []string{"4"} // the page's check catches a typo
			}
			if !slices.Contains(allowed, code) {
				t.Errorf("docs/try-it.md:%d: %s: exit %s\n%s", b.line, c, code, body)
			}
			all.WriteString(body)
			i++
		}
		for _, w := range b.expected {
			if !shows(all.String(), w) {
				t.Errorf("docs/try-it.md (block at line %d) shows %q; the commands printed:\n%s", b.line, w, all.String())
			}
		}
	}
	if fi, err := os.Stat(filepath.Join(dir, "report.html")); err != nil || fi.Size() < 1000 {
		t.Errorf("the walkthrough's report.html: %v", err)
	}
	b, _ := os.ReadFile(filepath.Join(dir, "emulator.out"))
	term1Out = string(b)
}
