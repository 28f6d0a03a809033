package apply

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	"imageshare/pkg/cloud"
	"imageshare/pkg/plan"
	"imageshare/pkg/policy"
)

// copies makes and retags the copies of the plan's images in other regions
// (docs/regions.md). A copy's problem is a refusal of its region; the other regions and
// images go on. What it made or retagged is handed over: the copy's job goes to the
// deployment of its region (Outcome.Handoff), since the functions' own writes cause no
// job.
func (r *run) copies(ctx context.Context) error {
	for _, ip := range r.p.Images {
		if r.skip[ip.Image] {
			continue
		}
		for _, op := range ip.Copies {
			var err error
			if op.Op == plan.ActCopy {
				err = r.copyTo(ctx, ip.Image, op)
			} else {
				err = r.retag(ctx, ip.Image, op)
			}
			if err != nil {
				return err
			}
			if r.skip[ip.Image] {
				break // the source is gone
			}
		}
	}
	return nil
}

// copyTo makes the copy of image in op.Region. CopyImage makes a new image at each call,
// so a retry first looks for a copy an earlier attempt made (its answer may have been
// lost after the copy was made), and every attempt carries the same ClientToken, which
// covers a copy too new to be listed.
func (r *run) copyTo(ctx context.Context, image string, op plan.CopyOp) error {
	origin := policy.SourceValue(r.st.Region, image)
	var id string
	var res cloud.Result
	found := false
	attempt := 0
	err := r.a.Call(ctx, "CopyImage", func() (e error) {
		if attempt++; attempt > 1 {
			var ok bool
			if id, ok, e = r.findCopy(ctx, op.Region, origin); e != nil || ok {
				found = ok
				return e
			}
		}
		id, res, e = r.a.API.CopyImage(ctx, cloud.CopyImageInput{Region: r.st.Region, Image: image, Destination: op.Region,
			Tags: op.Tags, KMSKeyID: op.KMSKeyID, ClientToken: op.Token})
		return e
	})
	if err != nil {
		return r.copyErr(image, op.Region, err)
	}
	msg := fmt.Sprintf("copy %s made in %s, tagged %s; it is shared there as the image's tags say once it is Available. It adds snapshot storage in %s, billed to the owner, for as long as it exists",
		id, op.Region, origin, op.Region)
	if found {
		msg = fmt.Sprintf("copy %s in %s, made by an earlier attempt whose answer was lost, found by its origin key %s", id, op.Region, origin)
	}
	r.entry(image, plan.ActCopy, op.Region, "regions-tag", msg, res.RequestID)
	r.handOff(image, op.Region, id)
	return nil
}

// findCopy looks for a live copy of origin in region (the newest), by its origin key.
func (r *run) findCopy(ctx context.Context, region, origin string) (string, bool, error) {
	p, err := r.a.API.DescribeImages(ctx, cloud.DescribeImagesInput{Region: region, Statuses: cloud.AllStatuses, OwnerAlias: "self",
		Page: 1, PageSize: cloud.MaxImagePage, Tags: map[string]string{policy.SourceKey(r.a.Settings.TagPrefix): origin}})
	if err != nil {
		return "", false, err
	}
	best := cloud.Image{}
	for _, im := range p.Images {
		if im.OwnerAlias == "self" && im.Status != "CreateFailed" && (best.ID == "" || im.Created.After(best.Created)) {
			best = im
		}
	}
	return best.ID, best.ID != "", nil
}

// retag writes a copy's tags: the keys to set, then the keys to remove.
func (r *run) retag(ctx context.Context, image string, op plan.CopyOp) error {
	var ids []string
	if len(op.Tags) > 0 {
		var res cloud.Result
		err := r.a.Call(ctx, "TagResources", func() (e error) {
			res, e = r.a.API.TagResources(ctx, op.Region, []string{op.Copy}, op.Tags)
			return e
		})
		if err != nil {
			return r.copyErr(image, op.Region, err)
		}
		ids = append(ids, res.RequestID)
	}
	if len(op.Unset) > 0 {
		var res cloud.Result
		err := r.a.Call(ctx, "UntagResources", func() (e error) {
			res, e = r.a.API.UntagResources(ctx, op.Region, []string{op.Copy}, op.Unset)
			return e
		})
		if err != nil {
			return r.copyErr(image, op.Region, err)
		}
		ids = append(ids, res.RequestID)
	}
	r.copyEntry(image, op, ids...)
	r.handOff(image, op.Region, op.Copy)
	return nil
}

// copyEntry reports a retag (and the keep of a withdrawn copy), or, in a dry run, what
// would be done.
func (r *run) copyEntry(image string, op plan.CopyOp, requestIDs ...string) {
	would := ""
	if r.a.Settings.DryRun {
		would = "would be "
	}
	if op.Op == plan.ActCopy {
		r.entry(image, plan.ActCopy, op.Region, "regions-tag", fmt.Sprintf("a copy %smade in %s; it would add snapshot storage there, billed to the owner", would, op.Region))
		return
	}
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(op.Tags)) {
		parts = append(parts, k+"="+op.Tags[k])
	}
	for _, k := range op.Unset {
		parts = append(parts, "-"+k)
	}
	r.entry(image, plan.ActRetag, op.Region, "regions-tag", fmt.Sprintf("copy %s in %s %sretagged as the image's tags say: %s", op.Copy, op.Region, would, strings.Join(parts, " ")), requestIDs...)
	if op.Withdrawn {
		r.entry(image, plan.ActKeep, op.Region, "region-withdrawn", fmt.Sprintf("the tags no longer name %s: copy %s %swithdrawn (its shares go through the normal rules) and kept; delete it by hand once nobody uses it (it holds snapshot storage there)", op.Region, op.Copy, would))
	}
}

// copyErr turns a failed copy or retag into a refusal of its region; retried answers
// fail the run (the job is redelivered), and a source that is gone ends its copies.
func (r *run) copyErr(image, region string, err error) error {
	if cloud.Retryable(err) {
		return err
	}
	switch remedyFor(cloud.Code(err)).scope {
	case scopeGone:
		if cloud.Code(err) == "InvalidImageId.NotFound" {
			r.skip[image] = true // the source: nothing to copy
		}
		return nil // a copy that is gone: nothing to retag
	}
	r.refuseErr(image, region, err)
	return nil
}

// handOff records a copy whose job goes to the deployment of its region.
func (r *run) handOff(image, region, copyID string) {
	if !slices.Contains(r.out.Handoff[region], copyID) {
		r.out.Handoff[region] = append(r.out.Handoff[region], copyID)
	}
	r.out.HandoffSource[copyID] = image
}
