package observe

import (
	"context"
	"fmt"
	"slices"
	"sync"

	"imageshare/pkg/cloud"
	"imageshare/pkg/plan"
	"imageshare/pkg/policy"
	"imageshare/pkg/state"
)

// Bounds of a targeted observation: past them, reading the whole directory (or every
// managed share's targets) costs fewer calls than reading the parts.
const (
	// MaxTargetedAccounts: more members than this to look up and the directory is
	// listed instead (in two rounds: its first page, then the others).
	MaxTargetedAccounts = 50
	// maxSubsetFolders: an image naming more folders than this makes every managed
	// share's targets needed (the shares it may want are the subsets of its folders).
	maxSubsetFolders = 6
)

// need is what planning a batch of images looks at besides the images themselves and
// the list of shares (names, ages, AllowExternalTargets) — read from the planner
// (package plan):
//   - R3 and R5–R7 ask whether an account is a member and where (IsMember, Reaches,
//     Coverage) only for the accounts the images' tags name or the images are shared
//     with directly;
//   - R3 and R4 ask whether a folder exists and what its ancestors are only for the
//     folders the tags name;
//   - coverage (R5) and retained folders (R8) read the targets of the shares that hold
//     the images; R4 repairs the targets of the managed share each image wants, whose
//     name is that of a subset of the folders its tags name (the normalized set);
//   - an image's moves read its own association in every share (read per image), and
//     deleting an empty duplicate of a managed share reads all of its resources.
type need struct {
	Accounts  []string // members to look up
	Folders   []string // folders to look up
	Targets   []string // shares whose targets to read
	Resources []string // shares whose whole resource list to read
}

// need computes what a batch needs given what is known of it: images with or without
// their share lists, shares with or without the images' associations.
func (o *Observer) need(images []state.Image, shares []state.Share) need {
	accounts, folders, targets, names := map[string]bool{}, map[string]bool{}, map[string]bool{}, map[string]bool{}
	batch := map[string]bool{}
	everyManaged := false
	for _, im := range images {
		if im.Missing {
			continue
		}
		batch[im.ID] = true
		p := policy.Parse(o.req.Prefix, im.Tags)
		for _, a := range p.Accounts {
			accounts[a] = true
		}
		for _, a := range im.Direct {
			accounts[a] = true
		}
		var set []string
		for _, f := range p.Folders {
			if policy.IsFolder(f) {
				folders[f] = true
			}
			if policy.IsFolder(f) || policy.IsDirectory(f) {
				set = append(set, f)
			}
		}
		slices.Sort(set)
		set = slices.Compact(set)
		if len(set) > maxSubsetFolders {
			everyManaged = true
			continue
		}
		for mask := 1; mask < 1<<len(set); mask++ {
			var sub []string
			for i, f := range set {
				if mask&(1<<i) != 0 {
					sub = append(sub, f)
				}
			}
			names[plan.ShareName(sub)] = true
		}
	}
	delete(accounts, o.req.Owner)
	group := map[string]int{}
	for _, sh := range shares {
		if plan.IsManagedName(sh.Name) {
			group[sh.Name]++
		}
	}
	var n need
	for _, sh := range shares {
		managed := plan.IsManagedName(sh.Name)
		holds := false
		for im := range sh.Resources {
			holds = holds || batch[im]
		}
		if holds || (managed && (names[sh.Name] || everyManaged)) {
			targets[sh.ID] = true
		}
		if managed && group[sh.Name] > 1 {
			n.Resources = append(n.Resources, sh.ID)
		}
	}
	n.Accounts, n.Folders, n.Targets = sortedSet(accounts), sortedSet(folders), sortedSet(targets)
	return n
}

