package function

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/bits"
	"slices"
	"strings"
	"testing"
	"time"

	"imageshare/pkg/cloud"
	"imageshare/pkg/job"
)

// deadLetter wraps a job as the dead-letter queue's MNS source delivers it: the
// reconcile delivery's event (the job queue's MNS source wrapping the job) is the body
// of a message of the dead-letter queue.
func deadLetter(id string, j job.Job) string {
	return mnsEvent("dl-"+id, mnsEvent(id, j.Encode()))
}

func imagesJob(n int) job.Job {
	var ids []string
	for i := 0; i < n; i++ {
		ids = append(ids, fmt.Sprintf("m-Img%09d", i))
	}
	j := job.ForImages("cn-hangzhou", ids, job.ReasonEvent)[0]
	j.Notify, j.RetryFailed, j.Cause, j.Notified = true, true, "ev-7", []string{"0a1b2c3d"}
	return j
}

// exhaustedImages lists the images the published notifications report as
// retries-exhausted, in order.
func exhaustedImages(t *testing.T, published []string) []string {
	t.Helper()
	var out []string
	for _, p := range published {
		var n struct{ Image, Action, Reason string }
		if err := json.Unmarshal([]byte(p), &n); err != nil {
			t.Fatalf("notification %s: %v", p, err)
		}
		if n.Action != "refuse" || n.Reason != "retries-exhausted" {
			t.Fatalf("unexpected notification %s", p)
		}
		out = append(out, n.Image)
	}
	return out
}

// A job of several images whose retries ran out is queued again in two halves, the
// second SplitStagger after the first, each carrying how it came to be and what the
// job carried; nothing is reported for it.
func TestDeadLettersSplitAJobInHalves(t *testing.T) {
	d, q, logs := deps(t, map[string]string{"NOTIFY_TOPIC": "notices", "JOB_QUEUE": "jobs"})
	orig := imagesJob(5)
	if _, err := call(t, d, DeadLetters, deadLetter("M1", orig)); err != nil {
		t.Fatal(err)
	}
	if len(q.published) != 0 || strings.Contains(logs.String(), "retries-exhausted") {
		t.Fatalf("a job that can be split is not reported: %v\n%s", q.published, logs)
	}
	if len(q.sends) != 2 {
		t.Fatalf("want the two halves sent apart, got %+v", q.sends)
	}
	if q.sends[0].delay != job.SplitDelay || q.sends[1].delay != job.SplitDelay+job.SplitStagger || job.SplitStagger <= 3*time.Second {
		t.Fatalf("delays %v, %v: the halves must wait, and not become visible within one batch window (3 s)", q.sends[0].delay, q.sends[1].delay)
	}
	var images []string
	for i, s := range q.sends {
		js := jobsOf(t, s)
		if s.queue != "jobs" || len(js) != 1 {
			t.Fatalf("send %d: %+v", i, s)
		}
		h := js[0]
		if h.Split != 1 || h.SplitFrom != "M1-M" || h.SplitOf != 5 || h.Kind != job.KindImages || h.Reason != job.ReasonEvent ||
			!h.Notify || !h.RetryFailed || h.Cause != "ev-7" || !slices.Equal(h.Notified, orig.Notified) {
			t.Fatalf("half %d lost what the job carried: %+v", i, h)
		}
		images = append(images, h.Images...)
	}
	if !slices.Equal(images, orig.Images) || len(jobsOf(t, q.sends[0])[0].Images) != 3 {
		t.Fatalf("halves %v of %v", images, orig.Images)
	}
}

// Every job one invocation queues again gets its own time: the halves of jobs that
// failed in one batch do not meet again in one batch.
func TestDeadLettersStaggerEveryJobOfAnInvocation(t *testing.T) {
	d, q, _ := deps(t, nil)
	payload := batch(deadLetter("M1", imagesJob(4)), deadLetter("M2", imagesJob(2)), deadLetter("M3", imagesJob(3)))
	if _, err := call(t, d, DeadLetters, payload); err != nil {
		t.Fatal(err)
	}
	if len(q.sends) != 6 {
		t.Fatalf("want 6 halves, got %d", len(q.sends))
	}
	for i, s := range q.sends {
		if want := job.SplitDelay + time.Duration(i)*job.SplitStagger; s.delay != want {
			t.Errorf("send %d delayed %v, want %v", i, s.delay, want)
		}
	}
}

