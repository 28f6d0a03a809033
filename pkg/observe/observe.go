// Package observe builds the observed state of one region for a reconcile run with as
// few calls as the APIs allow, and as few round trips as their answers allow:
//
//   - A full observation reads images paged at 100 (or named 100 at a time), each
//     image's share list once and only when ECS says it has shares (IsSelfShared), the
//     directory and the region's resource shares and associations paged at 100 once;
//     independent reads go in parallel, and numbered pages after the first at once.
//   - A targeted observation (Request.Targeted, for a run about a few images) reads only
//     what planning those images needs: the members they name or are shared with
//     (GetAccount), the folders they name (ListAncestors), their own associations and the
//     targets of the shares that hold them or that they want. The planner looks at
//     nothing else (see need), so the plan is the one a full observation gives.
//
// The Observer's parts (Images, ShareLists, Directory, Shares…) let a large run read the
// shared state once and its images chunk by chunk.
package observe

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"imageshare/pkg/cloud"
	"imageshare/pkg/plan"
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
	// Targeted: read only what planning Images needs (not with All). The state then
	// holds part of the directory and of the shares: enough for the plan, not a picture
	// of the region.
	Targeted bool
	// Concurrency bounds parallel reads (default 32).
	Concurrency int
	// Released names images whose direct shares are read even when they carry no
	// prefix tags: a run reports an image an untag released with its shares.
	Released []string
}

// Caller wraps every call (for retries); nil calls directly.
type Caller func(ctx context.Context, action string, call func() error) error

// Observe reads the state.
func Observe(ctx context.Context, api cloud.API, req Request, do Caller) (*state.State, error) {
	o := New(api, req, do)
	if req.Targeted && !req.All {
		return o.Targeted(ctx, req.Images, nil)
	}
	return o.Full(ctx)
}

// Observer reads parts of one region's state. It remembers the directory's identity
// and the share list (with every resource association, once HeldImages read them), so
// that a run that looked for its images first does not read them again.
type Observer struct {
	api cloud.API
	req Request
	do  Caller

	mu        sync.Mutex
	rd        *state.Directory
	rdRead    bool
	held      []state.Share // shares with all their associations (HeldImages)
	heldValid bool
	members   map[string]*cloud.Account // GetAccount answers (nil: not a member)
	ancestors map[string][]string       // ListAncestors answers (nil: not a folder)
	// copyListings: per region, the owner's images carrying the origin key (Copies).
	copyListings map[string][]cloud.Image
}

// New returns an Observer.
func New(api cloud.API, req Request, do Caller) *Observer {
	if do == nil {
		do = func(ctx context.Context, _ string, call func() error) error { return call() }
	}
	if req.Concurrency <= 0 {
		req.Concurrency = 32
	}
	return &Observer{api: api, req: req, do: do}
}

// NewState returns an empty state of the request's region, owner and time.
func (o *Observer) NewState() *state.State {
	return &state.State{Region: o.req.Region, Owner: o.req.Owner, Now: o.req.Now, RetryFailed: o.req.RetryFailed}
}

// Full reads the whole state the request concerns.
func (o *Observer) Full(ctx context.Context) (*state.State, error) {
	st := o.NewState()
	err := all(ctx,
		func(ctx context.Context) (err error) {
			if o.req.All {
				st.Images, err = o.ListImages(ctx)
			} else {
				st.Images, err = o.Images(ctx, o.req.Images)
			}
			if err == nil {
				err = o.ShareLists(ctx, st.Images)
			}
			return err
		},
		func(ctx context.Context) (err error) { st.Directory, err = o.Directory(ctx); return err },
		func(ctx context.Context) (err error) { st.Shares, err = o.Shares(ctx); return err },
	)
	if err != nil {
		return nil, err
	}
	if err := o.Ancestors(ctx, st.Directory, st.Images); err != nil {
		return nil, err
	}
	return st, nil
}

func (o *Observer) managed(tags map[string]string) bool {
	return policy.Parse(o.req.Prefix, tags).Managed
}

