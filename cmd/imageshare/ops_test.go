package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"imageshare/pkg/aliyun"
	"imageshare/pkg/apply"
	"imageshare/pkg/cloud"
	"imageshare/pkg/cloudsim"
	"imageshare/pkg/cloudsim/emu"
	"imageshare/pkg/cloudsim/sts"
	deploy "imageshare/pkg/deployment"
	"imageshare/pkg/inspect"
	"imageshare/pkg/observe"
	"imageshare/pkg/plan"
	"imageshare/pkg/probe"
	"imageshare/pkg/report"
	"imageshare/pkg/settings"
	"imageshare/pkg/state"
)

// The operator commands are tested as a person runs them: the real SDK clients against
// the emulated cloud's endpoints, credentials from the credentials-go chain (environment
// variables, or the aliyun CLI's profile file), endpoints from flags or the environment.

const (
	region = "cn-hangzhou"
	owner  = "1000000000000001"
	m2     = "1000000000000002" // prod
	m3     = "1000000000000003" // team, under prod
	m4     = "1000000000000004" // dev
	m5     = "1000000000000005" // prod, never shared: the probe's member
	ext    = "2000000000000001" // outside, allowed
	stray  = "2000000000000002" // outside, not allowed
	dirID  = "rd-Ab12Cd"
	rootID = "r-Ab12Cd"
	prod   = "fd-Prod000001"
	team   = "fd-Team000001"
	dev    = "fd-Dev0000001"

	golden = "m-Golden000001" // accounts m2, stray; folders prod; shared with m3 and stray
	legacy = "m-Legacy000001" // accounts m4 and ext, shared with both; golden-dev reaches m4
	typo   = "m-Typo00000001" // a tag error
	fresh  = "m-New000000001" // Creating
	test   = "m-Probe0000001" // untagged, for the probe
)

type world struct {
	t     *testing.T
	clock *emu.Clock
	keys  *emu.Keyring
	cloud *cloudsim.Cloud
	eps   map[string]string
	key   emu.Credential // the owner's access key
	// carried: what the last run's confirming job and re-checks carry to the next
	// (SPEC R12), so that successive runs are the functions' chain.
	carried map[string][]state.Confirmation
}

// newWorld builds the emulated cloud and points the process environment at it: the
// owner's access key in ALIBABA_CLOUD_ACCESS_KEY_*, the endpoints in *_ENDPOINT.
func newWorld(t *testing.T, cfg cloudsim.Config) *world {
	t.Helper()
	w := &world{t: t, clock: emu.NewClock(emu.Epoch), keys: emu.NewKeyring(), eps: map[string]string{}}
	cfg.Clock, cfg.Keys = w.clock, w.keys
	w.cloud = cloudsim.New(cfg)
	// The roles an operator uses hold what docs/deploy.md tells deployers to grant: the
	// read-only policy, and for the probe the writes it lists besides.
	reads := operatorPolicy(t)
	probe := strings.Replace(reads, `"Statement": [`, `"Statement": [{"Effect": "Allow", "Action": ["ecs:ModifyImageSharePermission",
		"resourcesharing:CreateResourceShare", "resourcesharing:DisassociateResourceShare", "resourcesharing:DeleteResourceShare"],
		"Resource": "*"},`, 1)
	for role, doc := range map[string]string{"ops": reads, "probe-ops": probe} {
		if err := w.cloud.RAM().Grant(owner, role, role, doc); err != nil {
			t.Fatal(err)
		}
	}
	eps, stop, err := w.cloud.Serve()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop)
	w.eps = eps
	c := w.cloud
	c.AddAccount(owner, "china")
	c.SetDirectory(cloudsim.DirectorySpec{ID: dirID, RootID: rootID, Master: owner, SharingEnabled: true})
	c.AddFolder(prod, "prod", rootID)
	c.AddFolder(team, "team", prod)
	c.AddFolder(dev, "dev", rootID)
	for a, f := range map[string]string{m2: prod, m3: team, m4: dev, m5: prod} {
		c.AddAccount(a, "china")
		c.AddMember(a, f)
	}
	c.AddAccount(ext, "china")
	c.AddAccount(stray, "china")
	hour := w.clock.Now().Add(-time.Hour)
	put := func(id, status string, tags map[string]string, shared ...string) {
		c.PutImage(region, cloudsim.ImageSpec{ID: id, Owner: owner, Status: status, Tags: tags, SharedWith: shared, Created: hour})
	}
	put(golden, "Available", map[string]string{"imageshare:accounts": m2 + "," + stray, "imageshare:folders": prod}, m3, stray)
	put(legacy, "Available", map[string]string{"imageshare:accounts": m4 + " " + ext}, m4, ext)
	put(typo, "Available", map[string]string{"imageshare:accounts": "100000000000000"})
	c.PutImage(region, cloudsim.ImageSpec{ID: fresh, Owner: owner, Status: "Creating", Tags: map[string]string{"imageshare:folders": dev},
		Created: w.clock.Now().Add(-2 * time.Minute)})
	put(test, "Available", nil)
	c.PutResourceShare(region, owner, "golden-dev", []string{dev}, []string{legacy})

	w.key = w.keys.AccessKey(owner)
	home := t.TempDir()
	// The settings come from s.yaml with the IMAGESHARE_* variables, as s deploy gives
	// them to the functions; the functions' own names in the shell are not read.
	for _, v := range settings.Vars {
		t.Setenv(v.Name, "")
		t.Setenv("IMAGESHARE_"+v.Name, "")
	}
	t.Setenv("IMAGESHARE_REGION", "")
	t.Setenv("IMAGESHARE_ACCOUNT_ID", "")
	t.Setenv("STS_ENDPOINT", "")
	for k, v := range map[string]string{
		"HOME": home, "ALIBABA_CLOUD_ACCESS_KEY_ID": w.key.AccessKeyID, "ALIBABA_CLOUD_ACCESS_KEY_SECRET": w.key.AccessKeySecret,
		"ALIBABA_CLOUD_SECURITY_TOKEN": "", "ALIBABA_CLOUD_PROFILE": "", "ALIBABA_CLOUD_ECS_METADATA": "",
		"ALIBABA_CLOUD_ROLE_ARN": "", "ALIBABA_CLOUD_OIDC_PROVIDER_ARN": "", "ALIBABA_CLOUD_OIDC_TOKEN_FILE": "",
		"ALIBABA_CLOUD_CREDENTIALS_FILE": "", "ALIBABA_CLOUD_REGION_ID": region, "ALIBABA_CLOUD_ACCOUNT_ID": owner,
		"IMAGESHARE_ALLOWED_EXTERNAL_ACCOUNTS": ext, "IMAGESHARE_RETRY_BASE": "1ms", "IMAGESHARE_RETRY_MAX": "20ms",
		"IMAGESHARE_DRY_RUN": "false",
		"ECS_ENDPOINT":       w.eps["ecs"], "RESOURCEMANAGER_ENDPOINT": w.eps["resourcemanager"], "RESOURCESHARING_ENDPOINT": w.eps["resourcesharing"],
		"IMAGESHARE_PROBE_ACCESS_KEY_ID": "", "IMAGESHARE_PROBE_ACCESS_KEY_SECRET": "", "IMAGESHARE_PROBE_SECURITY_TOKEN": "",
	} {
		t.Setenv(k, v)
	}
	return w
}

