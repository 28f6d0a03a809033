package sandbox_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aliyun/fc-runtime-go-sdk/fc"

	"imageshare"
	"imageshare/pkg/function"
	"imageshare/pkg/sandbox"
	"imageshare/pkg/scenario"
)

// TestMain lets the sandbox start this binary as a function: the real image-events, or
// a recorder that prints every payload it gets (the reconcile function of these tests).
func TestMain(m *testing.M) {
	if len(os.Args) == 3 && os.Args[1] == "sandbox-test-function" {
		function.Main(os.Args[2])
	}
	if len(os.Args) == 3 && os.Args[1] == "sandbox-test-recorder" {
		record(os.Args[2])
	}
	os.Exit(m.Run())
}

// record prints {"payload": …} for every invocation. With RENDEZVOUS set to a
// directory, an invocation also waits there for another instance's invocation of the
// same payload, proving the two ran at once (it gives up after a while, and says so).
func record(name string) {
	fc.Start(func(ctx context.Context, payload []byte) (json.RawMessage, error) {
		together := ""
		if dir := os.Getenv("RENDEZVOUS"); dir != "" {
			mine := filepath.Join(dir, fmt.Sprintf("%d", os.Getpid()))
			_ = os.WriteFile(mine, payload, 0o600)
			together = "alone"
			for i := 0; i < 1000 && together == "alone"; i++ {
				entries, _ := os.ReadDir(dir)
				for _, e := range entries {
					if e.Name() != filepath.Base(mine) {
						if b, err := os.ReadFile(filepath.Join(dir, e.Name())); err == nil && string(b) == string(payload) {
							together = "together"
						}
					}
				}
				time.Sleep(10 * time.Millisecond)
			}
		}
		line, _ := json.Marshal(map[string]any{"function": name, "payload": json.RawMessage(payload), "rendezvous": together})
		fmt.Println(string(line))
		return json.RawMessage(`{}`), nil
	})
}

func commands(recorded ...string) func(string) []string {
	return func(name string) []string {
		if slices.Contains(recorded, name) {
			return []string{os.Args[0], "sandbox-test-recorder", name}
		}
		return []string{os.Args[0], "sandbox-test-function", name}
	}
}

// Six images tagged in one step: six events on the bus in one round, six jobs that the
// reconcile trigger receives as one batch a minute later.
const sixTags = `region: cn-hangzhou
owner: "1000000000000001"
directory:
  id: rd-Chaos1
  root: r-Chaos1
  accounts:
    - {id: "1000000000000002", folder: r-Chaos1}
settings: {RETRY_BASE: 1ms, RETRY_MAX: 5ms}
images:
  - {id: m-Chaos0000001}
  - {id: m-Chaos0000002}
  - {id: m-Chaos0000003}
  - {id: m-Chaos0000004}
  - {id: m-Chaos0000005}
  - {id: m-Chaos0000006}
steps:
  - together:
    - tag_image: {image: m-Chaos0000001, tags: {"imageshare:accounts": "1000000000000002"}}
    - tag_image: {image: m-Chaos0000002, tags: {"imageshare:accounts": "1000000000000002"}}
    - tag_image: {image: m-Chaos0000003, tags: {"imageshare:accounts": "1000000000000002"}}
    - tag_image: {image: m-Chaos0000004, tags: {"imageshare:accounts": "1000000000000002"}}
    - tag_image: {image: m-Chaos0000005, tags: {"imageshare:accounts": "1000000000000002"}}
    - tag_image: {image: m-Chaos0000006, tags: {"imageshare:accounts": "1000000000000002"}}
`

var imageRE = regexp.MustCompile(`m-Chaos000000[0-9]`)

