package inspect

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"

	"imageshare/pkg/cloud"
	"imageshare/pkg/plan"
	"imageshare/pkg/policy"
	"imageshare/pkg/report"
	"imageshare/pkg/state"
)

// Grant is one way a resource share could reach an account: a target of a share that
// holds the image. It grants access only when both associations are Associated (R5).
type Grant struct {
	Share        string `json:"share"`
	ShareID      string `json:"shareId"`
	Managed      bool   `json:"managed"` // created by imageshare (name imageshare-<hash>)
	Target       string `json:"target"`
	ImageStatus  string `json:"imageStatus"`
	TargetStatus string `json:"targetStatus"`
	Active       bool   `json:"active"`
}

// TagRef is a tag that names the account, or a folder that holds it.
type TagRef struct {
	Key   string `json:"key"`
	Token string `json:"token"`
}

// Explanation says why an account has or lacks access to an image, and what the next
// run of the functions would change about it.
type Explanation struct {
	Image   string      `json:"image"`
	Account string      `json:"account"`
	Status  string      `json:"imageStatus"`
	Managed bool        `json:"managed"`
	Frozen  bool        `json:"frozen,omitempty"` // the tags have errors: the image is left as it is
	Mode    policy.Mode `json:"mode,omitempty"`
	// Member: the account is in the Resource Directory, at Path.
	Member          bool   `json:"member"`
	Path            string `json:"path,omitempty"`
	Owner           bool   `json:"owner,omitempty"`
	AllowedExternal bool   `json:"allowedExternal,omitempty"`
	// AccountTags name the account; FolderTags name a folder (or the directory) that
	// holds it.
	AccountTags []TagRef `json:"accountTags,omitempty"`
	FolderTags  []TagRef `json:"folderTags,omitempty"`
	Direct      bool     `json:"direct"`
	Grants      []Grant  `json:"grants,omitempty"`
	// Access: the account can use the image now (a direct share, or an active grant).
	Access bool `json:"access"`
	// Next are the entries of the next run that concern the account's access.
	Next []report.Entry `json:"next,omitempty"`
	// After says whether the account has access once the next run is done and its
	// associations are final.
	After bool `json:"accessAfter"`
	// AwaitingConfirmation: the next run's removal of the account's access waits for a
	// second look at unchanged tags (R12).
	AwaitingConfirmation bool `json:"awaitingConfirmation,omitempty"`
	// Reasons is the answer in sentences, each naming the rule it applies.
	Reasons []string `json:"reasons"`

	directAfter bool // a direct share after the next run
}

