// Package observe builds the observed state of one region for a reconcile run with as
// few calls as the APIs allow: images paged at 100 (or named 100 at a time), each
// image's share list read once and only when ECS says it has shares, the directory and
// the region's resource-share associations paged at 100 once per run.
package observe

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"imageshare/pkg/cloud"
	"imageshare/pkg/policy"
	"imageshare/pkg/state"
)

// Request says what to look at.
type Request struct {
	Region, Owner string
	Now           time.Time
	// Images names the images of the run; with All, every managed image of the region
	// is listed instead (and every owned custom image when Untagged).
	Images      []string
	All         bool
	Untagged    bool // REDUNDANCY_SCOPE=all: untagged images need their share lists too
	Prefix      string
	RetryFailed bool
	// Concurrency bounds parallel share-list reads (default 4).
	Concurrency int
}

// Caller wraps every call (for retries); nil calls directly.
type Caller func(ctx context.Context, action string, call func() error) error

// Observe reads the state.
func Observe(ctx context.Context, api cloud.API, req Request, do Caller) (*state.State, error) {
	if do == nil {
		do = func(ctx context.Context, _ string, call func() error) error { return call() }
	}
	o := &observer{api: api, req: req, do: do}
	st := &state.State{Region: req.Region, Owner: req.Owner, Now: req.Now, RetryFailed: req.RetryFailed}
	var err error
	if st.Images, err = o.images(ctx); err != nil {
		return nil, err
	}
	if err := o.direct(ctx, st.Images); err != nil {
		return nil, err
	}
	if st.Directory, err = o.directory(ctx, st.Images); err != nil {
		return nil, err
	}
	if st.Shares, err = o.shares(ctx); err != nil {
		return nil, err
	}
	return st, nil
}

type observer struct {
	api cloud.API
	req Request
	do  Caller
}

func (o *observer) managed(tags map[string]string) bool {
	return policy.Parse(o.req.Prefix, tags).Managed
}

func (o *observer) images(ctx context.Context) ([]state.Image, error) {
	var out []state.Image
	add := func(imgs []cloud.Image) {
		for _, im := range imgs {
			if im.OwnerAlias != "self" {
				continue
			}
			if o.req.All && !o.req.Untagged && !o.managed(im.Tags) {
				continue
			}
			out = append(out, state.Image{ID: im.ID, OwnerAlias: im.OwnerAlias, Status: im.Status, Created: im.Created,
				ProductCode: im.ProductCode, Tags: im.Tags, SelfShared: im.SelfShared})
		}
	}
	if o.req.All {
		for page := 1; ; page++ {
			var p cloud.ImagePage
			err := o.do(ctx, "DescribeImages", func() (err error) {
				p, err = o.api.DescribeImages(ctx, cloud.DescribeImagesInput{Region: o.req.Region, Statuses: cloud.AllStatuses,
					OwnerAlias: "self", Page: page, PageSize: cloud.MaxImagePage})
				return err
			})
			if err != nil {
				return nil, fmt.Errorf("list images of %s: %w", o.req.Region, err)
			}
			add(p.Images)
			if len(p.Images) < cloud.MaxImagePage || page*cloud.MaxImagePage >= p.Total {
				break
			}
		}
		return out, nil
	}
	ids := slices.Clone(o.req.Images)
	slices.Sort(ids)
	ids = slices.Compact(ids)
	found := map[string]bool{}
	for chunk := range slices.Chunk(ids, cloud.MaxImagePage) {
		var p cloud.ImagePage
		err := o.do(ctx, "DescribeImages", func() (err error) {
			p, err = o.api.DescribeImages(ctx, cloud.DescribeImagesInput{Region: o.req.Region, ImageIDs: chunk,
				Statuses: cloud.AllStatuses, OwnerAlias: "self", Page: 1, PageSize: cloud.MaxImagePage})
			return err
		})
		if err != nil {
			return nil, fmt.Errorf("describe images %s: %w", strings.Join(chunk, ","), err)
		}
		for _, im := range p.Images {
			found[im.ID] = true
		}
		add(p.Images)
	}
	for _, id := range ids {
		if !found[id] {
			out = append(out, state.Image{ID: id, OwnerAlias: "self", Missing: true})
		}
	}
	return out, nil
}

// needsShares says whether the planner will read an image's direct shares.
func (o *observer) needsShares(im *state.Image) bool {
	if im.Missing || im.Status != state.Available || !im.SelfShared {
		return false
	}
	p := policy.Parse(o.req.Prefix, im.Tags)
	if !p.Managed {
		return o.req.Untagged
	}
	return len(p.Errors) == 0
}

func (o *observer) direct(ctx context.Context, images []state.Image) error {
	n := o.req.Concurrency
	if n <= 0 {
		n = 4
	}
	sem := make(chan struct{}, n)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var first error
	for i := range images {
		im := &images[i]
		if !o.needsShares(im) {
			continue
		}
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			accts, err := o.shareList(ctx, im.ID)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				if cloud.Code(err) == "InvalidImageId.NotFound" {
					im.Missing = true
					return
				}
				if first == nil {
					first = fmt.Errorf("read direct shares of %s: %w", im.ID, err)
				}
				return
			}
			im.Direct = accts
		}()
	}
	wg.Wait()
	return first
}

