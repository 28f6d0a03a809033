package function

import (
	"context"
	"encoding/json"
	"log/slog"
	"os"

	"github.com/aliyun/fc-runtime-go-sdk/fc"
	"github.com/aliyun/fc-runtime-go-sdk/fccontext"

	"imageshare/pkg/aliyun"
	"imageshare/pkg/cloud"
	"imageshare/pkg/queue"
	"imageshare/pkg/settings"
)

// Main runs a function under the Function Compute runtime API (FC_RUNTIME_API): the
// same code for functions/NAME and for `imageshare function NAME`. It never returns.
func Main(name string) {
	log := slog.New(slog.NewJSONHandler(os.Stdout, nil)).With("function", name)
	Serve(name, NewDeps(log))
}

// Serve runs function name with the given dependencies under the FC runtime API.
func Serve(name string, d *Deps) {
	log := d.Log
	h, err := d.Handler(name)
	if err != nil {
		log.Error("cannot start", "error", err.Error())
		os.Exit(2)
	}
	if d.SettingsErr != nil {
		// Logged at start and at every invocation, which fails fast.
		log.Error("invalid setting", "error", d.SettingsErr.Error())
	}
	// A func taking []byte gets the payload as it is (the SDK's StartHandler would want a
	// func as well: v0.3.1 passes its Handler through NewHandler, which rejects structs).
	a := adapter{h}
	fc.Start(func(ctx context.Context, payload []byte) (json.RawMessage, error) {
		out, err := a.Invoke(ctx, payload)
		if err != nil || len(out) == 0 {
			return json.RawMessage("null"), err
		}
		return json.RawMessage(out), nil
	})
}

// NewDeps builds the real dependencies from the environment: settings, the SDK-backed
// cloud API and the MNS client, both with the credentials of each invocation.
func NewDeps(log *slog.Logger) *Deps {
	s, err := settings.Load(os.Getenv)
	return &Deps{
		Settings: s, SettingsErr: err, Log: log,
		API: func(inv Invocation) (cloud.API, error) {
			return aliyun.New(aliyun.Config{Region: inv.Region, Credentials: inv.Credentials, Endpoints: s.Endpoints})
		},
		Queue: func(inv Invocation) (Queue, error) {
			return queue.New(queue.Config{AccountID: inv.AccountID, Region: inv.Region, Credentials: inv.Credentials, Endpoint: s.Endpoints["mns"]})
		},
	}
}

// adapter is the runtime SDK's raw-bytes handler: the payload reaches our decoder as it
// is, so a malformed event is refused by us (and acknowledged), not by the SDK.
type adapter struct{ h Handler }

func (a adapter) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	inv := Invocation{}
	if fctx, ok := fccontext.FromContext(ctx); ok {
		inv = Invocation{RequestID: fctx.RequestID, Region: fctx.Region, AccountID: fctx.AccountId, RetryCount: fctx.RetryCount,
			Credentials: cloud.Credentials{AccessKeyID: fctx.Credentials.AccessKeyId, AccessKeySecret: fctx.Credentials.AccessKeySecret,
				SecurityToken: fctx.Credentials.SecurityToken}}
	}
	if inv.Region == "" {
		inv.Region = os.Getenv("FC_REGION")
	}
	if inv.AccountID == "" {
		inv.AccountID = os.Getenv("FC_ACCOUNT_ID")
	}
	return a.h(ctx, inv, payload)
}
