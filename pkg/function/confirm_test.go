package function

import (
	"slices"
	"strings"
	"testing"
	"time"

	"imageshare/pkg/cloudsim"
	"imageshare/pkg/cloudsim/emu"
	"imageshare/pkg/job"
	"imageshare/pkg/plan"
	"imageshare/pkg/report"
)

// The R12 chain through the reconcile handler, on the emulated cloud: a move between
// folder sets joins the new share at once and sends leaving the old one to a confirming
// job SETTLE_DELAY later (with the fingerprint, the removal and the actor); the
// confirming run finds the new association still Associating, so make before break holds
// the confirmed leave back and the chain's re-check carries it; the re-check that finds
// the new share Associated leaves the old one. A confirming job whose fingerprint no
// longer matches leaves nothing.
func TestConfirmationChain(t *testing.T) {
	clock, keys := emu.NewClock(emu.Epoch), emu.NewKeyring()
	c, eps := testCloud(t, cloudsim.Config{Clock: clock, Keys: keys, AssociationDelay: 20 * time.Second}, []string{pX})
	const image = "m-Chain0000001"
	c.PutImage("cn-hangzhou", cloudsim.ImageSpec{ID: image, Owner: pOwner, Status: "Available", Created: clock.Now().Add(-time.Hour),
		Tags: map[string]string{"imageshare:folders": pF}})
	old := plan.ShareName([]string{pG})
	c.PutResourceShare("cn-hangzhou", pOwner, old, []string{pG}, []string{image})
	c.RunDue()

	d, q, _ := deps(t, map[string]string{"RETRY_BASE": "1ms", "RETRY_MAX": "10ms", "SETTLE_DELAY": "30s", "NOTIFY_TOPIC": "notices"})
	d.Now = clock.Now
	useCloud(d, keys, eps, "cn-hangzhou")
	alice := report.Actor{Type: "ram-user", AccountID: pOwner, PrincipalID: "28", UserName: "alice"}
	run := func(j job.Job) []sent {
		t.Helper()
		before := len(q.sends)
		if _, err := call(t, d, Reconcile, string(jobEvent(t, j))); err != nil {
			t.Fatal(err)
		}
		return slices.Clone(q.sends[before:])
	}
	inOld := func() string { return shareOf(c, old).Resources[image] }
	find := func(ss []sent, reason string) (job.Job, time.Duration) {
		t.Helper()
		for _, s := range ss {
			for _, j := range jobsOf(t, s) {
				if j.Reason == reason {
					return j, s.delay
				}
			}
		}
		t.Fatalf("no %s job among %+v", reason, ss)
		return job.Job{}, 0
	}

	// First look: join the new share now, leave the old one only once confirmed.
	sends := run(job.Job{V: job.Version, Kind: job.KindImages, Region: "cn-hangzhou", Images: []string{image}, Reason: job.ReasonEvent,
		Notify: true, RetryFailed: true, Actors: []report.Actor{alice}})
	if inOld() != "Associated" {
		t.Fatalf("the first look left the old share: %s", inOld())
	}
	confirm, delay := find(sends, job.ReasonConfirm)
	if delay != 30*time.Second || len(confirm.Confirm) != 1 || !slices.Equal(confirm.Confirm[0].Removals, []string{old}) ||
		len(confirm.Actors) != 1 || confirm.Actors[0] != alice || !confirm.Notify {
		t.Fatalf("confirming job %+v after %s", confirm, delay)
	}

	// A confirming job with another fingerprint (the tags changed in between) leaves
	// nothing, and starts over.
	stale := confirm
	stale.Confirm = []job.Confirmation{{Image: image, Fingerprint: strings.Repeat("0", 64), Removals: []string{old}}}
	sends = run(stale)
	if inOld() != "Associated" {
		t.Fatalf("a stale confirmation left the old share: %s", inOld())
	}
	find(sends, job.ReasonConfirm)

	// The confirming run: the new share is still Associating, so the leave is held back
	// and rides on the re-check.
	sends = run(confirm)
	if inOld() != "Associated" {
		t.Fatalf("left the old share before the new one was Associated: %s", inOld())
	}
	recheck, _ := find(sends, job.ReasonRecheck)
	if len(recheck.Confirm) != 1 || recheck.Confirm[0].Fingerprint != confirm.Confirm[0].Fingerprint ||
		!slices.Equal(recheck.Confirm[0].Removals, []string{old}) || len(recheck.Actors) != 1 {
		t.Fatalf("the re-check does not carry the held leave: %+v", recheck)
	}

	// The re-check, once the new share is Associated: the old share is left.
	clock.Advance(30 * time.Second)
	c.RunDue()
	run(recheck)
	if got := inOld(); got != "Disassociating" && got != "Disassociated" {
		t.Fatalf("the re-check did not leave the old share: %s", got)
	}
	var left bool
	for _, p := range q.published {
		left = left || strings.Contains(p, `"action":"disassociate"`) && strings.Contains(p, `"userName":"alice"`)
	}
	if !left {
		t.Fatalf("the leave was not published naming alice: %v", q.published)
	}
}

func shareOf(c *cloudsim.Cloud, name string) cloudsim.ShareView {
	for _, s := range c.ResourceShares("cn-hangzhou") {
		if s.Name == name {
			return s
		}
	}
	return cloudsim.ShareView{}
}
