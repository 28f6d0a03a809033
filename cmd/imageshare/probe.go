package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"imageshare/pkg/aliyun"
	"imageshare/pkg/cloud"
	"imageshare/pkg/credentials"
	"imageshare/pkg/probe"
)

const probeUsage = `probe --image ID --folder FD [--account A] [--region R] [--yes] [--json]
  On a real account, checks how the cloud treats an account reached both directly and
  through a resource share (does DescribeImageSharePermission list organization grants;
  does RemoveAccount cut them) and prints the REVOKE_REDUNDANT value to deploy with.
  Use an untagged test image. It asks before each write and undoes what it did.
  With IMAGESHARE_PROBE_ACCESS_KEY_ID and IMAGESHARE_PROBE_ACCESS_KEY_SECRET (and
  IMAGESHARE_PROBE_SECURITY_TOKEN) of the member --account, it also checks the member's
  own view of the image.
  exit 0: answered and undone; 1: stopped, failed, or something is left to undo`

// memberEnv prefixes the variables of the member's credentials.
const memberEnv = "IMAGESHARE_PROBE"

func probeCmd(ctx context.Context, args []string, e *env) int {
	fs := newFlags("probe", e, probeUsage)
	var c common
	c.register(fs)
	image := fs.String("image", "", "an Available, untagged test image of the owner")
	folder := fs.String("folder", "", "a folder (fd-…) with a member the image is not shared with")
	account := fs.String("account", "", "the member to observe (default: one picked in the folder)")
	assumeYes := fs.Bool("yes", false, "do not ask before each write")
	wait := fs.Duration("wait", 5*time.Minute, "longest wait for an association to settle")
	poll := fs.Duration("poll", 5*time.Second, "how often to look while waiting")
	asJSON := fs.Bool("json", false, "print the result as JSON after the transcript")
	if wantsHelp(args) {
		return help(fs, e)
	}
	pos, err := parse(fs, args)
	if err != nil {
		return exitUsage
	}
	if len(pos) > 0 || *image == "" || *folder == "" {
		fs.Usage()
		return exitUsage
	}
	s, err := c.connect(ctx, e, false)
	if err != nil {
		return fail(e, "probe", err)
	}
	var member cloud.API
	mc, ok, err := credentials.FromEnv(e.getenv, memberEnv)
	switch {
	case err != nil:
		return fail(e, "probe", err)
	case ok:
		if member, err = aliyun.New(aliyun.Config{Region: s.regions[0], Credentials: mc.Credentials, Endpoints: s.set.Endpoints}); err != nil {
			return fail(e, "probe", fmt.Errorf("member clients: %w", err))
		}
	}
	ask := askLine(e)
	if *assumeYes {
		ask = func(q string) (bool, error) {
			fmt.Fprintln(e.stdout, q+"yes (--yes)")
			return true, nil
		}
	}
	res, err := probe.Run(ctx, probe.Config{API: s.api, Member: member, Region: s.regions[0], Owner: s.owner, Image: *image,
		Folder: *folder, Account: *account, Prefix: s.set.TagPrefix, Ask: ask, Out: e.stdout, Sleep: e.sleep,
		Poll: *poll, Wait: *wait, Now: e.now})
	if res != nil && *asJSON {
		if jerr := writeJSON(e.stdout, res); jerr != nil {
			return fail(e, "probe", jerr)
		}
	}
	switch {
	case errors.Is(err, probe.ErrDeclined):
		fmt.Fprintln(e.stderr, "imageshare probe: stopped (declined); no answer")
		return exitError
	case err != nil:
		return fail(e, "probe", err)
	case !res.Undone:
		fmt.Fprintln(e.stderr, "imageshare probe: answered, but not everything could be undone (see LEFT TO DO)")
		return exitError
	}
	return exitOK
}
