package main

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"imageshare/pkg/aliyun"
	"imageshare/pkg/cloud"
	"imageshare/pkg/cloudsim"
	"imageshare/pkg/cloudsim/emu"
	"imageshare/pkg/plan"
	"imageshare/pkg/policy"
	"imageshare/pkg/rampolicy"
)

// The baseline does what peers do (the Terraform provider's image share permission
// resource and most samples): per managed image, describe it, read its share list,
// read the directory to check the accounts and what the folders reach, find its
// resource share and association, and change one account per call. It runs through
// the real SDK (package aliyun) against an emulated cloud like the sandbox's, with
// Terraform's default parallelism of 10, and without any retry policy of its own
// (the cloud is not throttled in this run).
const baselineWorkers = 10

const baselineRole = "peer-baseline"

// BaselineResult is what the baseline run did.
type BaselineResult struct {
	Calls    map[string]int
	Wall     time.Duration
	Mismatch []string
}

// runBaseline builds a fresh emulated cloud holding w and runs the baseline on it.
func runBaseline(ctx context.Context, w *World, latency time.Duration) (*BaselineResult, error) {
	clock, keys := emu.NewClock(emu.Epoch), emu.NewKeyring()
	c := cloudsim.New(cloudsim.Config{Clock: clock, Keys: keys, Latency: latency, AssociationDelay: 20 * time.Second})
	eps, stop, err := c.Serve()
	if err != nil {
		return nil, fmt.Errorf("baseline cloud: %w", err)
	}
	defer stop()
	loadWorld(c, w, clock.Now())
	// The peer's role holds the same policy as the functions' (it makes the same calls).
	doc, err := rampolicy.Render(rampolicy.Deployment{Account: owner, Region: region, JobQueue: "imageshare-jobs"})
	if err != nil {
		return nil, fmt.Errorf("baseline policy: %w", err)
	}
	if err := c.RAM().Grant(owner, baselineRole, baselineRole, string(doc)); err != nil {
		return nil, fmt.Errorf("baseline role: %w", err)
	}
	cred := keys.AssumeRole(owner, baselineRole, "baseline", 24*time.Hour)
	api, err := aliyun.New(aliyun.Config{Region: region, Endpoints: eps, Pacer: cloud.NewPacer(),
		Credentials: cloud.Credentials{AccessKeyID: cred.AccessKeyID, AccessKeySecret: cred.AccessKeySecret, SecurityToken: cred.SecurityToken}})
	if err != nil {
		return nil, fmt.Errorf("baseline client: %w", err)
	}
	began := time.Now()
	if err := baseline(ctx, api); err != nil {
		return nil, err
	}
	res := &BaselineResult{Wall: time.Since(began), Calls: map[string]int{}}
	for _, call := range c.Calls() {
		if call.Caller.RoleName == baselineRole {
			res.Calls[call.RAMAction]++
		}
	}
	// Let the associations finish, then compare with the converged state.
	clock.Advance(time.Minute)
	c.RunDue()
	var views []viewOf
	for _, v := range c.Images(region) {
		views = append(views, viewOf{v.ID, v.Direct, v.Organization})
	}
	res.Mismatch = compareViews(w, views)
	return res, nil
}

// loadWorld puts w into an emulated cloud, as the sandbox does with a scenario.
func loadWorld(c *cloudsim.Cloud, w *World, now time.Time) {
	sc := w.Scenario()
	c.AddAccount(owner, "china")
	c.SetDirectory(cloudsim.DirectorySpec{ID: dirID, RootID: rootID, Master: owner, SharingEnabled: true})
	for _, f := range sc.Directory.Folders {
		c.AddFolder(f.ID, f.Name, f.Parent)
	}
	for _, a := range sc.Directory.Accounts {
		c.AddAccount(a.ID, a.Site)
		c.AddMember(a.ID, a.Folder)
	}
	for _, im := range sc.Images {
		c.PutImage(region, cloudsim.ImageSpec{ID: im.ID, Owner: owner, Status: im.Status, Tags: im.Tags, SharedWith: im.SharedWith,
			Created: now.Add(-time.Hour)})
	}
	for _, rs := range sc.ResourceShares {
		c.PutResourceShare(region, owner, rs.Name, rs.Targets, rs.Images)
	}
}

func baseline(ctx context.Context, api cloud.API) error {
	var managed []string
	for page := 1; ; page++ {
		p, err := api.DescribeImages(ctx, cloud.DescribeImagesInput{Region: region, Statuses: cloud.AllStatuses, OwnerAlias: "self", Page: page, PageSize: 100})
		if err != nil {
			return fmt.Errorf("baseline: list images: %w", err)
		}
		for _, im := range p.Images {
			if policy.Parse(prefix, im.Tags).Managed {
				managed = append(managed, im.ID)
			}
		}
		if len(p.Images) < 100 {
			break
		}
	}
	work := make(chan string)
	errs := make(chan error, baselineWorkers)
	var creating sync.Mutex // one creation per share name, as a Terraform graph would order it
	var wg sync.WaitGroup
	for i := 0; i < baselineWorkers; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for id := range work {
				if err := baselineImage(ctx, api, id, &creating); err != nil {
					errs <- fmt.Errorf("baseline: %s: %w", id, err)
					return
				}
			}
		}()
	}
	for _, id := range managed {
		select {
		case work <- id:
		case err := <-errs:
			close(work)
			wg.Wait()
			return err
		}
	}
	close(work)
	wg.Wait()
	select {
	case err := <-errs:
		return err
	default:
		return nil
	}
}

