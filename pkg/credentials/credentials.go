// Package credentials finds the operator's Alibaba Cloud credentials the way the
// Alibaba tools do, through github.com/aliyun/credentials-go's default chain:
//
//  1. environment variables ALIBABA_CLOUD_ACCESS_KEY_ID, ALIBABA_CLOUD_ACCESS_KEY_SECRET
//     (and ALIBABA_CLOUD_SECURITY_TOKEN for STS credentials);
//  2. OIDC (ALIBABA_CLOUD_ROLE_ARN, ALIBABA_CLOUD_OIDC_PROVIDER_ARN,
//     ALIBABA_CLOUD_OIDC_TOKEN_FILE), as in ACK pods;
//  3. the Alibaba Cloud CLI's profile in ~/.aliyun/config.json (the current profile, or
//     the one ALIBABA_CLOUD_PROFILE names);
//  4. the profile file ~/.alibabacloud/credentials (ALIBABA_CLOUD_CREDENTIALS_FILE);
//  5. the ECS instance's RAM role, when ALIBABA_CLOUD_ECS_METADATA names it.
//
// The result is a cloud.Credentials for the SDK clients of package aliyun. Function
// Compute hands the functions their credentials per invocation; this package is for the
// command line only.
package credentials

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	alicred "github.com/aliyun/credentials-go/credentials"

	"imageshare/pkg/cloud"
)

// Resolved is a set of credentials and the provider of the chain that gave them
// (e.g. "default/env", "default/cli_profile"), which may be shown; the key never is.
type Resolved struct {
	Credentials cloud.Credentials
	Provider    string
}

// Default resolves the standard chain once. Temporary credentials (a RAM role) last at
// least 15 minutes, longer than any command of the CLI needs. When no source gives
// credentials, the error is one sentence naming each source tried and why it gave
// none (the chain's own message is a run-on of SDK texts).
func Default() (Resolved, error) {
	c, err := alicred.NewCredential(nil)
	if err != nil {
		return Resolved{}, fmt.Errorf("credentials chain: %w", err)
	}
	m, err := c.GetCredential()
	if err == nil && m != nil && deref(m.AccessKeyId) != "" && deref(m.AccessKeySecret) != "" {
		return Resolved{Credentials: cloud.Credentials{AccessKeyID: deref(m.AccessKeyId), AccessKeySecret: deref(m.AccessKeySecret),
			SecurityToken: deref(m.SecurityToken)}, Provider: deref(m.Type)}, nil
	}
	home, _ := os.UserHomeDir()
	return Resolved{}, errors.New(NoneFound(os.Getenv, home))
}

// NoneFound is the sentence for a chain that gave nothing: each source of
// credentials-go's default chain (v1.3.10: environment, OIDC, the aliyun CLI's profile,
// the credentials file, the ECS instance's RAM role), in its order, with why it gave
// nothing as far as can be seen from outside, and the usual remedy. It never quotes a
// file: a malformed one may hold secrets.
func NoneFound(getenv func(string) string, home string) string {
	var tried []string
	id, secret := getenv("ALIBABA_CLOUD_ACCESS_KEY_ID"), getenv("ALIBABA_CLOUD_ACCESS_KEY_SECRET")
	switch {
	case id == "" && secret == "":
		tried = append(tried, "the variables ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET (not set)")
	case secret == "":
		tried = append(tried, "the variables ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET (the secret is not set)")
	case id == "":
		tried = append(tried, "the variables ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET (the key ID is not set)")
	default:
		tried = append(tried, "the variables ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET (set, but refused)")
	}
	var oidcMissing []string
	for _, k := range []string{"ALIBABA_CLOUD_ROLE_ARN", "ALIBABA_CLOUD_OIDC_PROVIDER_ARN", "ALIBABA_CLOUD_OIDC_TOKEN_FILE"} {
		if getenv(k) == "" {
			oidcMissing = append(oidcMissing, k)
		}
	}
	switch len(oidcMissing) {
	case 3:
		tried = append(tried, "OIDC (ALIBABA_CLOUD_ROLE_ARN not set)")
	case 0:
		tried = append(tried, "OIDC (set, but no role could be assumed)")
	default:
		tried = append(tried, "OIDC ("+strings.Join(oidcMissing, " and ")+" not set)")
	}
	cli := filepath.Join(home, ".aliyun", "config.json")
	if getenv("ALIBABA_CLOUD_CLI_PROFILE_DISABLED") == "true" {
		tried = append(tried, "the aliyun CLI's profile (disabled by ALIBABA_CLOUD_CLI_PROFILE_DISABLED)")
	} else {
		tried = append(tried, "the aliyun CLI's profile "+cli+" ("+cliProfileState(cli, getenv("ALIBABA_CLOUD_PROFILE"))+")")
	}
	file := getenv("ALIBABA_CLOUD_CREDENTIALS_FILE")
	if file == "" {
		file = filepath.Join(home, ".alibabacloud", "credentials")
	}
	tried = append(tried, "the credentials file "+file+" ("+fileState(file)+")")
	if role := getenv("ALIBABA_CLOUD_ECS_METADATA"); role != "" {
		tried = append(tried, "the ECS instance's RAM role "+role+" (the instance metadata service gave none)")
	} else {
		tried = append(tried, "the ECS instance's RAM role (ALIBABA_CLOUD_ECS_METADATA not set)")
	}
	return "no Alibaba Cloud credentials found: tried " + strings.Join(tried[:len(tried)-1], ", ") + " and " + tried[len(tried)-1] +
		"; set ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET, or run aliyun configure"
}

