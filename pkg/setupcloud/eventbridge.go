package setupcloud

import (
	"context"
	"slices"

	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/requests"
	"github.com/aliyun/alibaba-cloud-sdk-go/services/eventbridge"

	"imageshare/pkg/cloud"
	"imageshare/pkg/setup"
)

// ListRules implements setup.Cloud: every rule of the bus with its targets, all pages.
func (c *Client) ListRules(ctx context.Context, bus string) ([]setup.Rule, error) {
	var out []setup.Rule
	token := ""
	for page := 0; page < 100; page++ {
		req := eventbridge.CreateListRulesRequest()
		req.EventBusName, req.NextToken = bus, token
		req.Limit = requests.NewInteger(100)
		var resp *eventbridge.ListRulesResponse
		if err := c.send(ctx, req.RpcRequest, "eventbridge", "ListRules", func() (err error) { resp, err = c.eb.ListRules(req); return err }); err != nil {
			return nil, err
		}
		if err := bodyFailure("ListRules", resp, resp.Success, resp.Code, resp.Message, resp.RequestId); err != nil {
			return nil, err
		}
		for _, r := range resp.Data.Rules {
			rule := setup.Rule{Name: r.RuleName, Description: r.Description, Pattern: r.FilterPattern, Enabled: r.Status == "ENABLE"}
			for _, t := range r.Targets {
				rule.Targets = append(rule.Targets, target(t))
			}
			out = append(out, rule)
		}
		if token = resp.Data.NextToken; token == "" {
			break
		}
	}
	return out, nil
}

// GetRule implements setup.Cloud.
func (c *Client) GetRule(ctx context.Context, bus, name string) (setup.Rule, error) {
	req := eventbridge.CreateGetRuleRequest()
	req.EventBusName, req.RuleName = bus, name
	var resp *eventbridge.GetRuleResponse
	if err := c.send(ctx, req.RpcRequest, "eventbridge", "GetRule", func() (err error) { resp, err = c.eb.GetRule(req); return err }); err != nil {
		return setup.Rule{}, err
	}
	if err := bodyFailure("GetRule", resp, resp.Success, resp.Code, resp.Message, resp.RequestId); err != nil {
		return setup.Rule{}, err
	}
	d := resp.Data
	rule := setup.Rule{Name: d.RuleName, Description: d.Description, Pattern: d.FilterPattern, Enabled: d.Status == "ENABLE"}
	for _, t := range d.Targets {
		rule.Targets = append(rule.Targets, target(t))
	}
	return rule, nil
}

func target(t eventbridge.TargetsItem) setup.Target {
	out := setup.Target{ID: t.Id, Type: t.Type, Endpoint: t.Endpoint, RetryStrategy: t.PushRetryStrategy,
		ErrorsTolerance: t.ErrorsTolerance, DeadLetterArn: t.DeadLetterQueue.Arn}
	for _, p := range t.ParamList {
		out.Params = append(out.Params, setup.TargetParam{Key: p.ResourceKey, Form: p.Form, Value: p.Value})
	}
	return out
}

// CreateRule implements setup.Cloud: the rule with its targets (EventTargets).
func (c *Client) CreateRule(ctx context.Context, bus string, r setup.Rule) error {
	req := eventbridge.CreateCreateRuleRequest()
	req.EventBusName, req.RuleName, req.Description, req.FilterPattern = bus, r.Name, r.Description, r.Pattern
	req.Status = status(r.Enabled)
	var ts []eventbridge.CreateRuleEventTargets
	for _, t := range r.Targets {
		params := make([]eventbridge.CreateRuleEventTargetsParamListItem, 0, len(t.Params))
		for _, p := range t.Params {
			params = append(params, eventbridge.CreateRuleEventTargetsParamListItem{ResourceKey: p.Key, Form: p.Form, Value: p.Value})
		}
		ts = append(ts, eventbridge.CreateRuleEventTargets{Id: t.ID, Type: t.Type, Endpoint: t.Endpoint, PushRetryStrategy: t.RetryStrategy,
			ErrorsTolerance: t.ErrorsTolerance, ParamList: &params, DeadLetterQueue: eventbridge.CreateRuleEventTargetsDeadLetterQueue{Arn: t.DeadLetterArn}})
	}
	req.EventTargets = &ts
	var resp *eventbridge.CreateRuleResponse
	if err := c.send(ctx, req.RpcRequest, "eventbridge", "CreateRule", func() (err error) { resp, err = c.eb.CreateRule(req); return err }); err != nil {
		return err
	}
	return bodyFailure("CreateRule", resp, resp.Success, resp.Code, resp.Message, resp.RequestId)
}

func status(enabled bool) string {
	if enabled {
		return "ENABLE"
	}
	return "DISABLE"
}

// UpdateRule implements setup.Cloud: the pattern, description and status.
func (c *Client) UpdateRule(ctx context.Context, bus string, r setup.Rule) error {
	req := eventbridge.CreateUpdateRuleRequest()
	req.EventBusName, req.RuleName, req.Description, req.FilterPattern, req.Status = bus, r.Name, r.Description, r.Pattern, status(r.Enabled)
	var resp *eventbridge.UpdateRuleResponse
	if err := c.send(ctx, req.RpcRequest, "eventbridge", "UpdateRule", func() (err error) { resp, err = c.eb.UpdateRule(req); return err }); err != nil {
		return err
	}
	return bodyFailure("UpdateRule", resp, resp.Success, resp.Code, resp.Message, resp.RequestId)
}

