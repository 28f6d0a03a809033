// Package conformance drives a running `imageshare emulator` (started by
// test/conformance/run with test/conformance/world.yaml) with the new-generation Alibaba
// Cloud Go SDK on its default settings, which sign with ACS3-HMAC-SHA256 (signature V3):
// the ECS client alibabacloud-go/ecs-20140526/v7, and for Resource Manager and Resource
// Sharing the same SDK core (darabonba-openapi/v2 CallApi), because their generated
// clients are not served by the module proxy this project can reach. It is a module of
// its own, so that the main module does not depend on this SDK.
//
// A failure is one line starting "CONFORMANCE FAIL", naming the client, the call and
// the answer.
package conformance

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"slices"
	"strings"
	"testing"

	openapi "github.com/alibabacloud-go/darabonba-openapi/v2/client"
	openapiutil "github.com/alibabacloud-go/darabonba-openapi/v2/utils"
	ecs "github.com/alibabacloud-go/ecs-20140526/v7/client"
	"github.com/alibabacloud-go/tea/dara"
	"github.com/alibabacloud-go/tea/tea"
)

// The world of test/conformance/world.yaml this client owns.
const (
	region    = "cn-hangzhou"
	owner     = "1000000000000001"
	directory = "rd-Conf01"
	root      = "r-Conf01"
	prod      = "fd-Prod000001"
	member    = "1000000000000002" // in prod
	imgAvail  = "m-GoAvail00001"   // Available, shared with member, in share conf-go
	imgUnavl  = "m-GoUnavail0001"  // UnAvailable
	imgShare  = "m-GoShare00001"   // Available, no shares
	imgExtra  = "m-GoExtra00001"   // Available, no shares
	imgFull   = "m-GoFull000001"   // 50 direct shares: the quota
	shareName = "conf-go"
)

func outside(i int) string { return fmt.Sprintf("20000000000000%02d", i) }

// emulator is what `imageshare emulator --json` printed.
type emulator struct {
	Region          string            `json:"region"`
	AccountID       string            `json:"account_id"`
	Endpoints       map[string]string `json:"endpoints"`
	AccessKeyID     string            `json:"access_key_id"`
	AccessKeySecret string            `json:"access_key_secret"`
	FunctionRole    struct {
		AccessKeyID     string `json:"access_key_id"`
		AccessKeySecret string `json:"access_key_secret"`
		SecurityToken   string `json:"security_token"`
	} `json:"function_role"`
}

func load(t *testing.T) emulator {
	t.Helper()
	path := os.Getenv("IMAGESHARE_EMULATOR")
	if path == "" {
		t.Skip("IMAGESHARE_EMULATOR is not set: these tests need a running `imageshare emulator --json`; run test/conformance/run")
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("CONFORMANCE FAIL setup: reading %s: %v", path, err)
	}
	var e emulator
	if err := json.Unmarshal(b, &e); err != nil {
		t.Fatalf("CONFORMANCE FAIL setup: %s is not the emulator's JSON: %v", path, err)
	}
	if e.Region != region || e.AccountID != owner {
		t.Fatalf("CONFORMANCE FAIL setup: the emulator serves %s/%s, not test/conformance/world.yaml", e.Region, e.AccountID)
	}
	return e
}

const client = "alibabacloud-go (default: V3 ACS3-HMAC-SHA256)"

// fail reports one failure on one line.
func fail(t *testing.T, call, format string, args ...any) {
	t.Helper()
	msg := strings.Join(strings.Fields(fmt.Sprintf(format, args...)), " ")
	t.Errorf("CONFORMANCE FAIL %s %s: %s", client, call, msg)
}

// config is the SDK's configuration with nothing but credentials, region and where
// the emulator listens: the signature algorithm is the SDK's default.
func config(endpoint, ak, secret, token string) *openapi.Config {
	u, _ := url.Parse(endpoint)
	c := &openapi.Config{AccessKeyId: tea.String(ak), AccessKeySecret: tea.String(secret), RegionId: tea.String(region),
		Endpoint: tea.String(u.Host), Protocol: tea.String("http")}
	if token != "" {
		c.SecurityToken = tea.String(token)
	}
	return c
}

