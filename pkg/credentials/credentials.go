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
	"errors"
	"fmt"
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
// least 15 minutes, longer than any command of the CLI needs.
func Default() (Resolved, error) {
	c, err := alicred.NewCredential(nil)
	if err != nil {
		return Resolved{}, fmt.Errorf("credentials chain: %w", err)
	}
	return resolve(c, "no Alibaba Cloud credentials found: set ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET, configure the aliyun CLI (aliyun configure), or run on ECS with ALIBABA_CLOUD_ECS_METADATA set to the instance's RAM role")
}

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
