package main

import (
	"flag"
	"fmt"
	"io"

	"imageshare/pkg/rampolicy"
	"imageshare/pkg/settings"
)

const policyUsage = `policy [--account ID] [--region R] [--regions R1,R2] [--job-queue Q] [--notify-topic T]
  Print the RAM policy of the functions' role for a deployment: every action the
  functions call, on the narrowest resource documented. Without --account and --region
  the account and region are the placeholders ACCOUNT_ID and REGION_ID, exactly as
  deploy/ram-policy.json holds them. --regions, --job-queue and --notify-topic are the
  settings REGIONS, JOB_QUEUE and NOTIFY_TOPIC (default: theirs).`

// policyCmd prints the policy; --help prints the usage on stdout and exits 0.
func policyCmd(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("policy", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: imageshare %s\n\nflags:\n", policyUsage)
		fs.PrintDefaults()
	}
	d := rampolicy.Defaults()
	var regions multi
	fs.StringVar(&d.Account, "account", d.Account, "the account the functions run in (16 digits)")
	fs.StringVar(&d.Region, "region", d.Region, "the functions' region, e.g. cn-hangzhou")
	fs.Var(&regions, "regions", "further regions the sweep covers (setting REGIONS)")
	fs.StringVar(&d.JobQueue, "job-queue", settingDefault("JOB_QUEUE"), "the MNS queue of jobs (setting JOB_QUEUE)")
	fs.StringVar(&d.NotifyTopic, "notify-topic", settingDefault("NOTIFY_TOPIC"), "the MNS topic of notifications (setting NOTIFY_TOPIC; empty: none)")
	for _, a := range args {
		if a == "-h" || a == "-help" || a == "--help" || a == "--h" {
			fs.SetOutput(stdout)
			fs.Usage()
			return exitOK
		}
	}
	if err := fs.Parse(args); err != nil {
		return exitUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "imageshare policy: unexpected argument %q\n", fs.Arg(0))
		return exitUsage
	}
	for _, r := range regions {
		if r != d.Region {
			d.Regions = append(d.Regions, r)
		}
	}
	out, err := rampolicy.Render(d)
	if err != nil {
		fmt.Fprintf(stderr, "imageshare policy: %v\n", err)
		return exitUsage
	}
	_, _ = stdout.Write(out)
	return exitOK
}

func settingDefault(name string) string {
	for _, v := range settings.Vars {
		if v.Name == name {
			return v.Default
		}
	}
	return ""
}
