package sandbox

import (
	"strings"
	"testing"

	"imageshare/pkg/scenario"
)

func TestRefusalExpectations(t *testing.T) {
	got := []Refusal{
		{Image: "m-A1", Subject: "2000000000000001", Reason: "not-allowed"},
		{Image: "m-A1", Subject: "", Reason: "image-status"},
		{Image: "m-B1", Subject: "fd-Nope000001", Reason: "unknown-folder"},
	}
	want := func(rs ...scenario.ExpectRefusal) []scenario.ExpectRefusal { return rs }
	cases := []struct {
		name string
		exp  scenario.Expect
		fail []string // the failure lines, each by a part of it; nil: no failure
	}{
		{"subset, no reasons", scenario.Expect{Refusals: want(scenario.ExpectRefusal{Image: "m-A1", Subject: "2000000000000001"})}, nil},
		{"right reason", scenario.Expect{Refusals: want(scenario.ExpectRefusal{Image: "m-B1", Subject: "fd-Nope000001", Reason: "unknown-folder"})}, nil},
		{"wrong reason", scenario.Expect{Refusals: want(scenario.ExpectRefusal{Image: "m-A1", Subject: "2000000000000001", Reason: "owner"})},
			[]string{`refusal of image m-A1 subject "2000000000000001" reason owner: not reported (refusals of m-A1: "2000000000000001" (not-allowed)`}},
		{"missing", scenario.Expect{Refusals: want(scenario.ExpectRefusal{Image: "m-C1", Subject: ""})},
			[]string{`refusal of image m-C1 subject "": not reported (refusals of m-C1: none)`}},
		{"all listed, no others", scenario.Expect{NoOtherRefusals: true, Refusals: want(
			scenario.ExpectRefusal{Image: "m-A1", Subject: "2000000000000001", Reason: "not-allowed"},
			scenario.ExpectRefusal{Image: "m-A1", Subject: ""},
			scenario.ExpectRefusal{Image: "m-B1", Subject: "fd-Nope000001"})}, nil},
		{"an unexpected one", scenario.Expect{NoOtherRefusals: true, Refusals: want(
			scenario.ExpectRefusal{Image: "m-A1", Subject: "2000000000000001"},
			scenario.ExpectRefusal{Image: "m-A1", Subject: ""})},
			[]string{`unexpected refusal of image m-B1 subject "fd-Nope000001" (unknown-folder)`}},
		{"none expected, none allowed", scenario.Expect{NoOtherRefusals: true}, []string{"m-A1", "m-A1", "m-B1"}},
		{"a reason that matches another refusal does not cover this one", scenario.Expect{NoOtherRefusals: true, Refusals: want(
			scenario.ExpectRefusal{Image: "m-A1", Subject: "2000000000000001", Reason: "not-allowed"},
			scenario.ExpectRefusal{Image: "m-A1", Subject: "", Reason: "image-wait"},
			scenario.ExpectRefusal{Image: "m-B1", Subject: "fd-Nope000001"})},
			[]string{`refusal of image m-A1 subject "" reason image-wait: not reported`, `unexpected refusal of image m-A1 subject "" (image-status)`}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			fails := refusalFailures(c.exp, got)
			if len(fails) != len(c.fail) {
				t.Fatalf("failures:\n%s\nwant %d", strings.Join(fails, "\n"), len(c.fail))
			}
			for i, f := range fails {
				if !strings.Contains(f, c.fail[i]) {
					t.Errorf("failure %q lacks %q", f, c.fail[i])
				}
			}
		})
	}
}
