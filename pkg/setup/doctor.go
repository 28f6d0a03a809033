package setup

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"imageshare/pkg/cloud"
	emuram "imageshare/pkg/cloudsim/ram"
)

// Status is the outcome of one check.
type Status string

// Outcomes of a check. Only Fail makes doctor exit non-zero.
const (
	Pass Status = "ok"
	Fail Status = "FAIL"
	Warn Status = "warn"
	Skip Status = "skip"
	Note Status = "note"
)

// Check is one line of doctor's report.
type Check struct {
	Status       Status
	Name, Detail string
	Remedy       string // what to do ("" when nothing)
}

// Line is the check as doctor prints it: one line, with its remedy.
func (c Check) Line() string {
	s := fmt.Sprintf("%-4s %s: %s", c.Status, c.Name, c.Detail)
	if c.Remedy != "" {
		s += " → " + c.Remedy
	}
	return s
}

// Failed reports whether any check failed.
func Failed(cs []Check) bool {
	return slices.ContainsFunc(cs, func(c Check) bool { return c.Status == Fail })
}

const setupRemedy = "run imageshare setup"

// denial turns a denied read into a failed check naming what the deployer lacks.
func denial(name string, err error) (Check, bool) {
	var de *DeniedError
	if errors.As(err, &de) {
		return Check{Status: Fail, Name: name, Detail: fmt.Sprintf("%s was denied by RAM", de.API),
			Remedy: fmt.Sprintf("grant the deployer %s on %s (imageshare setup --print-deployer-policy)", de.Action, strings.Join(de.Resources, " and "))}, true
	}
	return Check{}, false
}

func failed(name string, err error) Check {
	if c, ok := denial(name, err); ok {
		return c
	}
	return Check{Status: Fail, Name: name, Detail: err.Error(), Remedy: "see the error; run imageshare doctor again"}
}

// Doctor checks the deployment d end to end, read-only: the Resource Directory and
// sharing with it, the queues and the topic, the role, its trust and its policy, the
// EventBridge rules of the triggers and EventBridge's role for Function Compute, and
// the settings' consequences. The caller's credentials and the settings are checked
// before (they are needed to read d).
func Doctor(ctx context.Context, c Cloud, d Deployment) []Check {
	return DoctorAt(ctx, c, d, time.Now)
}

// DoctorAt is Doctor with the clock of its look at ActionTrail.
func DoctorAt(ctx context.Context, c Cloud, d Deployment, now func() time.Time) []Check {
	r := &Runner{Cloud: c, D: d, Now: now}
	var out []Check
	out = append(out, r.checkDirectory(ctx)...)
	out = append(out, r.checkQueues(ctx)...)
	out = append(out, r.checkRole(ctx)...)
	out = append(out, r.checkRules(ctx)...)
	out = append(out, r.checkTrail(ctx)...)
	if d.Settings.DryRun {
		out = append(out, Check{Status: Note, Name: "DRY_RUN=true", Detail: "the functions decide and report, and change nothing",
			Remedy: "when imageshare plan shows what you expect, deploy with IMAGESHARE_DRY_RUN=false"})
	}
	if d.Settings.RevokeRedundant {
		out = append(out, Check{Status: Note, Name: "REVOKE_REDUNDANT=true",
			Detail: "direct shares an organization share covers will be revoked", Remedy: "run imageshare probe on this account first and set IMAGESHARE_REVOKE_REDUNDANT=false if it says so (docs/deploy.md, step 5)"})
	}
	return out
}

var noDirectoryCodes = []string{"EntityNotExists.ResourceDirectory", "ResourceDirectoryNotInUse"}

