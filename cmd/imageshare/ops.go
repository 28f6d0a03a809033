package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"imageshare"
	"imageshare/pkg/aliyun"
	"imageshare/pkg/cloud"
	"imageshare/pkg/credentials"
	deploy "imageshare/pkg/deployment"
	"imageshare/pkg/policy"
	"imageshare/pkg/rampolicy"
	"imageshare/pkg/settings"
	"imageshare/pkg/setup"
	"imageshare/pkg/setupcloud"
)

// Exit codes of the operator commands.
const (
	exitOK       = 0
	exitError    = 1
	exitUsage    = 2
	exitChanges  = 3 // plan: changes are pending
	exitRefusals = 4 // plan: nothing to change, but refusals remain
)

// env is what the operator commands take from the process; tests give their own.
type env struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	getenv         func(string) string
	// terminal reports whether stderr is a terminal (progress lines go there);
	// typing: stdin is one (the terminal echoes the answers to the probe's questions).
	terminal func() bool
	typing   bool
	// sleep waits between the probe's polls; now is the clock.
	sleep func(ctx context.Context, d time.Duration) error
	now   func() time.Time
}

func processEnv() *env {
	return &env{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr, getenv: os.Getenv,
		terminal: func() bool { return charDevice(os.Stderr) },
		typing:   charDevice(os.Stdin),
		now:      func() time.Time { return time.Now().UTC() },
	}
}

func charDevice(f *os.File) bool {
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// opsCmd runs plan, explain, status or probe.
func opsCmd(name string, args []string, e *env) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	switch name {
	case "plan":
		return planCmd(ctx, args, e)
	case "explain":
		return explainCmd(ctx, args, e)
	case "status":
		return statusCmd(ctx, args, e)
	case "probe":
		return probeCmd(ctx, args, e)
	case "tag":
		return tagCmd(ctx, args, e)
	case "report":
		return reportCmd(ctx, args, e)
	}
	fmt.Fprintf(e.stderr, "imageshare: unknown command %q\n", name)
	return exitUsage
}

// common are the flags every operator command takes.
type common struct {
	regions   multi
	owner     string
	endpoints map[string]*string // environment variable → flag value
	syaml     string
	settings  pairs
}

// endpointFlags maps each --endpoint-* flag to the variable the functions read.
var endpointFlags = map[string]string{
	"endpoint-ecs":             "ECS_ENDPOINT",
	"endpoint-resourcemanager": "RESOURCEMANAGER_ENDPOINT",
	"endpoint-resourcesharing": "RESOURCESHARING_ENDPOINT",
}

func (c *common) register(fs *flag.FlagSet) {
	fs.Var(&c.regions, "region", "region (repeatable or comma-separated; default ALIBABA_CLOUD_REGION_ID, then s.yaml's region, then the REGIONS setting)")
	fs.StringVar(&c.owner, "owner", "", "the account that owns the images (default ALIBABA_CLOUD_ACCOUNT_ID, else the credentials' account); checked against the credentials' account")
	c.endpoints = map[string]*string{}
	for f, v := range endpointFlags {
		c.endpoints[v] = fs.String(f, "", "endpoint override, as "+v+" (loopback or *.aliyuncs.com only)")
	}
	fs.StringVar(&c.syaml, "syaml", "", "the deployment's s.yaml, read as s deploy reads it, with the IMAGESHARE_* variables (default ./s.yaml when there is one, else the built-in one)")
	c.settings = pairs{}
	fs.Var(c.settings, "setting", "set one of the functions' settings, NAME=VALUE, over s.yaml (repeatable)")
}

var regionRE = regexp.MustCompile(`^[a-z]{2,}(-[a-z0-9]+)+$`)

// session is a connection to the cloud as the operator.
type session struct {
	api     cloud.API
	set     settings.Settings
	dep     *deploy.Resolved
	owner   string
	ownerBy string // where the owner ID came from
	regions []string
	// regionBy says where the first region came from.
	regionBy string
}