// chain plays a split chain to its end: every job that holds a bad image fails (its
// retries run out and it reaches the dead-letters function again), the others
// succeed. It returns the images reported, the deepest split, and the images of the
// jobs that succeeded.
func chain(t *testing.T, root job.Job, bad func(string) bool) (reported []string, deepest int, succeeded []string) {
	t.Helper()
	d, q, _ := deps(t, map[string]string{"NOTIFY_TOPIC": "notices"})
	pending := []string{deadLetter("M-root", root)}
	for round := 0; len(pending) > 0; round++ {
		if round > 64 {
			t.Fatal("the chain does not end")
		}
		q.sends, q.published = nil, nil
		if _, err := call(t, d, DeadLetters, batch(pending...)); err != nil {
			t.Fatal(err)
		}
		reported = append(reported, exhaustedImages(t, q.published)...)
		pending = nil
		for k, s := range q.sends {
			for _, h := range jobsOf(t, s) {
				deepest = max(deepest, h.Split)
				if slices.ContainsFunc(h.Images, bad) {
					pending = append(pending, deadLetter(fmt.Sprintf("M-%d-%d", round, k), h))
				} else {
					succeeded = append(succeeded, h.Images...)
				}
			}
		}
	}
	return reported, deepest, succeeded
}

// One image that kills every run it is in: the chain isolates it in ceil(log2 n)
// rounds, reports it once, and every other image runs in a job that succeeds.
func TestDeadLettersChainIsolatesOneBadImage(t *testing.T) {
	for _, n := range []int{2, 5, 16, 37, 100} {
		root := imagesJob(n)
		badID := root.Images[n*2/3]
		reported, deepest, ok := chain(t, root, func(im string) bool { return im == badID })
		if !slices.Equal(reported, []string{badID}) {
			t.Errorf("n=%d: reported %v, want only %s", n, reported, badID)
		}
		if limit := bits.Len(uint(n - 1)); deepest > limit || deepest < limit-1 {
			t.Errorf("n=%d: %d levels, want floor or ceil of log2 n (%d)", n, deepest, limit)
		}
		slices.Sort(ok)
		if len(ok) != n-1 || slices.Contains(ok, badID) {
			t.Errorf("n=%d: %d images succeeded, want the %d others", n, len(ok), n-1)
		}
	}
}

// When every image fails, each is reported exactly once, after at most ceil(log2 n)
// levels.
func TestDeadLettersChainReportsEveryImageOnce(t *testing.T) {
	root := imagesJob(23)
	reported, deepest, ok := chain(t, root, func(string) bool { return true })
	slices.Sort(reported)
	if !slices.Equal(reported, root.Images) || len(ok) != 0 {
		t.Fatalf("reported %v, want each of %v once", reported, root.Images)
	}
	if deepest > bits.Len(uint(len(root.Images)-1)) {
		t.Fatalf("%d levels for %d images", deepest, len(root.Images))
	}
}

