// Package settings reads and validates the functions' settings (README, "Settings") from
// their environment, before any client is created.
package settings

import (
	"fmt"
	"maps"
	"net"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"imageshare/pkg/policy"
)

// Settings are the validated settings of one deployment.
type Settings struct {
	TagPrefix           string
	AllowedExternal     []string
	MaxAccountsPerImage int
	RevokeRedundant     bool
	RedundancyScope     string // ScopeTagged or ScopeAll
	DryRun              bool
	SettleDelay         time.Duration
	Regions             []string // empty: the function's own region
	JobQueue            string
	NotifyTopic         string
	ImageWaitMax        time.Duration
	MaxManagedShares    int
	RetryBase           time.Duration
	RetryMax            time.Duration
	// OrgPoll is how often org-events looks up Resource Directory writes in ActionTrail
	// (0: never); a whole number of minutes that divides an hour, so that the polls
	// fall on the same minutes of every hour.
	OrgPoll time.Duration
	// OrgPollLag is how late ActionTrail may list an event: each poll looks back
	// OrgPoll + OrgPollLag.
	OrgPollLag time.Duration
	// OrgEventsRegion is the region whose LookupEvents lists global (Resource
	// Directory) events.
	OrgEventsRegion string

	// FunctionRole is the RAM role the functions run as; events caused by it are dropped
	// so that the functions' own writes cannot loop.
	FunctionRole string
	// CopyKMSKeys: per region, the customer-managed KMS key that encrypts copies of
	// encrypted images there (docs/regions.md).
	CopyKMSKeys map[string]string
	// Endpoints overrides service endpoints (emulated cloud, VPC endpoints); keys are
	// the services of EndpointVars.
	Endpoints map[string]string
}

// Redundancy scopes.
const (
	ScopeTagged = "tagged"
	ScopeAll    = "all"
)

// Var names a setting with its default.
type Var struct {
	Name, Default, Meaning string
}

// Vars lists every setting, in the order of the README's settings table.
var Vars = []Var{
	{"TAG_PREFIX", policy.DefaultPrefix, "tag namespace"},
	{"ALLOWED_EXTERNAL_ACCOUNTS", "", "accounts outside the Resource Directory that tags may name"},
	{"MAX_ACCOUNTS_PER_IMAGE", "50", "the ECS quota of direct shares per image"},
	{"REVOKE_REDUNDANT", "true", "revoke direct shares an organization share covers (R7)"},
	{"REDUNDANCY_SCOPE", ScopeTagged, "tagged: R7 for managed images; all: also untagged custom images (R8)"},
	{"DRY_RUN", "false", "decide and report everything, change nothing"},
	{"SETTLE_DELAY", "60s", "event-triggered jobs wait this long"},
	{"REGIONS", "", "regions the sweep covers besides the function's own"},
	{"JOB_QUEUE", "imageshare-jobs", "MNS queue of reconcile jobs"},
	{"NOTIFY_TOPIC", "", "MNS topic that receives one message per change or refusal"},
	{"IMAGE_WAIT_MAX", "24h", "how long an image may stay Creating/Waiting"},
	{"MAX_MANAGED_SHARES", "100", "resource shares the functions may create"},
	{"RETRY_BASE", "200ms", "first backoff of a retried cloud call"},
	{"RETRY_MAX", "20s", "longest backoff of a retried cloud call"},
	{"ORG_POLL", "5m", "how often org-events looks up Resource Directory writes in ActionTrail (0: never)"},
	{"ORG_POLL_LAG", "10m", "how late ActionTrail may list an event: each poll looks back ORG_POLL + ORG_POLL_LAG"},
	{"ORG_EVENTS_REGION", "ap-southeast-1", "the region whose LookupEvents lists global (Resource Directory) events"},
	{"FUNCTION_ROLE", "imageshare-fc", "RAM role of the functions; its events are dropped"},
	{"COPY_KMS_KEYS", "", "region=key ID pairs: the KMS key that encrypts copies of encrypted images in each region"},
}

