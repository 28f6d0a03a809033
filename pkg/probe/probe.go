// Package probe checks, on a real account, how the cloud treats an account that an image
// reaches both directly and through an organization (Resource Sharing) share — the fact
// Rule R7 depends on and the documentation leaves open:
//
//   - does DescribeImageSharePermission list an account that only a resource share
//     reaches? If it does, the direct list mixes both kinds and a removal there may remove
//     the organization grant too;
//   - does ModifyImageSharePermission RemoveAccount, for an account a resource share
//     still reaches, cut its access?
//
// It creates a resource share of the image with one folder, shares the image directly
// with one member of that folder, removes that direct share, and watches the owner's
// view (and, given the member's credentials, the member's own view) after each step.
// Every write is confirmed first, and everything is undone afterwards, also when a step
// fails or is declined. The answer is the REVOKE_REDUNDANT value to deploy with.
package probe

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
	"time"

	"imageshare/pkg/cloud"
	"imageshare/pkg/policy"
)

// Config configures a probe.
type Config struct {
	// API acts as the image owner; Member, when set, as the observed member account (its
	// own view is the only direct evidence of its access).
	API    cloud.API
	Member cloud.API
	Region string
	Owner  string
	Image  string
	Folder string
	// Account is the member to observe; empty: one is picked in Folder. Required with
	// Member, so that the credentials and the account match.
	Account string
	// Prefix is TAG_PREFIX: images it manages are refused (the functions would correct
	// the probe's edits while it runs).
	Prefix string
	// Ask asks a yes/no question before each write.
	Ask func(question string) (bool, error)
	Out io.Writer
	// Sleep waits between polls (nil: real time).
	Sleep func(ctx context.Context, d time.Duration) error
	// Poll (default 5s) and Wait (default 5m): how often and how long to poll for an
	// association to settle.
	Poll, Wait time.Duration
	// Now names the probe's share (nil: the wall clock).
	Now func() time.Time
}

// Result is what the probe found.
type Result struct {
	Account string `json:"account"`
	Path    string `json:"path"`
	Share   string `json:"share"`
	// Listed: DescribeImageSharePermission listed the account while only the resource
	// share reached it.
	Listed bool `json:"orgGrantListed"`
	// ListedAfterRemove: the account was still listed after RemoveAccount.
	ListedAfterRemove bool `json:"listedAfterRemove"`
	// MemberChecked: the member's own view was observed; AccessAfterRemove is what it
	// showed after RemoveAccount (meaningful only when MemberChecked).
	MemberChecked     bool `json:"memberChecked"`
	AccessViaShare    bool `json:"memberSawImageThroughShare"`
	AccessAfterRemove bool `json:"memberSawImageAfterRemove"`
	// RevokeRedundant is the setting to deploy with.
	RevokeRedundant bool     `json:"revokeRedundant"`
	Evidence        []string `json:"evidence"`
	// Completed: every step ran; Undone: the image and the account's shares are as
	// they were; Leftovers says what a person must still undo.
	Completed bool     `json:"completed"`
	Undone    bool     `json:"undone"`
	Leftovers []string `json:"leftovers,omitempty"`
}

// ErrDeclined is returned when the operator declines a step.
var ErrDeclined = errors.New("declined")

type prober struct {
	cfg Config
	res *Result
	dir cloud.Directory
	// before: the direct list before the probe.
	before []string
	// done steps, for the undo.
	shareID      string
	directAdded  bool
	directRemove bool
}

// Run runs the probe. The result is returned whenever the probe started, with
// Completed/Undone saying how far it got; err says why it stopped.
func Run(ctx context.Context, cfg Config) (*Result, error) {
	if cfg.Poll <= 0 {
		cfg.Poll = 5 * time.Second
	}
	if cfg.Wait <= 0 {
		cfg.Wait = 5 * time.Minute
	}
	if cfg.Sleep == nil {
		cfg.Sleep = cloud.Sleep
	}
	if cfg.Now == nil {
		cfg.Now = func() time.Time { return time.Now().UTC() }
	}
	if cfg.Out == nil {
		cfg.Out = io.Discard
	}
	p := &prober{cfg: cfg, res: &Result{}}
	if err := p.check(ctx); err != nil {
		return nil, err
	}
	err := p.experiment(ctx)
	if err == nil {
		p.conclude()
	}
	// Undo with a context of its own: an interrupted probe must still clean up.
	uctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*cfg.Wait+time.Minute)
	defer cancel()
	p.undo(uctx)
	if err != nil {
		return p.res, err
	}
	return p.res, nil
}

