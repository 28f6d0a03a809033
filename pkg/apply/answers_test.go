package apply

import (
	"testing"

	"imageshare/pkg/cloud"
	"imageshare/pkg/cloudsim/emu"
)

// writes are the write calls the applier makes, by product.
var writes = map[string][]string{
	"ecs":             {"ModifyImageSharePermission", "TagResources", "UntagResources", "CopyImage"},
	"resourcesharing": {"CreateResourceShare", "AssociateResourceShare", "DisassociateResourceShare", "UpdateResourceShare", "DeleteResourceShare"},
}

// TestEveryCatalogueAnswerOfTheWritesIsHandled walks the emulated cloud's error
// catalogue for every write the applier makes: each answer the cloud can give is
// either retried (cloud.Retryable) or has a remedy of its own that says what it
// concerns (account, image, target, the whole run, gone) — none falls through to the
// default for codes nobody thought of.
func TestEveryCatalogueAnswerOfTheWritesIsHandled(t *testing.T) {
	n := 0
	for product, actions := range writes {
		for _, action := range actions {
			for _, a := range emu.Codes(product, action) {
				if a.Status == 0 {
					continue // not an answer: a connection cut (a transport error, retried)
				}
				n++
				err := &cloud.Error{Code: a.Code, HTTPStatus: a.Status, Action: action}
				if cloud.Retryable(err) {
					if _, ok := remedies[a.Code]; ok {
						t.Errorf("%s %s: retried, yet it also has a remedy (which one applies?)", action, a.Code)
					}
					continue
				}
				if _, ok := remedies[a.Code]; !ok {
					t.Errorf("%s can answer %s (HTTP %d, %s): neither retried nor given a remedy", action, a.Code, a.Status, a.Source)
				}
			}
		}
	}
	if n < 40 {
		t.Fatalf("only %d answers walked: the catalogue is no longer read", n)
	}
}

// TestRetriedAnswers: what R9 retries, and nothing a person must fix.
func TestRetriedAnswers(t *testing.T) {
	for code, want := range map[string]bool{
		"Throttling.User": true, "ServiceUnavailable": true, "InternalError": true, "AssociateConflict": true,
		"DisassociateConflict": true, "InvalidTarget": false, "AccountNotInResourceDirectory": false,
		"MissingParameter.ResourceShareName": false, "DryRunOperation": false,
	} {
		if got := cloud.Retryable(&cloud.Error{Code: code, HTTPStatus: 400}); got != want {
			t.Errorf("Retryable(%s) = %v, want %v", code, got, want)
		}
	}
}
