package settings

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestDefaults(t *testing.T) {
	s, err := Load(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	want := Settings{
		TagPrefix: "imageshare", MaxAccountsPerImage: 50, RevokeRedundant: true, RedundancyScope: ScopeTagged,
		SettleDelay: time.Minute, JobQueue: "imageshare-jobs", ImageWaitMax: 24 * time.Hour, MaxManagedShares: 100,
		RetryBase: 200 * time.Millisecond, RetryMax: 20 * time.Second, FunctionRole: "imageshare-fc", Endpoints: map[string]string{},
		OrgPoll: 5 * time.Minute, OrgPollLag: 10 * time.Minute, OrgEventsRegion: "ap-southeast-1",
	}
	if !reflect.DeepEqual(s, want) {
		t.Fatalf("defaults:\n got %+v\nwant %+v", s, want)
	}
}

func TestValues(t *testing.T) {
	s, err := Load(env(map[string]string{
		"TAG_PREFIX": "share", "ALLOWED_EXTERNAL_ACCOUNTS": "2000000000000001, 2000000000000002;2000000000000001",
		"MAX_ACCOUNTS_PER_IMAGE": "3", "REVOKE_REDUNDANT": "FALSE", "REDUNDANCY_SCOPE": "all", "DRY_RUN": "true",
		"SETTLE_DELAY": "5s", "REGIONS": "cn-shanghai cn-beijing", "NOTIFY_TOPIC": "imageshare-notices",
		"RETRY_BASE": "1ms", "RETRY_MAX": "5ms", "ECS_ENDPOINT": "http://127.0.0.1:4000/",
		"MNS_ENDPOINT": "https://1.mns.cn-hangzhou-internal.aliyuncs.com",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if s.TagPrefix != "share" || !reflect.DeepEqual(s.AllowedExternal, []string{"2000000000000001", "2000000000000002"}) ||
		s.MaxAccountsPerImage != 3 || s.RevokeRedundant || s.RedundancyScope != ScopeAll || !s.DryRun || s.SettleDelay != 5*time.Second ||
		!reflect.DeepEqual(s.Regions, []string{"cn-shanghai", "cn-beijing"}) || s.NotifyTopic != "imageshare-notices" ||
		s.RetryBase != time.Millisecond || s.RetryMax != 5*time.Millisecond {
		t.Fatalf("got %+v", s)
	}
	if s.Endpoints["ecs"] != "http://127.0.0.1:4000" || s.Endpoints["mns"] != "https://1.mns.cn-hangzhou-internal.aliyuncs.com" {
		t.Fatalf("endpoints %v", s.Endpoints)
	}
	if !s.Allowed("2000000000000002") || s.Allowed("2000000000000003") {
		t.Fatal("Allowed")
	}
}

func TestInvalid(t *testing.T) {
	tests := []struct{ name, value string }{
		{"TAG_PREFIX", "a:b"}, {"TAG_PREFIX", "acs"}, {"TAG_PREFIX", "aliyun-x"},
		{"ALLOWED_EXTERNAL_ACCOUNTS", "123"}, {"ALLOWED_EXTERNAL_ACCOUNTS", "fd-Prod000001"},
		{"MAX_ACCOUNTS_PER_IMAGE", "0"}, {"MAX_ACCOUNTS_PER_IMAGE", "ten"}, {"MAX_ACCOUNTS_PER_IMAGE", "-1"},
		{"REVOKE_REDUNDANT", "yes"}, {"REDUNDANCY_SCOPE", "some"}, {"DRY_RUN", "1"},
		{"SETTLE_DELAY", "60"}, {"SETTLE_DELAY", "-1s"}, {"SETTLE_DELAY", "0s"}, {"SETTLE_DELAY", "4s"}, {"SETTLE_DELAY", "11m"}, {"SETTLE_DELAY", "8d"},
		{"REGIONS", "Hangzhou"}, {"JOB_QUEUE", "jobs_queue"}, {"JOB_QUEUE", "-x"}, {"NOTIFY_TOPIC", "a b"},
		{"IMAGE_WAIT_MAX", "1s"}, {"MAX_MANAGED_SHARES", "0"}, {"RETRY_BASE", "0s"}, {"RETRY_MAX", "1ns"},
		{"FUNCTION_ROLE", "role/x"},
		{"ECS_ENDPOINT", "http://evil.example.com"}, {"ECS_ENDPOINT", "http://10.0.0.1:80"},
		{"RESOURCESHARING_ENDPOINT", "ftp://127.0.0.1"}, {"RESOURCEMANAGER_ENDPOINT", "resourcemanager.aliyuncs.com"},
		{"MNS_ENDPOINT", "http://aliyuncs.com.evil.net"}, {"ECS_ENDPOINT", "http://127.0.0.1:1/path"},
		{"ACTIONTRAIL_ENDPOINT", "http://actiontrail.example.com"},
		{"ORG_POLL", "7m"}, {"ORG_POLL", "90s"}, {"ORG_POLL", "30s"}, {"ORG_POLL", "2h"}, {"ORG_POLL", "-5m"}, {"ORG_POLL", "5"},
		{"ORG_POLL", "45m"}, {"ORG_POLL", "off"}, {"ORG_POLL_LAG", "-1m"}, {"ORG_POLL_LAG", "25h"}, {"ORG_POLL_LAG", "10"},
		{"ORG_EVENTS_REGION", "Singapore"}, {"ORG_EVENTS_REGION", "ap_southeast_1"},
	}
	for _, tc := range tests {
		t.Run(tc.name+"="+tc.value, func(t *testing.T) {
			_, err := Load(env(map[string]string{tc.name: tc.value}))
			var se *Error
			if !errors.As(err, &se) {
				t.Fatalf("want *Error, got %v", err)
			}
			if se.Name != tc.name || !strings.Contains(err.Error(), tc.name) || se.Problem == "" {
				t.Fatalf("error must name %s: %v", tc.name, err)
			}
		})
	}
}

func FuzzLoad(f *testing.F) {
	f.Add("MAX_ACCOUNTS_PER_IMAGE", "50")
	f.Add("ECS_ENDPOINT", "http://[::1]:80")
	f.Add("REGIONS", "cn-hangzhou,cn-beijing")
	f.Fuzz(func(t *testing.T, name, value string) {
		_, err := Load(env(map[string]string{name: value}))
		if err != nil {
			var se *Error
			if !errors.As(err, &se) || se.Name != name {
				t.Fatalf("error must be an *Error naming %q: %v", name, err)
			}
		}
	})
}

// TestOrgPoll: ORG_POLL is off (0) or a whole number of minutes dividing an hour; the
// lag and the events region are read beside it.
func TestOrgPoll(t *testing.T) {
	for v, want := range map[string]time.Duration{
		"0": 0, "0s": 0, "0m": 0, "1m": time.Minute, "2m": 2 * time.Minute, "3m": 3 * time.Minute, "4m": 4 * time.Minute,
		"5m": 5 * time.Minute, "300s": 5 * time.Minute, "6m": 6 * time.Minute, "10m": 10 * time.Minute, "12m": 12 * time.Minute,
		"15m": 15 * time.Minute, "20m": 20 * time.Minute, "30m": 30 * time.Minute, "60m": time.Hour, "1h": time.Hour,
	} {
		s, err := Load(env(map[string]string{"ORG_POLL": v}))
		if err != nil || s.OrgPoll != want {
			t.Errorf("ORG_POLL=%s: got %v, %v; want %v", v, s.OrgPoll, err, want)
		}
	}
	s, err := Load(env(map[string]string{"ORG_POLL": "15m", "ORG_POLL_LAG": "0s", "ORG_EVENTS_REGION": "cn-hangzhou",
		"ACTIONTRAIL_ENDPOINT": "https://actiontrail-vpc.cn-hangzhou.aliyuncs.com"}))
	if err != nil {
		t.Fatal(err)
	}
	if s.OrgPoll != 15*time.Minute || s.OrgPollLag != 0 || s.OrgEventsRegion != "cn-hangzhou" ||
		s.Endpoints["actiontrail"] != "https://actiontrail-vpc.cn-hangzhou.aliyuncs.com" {
		t.Fatalf("got %+v", s)
	}
}

// TestCopyKMSKeys: COPY_KMS_KEYS is region=key pairs, one key per region.
func TestCopyKMSKeys(t *testing.T) {
	s, err := Load(env(map[string]string{"COPY_KMS_KEYS": "cn-shanghai=key-sh-1, cn-beijing=key-bj-1;cn-shanghai=key-sh-1"}))
	if err != nil || len(s.CopyKMSKeys) != 2 || s.CopyKMSKeys["cn-shanghai"] != "key-sh-1" || s.CopyKMSKeys["cn-beijing"] != "key-bj-1" {
		t.Fatalf("%+v %v", s.CopyKMSKeys, err)
	}
	for v, want := range map[string]string{"cn-shanghai": "region=key ID", "Shanghai=key-1": "region=key ID",
		"cn-shanghai=key 1": "region=key ID", "cn-shanghai=a,cn-shanghai=b": "two keys", "cn-shanghai=": "not a KMS key ID"} {
		_, err := Load(env(map[string]string{"COPY_KMS_KEYS": v}))
		if err == nil || !strings.Contains(err.Error(), "COPY_KMS_KEYS") || !strings.Contains(err.Error(), want) {
			t.Errorf("COPY_KMS_KEYS=%q: %v, want an error naming the setting and %q", v, err, want)
		}
	}
}