func ecsClient(t *testing.T, e emulator, secret string) *ecs.Client {
	t.Helper()
	c, err := ecs.NewClient(config(e.Endpoints["ecs"], e.AccessKeyID, secret, ""))
	if err != nil {
		t.Fatalf("CONFORMANCE FAIL %s ecs.NewClient: %v", client, err)
	}
	if c.SignatureAlgorithm != nil {
		t.Fatalf("CONFORMANCE FAIL %s setup: the client does not use its default signature algorithm", client)
	}
	return c
}

// code returns the error code and HTTP status of an SDK error ("" and 0 for nil).
func code(err error) (string, int) {
	if err == nil {
		return "", 0
	}
	var se *tea.SDKError
	if errors.As(err, &se) {
		return tea.StringValue(se.Code), tea.IntValue(se.StatusCode)
	}
	return "not an SDK error: " + err.Error(), 0
}

func TestECS(t *testing.T) {
	e := load(t)
	c := ecsClient(t, e, e.AccessKeySecret)

	images := func(call string, req *ecs.DescribeImagesRequest) map[string]*ecs.DescribeImagesResponseBodyImagesImage {
		req.RegionId, req.ImageOwnerAlias, req.PageSize = tea.String(region), tea.String("self"), tea.Int32(100)
		resp, err := c.DescribeImages(req)
		if err != nil {
			fail(t, "ecs:"+call, "%v", err)
			return nil
		}
		out := map[string]*ecs.DescribeImagesResponseBodyImagesImage{}
		for _, im := range resp.Body.Images.Image {
			out[tea.StringValue(im.ImageId)] = im
		}
		return out
	}
	// Without Status only Available images; with it, those statuses.
	got := images("DescribeImages (no Status)", &ecs.DescribeImagesRequest{})
	if got[imgAvail] == nil || got[imgUnavl] != nil {
		fail(t, "ecs:DescribeImages (no Status)", "want %s and not %s, got %v", imgAvail, imgUnavl, keys(got))
	}
	got = images("DescribeImages Status=Available,UnAvailable", &ecs.DescribeImagesRequest{Status: tea.String("Available,UnAvailable")})
	if got[imgAvail] == nil || got[imgUnavl] == nil || tea.StringValue(got[imgUnavl].Status) != "UnAvailable" {
		fail(t, "ecs:DescribeImages Status=Available,UnAvailable", "want both images, got %v", keys(got))
	}
	if im := got[imgAvail]; im != nil && (im.Tags == nil || len(im.Tags.Tag) != 1 || tea.StringValue(im.Tags.Tag[0].TagKey) != "imageshare:accounts") {
		fail(t, "ecs:DescribeImages", "tags of %s: %v", imgAvail, im.Tags)
	}

	shared := func(image string) []string {
		resp, err := c.DescribeImageSharePermission(&ecs.DescribeImageSharePermissionRequest{RegionId: tea.String(region), ImageId: tea.String(image), PageSize: tea.Int32(100)})
		if err != nil {
			fail(t, "ecs:DescribeImageSharePermission "+image, "%v", err)
			return nil
		}
		var out []string
		for _, a := range resp.Body.Accounts.Account {
			out = append(out, tea.StringValue(a.AliyunId))
		}
		slices.Sort(out)
		return out
	}
	if got := shared(imgAvail); !slices.Equal(got, []string{member}) {
		fail(t, "ecs:DescribeImageSharePermission", "%s is shared with %v, want [%s]", imgAvail, got, member)
	}

	// Eleven accounts in one call: the first ten are shared, the eleventh is ignored.
	var eleven []*string
	for i := 51; i <= 61; i++ {
		eleven = append(eleven, tea.String(outside(i)))
	}
	if _, err := c.ModifyImageSharePermission(&ecs.ModifyImageSharePermissionRequest{RegionId: tea.String(region), ImageId: tea.String(imgShare), AddAccount: eleven}); err != nil {
		fail(t, "ecs:ModifyImageSharePermission (11 AddAccount)", "%v", err)
	}
	var ten []string
	for i := 51; i <= 60; i++ {
		ten = append(ten, outside(i))
	}
	if got := shared(imgShare); !slices.Equal(got, ten) {
		fail(t, "ecs:ModifyImageSharePermission (11 AddAccount)", "shared with %v, want the first ten %v (the 11th ignored)", got, ten)
	}
	if _, err := c.ModifyImageSharePermission(&ecs.ModifyImageSharePermissionRequest{RegionId: tea.String(region), ImageId: tea.String(imgShare),
		RemoveAccount: []*string{tea.String(outside(51)), tea.String(outside(52))}}); err != nil {
		fail(t, "ecs:ModifyImageSharePermission (RemoveAccount)", "%v", err)
	}
	if got := shared(imgShare); len(got) != 8 || slices.Contains(got, outside(51)) {
		fail(t, "ecs:ModifyImageSharePermission (RemoveAccount)", "shared with %v after removing %s and %s", got, outside(51), outside(52))
	}

	if _, err := c.TagResources(&ecs.TagResourcesRequest{RegionId: tea.String(region), ResourceType: tea.String("image"),
		ResourceId: []*string{tea.String(imgShare)}, Tag: []*ecs.TagResourcesRequestTag{{Key: tea.String("imageshare:mode"), Value: tea.String("additive")}}}); err != nil {
		fail(t, "ecs:TagResources", "%v", err)
	}
	got = images("DescribeImages ImageId", &ecs.DescribeImagesRequest{ImageId: tea.String(imgShare)})
	if im := got[imgShare]; im == nil || im.Tags == nil || len(im.Tags.Tag) != 1 || tea.StringValue(im.Tags.Tag[0].TagValue) != "additive" {
		fail(t, "ecs:TagResources", "the tag is not on %s: %v", imgShare, got)
	}

	// Documented errors.
	_, err := c.DescribeImageSharePermission(&ecs.DescribeImageSharePermissionRequest{RegionId: tea.String(region), ImageId: tea.String("m-Nope00000001")})
	if cd, st := code(err); cd != "InvalidImageId.NotFound" || st != 404 {
		fail(t, "ecs:DescribeImageSharePermission (no such image)", "answered %q %d, want InvalidImageId.NotFound 404", cd, st)
	}
	_, err = c.ModifyImageSharePermission(&ecs.ModifyImageSharePermissionRequest{RegionId: tea.String(region), ImageId: tea.String(imgFull), AddAccount: []*string{tea.String(outside(51))}})
	if cd, st := code(err); cd != "QuotaExceed.ShareImageUser" || st != 403 {
		fail(t, "ecs:ModifyImageSharePermission (51st account)", "answered %q %d, want QuotaExceed.ShareImageUser 403", cd, st)
	}
	_, err = ecsClient(t, e, "not-the-secret").DescribeImages(&ecs.DescribeImagesRequest{RegionId: tea.String(region)})
	if cd, st := code(err); cd != "SignatureDoesNotMatch" || st != 400 || !strings.Contains(err.Error(), "ACS3-HMAC-SHA256") {
		fail(t, "ecs:DescribeImages (wrong secret)", "answered %q %d (%v), want SignatureDoesNotMatch 400 on an ACS3-HMAC-SHA256 string to sign", cd, st, err)
	}

	// STS credentials (x-acs-security-token) of the functions' role.
	r := e.FunctionRole
	sts, err := ecs.NewClient(config(e.Endpoints["ecs"], r.AccessKeyID, r.AccessKeySecret, r.SecurityToken))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sts.DescribeImages(&ecs.DescribeImagesRequest{RegionId: tea.String(region), ImageId: tea.String(imgAvail)}); err != nil {
		fail(t, "ecs:DescribeImages (STS token)", "%v", err)
	}
}

