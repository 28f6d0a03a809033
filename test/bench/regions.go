package main

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"imageshare"
	"imageshare/pkg/sandbox"
	"imageshare/pkg/scenario"
)

// benchRegions are the five regions the regions phase distributes to (docs/regions.md),
// all covered by the deployment (REGIONS).
var benchRegions = []string{"cn-beijing", "cn-qingdao", "cn-shanghai", "cn-shenzhen", "cn-zhangjiakou"}

// targetRegionsCallsOverFloor: the calls of distributing images to regions against the
// floor of the APIs.
const targetRegionsCallsOverFloor = 1.5

// RegionsResult is the regions phase: every image tagged with five regions at once, then
// the sweep copies them and the copies' deployment shares them.
type RegionsResult struct {
	Images, Regions int
	Calls, MNS      map[string]int
	Floor           map[string]int
	Wall            time.Duration
	EmulatedEnd     time.Time
	Mismatch        []string
}

// regionsFloor is the fewest calls the APIs allow to distribute n images, each shared
// directly with one account, to r regions covered by the deployment: one CopyImage per
// image and region; one ModifyImageSharePermission per image and per copy (one account
// a call); DescribeImages: the home region's listing (a hundred a page), per region one
// listing of the copies there, one read of the copies once Available to share them, and
// one read of their sources (a hundred a call); the directory once (its identity and one
// page of 20 members) and the resource shares of each region once.
func regionsFloor(n, r int) map[string]int {
	pages := (n + 99) / 100
	return map[string]int{
		"ecs:CopyImage":                        n * r,
		"ecs:ModifyImageSharePermission":       n * (r + 1),
		"ecs:DescribeImages":                   pages + r*pages*3,
		"resourcemanager:GetResourceDirectory": 1,
		"resourcemanager:ListAccounts":         1,
		"resourcesharing:ListResourceShares":   r + 1,
	}
}

// runRegions distributes n images to the five regions through the sweep and checks that
// each has exactly one copy per region, Available and shared as its tags say.
func runRegions(ctx context.Context, n int, latency time.Duration, trace io.Writer) (*RegionsResult, error) {
	const owner = "1000000000000001"
	var accts []scenario.Account
	for i := 0; i < 20; i++ {
		accts = append(accts, scenario.Account{ID: fmt.Sprintf("10000000000001%02d", i), Folder: "r-Bench1", Site: "china"})
	}
	sc := &scenario.Scenario{Region: "cn-hangzhou", Owner: owner, Cloud: scenario.Cloud{OrgEvents: true, CopyReadyAfter: 5 * time.Minute},
		Directory: &scenario.Directory{ID: "rd-Bench1", Root: "r-Bench1", SharingEnabled: true, Accounts: accts},
		Settings:  map[string]string{"REGIONS": strings.Join(benchRegions, " ")}}
	want := map[string]string{}
	for i := 0; i < n; i++ {
		id := fmt.Sprintf("m-Dist%08d", i)
		acct := accts[i%len(accts)].ID
		want[id] = acct
		sc.Images = append(sc.Images, scenario.Image{ID: id, Status: "Available", Owner: "self", Encrypted: "none",
			Tags: map[string]string{"imageshare:accounts": acct, "imageshare:regions": strings.Join(benchRegions, ",")}})
	}
	sc.Steps = []scenario.Step{{Advance: 31 * time.Minute}}
	cmd, err := functionCommand()
	if err != nil {
		return nil, err
	}
	res, err := sandbox.Run(ctx, sc, sandbox.Options{SYAML: imageshare.SYAML, FunctionCommand: cmd, Latency: latency, NoInvariant: true,
		Logs: trace, Trace: trace})
	if err != nil {
		return nil, err
	}
	out := &RegionsResult{Images: n, Regions: len(benchRegions), Calls: map[string]int{}, MNS: map[string]int{},
		Floor: regionsFloor(n, len(benchRegions)), Wall: res.StepWall[0], EmulatedEnd: res.Stats.EmulatedEnd}
	for a, c := range res.Stats.Calls {
		if strings.HasPrefix(a, "mns:") {
			out.MNS[a] = c
		} else {
			out.Calls[a] = c
		}
	}
	for _, f := range res.Failures {
		out.Mismatch = append(out.Mismatch, "sandbox: "+f)
	}
	copies := map[string]int{}
	for id, im := range res.Images {
		src := im.Tags["imageshare:source"]
		if src == "" {
			continue
		}
		_, s, _ := strings.Cut(src, "/")
		copies[s+"@"+im.Region]++
		if im.Status != "Available" || !slices.Equal(im.Direct, []string{want[s]}) {
			out.Mismatch = append(out.Mismatch, fmt.Sprintf("copy %s of %s in %s: %s, shared with %v", id, s, im.Region, im.Status, im.Direct))
		}
	}
	for id := range want {
		for _, r := range benchRegions {
			if copies[id+"@"+r] != 1 {
				out.Mismatch = append(out.Mismatch, fmt.Sprintf("%s has %d copies in %s", id, copies[id+"@"+r], r))
			}
		}
	}
	slices.Sort(out.Mismatch)
	return out, nil
}

func (r *RegionsResult) json(out map[string]any) {
	out["regions_images"], out["regions_regions"] = r.Images, r.Regions
	out["regions_calls"], out["regions_mns_calls"] = r.Calls, r.MNS
	out["regions_floor_calls"], out["regions_floor_total"] = r.Floor, total(r.Floor)
	out["regions_total_calls"] = total(r.Calls)
	out["regions_calls_over_floor"] = ratio(float64(total(r.Calls)), float64(total(r.Floor)))
	out["regions_wall_s"] = r.Wall.Seconds()
}

func (r *RegionsResult) print(w io.Writer) {
	fmt.Fprintf(w, "regions: %d images to %d regions, calls by action\tfloor\timageshare\t\n", r.Images, r.Regions)
	names := map[string]bool{}
	for a := range r.Floor {
		names[a] = true
	}
	for a := range r.Calls {
		names[a] = true
	}
	var sorted []string
	for a := range names {
		sorted = append(sorted, a)
	}
	slices.Sort(sorted)
	for _, a := range sorted {
		fmt.Fprintf(w, "  %s\t%d\t%d\t\n", a, r.Floor[a], r.Calls[a])
	}
	fmt.Fprintf(w, "  total\t%d\t%d\t\n", total(r.Floor), total(r.Calls))
	fmt.Fprintf(w, "regions wall\t%.1fs\t(MNS calls %d; emulated end %s)\n", r.Wall.Seconds(), total(r.MNS), r.EmulatedEnd.Format("15:04"))
}
