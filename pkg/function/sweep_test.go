package function

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"imageshare/pkg/cloudsim"
	"imageshare/pkg/cloudsim/emu"
	"imageshare/pkg/job"
	"imageshare/pkg/plan"
)

// The sweep through the real SDK against the emulated cloud: which regions it lists,
// which images it finds, and which empty managed shares it deletes (SPEC section 5 and
// R4).

const sweepRegion = "cn-hangzhou"

// sweep runs the sweep as its timer does at the emulated clock's time, with settings
// env on top of the test defaults, and returns the images its jobs name per region and
// the log.
func (w *sweepWorld) sweep(t *testing.T, env map[string]string) (map[string][]string, string) {
	t.Helper()
	base := map[string]string{"RETRY_BASE": "1ms", "RETRY_MAX": "10ms"}
	for k, v := range env {
		base[k] = v
	}
	d2, _, _ := deps(t, base)
	if d2.SettingsErr != nil {
		t.Fatal(d2.SettingsErr)
	}
	d, q := w.d, w.q
	d.Settings = d2.Settings
	var logs bytes.Buffer
	d.Log = slog.New(slog.NewJSONHandler(&logs, nil))
	q.sends = nil
	now := w.clock.Now()
	payload := fmt.Sprintf(`{"triggerTime":%q,"triggerName":"sweep","payload":""}`, now.Format(time.RFC3339))
	if _, err := d.sweep(context.Background(), Invocation{RequestID: "r", Region: sweepRegion, AccountID: pOwner}, []byte(payload)); err != nil {
		t.Fatalf("sweep: %v\n%s", err, logs.String())
	}
	jobs := map[string][]string{}
	for _, s := range q.sends {
		for _, j := range jobsOf(t, s) {
			if j.Kind != job.KindImages {
				t.Fatalf("sweep sent a job of kind %q: %+v", j.Kind, j)
			}
			jobs[j.Region] = append(jobs[j.Region], j.Images...)
		}
	}
	for r := range jobs {
		slices.Sort(jobs[r])
	}
	return jobs, logs.String()
}

// sweepWorld is the emulated cloud of simDeps with its clock, for the sweep.
type sweepWorld struct {
	d      *Deps
	q      *fakeQueue
	c      *cloudsim.Cloud
	clock  *emu.Clock
	person emu.Identity
}

func newSweepWorld(t *testing.T) *sweepWorld {
	t.Helper()
	clock, keys := emu.NewClock(emu.Epoch), emu.NewKeyring()
	c, eps := testCloud(t, cloudsim.Config{Clock: clock, Keys: keys}, []string{pX, pY}, "cn-shanghai", "cn-beijing")
	d, q, _ := deps(t, nil)
	useCloud(d, keys, eps, sweepRegion)
	return &sweepWorld{d: d, q: q, c: c, clock: clock, person: keys.AccessKey(pOwner).Identity}
}

// advance lets emulated time pass; associations in transition end on the way.
func (w *sweepWorld) advance(d time.Duration) {
	w.clock.Advance(d)
	w.c.RunDue()
}

func managedName(targets ...string) string { return plan.ShareName(targets) }

// shareStatus is the status of the share with id, "" when it is gone.
func shareStatus(c *cloudsim.Cloud, region, id string) string {
	for _, sh := range c.ResourceShares(region) {
		if sh.ID == id {
			return sh.Status
		}
	}
	return ""
}

// TestSweepUnderDryRunDeletesNothing: DRY_RUN reports the deletion of an empty managed
// share and leaves it; the same sweep without DRY_RUN deletes it.
func TestSweepUnderDryRunDeletesNothing(t *testing.T) {
	w := newSweepWorld(t)
	c := w.c
	id := c.PutResourceShare(sweepRegion, pOwner, managedName(pF), []string{pF}, nil)
	w.advance(time.Hour)
	_, logs := w.sweep(t, map[string]string{"DRY_RUN": "true"})
	if st := shareStatus(c, sweepRegion, id); st != "Active" {
		t.Fatalf("under DRY_RUN the empty managed share is %q, want it left Active", st)
	}
	if !strings.Contains(logs, `"action":"delete"`) || !strings.Contains(logs, `"dryRun":true`) {
		t.Fatalf("DRY_RUN must still report the deletion it would make:\n%s", logs)
	}
	for _, call := range c.Calls() {
		if call.Action == "DeleteResourceShare" {
			t.Fatalf("DRY_RUN called DeleteResourceShare: %+v", call)
		}
	}
	w.sweep(t, nil)
	if st := shareStatus(c, sweepRegion, id); st == "Active" {
		t.Fatalf("without DRY_RUN the empty managed share stays %q: the control of this test is broken", st)
	}
}