// EnableRule implements setup.Cloud.
func (c *Client) EnableRule(ctx context.Context, bus, name string) error {
	req := eventbridge.CreateEnableRuleRequest()
	req.EventBusName, req.RuleName = bus, name
	var resp *eventbridge.EnableRuleResponse
	if err := c.send(ctx, req.RpcRequest, "eventbridge", "EnableRule", func() (err error) { resp, err = c.eb.EnableRule(req); return err }); err != nil {
		return err
	}
	return bodyFailure("EnableRule", resp, resp.Success, resp.Code, resp.Message, resp.RequestId)
}

// PutTargets implements setup.Cloud; targets the service reports as failed are an error.
func (c *Client) PutTargets(ctx context.Context, bus, rule string, ts []setup.Target) error {
	req := eventbridge.CreatePutTargetsRequest()
	req.EventBusName, req.RuleName = bus, rule
	var targets []eventbridge.PutTargetsTargets
	for _, t := range ts {
		params := make([]eventbridge.PutTargetsTargetsParamListItem, 0, len(t.Params))
		for _, p := range t.Params {
			params = append(params, eventbridge.PutTargetsTargetsParamListItem{ResourceKey: p.Key, Form: p.Form, Value: p.Value})
		}
		targets = append(targets, eventbridge.PutTargetsTargets{Id: t.ID, Type: t.Type, Endpoint: t.Endpoint, PushRetryStrategy: t.RetryStrategy,
			ErrorsTolerance: t.ErrorsTolerance, ParamList: &params, DeadLetterQueue: eventbridge.PutTargetsTargetsDeadLetterQueue{Arn: t.DeadLetterArn}})
	}
	req.Targets = &targets
	var resp *eventbridge.PutTargetsResponse
	if err := c.send(ctx, req.RpcRequest, "eventbridge", "PutTargets", func() (err error) { resp, err = c.eb.PutTargets(req); return err }); err != nil {
		return err
	}
	if err := bodyFailure("PutTargets", resp, resp.Success, resp.Code, resp.Message, resp.RequestId); err != nil {
		return err
	}
	return entryFailure("PutTargets", resp.Data.ErrorEntries, resp.RequestId)
}

func entryFailure(action string, entries []eventbridge.ErrorEntriesItem, reqID string) error {
	for _, e := range entries {
		if e.ErrorCode != "" {
			return &cloud.Error{Action: action, Code: e.ErrorCode, Message: "target " + e.EntryId + ": " + e.ErrorMessage, RequestID: reqID, HTTPStatus: 200}
		}
	}
	return nil
}

// DeleteTargets implements setup.Cloud.
func (c *Client) DeleteTargets(ctx context.Context, bus, rule string, ids []string) error {
	req := eventbridge.CreateDeleteTargetsRequest()
	req.EventBusName, req.RuleName = bus, rule
	ids = slices.Clone(ids)
	req.TargetIds = &ids
	var resp *eventbridge.DeleteTargetsResponse
	if err := c.send(ctx, req.RpcRequest, "eventbridge", "DeleteTargets", func() (err error) { resp, err = c.eb.DeleteTargets(req); return err }); err != nil {
		return err
	}
	if err := bodyFailure("DeleteTargets", resp, resp.Success, resp.Code, resp.Message, resp.RequestId); err != nil {
		return err
	}
	return entryFailure("DeleteTargets", resp.Data.ErrorEntries, resp.RequestId)
}

// DeleteRule implements setup.Cloud.
func (c *Client) DeleteRule(ctx context.Context, bus, name string) error {
	req := eventbridge.CreateDeleteRuleRequest()
	req.EventBusName, req.RuleName = bus, name
	var resp *eventbridge.DeleteRuleResponse
	if err := c.send(ctx, req.RpcRequest, "eventbridge", "DeleteRule", func() (err error) { resp, err = c.eb.DeleteRule(req); return err }); err != nil {
		return err
	}
	return bodyFailure("DeleteRule", resp, resp.Success, resp.Code, resp.Message, resp.RequestId)
}

// CreateServiceLinkedRole implements setup.Cloud.
func (c *Client) CreateServiceLinkedRole(ctx context.Context, product string) error {
	req := eventbridge.CreateCreateServiceLinkedRoleForProductRequest()
	req.ProductName = product
	var resp *eventbridge.CreateServiceLinkedRoleForProductResponse
	if err := c.send(ctx, req.RpcRequest, "eventbridge", "CreateServiceLinkedRoleForProduct", func() (err error) {
		resp, err = c.eb.CreateServiceLinkedRoleForProduct(req)
		return err
	}); err != nil {
		return err
	}
	return bodyFailure("CreateServiceLinkedRoleForProduct", resp, resp.Success, resp.Code, resp.Message, resp.RequestId)
}
