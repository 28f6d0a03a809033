package setup

import (
	"context"
	"strings"
	"testing"
	"time"

	"imageshare/pkg/cloud"
	"imageshare/pkg/settings"
)

// trailCloud answers LookupEvents with the Resource Directory writes a region lists.
type trailCloud struct {
	Cloud
	writes map[string]int // region → writes of the last week
	asked  []cloud.LookupEventsInput
	err    error
}

func (c *trailCloud) LookupEvents(_ context.Context, in cloud.LookupEventsInput) (cloud.EventPage, error) {
	c.asked = append(c.asked, in)
	if c.err != nil {
		return cloud.EventPage{}, c.err
	}
	var p cloud.EventPage
	for range min(c.writes[in.Region], in.MaxResults) {
		p.Events = append(p.Events, []byte(`{"eventName":"MoveAccount"}`))
	}
	return p, nil
}

// Doctor's look at the organization poll: the directory's writes listed in
// ORG_EVENTS_REGION pass; listed only in the other region that may hold global events,
// the setting is wrong and doctor names the region to set; listed in neither, it cannot
// tell; a delegated administrator's own history holds none of them.
func TestDoctorLooksAtTheOrganizationPoll(t *testing.T) {
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	s, err := settings.Load(func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name      string
		writes    map[string]int
		region    string
		delegated bool
		poll      time.Duration
		status    Status
		detail    string
	}{
		{"listed where the setting says", map[string]int{"ap-southeast-1": 3}, "ap-southeast-1", false, 5 * time.Minute, Pass, "LookupEvents in ap-southeast-1 (ORG_EVENTS_REGION) lists"},
		{"listed in Hangzhou", map[string]int{"cn-hangzhou": 1}, "ap-southeast-1", false, 5 * time.Minute, Fail, "IMAGESHARE_ORG_EVENTS_REGION=cn-hangzhou"},
		{"listed in Singapore", map[string]int{"ap-southeast-1": 1}, "cn-hangzhou", false, 5 * time.Minute, Fail, "IMAGESHARE_ORG_EVENTS_REGION=ap-southeast-1"},
		{"listed nowhere", nil, "ap-southeast-1", false, 5 * time.Minute, Warn, "unverified"},
		{"delegated administrator", map[string]int{"ap-southeast-1": 1}, "ap-southeast-1", true, 5 * time.Minute, Note, "management account's history"},
		{"poll off", nil, "ap-southeast-1", false, 0, Note, "ORG_POLL=0"},
	} {
		c := &trailCloud{writes: tc.writes}
		d := Deployment{Settings: s}
		d.Settings.OrgEventsRegion, d.Settings.OrgPoll = tc.region, tc.poll
		r := &Runner{Cloud: c, D: d, Now: func() time.Time { return now }, delegated: tc.delegated}
		got := r.checkTrail(context.Background())
		if len(got) != 1 || got[0].Status != tc.status || !strings.Contains(got[0].Line(), tc.detail) {
			t.Errorf("%s: %+v", tc.name, got)
			continue
		}
		if len(c.asked) > 0 {
			in := c.asked[0]
			if in.Region != tc.region || !in.End.Equal(now) || !in.Start.Equal(now.Add(-7*24*time.Hour)) || len(in.Attributes) != 2 {
				t.Errorf("%s: asked %+v", tc.name, in)
			}
		}
	}
	// A denial names the action the deployer lacks.
	c := &trailCloud{err: &cloud.Error{Code: "NoPermission", HTTPStatus: 403, Action: "LookupEvents"}}
	r := &Runner{Cloud: c, D: Deployment{Settings: s}, Now: func() time.Time { return now }}
	if got := r.checkTrail(context.Background()); got[0].Status != Fail || !strings.Contains(got[0].Line(), "actiontrail:LookupEvents on *") {
		t.Errorf("denied: %+v", got)
	}
}
