package docs

import (
	"context"
	"encoding/json"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"

	"imageshare"
	"imageshare/pkg/sandbox"
	"imageshare/pkg/scenario"
	"imageshare/pkg/syaml"
)

// logLines collects the function processes' lines as the sandbox relays them
// ("[function#instance] {json}"), as Function Compute would send them to Log Service.
type logLines struct {
	mu    sync.Mutex
	buf   []byte
	lines []map[string]any
}

func (l *logLines) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf = append(l.buf, p...)
	for {
		i := strings.IndexByte(string(l.buf), '\n')
		if i < 0 {
			break
		}
		line := string(l.buf[:i])
		l.buf = l.buf[i+1:]
		_, body, ok := strings.Cut(line, "] ")
		if !ok || !strings.HasPrefix(body, "{") {
			continue
		}
		var m map[string]any
		if json.Unmarshal([]byte(body), &m) == nil {
			l.lines = append(l.lines, m)
		}
	}
	return len(p), nil
}

var (
	topicRE  = regexp.MustCompile(`__topic__: "FCLogs:([a-z-]+)"`)
	equalRE  = regexp.MustCompile(`json_extract_scalar\(message, '\$\.(\w+)'\) = '([^']*)'`)
	inRE     = regexp.MustCompile(`json_extract_scalar\(message, '\$\.(\w+)'\) IN \(([^)]*)\)`)
	fieldRE  = regexp.MustCompile(`json_extract(?:_scalar)?\(message, '\$\.(\w+)'\)`)
	quotedRE = regexp.MustCompile(`'([^']*)'`)
)

// TestMonitoringQueries checks the saved queries of docs/monitoring.md against real log
// lines: scenarios with changes, refusals, retried calls, failed invocations, dead
// letters, retained accounts and sweeps run in the sandbox with the functions' lines
// captured; for each query, the lines of its topic (the s.yaml function it names) that
// pass its conditions must exist, carry every field it reads, and show every value it
// filters on.
func TestMonitoringQueries(t *testing.T) {
	md := read(t, "docs/monitoring.md")
	queries, names := blocksAfter(md, "<!-- sls query", "text")
	if len(queries) < 6 {
		t.Fatalf("docs/monitoring.md has %d queries marked <!-- sls query", len(queries))
	}
	p, err := syaml.Load(imageshare.SYAML, map[string]string{"accountId": "1000000000000001"})
	if err != nil {
		t.Fatal(err)
	}
	fns, err := p.Functions()
	if err != nil {
		t.Fatal(err)
	}
	keyOf := map[string]string{} // functionName → the function field of its lines
	for _, f := range fns {
		keyOf[f.Name] = f.Key
	}
	logs := &logLines{}
	for _, file := range []string{"deadletters-split.yaml", "r11-faults.yaml", "r08-untagged-retained.yaml", "r03-guardrail.yaml"} {
		b, err := os.ReadFile("../scenarios/" + file)
		if err != nil {
			t.Fatal(err)
		}
		sc, err := scenario.Parse(file, b)
		if err != nil {
			t.Fatal(err)
		}
		res, err := sandbox.Run(context.Background(), sc, sandbox.Options{SYAML: imageshare.SYAML, Logs: logs,
			FunctionCommand: func(name string) []string { return []string{os.Args[0], "imageshare-function", name} }})
		if err != nil || !res.OK() {
			t.Fatalf("%s: %v %v %v", file, err, res.Failures, res.Violations)
		}
	}
	logs.mu.Lock()
	lines := logs.lines
	logs.mu.Unlock()
	str := func(m map[string]any, k string) (string, bool) {
		v, ok := m[k]
		if !ok || v == nil {
			return "", false
		}
		if s, ok := v.(string); ok {
			return s, true
		}
		b, _ := json.Marshal(v)
		return string(b), true
	}
	for i, q := range queries {
		name := strings.TrimSuffix(strings.TrimPrefix(names[i], "<!-- sls query: "), " -->")
		q = strings.TrimSpace(q)
		pass := func(m map[string]any) bool {
			if tm := topicRE.FindStringSubmatch(q); tm != nil {
				if f, _ := str(m, "function"); f != keyOf[tm[1]] {
					return false
				}
			}
			for _, c := range equalRE.FindAllStringSubmatch(q, -1) {
				if v, _ := str(m, c[1]); v != c[2] {
					return false
				}
			}
			for _, c := range inRE.FindAllStringSubmatch(q, -1) {
				v, _ := str(m, c[1])
				found := false
				for _, o := range quotedRE.FindAllStringSubmatch(c[2], -1) {
					found = found || v == o[1]
				}
				if !found {
					return false
				}
			}
			return true
		}
		if tm := topicRE.FindStringSubmatch(q); tm != nil && keyOf[tm[1]] == "" {
			t.Errorf("query %q: topic FCLogs:%s names no function of s.yaml", name, tm[1])
			continue
		}
		var matched []map[string]any
		for _, m := range lines {
			if pass(m) {
				matched = append(matched, m)
			}
		}
		if len(matched) == 0 {
			t.Errorf("query %q matches no line the functions printed", name)
			continue
		}
		for _, f := range fieldRE.FindAllStringSubmatch(q, -1) {
			has := false
			for _, m := range matched {
				_, ok := str(m, f[1])
				has = has || ok
			}
			if !has {
				t.Errorf("query %q reads field %q, which none of its %d lines has", name, f[1], len(matched))
			}
		}
		// Every value a query filters on is one the functions print.
		for _, c := range inRE.FindAllStringSubmatch(q, -1) {
			for _, o := range quotedRE.FindAllStringSubmatch(c[2], -1) {
				seen := false
				for _, m := range matched {
					v, _ := str(m, c[1])
					seen = seen || v == o[1]
				}
				if !seen {
					t.Errorf("query %q filters on %s = %q, which no line shows", name, c[1], o[1])
				}
			}
		}
	}
}
