package apply

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"imageshare/pkg/cloud"
	"imageshare/pkg/plan"
	"imageshare/pkg/state"
)

// copyCloud is a pure unit fake of CopyImage as docs/regions.md reads its reference: a
// repeated ClientToken answers the first request's copy; a copy is listed by
// DescribeImages only once listed is set (a destination that lists new copies late); and
// the first CopyImage makes its copy and then answers 503, its answer lost.
type copyCloud struct {
	cloud.API
	made   []string
	tokens map[string]string
	listed bool
	calls  int
}

func (c *copyCloud) CopyImage(_ context.Context, in cloud.CopyImageInput) (string, cloud.Result, error) {
	c.calls++
	if id, ok := c.tokens[in.ClientToken]; ok && in.ClientToken != "" {
		return id, cloud.Result{RequestID: "R-again"}, nil
	}
	id := fmt.Sprintf("m-Copy%d", len(c.made)+1)
	c.made = append(c.made, id)
	if in.ClientToken != "" {
		c.tokens[in.ClientToken] = id
	}
	if c.calls == 1 {
		return "", cloud.Result{}, &cloud.Error{Code: "ServiceUnavailable", HTTPStatus: 503, Action: "CopyImage"}
	}
	return id, cloud.Result{RequestID: "R-copy"}, nil
}

func (c *copyCloud) DescribeImages(_ context.Context, in cloud.DescribeImagesInput) (cloud.ImagePage, error) {
	var p cloud.ImagePage
	if c.listed {
		for _, id := range c.made {
			p.Images = append(p.Images, cloud.Image{ID: id, OwnerAlias: "self", Status: "Creating",
				Tags: map[string]string{"imageshare:source": "cn-hangzhou/m-Base00000001"}})
		}
	}
	p.Total = len(p.Images)
	return p, nil
}

// A CopyImage whose answer was lost after it made the copy is retried; the retry makes
// no second copy, whether the destination lists the copy already (the lookup before the
// retry finds it) or not yet (the same ClientToken answers the first copy).
func TestCopyAfterALostAnswerMakesNoSecondCopy(t *testing.T) {
	for _, listed := range []bool{false, true} {
		t.Run(fmt.Sprintf("listed=%v", listed), func(t *testing.T) {
			api := &copyCloud{tokens: map[string]string{}, listed: listed}
			a, _ := testApplier(t, api, nil)
			st := &state.State{Region: "cn-hangzhou", Owner: "1000000000000001", Images: []state.Image{{ID: "m-Base00000001", OwnerAlias: "self"}}}
			p := &plan.Plan{Region: "cn-hangzhou", Images: []plan.ImagePlan{{Image: "m-Base00000001", Copies: []plan.CopyOp{{Op: plan.ActCopy, Region: "cn-shanghai",
				Tags: map[string]string{"imageshare:source": "cn-hangzhou/m-Base00000001"}, Token: "imageshare-tok"}}}}}
			out, err := a.Apply(context.Background(), st, p)
			if err != nil {
				t.Fatal(err)
			}
			if len(api.made) != 1 {
				t.Fatalf("%d copies made (%v), want 1", len(api.made), api.made)
			}
			if ids := out.Handoff["cn-shanghai"]; len(ids) != 1 || ids[0] != api.made[0] {
				t.Fatalf("handed over %v, want the one copy %s", out.Handoff, api.made[0])
			}
		})
	}
}

// Under DRY_RUN a copy and a retag are reported ("would be") and nothing is written or
// handed over.
func TestCopiesUnderDryRunWriteNothing(t *testing.T) {
	api := &copyCloud{tokens: map[string]string{}}
	a, _ := testApplier(t, api, map[string]string{"DRY_RUN": "true"})
	st := &state.State{Region: "cn-hangzhou", Owner: "1000000000000001"}
	p := &plan.Plan{Region: "cn-hangzhou", Images: []plan.ImagePlan{{Image: "m-Base00000001", Copies: []plan.CopyOp{
		{Op: plan.ActCopy, Region: "cn-shanghai", Token: "t"},
		{Op: plan.ActRetag, Region: "cn-beijing", Copy: "m-Bj", Tags: map[string]string{"imageshare:accounts": "none"}, Unset: []string{"imageshare:folders"}, Withdrawn: true}}}}}
	out, err := a.Apply(context.Background(), st, p)
	if err != nil {
		t.Fatal(err)
	}
	if api.calls != 0 || len(out.Handoff) != 0 {
		t.Fatalf("a dry run called CopyImage %d times and handed over %v", api.calls, out.Handoff)
	}
	var got []string
	for _, e := range out.Entries {
		if !e.DryRun {
			t.Errorf("entry not marked dry run: %+v", e)
		}
		got = append(got, e.Action+"|"+e.Subject)
	}
	if want := "copy|cn-shanghai retag|cn-beijing keep|cn-beijing"; strings.Join(got, " ") != want {
		t.Fatalf("entries %v, want %s", got, want)
	}
}
