// Package guardrail checks every write the functions make in the sandbox against the
// guardrails of the rules: no share with an account outside the directory and the
// allow-list or with the owner (R3), never IsPublic (R1), only images the owner owns
// (R1), only resource shares the functions own — by name, R4 — and never with
// external targets, at most MAX_ACCOUNTS_PER_IMAGE direct shares (R6) and
// MAX_MANAGED_SHARES managed shares (R4), tags written only for R8. The Auditor is fed
// by sandbox.Options.OnWrite; test/chaos uses it on every seed, and this package's
// tests run it over the scenario library and hostile scenarios.
package guardrail

import (
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"

	"imageshare/pkg/sandbox"
	"imageshare/pkg/scenario"
)

var (
	managedName = regexp.MustCompile(`^imageshare-[0-9a-f]{32}$`)
	accountID   = regexp.MustCompile(`^[0-9]{16}$`)
	sep         = regexp.MustCompile(`[,，;\s]+`)
)

// Auditor collects guardrail breaches of the functions' writes.
type Auditor struct {
	owner       string
	allowed     map[string]bool
	maxDirect   int
	maxManaged  int
	tagWrites   bool // REDUNDANCY_SCOPE=all: R8 writes tags
	writeTarget map[string]bool

	mu       sync.Mutex
	problems []string
	writes   int
	peak     map[string]int // image → most direct shares seen right after a write that added
	managed  int            // most managed shares seen at once
}

// New returns an auditor for a scenario's settings (the settings' defaults where it sets none).
func New(sc *scenario.Scenario) *Auditor {
	a := &Auditor{owner: sc.Owner, allowed: map[string]bool{}, maxDirect: 50, maxManaged: 100, peak: map[string]int{}}
	for _, t := range sep.Split(sc.Settings["ALLOWED_EXTERNAL_ACCOUNTS"], -1) {
		if t != "" {
			a.allowed[t] = true
		}
	}
	if n, err := strconv.Atoi(sc.Settings["MAX_ACCOUNTS_PER_IMAGE"]); err == nil {
		a.maxDirect = n
	}
	if n, err := strconv.Atoi(sc.Settings["MAX_MANAGED_SHARES"]); err == nil {
		a.maxManaged = n
	}
	a.tagWrites = sc.Settings["REDUNDANCY_SCOPE"] == "all"
	return a
}

func (a *Auditor) fail(w sandbox.Write, format string, args ...any) {
	a.problems = append(a.problems, fmt.Sprintf("%s (request %s): %s", w.Action, w.RequestID, fmt.Sprintf(format, args...)))
}

