package sandbox_test

import (
	"context"
	"strings"
	"testing"

	"imageshare"
	"imageshare/pkg/sandbox"
	"imageshare/pkg/scenario"
)

// A deployer's shell may hold the IMAGESHARE_* variables of s.yaml (a dry run among
// them); the sandbox never reads them, so a scenario still shares, in the scenario's
// region, with the default job queue and tag prefix.
func TestHostEnvironmentIsNotRead(t *testing.T) {
	for k, v := range map[string]string{
		"IMAGESHARE_DRY_RUN": "true", "DRY_RUN": "true", "IMAGESHARE_TAG_PREFIX": "corp",
		"IMAGESHARE_REGION": "eu-central-1", "IMAGESHARE_ACCOUNT_ID": "1999999999999999",
		"IMAGESHARE_JOB_QUEUE": "elsewhere", "IMAGESHARE_FUNCTION_ROLE": "someone-else",
	} {
		t.Setenv(k, v)
	}
	const src = `region: cn-shanghai
owner: "1000000000000001"
directory:
  id: rd-EnvTest
  root: r-EnvTest
  accounts:
    - {id: "1000000000000002"}
settings: {RETRY_BASE: 1ms, RETRY_MAX: 5ms}
images:
  - {id: m-EnvTest00001}
steps:
  - tag_image: {image: m-EnvTest00001, tags: {"imageshare:accounts": "1000000000000002"}}
  - advance: 2m
expect:
  images:
    m-EnvTest00001: {direct: ["1000000000000002"]}
`
	sc, err := scenario.Parse("env.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	var trace strings.Builder
	res, err := sandbox.Run(context.Background(), sc, sandbox.Options{SYAML: imageshare.SYAML, FunctionCommand: commands(), Trace: &trace})
	if err != nil {
		t.Fatal(err)
	}
	if !res.OK() {
		t.Fatalf("the host's IMAGESHARE_* variables reached the functions: %v %v\n%s", res.Failures, res.Violations, trace.String())
	}
	if res.Stats.Calls["ecs:ModifyImageSharePermission"] == 0 {
		t.Errorf("no share was made: calls %v", res.Stats.Calls)
	}
}
