package cloudsim

import (
	"fmt"
	"maps"
	"slices"
	"sort"
	"sync"
	"time"

	"imageshare/pkg/cloudsim/emu"
	"imageshare/pkg/cloudsim/ram"
)

// Config configures the emulated RPC cloud (ECS, ResourceManager, ResourceSharing).
type Config struct {
	Clock  *emu.Clock
	Keys   *emu.Keyring
	Faults *emu.FaultPlan // nil: no faults
	// RAM holds the roles, users and policies every call by a RAM user or an assumed
	// role is evaluated against (nil: an empty store, where such callers hold nothing).
	// Share it with the emulated MNS, as the real RAM serves every product.
	RAM *emu.RAMStore
	// FunctionRole: calls by an assumed-role with this RoleName are the functions':
	// faults apply only to them, and their writes are tracked.
	FunctionRole string
	// OrgGrantsListed: accounts reached through Resource Sharing appear in
	// DescribeImageSharePermission, and removing one there cuts its access.
	OrgGrantsListed bool
	// AssociationDelay: Associating→Associated, Disassociating→Disassociated and
	// Deleting→Deleted take this long (default 20s).
	AssociationDelay time.Duration
	// ImageReadyAfter: CreateImage/CopyImage images turn Available after this (default 1m).
	ImageReadyAfter time.Duration
	// ShareQuotaPerImage: direct shares per image (default 50).
	ShareQuotaPerImage int
	// MaxResourceShares: per account and region (default 1000).
	MaxResourceShares int
	// MaxSharedResources: per account and region (default 1000).
	MaxSharedResources int
	// Latency is slept (real time) in every call, for benchmarks (default 0).
	Latency time.Duration
	// QPS limits each Action (real-time token bucket); over it: Throttling.User.
	QPS map[string]float64
	// TrackAccess: record access before/after every write by the functions.
	TrackAccess bool
	// DeprecatedFailureFields: AssociationFailedDetails also carry the deprecated
	// Status, StatusMessage and AssociateType beside FailureReason, FailureDescription
	// and OperationType (default: only the current names).
	DeprecatedFailureFields bool
	// Services are further products served through the same wire and dispatcher, each
	// on an endpoint of its own (service.go).
	Services []emu.Service
	// Trail, when set, gets the ActionTrail record of every write (a person's or the
	// functions', failed ones with their errorCode), in the writer's account: package
	// cloudsim/actiontrail keeps them for LookupEvents.
	Trail Recorder

	// Copies (CopyImage, copies.go).
	// Regions are the region IDs the cloud has; a CopyImage to another destination is
	// answered DestinationRegion.NotFound (default KnownRegions).
	Regions []string
	// CopyReadyAfter: a copy turns Available (or CreateFailed) this long after CopyImage
	// (default ImageReadyAfter).
	CopyReadyAfter time.Duration
	// CopyFails: per destination region, how many of the next copies there end
	// CreateFailed instead of Available.
	CopyFails map[string]int
	// CopyListDelay: DescribeImages lists a copy only this long after CopyImage made it
	// (default 0: at once).
	CopyListDelay time.Duration
	// KMSKeys: per region, the customer-managed KMS keys that exist there.
	KMSKeys map[string][]string
	// ImageQuota: custom images an account may hold per region (0: not limited).
	ImageQuota int
}

// Recorder keeps ActionTrail records (package cloudsim/actiontrail's Trail).
type Recorder interface {
	Record(account string, data map[string]any)
}

// Cloud is the emulated RPC cloud. All methods are safe for concurrent use.
type Cloud struct {
	cfg      Config
	clock    *emu.Clock
	services map[string]emu.Service // by product

	mu         sync.Mutex
	seq        int
	accounts   map[string]*account
	dir        *directory
	folders    map[string]*folder
	handshakes []*handshake
	regions    map[string]*regionState
	calls      []CallRecord
	callSeq    int
	unlisted   []string

	hookMu  sync.RWMutex
	onWrite []func(WriteRecord)
	onEvent []func(Event)
	onKill  []func(emu.Identity)

	nonceMu sync.Mutex
	nonces  map[string]time.Time

	qpsMu   sync.Mutex
	buckets map[string]*bucket

	// copies: how many copies of a source each destination got (source/region), for
	// deterministic copy IDs; tokens: CopyImage's ClientTokens by account and token.
	copies map[string]int
	tokens map[string]copyToken
}

