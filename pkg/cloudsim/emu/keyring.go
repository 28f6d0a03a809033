package emu

import (
	"strings"
	"sync"
	"time"
)

// Identity is who makes a call, as ActionTrail's userIdentity records it.
type Identity struct {
	AccountID   string // the account the call acts in
	Type        string // "root-account", "ram-user" or "assumed-role"
	PrincipalID string
	UserName    string // RAM user name; for a role, the role name
	RoleName    string // set for assumed-role
	SessionName string // set for assumed-role
	AccessKeyID string
}

// ARN returns the caller's ARN as ActionTrail prints it.
func (id Identity) ARN() string {
	switch id.Type {
	case "assumed-role":
		return "acs:ram::" + id.AccountID + ":assumed-role/" + id.RoleName + "/" + id.SessionName
	case "ram-user":
		return "acs:ram::" + id.AccountID + ":user/" + id.UserName
	default:
		return "acs:ram::" + id.AccountID + ":root"
	}
}

// Credential is an access key pair, with an STS token for temporary credentials.
type Credential struct {
	AccessKeyID     string
	AccessKeySecret string
	SecurityToken   string
	Identity        Identity
	Expires         time.Time // wall clock; zero for long-lived keys
}

// Keyring holds the credentials the emulated cloud accepts. Expiry is checked against
// the wall clock, because SDKs stamp their requests with the wall clock.
type Keyring struct {
	mu   sync.Mutex
	byAK map[string]*Credential
}

// NewKeyring returns an empty keyring.
func NewKeyring() *Keyring { return &Keyring{byAK: map[string]*Credential{}} }

// AccessKey issues a long-lived access key for the root identity of account.
func (k *Keyring) AccessKey(account string) Credential {
	c := Credential{
		AccessKeyID:     "LTAI" + RandomHex(20),
		AccessKeySecret: RandomHex(30),
	}
	c.Identity = Identity{AccountID: account, Type: "root-account", PrincipalID: account, AccessKeyID: c.AccessKeyID}
	k.put(c)
	return c
}

// UserAccessKey issues a long-lived access key for RAM user user of account.
func (k *Keyring) UserAccessKey(account, user string) Credential {
	c := Credential{
		AccessKeyID:     "LTAI" + RandomHex(20),
		AccessKeySecret: RandomHex(30),
	}
	c.Identity = Identity{AccountID: account, Type: "ram-user", PrincipalID: "2" + RandomHex(14), UserName: user, AccessKeyID: c.AccessKeyID}
	k.put(c)
	return c
}

// AssumeRole issues STS credentials for role in account, valid for ttl of wall time.
func (k *Keyring) AssumeRole(account, role, session string, ttl time.Duration) Credential {
	c := Credential{
		AccessKeyID:     "STS." + RandomHex(24),
		AccessKeySecret: RandomHex(30),
		SecurityToken:   "CAIS" + RandomHex(60),
		Expires:         time.Now().Add(ttl),
	}
	c.Identity = Identity{
		AccountID:   account,
		Type:        "assumed-role",
		PrincipalID: "3" + RandomHex(16) + ":" + session,
		UserName:    role,
		RoleName:    role,
		SessionName: session,
		AccessKeyID: c.AccessKeyID,
	}
	k.put(c)
	return c
}

// Revoke forgets an access key.
func (k *Keyring) Revoke(accessKeyID string) {
	k.mu.Lock()
	defer k.mu.Unlock()
	delete(k.byAK, accessKeyID)
}

func (k *Keyring) put(c Credential) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.byAK[c.AccessKeyID] = &c
}

// Lookup finds the credential of an access key ID and checks the security token that
// came with it. It returns the credential (whose secret verifies the signature) or the
// error code the real services answer.
func (k *Keyring) Lookup(accessKeyID, securityToken string) (Credential, *APIError) {
	k.mu.Lock()
	c, ok := k.byAK[accessKeyID]
	k.mu.Unlock()
	if !ok {
		return Credential{}, Errorf(404, "InvalidAccessKeyId.NotFound", "Specified access key is not found.")
	}
	if strings.HasPrefix(accessKeyID, "STS.") || c.SecurityToken != "" {
		if securityToken == "" {
			return Credential{}, Errorf(400, "MissingSecurityToken", "SecurityToken is mandatory for this action.")
		}
		if securityToken != c.SecurityToken {
			return Credential{}, Errorf(400, "InvalidSecurityToken.Malformed", "Specified SecurityToken is malformed.")
		}
		if !c.Expires.IsZero() && time.Now().After(c.Expires) {
			return Credential{}, Errorf(400, "InvalidSecurityToken.Expired", "Specified SecurityToken is expired.")
		}
	}
	return *c, nil
}
