// Package scenario reads and writes sandbox scenarios (docs/scenarios.md).
//
// Every scalar is read as its source text, so IDs stay strings: an unquoted 16-digit
// account ID, `off`, `on`, `yes` and `no` are never turned into numbers or booleans.
// Fields that are booleans in the format (sharing_enabled, cloud.*) accept only
// `true` and `false`.
//
// A field left out of the file is nil (lists, maps, optional structs) or its default;
// a field written empty (`[]`, `{}`) is an empty non-nil value. Marshal keeps that
// distinction, so Marshal then Parse gives back an equal Scenario (except Step.Line).
package scenario

import (
	"encoding/json"
	"fmt"
	"time"
)

// Error is a problem in a scenario file, with the line it is on.
type Error struct {
	File string
	Line int
	Msg  string
}

func (e *Error) Error() string { return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg) }

// Scenario is one parsed scenario file.
type Scenario struct {
	Region string
	// Owner owns the images, manages the directory and runs the functions.
	Owner string
	// Directory is nil when the owner has no resource directory.
	Directory *Directory
	// Outside lists real accounts that are not members (site china).
	Outside []string
	// Settings override the functions' environment; values are the source text.
	Settings map[string]string
	// Roles are the RAM roles the owner has.
	Roles []string
	// Deny lists RAM actions the functions' role is explicitly denied (on every
	// resource, beside the deployment's policy), e.g. "ecs:TagResources".
	Deny   []string
	Cloud  Cloud
	Faults Faults
	// KMSKeys: per region, the customer-managed KMS keys that exist there (a copy of an
	// encrypted image is encrypted with one; docs/regions.md).
	KMSKeys map[string][]string
	// CopyFails (cloud.copy_fails in the file; kept out of Cloud so that Cloud stays
	// comparable): per region, how many of the next copies made there end CreateFailed.
	CopyFails      map[string]int
	Images         []Image
	ResourceShares []ResourceShare
	Steps          []Step
	Expect         Expect
}

// Directory is the owner's Resource Directory.
type Directory struct {
	ID   string // rd-…
	Root string // r-…
	// Management is the directory's management account (default: the owner). When it is
	// another account, the owner is a member at the root (unless Accounts lists it) and
	// the delegated administrator that may read the directory, and the directory steps
	// are the management account's writes.
	Management string
	// SharingEnabled: EnableSharingWithResourceDirectory was done (default true).
	SharingEnabled bool
	Folders        []Folder
	Accounts       []Account
}

// Folder is a folder of the directory; Parent is a folder ID or the root ID.
type Folder struct {
	ID, Name, Parent string
}

// Account is a member; Folder is a folder ID or the root ID (default the root).
type Account struct {
	ID     string
	Folder string
	Site   string // "china" (default) or "intl"
}

// Cloud models how the cloud behaves.
type Cloud struct {
	// OrgEvents: Resource Directory API calls reach the owner's bus (default true).
	OrgEvents bool
	// OrgGrantsListed: accounts reached through Resource Sharing also appear in
	// DescribeImageSharePermission (default false).
	OrgGrantsListed bool
	// LookupDelay: ActionTrail's LookupEvents lists a global event (a Resource Directory
	// write) this long after it happened (default 0).
	LookupDelay time.Duration
	// CopyReadyAfter: a CopyImage copy turns Available (or CreateFailed) this long after
	// it is made (0: DefaultCopyReadyAfter).
	CopyReadyAfter time.Duration
	// CopyListDelay: DescribeImages lists a copy only this long after it is made (0: at once).
	CopyListDelay time.Duration
}

// MaxLookupDelay bounds cloud.lookup_delay: ActionTrail keeps 90 days of events, and a
// delay beyond a day says nothing a day does not.
const MaxLookupDelay = 24 * time.Hour

// Faults are injected into the functions' calls.
type Faults struct {
	Seed                        int64
	Throttle, ServerError, Kill float64
}

// Image is an image present at the start.
type Image struct {
	ID          string
	Status      string // default "Available"
	Owner       string // "self" (default) or "others"
	ProductCode string // non-empty: built from a Marketplace image
	Encrypted   string // "none" (default), "cmk" or "service-key"
	Tags        map[string]string
	SharedWith  []string // direct shares present at the start
	// Region is where the image is ("": the scenario's region).
	Region string
	// ProductRegions: where the Marketplace product of the image is published (nil:
	// every region); a copy elsewhere is refused by the cloud.
	ProductRegions []string
}

// ResourceShare is a share made by people, present at the start.
type ResourceShare struct {
	Name    string
	Targets []string
	Images  []string
}

// Expect holds what must be true at the end.
type Expect struct {
	Images map[string]ExpectImage
	// Copies: per source image and region, what must be true of its copies there
	// (docs/regions.md).
	Copies   map[string]map[string]ExpectCopy
	Refusals []ExpectRefusal
	// NoOtherRefusals (`no_other_refusals: true`): every refusal the run reported must
	// match one of Refusals, so an unexpected refusal fails the scenario.
	NoOtherRefusals bool
}

