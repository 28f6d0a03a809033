package chaos

import (
	"context"
	"flag"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"imageshare"
	"imageshare/pkg/function"
	"imageshare/pkg/sandbox"
	"imageshare/pkg/scenario"
	"imageshare/test/guardrail"
)

// Copies in other regions under chaos (docs/regions.md): seeded sources tagged with
// regions, edited and narrowed, run with throttling, server errors (a failed CopyImage
// made its copy half of the time), killed processes, duplicated and reordered
// deliveries, two instances racing on every job batch for half the seeds, and a
// destination that lists a new copy only some time after it is made. The oracle below is
// plain maps: what the tags asked for, step by step. Never two copies of one source in
// one region; each copy of a region still asked for carries the source's final sharing
// keys and is shared as they say; each copy of a region dropped is withdrawn and kept.
//
//	go test ./test/chaos -run TestRegionsChaos                      # 24 seeds
//	go test ./test/chaos -run TestRegionsChaos -chaos.regions=200    # more

var regionSeeds = flag.Int("chaos.regions", 24, "number of seeds TestRegionsChaos runs")

var chaosRegions = []string{"cn-beijing", "cn-qingdao", "cn-shanghai"}

// regionsCase is one generated scenario with what the oracle needs: per source, the
// accounts and regions of its last tags, and the regions its tags ever named.
type regionsCase struct {
	sc       *scenario.Scenario
	accounts map[string][]string
	final    map[string][]string
	ever     map[string]map[string]bool
	// late: regions named only before a later edit dropped them; a copy there may or may
	// not have been made before the edit (a run that died, a dead-lettered job).
	late map[string]map[string]bool
}

func subset(r *rand.Rand, xs []string, atLeast int) []string {
	var out []string
	for _, x := range xs {
		if r.IntN(2) == 0 {
			out = append(out, x)
		}
	}
	for len(out) < atLeast {
		x := xs[r.IntN(len(xs))]
		if !slices.Contains(out, x) {
			out = append(out, x)
		}
	}
	slices.Sort(out)
	return out
}

func list(xs []string) string {
	if len(xs) == 0 {
		return "none"
	}
	return strings.Join(xs, ",")
}

func generateRegions(seed uint64) regionsCase {
	r := rand.New(rand.NewPCG(seed, 0x7265676e))
	members := []string{"1000000000000002", "1000000000000003", "1000000000000004", "1000000000000005"}
	var accts []scenario.Account
	for _, m := range members {
		accts = append(accts, scenario.Account{ID: m, Folder: "r-Chaos1", Site: "china"})
	}
	sc := &scenario.Scenario{Region: "cn-hangzhou", Owner: "1000000000000001",
		Directory: &scenario.Directory{ID: "rd-Chaos1", Root: "r-Chaos1", SharingEnabled: true, Accounts: accts},
		Settings:  map[string]string{"REGIONS": strings.Join(chaosRegions, " "), "RETRY_BASE": "1ms", "RETRY_MAX": "5ms"},
		Cloud: scenario.Cloud{OrgEvents: true, CopyReadyAfter: []time.Duration{time.Minute, 3 * time.Minute, 10 * time.Minute}[r.IntN(3)],
			CopyListDelay: []time.Duration{0, 30 * time.Second, 90 * time.Second, 3 * time.Minute}[r.IntN(4)]},
		Faults: scenario.Faults{Seed: int64(seed), Throttle: r.Float64() * 0.2, ServerError: r.Float64() * 0.1, Kill: r.Float64() * 0.01},
	}
	c := regionsCase{sc: sc, accounts: map[string][]string{}, final: map[string][]string{}, ever: map[string]map[string]bool{}, late: map[string]map[string]bool{}}
	sources := []string{"m-RegA00000001", "m-RegB00000001"}[:1+r.IntN(2)]
	var first []scenario.Step
	for _, src := range sources {
		a := subset(r, members, 0)
		sc.Images = append(sc.Images, scenario.Image{ID: src, Status: "Available", Owner: "self", Encrypted: "none",
			Tags: map[string]string{"imageshare:accounts": list(a)}})
		w := subset(r, chaosRegions, 1)
		first = append(first, scenario.Step{TagImage: &scenario.TagImage{Image: src, Tags: map[string]string{"imageshare:regions": list(w)}}})
		c.accounts[src], c.final[src] = a, w
		c.ever[src], c.late[src] = map[string]bool{}, map[string]bool{}
		for _, x := range w {
			c.ever[src][x] = true
		}
	}
	sc.Steps = append(sc.Steps, scenario.Step{Together: first}, scenario.Step{Advance: 5 * time.Minute})
	src := sources[0]
	if r.IntN(2) == 0 {
		a := subset(r, members, 1)
		sc.Steps = append(sc.Steps, scenario.Step{TagImage: &scenario.TagImage{Image: src, Tags: map[string]string{"imageshare:accounts": list(a)}}})
		c.accounts[src] = a
	}
	if r.IntN(2) == 0 {
		w := subset(r, chaosRegions, 0)
		sc.Steps = append(sc.Steps, scenario.Step{TagImage: &scenario.TagImage{Image: src, Tags: map[string]string{"imageshare:regions": list(w)}}})
		for x := range c.ever[src] {
			if !slices.Contains(w, x) {
				c.late[src][x] = true
			}
		}
		for _, x := range w {
			c.ever[src][x] = true
		}
		c.final[src] = w
	}
	sc.Steps = append(sc.Steps, scenario.Step{Advance: 61 * time.Minute})
	return c
}

