package main

import (
	"math/rand/v2"
	"slices"
	"strings"

	"imageshare/pkg/policy"
	"imageshare/pkg/scenario"
)

// Kinds of event in the latency run.
const (
	eventTag  = "tag"
	eventMove = "move"
)

// roundTrips is what each kind of event needs at the least, counted in calls that must
// follow one another: a tag change is the person's TagResources, one round of reads
// (the image, its share list and its accounts, at once) and the
// ModifyImageSharePermission that adds the new account, then — since the replaced
// account loses access, which SPEC R12 does only on a second look SETTLE_DELAY later
// at unchanged tags — the confirming run's round of reads and the write that removes
// it; an account move is the person's MoveAccount, the image list (its first page, then
// the others at once, since any image may name the account), one round of reads and one
// write (a share that became redundant goes at once, R7).
var roundTrips = map[string]int{eventTag: 5, eventMove: 5}

// Events makes n events on a converged world, four tag changes for each account move;
// moves come in pairs (into a folder an image of the account shares with, which makes
// its direct share redundant, then back, which restores it). It updates w's tags, so
// that w.Expect() is the state after the events.
func (w *World) Events(n int, seed uint64) ([]scenario.Step, []string) {
	r := rand.New(rand.NewPCG(seed, 11))
	var tagged, both []*Image
	for _, im := range w.Images {
		if im.Managed && im.Mode == "exact" && im.Tags["imageshare:accounts"] != "" {
			tagged = append(tagged, im)
			if len(im.Folders) > 0 {
				both = append(both, im)
			}
		}
	}
	type move struct{ account, home string }
	var away *move // an account moved in, to be moved back by the next move
	moving := map[string]bool{}
	var steps []scenario.Step
	var kinds []string
	for i := 0; i < n; i++ {
		if i%5 == 4 && len(both) > 0 {
			if away != nil {
				steps = append(steps, scenario.Step{MoveAccount: &scenario.MoveAccount{Account: away.account, To: away.home}})
				delete(moving, away.account)
				away = nil
			} else {
				im := both[r.IntN(len(both))]
				a := im.Accounts[r.IntN(len(im.Accounts))]
				steps = append(steps, scenario.Step{MoveAccount: &scenario.MoveAccount{Account: a, To: im.Folders[0]}})
				away = &move{account: a, home: w.Home[a]}
				moving[a] = true
			}
			kinds = append(kinds, eventMove)
			continue
		}
		im := tagged[r.IntN(len(tagged))]
		ids := policy.Split(im.Tags["imageshare:accounts"])
		j := r.IntN(len(ids))
		for {
			y := w.Members[r.IntN(len(w.Members))]
			if !w.covered(y, im.Folders) && !slices.Contains(im.Accounts, y) && !moving[y] {
				ids[j] = y
				break
			}
		}
		tags := map[string]string{}
		for k, v := range im.Tags {
			tags[k] = v
		}
		tags["imageshare:accounts"] = strings.Join(ids, ",")
		im.Tags = tags
		im.Accounts = policy.Parse(prefix, tags).Accounts
		steps = append(steps, scenario.Step{TagImage: &scenario.TagImage{Image: im.ID, Tags: map[string]string{"imageshare:accounts": tags["imageshare:accounts"]}}})
		kinds = append(kinds, eventTag)
	}
	if away != nil { // end with every account at home, as the expected state assumes
		steps = append(steps, scenario.Step{MoveAccount: &scenario.MoveAccount{Account: away.account, To: away.home}})
		kinds = append(kinds, eventMove)
	}
	return steps, kinds
}