// api is the SDK's generic call: exactly what its generated clients do, for the
// products whose generated client cannot be had.
type api struct {
	t       *testing.T
	c       *openapi.Client
	product string
	version string
}

func newAPI(t *testing.T, e emulator, product, version string) *api {
	t.Helper()
	c, err := openapi.NewClient(config(e.Endpoints[product], e.AccessKeyID, e.AccessKeySecret, ""))
	if err != nil {
		t.Fatalf("CONFORMANCE FAIL %s openapi.NewClient: %v", client, err)
	}
	return &api{t: t, c: c, product: product, version: version}
}

// call sends an RPC action with its parameters in the query (body: in a form body,
// as the SDK's formData requests carry them) and returns the response body.
func (a *api) call(action string, query, body map[string]any) (map[string]any, error) {
	params := &openapiutil.Params{Action: tea.String(action), Version: tea.String(a.version), Protocol: tea.String("HTTPS"),
		Pathname: tea.String("/"), Method: tea.String("POST"), AuthType: tea.String("AK"), Style: tea.String("RPC"),
		ReqBodyType: tea.String("formData"), BodyType: tea.String("json")}
	req := &openapiutil.OpenApiRequest{Query: openapiutil.Query(query)}
	if body != nil {
		req.Body = openapiutil.ParseToMap(body)
	}
	resp, err := a.c.CallApi(params, req, &dara.RuntimeOptions{})
	if err != nil {
		return nil, err
	}
	b, _ := resp["body"].(map[string]any)
	return b, nil
}