// New returns an empty cloud.
func New(cfg Config) *Cloud {
	if cfg.Clock == nil {
		cfg.Clock = emu.NewClock(emu.Epoch)
	}
	if cfg.Keys == nil {
		cfg.Keys = emu.NewKeyring()
	}
	if cfg.RAM == nil {
		cfg.RAM = ram.NewStore()
	}
	if cfg.AssociationDelay <= 0 {
		cfg.AssociationDelay = 20 * time.Second
	}
	if cfg.ImageReadyAfter <= 0 {
		cfg.ImageReadyAfter = time.Minute
	}
	if cfg.CopyReadyAfter <= 0 {
		cfg.CopyReadyAfter = cfg.ImageReadyAfter
	}
	if cfg.Regions == nil {
		cfg.Regions = KnownRegions
	}
	cfg.CopyFails = maps.Clone(cfg.CopyFails)
	if cfg.ShareQuotaPerImage <= 0 {
		cfg.ShareQuotaPerImage = 50
	}
	if cfg.MaxResourceShares <= 0 {
		cfg.MaxResourceShares = 1000
	}
	if cfg.MaxSharedResources <= 0 {
		cfg.MaxSharedResources = 1000
	}
	services := map[string]emu.Service{}
	for _, s := range cfg.Services {
		if _, builtin := versions[s.Product()]; builtin || services[s.Product()] != nil {
			panic("cloudsim: product " + s.Product() + " is served twice") // a programming error
		}
		services[s.Product()] = s
	}
	return &Cloud{
		cfg:      cfg,
		clock:    cfg.Clock,
		services: services,
		accounts: map[string]*account{},
		folders:  map[string]*folder{},
		regions:  map[string]*regionState{},
		nonces:   map[string]time.Time{},
		buckets:  map[string]*bucket{},
		copies:   map[string]int{},
		tokens:   map[string]copyToken{},
	}
}

// ---- Setup (no events, no records) ----

// DirectorySpec describes the Resource Directory of the cloud (there is at most one).
type DirectorySpec struct {
	ID             string // rd-…
	RootID         string // r-…
	Master         string // the management account
	SharingEnabled bool   // EnableSharingWithResourceDirectory done
}

// AddAccount adds a real account; site is "china" or "intl".
func (c *Cloud) AddAccount(id, site string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if site == "" {
		site = "china"
	}
	if a := c.accounts[id]; a != nil {
		a.Site = site
		return
	}
	c.accounts[id] = &account{ID: id, Site: site, Roles: map[string]bool{}}
}

// SetDirectory creates the Resource Directory; the management account is a member in
// the root, as in the real service.
func (c *Cloud) SetDirectory(d DirectorySpec) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.clock.Now()
	c.dir = &directory{ID: d.ID, RootID: d.RootID, Master: d.Master, SharingEnabled: d.SharingEnabled, Created: now}
	m := c.accountLocked(d.Master)
	if m.Folder == "" {
		c.join(m, d.RootID, "invited", now)
	}
}

// AddFolder adds a folder under parent (a folder id or the root id).
func (c *Cloud) AddFolder(id, name, parent string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.folders[id] = &folder{ID: id, Name: name, Parent: parent, Created: c.clock.Now(), seq: c.nextSeq()}
}

// AddMember makes account a member in folder (joined as created); an account that is
// a member already (the management account, which SetDirectory puts in the root) is
// moved there and keeps how it joined.
func (c *Cloud) AddMember(acc, folder string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	a := c.accountLocked(acc)
	if a.Folder != "" {
		a.Folder, a.ModifyTime = folder, c.clock.Now()
		return
	}
	c.join(a, folder, "created", c.clock.Now())
}

