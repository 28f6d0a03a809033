package plan

import (
	"fmt"
	"math/rand"
	"slices"
	"strings"
	"testing"
	"time"

	"imageshare/pkg/settings"
	"imageshare/pkg/state"
)

// model applies plans to a State the way the applier orders its calls and the cloud
// answers them, so that the planner can be checked for convergence and for transient
// loss of access without any cloud.
type model struct {
	st     *state.State
	nextID int
}

// access is who can boot the image, by the test's own model (access_model_test.go),
// never by the product's coverage.
func (m *model) access(image string) map[string]bool { return modelAccess(m.st, image) }

func (m *model) snapshot() map[string]map[string]bool {
	out := map[string]map[string]bool{}
	for _, im := range m.st.Images {
		out[im.ID] = m.access(im.ID)
	}
	return out
}

func (m *model) image(id string) *state.Image {
	for i := range m.st.Images {
		if m.st.Images[i].ID == id {
			return &m.st.Images[i]
		}
	}
	return nil
}

func (m *model) shareByID(id string) *state.Share {
	for i := range m.st.Shares {
		if m.st.Shares[i].ID == id {
			return &m.st.Shares[i]
		}
	}
	return nil
}

// canonical finds the oldest share of a name.
func (m *model) canonical(name string) *state.Share {
	var best *state.Share
	for i := range m.st.Shares {
		sh := &m.st.Shares[i]
		if sh.Name == name && (best == nil || sh.Created.Before(best.Created) || sh.Created.Equal(best.Created) && sh.ID < best.ID) {
			best = sh
		}
	}
	return best
}

func set(a map[string]state.Association, keys []string, status string, now time.Time) {
	for _, k := range keys {
		a[k] = state.Association{Status: status, Updated: now}
	}
}

// apply runs the plan in the applier's phase order, calling check after each phase.
func (m *model) apply(p *Plan, check func(phase string)) {
	now := m.st.Now
	// Phase 1: make — creates, target adds, internal flag, associations.
	for _, op := range p.Shares {
		switch op.Op {
		case OpCreate:
			m.nextID++
			sh := state.Share{ID: fmt.Sprintf("rs-n%d", m.nextID), Name: op.Share.Name, Created: now.Add(time.Duration(m.nextID) * time.Millisecond),
				Resources: map[string]state.Association{}, Targets: map[string]state.Association{}}
			set(sh.Targets, op.Targets, state.Associating, now)
			set(sh.Resources, op.Resources, state.Associating, now)
			m.st.Shares = append(m.st.Shares, sh)
		case OpAddTargets:
			set(m.shareByID(op.Share.ID).Targets, op.Targets, state.Associating, now)
		case OpSetInternal:
			m.shareByID(op.Share.ID).AllowExternal = false
		}
	}
	for _, ip := range p.Images {
		for _, ref := range ip.Associate {
			sh := m.shareByID(ref.ID)
			if ref.ID == "" {
				sh = m.canonical(ref.Name)
			}
			if a := sh.Resources[ip.Image]; a.Status != state.Associating {
				set(sh.Resources, []string{ip.Image}, state.Associating, now)
			}
		}
	}
	check("make")
	// Phase 2: R8 tags, then revoke what is recorded.
	for _, ip := range p.Images {
		if ip.Retain == nil {
			continue
		}
		im := m.image(ip.Image)
		for k, v := range ip.Retain.Tags {
			im.Tags[k] = v
		}
		im.Direct = slices.DeleteFunc(im.Direct, func(a string) bool { return slices.Contains(ip.Retain.Accounts, a) })
	}
	check("retain")
	// Phase 3: direct removes (frees quota), then adds.
	for _, ip := range p.Images {
		im := m.image(ip.Image)
		im.Direct = slices.DeleteFunc(im.Direct, func(a string) bool {
			return slices.ContainsFunc(ip.Unshare, func(u Unshare) bool { return u.Account == a })
		})
	}
	check("unshare")
	for _, ip := range p.Images {
		im := m.image(ip.Image)
		for _, a := range ip.Share {
			if !slices.Contains(im.Direct, a) {
				im.Direct = append(im.Direct, a)
			}
		}
	}
	check("share")
	// Phase 4: break — disassociations, target removals, deletes.
	for _, ip := range p.Images {
		for _, ref := range ip.Disassociate {
			set(m.shareByID(ref.ID).Resources, []string{ip.Image}, state.Disassociating, now)
		}
	}
	for _, op := range p.Shares {
		switch op.Op {
		case OpRemoveTargets:
			set(m.shareByID(op.Share.ID).Targets, op.Targets, state.Disassociating, now)
		case OpDelete:
			m.st.Shares = slices.DeleteFunc(m.st.Shares, func(s state.Share) bool { return s.ID == op.Share.ID })
		}
	}
	check("break")
}

