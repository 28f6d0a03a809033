package sandbox

import (
	"encoding/json"
	"strings"
	"testing"
)

// --json must print empty share lists as [] (SPEC section 6 shows lists), whether the
// cloud's view held a nil or an empty slice.
func TestEmptyListsPrintAsLists(t *testing.T) {
	b, err := json.Marshal(ImageState{Direct: nonNil(nil), Organization: nonNil([]string{}), Tags: map[string]string{}})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"direct":[]`, `"organization":[]`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("%s lacks %s", b, want)
		}
	}
	src := []string{"1000000000000002"}
	cp := nonNil(src)
	cp[0] = "changed"
	if src[0] != "1000000000000002" {
		t.Error("nonNil must copy, not alias, the cloud's slice")
	}
}