// ExpectImage: a nil field is not checked.
type ExpectImage struct {
	Direct       *[]string         // exact set of direct shares
	Organization *[]string         // exact set of Associated targets of shares holding the image
	Tags         map[string]string // these tags must be present
}

// ExpectCopy is what must be true of the copies of one source in one region. Count is
// the number of the owner's images there whose origin key names the source (nil: not
// checked); the other fields are about the live copy (the newest one that is not
// CreateFailed), which must exist when any of them is given.
type ExpectCopy struct {
	Count  *int
	Status string
	ExpectImage
}

// ExpectRefusal must be among the run's refusals: same image and subject, and, when
// Reason is not empty, the same reason.
type ExpectRefusal struct {
	Image, Subject, Reason string
}

// Matches reports whether a refusal of image about subject for reason is this one.
func (r ExpectRefusal) Matches(image, subject, reason string) bool {
	return r.Image == image && r.Subject == subject && (r.Reason == "" || r.Reason == reason)
}

// Step is one step: exactly one of the kind fields is set (non-nil, non-empty or
// positive). Line is where it starts.
type Step struct {
	Line int

	TagImage      *TagImage
	UntagImage    *UntagImage
	CreateImage   *CreateImage
	DeleteImage   *DeleteImage
	ShareImage    *ShareImage
	CreateAccount *CreateAccount
	InviteAccount *InviteAccount
	MoveAccount   *MoveAccount
	RemoveAccount *RemoveAccount
	OrgShare      *OrgShare
	// Events is "on" or "off" ("" when the step is another kind).
	Events string
	// Event is the CloudEvent as compact JSON, keys in file order. YAML scalars become
	// JSON strings (numbers too: `eventVersion: 1` gives "1"), except unquoted
	// true/false (booleans) and unquoted null, ~ or an empty value (null).
	Event json.RawMessage
	// Advance is positive for an advance step.
	Advance time.Duration
	// Together holds at least one step; it never holds another Together.
	Together []Step
	// Wait is positive for a wait step, which appears only inside Together.
	Wait time.Duration
}

// TagImage is TagResources: keys added or overwritten.
type TagImage struct {
	Image string
	Tags  map[string]string
}

// UntagImage is UntagResources.
type UntagImage struct {
	Image string
	Keys  []string
}

// CreateImage: the image appears Creating and becomes Available after ReadyAfter.
type CreateImage struct {
	Image      string
	Tags       map[string]string
	ReadyAfter time.Duration // default 1m
}

// DeleteImage removes the image with its shares and associations.
type DeleteImage struct {
	Image string
}

// ShareImage is a person's ModifyImageSharePermission (at most 10 each).
type ShareImage struct {
	Image       string
	Add, Remove []string
}

// CreateAccount is CreateResourceAccount in a folder (or the root).
type CreateAccount struct {
	Account, Folder string
}

// InviteAccount invites an outside account; it accepts after AcceptAfter.
type InviteAccount struct {
	Account, Folder string
	AcceptAfter     time.Duration // default 1m
}

// MoveAccount is MoveAccount to a folder or the root.
type MoveAccount struct {
	Account, To string
}

// RemoveAccount is RemoveCloudAccount.
type RemoveAccount struct {
	Account string
}

// OrgShare edits (or creates) a hand-made resource share.
type OrgShare struct {
	Name                      string
	AddImages, RemoveImages   []string
	AddTargets, RemoveTargets []string
}

// Kind is the step's name in the file ("tag_image", …), "" for an empty Step.
func (s *Step) Kind() string {
	switch {
	case s.TagImage != nil:
		return "tag_image"
	case s.UntagImage != nil:
		return "untag_image"
	case s.CreateImage != nil:
		return "create_image"
	case s.DeleteImage != nil:
		return "delete_image"
	case s.ShareImage != nil:
		return "share_image"
	case s.CreateAccount != nil:
		return "create_account"
	case s.InviteAccount != nil:
		return "invite_account"
	case s.MoveAccount != nil:
		return "move_account"
	case s.RemoveAccount != nil:
		return "remove_account"
	case s.OrgShare != nil:
		return "org_share"
	case s.Events != "":
		return "events"
	case s.Event != nil:
		return "event"
	case s.Advance > 0:
		return "advance"
	case s.Together != nil:
		return "together"
	case s.Wait > 0:
		return "wait"
	}
	return ""
}

// Defaults.
const (
	DefaultReadyAfter     = time.Minute
	DefaultAcceptAfter    = time.Minute
	DefaultCopyReadyAfter = 5 * time.Minute
)

// Enumerations of the format.
var (
	Statuses   = []string{"Creating", "Waiting", "Available", "CreateFailed", "UnAvailable", "Deprecated"}
	Owners     = []string{"self", "others"}
	Encryption = []string{"none", "cmk", "service-key"}
	Sites      = []string{"china", "intl"}
)
