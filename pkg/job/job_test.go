package job

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestRoundTripAndValidate(t *testing.T) {
	j := Job{Kind: KindImages, Region: "cn-hangzhou", Images: []string{"m-A"}, Reason: ReasonEvent, Notify: true, Cause: "e-1"}
	got, err := Decode(j.Encode())
	if err != nil || got.V != Version || got.Images[0] != "m-A" || !got.Notify {
		t.Fatalf("%+v %v", got, err)
	}
	bad := []string{
		`{"v":2,"kind":"images","region":"cn-hangzhou","images":["m-A"]}`,
		`{"v":1,"kind":"images","region":"cn-hangzhou"}`,
		`{"v":1,"kind":"images","region":"cn-hangzhou","images":["i-1"]}`,
		`{"v":1,"kind":"region","region":"x"}`,
		`{"v":1,"kind":"region","region":"cn-hangzhou","images":["m-A"]}`,
		`{"v":1,"kind":"handshake","region":"cn-hangzhou"}`,
		`{"v":1,"kind":"party","region":"cn-hangzhou"}`,
		`{"v":1,"kind":"region","region":"cn-hangzhou","attempt":-1}`,
		`not json`, `{"v":"1"}`, strings.Repeat("x", 70000),
	}
	for _, b := range bad {
		if _, err := Decode(b); err == nil {
			t.Errorf("%.60s: want error", b)
		}
	}
}

func TestForImagesChunks(t *testing.T) {
	var ids []string
	for i := 0; i < 250; i++ {
		ids = append(ids, fmt.Sprintf("m-%03d", i), fmt.Sprintf("m-%03d", i))
	}
	jobs := ForImages("cn-hangzhou", ids, ReasonSweep)
	if len(jobs) != 3 || len(jobs[0].Images) != 100 || len(jobs[2].Images) != 50 {
		t.Fatalf("chunks: %d", len(jobs))
	}
	for _, j := range jobs {
		if err := j.Validate(); err != nil {
			t.Fatal(err)
		}
		if len(j.Encode()) > 64<<10 {
			t.Fatal("job larger than an MNS message")
		}
	}
}

func TestBackoff(t *testing.T) {
	want := []time.Duration{30 * time.Second, time.Minute, 2 * time.Minute, 4 * time.Minute, 8 * time.Minute, 8 * time.Minute}
	for i, w := range want {
		if got := Backoff(RecheckBase, RecheckMax, i); got != w {
			t.Errorf("attempt %d: %v want %v", i, got, w)
		}
	}
}
