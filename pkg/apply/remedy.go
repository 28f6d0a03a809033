package apply

import "strings"

// Scopes of a refusal from the cloud (rule R9).
const (
	scopeAccount = "account" // narrow the batch; refuse the accounts failing alone
	scopeImage   = "image"   // refuse the image's direct part
	scopeTarget  = "target"  // refuse the folder (narrow the batch of targets)
	scopeRun     = "run"     // stop every Resource Sharing write of the run
	scopeGone    = "gone"    // the image is gone: nothing to do
	scopeRegion  = "region"  // refuse the copy to one region (docs/regions.md)
)

// remedy says, per error code, what it concerns and what a person can do about it.
type remedy struct {
	scope string
	text  string
}

var remedies = map[string]remedy{
	"InvalidAccount.NotFound":                              {scopeAccount, "the account does not exist; check the ID in the tag"},
	"InvalidAccount.Forbbiden":                             {scopeAccount, "the account cannot receive this image (it is the owner's own account)"},
	"InvalidImageId.BidMismatch":                           {scopeAccount, "an image built from a Marketplace image cannot be shared across the China and international sites; use an account of the same site"},
	"AssumeRoleError":                                      {scopeImage, "the image is encrypted: create the RAM role AliyunECSShareEncryptImageDefaultRole in the owner account, then retag or wait for the next sweep"},
	"InvalidOperation.ServiceKeyEncryptedImageUnsupported": {scopeImage, "images encrypted with the service key cannot be shared; copy the image (CopyImage) encrypting it with a customer-managed KMS key and share the copy"},
	"OperationDenied.InvalidImageStatus":                   {scopeImage, "the image is deprecated; images cannot be shared in this state"},
	"IncorrectImageStatus":                                 {scopeImage, "the image is not Available (it changed meanwhile); looked at again on the next run"},
	"QuotaExceed.ShareImage":                               {scopeImage, "the account's quota of shared custom images is reached; raise it in Quota Center or unshare other images"},
	"QuotaExceed.ShareImageUser":                           {scopeImage, "the image reached its quota of accounts it can be shared with; share with a folder instead, or raise the quota in Quota Center and MAX_ACCOUNTS_PER_IMAGE"},
	"InvalidImageId.NotFound":                              {scopeGone, "the image is gone"},
	"InvalidTarget":                                        {scopeTarget, "the target does not exist in the Resource Directory"},
	"InvalidTarget.SiteMismatch":                           {scopeTarget, "cross-site resource sharing is not supported: the target account is on the other site (China or international) than the owner"},
	"ShareWithYourself":                                    {scopeTarget, "a resource share cannot target the owner's own account"},
	"AccountNotInResourceDirectory":                        {scopeRun, "the owner account is neither the management account nor a member of a Resource Directory, so it cannot share with folders; deploy the functions in an account of the directory"},
	"NotEnableSharingWithResourceDirectory":                {scopeRun, "resource sharing with the Resource Directory is not enabled; call EnableSharingWithResourceDirectory from the management account (Resource Management console → Resource Sharing → Settings)"},
	"QuotaExceeded.ResourceShare.Count":                    {scopeRun, "the account's quota of resource shares is reached; delete unused shares or raise the quota"},
	"QuotaExceeded.SharedResource.Count":                   {scopeRun, "the account's quota of shared resources is reached; raise the quota or share fewer images"},
	"NotManagementAccount":                                 {scopeRun, "sharing with the directory needs the management account (or a delegated administrator); deploy the functions there"},
	"Forbidden.RAM":                                        {scopeImage, "the functions' RAM role lacks an ECS permission; attach the policy `imageshare policy --account ID --region R` prints (deploy/ram-policy.json for the default settings)"},
	"NoPermission":                                         {scopeRun, "the functions' RAM role lacks a Resource Management or Resource Sharing permission; attach the policy `imageshare policy --account ID --region R` prints (deploy/ram-policy.json for the default settings)"},

	// CopyImage's answers (https://www.alibabacloud.com/help/en/ecs/developer-reference/api-ecs-2014-05-26-copyimage):
	// each refuses the copy to one region; the other regions go on.
	"DestinationRegion.NotFound":                    {scopeRegion, "the cloud has no such region for the account (or it is not enabled); fix the regions tag, or enable the region"},
	"RegionNotSupportCopy":                          {scopeRegion, "the region does not support copying images; remove it from the regions tag"},
	"InvalidRegion.NotSupport":                      {scopeRegion, "the region does not support this encryption of copies; remove it from the regions tag or from COPY_KMS_KEYS"},
	"OperationDenied.NonCompliantDestinationRegion": {scopeRegion, "copying to this region is not in compliance with regulations for the account; remove it from the regions tag"},
	"QuotaExceed.Image":                             {scopeRegion, "the account's quota of custom images in the region is reached; raise it in Quota Center or delete unused images there (tried again on the next run)"},
	"QuotaExceed.Snapshot":                          {scopeRegion, "the account's quota of snapshots in the region is reached; raise it or delete unused snapshots there (tried again on the next run)"},
	"SizeExceed.Image":                              {scopeRegion, "the image is larger than a copy may be; ask Alibaba Cloud support to allow it, or copy its snapshots by hand"},
	"OperationDenied.ImageCopying":                  {scopeRegion, "a copy of the image is under way; looked at again on the next run"},
	"OperationDenied.NotPublished":                  {scopeRegion, "the image is built from a Marketplace image that is not published in the region; it cannot be copied there"},
	"OperationDenied.NotAuthorized":                 {scopeRegion, "the image is built from a Marketplace image the account is not authorized to use in the region; it cannot be copied there"},
	"OperationDeined.EncryptedSnapshot":             {scopeRegion, "the image is encrypted and cannot be copied to the region as asked; set COPY_KMS_KEYS to a customer-managed key of that region"},
	"OperationDenied.EncryptSnapshotAcrossRegion":   {scopeRegion, "the image cannot be copied to the region with this encryption; check COPY_KMS_KEYS"},
	"InvalidParameter.KMSKeyId.NotFound":            {scopeRegion, "the KMS key COPY_KMS_KEYS names for the region does not exist there; name a customer-managed key of that region"},
	"InvalidParameter.KMSKeyId.CMKNotEnabled":       {scopeRegion, "the KMS key COPY_KMS_KEYS names for the region is not enabled; enable it"},
	"InvalidParameter.KMSKeyId.KMSUnauthorized":     {scopeRegion, "ECS may not use the KMS key COPY_KMS_KEYS names for the region; authorize it (RAM role AliyunECSDiskEncryptDefaultRole)"},
	"OperationDenied.KmsServiceUnauthorized":        {scopeRegion, "the account has not authorized ECS to use KMS; authorize it in the KMS console"},
	"InvalidParameter.KmsNotEnabled":                {scopeRegion, "KMS is not activated for the account; activate it to copy encrypted images"},
	"IdempotentParameterMismatch":                   {scopeRegion, "a copy asked for earlier today with other tags is not listed yet; looked at again on the next run"},
	"InvalidDescription.Malformed":                  {scopeImage, requestRemedy},
	"InvalidParameter.EncryptedIllegal":             {scopeImage, requestRemedy},
	"InvalidImageName.Malformed":                    {scopeImage, requestRemedy},
	"InvalidImageName.Duplicated":                   {scopeImage, requestRemedy},
	"QuotaExceed.Tags":                              {scopeImage, "the copy would carry more than 20 tags; use fewer accounts and folders keys on the image"},
	"Param.Conflict":                                {scopeImage, requestRemedy},

	// Answers about the image or the share the call named, which changed under the run.
	"InvalidResourceId.NotFound":        {scopeGone, "the image is gone"},
	"InvalidParameter.Resources":        {scopeImage, "Resource Sharing does not know the image (deleted meanwhile?); it is looked at again on the next run"},
	"EntityNotExists.ResourceShare":     {scopeImage, "the resource share no longer exists (deleted meanwhile); the next run makes it again"},
	"ResourceShareStatusMismatchAction": {scopeImage, "the resource share is being deleted; the next run makes it again"},
	"DisassociateInvalid":               {scopeImage, "the resource share does not hold it any more; nothing to take out"},
	"OperationDenied.QuotaExceed":       {scopeImage, "the image holds too many tags (20 at most) to record the retained accounts; remove some tags"},
	"InvalidTagKey.Malformed":           {scopeImage, "the cloud refused the tag key (it may not start with acs: or aliyun, nor contain http:// or https://); check TAG_PREFIX"},
	"InvalidTagValue.Malformed":         {scopeImage, "the cloud refused the tag value"},

	// Answers to the functions' credentials or request signing: every call of the run
	// would get them.
	"InvalidAccessKeyId.NotFound":    {scopeRun, credentialsRemedy},
	"MissingSecurityToken":           {scopeRun, credentialsRemedy},
	"InvalidSecurityToken.Malformed": {scopeRun, credentialsRemedy},
	"InvalidSecurityToken.Expired":   {scopeRun, credentialsRemedy},
	"SignatureDoesNotMatch":          {scopeRun, credentialsRemedy},
	"SignatureNonceUsed":             {scopeRun, credentialsRemedy},
	"IncompleteSignature":            {scopeRun, credentialsRemedy},
	"InvalidSignatureMethod":         {scopeRun, credentialsRemedy},
	"InvalidTimeStamp.Format":        {scopeRun, "the cloud refused the request's timestamp; check the clock of the machine running imageshare"},
	"InvalidTimeStamp.Expired":       {scopeRun, "the cloud refused the request's timestamp; check the clock of the machine running imageshare"},
	"InvalidVersion":                 {scopeRun, requestRemedy},
	"InvalidAction.NotFound":         {scopeRun, requestRemedy},

	// Answers to a request the API's contract refuses: imageshare always sends these
	// parameters right, so one of them means a bug (or an API that changed).
	"MissingParameter":                           {scopeImage, requestRemedy},
	"MissingParameter.RegionId":                  {scopeImage, requestRemedy},
	"MissingParameter.ResourceType":              {scopeImage, requestRemedy},
	"MissingParameter.ResourceIds":               {scopeImage, requestRemedy},
	"MissingParameter.Tags":                      {scopeImage, requestRemedy},
	"MissingParameter.ResourceShareId":           {scopeImage, requestRemedy},
	"MissingParameter.ResourceShareName":         {scopeImage, requestRemedy},
	"InvalidParameter":                           {scopeImage, requestRemedy},
	"InvalidParameter.ResourceShareName":         {scopeImage, requestRemedy},
	"InvalidParameter.ResourceShareName.Length":  {scopeImage, requestRemedy},
	"InvalidParameter.ResourceType":              {scopeImage, requestRemedy},
	"InvalidParameter.Resources.Duplicate":       {scopeImage, requestRemedy},
	"InvalidParameter.Resources.Length":          {scopeImage, requestRemedy},
	"InvalidParameter.Targets":                   {scopeImage, requestRemedy},
	"InvalidParameter.Targets.Duplicate":         {scopeImage, requestRemedy},
	"InvalidParameter.Targets.Length":            {scopeImage, requestRemedy},
	"InvalidParameter.PermissionNames.Duplicate": {scopeImage, requestRemedy},
	"EntityNotExists.Permission":                 {scopeImage, requestRemedy},
	"ResourceAndTargetBothEmpty":                 {scopeImage, requestRemedy},
	"NumberExceed.ResourceIds":                   {scopeImage, requestRemedy},
	"NumberExceed.Tags":                          {scopeImage, requestRemedy},
	"InvalidResourceType.NotFound":               {scopeImage, requestRemedy},
	"InvalidTag.Mismatch":                        {scopeImage, requestRemedy},
	"Duplicate.TagKey":                           {scopeImage, requestRemedy},
	"ForbiddenParameter.LaunchPermission":        {scopeImage, requestRemedy},
	"PublicImageAgreement.NotSigned":             {scopeImage, requestRemedy},
	"DryRunOperation":                            {scopeImage, requestRemedy},
}

const (
	credentialsRemedy = "the cloud refused the functions' credentials or the request's signature; check the functions' RAM role (and its trust policy) and the clock"
	requestRemedy     = "the API refused the request imageshare sent (a bug in imageshare, or an API that changed): please report it with the request ID"
)

// remedyFor returns the remedy of an error code; unknown client errors concern the
// image (so that one odd answer never stops the other images).
func remedyFor(code string) remedy {
	if r, ok := remedies[code]; ok {
		return r
	}
	if strings.HasPrefix(code, "OperationDeined.") || strings.HasPrefix(code, "OperationDenied.") {
		return remedy{scopeImage, "the image cannot be shared in its current form (" + code + "); see the ECS documentation of ModifyImageSharePermission"}
	}
	return remedy{scopeImage, "the cloud refused the call with " + code}
}