// loadDeployment reads the settings of the deployment: s.yaml (--syaml, ./s.yaml, or the
// built-in one) resolved as s deploy resolves it, with --setting on top.
func (c *common) loadDeployment(e *env, account, region string) (*deploy.Resolved, error) {
	data, file, dir := imageshare.SYAML, "the built-in s.yaml", ""
	switch {
	case c.syaml != "":
		b, err := os.ReadFile(c.syaml)
		if err != nil {
			return nil, fmt.Errorf("--syaml: %w", err)
		}
		data, file, dir = b, c.syaml, filepath.Dir(c.syaml)
	default:
		if b, err := os.ReadFile("s.yaml"); err == nil {
			data, file, dir = b, "./s.yaml", "."
		}
	}
	// Serverless Devs reads the .env beside s.yaml too; exported variables win.
	var dotenv map[string]string
	dotenvFile := ""
	if dir != "" {
		dotenvFile = filepath.Join(dir, ".env")
		if b, err := os.ReadFile(dotenvFile); err == nil {
			if dotenv, err = deploy.ParseDotenv(b); err != nil {
				return nil, fmt.Errorf("%s: %w", dotenvFile, err)
			}
		}
	}
	if account == "" {
		// s.yaml's account only names ARNs; the settings do not depend on it.
		account = rampolicy.AccountPlaceholder
	}
	vars := map[string]string{"accountId": account}
	if region != "" {
		vars["region"] = region
	}
	return deploy.Resolve(deploy.Options{Data: data, File: file, Vars: vars, Overrides: c.settings, Dotenv: dotenv, DotenvFile: dotenvFile,
		Lookup: func(k string) (string, bool) { v := e.getenv(k); return v, v != "" }})
}