// TestSweepCoversREGIONS: REGIONS adds regions to the sweep, images and empty managed
// shares alike; the function's own region is swept whatever REGIONS says, and only once.
func TestSweepCoversREGIONS(t *testing.T) {
	w := newSweepWorld(t)
	c := w.c
	const other, third = "cn-shanghai", "cn-beijing"
	tags := map[string]string{"imageshare:accounts": pX}
	c.PutImage(sweepRegion, cloudsim.ImageSpec{ID: "m-Home00000001", Owner: pOwner, Tags: tags})
	c.PutImage(other, cloudsim.ImageSpec{ID: "m-Away00000001", Owner: pOwner, Tags: tags})
	c.PutImage(third, cloudsim.ImageSpec{ID: "m-Far000000001", Owner: pOwner, Tags: tags})
	awayShare := c.PutResourceShare(other, pOwner, managedName(pG), []string{pG}, nil)
	w.advance(time.Hour)

	jobs, _ := w.sweep(t, nil)
	if want := map[string][]string{sweepRegion: {"m-Home00000001"}}; fmt.Sprint(jobs) != fmt.Sprint(want) {
		t.Fatalf("without REGIONS the sweep covers only its own region: jobs %v, want %v", jobs, want)
	}
	if shareStatus(c, other, awayShare) != "Active" {
		t.Fatal("without REGIONS the sweep deleted a share in another region")
	}

	jobs, _ = w.sweep(t, map[string]string{"REGIONS": other})
	want := map[string][]string{sweepRegion: {"m-Home00000001"}, other: {"m-Away00000001"}}
	if fmt.Sprint(jobs) != fmt.Sprint(want) {
		t.Fatalf("REGIONS=%s: jobs %v, want %v", other, jobs, want)
	}
	if st := shareStatus(c, other, awayShare); st == "Active" {
		t.Fatalf("REGIONS=%s: the empty managed share there is still %s", other, st)
	}

	// The own region listed too, or twice: swept once.
	jobs, _ = w.sweep(t, map[string]string{"REGIONS": third + "," + sweepRegion})
	want = map[string][]string{sweepRegion: {"m-Home00000001"}, third: {"m-Far000000001"}}
	if fmt.Sprint(jobs) != fmt.Sprint(want) {
		t.Fatalf("REGIONS=%s,%s: jobs %v, want %v", third, sweepRegion, jobs, want)
	}
}

// TestSweepReadsEveryPageOfImages: with 150 images, a managed image on the second page
// of DescribeImages gets its job.
func TestSweepReadsEveryPageOfImages(t *testing.T) {
	w := newSweepWorld(t)
	c := w.c
	for i := 1; i <= 150; i++ {
		tags := map[string]string{}
		if i == 1 || i == 150 {
			tags["imageshare:accounts"] = pX
		}
		c.PutImage(sweepRegion, cloudsim.ImageSpec{ID: fmt.Sprintf("m-Page%08d", i), Owner: pOwner, Tags: tags})
	}
	jobs, _ := w.sweep(t, nil)
	if want := []string{"m-Page00000001", "m-Page00000150"}; !slices.Equal(jobs[sweepRegion], want) {
		t.Fatalf("jobs %v, want %v (the second page of DescribeImages must be read)", jobs[sweepRegion], want)
	}
	pages := 0
	for _, call := range c.Calls() {
		if call.Action == "DescribeImages" {
			pages++
		}
	}
	if pages < 2 {
		t.Fatalf("%d DescribeImages calls for 150 images", pages)
	}
}

