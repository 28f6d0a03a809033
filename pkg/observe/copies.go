package observe

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sync"

	"imageshare/pkg/cloud"
	"imageshare/pkg/policy"
	"imageshare/pkg/state"
)

// listCopiesOver: a region that more sources of a run look in than this is listed
// whole (every image carrying the origin key, a hundred a page) rather than looked up
// source by source.
const listCopiesOver = 3

// Copies reads what planning copies needs (docs/regions.md): for each source of the
// run (a managed image that is Available, its tags valid, not itself a copy), the
// owner's images carrying its origin key in every region its tags name, every region in
// covered (the deployment's) and every region hints names for it; and, for each copy of
// the run, its source in the source's region. A region that cannot be read is recorded
// in st.CopyLookupFailed and left out, so that one bad region never stops the run.
func (o *Observer) Copies(ctx context.Context, st *state.State, covered []string, hints map[string][]string) error {
	prefix := o.req.Prefix
	want := map[string][]string{} // region → sources looking there
	for _, im := range st.Images {
		if im.Missing || im.OwnerAlias != "self" || im.Status != state.Available {
			continue
		}
		p := policy.Parse(prefix, im.Tags)
		if !p.Managed || len(p.Errors) > 0 || p.IsCopy() {
			continue
		}
		regions := slices.Concat(p.Regions, covered, hints[im.ID])
		slices.Sort(regions)
		for _, r := range slices.Compact(regions) {
			if r != st.Region && policy.IsRegion(r) {
				want[r] = append(want[r], im.ID)
			}
		}
	}
	bySourceRegion := map[string][]string{} // region → copies of the run whose source is there
	for _, im := range st.Images {
		if im.Missing || im.OwnerAlias != "self" || im.Status != state.Available {
			continue // the planner checks a copy against its source only once it is Available
		}
		if p := policy.Parse(prefix, im.Tags); p.IsCopy() && len(p.Errors) == 0 {
			bySourceRegion[p.SourceRegion] = append(bySourceRegion[p.SourceRegion], im.ID)
		}
	}
	if len(want) == 0 && len(bySourceRegion) == 0 {
		return nil
	}
	var mu sync.Mutex
	st.Copies = map[string]map[string][]state.Copy{}
	st.Sources = map[string]state.Image{}
	regions := slices.Sorted(maps.Keys(want))
	err := o.each(ctx, len(regions), func(ctx context.Context, i int) error {
		r := regions[i]
		found, err := o.copiesIn(ctx, r, st.Region, want[r])
		mu.Lock()
		defer mu.Unlock()
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if st.CopyLookupFailed == nil {
				st.CopyLookupFailed = map[string]string{}
			}
			st.CopyLookupFailed[r] = err.Error()
			return nil
		}
		for _, src := range want[r] {
			if st.Copies[src] == nil {
				st.Copies[src] = map[string][]state.Copy{}
			}
			st.Copies[src][r] = append([]state.Copy{}, found[src]...)
		}
		return nil
	})
	if err != nil {
		return err
	}
	srcRegions := slices.Sorted(maps.Keys(bySourceRegion))
	return o.each(ctx, len(srcRegions), func(ctx context.Context, i int) error {
		return o.sourcesIn(ctx, st, &mu, srcRegions[i], bySourceRegion[srcRegions[i]])
	})
}

