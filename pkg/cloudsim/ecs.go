package cloudsim

import (
	"encoding/base64"
	"maps"
	"slices"
	"sort"
	"strings"
	"time"

	"imageshare/pkg/cloudsim/emu"
)

// ECS 2014-05-26: images, their direct shares and their tags.

func init() {
	register("ecs", false, map[string]actionFn{
		"DescribeImages":               (*Cloud).describeImages,
		"DescribeImageSharePermission": (*Cloud).describeImageSharePermission,
		"ListTagResources":             (*Cloud).listTagResources,
	})
	register("ecs", true, map[string]actionFn{
		"ModifyImageSharePermission": (*Cloud).modifyImageSharePermission,
		"TagResources":               (*Cloud).tagResources,
		"UntagResources":             (*Cloud).untagResources,
		"AddTags":                    (*Cloud).addTags,
		"RemoveTags":                 (*Cloud).removeTags,
		"CreateImage":                (*Cloud).createImage,
		"CopyImage":                  (*Cloud).copyImage,
		"DeleteImage":                (*Cloud).deleteImage,
	})
}

// maxTagsPerImage: a resource holds at most 20 tags (system acs: tags aside).
const maxTagsPerImage = 20

func imageNotFound(id string) *emu.APIError {
	return emu.Errorf(404, "InvalidImageId.NotFound", "The specified ImageId does not exist.")
}

// ownImage finds an image of the caller in the call's region (the contract made sure
// RegionId and ImageId are given).
func (c *Cloud) ownImage(x *exec, id string) (*image, *emu.APIError) {
	im := c.region(x.region).images[id]
	if im == nil || im.Owner != x.caller.AccountID {
		return nil, imageNotFound(id)
	}
	return im, nil
}

// ---- DescribeImages ----

// describeImages lists the caller's images and those shared with it. Every emulated
// image is a Linux x86_64 image used by no instance, so OSType, Architecture and Usage
// filter on those values.
func (c *Cloud) describeImages(x *exec) (map[string]any, *emu.APIError) {
	ids := splitList(x.p("ImageId"))
	statuses := splitList(x.p("Status"))
	if len(statuses) == 0 {
		statuses = []string{statusAvailable}
	}
	alias := x.p("ImageOwnerAlias")
	tags := structs(x.params, "Tag")
	page, size := intOr(x.params, "PageNumber", 1), intOr(x.params, "PageSize", 10)
	if v := x.p("OSType"); v != "" && v != "linux" {
		return emptyImagePage(x.region, page, size), nil
	}
	if v := x.p("Architecture"); v != "" && v != "x86_64" {
		return emptyImagePage(x.region, page, size), nil
	}
	if v := x.p("Usage"); v != "" && v != "none" {
		return emptyImagePage(x.region, page, size), nil
	}
	name := x.p("ImageName")
	me := x.caller.AccountID
	var hits []*image
	for _, im := range c.region(x.region).images {
		own := im.Owner == me
		others := !own && c.accessLocked(im)[me]
		switch {
		case alias == "self" && !own, alias == "others" && !others, alias == "system" || alias == "marketplace", !own && !others:
			continue
		}
		if len(ids) > 0 && !slices.Contains(ids, im.ID) {
			continue
		}
		if !slices.Contains(statuses, im.Status) || x.now.Before(im.ListedAt) {
			continue
		}
		if name != "" && !strings.Contains(im.Name, name) {
			continue
		}
		if !matchTags(im, own, tags) {
			continue
		}
		hits = append(hits, im)
	}
	// Newest first, as the service lists them; ties by id so that pages are stable.
	sort.Slice(hits, func(i, j int) bool {
		if !hits[i].Created.Equal(hits[j].Created) {
			return hits[i].Created.After(hits[j].Created)
		}
		return hits[i].ID < hits[j].ID
	})
	items := []any{}
	for _, im := range pageOf(hits, page, size) {
		items = append(items, c.imageJSON(im, me))
	}
	return map[string]any{"RegionId": x.region, "PageNumber": page, "PageSize": size, "TotalCount": len(hits),
		"Images": map[string]any{"Image": items}}, nil
}

func emptyImagePage(region string, page, size int) map[string]any {
	return map[string]any{"RegionId": region, "PageNumber": page, "PageSize": size, "TotalCount": 0,
		"Images": map[string]any{"Image": []any{}}}
}