// RegisterDelegatedAdministrator makes a member the delegated administrator of a
// trusted service, as the management account's RegisterDelegatedAdministrator does: it
// may then read the directory.
func (c *Cloud) RegisterDelegatedAdministrator(acc, service string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case c.dir == nil:
		return fmt.Errorf("no resource directory")
	case acc == c.dir.Master:
		return fmt.Errorf("%s is the management account", acc)
	case !c.isMember(acc):
		return fmt.Errorf("%s is not a member of the directory", acc)
	}
	if !slices.Contains(c.dir.Delegated[acc], service) {
		c.delegateLocked(c.dir, acc, service, c.clock.Now())
	}
	return nil
}

// AddRole records that a RAM role exists in account.
func (c *Cloud) AddRole(acc, role string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.accountLocked(acc).Roles[role] = true
}

// RAM returns the RAM store the cloud evaluates calls against.
func (c *Cloud) RAM() *emu.RAMStore { return c.cfg.RAM }

// ImageSpec describes an image put in place by Setup.
type ImageSpec struct {
	ID, Name    string
	Owner       string // account
	Status      string // default Available
	ProductCode string
	Encrypted   string // "none" (default) | "cmk" | "service-key"
	Tags        map[string]string
	SharedWith  []string
	Created     time.Time // default now
	ReadyAt     time.Time // Creating/Waiting images turn Available then (zero: never)
	// ProductRegions: for an image built from a Marketplace image, the regions its
	// product is published in (nil: every region); CopyImage elsewhere is refused.
	ProductRegions []string
}

// PutImage puts an image in a region (replacing one of the same id).
func (c *Cloud) PutImage(region string, im ImageSpec) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.clock.Now()
	x := &image{ID: im.ID, Region: region, Owner: im.Owner, Name: im.Name, Status: im.Status, ProductCode: im.ProductCode,
		Encrypted: im.Encrypted, Tags: maps.Clone(im.Tags), Direct: map[string]time.Time{}, Blocked: map[string]bool{},
		Created: im.Created, ReadyAt: im.ReadyAt, ProductRegions: slices.Clone(im.ProductRegions), seq: c.nextSeq()}
	if x.Status == "" {
		x.Status = statusAvailable
	}
	if x.Encrypted == "" {
		x.Encrypted = "none"
	}
	if x.Tags == nil {
		x.Tags = map[string]string{}
	}
	if x.Created.IsZero() {
		x.Created = now
	}
	if x.Name == "" {
		x.Name = x.ID
	}
	for _, a := range im.SharedWith {
		x.Direct[a] = now
	}
	c.region(region).images[im.ID] = x
}

// PutResourceShare adds a hand-made resource share whose images and targets are
// already Associated, and returns its id.
func (c *Cloud) PutResourceShare(region, owner, name string, targets, images []string) string {
	return c.PutResourceShareAt(region, owner, name, targets, images, time.Time{})
}

// PutResourceShareAt is PutResourceShare with the share's creation time (zero: now),
// so that shares present at the start, which may share a name, are ordered by age as
// the cloud lists them (CreateTime).
func (c *Cloud) PutResourceShareAt(region, owner, name string, targets, images []string, created time.Time) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.clock.Now()
	s := c.newShareLocked(region, owner, name, false, now)
	if !created.IsZero() {
		s.Created, s.Updated = created, created
	}
	for _, im := range images {
		s.Resources[im] = &assoc{Entity: im, EntityType: "Image", Kind: kindResource, Status: assocAssociated, Created: now, Updated: now, seq: c.nextSeq()}
	}
	for _, t := range targets {
		s.Targets[t] = &assoc{Entity: t, EntityType: targetType(t), Kind: kindTarget, Status: assocAssociated, Created: now, Updated: now,
			External: c.external(s, t), seq: c.nextSeq()}
	}
	return s.ID
}

func (c *Cloud) newShareLocked(region, owner, name string, allowExternal bool, now time.Time) *share {
	s := &share{ID: "rs-" + randomAlnum(10), Name: name, Owner: owner, Region: region, Status: shareActive,
		AllowExternal: allowExternal, Created: now, Updated: now, Resources: map[string]*assoc{}, Targets: map[string]*assoc{}, seq: c.nextSeq()}
	c.region(region).shares[s.ID] = s
	return s
}

