// Package report writes what a run did and refused (rule R10): one JSON log line per
// change, refusal or postponement, and, for runs caused by events, one notification
// per change or refusal.
package report

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
)

// Actor is the person (or program) whose edit caused a run, as ActionTrail's
// userIdentity names it. Tagging is sharing, so reports say who asked (SPEC R10). It has
// no field for an access key ID: one is never carried, logged or published.
type Actor struct {
	Type        string `json:"type,omitempty"` // root-account, ram-user, assumed-role, …
	AccountID   string `json:"accountId,omitempty"`
	PrincipalID string `json:"principalId,omitempty"`
	UserName    string `json:"userName,omitempty"`
}

// String names the actor for people.
func (a Actor) String() string {
	name := a.UserName
	if name == "" {
		name = a.PrincipalID
	}
	switch {
	case a.Type == "root-account":
		return "the root account " + a.AccountID
	case a.Type == "ram-user":
		return fmt.Sprintf("RAM user %s of account %s", name, a.AccountID)
	case a.Type == "assumed-role":
		return fmt.Sprintf("role session %s of account %s", name, a.AccountID)
	case name != "":
		return fmt.Sprintf("%s %s of account %s", strings.TrimSpace(a.Type+" "), name, a.AccountID)
	}
	return "account " + a.AccountID
}

// Entry is one change, refusal or postponement.
type Entry struct {
	Region      string   `json:"region"`
	Image       string   `json:"image"`
	Action      string   `json:"action"` // share, unshare, associate, disassociate, retain, refuse, postpone
	Subject     string   `json:"subject"`
	Reason      string   `json:"reason"`
	Message     string   `json:"message,omitempty"`
	RequestIDs  []string `json:"requestIds,omitempty"`
	DryRun      bool     `json:"dryRun,omitempty"`
	ProductCode string   `json:"productCode,omitempty"` // the image is built from a Marketplace image
	// AfterConfirmation: a dry run's removal that waits for a second look (SPEC R12).
	AfterConfirmation bool `json:"afterConfirmation,omitempty"`
	// Actors are the people whose edits caused the run (every distinct one of its jobs).
	Actors []Actor `json:"actors,omitempty"`
}

// Actions that are neither changes nor refusals.
const (
	ActPostpone = "postpone"
	// ActRelease warns that an image whose prefix tags were removed still has shares.
	ActRelease = "release"
	// ActKeep says that a copy in another region is kept although no tag asks for it, or
	// its source is gone (docs/regions.md).
	ActKeep = "keep"
)

// Change reports whether the entry is a change (as opposed to a refusal, postponement
// or warning).
func (e Entry) Change() bool {
	return e.Action != "refuse" && e.Action != ActPostpone && e.Action != ActRelease && e.Action != ActKeep
}

// MayResolve reports whether a refusal with this reason may be resolved by what a chain
// of runs still has under way (an association on its way, a removal awaiting
// confirmation): room for direct shares made by a redundant share's revocation or a
// confirmed removal, or a Failed association being tried again. Such refusals are
// published only if the chain ends with them (SPEC R10).
func MayResolve(reason string) bool {
	switch reason {
	case "share-limit", "QuotaExceed.ShareImage", "association-failed":
		return true
	}
	return false
}

// Log writes the entry as one structured line.
func Log(ctx context.Context, l *slog.Logger, e Entry) {
	level := slog.LevelInfo
	attrs := []slog.Attr{
		slog.String("region", e.Region), slog.String("image", e.Image), slog.String("action", e.Action),
		slog.String("subject", e.Subject), slog.String("reason", e.Reason),
	}
	if e.Message != "" {
		attrs = append(attrs, slog.String("detail", e.Message))
	}
	if len(e.RequestIDs) > 0 {
		attrs = append(attrs, slog.Any("requestIds", e.RequestIDs))
	}
	if e.DryRun {
		attrs = append(attrs, slog.Bool("dryRun", true))
	}
	if e.AfterConfirmation {
		attrs = append(attrs, slog.Bool("afterConfirmation", true))
	}
	if len(e.Actors) > 0 {
		attrs = append(attrs, slog.Any("actors", e.Actors))
	}
	if e.Action == "refuse" || e.Action == ActRelease || e.Action == ActKeep {
		level = slog.LevelWarn
	}
	l.LogAttrs(ctx, level, "imageshare "+e.Action, attrs...)
}

// Sentence says the entry in words, for notifications and terminals.
func Sentence(e Entry) string {
	var s string
	switch e.Action {
	case "share":
		s = fmt.Sprintf("Image %s %s shared directly with account %s", e.Image, choose(e.DryRun, "would be", "is now"), e.Subject)
	case "unshare":
		s = fmt.Sprintf("Image %s %s shared directly with account %s (%s)", e.Image, choose(e.DryRun, "would no longer be", "is no longer"), e.Subject, e.Reason)
	case "associate":
		s = fmt.Sprintf("Image %s %s shared with %s through resource sharing", e.Image, choose(e.DryRun, "would be", "is being"), e.Subject)
	case "disassociate":
		s = fmt.Sprintf("Image %s %s removed from resource share %s", e.Image, choose(e.DryRun, "would be", "is being"), e.Subject)
	case "retain":
		s = fmt.Sprintf("Image %s: direct shares %s recorded in tag %s before redundant ones are revoked", e.Image, choose(e.DryRun, "would be", "were"), e.Subject)
	case "refuse":
		subject := e.Subject
		if subject == "" {
			subject = "the image"
		}
		s = fmt.Sprintf("Image %s: refused %s (%s)", e.Image, subject, e.Reason)
	case "postpone":
		s = fmt.Sprintf("Image %s is not available yet; imageshare looks again later", e.Image)
	case ActRelease:
		s = fmt.Sprintf("Image %s was released with shares: %s", e.Image, strings.TrimSuffix(e.Message, "."))
	case "copy", "retag", ActKeep:
		s = fmt.Sprintf("Image %s, region %s: %s", e.Image, e.Subject, strings.TrimSuffix(e.Message, "."))
		if e.Subject == "" {
			s = fmt.Sprintf("Image %s: %s", e.Image, strings.TrimSuffix(e.Message, "."))
		}
	default:
		s = fmt.Sprintf("Image %s: %s %s", e.Image, e.Action, e.Subject)
	}
	if e.Message != "" && e.Action == "refuse" {
		s += ": " + strings.TrimSuffix(e.Message, ".")
	}
	if e.AfterConfirmation {
		s += ", after confirmation: a second look SETTLE_DELAY later must find the tags unchanged"
	}
	s += "."
	if len(e.Actors) > 0 {
		names := make([]string, len(e.Actors))
		for i, a := range e.Actors {
			names[i] = a.String()
		}
		s += " Asked for by " + strings.Join(names, ", ") + "."
	}
	if e.ProductCode != "" && (e.Action == "share" || e.Action == "associate") {
		s += " The image is built from a Marketplace image: the recipient is billed for it when they use it."
	}
	return s
}

func choose(c bool, a, b string) string {
	if c {
		return a
	}
	return b
}

// Notification is the message published to NOTIFY_TOPIC for one change or refusal.
type Notification struct {
	Version int `json:"version"`
	Entry
	Text string `json:"text"`
	// Billing is set for images built from Marketplace images.
	Billing string `json:"billing,omitempty"`
}

// Notify builds the notification of an entry.
func Notify(e Entry) Notification {
	n := Notification{Version: 1, Entry: e, Text: Sentence(e)}
	if e.ProductCode != "" {
		n.Billing = "built from Marketplace product " + e.ProductCode + ": the recipient is billed for the image when they use it"
	}
	return n
}
