package scenarios

import (
	"os"
	"strings"
	"sync"
	"testing"

	"imageshare/pkg/sandbox"
	"imageshare/pkg/scenario"
)

// R4 and docs/scenarios.md: of two managed shares of one name present at the start (in file
// order, oldest first), the oldest is the functions' share; the newer one is emptied
// into it and deleted.
func TestDuplicateManagedSharesMergeIntoTheOldest(t *testing.T) {
	res := mustRunFile(t, "r04-merge-duplicates.yaml", sandbox.Options{})
	const name = "imageshare-1df56af76402ddbbb753d5787eb77ed6"
	var dup []int
	for i, s := range res.Shares {
		if s.Name == name {
			dup = append(dup, i)
		}
	}
	if len(dup) != 2 {
		t.Fatalf("want the two shares of %s (one deleted), got %d", name, len(dup))
	}
	oldest, newer := res.Shares[dup[0]], res.Shares[dup[1]]
	if newer.Created.Before(oldest.Created) {
		oldest, newer = newer, oldest
	}
	if !oldest.Created.Before(newer.Created) {
		t.Fatalf("the shares present at the start are not ordered by age: %v, %v", oldest.Created, newer.Created)
	}
	if oldest.Status != "Active" || newer.Status != "Deleted" {
		t.Fatalf("oldest %s is %s, newer %s is %s: the duplicates were not merged into the oldest", oldest.ID, oldest.Status, newer.ID, newer.Status)
	}
	for _, im := range []string{"m-First00000001", "m-Second0000001"} {
		if oldest.Resources[im] != "Associated" {
			t.Errorf("%s is %q in the oldest share", im, oldest.Resources[im])
		}
	}
}

// Section 6: the owner is a member at the root unless directory.accounts lists it; then
// it sits in the folder given.
func TestOwnerSitsInTheFolderListed(t *testing.T) {
	const owner = "1000000000000001"
	for _, tc := range []struct {
		name, drop, want string
	}{
		{"listed in prod", "", "fd-Prod000001"},
		{"not listed", `    - {id: "1000000000000001", folder: fd-Prod000001}` + "\n", "r-Scen01"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			data, err := os.ReadFile("owner-in-folder.yaml")
			if err != nil {
				t.Fatal(err)
			}
			src := string(data)
			if tc.drop != "" {
				if !strings.Contains(src, tc.drop) {
					t.Fatal("the scenario no longer lists the owner")
				}
				src = strings.Replace(src, tc.drop, "", 1)
			}
			sc, err := scenario.Parse("owner-in-folder.yaml", []byte(src))
			if err != nil {
				t.Fatal(err)
			}
			var mu sync.Mutex
			places := map[string]bool{}
			res := run(t, sc, sandbox.Options{OnWrite: func(w sandbox.Write) {
				mu.Lock()
				places[w.Members[owner]] = true
				mu.Unlock()
			}})
			if !res.OK() {
				t.Fatalf("%v %v", res.Failures, res.Violations)
			}
			if len(places) != 1 || !places[tc.want] {
				t.Fatalf("the owner sat in %v during the functions' writes, want %s", places, tc.want)
			}
		})
	}
}