func (c *Cloud) accountLocked(id string) *account {
	a := c.accounts[id]
	if a == nil {
		a = &account{ID: id, Site: "china", Roles: map[string]bool{}}
		c.accounts[id] = a
	}
	return a
}

// ---- Hooks ----

// WriteRecord is one applied write by the functions, with the access to images just
// before and just after it.
type WriteRecord struct {
	Seq       int
	Time      time.Time
	Action    string
	RequestID string
	Region    string
	Params    map[string]string
	Caller    emu.Identity
	// Before, After: image → accounts with access.
	Before, After map[string]map[string]bool
	// DirectBefore, DirectAfter: image → number of direct shares right before and
	// right after the write, taken under the same lock, so that concurrent writers
	// cannot hide a transient excess.
	DirectBefore, DirectAfter map[string]int
}

// Event is one CloudEvent put on an account's event bus.
type Event struct {
	Bus  string // account whose event bus receives it
	Body []byte // CloudEvent JSON
}

// OnWrite registers f, called for every applied write by the functions when
// TrackAccess is on (outside locks).
func (c *Cloud) OnWrite(f func(WriteRecord)) {
	c.hookMu.Lock()
	defer c.hookMu.Unlock()
	c.onWrite = append(c.onWrite, f)
}

// OnEvent registers f, called (outside locks) for every event the cloud emits.
func (c *Cloud) OnEvent(f func(Event)) {
	c.hookMu.Lock()
	defer c.hookMu.Unlock()
	c.onEvent = append(c.onEvent, f)
}

// OnKill registers f, called (outside locks) when a kill fault hits a call, before the
// connection is aborted.
func (c *Cloud) OnKill(f func(caller emu.Identity)) {
	c.hookMu.Lock()
	defer c.hookMu.Unlock()
	c.onKill = append(c.onKill, f)
}

func (c *Cloud) dispatch(evs []Event, writes []WriteRecord) {
	if len(evs) == 0 && len(writes) == 0 {
		return
	}
	c.hookMu.RLock()
	onEvent, onWrite := slices.Clone(c.onEvent), slices.Clone(c.onWrite)
	c.hookMu.RUnlock()
	for _, w := range writes {
		for _, f := range onWrite {
			f(w)
		}
	}
	for _, e := range evs {
		for _, f := range onEvent {
			f(e)
		}
	}
}

// ---- Time ----

// due is one pending cloud-side transition.
type due struct {
	at    time.Time
	seq   int
	apply func(now time.Time) []Event
	// accept: a handshake the invitee accepts (done through the dispatcher).
	accept *handshake
}

// nextDueLocked finds the earliest pending transition.
func (c *Cloud) nextDueLocked() (due, bool) {
	var best due
	found := false
	consider := func(d due) {
		if !found || d.at.Before(best.at) || (d.at.Equal(best.at) && d.seq < best.seq) {
			best, found = d, true
		}
	}
	for _, rn := range slices.Sorted(maps.Keys(c.regions)) {
		r := c.regions[rn]
		for _, im := range r.images {
			if (im.Status == statusCreating || im.Status == statusWaiting) && !im.ReadyAt.IsZero() {
				consider(due{at: im.ReadyAt, seq: im.seq, apply: func(time.Time) []Event {
					im.Status = statusAvailable
					if im.failOnReady {
						im.Status = statusCreateFailed
					}
					return nil
				}})
			}
		}
		for _, s := range r.shares {
			if s.Status == shareDeleting && !s.due.IsZero() {
				consider(due{at: s.due, seq: s.seq, apply: func(now time.Time) []Event {
					s.Status, s.Updated, s.due = shareDeleted, now, time.Time{}
					return nil
				}})
			}
			for _, m := range []map[string]*assoc{s.Resources, s.Targets} {
				for _, a := range m {
					if (a.Status == assocAssociating || a.Status == assocDisassociating) && !a.due.IsZero() {
						consider(due{at: a.due, seq: a.seq, apply: func(now time.Time) []Event {
							return c.settleLocked(s, a, now)
						}})
					}
				}
			}
		}
	}
	for _, h := range c.handshakes {
		if h.Status == "Pending" && !h.acceptAt.IsZero() {
			consider(due{at: h.acceptAt, seq: h.seq, accept: h})
		}
	}
	return best, found
}

