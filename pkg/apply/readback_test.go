package apply

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	"imageshare/pkg/cloud"
	"imageshare/pkg/plan"
)

// readBackAPI is a pure unit fake for R8: TagResources keeps the tags a test lets
// through (a cloud that drops or truncates what it was given), DescribeImages reads
// them back, ModifyImageSharePermission records what is removed.
type readBackAPI struct {
	cloud.API
	keep     func(tags map[string]string) map[string]string
	tagErr   error
	readErr  error
	tags     map[string]string
	removed  []string
	tagCalls int
}

func (f *readBackAPI) TagResources(_ context.Context, _ string, _ []string, tags map[string]string) (cloud.Result, error) {
	f.tagCalls++
	if f.tagErr != nil {
		return cloud.Result{}, f.tagErr
	}
	f.tags = maps.Clone(tags)
	if f.keep != nil {
		f.tags = f.keep(f.tags)
	}
	return cloud.Result{RequestID: "T"}, nil
}

func (f *readBackAPI) DescribeImages(_ context.Context, in cloud.DescribeImagesInput) (cloud.ImagePage, error) {
	if f.readErr != nil {
		return cloud.ImagePage{}, f.readErr
	}
	return cloud.ImagePage{Images: []cloud.Image{{ID: in.ImageIDs[0], OwnerAlias: "self", Status: "Available", Tags: f.tags}}, Total: 1}, nil
}

func (f *readBackAPI) ModifyImageSharePermission(_ context.Context, _, _ string, add, remove []string) (cloud.Result, error) {
	if len(add) > 0 {
		return cloud.Result{}, fmt.Errorf("R8 adds nothing, got add=%v", add)
	}
	f.removed = append(f.removed, remove...)
	return cloud.Result{RequestID: "M"}, nil
}

// TestRetainRevokesOnlyWhatTheReadBackShows is SPEC R8: the revoked IDs are recorded in
// tags first, and only the accounts a read-back shows recorded are revoked — all when
// all are there, some when the cloud kept part of the value, none when it kept none or
// the read-back fails.
func TestRetainRevokesOnlyWhatTheReadBackShows(t *testing.T) {
	const a1, a2, a3 = "1000000000000011", "1000000000000012", "1000000000000013"
	const key = "imageshare:accounts:retained"
	retain := &plan.Retain{Tags: map[string]string{"imageshare:mode": "additive", key: a1 + "," + a2 + "," + a3},
		Accounts: []string{a1, a2, a3}}
	cases := []struct {
		name    string
		api     *readBackAPI
		revoked []string
	}{
		{"all recorded", &readBackAPI{}, []string{a1, a2, a3}},
		{"value cut short", &readBackAPI{keep: func(t map[string]string) map[string]string {
			t[key] = a1 + "," + a3[:10] // the cloud kept part of it: a3 is no ID any more, a2 is gone
			return t
		}}, []string{a1}},
		{"recorded under a later key", &readBackAPI{keep: func(t map[string]string) map[string]string {
			t[key] = a2
			t[key+":2"] = a3
			return t
		}}, []string{a2, a3}},
		{"nothing recorded", &readBackAPI{keep: func(t map[string]string) map[string]string {
			delete(t, key)
			return t
		}}, nil},
		{"recorded under another key", &readBackAPI{keep: func(t map[string]string) map[string]string {
			t["imageshare:accounts"] = t[key] // not where R8 records: it does not count
			delete(t, key)
			return t
		}}, nil},
		{"read-back refused", &readBackAPI{readErr: &cloud.Error{Code: "Forbidden.RAM", HTTPStatus: 403}}, nil},
		{"tags refused", &readBackAPI{tagErr: &cloud.Error{Code: "InvalidTagKey.Malformed", HTTPStatus: 400}}, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a, _ := testApplier(t, c.api, nil)
			p := &plan.Plan{Region: "cn-hangzhou", Images: []plan.ImagePlan{{Image: "m-1", Retain: retain}}}
			out, err := a.Apply(context.Background(), st, p)
			if err != nil {
				t.Fatal(err)
			}
			if c.api.tagCalls != 1 {
				t.Fatalf("%d TagResources calls, want one", c.api.tagCalls)
			}
			got := slices.Clone(c.api.removed)
			slices.Sort(got)
			if !slices.Equal(got, c.revoked) {
				t.Fatalf("revoked %v, want %v", got, c.revoked)
			}
			var unshared []string
			for _, e := range out.Entries {
				if e.Action == plan.ActUnshare {
					unshared = append(unshared, e.Subject)
				}
			}
			slices.Sort(unshared)
			if !slices.Equal(unshared, c.revoked) {
				t.Fatalf("reported unshares %v, want %v", unshared, c.revoked)
			}
			if c.api.tagErr != nil {
				if r := entries(out, plan.ActRefuse); len(r) != 1 || !strings.Contains(r[0], plan.ReasonRetain) {
					t.Fatalf("a refused tag write must be a refusal naming R8's reason: %v", r)
				}
			}
		})
	}
}
