package chaos

// The generator: from a seed, a random organization (up to 30 accounts, folders nested
// up to 3 deep; one seed in twenty over 150 members, more than one ListAccounts page),
// images with random tags (exact and additive, account and folder targets, none, tag
// errors), encrypted images (customer key with and without the role, service key),
// images still Creating at the start, images in a second region that REGIONS names,
// hand-made resource shares, settings (DRY_RUN,
// REDUNDANCY_SCOPE=all with or without ecs:TagResources, no
// ecs:ModifyImageSharePermission, a cloud that lists organization
// grants with REVOKE_REDUNDANT=false, small MAX_ACCOUNTS_PER_IMAGE), and a short sequence
// of steps (tag edits, hand edits of share lists, joins, moves, removals, hand-made
// share edits, lost events, `together` edits, hostile events). Every step it makes is
// one the emulated cloud accepts, so the oracle need not model a person's failed call.

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"imageshare/pkg/scenario"
)

const (
	owner  = "1000000000000001"
	region = "cn-hangzhou"
	// region2 is a region without a deployment of its own that REGIONS names: only
	// the sweep (and the jobs it starts, org changes) reach its images.
	region2 = "cn-shanghai"
)

type gen struct {
	r  *rand.Rand
	sc *scenario.Scenario

	dirID, root string
	folders     []string
	depth       map[string]int
	members     []string // current members, the owner excluded
	memberOf    map[string]string
	initial     map[string]bool // members of the file's directory block
	outside     []string        // existing non-members that may be shared with
	fresh       []string        // outside accounts never shared with: the only ones invited
	allowed     []string
	unknown     []string // well-formed IDs of accounts that do not exist
	nextAccount int
	images      []*genImage
	hand        []*genShare
	eventsOn    bool
	// maxAccounts bounds the accounts steps may add (30, or more with a directory
	// over one ListAccounts page).
	maxAccounts int
	role        bool // the owner has AliyunECSShareEncryptImageDefaultRole
}

type genImage struct {
	id        string
	available bool // a person may change its share list (ECS refuses adds otherwise)
	deleted   bool
	others    bool
	enc       string // none, cmk, service-key
	elsewhere bool   // in region2: no step touches it
}

type genShare struct {
	name            string
	images, targets []string
}

func (g *gen) pick(xs []string) string { return xs[g.r.IntN(len(xs))] }

func (g *gen) chance(p float64) bool { return g.r.Float64() < p }

func alnum(r *rand.Rand, n int) string {
	const set = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnpqrstuvwxyz0123456789"
	b := make([]byte, n)
	for i := range b {
		b[i] = set[r.IntN(len(set))]
	}
	return string(b)
}

func (g *gen) account(base string) string {
	g.nextAccount++
	return fmt.Sprintf("%s%012d", base, g.nextAccount)
}

