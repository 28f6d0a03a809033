package sandbox

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"imageshare/pkg/cloudsim"
	"imageshare/pkg/cloudsim/emu"
	emueventbridge "imageshare/pkg/cloudsim/eventbridge"
	"imageshare/pkg/cloudsim/mns"
	"imageshare/pkg/cloudsim/ram"
	"imageshare/pkg/cloudsim/sts"
	"imageshare/pkg/cron"
	"imageshare/pkg/eventbridge"
	"imageshare/pkg/fcruntime"
	"imageshare/pkg/rampolicy"
	"imageshare/pkg/scenario"
	"imageshare/pkg/settings"
	"imageshare/pkg/syaml"
)

// DelegatedService is the trusted service for which an owner that is not the
// management account is registered as delegated administrator: the image factory
// shares through Resource Sharing. Any delegated administrator may read the directory.
const DelegatedService = "resourcesharing.aliyuncs.com"

// Defaults of the emulated cloud in a scenario.
const (
	associationDelay = 20 * time.Second
	imageAge         = time.Hour // images present at the start were created this long before it
)

func newSandbox(sc *scenario.Scenario, opts Options) (*sandbox, error) {
	sb, err := newWorld(sc, opts, worldConfig{start: emu.Epoch})
	if err != nil {
		return nil, err
	}
	sb.rt = fcruntime.NewRuntime(sb.onLog)
	for _, f := range sb.funcs {
		instances := 1
		if sb.racing(f) {
			instances = opts.Concurrent
		}
		spec := fcruntime.FunctionSpec{Name: f.key, Command: opts.FunctionCommand(f.key), Env: sb.functionEnv(), Timeout: f.timeout,
			MemoryMB: 512, Handler: "main", InstanceConcurrency: 1, MaxInstances: instances}
		if err := sb.rt.Register(spec); err != nil {
			sb.close()
			return nil, err
		}
	}
	return sb, nil
}

// worldConfig is what differs between the sandbox's world and a stand-alone World.
type worldConfig struct {
	start time.Time
	// addr returns the loopback host:port of a service ("" or nil addr: a free port).
	addr func(service string) string
	// standalone: nobody runs functions or routes events, so the sandbox's hooks (event
	// bus, write records, kill faults) stay off.
	standalone bool
	// bare: the deployment's queues, topic and the functions' role are not made, so that
	// `imageshare setup` can make them from nothing.
	bare bool
}

// newWorld builds the cloud of a scenario and serves it: s.yaml and the settings, the
// emulated services on loopback, the scenario's accounts, directory, images, shares,
// queues and topic. Of the functions, only their descriptions are read.
func newWorld(sc *scenario.Scenario, opts Options, wc worldConfig) (*sandbox, error) {
	sb := &sandbox{sc: sc, opts: opts, clock: emu.NewClock(wc.start), keys: emu.NewKeyring(), eventsOn: true,
		funcs: map[string]*function{}, invocations: map[string]int{}, trace: opts.Trace, rand: newDetRand(sc.Faults.Seed),
		chaos: newChaos(opts.Chaos), audit: newAudit()}
	if err := sb.loadProject(); err != nil {
		return nil, err
	}
	faults := emu.NewFaultPlan(emu.Faults{Seed: sc.Faults.Seed, Throttle: sc.Faults.Throttle, ServerError: sc.Faults.ServerError, Kill: sc.Faults.Kill})
	sb.ram = ram.NewStore()
	sb.ram.SetClock(sb.clock.Now)
	sb.mq = mns.New(mns.Config{Clock: sb.clock, Keys: sb.keys, RAM: sb.ram, Faults: faults, FunctionRole: sb.role})
	sb.eb = emueventbridge.New(sb.ram)
	// The services the deployment commands (imageshare setup, doctor) call, served
	// through the same wire: RAM's API over the store every product evaluates, STS,
	// EventBridge's rules and the MNS management API over the same queues.
	services := []emu.Service{ram.NewService(sb.ram), sts.New(), sb.eb, sb.mq.Management()}
	sb.cloud = cloudsim.New(cloudsim.Config{Clock: sb.clock, Keys: sb.keys, RAM: sb.ram, Faults: faults, FunctionRole: sb.role,
		OrgGrantsListed: sc.Cloud.OrgGrantsListed, AssociationDelay: associationDelay, TrackAccess: !opts.NoInvariant && !wc.standalone,
		Latency: opts.Latency, QPS: opts.QPS,
		ShareQuotaPerImage: sb.shareQuota(), Services: services})
	if !wc.standalone {
		sb.cloud.OnEvent(sb.onEvent)
		sb.cloud.OnWrite(func(w cloudsim.WriteRecord) {
			sb.mu.Lock()
			sb.writes = append(sb.writes, w)
			sb.mu.Unlock()
			if opts.OnWrite != nil {
				// Called while the function waits for the write's answer: with one
				// invocation at a time, this is the cloud right after the write.
				opts.OnWrite(Write{WriteRecord: w, Members: sb.cloud.Members(), Images: sb.cloud.Images(w.Region),
					Shares: sb.cloud.ResourceShares(w.Region)})
			}
		})
		sb.cloud.OnKill(sb.onKill)
		sb.mq.OnKill(sb.onKill)
	}
	addr := func(service string) string {
		if wc.addr == nil {
			return ""
		}
		return wc.addr(service)
	}
	eps, stop, err := sb.cloud.ServeAt(addr)
	if err != nil {
		return nil, err
	}
	sb.stops = append(sb.stops, stop)
	mqAddr := addr("mns")
	if mqAddr == "" {
		mqAddr = "127.0.0.1:0"
	}
	mq, err := emu.ListenAt(mqAddr, sb.mq)
	if err != nil {
		sb.close()
		return nil, fmt.Errorf("serve mns: %w", err)
	}
	sb.stops = append(sb.stops, func() { _ = mq.Close() })
	eps["mns"] = mq.URL()
	sb.eps = eps
	if err := sb.buildWorld(wc.bare); err != nil {
		sb.close()
		return nil, err
	}
	return sb, nil
}

