package scenario

import (
	"reflect"
	"strings"
	"testing"
)

// An expected refusal may name its reason, and `no_other_refusals: true` says every
// refusal of the run must be expected; both are optional and survive Marshal.
func TestRefusalReasonAndNoOtherRefusals(t *testing.T) {
	const head = "region: cn-hangzhou\nowner: \"1000000000000001\"\n"
	sc, err := Parse("old.yaml", []byte(head+"expect:\n  refusals:\n    - {image: m-A1, subject: \"2000000000000001\"}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if sc.Expect.NoOtherRefusals || sc.Expect.Refusals[0].Reason != "" {
		t.Fatalf("a file without the additions: %+v", sc.Expect)
	}
	src := head + `expect:
  refusals:
    - {image: m-A1, subject: "2000000000000001", reason: not-allowed}
    - {image: m-A1, subject: ""}
  no_other_refusals: true
`
	sc, err = Parse("new.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	want := Expect{Refusals: []ExpectRefusal{{Image: "m-A1", Subject: "2000000000000001", Reason: "not-allowed"}, {Image: "m-A1", Subject: ""}},
		NoOtherRefusals: true}
	if !reflect.DeepEqual(sc.Expect, want) {
		t.Fatalf("expect = %+v, want %+v", sc.Expect, want)
	}
	out, err := sc.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{`reason: "not-allowed"`, "no_other_refusals: true"} {
		if !strings.Contains(string(out), w) {
			t.Errorf("Marshal lost %q:\n%s", w, out)
		}
	}
	r := want.Refusals
	for _, c := range []struct {
		exp                    ExpectRefusal
		image, subject, reason string
		match                  bool
	}{
		{r[0], "m-A1", "2000000000000001", "not-allowed", true},
		{r[0], "m-A1", "2000000000000001", "owner", false},
		{r[0], "m-A2", "2000000000000001", "not-allowed", false},
		{r[0], "m-A1", "2000000000000002", "not-allowed", false},
		{r[1], "m-A1", "", "image-status", true},
		{r[1], "m-A1", "x", "image-status", false},
	} {
		if got := c.exp.Matches(c.image, c.subject, c.reason); got != c.match {
			t.Errorf("%+v matches (%s, %q, %s) = %v", c.exp, c.image, c.subject, c.reason, got)
		}
	}
}