// sleep lets emulated time pass (the probe's polls).
func (w *world) sleep(_ context.Context, d time.Duration) error {
	w.clock.Advance(d)
	w.cloud.RunDue()
	return nil
}

// run runs an operator command as a person would, with stdin.
func (w *world) run(stdin string, args ...string) (int, string, string) {
	w.t.Helper()
	var out, errb bytes.Buffer
	e := &env{stdin: strings.NewReader(stdin), stdout: &out, stderr: &errb, getenv: os.Getenv,
		terminal: func() bool { return false }, sleep: w.sleep, now: w.clock.Now}
	code := opsCmd(args[0], args[1:], e)
	return code, out.String(), errb.String()
}

// writes counts the write calls the cloud has answered so far.
func (w *world) writes() int {
	n := 0
	for _, c := range w.cloud.Calls() {
		if c.Write && c.Code == "" {
			n++
		}
	}
	return n
}

// functions runs what the reconcile function does once over every managed image, with
// the same environment settings, and returns its outcome. The run carries the removals
// the previous one left awaiting confirmation (or held back), as its confirming job and
// re-checks would.
func (w *world) functions() *apply.Outcome {
	w.t.Helper()
	// The functions' environment: what s.yaml gives them from the IMAGESHARE_* variables.
	set, err := settings.Load(func(k string) string { return os.Getenv("IMAGESHARE_" + k) })
	if err != nil {
		w.t.Fatal(err)
	}
	api, err := aliyun.New(aliyun.Config{Region: region, Endpoints: w.eps,
		Credentials: cloud.Credentials{AccessKeyID: w.key.AccessKeyID, AccessKeySecret: w.key.AccessKeySecret}})
	if err != nil {
		w.t.Fatal(err)
	}
	a := &apply.Applier{API: api, Settings: set}
	st, err := observe.Observe(context.Background(), api, observe.Request{Region: region, Owner: owner, Now: w.clock.Now(),
		All: true, Prefix: set.TagPrefix}, a.Call)
	if err != nil {
		w.t.Fatal(err)
	}
	st.Confirmed = w.carried
	out, err := a.Apply(context.Background(), st, plan.Make(st, set))
	if err != nil {
		w.t.Fatal(err)
	}
	w.carried = map[string][]state.Confirmation{}
	for _, m := range []map[string]state.Confirmation{out.Confirm, out.Held} {
		for im, c := range m {
			w.carried[im] = append(w.carried[im], c)
		}
	}
	return out
}

// converge runs the functions until nothing is left to do or in transition.
func (w *world) converge() {
	w.t.Helper()
	for range 10 {
		out := w.functions()
		w.clock.Advance(time.Minute)
		w.cloud.RunDue()
		if out.Changes() == 0 && len(out.Recheck) == 0 && len(out.Confirm) == 0 {
			return
		}
	}
	w.t.Fatal("did not converge")
}

type planOut struct {
	Regions []struct {
		Region       string `json:"region"`
		Owner        string `json:"owner"`
		Shares       []report.Entry
		Hypothetical bool `json:"hypothetical"`
		Images       []struct {
			Image        string         `json:"image"`
			Status       string         `json:"status"`
			Managed      bool           `json:"managed"`
			InTransition bool           `json:"inTransition"`
			Awaiting     bool           `json:"awaitingConfirmation"`
			Direct       []string       `json:"direct"`
			Organization []string       `json:"organization"`
			Changes      []report.Entry `json:"changes"`
			Refusals     []report.Entry `json:"refusals"`
			Postponed    []report.Entry `json:"postponed"`
		} `json:"images"`
	} `json:"regions"`
	Changes  int              `json:"changes"`
	Refusals int              `json:"refusals"`
	ExitCode int              `json:"exitCode"`
	Settings []deploy.Setting `json:"settings"`
}

func decode[T any](t *testing.T, s string) T {
	t.Helper()
	var v T
	dec := json.NewDecoder(strings.NewReader(s))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("decode %T: %v\n%s", v, err, s)
	}
	return v
}

// key identifies an entry without its request IDs and wording (a real run adds the
// covering share to an unshare's reason, where a dry run puts it in the message).
func key(e report.Entry) string {
	return e.Image + " " + e.Action + " " + e.Subject + " " + strings.Fields(e.Reason + " -")[0]
}

func keys(es []report.Entry, keep func(report.Entry) bool) []string {
	var out []string
	for _, e := range es {
		if keep(e) {
			out = append(out, key(e))
		}
	}
	sort.Strings(out)
	return out
}