// racing reports whether Options.Concurrent applies to f: it reads the job queue.
func (sb *sandbox) racing(f *function) bool {
	if sb.opts.Concurrent <= 1 {
		return false
	}
	for _, t := range f.triggers {
		if t.kind == "mns" && t.queue == sb.jobQueue {
			return true
		}
	}
	return false
}

// shareQuota models a raised ECS quota when the scenario raises MAX_ACCOUNTS_PER_IMAGE.
func (sb *sandbox) shareQuota() int {
	n := 50
	if v, ok := sb.sc.Settings["MAX_ACCOUNTS_PER_IMAGE"]; ok {
		var m int
		if _, err := fmt.Sscan(v, &m); err == nil && m > n {
			n = m
		}
	}
	return n
}

// settingDefaults resolves s.yaml's ${env(…)} without the host's environment, so that
// a scenario runs the same on every machine: an expression that sets one of the
// functions' settings takes that setting's own default (DRY_RUN=false: a scenario is
// not a dry run, whatever a first deployment uses), any other its written default.
func settingDefaults(r syaml.EnvRef) (string, error) {
	for _, v := range settings.Vars {
		if r.EnvVar != "" && v.Name == r.EnvVar {
			return v.Default, nil
		}
	}
	return syaml.WrittenDefault(r)
}

// loadProject reads s.yaml with the scenario's region and owner as vars, and the
// scenario's settings over the functions' environment (except JOB_QUEUE).
func (sb *sandbox) loadProject() error {
	p, err := syaml.LoadWith(sb.opts.SYAML, syaml.Options{
		Vars: map[string]string{"region": sb.sc.Region, "accountId": sb.sc.Owner},
		Env:  settingDefaults,
	})
	if err != nil {
		return fmt.Errorf("s.yaml: %w", err)
	}
	sb.project = p
	fns, err := p.Functions()
	if err != nil {
		return fmt.Errorf("s.yaml: %w", err)
	}
	sb.env = map[string]string{}
	for _, f := range fns {
		for k, v := range f.Env {
			sb.env[k] = v
		}
	}
	for k, v := range sb.sc.Settings {
		if k == "JOB_QUEUE" {
			continue
		}
		sb.env[k] = v
	}
	sb.role = sb.env["FUNCTION_ROLE"]
	if sb.role == "" {
		sb.role = "imageshare-fc"
	}
	sb.jobQueue = sb.env["JOB_QUEUE"]
	for _, f := range fns {
		fn := &function{key: f.Key, name: f.Name, timeout: time.Duration(f.Timeout) * time.Second}
		if fn.timeout == 0 {
			fn.timeout = 60 * time.Second
		}
		for _, t := range f.Triggers {
			tr := trigger{fn: fn, name: t.Name}
			switch {
			case t.Timer != nil:
				if !t.Timer.Enable {
					continue
				}
				s, err := cron.Parse(t.Timer.Cron)
				if err != nil {
					return fmt.Errorf("s.yaml: trigger %s of %s: %w", t.Name, f.Key, err)
				}
				tr.kind = "timer"
				trc := tr
				sb.timers = append(sb.timers, &timer{trig: &trc, payload: t.Timer.Payload, sched: s, next: s.Next(sb.clock.Now())})
				continue
			case t.EventBridge != nil:
				eb := t.EventBridge
				if !eb.Enable {
					continue
				}
				pat, err := eventbridge.Compile([]byte(eb.FilterPattern))
				if err != nil {
					return fmt.Errorf("s.yaml: trigger %s of %s: eventRuleFilterPattern: %w", t.Name, f.Key, err)
				}
				tr.pattern = pat
				tr.retry = retryPolicy{strategy: eb.Retry.Strategy, maxAttempts: eb.Retry.MaxAttempts, maxAge: time.Duration(eb.Retry.MaxEventAgeSeconds) * time.Second}
				tr.dlq = queueOfArn(eb.DeadLetterArn)
				switch eb.SourceType {
				case "Default":
					tr.kind = "bus"
				case "MNS":
					tr.kind = "mns"
					tr.queue = eb.MNSQueue
					tr.base64 = eb.IsBase64Decode
					tr.source = "MNS-" + f.Name + "-" + t.Name
					tr.batch = eb.BatchWindow.Count
					if tr.batch <= 0 {
						tr.batch = 1
					}
				default:
					return fmt.Errorf("s.yaml: trigger %s of %s: event source %q is not emulated", t.Name, f.Key, eb.SourceType)
				}
			default:
				return fmt.Errorf("s.yaml: trigger %s of %s: type %q is not emulated", t.Name, f.Key, t.Type)
			}
			fn.triggers = append(fn.triggers, tr)
		}
		sb.funcs[f.Key] = fn
	}
	return nil
}