func sortedSet(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// Targeted reads what planning the images ids needs (see need), in two rounds
// of parallel calls: first the images, their share lists and their associations (read
// without waiting to learn whether they have any), the list of shares and the
// directory's identity; then the members they name or are shared with, the folders'
// ancestors, and the targets of the shares that hold them or that they want. known
// holds images a caller has read already (with their share lists when they need them);
// shares and members a caller read through this Observer are not read again.
func (o *Observer) Targeted(ctx context.Context, ids []string, known []state.Image) (*state.State, error) {
	st := o.NewState()
	have := map[string]bool{}
	for _, im := range known {
		have[im.ID] = true
	}
	var rest []string
	for _, id := range ids {
		if !have[id] {
			have[id] = true
			rest = append(rest, id)
		}
	}
	held, haveShares := o.heldShares()
	var mu sync.Mutex
	lists := make([][]string, len(rest))
	gone := make([]bool, len(rest))
	var assocs []cloud.Association // the images' own associations, filed once the shares are known
	if err := all(ctx,
		func(ctx context.Context) error {
			imgs, err := o.Images(ctx, rest)
			st.Images = append(slices.Clone(known), imgs...)
			return err
		},
		func(ctx context.Context) error {
			return o.each(ctx, len(rest), func(ctx context.Context, i int) error {
				accts, err := o.shareList(ctx, rest[i])
				switch {
				case cloud.Code(err) == "InvalidImageId.NotFound":
					gone[i] = true
				case err != nil:
					return fmt.Errorf("read direct shares of %s: %w", rest[i], err)
				default:
					lists[i] = accts
				}
				return nil
			})
		},
		func(ctx context.Context) (err error) {
			if haveShares {
				st.Shares = held
				return nil
			}
			st.Shares, err = o.ShareList(ctx)
			return err
		},
		func(ctx context.Context) error {
			if haveShares {
				return nil
			}
			ids := slices.Clone(rest)
			for _, im := range known {
				ids = append(ids, im.ID)
			}
			return o.each(ctx, len(ids), func(ctx context.Context, i int) error {
				as, err := o.rawAssociations(ctx, cloud.AssociationQuery{Type: cloud.AssociationResource, Resource: ids[i]})
				mu.Lock()
				defer mu.Unlock()
				assocs = append(assocs, as...)
				return err
			})
		},
		func(ctx context.Context) (err error) { st.Directory, err = o.resourceDirectory(ctx); return err },
	); err != nil {
		return nil, err
	}
	file(st.Shares, assocs)
	// The share lists count where the planner reads them (Available, managed, shared).
	for i, id := range rest {
		for j := range st.Images {
			im := &st.Images[j]
			if im.ID != id {
				continue
			}
			switch {
			case gone[i] && !im.Missing:
				*im = state.Image{ID: id, OwnerAlias: "self", Missing: true}
			case o.needsShares(im):
				im.Direct = lists[i]
			}
		}
	}
	n := o.need(st.Images, st.Shares)
	if !haveShares && len(n.Resources) > 0 {
		// Duplicates of a managed name: their whole resource lists, before the round.
		if err := o.OfShares(ctx, cloud.AssociationResource, st.Shares, n.Resources); err != nil {
			return nil, err
		}
		n = o.need(st.Images, st.Shares)
	}
	if err := all(ctx,
		func(ctx context.Context) error { return o.addMembers(ctx, st, n.Accounts, &mu) },
		func(ctx context.Context) error {
			if st.Directory == nil {
				return nil
			}
			anc, err := o.ReadAncestors(ctx, n.Folders)
			mu.Lock()
			defer mu.Unlock()
			for f, a := range anc {
				st.Directory.Folders[f] = a
			}
			return err
		},
		func(ctx context.Context) error {
			if haveShares {
				return nil // HeldImages read every target
			}
			return o.OfShares(ctx, cloud.AssociationTarget, st.Shares, n.Targets)
		},
	); err != nil {
		return nil, err
	}
	return st, nil
}

// addMembers adds the given accounts to the directory when they are members (past
// MaxTargetedAccounts, every member).
func (o *Observer) addMembers(ctx context.Context, st *state.State, accounts []string, mu *sync.Mutex) error {
	if st.Directory == nil || len(accounts) == 0 {
		return nil
	}
	if len(accounts) > MaxTargetedAccounts {
		accts, err := o.listMembers(ctx)
		mu.Lock()
		defer mu.Unlock()
		for _, a := range accts {
			addMember(st.Directory, a)
		}
		return err
	}
	return o.each(ctx, len(accounts), func(ctx context.Context, i int) error {
		a, err := o.Member(ctx, accounts[i])
		if err != nil || a == nil {
			return err
		}
		mu.Lock()
		defer mu.Unlock()
		addMember(st.Directory, *a)
		return nil
	})
}
