package sandbox

import (
	"strings"
	"testing"
	"time"

	"imageshare"
	"imageshare/pkg/scenario"
)

const worldFile = `region: cn-hangzhou
owner: "1000000000000001"
directory: {id: rd-Ab12Cd, root: r-Ab12Cd, accounts: [{id: "1000000000000002", folder: r-Ab12Cd}]}
settings: {NOTIFY_TOPIC: imageshare-notes}
images:
  - {id: m-Base00000001, shared_with: ["1000000000000002"]}
resource_shares:
  - {name: golden, targets: [rd-Ab12Cd], images: [m-Base00000001]}
steps:
  - advance: 1m
`

func TestWorldServesTheFileWithoutRunningIt(t *testing.T) {
	sc, err := scenario.Parse("world.yaml", []byte(worldFile))
	if err != nil {
		t.Fatal(err)
	}
	before := time.Now().UTC().Add(-time.Second)
	w, err := NewWorld(sc, WorldOptions{SYAML: imageshare.SYAML})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	// ECS, Resource Manager, Resource Sharing, MNS and ActionTrail, and for imageshare
	// setup and doctor RAM, STS, EventBridge and the MNS management API.
	if eps := w.Endpoints(); len(eps) != 9 || !strings.HasPrefix(eps["mns"], "http://127.0.0.1:") || !strings.HasPrefix(eps["eventbridge"], "http://127.0.0.1:") ||
		!strings.HasPrefix(eps["actiontrail"], "http://127.0.0.1:") {
		t.Fatalf("endpoints = %v", eps)
	}
	// The file's world, and not its steps.
	im, ok := w.Cloud().Image("cn-hangzhou", "m-Base00000001")
	if !ok || len(im.Direct) != 1 || len(im.Organization) != 1 {
		t.Fatalf("image = %+v", im)
	}
	if got := w.Queues(); len(got) == 0 || got[0] != "imageshare-jobs" || w.Topic() != "imageshare-notes" {
		t.Fatalf("queues %v, topic %q", got, w.Topic())
	}
	if w.OwnerKey().Identity.AccountID != "1000000000000001" || w.FunctionRole() != "imageshare-fc" {
		t.Fatalf("owner key %+v, role %q", w.OwnerKey().Identity, w.FunctionRole())
	}
	if id := w.AssumeFunctionRole("s", time.Hour).Identity; id.Type != "assumed-role" || id.RoleName != "imageshare-fc" {
		t.Fatalf("role credentials for %+v", id)
	}
	// The clock starts at the wall clock and follows it.
	start := w.Clock().Now()
	if start.Before(before.Truncate(time.Second)) || start.After(time.Now()) {
		t.Fatalf("clock starts at %v", start)
	}
	deadline := time.Now().Add(10 * time.Second)
	for !w.Clock().Now().After(start) {
		if time.Now().After(deadline) {
			t.Fatal("the clock did not move in 10 s")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestWorldListensOnlyOnLoopback(t *testing.T) {
	sc, err := scenario.Parse("world.yaml", []byte(worldFile))
	if err != nil {
		t.Fatal(err)
	}
	for _, addr := range []string{"0.0.0.0:0", "192.0.2.1:0", "example.com:0"} {
		w, err := NewWorld(sc, WorldOptions{SYAML: imageshare.SYAML, Addr: func(s string) string {
			if s == "mns" {
				return addr
			}
			return ""
		}})
		if err == nil {
			w.Close()
			t.Fatalf("%s was accepted", addr)
		}
		if !strings.Contains(err.Error(), "not a loopback address") {
			t.Fatalf("%s: %v", addr, err)
		}
	}
}