// EndpointVars maps the endpoint override variables to their service. The last four
// are read only by `imageshare setup` and `imageshare doctor`.
var EndpointVars = map[string]string{
	"ECS_ENDPOINT":             "ecs",
	"RESOURCEMANAGER_ENDPOINT": "resourcemanager",
	"RESOURCESHARING_ENDPOINT": "resourcesharing",
	"MNS_ENDPOINT":             "mns",
	"ACTIONTRAIL_ENDPOINT":     "actiontrail",
	"RAM_ENDPOINT":             "ram",
	"STS_ENDPOINT":             "sts",
	"EVENTBRIDGE_ENDPOINT":     "eventbridge",
	"MNS_OPEN_ENDPOINT":        "mns-open",
}

// Error names the setting that is wrong.
type Error struct {
	Name, Value, Problem string
}

func (e *Error) Error() string {
	return fmt.Sprintf("setting %s=%q: %s", e.Name, e.Value, e.Problem)
}

var (
	regionRE = regexp.MustCompile(`^[a-z]{2,}(-[a-z0-9]+)+$`)
	// MNS queue and topic names: letters, digits and hyphens, starting with a letter or
	// digit, at most 256 characters (120 for topics; the stricter one is used).
	mnsNameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9-]{0,119}$`)
	roleRE    = regexp.MustCompile(`^[A-Za-z0-9.\-]{1,64}$`)
	prefixRE  = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.\-/]{0,63}$`)
)

