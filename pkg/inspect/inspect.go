// Package inspect answers an operator's questions without changing anything: what the
// functions would do now (plan), why an account has or lacks access to an image
// (explain), and what imageshare manages (status). It observes the cloud and plans
// exactly as the reconcile function does — observe, plan.Make, then the applier's dry
// run, with the deployment's settings — so its answers are the functions' decisions,
// not a second planner's.
package inspect

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sort"
	"time"

	"imageshare/pkg/apply"
	"imageshare/pkg/cloud"
	"imageshare/pkg/observe"
	"imageshare/pkg/plan"
	"imageshare/pkg/policy"
	"imageshare/pkg/report"
	"imageshare/pkg/settings"
	"imageshare/pkg/state"
)

// Config is what every question needs.
type Config struct {
	API      cloud.API
	Settings settings.Settings
	// Owner is the account that owns the images (the one the functions run in).
	Owner string
	// Now is the clock (nil: the wall clock, UTC).
	Now func() time.Time
}

func (c Config) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now().UTC()
}

// Request says what to look at in one region.
type Request struct {
	Region string
	// Images to look at; empty: every image the sweep covers (managed images, and every
	// owned custom image when REDUNDANCY_SCOPE=all).
	Images []string
	// Set and Unset are tag edits to imagine on Images before planning: what a tag
	// would do before anyone sets it.
	Set   map[string]string
	Unset []string
}

// Hypothetical reports whether the request imagines tag edits.
func (r Request) Hypothetical() bool { return len(r.Set) > 0 || len(r.Unset) > 0 }

// View is what the functions would see and do in one region.
type View struct {
	Region string
	Owner  string
	// Hypothetical: the tags of the images named were edited as the request said.
	Hypothetical bool
	State        *state.State
	Plan         *plan.Plan
	// Entries are the applier's dry-run entries: every change the functions would make
	// and every refusal and postponement, in the order they would happen.
	Entries []report.Entry
}

// Look observes one region and plans it as a reconcile run would. A run about named
// images retries Failed associations when it imagines tag edits (a tag change does, in
// the functions); otherwise it decides as the sweep's run would.
func Look(ctx context.Context, cfg Config, req Request) (*View, error) {
	if req.Region == "" {
		return nil, fmt.Errorf("inspect: no region")
	}
	if req.Hypothetical() && len(req.Images) == 0 {
		return nil, fmt.Errorf("inspect: tag edits need the images they apply to")
	}
	api := cfg.API
	if req.Hypothetical() {
		api = &overlay{API: api, images: req.Images, set: req.Set, unset: req.Unset}
	}
	// The applier's retries (R9) with the deployment's settings, as in the functions.
	a := &apply.Applier{API: api, Settings: cfg.Settings}
	st, err := observe.Observe(ctx, api, observe.Request{
		Region: req.Region, Owner: cfg.Owner, Now: cfg.now(), Images: req.Images, All: len(req.Images) == 0,
		Untagged: cfg.Settings.RedundancyScope == settings.ScopeAll, Prefix: cfg.Settings.TagPrefix,
		RetryFailed: req.Hypothetical(),
	}, a.Call)
	if err != nil {
		return nil, fmt.Errorf("observe %s: %w", req.Region, err)
	}
	p := plan.Make(st, cfg.Settings)
	// The dry run of the applier turns the plan into the entries the functions would log
	// and notify; it calls no API.
	dry := cfg.Settings
	dry.DryRun = true
	out, err := (&apply.Applier{API: api, Settings: dry}).Apply(ctx, st, p)
	if err != nil {
		return nil, fmt.Errorf("plan %s: %w", req.Region, err)
	}
	return &View{Region: req.Region, Owner: cfg.Owner, Hypothetical: req.Hypothetical(), State: st, Plan: p, Entries: out.Entries}, nil
}

// Changes are the entries that would change something.
func (v *View) Changes() []report.Entry {
	return v.filter(func(e report.Entry) bool { return e.Change() })
}

// Awaiting lists the images whose plan holds an R12 removal: "awaiting confirmation"
// means the current plan would take access away only on a second look SETTLE_DELAY
// later at unchanged tags — not that a confirming job exists.
func (v *View) Awaiting() []string {
	var out []string
	for _, ip := range v.Plan.Images {
		if len(ip.Confirm) > 0 {
			out = append(out, ip.Image)
		}
	}
	return out
}

// Refusals are the entries that refuse something.
func (v *View) Refusals() []report.Entry {
	return v.filter(func(e report.Entry) bool { return e.Action == plan.ActRefuse })
}

// Postponed are the entries of images not Available yet.
func (v *View) Postponed() []report.Entry {
	return v.filter(func(e report.Entry) bool { return e.Action == plan.ActPostpone })
}

// ImageEntries are the entries about one image.
func (v *View) ImageEntries(image string) []report.Entry {
	return v.filter(func(e report.Entry) bool { return e.Image == image })
}

func (v *View) filter(keep func(report.Entry) bool) []report.Entry {
	var out []report.Entry
	for _, e := range v.Entries {
		if keep(e) {
			out = append(out, e)
		}
	}
	return out
}

// Image returns the observed image, if the view has it.
func (v *View) Image(id string) *state.Image {
	for i := range v.State.Images {
		if v.State.Images[i].ID == id {
			return &v.State.Images[i]
		}
	}
	return nil
}

// Organization lists the targets through which an image is shared now: the targets
// Associated in a resource share in which the image is Associated (R5), sorted.
func (v *View) Organization(image string) []string {
	var out []string
	for _, sh := range v.State.Shares {
		if !sh.Resources[image].Active() {
			continue
		}
		for t, a := range sh.Targets {
			if a.Active() && !slices.Contains(out, t) {
				out = append(out, t)
			}
		}
	}
	sort.Strings(out)
	return out
}

// overlay shows DescribeImages' answers with tag edits applied to some images, so that
// the observer and the planner see the tags an operator is about to set.
type overlay struct {
	cloud.API
	images []string
	set    map[string]string
	unset  []string
}

func (o *overlay) DescribeImages(ctx context.Context, in cloud.DescribeImagesInput) (cloud.ImagePage, error) {
	p, err := o.API.DescribeImages(ctx, in)
	if err != nil {
		return p, err
	}
	for i := range p.Images {
		im := &p.Images[i]
		if !slices.Contains(o.images, im.ID) {
			continue
		}
		tags := maps.Clone(im.Tags)
		if tags == nil {
			tags = map[string]string{}
		}
		for _, k := range o.unset {
			delete(tags, k)
		}
		maps.Copy(tags, o.set)
		im.Tags = tags
	}
	return p, nil
}

// Managed reports whether tags make an image managed under prefix.
func Managed(prefix string, tags map[string]string) bool { return policy.Parse(prefix, tags).Managed }
