package sandbox

import (
	"fmt"
	"strings"
	"time"

	"imageshare/pkg/cloudsim"
	"imageshare/pkg/cloudsim/emu"
	"imageshare/pkg/cloudsim/mns"
	"imageshare/pkg/cron"
	"imageshare/pkg/eventbridge"
	"imageshare/pkg/fcruntime"
	"imageshare/pkg/scenario"
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
	sb := &sandbox{sc: sc, opts: opts, clock: emu.NewClock(emu.Epoch), keys: emu.NewKeyring(), eventsOn: true,
		funcs: map[string]*function{}, invocations: map[string]int{}, trace: opts.Trace, rand: newDetRand(sc.Faults.Seed),
		chaos: newChaos(opts.Chaos), audit: newAudit()}
	if err := sb.loadProject(); err != nil {
		return nil, err
	}
	faults := emu.NewFaultPlan(emu.Faults{Seed: sc.Faults.Seed, Throttle: sc.Faults.Throttle, ServerError: sc.Faults.ServerError, Kill: sc.Faults.Kill})
	sb.cloud = cloudsim.New(cloudsim.Config{Clock: sb.clock, Keys: sb.keys, Faults: faults, FunctionRole: sb.role,
		OrgGrantsListed: sc.Cloud.OrgGrantsListed, AssociationDelay: associationDelay, TrackAccess: !opts.NoInvariant,
		Latency: opts.Latency, QPS: opts.QPS,
		ShareQuotaPerImage: sb.shareQuota()})
	sb.mq = mns.New(mns.Config{Clock: sb.clock, Keys: sb.keys, Faults: faults, FunctionRole: sb.role})
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
	eps, stop, err := sb.cloud.Serve()
	if err != nil {
		return nil, err
	}
	sb.stops = append(sb.stops, stop)
	mq, err := emu.Listen(sb.mq)
	if err != nil {
		return nil, err
	}
	sb.stops = append(sb.stops, func() { _ = mq.Close() })
	eps["mns"] = mq.URL()
	sb.eps = eps
	if err := sb.buildWorld(); err != nil {
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
			return nil, err
		}
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

// loadProject reads s.yaml with the scenario's region and owner as vars, and the
// scenario's settings over the functions' environment (except JOB_QUEUE).
func (sb *sandbox) loadProject() error {
	p, err := syaml.Load(sb.opts.SYAML, map[string]string{"region": sb.sc.Region, "accountId": sb.sc.Owner})
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

// buildWorld puts the scenario's accounts, directory, images and shares into the cloud.
func (sb *sandbox) buildWorld() error {
	sc := sb.sc
	c := sb.cloud
	c.AddAccount(sc.Owner, "china")
	ownerKey := sb.keys.AccessKey(sc.Owner)
	sb.owner = ownerKey.Identity
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
			c.AddAccount(a.ID, a.Site)
			c.AddMember(a.ID, a.Folder)
		}
	}
	for _, r := range sc.Roles {
		c.AddRole(sc.Owner, r)
	}
	if len(sc.Deny) > 0 {
		c.Deny(sb.role, sc.Deny...)
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
		c.PutImage(sc.Region, cloudsim.ImageSpec{ID: im.ID, Owner: owner, Status: im.Status, ProductCode: im.ProductCode,
			Encrypted: im.Encrypted, Tags: im.Tags, SharedWith: im.SharedWith, Created: created, ReadyAt: readyAt})
	}
	for _, rs := range sc.ResourceShares {
		c.PutResourceShare(sc.Region, sc.Owner, rs.Name, rs.Targets, rs.Images)
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