// matchTags applies Tag.N filters: exact key and value; a filter without a value
// matches any value. Tags of other accounts' images are not visible to the caller.
func matchTags(im *image, own bool, filters []map[string]string) bool {
	for _, f := range filters {
		if !own {
			return false
		}
		v, ok := im.Tags[f["Key"]]
		if !ok {
			return false
		}
		if want, given := f["Value"]; given && want != "" && v != want {
			return false
		}
	}
	return true
}

func pageOf[T any](items []T, page, size int) []T {
	from := (page - 1) * size
	if from >= len(items) {
		return nil
	}
	return items[from:min(len(items), from+size)]
}

func (c *Cloud) imageJSON(im *image, caller string) map[string]any {
	own := im.Owner == caller
	alias := "others"
	if own {
		alias = "self"
	}
	tags := []any{}
	if own {
		for _, k := range slices.Sorted(maps.Keys(im.Tags)) {
			tags = append(tags, map[string]any{"TagKey": k, "TagValue": im.Tags[k]})
		}
	}
	selfShared := "false"
	if own && len(c.listedLocked(im)) > 0 {
		selfShared = "true"
	}
	progress := "100%"
	if im.Status == statusCreating || im.Status == statusWaiting {
		progress = "0%"
	}
	return map[string]any{
		"ImageId": im.ID, "ImageName": im.Name, "ImageOwnerAlias": alias, "ImageOwnerId": accountInt(im.Owner),
		"Status": im.Status, "Progress": progress, "CreationTime": ecsTime(im.Created), "ProductCode": im.ProductCode,
		"IsSelfShared": selfShared, "IsCopied": im.Copied, "IsPublic": false, "IsSubscribed": false,
		"IsSupportCloudinit": true, "IsSupportIoOptimized": true, "LoginAsNonRootSupported": false,
		"Usage": "none", "OSType": "linux", "OSName": "Alibaba Cloud Linux 3", "OSNameEn": "Alibaba Cloud Linux 3",
		"Platform": "Aliyun", "Architecture": "x86_64", "BootMode": "UEFI", "Size": 40, "Description": "",
		"ImageFamily": "", "ImageVersion": "", "ResourceGroupId": "", "SupplierName": "",
		"Tags": map[string]any{"Tag": tags},
		"DiskDeviceMappings": map[string]any{"DiskDeviceMapping": []any{map[string]any{
			"Device": "/dev/xvda", "Type": "system", "SnapshotId": "s-" + strings.TrimPrefix(im.ID, "m-"), "Size": "40",
			"Format": "", "Encrypted": im.Encrypted != "none", "Progress": progress, "RemainTime": 0,
		}}},
		"Features":         map[string]any{"NvmeSupport": "supported", "ImdsSupport": "v2"},
		"DetectionOptions": map[string]any{"Status": "", "Items": map[string]any{"Item": []any{}}},
	}
}

// ---- DescribeImageSharePermission ----

func (c *Cloud) describeImageSharePermission(x *exec) (map[string]any, *emu.APIError) {
	im, err := c.ownImage(x, x.p("ImageId"))
	if err != nil {
		return nil, err
	}
	page, size := intOr(x.params, "PageNumber", 1), intOr(x.params, "PageSize", 10)
	listed := slices.Sorted(maps.Keys(c.listedLocked(im)))
	accounts := []any{}
	for _, a := range pageOf(listed, page, size) {
		t, ok := im.Direct[a]
		if !ok {
			t = x.now // granted through Resource Sharing
		}
		accounts = append(accounts, map[string]any{"AliyunId": a, "SharedTime": ecsTime(t)})
	}
	return map[string]any{"RegionId": x.region, "ImageId": im.ID, "PageNumber": page, "PageSize": size,
		"TotalCount": len(listed), "Accounts": map[string]any{"Account": accounts},
		"ShareGroups": map[string]any{"ShareGroup": []any{}}}, nil
}

// ---- ModifyImageSharePermission ----