func (r *Runner) checkDirectory(ctx context.Context) []Check {
	d, c := r.D, r.Cloud
	var out []Check
	var dir cloud.Directory
	err := call(ctx, "GetResourceDirectory", []string{"*"}, func(ctx context.Context) (err error) { dir, err = c.GetResourceDirectory(ctx); return err })
	const name = "resource directory"
	switch {
	case slices.Contains(noDirectoryCodes, cloud.Code(err)):
		out = append(out, Check{Status: Fail, Name: name, Detail: fmt.Sprintf("account %s manages no Resource Directory (%s)", d.Account, cloud.Code(err)),
			Remedy: "deploy in the directory's management account, or have it register this account as a delegated administrator of resourcesharing.aliyuncs.com (RegisterDelegatedAdministrator)"})
	case err != nil:
		out = append(out, failed(name, err))
	case dir.MasterAccountID == d.Account:
		out = append(out, Check{Status: Pass, Name: name, Detail: fmt.Sprintf("%s (root %s); this account is its management account", dir.ID, dir.RootID)})
	default:
		r.delegated = true
		out = append(out, Check{Status: Warn, Name: name,
			Detail: fmt.Sprintf("this account is a delegated administrator of %s, whose management account is %s: the directory's changes are made and logged there, so the functions see them only through the 30-minute sweep", dir.ID, dir.MasterAccountID)})
	}
	var on bool
	err = call(ctx, "CheckSharingWithResourceDirectoryStatus", []string{"*"}, func(ctx context.Context) (err error) { on, err = c.SharingWithDirectoryEnabled(ctx); return err })
	const sharing = "sharing with the resource directory"
	switch {
	case err != nil:
		out = append(out, failed(sharing, err))
	case on:
		out = append(out, Check{Status: Pass, Name: sharing, Detail: "enabled"})
	default:
		out = append(out, Check{Status: Fail, Name: sharing, Detail: "not enabled: folder and directory shares are refused (NotEnableSharingWithResourceDirectory)",
			Remedy: "run imageshare setup in the management account (or: Resource Management console → Resource Sharing → Settings)"})
	}
	return out
}

func (r *Runner) checkQueues(ctx context.Context) []Check {
	d, c := r.D, r.Cloud
	var out []Check
	for _, spec := range d.Queues {
		name := "queue " + spec.Name
		var q Queue
		err := call(ctx, "GetQueueAttributes", []string{d.QueueARN(spec.Name)}, func(ctx context.Context) (err error) { q, err = c.GetQueue(ctx, spec.Name); return err })
		switch {
		case NotFound(err):
			out = append(out, Check{Status: Fail, Name: name, Detail: "does not exist (the " + spec.Purpose + " queue)", Remedy: setupRemedy})
			continue
		case err != nil:
			out = append(out, failed(name, err))
			continue
		}
		diff := attrDiff(q.Attrs, wantQueue(spec, q.Attrs))
		switch {
		case len(diff) == 0:
			out = append(out, Check{Status: Pass, Name: name, Detail: fmt.Sprintf("VisibilityTimeout %ds (at least %s), DelaySeconds 0, MessageRetentionPeriod %ds, MaximumMessageSize %d",
				q.Attrs.VisibilityTimeout, spec.Why, q.Attrs.MessageRetentionPeriod, q.Attrs.MaximumMessageSize)})
		case ownedTags(q.Tags):
			out = append(out, Check{Status: Fail, Name: name, Detail: "needs " + strings.Join(diff, ", "), Remedy: setupRemedy})
		default:
			out = append(out, Check{Status: Fail, Name: name, Detail: "needs " + strings.Join(diff, ", ") + "; it was not made by imageshare setup, which leaves it as it is",
				Remedy: "set these attributes (MNS console, or SetQueueAttributes), or delete the empty queue and run imageshare setup"})
		}
	}
	if d.Topic == "" {
		return out
	}
	name := "topic " + d.Topic
	var t Topic
	err := call(ctx, "GetTopicAttributes", []string{d.TopicARN(d.Topic)}, func(ctx context.Context) (err error) { t, err = c.GetTopic(ctx, d.Topic); return err })
	switch {
	case NotFound(err):
		out = append(out, Check{Status: Fail, Name: name, Detail: "does not exist (NOTIFY_TOPIC)", Remedy: setupRemedy})
	case err != nil:
		out = append(out, failed(name, err))
	case t.MaxMessageSize < MaxMessageSize:
		remedy := setupRemedy
		if !ownedTags(t.Tags) {
			remedy = fmt.Sprintf("set its MaxMessageSize to %d (it was not made by imageshare setup)", MaxMessageSize)
		}
		out = append(out, Check{Status: Fail, Name: name, Detail: fmt.Sprintf("MaxMessageSize %d < %d", t.MaxMessageSize, MaxMessageSize), Remedy: remedy})
	default:
		out = append(out, Check{Status: Pass, Name: name, Detail: fmt.Sprintf("MaxMessageSize %d", t.MaxMessageSize)})
	}
	return out
}