// TestPlanIsWhatTheFunctionsDo: plan's changes and refusals are the functions' own, the
// exit code follows them, and plan writes nothing.
func TestPlanIsWhatTheFunctionsDo(t *testing.T) {
	w := newWorld(t, cloudsim.Config{})
	code, out, errOut := w.run("", "plan", "--json")
	if code != exitChanges {
		t.Fatalf("exit %d, want %d\n%s\n%s", code, exitChanges, out, errOut)
	}
	p := decode[planOut](t, out)
	if p.ExitCode != exitChanges || len(p.Regions) != 1 || p.Regions[0].Owner != owner {
		t.Fatalf("plan: %+v", p)
	}
	var planned []report.Entry
	for _, ip := range p.Regions[0].Images {
		planned = append(append(append(planned, ip.Changes...), ip.Refusals...), ip.Postponed...)
	}
	planned = append(planned, p.Regions[0].Shares...)
	if w.writes() != 0 {
		t.Fatalf("plan wrote to the cloud")
	}

	// Before the functions run, the removal of the stray account awaits confirmation
	// (R12): plan, explain and status say so.
	_, text, _ := w.run("", "plan", "--region", region)
	for _, want := range []string{"refused; awaiting confirmation: done on a second look at unchanged tags (R12)",
		"1 image awaiting confirmation: removals are done by a second look SETTLE_DELAY (1m0s) later that finds the tags unchanged."} {
		if !strings.Contains(text, want) {
			t.Errorf("plan lacks %q:\n%s", want, text)
		}
	}
	if _, out, _ := w.run("", "explain", golden, "--account", stray); !strings.Contains(out, "Awaiting confirmation (R12)") ||
		!strings.Contains(out, "after confirmation") {
		t.Errorf("explain does not say the removal awaits confirmation:\n%s", out)
	}
	if _, out, _ := w.run("", "status"); !strings.Contains(out, "(1 image awaiting confirmation)") {
		t.Errorf("status does not count the image awaiting confirmation:\n%s", out)
	}

	// The functions, run once with the same settings, do and refuse exactly that; the
	// removals the plan shows "after confirmation" are done by the confirming run that
	// follows (SPEC R12), and only those.
	first := w.functions().Entries
	second := w.functions().Entries
	var later, awaiting []string
	for _, e := range planned {
		if e.AfterConfirmation {
			awaiting = append(awaiting, key(e))
		}
	}
	for _, e := range second {
		if e.Change() {
			later = append(later, key(e))
		}
	}
	sort.Strings(awaiting)
	sort.Strings(later)
	if len(awaiting) == 0 || !slices.Equal(awaiting, later) {
		t.Errorf("after confirmation: plan %v, the confirming run %v", awaiting, later)
	}
	did := append(slices.Clone(first), second...)
	change := func(e report.Entry) bool { return e.Change() }
	refusal := func(e report.Entry) bool { return e.Action == plan.ActRefuse }
	// A dry run names a share to join by name; the real run by its targets: compare
	// the direct part exactly, the rest by action and image.
	direct := func(e report.Entry) bool { return e.Action == plan.ActShare || e.Action == plan.ActUnshare }
	if got, want := keys(planned, direct), keys(did, direct); !slices.Equal(got, want) {
		t.Errorf("direct changes: plan %v, functions %v", got, want)
	}
	if got, want := keys(planned, refusal), keys(first, refusal); !slices.Equal(got, want) {
		t.Errorf("refusals: plan %v, functions %v", got, want)
	}
	brief := func(es []report.Entry) []string {
		var out []string
		for _, e := range es {
			if change(e) && !direct(e) {
				out = append(out, e.Image+" "+e.Action)
			}
		}
		sort.Strings(out)
		return out
	}
	if got, want := brief(planned), brief(did); !slices.Equal(got, want) {
		t.Errorf("organization changes: plan %v, functions %v", got, want)
	}
	if p.Changes != len(keys(did, change)) || p.Refusals != len(keys(first, refusal)) {
		t.Errorf("counts: plan %d changes %d refusals; functions %v", p.Changes, p.Refusals, keys(did, func(report.Entry) bool { return true }))
	}
	for _, want := range []string{golden + " unshare " + stray + " refused",
		golden + " refuse " + stray + " not-allowed", typo + " refuse 100000000000000 tag-error"} {
		if !slices.Contains(keys(planned, func(report.Entry) bool { return true }), want) {
			t.Errorf("plan lacks %q", want)
		}
	}

	// Converged, only the refusals remain: exit 4; the table says so.
	w.converge()
	code, out, _ = w.run("", "plan", "--region", region)
	if code != exitRefusals {
		t.Fatalf("converged: exit %d, want %d\n%s", code, exitRefusals, out)
	}
	for _, want := range []string{"imageshare plan: cn-hangzhou, owner " + owner, "IMAGE", "ACTION", "refuse", stray,
		"not-allowed: the account is neither a member", legacy + ": in line with its tags", "0 changes pending, 2 refusals."} {
		if !strings.Contains(out, want) {
			t.Errorf("converged plan lacks %q:\n%s", want, out)
		}
	}
	// An image that does not exist is said so (TestPlanNamesAnUnknownOrUnmanagedImage).
	if code, out, _ := w.run("", "plan", "--image", "m-Nothing00001"); code != exitOK || !strings.Contains(out, "m-Nothing00001: no such image among the images account "+owner+" owns in cn-hangzhou") {
		t.Errorf("plan of a missing image: exit %d\n%s", code, out)
	}
	// An image in line: exit 0.
	if code, out, _ := w.run("", "plan", "--image", legacy); code != exitOK || !strings.Contains(out, "0 changes pending, 0 refusals.") {
		t.Errorf("plan of an image in line: exit %d\n%s", code, out)
	}
}