// Load reads the settings through getenv (os.Getenv in a function). The first invalid
// setting is returned as an *Error.
func Load(getenv func(string) string) (Settings, error) {
	get := func(name string) (string, bool) {
		v := strings.TrimSpace(getenv(name))
		if v == "" {
			for _, d := range Vars {
				if d.Name == name {
					return d.Default, false
				}
			}
		}
		return v, true
	}
	var s Settings
	var err error
	fail := func(name, value, problem string) error { return &Error{Name: name, Value: value, Problem: problem} }

	v, _ := get("TAG_PREFIX")
	if !prefixRE.MatchString(v) || strings.Contains(v, ":") || strings.HasPrefix(strings.ToLower(v), "acs") || strings.HasPrefix(strings.ToLower(v), "aliyun") {
		return s, fail("TAG_PREFIX", v, "must be 1-64 letters, digits or _ . - /, without ':' and not starting with acs or aliyun (reserved by the cloud)")
	}
	s.TagPrefix = v

	v, _ = get("ALLOWED_EXTERNAL_ACCOUNTS")
	if s.AllowedExternal, err = accountList(v); err != nil {
		return s, fail("ALLOWED_EXTERNAL_ACCOUNTS", v, err.Error())
	}
	if s.MaxAccountsPerImage, err = intIn(get, "MAX_ACCOUNTS_PER_IMAGE", 1, 10000); err != nil {
		return s, err
	}
	if s.RevokeRedundant, err = boolean(get, "REVOKE_REDUNDANT"); err != nil {
		return s, err
	}
	v, _ = get("REDUNDANCY_SCOPE")
	if v != ScopeTagged && v != ScopeAll {
		return s, fail("REDUNDANCY_SCOPE", v, "must be tagged or all")
	}
	s.RedundancyScope = v
	if s.DryRun, err = boolean(get, "DRY_RUN"); err != nil {
		return s, err
	}
	// From 5s (a tool's untag-then-tag takes a few seconds) to 10m (a removal takes
	// effect about two SETTLE_DELAY after the edit, R12).
	if s.SettleDelay, err = duration(get, "SETTLE_DELAY", 5*time.Second, 10*time.Minute); err != nil {
		return s, err
	}
	v, _ = get("REGIONS")
	for _, r := range policy.Split(v) {
		if !regionRE.MatchString(r) {
			return s, fail("REGIONS", v, fmt.Sprintf("%q is not a region ID such as cn-hangzhou", r))
		}
		if !slices.Contains(s.Regions, r) {
			s.Regions = append(s.Regions, r)
		}
	}
	v, _ = get("JOB_QUEUE")
	if !mnsNameRE.MatchString(v) {
		return s, fail("JOB_QUEUE", v, "must be an MNS queue name: letters, digits and hyphens, at most 120")
	}
	s.JobQueue = v
	v, _ = get("NOTIFY_TOPIC")
	if v != "" && !mnsNameRE.MatchString(v) {
		return s, fail("NOTIFY_TOPIC", v, "must be empty or an MNS topic name: letters, digits and hyphens, at most 120")
	}
	s.NotifyTopic = v
	if s.ImageWaitMax, err = duration(get, "IMAGE_WAIT_MAX", time.Minute, 365*24*time.Hour); err != nil {
		return s, err
	}
	if s.MaxManagedShares, err = intIn(get, "MAX_MANAGED_SHARES", 1, 100000); err != nil {
		return s, err
	}
	if s.RetryBase, err = duration(get, "RETRY_BASE", time.Millisecond, time.Hour); err != nil {
		return s, err
	}
	if s.RetryMax, err = duration(get, "RETRY_MAX", time.Millisecond, time.Hour); err != nil {
		return s, err
	}
	if s.RetryMax < s.RetryBase {
		// Name the setting the deployer wrote: a RETRY_BASE above the default RETRY_MAX
		// is RETRY_BASE's problem.
		v, set := get("RETRY_MAX")
		if !set {
			v, _ = get("RETRY_BASE")
			return s, fail("RETRY_BASE", v, fmt.Sprintf("must not be longer than RETRY_MAX (%s)", s.RetryMax))
		}
		return s, fail("RETRY_MAX", v, "must not be shorter than RETRY_BASE")
	}
	if s.OrgPoll, err = orgPoll(get); err != nil {
		return s, err
	}
	// ActionTrail keeps 90 days of events; a day of lag is far more than it documents.
	if s.OrgPollLag, err = duration(get, "ORG_POLL_LAG", 0, 24*time.Hour); err != nil {
		return s, err
	}
	v, _ = get("ORG_EVENTS_REGION")
	if !regionRE.MatchString(v) {
		return s, fail("ORG_EVENTS_REGION", v, "must be a region ID such as ap-southeast-1")
	}
	s.OrgEventsRegion = v
	v, _ = get("FUNCTION_ROLE")
	if !roleRE.MatchString(v) {
		return s, fail("FUNCTION_ROLE", v, "must be a RAM role name: 1-64 letters, digits, . or -")
	}
	s.FunctionRole = v
	v, _ = get("COPY_KMS_KEYS")
	if s.CopyKMSKeys, err = kmsKeys(v); err != nil {
		return s, fail("COPY_KMS_KEYS", v, err.Error())
	}

	s.Endpoints = map[string]string{}
	for _, name := range slices.Sorted(maps.Keys(EndpointVars)) {
		v := strings.TrimSpace(getenv(name))
		if v == "" {
			continue
		}
		if err := checkEndpoint(v); err != nil {
			return s, fail(name, v, err.Error())
		}
		s.Endpoints[EndpointVars[name]] = strings.TrimRight(v, "/")
	}
	return s, nil
}

// checkEndpoint accepts only loopback hosts (the emulated cloud) and Alibaba Cloud's own
// domains, so that a changed setting cannot send credentials anywhere else.
func checkEndpoint(v string) error {
	u, err := url.Parse(v)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return fmt.Errorf("must be a URL such as https://ecs.cn-hangzhou.aliyuncs.com or http://127.0.0.1:8080")
	}
	if u.Path != "" && u.Path != "/" || u.RawQuery != "" || u.User != nil {
		return fmt.Errorf("must be scheme://host[:port] only")
	}
	host := u.Hostname()
	if host == "localhost" {
		return nil
	}
	if ip := net.ParseIP(host); ip != nil {
		if ip.IsLoopback() {
			return nil
		}
		return fmt.Errorf("host %s is not a loopback address", host)
	}
	if strings.HasSuffix(strings.ToLower(host), ".aliyuncs.com") {
		return nil
	}
	return fmt.Errorf("host %s is neither loopback nor *.aliyuncs.com", host)
}

