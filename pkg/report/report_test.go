package report

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
)

func TestActorsInSentencesAndLogLines(t *testing.T) {
	alice := Actor{Type: "ram-user", AccountID: "1000000000000001", PrincipalID: "28", UserName: "alice"}
	for a, want := range map[Actor]string{
		alice: "RAM user alice of account 1000000000000001",
		{Type: "root-account", AccountID: "1000000000000001", UserName: "root"}:         "the root account 1000000000000001",
		{Type: "assumed-role", AccountID: "1000000000000001", UserName: "ci-session"}:   "role session ci-session of account 1000000000000001",
		{Type: "federated-user", AccountID: "1000000000000001", PrincipalID: "fed-123"}: "federated-user fed-123 of account 1000000000000001",
		{AccountID: "1000000000000001"}:                                                 "account 1000000000000001",
	} {
		if got := a.String(); got != want {
			t.Errorf("%+v: %q, want %q", a, got, want)
		}
	}
	e := Entry{Region: "cn-hangzhou", Image: "m-1", Action: "unshare", Subject: "1000000000000004", Reason: "untagged", DryRun: true,
		AfterConfirmation: true, Actors: []Actor{alice}}
	s := Sentence(e)
	for _, want := range []string{"would no longer be shared directly", "after confirmation", "Asked for by RAM user alice"} {
		if !strings.Contains(s, want) {
			t.Errorf("sentence %q lacks %q", s, want)
		}
	}
	var buf bytes.Buffer
	Log(context.Background(), slog.New(slog.NewJSONHandler(&buf, nil)), e)
	var line map[string]any
	if err := json.Unmarshal(buf.Bytes(), &line); err != nil {
		t.Fatal(err)
	}
	if line["afterConfirmation"] != true || !strings.Contains(buf.String(), `"userName":"alice"`) {
		t.Fatalf("log line %s", buf.String())
	}
	rel := Entry{Image: "m-1", Action: ActRelease, Reason: "released-with-shares", Message: "shared directly with 1000000000000004."}
	if rel.Change() || !strings.HasPrefix(Sentence(rel), "Image m-1 was released with shares: shared directly with 1000000000000004.") {
		t.Errorf("release: change %t, sentence %q", rel.Change(), Sentence(rel))
	}
	for reason, want := range map[string]bool{"share-limit": true, "association-failed": true, "QuotaExceed.ShareImage": true,
		"not-allowed": false, "tag-error": false, "managed-share-limit": false} {
		if MayResolve(reason) != want {
			t.Errorf("MayResolve(%q) = %t", reason, !want)
		}
	}
}
