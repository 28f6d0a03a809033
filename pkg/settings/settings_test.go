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
	}
	if !reflect.DeepEqual(s, want) {
		t.Fatalf("defaults:\n got %+v\nwant %+v", s, want)
	}
}

func TestValues(t *testing.T) {
	s, err := Load(env(map[string]string{
		"TAG_PREFIX": "share", "ALLOWED_EXTERNAL_ACCOUNTS": "2000000000000001, 2000000000000002;2000000000000001",
		"MAX_ACCOUNTS_PER_IMAGE": "3", "REVOKE_REDUNDANT": "FALSE", "REDUNDANCY_SCOPE": "all", "DRY_RUN": "true",
		"SETTLE_DELAY": "0s", "REGIONS": "cn-shanghai cn-beijing", "NOTIFY_TOPIC": "imageshare-notices",
		"RETRY_BASE": "1ms", "RETRY_MAX": "5ms", "ECS_ENDPOINT": "http://127.0.0.1:4000/",
		"MNS_ENDPOINT": "https://1.mns.cn-hangzhou-internal.aliyuncs.com",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if s.TagPrefix != "share" || !reflect.DeepEqual(s.AllowedExternal, []string{"2000000000000001", "2000000000000002"}) ||
		s.MaxAccountsPerImage != 3 || s.RevokeRedundant || s.RedundancyScope != ScopeAll || !s.DryRun || s.SettleDelay != 0 ||
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
		{"SETTLE_DELAY", "60"}, {"SETTLE_DELAY", "-1s"}, {"SETTLE_DELAY", "8d"}, {"SETTLE_DELAY", "200h"},
		{"REGIONS", "Hangzhou"}, {"JOB_QUEUE", "jobs_queue"}, {"JOB_QUEUE", "-x"}, {"NOTIFY_TOPIC", "a b"},
		{"IMAGE_WAIT_MAX", "1s"}, {"MAX_MANAGED_SHARES", "0"}, {"RETRY_BASE", "0s"}, {"RETRY_MAX", "1ns"},
		{"FUNCTION_ROLE", "role/x"},
		{"ECS_ENDPOINT", "http://evil.example.com"}, {"ECS_ENDPOINT", "http://10.0.0.1:80"},
		{"RESOURCESHARING_ENDPOINT", "ftp://127.0.0.1"}, {"RESOURCEMANAGER_ENDPOINT", "resourcemanager.aliyuncs.com"},
		{"MNS_ENDPOINT", "http://aliyuncs.com.evil.net"}, {"ECS_ENDPOINT", "http://127.0.0.1:1/path"},
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

func TestCopyKMSKeys(t *testing.T) {
	s, err := Load(func(k string) string {
		return map[string]string{"COPY_KMS_KEYS": "cn-shanghai=key-sh-1, cn-beijing=key-bj-1;cn-shanghai=key-sh-1"}[k]
	})
	if err != nil || len(s.CopyKMSKeys) != 2 || s.CopyKMSKeys["cn-shanghai"] != "key-sh-1" || s.CopyKMSKeys["cn-beijing"] != "key-bj-1" {
		t.Fatalf("%+v %v", s.CopyKMSKeys, err)
	}
	for v, want := range map[string]string{"cn-shanghai": "region=key ID", "Shanghai=key-1": "region=key ID",
		"cn-shanghai=key 1": "region=key ID", "cn-shanghai=a,cn-shanghai=b": "two keys", "cn-shanghai=": "not a KMS key ID"} {
		_, err := Load(func(k string) string { return map[string]string{"COPY_KMS_KEYS": v}[k] })
		if err == nil || !strings.Contains(err.Error(), "COPY_KMS_KEYS") || !strings.Contains(err.Error(), want) {
			t.Errorf("COPY_KMS_KEYS=%q: %v, want an error naming the setting and %q", v, err, want)
		}
	}
}