// NextDue returns the earliest pending cloud-side transition (image ready, association
// settling, share deletion, invitation acceptance).
func (c *Cloud) NextDue() (time.Time, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	d, ok := c.nextDueLocked()
	return d.at, ok
}

// RunDue applies every transition due at or before the clock's time, in time order.
func (c *Cloud) RunDue() {
	for {
		c.mu.Lock()
		now := c.clock.Now()
		c.purge(now)
		d, ok := c.nextDueLocked()
		if !ok || d.at.After(now) {
			c.mu.Unlock()
			return
		}
		if d.accept != nil {
			h := d.accept
			h.acceptAt = time.Time{}
			c.mu.Unlock()
			invitee := emu.Identity{AccountID: h.Target, Type: "root-account", PrincipalID: h.Target}
			c.do(request{caller: invitee, product: "resourcemanager", action: "AcceptHandshake",
				params: map[string]string{"HandshakeId": h.ID}, internal: true})
			continue
		}
		evs := d.apply(d.at) // the change happened when it fell due, not when we noticed
		c.mu.Unlock()
		c.dispatch(evs, nil)
	}
}

// ---- Observation ----

// ImageView is an image as the tests and the sandbox see it.
type ImageView struct {
	ID, Region, Owner, Status, ProductCode, Encrypted string
	Created                                           time.Time
	Tags                                              map[string]string
	Direct                                            []string // sorted direct shares
	// Organization: sorted Associated targets of the shares in which the image's
	// association is Associated.
	Organization []string
	// Cut: sorted accounts an organization share of the image reaches that have no
	// access all the same, because a removal from the share list cut them off
	// (OrgGrantsListed only).
	Cut []string
}

func (c *Cloud) viewLocked(im *image) ImageView {
	v := ImageView{ID: im.ID, Region: im.Region, Owner: im.Owner, Status: im.Status, ProductCode: im.ProductCode, Created: im.Created,
		Encrypted: im.Encrypted, Tags: maps.Clone(im.Tags), Direct: slices.Sorted(maps.Keys(im.Direct)), Organization: []string{}}
	seen := map[string]bool{}
	for _, s := range c.region(im.Region).shares {
		if s.Status != shareActive {
			continue
		}
		if ra := s.Resources[im.ID]; ra == nil || ra.Status != assocAssociated {
			continue
		}
		for t, ta := range s.Targets {
			if ta.Status == assocAssociated && !seen[t] {
				seen[t] = true
				v.Organization = append(v.Organization, t)
			}
		}
	}
	sort.Strings(v.Organization)
	if c.cfg.OrgGrantsListed {
		covered := c.coveredLocked(im)
		for _, a := range slices.Sorted(maps.Keys(im.Blocked)) {
			if covered[a] && a != im.Owner {
				v.Cut = append(v.Cut, a)
			}
		}
	}
	return v
}

// Image returns one image.
func (c *Cloud) Image(region, id string) (ImageView, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.purge(c.clock.Now())
	im := c.region(region).images[id]
	if im == nil {
		return ImageView{}, false
	}
	return c.viewLocked(im), true
}

// Images returns every image of a region, sorted by ID.
func (c *Cloud) Images(region string) []ImageView {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.purge(c.clock.Now())
	r := c.region(region)
	out := make([]ImageView, 0, len(r.images))
	for _, id := range slices.Sorted(maps.Keys(r.images)) {
		out = append(out, c.viewLocked(r.images[id]))
	}
	return out
}

// AllImages returns every image of every region, sorted by region and ID.
func (c *Cloud) AllImages() []ImageView {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.purge(c.clock.Now())
	var out []ImageView
	for _, rn := range slices.Sorted(maps.Keys(c.regions)) {
		r := c.regions[rn]
		for _, id := range slices.Sorted(maps.Keys(r.images)) {
			out = append(out, c.viewLocked(r.images[id]))
		}
	}
	return out
}