func (p *prober) say(format string, a ...any) { fmt.Fprintf(p.cfg.Out, format+"\n", a...) }

// check reads everything the probe needs and writes nothing.
func (p *prober) check(ctx context.Context) error {
	c := p.cfg
	switch {
	case c.Image == "" || c.Folder == "":
		return errors.New("--image and --folder are required")
	case !policy.IsFolder(c.Folder):
		return fmt.Errorf("%q is not a folder ID (fd- and 10 letters or digits)", c.Folder)
	case c.Member != nil && c.Account == "":
		return errors.New("member credentials need --account, the member they belong to")
	case c.Account != "" && !policy.IsAccount(c.Account):
		return fmt.Errorf("%q is not an account ID (16 digits)", c.Account)
	}
	page, err := c.API.DescribeImages(ctx, cloud.DescribeImagesInput{Region: c.Region, ImageIDs: []string{c.Image},
		Statuses: cloud.AllStatuses, OwnerAlias: "self", Page: 1, PageSize: 10})
	if err != nil {
		return fmt.Errorf("describe image %s: %w", c.Image, err)
	}
	if len(page.Images) == 0 {
		return fmt.Errorf("image %s is not an image of the owner in %s", c.Image, c.Region)
	}
	im := page.Images[0]
	if im.Status != "Available" {
		return fmt.Errorf("image %s is %s; use an Available image", c.Image, im.Status)
	}
	if policy.Parse(c.Prefix, im.Tags).Managed {
		return fmt.Errorf("image %s carries %s tags, so the functions would correct the probe's edits while it runs; use an untagged test image", c.Image, c.Prefix)
	}
	if p.dir, err = c.API.GetResourceDirectory(ctx); err != nil {
		return fmt.Errorf("the owner's Resource Directory: %w", err)
	}
	if _, err := c.API.ListAncestors(ctx, c.Folder); err != nil {
		return fmt.Errorf("folder %s in the directory: %w", c.Folder, err)
	}
	if p.before, err = p.listed(ctx); err != nil {
		return err
	}
	reached, err := p.reachedNow(ctx)
	if err != nil {
		return err
	}
	usable := func(a cloud.Account) string {
		path := strings.Split(a.Path, "/")
		switch {
		case a.ID == c.Owner:
			return "it is the image's owner"
		case !slices.Contains(path, c.Folder):
			return "it is not in folder " + c.Folder + " (" + a.Path + ")"
		case slices.Contains(p.before, a.ID):
			return "the image is already shared with it directly"
		case reached(path, a.ID):
			return "a resource share already reaches it with the image"
		}
		return ""
	}
	if c.Account != "" {
		a, err := c.API.GetAccount(ctx, c.Account)
		if err != nil {
			return fmt.Errorf("account %s in the directory: %w", c.Account, err)
		}
		if why := usable(a); why != "" {
			return fmt.Errorf("account %s cannot be observed: %s; pick a member of %s without access to the image", c.Account, why, c.Folder)
		}
		p.res.Account, p.res.Path = a.ID, a.Path
	} else {
		var pick *cloud.Account
		for n := 1; pick == nil; n++ {
			pg, err := c.API.ListAccounts(ctx, n)
			if err != nil {
				return fmt.Errorf("list directory accounts: %w", err)
			}
			sort.Slice(pg.Accounts, func(i, j int) bool { return pg.Accounts[i].ID < pg.Accounts[j].ID })
			for i := range pg.Accounts {
				if usable(pg.Accounts[i]) == "" {
					pick = &pg.Accounts[i]
					break
				}
			}
			if len(pg.Accounts) < cloud.MaxDirectoryPage || n*cloud.MaxDirectoryPage >= pg.Total {
				break
			}
		}
		if pick == nil {
			return fmt.Errorf("no member in or below %s is without access to image %s; use a folder with a member the image is not shared with", c.Folder, c.Image)
		}
		p.res.Account, p.res.Path = pick.ID, pick.Path
	}
	p.say("imageshare probe: image %s in %s, folder %s", c.Image, c.Region, c.Folder)
	p.say("  observed member: %s (%s)", p.res.Account, p.res.Path)
	p.say("  before: DescribeImageSharePermission lists %d account(s); %s is not among them", len(p.before), p.res.Account)
	if c.Member != nil {
		sees, err := p.memberSees(ctx)
		if err != nil {
			return err
		}
		if sees {
			return fmt.Errorf("with the member's credentials DescribeImages already shows image %s; pick a member without access", c.Image)
		}
		p.res.MemberChecked = true
		p.say("  as the member, DescribeImages shows the image: no (member credentials given: the member's own view is checked)")
	} else {
		p.say("  member credentials not given: only the owner's view can be observed (set IMAGESHARE_PROBE_ACCESS_KEY_ID/SECRET for %s to check its own view)", p.res.Account)
	}
	return nil
}