func (o *Observer) toState(im cloud.Image) state.Image {
	return state.Image{ID: im.ID, OwnerAlias: im.OwnerAlias, Status: im.Status, Created: im.Created,
		ProductCode: im.ProductCode, Tags: im.Tags, SelfShared: im.SelfShared, Encrypted: im.Encrypted}
}

// ListImages lists the region's managed images (every owned custom image when
// Untagged), of every status: the first page, then the others in parallel.
func (o *Observer) ListImages(ctx context.Context) ([]state.Image, error) {
	read := func(ctx context.Context, page int) (cloud.ImagePage, error) {
		var p cloud.ImagePage
		err := o.do(ctx, "DescribeImages", func() (err error) {
			p, err = o.api.DescribeImages(ctx, cloud.DescribeImagesInput{Region: o.req.Region, Statuses: cloud.AllStatuses,
				OwnerAlias: "self", Page: page, PageSize: cloud.MaxImagePage})
			return err
		})
		if err != nil {
			return p, fmt.Errorf("list images of %s: %w", o.req.Region, err)
		}
		return p, nil
	}
	first, err := read(ctx, 1)
	if err != nil {
		return nil, err
	}
	pages := make([][]cloud.Image, 1, pageCount(first.Total, cloud.MaxImagePage))
	pages[0] = first.Images
	if len(first.Images) == cloud.MaxImagePage {
		rest := make([][]cloud.Image, max(0, pageCount(first.Total, cloud.MaxImagePage)-1))
		if err := o.each(ctx, len(rest), func(ctx context.Context, i int) error {
			p, err := read(ctx, i+2)
			rest[i] = p.Images
			return err
		}); err != nil {
			return nil, err
		}
		pages = append(pages, rest...)
	}
	var out []state.Image
	seen := map[string]bool{}
	for _, page := range pages {
		for _, im := range page {
			// Pages read at different times may overlap when images come and go.
			if im.OwnerAlias != "self" || seen[im.ID] || (!o.req.Untagged && !o.managed(im.Tags)) {
				continue
			}
			seen[im.ID] = true
			out = append(out, o.toState(im))
		}
	}
	return out, nil
}

func pageCount(total, size int) int { return max(1, (total+size-1)/size) }

// Images describes the named images, a hundred per call, in parallel; an image the
// cloud does not know is Missing.
func (o *Observer) Images(ctx context.Context, ids []string) ([]state.Image, error) {
	ids = slices.Clone(ids)
	slices.Sort(ids)
	ids = slices.Compact(ids)
	chunks := slices.Collect(slices.Chunk(ids, cloud.MaxImagePage))
	found := make([][]cloud.Image, len(chunks))
	if err := o.each(ctx, len(chunks), func(ctx context.Context, i int) error {
		var p cloud.ImagePage
		err := o.do(ctx, "DescribeImages", func() (err error) {
			p, err = o.api.DescribeImages(ctx, cloud.DescribeImagesInput{Region: o.req.Region, ImageIDs: chunks[i],
				Statuses: cloud.AllStatuses, OwnerAlias: "self", Page: 1, PageSize: cloud.MaxImagePage})
			return err
		})
		if err != nil {
			return fmt.Errorf("describe images %s: %w", strings.Join(chunks[i], ","), err)
		}
		found[i] = p.Images
		return nil
	}); err != nil {
		return nil, err
	}
	byID := map[string]cloud.Image{}
	for _, page := range found {
		for _, im := range page {
			byID[im.ID] = im
		}
	}
	var out []state.Image
	for _, id := range ids {
		im, ok := byID[id]
		switch {
		case !ok:
			out = append(out, state.Image{ID: id, OwnerAlias: "self", Missing: true})
		case im.OwnerAlias == "self":
			out = append(out, o.toState(im))
		}
	}
	return out, nil
}

// needsShares says whether the planner will read an image's direct shares.
func (o *Observer) needsShares(im *state.Image) bool {
	if im.Missing || im.Status != state.Available || !im.SelfShared || im.Direct != nil {
		return false
	}
	p := policy.Parse(o.req.Prefix, im.Tags)
	if !p.Managed {
		return o.req.Untagged || slices.Contains(o.req.Released, im.ID)
	}
	return len(p.Errors) == 0
}

