package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"

	"imageshare"
	"imageshare/pkg/credentials"
	"imageshare/pkg/rampolicy"
	"imageshare/pkg/settings"
	"imageshare/pkg/setup"
	"imageshare/pkg/setupcloud"
)

const setupUsage = `setup [--dry-run] [--print-deployer-policy] [--syaml FILE] [--region R] [--account ID]
  Create or update what the deployment needs besides s deploy, as s.yaml says (read
  with the IMAGESHARE_* variables, as s deploy reads it): the job and dead-letter queues
  and the NOTIFY_TOPIC topic (MNS), the functions' RAM role trusting Function Compute
  with the policy imageshare policy prints, and the EventBridge rules of the triggers on
  Alibaba Cloud service events (image-events, org-events), which Serverless Devs cannot
  create, with EventBridge's service-linked role for Function Compute. Run it before s
  deploy. It changes only what it made (tag managed-by=imageshare-setup on queues and
  topic; "managed by imageshare setup" in the role's and policy's descriptions; rules
  named imageshare-setup-…), never makes a second rule for an event another rule
  already delivers to the same function, and deletes its own rule when one appears.
  --dry-run prints each change, one line each ("nothing to do" when there is none), and
  changes nothing. --print-deployer-policy prints the RAM policy whoever runs setup and
  doctor needs (--account, else IMAGESHARE_ACCOUNT_ID, else the placeholder ACCOUNT_ID).
  Exit 0: done (or nothing to do); 1: a call failed, naming it (a RAM denial names the
  action and the resource); 2: bad flags or s.yaml.`

const doctorUsage = `doctor [--syaml FILE] [--region R]
  Check the deployment, read-only, one line per check with its remedy: credentials and
  caller, the settings, the Resource Directory (management account or delegated
  administrator) and sharing with it, the queues and the topic and their attributes, the
  role's trust policy and its policy against imageshare policy's output (also
  evaluated for the functions' calls), the EventBridge rules (enabled, s.yaml's
  patterns, the right functions) and EventBridge's role, and what stays to check by
  hand. Exit 0 only when no check fails; 1 otherwise; 2: bad flags.`

// setupFlags are the flags setup and doctor share.
type setupFlags struct {
	syaml, region, account string
}

func (f *setupFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.syaml, "syaml", "", "the s.yaml to read (default: the embedded one, this repository's)")
	fs.StringVar(&f.region, "region", "", "the deployment's region (default: s.yaml's, from IMAGESHARE_REGION)")
}

