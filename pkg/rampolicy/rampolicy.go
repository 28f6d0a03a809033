// Package rampolicy builds the least-privilege RAM policy of the functions' role for a
// deployment, from its settings: the one source of deploy/ram-policy.json
// (`imageshare policy` prints it) and of the role the sandbox gives the functions.
//
// It is the product's reading of Alibaba Cloud's RAM references, kept apart from the
// emulated cloud's own reading (package cloudsim/ram): the sandbox evaluates this policy
// with that one, so a mismatch between them fails a scenario.
package rampolicy

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"

	"imageshare/pkg/settings"
)

// Placeholders stand for the account and the region in deploy/ram-policy.json; the
// deployer replaces them, or runs `imageshare policy --account ID --region R`.
const (
	AccountPlaceholder = "ACCOUNT_ID"
	RegionPlaceholder  = "REGION_ID"
)

// Deployment is what the policy depends on.
type Deployment struct {
	Account string // the account the functions run in (16 digits, or AccountPlaceholder)
	Region  string // the functions' region (or RegionPlaceholder)
	// Regions are the further regions the sweep covers (setting REGIONS).
	Regions     []string
	JobQueue    string // setting JOB_QUEUE
	NotifyTopic string // setting NOTIFY_TOPIC ("" : no notifications)
	// OrgPoll: org-events looks directory changes up in ActionTrail (setting ORG_POLL
	// not 0).
	OrgPoll bool
}

// Defaults is the deployment of deploy/ram-policy.json: placeholders for the account
// and region, and the settings' defaults.
func Defaults() Deployment {
	return Deployment{Account: AccountPlaceholder, Region: RegionPlaceholder, JobQueue: "imageshare-jobs", OrgPoll: true}
}

// Document is a RAM policy document.
type Document struct {
	Version   string      `json:"Version"`
	Statement []Statement `json:"Statement"`
}

// Statement is one statement; Action and Resource are always lists.
type Statement struct {
	Sid      string   `json:"Sid"`
	Effect   string   `json:"Effect"`
	Action   []string `json:"Action"`
	Resource []string `json:"Resource"`
}

