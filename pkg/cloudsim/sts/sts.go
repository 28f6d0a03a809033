// Package sts emulates the Security Token Service's GetCallerIdentity (STS 2015-04-01,
// RPC): who the caller is, from the credentials the request was signed with. It has no
// state: the identity is the shared core's keyring's.
//
// Reference: https://www.alibabacloud.com/help/en/ram/developer-reference/api-sts-2015-04-01-getcalleridentity
// (response fields IdentityType Account | RAMUser | AssumedRoleUser, AccountId,
// PrincipalId, UserId, Arn, RoleId; no authorization is needed to call it).
package sts

import (
	"strings"

	"imageshare/pkg/cloudsim/emu"
)

// Service is the emulated STS.
type Service struct{}

// New returns the emulated STS.
func New() *Service { return &Service{} }

var _ emu.Service = (*Service)(nil)

// Product implements emu.Service.
func (*Service) Product() string { return "sts" }

// Version implements emu.Service.
func (*Service) Version() string { return "2015-04-01" }

// Host implements emu.Service.
func (*Service) Host() string { return "sts.aliyuncs.com" }

// Actions implements emu.Service.
func (*Service) Actions() map[string]emu.Action {
	return map[string]emu.Action{
		"GetCallerIdentity": {Source: "https://www.alibabacloud.com/help/en/ram/developer-reference/api-sts-2015-04-01-getcalleridentity",
			Do: getCallerIdentity},
	}
}

func getCallerIdentity(c *emu.Call) (map[string]any, *emu.APIError) {
	id := c.Caller
	out := map[string]any{"AccountId": id.AccountID, "Arn": id.ARN(), "PrincipalId": id.PrincipalID}
	switch id.Type {
	case "assumed-role":
		roleID, _, _ := strings.Cut(id.PrincipalID, ":")
		out["IdentityType"], out["RoleId"] = "AssumedRoleUser", roleID
	case "ram-user":
		out["IdentityType"], out["UserId"] = "RAMUser", id.PrincipalID
	default:
		out["IdentityType"], out["UserId"] = "Account", id.AccountID
	}
	return out, nil
}
