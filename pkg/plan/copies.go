package plan

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"imageshare/pkg/policy"
	"imageshare/pkg/state"
)

// FailedCopyRetryAfter: a copy that ended CreateFailed is tried again only once it is
// this old, so that a region the cloud cannot copy to costs one attempt a day.
const FailedCopyRetryAfter = 24 * time.Hour

// CopyToken is the ClientToken of a CopyImage (docs/regions.md): the same for every
// attempt at one source, destination and UTC day, so that a retry after a lost answer,
// or two runs racing, get the first request's copy from the cloud; another day's
// attempt (after a copy failed) is a new request.
func CopyToken(sourceRegion, source, destination string, now time.Time) string {
	sum := sha256.Sum256([]byte(sourceRegion + "/" + source + ">" + destination + "@" + now.UTC().Format("2006-01-02")))
	return "imageshare-" + hex.EncodeToString(sum[:])[:40]
}

// copies plans the image's copies in other regions (docs/regions.md): for a source,
// a copy in each region its tags name that has no live copy, and the source's sharing
// keys on every live copy in the regions looked in (withdrawn where the tags no longer
// name the region); a retag that takes access away is an R12 removal of the source.
// For a copy, it checks the copy against its source.
func (p *planner) copies(c *imageCtx) {
	if c.pol.IsCopy() {
		p.checkSource(c)
		return
	}
	prefix := p.set.TagPrefix
	looked := p.st.Copies[c.img.ID]
	wanted := map[string]bool{}
	for _, r := range c.pol.Regions {
		if r != p.st.Region {
			wanted[r] = true
		}
	}
	regions := slices.Sorted(maps.Keys(wanted))
	for r := range looked {
		if !wanted[r] && r != p.st.Region {
			regions = append(regions, r)
		}
	}
	slices.Sort(regions)
	for _, r := range regions {
		found, ok := looked[r]
		if !ok {
			if msg, failed := p.st.CopyLookupFailed[r]; failed && wanted[r] {
				c.refuse(r, ReasonCopyLookup, "copies could not be looked for in "+r+" ("+msg+"); nothing is done there until they can: check that the region exists and is enabled for the account")
			}
			continue // not looked in: nothing is known there
		}
		var live []state.Copy
		var failed *state.Copy
		for i, cp := range found {
			if cp.Live() {
				live = append(live, cp)
			} else if failed == nil || cp.Created.After(failed.Created) {
				failed = &found[i]
			}
		}
		desired := policy.CopyTags(prefix, c.img.Tags, p.st.Region, c.img.ID, wanted[r])
		if len(live) == 0 {
			if !wanted[r] {
				continue
			}
			if failed != nil && p.st.Now.Sub(failed.Created) < FailedCopyRetryAfter {
				c.refuse(r, ReasonCopyFailed, fmt.Sprintf("the copy %s made in %s on %s ended CreateFailed; a new copy is made once it is a day old (delete the failed copy when you like; imageshare never deletes an image)",
					failed.ID, r, failed.Created.UTC().Format(time.RFC3339)))
				continue
			}
			key := ""
			if c.img.Encrypted {
				if key = p.set.CopyKMSKeys[r]; key == "" {
					c.refuse(r, ReasonCopyEncryptedNoKey, fmt.Sprintf("the image is encrypted and a copy in %s must be encrypted with a customer-managed KMS key of that region: set COPY_KMS_KEYS (e.g. %s=<key ID>)", r, r))
					continue
				}
			}
			c.plan.Copies = append(c.plan.Copies, CopyOp{Op: ActCopy, Region: r, Tags: desired, KMSKeyID: key,
				Token: CopyToken(p.st.Region, c.img.ID, r, p.st.Now)})
			continue
		}
		if len(live) > 1 {
			var ids []string
			for _, cp := range live {
				ids = append(ids, cp.ID)
			}
			c.refuse(r, ReasonDuplicateCopy, fmt.Sprintf("%d live copies of the image in %s (%s) carry its origin key; all follow its tags: delete the extra ones", len(live), r, strings.Join(ids, ", ")))
		}
		for _, cp := range live {
			set, unset := tagDiff(prefix, cp.Tags, desired)
			if len(set)+len(unset) == 0 {
				continue
			}
			if retagRemoves(prefix, cp.Tags, desired) {
				// R12 at the source: a retag that takes access away waits for a second look
				// at the source's unchanged tags.
				if !p.confirmed(c, r) {
					why := "the source's sharing keys narrowed"
					if !wanted[r] {
						why = "the region is no longer asked for"
					}
					c.awaiting(Removal{Action: ActRetag, Subject: r, Why: why})
					continue
				}
				if !slices.Contains(c.plan.Confirmed, r) {
					c.plan.Confirmed = append(c.plan.Confirmed, r)
				}
			}
			c.plan.Copies = append(c.plan.Copies, CopyOp{Op: ActRetag, Region: r, Copy: cp.ID, Tags: set, Unset: unset, Withdrawn: !wanted[r]})
		}
	}
}