// settle completes every transition, as time passing does.
func (m *model) settle() {
	m.st.Now = m.st.Now.Add(time.Minute)
	for i := range m.st.Shares {
		for _, as := range []map[string]state.Association{m.st.Shares[i].Resources, m.st.Shares[i].Targets} {
			for k, a := range as {
				switch a.Status {
				case state.Associating:
					as[k] = state.Association{Status: state.Associated, Updated: m.st.Now}
				case state.Disassociating:
					delete(as, k)
				}
			}
		}
	}
}

var (
	accountPool = []string{m2, m3, m4, m5, ext, out, owner, "12"}
	folderPool  = []string{prod, sub, dev, empty, rdID, "fd-Nope000001", "rd-Other1"}
	statuses    = []string{state.Associated, state.Associated, state.Associating, state.Disassociating, state.Failed}
)

func pick(r *rand.Rand, pool []string, n int) []string {
	var out []string
	for i := 0; i < n; i++ {
		out = append(out, pool[r.Intn(len(pool))])
	}
	return out
}

func randomState(r *rand.Rand) (*state.State, settings.Settings) {
	env := map[string]string{"ALLOWED_EXTERNAL_ACCOUNTS": ext, "MAX_ACCOUNTS_PER_IMAGE": fmt.Sprint(2 + r.Intn(5))}
	if r.Intn(4) == 0 {
		env["REVOKE_REDUNDANT"] = "false"
	}
	if r.Intn(3) == 0 {
		env["REDUNDANCY_SCOPE"] = "all"
	}
	s, err := settings.Load(func(k string) string { return env[k] })
	if err != nil {
		panic(err)
	}
	st := &state.State{Region: "cn-hangzhou", Owner: owner, Now: t0, Directory: testDirectory(), RetryFailed: r.Intn(2) == 0}
	nImages := 1 + r.Intn(4)
	for i := 0; i < nImages; i++ {
		tags := map[string]string{}
		if r.Intn(5) > 0 {
			if n := r.Intn(4); n > 0 {
				tags["imageshare:accounts"] = strings.Join(pick(r, accountPool[:len(accountPool)-1], n), " ")
			}
			if r.Intn(3) == 0 {
				tags["imageshare:accounts:2"] = strings.Join(pick(r, accountPool, 1+r.Intn(2)), ",")
			}
			if r.Intn(2) == 0 {
				tags["imageshare:folders"] = strings.Join(pick(r, folderPool[:4], 1+r.Intn(2)), " ")
			}
			if r.Intn(8) == 0 {
				tags["imageshare:folders:x"] = strings.Join(pick(r, folderPool, 1), " ")
			}
			if r.Intn(3) == 0 {
				tags["imageshare:mode"] = []string{"exact", "additive"}[r.Intn(2)]
			}
			if len(tags) == 0 {
				tags["imageshare:accounts"] = "none"
			}
		}
		direct := slices.DeleteFunc(pick(r, []string{m2, m3, m4, m5, ext, out}, r.Intn(4)), func(a string) bool { return false })
		slices.Sort(direct)
		direct = slices.Compact(direct)
		st.Images = append(st.Images, state.Image{ID: fmt.Sprintf("m-%d", i+1), OwnerAlias: "self", Status: state.Available,
			Created: t0.Add(-time.Hour), Tags: tags, Direct: direct})
	}
	nShares := r.Intn(4)
	for i := 0; i < nShares; i++ {
		var name string
		hand := r.Intn(2) == 0
		if hand {
			name = fmt.Sprintf("hand-%d", i)
		} else {
			name = modelShareName(pick(r, []string{prod, dev, rdID, empty}, 1))
		}
		sh := state.Share{ID: fmt.Sprintf("rs-%d", i), Name: name, Created: t0.Add(time.Duration(i) * time.Second),
			Resources: map[string]state.Association{}, Targets: map[string]state.Association{}}
		for _, t := range pick(r, []string{prod, dev, sub, rdID, m4}, 1+r.Intn(2)) {
			st := state.Associated
			if !hand {
				st = statuses[r.Intn(len(statuses))]
			}
			sh.Targets[t] = state.Association{Status: st, Updated: t0.Add(-time.Hour)}
		}
		for j := range st.Images {
			if r.Intn(2) == 0 {
				status := state.Associated
				if !hand {
					status = statuses[r.Intn(len(statuses))]
				}
				sh.Resources[st.Images[j].ID] = state.Association{Status: status, FailureReason: "LimitExceeded", Updated: t0.Add(-time.Hour)}
			}
		}
		st.Shares = append(st.Shares, sh)
	}
	return st, s
}