// connect reads the settings (the deployment's s.yaml with the operator's IMAGESHARE_*
// variables and --setting, the endpoints of the environment and the flags), the
// credentials chain, the regions and the owner, and checks the owner against the
// credentials' account.
func (c *common) connect(ctx context.Context, e *env, multiRegion bool) (*session, error) {
	s := &session{}
	s.regions = append(s.regions, c.regions...)
	if len(s.regions) > 0 {
		s.regionBy = "--region"
	} else if r := strings.TrimSpace(e.getenv("ALIBABA_CLOUD_REGION_ID")); r != "" {
		s.regions, s.regionBy = []string{r}, "ALIBABA_CLOUD_REGION_ID"
	}
	claimed := c.owner
	if claimed == "" {
		claimed = strings.TrimSpace(e.getenv("ALIBABA_CLOUD_ACCOUNT_ID"))
	}
	first := ""
	if len(s.regions) > 0 {
		first = s.regions[0]
	}
	dep, err := c.loadDeployment(e, claimed, first)
	if err != nil {
		return nil, err
	}
	s.dep = dep
	for _, n := range dep.Ignored {
		fmt.Fprintf(e.stderr, "note: %s\n", n)
	}
	getenv := func(k string) string {
		if _, ok := settings.EndpointVars[k]; ok {
			if p := c.endpoints[k]; p != nil && *p != "" {
				return *p
			}
			return e.getenv(k)
		}
		return dep.Lookup(k)
	}
	set, err := settings.Load(getenv)
	if err != nil {
		return nil, fmt.Errorf("invalid setting (%s): %w", dep.File, err)
	}
	s.set = set
	if len(s.regions) == 0 && dep.RegionVar != "" {
		// The deployment's region, when the deployer named it for s deploy (a written
		// default is no one's choice of region).
		s.regions, s.regionBy = []string{dep.Region}, dep.RegionVar
	}
	if len(s.regions) == 0 {
		return nil, errors.New("no region: give --region, or set ALIBABA_CLOUD_REGION_ID or IMAGESHARE_REGION")
	}
	if multiRegion && len(c.regions) == 0 {
		for _, r := range set.Regions {
			if !contains(s.regions, r) {
				s.regions = append(s.regions, r)
			}
		}
	}
	if !multiRegion && len(s.regions) > 1 {
		return nil, errors.New("this command takes one region")
	}
	for _, r := range s.regions {
		// A region becomes part of an endpoint's host name: only region IDs may.
		if !regionRE.MatchString(r) {
			return nil, fmt.Errorf("%q is not a region ID such as cn-hangzhou", r)
		}
	}
	if u := e.getenv(controlVar); u != "" && len(set.Endpoints) > 0 {
		// The emulator's clock runs on its own (it starts at 2026-01-01 with
		// --functions, and moves ahead with imageshare emulator advance): the answers
		// are about its time, not the machine's.
		now, err := emulatorClock(ctx, u)
		if err != nil {
			return nil, fmt.Errorf("%s=%s: %w", controlVar, u, err)
		}
		ahead := now.Sub(time.Now())
		e.now = func() time.Time { return time.Now().UTC().Add(ahead) }
	}
	cred, err := credentials.Default()
	if err != nil {
		return nil, err
	}
	client, err := aliyun.New(aliyun.Config{Region: s.regions[0], Credentials: cred.Credentials, Endpoints: set.Endpoints})
	if err != nil {
		return nil, fmt.Errorf("cloud clients: %w", err)
	}
	s.api = client
	caller, err := callerOf(ctx, s.regions[0], cred, set.Endpoints)
	if err != nil {
		return nil, err
	}
	switch {
	case c.owner != "":
		s.owner, s.ownerBy = c.owner, "--owner"
	case e.getenv("ALIBABA_CLOUD_ACCOUNT_ID") != "":
		s.owner, s.ownerBy = strings.TrimSpace(e.getenv("ALIBABA_CLOUD_ACCOUNT_ID")), "ALIBABA_CLOUD_ACCOUNT_ID"
	case caller != nil:
		s.owner, s.ownerBy = caller.AccountID, "the credentials' account"
	default:
		// The functions run in the management account, so its ID is the owner's; a
		// caller outside a directory must say who it is.
		d, err := client.GetResourceDirectory(ctx)
		if err != nil {
			return nil, fmt.Errorf("no owner account: give --owner or set ALIBABA_CLOUD_ACCOUNT_ID (reading the directory's management account failed: %w)", err)
		}
		s.owner, s.ownerBy = d.MasterAccountID, "the Resource Directory's management account"
	}
	if !policy.IsAccount(s.owner) {
		return nil, fmt.Errorf("owner %q (from %s) is not an account ID (16 digits)", s.owner, s.ownerBy)
	}
	if caller != nil && caller.AccountID != s.owner {
		// The images listed are the caller's own (ImageOwnerAlias=self): another
		// owner would make every answer about the wrong account.
		return nil, fmt.Errorf("%s is %s, but the credentials are of account %s (%s): the owner is the account whose images these are, the credentials' own; give the credentials of %s, or unset %s",
			s.ownerBy, s.owner, caller.AccountID, caller.Arn, s.owner, s.ownerBy)
	}
	if caller != nil && s.ownerBy != "the credentials' account" {
		s.ownerBy += ", the credentials' account"
	}
	return s, nil
}

// emulatorClock reads a running emulator's clock.
func emulatorClock(ctx context.Context, url string) (time.Time, error) {
	if err := loopbackURL(url); err != nil {
		return time.Time{}, err
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimRight(url, "/")+"/_emulator/clock", nil)
	if err != nil {
		return time.Time{}, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return time.Time{}, fmt.Errorf("the emulator does not answer (is it running? unset the variable for a real cloud): %w", err)
	}
	defer resp.Body.Close()
	var c clockJSON
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<16)).Decode(&c); err != nil || resp.StatusCode != http.StatusOK {
		return time.Time{}, fmt.Errorf("not an emulator's clock (%s)", resp.Status)
	}
	return time.Parse(time.RFC3339, c.Now)
}

