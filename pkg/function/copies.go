package function

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"time"

	"imageshare/pkg/apply"
	"imageshare/pkg/cloud"
	"imageshare/pkg/job"
	"imageshare/pkg/plan"
	"imageshare/pkg/report"
)

// copyJobs sends the jobs of copies in other regions (docs/regions.md): each copy a run
// made or retagged is handed to the deployment of its region, since the functions'
// own writes cause no job; and each copy whose tags are not what its source asks for
// asks the deployment of its source's region to look. A region this deployment covers
// gets its own queue; another region the JOB_QUEUE there, which every deployment of
// the account uses. A region without that queue has no deployment: the copy's region is
// refused (no-deployment) and the copy waits for one.
func (d *Deps) copyJobs(ctx context.Context, inv Invocation, region string, g *group, out *apply.Outcome) error {
	for _, to := range slices.Sorted(maps.Keys(out.Handoff)) {
		ids := out.Handoff[to]
		proto := job.Job{V: job.Version, Region: to, Reason: job.ReasonCopy, RetryFailed: true, Notify: g.notify, ChangesOnly: g.changesOnly(), Cause: g.cause}
		var bodies []string
		for _, grp := range byActors(ids, func(c string) []report.Actor { return g.actorsOf(out.HandoffSource[c]) }) {
			p := proto
			p.Actors = grp.actors
			for _, j := range job.Pack(p, grp.images, nil, nil) {
				bodies = append(bodies, j.Encode())
			}
		}
		err := d.sendToRegion(ctx, inv, to, bodies, d.Settings.SettleDelay)
		if cloud.Code(err) == "QueueNotExist" {
			var entries []report.Entry
			sources := map[string]bool{}
			for _, c := range ids {
				sources[out.HandoffSource[c]] = true
			}
			for _, src := range slices.Sorted(maps.Keys(sources)) {
				entries = append(entries, report.Entry{Region: region, Image: src, Action: plan.ActRefuse, Subject: to, Reason: plan.ReasonNoDeployment,
					Message: fmt.Sprintf("no deployment covers %s (its queue %s does not exist): the copy is made and tagged but nobody shares it; deploy imageshare there, or add %s to the REGIONS of a deployment",
						to, d.Settings.JobQueue, to), Actors: g.actorsOf(src)})
			}
			d.publish(ctx, inv, entries, g.notify, g.notified)
			continue
		}
		if err != nil {
			return err
		}
	}
	asks := map[string]map[string][]string{} // source region → source → copies' regions
	for _, a := range out.Asks {
		if asks[a.Region] == nil {
			asks[a.Region] = map[string][]string{}
		}
		if !slices.Contains(asks[a.Region][a.Image], a.Copy) {
			asks[a.Region][a.Image] = append(asks[a.Region][a.Image], a.Copy)
		}
	}
	for _, to := range slices.Sorted(maps.Keys(asks)) {
		var bodies []string
		for _, src := range slices.Sorted(maps.Keys(asks[to])) {
			rs := asks[to][src]
			slices.Sort(rs)
			bodies = append(bodies, job.Job{V: job.Version, Kind: job.KindImages, Region: to, Images: []string{src}, Reason: job.ReasonCopyCheck,
				Regions: rs, RetryFailed: true, Notify: g.notify, ChangesOnly: g.changesOnly(), Cause: g.cause}.Encode())
		}
		err := d.sendToRegion(ctx, inv, to, bodies, 0)
		if cloud.Code(err) == "QueueNotExist" {
			d.Log.Warn("no deployment covers the region of a copy's source: the copy's tags stay as they are", "region", to, "sources", slices.Sorted(maps.Keys(asks[to])))
			continue
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// sendToRegion sends jobs to the deployment that covers region: this one's queue when
// it covers the region, otherwise the job queue in that region.
func (d *Deps) sendToRegion(ctx context.Context, inv Invocation, region string, bodies []string, delay time.Duration) error {
	if slices.Contains(d.regions(inv), region) {
		return d.send(ctx, inv, bodies, delay)
	}
	there := inv
	there.Region = region
	return d.send(ctx, there, bodies, delay)
}

// unlistedCopies looks again, later, at copies handed over that their region does not
// list yet: a cross-region copy is made asynchronously, and whether the destination
// lists it at once is not documented. The chain backs off like re-checks and ends after
// job.MaxRecheck links (the sweep then finds the copy).
func (d *Deps) unlistedCopies(ctx context.Context, inv Invocation, region string, g *group, ids []string) error {
	byAttempt := map[int][]string{}
	for _, id := range ids {
		next := g.copies[id] + 1
		if next >= job.MaxRecheck {
			d.Log.Warn("copy still not listed; leaving it to the sweep", "region", region, "image", id)
			continue
		}
		byAttempt[next] = append(byAttempt[next], id)
	}
	for _, attempt := range sortedInts(byAttempt) {
		d.Log.Info("copy not listed yet; looking again later", "region", region, "images", byAttempt[attempt], "attempt", attempt)
		proto := job.Job{V: job.Version, Region: region, Reason: job.ReasonCopy, Attempt: attempt, RetryFailed: true, Notify: g.notify, ChangesOnly: g.changesOnly(), Cause: g.cause}
		if err := d.send(ctx, inv, g.bodies(proto, byAttempt[attempt], nil, nil), job.Backoff(job.RecheckBase, job.RecheckMax, attempt)); err != nil {
			return err
		}
	}
	return nil
}