// A single-image job is reported once, in the logs and on NOTIFY_TOPIC, and not
// queued again; so is an invitation's job, and a job at the end of the chain.
func TestDeadLettersReportWhatCannotBeSplit(t *testing.T) {
	d, q, logs := deps(t, map[string]string{"NOTIFY_TOPIC": "notices"})
	single := imagesJob(1)
	deep := imagesJob(2)
	deep.Split, deep.SplitOf, deep.SplitFrom = job.MaxSplit, 2, "M-0"
	hs := job.Job{V: job.Version, Kind: job.KindHandshake, Region: "cn-hangzhou", Reason: job.ReasonHandshake, Handshake: "h-1"}
	if _, err := call(t, d, DeadLetters, batch(deadLetter("M1", single), deadLetter("M2", deep), deadLetter("M3", hs))); err != nil {
		t.Fatal(err)
	}
	if len(q.sends) != 0 {
		t.Fatalf("nothing to split, yet sent %+v", q.sends)
	}
	want := []string{single.Images[0], deep.Images[0], deep.Images[1], ""}
	if got := exhaustedImages(t, q.published); !slices.Equal(got, want) {
		t.Fatalf("reported %q, want %q", got, want)
	}
	if strings.Count(logs.String(), `"reason":"retries-exhausted"`) != 4 || !strings.Contains(logs.String(), "split 8 times from a job of 2 images") {
		t.Fatalf("logs:\n%s", logs)
	}
}

// listingAPI lists n managed images (and one unmanaged), a page at a time.
type listingAPI struct {
	cloud.API
	n int
}

func (l listingAPI) DescribeImages(_ context.Context, in cloud.DescribeImagesInput) (cloud.ImagePage, error) {
	var all []cloud.Image
	for i := 0; i < l.n; i++ {
		all = append(all, cloud.Image{ID: fmt.Sprintf("m-Listed%06d", i), OwnerAlias: "self", Status: "Available",
			Tags: map[string]string{"imageshare:accounts": "none"}})
	}
	all = append(all, cloud.Image{ID: "m-Untagged0001", OwnerAlias: "self", Status: "Available"})
	from := (in.Page - 1) * in.PageSize
	return cloud.ImagePage{Total: len(all), Images: all[min(from, len(all)):min(from+in.PageSize, len(all))]}, nil
}

// A region job whose retries ran out is turned into image jobs of the managed images
// the region lists (as the sweep lists them), one round down the chain, apart in time;
// when the region cannot be listed, the region is reported once.
func TestDeadLettersTurnARegionJobIntoImageJobs(t *testing.T) {
	d, q, _ := deps(t, map[string]string{"NOTIFY_TOPIC": "notices"})
	d.API = func(Invocation) (cloud.API, error) { return listingAPI{n: 150}, nil }
	region := job.Job{V: job.Version, Kind: job.KindRegion, Region: "cn-hangzhou", Reason: job.ReasonOrg, Account: "1000000000000002",
		Notify: true, RetryFailed: true, Cause: "ev-9"}
	if _, err := call(t, d, DeadLetters, deadLetter("M1", region)); err != nil {
		t.Fatal(err)
	}
	if len(q.published) != 0 || len(q.sends) != 2 {
		t.Fatalf("published %v, sends %+v", q.published, q.sends)
	}
	var images []string
	for i, s := range q.sends {
		j := jobsOf(t, s)[0]
		if j.Kind != job.KindImages || j.Split != 1 || j.SplitFrom != "M1-M" || j.SplitOf != 150 || j.Account != "" || !j.Notify ||
			!j.RetryFailed || j.Cause != "ev-9" || j.Reason != job.ReasonOrg || s.delay != job.SplitDelay+time.Duration(i)*job.SplitStagger {
			t.Fatalf("image job %d: %+v (delay %v)", i, j, s.delay)
		}
		images = append(images, j.Images...)
	}
	if len(images) != 150 || slices.Contains(images, "m-Untagged0001") {
		t.Fatalf("%d images listed: %v", len(images), images)
	}

	d2, q2, logs := deps(t, map[string]string{"NOTIFY_TOPIC": "notices", "RETRY_BASE": "1ms", "RETRY_MAX": "2ms"})
	if _, err := call(t, d2, DeadLetters, deadLetter("M2", region)); err != nil {
		t.Fatalf("a region that cannot be listed must not fail the invocation: %v", err)
	}
	if got := exhaustedImages(t, q2.published); len(q2.sends) != 0 || !slices.Equal(got, []string{""}) {
		t.Fatalf("want one report for the region, got %q and sends %+v\n%s", got, q2.sends, logs)
	}
}

