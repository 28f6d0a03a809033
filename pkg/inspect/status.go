package inspect

import (
	"context"
	"slices"
	"sort"
	"strings"
	"sync/atomic"
	"time"

	"imageshare/pkg/cloud"
	"imageshare/pkg/plan"
	"imageshare/pkg/policy"
	"imageshare/pkg/report"
	"imageshare/pkg/state"
)

// Status is what imageshare manages in one region, and what is refused or waiting.
type Status struct {
	Region string `json:"region"`
	// Images the sweep covers, by status; Managed of them carry tags, Frozen have tag errors.
	Images   int            `json:"images"`
	Managed  int            `json:"managed"`
	Frozen   int            `json:"frozen"`
	ByStatus map[string]int `json:"byStatus"`
	// DirectShares: direct shares (image, account) of these images, on DirectImages images.
	DirectShares int `json:"directShares"`
	DirectImages int `json:"directImages"`
	// Shares: the owner's resource shares in the region, managed ones first.
	Shares []ShareStatus `json:"resourceShares"`
	// Changes the next run would make (see `imageshare plan`); Awaiting of the images
	// have removals awaiting confirmation (R12: done on a second look at unchanged tags).
	Pending   int            `json:"pendingChanges"`
	Awaiting  int            `json:"awaitingConfirmation"`
	Refusals  []report.Entry `json:"refusals"`
	Postponed []Postponed    `json:"postponed"`
	// Access says, per image the sweep covers, who can boot it now and how: the page
	// of `imageshare report --html` is made of it.
	Access []ImageAccess `json:"access"`
}

// ImageAccess is who can boot one image now.
type ImageAccess struct {
	Image       string `json:"image"`
	Status      string `json:"status"`
	Managed     bool   `json:"managed"`
	Frozen      bool   `json:"frozen,omitempty"`
	Mode        string `json:"mode,omitempty"`
	ProductCode string `json:"productCode,omitempty"`
	// Direct lists the accounts the image is shared with directly.
	Direct []string `json:"direct"`
	// Organization lists the targets through which resource shares reach accounts now
	// (R5: the image and the target both Associated), each with the share.
	Organization []OrgGrant `json:"organization"`
	// Pending counts the changes the next run would make; Awaiting lists the removals
	// that wait for a second look at unchanged tags (R12), as "unshare ACCOUNT" or
	// "disassociate SHARE".
	Pending  int      `json:"pendingChanges"`
	Awaiting []string `json:"awaitingConfirmation"`
}

// OrgGrant is one target of a resource share that gives access to an image.
type OrgGrant struct {
	Target  string `json:"target"`
	Kind    string `json:"kind"` // "directory", "folder" or "account"
	Share   string `json:"share"`
	ShareID string `json:"shareId"`
	Managed bool   `json:"managed"`
	// Path is the target's place in the Resource Directory: rd-…/r-…/fd-…/… ("" unknown).
	Path string `json:"path,omitempty"`
	// Accounts are the members the target reaches (the owner excluded), as far as the
	// directory was read.
	Accounts []string `json:"accounts"`
}

// ShareStatus is one resource share of the owner.
type ShareStatus struct {
	Name    string   `json:"name"`
	ID      string   `json:"id"`
	Managed bool     `json:"managed"`
	Targets []string `json:"targets"`
	// Images counts images Associated; Moving, images Associating or Disassociating.
	Images int `json:"images"`
	Moving int `json:"moving"`
}

// Postponed is an image not Available yet.
type Postponed struct {
	Image   string `json:"image"`
	Status  string `json:"status"`
	Created string `json:"created,omitempty"`
	Message string `json:"message"`
}

