// Package function holds the five Function Compute handlers (docs/architecture.md). Each
// handler takes the raw payload EventBridge delivers; a malformed or unrelated event is
// logged (id, type, eventName, reason — never the payload) and acknowledged, so nothing
// is retried forever; only failures of the cloud or the queue fail an invocation, which
// EventBridge then retries and finally dead-letters.
package function

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"time"

	"imageshare/pkg/cloud"
	"imageshare/pkg/settings"
)

// Names of the functions.
const (
	ImageEvents = "image-events"
	OrgEvents   = "org-events"
	Reconcile   = "reconcile"
	Sweep       = "sweep"
	DeadLetters = "dead-letters"
)

// Names lists the functions in deployment order.
var Names = []string{ImageEvents, OrgEvents, Reconcile, Sweep, DeadLetters}

// Invocation is what Function Compute tells a handler about one invocation.
type Invocation struct {
	RequestID   string
	Region      string
	AccountID   string
	Credentials cloud.Credentials
	RetryCount  int
}

// Queue sends jobs and notifications.
type Queue interface {
	Send(ctx context.Context, queue string, bodies []string, delay time.Duration) error
	Publish(ctx context.Context, topic, body string) error
}

// Deps are what the handlers need from outside; tests give fakes, Main the real SDKs.
type Deps struct {
	Settings settings.Settings
	// SettingsErr: the settings are invalid; every invocation fails fast naming it.
	SettingsErr error
	Log         *slog.Logger
	API         func(Invocation) (cloud.API, error)
	Queue       func(Invocation) (Queue, error)
	// Now is the clock used when an event carries no time.
	Now func() time.Time
	// Sleep waits (nil: the real clock); tests replace it.
	Sleep func(ctx context.Context, d time.Duration) error
	// SkipConfirmationForTests is a test-only hook, never a setting: every R12 removal is
	// done on the first look, as before R12. Only test binaries set it (test/scenarios
	// shows with it the cut that R12 prevents); Main never does.
	SkipConfirmationForTests bool
}

// Handler handles one invocation.
type Handler func(ctx context.Context, inv Invocation, payload []byte) ([]byte, error)

// Handler returns the handler of a function.
func (d *Deps) Handler(name string) (Handler, error) {
	var h Handler
	switch name {
	case ImageEvents:
		h = d.imageEvents
	case OrgEvents:
		h = d.orgEvents
	case Reconcile:
		h = d.reconcile
	case Sweep:
		h = d.sweep
	case DeadLetters:
		h = d.deadLetters
	default:
		return nil, fmt.Errorf("no function named %q (functions: %v)", name, Names)
	}
	return func(ctx context.Context, inv Invocation, payload []byte) ([]byte, error) {
		if d.SettingsErr != nil {
			d.Log.Error("invalid setting; nothing is done until it is fixed", "error", d.SettingsErr.Error())
			return nil, d.SettingsErr
		}
		if inv.Region == "" || inv.AccountID == "" {
			return nil, fmt.Errorf("%s: the invocation carries no region or account (x-fc-region, x-fc-account-id)", name)
		}
		out, err := h(ctx, inv, payload)
		if err != nil {
			d.Log.Error("invocation failed; it will be retried", "requestId", inv.RequestID, "error", err.Error())
		}
		return out, err
	}, nil
}

// summary is what a handler answers.
type summary struct {
	Jobs    int `json:"jobs,omitempty"`
	Skipped int `json:"skipped,omitempty"`
	Changes int `json:"changes,omitempty"`
	Refused int `json:"refused,omitempty"`
}

func (s summary) bytes() []byte {
	b, _ := json.Marshal(s)
	return b
}

func (d *Deps) now() time.Time {
	if d.Now != nil {
		return d.Now()
	}
	return time.Now().UTC()
}

// regions are the regions a deployment covers: its own and REGIONS.
func (d *Deps) regions(inv Invocation) []string {
	out := []string{inv.Region}
	for _, r := range d.Settings.Regions {
		if r != inv.Region {
			out = append(out, r)
		}
	}
	return out
}

// eventTime reads a CloudEvent's time, falling back to the clock.
func (d *Deps) eventTime(s string) time.Time {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t.UTC()
	}
	return d.now()
}