// sampleCalls are calls the functions make, evaluated against the role's policies.
func (r *Runner) sampleCalls() []struct {
	product, api, region string
	params               map[string]string
} {
	d := r.D
	type sc = struct {
		product, api, region string
		params               map[string]string
	}
	out := []sc{
		{"ecs", "DescribeImages", d.Region, nil},
		{"ecs", "ModifyImageSharePermission", d.Region, map[string]string{"ImageId": "m-doctor000001"}},
		{"ecs", "TagResources", d.Region, map[string]string{"ResourceType": "image", "ResourceId.1": "m-doctor000001"}},
		{"resourcemanager", "ListAccounts", "", nil},
		{"resourcesharing", "CreateResourceShare", d.Region, nil},
		{"resourcesharing", "AssociateResourceShare", d.Region, nil},
		{"mns", "BatchSendMessage", d.Region, map[string]string{"QueueName": d.Settings.JobQueue}},
	}
	for _, reg := range d.Settings.Regions {
		if reg != d.Region {
			out = append(out, sc{"ecs", "ModifyImageSharePermission", reg, map[string]string{"ImageId": "m-doctor000001"}})
		}
	}
	if d.Topic != "" {
		out = append(out, sc{"mns", "PublishMessage", d.Region, map[string]string{"TopicName": d.Topic}})
	}
	if d.Settings.OrgPoll > 0 {
		out = append(out, sc{"actiontrail", "LookupEvents", d.Settings.OrgEventsRegion, nil})
	}
	return out
}

// globalEventRegions are the regions ActionTrail may store an account's global events
// in (GetGlobalEventsStorageRegion: ap-southeast-1 or cn-hangzhou,
// https://www.alibabacloud.com/help/en/actiontrail/developer-reference/api-actiontrail-2020-07-06-getglobaleventsstorageregion).
var globalEventRegions = []string{"ap-southeast-1", "cn-hangzhou"}

// trailRetry is the first wait after a throttled LookupEvents.
const trailRetry = 500 * time.Millisecond

// trailLookback is how far back doctor looks for a Resource Directory write: the
// default range of LookupEvents.
const trailLookback = 7 * 24 * time.Hour