// must calls and reports a failure; the body is nil then.
func (a *api) must(action string, query, body map[string]any) map[string]any {
	a.t.Helper()
	b, err := a.call(action, query, body)
	if err != nil {
		fail(a.t, a.product+":"+action, "%v", err)
		return nil
	}
	return b
}

func TestResourceManager(t *testing.T) {
	e := load(t)
	rm := newAPI(t, e, "resourcemanager", "2020-03-31")
	if b := rm.must("GetResourceDirectory", nil, nil); b != nil {
		d, _ := b["ResourceDirectory"].(map[string]any)
		if d["ResourceDirectoryId"] != directory || d["RootFolderId"] != root || d["MasterAccountId"] != owner {
			fail(t, "resourcemanager:GetResourceDirectory", "answered %v", b)
		}
	}
	if b := rm.must("ListAccounts", map[string]any{"PageSize": 100}, nil); b != nil {
		var ids []string
		if acc, ok := b["Accounts"].(map[string]any); ok {
			list, _ := acc["Account"].([]any)
			for _, x := range list {
				m, _ := x.(map[string]any)
				ids = append(ids, fmt.Sprint(m["AccountId"]))
			}
		}
		slices.Sort(ids)
		if want := []string{owner, member, "1000000000000003", "1000000000000004"}; !slices.Equal(ids, want) {
			fail(t, "resourcemanager:ListAccounts", "members %v, want %v", ids, want)
		}
	}
	if b := rm.must("GetAccount", map[string]any{"AccountId": member}, nil); b != nil {
		acc, _ := b["Account"].(map[string]any)
		if acc["FolderId"] != prod || !strings.Contains(fmt.Sprint(acc["ResourceDirectoryPath"]), prod+"/"+member) {
			fail(t, "resourcemanager:GetAccount", "answered %v", b)
		}
	}
	_, err := rm.call("GetAccount", map[string]any{"AccountId": outside(1)}, nil)
	if cd, st := code(err); cd != "EntityNotExists.Account" || st != 404 {
		fail(t, "resourcemanager:GetAccount (not a member)", "answered %q %d, want EntityNotExists.Account 404", cd, st)
	}
}

