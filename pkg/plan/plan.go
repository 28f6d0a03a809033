// Package plan turns observed state, tags and settings into a plan (rules R1-R12, docs/architecture.md): a
// value that says, per image, which accounts to share with or unshare, which managed
// resource shares to join or leave, what to record in tags, and what is refused or
// postponed — and, per managed resource share, what to create, repair or delete. The
// planner is pure: the same state gives the same plan, so most tests live here.
package plan

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"

	"imageshare/pkg/policy"
)

// Actions of R10.
const (
	ActShare        = "share"
	ActUnshare      = "unshare"
	ActAssociate    = "associate"
	ActDisassociate = "disassociate"
	ActRetain       = "retain"
	ActRefuse       = "refuse"
	ActPostpone     = "postpone"
)

// Refusal reasons (stable codes; Message carries the sentence with the remedy).
const (
	ReasonTagError          = "tag-error"
	ReasonNotAllowed        = "not-allowed"
	ReasonOwner             = "owner"
	ReasonUnknownFolder     = "unknown-folder"
	ReasonUnknownDirectory  = "unknown-directory"
	ReasonNoDirectory       = "no-directory"
	ReasonShareLimit        = "share-limit"
	ReasonManagedShareLimit = "managed-share-limit"
	ReasonImageStatus       = "image-status"
	ReasonImageWait         = "image-wait"
	ReasonAssociationFailed = "association-failed"
	ReasonRetain            = "retain-limit"
	// Copies to other regions (docs/regions.md); their subject is the region.
	ReasonCopyEncryptedNoKey = "copy-encrypted-no-key"
	ReasonCopyFailed         = "copy-failed"
	ReasonDuplicateCopy      = "duplicate-copy"
	ReasonNoDeployment       = "no-deployment"
	ReasonRegionsOnCopy      = "regions-on-copy"
	ReasonCopyLookup         = "copy-lookup"
)

// Actions about copies in other regions (docs/regions.md): a copy made, a copy's tags
// written, a copy kept that no tag asks for (or whose source is gone); and the R12
// removal of a retag that takes access away.
const (
	ActCopy  = "copy"
	ActRetag = "retag"
	ActKeep  = "keep"
)

// Refusal is one thing not done, with a remedy a person can act on.
type Refusal struct {
	Subject string `json:"subject"` // account, folder or directory ID, the bad tag token or key; "" for the whole image
	Reason  string `json:"reason"`
	Message string `json:"message"`
}

// Unshare is one direct share to revoke.
type Unshare struct {
	Account string `json:"account"`
	Why     string `json:"why"` // "redundant" (covered), "untagged" (exact mode), "refused" (R3)
	Via     string `json:"via,omitempty"`
}

// Why values of Unshare.
const (
	WhyRedundant = "redundant"
	WhyUntagged  = "untagged"
	WhyRefused   = "refused"
)

// Removal is one R12 removal: a direct share to revoke (Action unshare, Subject the
// account, Why untagged or refused) or a managed resource share to leave (Action
// disassociate, Subject the share's name).
type Removal struct {
	Action  string `json:"action"`
	Subject string `json:"subject"`
	Why     string `json:"why,omitempty"`
	ShareID string `json:"shareId,omitempty"`
}

// Keys lists the subjects of removals, which is what a confirming job carries.
func Keys(rs []Removal) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.Subject
	}
	return out
}

// Fingerprint is SPEC R12's fingerprint of a look at an image's tags: the keys equal to
// prefix or under "prefix:", with their values, byte-exact, as sorted key=value lines,
// hashed with sha256 (hex) so that a job carries it in 64 characters.
func Fingerprint(prefix string, tags map[string]string) string {
	var lines []string
	for k, v := range tags {
		if k == prefix || strings.HasPrefix(k, prefix+":") {
			lines = append(lines, k+"="+v+"\n")
		}
	}
	sort.Strings(lines)
	sum := sha256.Sum256([]byte(strings.Join(lines, "")))
	return hex.EncodeToString(sum[:])
}

// ShareRef names a resource share.
type ShareRef struct {
	ID   string `json:"id,omitempty"` // empty for a share this plan creates
	Name string `json:"name"`
	// Merge: leaving a duplicate of the share the image stays in (same name, R4), which
	// takes no access away, so it is done even when the run's other writes for the image
	// were refused.
	Merge bool `json:"merge,omitempty"`
}

// Retain is R8: tags that record direct shares before they are revoked.
type Retain struct {
	Tags     map[string]string `json:"tags"`
	Accounts []string          `json:"accounts"` // revoke only those a read-back shows recorded
}