// run runs sixTags and returns, per recorded invocation, the images its payload names
// in order, and the rendezvous outcomes.
func run(t *testing.T, opts sandbox.Options) (batches [][]string, rendezvous []string) {
	t.Helper()
	sc, err := scenario.Parse("six.yaml", []byte(sixTags))
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var logs strings.Builder
	opts.SYAML = imageshare.SYAML
	opts.Logs = writerFunc(func(p []byte) {
		mu.Lock()
		logs.Write(p)
		mu.Unlock()
	})
	if _, err := sandbox.Run(context.Background(), sc, opts); err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(logs.String(), "\n") {
		i := strings.Index(line, "] ")
		if i < 0 || !strings.Contains(line, `"payload"`) {
			continue
		}
		var rec struct {
			Payload    json.RawMessage `json:"payload"`
			Rendezvous string          `json:"rendezvous"`
		}
		if json.Unmarshal([]byte(line[i+2:]), &rec) != nil {
			continue
		}
		batches = append(batches, imageRE.FindAllString(string(rec.Payload), -1))
		rendezvous = append(rendezvous, rec.Rendezvous)
	}
	return batches, rendezvous
}

type writerFunc func([]byte)

func (w writerFunc) Write(p []byte) (int, error) { w(p); return len(p), nil }

var all = []string{"m-Chaos0000001", "m-Chaos0000002", "m-Chaos0000003", "m-Chaos0000004", "m-Chaos0000005", "m-Chaos0000006"}

// Without chaos, every event is delivered once and in order: the six jobs reach the
// reconcile function once, as one batch, in the order of the tag steps.
func TestDeliveryIsOnceAndInOrderByDefault(t *testing.T) {
	batches, _ := run(t, sandbox.Options{FunctionCommand: commands(function.Reconcile)})
	if len(batches) != 1 || !slices.Equal(batches[0], all) {
		t.Fatalf("want one batch %v, got %v", all, batches)
	}
}

// With Duplicate and Reorder at 1, every bus event reaches image-events twice (twelve
// jobs), and the batches are shuffled and delivered twice. The same seed replays the
// same deliveries.
func TestChaosDuplicatesAndShuffles(t *testing.T) {
	opts := sandbox.Options{FunctionCommand: commands(function.Reconcile), Chaos: sandbox.Chaos{Seed: 7, Duplicate: 1, Reorder: 1}}
	batches, _ := run(t, opts)
	var seen []string
	shuffled := false
	for _, b := range batches {
		seen = append(seen, b...)
		shuffled = shuffled || !slices.IsSorted(b)
	}
	// 6 events twice → 12 jobs, each batch delivered twice → 24 job deliveries.
	if len(seen) != 24 {
		t.Fatalf("want every job delivered twice (24), got %d in %v", len(seen), batches)
	}
	for _, im := range all {
		if n := strings.Count(strings.Join(seen, " "), im); n != 4 {
			t.Errorf("%s: delivered %d times, want 4 (2 events x 2 deliveries)", im, n)
		}
	}
	if !shuffled {
		t.Errorf("no batch was shuffled: %v", batches)
	}
	again, _ := run(t, opts)
	if fmt.Sprint(again) != fmt.Sprint(batches) {
		t.Errorf("the same chaos seed must replay the same deliveries:\n%v\n%v", batches, again)
	}
}

// With Concurrent 2, each batch of the job queue goes to two instances at once: each
// copy finds the other one running (a rendezvous, not a timing).
func TestConcurrentDeliversToTwoInstancesAtOnce(t *testing.T) {
	dir := t.TempDir()
	opts := sandbox.Options{FunctionCommand: commands(function.Reconcile), Concurrent: 2, ExtraEnv: []string{"RENDEZVOUS=" + dir}}
	batches, rendezvous := run(t, opts)
	if len(batches) != 2 || !slices.Equal(batches[0], all) || !slices.Equal(batches[1], all) {
		t.Fatalf("want the batch twice, got %v", batches)
	}
	for _, r := range rendezvous {
		if r != "together" {
			t.Fatalf("the two copies did not run at once: %v", rendezvous)
		}
	}
}