// ShareLists reads the direct shares of the images whose lists the planner needs, in
// parallel; an image that is gone meanwhile becomes Missing.
func (o *Observer) ShareLists(ctx context.Context, images []state.Image) error {
	var todo []*state.Image
	for i := range images {
		if o.needsShares(&images[i]) {
			todo = append(todo, &images[i])
		}
	}
	return o.each(ctx, len(todo), func(ctx context.Context, i int) error {
		im := todo[i]
		accts, err := o.shareList(ctx, im.ID)
		switch {
		case cloud.Code(err) == "InvalidImageId.NotFound":
			im.Missing = true
		case err != nil:
			return fmt.Errorf("read direct shares of %s: %w", im.ID, err)
		default:
			im.Direct = accts
		}
		return nil
	})
}

func (o *Observer) shareList(ctx context.Context, image string) ([]string, error) {
	out := []string{}
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

// resourceDirectory reads the directory's identity (once per Observer); nil when the
// owner has none. Each call returns a new Directory to fill.
func (o *Observer) resourceDirectory(ctx context.Context) (*state.Directory, error) {
	o.mu.Lock()
	read, d := o.rdRead, o.rd
	o.mu.Unlock()
	if !read {
		var err error
		if d, err = o.readResourceDirectory(ctx); err != nil {
			return nil, err
		}
		o.mu.Lock()
		o.rd, o.rdRead = d, true
		o.mu.Unlock()
	}
	if d == nil {
		return nil, nil
	}
	return &state.Directory{ID: d.ID, RootID: d.RootID, Members: map[string]state.Member{}, Folders: map[string][]string{}}, nil
}

func (o *Observer) readResourceDirectory(ctx context.Context) (*state.Directory, error) {
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
	return &state.Directory{ID: rd.ID, RootID: rd.RootID, Members: map[string]state.Member{}, Folders: map[string][]string{}}, nil
}

// directoryErr wraps an error of a directory read. A member account that is neither the
// directory's management account nor a delegated administrator may read the directory
// itself (GetResourceDirectory) but not its members: the service answers
// EntityNotExists.ResourceDirectory, which would read as "no directory" — say what it
// means instead.
func directoryErr(what string, err error) error {
	if cloud.Code(err) == "EntityNotExists.ResourceDirectory" {
		return fmt.Errorf("%s: the account running the functions may not read the resource directory's members: deploy in the management account, or have it register this account as a delegated administrator (RegisterDelegatedAdministrator): %w", what, err)
	}
	return fmt.Errorf("%s: %w", what, err)
}

// addMember records a member and the ancestry its path shows.
func addMember(d *state.Directory, a cloud.Account) {
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

// Directory reads the Resource Directory: every member with its path (the first page,
// then the others in parallel); nil when the owner has none.
func (o *Observer) Directory(ctx context.Context) (*state.Directory, error) {
	d, err := o.resourceDirectory(ctx)
	if d == nil || err != nil {
		return nil, err
	}
	accts, err := o.listMembers(ctx)
	if err != nil {
		return nil, err
	}
	for _, a := range accts {
		addMember(d, a)
	}
	return d, nil
}

// listMembers lists every member of the directory: the first page, then the others
// in parallel.
func (o *Observer) listMembers(ctx context.Context) ([]cloud.Account, error) {
	read := func(ctx context.Context, page int) (cloud.AccountPage, error) {
		var p cloud.AccountPage
		err := o.do(ctx, "ListAccounts", func() (err error) {
			p, err = o.api.ListAccounts(ctx, page)
			return err
		})
		if err != nil {
			return p, directoryErr("list directory accounts", err)
		}
		return p, nil
	}
	first, err := read(ctx, 1)
	if err != nil {
		return nil, err
	}
	out := first.Accounts
	if len(first.Accounts) == cloud.MaxDirectoryPage {
		rest := make([][]cloud.Account, max(0, pageCount(first.Total, cloud.MaxDirectoryPage)-1))
		if err := o.each(ctx, len(rest), func(ctx context.Context, i int) error {
			p, err := read(ctx, i+2)
			rest[i] = p.Accounts
			return err
		}); err != nil {
			return nil, err
		}
		for _, page := range rest {
			out = append(out, page...)
		}
	}
	return out, nil
}

// TagFolders lists the well-formed folder IDs the images' tags name.
func (o *Observer) TagFolders(images []state.Image) []string {
	var out []string
	for _, im := range images {
		for _, f := range policy.Parse(o.req.Prefix, im.Tags).Folders {
			if policy.IsFolder(f) {
				out = append(out, f)
			}
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// MissingFolders lists the folders the images' tags name that d does not know yet.
func (o *Observer) MissingFolders(d *state.Directory, images []state.Image) []string {
	if d == nil {
		return nil
	}
	var out []string
	for _, f := range o.TagFolders(images) {
		if _, ok := d.Folders[f]; !ok {
			out = append(out, f)
		}
	}
	return out
}

// ReadAncestors reads the ancestors of folders, in parallel (once per Observer); a
// folder that is not in the directory is left out (the planner refuses it).
func (o *Observer) ReadAncestors(ctx context.Context, folders []string) (map[string][]string, error) {
	anc := make([][]string, len(folders))
	ok := make([]bool, len(folders))
	if err := o.each(ctx, len(folders), func(ctx context.Context, i int) error {
		o.mu.Lock()
		a, cached := o.ancestors[folders[i]]
		o.mu.Unlock()
		if cached {
			anc[i], ok[i] = a, a != nil
			return nil
		}
		err := o.do(ctx, "ListAncestors", func() (err error) {
			anc[i], err = o.api.ListAncestors(ctx, folders[i])
			return err
		})
		switch cloud.Code(err) {
		case "":
			ok[i] = true
		case "EntityNotExists.Folder", "InvalidParameter.ChildId":
		default:
			return directoryErr("read the ancestors of folder "+folders[i], err)
		}
		o.mu.Lock()
		if o.ancestors == nil {
			o.ancestors = map[string][]string{}
		}
		o.ancestors[folders[i]] = anc[i] // nil: not a folder of the directory
		if ok[i] && anc[i] == nil {
			o.ancestors[folders[i]] = []string{}
		}
		o.mu.Unlock()
		return nil
	}); err != nil {
		return nil, err
	}
	out := map[string][]string{}
	for i, f := range folders {
		if ok[i] {
			out[f] = anc[i]
		}
	}
	return out, nil
}

// Ancestors adds to d the ancestry of every folder the images name that no member
// path shows.
func (o *Observer) Ancestors(ctx context.Context, d *state.Directory, images []state.Image) error {
	anc, err := o.ReadAncestors(ctx, o.MissingFolders(d, images))
	if err != nil {
		return err
	}
	for f, a := range anc {
		d.Folders[f] = a
	}
	return nil
}

// heldShares returns a copy of the shares HeldImages read, with their resource
// associations (ok false when it has not run).
func (o *Observer) heldShares() ([]state.Share, bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if !o.heldValid {
		return nil, false
	}
	out := make([]state.Share, len(o.held))
	for i, sh := range o.held {
		sh.Resources, sh.Targets = maps.Clone(sh.Resources), maps.Clone(sh.Targets)
		out[i] = sh
	}
	return out, true
}

// ShareList reads the owner's active resource shares of the region (no associations).
func (o *Observer) ShareList(ctx context.Context) ([]state.Share, error) {
	var out []state.Share
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
			out = append(out, state.Share{ID: s.ID, Name: s.Name, Created: s.Created, AllowExternal: s.AllowExternal,
				Resources: map[string]state.Association{}, Targets: map[string]state.Association{}})
		}
		if token = p.NextToken; token == "" {
			return out, nil
		}
	}
}

// associations reads every page of a query and files the associations into shares.
func (o *Observer) associations(ctx context.Context, q cloud.AssociationQuery, shares []state.Share, mu *sync.Mutex) error {
	as, err := o.rawAssociations(ctx, q)
	mu.Lock()
	defer mu.Unlock()
	file(shares, as)
	return err
}

// rawAssociations reads every page of a query.
func (o *Observer) rawAssociations(ctx context.Context, q cloud.AssociationQuery) ([]cloud.Association, error) {
	q.Region = o.req.Region
	var out []cloud.Association
	for {
		var p cloud.AssociationPage
		err := o.do(ctx, "ListResourceShareAssociations", func() (err error) {
			p, err = o.api.ListAssociations(ctx, q)
			return err
		})
		if err != nil {
			return out, fmt.Errorf("list resource share associations of %s: %w", o.req.Region, err)
		}
		for _, a := range p.Associations {
			if a.Type == "" {
				a.Type = q.Type
			}
			out = append(out, a)
		}
		if q.Token = p.NextToken; q.Token == "" {
			return out, nil
		}
	}
}

// file puts associations into the shares they belong to (others are dropped: shares
// that are not active).
func file(shares []state.Share, as []cloud.Association) {
	index := map[string]int{}
	for i, s := range shares {
		index[s.ID] = i
	}
	for _, a := range as {
		i, ok := index[a.ShareID]
		if !ok {
			continue
		}
		st := state.Association{Status: a.Status, FailureReason: a.FailureReason, Message: a.Message, Updated: a.Updated}
		if a.Type == cloud.AssociationResource {
			shares[i].Resources[a.EntityID] = st
		} else {
			shares[i].Targets[a.EntityID] = st
		}
	}
}

// Shares reads the owner's resource shares of the region with all their
// associations, both types at once.
func (o *Observer) Shares(ctx context.Context) ([]state.Share, error) {
	out, err := o.ShareList(ctx)
	if err != nil || len(out) == 0 {
		return nil, err
	}
	var mu sync.Mutex
	err = all(ctx,
		func(ctx context.Context) error {
			return o.associations(ctx, cloud.AssociationQuery{Type: cloud.AssociationResource}, out, &mu)
		},
		func(ctx context.Context) error {
			return o.associations(ctx, cloud.AssociationQuery{Type: cloud.AssociationTarget}, out, &mu)
		},
	)
	if err != nil {
		return nil, err
	}
	return out, nil
}

// RefreshShares reads the share list again after a run changed shares themselves
// (created, deleted, repaired one): the targets of every share, and the resources of
// new shares and of duplicates of a managed name (which the planner may delete when
// empty); the other shares keep the resource associations of old, which a run changes
// only for its own images.
func (o *Observer) RefreshShares(ctx context.Context, old []state.Share) ([]state.Share, error) {
	out, err := o.ShareList(ctx)
	if err != nil || len(out) == 0 {
		return nil, err
	}
	prev := map[string]state.Share{}
	for _, sh := range old {
		prev[sh.ID] = sh
	}
	names := map[string]int{}
	for _, sh := range out {
		names[sh.Name]++
	}
	var reread []string
	for i, sh := range out {
		p, ok := prev[sh.ID]
		if !ok || (names[sh.Name] > 1 && plan.IsManagedName(sh.Name)) {
			reread = append(reread, sh.ID)
			continue
		}
		out[i].Resources = maps.Clone(p.Resources)
	}
	var mu sync.Mutex
	if err := all(ctx,
		func(ctx context.Context) error {
			return o.associations(ctx, cloud.AssociationQuery{Type: cloud.AssociationTarget}, out, &mu)
		},
		func(ctx context.Context) error { return o.OfShares(ctx, cloud.AssociationResource, out, reread) },
	); err != nil {
		return nil, err
	}
	return out, nil
}

// OfShares reads the associations of one type of the given shares (five per call, in
// parallel) into them.
func (o *Observer) OfShares(ctx context.Context, typ string, shares []state.Share, ids []string) error {
	var mu sync.Mutex
	chunks := slices.Collect(slices.Chunk(ids, cloud.MaxSharingEntities))
	return o.each(ctx, len(chunks), func(ctx context.Context, i int) error {
		return o.associations(ctx, cloud.AssociationQuery{Type: typ, ShareIDs: chunks[i]}, shares, &mu)
	})
}

// HeldImages returns the images that some resource share of the owner holds (any
// association but a finished or finishing disassociation), and the shares with all
// their associations. It reads the directory's identity meanwhile; the Observer keeps
// both for a targeted observation.
func (o *Observer) HeldImages(ctx context.Context) ([]string, []state.Share, error) {
	var shares []state.Share
	if err := all(ctx,
		func(ctx context.Context) (err error) { _, err = o.resourceDirectory(ctx); return err },
		func(ctx context.Context) (err error) {
			if shares, err = o.ShareList(ctx); err != nil || len(shares) == 0 {
				return err
			}
			ids := make([]string, len(shares))
			for i, s := range shares {
				ids[i] = s.ID
			}
			var mu sync.Mutex
			return all(ctx,
				func(ctx context.Context) error { return o.OfShares(ctx, cloud.AssociationResource, shares, ids) },
				func(ctx context.Context) error {
					return o.associations(ctx, cloud.AssociationQuery{Type: cloud.AssociationTarget}, shares, &mu)
				})
		},
	); err != nil {
		return nil, nil, err
	}
	o.mu.Lock()
	o.held, o.heldValid = shares, true
	o.mu.Unlock()
	var out []string
	for _, s := range shares {
		for im, a := range s.Resources {
			if a.Holding() {
				out = append(out, im)
			}
		}
	}
	slices.Sort(out)
	held, _ := o.heldShares()
	return slices.Compact(out), held, nil
}

// Members reads accounts of the directory in parallel, for Member to answer later.
func (o *Observer) Members(ctx context.Context, accounts []string) error {
	return o.each(ctx, len(accounts), func(ctx context.Context, i int) error {
		_, err := o.Member(ctx, accounts[i])
		return err
	})
}

// Member reads one account of the directory (once per Observer): nil when it is not
// a member.
func (o *Observer) Member(ctx context.Context, account string) (*cloud.Account, error) {
	o.mu.Lock()
	a, ok := o.members[account]
	o.mu.Unlock()
	if ok {
		return a, nil
	}
	var got cloud.Account
	err := o.do(ctx, "GetAccount", func() (err error) {
		got, err = o.api.GetAccount(ctx, account)
		return err
	})
	switch cloud.Code(err) {
	case "":
		a = &got
	case "EntityNotExists.Account", "InvalidParameter.AccountId":
	default:
		return nil, directoryErr("read directory account "+account, err)
	}
	o.mu.Lock()
	if o.members == nil {
		o.members = map[string]*cloud.Account{}
	}
	o.members[account] = a
	o.mu.Unlock()
	return a, nil
}

// each runs fn for 0..n-1 with at most Concurrency at once; the first error cancels
// the rest and is returned.
func (o *Observer) each(ctx context.Context, n int, fn func(ctx context.Context, i int) error) error {
	if n == 0 {
		return nil
	}
	if n == 1 {
		return fn(ctx, 0)
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	sem := make(chan struct{}, o.req.Concurrency)
	var wg sync.WaitGroup
	var once sync.Once
	var first error
	for i := 0; i < n; i++ {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			if err := fn(ctx, i); err != nil {
				once.Do(func() { first = err; cancel(err) })
			}
		}()
	}
	wg.Wait()
	if first != nil {
		return first
	}
	return ctx.Err()
}

// all runs the functions at once and returns the first error (which cancels the rest).
func all(ctx context.Context, fns ...func(ctx context.Context) error) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var wg sync.WaitGroup
	errs := make([]error, len(fns))
	for i, fn := range fns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if errs[i] = fn(ctx); errs[i] != nil {
				cancel(errs[i])
			}
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil && !errors.Is(err, context.Canceled) {
			return err
		}
	}
	return errors.Join(errs...)
}
