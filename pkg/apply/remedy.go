package apply

import "strings"

// Scopes of a refusal from the cloud (rule R9).
const (
	scopeAccount = "account" // narrow the batch; refuse the accounts failing alone
	scopeImage   = "image"   // refuse the image's direct part
	scopeTarget  = "target"  // refuse the folder (narrow the batch of targets)
	scopeRun     = "run"     // stop every Resource Sharing write of the run
	scopeGone    = "gone"    // the image is gone: nothing to do
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
	"IncorrectImageStatus":                                 {scopeImage, "the image is not Available"},
	"QuotaExceed.ShareImage":                               {scopeImage, "the account's quota of shared custom images is reached; raise it in Quota Center or unshare other images"},
	"QuotaExceed.ShareImageUser":                           {scopeImage, "the image reached its quota of accounts it can be shared with; share with a folder instead, or raise the quota in Quota Center and MAX_ACCOUNTS_PER_IMAGE"},
	"InvalidImageId.NotFound":                              {scopeGone, "the image is gone"},
	"InvalidTarget":                                        {scopeTarget, "the target does not exist in the Resource Directory"},
	"InvalidTarget.SiteMismatch":                           {scopeTarget, "cross-site resource sharing is not supported"},
	"AccountNotInResourceDirectory":                        {scopeTarget, "the account is not in the Resource Directory"},
	"NotEnableSharingWithResourceDirectory":                {scopeRun, "resource sharing with the Resource Directory is not enabled; call EnableSharingWithResourceDirectory from the management account (Resource Management console → Resource Sharing → Settings)"},
	"QuotaExceeded.ResourceShare.Count":                    {scopeRun, "the account's quota of resource shares is reached; delete unused shares or raise the quota"},
	"QuotaExceeded.SharedResource.Count":                   {scopeRun, "the account's quota of shared resources is reached; raise the quota or share fewer images"},
	"NotManagementAccount":                                 {scopeRun, "sharing with the directory needs the management account (or a delegated administrator); deploy the functions there"},
	"Forbidden.RAM":                                        {scopeImage, "the functions' RAM role lacks an ECS permission; attach the policy `imageshare policy --account ID --region R` prints (deploy/ram-policy.json for the default settings)"},
	"NoPermission":                                         {scopeRun, "the functions' RAM role lacks a Resource Management or Resource Sharing permission; attach the policy `imageshare policy --account ID --region R` prints (deploy/ram-policy.json for the default settings)"},
}

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
