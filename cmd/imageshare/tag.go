package main

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	"imageshare/pkg/aliyun"
	"imageshare/pkg/cloud"
	"imageshare/pkg/tagcheck"
)

const tagUsage = `tag IMAGE KEY=VALUE... [--remove KEY]... [--force] [--region R]
  Set tags on one of the owner's images (ECS TagResources), and remove some
  (UntagResources), as a person does in the console or with the aliyun CLI: for trying
  imageshare on the emulator (docs/try-it.md) or where no other client is at hand.
  Tagging is sharing: the image's tags as they would be after the edit are checked first
  as check-tags checks them (tag errors, the owner's own account), and nothing is
  written when the functions would refuse them, unless --force. Credentials, region and
  endpoints as the other operator commands.
  exit 0: written; 4: refused by the check, nothing written; 1: error; 2: usage`

func tagCmd(ctx context.Context, args []string, e *env) int {
	fs := newFlags("tag", e, tagUsage)
	var c common
	c.register(fs)
	var remove multi
	fs.Var(&remove, "remove", "remove tag KEY (repeatable)")
	force := fs.Bool("force", false, "write even what the functions would refuse")
	if wantsHelp(args) {
		return help(fs, e)
	}
	pos, err := parse(fs, args)
	if err != nil {
		return exitUsage
	}
	if len(pos) == 0 {
		fmt.Fprintln(e.stderr, "imageshare tag: name the image: imageshare tag IMAGE KEY=VALUE... [--remove KEY]")
		return exitUsage
	}
	image := pos[0]
	set := map[string]string{}
	for _, a := range pos[1:] {
		k, v, ok := strings.Cut(a, "=")
		if !ok || k == "" {
			fmt.Fprintf(e.stderr, "imageshare tag: %q is not KEY=VALUE\n", a)
			return exitUsage
		}
		set[k] = v
	}
	for _, k := range remove {
		if _, both := set[k]; both {
			fmt.Fprintf(e.stderr, "imageshare tag: %s is both set and removed\n", k)
			return exitUsage
		}
	}
	if len(set) == 0 && len(remove) == 0 {
		fmt.Fprintln(e.stderr, "imageshare tag: nothing to do: give KEY=VALUE or --remove KEY")
		return exitUsage
	}
	if len(set) > 20 || len(remove) > 20 {
		fmt.Fprintln(e.stderr, "imageshare tag: at most 20 tags set and 20 removed at once (TagResources, UntagResources)")
		return exitUsage
	}
	s, err := c.connect(ctx, e, false)
	if err != nil {
		return fail(e, "tag", err)
	}
	region := s.regions[0]
	page, err := s.api.DescribeImages(ctx, cloud.DescribeImagesInput{Region: region, ImageIDs: []string{image}, Statuses: cloud.AllStatuses,
		OwnerAlias: "self", Page: 1, PageSize: 1})
	if err != nil {
		return fail(e, "tag", fmt.Errorf("read image %s: %w", image, err))
	}
	if len(page.Images) == 0 {
		return fail(e, "tag", fmt.Errorf("%s: no such image among the images account %s owns in %s", image, s.owner, region))
	}
	after := maps.Clone(page.Images[0].Tags)
	if after == nil {
		after = map[string]string{}
	}
	maps.Copy(after, set)
	for _, k := range remove {
		delete(after, k)
	}
	res := tagcheck.Check(tagcheck.Config{Settings: s.set, Owner: s.owner}, image, after)
	if n := res.Refusals(); n > 0 {
		fmt.Fprintf(e.stdout, "imageshare tag: with these tags the functions would refuse:\n")
		for _, f := range res.Findings {
			if f.Status == tagcheck.Refused {
				fmt.Fprintf(e.stdout, "  %s (%s): %s\n", f.Subject, f.Reason, f.Message)
			}
		}
		if !*force {
			fmt.Fprintln(e.stdout, "nothing written (--force writes it anyway)")
			return exitRefusals
		}
	}
	client, ok := s.api.(*aliyun.Client)
	if !ok {
		return fail(e, "tag", fmt.Errorf("no ECS client"))
	}
	var done []string
	if len(set) > 0 {
		r, err := client.TagResources(ctx, region, []string{image}, set)
		if err != nil {
			return fail(e, "tag", fmt.Errorf("TagResources: %w", err))
		}
		var kv []string
		for _, k := range slices.Sorted(maps.Keys(set)) {
			kv = append(kv, k+"="+set[k])
		}
		done = append(done, "set "+strings.Join(kv, ", ")+" (request "+r.RequestID+")")
	}
	if len(remove) > 0 {
		r, err := client.UntagResources(ctx, region, []string{image}, remove)
		if err != nil {
			return fail(e, "tag", fmt.Errorf("UntagResources (the tags set before it stay): %w", err))
		}
		done = append(done, "removed "+strings.Join(remove, ", ")+" (request "+r.RequestID+")")
	}
	fmt.Fprintf(e.stdout, "imageshare tag: %s in %s: %s\n", image, region, strings.Join(done, "; "))
	fmt.Fprintf(e.stdout, "the functions look about SETTLE_DELAY (%s) later; `imageshare plan --image %s` shows what they will do\n", s.set.SettleDelay, image)
	return exitOK
}