// checkTrail checks the organization poll: that LookupEvents works in ORG_EVENTS_REGION
// with the deployer's credentials, and that it lists the directory's writes there
// (global events are listed in one region per account; which one is not documented
// alike on the two sites: if ORG_EVENTS_REGION lists none of the last week and the
// other storage region does, the setting is wrong).
func (r *Runner) checkTrail(ctx context.Context) []Check {
	d := r.D
	const name = "organization poll (ActionTrail LookupEvents)"
	if d.Settings.OrgPoll == 0 {
		return []Check{{Status: Note, Name: name, Detail: "ORG_POLL=0: org-events does not look directory changes up; where EventBridge does not deliver them (it documents no Resource Management source), the 30-minute sweep notices them"}}
	}
	if r.delegated {
		return []Check{{Status: Note, Name: name, Detail: "not checked: this account is a delegated administrator, and ActionTrail lists the directory's writes in the management account's history, not in this one's: the poll finds nothing, and the 30-minute sweep notices directory changes",
			Remedy: "set IMAGESHARE_ORG_POLL=0 to save the calls"}}
	}
	now := time.Now
	if r.Now != nil {
		now = r.Now
	}
	end := now().UTC().Truncate(time.Second)
	found := func(region string) (int, error) {
		var p cloud.EventPage
		err := call(ctx, "LookupEvents", []string{"*"}, func(ctx context.Context) (err error) {
			// Two calls a second per account, shared with the functions' polls: a
			// throttled call is tried again a little later.
			for wait := trailRetry; ; wait *= 2 {
				p, err = r.Cloud.LookupEvents(ctx, cloud.LookupEventsInput{Region: region, Start: end.Add(-trailLookback), End: end, MaxResults: 1,
					Attributes: []cloud.LookupAttribute{{Key: "ServiceName", Value: "ResourceManager"}, {Key: "EventRW", Value: "Write"}}})
				if !cloud.Throttled(err) || wait > 8*trailRetry {
					return err
				}
				if serr := cloud.Sleep(ctx, wait); serr != nil {
					return err
				}
			}
		})
		return len(p.Events), err
	}
	region := d.Settings.OrgEventsRegion
	n, err := found(region)
	if err != nil {
		return []Check{failed(name, err)}
	}
	if n > 0 {
		return []Check{{Status: Pass, Name: name, Detail: fmt.Sprintf("LookupEvents in %s (ORG_EVENTS_REGION) lists Resource Directory writes of the last 7 days", region)}}
	}
	for _, other := range globalEventRegions {
		if other == region {
			continue
		}
		if m, err := found(other); err == nil && m > 0 {
			return []Check{{Status: Fail, Name: name, Detail: fmt.Sprintf("LookupEvents lists this account's Resource Directory writes in %s, not in %s (ORG_EVENTS_REGION): the poll would find none", other, region),
				Remedy: "deploy with IMAGESHARE_ORG_EVENTS_REGION=" + other}}
		}
	}
	return []Check{{Status: Warn, Name: name, Detail: fmt.Sprintf("LookupEvents works in %s, but lists no Resource Directory write of the last 7 days there or in the other region that may hold global events, so which region lists them is unverified", region),
		Remedy: "after the next change in the directory, run imageshare doctor again"}}
}

