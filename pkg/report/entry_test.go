package report

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"testing"
)

// TestLogIsOneJSONLinePerEntry is R10's log line: one JSON object with the time, region,
// image, action, subject, reason and request IDs; refusals at WARN, changes at INFO.
func TestLogIsOneJSONLinePerEntry(t *testing.T) {
	var buf bytes.Buffer
	l := slog.New(slog.NewJSONHandler(&buf, nil))
	Log(context.Background(), l, Entry{Region: "cn-hangzhou", Image: "m-1", Action: "share", Subject: "1000000000000002", Reason: "tag",
		RequestIDs: []string{"R-1", "R-2"}})
	Log(context.Background(), l, Entry{Region: "cn-hangzhou", Image: "m-1", Action: "refuse", Subject: "2000000000000001", Reason: "not-allowed",
		Message: "invite it", DryRun: true})
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("want one line per entry:\n%s", buf.String())
	}
	var share, refuse map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &share); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(lines[1]), &refuse); err != nil {
		t.Fatal(err)
	}
	want := []string{"action", "image", "level", "msg", "reason", "region", "requestIds", "subject", "time"}
	if got := slices.Sorted(maps.Keys(share)); !slices.Equal(got, want) {
		t.Errorf("share line keys %v, want %v", got, want)
	}
	if share["level"] != "INFO" || share["msg"] != "imageshare share" || share["subject"] != "1000000000000002" ||
		share["reason"] != "tag" || share["region"] != "cn-hangzhou" || share["image"] != "m-1" ||
		strings.Join(toStrings(share["requestIds"]), ",") != "R-1,R-2" {
		t.Errorf("share line %v", share)
	}
	if refuse["level"] != "WARN" || refuse["msg"] != "imageshare refuse" || refuse["detail"] != "invite it" || refuse["dryRun"] != true {
		t.Errorf("refusal line %v", refuse)
	}
	if _, ok := refuse["requestIds"]; ok {
		t.Errorf("a refusal without request IDs prints none: %v", refuse)
	}
}

func toStrings(v any) []string {
	var out []string
	for _, x := range v.([]any) {
		out = append(out, x.(string))
	}
	return out
}

func TestChange(t *testing.T) {
	for action, change := range map[string]bool{"share": true, "unshare": true, "associate": true, "disassociate": true, "retain": true,
		"delete": true, "repair": true, "refuse": false, "postpone": false} {
		if got := (Entry{Action: action}).Change(); got != change {
			t.Errorf("%s: Change() = %v", action, got)
		}
	}
}

func TestSentence(t *testing.T) {
	cases := []struct {
		e    Entry
		want string
	}{
		{Entry{Image: "m-1", Action: "share", Subject: "1000000000000002"}, "Image m-1 is now shared directly with account 1000000000000002."},
		{Entry{Image: "m-1", Action: "share", Subject: "1000000000000002", DryRun: true}, "Image m-1 would be shared directly with account 1000000000000002."},
		{Entry{Image: "m-1", Action: "unshare", Subject: "1000000000000002", Reason: "redundant"}, "Image m-1 is no longer shared directly with account 1000000000000002 (redundant)."},
		{Entry{Image: "m-1", Action: "unshare", Subject: "1000000000000002", Reason: "untagged", DryRun: true}, "Image m-1 would no longer be shared directly with account 1000000000000002 (untagged)."},
		{Entry{Image: "m-1", Action: "associate", Subject: "fd-Prod000001"}, "Image m-1 is being shared with fd-Prod000001 through resource sharing."},
		{Entry{Image: "m-1", Action: "disassociate", Subject: "imageshare-x", DryRun: true}, "Image m-1 would be removed from resource share imageshare-x."},
		{Entry{Image: "m-1", Action: "retain", Subject: "imageshare:accounts:retained=1000000000000002"},
			"Image m-1: direct shares were recorded in tag imageshare:accounts:retained=1000000000000002 before redundant ones are revoked."},
		{Entry{Image: "m-1", Action: "refuse", Subject: "", Reason: "image-status", Message: "the image is Deprecated."},
			"Image m-1: refused the image (image-status): the image is Deprecated."},
		{Entry{Image: "m-1", Action: "refuse", Subject: "2000000000000001", Reason: "not-allowed"}, "Image m-1: refused 2000000000000001 (not-allowed)."},
		{Entry{Image: "m-1", Action: "postpone", Message: "looking again in 1m"}, "Image m-1 is not available yet; imageshare looks again later."},
		{Entry{Image: "m-1", Action: "share", Subject: "1000000000000002", Message: "not a refusal"}, "Image m-1 is now shared directly with account 1000000000000002."},
	}
	for _, c := range cases {
		if got := Sentence(c.e); got != c.want {
			t.Errorf("%+v:\n got %q\nwant %q", c.e, got, c.want)
		}
	}
}

// TestMarketplaceBilling is R10: notifications about images built from Marketplace
// images say the recipient is billed, for what gives access; not for other entries.
func TestMarketplaceBilling(t *testing.T) {
	const note = "the recipient is billed"
	for action, billed := range map[string]bool{"share": true, "associate": true, "unshare": false, "refuse": false, "disassociate": false} {
		e := Entry{Image: "m-1", Action: action, Subject: "1000000000000002", Reason: "tag", ProductCode: "cmjj000001"}
		n := Notify(e)
		if got := strings.Contains(n.Text, note); got != billed {
			t.Errorf("%s of a Marketplace image: billing note in the text %v, want %v (%q)", action, got, billed, n.Text)
		}
		if !strings.Contains(n.Billing, "cmjj000001") || !strings.Contains(n.Billing, note) {
			t.Errorf("%s: billing field %q", action, n.Billing)
		}
		plain := Notify(Entry{Image: "m-1", Action: action, Subject: "1000000000000002"})
		if plain.Billing != "" || strings.Contains(plain.Text, note) {
			t.Errorf("%s of an image not from Marketplace: %+v", action, plain)
		}
	}
}

func TestNotificationJSON(t *testing.T) {
	n := Notify(Entry{Region: "cn-hangzhou", Image: "m-1", Action: "share", Subject: "1000000000000002", Reason: "tag", RequestIDs: []string{"R-1"}})
	b, err := json.Marshal(n)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	want := []string{"action", "image", "reason", "region", "requestIds", "subject", "text", "version"}
	if got := slices.Sorted(maps.Keys(m)); !slices.Equal(got, want) {
		t.Errorf("notification keys %v, want %v", got, want)
	}
	if m["version"] != float64(1) || m["text"] != Sentence(n.Entry) {
		t.Errorf("notification %s", b)
	}
}