// queueOfArn reads acs:mns:<region>:<uid>:/queues/<name>.
func queueOfArn(arn string) string {
	if i := strings.LastIndex(arn, "/queues/"); i >= 0 {
		return arn[i+len("/queues/"):]
	}
	return ""
}

// functionEnv is the environment of every function process: the settings, the
// emulated cloud's endpoints, and what Function Compute sets.
func (sb *sandbox) functionEnv() []string {
	var env []string
	for k, v := range sb.env {
		env = append(env, k+"="+v)
	}
	env = append(env,
		"ECS_ENDPOINT="+sb.eps["ecs"], "RESOURCEMANAGER_ENDPOINT="+sb.eps["resourcemanager"],
		"RESOURCESHARING_ENDPOINT="+sb.eps["resourcesharing"], "MNS_ENDPOINT="+sb.eps["mns"],
		"FC_REGION="+sb.sc.Region, "FC_ACCOUNT_ID="+sb.sc.Owner)
	return append(env, sb.opts.ExtraEnv...)
}

// buildWorld puts the scenario's accounts, directory, images and shares into the cloud,
// and unless bare the deployment's role, queues and topic.
func (sb *sandbox) buildWorld(bare bool) error {
	sc := sb.sc
	c := sb.cloud
	c.AddAccount(sc.Owner, "china")
	ownerKey := sb.keys.AccessKey(sc.Owner)
	sb.owner, sb.ownerKey = ownerKey.Identity, ownerKey
	sb.audit.remember("owner's access key", ownerKey.AccessKeyID[len("LTAI"):], ownerKey.AccessKeySecret)
	for _, a := range sc.Outside {
		c.AddAccount(a, "china")
	}
	sb.manager = sb.owner
	if d := sc.Directory; d != nil {
		mgmt := d.Management
		if mgmt == "" {
			mgmt = sc.Owner
		}
		c.AddAccount(mgmt, "china")
		c.SetDirectory(cloudsim.DirectorySpec{ID: d.ID, RootID: d.Root, Master: mgmt, SharingEnabled: d.SharingEnabled})
		if mgmt != sc.Owner {
			// The owner is an image factory: a member at the root that the management
			// account registered as a delegated administrator, so that it may read the
			// directory. The directory steps are the management
			// account's, with its own key; their events go to its bus.
			c.AddMember(sc.Owner, d.Root)
			if err := c.RegisterDelegatedAdministrator(sc.Owner, DelegatedService); err != nil {
				return fmt.Errorf("register the owner as delegated administrator: %w", err)
			}
			mk := sb.keys.AccessKey(mgmt)
			sb.manager = mk.Identity
			sb.audit.remember("management account's access key", mk.AccessKeyID[len("LTAI"):], mk.AccessKeySecret)
		}
		for _, f := range d.Folders {
			c.AddFolder(f.ID, f.Name, f.Parent)
		}
		for _, a := range d.Accounts {
			// The owner may be listed: it is then in that folder (still the
			// management account's member when it is the management account).
			c.AddAccount(a.ID, a.Site)
			c.AddMember(a.ID, a.Folder)
		}
	}
	for _, r := range sc.Roles {
		c.AddRole(sc.Owner, r)
	}
	if !bare {
		if err := sb.grantRole(); err != nil {
			return err
		}
	}
	created := sb.clock.Now().Add(-imageAge)
	// An image the file says is Creating or Waiting is so at the start, and turns
	// Available after create_image's default ready_after (not at once: it was created
	// an hour ago, but its status is what the file says).
	readyAt := sb.clock.Now().Add(scenario.DefaultReadyAfter)
	for _, im := range sc.Images {
		owner := sc.Owner
		if im.Owner == "others" {
			owner = "1999999999999999"
			c.AddAccount(owner, "china")
		}
		region := sc.Region
		if im.Region != "" {
			region = im.Region
		}
		c.PutImage(region, cloudsim.ImageSpec{ID: im.ID, Owner: owner, Status: im.Status, ProductCode: im.ProductCode,
			Encrypted: im.Encrypted, Tags: im.Tags, SharedWith: im.SharedWith, Created: created, ReadyAt: readyAt})
	}
	// Present at the start, oldest first: a second apart, the last a second before the
	// start, so that shares of one name are ordered by CreateTime as in the file.
	for i, rs := range sc.ResourceShares {
		at := sb.clock.Now().Add(-time.Duration(len(sc.ResourceShares)-i) * time.Second)
		c.PutResourceShareAt(sc.Region, sc.Owner, rs.Name, rs.Targets, rs.Images, at)
	}
	if bare {
		return nil
	}
	queues := []string{sb.jobQueue}
	for _, f := range sb.funcs {
		for _, t := range f.triggers {
			queues = append(queues, t.queue, t.dlq)
		}
	}
	for _, q := range queues {
		if q == "" {
			continue
		}
		if err := sb.mq.EnsureQueue(sc.Owner, sc.Region, q, mns.QueueAttributes{MaximumMessageSize: 65536, MessageRetentionPeriod: 345600, VisibilityTimeout: 300}); err != nil {
			return fmt.Errorf("queue %s: %w", q, err)
		}
	}
	if t := sb.env["NOTIFY_TOPIC"]; t != "" {
		if err := sb.mq.EnsureTopic(sc.Owner, sc.Region, t); err != nil {
			return fmt.Errorf("topic %s: %w", t, err)
		}
	}
	return nil
}

