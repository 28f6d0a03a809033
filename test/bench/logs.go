package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"sync"
)

// logs reads the lines the function processes print ("[function#instance] {json}"):
// peak memory per instance, retried calls, failed invocations.
type logs struct {
	mu        sync.Mutex
	buf       []byte
	peakKB    map[string]int // "function#instance" → largest maxRSSKB reported
	throttled map[string]int // RAM action → calls answered Throttling and retried
	retried   int
	failed    int // invocations that failed (and are retried by the trigger)
}

func newLogs() *logs { return &logs{peakKB: map[string]int{}, throttled: map[string]int{}} }

func (l *logs) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf = append(l.buf, p...)
	for {
		i := bytes.IndexByte(l.buf, '\n')
		if i < 0 {
			break
		}
		l.line(string(l.buf[:i]))
		l.buf = l.buf[i+1:]
	}
	return len(p), nil
}

// services maps the action names the applier logs to RAM service prefixes.
var services = map[string]string{
	"DescribeImages": "ecs", "DescribeImageSharePermission": "ecs", "ModifyImageSharePermission": "ecs", "TagResources": "ecs",
	"GetResourceDirectory": "resourcemanager", "ListAccounts": "resourcemanager", "GetAccount": "resourcemanager",
	"ListAncestors": "resourcemanager", "ListHandshakesForResourceDirectory": "resourcemanager",
	"SendMessage": "mns", "PublishMessage": "mns", "LookupEvents": "actiontrail",
}

func (l *logs) line(s string) {
	end := strings.Index(s, "] ")
	if !strings.HasPrefix(s, "[") || end < 0 {
		return
	}
	inst, body := s[1:end], s[end+2:]
	var rec struct {
		Msg    string `json:"msg"`
		Action string `json:"action"`
		Code   string `json:"code"`
		MaxRSS int    `json:"maxRSSKB"`
	}
	if json.Unmarshal([]byte(body), &rec) != nil {
		return
	}
	if rec.MaxRSS > l.peakKB[inst] {
		l.peakKB[inst] = rec.MaxRSS
	}
	switch rec.Msg {
	case "cloud call retried":
		l.retried++
		if strings.HasPrefix(rec.Code, "Throttling") {
			svc := services[rec.Action]
			if svc == "" {
				svc = "resourcesharing"
			}
			l.throttled[svc+":"+rec.Action]++
		}
	case "invocation failed; it will be retried":
		l.failed++
	}
}

// peakMB returns the largest peak of any instance of the named functions.
func (l *logs) peakMB(functions ...string) (float64, map[string]float64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	per := map[string]float64{}
	best := 0.0
	for inst, kb := range l.peakKB {
		for _, f := range functions {
			if strings.HasPrefix(inst, f+"#") {
				mb := float64(kb) / 1024
				per[inst] = mb
				best = max(best, mb)
			}
		}
	}
	return best, per
}