func (r *Runner) checkRole(ctx context.Context) []Check {
	d, c := r.D, r.Cloud
	var out []Check
	roleARN := []string{d.RoleARN(d.Role)}
	name := "role " + d.Role
	var role Role
	err := call(ctx, "GetRole", roleARN, func(ctx context.Context) (err error) { role, err = c.GetRole(ctx, d.Role); return err })
	switch {
	case NotFound(err):
		return append(out, Check{Status: Fail, Name: name, Detail: "does not exist (the functions' role in s.yaml)", Remedy: setupRemedy})
	case err != nil:
		return append(out, failed(name, err))
	}
	remedy := setupRemedy
	if !owned(role.Description) {
		remedy = "it was not made by imageshare setup: fix it by hand, or delete it and run imageshare setup"
	}
	trust, err := emuram.ParseTrust([]byte(role.Trust))
	switch {
	case err != nil:
		out = append(out, Check{Status: Fail, Name: name + " trust policy", Detail: err.Error(), Remedy: remedy})
	case !trust.Trusts("Service", FCPrincipal):
		out = append(out, Check{Status: Fail, Name: name + " trust policy", Detail: "does not let Function Compute (" + FCPrincipal + ") assume the role", Remedy: remedy})
	default:
		out = append(out, Check{Status: Pass, Name: name + " trust policy",
			Detail: "Function Compute (" + FCPrincipal + ") may assume it (the principal is unverified for FC 3.0: an invocation that logs an AssumeRole error disproves it)"})
	}

	var refs []PolicyRef
	pname := "policy " + d.PolicyName
	if err := call(ctx, "ListPoliciesForRole", roleARN, func(ctx context.Context) (err error) { refs, err = c.ListPoliciesForRole(ctx, d.Role); return err }); err != nil {
		return append(out, failed(pname, err))
	}
	if !slices.Contains(refs, Custom(d.PolicyName)) {
		// setup attaches only a policy it made to a role it made.
		remedy := setupRemedy
		var pol Policy
		err := call(ctx, "GetPolicy", []string{d.PolicyARN(d.PolicyName)}, func(ctx context.Context) (err error) { pol, err = c.GetPolicy(ctx, Custom(d.PolicyName)); return err })
		if (err == nil && !owned(pol.Description)) || !owned(role.Description) {
			remedy = fmt.Sprintf("attach it by hand (aliyun ram AttachPolicyToRole --PolicyType Custom --PolicyName %s --RoleName %s): setup attaches only its own policy to its own role", d.PolicyName, d.Role)
		}
		return append(out, Check{Status: Fail, Name: pname, Detail: "is not attached to role " + d.Role, Remedy: remedy})
	}
	// The role's policies: this deployment's, which must equal imageshare policy's
	// output, and the others, which only take part in the evaluation.
	var named []emuram.Named
	var others []string
	for _, ref := range refs {
		var pol Policy
		err := call(ctx, "GetPolicy", []string{d.PolicyARN(ref.Name)}, func(ctx context.Context) (err error) { pol, err = c.GetPolicy(ctx, ref); return err })
		if ref != Custom(d.PolicyName) {
			others = append(others, ref.Type+" "+ref.Name)
		}
		if err != nil {
			if ref == Custom(d.PolicyName) {
				return append(out, failed(pname, err))
			}
			out = append(out, Check{Status: Warn, Name: "policy " + ref.Name, Detail: "attached to the role but unreadable, so left out of the evaluation: " + err.Error()})
			continue
		}
		if ref == Custom(d.PolicyName) {
			pol := pol
			missing, extra, err := PolicyDiff(string(d.Policy.JSON()), pol.Document)
			premedy := setupRemedy + " (it adds a version)"
			if !owned(pol.Description) {
				premedy = "it was not made by imageshare setup: add a version with the output of imageshare policy (aliyun ram CreatePolicyVersion --SetAsDefault true)"
			}
			switch {
			case err != nil:
				out = append(out, Check{Status: Fail, Name: pname, Detail: "cannot be compared with imageshare policy's output: " + err.Error(), Remedy: premedy})
			case len(missing) > 0 || len(extra) > 0:
				out = append(out, Check{Status: Fail, Name: pname, Detail: "differs from imageshare policy's output (version " + pol.DefaultVersion + "): " + describeDiff(missing, extra), Remedy: premedy})
			default:
				out = append(out, Check{Status: Pass, Name: pname, Detail: "attached, and states exactly what imageshare policy prints for this deployment (version " + pol.DefaultVersion + ")"})
			}
		}
		p, err := emuram.Parse([]byte(pol.Document))
		if err != nil {
			out = append(out, Check{Status: Warn, Name: "policy " + ref.Name, Detail: "left out of the evaluation: " + err.Error()})
			continue
		}
		named = append(named, emuram.Named{Name: ref.Type + " policy " + ref.Name, Policy: p})
	}
	if len(others) > 0 {
		out = append(out, Check{Status: Note, Name: name, Detail: "also holds " + strings.Join(others, ", ") + " (not made by setup; the functions may do what they grant)"})
	}
	// Evaluated with the emulated RAM's evaluator (package cloudsim/ram): the
	// repository's reading of how RAM evaluates action and resource, with its own table
	// of each API's RAM action and resource, kept apart from the policy's generator.
	var denied []string
	calls := r.sampleCalls()
	for _, sc := range calls {
		api, ok := emuram.Lookup(sc.product, sc.api)
		if !ok {
			continue
		}
		dec := emuram.Evaluate(named, api.Action, api.Resources(emuram.Request{Region: sc.region, Account: d.Account, Params: sc.params}), api.AllResources)
		if !dec.Allowed {
			denied = append(denied, dec.String())
		}
	}
	if len(denied) > 0 {
		out = append(out, Check{Status: Fail, Name: name + " evaluated", Detail: "the role's policies deny calls the functions make: " + strings.Join(denied, "; "), Remedy: setupRemedy})
	} else {
		out = append(out, Check{Status: Pass, Name: name + " evaluated", Detail: fmt.Sprintf("the role's policies allow %d sample calls of the functions, as RAM evaluates action and resource", len(calls))})
	}
	return out
}

