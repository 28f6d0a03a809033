// Package state describes what a reconcile run observed of one region: the images of
// the batch with their tags and direct shares, the Resource Directory, and the owner's
// resource shares with their associations. It is a plain value: the observer fills it
// from the cloud, tests write it by hand, and the planner reads it.
package state

import (
	"maps"
	"slices"
	"sort"
	"time"

	"imageshare/pkg/policy"
)

// Image statuses as ECS reports them.
const (
	Creating     = "Creating"
	Waiting      = "Waiting"
	Available    = "Available"
	CreateFailed = "CreateFailed"
	UnAvailable  = "UnAvailable"
	Deprecated   = "Deprecated"
)

// Association statuses as Resource Sharing reports them.
const (
	Associating    = "Associating"
	Associated     = "Associated"
	Failed         = "Failed"
	Disassociating = "Disassociating"
	Disassociated  = "Disassociated"
)

// Image is one image of the batch.
type Image struct {
	ID          string
	OwnerAlias  string // "self" for the images R1 lets us touch
	Status      string
	Created     time.Time
	ProductCode string // non-empty: built from a Marketplace image
	Tags        map[string]string
	// SelfShared: ECS says the image has shares (IsSelfShared); when false its share
	// list is known to be empty without reading it.
	SelfShared bool
	// Direct lists the accounts DescribeImageSharePermission shows.
	Direct []string
	// Missing: the image was named by a job but the cloud does not know it (deleted).
	Missing bool
	// Encrypted: a disk snapshot of the image is encrypted (a copy elsewhere needs a key
	// of that region).
	Encrypted bool
}

// Copy is an image of the owner, in another region than its source, whose origin key
// names the source (docs/regions.md).
type Copy struct {
	ID, Region, Status string
	Created            time.Time
	Tags               map[string]string
}

// Live reports whether the copy counts as the source's copy in its region: any status
// but CreateFailed (a failed attempt).
func (c Copy) Live() bool { return c.Status != CreateFailed }

// Member is an account of the Resource Directory.
type Member struct {
	ID string
	// Path holds the directory ID, the root folder and the folders down to the
	// account's folder, as ResourceDirectoryPath gives them (the account itself excluded).
	Path []string
}

// Directory is the Resource Directory of the owner.
type Directory struct {
	ID      string // rd-…
	RootID  string // r-…
	Members map[string]Member
	// Folders maps each known folder to its ancestors, root first, itself excluded.
	Folders map[string][]string
}

// Association is one entity (a resource or a target) in a resource share.
type Association struct {
	Status        string
	FailureReason string
	Message       string
	Updated       time.Time
}

// Share is one resource share of the owner in the region.
type Share struct {
	ID            string
	Name          string
	Created       time.Time
	AllowExternal bool
	Resources     map[string]Association // image ID → association
	Targets       map[string]Association // rd-/fd-/account ID → association
}

// State is what one run observed.
type State struct {
	Region    string
	Owner     string // the account that owns the images and runs the functions
	Now       time.Time
	Directory *Directory // nil: the owner has no Resource Directory
	Images    []Image
	Shares    []Share
	// RetryFailed: the run was caused by a change of tags or of the directory, so Failed
	// associations are tried again (R4).
	RetryFailed bool
	// Confirmed holds, per image, what the run's jobs carried from earlier looks (SPEC
	// R12): the removals a first look found, or confirmed ones still held back, each with
	// the fingerprint of the tags that look saw.
	Confirmed map[string][]Confirmation
	// Copies holds, per source image of the run and per region looked in, the copies
	// found there (an empty list: none). A region absent was not looked in.
	Copies map[string]map[string][]Copy
	// Sources holds, per copy of the run (an image carrying the origin key), its source as
	// read in the source's region (Missing: gone, or not the owner's).
	Sources map[string]Image
	// CopyLookupFailed: regions where copies could not be looked for, with the error.
	CopyLookupFailed map[string]string
	// ConfirmAll is a test-only switch: every R12 removal counts as confirmed, so it is
	// done on the first look. It exists to show, in the sandbox, the cut R12 prevents;
	// nothing outside tests sets it (it is no setting).
	ConfirmAll bool
}

// Confirmation is one earlier look's removals of one image and its tags' fingerprint.
type Confirmation struct {
	Fingerprint string
	Removals    []string // account IDs and managed share names
}

// IsMember reports whether account is in the directory.
func (s *State) IsMember(account string) bool {
	if s.Directory == nil {
		return false
	}
	_, ok := s.Directory.Members[account]
	return ok
}

// FolderExists reports whether folder is known to be in the directory.
func (s *State) FolderExists(folder string) bool {
	if s.Directory == nil {
		return false
	}
	_, ok := s.Directory.Folders[folder]
	return ok
}

// Ancestors returns the known ancestors of a folder (root first).
func (s *State) Ancestors(folder string) []string {
	if s.Directory == nil {
		return nil
	}
	return s.Directory.Folders[folder]
}

// Reaches lists the accounts a target of a resource share reaches: every member for
// the directory, the members in or below a folder, an account itself. allowExternal
// lets an account target reach an account outside the directory.
func (s *State) Reaches(target string, allowExternal bool) []string {
	if policy.IsAccount(target) {
		if s.IsMember(target) || allowExternal {
			return []string{target}
		}
		return nil
	}
	var out []string
	if s.Directory != nil {
		for id, m := range s.Directory.Members {
			if target == s.Directory.ID || slices.Contains(m.Path, target) {
				out = append(out, id)
			}
		}
	}
	sort.Strings(out)
	return out
}

// Active reports whether the association grants access.
func (a Association) Active() bool { return a.Status == Associated }

// Holding reports whether the entity is (or is becoming, or failed to become) part of
// the share, as opposed to leaving or gone.
func (a Association) Holding() bool {
	return a.Status == Associating || a.Status == Associated || a.Status == Failed
}

// Sources records, for each covered account, which share and target cover it.
type Sources map[string][]Source

// Source is one share target that covers an account.
type Source struct{ ShareID, ShareName, Target string }

// Coverage computes R5 for one image: the accounts that reach it through a resource
// share in which the image and the target are both Associated. skip drops a share
// (target "") or one target of a share from the count, for a plan that is about to
// remove it.
func (s *State) Coverage(image string, skip func(shareID, target string) bool) Sources {
	out := Sources{}
	for _, sh := range s.Shares {
		if !sh.Resources[image].Active() || (skip != nil && skip(sh.ID, "")) {
			continue
		}
		for _, t := range slices.Sorted(maps.Keys(sh.Targets)) {
			if !sh.Targets[t].Active() || (skip != nil && skip(sh.ID, t)) {
				continue
			}
			for _, a := range s.Reaches(t, sh.AllowExternal) {
				if a == s.Owner {
					continue
				}
				out[a] = append(out[a], Source{ShareID: sh.ID, ShareName: sh.Name, Target: t})
			}
		}
	}
	return out
}