// StatusOf summarizes a view of every image the sweep covers.
func StatusOf(cfg Config, v *View) Status {
	s := Status{Region: v.Region, ByStatus: map[string]int{}, Refusals: v.Refusals(), Postponed: []Postponed{}}
	if s.Refusals == nil {
		s.Refusals = []report.Entry{}
	}
	for _, im := range v.State.Images {
		if im.Missing {
			continue
		}
		s.Images++
		s.ByStatus[im.Status]++
		pol := policy.Parse(cfg.Settings.TagPrefix, im.Tags)
		if pol.Managed {
			s.Managed++
			if len(pol.Errors) > 0 {
				s.Frozen++
			}
		}
		if len(im.Direct) > 0 {
			s.DirectImages++
			s.DirectShares += len(im.Direct)
		}
	}
	s.Pending = len(v.Changes())
	s.Awaiting = len(v.Awaiting())
	for _, e := range v.Postponed() {
		p := Postponed{Image: e.Image, Message: e.Message}
		if im := v.Image(e.Image); im != nil {
			p.Status = im.Status
			if !im.Created.IsZero() {
				p.Created = im.Created.UTC().Format(time.RFC3339)
			}
		}
		s.Postponed = append(s.Postponed, p)
	}
	s.Access = accessOf(cfg, v)
	for _, sh := range v.State.Shares {
		ss := ShareStatus{Name: sh.Name, ID: sh.ID, Managed: plan.IsManagedName(sh.Name), Targets: []string{}}
		for t, a := range sh.Targets {
			if a.Holding() {
				ss.Targets = append(ss.Targets, t)
			}
		}
		sort.Strings(ss.Targets)
		for _, a := range sh.Resources {
			switch a.Status {
			case state.Associated:
				ss.Images++
			case state.Associating, state.Disassociating:
				ss.Moving++
			}
		}
		s.Shares = append(s.Shares, ss)
	}
	sort.SliceStable(s.Shares, func(i, j int) bool {
		if s.Shares[i].Managed != s.Shares[j].Managed {
			return s.Shares[i].Managed
		}
		return s.Shares[i].Name < s.Shares[j].Name
	})
	if s.Shares == nil {
		s.Shares = []ShareStatus{}
	}
	return s
}

// accessOf lists who can boot each image of the view now.
func accessOf(cfg Config, v *View) []ImageAccess {
	out := []ImageAccess{}
	st := v.State
	for _, im := range v.State.Images {
		if im.Missing {
			continue
		}
		pol := policy.Parse(cfg.Settings.TagPrefix, im.Tags)
		a := ImageAccess{Image: im.ID, Status: im.Status, Managed: pol.Managed, Frozen: len(pol.Errors) > 0, ProductCode: im.ProductCode,
			Direct: append([]string{}, im.Direct...), Organization: []OrgGrant{}, Awaiting: []string{}}
		sort.Strings(a.Direct)
		if pol.Managed {
			a.Mode = string(pol.Mode)
		}
		for _, sh := range st.Shares {
			if !sh.Resources[im.ID].Active() {
				continue
			}
			for t, ta := range sh.Targets {
				if !ta.Active() {
					continue
				}
				g := OrgGrant{Target: t, Share: sh.Name, ShareID: sh.ID, Managed: plan.IsManagedName(sh.Name), Accounts: []string{}}
				switch {
				case policy.IsAccount(t):
					g.Kind = "account"
				case policy.IsDirectory(t):
					g.Kind = "directory"
				default:
					g.Kind = "folder"
				}
				g.Path = pathOf(st, t)
				for _, acct := range st.Reaches(t, sh.AllowExternal) {
					if acct != st.Owner {
						g.Accounts = append(g.Accounts, acct)
					}
				}
				a.Organization = append(a.Organization, g)
			}
		}
		sort.Slice(a.Organization, func(i, j int) bool {
			x, y := a.Organization[i], a.Organization[j]
			return x.Target+"\x00"+x.Share < y.Target+"\x00"+y.Share
		})
		if p := v.Plan.Image(im.ID); p != nil {
			for _, r := range p.Confirm {
				a.Awaiting = append(a.Awaiting, r.Action+" "+r.Subject)
			}
		}
		for _, e := range v.ImageEntries(im.ID) {
			if e.Change() {
				a.Pending++
			}
		}
		out = append(out, a)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Image < out[j].Image })
	return out
}

