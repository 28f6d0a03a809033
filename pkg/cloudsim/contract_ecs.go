package cloudsim

import (
	"regexp"
	"strconv"
	"strings"

	"imageshare/pkg/cloudsim/emu"
)

// ECS 2014-05-26 request contracts. Pages: https://www.alibabacloud.com/help/en/ecs/
// developer-reference/api-ecs-2014-05-26-<action in lower case>.

const ecsDocs = "https://www.alibabacloud.com/help/en/ecs/developer-reference/api-ecs-2014-05-26-"

// ecsTagResourceTypes are the ResourceType values of the tag APIs (TagResources,
// UntagResources, ListTagResources: "instance, disk, snapshot, image, securitygroup,
// volume, eni, ddh, ddhcluster, keypair, launchtemplate, reservedinstance,
// snapshotpolicy, elasticityassurance, capacityreservation, command, invocation";
// ListTagResources adds activation, managedinstance …). Only images are emulated: a
// resource of another type is never found.
var ecsTagResourceTypes = []string{"instance", "disk", "snapshot", "image", "securitygroup", "volume", "eni", "ddh",
	"ddhcluster", "keypair", "launchtemplate", "reservedinstance", "snapshotpolicy", "elasticityassurance",
	"capacityreservation", "command", "invocation", "activation", "managedinstance"}

// The tag APIs answer a missing parameter with MissingParameter.<Name> and HTTP 404.

func tagRegion() param {
	return param{name: "RegionId", required: true,
		missing: answer{404, "MissingParameter.RegionId", "The parameter - RegionId should not be null."}}
}

func tagResourceType() param {
	return param{name: "ResourceType", required: true, enum: ecsTagResourceTypes,
		missing: answer{404, "MissingParameter.ResourceType", "The parameter - ResourceType should not be null."},
		invalid: answer{404, "InvalidResourceType.NotFound", "The ResourceType provided does not exist in our records."}}
}

func tagResourceIDs(required bool) param {
	return param{name: "ResourceId", kind: kList, required: required, max: 50,
		missing: answer{404, "MissingParameter.ResourceIds", "The parameter - ResourceIds.N should not be null."},
		tooMany: answer{400, "NumberExceed.ResourceIds", "The ResourceIds parameter's number is exceed , Valid : 50."}}
}

var numberExceedTags = answer{400, "NumberExceed.Tags", "The Tags parameter's number is exceed , Valid : 20."}

// tagKeyField is Tag.N.Key of the tag APIs: 1 to 128 characters once given.
var tagKeyField = param{name: "Key", maxLen: 128, invalid: answer{400, "InvalidTagKey.Malformed", "The specified Tag.n.Key is not valid."}}

var tagValueField = param{name: "Value", maxLen: 128, invalid: answer{400, "InvalidTagValue.Malformed", "The specified Tag.n.Value is not valid."}}

// invalidParamter is DescribeImages's own answer to an invalid parameter (sic).
var invalidParamter = answer{400, "InvalidParamter", "Invalid Parameter."}

// imageNameRE: 2 to 128 characters, starting with a letter (or a Chinese character),
// then letters, digits, periods, colons, underscores and hyphens (CreateImage).
var imageNameRE = regexp.MustCompile(`^[\p{L}][\p{L}0-9.:_-]{1,127}$`)

var invalidDescription = answer{400, "InvalidDescription.Malformed", "The specified destination description is wrongly formed."}

