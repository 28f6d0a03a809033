// Package cloud names the cloud calls the functions make, one method per API call, with
// plain Go types. The SDK-backed implementation lives in package aliyun; keeping the
// interface here lets the observer and applier compile without the heavy SDK packages.
package cloud

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// API is every Alibaba Cloud call imageshare makes. Each method is exactly one request,
// so counting calls counts API calls.
type API interface {
	// ECS 2014-05-26
	DescribeImages(ctx context.Context, in DescribeImagesInput) (ImagePage, error)
	DescribeImageSharePermission(ctx context.Context, region, image string, page int) (SharePermissionPage, error)
	ModifyImageSharePermission(ctx context.Context, region, image string, add, remove []string) (Result, error)
	TagResources(ctx context.Context, region string, images []string, tags map[string]string) (Result, error)
	// UntagResources removes tag keys from images.
	UntagResources(ctx context.Context, region string, images []string, keys []string) (Result, error)
	// CopyImage copies an image to another region and returns the copy's ID.
	CopyImage(ctx context.Context, in CopyImageInput) (string, Result, error)
	// ResourceManager 2020-03-31 (global)
	GetResourceDirectory(ctx context.Context) (Directory, error)
	ListAccounts(ctx context.Context, page int) (AccountPage, error)
	ListAncestors(ctx context.Context, folder string) ([]string, error)
	ListHandshakes(ctx context.Context, page int) (HandshakePage, error)
	// GetAccount reads one member with its path; EntityNotExists.Account when the
	// account is not a member (a run about a few images reads only their accounts).
	GetAccount(ctx context.Context, account string) (Account, error)
	// ResourceSharing 2020-01-10 (regional)
	ListResourceShares(ctx context.Context, region, token string) (SharePage, error)
	ListResourceShareAssociations(ctx context.Context, region, associationType, token string) (AssociationPage, error)
	// ListAssociations is ListResourceShareAssociations with its filters: one image's
	// associations, or the associations of at most MaxSharingEntities shares.
	ListAssociations(ctx context.Context, q AssociationQuery) (AssociationPage, error)
	CreateResourceShare(ctx context.Context, region, name string, resources, targets []string) (ShareInfo, Result, error)
	AssociateResourceShare(ctx context.Context, region, shareID string, resources, targets []string) (Result, error)
	DisassociateResourceShare(ctx context.Context, region, shareID string, resources, targets []string) (Result, error)
	// UpdateResourceShare sets AllowExternalTargets. The API requires ResourceShareName
	// (it renames the share): name is the share's current name, to keep it.
	UpdateResourceShare(ctx context.Context, region, shareID, name string, allowExternal bool) (Result, error)
	DeleteResourceShare(ctx context.Context, region, shareID string) (Result, error)
	// ActionTrail 2020-07-06 (regional; global events are listed in one region)
	LookupEvents(ctx context.Context, in LookupEventsInput) (EventPage, error)
}

// Page and batch limits of the APIs (their API references, cited in pkg/cloudsim).
const (
	MaxImagePage        = 100 // DescribeImages PageSize and ImageId list
	MaxSharePage        = 100 // DescribeImageSharePermission PageSize
	MaxAccountsPerCall  = 10  // ModifyImageSharePermission AddAccount.N / RemoveAccount.N
	MaxTagResources     = 50  // TagResources ResourceId.N
	MaxTagsPerCall      = 20  // TagResources Tag.N, UntagResources TagKey.N, CopyImage Tag.N, DescribeImages Tag.N
	MaxDirectoryPage    = 100 // ListAccounts PageSize
	MaxSharingPage      = 100 // Resource Sharing MaxResults
	MaxSharingEntities  = 5   // Resources.N / Targets.N per Resource Sharing call
	ImageResourceType   = "Image"
	AssociationResource = "Resource"
	AssociationTarget   = "Target"
)

// AllStatuses lists every image status, for DescribeImages, which returns only
// Available images unless told otherwise.
var AllStatuses = []string{"Creating", "Waiting", "Available", "UnAvailable", "CreateFailed", "Deprecated"}

// Credentials are an access key pair, with an STS token when temporary (as Function
// Compute hands them to each invocation).
type Credentials struct {
	AccessKeyID, AccessKeySecret, SecurityToken string
}

// Result carries the request ID of a successful write, for the report.
type Result struct{ RequestID string }

// DescribeImagesInput selects images of the caller.
type DescribeImagesInput struct {
	Region     string
	ImageIDs   []string // at most MaxImagePage; empty: all
	Statuses   []string // empty: Available only (the API's default)
	OwnerAlias string   // "self" for our images
	Page       int      // from 1
	PageSize   int      // at most MaxImagePage
	// Tags filters on tags (Tag.N.Key, Tag.N.Value): every key must be present, with the
	// value given unless it is "" (any value).
	Tags map[string]string
}

