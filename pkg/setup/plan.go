package setup

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"imageshare/pkg/cloud"
)

// Change is one change setup makes: a line saying what it does, and the calls.
type Change struct {
	Line string
	do   func(ctx context.Context) error
}

// Plan is what setup would change, and what it leaves as it is with why.
type Plan struct {
	Changes []Change
	Notes   []string
}

// Lines returns the changes' lines.
func (p *Plan) Lines() []string {
	var out []string
	for _, c := range p.Changes {
		out = append(out, c.Line)
	}
	return out
}

// Runner plans and applies a deployment's changes through a Cloud.
type Runner struct {
	Cloud Cloud
	D     Deployment
	// Now is the clock of doctor's look at ActionTrail (nil: the real clock).
	Now func() time.Time
	// delegated: doctor found the account a delegated administrator of the directory.
	delegated bool
}

func (r *Runner) add(p *Plan, line string, do func(ctx context.Context) error) {
	p.Changes = append(p.Changes, Change{Line: line, do: do})
}

func owned(description string) bool { return strings.Contains(description, ManagedMark) }

func ownedTags(tags map[string]string) bool { return tags[TagKey] == TagValue }

// wantQueue is what a queue's attributes must become: the larger visibility timeout,
// no queue-wide delay (the functions' undelayed jobs would wait), the longest
// retention and the largest messages.
func wantQueue(spec QueueSpec, cur QueueAttrs) QueueAttrs {
	return QueueAttrs{VisibilityTimeout: max(cur.VisibilityTimeout, spec.Attrs.VisibilityTimeout), DelaySeconds: 0,
		MessageRetentionPeriod: spec.Attrs.MessageRetentionPeriod, MaximumMessageSize: spec.Attrs.MaximumMessageSize}
}

// attrDiff lists the attributes that differ, as "Name from → to".
func attrDiff(cur, want QueueAttrs) []string {
	var out []string
	add := func(name string, a, b int) {
		if a != b {
			out = append(out, fmt.Sprintf("%s %d → %d", name, a, b))
		}
	}
	add("VisibilityTimeout", cur.VisibilityTimeout, want.VisibilityTimeout)
	add("DelaySeconds", cur.DelaySeconds, want.DelaySeconds)
	add("MessageRetentionPeriod", cur.MessageRetentionPeriod, want.MessageRetentionPeriod)
	add("MaximumMessageSize", cur.MaximumMessageSize, want.MaximumMessageSize)
	return out
}