// Halves that cannot be queued again are reported instead (each image once), and the
// invocation succeeds, so that a retry of it does not queue the others twice.
func TestDeadLettersReportWhatCannotBeQueuedAgain(t *testing.T) {
	d, q, _ := deps(t, map[string]string{"NOTIFY_TOPIC": "notices", "RETRY_BASE": "1ms", "RETRY_MAX": "2ms"})
	q.fail = errors.New("mns down")
	orig := imagesJob(3)
	if _, err := call(t, d, DeadLetters, deadLetter("M1", orig)); err != nil {
		t.Fatalf("the invocation must not fail: %v", err)
	}
	if got := exhaustedImages(t, q.published); !slices.Equal(got, orig.Images) {
		t.Fatalf("reported %v, want %v", got, orig.Images)
	}
}

// What is not a job keeps its handling: a failed image-events event is reported per
// image it names, garbage and invalid jobs are logged and acknowledged, and nothing is
// queued for them.
func TestDeadLettersMalformedAndEventsAcknowledged(t *testing.T) {
	d, q, logs := deps(t, map[string]string{"NOTIFY_TOPIC": "notices"})
	payload := batch(mnsEvent("d-1", tag("e1", "m-Tagged000001")), mnsEvent("d-2", "{"), mnsEvent("d-3", mnsEvent("M9", `{"v":9}`)),
		"not an event", mnsEvent("d-4", `{"v":1,"kind":"images","region":"cn-hangzhou","images":["m-Bare00000001","m-Bare00000002"],"reason":"sweep"}`))
	out, err := call(t, d, DeadLetters, payload)
	if err != nil {
		t.Fatalf("dead letters are always acknowledged: %v", err)
	}
	got := exhaustedImages(t, q.published)
	if !slices.Equal(got, []string{"m-Tagged000001", ""}) {
		t.Fatalf("reported %q", got)
	}
	// The bare job (a dead-letter queue fed with job bodies) is split like a wrapped one.
	if len(q.sends) != 2 {
		t.Fatalf("sends %+v", q.sends)
	}
	var s summary
	_ = json.Unmarshal(out, &s)
	if s.Skipped < 2 || s.Refused != 2 || s.Jobs != 2 {
		t.Fatalf("summary %+v\n%s", s, logs)
	}
	for _, secret := range []string{"LTAIsecret", "requestParameters"} {
		if strings.Contains(logs.String()+strings.Join(q.published, ""), secret) {
			t.Fatalf("a payload leaked (%s)", secret)
		}
	}
}

// A job of the organization poll (ChangesOnly) that runs out is logged, not published:
// the poll finds every directory change several times, each in a chain of its own, and
// the bus's or the sweep's chain publishes it. Its halves and image jobs stay quiet too.
func TestDeadLettersOfThePollAreLoggedNotPublished(t *testing.T) {
	d, q, logs := deps(t, map[string]string{"NOTIFY_TOPIC": "notices"})
	single := imagesJob(1)
	single.ChangesOnly = true
	loud := imagesJob(1)
	loud.Images = []string{"m-Loud00000001"}
	pair := imagesJob(2)
	pair.ChangesOnly = true
	if _, err := call(t, d, DeadLetters, batch(deadLetter("M1", single), deadLetter("M2", loud), deadLetter("M3", pair))); err != nil {
		t.Fatal(err)
	}
	if got := exhaustedImages(t, q.published); !slices.Equal(got, []string{"m-Loud00000001"}) {
		t.Fatalf("published %q, want the bus's job alone", got)
	}
	if strings.Count(logs.String(), `"reason":"retries-exhausted"`) != 2 || !strings.Contains(logs.String(), single.Images[0]) {
		t.Fatalf("the poll's job must be logged:\n%s", logs)
	}
	if len(q.sends) != 2 {
		t.Fatalf("sends %+v", q.sends)
	}
	for _, s := range q.sends {
		if j := jobsOf(t, s)[0]; !j.ChangesOnly {
			t.Fatalf("a half of the poll's job publishes refusals: %+v", j)
		}
	}
}
