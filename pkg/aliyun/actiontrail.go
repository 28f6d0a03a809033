package aliyun

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/responses"
	"github.com/aliyun/alibaba-cloud-sdk-go/services/actiontrail"

	"imageshare/pkg/cloud"
)

// lookupEventsResponse is LookupEvents' answer with Events kept as raw JSON: the SDK's
// own response decodes them into maps and fails the whole page on one event that is not
// an object; the product reads each event itself and counts what it cannot use.
type lookupEventsResponse struct {
	*responses.BaseResponse
	RequestId string          `json:"RequestId"`
	NextToken string          `json:"NextToken"`
	Events    json.RawMessage `json:"Events"`
}

// trailTime is StartTime's and EndTime's documented format: YYYY-MM-DDThh:mm:ssZ, UTC
// (https://www.alibabacloud.com/help/en/actiontrail/developer-reference/api-actiontrail-2020-07-06-lookupevents).
const trailTime = "2006-01-02T15:04:05Z"

// LookupEvents reads one page of ActionTrail events of in.Region (RPC, Actiontrail
// 2020-07-06, at actiontrail.<region>.aliyuncs.com).
func (c *Client) LookupEvents(ctx context.Context, in cloud.LookupEventsInput) (cloud.EventPage, error) {
	if len(in.Attributes) > cloud.MaxLookupAttributes {
		return cloud.EventPage{}, fmt.Errorf("LookupEvents: %d lookup attributes, at most %d", len(in.Attributes), cloud.MaxLookupAttributes)
	}
	req := actiontrail.CreateLookupEventsRequest()
	req.StartTime = in.Start.UTC().Format(trailTime)
	req.EndTime = in.End.UTC().Format(trailTime)
	if in.MaxResults > 0 {
		req.MaxResults = strconv.Itoa(min(in.MaxResults, cloud.MaxEventPage))
	}
	req.NextToken = in.NextToken
	attrs := make([]actiontrail.LookupEventsLookupAttribute, len(in.Attributes))
	for i, a := range in.Attributes {
		attrs[i] = actiontrail.LookupEventsLookupAttribute{Key: a.Key, Value: a.Value}
	}
	if len(attrs) > 0 {
		req.LookupAttribute = &attrs
	}
	resp := &lookupEventsResponse{BaseResponse: &responses.BaseResponse{}}
	if err := c.send(ctx, req.RpcRequest, "actiontrail", in.Region, "LookupEvents", func() error {
		return c.at.DoAction(req, resp)
	}); err != nil {
		return cloud.EventPage{}, err
	}
	out := cloud.EventPage{NextToken: resp.NextToken, RequestID: resp.RequestId}
	if len(resp.Events) == 0 || string(resp.Events) == "null" {
		return out, nil
	}
	var items []json.RawMessage
	if err := json.Unmarshal(resp.Events, &items); err != nil {
		return cloud.EventPage{}, fmt.Errorf("LookupEvents (request %s): Events is not a list", resp.RequestId)
	}
	for _, it := range items {
		var probe map[string]json.RawMessage
		if json.Unmarshal(it, &probe) != nil {
			out.Malformed++
			continue
		}
		out.Events = append(out.Events, it)
	}
	return out, nil
}