// Plan reads what the cloud holds and returns the changes setup would make.
func (r *Runner) Plan(ctx context.Context) (*Plan, error) {
	p := &Plan{}
	for _, step := range []func(context.Context, *Plan) error{r.planSharing, r.planQueues, r.planTopic, r.planRole, r.planRules} {
		if err := step(ctx, p); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// planSharing enables sharing with the Resource Directory, which the functions' folder
// and directory shares need, when the caller is the directory's management account
// (only it may: EnableSharingWithResourceDirectory answers ActionNotPermitted to
// others). It never disables it.
func (r *Runner) planSharing(ctx context.Context, p *Plan) error {
	d, c := r.D, r.Cloud
	var dir cloud.Directory
	err := call(ctx, "GetResourceDirectory", []string{"*"}, func(ctx context.Context) (err error) { dir, err = c.GetResourceDirectory(ctx); return err })
	switch {
	case slices.Contains(noDirectoryCodes, cloud.Code(err)):
		p.Notes = append(p.Notes, fmt.Sprintf("account %s manages no Resource Directory: tags naming folders will be refused until it does (imageshare doctor)", d.Account))
		return nil
	case err != nil:
		return err
	}
	var on bool
	if err := call(ctx, "CheckSharingWithResourceDirectoryStatus", []string{"*"}, func(ctx context.Context) (err error) {
		on, err = c.SharingWithDirectoryEnabled(ctx)
		return err
	}); err != nil {
		return err
	}
	switch {
	case on:
	case dir.MasterAccountID != d.Account:
		p.Notes = append(p.Notes, fmt.Sprintf("sharing with the Resource Directory %s is not enabled, and only its management account %s may enable it", dir.ID, dir.MasterAccountID))
	default:
		r.add(p, fmt.Sprintf("enable sharing with the Resource Directory %s, which folder and directory shares need", dir.ID), func(ctx context.Context) error {
			return call(ctx, "EnableSharingWithResourceDirectory", []string{"*"}, func(ctx context.Context) error { return c.EnableSharingWithDirectory(ctx) })
		})
	}
	return nil
}

func (r *Runner) planQueues(ctx context.Context, p *Plan) error {
	d, c := r.D, r.Cloud
	for _, spec := range d.Queues {
		arn := []string{d.QueueARN(spec.Name)}
		var q Queue
		err := call(ctx, "GetQueueAttributes", arn, func(ctx context.Context) (err error) { q, err = c.GetQueue(ctx, spec.Name); return err })
		switch {
		case NotFound(err):
			want := Queue{Name: spec.Name, Attrs: spec.Attrs, Tags: map[string]string{TagKey: TagValue}}
			r.add(p, fmt.Sprintf("create queue %s for %s: VisibilityTimeout %ds (%s), MessageRetentionPeriod %ds, MaximumMessageSize %d bytes, DelaySeconds 0, tag %s=%s",
				spec.Name, spec.Purpose, spec.Attrs.VisibilityTimeout, spec.Why, spec.Attrs.MessageRetentionPeriod, spec.Attrs.MaximumMessageSize, TagKey, TagValue),
				func(ctx context.Context) error {
					return call(ctx, "CreateQueue", arn, func(ctx context.Context) error { return c.CreateQueue(ctx, want) })
				})
			continue
		case err != nil:
			return err
		}
		want := wantQueue(spec, q.Attrs)
		diff := attrDiff(q.Attrs, want)
		switch {
		case len(diff) == 0:
		case !ownedTags(q.Tags):
			p.Notes = append(p.Notes, fmt.Sprintf("queue %s was not made by imageshare setup (no tag %s=%s): left as it is, though it needs %s",
				spec.Name, TagKey, TagValue, strings.Join(diff, ", ")))
		default:
			r.add(p, fmt.Sprintf("set attributes of queue %s: %s", spec.Name, strings.Join(diff, ", ")), func(ctx context.Context) error {
				return call(ctx, "SetQueueAttributes", arn, func(ctx context.Context) error { return c.SetQueueAttributes(ctx, spec.Name, want) })
			})
		}
	}
	return nil
}

func (r *Runner) planTopic(ctx context.Context, p *Plan) error {
	d, c := r.D, r.Cloud
	if d.Topic == "" {
		return nil
	}
	arn := []string{d.TopicARN(d.Topic)}
	var t Topic
	err := call(ctx, "GetTopicAttributes", arn, func(ctx context.Context) (err error) { t, err = c.GetTopic(ctx, d.Topic); return err })
	switch {
	case NotFound(err):
		want := Topic{Name: d.Topic, MaxMessageSize: MaxMessageSize, Tags: map[string]string{TagKey: TagValue}}
		r.add(p, fmt.Sprintf("create topic %s for notifications: MaxMessageSize %d bytes, tag %s=%s", d.Topic, MaxMessageSize, TagKey, TagValue),
			func(ctx context.Context) error {
				return call(ctx, "CreateTopic", arn, func(ctx context.Context) error { return c.CreateTopic(ctx, want) })
			})
	case err != nil:
		return err
	case t.MaxMessageSize == MaxMessageSize:
	case !ownedTags(t.Tags):
		p.Notes = append(p.Notes, fmt.Sprintf("topic %s was not made by imageshare setup: left as it is, though its MaxMessageSize is %d, not %d", d.Topic, t.MaxMessageSize, MaxMessageSize))
	default:
		r.add(p, fmt.Sprintf("set attributes of topic %s: MaxMessageSize %d → %d", d.Topic, t.MaxMessageSize, MaxMessageSize), func(ctx context.Context) error {
			return call(ctx, "SetTopicAttributes", arn, func(ctx context.Context) error { return c.SetTopicAttributes(ctx, d.Topic, MaxMessageSize) })
		})
	}
	return nil
}

// roleDescription and policyDescription carry ManagedMark.
func (r *Runner) roleDescription() string {
	return "The RAM role of the imageshare functions (" + ManagedMark + "; its trust policy and attachments are reset by it)"
}

func (r *Runner) policyDescription() string {
	return "What the imageshare functions may do: imageshare policy for this deployment (" + ManagedMark + ")"
}

func (r *Runner) planRole(ctx context.Context, p *Plan) error {
	d, c := r.D, r.Cloud
	roleARN, policyARN := []string{d.RoleARN(d.Role)}, []string{d.PolicyARN(d.PolicyName)}
	var role Role
	err := call(ctx, "GetRole", roleARN, func(ctx context.Context) (err error) { role, err = c.GetRole(ctx, d.Role); return err })
	roleMissing := NotFound(err)
	if err != nil && !roleMissing {
		return err
	}
	roleOwned := roleMissing || owned(role.Description)
	switch {
	case roleMissing:
		r.add(p, fmt.Sprintf("create role %s, which Function Compute (%s) may assume", d.Role, FCPrincipal), func(ctx context.Context) error {
			return call(ctx, "CreateRole", roleARN, func(ctx context.Context) error { return c.CreateRole(ctx, d.Role, TrustPolicy, r.roleDescription()) })
		})
	case !roleOwned:
		p.Notes = append(p.Notes, fmt.Sprintf("role %s was not made by imageshare setup (its description lacks %q): its trust policy and policies are left as they are (doctor checks them)", d.Role, ManagedMark))
	case !SamePattern(role.Trust, TrustPolicy):
		r.add(p, fmt.Sprintf("reset the trust policy of role %s to trust Function Compute (%s) alone", d.Role, FCPrincipal), func(ctx context.Context) error {
			return call(ctx, "UpdateRole", roleARN, func(ctx context.Context) error { return c.UpdateRoleTrust(ctx, d.Role, TrustPolicy) })
		})
	}

	doc := string(d.Policy.JSON())
	var pol Policy
	err = call(ctx, "GetPolicy", policyARN, func(ctx context.Context) (err error) { pol, err = c.GetPolicy(ctx, Custom(d.PolicyName)); return err })
	policyMissing := NotFound(err)
	if err != nil && !policyMissing {
		return err
	}
	policyOwned := policyMissing || owned(pol.Description)
	switch {
	case policyMissing:
		r.add(p, fmt.Sprintf("create policy %s: the policy imageshare policy prints for account %s, region %s and these settings", d.PolicyName, d.Account, d.Region),
			func(ctx context.Context) error {
				return call(ctx, "CreatePolicy", policyARN, func(ctx context.Context) error { return c.CreatePolicy(ctx, d.PolicyName, doc, r.policyDescription()) })
			})
	case !policyOwned:
		p.Notes = append(p.Notes, fmt.Sprintf("policy %s was not made by imageshare setup (its description lacks %q): left as it is (doctor compares it)", d.PolicyName, ManagedMark))
	default:
		missing, extra, err := PolicyDiff(doc, pol.Document)
		if err == nil && len(missing) == 0 && len(extra) == 0 {
			break
		}
		var versions []PolicyVersion
		if err := call(ctx, "ListPolicyVersions", policyARN, func(ctx context.Context) (err error) {
			versions, err = c.ListPolicyVersions(ctx, d.PolicyName)
			return err
		}); err != nil {
			return err
		}
		// RAM keeps five versions: make room for the new one by deleting the oldest
		// versions that are not the default.
		slices.SortFunc(versions, func(a, b PolicyVersion) int { return versionNumber(a.ID) - versionNumber(b.ID) })
		for _, v := range slices.Clone(versions) {
			if len(versions) < 5 {
				break
			}
			if v.IsDefault {
				continue
			}
			v := v
			r.add(p, fmt.Sprintf("delete version %s of policy %s, the oldest that is not the default (RAM keeps five)", v.ID, d.PolicyName), func(ctx context.Context) error {
				return call(ctx, "DeletePolicyVersion", policyARN, func(ctx context.Context) error { return c.DeletePolicyVersion(ctx, d.PolicyName, v.ID) })
			})
			versions = slices.DeleteFunc(versions, func(x PolicyVersion) bool { return x.ID == v.ID })
		}
		why := "its document cannot be compared"
		if err == nil {
			why = describeDiff(missing, extra)
		}
		r.add(p, fmt.Sprintf("add a version of policy %s and make it the default: %s", d.PolicyName, why), func(ctx context.Context) error {
			return call(ctx, "CreatePolicyVersion", policyARN, func(ctx context.Context) error { return c.CreatePolicyVersion(ctx, d.PolicyName, doc) })
		})
	}

	if !roleOwned || !policyOwned {
		return nil
	}
	attached := false
	if !roleMissing {
		var refs []PolicyRef
		if err := call(ctx, "ListPoliciesForRole", roleARN, func(ctx context.Context) (err error) { refs, err = c.ListPoliciesForRole(ctx, d.Role); return err }); err != nil {
			return err
		}
		attached = slices.Contains(refs, Custom(d.PolicyName))
	}
	if !attached {
		r.add(p, fmt.Sprintf("attach policy %s to role %s", d.PolicyName, d.Role), func(ctx context.Context) error {
			return call(ctx, "AttachPolicyToRole", append(roleARN, policyARN...), func(ctx context.Context) error {
				return c.AttachPolicyToRole(ctx, d.Role, Custom(d.PolicyName))
			})
		})
	}
	return nil
}

// versionNumber reads a policy version ID v<N>.
func versionNumber(id string) int {
	n, _ := strconv.Atoi(strings.TrimPrefix(id, "v"))
	return n
}

func describeDiff(missing, extra []string) string {
	var parts []string
	if len(missing) > 0 {
		parts = append(parts, "adds "+strings.Join(missing, "; "))
	}
	if len(extra) > 0 {
		parts = append(parts, "removes "+strings.Join(extra, "; "))
	}
	return strings.Join(parts, "; ")
}

// ruleOwner says who made a rule, for the reports.
func (r *Runner) ruleOwner(name string) string {
	if strings.HasPrefix(name, RulePrefix) {
		return "imageshare setup"
	}
	for _, s := range r.D.Rules {
		if name == s.FCName() {
			return "s deploy"
		}
	}
	return "someone else"
}

// covers reports whether rule delivers what spec asks: enabled, with s.yaml's
// pattern, to the trigger's function.
func covers(rule Rule, spec RuleSpec) bool {
	return rule.Enabled && SamePattern(rule.Pattern, spec.Pattern) && slices.ContainsFunc(rule.Targets, func(t Target) bool { return t.Invokes(spec.Function) })
}

func (r *Runner) planRules(ctx context.Context, p *Plan) error {
	d, c := r.D, r.Cloud
	if len(d.Rules) == 0 {
		return nil
	}
	slr := []string{d.RoleARN(SendToFCRole)}
	err := call(ctx, "GetRole", slr, func(ctx context.Context) error { _, err := c.GetRole(ctx, SendToFCRole); return err })
	switch {
	case NotFound(err):
		r.add(p, fmt.Sprintf("create EventBridge's service-linked role %s, with which EventBridge invokes the functions", SendToFCRole), func(ctx context.Context) error {
			return call(ctx, "CreateServiceLinkedRoleForProduct", []string{"*"}, func(ctx context.Context) error { return c.CreateServiceLinkedRole(ctx, SendToFCRole) })
		})
	case err != nil:
		return err
	}
	var rules []Rule
	if err := call(ctx, "ListRules", []string{"*"}, func(ctx context.Context) (err error) { rules, err = c.ListRules(ctx, Bus); return err }); err != nil {
		return err
	}
	byName := map[string]Rule{}
	for _, rule := range rules {
		byName[rule.Name] = rule
	}
	wanted := map[string]bool{}
	for _, spec := range d.Rules {
		name := spec.Name()
		wanted[name] = true
		arn := []string{d.RuleARN(name)}
		own, haveOwn := byName[name]
		var others []string
		for _, rule := range rules {
			if rule.Name != name && covers(rule, spec) {
				others = append(others, fmt.Sprintf("%s (made by %s)", rule.Name, r.ruleOwner(rule.Name)))
			}
		}
		trigger := spec.Function + "/" + spec.Trigger
		if len(others) > 0 {
			// Never two paths for one event: another rule delivers it already.
			if haveOwn {
				ids := targetIDs(own)
				r.add(p, fmt.Sprintf("delete rule %s: %s already delivers the events of trigger %s", name, strings.Join(others, ", "), trigger), func(ctx context.Context) error {
					if len(ids) > 0 {
						if err := call(ctx, "DeleteTargets", arn, func(ctx context.Context) error { return c.DeleteTargets(ctx, Bus, name, ids) }); err != nil {
							return err
						}
					}
					return call(ctx, "DeleteRule", arn, func(ctx context.Context) error { return c.DeleteRule(ctx, Bus, name) })
				})
			} else {
				p.Notes = append(p.Notes, fmt.Sprintf("trigger %s: %s delivers its events; left as it is", trigger, strings.Join(others, ", ")))
			}
			continue
		}
		if fc, ok := byName[spec.FCName()]; ok {
			p.Notes = append(p.Notes, fmt.Sprintf("rule %s (made by s deploy) does not deliver trigger %s's events as s.yaml says (%s); left as it is, and rule %s does",
				fc.Name, trigger, whyNot(fc, spec), name))
		}
		target := d.Target(spec)
		if !haveOwn {
			rule := Rule{Name: name, Pattern: spec.Pattern, Enabled: true, Targets: []Target{target},
				Description: "Trigger " + trigger + " of s.yaml (" + ManagedMark + ")"}
			r.add(p, fmt.Sprintf("create rule %s on bus %s: the pattern of trigger %s, target function %s (%s)", name, Bus, trigger, spec.Function, target.Endpoint),
				func(ctx context.Context) error {
					return call(ctx, "CreateRule", arn, func(ctx context.Context) error { return c.CreateRule(ctx, Bus, rule) })
				})
			continue
		}
		// ListRules shows targets in part: read setup's own rule whole.
		if err := call(ctx, "GetRule", arn, func(ctx context.Context) (err error) { own, err = c.GetRule(ctx, Bus, name); return err }); err != nil {
			return err
		}
		if !SamePattern(own.Pattern, spec.Pattern) {
			upd := Rule{Name: name, Pattern: spec.Pattern, Description: own.Description, Enabled: own.Enabled}
			r.add(p, fmt.Sprintf("set the pattern of rule %s to trigger %s's in s.yaml", name, trigger), func(ctx context.Context) error {
				return call(ctx, "UpdateRule", arn, func(ctx context.Context) error { return c.UpdateRule(ctx, Bus, upd) })
			})
		}
		i := slices.IndexFunc(own.Targets, func(t Target) bool { return t.ID == TargetID })
		if i < 0 || !own.Targets[i].Same(target) {
			r.add(p, fmt.Sprintf("put target %s on rule %s: function %s (%s)", TargetID, name, spec.Function, target.Endpoint), func(ctx context.Context) error {
				return call(ctx, "PutTargets", arn, func(ctx context.Context) error { return c.PutTargets(ctx, Bus, name, []Target{target}) })
			})
		}
		var stray []string
		for _, t := range own.Targets {
			if t.ID != TargetID {
				stray = append(stray, t.ID)
			}
		}
		if len(stray) > 0 {
			r.add(p, fmt.Sprintf("delete targets %s from rule %s (setup's rules deliver to their function only)", strings.Join(stray, ", "), name), func(ctx context.Context) error {
				return call(ctx, "DeleteTargets", arn, func(ctx context.Context) error { return c.DeleteTargets(ctx, Bus, name, stray) })
			})
		}
		if !own.Enabled {
			r.add(p, fmt.Sprintf("enable rule %s", name), func(ctx context.Context) error {
				return call(ctx, "EnableRule", arn, func(ctx context.Context) error { return c.EnableRule(ctx, Bus, name) })
			})
		}
	}
	// setup's own rules for triggers s.yaml no longer has.
	for _, name := range slices.Sorted(maps.Keys(byName)) {
		if !strings.HasPrefix(name, RulePrefix) || wanted[name] {
			continue
		}
		arn := []string{d.RuleARN(name)}
		ids := targetIDs(byName[name])
		r.add(p, fmt.Sprintf("delete rule %s: s.yaml has no such trigger any more", name), func(ctx context.Context) error {
			if len(ids) > 0 {
				if err := call(ctx, "DeleteTargets", arn, func(ctx context.Context) error { return c.DeleteTargets(ctx, Bus, name, ids) }); err != nil {
					return err
				}
			}
			return call(ctx, "DeleteRule", arn, func(ctx context.Context) error { return c.DeleteRule(ctx, Bus, name) })
		})
	}
	return nil
}

func targetIDs(r Rule) []string {
	var out []string
	for _, t := range r.Targets {
		out = append(out, t.ID)
	}
	return out
}

// whyNot says why rule does not deliver spec's events.
func whyNot(rule Rule, spec RuleSpec) string {
	var out []string
	if !rule.Enabled {
		out = append(out, "disabled")
	}
	if !SamePattern(rule.Pattern, spec.Pattern) {
		out = append(out, "another pattern")
	}
	if !slices.ContainsFunc(rule.Targets, func(t Target) bool { return t.Invokes(spec.Function) }) {
		out = append(out, "no target invokes "+spec.Function)
	}
	return strings.Join(out, ", ")
}

// Apply makes the plan's changes in order, reporting each line before it is made. It
// stops at the first failure.
func (r *Runner) Apply(ctx context.Context, p *Plan, progress func(line string)) error {
	for _, c := range p.Changes {
		if progress != nil {
			progress(c.Line)
		}
		if err := c.do(ctx); err != nil {
			return fmt.Errorf("%s: %w", c.Line, err)
		}
	}
	return nil
}
