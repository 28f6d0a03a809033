package sandbox

import (
	"context"
	"fmt"
	"io"
	"maps"
	"slices"
	"sync"
	"time"

	"imageshare/pkg/cloudsim"
	"imageshare/pkg/cloudsim/emu"
	emueventbridge "imageshare/pkg/cloudsim/eventbridge"
	"imageshare/pkg/cloudsim/mns"
	"imageshare/pkg/scenario"
)

// WorldOptions configure a World.
type WorldOptions struct {
	// SYAML is the s.yaml whose queues, topic, function role and settings the world
	// has, as the sandbox reads it.
	SYAML []byte
	// Addr returns the loopback host:port a service listens on: "ecs",
	// "resourcemanager", "resourcesharing", "ram", "sts", "eventbridge", "mns-open",
	// "actiontrail" or "mns" ("" or a nil Addr: a free port).
	Addr func(service string) string
	// Bare: without the deployment's queues, topic and the functions' role and policy,
	// for `imageshare setup` to make them.
	Bare bool
	// FunctionCommand, when set, runs the functions as the sandbox does (processes
	// speaking the FC runtime API, events routed by s.yaml's triggers, timers firing),
	// in real time: see live.go. Not with Bare (the functions need their role).
	FunctionCommand func(name string) []string
	// Logs receives the function processes' lines (their "time" the emulated time);
	// OnReport each R10 report as it is logged. Only with FunctionCommand.
	Logs     io.Writer
	OnReport func(Report)
	// Start is the emulated time when the world starts (zero: the wall clock); the
	// clock then moves with the wall clock.
	Start time.Time
}

// World is a scenario's starting world — accounts, Resource Directory, images, resource
// shares, the deployment's queues and topic, the functions' RAM role with the file's
// deny and faults — served on loopback exactly as the sandbox serves it, but with no
// functions, steps or expectations: an emulated cloud for any client
// (`imageshare emulator`). Its clock starts at the wall clock and follows it, so
// associations settle and delayed messages appear in real time.
type World struct {
	sb   *sandbox
	stop chan struct{}
	done sync.WaitGroup
	// mu orders the clock's moves: the ticker's and Advance's.
	mu sync.Mutex
	// ahead is how far Advance moved the emulated clock beyond the wall clock's pace;
	// origin is the emulated time when the wall clock read wallOrigin.
	ahead              time.Duration
	origin, wallOrigin time.Time
	// live: the functions run (live.go).
	live bool
	ctx  context.Context
	quit context.CancelFunc
}

// tick is how often a World's clock catches up with the wall clock and applies the
// cloud-side transitions that fell due.
const tick = 100 * time.Millisecond

// NewWorld builds and serves the world of sc. Close stops it.
func NewWorld(sc *scenario.Scenario, opts WorldOptions) (*World, error) {
	if opts.FunctionCommand != nil {
		return newLiveWorld(sc, opts)
	}
	start := startOf(opts)
	sb, err := newWorld(sc, Options{SYAML: opts.SYAML}, worldConfig{start: start, addr: opts.Addr, standalone: true, bare: opts.Bare})
	if err != nil {
		return nil, err
	}
	w := &World{sb: sb, stop: make(chan struct{}), origin: start, wallOrigin: time.Now()}
	w.ctx, w.quit = context.WithCancel(context.Background())
	w.run(func(now time.Time) {
		sb.clock.Set(now)
		sb.cloud.RunDue()
	})
	return w, nil
}

// startOf is the emulated time a world starts at.
func startOf(opts WorldOptions) time.Time {
	if !opts.Start.IsZero() {
		return opts.Start.UTC()
	}
	return time.Now().UTC().Truncate(time.Second)
}

// run moves the clock with the wall clock (plus what Advance added) every tick, with
// step doing what falls due.
func (w *World) run(step func(now time.Time)) {
	w.done.Add(1)
	go func() {
		defer w.done.Done()
		t := time.NewTicker(tick)
		defer t.Stop()
		for {
			select {
			case <-w.stop:
				return
			case now := <-t.C:
				w.mu.Lock()
				step(w.origin.Add(now.Sub(w.wallOrigin) + w.ahead))
				w.mu.Unlock()
			}
		}
	}()
}

// Now returns the world's emulated time.
func (w *World) Now() time.Time { return w.sb.clock.Now() }

// Ahead returns how far Advance moved the emulated clock beyond the wall clock's pace.
func (w *World) Ahead() time.Duration {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.ahead
}