// TestPlanConverges: repeatedly planning and applying reaches a fixed point whose plan
// writes nothing, no account loses access on the way that has it at the end, and the
// end state is what sections 2–4 say. Each round after the first is also the confirming
// job of the one before (it carries that round's removals awaiting confirmation and the
// confirmed ones held back, with their fingerprints): an R12 removal happens only on a
// second look with the same fingerprint, and a carried confirmation whose fingerprint
// no longer matches (the tags changed in between) lets none happen.
func TestPlanConverges(t *testing.T) {
	seeds := 3000
	if testing.Short() {
		seeds = 300
	}
	for seed := 0; seed < seeds; seed++ {
		r := rand.New(rand.NewSource(int64(seed)))
		st, set := randomState(r)
		start := fmt.Sprintf("%+v", *st)
		m := &model{st: st}
		var history []map[string]map[string]bool
		var trace strings.Builder
		converged := false
		for round := 0; round < 16; round++ {
			stale := round > 0 && r.Intn(5) == 0
			if stale {
				// The tags changed between the looks: the carried fingerprints differ.
				for im, cs := range m.st.Confirmed {
					for i := range cs {
						cs[i].Fingerprint = strings.Repeat("0", 64)
					}
					m.st.Confirmed[im] = cs
				}
			}
			p := Make(m.st, set)
			fmt.Fprintf(&trace, "round %d (stale confirmations: %t):\n%s", round, stale, p)
			checkConfirmations(t, seed, m.st, set, p, stale, trace.String)
			carry(m.st, p) // the confirming job of this look, and the chain's re-check
			if !p.Writes() && !anyRecheck(p) && !anyConfirm(p) {
				converged = true
				break
			}
			history = append(history, m.snapshot())
			counts := map[string]int{}
			for _, im := range m.st.Images {
				counts[im.ID] = len(im.Direct)
			}
			m.apply(p, func(phase string) {
				history = append(history, m.snapshot())
				for _, im := range m.st.Images {
					if len(im.Direct) > counts[im.ID] && len(im.Direct) > set.MaxAccountsPerImage {
						t.Fatalf("seed %d: %s has %d direct shares after %s, over MAX_ACCOUNTS_PER_IMAGE %d\n%s", seed, im.ID, len(im.Direct), phase, set.MaxAccountsPerImage, trace.String())
					}
				}
			})
			m.settle()
			history = append(history, m.snapshot())
		}
		if !converged {
			t.Fatalf("seed %d did not converge\nstart %s\n%s", seed, start, trace.String())
		}
		final := m.snapshot()
		for i := 1; i < len(history); i++ {
			for img, before := range history[i-1] {
				for a := range before {
					if !history[i][img][a] && final[img][a] {
						t.Fatalf("seed %d: %s lost access to %s at step %d but has it at the end\nstart %s\n%s", seed, a, img, i, start, trace.String())
					}
				}
			}
		}
		checkEndState(t, seed, m.st, set, "start "+start+"\n"+trace.String())
	}
}

func anyConfirm(p *Plan) bool {
	for _, ip := range p.Images {
		if len(ip.Confirm)+len(ip.Held) > 0 {
			return true
		}
	}
	return false
}

// checkConfirmations: every R12 removal a plan does (a direct share whose account does
// not stay covered, leaving a managed share the tags no longer ask for) was carried by
// the state from an earlier look with the same fingerprint; with stale carried
// fingerprints none is done.
func checkConfirmations(t *testing.T, seed int, st *state.State, set settings.Settings, p *Plan, stale bool, trace func() string) {
	t.Helper()
	for _, ip := range p.Images {
		carried := map[string]bool{}
		for _, c := range st.Confirmed[ip.Image] {
			if c.Fingerprint == ip.Fingerprint {
				for _, k := range c.Removals {
					carried[k] = true
				}
			}
		}
		var r12 []string
		for _, u := range ip.Unshare {
			if u.Why != WhyRedundant {
				r12 = append(r12, u.Account)
			}
		}
		var wanted string
		if im := imageOf(st, ip.Image); im != nil {
			wanted = wantedShare(im)
		}
		for _, ref := range ip.Disassociate {
			sh := shareOf(st, ref.ID)
			if ref.Name != wanted && sh != nil && sh.Resources[ip.Image].Status != state.Failed {
				r12 = append(r12, ref.Name)
			}
		}
		for _, k := range r12 {
			if stale || !carried[k] || !slices.Contains(ip.Confirmed, k) {
				t.Fatalf("seed %d: %s: R12 removal %s done without a second look at the same tags (stale %t, carried %v)\n%s", seed, ip.Image, k, stale, carried, trace())
			}
		}
	}
}

