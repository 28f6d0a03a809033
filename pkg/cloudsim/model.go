package cloudsim

import (
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
)

// The state of the emulated cloud. Everything here is guarded by Cloud.mu.

// Image statuses.
const (
	statusCreating     = "Creating"
	statusWaiting      = "Waiting"
	statusAvailable    = "Available"
	statusDeprecated   = "Deprecated"
	statusCreateFailed = "CreateFailed"
)

// Association and share statuses.
const (
	assocAssociating    = "Associating"
	assocAssociated     = "Associated"
	assocFailed         = "Failed"
	assocDisassociating = "Disassociating"
	assocDisassociated  = "Disassociated"

	shareActive   = "Active"
	shareDeleting = "Deleting"
	shareDeleted  = "Deleted"

	kindResource = "Resource"
	kindTarget   = "Target"
)

// purgeAfter is how long Failed/Disassociated associations and Deleted shares stay
// listed (the service says 48–96 h; the emulation uses the lower bound).
const purgeAfter = 48 * time.Hour

// handshakeLife is how long an invitation stays Pending.
const handshakeLife = 14 * 24 * time.Hour

type account struct {
	ID    string
	Site  string
	Roles map[string]bool
	// Membership: Folder is the root id or a folder id; "" means not a member.
	Folder      string
	JoinMethod  string // "created" | "invited"
	Type        string // "ResourceAccount" | "CloudAccount"
	DisplayName string
	JoinTime    time.Time
	ModifyTime  time.Time
	joinSeq     int
}

type directory struct {
	ID, RootID, Master string
	SharingEnabled     bool
	Created            time.Time
	// Delegated: member → the trusted services it is the delegated administrator of;
	// DelegatedAt: "member/service" → since when.
	Delegated   map[string][]string
	DelegatedAt map[string]time.Time
}

type folder struct {
	ID, Name, Parent string
	Created          time.Time
	seq              int
}

type handshake struct {
	ID, Target, Folder, Status, Note string
	Created, Modified, Expire        time.Time
	acceptAt                         time.Time // zero: nobody accepts on the cloud's side
	seq                              int
}

type image struct {
	ID, Region, Owner, Name string
	Status                  string
	ProductCode             string
	Encrypted               string // "none" | "cmk" | "service-key"
	Tags                    map[string]string
	Direct                  map[string]time.Time // account → shared time
	Blocked                 map[string]bool      // OrgGrantsListed: covered accounts removed by hand
	Created, ReadyAt        time.Time
	Copied                  bool
	// ProductRegions: where the Marketplace product of the image is published (nil: everywhere).
	ProductRegions []string
	// ListedAt: DescribeImages lists the image from then on (zero: at once); failOnReady:
	// at ReadyAt the image turns CreateFailed instead of Available.
	ListedAt    time.Time
	failOnReady bool
	seq         int
}

// failure is why an association ended Failed: the reason, its description, the
// operation, and the counterparts (ID, entity type) it failed with.
type failure struct {
	Reason, Description, Op string
	Entities                [][2]string
}

type assoc struct {
	Entity, EntityType, Kind string
	Status                   string
	External                 bool
	Created, Updated         time.Time
	due                      time.Time // when Associating/Disassociating ends
	failWith                 string    // Associating ends Failed with this reason
	Failure                  *failure
	seq                      int
}

type share struct {
	ID, Name, Owner, Region, Status string
	AllowExternal                   bool
	Created, Updated                time.Time
	due                             time.Time // Deleting → Deleted
	Resources                       map[string]*assoc
	Targets                         map[string]*assoc
	seq                             int
}

type regionState struct {
	images map[string]*image
	shares map[string]*share
}

var (
	accountRE = regexp.MustCompile(`^[0-9]{16}$`)
	folderRE  = regexp.MustCompile(`^fd-[A-Za-z0-9]{10}$`)
)

// region returns the state of a region, creating it.
func (c *Cloud) region(name string) *regionState {
	r := c.regions[name]
	if r == nil {
		r = &regionState{images: map[string]*image{}, shares: map[string]*share{}}
		c.regions[name] = r
	}
	return r
}