func (c *Cloud) modifyImageSharePermission(x *exec) (map[string]any, *emu.APIError) {
	im, err := c.ownImage(x, x.p("ImageId"))
	if err != nil {
		return nil, err
	}
	if boolParam(x.params, "IsPublic") {
		// Publishing a community image needs the Community Image Terms of Service signed,
		// which no emulated account has.
		return nil, emu.Errorf(403, "PublicImageAgreement.NotSigned", `The current account has not signed "Community Image Terms of Service".`)
	}
	// The contract kept the first ten of each list (the service ignores the rest).
	adds, removes := list(x.params, "AddAccount"), list(x.params, "RemoveAccount")
	// An image that is not Available cannot be shared, and nothing changes. The current
	// reference names one code, for a Deprecated image, 403
	// OperationDenied.InvalidImageStatus "The specified image cannot be shared when it is
	// deprecated." (https://www.alibabacloud.com/help/en/ecs/developer-reference/api-ecs-2014-05-26-modifyimagesharepermission,
	// change history to 2025-04-29); a deprecated image cannot be shared, and one that is
	// shared must be unshared before it can be deprecated, so taking accounts off it is
	// left possible (https://www.alibabacloud.com/help/en/doc-detail/174244.htm). For the
	// other statuses (Creating, Waiting, CreateFailed, UnAvailable) it names none; the
	// earlier reference of this API answers any call on an image that is not available
	// with 400 IncorrectImageStatus "The image is not available."
	// (https://www.alibabacloud.com/help/doc-detail/25540.htm, 2018 revision, as kept in
	// github.com/AlibabaCloudDocs/ecs "intl.en-US/API Reference/Images/ModifyImageSharePermission.md"),
	// the code ECS still gives for an unavailable image elsewhere (CopyImage).
	switch {
	case im.Status == statusDeprecated && len(adds) > 0:
		return nil, emu.Errorf(403, "OperationDenied.InvalidImageStatus", "The specified image cannot be shared when it is deprecated.")
	case im.Status != statusAvailable && im.Status != statusDeprecated && len(adds)+len(removes) > 0:
		return nil, emu.Errorf(400, "IncorrectImageStatus", "The image is not available.")
	}
	if len(adds) > 0 {
		switch {
		case im.Encrypted == "service-key":
			return nil, emu.Errorf(403, "InvalidOperation.ServiceKeyEncryptedImageUnsupported", "Images encrypted with a service key cannot be shared.")
		case im.Encrypted == "cmk" && !c.accountLocked(im.Owner).Roles["AliyunECSShareEncryptImageDefaultRole"]:
			return nil, emu.Errorf(403, "AssumeRoleError", "Requires a RAM role of AliyunECSShareEncryptImageDefaultRole before sharing encrypted image.")
		}
	}
	owner := c.accounts[im.Owner]
	check := func(a string, adding bool) *emu.APIError {
		acc := c.accounts[a]
		if acc == nil {
			return emu.Errorf(404, "InvalidAccount.NotFound", `The specified parameter "AddAccount.n" or "RemoveAccount.n" does not exist.`)
		}
		if a == im.Owner {
			return emu.Errorf(404, "InvalidAccount.Forbbiden", "The specified Account does not yourself.")
		}
		if adding && im.ProductCode != "" && owner != nil && acc.Site != owner.Site {
			return emu.Errorf(403, "InvalidImageId.BidMismatch", "Cannot share image with other bid user.")
		}
		return nil
	}
	for _, a := range adds {
		if err := check(a, true); err != nil {
			return nil, err
		}
	}
	for _, a := range removes {
		if err := check(a, false); err != nil {
			return nil, err
		}
	}
	// Removes first, then adds: an account named in both ends up shared.
	next := map[string]time.Time{}
	for a, t := range im.Direct {
		if !slices.Contains(removes, a) {
			next[a] = t
		}
	}
	for _, a := range adds {
		if _, ok := next[a]; !ok {
			next[a] = x.now
		}
	}
	if len(next) > c.cfg.ShareQuotaPerImage && len(next) > len(im.Direct) {
		return nil, emu.Errorf(403, "QuotaExceed.ShareImageUser", "The shared Image user Quota exceeds.")
	}
	var covered map[string]bool
	if c.cfg.OrgGrantsListed {
		covered = c.coveredLocked(im)
	}
	im.Direct = next
	for _, a := range removes {
		if covered[a] && !slices.Contains(adds, a) {
			im.Blocked[a] = true // listed, so removing it cuts its access
		}
	}
	for _, a := range adds {
		delete(im.Blocked, a)
	}
	return nil, nil
}

// ---- tags ----