// generate makes the scenario of one seed.
func generate(seed uint64) *scenario.Scenario {
	g := &gen{r: rand.New(rand.NewPCG(seed, 0x1f2e3d4c)), depth: map[string]int{}, memberOf: map[string]string{}, eventsOn: true, nextAccount: 10, initial: map[string]bool{}, maxAccounts: 30}
	sc := &scenario.Scenario{Region: region, Owner: owner, Cloud: scenario.Cloud{OrgEvents: !g.chance(0.15)},
		Faults:   scenario.Faults{Seed: int64(seed), Throttle: 0.2, ServerError: 0.05, Kill: 0.02},
		Settings: map[string]string{"RETRY_BASE": "1ms", "RETRY_MAX": "5ms", "NOTIFY_TOPIC": "imageshare-notify"}}
	g.sc = sc
	total := 3 + g.r.IntN(28) // accounts other than the owner, at most 30 with it
	// Now and then a directory over one ListAccounts page (100 members): every member
	// counts, not only the first page's.
	big := g.chance(0.05)
	if big {
		total = 152 + g.r.IntN(30)
		g.maxAccounts = total + 6
	}
	if g.chance(0.93) || big {
		g.dirID, g.root = "rd-"+alnum(g.r, 6), "r-"+alnum(g.r, 6)
		d := &scenario.Directory{ID: g.dirID, Root: g.root, SharingEnabled: true}
		for i, n := 0, 1+g.r.IntN(7); i < n; i++ {
			id := "fd-" + alnum(g.r, 10)
			parent := g.root
			if len(g.folders) > 0 && g.chance(0.5) {
				if p := g.pick(g.folders); g.depth[p] < 3 {
					parent = p
				}
			}
			g.depth[id] = g.depth[parent] + 1
			g.folders = append(g.folders, id)
			d.Folders = append(d.Folders, scenario.Folder{ID: id, Name: "f" + fmt.Sprint(i), Parent: parent})
		}
		nMembers := max(1, total*2/3)
		for i := 0; i < nMembers; i++ {
			a := g.account("1000")
			f := g.place()
			g.members = append(g.members, a)
			g.memberOf[a] = f
			g.initial[a] = true
			d.Accounts = append(d.Accounts, scenario.Account{ID: a, Folder: f, Site: "china"})
		}
		sc.Directory = d
	}
	for len(g.members)+len(g.outside)+len(g.fresh) < total {
		a := g.account("2000")
		if g.chance(0.4) {
			g.fresh = append(g.fresh, a)
		} else {
			g.outside = append(g.outside, a)
		}
		sc.Outside = append(sc.Outside, a)
	}
	for _, a := range append(slices.Clone(g.outside), g.fresh...) {
		if g.chance(0.4) {
			g.allowed = append(g.allowed, a)
		}
	}
	if sc.Directory == nil {
		// Without a directory only the allow-list can be shared with.
		g.allowed = append(g.allowed, g.outside...)
	}
	if len(g.allowed) > 0 {
		sc.Settings["ALLOWED_EXTERNAL_ACCOUNTS"] = g.join(g.allowed)
	}
	for i := 0; i < 2; i++ {
		g.unknown = append(g.unknown, g.account("9000"))
	}
	if g.chance(0.25) {
		sc.Settings["MAX_ACCOUNTS_PER_IMAGE"] = fmt.Sprint(2 + g.r.IntN(4))
	}
	if g.chance(0.15) {
		sc.Settings["REVOKE_REDUNDANT"] = "false"
	}
	if g.chance(0.08) {
		// A cloud that lists organization grants as direct shares, deployed as
		// `imageshare probe` then advises (R7).
		sc.Cloud.OrgGrantsListed = true
		sc.Settings["REVOKE_REDUNDANT"] = "false"
	}
	scopeAll := g.chance(0.15)
	if scopeAll {
		sc.Settings["REDUNDANCY_SCOPE"] = "all"
		if g.chance(0.3) {
			// R8 cannot record what it would revoke: it revokes nothing and refuses.
			sc.Deny = []string{"ecs:TagResources"}
		}
	}
	if g.chance(0.04) {
		// No share-list write is allowed: every image that needs one is refused
		// (Forbidden.RAM), the failed calls' events are dropped, nothing loops.
		sc.Deny = append(sc.Deny, "ecs:ModifyImageSharePermission")
	}
	if g.chance(0.06) {
		sc.Settings["DRY_RUN"] = "true"
	}
	if g.chance(0.5) {
		sc.Roles = []string{"AliyunECSShareEncryptImageDefaultRole"}
		g.role = true
	}
	untagged, handShares := 0.15, 0.35
	if scopeAll {
		untagged, handShares = 0.4, 0.8 // R8 needs untagged images that a share covers
	}
	// Images present at the start.
	for i, n := 0, 1+g.r.IntN(4); i < n; i++ {
		im := &genImage{id: fmt.Sprintf("m-Chaos%02d%05d", i, g.r.IntN(100000)), available: true, enc: "none"}
		switch x := g.r.Float64(); {
		case x < 0.1:
			im.enc = "cmk" // shareable only with the role
		case x < 0.15:
			im.enc = "service-key" // never shareable
		}
		si := scenario.Image{ID: im.id, Status: "Available", Owner: "self", Encrypted: im.enc, Tags: g.tagsFor(im)}
		switch {
		case g.chance(0.05):
			si.Status = g.pick([]string{"CreateFailed", "Deprecated", "UnAvailable"})
			im.available = false
		case g.chance(0.08):
			// Still being made: Available a minute after the start (R2 postpones).
			si.Status = g.pick([]string{"Creating", "Waiting"})
			im.available = false
		}
		if g.chance(untagged) {
			si.Tags = map[string]string{"team": "web"} // never managed
		}
		si.SharedWith = g.someAccounts(g.r.IntN(4), false)
		g.images = append(g.images, im)
		sc.Images = append(sc.Images, si)
	}
	if g.chance(0.1) {
		sc.Settings["REGIONS"] = region2
		for i, n := 0, 1+g.r.IntN(2); i < n; i++ {
			im := &genImage{id: fmt.Sprintf("m-Second%02d%05d", i, g.r.IntN(100000)), enc: "none", elsewhere: true}
			g.images = append(g.images, im)
			sc.Images = append(sc.Images, scenario.Image{ID: im.id, Status: "Available", Owner: "self", Encrypted: "none",
				Tags: g.tags(), SharedWith: g.someAccounts(g.r.IntN(4), false), Region: region2})
		}
	}
	if g.chance(0.3) {
		// An image of another account, shared with the owner and tagged: R1 leaves it.
		im := &genImage{id: "m-Others" + fmt.Sprintf("%06d", g.r.IntN(1000000)), others: true}
		g.images = append(g.images, im)
		sc.Images = append(sc.Images, scenario.Image{ID: im.id, Status: "Available", Owner: "others", Encrypted: "none",
			Tags: map[string]string{prefix + ":accounts": g.join(g.someAccounts(2, true))}, SharedWith: []string{owner}})
	}
	// Hand-made resource shares present at the start.
	if g.dirID != "" && g.chance(handShares) {
		hs := &genShare{name: "golden-" + alnum(g.r, 4), targets: g.shareTargets(), images: g.someImages(1 + g.r.IntN(2))}
		g.hand = append(g.hand, hs)
		sc.ResourceShares = append(sc.ResourceShares, scenario.ResourceShare{Name: hs.name, Targets: slices.Clone(hs.targets), Images: slices.Clone(hs.images)})
	}
	for i, n := 0, 2+g.r.IntN(6); i < n; i++ {
		if st, ok := g.step(true); ok {
			sc.Steps = append(sc.Steps, st)
		}
	}
	// Settle for good: events back on, then two sweeps reach every managed image.
	if !g.eventsOn {
		sc.Steps = append(sc.Steps, scenario.Step{Events: "on"})
	}
	sc.Steps = append(sc.Steps, scenario.Step{Advance: 31 * time.Minute}, scenario.Step{Advance: 30 * time.Minute})
	return sc
}

