package cloudsim

import (
	"crypto/sha256"
	"encoding/hex"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"imageshare/pkg/cloudsim/emu"
)

// CopyImage (ECS 2014-05-26): a copy of a custom image in another region.
//
// Reference: https://www.alibabacloud.com/help/en/ecs/developer-reference/api-ecs-2014-05-26-copyimage
// and the official API metadata (dew-serverless/acs-sdk-php data/ecs/2014-05-26,
// api-docs.json at 18902242 for the error codes, api-docs.php at 4ca78154 for the
// current parameters, which add DryRun and ClientToken):
//
//   - "Only custom images that are in the Available state can be copied" (IncorrectImageStatus
//     "The image not available."); the image must be the caller's own (InvalidImageId.NotFound).
//   - The copy is Creating in the destination region, carries the tags given (Tag.N, at
//     most 20), and the encryption asked for (Encrypted, KMSKeyId: "the specified
//     parameter Encrypted must be true when kmsKeyId is not empty").
//   - ClientToken "is used to ensure the idempotence of the request" (SDK reference of
//     the current API, alibabacloud-go/ecs-20140526 CopyImageRequest); ECS answers a
//     repeated token with the first request's result and a token reused with other
//     parameters with IdempotentParameterMismatch (ECS, How to ensure idempotence,
//     https://www.alibabacloud.com/help/doc-detail/25693.htm).
//
// What the references leave open is chosen here and said: a cross-region copy of an
// encrypted image without a key of the destination region is refused with
// OperationDeined.EncryptedSnapshot ("The image contains encrypted snapshots, which do
// not support copying.", CopyImage's list), since KMS keys are regional; with
// Encrypted=true and no KMSKeyId the destination's service key encrypts the copy.

// KnownRegions are the ECS regions of the SDK's endpoint table
// (github.com/aliyun/alibaba-cloud-sdk-go v1.63.107, sdk/endpoints/endpoints_config.go,
// product "ecs"), the regions the emulated cloud has unless configured otherwise.
var KnownRegions = []string{"ap-northeast-1", "ap-south-1", "ap-southeast-1", "ap-southeast-2", "ap-southeast-3", "ap-southeast-5",
	"cn-beijing", "cn-hangzhou", "cn-hongkong", "cn-huhehaote", "cn-qingdao", "cn-shanghai", "cn-shenzhen", "cn-zhangjiakou",
	"eu-central-1", "eu-west-1", "me-east-1", "us-east-1", "us-west-1"}

// copyToken is what a ClientToken of CopyImage answered: the request's parameters and
// the copy it made.
type copyToken struct {
	params string
	image  string
}

// copyParams are the parameters of CopyImage that a repeated ClientToken must repeat.
func copyParams(p map[string]string) string {
	var b strings.Builder
	for _, k := range slices.Sorted(maps.Keys(p)) {
		switch {
		case k == "RegionId", k == "ImageId", k == "DestinationRegionId", k == "DestinationImageName", k == "DestinationDescription",
			k == "Encrypted", k == "KMSKeyId", k == "ResourceGroupId", strings.HasPrefix(k, "Tag."):
			b.WriteString(k + "=" + p[k] + "\x00")
		}
	}
	return b.String()
}

// CopyID is the ID of the n-th copy (from 1) of source made in region: deterministic,
// so that scenarios and tests can name copies.
func CopyID(source, region string, n int) string {
	sum := sha256.Sum256([]byte(source + "/" + region + "/" + strconv.Itoa(n)))
	return "m-" + hex.EncodeToString(sum[:])[:20]
}

func (c *Cloud) copyImage(x *exec) (map[string]any, *emu.APIError) {
	tokenKey := ""
	if tok := x.p("ClientToken"); tok != "" {
		tokenKey = x.caller.AccountID + "/" + tok
		if prev, ok := c.tokens[tokenKey]; ok {
			if prev.params != copyParams(x.params) {
				return nil, emu.Errorf(403, "IdempotentParameterMismatch", "The specified clientToken is used.")
			}
			// The first request's result, whatever became of the copy since.
			x.respElems = map[string]any{"ImageId": prev.image, "RequestId": x.reqID}
			return map[string]any{"ImageId": prev.image}, nil
		}
	}
	src, err := c.ownImage(x, x.p("ImageId"))
	if err != nil {
		return nil, err
	}
	dst := x.p("DestinationRegionId")
	if dst == "" {
		dst = x.region // a copy within the region (to encrypt it, say)
	}
	if !slices.Contains(c.cfg.Regions, dst) {
		return nil, emu.Errorf(400, "DestinationRegion.NotFound", "The destination region not found.")
	}
	if src.Status != statusAvailable {
		return nil, emu.Errorf(400, "IncorrectImageStatus", "The image not available.")
	}
	tags := structs(x.params, "Tag")
	for _, t := range tags {
		if err := checkTag(t["Key"], t["Value"]); err != nil {
			return nil, err
		}
	}
	if src.ProductCode != "" && src.ProductRegions != nil && !slices.Contains(src.ProductRegions, dst) {
		return nil, emu.Errorf(403, "OperationDenied.NotPublished", "The operation is denied because corresponding marketplace image is not published in destination region.")
	}
	enc := src.Encrypted
	key := x.p("KMSKeyId")
	switch {
	case key != "":
		if !slices.Contains(c.cfg.KMSKeys[dst], key) {
			return nil, emu.Errorf(404, "InvalidParameter.KMSKeyId.NotFound", "The specified KMSKeyId does not exist.")
		}
		enc = "cmk"
	case boolParam(x.params, "Encrypted"):
		enc = "service-key"
	case src.Encrypted != "none" && dst != x.region:
		return nil, emu.Errorf(403, "OperationDeined.EncryptedSnapshot", "The image contains encrypted snapshots, which do not support copying.")
	}
	if q := c.cfg.ImageQuota; q > 0 {
		n := 0
		for _, im := range c.region(dst).images {
			if im.Owner == src.Owner {
				n++
			}
		}
		if n >= q {
			return nil, emu.Errorf(403, "QuotaExceed.Image", "The Image Quota exceeds.")
		}
	}
	name := x.p("DestinationImageName")
	if name != "" && c.nameTaken(dst, src.Owner, name) {
		return nil, emu.Errorf(400, "InvalidImageName.Duplicated", "The destination image is exist.")
	}
	c.copies[src.ID+"/"+dst]++
	id := CopyID(src.ID, dst, c.copies[src.ID+"/"+dst])
	if name == "" {
		name = id
	}
	im := &image{ID: id, Region: dst, Owner: src.Owner, Name: name, Status: statusCreating, ProductCode: src.ProductCode,
		ProductRegions: slices.Clone(src.ProductRegions), Encrypted: enc, Tags: map[string]string{}, Direct: map[string]time.Time{},
		Blocked: map[string]bool{}, Created: x.now, ReadyAt: x.now.Add(c.cfg.CopyReadyAfter), Copied: true, seq: c.nextSeq()}
	if c.cfg.CopyListDelay > 0 {
		im.ListedAt = x.now.Add(c.cfg.CopyListDelay)
	}
	if c.cfg.CopyFails[dst] > 0 {
		c.cfg.CopyFails[dst]--
		im.failOnReady = true
	}
	for _, t := range tags {
		im.Tags[t["Key"]] = t["Value"]
	}
	c.region(dst).images[id] = im
	if tokenKey != "" {
		c.tokens[tokenKey] = copyToken{params: copyParams(x.params), image: id}
	}
	x.respElems = map[string]any{"ImageId": id, "RequestId": x.reqID}
	return map[string]any{"ImageId": id}, nil
}