// reachedNow returns whether an account (by path) is reached by a resource share that
// holds the image in any state but gone.
func (p *prober) reachedNow(ctx context.Context) (func(path []string, account string) bool, error) {
	holding := func(s string) bool { return s != "Disassociated" && s != "Disassociating" }
	shares := map[string]bool{}
	for token := ""; ; {
		pg, err := p.cfg.API.ListResourceShareAssociations(ctx, p.cfg.Region, cloud.AssociationResource, token)
		if err != nil {
			return nil, fmt.Errorf("list resource share associations: %w", err)
		}
		for _, a := range pg.Associations {
			if a.EntityID == p.cfg.Image && holding(a.Status) {
				shares[a.ShareID] = true
			}
		}
		if token = pg.NextToken; token == "" {
			break
		}
	}
	var targets []string
	for token := ""; len(shares) > 0; {
		pg, err := p.cfg.API.ListResourceShareAssociations(ctx, p.cfg.Region, cloud.AssociationTarget, token)
		if err != nil {
			return nil, fmt.Errorf("list resource share associations: %w", err)
		}
		for _, a := range pg.Associations {
			if shares[a.ShareID] && holding(a.Status) {
				targets = append(targets, a.EntityID)
			}
		}
		if token = pg.NextToken; token == "" {
			break
		}
	}
	return func(path []string, account string) bool {
		for _, t := range targets {
			if t == account || t == p.dir.ID || slices.Contains(path, t) {
				return true
			}
		}
		return false
	}, nil
}

func (p *prober) listed(ctx context.Context) ([]string, error) {
	var out []string
	for n := 1; ; n++ {
		pg, err := p.cfg.API.DescribeImageSharePermission(ctx, p.cfg.Region, p.cfg.Image, n)
		if err != nil {
			return nil, fmt.Errorf("read the direct shares of %s: %w", p.cfg.Image, err)
		}
		out = append(out, pg.Accounts...)
		if len(pg.Accounts) < cloud.MaxSharePage || len(out) >= pg.Total {
			sort.Strings(out)
			return out, nil
		}
	}
}

func (p *prober) isListed(ctx context.Context) (bool, error) {
	l, err := p.listed(ctx)
	return slices.Contains(l, p.res.Account), err
}