// Access returns the accounts that can boot the image now (the owner excluded).
func (c *Cloud) Access(region, imageID string) map[string]bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.purge(c.clock.Now())
	im := c.region(region).images[imageID]
	if im == nil {
		return map[string]bool{}
	}
	return c.accessLocked(im)
}

// ShareView is a resource share as the tests and the sandbox see it.
type ShareView struct {
	ID, Name, Owner, Status string
	AllowExternal           bool
	Created                 time.Time
	// Resources, Targets: entity → association status.
	Resources, Targets map[string]string
}

// ResourceShares returns the resource shares of a region, oldest first.
func (c *Cloud) ResourceShares(region string) []ShareView {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.purge(c.clock.Now())
	var out []ShareView
	for _, s := range c.sharesLocked(region) {
		v := ShareView{ID: s.ID, Name: s.Name, Owner: s.Owner, Status: s.Status, AllowExternal: s.AllowExternal, Created: s.Created,
			Resources: map[string]string{}, Targets: map[string]string{}}
		for e, a := range s.Resources {
			v.Resources[e] = a.Status
		}
		for e, a := range s.Targets {
			v.Targets[e] = a.Status
		}
		out = append(out, v)
	}
	return out
}

// sharesLocked returns a region's shares in creation order.
func (c *Cloud) sharesLocked(region string) []*share {
	r := c.region(region)
	out := make([]*share, 0, len(r.shares))
	for _, s := range r.shares {
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].seq < out[j].seq })
	return out
}

// Members returns the directory's members and their folders (account → folder).
func (c *Cloud) Members() map[string]string {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := map[string]string{}
	for _, a := range c.accounts {
		if a.Folder != "" {
			out[a.ID] = a.Folder
		}
	}
	return out
}

// CallRecord is one call the cloud answered.
type CallRecord struct {
	Seq             int
	Time            time.Time
	Product, Action string
	Params          map[string]string
	Caller          emu.Identity
	Code            string // "" = success
	Status          int    // the HTTP status of an error answer (0: success or no answer)
	RequestID       string
	Write           bool
	// RAMAction is the RAM action the call is checked against (from the ram table);
	// Denial describes RAM's denial when it denied the call.
	RAMAction, Denial string
}

// Calls returns every call recorded so far, in order.
func (c *Cloud) Calls() []CallRecord {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.calls)
}

// Unlisted returns the answers the cloud gave that its error catalogue (emu.Catalogue)
// does not list for the action, one line each: a test or a sandbox run that finds one
// fails, so that every code the emulation can answer has its source.
func (c *Cloud) Unlisted() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.unlisted)
}

// Products are the RPC services the cloud serves, one endpoint each (as the real
// services have one endpoint each).
var Products = []string{"ecs", "resourcemanager", "resourcesharing"}

// Serve listens on loopback for every product and returns their endpoint URLs by
// product, and a function that stops them.
func (c *Cloud) Serve() (map[string]string, func(), error) { return c.ServeAt(nil) }

// ServeAt is Serve on chosen loopback addresses: addr returns host:port for a product
// ("" or a nil addr: a free port).
func (c *Cloud) ServeAt(addr func(product string) string) (map[string]string, func(), error) {
	eps := map[string]string{}
	var srvs []*emu.Server
	stop := func() {
		for _, s := range srvs {
			_ = s.Close()
		}
	}
	for _, p := range c.ServedProducts() {
		a := ""
		if addr != nil {
			a = addr(p)
		}
		if a == "" {
			a = "127.0.0.1:0"
		}
		s, err := emu.ListenAt(a, c.Handler(p))
		if err != nil {
			stop()
			return nil, nil, fmt.Errorf("serve %s: %w", p, err)
		}
		srvs = append(srvs, s)
		eps[p] = s.URL()
	}
	return eps, stop, nil
}

// APIs returns the APIs the cloud serves, by product, sorted; each is checked against
// its row of the RAM table (package cloudsim/ram).
func APIs() map[string][]string {
	out := map[string][]string{}
	for p, specs := range actions {
		out[p] = slices.Sorted(maps.Keys(specs))
	}
	return out
}