// Explain answers for one account. The account's place in the directory is read with
// GetAccount, so the answer holds even when the run observed only part of the directory.
func Explain(ctx context.Context, cfg Config, v *View, image, account string) (*Explanation, error) {
	im := v.Image(image)
	if im == nil || im.Missing {
		return nil, fmt.Errorf("image %s not found in %s among the owner's images", image, v.Region)
	}
	if !policy.IsAccount(account) {
		return nil, fmt.Errorf("%q is not an account ID (16 digits)", account)
	}
	st := v.State
	x := &Explanation{Image: image, Account: account, Status: im.Status, Owner: account == v.Owner,
		AllowedExternal: cfg.Settings.Allowed(account)}
	var path []string
	if st.Directory != nil {
		if m, ok := st.Directory.Members[account]; ok {
			x.Member, path = true, m.Path
		} else {
			acc, err := cfg.API.GetAccount(ctx, account)
			switch cloud.Code(err) {
			case "":
				x.Member = true
				path = strings.Split(acc.Path, "/")
				if len(path) > 0 && path[len(path)-1] == account {
					path = path[:len(path)-1]
				}
			case "EntityNotExists.Account":
			default:
				return nil, fmt.Errorf("read account %s in the directory: %w", account, err)
			}
		}
	}
	if x.Member {
		x.Path = strings.Join(append(slices.Clone(path), account), "/")
	}
	reaches := func(target string, allowExternal bool) bool {
		switch {
		case policy.IsAccount(target):
			return target == account && (x.Member || allowExternal)
		case st.Directory != nil && target == st.Directory.ID:
			return x.Member
		default:
			return x.Member && slices.Contains(path, target)
		}
	}

	pol := policy.Parse(cfg.Settings.TagPrefix, im.Tags)
	x.Managed, x.Frozen = pol.Managed, len(pol.Errors) > 0
	if pol.Managed {
		x.Mode = pol.Mode
	}
	x.AccountTags, x.FolderTags = tagRefs(cfg.Settings.TagPrefix, im.Tags, account, func(t string) bool { return reaches(t, false) })
	x.Direct = slices.Contains(im.Direct, account)
	for _, sh := range st.Shares {
		ra, ok := sh.Resources[image]
		if !ok {
			continue
		}
		for _, t := range slices.Sorted(maps.Keys(sh.Targets)) {
			ta := sh.Targets[t]
			if !reaches(t, sh.AllowExternal) || ta.Status == state.Disassociated || ra.Status == state.Disassociated {
				continue
			}
			x.Grants = append(x.Grants, Grant{Share: sh.Name, ShareID: sh.ID, Managed: plan.IsManagedName(sh.Name), Target: t,
				ImageStatus: ra.Status, TargetStatus: ta.Status, Active: ra.Active() && ta.Active() && !x.Owner})
		}
	}
	covered := false
	for _, g := range x.Grants {
		covered = covered || g.Active
	}
	x.Access = !x.Owner && (x.Direct || covered)

	// The next run, as the functions would do it.
	leaving, joining := map[string]bool{}, map[string]bool{}
	shareTargets := v.shareTargets()
	unshared, shared := false, false
	for _, e := range v.Entries {
		switch {
		case e.Image == image && e.Subject == account:
			x.Next = append(x.Next, e)
			unshared = unshared || e.Action == plan.ActUnshare
			shared = shared || e.Action == plan.ActShare
		case e.Image == image && (e.Action == plan.ActAssociate || e.Action == plan.ActDisassociate):
			for _, t := range shareTargets[e.Subject] {
				if reaches(t, false) {
					x.Next = append(x.Next, e)
					if e.Action == plan.ActAssociate {
						joining[e.Subject] = true
					} else {
						leaving[e.Subject] = true
					}
					break
				}
			}
		case e.Image == "" && e.Action == plan.ActDisassociate && reaches(e.Subject, false) && v.holds(e.Reason, image):
			leaving[e.Reason+"/"+e.Subject] = true // a target removed from a managed share
			x.Next = append(x.Next, e)
		case e.Image == "" && e.Action == plan.ActAssociate && reaches(e.Subject, false) && v.holds(e.Reason, image):
			joining[e.Reason] = true // a target added to a managed share that holds the image
			x.Next = append(x.Next, e)
		}
	}
	for _, e := range x.Next {
		x.AwaitingConfirmation = x.AwaitingConfirmation || e.AfterConfirmation
	}
	after := (x.Direct && !unshared) || shared
	x.directAfter = after
	for _, g := range x.Grants {
		if leaving[g.Share] || leaving[g.Share+"/"+g.Target] {
			continue
		}
		// An association on its way counts once it reads Associated.
		if g.ImageStatus != state.Failed && g.TargetStatus != state.Failed && g.ImageStatus != state.Disassociating && g.TargetStatus != state.Disassociating {
			after = true
		}
	}
	x.After = !x.Owner && (after || len(joining) > 0)
	x.Reasons = x.reasons(cfg, v, im, pol, joining)
	return x, nil
}