// CopyImageInput is one CopyImage request: Image of Region copied to Destination.
type CopyImageInput struct {
	Region, Image, Destination string
	// Tags are set on the copy when it is made.
	Tags map[string]string
	// KMSKeyID: encrypt the copy with this customer-managed key of the destination
	// (Encrypted=true); "" copies without asking for encryption.
	KMSKeyID string
	// ClientToken makes the request idempotent: the same token and parameters answer
	// the first request's copy.
	ClientToken string
}

// Image is one image as DescribeImages reports it.
type Image struct {
	ID          string
	OwnerAlias  string
	Status      string
	Created     time.Time
	ProductCode string
	SelfShared  bool // IsSelfShared: the image has direct shares
	Encrypted   bool
	Tags        map[string]string
}

// ImagePage is one page of DescribeImages.
type ImagePage struct {
	Images    []Image
	Total     int
	RequestID string
}

// SharePermissionPage is one page of DescribeImageSharePermission.
type SharePermissionPage struct {
	Accounts []string
	Total    int
}

// Directory is GetResourceDirectory's answer.
type Directory struct {
	ID, RootID, MasterAccountID string
}

// Account is one member of the directory.
type Account struct {
	ID       string
	FolderID string
	Path     string // ResourceDirectoryPath: rd-…/r-…/fd-…/account
	Status   string
}

// AccountPage is one page of ListAccounts.
type AccountPage struct {
	Accounts []Account
	Total    int
}

// Handshake is one invitation.
type Handshake struct {
	ID, Target, Status string
	Expire             time.Time
}

// HandshakePage is one page of ListHandshakesForResourceDirectory.
type HandshakePage struct {
	Handshakes []Handshake
	Total      int
}

// ShareInfo is one resource share.
type ShareInfo struct {
	ID, Name, Status string
	AllowExternal    bool
	Created          time.Time
}

// SharePage is one page of ListResourceShares.
type SharePage struct {
	Shares    []ShareInfo
	NextToken string
}

// Association is one entity of a resource share.
type Association struct {
	ShareID, ShareName string
	EntityID, Type     string // Type: Resource or Target
	Status             string
	FailureReason      string
	Message            string
	Updated            time.Time
}

// AssociationQuery selects associations of one type: of one resource (ResourceID, for
// type Resource), or of the shares ShareIDs (at most MaxSharingEntities), or both.
type AssociationQuery struct {
	Region   string
	Type     string // AssociationResource or AssociationTarget
	Resource string
	ShareIDs []string
	Token    string
}

// AssociationPage is one page of ListResourceShareAssociations.
type AssociationPage struct {
	Associations []Association
	NextToken    string
}

// LookupEventsInput selects one page of ActionTrail events.
type LookupEventsInput struct {
	Region string
	// Start and End bound the events' eventTime (whole seconds, UTC).
	Start, End time.Time
	// Attributes are LookupAttribute.N: at most MaxLookupAttributes, ANDed.
	Attributes []LookupAttribute
	MaxResults int // 1..MaxEventPage
	NextToken  string
}

// LookupAttribute is one condition of LookupEvents, an exact match.
type LookupAttribute struct{ Key, Value string }

// Limits of LookupEvents (its API reference).
const (
	MaxEventPage        = 50
	MaxLookupAttributes = 2
)

// EventPage is one page of LookupEvents: each event is an ActionTrail record as the
// service returned it (the same record as the data of an ActionTrail bus event),
// undecoded; what is not a JSON object is counted in Malformed and left out.
type EventPage struct {
	Events    []json.RawMessage
	Malformed int
	NextToken string
	RequestID string
}

// Error is an error answered by the cloud.
type Error struct {
	Code       string
	Message    string
	RequestID  string
	HTTPStatus int
	Action     string
}

func (e *Error) Error() string {
	return fmt.Sprintf("%s: %s (HTTP %d, request %s): %s", e.Action, e.Code, e.HTTPStatus, e.RequestID, e.Message)
}

// Code returns the cloud's error code of err, or "" when err is not a cloud answer.
func Code(err error) string {
	var ce *Error
	if errors.As(err, &ce) {
		return ce.Code
	}
	return ""
}

// RequestIDOf returns the request ID of a cloud error.
func RequestIDOf(err error) string {
	var ce *Error
	if errors.As(err, &ce) {
		return ce.RequestID
	}
	return ""
}

// Retryable reports whether a call that failed with err should be tried again
// (rule R9): throttling, server errors, conflicts, and failures to reach the cloud.
func Retryable(err error) bool {
	var ce *Error
	if !errors.As(err, &ce) {
		// Not an answer: a network failure or a broken connection.
		return err != nil && !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded)
	}
	switch {
	case Throttled(err),
		ce.Code == "ServiceUnavailable", ce.Code == "InternalError",
		ce.Code == "AssociateConflict", ce.Code == "DisassociateConflict",
		ce.HTTPStatus >= 500:
		return true
	}
	return false
}

// Throttled reports whether the cloud answered err because of its flow control.
func Throttled(err error) bool {
	code := Code(err)
	return strings.HasPrefix(code, "Throttling") || strings.Contains(code, ".Throttling")
}
