package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"time"

	"imageshare/pkg/fcruntime"
)

// ColdStart is how long a function process takes from its start to its first poll of
// the runtime API, and the size of the function binary.
type ColdStart struct {
	Runs       int
	Median     time.Duration
	Max        time.Duration
	BinaryMB   float64
	BinaryPath string
}

// measureColdStart builds functions/reconcile as s.yaml's pre-deploy step does (for
// this machine: on linux/amd64 that is the binary deployed) and starts it runs times
// under the emulated FC runtime.
func measureColdStart(ctx context.Context, root string, runs int) (*ColdStart, error) {
	dir, err := os.MkdirTemp("", "imageshare-bench-")
	if err != nil {
		return nil, fmt.Errorf("cold start: %w", err)
	}
	defer func() { _ = os.RemoveAll(dir) }()
	bin := filepath.Join(dir, "main")
	build := exec.CommandContext(ctx, "go", "build", "-trimpath", "-ldflags=-s", "-o", bin, "./functions/reconcile")
	build.Dir = root
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("cold start: build the reconcile function: %v\n%s", err, out)
	}
	fi, err := os.Stat(bin)
	if err != nil {
		return nil, fmt.Errorf("cold start: %w", err)
	}
	var starts []time.Duration
	for i := 0; i < runs; i++ {
		rt := fcruntime.NewRuntime(nil)
		if err := rt.Register(fcruntime.FunctionSpec{Name: "reconcile", Command: []string{bin}, Timeout: 10 * time.Second,
			Env: []string{"FC_REGION=" + region, "FC_ACCOUNT_ID=" + owner}}); err != nil {
			return nil, fmt.Errorf("cold start: %w", err)
		}
		// An empty batch: the handler answers without creating any client.
		res, err := rt.Invoke(ctx, "reconcile", fcruntime.Invocation{Payload: []byte("[]"), Region: region, AccountID: owner})
		if err == nil && res.Error != nil {
			err = res.Error
		}
		st := rt.Stats()["reconcile"]
		_ = rt.Close()
		if err != nil {
			return nil, fmt.Errorf("cold start: invoke: %w", err)
		}
		starts = append(starts, st.ColdStarts...)
	}
	slices.Sort(starts)
	return &ColdStart{Runs: len(starts), Median: starts[len(starts)/2], Max: starts[len(starts)-1],
		BinaryMB: float64(fi.Size()) / (1 << 20)}, nil
}
