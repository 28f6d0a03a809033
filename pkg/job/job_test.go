package job

import (
	"fmt"
	"math/bits"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"imageshare/pkg/report"
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

// A dead-lettered job of n images splits into halves, and halves of halves, down to
// single images in ceil(log2 n) rounds: every image lands in exactly one job of each
// round, every job keeps what it carried, and none goes past MaxSplit.
func TestHalvesReachSingleImagesWithinLog2Rounds(t *testing.T) {
	for _, n := range []int{2, 3, 7, 16, 33, 100} {
		var ids []string
		for i := 0; i < n; i++ {
			ids = append(ids, fmt.Sprintf("m-%03d", i))
		}
		root := ForImages("cn-hangzhou", ids, ReasonSweep)[0]
		root.Notify, root.Cause, root.Attempt = true, "e-1", 2
		level := []Job{root}
		rounds := 0
		for {
			var next []Job
			for _, j := range level {
				a, b, ok := j.Halves("M-root")
				if !ok {
					if len(j.Images) != 1 {
						t.Fatalf("n=%d: a job of %d images cannot be split (split %d)", n, len(j.Images), j.Split)
					}
					continue
				}
				for _, h := range []Job{a, b} {
					got, err := Decode(h.Encode())
					if err != nil {
						t.Fatalf("n=%d: a half does not decode: %v", n, err)
					}
					if got.Split != rounds+1 || got.SplitFrom != "M-root" || got.SplitOf != n || !got.Notify || got.Cause != "e-1" ||
						got.Attempt != 2 || got.Reason != ReasonSweep || got.Region != "cn-hangzhou" {
						t.Fatalf("n=%d: the half lost how it came to be or what it carried: %+v", n, got)
					}
					next = append(next, got)
				}
				if len(a.Images)-len(b.Images) > 1 || len(b.Images) > len(a.Images) {
					t.Fatalf("n=%d: uneven halves %d/%d", n, len(a.Images), len(b.Images))
				}
			}
			if len(next) == 0 {
				break
			}
			rounds++
			seen := map[string]int{}
			for _, j := range next {
				for _, im := range j.Images {
					seen[im]++
				}
			}
			for im, c := range seen {
				if c != 1 {
					t.Fatalf("n=%d round %d: image %s is in %d jobs", n, rounds, im, c)
				}
			}
			level = next
		}
		if want := bits.Len(uint(n - 1)); rounds != want {
			t.Errorf("n=%d: %d rounds, want ceil(log2 n) = %d", n, rounds, want)
		}
	}
}

func TestConfirmationsActorsAndUntagMarks(t *testing.T) {
	fp := strings.Repeat("ab", 32)
	ok := Job{Kind: KindImages, Region: "cn-hangzhou", Images: []string{"m-A", "m-B"}, Reason: ReasonConfirm,
		Confirm:  []Confirmation{{Image: "m-A", Fingerprint: fp, Removals: []string{"1000000000000002", "imageshare-0123456789abcdef0123456789abcdef"}}},
		Actors:   []report.Actor{{Type: "ram-user", AccountID: "1000000000000001", PrincipalID: "28", UserName: "alice"}},
		Untagged: []string{"m-B"}}
	got, err := Decode(ok.Encode())
	if err != nil || !reflect.DeepEqual(got.Confirm, ok.Confirm) || got.Actors[0].UserName != "alice" || got.Untagged[0] != "m-B" {
		t.Fatalf("%+v %v", got, err)
	}
	bad := map[string]func(j *Job){
		"confirmation of an image not named": func(j *Job) { j.Confirm[0].Image = "m-C" },
		"short fingerprint":                  func(j *Job) { j.Confirm[0].Fingerprint = "abc" },
		"no removals":                        func(j *Job) { j.Confirm[0].Removals = nil },
		"a removal that is neither":          func(j *Job) { j.Confirm[0].Removals = []string{"golden"} },
		"too many actors": func(j *Job) {
			for i := 0; i <= MaxActors; i++ {
				j.Actors = append(j.Actors, report.Actor{UserName: fmt.Sprint(i)})
			}
		},
		"a control character in an actor":  func(j *Job) { j.Actors[0].UserName = "al\nice" },
		"a long actor field":               func(j *Job) { j.Actors[0].PrincipalID = strings.Repeat("x", 129) },
		"untag mark of an image not named": func(j *Job) { j.Untagged = []string{"m-Z"} },
	}
	for name, mutate := range bad {
		j := ok
		j.Confirm = []Confirmation{{Image: ok.Confirm[0].Image, Fingerprint: fp, Removals: slices.Clone(ok.Confirm[0].Removals)}}
		j.Actors = slices.Clone(ok.Actors)
		mutate(&j)
		if _, err := Decode(j.Encode()); err == nil || !strings.Contains(err.Error(), "job") {
			t.Errorf("%s: want a refusal naming the job, got %v", name, err)
		}
	}
}

func TestHalvesRefusesWhatCannotBeSplit(t *testing.T) {
	one := Job{V: Version, Kind: KindImages, Region: "cn-hangzhou", Images: []string{"m-A"}, Reason: ReasonEvent}
	region := Job{V: Version, Kind: KindRegion, Region: "cn-hangzhou", Reason: ReasonOrg}
	deep := Job{V: Version, Kind: KindImages, Region: "cn-hangzhou", Images: []string{"m-A", "m-B"}, Split: MaxSplit, SplitOf: 2}
	for _, j := range []Job{one, region, deep} {
		if _, _, ok := j.Halves("M"); ok {
			t.Errorf("%+v was split", j)
		}
	}
	if MaxSplit != 8 {
		t.Errorf("MaxSplit = %d: one region round and 7 halvings of %d images", MaxSplit, MaxImages)
	}
}

func TestSplitFieldsValidated(t *testing.T) {
	bad := []string{
		`{"v":1,"kind":"images","region":"cn-hangzhou","images":["m-A"],"split":-1}`,
		`{"v":1,"kind":"images","region":"cn-hangzhou","images":["m-A"],"split":9,"splitOf":1}`,
		`{"v":1,"kind":"region","region":"cn-hangzhou","split":1,"splitOf":1}`,
		`{"v":1,"kind":"images","region":"cn-hangzhou","images":["m-A","m-B"],"split":1,"splitOf":1}`,
		`{"v":1,"kind":"images","region":"cn-hangzhou","images":["m-A"],"splitOf":-3}`,
		`{"v":1,"kind":"images","region":"cn-hangzhou","images":["m-A"],"split":1,"splitOf":2,"splitFrom":"` + strings.Repeat("x", 200) + `"}`,
	}
	for _, b := range bad {
		if _, err := Decode(b); err == nil {
			t.Errorf("%.90s: want error", b)
		}
	}
	ok := `{"v":1,"kind":"images","region":"cn-hangzhou","images":["m-A"],"reason":"sweep","split":3,"splitFrom":"M-1","splitOf":8}`
	if j, err := Decode(ok); err != nil || j.Split != 3 || j.SplitFrom != "M-1" || j.SplitOf != 8 {
		t.Fatalf("%+v %v", j, err)
	}
}

// Pack keeps each image's confirmations and untag mark with it, and every job within
// an MNS message, however large the confirmations.
func TestPack(t *testing.T) {
	fp := strings.Repeat("0", 64)
	var ids []string
	confirm := map[string][]Confirmation{}
	for i := 0; i < 150; i++ {
		id := fmt.Sprintf("m-%03d", i)
		ids = append(ids, id)
		var rm []string
		for k := 0; k < 60; k++ {
			rm = append(rm, fmt.Sprintf("1%015d", i*100+k))
		}
		confirm[id] = []Confirmation{{Image: id, Fingerprint: fp, Removals: rm}}
	}
	proto := Job{Region: "cn-hangzhou", Reason: ReasonConfirm, Notify: true}
	jobs := Pack(proto, ids, confirm, map[string]bool{"m-149": true})
	seen := 0
	for _, j := range jobs {
		b := j.Encode()
		if len(b) > 64<<10 {
			t.Fatalf("job of %d bytes", len(b))
		}
		back, err := Decode(b)
		if err != nil {
			t.Fatal(err)
		}
		if len(back.Confirm) != len(back.Images) || !back.Notify || back.Reason != ReasonConfirm {
			t.Fatalf("job lost its confirmations or fields: %d images, %d confirmations", len(back.Images), len(back.Confirm))
		}
		seen += len(back.Images)
		if slices.Contains(back.Images, "m-149") != slices.Contains(back.Untagged, "m-149") {
			t.Fatal("the untag mark left its image")
		}
	}
	if seen != 150 || len(jobs) < 3 {
		t.Fatalf("%d images in %d jobs", seen, len(jobs))
	}
}

// A split keeps each image's confirmation and untag mark with the half that names it.
func TestHalvesKeepConfirmationsWithTheirImages(t *testing.T) {
	fp := strings.Repeat("cd", 32)
	j := Job{V: Version, Kind: KindImages, Region: "cn-hangzhou", Images: []string{"m-A", "m-B", "m-C"}, Reason: ReasonConfirm,
		Confirm:  []Confirmation{{Image: "m-A", Fingerprint: fp, Removals: []string{"1000000000000002"}}, {Image: "m-C", Fingerprint: fp, Removals: []string{"1000000000000003"}}},
		Untagged: []string{"m-C"}}
	a, b, ok := j.Halves("M-1")
	if !ok {
		t.Fatal("not split")
	}
	for _, h := range []Job{a, b} {
		if _, err := Decode(h.Encode()); err != nil {
			t.Fatalf("a half does not decode: %v", err)
		}
	}
	if len(a.Confirm) != 1 || a.Confirm[0].Image != "m-A" || len(a.Untagged) != 0 ||
		len(b.Confirm) != 1 || b.Confirm[0].Image != "m-C" || !slices.Equal(b.Untagged, []string{"m-C"}) {
		t.Fatalf("halves %+v / %+v", a, b)
	}
}

// An invitation's chain of checks falls due at fixed times after the invitation (5, 15,
// 35, 75 minutes, … up to 6 hours apart): a chain started later starts at the first
// link still ahead.
func TestHandshakeSchedule(t *testing.T) {
	for k, want := range map[int]time.Duration{0: 5 * time.Minute, 1: 15 * time.Minute, 2: 35 * time.Minute, 3: 75 * time.Minute} {
		if got := HandshakeDue(k); got != want {
			t.Errorf("link %d due %s after the invitation, want %s", k, got, want)
		}
	}
	since := time.Date(2026, 1, 1, 0, 31, 0, 0, time.UTC)
	for _, tc := range []struct {
		now     time.Time
		attempt int
		delay   time.Duration
	}{
		{since, 0, 5 * time.Minute},
		{since.Add(4 * time.Minute), 0, time.Minute},
		{since.Add(5 * time.Minute), 0, 0},
		{since.Add(9 * time.Minute), 1, 6 * time.Minute},
		{since.Add(36 * time.Minute), 3, 39 * time.Minute},
	} {
		a, d, ok := HandshakeLink(since, tc.now)
		if !ok || a != tc.attempt || d != tc.delay {
			t.Errorf("at +%s: link %d in %s (%v), want %d in %s", tc.now.Sub(since), a, d, ok, tc.attempt, tc.delay)
		}
	}
	if _, _, ok := HandshakeLink(since, since.Add(60*24*time.Hour)); ok {
		t.Error("an invitation older than its chain starts one")
	}
	// Only a handshake job carries since, as an RFC 3339 time.
	j := Job{V: Version, Kind: KindHandshake, Region: "cn-hangzhou", Reason: ReasonHandshake, Handshake: "h-1", Since: "yesterday"}
	if j.Validate() == nil {
		t.Error("since not a time")
	}
	j.Since = since.Format(time.RFC3339)
	if err := j.Validate(); err != nil {
		t.Error(err)
	}
	j.Kind, j.Images = KindImages, []string{"m-A1"}
	if j.Validate() == nil {
		t.Error("an images job with since")
	}
}