// orgPoll reads ORG_POLL: 0 (off), or a whole number of minutes, at least one, that
// divides 60 (the poll runs when the minutes since midnight UTC are a multiple of it, so
// that it falls on the same minutes of every hour and every day).
func orgPoll(get func(string) (string, bool)) (time.Duration, error) {
	v, _ := get("ORG_POLL")
	d, err := time.ParseDuration(v)
	if v == "0" {
		d, err = 0, nil
	}
	switch {
	case err != nil:
		return 0, &Error{Name: "ORG_POLL", Value: v, Problem: "must be 0 (off) or a duration in whole minutes such as 5m"}
	case d == 0:
		return 0, nil
	case d < time.Minute || d%time.Minute != 0 || time.Hour%d != 0:
		return 0, &Error{Name: "ORG_POLL", Value: v, Problem: "must be 0 (off) or a whole number of minutes that divides 60: 1m, 2m, 3m, 4m, 5m, 6m, 10m, 12m, 15m, 20m, 30m or 60m"}
	}
	return d, nil
}

// kmsKeyRE: a KMS key ID (at most 64 characters, CopyImage's KMSKeyId).
var kmsKeyRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_:/.\-]{0,63}$`)

// kmsKeys reads region=key pairs, one key per region.
func kmsKeys(v string) (map[string]string, error) {
	var out map[string]string // nil: no key
	toks := policy.Split(v)
	if len(toks) == 1 && toks[0] == "none" {
		return nil, nil
	}
	for _, t := range toks {
		if out == nil {
			out = map[string]string{}
		}
		r, k, ok := strings.Cut(t, "=")
		switch {
		case !ok || !regionRE.MatchString(r):
			return nil, fmt.Errorf("%q is not region=key ID (such as cn-shanghai=key-sh-0123)", t)
		case !kmsKeyRE.MatchString(k):
			return nil, fmt.Errorf("%q is not a KMS key ID (letters, digits and _ : / . -, at most 64)", k)
		case out[r] != "" && out[r] != k:
			return nil, fmt.Errorf("region %s has two keys (%s and %s)", r, out[r], k)
		}
		out[r] = k
	}
	return out, nil
}

func accountList(v string) ([]string, error) {
	var out []string
	toks := policy.Split(v)
	if len(toks) == 1 && toks[0] == "none" {
		return nil, nil
	}
	for _, t := range toks {
		if !policy.IsAccount(t) {
			return nil, fmt.Errorf("%q is not an account ID (16 digits)", t)
		}
		if !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	return out, nil
}

func intIn(get func(string) (string, bool), name string, lo, hi int) (int, error) {
	v, _ := get(name)
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		return 0, &Error{Name: name, Value: v, Problem: fmt.Sprintf("must be a whole number from %d to %d", lo, hi)}
	}
	return n, nil
}

func boolean(get func(string) (string, bool), name string) (bool, error) {
	v, _ := get(name)
	switch strings.ToLower(v) {
	case "true":
		return true, nil
	case "false":
		return false, nil
	}
	return false, &Error{Name: name, Value: v, Problem: "must be true or false"}
}

func duration(get func(string) (string, bool), name string, lo, hi time.Duration) (time.Duration, error) {
	v, _ := get(name)
	d, err := time.ParseDuration(v)
	if err != nil || d < lo || d > hi {
		return 0, &Error{Name: name, Value: v, Problem: fmt.Sprintf("must be a duration such as 60s or 5m, from %s to %s", lo, hi)}
	}
	return d, nil
}

// Allowed reports whether account is on the ALLOWED_EXTERNAL_ACCOUNTS list.
func (s Settings) Allowed(account string) bool { return slices.Contains(s.AllowedExternal, account) }