// callerOf asks STS who the credentials are (GetCallerIdentity needs no permission).
// It asks only a cloud it may: the real one (no endpoint override), or the one
// STS_ENDPOINT names; with other endpoints overridden and STS not, it cannot tell, and
// returns nil.
func callerOf(ctx context.Context, region string, cred credentials.Resolved, eps map[string]string) (*setup.Caller, error) {
	if eps["sts"] == "" && (eps["ecs"] != "" || eps["resourcemanager"] != "" || eps["resourcesharing"] != "") {
		return nil, nil
	}
	c, err := setupcloud.New(setupcloud.Config{Region: region, Credentials: cred.Credentials, Endpoints: eps})
	if err != nil {
		return nil, fmt.Errorf("sts client: %w", err)
	}
	caller, err := c.CallerIdentity(ctx)
	if err != nil {
		return nil, fmt.Errorf("who the credentials are (sts GetCallerIdentity): %w", err)
	}
	return &caller, nil
}

// multi is a repeatable flag that also splits on commas and white space.
type multi []string

func (l *multi) String() string { return strings.Join(*l, ",") }

func (l *multi) Set(v string) error {
	for _, t := range policy.Split(v) {
		if !contains(*l, t) {
			*l = append(*l, t)
		}
	}
	return nil
}

// pairs is a repeatable KEY=VALUE flag.
type pairs map[string]string

func (p pairs) String() string { return "" }

func (p pairs) Set(v string) error {
	k, val, ok := strings.Cut(v, "=")
	if !ok || k == "" {
		return fmt.Errorf("%q is not KEY=VALUE", v)
	}
	p[k] = val
	return nil
}

// parse parses flags and positional arguments in any order.
// parseFlags parses the flags of a command that takes no positional argument (hint,
// when not empty, says where one goes instead); false: the usage error is printed.
func parseFlags(fs *flag.FlagSet, args []string, e *env, name, hint string) bool {
	pos, err := parse(fs, args)
	if err != nil {
		return false
	}
	if len(pos) > 0 {
		fmt.Fprintf(e.stderr, "imageshare %s: unexpected argument %q%s\n", name, pos[0], hint)
		return false
	}
	return true
}

func parse(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		if fs.NArg() == 0 {
			return pos, nil
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

// wantsHelp reports whether the arguments ask for help (-h, -help, --help) before any
// "--".
func wantsHelp(args []string) bool {
	for _, a := range args {
		switch a {
		case "--":
			return false
		case "-h", "-help", "--help", "--h":
			return true
		}
	}
	return false
}

// help prints a command's usage on stdout: asked-for help is the command's output, and
// exits 0.
func help(fs *flag.FlagSet, e *env) int {
	fs.SetOutput(e.stdout)
	fs.Usage()
	return exitOK
}

func newFlags(name string, e *env, usage string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: imageshare %s\n\nflags:\n", usage)
		fs.PrintDefaults()
	}
	return fs
}

func fail(e *env, cmd string, err error) int {
	fmt.Fprintf(e.stderr, "imageshare %s: %v\n", cmd, err)
	return exitError
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func contains(xs []string, s string) bool {
	for _, x := range xs {
		if x == s {
			return true
		}
	}
	return false
}

// askLine reads yes/no answers from a reader, one line each.
func askLine(e *env) func(string) (bool, error) {
	r := bufio.NewReader(e.stdin)
	return func(q string) (bool, error) {
		fmt.Fprint(e.stdout, q)
		line, err := r.ReadString('\n')
		if err != nil && !(errors.Is(err, io.EOF) && line != "") {
			if errors.Is(err, io.EOF) {
				fmt.Fprintln(e.stdout, "(no answer: no)")
				return false, nil
			}
			return false, err
		}
		a := strings.ToLower(strings.TrimSpace(line))
		if !e.typing {
			fmt.Fprintln(e.stdout, a) // a transcript shows the answer where a terminal would
		}
		return a == "y" || a == "yes", nil
	}
}
