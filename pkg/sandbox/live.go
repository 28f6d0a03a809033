package sandbox

import (
	"context"
	"fmt"
	"time"

	"imageshare/pkg/fcruntime"
	"imageshare/pkg/scenario"
)

// newLiveWorld serves the world of sc with the functions running as in the sandbox —
// processes speaking the FC runtime API, fed by the events the cloud emits (a person's
// tag edit through any client included), routed by s.yaml's triggers, with the timers
// firing and EventBridge's retries and dead letters — but in real time: every tick the
// emulated clock follows the wall clock (plus what Advance added) and everything due by
// then is done, in time order. The file's steps and expectations are not run, and the
// invariant is not checked (the sandbox checks it after each step's settle; a world
// people drive has no steps).
func newLiveWorld(sc *scenario.Scenario, opts WorldOptions) (*World, error) {
	if opts.Bare {
		return nil, fmt.Errorf("the functions need the deployment's role and queues, which a bare world lacks")
	}
	start := startOf(opts)
	sb, err := newWorld(sc, Options{SYAML: opts.SYAML, FunctionCommand: opts.FunctionCommand, Logs: opts.Logs, NoInvariant: true},
		worldConfig{start: start, addr: opts.Addr})
	if err != nil {
		return nil, err
	}
	sb.onReport = opts.OnReport
	sb.rt = fcruntime.NewRuntime(sb.onLog)
	for _, f := range sb.sortedFuncs() {
		spec := fcruntime.FunctionSpec{Name: f.key, Command: opts.FunctionCommand(f.key), Env: sb.functionEnv(), Timeout: f.timeout,
			MemoryMB: 512, Handler: "main", InstanceConcurrency: 1, MaxInstances: 1}
		if err := sb.rt.Register(spec); err != nil {
			sb.close()
			return nil, err
		}
	}
	w := &World{sb: sb, stop: make(chan struct{}), live: true, origin: start, wallOrigin: time.Now()}
	w.ctx, w.quit = context.WithCancel(context.Background())
	w.run(func(now time.Time) {
		if err := sb.runUntil(w.ctx, now); err != nil && w.ctx.Err() == nil {
			sb.tracef("live world: %v", err)
		}
		sb.forget()
	})
	return w, nil
}

// forget drops the records only a scenario's checks read (writes for the invariant),
// so that a world that runs for hours does not grow with them.
func (sb *sandbox) forget() {
	sb.mu.Lock()
	sb.writes = nil
	sb.mu.Unlock()
}