// copiesIn finds, in region, the copies of sources (images of home), by source.
func (o *Observer) copiesIn(ctx context.Context, region, home string, sources []string) (map[string][]state.Copy, error) {
	key := policy.SourceKey(o.req.Prefix)
	out := map[string][]state.Copy{}
	names := map[string]string{} // origin value → source
	for _, s := range sources {
		names[policy.SourceValue(home, s)] = s
	}
	keep := func(ims []cloud.Image) {
		for _, im := range ims {
			if s, ok := names[im.Tags[key]]; ok && im.OwnerAlias == "self" {
				out[s] = append(out[s], state.Copy{ID: im.ID, Region: region, Status: im.Status, Created: im.Created, Tags: im.Tags})
			}
		}
	}
	if len(sources) > listCopiesOver {
		// One listing per region and Observer: the chunks of a large run look at other
		// sources in the same listing (a chunk makes copies only of its own sources).
		o.mu.Lock()
		ims, cached := o.copyListings[region]
		o.mu.Unlock()
		var err error
		if !cached {
			if ims, err = o.imagesTagged(ctx, region, map[string]string{key: ""}); err == nil {
				o.mu.Lock()
				if o.copyListings == nil {
					o.copyListings = map[string][]cloud.Image{}
				}
				o.copyListings[region] = ims
				o.mu.Unlock()
			}
		}
		if err == nil {
			keep(ims)
			return out, nil
		}
		if cloud.Retryable(err) || ctx.Err() != nil {
			return nil, err
		}
		// ECS serves a tag filter matching at most 1,000 images: look source by source.
	}
	for _, s := range sources {
		ims, err := o.imagesTagged(ctx, region, map[string]string{key: policy.SourceValue(home, s)})
		if err != nil {
			return nil, err
		}
		keep(ims)
	}
	return out, nil
}

// imagesTagged lists the owner's images of a region with the tags, of every status.
func (o *Observer) imagesTagged(ctx context.Context, region string, tags map[string]string) ([]cloud.Image, error) {
	var out []cloud.Image
	for page := 1; ; page++ {
		var p cloud.ImagePage
		err := o.do(ctx, "DescribeImages", func() (err error) {
			p, err = o.api.DescribeImages(ctx, cloud.DescribeImagesInput{Region: region, Statuses: cloud.AllStatuses, OwnerAlias: "self",
				Page: page, PageSize: cloud.MaxImagePage, Tags: tags})
			return err
		})
		if err != nil {
			return nil, fmt.Errorf("look for copies in %s: %w", region, err)
		}
		out = append(out, p.Images...)
		if len(p.Images) < cloud.MaxImagePage || len(out) >= p.Total {
			return out, nil
		}
	}
}

// sourcesIn reads the sources, in their region, of copies of the run.
func (o *Observer) sourcesIn(ctx context.Context, st *state.State, mu *sync.Mutex, region string, copies []string) error {
	prefix := o.req.Prefix
	srcOf := map[string]string{}
	var ids []string
	for _, im := range st.Images {
		if slices.Contains(copies, im.ID) {
			p := policy.Parse(prefix, im.Tags)
			srcOf[im.ID] = p.SourceImage
			ids = append(ids, p.SourceImage)
		}
	}
	slices.Sort(ids)
	ids = slices.Compact(ids)
	found := map[string]cloud.Image{}
	for chunk := range slices.Chunk(ids, cloud.MaxImagePage) {
		var p cloud.ImagePage
		err := o.do(ctx, "DescribeImages", func() (err error) {
			p, err = o.api.DescribeImages(ctx, cloud.DescribeImagesInput{Region: region, ImageIDs: chunk, Statuses: cloud.AllStatuses,
				OwnerAlias: "self", Page: 1, PageSize: cloud.MaxImagePage})
			return err
		})
		if err != nil {
			if cloud.Retryable(err) || ctx.Err() != nil {
				return fmt.Errorf("read the sources of copies in %s: %w", region, err)
			}
			return nil // a region that cannot be read: its copies are not checked this time
		}
		for _, im := range p.Images {
			found[im.ID] = im
		}
	}
	mu.Lock()
	defer mu.Unlock()
	for cp, s := range srcOf {
		im, ok := found[s]
		if !ok || im.OwnerAlias != "self" {
			st.Sources[cp] = state.Image{ID: s, Missing: true}
			continue
		}
		st.Sources[cp] = o.toState(im)
	}
	return nil
}