func (x *Explanation) reasons(cfg Config, v *View, im *state.Image, pol policy.Policy, joining map[string]bool) []string {
	var out []string
	say := func(format string, a ...any) { out = append(out, fmt.Sprintf(format, a...)) }
	if x.Owner {
		say("Account %s owns image %s: an owner always has its own images, and imageshare never shares an image with its owner (R3).", x.Account, x.Image)
		return out
	}
	now := "has no access to"
	if x.Access {
		now = "has access to"
	}
	say("Account %s %s image %s now.", x.Account, now, x.Image)
	if x.Direct {
		say("It is shared directly: DescribeImageSharePermission lists it.")
	}
	for _, g := range x.Grants {
		kind := "made by a person"
		if g.Managed {
			kind = "managed by imageshare"
		}
		where := "the account itself"
		switch {
		case policy.IsDirectory(g.Target):
			where = "the whole Resource Directory"
		case !policy.IsAccount(g.Target):
			where = "the folder holds the account"
		}
		if g.Active {
			say("It is reached through resource share %s (%s), target %s: %s (R5).", g.Share, kind, g.Target, where)
		} else {
			say("Resource share %s (%s) targets %s (%s), but the image is %s and the target %s there: it counts only once both read Associated (R5).",
				g.Share, kind, g.Target, where, g.ImageStatus, g.TargetStatus)
		}
	}
	switch {
	case x.Member:
		say("It is a member of the Resource Directory at %s.", x.Path)
	case x.AllowedExternal:
		say("It is outside the Resource Directory and listed in ALLOWED_EXTERNAL_ACCOUNTS, so tags may share with it directly (R3).")
	case !x.Owner:
		say("It is outside the Resource Directory and not in ALLOWED_EXTERNAL_ACCOUNTS: tags cannot share with it (R3); only a person's resource share or direct share can.")
	}
	switch {
	case !pol.Managed:
		say("The image carries no %s tags: imageshare does not manage it (never tagged, or released) and changes nothing on it.", cfg.Settings.TagPrefix)
	case x.Frozen:
		var bad []string
		for _, e := range pol.Errors {
			bad = append(bad, fmt.Sprintf("%s (%s)", e.Subject, e.Reason))
		}
		say("The image's tags have errors, so it is left exactly as it is until they are fixed: %s.", strings.Join(bad, "; "))
	case im.Status != state.Available:
		say("The image is %s: nothing is shared until it is Available (R2).", im.Status)
	}
	if pol.Managed && !x.Frozen {
		for _, r := range x.AccountTags {
			say("Tag %s names the account: a direct share is wanted (R6) unless an organization share already reaches it (R7).", r.Key)
		}
		for _, r := range x.FolderTags {
			say("Tag %s names %s, which holds the account: the image is shared with it through resource sharing (R4).", r.Key, r.Token)
		}
		if x.Direct && len(x.AccountTags) == 0 && len(x.FolderTags) > 0 && !x.covered() && x.Mode == policy.Exact {
			say("No account tag names it: its direct share stays until the organization share reaches it, and then goes as redundant (R6, R7).")
		}
		if len(x.AccountTags) == 0 && len(x.FolderTags) == 0 {
			if x.Mode == policy.Additive {
				say("No tag names the account or a folder that holds it; in additive mode an existing direct share is kept (R6).")
			} else {
				say("No tag names the account or a folder that holds it; in exact mode a direct share no tag names is revoked (R6).")
			}
		}
		if len(x.AccountTags) > 0 && !x.Direct && x.covered() {
			say("An organization share already reaches it, so no direct share is made (R6 leaves out covered accounts).")
		}
		if x.Direct && x.covered() {
			if cfg.Settings.RevokeRedundant {
				say("Its direct share is redundant with the organization share, so it is revoked once that share reads Associated (R7).")
			} else {
				say("Its direct share is redundant with the organization share but kept: REVOKE_REDUNDANT=false (R7).")
			}
		}
	}
	if len(x.Next) == 0 {
		say("The next run changes nothing for this account.")
	}
	for _, e := range x.Next {
		say("Next run: %s", v.Sentence(e))
	}
	if x.AwaitingConfirmation {
		say("Awaiting confirmation (R12): access that follows from the tags is taken away only on two looks; the run that sees this sends the removal to a second look SETTLE_DELAY (%s) later, which does it only if the image's %s tags are unchanged.",
			cfg.Settings.SettleDelay, cfg.Settings.TagPrefix)
	}
	switch {
	case x.After && len(joining) > 0 && !x.Access && !x.directAfter:
		say("After the next run it has access, once the new association reads Associated (usually within a minute).")
	case x.After:
		say("After the next run it has access.")
	default:
		say("After the next run it has no access.")
	}
	return out
}

func (x *Explanation) covered() bool {
	for _, g := range x.Grants {
		if g.Active {
			return true
		}
	}
	return false
}