var (
	accountRE = regexp.MustCompile(`^[0-9]{16}$`)
	regionRE  = regexp.MustCompile(`^[a-z]{2,}(-[a-z0-9]+)+$`)
	mnsNameRE = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9-]{0,119}$`)
)

// Check refuses a deployment the policy cannot be built for, naming the value.
func (d Deployment) Check() error {
	if d.Account != AccountPlaceholder && !accountRE.MatchString(d.Account) {
		return fmt.Errorf("account %q is not a 16-digit account ID", d.Account)
	}
	for _, r := range append([]string{d.Region}, d.Regions...) {
		if r != RegionPlaceholder && !regionRE.MatchString(r) {
			return fmt.Errorf("region %q is not a region ID such as cn-hangzhou", r)
		}
	}
	if !mnsNameRE.MatchString(d.JobQueue) {
		return fmt.Errorf("job queue %q is not an MNS queue name (a letter, then letters, digits and hyphens, at most 120)", d.JobQueue)
	}
	if d.NotifyTopic != "" && !mnsNameRE.MatchString(d.NotifyTopic) {
		return fmt.Errorf("notify topic %q is not an MNS topic name (a letter, then letters, digits and hyphens, at most 120)", d.NotifyTopic)
	}
	return nil
}

// Build returns the policy: every action the functions call, each on the narrowest
// resource its reference documents.
//
//   - ECS share-list reads, shares and copies on the account's images in the function's
//     region and the regions the sweep covers (ECS documents resource-level Image ARNs
//     for them; CopyImage is checked on the source image's region).
//   - DescribeImages, TagResources and UntagResources on the account's images in every
//     region: the copies of images (docs/regions.md) go to regions tags name, which are
//     not known when the policy is made.
//   - Resource Directory reads on "*": GetResourceDirectory and ListAncestors are "All
//     Resources" and the directory's ARNs name the management account, which is not the
//     deployment's own for a delegated administrator.
//   - Resource Sharing on "*": the reference lists every Resource Sharing action as "All
//     Resources"; a narrower Resource would make the statement ineffective.
//   - MNS: BatchSendMessage on the job queue's messages (the queue client sends in
//     batches), PublishMessage on the notification topic's messages when there is one.
//   - ActionTrail LookupEvents on "*" when the organization poll is on: its reference
//     lists it as "All Resources".
//     batches) in every region, since a copy's job goes to the queue of the deployment
//     of the copy's region; PublishMessage on the notification topic's messages when
//     there is one.
func Build(d Deployment) (Document, error) {
	if err := d.Check(); err != nil {
		return Document{}, err
	}
	var images []string
	for _, r := range append([]string{d.Region}, d.Regions...) {
		arn := "acs:ecs:" + r + ":" + d.Account + ":image/*"
		if !slices.Contains(images, arn) {
			images = append(images, arn)
		}
	}
	everyRegion := []string{"acs:ecs:*:" + d.Account + ":image/*"}
	doc := Document{Version: "1", Statement: []Statement{
		{Sid: "FindOwnImagesAndTheirCopiesInEveryRegion", Effect: "Allow",
			Action:   []string{"ecs:DescribeImages"},
			Resource: everyRegion},
		{Sid: "ReadOwnImagesAndTheirShares", Effect: "Allow",
			Action:   []string{"ecs:DescribeImageSharePermission"},
			Resource: images},
		{Sid: "ShareOwnImagesAndRecordRetainedSharesInTags", Effect: "Allow",
			Action:   []string{"ecs:ModifyImageSharePermission"},
			Resource: images},
		{Sid: "CopyOwnImagesToOtherRegions", Effect: "Allow",
			Action:   []string{"ecs:CopyImage"},
			Resource: images},
		{Sid: "TagOwnImagesAndTheirCopiesInEveryRegion", Effect: "Allow",
			Action:   []string{"ecs:TagResources", "ecs:UntagResources"},
			Resource: everyRegion},
		{Sid: "ReadTheResourceDirectory", Effect: "Allow",
			Action: []string{"resourcemanager:GetResourceDirectory", "resourcemanager:GetAccount", "resourcemanager:ListAccounts",
				"resourcemanager:ListAncestors", "resourcemanager:ListHandshakesForResourceDirectory"},
			Resource: []string{"*"}},
		{Sid: "ManageResourceSharesAllResourcesOnly", Effect: "Allow",
			Action: []string{"resourcesharing:ListResourceShares", "resourcesharing:ListResourceShareAssociations",
				"resourcesharing:CreateResourceShare", "resourcesharing:AssociateResourceShare", "resourcesharing:DisassociateResourceShare",
				"resourcesharing:UpdateResourceShare", "resourcesharing:DeleteResourceShare"},
			Resource: []string{"*"}},
		{Sid: "EnqueueJobs", Effect: "Allow",
			Action:   []string{"mns:BatchSendMessage"},
			Resource: []string{"acs:mns:*:" + d.Account + ":/queues/" + d.JobQueue + "/messages"}},
	}}
	if d.NotifyTopic != "" {
		doc.Statement = append(doc.Statement, Statement{Sid: "PublishNotifications", Effect: "Allow",
			Action:   []string{"mns:PublishMessage"},
			Resource: []string{"acs:mns:" + d.Region + ":" + d.Account + ":/topics/" + d.NotifyTopic + "/messages"}})
	}
	if d.OrgPoll {
		doc.Statement = append(doc.Statement, Statement{Sid: "LookUpDirectoryChangesAllResourcesOnly", Effect: "Allow",
			Action: []string{"actiontrail:LookupEvents"}, Resource: []string{"*"}})
	}
	return doc, nil
}

// JSON renders a document as deploy/ram-policy.json holds it: two-space indents, one
// action or resource a line, a final newline.
func (doc Document) JSON() []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(doc); err != nil {
		panic("rampolicy: encode: " + err.Error()) // strings only: cannot fail
	}
	return buf.Bytes()
}

// Render is Build then JSON.
func Render(d Deployment) ([]byte, error) {
	doc, err := Build(d)
	if err != nil {
		return nil, err
	}
	return doc.JSON(), nil
}

// ErrEmpty is returned by Without when nothing would be left.
var ErrEmpty = errors.New("rampolicy: no statement left")

// Without returns a copy of doc without the statement sid (action "") or without one
// action of it (a statement left empty is dropped). Tests use it to show that each part
// of the policy is needed.
func (doc Document) Without(sid, action string) (Document, error) {
	out := Document{Version: doc.Version}
	found := false
	for _, s := range doc.Statement {
		if s.Sid != sid {
			out.Statement = append(out.Statement, s)
			continue
		}
		found = true
		if action == "" {
			continue
		}
		if !slices.Contains(s.Action, action) {
			return Document{}, fmt.Errorf("rampolicy: statement %s has no action %s", sid, action)
		}
		s.Action = slices.DeleteFunc(slices.Clone(s.Action), func(a string) bool { return a == action })
		if len(s.Action) > 0 {
			out.Statement = append(out.Statement, s)
		}
	}
	if !found {
		return Document{}, fmt.Errorf("rampolicy: no statement %s", sid)
	}
	if len(out.Statement) == 0 {
		return Document{}, ErrEmpty
	}
	return out, nil
}

// ForSettings is the deployment of functions running in account and region with
// settings s.
func ForSettings(account, region string, s settings.Settings) Deployment {
	var extra []string
	for _, r := range s.Regions {
		if r != region {
			extra = append(extra, r)
		}
	}
	return Deployment{Account: account, Region: region, Regions: extra, JobQueue: s.JobQueue, NotifyTopic: s.NotifyTopic, OrgPoll: s.OrgPoll > 0}
}