// setupCmd runs setup or doctor.
func setupCmd(name string, args []string, e *env) int {
	usage := setupUsage
	if name == "doctor" {
		usage = doctorUsage
	}
	for _, a := range args {
		if a == "-h" || a == "-help" || a == "--help" || a == "--h" {
			fmt.Fprintf(e.stdout, "usage: imageshare %s\n", usage)
			return exitOK
		}
	}
	fs := newFlags(name, e, usage)
	var f setupFlags
	f.register(fs)
	dryRun, printPolicy := new(bool), new(bool)
	if name == "setup" {
		fs.BoolVar(dryRun, "dry-run", false, "print the changes, make none")
		fs.BoolVar(printPolicy, "print-deployer-policy", false, "print the deployer's RAM policy and exit")
		fs.StringVar(&f.account, "account", "", "with --print-deployer-policy: the account (default IMAGESHARE_ACCOUNT_ID)")
	}
	if err := fs.Parse(args); err != nil {
		return exitUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(e.stderr, "imageshare %s: unexpected argument %q\n", name, fs.Arg(0))
		return exitUsage
	}
	data := imageshare.SYAML
	if f.syaml != "" {
		var err error
		if data, err = os.ReadFile(f.syaml); err != nil {
			fmt.Fprintf(e.stderr, "imageshare %s: %v\n", name, err)
			return exitUsage
		}
	}
	lookup := func(k string) (string, bool) {
		v := e.getenv(k)
		return v, v != ""
	}
	if *printPolicy {
		account := f.account
		if account == "" {
			account = e.getenv("IMAGESHARE_ACCOUNT_ID")
		}
		if account == "" {
			account = rampolicy.AccountPlaceholder
		}
		d, err := setup.Load(data, lookup, account, f.region)
		if err != nil {
			fmt.Fprintf(e.stderr, "imageshare setup: %v\n", err)
			return exitUsage
		}
		_, _ = e.stdout.Write(setup.DeployerPolicy(d).JSON())
		return exitOK
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	c, err := setupClient(e, f.region, data, lookup)
	if err != nil {
		fmt.Fprintf(e.stderr, "imageshare %s: %v\n", name, err)
		return exitError
	}
	if name == "doctor" {
		return doctorRun(ctx, e, c, data, lookup, f.region)
	}
	return setupRun(ctx, e, c, data, lookup, f.region, *dryRun)
}

// setupClient builds the SDK clients with the operator's credentials, in the region of
// --region or s.yaml, with the endpoint overrides of the environment.
func setupClient(e *env, region string, data []byte, lookup func(string) (string, bool)) (*setupcloud.Client, error) {
	// Only the endpoint variables: the functions' settings come from s.yaml.
	set, err := settings.Load(func(k string) string {
		if _, ok := settings.EndpointVars[k]; ok {
			return e.getenv(k)
		}
		return ""
	})
	if err != nil {
		return nil, fmt.Errorf("invalid endpoint override: %w", err)
	}
	if region == "" {
		// s.yaml's region, read before the STS call says the account: with the one the
		// deployer names, else a placeholder.
		account := e.getenv("IMAGESHARE_ACCOUNT_ID")
		if account == "" {
			account = rampolicy.AccountPlaceholder
		}
		d, err := setup.Load(data, lookup, account, "")
		if err != nil {
			return nil, err
		}
		region = d.Region
	}
	cred, err := credentials.Default()
	if err != nil {
		return nil, err
	}
	return setupcloud.New(setupcloud.Config{Region: region, Credentials: cred.Credentials, Endpoints: set.Endpoints})
}

func setupRun(ctx context.Context, e *env, c *setupcloud.Client, data []byte, lookup func(string) (string, bool), region string, dryRun bool) int {
	caller, err := c.CallerIdentity(ctx)
	if err != nil {
		return fail(e, "setup", fmt.Errorf("who the credentials are (sts GetCallerIdentity): %w", err))
	}
	d, err := setup.Load(data, lookup, caller.AccountID, region)
	if err != nil {
		fmt.Fprintf(e.stderr, "imageshare setup: %v\n", err)
		return exitUsage
	}
	mode := "changes are made"
	if dryRun {
		mode = "dry run: nothing is changed"
	}
	fmt.Fprintf(e.stdout, "# imageshare setup for account %s, region %s, as %s (%s)\n", d.Account, d.Region, caller.Arn, mode)
	for _, t := range d.Covered {
		fmt.Fprintf(e.stdout, "# covers trigger %s\n", t)
	}
	for _, t := range d.Left {
		fmt.Fprintf(e.stdout, "# leaves trigger %s\n", t)
	}
	r := &setup.Runner{Cloud: c, D: d}
	p, err := r.Plan(ctx)
	if err != nil {
		return fail(e, "setup", err)
	}
	for _, n := range p.Notes {
		fmt.Fprintf(e.stdout, "# note: %s\n", n)
	}
	if len(p.Changes) == 0 {
		fmt.Fprintln(e.stdout, "nothing to do")
		return exitOK
	}
	if dryRun {
		for _, l := range p.Lines() {
			fmt.Fprintln(e.stdout, l)
		}
		return exitOK
	}
	if err := r.Apply(ctx, p, func(line string) { fmt.Fprintln(e.stdout, line) }); err != nil {
		return fail(e, "setup", err)
	}
	// A second look proves the changes took: setup converges in one run.
	again, err := r.Plan(ctx)
	if err != nil {
		return fail(e, "setup", fmt.Errorf("reading back: %w", err))
	}
	if len(again.Changes) > 0 {
		return fail(e, "setup", fmt.Errorf("after the changes, still to do: %s", strings.Join(again.Lines(), "; ")))
	}
	fmt.Fprintf(e.stdout, "# done: %d changes; now run s deploy, then imageshare doctor\n", len(p.Changes))
	return exitOK
}

func doctorRun(ctx context.Context, e *env, c *setupcloud.Client, data []byte, lookup func(string) (string, bool), region string) int {
	print := func(ch setup.Check) { fmt.Fprintln(e.stdout, ch.Line()) }
	caller, err := c.CallerIdentity(ctx)
	if err != nil {
		print(setup.Check{Status: setup.Fail, Name: "credentials", Detail: err.Error(),
			Remedy: "set ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET, or configure the aliyun CLI, for the account the functions run in"})
		return exitError
	}
	print(setup.Check{Status: setup.Pass, Name: "credentials", Detail: fmt.Sprintf("%s (%s) of account %s", caller.Arn, caller.IdentityType, caller.AccountID)})
	d, err := setup.Load(data, lookup, caller.AccountID, region)
	if err != nil {
		print(setup.Check{Status: setup.Fail, Name: "settings", Detail: err.Error(), Remedy: "fix the IMAGESHARE_* variable or s.yaml it names"})
		return exitError
	}
	s := d.Settings
	print(setup.Check{Status: setup.Pass, Name: "settings", Detail: fmt.Sprintf("s.yaml and the functions' settings are valid: region %s, role %s, DRY_RUN=%t, REVOKE_REDUNDANT=%t, REDUNDANCY_SCOPE=%s, JOB_QUEUE=%s, NOTIFY_TOPIC=%q, REGIONS=%q",
		d.Region, d.Role, s.DryRun, s.RevokeRedundant, s.RedundancyScope, s.JobQueue, s.NotifyTopic, strings.Join(s.Regions, ","))})
	checks := setup.Doctor(ctx, c, d)
	for _, ch := range checks {
		print(ch)
	}
	if setup.Failed(checks) {
		n := 0
		for _, ch := range checks {
			if ch.Status == setup.Fail {
				n++
			}
		}
		fmt.Fprintf(e.stdout, "imageshare doctor: %d of %d checks failed\n", n, len(checks)+2)
		return exitError
	}
	fmt.Fprintf(e.stdout, "imageshare doctor: all %d checks pass\n", len(checks)+2)
	return exitOK
}