func (p *prober) memberSees(ctx context.Context) (bool, error) {
	pg, err := p.cfg.Member.DescribeImages(ctx, cloud.DescribeImagesInput{Region: p.cfg.Region, ImageIDs: []string{p.cfg.Image},
		Statuses: []string{"Available"}, OwnerAlias: "others", Page: 1, PageSize: 10})
	if err != nil {
		return false, fmt.Errorf("DescribeImages as the member: %w", err)
	}
	for _, im := range pg.Images {
		if im.ID == p.cfg.Image {
			return true, nil
		}
	}
	return false, nil
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// confirm asks before a write.
func (p *prober) confirm(step, what string) error {
	p.say("\n%s: %s", step, what)
	ok, err := p.cfg.Ask("Proceed? [y/N] ")
	if err != nil {
		return fmt.Errorf("reading the answer: %w", err)
	}
	if !ok {
		p.say("  declined")
		return ErrDeclined
	}
	return nil
}

func (p *prober) experiment(ctx context.Context) error {
	c, acct := p.cfg, p.res.Account
	p.res.Share = "imageshare-probe-" + c.Now().Format("20060102t150405")
	if err := p.confirm("Step 1 of 3", fmt.Sprintf("create resource share %s holding image %s with target %s (AllowExternalTargets=false), so that the organization grants %s access",
		p.res.Share, c.Image, c.Folder, acct)); err != nil {
		return err
	}
	info, _, err := c.API.CreateResourceShare(ctx, c.Region, p.res.Share, []string{c.Image}, []string{c.Folder})
	if err != nil {
		return fmt.Errorf("create resource share: %w", err)
	}
	p.shareID = info.ID
	p.say("  created %s; waiting for the image and the folder to read Associated", info.ID)
	waited, err := p.waitAssociations(ctx, "Associated")
	if err != nil {
		return err
	}
	p.say("  Associated after about %s of polling", waited)
	if p.res.Listed, err = p.isListed(ctx); err != nil {
		return err
	}
	p.say("  DescribeImageSharePermission lists %s: %s", acct, yesNo(p.res.Listed))
	if c.Member != nil {
		if p.res.AccessViaShare, err = p.memberSees(ctx); err != nil {
			return err
		}
		p.say("  as the member, DescribeImages shows the image: %s", yesNo(p.res.AccessViaShare))
	}

	if err := p.confirm("Step 2 of 3", fmt.Sprintf("share image %s directly with %s (ModifyImageSharePermission AddAccount), on top of the organization share", c.Image, acct)); err != nil {
		return err
	}
	if _, err := c.API.ModifyImageSharePermission(ctx, c.Region, c.Image, []string{acct}, nil); err != nil {
		return fmt.Errorf("add the direct share: %w", err)
	}
	p.directAdded = true
	l, err := p.isListed(ctx)
	if err != nil {
		return err
	}
	p.say("  DescribeImageSharePermission lists %s: %s", acct, yesNo(l))

	if err := p.confirm("Step 3 of 3", fmt.Sprintf("remove that direct share (ModifyImageSharePermission RemoveAccount %s) while the organization share still reaches the account — what imageshare does to a redundant direct share (R7)", acct)); err != nil {
		return err
	}
	if _, err := c.API.ModifyImageSharePermission(ctx, c.Region, c.Image, nil, []string{acct}); err != nil {
		return fmt.Errorf("remove the direct share: %w", err)
	}
	p.directAdded, p.directRemove = false, true
	if p.res.ListedAfterRemove, err = p.isListed(ctx); err != nil {
		return err
	}
	still, err := p.associationsAre(ctx, "Associated")
	if err != nil {
		return err
	}
	p.say("  DescribeImageSharePermission lists %s: %s; the resource share still reads Associated: %s", acct, yesNo(p.res.ListedAfterRemove), yesNo(still))
	if c.Member != nil {
		if p.res.AccessAfterRemove, err = p.memberSees(ctx); err != nil {
			return err
		}
		p.say("  as the member, DescribeImages shows the image: %s", yesNo(p.res.AccessAfterRemove))
	}
	p.res.Completed = true
	return nil
}

// conclude turns the observations into the setting.
func (p *prober) conclude() {
	r, acct := p.res, p.res.Account
	ev := func(format string, a ...any) { r.Evidence = append(r.Evidence, fmt.Sprintf(format, a...)) }
	if r.Listed {
		ev("DescribeImageSharePermission listed %s while only the resource share reached it: this cloud lists organization-granted accounts among direct shares", acct)
		if !r.ListedAfterRemove {
			ev("after RemoveAccount %s vanished from the list although the resource share still reads Associated: the removal took the organization grant with it", acct)
		}
	} else {
		ev("DescribeImageSharePermission did not list %s while only the resource share reached it: the direct list holds direct shares only", acct)
	}
	switch {
	case !r.MemberChecked:
		ev("not observed: whether %s can still use the image after RemoveAccount (the probe cannot boot an instance, and without the member's credentials it cannot ask as the member); the answer rests on the owner's view", acct)
	case !r.AccessViaShare:
		ev("as the member, DescribeImages did not show the image through the resource share: the member's view does not reflect organization grants here, so it cannot tell whether RemoveAccount cut access")
	case r.AccessAfterRemove:
		ev("as the member, DescribeImages still showed the image after RemoveAccount: the organization grant survived the removal")
	default:
		ev("as the member, DescribeImages no longer showed the image after RemoveAccount: the removal cut the member's access although the resource share reaches it")
	}
	cut := r.MemberChecked && r.AccessViaShare && !r.AccessAfterRemove
	r.RevokeRedundant = !r.Listed && !cut
	p.say("\nResult:")
	p.say("  organization-granted accounts listed by DescribeImageSharePermission: %s", yesNo(r.Listed))
	switch {
	case r.MemberChecked && r.AccessViaShare:
		p.say("  RemoveAccount cut the member's access: %s (observed as the member)", yesNo(cut))
	case r.Listed:
		p.say("  RemoveAccount cut the member's access: presumably %s (inferred from the owner's list; not observed as the member)", yesNo(!r.ListedAfterRemove))
	default:
		p.say("  RemoveAccount cut the member's access: not observed (give the member's credentials to check)")
	}
	for _, e := range r.Evidence {
		p.say("  - %s", e)
	}
	p.say("REVOKE_REDUNDANT=%t", r.RevokeRedundant)
	if r.RevokeRedundant {
		p.say("  imageshare may revoke direct shares an organization share covers (R7); set revokeRedundant: \"true\" in s.yaml (the default).")
	} else {
		p.say("  revoking a covered direct share would cut access on this cloud: set revokeRedundant: \"false\" in s.yaml before turning DRY_RUN off.")
	}
}

// undo restores the image: re-adds the account after a removal (which may have cut an
// organization grant), takes the image and the folder out of the probe's share and deletes
// it, and only then removes the account's direct share, when no share reaches it any more.
func (p *prober) undo(ctx context.Context) {
	c, acct := p.cfg, p.res.Account
	if p.shareID == "" && !p.directAdded && !p.directRemove {
		p.res.Undone = true
		return
	}
	p.say("\nUndoing what the probe did:")
	leftover := func(format string, a ...any) { p.res.Leftovers = append(p.res.Leftovers, fmt.Sprintf(format, a...)) }
	direct := p.directAdded
	if p.directRemove {
		// A removal may have taken the organization grant with it; a direct share gives
		// the access back until the account's grants are as before.
		if err := p.retry(ctx, func() error {
			_, err := c.API.ModifyImageSharePermission(ctx, c.Region, c.Image, []string{acct}, nil)
			return err
		}); err != nil {
			leftover("image %s may have cut the organization grant of %s: share the image with it directly, then remove that share once resource share %s is gone (%v)", c.Image, acct, p.res.Share, err)
		} else {
			direct = true
			p.say("  shared directly with %s again (restores any grant the removal cut)", acct)
		}
	}
	shareGone := p.shareID == ""
	if p.shareID != "" {
		err := p.retry(ctx, func() error {
			_, err := c.API.DisassociateResourceShare(ctx, c.Region, p.shareID, []string{c.Image}, []string{c.Folder})
			return err
		})
		if err == nil {
			_, err = p.waitAssociations(ctx, "Disassociated")
		}
		if err == nil {
			p.say("  image and folder disassociated from %s", p.res.Share)
			err = p.retry(ctx, func() error {
				_, err := c.API.DeleteResourceShare(ctx, c.Region, p.shareID)
				return err
			})
		}
		if err != nil {
			leftover("resource share %s (%s) still exists: disassociate image %s and folder %s, then delete it (%v)", p.res.Share, p.shareID, c.Image, c.Folder, err)
		} else {
			shareGone = true
			p.say("  deleted resource share %s", p.res.Share)
		}
	}
	if direct {
		if !shareGone {
			leftover("image %s is still shared directly with %s: remove that share (ModifyImageSharePermission RemoveAccount) once resource share %s is gone", c.Image, acct, p.res.Share)
		} else if err := p.retry(ctx, func() error {
			_, err := c.API.ModifyImageSharePermission(ctx, c.Region, c.Image, nil, []string{acct})
			return err
		}); err != nil {
			leftover("image %s is still shared directly with %s: remove that share (%v)", c.Image, acct, err)
		} else {
			p.say("  removed the direct share with %s", acct)
		}
	}
	after, err := p.listed(ctx)
	if err != nil {
		leftover("could not read the direct shares back: %v", err)
	}
	same := err == nil && slices.Equal(after, p.before)
	if c.Member != nil {
		sees, err := p.memberSees(ctx)
		if err != nil || sees {
			same = false
			leftover("as the member, DescribeImages still shows the image (or could not be asked: %v)", err)
		}
	}
	p.res.Undone = same && len(p.res.Leftovers) == 0
	p.say("  image back as before the probe: %s (%d direct share(s))", yesNo(p.res.Undone), len(after))
	for _, l := range p.res.Leftovers {
		p.say("  LEFT TO DO: %s", l)
	}
}

// retry runs a write of the undo again while the cloud answers a retryable error
// (an association still moving answers DisassociateConflict), up to Wait.
func (p *prober) retry(ctx context.Context, call func() error) error {
	var waited time.Duration
	for {
		err := call()
		if err == nil || !cloud.Retryable(err) || waited >= p.cfg.Wait {
			return err
		}
		if serr := p.cfg.Sleep(ctx, p.cfg.Poll); serr != nil {
			return errors.Join(err, serr)
		}
		waited += p.cfg.Poll
	}
}

// associationsAre reads whether the probe share's image and folder both have status.
func (p *prober) associationsAre(ctx context.Context, status string) (bool, error) {
	ok := true
	for _, typ := range []string{cloud.AssociationResource, cloud.AssociationTarget} {
		entity := p.cfg.Image
		if typ == cloud.AssociationTarget {
			entity = p.cfg.Folder
		}
		found := ""
		for token := ""; ; {
			pg, err := p.cfg.API.ListResourceShareAssociations(ctx, p.cfg.Region, typ, token)
			if err != nil {
				return false, fmt.Errorf("list resource share associations: %w", err)
			}
			for _, a := range pg.Associations {
				if a.ShareID == p.shareID && a.EntityID == entity {
					found = a.Status
					if a.Status == "Failed" {
						return false, fmt.Errorf("the association of %s with %s failed: %s %s", entity, p.res.Share, a.FailureReason, a.Message)
					}
				}
			}
			if token = pg.NextToken; token == "" {
				break
			}
		}
		// A purged association reads as gone, which is what Disassociated means.
		if found != status && !(status == "Disassociated" && found == "") {
			ok = false
		}
	}
	return ok, nil
}

// waitAssociations polls until the probe share's associations have status.
func (p *prober) waitAssociations(ctx context.Context, status string) (time.Duration, error) {
	var waited time.Duration
	for {
		ok, err := p.associationsAre(ctx, status)
		if err != nil || ok {
			return waited, err
		}
		if waited >= p.cfg.Wait {
			return waited, fmt.Errorf("the associations of %s did not read %s within %s", p.res.Share, status, p.cfg.Wait)
		}
		if err := p.cfg.Sleep(ctx, p.cfg.Poll); err != nil {
			return waited, fmt.Errorf("waiting for %s: %w", status, err)
		}
		waited += p.cfg.Poll
	}
}
