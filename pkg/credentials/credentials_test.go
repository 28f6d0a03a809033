package credentials

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// clean points the chain at an empty home and clears every variable it reads.
func clean(t *testing.T) string {
	home := t.TempDir()
	t.Setenv("HOME", home)
	for _, k := range []string{"ALIBABA_CLOUD_ACCESS_KEY_ID", "ALIBABA_CLOUD_ACCESS_KEY_SECRET", "ALIBABA_CLOUD_SECURITY_TOKEN",
		"ALIBABA_CLOUD_PROFILE", "ALIBABA_CLOUD_ECS_METADATA", "ALIBABA_CLOUD_ROLE_ARN", "ALIBABA_CLOUD_OIDC_PROVIDER_ARN",
		"ALIBABA_CLOUD_OIDC_TOKEN_FILE", "ALIBABA_CLOUD_CREDENTIALS_FILE", "ALIBABA_CLOUD_CLI_PROFILE_DISABLED"} {
		t.Setenv(k, "")
	}
	return home
}

func writeConfig(t *testing.T, home, content string) {
	t.Helper()
	dir := filepath.Join(home, ".aliyun")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "config.json"), []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestChainOrder(t *testing.T) {
	home := clean(t)
	writeConfig(t, home, `{"current":"a","profiles":[
		{"name":"a","mode":"AK","access_key_id":"LTAIprofileA","access_key_secret":"secretA"},
		{"name":"b","mode":"AK","access_key_id":"LTAIprofileB","access_key_secret":"secretB"}]}`)
	r, err := Default()
	if err != nil || r.Credentials.AccessKeyID != "LTAIprofileA" || r.Credentials.AccessKeySecret != "secretA" || !strings.Contains(r.Provider, "cli_profile") {
		t.Fatalf("current CLI profile: %+v %v", r, err)
	}
	t.Setenv("ALIBABA_CLOUD_PROFILE", "b")
	if r, err := Default(); err != nil || r.Credentials.AccessKeyID != "LTAIprofileB" {
		t.Fatalf("ALIBABA_CLOUD_PROFILE=b: %+v %v", r, err)
	}
	// The environment comes first, with an STS token when there is one.
	t.Setenv("ALIBABA_CLOUD_ACCESS_KEY_ID", "STS.env")
	t.Setenv("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "secretEnv")
	t.Setenv("ALIBABA_CLOUD_SECURITY_TOKEN", "token")
	if r, err := Default(); err != nil || r.Credentials.AccessKeyID != "STS.env" || r.Credentials.SecurityToken != "token" || !strings.Contains(r.Provider, "env") {
		t.Fatalf("environment: %+v %v", r, err)
	}
}

func TestNoCredentials(t *testing.T) {
	clean(t)
	if _, err := Default(); err == nil || !strings.Contains(err.Error(), "no Alibaba Cloud credentials found") {
		t.Fatalf("want a clear error, got %v", err)
	}
}

// TestNoCredentialsIsOneSentenceNamingTheSources (issue 14): a missing credential is one
// sentence naming every source of the chain and why it gave nothing, with the remedy —
// not the chain's run-on of SDK texts ("enviroment", "Can not open fileopen").
func TestNoCredentialsIsOneSentenceNamingTheSources(t *testing.T) {
	home := clean(t)
	_, err := Default()
	if err == nil {
		t.Fatal("no error without credentials")
	}
	msg := err.Error()
	for _, want := range []string{
		"the variables ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET (not set)",
		"OIDC (ALIBABA_CLOUD_ROLE_ARN not set)",
		"the aliyun CLI's profile " + filepath.Join(home, ".aliyun", "config.json") + " (no such file)",
		"the credentials file " + filepath.Join(home, ".alibabacloud", "credentials") + " (no such file)",
		"the ECS instance's RAM role (ALIBABA_CLOUD_ECS_METADATA not set)",
		"; set ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET, or run aliyun configure",
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("the error lacks %q:\n%s", want, msg)
		}
	}
	for _, sdk := range []string{"enviroment", "Can not open", "fileopen", "unable to get credentials", "\n"} {
		if strings.Contains(msg, sdk) {
			t.Errorf("the error carries the SDK's text %q:\n%s", sdk, msg)
		}
	}
	if n := strings.Count(msg, ". "); n > 0 {
		t.Errorf("more than one sentence:\n%s", msg)
	}
	// Each source's state is what can be seen: a secret without its key ID, a CLI
	// profile that is not there, a credentials file elsewhere.
	t.Setenv("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "s")
	writeConfig(t, home, `{"current":"a","profiles":[{"name":"a","mode":"AK"}]}`)
	t.Setenv("ALIBABA_CLOUD_PROFILE", "b")
	t.Setenv("ALIBABA_CLOUD_CREDENTIALS_FILE", filepath.Join(home, "creds"))
	_, err = Default()
	for _, want := range []string{"(the key ID is not set)", `(no profile named "b")`, filepath.Join(home, "creds") + " (no such file)"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("the error lacks %q: %v", want, err)
		}
	}
}

// A malformed CLI config is quoted whole by credentials-go; its secrets must not reach
// the error.
func TestMalformedConfigDoesNotLeak(t *testing.T) {
	home := clean(t)
	writeConfig(t, home, `{"current":"a","profiles":[{"name":"a","mode":"AK","access_key_id":"LTAIleak","access_key_secret":"SECRETleak"`)
	_, err := Default()
	if err == nil {
		t.Fatal("no error for a malformed config")
	}
	if strings.Contains(err.Error(), "SECRETleak") || strings.Contains(err.Error(), "LTAIleak") {
		t.Fatalf("the error quotes the config: %v", err)
	}
	if !strings.Contains(err.Error(), "not valid JSON") {
		t.Errorf("the error does not say what is wrong: %v", err)
	}
}

func TestFromEnv(t *testing.T) {
	env := map[string]string{}
	get := func(k string) string { return env[k] }
	if _, ok, err := FromEnv(get, "X"); ok || err != nil {
		t.Fatalf("nothing set: ok=%v err=%v", ok, err)
	}
	env["X_ACCESS_KEY_ID"] = "LTAIx"
	if _, ok, err := FromEnv(get, "X"); !ok || err == nil || !strings.Contains(err.Error(), "X_ACCESS_KEY_SECRET") {
		t.Fatalf("half set: ok=%v err=%v", ok, err)
	}
	env["X_ACCESS_KEY_SECRET"] = "s"
	env["X_SECURITY_TOKEN"] = "tok"
	r, ok, err := FromEnv(get, "X")
	if !ok || err != nil || r.Credentials.AccessKeyID != "LTAIx" || r.Credentials.SecurityToken != "tok" {
		t.Fatalf("%+v %v %v", r, ok, err)
	}
}
