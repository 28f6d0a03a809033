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
}

// Change reports whether the entry is a change (as opposed to a refusal or postponement).
func (e Entry) Change() bool { return e.Action != "refuse" && e.Action != "postpone" }

// Log writes the entry as one structured line.
func Log(ctx context.Context, l *slog.Logger, e Entry) {
	level := slog.LevelInfo
	if e.Action == "refuse" {
		level = slog.LevelWarn
	}
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
	default:
		s = fmt.Sprintf("Image %s: %s %s", e.Image, e.Action, e.Subject)
	}
	if e.Message != "" && e.Action == "refuse" {
		s += ": " + strings.TrimSuffix(e.Message, ".")
	}
	s += "."
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