func (o *observer) shareList(ctx context.Context, image string) ([]string, error) {
	var out []string
	for page := 1; ; page++ {
		var p cloud.SharePermissionPage
		err := o.do(ctx, "DescribeImageSharePermission", func() (err error) {
			p, err = o.api.DescribeImageSharePermission(ctx, o.req.Region, image, page)
			return err
		})
		if err != nil {
			return nil, err
		}
		out = append(out, p.Accounts...)
		if len(p.Accounts) < cloud.MaxSharePage || len(out) >= p.Total {
			return out, nil
		}
	}
}

// directory reads the Resource Directory: members with their paths, and the ancestry
// of every folder the batch's tags name that no member path shows.
func (o *observer) directory(ctx context.Context, images []state.Image) (*state.Directory, error) {
	var rd cloud.Directory
	err := o.do(ctx, "GetResourceDirectory", func() (err error) {
		rd, err = o.api.GetResourceDirectory(ctx)
		return err
	})
	switch cloud.Code(err) {
	case "":
	case "ResourceDirectoryNotInUse", "EntityNotExists.ResourceDirectory":
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read the resource directory: %w", err)
	}
	d := &state.Directory{ID: rd.ID, RootID: rd.RootID, Members: map[string]state.Member{}, Folders: map[string][]string{}}
	for page := 1; ; page++ {
		var p cloud.AccountPage
		err := o.do(ctx, "ListAccounts", func() (err error) {
			p, err = o.api.ListAccounts(ctx, page)
			return err
		})
		if err != nil {
			return nil, fmt.Errorf("list directory accounts: %w", err)
		}
		for _, a := range p.Accounts {
			parts := strings.Split(a.Path, "/")
			if len(parts) > 0 && parts[len(parts)-1] == a.ID {
				parts = parts[:len(parts)-1]
			}
			d.Members[a.ID] = state.Member{ID: a.ID, Path: parts}
			for i, part := range parts {
				if strings.HasPrefix(part, "fd-") {
					if _, ok := d.Folders[part]; !ok {
						d.Folders[part] = slices.Clone(parts[1:i])
					}
				}
			}
		}
		if len(p.Accounts) < cloud.MaxDirectoryPage || len(d.Members) >= p.Total {
			break
		}
	}
	var unknown []string
	for _, im := range images {
		for _, f := range policy.Parse(o.req.Prefix, im.Tags).Folders {
			if policy.IsFolder(f) && !slices.Contains(unknown, f) {
				if _, ok := d.Folders[f]; !ok {
					unknown = append(unknown, f)
				}
			}
		}
	}
	slices.Sort(unknown)
	for _, f := range unknown {
		var anc []string
		err := o.do(ctx, "ListAncestors", func() (err error) {
			anc, err = o.api.ListAncestors(ctx, f)
			return err
		})
		switch cloud.Code(err) {
		case "":
			d.Folders[f] = anc
		case "EntityNotExists.Folder", "InvalidParameter.ChildId":
			// Not a folder of this directory: the planner refuses it.
		default:
			return nil, fmt.Errorf("read the ancestors of folder %s: %w", f, err)
		}
	}
	return d, nil
}

func (o *observer) shares(ctx context.Context) ([]state.Share, error) {
	var out []state.Share
	index := map[string]int{}
	for token := ""; ; {
		var p cloud.SharePage
		err := o.do(ctx, "ListResourceShares", func() (err error) {
			p, err = o.api.ListResourceShares(ctx, o.req.Region, token)
			return err
		})
		if err != nil {
			return nil, fmt.Errorf("list resource shares of %s: %w", o.req.Region, err)
		}
		for _, s := range p.Shares {
			if s.Status != "" && s.Status != "Active" {
				continue
			}
			index[s.ID] = len(out)
			out = append(out, state.Share{ID: s.ID, Name: s.Name, Created: s.Created, AllowExternal: s.AllowExternal,
				Resources: map[string]state.Association{}, Targets: map[string]state.Association{}})
		}
		if token = p.NextToken; token == "" {
			break
		}
	}
	if len(out) == 0 {
		return nil, nil
	}
	for _, typ := range []string{cloud.AssociationResource, cloud.AssociationTarget} {
		for token := ""; ; {
			var p cloud.AssociationPage
			err := o.do(ctx, "ListResourceShareAssociations", func() (err error) {
				p, err = o.api.ListResourceShareAssociations(ctx, o.req.Region, typ, token)
				return err
			})
			if err != nil {
				return nil, fmt.Errorf("list resource share associations of %s: %w", o.req.Region, err)
			}
			for _, a := range p.Associations {
				i, ok := index[a.ShareID]
				if !ok {
					continue
				}
				as := state.Association{Status: a.Status, FailureReason: a.FailureReason, Message: a.Message, Updated: a.Updated}
				if typ == cloud.AssociationResource {
					out[i].Resources[a.EntityID] = as
				} else {
					out[i].Targets[a.EntityID] = as
				}
			}
			if token = p.NextToken; token == "" {
				break
			}
		}
	}
	return out, nil
}