// Live reports whether the functions run in the world.
func (w *World) Live() bool { return w.live }

// Advance moves the emulated clock d ahead at once, doing in time order everything that
// falls due on the way — associations settle, images turn Available, and with the
// functions delayed jobs run and timers fire — so that a person need not wait for
// SETTLE_DELAY or a sweep. The clock then keeps following the wall clock, d ahead of
// it. It returns the emulated time before and after.
func (w *World) Advance(d time.Duration) (from, to time.Time, err error) {
	if d < 0 {
		return time.Time{}, time.Time{}, fmt.Errorf("cannot go back in time (%s)", d)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	from = w.sb.clock.Now()
	w.ahead += d
	target := from.Add(d)
	if w.live {
		err = w.sb.runUntil(w.ctx, target)
		w.sb.forget()
	} else {
		w.sb.clock.Set(target)
		w.sb.cloud.RunDue()
	}
	return from, w.sb.clock.Now(), err
}

// Close stops the clock, the functions and the endpoints.
func (w *World) Close() {
	close(w.stop)
	w.quit()
	w.done.Wait()
	w.sb.close()
}

// Endpoints returns the URL of each service: "ecs", "resourcemanager",
// "resourcesharing", "ram", "sts", "eventbridge", "mns-open", "actiontrail" and "mns" (MNS clients
// must send the Host <uid>.mns.<region>.aliyuncs.com).
func (w *World) Endpoints() map[string]string { return maps.Clone(w.sb.eps) }

// Region returns the scenario's region.
func (w *World) Region() string { return w.sb.sc.Region }

// Owner returns the ID of the account that owns the images and runs the functions.
func (w *World) Owner() string { return w.sb.sc.Owner }

// OwnerKey returns the long-lived access key of the owner's root account.
func (w *World) OwnerKey() emu.Credential { return w.sb.ownerKey }

// FunctionRole returns the name of the functions' RAM role (FUNCTION_ROLE).
func (w *World) FunctionRole() string { return w.sb.role }

// AssumeFunctionRole issues STS credentials of the functions' role, valid for ttl of
// wall time: the scenario's deny and faults apply to calls made with them.
func (w *World) AssumeFunctionRole(session string, ttl time.Duration) emu.Credential {
	return w.sb.keys.AssumeRole(w.sb.sc.Owner, w.sb.role, session, ttl)
}

// Settings returns the scenario's settings (what the file overrides of s.yaml).
func (w *World) Settings() map[string]string { return maps.Clone(w.sb.sc.Settings) }

// Queues returns the MNS queues the world has: JOB_QUEUE first, then the queues and
// dead-letter queues of s.yaml's triggers.
func (w *World) Queues() []string {
	seen := map[string]bool{}
	var out []string
	add := func(q string) {
		if q != "" && !seen[q] {
			seen[q] = true
			out = append(out, q)
		}
	}
	add(w.sb.jobQueue)
	for _, k := range slices.Sorted(maps.Keys(w.sb.funcs)) {
		for _, t := range w.sb.funcs[k].triggers {
			add(t.queue)
			add(t.dlq)
		}
	}
	return out
}

// FunctionEnv returns the functions' settings as s.yaml and the file's settings give
// them (the environment the functions run with, without endpoints).
func (w *World) FunctionEnv() map[string]string { return maps.Clone(w.sb.env) }

// Topic returns NOTIFY_TOPIC ("" none).
func (w *World) Topic() string { return w.sb.env["NOTIFY_TOPIC"] }

// Cloud, MNS and Clock are the emulated services and their clock, for tests and tools
// that look inside.
func (w *World) Cloud() *cloudsim.Cloud { return w.sb.cloud }

// MNS returns the emulated MNS.
func (w *World) MNS() *mns.MNS { return w.sb.mq }

// Clock returns the world's clock.
func (w *World) Clock() *emu.Clock { return w.sb.clock }

// RAM returns the RAM store every service evaluates calls against.
func (w *World) RAM() *emu.RAMStore { return w.sb.ram }

// EventBridge returns the emulated EventBridge's rules and targets.
func (w *World) EventBridge() *emueventbridge.EventBridge { return w.sb.eb }

// Keys returns the keyring of the credentials the world accepts (tests issue RAM
// users' keys with it).
func (w *World) Keys() *emu.Keyring { return w.sb.keys }
