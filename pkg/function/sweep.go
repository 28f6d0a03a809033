package function

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"strconv"
	"time"

	"imageshare/pkg/cloud"
	"imageshare/pkg/event"
	"imageshare/pkg/job"
	"imageshare/pkg/observe"
	"imageshare/pkg/plan"
	"imageshare/pkg/report"
	"imageshare/pkg/settings"
	"imageshare/pkg/state"
)

// EmptyShareGrace: an empty managed share is deleted only once it has been left alone
// this long, so that a run that just created it (or is joining it) is not undercut.
const EmptyShareGrace = 10 * time.Minute

// sweep is the safety net: it enqueues a job for every managed image (every owned
// custom image with REDUNDANCY_SCOPE=all) of every region, listing images of all
// statuses (pages in parallel) and reading tags client-side, and deletes empty managed
// shares.
func (d *Deps) sweep(ctx context.Context, inv Invocation, payload []byte) ([]byte, error) {
	now := d.now()
	if t, err := event.DecodeTimer(payload); err != nil {
		d.ignore(err, nil, "")
	} else {
		now = d.eventTime(t.TriggerTime)
	}
	api, err := d.API(inv)
	if err != nil {
		return nil, fmt.Errorf("cloud clients: %w", err)
	}
	a := d.applier(api)
	var s summary
	for _, region := range d.regions(inv) {
		o := observe.New(api, observe.Request{Region: region, Untagged: d.Settings.RedundancyScope == settings.ScopeAll,
			Prefix: d.Settings.TagPrefix}, a.Call)
		var imgs []state.Image
		var deleted int
		// The listing (pages in parallel) and the empty shares are independent.
		if err := parallel(ctx,
			func(ctx context.Context) (err error) {
				if imgs, err = o.ListImages(ctx); err != nil {
					return fmt.Errorf("sweep %s: %w", region, err)
				}
				return nil
			},
			func(ctx context.Context) (err error) {
				deleted, err = d.deleteEmptyShares(ctx, api, a.Call, region, now)
				return err
			},
		); err != nil {
			return nil, err
		}
		ids := make([]string, len(imgs))
		for i, im := range imgs {
			ids[i] = im.ID
		}
		var bodies []string
		for _, j := range job.ForImages(region, ids, job.ReasonSweep) {
			bodies = append(bodies, j.Encode())
		}
		if err := d.send(ctx, inv, bodies, 0); err != nil {
			return nil, err
		}
		s.Jobs += len(bodies)
		s.Changes += deleted
	}
	d.Log.Info("swept", "jobs", s.Jobs, "changes", s.Changes, "maxRSSKB", maxRSSKB())
	return s.bytes(), nil
}

// maxRSSKB is the process's peak resident memory (VmHWM) in KiB, for sizing the
// functions' memorySize; 0 where /proc is not there.
func maxRSSKB() int {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range bytes.Split(b, []byte("\n")) {
		if rest, ok := bytes.CutPrefix(line, []byte("VmHWM:")); ok {
			n, _ := strconv.Atoi(string(bytes.TrimSpace(bytes.TrimSuffix(bytes.TrimSpace(rest), []byte("kB")))))
			return n
		}
	}
	return 0
}

// deleteEmptyShares deletes managed shares that hold no image and have not changed for
// EmptyShareGrace.
func (d *Deps) deleteEmptyShares(ctx context.Context, api cloud.API, call func(context.Context, string, func() error) error, region string, now time.Time) (int, error) {
	type info struct {
		share  cloud.ShareInfo
		holds  bool
		latest time.Time
	}
	shares := map[string]*info{}
	var order []string
	for token := ""; ; {
		var p cloud.SharePage
		if err := call(ctx, "ListResourceShares", func() (err error) {
			p, err = api.ListResourceShares(ctx, region, token)
			return err
		}); err != nil {
			return 0, fmt.Errorf("sweep %s: list resource shares: %w", region, err)
		}
		for _, sh := range p.Shares {
			if plan.IsManagedName(sh.Name) && (sh.Status == "" || sh.Status == "Active") {
				shares[sh.ID] = &info{share: sh, latest: sh.Created}
				order = append(order, sh.ID)
			}
		}
		if token = p.NextToken; token == "" {
			break
		}
	}
	if len(shares) == 0 {
		return 0, nil
	}
	for token := ""; ; {
		var p cloud.AssociationPage
		if err := call(ctx, "ListResourceShareAssociations", func() (err error) {
			p, err = api.ListResourceShareAssociations(ctx, region, cloud.AssociationResource, token)
			return err
		}); err != nil {
			return 0, fmt.Errorf("sweep %s: list associations: %w", region, err)
		}
		for _, as := range p.Associations {
			in := shares[as.ShareID]
			if in == nil {
				continue
			}
			// Associating is an image being joined. A Failed association keeps its
			// share too: the planner retries it after a day (R4), counting from its
			// time; deleting the share would turn that into a new share and a new
			// failure at every sweep.
			if as.Status != "Disassociated" && as.Status != "Disassociating" {
				in.holds = true
			}
			if as.Updated.After(in.latest) {
				in.latest = as.Updated
			}
		}
		if token = p.NextToken; token == "" {
			break
		}
	}
	n := 0
	for _, id := range order {
		in := shares[id]
		if in.holds || now.Sub(in.latest) < EmptyShareGrace {
			continue
		}
		entry := report.Entry{Region: region, Action: "delete", Subject: in.share.Name, Reason: "empty-managed-share",
			Message: "deleted managed resource share " + id + ": it holds no image", DryRun: d.Settings.DryRun}
		if !d.Settings.DryRun {
			var res cloud.Result
			if err := call(ctx, "DeleteResourceShare", func() (err error) {
				res, err = api.DeleteResourceShare(ctx, region, id)
				return err
			}); err != nil {
				if cloud.Retryable(err) {
					return n, fmt.Errorf("sweep %s: delete %s: %w", region, id, err)
				}
				d.Log.Warn("empty managed share not deleted", "region", region, "share", id, "code", cloud.Code(err))
				continue
			}
			entry.RequestIDs = []string{res.RequestID}
		}
		report.Log(ctx, d.Log, entry)
		n++
	}
	return n, nil
}