// place picks a folder (or the root) for a member.
func (g *gen) place() string {
	if len(g.folders) == 0 || g.chance(0.25) {
		return g.root
	}
	return g.pick(g.folders)
}

// someAccounts picks n distinct accounts a person may share with (members and
// outside accounts; never a fresh one, never the owner).
func (g *gen) someAccounts(n int, anyone bool) []string {
	pool := append(slices.Clone(g.members), g.outside...)
	if anyone {
		pool = append(pool, g.fresh...)
	}
	var out []string
	for i := 0; i < n && len(pool) > 0; i++ {
		a := g.pick(pool)
		if !slices.Contains(out, a) {
			out = append(out, a)
		}
	}
	return out
}

func (g *gen) someImages(n int) []string {
	var out []string
	for i := 0; i < n; i++ {
		var pool []string
		for _, im := range g.images {
			if !im.deleted && !im.others && !im.elsewhere && im.available && im.enc != "service-key" && !slices.Contains(out, im.id) {
				pool = append(pool, im.id)
			}
		}
		if len(pool) == 0 {
			break
		}
		out = append(out, g.pick(pool))
	}
	return out
}

// shareTargets picks targets for a hand-made share: folders, the directory, members.
func (g *gen) shareTargets() []string {
	var out []string
	for i, n := 0, 1+g.r.IntN(2); i < n; i++ {
		var t string
		switch x := g.r.Float64(); {
		case x < 0.6 && len(g.folders) > 0:
			t = g.pick(g.folders)
		case x < 0.75:
			t = g.dirID
		default:
			// A member account; the file format accepts only members of its directory
			// block as targets, so only those still in the directory.
			t = g.dirID
			var pool []string
			for _, m := range g.members {
				if g.initial[m] {
					pool = append(pool, m)
				}
			}
			if len(pool) > 0 {
				t = g.pick(pool)
			}
		}
		if !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	return out
}

// join writes tokens with random separators of the tag language.
func (g *gen) join(toks []string) string {
	var b strings.Builder
	for i, t := range toks {
		if i > 0 {
			b.WriteString(g.pick([]string{",", " ", ";", "，", ", ", " ;  ", ",,"}))
		}
		b.WriteString(t)
	}
	return b.String()
}

// value joins tokens into a tag value of at most 128 bytes (fewer tokens if needed).
func (g *gen) value(toks []string) string {
	for {
		v := g.join(toks)
		if len(v) <= 128 || len(toks) <= 1 {
			return v
		}
		toks = toks[:len(toks)-1]
	}
}

func (g *gen) accountToken() string {
	switch x := g.r.Float64(); {
	case x < 0.55 && len(g.members) > 0:
		return g.pick(g.members)
	case x < 0.7 && len(g.allowed) > 0:
		return g.pick(g.allowed)
	case x < 0.8 && len(g.outside) > 0:
		return g.pick(g.outside)
	case x < 0.88 && len(g.fresh) > 0:
		return g.pick(g.fresh)
	case x < 0.93:
		return owner
	default:
		return g.pick(g.unknown)
	}
}

func (g *gen) folderToken() string {
	switch x := g.r.Float64(); {
	case x < 0.7 && len(g.folders) > 0:
		return g.pick(g.folders)
	case x < 0.82 && g.dirID != "":
		return g.dirID
	case x < 0.92:
		return "fd-" + alnum(g.r, 10) // well formed, does not exist
	default:
		return "rd-" + alnum(g.r, 7) // another directory
	}
}

// tagsFor makes tags for an image: an image encrypted with the service key never names
// folders (its association would fail, a case the scenario library covers).
func (g *gen) tagsFor(im *genImage) map[string]string {
	t := g.tags()
	if im.enc == "service-key" {
		for k := range t {
			if strings.HasPrefix(k, prefix+":folders") {
				delete(t, k)
			}
		}
		if len(t) == 0 {
			t["env"] = "prod"
		}
	}
	return t
}

// tags makes a random set of imageshare tags, now and then with a tag error.
func (g *gen) tags() map[string]string {
	t := map[string]string{}
	if g.chance(0.75) {
		if g.chance(0.1) {
			t[prefix+":accounts"] = "none"
		} else {
			var toks []string
			for i, n := 0, 1+g.r.IntN(6); i < n; i++ {
				toks = append(toks, g.accountToken())
			}
			t[prefix+":accounts"] = g.value(toks)
		}
	}
	if g.chance(0.15) {
		var toks []string
		for i, n := 0, 1+g.r.IntN(4); i < n; i++ {
			toks = append(toks, g.accountToken())
		}
		t[prefix+":accounts:"+g.pick([]string{"2", "10", "partners", "09"})] = g.value(toks)
	}
	if g.chance(0.5) {
		if g.chance(0.08) {
			t[prefix+":folders"] = "none"
		} else {
			var toks []string
			for i, n := 0, 1+g.r.IntN(3); i < n; i++ {
				toks = append(toks, g.folderToken())
			}
			t[prefix+":folders"] = g.value(toks)
		}
	}
	if g.chance(0.3) {
		t[prefix+":mode"] = g.pick([]string{"exact", "additive", "additive"})
	}
	if g.chance(0.08) {
		switch g.r.IntN(7) {
		case 0:
			t[prefix+":accounts"] = g.value([]string{g.accountToken(), "12345"})
		case 1:
			t[prefix+":folders"] = "fd-short"
		case 2:
			t[prefix+":accounts"] = g.value([]string{"none", g.accountToken()})
		case 3:
			t[prefix+":mode"] = g.pick([]string{"Exact", "both", "ADDITIVE"})
		case 4:
			t[prefix+":acounts"] = g.accountToken()
		case 5:
			t[prefix] = "yes"
		case 6:
			t[prefix+":folders:2"] = " , ; "
		}
	}
	if len(t) == 0 || g.chance(0.2) {
		t["env"] = g.pick([]string{"prod", "dev"})
	}
	return t
}

// step makes one random step the cloud accepts; top is false inside a together.
func (g *gen) step(top bool) (scenario.Step, bool) {
	live := func() []*genImage {
		var out []*genImage
		for _, im := range g.images {
			if !im.deleted && !im.others && !im.elsewhere {
				out = append(out, im)
			}
		}
		return out
	}
	imgs := live()
	x := g.r.IntN(100)
	if !top {
		x = x % 45 // only image steps inside a together
	}
	switch {
	case x < 25 && len(imgs) > 0: // tag edit
		im := imgs[g.r.IntN(len(imgs))]
		return scenario.Step{TagImage: &scenario.TagImage{Image: im.id, Tags: g.tagsFor(im)}}, true
	case x < 33 && len(imgs) > 0: // untag some (perhaps all) prefix keys
		im := imgs[g.r.IntN(len(imgs))]
		keys := []string{prefix + ":accounts"}
		if g.chance(0.5) {
			keys = append(keys, prefix+":folders", prefix+":mode", prefix+":accounts:2", prefix+":accounts:partners")
		}
		if g.chance(0.3) {
			keys = []string{prefix + ":folders"}
		}
		return scenario.Step{UntagImage: &scenario.UntagImage{Image: im.id, Keys: keys}}, true
	case x < 45: // a person edits a share list by hand
		var pool []*genImage
		for _, im := range imgs {
			// ECS refuses a person's adds to an image not Available, encrypted with the
			// service key, or with a customer key while the role is missing.
			if im.available && (im.enc == "none" || im.enc == "cmk" && g.role) {
				pool = append(pool, im)
			}
		}
		if len(pool) == 0 {
			return scenario.Step{}, false
		}
		im := pool[g.r.IntN(len(pool))]
		add := g.someAccounts(1+g.r.IntN(3), false)
		var remove []string
		if g.chance(0.4) {
			remove = g.someAccounts(1, false)
			if slices.Contains(add, remove[0]) {
				remove = nil
			}
		}
		return scenario.Step{ShareImage: &scenario.ShareImage{Image: im.id, Add: add, Remove: remove}}, true
	case x < 51: // a new image
		im := &genImage{id: fmt.Sprintf("m-ChaosNew%05d", g.r.IntN(100000)), available: true, enc: "none"}
		for _, o := range g.images {
			if o.id == im.id {
				return scenario.Step{}, false
			}
		}
		g.images = append(g.images, im)
		return scenario.Step{CreateImage: &scenario.CreateImage{Image: im.id, Tags: g.tags(), ReadyAfter: time.Duration(1+g.r.IntN(3)) * time.Minute}}, true
	case x < 54 && len(imgs) > 1:
		im := imgs[g.r.IntN(len(imgs))]
		im.deleted = true
		for _, h := range g.hand {
			h.images = slices.DeleteFunc(h.images, func(s string) bool { return s == im.id })
		}
		return scenario.Step{DeleteImage: &scenario.DeleteImage{Image: im.id}}, true
	case x < 60 && g.dirID != "" && len(g.members)+len(g.outside)+len(g.fresh) < g.maxAccounts:
		a := g.account("1000")
		f := g.place()
		g.members = append(g.members, a)
		g.memberOf[a] = f
		return scenario.Step{CreateAccount: &scenario.CreateAccount{Account: a, Folder: f}}, true
	case x < 65 && g.dirID != "" && len(g.fresh) > 0:
		// Only accounts never shared with are invited: a direct share to an outsider the
		// guardrail revokes just before it joins would count as a lost access.
		a := g.fresh[0]
		g.fresh = g.fresh[1:]
		f := g.place()
		g.members = append(g.members, a)
		g.memberOf[a] = f
		return scenario.Step{InviteAccount: &scenario.InviteAccount{Account: a, Folder: f, AcceptAfter: time.Duration(10+g.r.IntN(40)) * time.Second}}, true
	case x < 73 && len(g.members) > 0 && g.dirID != "":
		a := g.pick(g.members)
		to := g.place()
		if to == g.memberOf[a] {
			return scenario.Step{}, false
		}
		g.memberOf[a] = to
		return scenario.Step{MoveAccount: &scenario.MoveAccount{Account: a, To: to}}, true
	case x < 78 && len(g.members) > 1:
		a := g.pick(g.members)
		g.members = slices.DeleteFunc(g.members, func(s string) bool { return s == a })
		delete(g.memberOf, a)
		g.outside = append(g.outside, a)
		return scenario.Step{RemoveAccount: &scenario.RemoveAccount{Account: a}}, true
	case x < 85 && g.dirID != "":
		return g.orgShare()
	case x < 91:
		on := "off"
		if !g.eventsOn {
			on = "on"
		}
		g.eventsOn = on == "on"
		return scenario.Step{Events: on}, true
	case x < 96:
		var parts []scenario.Step
		for i, n := 0, 2+g.r.IntN(2); i < n; i++ {
			if i > 0 && g.chance(0.5) {
				parts = append(parts, scenario.Step{Wait: time.Duration(5+g.r.IntN(15)) * time.Second})
			}
			if st, ok := g.step(false); ok {
				parts = append(parts, st)
			}
		}
		for len(parts) > 0 && parts[len(parts)-1].Wait > 0 {
			parts = parts[:len(parts)-1]
		}
		if len(parts) == 0 || parts[0].Wait > 0 {
			return scenario.Step{}, false
		}
		return scenario.Step{Together: parts}, true
	case x < 98:
		return scenario.Step{Advance: time.Duration(1+g.r.IntN(40)) * time.Minute}, true
	default:
		return scenario.Step{Event: hostileEvent(g.r, imgs)}, true
	}
}

// orgShare edits or creates a hand-made resource share.
func (g *gen) orgShare() (scenario.Step, bool) {
	if len(g.hand) == 0 || g.chance(0.3) {
		imgs := g.someImages(1)
		if len(imgs) == 0 {
			return scenario.Step{}, false
		}
		hs := &genShare{name: "hand-" + alnum(g.r, 4), targets: g.shareTargets(), images: imgs}
		g.hand = append(g.hand, hs)
		return scenario.Step{OrgShare: &scenario.OrgShare{Name: hs.name, AddImages: slices.Clone(hs.images), AddTargets: slices.Clone(hs.targets)}}, true
	}
	hs := g.hand[g.r.IntN(len(g.hand))]
	o := &scenario.OrgShare{Name: hs.name}
	switch g.r.IntN(4) {
	case 0:
		for _, im := range g.someImages(1) {
			if !slices.Contains(hs.images, im) {
				o.AddImages = append(o.AddImages, im)
				hs.images = append(hs.images, im)
			}
		}
	case 1:
		if len(hs.images) > 0 {
			im := hs.images[g.r.IntN(len(hs.images))]
			o.RemoveImages = []string{im}
			hs.images = slices.DeleteFunc(hs.images, func(s string) bool { return s == im })
		}
	case 2:
		for _, t := range g.shareTargets() {
			if !slices.Contains(hs.targets, t) {
				o.AddTargets = append(o.AddTargets, t)
				hs.targets = append(hs.targets, t)
			}
		}
	case 3:
		if len(hs.targets) > 1 {
			t := hs.targets[g.r.IntN(len(hs.targets))]
			o.RemoveTargets = []string{t}
			hs.targets = slices.DeleteFunc(hs.targets, func(s string) bool { return s == t })
		}
	}
	if len(o.AddImages)+len(o.RemoveImages)+len(o.AddTargets)+len(o.RemoveTargets) == 0 {
		return scenario.Step{}, false
	}
	return scenario.Step{OrgShare: o}, true
}

// hostileEvent makes an event that passes the image-events trigger's filter but must
// cause nothing: wrong types, IDs in the wrong format, a failed call, a call by the
// functions' own role, another resource type, a huge list of IDs.
func hostileEvent(r *rand.Rand, imgs []*genImage) []byte {
	img := "m-Nothing00001"
	if len(imgs) > 0 {
		img = imgs[r.IntN(len(imgs))].id
	}
	id := "hostile-" + alnum(r, 8)
	head := `{"specversion":"1.0","id":"` + id + `","source":"acs.ecs","type":"ecs:ActionTrail:ApiCall","time":"2026-01-01T00:00:00Z","aliyunregionid":"` + region + `",`
	var data string
	switch r.IntN(7) {
	case 0: // the ID is not an image ID
		data = `{"eventName":"TagResources","acsRegion":"` + region + `","requestParameters":{"RegionId":"` + region + `","ResourceType":"image","ResourceId.1":"i-notanimage; DROP"}}`
	case 1: // wrong types everywhere
		data = `{"eventName":"TagResources","acsRegion":["` + region + `"],"requestParameters":"` + img + `","userIdentity":"root"}`
	case 2: // a failed call about a real image
		data = `{"eventName":"ModifyImageSharePermission","acsRegion":"` + region + `","errorCode":"InvalidAccount.NotFound","requestParameters":{"RegionId":"` + region + `","ImageId":"` + img + `"}}`
	case 3: // the functions' own call about a real image
		data = `{"eventName":"ModifyImageSharePermission","acsRegion":"` + region + `","requestParameters":{"RegionId":"` + region + `","ImageId":"` + img + `"},"userIdentity":{"type":"assumed-role","accountId":"` + owner + `","arn":"acs:ram::` + owner + `:assumed-role/imageshare-fc/fc-1"}}`
	case 4: // tags of an instance
		data = `{"eventName":"TagResources","acsRegion":"` + region + `","requestParameters":{"RegionId":"` + region + `","ResourceType":"instance","ResourceId.1":"i-abc"}}`
	case 5: // a region that is not one
		data = `{"eventName":"DeleteImage","acsRegion":"../../etc","requestParameters":{"RegionId":"not a region","ImageId":"` + img + `"}}`
	default: // two hundred IDs, none an image's
		ids := make([]string, 200)
		for i := range ids {
			ids[i] = fmt.Sprintf(`"ResourceId.%d":"x-%d"`, i+1, i)
		}
		data = `{"eventName":"UntagResources","acsRegion":"` + region + `","requestParameters":{"RegionId":"` + region + `","ResourceType":"image",` + strings.Join(ids, ",") + `}}`
	}
	return []byte(head + `"data":` + data + `}`)
}