func init() {
	addContracts(
		&contract{product: "ecs", action: "DescribeImages", source: ecsDocs + "describeimages", dryRun: true, params: []param{
			regionID(),
			{name: "ImageOwnerAlias", enum: []string{"system", "self", "others", "marketplace"},
				invalid: answer{400, "InvalidImageOwnerAlias.ValueNotSupported", "The specified ImageOwnerAlias value is not supported."}},
			{name: "OSType", enum: []string{"windows", "linux"}, invalid: answer{404, "InvalidOSType", "The specified OSType is not valid."}},
			{name: "Architecture", enum: []string{"i386", "x86_64", "arm64"},
				invalid: answer{404, "InvalidArchitecture", "The specified Architecture is not valid."}},
			{name: "Usage", enum: []string{"instance", "none"}, invalid: answer{404, "InvalidUsage", "The specified Usage is not valid."}},
			// PageNumber from 1; PageSize 1 to 100 (default 10). The reference names no
			// code of their own: DescribeImages's general one.
			{name: "PageNumber", kind: kInt, min: 1, max: 1 << 30, invalid: invalidParamter},
			{name: "PageSize", kind: kInt, min: 1, max: 100, invalid: invalidParamter},
			{name: "Tag", kind: kStructs, max: 20, fields: []param{{name: "Key"}, {name: "Value"}},
				tooMany: answer{400, "InvalidTagCount", "The specified tags are beyond the permitted range."}},
		}},
		&contract{product: "ecs", action: "DescribeImageSharePermission", source: ecsDocs + "describeimagesharepermission", params: []param{
			regionID(),
			{name: "ImageId", required: true, missing: missingParameter("ImageId")},
			// PageNumber from 1, PageSize 1 to 100: the reference gives the ranges but no
			// code; the catalogue lists these two as invented.
			{name: "PageNumber", kind: kInt, min: 1, max: 1 << 30,
				invalid: answer{400, "InvalidParameter.PageNumber", "The specified parameter PageNumber is not valid."}},
			{name: "PageSize", kind: kInt, min: 1, max: 100,
				invalid: answer{400, "InvalidParameter.PageSize", "The specified parameter PageSize is not valid."}},
		}},
		&contract{product: "ecs", action: "ModifyImageSharePermission", source: ecsDocs + "modifyimagesharepermission", dryRun: true, params: []param{
			regionID(),
			{name: "ImageId", required: true, missing: missingParameter("ImageId")},
			// "If you specify more than 10 account IDs, the system processes only the first
			// 10 account IDs. The excess account IDs are ignored."
			{name: "AddAccount", kind: kList, max: 10, truncate: true},
			{name: "RemoveAccount", kind: kList, max: 10, truncate: true},
			// "This parameter is in invitational preview and is unavailable."
			{name: "LaunchPermission", forbidden: true,
				invalid: answer{400, "ForbiddenParameter.LaunchPermission", `The specified parameter "LaunchPermission" is forbidden for current account.`}},
		}},
		&contract{product: "ecs", action: "TagResources", source: ecsDocs + "tagresources", params: []param{
			tagRegion(), tagResourceType(), tagResourceIDs(true),
			{name: "Tag", kind: kStructs, required: true, max: 20, missing: answer{404, "MissingParameter.Tags", "The parameter - Tags should not be null."}, tooMany: numberExceedTags,
				fields: []param{tagKeyField, tagValueField}},
		}, check: tagKeysGiven},
		&contract{product: "ecs", action: "UntagResources", source: ecsDocs + "untagresources", params: []param{
			tagRegion(), tagResourceType(), tagResourceIDs(true),
			{name: "TagKey", kind: kList, max: 20, tooMany: numberExceedTags},
		}, check: func(p map[string]string) *emu.APIError {
			if strings.EqualFold(p["All"], "true") && len(indexed(p, "TagKey", false)) > 0 {
				return emu.Errorf(403, "Param.Conflict", "The specified all is true, but the specified TagKey.N is not empty.")
			}
			return nil
		}},
		&contract{product: "ecs", action: "ListTagResources", source: ecsDocs + "listtagresources", params: []param{
			tagRegion(), tagResourceType(), tagResourceIDs(false),
			{name: "Tag", kind: kStructs, max: 20, tooMany: numberExceedTags, fields: []param{tagKeyField, tagValueField}},
		}, check: func(p map[string]string) *emu.APIError {
			if len(indexed(p, "ResourceId", false)) == 0 && len(indexed(p, "Tag", true)) == 0 {
				return emu.Errorf(403, "BothEmpty.TagsAndResources", "The specified Tags and ResourcesIds are not allow to both empty.")
			}
			// "If you specify only Tag.N.Value, the error InvalidParameter.TagValue is returned."
			for _, n := range indexed(p, "Tag", true) {
				if p[itemField("Tag", n, "Key")] == "" {
					return emu.Errorf(400, "InvalidParameter.TagValue", "The specified Tag.n.Value is specified without a Tag.n.Key.")
				}
			}
			return nil
		}},
		// AddTags and RemoveTags (legacy) document no missing-parameter answers of their
		// own: ECS's MissingParameter.
		&contract{product: "ecs", action: "AddTags", source: ecsDocs + "addtags", params: []param{
			regionID(),
			{name: "ResourceType", required: true, enum: ecsTagResourceTypes, missing: missingParameter("ResourceType"),
				invalid: answer{404, "InvalidResourceType.NotFound", "The ResourceType provided does not exist in our records."}},
			{name: "ResourceId", required: true, missing: missingParameter("ResourceId")},
			{name: "Tag", kind: kStructs, required: true, max: 20, missing: missingParameter("Tag.N"),
				tooMany: answer{400, "InvalidTagCount", "The specified tags are beyond the permitted range."},
				fields:  []param{tagKeyField, tagValueField}},
		}, check: tagKeysGiven},
		&contract{product: "ecs", action: "RemoveTags", source: ecsDocs + "removetags", params: []param{
			regionID(),
			{name: "ResourceType", required: true, enum: ecsTagResourceTypes, missing: missingParameter("ResourceType"),
				invalid: answer{404, "InvalidResourceType.NotFound", "The ResourceType provided does not exist in our records."}},
			{name: "ResourceId", required: true, missing: missingParameter("ResourceId")},
			{name: "Tag", kind: kStructs, max: 20, tooMany: answer{400, "InvalidTagCount", "The specified tags are beyond the permitted range."},
				fields: []param{tagKeyField, tagValueField}},
		}},
		&contract{product: "ecs", action: "CreateImage", source: ecsDocs + "createimage", dryRun: true, params: []param{
			regionID(),
			{name: "ImageName", pattern: imageNameRE, invalid: answer{400, "InvalidImageName.Malformed", "The specified Image name is wrongly formed."}},
			{name: "Tag", kind: kStructs, max: 20, tooMany: answer{403, "QuotaExceed.Tags", "The maximum number of tags is exceeded."},
				fields: []param{tagKeyField, tagValueField}},
		}, check: func(p map[string]string) *emu.APIError {
			if p["SnapshotId"] == "" && p["InstanceId"] == "" && len(indexed(p, "DiskDeviceMapping", true)) == 0 {
				return emu.Errorf(400, "MissingParameter", "The input parameter SnapshotId or InstanceId or DiskDeviceMapping that is mandatory for processing this request is not supplied.")
			}
			return tagKeysGiven(p)
		}},
		&contract{product: "ecs", action: "CopyImage", source: ecsDocs + "copyimage", dryRun: true, params: []param{
			regionID(),
			{name: "ImageId", required: true, missing: missingParameter("ImageId")},
			{name: "DestinationImageName", pattern: imageNameRE, invalid: answer{400, "InvalidImageName.Malformed", "The specified destination image name is wrongly formed."}},
			// "2 to 256 characters … cannot start with http:// or https://" (the prefix is
			// checked below).
			{name: "DestinationDescription", minLen: 2, maxLen: 256, invalid: invalidDescription},
			{name: "Tag", kind: kStructs, max: 20, tooMany: answer{403, "QuotaExceed.Tags", "The maximum number of tags is exceeded."},
				fields: []param{tagKeyField, tagValueField}},
		}, check: func(p map[string]string) *emu.APIError {
			if d := strings.ToLower(p["DestinationDescription"]); strings.HasPrefix(d, "http://") || strings.HasPrefix(d, "https://") {
				return invalidDescription.err()
			}
			if p["KMSKeyId"] != "" && !strings.EqualFold(p["Encrypted"], "true") {
				return emu.Errorf(400, "InvalidParameter.EncryptedIllegal", "The specified parameter Encrypted must be true when kmsKeyId is not empty.")
			}
			return tagKeysGiven(p)
		}},
		&contract{product: "ecs", action: "DeleteImage", source: ecsDocs + "deleteimage", dryRun: true, params: []param{
			regionID(),
			{name: "ImageId", required: true, missing: missingParameter("ImageId")},
		}},
	)
}

func itemField(name string, n int, field string) string {
	return name + "." + strconv.Itoa(n) + "." + field
}

// tagKeysGiven: "once Tag.N.Key is passed it may not be an empty string", a value
// without its key is InvalidTag.Mismatch, and a key may appear once (Duplicate.TagKey).
func tagKeysGiven(p map[string]string) *emu.APIError {
	seen := map[string]bool{}
	for _, n := range indexed(p, "Tag", true) {
		k := p[itemField("Tag", n, "Key")]
		if k == "" {
			return emu.Errorf(400, "InvalidTag.Mismatch", "The specified Tag.n.Key and Tag.n.Value are not match.")
		}
		if seen[k] {
			return emu.Errorf(400, "Duplicate.TagKey", "The Tag.N.Key contain duplicate key.")
		}
		seen[k] = true
	}
	return nil
}
