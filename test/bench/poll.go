package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"imageshare"
	"imageshare/pkg/sandbox"
	"imageshare/pkg/scenario"
)

// The organization poll's cost: LookupEvents calls per poll, by how many directory
// writes fall in its window. A directory of members in two folders, no events on the
// bus (cloud.org_events false), the sweep's timer off; at 00:31 n members move at once;
// the polls of 00:35, 00:40 and 00:45 have them in their windows (ORG_POLL 5m,
// ORG_POLL_LAG 10m), the others none.

// pollSizes are the numbers of writes in a window measured: none, a few, one full page
// of LookupEvents (50), and several pages.
var pollSizes = []int{0, 10, 50, 120}

// PollResult is one run of the poll phase.
type PollResult struct {
	Writes int // directory writes at 00:31
	// Polls are the polls of the run, in order: their calls (throttled ones included),
	// records found and jobs enqueued.
	Polls     []pollLine
	Throttled int // LookupEvents calls answered Throttling.User (and retried)
	Calls     int // every LookupEvents call of the run
	Reconcile int // reconcile invocations the polls' jobs caused
}

type pollLine struct {
	At      string `json:"to"`
	Calls   int    `json:"calls"`
	Records int    `json:"records"`
	Jobs    int    `json:"jobs"`
}

// pollLogs reads the organization poll's log lines.
type pollLogs struct {
	*logs
	mu    sync.Mutex
	buf   []byte
	polls []pollLine
}

func (p *pollLogs) Write(b []byte) (int, error) {
	if _, err := p.logs.Write(b); err != nil {
		return 0, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.buf = append(p.buf, b...)
	for {
		i := bytes.IndexByte(p.buf, '\n')
		if i < 0 {
			break
		}
		line := string(p.buf[:i])
		p.buf = p.buf[i+1:]
		if j := strings.Index(line, "] {"); j >= 0 && strings.Contains(line, `"msg":"organization poll"`) {
			var l pollLine
			if json.Unmarshal([]byte(line[j+2:]), &l) == nil {
				l.At = strings.TrimSuffix(strings.TrimPrefix(l.At, "2026-01-01T"), "Z")
				p.polls = append(p.polls, l)
			}
		}
	}
	return len(b), nil
}

func runPolls(ctx context.Context, latency time.Duration, trace io.Writer) ([]PollResult, error) {
	var out []PollResult
	for _, n := range pollSizes {
		r, err := runPoll(ctx, n, latency, trace)
		if err != nil {
			return nil, err
		}
		out = append(out, *r)
	}
	return out, nil
}

func runPoll(ctx context.Context, n int, latency time.Duration, trace io.Writer) (*PollResult, error) {
	const (
		prod = "fd-Prod000001"
		dev  = "fd-Dev0000001"
	)
	sc := &scenario.Scenario{Region: region, Owner: owner, Cloud: scenario.Cloud{OrgEvents: false}, Settings: map[string]string{},
		Directory: &scenario.Directory{ID: dirID, Root: rootID, SharingEnabled: true,
			Folders: []scenario.Folder{{ID: prod, Name: "prod", Parent: rootID}, {ID: dev, Name: "dev", Parent: rootID}}}}
	moves := []scenario.Step{}
	for i := range max(n, 1) {
		a := fmt.Sprintf("1%015d", 100+i)
		sc.Directory.Accounts = append(sc.Directory.Accounts, scenario.Account{ID: a, Folder: dev, Site: "china"})
		if i < n {
			moves = append(moves, scenario.Step{MoveAccount: &scenario.MoveAccount{Account: a, To: prod}})
		}
	}
	sc.Steps = []scenario.Step{{Advance: 31 * time.Minute}}
	if n > 0 {
		sc.Steps = append(sc.Steps, scenario.Step{Together: moves})
	}
	sc.Steps = append(sc.Steps, scenario.Step{Advance: 24 * time.Minute})
	sy, err := timerOff(imageshare.SYAML)
	if err != nil {
		return nil, err
	}
	cmd, err := functionCommand()
	if err != nil {
		return nil, err
	}
	lg := &pollLogs{logs: newLogs()}
	var logs io.Writer = lg
	if trace != nil {
		logs = io.MultiWriter(lg, trace)
	}
	res, err := sandbox.Run(ctx, sc, sandbox.Options{SYAML: sy, FunctionCommand: cmd, Latency: latency, NoInvariant: true, Logs: logs, Trace: trace})
	if err != nil {
		return nil, err
	}
	if !res.OK() {
		return nil, fmt.Errorf("the poll run with %d writes failed: %v %v", n, res.Failures, res.Violations)
	}
	return &PollResult{Writes: n, Polls: lg.polls, Throttled: lg.throttled["actiontrail:LookupEvents"],
		Calls: res.Stats.Calls["actiontrail:LookupEvents"], Reconcile: res.Stats.Invocations["reconcile"]}, nil
}
