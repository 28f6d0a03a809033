package function

import (
	"bytes"
	"context"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"imageshare/pkg/apply"
	"imageshare/pkg/cloud"
	"imageshare/pkg/plan"
	"imageshare/pkg/report"
	"imageshare/pkg/settings"
	"imageshare/pkg/state"
)

// regionQueue records which region's queue each send went to; a region in missing has
// no job queue (no deployment there).
type regionQueue struct {
	mu      sync.Mutex
	region  string
	missing map[string]bool
	sends   *[]string // "region queue delay: job bodies"
}

func (q *regionQueue) Send(_ context.Context, name string, bodies []string, delay time.Duration) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.missing[q.region] {
		return &cloud.Error{Code: "QueueNotExist", HTTPStatus: 404, Action: "BatchSendMessage"}
	}
	*q.sends = append(*q.sends, q.region+" "+name+" "+delay.String()+": "+strings.Join(bodies, " "))
	return nil
}

func (q *regionQueue) Publish(context.Context, string, string) error { return nil }

// TestCopyJobsGoToTheDeploymentOfTheirRegion: a copy made or retagged is handed to the
// deployment of its region (docs/regions.md) — this deployment's own queue for a region
// it covers (REGIONS), the job queue of the copy's region otherwise, delayed by
// SETTLE_DELAY and carrying the actors of its source; a region without a deployment
// (no queue) is refused, not retried; a copy that asks its source goes to the
// deployment of the source's region, naming the copy's region.
func TestCopyJobsGoToTheDeploymentOfTheirRegion(t *testing.T) {
	s, err := settings.Load(func(k string) string {
		return map[string]string{"REGIONS": "cn-shanghai", "SETTLE_DELAY": "45s", "JOB_QUEUE": "jobs"}[k]
	})
	if err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	var sends []string
	missing := map[string]bool{"cn-qingdao": true}
	d := &Deps{Settings: s, Log: slog.New(slog.NewJSONHandler(&logs, nil)),
		Queue: func(inv Invocation) (Queue, error) {
			return &regionQueue{region: inv.Region, missing: missing, sends: &sends}, nil
		}}
	alice := report.Actor{Type: "ram-user", AccountID: "1000000000000001", UserName: "alice"}
	g := &group{recheck: -1, notify: true, refusals: true, cause: "ev-1", actors: map[string][]report.Actor{"m-Src": {alice}}, notified: map[string]bool{}}
	out := &apply.Outcome{
		Handoff:       map[string][]string{"cn-shanghai": {"m-CopySh"}, "cn-beijing": {"m-CopyBj"}, "cn-qingdao": {"m-CopyQd"}},
		HandoffSource: map[string]string{"m-CopySh": "m-Src", "m-CopyBj": "m-Src", "m-CopyQd": "m-Src"},
		Asks:          []plan.SourceAsk{{Region: "cn-guangzhou", Image: "m-Far", Copy: "cn-hangzhou"}, {Region: "cn-shanghai", Image: "m-Near", Copy: "cn-hangzhou"}},
		Confirm:       map[string]state.Confirmation{},
	}
	if err := d.copyJobs(context.Background(), inv, "cn-hangzhou", g, out); err != nil {
		t.Fatal(err)
	}
	slices.Sort(sends)
	want := []string{
		`cn-beijing jobs 45s: {"v":1,"kind":"images","region":"cn-beijing","images":["m-CopyBj"],"reason":"copy","retryFailed":true,"cause":"ev-1","notify":true,"actors":[{"type":"ram-user","accountId":"1000000000000001","userName":"alice"}]}`,
		`cn-hangzhou jobs 0s: {"v":1,"kind":"images","region":"cn-shanghai","images":["m-Near"],"reason":"copy-check","retryFailed":true,"cause":"ev-1","notify":true,"regions":["cn-hangzhou"]}`,
		`cn-hangzhou jobs 45s: {"v":1,"kind":"images","region":"cn-shanghai","images":["m-CopySh"],"reason":"copy","retryFailed":true,"cause":"ev-1","notify":true,"actors":[{"type":"ram-user","accountId":"1000000000000001","userName":"alice"}]}`,
		`cn-guangzhou jobs 0s: {"v":1,"kind":"images","region":"cn-guangzhou","images":["m-Far"],"reason":"copy-check","retryFailed":true,"cause":"ev-1","notify":true,"regions":["cn-hangzhou"]}`,
	}
	slices.Sort(want)
	if !slices.Equal(sends, want) {
		t.Fatalf("sends:\n%s\nwant:\n%s", strings.Join(sends, "\n"), strings.Join(want, "\n"))
	}
	if !strings.Contains(logs.String(), `"action":"refuse","subject":"cn-qingdao","reason":"no-deployment"`) {
		t.Fatalf("a region without a deployment is not refused:\n%s", logs.String())
	}
}

// TestCopyImageEventGoesToTheDeploymentOfItsDestination: a person's CopyImage names its
// destination; a region this deployment does not cover gets the job in its own queue.
func TestCopyImageEventGoesToTheDeploymentOfItsDestination(t *testing.T) {
	s, err := settings.Load(func(k string) string { return map[string]string{"JOB_QUEUE": "jobs"}[k] })
	if err != nil {
		t.Fatal(err)
	}
	var sends []string
	d := &Deps{Settings: s, Log: slog.New(slog.NewJSONHandler(&bytes.Buffer{}, nil)),
		Queue: func(inv Invocation) (Queue, error) { return &regionQueue{region: inv.Region, sends: &sends}, nil }}
	ev := `{"specversion":"1.0","id":"e-copy","source":"acs.ecs","type":"ecs:ActionTrail:ApiCall","data":{"eventName":"CopyImage","acsRegion":"cn-hangzhou",
 "requestParameters":{"RegionId":"cn-hangzhou","ImageId":"m-Src","DestinationRegionId":"cn-shanghai"},"responseElements":{"ImageId":"m-Copy1"},
 "userIdentity":{"type":"root-account","accountId":"1000000000000001"}}}`
	if _, err := call(t, d, ImageEvents, ev); err != nil {
		t.Fatal(err)
	}
	if len(sends) != 1 || !strings.HasPrefix(sends[0], "cn-shanghai jobs 1m0s: ") || !strings.Contains(sends[0], `"region":"cn-shanghai","images":["m-Copy1"]`) {
		t.Fatalf("sends %v", sends)
	}
}
