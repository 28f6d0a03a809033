package main

import (
	"bytes"
	"os"
	"strings"
	"testing"
)

func TestPolicyCommand(t *testing.T) {
	run := func(args ...string) (int, string, string) {
		var out, errOut bytes.Buffer
		code := policyCmd(args, &out, &errOut)
		return code, out.String(), errOut.String()
	}
	file, err := os.ReadFile("../../deploy/ram-policy.json")
	if err != nil {
		t.Fatal(err)
	}
	if code, out, errOut := run(); code != exitOK || out != string(file) || errOut != "" {
		t.Fatalf("no flags: exit %d, stderr %q, output differs from deploy/ram-policy.json:\n%s", code, errOut, out)
	}
	code, out, _ := run("--account", "1000000000000001", "--region", "cn-shanghai", "--job-queue", "jobs", "--notify-topic", "notices", "--regions", "eu-central-1")
	for _, want := range []string{`"acs:mns:*:1000000000000001:/queues/jobs/messages"`, `"acs:mns:cn-shanghai:1000000000000001:/topics/notices/messages"`,
		`"acs:ecs:cn-shanghai:1000000000000001:image/*"`, `"acs:ecs:eu-central-1:1000000000000001:image/*"`} {
		if code != exitOK || !strings.Contains(out, want) {
			t.Errorf("exit %d, output lacks %s:\n%s", code, want, out)
		}
	}
	if strings.Contains(out, "ACCOUNT_ID") || strings.Contains(out, "REGION_ID") {
		t.Errorf("placeholders left:\n%s", out)
	}
	if code, out, errOut := run("--help"); code != exitOK || !strings.Contains(out, "usage: imageshare policy") || !strings.Contains(out, "-notify-topic") || errOut != "" {
		t.Errorf("--help: exit %d\nstdout %s\nstderr %s", code, out, errOut)
	}
	for _, bad := range [][]string{{"--account", "12"}, {"--region", "cn_hangzhou"}, {"--job-queue", "a/b"}, {"--bogus"}, {"extra"}} {
		if code, out, errOut := run(bad...); code != exitUsage || out != "" || errOut == "" {
			t.Errorf("%v: exit %d, stdout %q, stderr %q", bad, code, out, errOut)
		}
	}
	if _, _, errOut := run("--account", "12"); !strings.Contains(errOut, `account "12" is not a 16-digit account ID`) {
		t.Errorf("the refusal does not name the value: %s", errOut)
	}
}
