package plan

import (
	"reflect"
	"testing"
	"time"

	"imageshare/pkg/settings"
	"imageshare/pkg/state"
)

const (
	owner = "1000000000000001"
	m2    = "1000000000000002" // in fd-Prod000001
	m3    = "1000000000000003" // in fd-Sub0000001 (under prod)
	m4    = "1000000000000004" // in fd-Dev0000001
	m5    = "1000000000000005" // at the root
	ext   = "2000000000000001" // outside, allowed
	out   = "2000000000000002" // outside, not allowed
	rdID  = "rd-Ab12Cd"
	root  = "r-Ab12Cd"
	prod  = "fd-Prod000001"
	sub   = "fd-Sub0000001"
	dev   = "fd-Dev0000001"
	empty = "fd-Empty00001" // exists, no members
)

var t0 = time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)

func testDirectory() *state.Directory {
	return &state.Directory{
		ID: rdID, RootID: root,
		Members: map[string]state.Member{
			m2: {ID: m2, Path: []string{rdID, root, prod}},
			m3: {ID: m3, Path: []string{rdID, root, prod, sub}},
			m4: {ID: m4, Path: []string{rdID, root, dev}},
			m5: {ID: m5, Path: []string{rdID, root}},
		},
		Folders: map[string][]string{
			prod: {root}, sub: {root, prod}, dev: {root}, empty: {root},
		},
	}
}

func testSettings(t *testing.T, env map[string]string) settings.Settings {
	t.Helper()
	e := map[string]string{"ALLOWED_EXTERNAL_ACCOUNTS": ext}
	for k, v := range env {
		e[k] = v
	}
	s, err := settings.Load(func(k string) string { return e[k] })
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func testState(images ...state.Image) *state.State {
	return &state.State{Region: "cn-hangzhou", Owner: owner, Now: t0, Directory: testDirectory(), Images: images}
}

func img(id string, tags map[string]string, direct ...string) state.Image {
	return state.Image{ID: id, OwnerAlias: "self", Status: state.Available, Created: t0.Add(-time.Hour), Tags: tags, Direct: direct}
}

func assoc(status string) state.Association {
	return state.Association{Status: status, Updated: t0.Add(-time.Hour)}
}

// share builds a resource share whose entities all have one status.
func share(id, name string, created time.Time, status string, targets []string, images ...string) state.Share {
	sh := state.Share{ID: id, Name: name, Created: created, Resources: map[string]state.Association{}, Targets: map[string]state.Association{}}
	for _, t := range targets {
		sh.Targets[t] = assoc(status)
	}
	for _, i := range images {
		sh.Resources[i] = assoc(status)
	}
	return sh
}

func refusalKeys(ip *ImagePlan) []string {
	var out []string
	for _, r := range ip.Refusals {
		out = append(out, r.Subject+"|"+r.Reason)
	}
	return out
}

func unshareKeys(ip *ImagePlan) []string {
	var out []string
	for _, u := range ip.Unshare {
		out = append(out, u.Account+"|"+u.Why)
	}
	return out
}

func names(refs []ShareRef) []string {
	var out []string
	for _, r := range refs {
		out = append(out, r.Name)
	}
	return out
}

func eq[T any](t *testing.T, what string, got, want T) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s = %#v, want %#v", what, got, want)
	}
}

// confirmKeys lists the removals awaiting confirmation as subject|why.
func confirmKeys(ip *ImagePlan) []string {
	var out []string
	for _, r := range ip.Confirm {
		out = append(out, r.Subject+"|"+r.Why)
	}
	return out
}

// carry is what a confirming job (and a re-check of the chain) brings to the next run:
// each image's removals awaiting confirmation, or confirmed ones still held back, with
// the fingerprint of the look that found them.
func carry(st *state.State, p *Plan) {
	st.Confirmed = map[string][]state.Confirmation{}
	for _, ip := range p.Images {
		keys := append(Keys(ip.Confirm), ip.Held...)
		if len(keys) > 0 {
			st.Confirmed[ip.Image] = []state.Confirmation{{Fingerprint: ip.Fingerprint, Removals: keys}}
		}
	}
}