// checkTag: a key "cannot start with aliyun or acs: and cannot contain http:// or
// https://"; a value "cannot start with acs: and cannot contain http:// or https://"
// (TagResources; the contract checked their lengths).
func checkTag(k, v string) *emu.APIError {
	kl, vl := strings.ToLower(k), strings.ToLower(v)
	switch {
	case strings.HasPrefix(kl, "acs:"), strings.HasPrefix(kl, "aliyun"), strings.Contains(kl, "http://"), strings.Contains(kl, "https://"):
		return emu.Errorf(400, "InvalidTagKey.Malformed", "The specified Tag.n.Key is not valid.")
	case strings.HasPrefix(vl, "acs:"), strings.Contains(vl, "http://"), strings.Contains(vl, "https://"):
		return emu.Errorf(400, "InvalidTagValue.Malformed", "The specified Tag.n.Value is not valid.")
	}
	return nil
}

// userTagCount counts the tags that count against the quota (system acs: tags do not).
func userTagCount(tags map[string]string) int {
	n := 0
	for k := range tags {
		if !strings.HasPrefix(k, "acs:") {
			n++
		}
	}
	return n
}

// taggable finds the caller's images among ids (all of them, or an error). Only images
// are emulated: resources of the other types the contract accepts are never found.
func (c *Cloud) taggable(x *exec, ids []string) ([]*image, *emu.APIError) {
	var out []*image
	for _, id := range ids {
		im := c.region(x.region).images[id]
		if im == nil || im.Owner != x.caller.AccountID || x.p("ResourceType") != "image" {
			return nil, emu.Errorf(404, "InvalidResourceId.NotFound", "The specified ResourceIds are not found in our records.")
		}
		out = append(out, im)
	}
	return out, nil
}

// setTags validates and applies tags to every image, all or nothing.
func setTags(images []*image, tags []map[string]string) *emu.APIError {
	for _, t := range tags {
		if err := checkTag(t["Key"], t["Value"]); err != nil {
			return err
		}
	}
	for _, im := range images {
		after := map[string]string{}
		for k, v := range im.Tags {
			after[k] = v
		}
		for _, t := range tags {
			after[t["Key"]] = t["Value"]
		}
		if userTagCount(after) > maxTagsPerImage {
			return emu.Errorf(400, "OperationDenied.QuotaExceed", "The quota of tags on resource is beyond permitted range.")
		}
	}
	for _, im := range images {
		for _, t := range tags {
			im.Tags[t["Key"]] = t["Value"]
		}
	}
	return nil
}

func (c *Cloud) tagResources(x *exec) (map[string]any, *emu.APIError) {
	images, err := c.taggable(x, list(x.params, "ResourceId"))
	if err != nil {
		return nil, err
	}
	return nil, setTags(images, structs(x.params, "Tag"))
}

func (c *Cloud) untagResources(x *exec) (map[string]any, *emu.APIError) {
	images, err := c.taggable(x, list(x.params, "ResourceId"))
	if err != nil {
		return nil, err
	}
	keys := list(x.params, "TagKey")
	all := boolParam(x.params, "All")
	for _, im := range images {
		for k := range im.Tags {
			if (all && !strings.HasPrefix(k, "acs:")) || slices.Contains(keys, k) {
				delete(im.Tags, k)
			}
		}
	}
	return nil, nil
}

func (c *Cloud) addTags(x *exec) (map[string]any, *emu.APIError) {
	images, err := c.taggable(x, []string{x.p("ResourceId")})
	if err != nil {
		return nil, err
	}
	return nil, setTags(images, structs(x.params, "Tag"))
}

func (c *Cloud) removeTags(x *exec) (map[string]any, *emu.APIError) {
	images, err := c.taggable(x, []string{x.p("ResourceId")})
	if err != nil {
		return nil, err
	}
	tags := structs(x.params, "Tag")
	for _, t := range tags {
		if v, ok := images[0].Tags[t["Key"]]; ok && (t["Value"] == "" || t["Value"] == v) {
			delete(images[0].Tags, t["Key"])
		}
	}
	return nil, nil
}