// cliProfileState says why the aliyun CLI's config file gave no credentials.
func cliProfileState(path, want string) string {
	b, err := os.ReadFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return "no such file"
	case err != nil:
		return "cannot be read"
	}
	var conf struct {
		Current  string `json:"current"`
		Profiles []struct {
			Name            string `json:"name"`
			AccessKeyID     string `json:"access_key_id"`
			AccessKeySecret string `json:"access_key_secret"`
		} `json:"profiles"`
	}
	if json.Unmarshal(b, &conf) != nil {
		return "not valid JSON"
	}
	if want == "" {
		want = conf.Current
	}
	for _, p := range conf.Profiles {
		if p.Name == want {
			return "profile " + strconvQuote(want) + " gave no usable key"
		}
	}
	return "no profile named " + strconvQuote(want)
}

// fileState says why the credentials file gave none.
func fileState(path string) string {
	_, err := os.Stat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return "no such file"
	case err != nil:
		return "cannot be read"
	}
	return "no usable profile in it"
}

func strconvQuote(s string) string { return `"` + s + `"` }

// FromEnv reads a second identity from variables PREFIX_ACCESS_KEY_ID,
// PREFIX_ACCESS_KEY_SECRET and optionally PREFIX_SECURITY_TOKEN (the probe observes
// what a member account sees with them). ok is false when none is set.
func FromEnv(getenv func(string) string, prefix string) (r Resolved, ok bool, err error) {
	id, secret, token := getenv(prefix+"_ACCESS_KEY_ID"), getenv(prefix+"_ACCESS_KEY_SECRET"), getenv(prefix+"_SECURITY_TOKEN")
	if id == "" && secret == "" && token == "" {
		return Resolved{}, false, nil
	}
	if id == "" || secret == "" {
		return Resolved{}, true, fmt.Errorf("%s_ACCESS_KEY_ID and %s_ACCESS_KEY_SECRET must both be set", prefix, prefix)
	}
	cfg := new(alicred.Config).SetAccessKeyId(id).SetAccessKeySecret(secret)
	typ := "access_key"
	if token != "" {
		typ = "sts"
		cfg.SetSecurityToken(token)
	}
	cfg.Type = &typ
	c, err := alicred.NewCredential(cfg)
	if err != nil {
		return Resolved{}, true, fmt.Errorf("%s credentials: %w", prefix, err)
	}
	r, err = resolve(c, "no credentials in "+prefix+"_*")
	if err == nil {
		r.Provider = "env " + prefix + "_*"
	}
	return r, true, err
}

func resolve(c alicred.Credential, none string) (Resolved, error) {
	m, err := c.GetCredential()
	if err != nil {
		return Resolved{}, fmt.Errorf("%s (%s)", none, safe(err))
	}
	r := Resolved{Credentials: cloud.Credentials{AccessKeyID: deref(m.AccessKeyId), AccessKeySecret: deref(m.AccessKeySecret),
		SecurityToken: deref(m.SecurityToken)}, Provider: deref(m.Type)}
	if r.Credentials.AccessKeyID == "" || r.Credentials.AccessKeySecret == "" {
		return Resolved{}, errors.New(none)
	}
	return r, nil
}

// safe keeps the chain's message, which lists every provider tried, except where
// credentials-go quotes a malformed CLI config file whole, secrets included.
func safe(err error) string {
	msg := err.Error()
	if i := strings.Index(msg, "unmarshal aliyun cli config"); i >= 0 {
		msg = msg[:i] + "the aliyun CLI config file is not valid JSON"
	}
	return msg
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return strings.TrimSpace(*s)
}