func (c *Cloud) nextSeq() int {
	c.seq++
	return c.seq
}

// dirOf returns the directory an account manages or belongs to.
func (c *Cloud) dirOf(acc string) *directory {
	if c.dir == nil {
		return nil
	}
	if acc == c.dir.Master {
		return c.dir
	}
	if a := c.accounts[acc]; a != nil && a.Folder != "" {
		return c.dir
	}
	return nil
}

func (c *Cloud) isMember(acc string) bool {
	a := c.accounts[acc]
	return c.dir != nil && a != nil && a.Folder != ""
}

// folderExists reports whether id is the root or a folder of the directory.
func (c *Cloud) folderExists(id string) bool {
	if c.dir == nil {
		return false
	}
	if id == c.dir.RootID {
		return true
	}
	_, ok := c.folders[id]
	return ok
}

// chain returns the folder ids from the root down to id (both included).
func (c *Cloud) chain(id string) []string {
	var up []string
	for cur := id; cur != "" && len(up) < 64; {
		up = append(up, cur)
		if c.dir != nil && cur == c.dir.RootID {
			break
		}
		f := c.folders[cur]
		if f == nil {
			break
		}
		cur = f.Parent
	}
	for i, j := 0, len(up)-1; i < j; i, j = i+1, j-1 {
		up[i], up[j] = up[j], up[i]
	}
	return up
}

// inSubtree reports whether folder f is top or below it.
func (c *Cloud) inSubtree(f, top string) bool {
	for _, id := range c.chain(f) {
		if id == top {
			return true
		}
	}
	return false
}

// path is ResourceDirectoryPath: rd/r/fd…/account.
func (c *Cloud) path(a *account) string {
	if c.dir == nil || a.Folder == "" {
		return ""
	}
	parts := append([]string{c.dir.ID}, c.chain(a.Folder)...)
	return strings.Join(append(parts, a.ID), "/")
}

// members returns the ids of the directory's members, in join order.
func (c *Cloud) members() []*account {
	var out []*account
	for _, a := range c.accounts {
		if a.Folder != "" {
			out = append(out, a)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].joinSeq != out[j].joinSeq {
			return out[i].joinSeq < out[j].joinSeq
		}
		return out[i].ID < out[j].ID
	})
	return out
}

// join makes acc a member in folder f.
func (c *Cloud) join(acc *account, f, method string, now time.Time) {
	acc.Folder = f
	acc.JoinMethod = method
	if method == "created" {
		acc.Type = "ResourceAccount"
	} else {
		acc.Type = "CloudAccount"
	}
	acc.JoinTime, acc.ModifyTime = now, now
	acc.joinSeq = c.nextSeq()
	if acc.DisplayName == "" {
		acc.DisplayName = "account-" + acc.ID // display names are unique in a directory
	}
}

// purge forgets Failed/Disassociated associations and Deleted shares 48 h after their
// last change, and expires invitations. It runs lazily before every operation, so that
// these long timers never hold a scenario's clock back.
func (c *Cloud) purge(now time.Time) {
	for _, r := range c.regions {
		for id, s := range r.shares {
			if s.Status == shareDeleted && !now.Before(s.Updated.Add(purgeAfter)) {
				delete(r.shares, id)
				continue
			}
			for _, m := range []map[string]*assoc{s.Resources, s.Targets} {
				for e, a := range m {
					if (a.Status == assocFailed || a.Status == assocDisassociated) && !now.Before(a.Updated.Add(purgeAfter)) {
						delete(m, e)
					}
				}
			}
		}
	}
	for _, h := range c.handshakes {
		if h.Status == "Pending" && now.After(h.Expire) {
			h.Status, h.Modified, h.acceptAt = "Expired", h.Expire, time.Time{}
		}
	}
}

func accountInt(id string) int64 {
	n, _ := strconv.ParseInt(id, 10, 64)
	return n
}

// Time formats of the services.
func ecsTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05Z") }
func rsTime(t time.Time) string  { return t.UTC().Format("2006-01-02T15:04:05.000Z") }
