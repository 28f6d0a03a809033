// Command fnproc is a function for the fcruntime tests, built on the real
// fc-runtime-go-sdk: what it does depends on the payload's mode.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync/atomic"
	"time"

	"github.com/aliyun/fc-runtime-go-sdk/fc"
	"github.com/aliyun/fc-runtime-go-sdk/fccontext"
)

type request struct {
	Mode string `json:"mode"` // echo | fail | crash | hold | hang | context
	Text string `json:"text"`
	File string `json:"file"` // hold: wait until this file exists
}

// inside and peak count the invocations running at once in this process.
var inside, peak atomic.Int64

func handle(ctx context.Context, req request) (any, error) {
	n := inside.Add(1)
	defer inside.Add(-1)
	for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
	}
	fmt.Printf("out %s %s\n", req.Mode, req.Text)
	fmt.Fprintf(os.Stderr, "err %s %s\n", req.Mode, req.Text)
	switch req.Mode {
	case "echo":
		return req, nil
	case "fail":
		return nil, errors.New(req.Text)
	case "crash":
		os.Exit(3)
	case "hang":
		select {}
	case "hold":
		for stop := time.Now().Add(time.Minute); time.Now().Before(stop); time.Sleep(5 * time.Millisecond) {
			if _, err := os.Stat(req.File); err == nil {
				return map[string]any{"peak": peak.Load(), "pid": os.Getpid()}, nil
			}
		}
		return nil, errors.New("hold: file never appeared")
	case "context":
		fctx, ok := fccontext.FromContext(ctx)
		if !ok {
			return nil, errors.New("no FC context")
		}
		deadline, _ := ctx.Deadline()
		return map[string]any{
			"requestId": fctx.RequestID, "deadlineMs": deadline.UnixMilli(),
			"name": fctx.Function.Name, "handler": fctx.Function.Handler, "memory": fctx.Function.Memory,
			"timeout": fctx.Function.Timeout, "region": fctx.Region, "accountId": fctx.AccountId,
			"retryCount": fctx.RetryCount, "akId": fctx.Credentials.AccessKeyId,
			"akSecret": fctx.Credentials.AccessKeySecret, "token": fctx.Credentials.SecurityToken,
			"qualifier": fctx.Service.Qualifier, "service": fctx.Service.Name,
			"envName": os.Getenv("FC_FUNCTION_NAME"), "envExtra": os.Getenv("EXTRA"), "home": os.Getenv("HOME"),
		}, nil
	}
	return nil, fmt.Errorf("unknown mode %q", req.Mode)
}

func main() { fc.Start(handle) }