// checkSource compares a copy's tags with what its source asks for (docs/regions.md):
// a copy whose source is gone is kept and reported; one whose tags differ asks the
// source's deployment to look.
func (p *planner) checkSource(c *imageCtx) {
	src, ok := p.st.Sources[c.img.ID]
	if !ok {
		return
	}
	origin := policy.SourceValue(c.pol.SourceRegion, c.pol.SourceImage)
	if src.Missing || src.OwnerAlias != "self" {
		c.plan.Keep = append(c.plan.Keep, Refusal{Reason: "source-deleted",
			Message: fmt.Sprintf("the source %s is gone: this copy is kept, shared as its own tags say, and nobody writes its tags any more; delete it, or remove its %s tags to release it", origin, p.set.TagPrefix)})
		return
	}
	sp := policy.Parse(p.set.TagPrefix, src.Tags)
	if !sp.Managed || len(sp.Errors) > 0 || sp.IsCopy() || src.Status != state.Available {
		return // released, frozen, or not yet copied from: its run decides nothing about copies
	}
	desired := policy.CopyTags(p.set.TagPrefix, src.Tags, c.pol.SourceRegion, c.pol.SourceImage, slices.Contains(sp.Regions, p.st.Region))
	if !maps.Equal(policy.PrefixTags(p.set.TagPrefix, c.img.Tags), desired) {
		c.plan.AskSource = &SourceAsk{Region: c.pol.SourceRegion, Image: c.pol.SourceImage, Copy: p.st.Region}
	}
}

// tagDiff returns the keys of desired to set on a copy (missing or with another value)
// and the prefix keys of current to remove (not in desired), sorted.
func tagDiff(prefix string, current, desired map[string]string) (map[string]string, []string) {
	set := map[string]string{}
	for k, v := range desired {
		if cv, ok := current[k]; !ok || cv != v {
			set[k] = v
		}
	}
	var unset []string
	for k := range policy.PrefixTags(prefix, current) {
		if _, ok := desired[k]; !ok {
			unset = append(unset, k)
		}
	}
	slices.Sort(unset)
	if len(set) == 0 {
		set = nil
	}
	return set, unset
}

// retagRemoves reports whether writing desired over current takes access away: an
// account or folder the current keys name that the new ones do not, additive back to
// exact, or current keys with a tag error (whose run kept everything as it was).
func retagRemoves(prefix string, current, desired map[string]string) bool {
	a, b := policy.Parse(prefix, current), policy.Parse(prefix, desired)
	if len(a.Errors) > 0 {
		return true
	}
	for _, x := range a.Accounts {
		if !slices.Contains(b.Accounts, x) {
			return true
		}
	}
	for _, f := range a.Folders {
		if !slices.Contains(b.Folders, f) {
			return true
		}
	}
	return a.Mode == policy.Additive && b.Mode != policy.Additive
}