// OnWrite checks one write; it is safe for concurrent use.
func (a *Auditor) OnWrite(w sandbox.Write) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.writes++
	owners := map[string]string{}
	for _, im := range w.Images {
		owners[im.ID] = im.Owner
	}
	ownImage := func(id string) {
		if o, ok := owners[id]; ok && o != a.owner {
			a.fail(w, "touches image %s of account %s, which the owner does not own", id, o)
		}
	}
	shareName := map[string]string{}
	managed := 0
	for _, s := range w.Shares {
		shareName[s.ID] = s.Name
		if s.Status == "Active" && managedName.MatchString(s.Name) {
			managed++
		}
	}
	member := func(acc string) bool { _, ok := w.Members[acc]; return ok }
	target := func(t string) {
		switch {
		case strings.HasPrefix(t, "rd-"), strings.HasPrefix(t, "fd-"):
		case accountID.MatchString(t) && member(t) && t != a.owner:
		default:
			a.fail(w, "resource-sharing target %s is neither the directory, a folder nor a member", t)
		}
	}
	p := w.Params
	switch w.Action {
	case "ModifyImageSharePermission":
		ownImage(p["ImageId"])
		if v, ok := p["IsPublic"]; ok && !strings.EqualFold(v, "false") {
			a.fail(w, "sets IsPublic=%s", v)
		}
		if _, ok := p["LaunchPermission"]; ok {
			a.fail(w, "sets LaunchPermission")
		}
		adds := numbered(p, "AddAccount")
		for _, acc := range adds {
			switch {
			case acc == a.owner:
				a.fail(w, "shares image %s with its owner", p["ImageId"])
			case !member(acc) && !a.allowed[acc]:
				a.fail(w, "shares image %s with %s, outside the directory and ALLOWED_EXTERNAL_ACCOUNTS", p["ImageId"], acc)
			}
		}
		if len(adds) > 0 {
			n := w.DirectAfter[p["ImageId"]]
			a.peak[p["ImageId"]] = max(a.peak[p["ImageId"]], n)
			// A write that adds only accounts already shared (a share the cloud lists
			// asserted again) does not grow a list a person pushed over the limit.
			if n > a.maxDirect && n > w.DirectBefore[p["ImageId"]] {
				a.fail(w, "image %s has %d direct shares after adding, over MAX_ACCOUNTS_PER_IMAGE %d", p["ImageId"], n, a.maxDirect)
			}
		}
	case "TagResources", "UntagResources":
		if !a.tagWrites {
			a.fail(w, "writes tags although REDUNDANCY_SCOPE is not all")
		}
		for _, id := range numbered(p, "ResourceId") {
			ownImage(id)
		}
	case "CreateResourceShare":
		if !managedName.MatchString(p["ResourceShareName"]) {
			a.fail(w, "creates resource share %q, not a managed name", p["ResourceShareName"])
		}
		if strings.EqualFold(p["AllowExternalTargets"], "true") {
			a.fail(w, "creates a resource share with AllowExternalTargets=true")
		}
		for _, t := range numbered(p, "Targets") {
			target(t)
		}
		for _, r := range resources(p) {
			ownImage(r)
		}
	case "AssociateResourceShare", "DisassociateResourceShare", "UpdateResourceShare", "DeleteResourceShare":
		id := p["ResourceShareId"]
		name, ok := shareName[id]
		switch {
		case !ok:
			a.fail(w, "changes resource share %s, which the region does not list", id)
		case !managedName.MatchString(name):
			a.fail(w, "changes resource share %s (%q), which the functions did not create", id, name)
		}
		if w.Action == "UpdateResourceShare" && strings.EqualFold(p["AllowExternalTargets"], "true") {
			a.fail(w, "sets AllowExternalTargets=true")
		}
		if w.Action == "AssociateResourceShare" {
			for _, t := range numbered(p, "Targets") {
				target(t)
			}
		}
		for _, r := range resources(p) {
			ownImage(r)
		}
	default:
		a.fail(w, "a write the functions have no reason to make")
	}
	a.managed = max(a.managed, managed)
	if managed > a.maxManaged {
		a.fail(w, "%d managed resource shares, over MAX_MANAGED_SHARES %d", managed, a.maxManaged)
	}
}

// numbered reads Name.1, Name.2, … in order.
func numbered(p map[string]string, name string) []string {
	type kv struct {
		n int
		v string
	}
	var out []kv
	for k, v := range p {
		if rest, ok := strings.CutPrefix(k, name+"."); ok {
			if n, err := strconv.Atoi(rest); err == nil {
				out = append(out, kv{n, v})
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].n < out[j].n })
	vals := make([]string, len(out))
	for i, e := range out {
		vals[i] = e.v
	}
	return vals
}

// resources reads Resources.N.ResourceId.
func resources(p map[string]string) []string {
	var out []string
	for k, v := range p {
		if strings.HasPrefix(k, "Resources.") && strings.HasSuffix(k, ".ResourceId") {
			out = append(out, v)
		}
	}
	slices.Sort(out)
	return out
}

// Problems returns the breaches found so far.
func (a *Auditor) Problems() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return slices.Clone(a.problems)
}

// Writes counts the writes audited.
func (a *Auditor) Writes() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.writes
}

// PeakDirect is the most direct shares an image had right after a write that added.
func (a *Auditor) PeakDirect(image string) int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.peak[image]
}

// PeakManaged is the most managed resource shares seen at once.
func (a *Auditor) PeakManaged() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.managed
}