// TestPlanImaginesATag: --set shows what a tag would do, before anyone sets it, and
// changes nothing.
func TestPlanImaginesATag(t *testing.T) {
	w := newWorld(t, cloudsim.Config{})
	code, out, errOut := w.run("", "plan", "--image", test, "--set", "imageshare:accounts="+m4+","+stray, "--set", "imageshare:folders="+team)
	if code != exitChanges {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	if !strings.Contains(out, "imagining tag edits: imageshare:accounts="+m4+","+stray+" imageshare:folders="+team) {
		t.Errorf("plan does not say what it imagines:\n%s", out)
	}
	for _, want := range [][]string{{test, "share", m4, "tag"}, {test, "associate", plan.ShareName([]string{team})},
		{test, "refuse", stray, "not-allowed:"}, {"(share", "associate", team}} {
		if !hasRow(out, want...) {
			t.Errorf("plan lacks a row %q:\n%s", want, out)
		}
	}
	if im, _ := w.cloud.Image(region, test); len(im.Tags) != 0 || len(im.Direct) != 0 || w.writes() != 0 {
		t.Errorf("plan changed the cloud: %+v, %d writes", im, w.writes())
	}
	// Removing the tags of a managed image releases it: nothing would change.
	code, out, _ = w.run("", "plan", "--image", golden, "--unset", "imageshare:accounts", "--unset", "imageshare:folders", "--json")
	p := decode[planOut](t, out)
	if code != exitOK || p.Regions[0].Images[0].Managed || len(p.Regions[0].Images[0].Changes) != 0 {
		t.Errorf("released image: exit %d %+v", code, p.Regions[0].Images[0])
	}
	if code, _, errOut := w.run("", "plan", "--set", "a=b"); code != exitUsage || !strings.Contains(errOut, "--image") {
		t.Errorf("--set without --image: exit %d %s", code, errOut)
	}
}

// hasRow reports whether a line of a table holds the fields in order.
func hasRow(out string, fields ...string) bool {
	for _, line := range strings.Split(out, "\n") {
		f, i := strings.Fields(line), 0
		for _, x := range f {
			if i < len(fields) && strings.HasPrefix(x, fields[i]) {
				i++
			}
		}
		if i == len(fields) {
			return true
		}
	}
	return false
}

// TestExplain answers for one account before and after the functions ran, and for every
// account of an image.
func TestExplain(t *testing.T) {
	w := newWorld(t, cloudsim.Config{})
	// Before: m3 is shared directly although no tag names it; the folders tag will reach it.
	code, out, errOut := w.run("", "explain", golden, "--account", m3)
	if code != exitOK {
		t.Fatalf("exit %d\n%s", code, errOut)
	}
	for _, want := range []string{"Account " + m3 + " has access to image " + golden + " now.", "It is shared directly",
		"member of the Resource Directory at " + dirID + "/" + rootID + "/" + prod + "/" + team + "/" + m3,
		"Tag imageshare:folders names " + prod + ", which holds the account", "Next run: Image " + golden + " would join resource share " + plan.ShareName([]string{prod}) + " (targets " + prod + ")",
		"its direct share stays until the organization share reaches it",
		"After the next run it has access"} {
		if !strings.Contains(out, want) {
			t.Errorf("explain lacks %q:\n%s", want, out)
		}
	}
	// The stray account: R3.
	_, out, _ = w.run("", "explain", golden, "--account", stray)
	for _, want := range []string{"has access to image " + golden + " now", "not in ALLOWED_EXTERNAL_ACCOUNTS", "(R3)",
		"Next run: Image " + golden + ": refused " + stray + " (not-allowed)", "would no longer be shared directly with account " + stray,
		"After the next run it has no access."} {
		if !strings.Contains(out, want) {
			t.Errorf("explain of the stray account lacks %q:\n%s", want, out)
		}
	}

	w.converge()
	code, out, _ = w.run("", "explain", golden, "--account", m3, "--json")
	x := decode[inspect.Explanation](t, out)
	if code != exitOK || !x.Access || x.Direct || len(x.Grants) != 1 || !x.Grants[0].Active || !x.Grants[0].Managed ||
		x.Grants[0].Target != prod || !x.After || len(x.Next) != 0 || len(x.FolderTags) != 1 {
		t.Errorf("after converging: %+v", x)
	}
	_, out, _ = w.run("", "explain", golden, "--account", m3)
	for _, want := range []string{"It is reached through resource share " + plan.ShareName([]string{prod}) + " (managed by imageshare), target " + prod,
		"The next run changes nothing for this account."} {
		if !strings.Contains(out, want) {
			t.Errorf("explain after converging lacks %q:\n%s", want, out)
		}
	}
	// An account the hand-made share reaches through dev.
	_, out, _ = w.run("", "explain", legacy, "--account", m4)
	if !strings.Contains(out, "resource share golden-dev (made by a person), target "+dev) {
		t.Errorf("explain of the hand-made share:\n%s", out)
	}
	// An allowed account outside the directory, and the owner.
	_, out, _ = w.run("", "explain", legacy, "--account", ext)
	if !strings.Contains(out, "has access to image "+legacy+" now") || !strings.Contains(out, "outside the Resource Directory and listed in ALLOWED_EXTERNAL_ACCOUNTS") {
		t.Errorf("explain of an allowed outside account:\n%s", out)
	}
	_, out, _ = w.run("", "explain", legacy, "--account", owner)
	if !strings.Contains(out, "Account "+owner+" owns image "+legacy) {
		t.Errorf("explain of the owner:\n%s", out)
	}
	// Every account of the image.
	code, out, _ = w.run("", "explain", golden)
	for _, want := range []string{"image " + golden + " (cn-hangzhou), Available, managed, mode exact", "ACCOUNT", m2, stray,
		"refuse (not-allowed)", "resource shares holding the image", plan.ShareName([]string{prod}) + " ("} {
		if !strings.Contains(out, want) {
			t.Errorf("explain summary lacks %q:\n%s", want, out)
		}
	}
	if code != exitOK || w.writes() == 0 {
		t.Errorf("exit %d", code)
	}
	if code, _, errOut := w.run("", "explain", "m-Nothing00001"); code != exitError || !strings.Contains(errOut, "not found") {
		t.Errorf("unknown image: exit %d %s", code, errOut)
	}
}

// TestPlanNamesAnUnknownOrUnmanagedImage (issue 14): `plan --image` of an image the
// owner does not have says so, and of an image without tags says it is not managed —
// never "no managed image in the region", which the region's other images belie.
func TestPlanNamesAnUnknownOrUnmanagedImage(t *testing.T) {
	w := newWorld(t, cloudsim.Config{})
	code, out, errOut := w.run("", "plan", "--image", "m-Nope00000001")
	if code != exitOK || !strings.Contains(out, "m-Nope00000001: no such image among the images account "+owner+" owns in cn-hangzhou (check the ID and the region") ||
		strings.Contains(out, "no managed image") || strings.Contains(out, "no image to look at") {
		t.Errorf("an unknown image: exit %d\n%s%s", code, out, errOut)
	}
	code, out, errOut = w.run("", "plan", "--image", test)
	if code != exitOK || !strings.Contains(out, test+": not managed: it has no imageshare:* tag") || strings.Contains(out, "no managed image") {
		t.Errorf("an unmanaged image: exit %d\n%s%s", code, out, errOut)
	}
	// With another TAG_PREFIX, the message names it.
	t.Setenv("IMAGESHARE_TAG_PREFIX", "acme")
	if _, out, _ := w.run("", "plan", "--image", golden); !strings.Contains(out, golden+": not managed: it has no acme:* tag") {
		t.Errorf("TAG_PREFIX=acme:\n%s", out)
	}
	// Without images named, an empty region says what it looked for.
	if _, out, _ := w.run("", "plan", "--region", "cn-beijing"); !strings.Contains(out, "no image to look at: no image of account "+owner+" in cn-beijing carries a acme:* tag") {
		t.Errorf("empty region:\n%s", out)
	}
}

// TestSettingsComeFromTheDeployment (issue 14): plan reads the functions' settings from
// s.yaml with the IMAGESHARE_* variables, as s deploy gives them to the functions: an
// outside account allowed through IMAGESHARE_ALLOWED_EXTERNAL_ACCOUNTS is shared, not
// refused; the functions' own variable name in the shell is not read (and said so); a
// --setting wins; the header names each non-default setting's source.
func TestSettingsComeFromTheDeployment(t *testing.T) {
	w := newWorld(t, cloudsim.Config{})
	const other = "m-Other0000001"
	w.cloud.PutImage(region, cloudsim.ImageSpec{ID: other, Owner: owner, Status: "Available",
		Tags: map[string]string{"imageshare:accounts": ext}, Created: w.clock.Now().Add(-time.Hour)})
	code, out, errOut := w.run("", "plan", "--image", other)
	if code != exitChanges || !hasRow(out, other, "share", ext) || hasRow(out, other, "refuse", ext) ||
		!strings.Contains(out, "ALLOWED_EXTERNAL_ACCOUNTS="+ext+" (environment variable IMAGESHARE_ALLOWED_EXTERNAL_ACCOUNTS)") ||
		strings.Contains(out, "DRY_RUN=true") {
		t.Errorf("IMAGESHARE_ALLOWED_EXTERNAL_ACCOUNTS: exit %d\n%s%s", code, out, errOut)
	}
	// The functions' own name in the shell, as before: not what s deploy reads.
	t.Setenv("IMAGESHARE_ALLOWED_EXTERNAL_ACCOUNTS", "")
	t.Setenv("ALLOWED_EXTERNAL_ACCOUNTS", ext)
	code, out, errOut = w.run("", "plan", "--image", other)
	if code != exitRefusals || !hasRow(out, other, "refuse", ext, "not-allowed") ||
		!strings.Contains(errOut, "note: ALLOWED_EXTERNAL_ACCOUNTS="+ext+" in the environment is not read") ||
		!strings.Contains(errOut, "set IMAGESHARE_ALLOWED_EXTERNAL_ACCOUNTS") {
		t.Errorf("ALLOWED_EXTERNAL_ACCOUNTS alone: exit %d\n%s%s", code, out, errOut)
	}
	// A flag wins, and says so.
	code, out, errOut = w.run("", "plan", "--image", other, "--setting", "ALLOWED_EXTERNAL_ACCOUNTS="+ext)
	if code != exitChanges || !hasRow(out, other, "share", ext) || !strings.Contains(out, "ALLOWED_EXTERNAL_ACCOUNTS="+ext+" (--setting)") {
		t.Errorf("--setting: exit %d\n%s%s", code, out, errOut)
	}
	// The s.yaml read is --syaml's: its written default counts.
	sy, err := os.ReadFile("../../s.yaml")
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "s.yaml")
	changed := strings.Replace(string(sy), "${env('IMAGESHARE_ALLOWED_EXTERNAL_ACCOUNTS', '')}", "${env('IMAGESHARE_ALLOWED_EXTERNAL_ACCOUNTS', '"+ext+"')}", 1)
	if err := os.WriteFile(file, []byte(changed), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errOut = w.run("", "plan", "--image", other, "--syaml", file, "--json")
	p := decode[planOut](t, out)
	found := false
	for _, st := range p.Settings {
		found = found || st.Name == "ALLOWED_EXTERNAL_ACCOUNTS" && st.Value == ext && st.Source == deploy.FromSYAML
	}
	if code != exitChanges || !found {
		t.Errorf("--syaml with a written default: exit %d %+v\n%s", code, p.Settings, errOut)
	}
	// The .env beside that s.yaml counts too, as s deploy reads it.
	if err := os.WriteFile(filepath.Join(filepath.Dir(file), ".env"), []byte("IMAGESHARE_MAX_ACCOUNTS_PER_IMAGE=7\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, out, errOut := w.run("", "plan", "--image", other, "--syaml", file); !strings.Contains(out, "MAX_ACCOUNTS_PER_IMAGE=7 (IMAGESHARE_MAX_ACCOUNTS_PER_IMAGE in "+filepath.Join(filepath.Dir(file), ".env")+")") {
		t.Errorf(".env beside s.yaml:\n%s%s", out, errOut)
	}
	if code, _, errOut := w.run("", "plan", "--setting", "NOPE=1"); code != exitError || !strings.Contains(errOut, "--setting NOPE: not a setting") {
		t.Errorf("an unknown setting: exit %d %s", code, errOut)
	}
}

// TestWrongAccountIDIsCaught (issue 14): an ALIBABA_CLOUD_ACCOUNT_ID (or --owner) that is
// not the credentials' account, as STS GetCallerIdentity says, is an error naming both,
// not an owner shown without a check; without one, the owner is the credentials' account.
func TestWrongAccountIDIsCaught(t *testing.T) {
	w := newWorld(t, cloudsim.Config{Services: []emu.Service{sts.New()}})
	t.Setenv("STS_ENDPOINT", w.eps["sts"])
	t.Setenv("ALIBABA_CLOUD_ACCOUNT_ID", m2)
	code, out, errOut := w.run("", "status")
	if code != exitError || !strings.Contains(errOut, "ALIBABA_CLOUD_ACCOUNT_ID is "+m2+", but the credentials are of account "+owner+" (acs:ram::"+owner+":root)") {
		t.Errorf("a wrong ALIBABA_CLOUD_ACCOUNT_ID: exit %d\n%s%s", code, out, errOut)
	}
	t.Setenv("ALIBABA_CLOUD_ACCOUNT_ID", "")
	if code, _, errOut := w.run("", "plan", "--owner", m3); code != exitError || !strings.Contains(errOut, "--owner is "+m3+", but the credentials are of account "+owner) {
		t.Errorf("a wrong --owner: exit %d %s", code, errOut)
	}
	code, out, errOut = w.run("", "status")
	if code != exitOK || !strings.Contains(out, "owner "+owner+" (the credentials' account)") {
		t.Errorf("the owner from the credentials: exit %d\n%s%s", code, out, errOut)
	}
	t.Setenv("ALIBABA_CLOUD_ACCOUNT_ID", owner)
	if code, out, errOut := w.run("", "status"); code != exitOK || !strings.Contains(out, "owner "+owner+" (ALIBABA_CLOUD_ACCOUNT_ID, the credentials' account)") {
		t.Errorf("a right ALIBABA_CLOUD_ACCOUNT_ID: exit %d\n%s%s", code, out, errOut)
	}
}

// TestStatus through the aliyun CLI's profile file and the endpoint flags.
func TestStatus(t *testing.T) {
	w := newWorld(t, cloudsim.Config{})
	// Credentials from ~/.aliyun/config.json instead of the environment.
	t.Setenv("ALIBABA_CLOUD_ACCESS_KEY_ID", "")
	t.Setenv("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "")
	cfg := `{"current":"ops","profiles":[{"name":"ops","mode":"AK","access_key_id":"` + w.key.AccessKeyID +
		`","access_key_secret":"` + w.key.AccessKeySecret + `","region_id":"cn-hangzhou"}]}`
	dir := filepath.Join(os.Getenv("HOME"), ".aliyun")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "config.json"), []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	// Endpoints from flags instead of the environment; the owner from the directory.
	for _, k := range []string{"ECS_ENDPOINT", "RESOURCEMANAGER_ENDPOINT", "RESOURCESHARING_ENDPOINT", "ALIBABA_CLOUD_ACCOUNT_ID"} {
		t.Setenv(k, "")
	}
	flags := []string{"--endpoint-ecs", w.eps["ecs"], "--endpoint-resourcemanager", w.eps["resourcemanager"],
		"--endpoint-resourcesharing", w.eps["resourcesharing"]}
	w.converge()
	code, out, errOut := w.run("", append([]string{"status", "--progress", "always"}, flags...)...)
	if code != exitOK {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	for _, want := range []string{"imageshare status: cn-hangzhou, owner " + owner, "images:          4 managed, 1 frozen by tag errors (Available 3, Creating 1)",
		"direct shares:   1 on 1 image", "resource shares: 1 managed by imageshare, 1 made by people",
		plan.ShareName([]string{prod}), "managed  " + prod, "golden-dev", "by hand", "pending changes: 0", "refusals:        2",
		typo, "tag-error", "postponed:       1", fresh + "  Creating since 2025-12-31T23:58:00Z"} {
		if !strings.Contains(out, want) {
			t.Errorf("status lacks %q:\n%s", want, out)
		}
	}
	if !strings.Contains(errOut, "reading cn-hangzhou: 5 images") || !strings.Contains(errOut, "calls (") {
		t.Errorf("no progress line on stderr: %q", errOut)
	}
	code, out, _ = w.run("", append([]string{"status", "--json"}, flags...)...)
	var st statusJSON
	if err := json.Unmarshal([]byte(out), &st); err != nil || code != exitOK {
		t.Fatalf("status --json: exit %d %v\n%s", code, err, out)
	}
	r := st.Regions[0]
	if st.Owner != owner || r.Managed != 4 || r.Frozen != 1 || r.DirectShares != 1 || r.ManagedShares() != 1 || len(r.Shares) != 2 ||
		r.Shares[0].Images != 1 || len(r.Refusals) != 2 || len(r.Postponed) != 1 || r.Postponed[0].Image != fresh {
		t.Errorf("status: %+v", r)
	}
	if w.writes() == 0 {
		t.Fatal("the functions did not run")
	}
}

func TestEndpointsAndCredentialsAreChecked(t *testing.T) {
	w := newWorld(t, cloudsim.Config{})
	code, _, errOut := w.run("", "status", "--endpoint-ecs", "http://ecs.example.com")
	if code != exitError || !strings.Contains(errOut, "ECS_ENDPOINT") || !strings.Contains(errOut, "neither loopback nor *.aliyuncs.com") {
		t.Errorf("foreign endpoint: exit %d %s", code, errOut)
	}
	t.Setenv("ALIBABA_CLOUD_ACCESS_KEY_ID", "")
	code, _, errOut = w.run("", "status")
	if code != exitError || !strings.Contains(errOut, "no Alibaba Cloud credentials found") || strings.Contains(errOut, w.key.AccessKeySecret) {
		t.Errorf("no credentials: exit %d %s", code, errOut)
	}
	// STS credentials (a RAM role) through the environment.
	sts := w.keys.AssumeRole(owner, "ops", "cli", time.Hour)
	t.Setenv("ALIBABA_CLOUD_ACCESS_KEY_ID", sts.AccessKeyID)
	t.Setenv("ALIBABA_CLOUD_ACCESS_KEY_SECRET", sts.AccessKeySecret)
	t.Setenv("ALIBABA_CLOUD_SECURITY_TOKEN", sts.SecurityToken)
	if code, out, errOut := w.run("", "plan", "--image", legacy); code != exitChanges || !hasRow(out, legacy, "unshare", m4, "redundant", "via", "golden-dev/"+dev) {
		t.Errorf("STS credentials: exit %d\n%s\n%s", code, out, errOut)
	}
	if code, _, errOut := w.run("", "status", "--region", "evil.example.com/x"); code != exitError || !strings.Contains(errOut, "not a region ID") {
		t.Errorf("a region that is not one: exit %d %s", code, errOut)
	}
	t.Setenv("ALIBABA_CLOUD_REGION_ID", "")
	if code, _, errOut := w.run("", "status"); code != exitError || !strings.Contains(errOut, "no region") {
		t.Errorf("no region: exit %d %s", code, errOut)
	}
}

// probeWorld is a world whose cloud lists organization grants, or not.
func probeWorld(t *testing.T, listed bool) *world {
	w := newWorld(t, cloudsim.Config{OrgGrantsListed: listed, FunctionRole: "probe-ops"})
	// The member's own credentials, to observe its view.
	mk := w.keys.AccessKey(m5)
	t.Setenv("IMAGESHARE_PROBE_ACCESS_KEY_ID", mk.AccessKeyID)
	t.Setenv("IMAGESHARE_PROBE_ACCESS_KEY_SECRET", mk.AccessKeySecret)
	return w
}

func TestProbe(t *testing.T) {
	for _, tc := range []struct {
		name           string
		listed, member bool
		want           string
	}{
		{"direct shares only, member view", false, true, "REVOKE_REDUNDANT=true"},
		{"direct shares only, owner view", false, false, "REVOKE_REDUNDANT=true"},
		{"org grants listed, member view", true, true, "REVOKE_REDUNDANT=false"},
		{"org grants listed, owner view", true, false, "REVOKE_REDUNDANT=false"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := probeWorld(t, tc.listed)
			args := []string{"probe", "--image", test, "--folder", prod, "--json"}
			if tc.member {
				args = append(args, "--account", m5)
			} else {
				t.Setenv("IMAGESHARE_PROBE_ACCESS_KEY_ID", "")
				t.Setenv("IMAGESHARE_PROBE_ACCESS_KEY_SECRET", "")
			}
			before := w.cloud.Access(region, test)
			code, out, errOut := w.run("y\ny\ny\n", args...)
			if code != exitOK {
				t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
			}
			member := m2 // picked: the first member of prod without access
			if tc.member {
				member = m5
			}
			for _, want := range []string{tc.want, "observed member: " + member, "Step 1 of 3", "Step 2 of 3", "Step 3 of 3",
				"Proceed? [y/N] y", "deleted resource share imageshare-probe-20260101t000000", "image back as before the probe: yes"} {
				if !strings.Contains(out, want) {
					t.Errorf("transcript lacks %q:\n%s", want, out)
				}
			}
			if tc.member && !strings.Contains(out, "as the member, DescribeImages shows the image: yes") {
				t.Errorf("the member's view was not checked:\n%s", out)
			}
			if !tc.member && !strings.Contains(out, "not observed: whether "+m2+" can still use the image") {
				t.Errorf("the transcript does not say what it could not observe:\n%s", out)
			}
			res := decode[probe.Result](t, out[strings.LastIndex(out, "\n{")+1:])
			if res.Listed != tc.listed || res.RevokeRedundant == tc.listed || !res.Completed || !res.Undone || res.MemberChecked != tc.member {
				t.Errorf("result %+v", res)
			}
			if tc.member && res.AccessAfterRemove == tc.listed {
				t.Errorf("member access after RemoveAccount: %v (listed %v)", res.AccessAfterRemove, tc.listed)
			}
			w.assertUndone(before)
		})
	}
}

// assertUndone checks the probe left the test image as it found it.
func (w *world) assertUndone(before map[string]bool) {
	w.t.Helper()
	w.clock.Advance(time.Hour)
	w.cloud.RunDue()
	im, _ := w.cloud.Image(region, test)
	if len(im.Direct) != 0 || len(im.Organization) != 0 {
		w.t.Errorf("image not restored: %+v", im)
	}
	if after := w.cloud.Access(region, test); len(after) != len(before) {
		w.t.Errorf("access before %v, after %v", before, after)
	}
	for _, sh := range w.cloud.ResourceShares(region) {
		if strings.HasPrefix(sh.Name, "imageshare-probe-") && sh.Status == "Active" {
			w.t.Errorf("probe share left: %+v", sh)
		}
	}
}

// TestProbeUndoes: declined, or failing half way, the probe undoes what it did.
func TestProbeUndoes(t *testing.T) {
	t.Run("declined at step 3", func(t *testing.T) {
		w := probeWorld(t, true)
		before := w.cloud.Access(region, test)
		code, out, errOut := w.run("y\ny\nn\n", "probe", "--image", test, "--folder", prod, "--account", m5)
		if code != exitError || !strings.Contains(errOut, "declined") || strings.Contains(out, "REVOKE_REDUNDANT=") {
			t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
		}
		for _, want := range []string{"declined", "Undoing", "removed the direct share with " + m5, "deleted resource share", "image back as before the probe: yes"} {
			if !strings.Contains(out, want) {
				t.Errorf("transcript lacks %q:\n%s", want, out)
			}
		}
		w.assertUndone(before)
	})
	t.Run("no answer is no", func(t *testing.T) {
		w := probeWorld(t, false)
		writes := w.writes()
		code, out, _ := w.run("", "probe", "--image", test, "--folder", prod, "--account", m5)
		if code != exitError || w.writes() != writes || !strings.Contains(out, "(no answer: no)") {
			t.Errorf("exit %d, %d writes\n%s", code, w.writes()-writes, out)
		}
	})
	t.Run("a step fails", func(t *testing.T) {
		w := probeWorld(t, true)
		t.Setenv("IMAGESHARE_PROBE_ACCESS_KEY_ID", "")
		t.Setenv("IMAGESHARE_PROBE_ACCESS_KEY_SECRET", "")
		// The operator's role may create resource shares but not share images directly.
		deny := `{"Version":"1","Statement":[{"Effect":"Deny","Action":"ecs:ModifyImageSharePermission","Resource":"*"}]}`
		if err := w.cloud.RAM().CreatePolicy(owner, "no-direct-shares", deny); err != nil {
			t.Fatal(err)
		}
		if err := w.cloud.RAM().AttachPolicyToRole(owner, emu.PolicyCustom, "no-direct-shares", "probe-ops"); err != nil {
			t.Fatal(err)
		}
		sts := w.keys.AssumeRole(owner, "probe-ops", "cli", time.Hour)
		t.Setenv("ALIBABA_CLOUD_ACCESS_KEY_ID", sts.AccessKeyID)
		t.Setenv("ALIBABA_CLOUD_ACCESS_KEY_SECRET", sts.AccessKeySecret)
		t.Setenv("ALIBABA_CLOUD_SECURITY_TOKEN", sts.SecurityToken)
		before := w.cloud.Access(region, test)
		code, out, errOut := w.run("", "probe", "--image", test, "--folder", prod, "--yes")
		if code != exitError || !strings.Contains(errOut, "add the direct share") || !strings.Contains(out, "deleted resource share") {
			t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
		}
		w.assertUndone(before)
	})
	t.Run("refuses a managed image", func(t *testing.T) {
		w := probeWorld(t, false)
		code, _, errOut := w.run("", "probe", "--image", golden, "--folder", prod, "--account", m5, "--yes")
		if code != exitError || !strings.Contains(errOut, "use an untagged test image") || w.writes() != 0 {
			t.Errorf("exit %d %s", code, errOut)
		}
	})
}

// operatorPolicy is the policy docs/deploy.md gives for the imageshare tool's reads.
func operatorPolicy(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("../../docs/deploy.md")
	if err != nil {
		t.Fatal(err)
	}
	_, after, ok := strings.Cut(string(b), "## Permissions of the `imageshare` tool")
	if ok {
		_, after, ok = strings.Cut(after, "```json\n")
	}
	doc, _, ok2 := strings.Cut(after, "```")
	if !ok || !ok2 {
		t.Fatal("docs/deploy.md has no JSON policy under \"Permissions of the `imageshare` tool\"")
	}
	return doc
}

// TestTagWritesWhatTheCheckAllows: imageshare tag sets and removes tags with
// TagResources and UntagResources as a person's call, after checking the image's tags
// as they would be: a tag error or the owner's own account is refused, nothing written
// (unless --force); an image the owner does not have is named.
func TestTagWritesWhatTheCheckAllows(t *testing.T) {
	w := newWorld(t, cloudsim.Config{})
	tags := func(id string) map[string]string {
		for _, im := range w.cloud.Images(region) {
			if im.ID == id {
				return im.Tags
			}
		}
		t.Fatalf("no image %s", id)
		return nil
	}
	code, out, errOut := w.run("", "tag", test, "imageshare:accounts="+m2, "team=web")
	if code != exitOK || !strings.Contains(out, "imageshare tag: "+test+" in cn-hangzhou: set imageshare:accounts="+m2+", team=web (request ") {
		t.Fatalf("tag: exit %d\n%s%s", code, out, errOut)
	}
	if got := tags(test); got["imageshare:accounts"] != m2 || got["team"] != "web" {
		t.Fatalf("tags after: %v", got)
	}
	code, out, _ = w.run("", "tag", test, "imageshare:accounts="+m2+" 12345")
	if code != exitRefusals || !strings.Contains(out, "12345 (tag-error)") || !strings.Contains(out, "nothing written") || tags(test)["imageshare:accounts"] != m2 {
		t.Errorf("a tag error: exit %d\n%s", code, out)
	}
	code, out, _ = w.run("", "tag", test, "imageshare:accounts:2="+owner)
	if code != exitRefusals || !strings.Contains(out, owner+" (owner)") || tags(test)["imageshare:accounts:2"] != "" {
		t.Errorf("the owner's own account: exit %d\n%s", code, out)
	}
	if code, out, errOut := w.run("", "tag", test, "--remove", "team", "--remove", "imageshare:accounts"); code != exitOK || len(tags(test)) != 0 {
		t.Errorf("--remove: exit %d %v\n%s%s", code, tags(test), out, errOut)
	}
	if code, _, errOut := w.run("", "tag", "m-Nope00000001", "a=b"); code != exitError || !strings.Contains(errOut, "m-Nope00000001: no such image among the images account "+owner+" owns") {
		t.Errorf("an unknown image: exit %d %s", code, errOut)
	}
	for _, args := range [][]string{{"tag"}, {"tag", test}, {"tag", test, "novalue"}, {"tag", test, "a=b", "--remove", "a"}} {
		if code, _, errOut := w.run("", args...); code != exitUsage || errOut == "" {
			t.Errorf("%v: exit %d %q", args, code, errOut)
		}
	}
}