// checkRegions is the oracle's verdict on the final state.
func checkRegions(c regionsCase, res *sandbox.Result) []string {
	var out []string
	// Copies follow the final tags only if something looked after the last loss: a job
	// whose retries ran out waits for the next sweep, and a sweep whose retries all died
	// for the one after. If the last sweep died, or a reconcile job was given up on after
	// it and nothing named its images again, a copy may be left as an earlier look made
	// it (seed 200013 under load: the copy's job dead-lettered and the sweeps after it
	// died); that a copy is made once, and only where the tags named, is still checked.
	converged := !lostAfterLastSweep(res)
	if !converged {
		stats.add("copies' tags and shares unchecked (the last sweep, or a job after it, was lost)", 1)
	}
	for _, src := range slices.Sorted(maps.Keys(c.final)) {
		origin := "cn-hangzhou/" + src
		if got := res.Images[src].Direct; converged && !slices.Equal(got, c.accounts[src]) && !(len(got) == 0 && len(c.accounts[src]) == 0) {
			out = append(out, fmt.Sprintf("%s: direct %v, want %v", src, got, c.accounts[src]))
		}
		for _, region := range chaosRegions {
			var copies []string
			for _, id := range slices.Sorted(maps.Keys(res.Images)) {
				if im := res.Images[id]; im.Region == region && im.Tags["imageshare:source"] == origin {
					copies = append(copies, id)
				}
			}
			wanted := slices.Contains(c.final[src], region)
			switch {
			case len(copies) > 1:
				out = append(out, fmt.Sprintf("%s: %d copies in %s (%v): a second copy", src, len(copies), region, copies))
				continue
			case !converged:
				continue
			case len(copies) == 0 && (wanted || (c.ever[src][region] && !c.late[src][region])):
				out = append(out, fmt.Sprintf("%s: no copy in %s, which its tags named", src, region))
				continue
			case len(copies) == 1 && !c.ever[src][region]:
				out = append(out, fmt.Sprintf("%s: a copy in %s, which its tags never named", src, region))
				continue
			case len(copies) == 0:
				continue
			}
			im := res.Images[copies[0]]
			want := map[string]string{"imageshare:source": origin, "imageshare:accounts": "none"}
			wantDirect := []string{}
			if wanted {
				want["imageshare:accounts"] = list(c.accounts[src])
				wantDirect = c.accounts[src]
			}
			if !maps.Equal(im.Tags, want) {
				out = append(out, fmt.Sprintf("%s: copy %s in %s tagged %v, want %v", src, copies[0], region, im.Tags, want))
			}
			if !slices.Equal(im.Direct, wantDirect) && !(len(im.Direct) == 0 && len(wantDirect) == 0) {
				out = append(out, fmt.Sprintf("%s: copy %s in %s shared with %v, want %v", src, copies[0], region, im.Direct, wantDirect))
			}
			if im.Status != "Available" {
				out = append(out, fmt.Sprintf("%s: copy %s in %s is %s", src, copies[0], region, im.Status))
			}
		}
	}
	return out
}

// lostAfterLastSweep says whether the run's last sweep died, or a reconcile delivery
// was given up on at or after it.
func lostAfterLastSweep(res *sandbox.Result) bool {
	var last *sandbox.TimerFiring
	for _, st := range res.Steps {
		for i, tf := range st.Timers {
			if tf.Function == "sweep" {
				last = &st.Timers[i]
			}
		}
	}
	if last == nil || !last.OK {
		return true
	}
	// A job given up on is lost unless a later delivery that succeeded named each of its
	// images (the dead-letters function queues a job of several images again, split).
	for _, st := range res.Steps {
		for _, dl := range st.DeadLetters {
			if dl.Function != function.Reconcile || dl.At.Before(last.At) {
				continue
			}
			named := imageIDRE.FindAllString(dl.Event, -1)
			if len(named) == 0 {
				return true
			}
			for _, id := range named {
				if !reconciledAfter(res, id, dl.At) {
					return true
				}
			}
		}
	}
	return false
}

func TestRegionsChaos(t *testing.T) {
	for i := 0; i < *regionSeeds; i++ {
		seed := uint64(200001 + i)
		concurrent := 1 + i%2
		t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) {
			t.Parallel()
			c := generateRegions(seed)
			if _, err := c.sc.Marshal(); err != nil {
				t.Fatalf("the generator made an invalid scenario: %v", err)
			}
			trace := &sandbox.LogBuffer{}
			audit := guardrail.New(c.sc)
			res, err := sandbox.Run(context.Background(), c.sc, sandbox.Options{SYAML: imageshare.SYAML, FunctionCommand: command, Trace: trace, Logs: trace,
				Chaos: sandbox.Chaos{Seed: int64(seed), Duplicate: duplicateRate, Reorder: reorderRate}, Concurrent: concurrent, OnWrite: audit.OnWrite})
			if err != nil {
				t.Fatalf("sandbox: %v", err)
			}
			problems := slices.Concat(res.Failures, res.Violations, checkRegions(c, res))
			for _, p := range audit.Problems() {
				problems = append(problems, "guardrail: "+p)
			}
			stats.add("region copies (regions chaos)", strings.Count(trace.String(), `"action":"copy"`))
			if len(problems) > 0 {
				y, _ := c.sc.Marshal()
				t.Errorf("seed %d (concurrent %d): %d problem(s):\n  %s\nscenario:\n%s", seed, concurrent, len(problems), strings.Join(problems, "\n  "), y)
			}
		})
	}
}