func (r *Runner) checkRules(ctx context.Context) []Check {
	d, c := r.D, r.Cloud
	var out []Check
	if len(d.Rules) == 0 {
		return out
	}
	slr := "EventBridge's role " + SendToFCRole
	err := call(ctx, "GetRole", []string{d.RoleARN(SendToFCRole)}, func(ctx context.Context) error { _, err := c.GetRole(ctx, SendToFCRole); return err })
	switch {
	case NotFound(err):
		out = append(out, Check{Status: Fail, Name: slr, Detail: "does not exist: EventBridge cannot invoke the functions", Remedy: setupRemedy})
	case err != nil:
		out = append(out, failed(slr, err))
	default:
		out = append(out, Check{Status: Pass, Name: slr, Detail: "exists (the service-linked role EventBridge invokes Function Compute with; its name is unverified on a real account)"})
	}
	var rules []Rule
	if err := call(ctx, "ListRules", []string{"*"}, func(ctx context.Context) (err error) { rules, err = c.ListRules(ctx, Bus); return err }); err != nil {
		return append(out, failed("event rules", err))
	}
	for _, spec := range d.Rules {
		trigger := spec.Function + "/" + spec.Trigger
		name := "trigger " + trigger
		var covering []Rule
		for _, rule := range rules {
			if covers(rule, spec) {
				covering = append(covering, rule)
			}
		}
		switch len(covering) {
		case 0:
			var seen []string
			for _, rule := range rules {
				if rule.Name == spec.Name() || rule.Name == spec.FCName() {
					seen = append(seen, fmt.Sprintf("rule %s (made by %s): %s", rule.Name, r.ruleOwner(rule.Name), whyNot(rule, spec)))
				}
			}
			detail := "no enabled rule on bus " + Bus + " delivers its events (s.yaml's pattern) to " + spec.Function
			if len(seen) > 0 {
				detail += "; " + strings.Join(seen, "; ")
			}
			out = append(out, Check{Status: Fail, Name: name, Detail: detail, Remedy: setupRemedy})
		case 1:
			rule := covering[0]
			i := slices.IndexFunc(rule.Targets, func(t Target) bool { return t.Invokes(spec.Function) })
			t := rule.Targets[i]
			out = append(out, Check{Status: Pass, Name: name, Detail: fmt.Sprintf("rule %s (made by %s) is enabled, its pattern equals s.yaml's, and it targets %s (%s %s)",
				rule.Name, r.ruleOwner(rule.Name), spec.Function, t.Type, t.Endpoint)})
		default:
			var names []string
			own := false
			for _, rule := range covering {
				names = append(names, fmt.Sprintf("%s (made by %s)", rule.Name, r.ruleOwner(rule.Name)))
				own = own || strings.HasPrefix(rule.Name, RulePrefix)
			}
			remedy := "delete all but one of them"
			if own {
				remedy = setupRemedy + " (it deletes its own rule when another delivers the events)"
			}
			out = append(out, Check{Status: Fail, Name: name, Detail: "its events reach " + spec.Function + " twice, through " + strings.Join(names, " and "), Remedy: remedy})
		}
	}
	return out
}