// TestEmptyShareGrace is SPEC R4: a managed share that has held no image for at least
// ten minutes is deleted by the sweep; a share just created, or whose image is still
// being joined, or that lost its last image less than ten minutes ago, is not.
func TestEmptyShareGrace(t *testing.T) {
	w := newSweepWorld(t)
	c, person := w.c, w.person
	c.PutImage(sweepRegion, cloudsim.ImageSpec{ID: "m-Grace0000001", Owner: pOwner})
	c.PutImage(sweepRegion, cloudsim.ImageSpec{ID: "m-Grace0000002", Owner: pOwner})
	c.PutImage(sweepRegion, cloudsim.ImageSpec{ID: "m-Grace0000003", Owner: pOwner, Encrypted: "service-key"}) // cannot be shared
	fresh := c.PutResourceShare(sweepRegion, pOwner, managedName(pF), []string{pF}, nil)
	failed := c.PutResourceShare(sweepRegion, pOwner, managedName(pDir), []string{pDir}, nil)
	// One share whose image is being joined (Associating), one whose image leaves.
	joining := c.PutResourceShare(sweepRegion, pOwner, managedName(pG), []string{pG}, nil)
	leaving := c.PutResourceShare(sweepRegion, pOwner, managedName(pF, pG), []string{pF, pG}, []string{"m-Grace0000002"})
	if _, _, err := c.Call(person, "resourcesharing", "AssociateResourceShare", map[string]string{"RegionId": sweepRegion,
		"ResourceShareId": joining, "Resources.1.ResourceId": "m-Grace0000001", "Resources.1.ResourceType": "Image"}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.Call(person, "resourcesharing", "AssociateResourceShare", map[string]string{"RegionId": sweepRegion,
		"ResourceShareId": failed, "Resources.1.ResourceId": "m-Grace0000003", "Resources.1.ResourceType": "Image"}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.Call(person, "resourcesharing", "DisassociateResourceShare", map[string]string{"RegionId": sweepRegion,
		"ResourceShareId": leaving, "Resources.1.ResourceId": "m-Grace0000002", "Resources.1.ResourceType": "Image"}); err != nil {
		t.Fatal(err)
	}

	// A minute later: the new share is empty but young, one is being joined, the other's
	// image is only just gone.
	w.advance(time.Minute)
	w.sweep(t, nil)
	for name, id := range map[string]string{"just created": fresh, "being joined": joining, "just emptied": leaving} {
		if st := shareStatus(c, sweepRegion, id); st != "Active" {
			t.Fatalf("the %s share was deleted by a sweep a minute later (status %q)", name, st)
		}
	}
	if got := c.ResourceShares(sweepRegion); resourceStatus(got, leaving, "m-Grace0000002") != "Disassociated" ||
		resourceStatus(got, failed, "m-Grace0000003") != "Failed" {
		t.Fatalf("the leaving image should read Disassociated and the encrypted one Failed by now: %+v", got)
	}

	// Nine minutes after the image left (ten after the share was made): only the share
	// that never held an image has been empty for ten minutes.
	w.advance(9 * time.Minute)
	w.sweep(t, nil)
	if st := shareStatus(c, sweepRegion, fresh); st == "Active" {
		t.Fatal("a managed share empty for ten minutes since its creation was not deleted")
	}
	if st := shareStatus(c, sweepRegion, leaving); st != "Active" {
		t.Fatalf("a share emptied less than ten minutes ago was deleted (status %q)", st)
	}
	if st := shareStatus(c, sweepRegion, joining); st != "Active" {
		t.Fatalf("a share holding an image was deleted (status %q)", st)
	}

	w.advance(2 * time.Minute)
	w.sweep(t, nil)
	if st := shareStatus(c, sweepRegion, leaving); st == "Active" {
		t.Fatal("a managed share empty for more than ten minutes was not deleted")
	}
	// A Failed association is retried a day after it failed (R4): its share stays.
	if st := shareStatus(c, sweepRegion, failed); st != "Active" {
		t.Fatalf("a share whose association Failed was deleted (status %q): its retry a day later would start over", st)
	}
	if st := shareStatus(c, sweepRegion, joining); st != "Active" {
		t.Fatalf("a share holding an image was deleted (status %q)", st)
	}
}

func resourceStatus(shares []cloudsim.ShareView, id, image string) string {
	for _, sh := range shares {
		if sh.ID == id {
			return sh.Resources[image]
		}
	}
	return ""
}