// Sentence says an entry of the next run in words. The dry run names the share an image
// joins or leaves, not its targets; the sentence adds them.
func (v *View) Sentence(e report.Entry) string {
	targets := func(name string) string {
		ts := v.shareTargets()[name]
		sort.Strings(ts)
		if len(ts) == 0 {
			return ""
		}
		return " (targets " + strings.Join(ts, ", ") + ")"
	}
	switch {
	case e.Image == "" && e.Action == plan.ActAssociate:
		return fmt.Sprintf("Resource share %s would get target %s.", e.Reason, e.Subject)
	case e.Image == "" && e.Action == plan.ActDisassociate:
		return fmt.Sprintf("Resource share %s would lose target %s.", e.Reason, e.Subject)
	case e.Image == "":
		return fmt.Sprintf("Resource share %s: %s (%s).", e.Subject, e.Action, e.Reason)
	case e.Action == plan.ActAssociate:
		return fmt.Sprintf("Image %s would join resource share %s%s.", e.Image, e.Subject, targets(e.Subject))
	case e.Action == plan.ActDisassociate && e.AfterConfirmation:
		return fmt.Sprintf("Image %s would leave resource share %s%s, after confirmation (a second look SETTLE_DELAY later at unchanged tags) and once the share it moves to, if any, reads Associated.", e.Image, e.Subject, targets(e.Subject))
	case e.Action == plan.ActDisassociate:
		return fmt.Sprintf("Image %s would leave resource share %s%s, once the share it moves to reads Associated.", e.Image, e.Subject, targets(e.Subject))
	}
	return report.Sentence(e)
}

// ShareTargets lists the targets a resource share has or will have, sorted.
func (v *View) ShareTargets(name string) []string {
	ts := slices.Clone(v.shareTargets()[name])
	sort.Strings(ts)
	return ts
}

// shareTargets maps share names to the targets they have or will have (a share the
// plan creates has the targets of its creation).
func (v *View) shareTargets() map[string][]string {
	out := map[string][]string{}
	for _, sh := range v.State.Shares {
		for t, a := range sh.Targets {
			if a.Holding() && !slices.Contains(out[sh.Name], t) {
				out[sh.Name] = append(out[sh.Name], t)
			}
		}
	}
	for _, op := range v.Plan.Shares {
		if op.Op == plan.OpCreate || op.Op == plan.OpAddTargets {
			for _, t := range op.Targets {
				if !slices.Contains(out[op.Share.Name], t) {
					out[op.Share.Name] = append(out[op.Share.Name], t)
				}
			}
		}
	}
	return out
}

// soon reports whether a share that holds the image, or that the image joins, has or
// gets a target that reaches the account.
func (v *View) soon(image, account string) bool {
	names := map[string]bool{}
	for _, sh := range v.State.Shares {
		if sh.Resources[image].Holding() {
			names[sh.Name] = true
		}
	}
	for _, e := range v.ImageEntries(image) {
		if e.Action == plan.ActAssociate {
			names[e.Subject] = true
		}
	}
	for name := range names {
		for _, t := range v.shareTargets()[name] {
			if slices.Contains(v.State.Reaches(t, false), account) {
				return true
			}
		}
	}
	return false
}

// holds reports whether the share named name holds the image or will on creation.
func (v *View) holds(name, image string) bool {
	for _, sh := range v.State.Shares {
		if sh.Name == name && sh.Resources[image].Holding() {
			return true
		}
	}
	for _, op := range v.Plan.Shares {
		if op.Op == plan.OpCreate && op.Share.Name == name && slices.Contains(op.Resources, image) {
			return true
		}
	}
	return false
}

// tagRefs finds the account keys naming account, and the folder keys naming a target
// that reaches it.
func tagRefs(prefix string, tags map[string]string, account string, reaches func(string) bool) (accounts, folders []TagRef) {
	for _, k := range slices.Sorted(maps.Keys(tags)) {
		rest, ok := strings.CutPrefix(k, prefix+":")
		if !ok {
			continue
		}
		for _, tok := range policy.Split(tags[k]) {
			switch {
			case (rest == "accounts" || strings.HasPrefix(rest, "accounts:")) && tok == account:
				accounts = append(accounts, TagRef{Key: k, Token: tok})
			case (rest == "folders" || strings.HasPrefix(rest, "folders:")) && tok != "none" && reaches(tok):
				folders = append(folders, TagRef{Key: k, Token: tok})
			}
		}
	}
	return accounts, folders
}

