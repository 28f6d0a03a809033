// Package guardrail checks every write the functions make in the sandbox against the
// guardrails of the rules: no share with an account outside the directory and the
// allow-list or with the owner (R3), never IsPublic (R1), only images the owner owns
// (R1), only resource shares the functions own — by name, R4 — and never with
// external targets, at most MAX_ACCOUNTS_PER_IMAGE direct shares (R6) and
// MAX_MANAGED_SHARES managed shares (R4), tags written only for R8 and on copies (only
// the source's sharing keys and the origin key, only on copies of the owner's own
// images), and copies made only of the owner's images, carrying only those keys
// (docs/regions.md). The Auditor is fed
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

	"imageshare/pkg/cloudsim"
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
	tagPrefix   string
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
	a.tagPrefix = sc.Settings["TAG_PREFIX"]
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
		for _, id := range numbered(p, "ResourceId") {
			ownImage(id)
			if !a.copyTags(w, id) && !a.tagWrites {
				a.fail(w, "writes tags on image %s, which is not a copy, although REDUNDANCY_SCOPE is not all", id)
			}
		}
	case "CopyImage":
		a.copyImage(w)
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

// image finds an image by ID in the write's region or elsewhere.
func image(w sandbox.Write, id string) (cloudsim.ImageView, bool) {
	for _, v := range slices.Concat(w.Images, w.Elsewhere) {
		if v.ID == id {
			return v, true
		}
	}
	return cloudsim.ImageView{}, false
}

// prefix is the tag prefix of the written keys (imageshare unless TAG_PREFIX changes it).
func (a *Auditor) prefix() string {
	if a.tagPrefix != "" {
		return a.tagPrefix
	}
	return "imageshare"
}

// sharingKey: accounts, accounts:…, folders, folders:…, mode under the prefix.
func sharingKey(prefix, k string) bool {
	rest, ok := strings.CutPrefix(k, prefix+":")
	return ok && (rest == "mode" || rest == "accounts" || strings.HasPrefix(rest, "accounts:") || rest == "folders" || strings.HasPrefix(rest, "folders:"))
}

// copyTags checks a tag write on image id when it is a copy (it carries the origin key
// after the write): written keys are the source's sharing keys with the source's values
// (or accounts=none where the source no longer asks for the copy's region) and the
// origin key unchanged; removed keys are prefix keys the source does not ask for. It
// reports whether the image is a copy.
func (a *Auditor) copyTags(w sandbox.Write, id string) bool {
	prefix := a.prefix()
	im, ok := image(w, id)
	if !ok {
		return false
	}
	origin := im.Tags[prefix+":source"]
	if origin == "" {
		return false
	}
	srcRegion, srcID, _ := strings.Cut(origin, "/")
	src, ok := image(w, srcID)
	switch {
	case !ok || src.Region != srcRegion:
		a.fail(w, "writes tags on copy %s, whose source %s does not exist", id, origin)
		return true
	case src.Owner != a.owner:
		a.fail(w, "writes tags on copy %s of image %s, which the owner does not own", id, origin)
		return true
	}
	wanted := slices.Contains(sep.Split(src.Tags[prefix+":regions"], -1), im.Region)
	p := w.Params
	if w.Action == "TagResources" {
		for i := 1; ; i++ {
			k, ok := p["Tag."+strconv.Itoa(i)+".Key"]
			if !ok {
				break
			}
			v := p["Tag."+strconv.Itoa(i)+".Value"]
			switch {
			case k == prefix+":source":
				if v != origin {
					a.fail(w, "rewrites the origin key of copy %s to %q", id, v)
				}
			case !sharingKey(prefix, k):
				a.fail(w, "writes key %s on copy %s, which is neither a sharing key nor the origin key", k, id)
			case k == prefix+":accounts" && v == "none" && !wanted:
			case src.Tags[k] != v:
				a.fail(w, "writes %s=%q on copy %s, while its source %s has %q", k, v, id, origin, src.Tags[k])
			}
		}
		return true
	}
	for _, k := range numbered(p, "TagKey") {
		switch {
		case k == prefix+":source":
			a.fail(w, "removes the origin key of copy %s", id)
		case wanted && sharingKey(prefix, k) && src.Tags[k] != "":
			a.fail(w, "removes %s from copy %s, which its source %s still has", k, id, origin)
		}
	}
	return true
}

// copyImage checks a copy: of the owner's own image, tagged only with the origin key
// naming that image and the source's sharing keys with their values, never regions.
func (a *Auditor) copyImage(w sandbox.Write) {
	prefix := a.prefix()
	p := w.Params
	src, ok := image(w, p["ImageId"])
	if !ok || src.Owner != a.owner {
		a.fail(w, "copies image %s, which is not the owner's", p["ImageId"])
		return
	}
	origin := false
	for i := 1; ; i++ {
		k, ok := p["Tag."+strconv.Itoa(i)+".Key"]
		if !ok {
			break
		}
		v := p["Tag."+strconv.Itoa(i)+".Value"]
		switch {
		case k == prefix+":source":
			origin = true
			if v != p["RegionId"]+"/"+p["ImageId"] {
				a.fail(w, "tags the copy of %s with origin %q", p["ImageId"], v)
			}
		case !sharingKey(prefix, k):
			a.fail(w, "tags the copy of %s with %s, neither a sharing key nor the origin key", p["ImageId"], k)
		case src.Tags[k] != v:
			a.fail(w, "tags the copy of %s with %s=%q, while the image has %q", p["ImageId"], k, v, src.Tags[k])
		}
	}
	if !origin {
		a.fail(w, "copies image %s without the origin key", p["ImageId"])
	}
}