func TestResourceSharing(t *testing.T) {
	e := load(t)
	rs := newAPI(t, e, "resourcesharing", "2020-01-10")
	shareID := func(b map[string]any) string {
		s, _ := b["ResourceShare"].(map[string]any)
		return fmt.Sprint(s["ResourceShareId"])
	}
	list := func(b map[string]any, field string) []map[string]any {
		var out []map[string]any
		xs, _ := b[field].([]any)
		for _, x := range xs {
			if m, ok := x.(map[string]any); ok {
				out = append(out, m)
			}
		}
		return out
	}

	// The hand-made share of the world.
	var premade string
	if b := rs.must("ListResourceShares", map[string]any{"RegionId": region, "ResourceOwner": "Self", "ResourceShareName": shareName}, nil); b != nil {
		shares := list(b, "ResourceShares")
		if len(shares) != 1 || shares[0]["ResourceShareStatus"] != "Active" {
			fail(t, "resourcesharing:ListResourceShares", "shares named %s: %v", shareName, shares)
		} else {
			premade = fmt.Sprint(shares[0]["ResourceShareId"])
		}
	}
	if premade == "" {
		t.FailNow()
	}
	if b := rs.must("ListResourceShareAssociations", map[string]any{"RegionId": region, "AssociationType": "Resource",
		"ResourceShareIds": []string{premade}}, nil); b != nil {
		as := list(b, "ResourceShareAssociations")
		if len(as) != 1 || as[0]["EntityId"] != imgAvail || as[0]["AssociationStatus"] != "Associated" {
			fail(t, "resourcesharing:ListResourceShareAssociations", "answered %v", as)
		}
	}

	// Create, update (parameters in a form body), associate, disassociate, delete.
	var created string
	if b := rs.must("CreateResourceShare", map[string]any{"RegionId": region, "ResourceShareName": "conf-go-new",
		"Resources": []map[string]string{{"ResourceId": imgExtra, "ResourceType": "Image"}}, "Targets": []string{prod}}, nil); b != nil {
		created = shareID(b)
	}
	if created != "" {
		if b := rs.must("UpdateResourceShare", map[string]any{"RegionId": region},
			map[string]any{"ResourceShareId": created, "ResourceShareName": "conf-go-renamed"}); b != nil {
			if s, _ := b["ResourceShare"].(map[string]any); s["ResourceShareName"] != "conf-go-renamed" {
				fail(t, "resourcesharing:UpdateResourceShare", "answered %v", b)
			}
		}
		b := rs.must("ListResourceShareAssociations", map[string]any{"RegionId": region, "AssociationType": "Target", "ResourceShareIds": []string{created}}, nil)
		if as := list(b, "ResourceShareAssociations"); b != nil && (len(as) != 1 || as[0]["EntityId"] != prod) {
			fail(t, "resourcesharing:CreateResourceShare", "targets of the new share: %v", as)
		}
	}
	if b := rs.must("AssociateResourceShare", map[string]any{"RegionId": region, "ResourceShareId": premade,
		"Resources": []map[string]string{{"ResourceId": imgShare, "ResourceType": "Image"}}}, nil); b != nil {
		as := list(b, "ResourceShareAssociations")
		if len(as) != 1 || as[0]["EntityId"] != imgShare || as[0]["AssociationStatus"] != "Associating" {
			fail(t, "resourcesharing:AssociateResourceShare", "answered %v", as)
		}
	}
	// An association on its way cannot be undone yet: the documented conflict.
	_, err := rs.call("DisassociateResourceShare", map[string]any{"RegionId": region, "ResourceShareId": premade,
		"Resources": []map[string]string{{"ResourceId": imgShare, "ResourceType": "Image"}}}, nil)
	if cd, st := code(err); cd != "DisassociateConflict" || st != 409 {
		fail(t, "resourcesharing:DisassociateResourceShare (while Associating)", "answered %q %d, want DisassociateConflict 409", cd, st)
	}
	if b := rs.must("DisassociateResourceShare", map[string]any{"RegionId": region, "ResourceShareId": premade,
		"Resources": []map[string]string{{"ResourceId": imgAvail, "ResourceType": "Image"}}}, nil); b != nil {
		as := list(b, "ResourceShareAssociations")
		if len(as) != 1 || as[0]["AssociationStatus"] != "Disassociating" {
			fail(t, "resourcesharing:DisassociateResourceShare", "answered %v", as)
		}
	}
	if created != "" {
		rs.must("DeleteResourceShare", map[string]any{"RegionId": region, "ResourceShareId": created}, nil)
		if b := rs.must("ListResourceShares", map[string]any{"RegionId": region, "ResourceOwner": "Self", "ResourceShareIds": []string{created}}, nil); b != nil {
			shares := list(b, "ResourceShares")
			if len(shares) != 1 || (shares[0]["ResourceShareStatus"] != "Deleting" && shares[0]["ResourceShareStatus"] != "Deleted") {
				fail(t, "resourcesharing:DeleteResourceShare", "the share afterwards: %v", shares)
			}
		}
	}
	_, err = rs.call("ListResourceShares", map[string]any{"RegionId": region}, nil)
	if cd, st := code(err); cd == "" || st != 400 {
		fail(t, "resourcesharing:ListResourceShares (no ResourceOwner)", "answered %q %d, want a 400 naming the missing ResourceOwner", cd, st)
	}
}

func keys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