// Summary is the answer about every account an image concerns.
type Summary struct {
	Image   string      `json:"image"`
	Status  string      `json:"imageStatus"`
	Managed bool        `json:"managed"`
	Frozen  bool        `json:"frozen,omitempty"`
	Mode    policy.Mode `json:"mode,omitempty"`
	// Accounts: direct shares, accounts the tags name, and accounts the next run concerns.
	Accounts []AccountLine `json:"accounts"`
	// Shares: the resource shares that hold the image.
	Shares []ShareLine `json:"shares,omitempty"`
	// Next: every entry of the next run for this image.
	Next []report.Entry `json:"next,omitempty"`
}

// AccountLine is one account of a Summary.
type AccountLine struct {
	Account string `json:"account"`
	Direct  bool   `json:"direct"`
	Tagged  bool   `json:"tagged"`
	// Next: the actions of the next run about this account (share, unshare, refuse).
	Next []string `json:"next,omitempty"`
	Why  string   `json:"why"`
}

// ShareLine is one resource share holding the image.
type ShareLine struct {
	Name        string            `json:"name"`
	ID          string            `json:"id"`
	Managed     bool              `json:"managed"`
	ImageStatus string            `json:"imageStatus"`
	Targets     map[string]string `json:"targets"` // target → association status
}

// Summarize answers for every account the image concerns; Explain goes into one.
func Summarize(cfg Config, v *View, image string) (*Summary, error) {
	im := v.Image(image)
	if im == nil || im.Missing {
		return nil, fmt.Errorf("image %s not found in %s among the owner's images", image, v.Region)
	}
	pol := policy.Parse(cfg.Settings.TagPrefix, im.Tags)
	s := &Summary{Image: image, Status: im.Status, Managed: pol.Managed, Frozen: len(pol.Errors) > 0, Next: v.ImageEntries(image)}
	if pol.Managed {
		s.Mode = pol.Mode
	}
	accounts := slices.Clone(im.Direct)
	if !s.Frozen {
		accounts = append(accounts, pol.Accounts...)
	}
	for _, e := range s.Next {
		if policy.IsAccount(e.Subject) {
			accounts = append(accounts, e.Subject)
		}
	}
	sort.Strings(accounts)
	accounts = slices.Compact(accounts)
	cov := v.State.Coverage(image, nil)
	for _, a := range accounts {
		l := AccountLine{Account: a, Direct: slices.Contains(im.Direct, a), Tagged: slices.Contains(pol.Accounts, a)}
		var reasons []string
		for _, e := range s.Next {
			if e.Subject == a {
				l.Next = append(l.Next, e.Action)
				reasons = append(reasons, e.Action+" ("+e.Reason+")")
			}
		}
		switch {
		case len(reasons) > 0:
			l.Why = strings.Join(reasons, ", ")
			for _, e := range s.Next {
				if e.Subject == a && e.AfterConfirmation {
					l.Why += " — awaiting confirmation (R12)"
				}
			}
		case !pol.Managed:
			l.Why = "not managed: left as it is"
		case s.Frozen:
			l.Why = "tag errors: left as it is"
		case len(cov[a]) > 0 && l.Direct:
			l.Why = "direct share kept beside " + cov[a][0].ShareName + "/" + cov[a][0].Target + " (REVOKE_REDUNDANT=false or not yet Associated)"
		case len(cov[a]) > 0:
			l.Why = "reached through " + cov[a][0].ShareName + "/" + cov[a][0].Target
		case l.Tagged && l.Direct:
			l.Why = "named by the tags, shared directly"
		case l.Direct && s.Mode == policy.Additive:
			l.Why = "kept (additive mode)"
		case l.Direct && v.soon(image, a):
			l.Why = "kept until the organization share on its way reaches it; then revoked as redundant (R7)"
		case l.Direct:
			l.Why = "kept for now; the functions look again"
		default:
			l.Why = "unchanged"
		}
		s.Accounts = append(s.Accounts, l)
	}
	for _, sh := range v.State.Shares {
		ra, ok := sh.Resources[image]
		if !ok || ra.Status == state.Disassociated {
			continue
		}
		line := ShareLine{Name: sh.Name, ID: sh.ID, Managed: plan.IsManagedName(sh.Name), ImageStatus: ra.Status, Targets: map[string]string{}}
		for t, a := range sh.Targets {
			if a.Status != state.Disassociated {
				line.Targets[t] = a.Status
			}
		}
		s.Shares = append(s.Shares, line)
	}
	return s, nil
}