func baselineImage(ctx context.Context, api cloud.API, id string, creating *sync.Mutex) error {
	p, err := api.DescribeImages(ctx, cloud.DescribeImagesInput{Region: region, ImageIDs: []string{id}, Statuses: cloud.AllStatuses, OwnerAlias: "self", Page: 1, PageSize: 10})
	if err != nil || len(p.Images) == 0 {
		return fmt.Errorf("describe: %v", err)
	}
	pol := policy.Parse(prefix, p.Images[0].Tags)
	var current []string
	for page := 1; ; page++ {
		sp, err := api.DescribeImageSharePermission(ctx, region, id, page)
		if err != nil {
			return err
		}
		current = append(current, sp.Accounts...)
		if len(sp.Accounts) < 100 {
			break
		}
	}
	if _, err := api.GetResourceDirectory(ctx); err != nil {
		return err
	}
	paths := map[string]string{}
	for page := 1; ; page++ {
		ap, err := api.ListAccounts(ctx, page)
		if err != nil {
			return err
		}
		for _, a := range ap.Accounts {
			paths[a.ID] = a.Path
		}
		if len(ap.Accounts) < 100 {
			break
		}
	}
	folders := slices.Clone(pol.Folders)
	sort.Strings(folders)
	covered := func(a string) bool {
		for _, f := range folders {
			if strings.Contains(paths[a]+"/", "/"+f+"/") {
				return true
			}
		}
		return false
	}
	var want []string
	for _, a := range pol.Accounts {
		if _, member := paths[a]; member && a != owner && !covered(a) {
			want = append(want, a)
		}
	}
	if pol.Mode == policy.Additive {
		for _, a := range current {
			if !covered(a) && !slices.Contains(want, a) {
				want = append(want, a)
			}
		}
	}
	if len(folders) > 0 {
		if err := baselineShare(ctx, api, id, folders, creating); err != nil {
			return err
		}
	}
	for _, a := range want {
		if !slices.Contains(current, a) {
			if _, err := api.ModifyImageSharePermission(ctx, region, id, []string{a}, nil); err != nil {
				return err
			}
		}
	}
	for _, a := range current {
		if !slices.Contains(want, a) {
			if _, err := api.ModifyImageSharePermission(ctx, region, id, nil, []string{a}); err != nil {
				return err
			}
		}
	}
	return nil
}

// baselineShare finds the image's resource share by name and its association, and
// creates or joins it.
func baselineShare(ctx context.Context, api cloud.API, id string, folders []string, creating *sync.Mutex) error {
	name := plan.ShareName(folders)
	find := func() (string, error) {
		for token := ""; ; {
			sp, err := api.ListResourceShares(ctx, region, token)
			if err != nil {
				return "", err
			}
			for _, s := range sp.Shares {
				if s.Name == name && s.Status == "Active" {
					return s.ID, nil
				}
			}
			if token = sp.NextToken; token == "" {
				return "", nil
			}
		}
	}
	shareID, err := find()
	if err != nil {
		return err
	}
	if shareID == "" {
		creating.Lock()
		defer creating.Unlock()
		if shareID, err = find(); err != nil {
			return err
		}
		if shareID == "" {
			_, _, err := api.CreateResourceShare(ctx, region, name, []string{id}, folders)
			return err
		}
	}
	ap, err := api.ListAssociations(ctx, cloud.AssociationQuery{Region: region, Type: cloud.AssociationResource, Resource: id})
	if err != nil {
		return err
	}
	for _, a := range ap.Associations {
		if a.ShareID == shareID && (a.Status == "Associated" || a.Status == "Associating") {
			return nil
		}
	}
	_, err = api.AssociateResourceShare(ctx, region, shareID, []string{id}, nil)
	return err
}

// viewOf is an image's direct shares and organization targets at the end of a run.
type viewOf struct {
	id          string
	direct, org []string
}

// compareViews lists the images whose direct shares or organization targets differ
// from the converged state of w.
func compareViews(w *World, views []viewOf) []string {
	want := w.Expect()
	var out []string
	seen := map[string]bool{}
	for _, v := range views {
		seen[v.id] = true
		e, ok := want[v.id]
		if !ok {
			out = append(out, v.id+": not in the workload")
			continue
		}
		if !sameSet(v.direct, e[0]) || !sameSet(v.org, e[1]) {
			out = append(out, fmt.Sprintf("%s: direct %v organization %v, want %v %v", v.id, v.direct, v.org, e[0], e[1]))
		}
	}
	for id := range want {
		if !seen[id] {
			out = append(out, id+": missing")
		}
	}
	sort.Strings(out)
	return out
}

func sameSet(a, b []string) bool {
	x, y := slices.Clone(a), slices.Clone(b)
	sort.Strings(x)
	sort.Strings(y)
	return slices.Equal(slices.Compact(x), slices.Compact(y))
}
