package main

import (
	"bytes"
	"context"
	"fmt"
	"os"

	"imageshare/pkg/reportpage"
)

const reportUsage = `report --html FILE [--region R] [--progress auto|always|never]
  Write one self-contained HTML page (no script, nothing fetched: it opens anywhere, and
  can be mailed or archived) of who can boot each image: the accounts it is shared with
  directly, the resource-share targets with their place in the Resource Directory and
  the members they reach, refusals with their remedies, removals awaiting confirmation,
  and images not Available yet. Made from the same data as status --json. FILE "-" is
  stdout.`

func reportCmd(ctx context.Context, args []string, e *env) int {
	fs := newFlags("report", e, reportUsage)
	var c common
	c.register(fs)
	file := fs.String("html", "", "the HTML file to write (\"-\": stdout)")
	progress := fs.String("progress", "auto", "progress on stderr: auto (when it is a terminal), always, never")
	if wantsHelp(args) {
		return help(fs, e)
	}
	if !parseFlags(fs, args, e, "report", "") {
		return exitUsage
	}
	if *file == "" {
		fmt.Fprintln(e.stderr, "imageshare report: give --html FILE (\"-\" for stdout)")
		return exitUsage
	}
	if *progress != "auto" && *progress != "always" && *progress != "never" {
		fmt.Fprintf(e.stderr, "imageshare report: --progress %q: must be auto, always or never\n", *progress)
		return exitUsage
	}
	s, err := c.connect(ctx, e, true)
	if err != nil {
		return fail(e, "report", err)
	}
	st, err := collectStatus(ctx, s, e, *progress == "always" || (*progress == "auto" && e.terminal()))
	if err != nil {
		return fail(e, "report", err)
	}
	p := reportpage.Page{Owner: st.Owner, Generated: e.now(), Regions: st.Regions}
	for _, set := range s.dep.NonDefault() {
		p.Settings = append(p.Settings, reportpage.Setting{Name: set.Name, Value: set.Value, Source: set.Source})
	}
	var buf bytes.Buffer
	if err := reportpage.Render(&buf, p); err != nil {
		return fail(e, "report", err)
	}
	if *file == "-" {
		_, _ = e.stdout.Write(buf.Bytes())
		return exitOK
	}
	if err := os.WriteFile(*file, buf.Bytes(), 0o644); err != nil {
		return fail(e, "report", err)
	}
	fmt.Fprintf(e.stderr, "imageshare report: wrote %s (%d bytes)\n", *file, buf.Len())
	return exitOK
}