// listTagResources lists (image, tag) pairs of the caller's images, 50 a page.
func (c *Cloud) listTagResources(x *exec) (map[string]any, *emu.APIError) {
	ids := list(x.params, "ResourceId")
	filters := structs(x.params, "Tag")
	type pair struct{ id, k, v string }
	var pairs []pair
	r := c.region(x.region)
	for _, id := range slices.Sorted(maps.Keys(r.images)) {
		im := r.images[id]
		if im.Owner != x.caller.AccountID || x.p("ResourceType") != "image" || (len(ids) > 0 && !slices.Contains(ids, id)) || !matchTags(im, true, filters) {
			continue
		}
		for _, k := range slices.Sorted(maps.Keys(im.Tags)) {
			pairs = append(pairs, pair{id, k, im.Tags[k]})
		}
	}
	// The token is the last pair returned, so that pages stay exact while tags change.
	start := 0
	if tok := x.p("NextToken"); tok != "" {
		last, ok := decodeToken(tok)
		if !ok {
			return nil, emu.Errorf(403, "Invalid.NextToken", "The specified NextToken is not valid.")
		}
		start = sort.Search(len(pairs), func(i int) bool { return pairs[i].id+"\x00"+pairs[i].k > last })
	}
	end := min(len(pairs), start+50)
	items := []any{}
	for _, p := range pairs[start:end] {
		items = append(items, map[string]any{"ResourceId": p.id, "ResourceType": "image", "TagKey": p.k, "TagValue": p.v})
	}
	next := ""
	if end < len(pairs) {
		next = encodeToken(pairs[end-1].id + "\x00" + pairs[end-1].k)
	}
	return map[string]any{"NextToken": next, "TagResources": map[string]any{"TagResource": items}}, nil
}

// ---- image lifecycle ----

// createImage makes an image of the caller, Creating until it is ready. Its source
// (instance, snapshot) is not emulated; a sandbox step may choose the image's ID.
func (c *Cloud) createImage(x *exec) (map[string]any, *emu.APIError) {
	tags := structs(x.params, "Tag")
	for _, t := range tags {
		if err := checkTag(t["Key"], t["Value"]); err != nil {
			return nil, err
		}
	}
	id := x.req.imageID
	if id == "" {
		id = "m-" + randomFrom("abcdefghijklmnopqrstuvwxyz0123456789", 20)
	}
	name := x.p("ImageName")
	if name == "" {
		name = id
	}
	if c.region(x.region).images[id] != nil || c.nameTaken(x.region, x.caller.AccountID, name) {
		return nil, emu.Errorf(400, "InvalidImageName.Duplicated", "The specified Image name has already bean used.")
	}
	ready := c.cfg.ImageReadyAfter
	if x.req.readyAfter != nil {
		ready = *x.req.readyAfter
	}
	im := &image{ID: id, Region: x.region, Owner: x.caller.AccountID, Name: name, Status: statusCreating, Encrypted: "none",
		Tags: map[string]string{}, Direct: map[string]time.Time{}, Blocked: map[string]bool{}, Created: x.now,
		ReadyAt: x.now.Add(ready), seq: c.nextSeq()}
	for _, t := range tags {
		im.Tags[t["Key"]] = t["Value"]
	}
	c.region(x.region).images[id] = im
	x.respElems = map[string]any{"ImageId": id, "RequestId": x.reqID}
	return map[string]any{"ImageId": id}, nil
}

// deleteImage removes the image, its direct shares and its resource-share associations.
// An image shared with other accounts is deleted only with Force.
func (c *Cloud) deleteImage(x *exec) (map[string]any, *emu.APIError) {
	im, err := c.ownImage(x, x.p("ImageId"))
	if err != nil {
		return nil, err
	}
	if len(im.Direct) > 0 && !boolParam(x.params, "Force") {
		return nil, emu.Errorf(403, "ImageUseShared", "The specified image has been shared to others.")
	}
	r := c.region(x.region)
	delete(r.images, im.ID)
	for _, s := range r.shares {
		delete(s.Resources, im.ID)
	}
	return nil, nil
}

// nameTaken reports whether an image of owner in region already has this name.
func (c *Cloud) nameTaken(region, owner, name string) bool {
	for _, im := range c.region(region).images {
		if im.Owner == owner && im.Name == name {
			return true
		}
	}
	return false
}

// ---- paging tokens ----

// Tokens name the last item returned (opaque to clients), so that a page boundary
// stays put while items are added or removed elsewhere.
func encodeToken(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

func decodeToken(tok string) (string, bool) {
	b, err := base64.RawURLEncoding.DecodeString(tok)
	return string(b), err == nil && len(b) > 0
}