// Names of what the sandbox puts in RAM.
const (
	rolePolicyName = "imageshare-fc"
	denyPolicyName = "imageshare-scenario-deny"
	// fcTrust lets Function Compute assume the functions' role (docs/deploy.md).
	fcTrust = `{"Version":"1","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Principal":{"Service":["fc.aliyuncs.com"]}}]}`
)

// grantRole creates the functions' role in the owner account holding the deployment's
// policy (rampolicy, for the scenario's account, region and settings; or
// Options.RolePolicy), and, when the scenario denies actions, a second policy with an
// explicit Deny of them on every resource.
func (sb *sandbox) grantRole() error {
	sc := sb.sc
	doc := sb.opts.RolePolicy
	if doc == nil {
		var err error
		if doc, err = rampolicy.Render(sb.deployment()); err != nil {
			return fmt.Errorf("the functions' RAM policy: %w", err)
		}
	} else {
		doc = []byte(strings.NewReplacer(rampolicy.AccountPlaceholder, sc.Owner, rampolicy.RegionPlaceholder, sc.Region).Replace(string(doc)))
	}
	sb.rolePolicy = doc
	if err := sb.ram.CreateRole(sc.Owner, sb.role, fcTrust); err != nil {
		return fmt.Errorf("role %s: %w", sb.role, err)
	}
	if err := sb.ram.CreatePolicy(sc.Owner, rolePolicyName, string(doc)); err != nil {
		return fmt.Errorf("policy %s: %w", rolePolicyName, err)
	}
	if err := sb.ram.AttachPolicyToRole(sc.Owner, emu.PolicyCustom, rolePolicyName, sb.role); err != nil {
		return fmt.Errorf("attach %s: %w", rolePolicyName, err)
	}
	if len(sc.Deny) == 0 {
		return nil
	}
	deny, _ := json.Marshal(map[string]any{"Version": "1", "Statement": []map[string]any{
		{"Sid": "ScenarioDeny", "Effect": "Deny", "Action": sc.Deny, "Resource": "*"}}})
	if err := sb.ram.CreatePolicy(sc.Owner, denyPolicyName, string(deny)); err != nil {
		return fmt.Errorf("scenario deny: %w", err)
	}
	if err := sb.ram.AttachPolicyToRole(sc.Owner, emu.PolicyCustom, denyPolicyName, sb.role); err != nil {
		return fmt.Errorf("attach %s: %w", denyPolicyName, err)
	}
	return nil
}

// deployment is what the functions' policy is built for: the scenario's account and
// region and the functions' settings (their defaults where a setting is invalid: the
// functions then fail on their own, which is what such a scenario shows).
func (sb *sandbox) deployment() rampolicy.Deployment {
	if s, err := settings.Load(func(k string) string { return sb.env[k] }); err == nil {
		return rampolicy.ForSettings(sb.sc.Owner, sb.sc.Region, s)
	}
	d := rampolicy.Defaults()
	d.Account, d.Region = sb.sc.Owner, sb.sc.Region
	return d
}
