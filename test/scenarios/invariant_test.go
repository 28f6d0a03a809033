package scenarios

import (
	"context"
	"log/slog"
	"os"
	"strings"
	"sync"
	"testing"

	"imageshare"
	"imageshare/pkg/cloud"
	"imageshare/pkg/function"
	"imageshare/pkg/sandbox"
	"imageshare/pkg/scenario"
)

// breakFirst wraps the cloud API so that the applier's order is turned around: calls
// that give access (AddAccount, associations) are held back and sent only after the
// next call that takes access away. It exists to prove that the sandbox catches a
// transient loss of access even when the end state is right.
type breakFirst struct {
	cloud.API
	mu   sync.Mutex
	held []func()
}

func (b *breakFirst) hold(f func()) {
	b.mu.Lock()
	b.held = append(b.held, f)
	b.mu.Unlock()
}

func (b *breakFirst) flush() {
	b.mu.Lock()
	held := b.held
	b.held = nil
	b.mu.Unlock()
	for _, f := range held {
		f()
	}
}

func (b *breakFirst) ModifyImageSharePermission(ctx context.Context, region, image string, add, remove []string) (cloud.Result, error) {
	if len(add) > 0 && len(remove) == 0 {
		b.hold(func() { _, _ = b.API.ModifyImageSharePermission(ctx, region, image, add, nil) })
		return cloud.Result{RequestID: "held"}, nil
	}
	r, err := b.API.ModifyImageSharePermission(ctx, region, image, add, remove)
	b.flush()
	return r, err
}

func (b *breakFirst) DisassociateResourceShare(ctx context.Context, region, id string, res, tg []string) (cloud.Result, error) {
	r, err := b.API.DisassociateResourceShare(ctx, region, id, res, tg)
	b.flush()
	return r, err
}

func init() {
	if len(os.Args) == 3 && os.Args[1] == "imageshare-function-breakfirst" {
		log := slog.New(slog.NewJSONHandler(os.Stdout, nil)).With("function", os.Args[2])
		d := function.NewDeps(log)
		real := d.API
		d.API = func(inv function.Invocation) (cloud.API, error) {
			api, err := real(inv)
			if err != nil {
				return nil, err
			}
			return &breakFirst{API: api}, nil
		}
		function.Serve(os.Args[2], d)
	}
}

// The image moves from the prod share to dev; 1000000000000002 (prod) is named in the
// tags, so it must be shared directly before the image leaves prod.
const moveScenario = `region: cn-hangzhou
owner: "1000000000000001"
directory:
  id: rd-Inv001
  root: r-Inv001
  folders:
    - {id: fd-Prod000001, name: prod, parent: r-Inv001}
    - {id: fd-Dev0000001, name: dev, parent: r-Inv001}
  accounts:
    - {id: "1000000000000002", folder: fd-Prod000001}
    - {id: "1000000000000004", folder: fd-Dev0000001}
settings: {RETRY_BASE: 1ms, RETRY_MAX: 10ms}
images:
  - id: m-Move00000001
    tags: {"imageshare:folders": fd-Prod000001, "imageshare:accounts": "1000000000000002"}
steps:
  - advance: 31m
  - tag_image: {image: m-Move00000001, tags: {"imageshare:folders": fd-Dev0000001}}
  - advance: 5m
expect:
  images:
    m-Move00000001: {direct: ["1000000000000002"], organization: [fd-Dev0000001]}
`

func TestInvariantCatchesATransientGap(t *testing.T) {
	sc, err := scenario.Parse("move.yaml", []byte(moveScenario))
	if err != nil {
		t.Fatal(err)
	}
	res, err := sandbox.Run(context.Background(), sc, sandbox.Options{SYAML: imageshare.SYAML, FunctionCommand: command})
	if err != nil {
		t.Fatal(err)
	}
	if !res.OK() {
		t.Fatalf("the right order must pass: %v %v", res.Failures, res.Violations)
	}
	broken := func(name string) []string { return []string{os.Args[0], "imageshare-function-breakfirst", name} }
	res, err = sandbox.Run(context.Background(), sc, sandbox.Options{SYAML: imageshare.SYAML, FunctionCommand: broken})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Failures) != 0 {
		t.Fatalf("the end state is right even in the wrong order, so only the invariant may fail: %v", res.Failures)
	}
	if len(res.Violations) == 0 || !strings.Contains(strings.Join(res.Violations, "\n"), "1000000000000002") {
		t.Fatalf("break-before-make went unnoticed: %v", res.Violations)
	}
	t.Logf("caught: %s", res.Violations[0])
}