func imageOf(st *state.State, id string) *state.Image {
	for i := range st.Images {
		if st.Images[i].ID == id {
			return &st.Images[i]
		}
	}
	return nil
}

func shareOf(st *state.State, id string) *state.Share {
	for i := range st.Shares {
		if st.Shares[i].ID == id {
			return &st.Shares[i]
		}
	}
	return nil
}

// wantedShare is the name of the managed share the image's tags ask for ("" for none),
// read independently of the planner.
func wantedShare(im *state.Image) string {
	o := modelTarget(modelRead(im.Tags).folders)
	if len(o) == 0 {
		return ""
	}
	return modelShareName(o)
}

func anyRecheck(p *Plan) bool {
	for _, ip := range p.Images {
		if ip.Recheck {
			return true
		}
	}
	return false
}

// checkEndState is an independent reading of sections 2–4 for a converged state: the
// tags by the test's own parser, coverage by the test's own model of R5.
func checkEndState(t *testing.T, seed int, st *state.State, set settings.Settings, trace string) {
	t.Helper()
	fail := func(format string, args ...any) {
		t.Fatalf("seed %d: "+format+"\n%s", append([]any{seed}, append(args, trace)...)...)
	}
	for _, im := range st.Images {
		tags := modelRead(im.Tags)
		if !tags.managed || tags.broken {
			continue
		}
		cov := modelCoverage(st, im.ID)
		// Organization part: in exactly the managed share of its normalized folders.
		o := modelTarget(tags.folders)
		var in []string
		stuck := false // a Failed association not yet due for a retry keeps the old share (make before break)
		for _, sh := range st.Shares {
			if modelManagedRE.MatchString(sh.Name) && modelHolding(sh.Resources[im.ID].Status) {
				in = append(in, sh.Name)
				stuck = stuck || sh.Resources[im.ID].Status == "Failed" && !st.RetryFailed
			}
		}
		var wantIn []string
		if len(o) > 0 {
			wantIn = []string{modelShareName(o)}
			for _, sh := range st.Shares {
				for _, a := range sh.Targets {
					stuck = stuck || sh.Name == wantIn[0] && a.Status == "Failed" && !st.RetryFailed
				}
			}
		}
		limited := len(o) > 0 && managedSharesAtLimit(st, set, modelShareName(o))
		if !limited && !stuck && strings.Join(in, ",") != strings.Join(wantIn, ",") {
			fail("image %s is in managed shares %v, want %v (folders %v)", im.ID, in, wantIn, tags.folders)
		}
		// Direct part.
		allowed := func(a string) bool { return a != owner && (modelIsMember(a) || a == ext) }
		for _, a := range im.Direct {
			if cov[a] && set.RevokeRedundant {
				fail("image %s: %s is covered and shared directly", im.ID, a)
			}
			if !tags.additive && !slices.Contains(tags.accounts, a) && !(cov[a] && !set.RevokeRedundant) {
				fail("image %s (exact): %s is shared directly but not tagged", im.ID, a)
			}
			if !tags.additive && !allowed(a) {
				fail("image %s (exact): %s is not allowed but shared", im.ID, a)
			}
		}
		n := 0
		for _, a := range tags.accounts {
			if allowed(a) && !cov[a] && !slices.Contains(im.Direct, a) {
				n++
			}
		}
		if n > 0 && len(im.Direct) < set.MaxAccountsPerImage {
			fail("image %s: %d tagged accounts lack access while there is room (%v)", im.ID, n, im.Direct)
		}
	}
}

func managedSharesAtLimit(st *state.State, set settings.Settings, name string) bool {
	n := 0
	for _, sh := range st.Shares {
		if sh.Name == name {
			return false
		}
		if modelManagedRE.MatchString(sh.Name) {
			n++
		}
	}
	return n >= set.MaxManagedShares
}