// ImagePlan is what to do with one image.
type ImagePlan struct {
	Image       string      `json:"image"`
	Managed     bool        `json:"managed"`
	Mode        policy.Mode `json:"mode,omitempty"`
	ProductCode string      `json:"productCode,omitempty"`
	// Share lists accounts to add, in tag order; Unshare the ones to remove.
	Share   []string  `json:"share,omitempty"`
	Unshare []Unshare `json:"unshare,omitempty"`
	// Deferred lists wanted accounts not shared directly because organization coverage
	// on its way (an association Associating or started by this plan) will reach them.
	// They are shared directly only if this run's Resource Sharing writes for the image
	// are refused, so that a refused organization share does not leave them without
	// access; otherwise a re-check finds them covered.
	Deferred []string `json:"deferred,omitempty"`
	// Reassert lists wanted accounts the share list already shows that a share or
	// target this plan removes also reaches: they are added again before the removal,
	// in case the listed entry is the organization grant itself (R7's listing clouds).
	Reassert []string `json:"reassert,omitempty"`
	// Associate: managed shares (by name) to join; Disassociate: shares to leave, done
	// only after every add of the run (make before break).
	Associate    []ShareRef `json:"associate,omitempty"`
	Disassociate []ShareRef `json:"disassociate,omitempty"`
	Retain       *Retain    `json:"retain,omitempty"`
	// Fingerprint identifies the image's tags as this look saw them (SPEC R12): sha256
	// of its prefix keys and values as sorted key=value lines. Set for managed images.
	Fingerprint string `json:"fingerprint,omitempty"`
	// Confirm lists the R12 removals this look found and does not do: access that
	// follows from the tags is taken away only on a second look SETTLE_DELAY later that
	// finds the same fingerprint ("awaiting confirmation").
	Confirm []Removal `json:"confirm,omitempty"`
	// Confirmed lists the R12 removals this plan does (in Unshare or Disassociate)
	// because an earlier look with the same fingerprint carried them.
	Confirmed []string `json:"confirmed,omitempty"`
	// Held lists confirmed leaves that make-before-break still holds back: the chain's
	// re-checks carry them, and the first run that finds them unblocked with the same
	// fingerprint does them.
	Held     []string  `json:"held,omitempty"`
	Refusals []Refusal `json:"refusals,omitempty"`
	// Copies are the writes to the image's copies in other regions (docs/regions.md).
	Copies []CopyOp `json:"copies,omitempty"`
	// Keep reports copies kept although nothing asks for them: for a copy, that its
	// source is gone.
	Keep []Refusal `json:"keep,omitempty"`
	// AskSource: the image is a copy whose tags are not what its source asks for; its
	// source's deployment is asked to look (a job for the source).
	AskSource *SourceAsk `json:"askSource,omitempty"`
	// Postpone > 0: the image is not Available yet; look again after this long.
	Postpone time.Duration `json:"postpone,omitempty"`
	// Recheck: an association of the image is in transition or changed by this plan, so
	// a delayed re-check must follow until every association is final.
	Recheck bool `json:"recheck,omitempty"`
}

// CopyOp is one write to the copy of an image in another region: a copy to make
// (Op ActCopy, with every tag it carries) or the tags of a copy to write (Op ActRetag:
// Set added or overwritten, Unset removed; Withdrawn when the region is no longer asked
// for).
type CopyOp struct {
	Op        string            `json:"op"`
	Region    string            `json:"region"`
	Copy      string            `json:"copy,omitempty"` // the copy retagged
	Tags      map[string]string `json:"tags,omitempty"` // ActCopy: the copy's tags; ActRetag: the keys to set
	Unset     []string          `json:"unset,omitempty"`
	KMSKeyID  string            `json:"kmsKeyId,omitempty"`
	Token     string            `json:"token,omitempty"`
	Withdrawn bool              `json:"withdrawn,omitempty"`
}

// SourceAsk names a copy's source and the copy's region, for a job that asks the
// source's deployment to look there.
type SourceAsk struct {
	Region string `json:"region"` // the source's region
	Image  string `json:"image"`
	Copy   string `json:"copy"` // the copy's region
}

// Share operations on managed resource shares.
const (
	OpCreate        = "create"         // CreateResourceShare with Targets and Resources
	OpAddTargets    = "add-targets"    // AssociateResourceShare Targets
	OpRemoveTargets = "remove-targets" // DisassociateResourceShare Targets (after every add)
	OpSetInternal   = "set-internal"   // UpdateResourceShare AllowExternalTargets=false
	OpDelete        = "delete"         // DeleteResourceShare (an empty duplicate)
)

// ShareOp is one change to a managed resource share.
type ShareOp struct {
	Op        string   `json:"op"`
	Share     ShareRef `json:"share"`
	Targets   []string `json:"targets,omitempty"`
	Resources []string `json:"resources,omitempty"`
}

// Plan is the whole decision of one run in one region.
type Plan struct {
	Region string      `json:"region"`
	Shares []ShareOp   `json:"shares,omitempty"`
	Images []ImagePlan `json:"images"`
}

// Writes reports whether the plan calls any write API.
func (p *Plan) Writes() bool {
	if len(p.Shares) > 0 {
		return true
	}
	for _, ip := range p.Images {
		if ip.Writes() {
			return true
		}
	}
	return false
}

// Writes reports whether the image plan calls any write API.
func (ip *ImagePlan) Writes() bool {
	return len(ip.Share) > 0 || len(ip.Unshare) > 0 || len(ip.Associate) > 0 || len(ip.Disassociate) > 0 || ip.Retain != nil ||
		len(ip.Reassert) > 0 || len(ip.Copies) > 0
}