// pathOf is a target's place in the directory, as ResourceDirectoryPath writes it.
func pathOf(st *state.State, target string) string {
	d := st.Directory
	if d == nil {
		return ""
	}
	switch {
	case target == d.ID:
		return d.ID
	case policy.IsAccount(target):
		if m, ok := d.Members[target]; ok {
			return strings.Join(append(slices.Clone(m.Path), target), "/")
		}
	default:
		if anc, ok := d.Folders[target]; ok {
			return strings.Join(append(append([]string{d.ID}, anc...), target), "/")
		}
	}
	return ""
}

// ManagedShares counts the shares imageshare created.
func (s Status) ManagedShares() int {
	n := 0
	for _, sh := range s.Shares {
		if sh.Managed {
			n++
		}
	}
	return n
}

// Counter counts what the observer reads through it, for a progress line on long
// listings. It is safe for concurrent use (the observer reads share lists in parallel).
type Counter struct {
	cloud.API
	calls, images, shareLists, accounts atomic.Int64
	start                               time.Time
}

// NewCounter wraps api.
func NewCounter(api cloud.API) *Counter { return &Counter{API: api, start: time.Now()} }

// Progress is a snapshot of a Counter.
type Progress struct {
	Calls, Images, ShareLists, Accounts int64
	// Rate is calls per second since the counter was made.
	Rate float64
}

// Snapshot reads the counts.
func (c *Counter) Snapshot() Progress {
	p := Progress{Calls: c.calls.Load(), Images: c.images.Load(), ShareLists: c.shareLists.Load(), Accounts: c.accounts.Load()}
	if d := time.Since(c.start).Seconds(); d > 0 {
		p.Rate = float64(p.Calls) / d
	}
	return p
}

// DescribeImages counts images listed.
func (c *Counter) DescribeImages(ctx context.Context, in cloud.DescribeImagesInput) (cloud.ImagePage, error) {
	c.calls.Add(1)
	p, err := c.API.DescribeImages(ctx, in)
	c.images.Add(int64(len(p.Images)))
	return p, err
}

// DescribeImageSharePermission counts share lists read (first pages).
func (c *Counter) DescribeImageSharePermission(ctx context.Context, region, image string, page int) (cloud.SharePermissionPage, error) {
	c.calls.Add(1)
	if page <= 1 {
		c.shareLists.Add(1)
	}
	return c.API.DescribeImageSharePermission(ctx, region, image, page)
}

// ListAccounts counts directory members read.
func (c *Counter) ListAccounts(ctx context.Context, page int) (cloud.AccountPage, error) {
	c.calls.Add(1)
	p, err := c.API.ListAccounts(ctx, page)
	c.accounts.Add(int64(len(p.Accounts)))
	return p, err
}

// GetAccount counts a member read.
func (c *Counter) GetAccount(ctx context.Context, account string) (cloud.Account, error) {
	c.calls.Add(1)
	a, err := c.API.GetAccount(ctx, account)
	if err == nil {
		c.accounts.Add(1)
	}
	return a, err
}

// ListResourceShares counts a call.
func (c *Counter) ListResourceShares(ctx context.Context, region, token string) (cloud.SharePage, error) {
	c.calls.Add(1)
	return c.API.ListResourceShares(ctx, region, token)
}

// ListResourceShareAssociations counts a call.
func (c *Counter) ListResourceShareAssociations(ctx context.Context, region, typ, token string) (cloud.AssociationPage, error) {
	c.calls.Add(1)
	return c.API.ListResourceShareAssociations(ctx, region, typ, token)
}

// ListAssociations counts a call.
func (c *Counter) ListAssociations(ctx context.Context, q cloud.AssociationQuery) (cloud.AssociationPage, error) {
	c.calls.Add(1)
	return c.API.ListAssociations(ctx, q)
}

// ListAncestors counts a call.
func (c *Counter) ListAncestors(ctx context.Context, folder string) ([]string, error) {
	c.calls.Add(1)
	return c.API.ListAncestors(ctx, folder)
}

// GetResourceDirectory counts a call.
func (c *Counter) GetResourceDirectory(ctx context.Context) (cloud.Directory, error) {
	c.calls.Add(1)
	return c.API.GetResourceDirectory(ctx)
}
