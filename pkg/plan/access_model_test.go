package plan

// The property test's own reading of who can boot an image and of what the tags ask
// for, written from the rules' text for the worlds randomState makes. It shares nothing
// with the product's reading (no state.Coverage, state.Reaches, policy.Parse,
// ShareName, IsManagedName), so a bug there cannot hide behind the invariant it checks.

import (
	"crypto/sha256"
	"encoding/hex"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"imageshare/pkg/state"
)

// The directory of testDirectory, as the test itself knows it: each folder's parent
// (the root's parent is the directory) and each member's folder.
var (
	modelParent   = map[string]string{root: rdID, prod: root, sub: prod, dev: root, empty: root}
	modelMemberIn = map[string]string{m2: prod, m3: sub, m4: dev, m5: root}
)

var (
	modelAccountRE   = regexp.MustCompile(`^[0-9]{16}$`)
	modelFolderRE    = regexp.MustCompile(`^fd-[A-Za-z0-9]{10}$`)
	modelDirectoryRE = regexp.MustCompile(`^rd-[A-Za-z0-9]{6,}$`)
	modelManagedRE   = regexp.MustCompile(`^imageshare-[0-9a-f]{32}$`)
)

// modelWithin reports whether folder f is t or lies below it, walking the test's tree.
func modelWithin(f, t string) bool {
	for i := 0; f != "" && i < 10; i++ {
		if f == t {
			return true
		}
		f = modelParent[f]
	}
	return false
}

// modelReach: a directory target reaches every member, a folder every member in it or
// below it, an account itself (a member, or anyone when the share allows external
// targets).
func modelReach(target string, external bool) []string {
	var out []string
	for m, f := range modelMemberIn {
		if target == rdID || target == m || modelFolderRE.MatchString(target) && modelWithin(f, target) {
			out = append(out, m)
		}
	}
	if external && modelAccountRE.MatchString(target) && modelMemberIn[target] == "" {
		out = append(out, target)
	}
	return out
}

// modelCoverage: the accounts reaching the image through a resource share in which the
// image and the target both read Associated; never the owner.
func modelCoverage(st *state.State, image string) map[string]bool {
	out := map[string]bool{}
	for _, sh := range st.Shares {
		if sh.Resources[image].Status != "Associated" {
			continue
		}
		for t, a := range sh.Targets {
			if a.Status != "Associated" {
				continue
			}
			for _, m := range modelReach(t, sh.AllowExternal) {
				if m != owner {
					out[m] = true
				}
			}
		}
	}
	return out
}

// modelAccess: who can boot the image: its direct shares and its coverage.
func modelAccess(st *state.State, image string) map[string]bool {
	out := modelCoverage(st, image)
	for _, im := range st.Images {
		if im.ID == image {
			for _, a := range im.Direct {
				out[a] = true
			}
		}
	}
	return out
}

func modelIsMember(a string) bool { return modelMemberIn[a] != "" }

func modelFolderExists(f string) bool { return modelFolderRE.MatchString(f) && modelParent[f] != "" }

// modelTags is what the tag language makes of the keys randomState writes.
type modelTags struct {
	managed, broken, additive bool
	accounts, folders         []string
}

// modelRead reads the tags: `imageshare:accounts` before its suffixed keys, tokens cut
// on commas and white space, `none` alone an empty list, any bad token or key or mode
// a tag error.
func modelRead(tags map[string]string) modelTags {
	var t modelTags
	var accountKeys, folderKeys []string
	for k, v := range tags {
		if k != "imageshare" && !strings.HasPrefix(k, "imageshare:") {
			continue
		}
		t.managed = true
		switch {
		case k == "imageshare:accounts" || strings.HasPrefix(k, "imageshare:accounts:"):
			accountKeys = append(accountKeys, k)
		case k == "imageshare:folders" || strings.HasPrefix(k, "imageshare:folders:"):
			folderKeys = append(folderKeys, k)
		case k == "imageshare:mode":
			switch strings.TrimSpace(v) {
			case "exact":
			case "additive":
				t.additive = true
			default:
				t.broken = true
			}
		default:
			t.broken = true
		}
	}
	// The bare key sorts first; randomState's suffixes are one character each.
	sort.Strings(accountKeys)
	sort.Strings(folderKeys)
	read := func(keys []string, ok func(string) bool) []string {
		var out []string
		for _, k := range keys {
			toks := strings.FieldsFunc(tags[k], func(r rune) bool { return r == ',' || r == ' ' })
			if len(toks) == 0 || len(toks) > 1 && slices.Contains(toks, "none") {
				t.broken = true
				continue
			}
			if len(toks) == 1 && toks[0] == "none" {
				continue
			}
			for _, tok := range toks {
				if !ok(tok) {
					t.broken = true
				} else if !slices.Contains(out, tok) {
					out = append(out, tok)
				}
			}
		}
		return out
	}
	t.accounts = read(accountKeys, modelAccountRE.MatchString)
	t.folders = read(folderKeys, func(s string) bool { return modelFolderRE.MatchString(s) || modelDirectoryRE.MatchString(s) })
	return t
}

// modelTarget is R4's normalized set: the folders that exist and the directory (only
// it when named), no folder under another of the set; sorted.
func modelTarget(folders []string) []string {
	var ok []string
	for _, f := range folders {
		if f == rdID || modelFolderExists(f) {
			ok = append(ok, f)
		}
	}
	if slices.Contains(ok, rdID) {
		return []string{rdID}
	}
	var o []string
	for _, f := range ok {
		below := false
		for _, g := range ok {
			if g != f && modelWithin(modelParent[f], g) {
				below = true
			}
		}
		if !below && !slices.Contains(o, f) {
			o = append(o, f)
		}
	}
	sort.Strings(o)
	return o
}

// modelShareName is R4's name of the managed share of a target set.
func modelShareName(set []string) string {
	s := slices.Clone(set)
	sort.Strings(s)
	sum := sha256.Sum256([]byte(strings.Join(s, ",")))
	return "imageshare-" + hex.EncodeToString(sum[:])[:32]
}

func modelHolding(status string) bool {
	return status == "Associating" || status == "Associated" || status == "Failed"
}

// TestModelDirectoryIsTestDirectory: the test's tree is the directory the planner is
// given, so the two readings look at the same organization.
func TestModelDirectoryIsTestDirectory(t *testing.T) {
	d := testDirectory()
	for id, m := range d.Members {
		if got := m.Path[len(m.Path)-1]; modelMemberIn[id] != got {
			t.Errorf("member %s: in %s, the model says %s", id, got, modelMemberIn[id])
		}
	}
	for f, anc := range d.Folders {
		if got := anc[len(anc)-1]; modelParent[f] != got {
			t.Errorf("folder %s: parent %s, the model says %s", f, got, modelParent[f])
		}
	}
	if len(d.Members) != len(modelMemberIn) || len(d.Folders)+1 != len(modelParent) {
		t.Errorf("the model knows %d members and %d folders, the directory %d and %d", len(modelMemberIn), len(modelParent)-1, len(d.Members), len(d.Folders))
	}
	// And the model reads sub-folders as the rules say.
	if got := modelReach(prod, false); !slices.Equal(slices.Sorted(slices.Values(got)), []string{m2, m3}) {
		t.Errorf("%s reaches %v", prod, got)
	}
	if got := modelTarget([]string{sub, prod, "fd-Nope000001"}); !slices.Equal(got, []string{prod}) {
		t.Errorf("normalized %v", got)
	}
}
