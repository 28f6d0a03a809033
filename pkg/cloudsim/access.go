package cloudsim

import "strings"

// Access is the ground truth the sandbox's invariant checks: who can boot an image.
//
//   Access(image) = direct shares ∪ coverage, minus the owner
//   coverage      = accounts reached through an Active resource share of the image's
//                   owner in which the image AND the target are both Associated:
//                   directory id → every current member, folder → every current member
//                   in it or below, account → itself while it is a member or the share
//                   allows external targets.
//
// With OrgGrantsListed, an account removed with RemoveAccount while covered is blocked
// (loses access although covered) until it is added again.

// accessLocked returns the accounts with access to im.
func (c *Cloud) accessLocked(im *image) map[string]bool {
	out := map[string]bool{}
	for a := range im.Direct {
		if c.accounts[a] != nil {
			out[a] = true
		}
	}
	for a := range c.coveredLocked(im) {
		out[a] = true
	}
	if c.cfg.OrgGrantsListed {
		for a := range im.Blocked {
			delete(out, a)
		}
	}
	delete(out, im.Owner)
	return out
}

// coveredLocked returns the accounts the image's resource shares reach (owner included
// when reached; callers drop it).
func (c *Cloud) coveredLocked(im *image) map[string]bool {
	out := map[string]bool{}
	r := c.regions[im.Region]
	if r == nil {
		return out
	}
	for _, s := range r.shares {
		if s.Owner != im.Owner || s.Status != shareActive {
			continue
		}
		if ra := s.Resources[im.ID]; ra == nil || ra.Status != assocAssociated {
			continue
		}
		for t, ta := range s.Targets {
			if ta.Status == assocAssociated {
				c.expandLocked(s, t, out)
			}
		}
	}
	return out
}

// expandLocked adds the accounts target t of share s reaches now.
func (c *Cloud) expandLocked(s *share, t string, out map[string]bool) {
	dir := c.dirOf(s.Owner)
	switch {
	case strings.HasPrefix(t, "rd-"):
		if dir != nil && t == dir.ID {
			for _, m := range c.members() {
				out[m.ID] = true
			}
		}
	case strings.HasPrefix(t, "fd-") || strings.HasPrefix(t, "r-"):
		if dir != nil && c.folderExists(t) {
			for _, m := range c.members() {
				if c.inSubtree(m.Folder, t) {
					out[m.ID] = true
				}
			}
		}
	default:
		if c.accounts[t] != nil && (s.AllowExternal || (dir != nil && c.isMember(t))) {
			out[t] = true
		}
	}
}

// listedLocked is what DescribeImageSharePermission lists: the direct shares, and with
// OrgGrantsListed also the covered accounts not blocked. The owner is never listed.
func (c *Cloud) listedLocked(im *image) map[string]bool {
	out := map[string]bool{}
	for a := range im.Direct {
		out[a] = true
	}
	if c.cfg.OrgGrantsListed {
		for a := range c.coveredLocked(im) {
			if !im.Blocked[a] {
				out[a] = true
			}
		}
	}
	delete(out, im.Owner)
	return out
}

// targetType is the EntityType of a resource-sharing target.
func targetType(t string) string {
	switch {
	case strings.HasPrefix(t, "rd-"):
		return "ResourceDirectory"
	case strings.HasPrefix(t, "fd-"), strings.HasPrefix(t, "r-"):
		return "Folder"
	default:
		return "Account"
	}
}

// external reports whether target t lies outside the share owner's directory.
func (c *Cloud) external(s *share, t string) bool {
	if targetType(t) != "Account" {
		return false
	}
	return c.dirOf(s.Owner) == nil || !c.isMember(t)
}