// Image returns the plan of one image, if any.
func (p *Plan) Image(id string) *ImagePlan {
	for i := range p.Images {
		if p.Images[i].Image == id {
			return &p.Images[i]
		}
	}
	return nil
}

// String prints the plan one change per line, for people and for diffs.
func (p *Plan) String() string {
	var b strings.Builder
	for _, op := range p.Shares {
		fmt.Fprintf(&b, "share %s: %s", op.Share.Name, op.Op)
		if len(op.Targets) > 0 {
			fmt.Fprintf(&b, " targets=%s", strings.Join(op.Targets, ","))
		}
		if len(op.Resources) > 0 {
			fmt.Fprintf(&b, " resources=%s", strings.Join(op.Resources, ","))
		}
		b.WriteByte('\n')
	}
	for _, ip := range p.Images {
		for _, a := range ip.Share {
			fmt.Fprintf(&b, "%s: share %s\n", ip.Image, a)
		}
		for _, u := range ip.Unshare {
			fmt.Fprintf(&b, "%s: unshare %s (%s%s)\n", ip.Image, u.Account, u.Why, prefixed(" via ", u.Via))
		}
		for _, a := range ip.Reassert {
			fmt.Fprintf(&b, "%s: reassert %s (before leaving a share that reaches it)\n", ip.Image, a)
		}
		for _, a := range ip.Deferred {
			fmt.Fprintf(&b, "%s: deferred %s (coverage on its way)\n", ip.Image, a)
		}
		for _, s := range ip.Associate {
			fmt.Fprintf(&b, "%s: associate %s\n", ip.Image, s.Name)
		}
		for _, s := range ip.Disassociate {
			fmt.Fprintf(&b, "%s: disassociate %s\n", ip.Image, s.Name)
		}
		for _, r := range ip.Confirm {
			fmt.Fprintf(&b, "%s: %s %s awaiting confirmation (%s)\n", ip.Image, r.Action, r.Subject, orWhy(r))
		}
		for _, k := range ip.Confirmed {
			fmt.Fprintf(&b, "%s: confirmed %s\n", ip.Image, k)
		}
		for _, k := range ip.Held {
			fmt.Fprintf(&b, "%s: confirmed %s, held back by make before break\n", ip.Image, k)
		}
		if ip.Retain != nil {
			keys := make([]string, 0, len(ip.Retain.Tags))
			for k := range ip.Retain.Tags {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				fmt.Fprintf(&b, "%s: retain %s=%s\n", ip.Image, k, ip.Retain.Tags[k])
			}
		}
		for _, r := range ip.Refusals {
			fmt.Fprintf(&b, "%s: refuse %q %s: %s\n", ip.Image, r.Subject, r.Reason, r.Message)
		}
		for _, op := range ip.Copies {
			switch op.Op {
			case ActCopy:
				fmt.Fprintf(&b, "%s: copy to %s\n", ip.Image, op.Region)
			default:
				what := "retag"
				if op.Withdrawn {
					what = "withdraw"
				}
				fmt.Fprintf(&b, "%s: %s copy %s in %s", ip.Image, what, op.Copy, op.Region)
				for _, k := range slices.Sorted(maps.Keys(op.Tags)) {
					fmt.Fprintf(&b, " %s=%s", k, op.Tags[k])
				}
				for _, k := range op.Unset {
					fmt.Fprintf(&b, " -%s", k)
				}
				b.WriteByte('\n')
			}
		}
		for _, k := range ip.Keep {
			fmt.Fprintf(&b, "%s: keep %q %s: %s\n", ip.Image, k.Subject, k.Reason, k.Message)
		}
		if a := ip.AskSource; a != nil {
			fmt.Fprintf(&b, "%s: ask the deployment of %s to look at source %s for %s\n", ip.Image, a.Region, a.Image, a.Copy)
		}
		if ip.Postpone > 0 {
			fmt.Fprintf(&b, "%s: postpone %s\n", ip.Image, ip.Postpone)
		}
		if ip.Recheck {
			fmt.Fprintf(&b, "%s: recheck\n", ip.Image)
		}
	}
	return b.String()
}

func orWhy(r Removal) string {
	if r.Why != "" {
		return r.Why
	}
	return "no longer asked for by the tags"
}

func prefixed(p, s string) string {
	if s == "" {
		return ""
	}
	return p + s
}

// ManagedPrefix starts the name of every resource share the functions own.
const ManagedPrefix = "imageshare-"

var managedNameRE = regexp.MustCompile(`^imageshare-[0-9a-f]{32}$`)

// IsManagedName reports whether a resource share name is one the functions own.
func IsManagedName(name string) bool { return managedNameRE.MatchString(name) }

// ShareName is the name of the managed share for a normalized target set: the prefix
// and the first 32 hex digits of sha256 of the sorted IDs joined by commas.
func ShareName(targets []string) string {
	s := append([]string(nil), targets...)
	sort.Strings(s)
	sum := sha256.Sum256([]byte(strings.Join(s, ",")))
	return ManagedPrefix + hex.EncodeToString(sum[:])[:32]
}
