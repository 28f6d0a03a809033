package cloudsim_test

import (
	"strings"
	"testing"

	"imageshare/pkg/cloudsim"
	"imageshare/pkg/cloudsim/actiontrail"
	"imageshare/pkg/cloudsim/emu"
	"imageshare/pkg/cloudsim/eventbridge"
	"imageshare/pkg/cloudsim/mns"
	"imageshare/pkg/cloudsim/ram"
	"imageshare/pkg/cloudsim/sts"
)

func mountedServices() []emu.Service {
	store := ram.NewStore()
	return []emu.Service{ram.NewService(store), sts.New(), eventbridge.New(store), mns.New(mns.Config{}).Management(), actiontrail.New(actiontrail.Config{})}
}

// The mounted services' contracts follow the built-in ones' rules: every action names
// its reference page, every rule a parameter checks has its answer, and every answer is
// in the catalogue for the action.
func TestMountedContractsAreCatalogued(t *testing.T) {
	n := 0
	for _, svc := range mountedServices() {
		for name, a := range svc.Actions() {
			if !strings.HasPrefix(a.Source, "https://www.alibabacloud.com/help/") {
				t.Errorf("%s:%s: source %q is not a reference page", svc.Product(), name, a.Source)
			}
			for _, p := range a.Params {
				if !p.Checked() {
					t.Errorf("%s:%s %s checks a rule without an answer for it", svc.Product(), name, p.Name)
				}
			}
			for _, e := range a.Answers() {
				n++
				if !emu.Listed(svc.Product(), name, e.Code, e.HTTPStatus) {
					t.Errorf("%s:%s answers %s (HTTP %d), which the catalogue does not list for it", svc.Product(), name, e.Code, e.HTTPStatus)
				}
			}
		}
	}
	if n < 40 {
		t.Fatalf("only %d contract answers: the mounted contracts are no longer listed", n)
	}
}

// A mounted service is served through the same dispatcher: a required parameter left
// out is answered with its documented code, RAM is evaluated for RAM users (RAM's own
// answer names the resource and the action), and every call is recorded.
func TestMountedServicesGoThroughTheDispatcher(t *testing.T) {
	store := ram.NewStore()
	c := cloudsim.New(cloudsim.Config{RAM: store, Services: []emu.Service{ram.NewService(store), sts.New()}})
	c.AddAccount(owner, "china")
	root := emu.Identity{AccountID: owner, Type: "root-account", PrincipalID: owner}
	if _, _, err := c.Call(root, "ram", "GetRole", map[string]string{}); err == nil || err.Code != "MissingParameter" {
		t.Fatalf("GetRole without RoleName: %v", err)
	}
	if _, _, err := c.Call(root, "ram", "GetRole", map[string]string{"RoleName": "nope"}); err == nil || err.Code != "EntityNotExist.Role" || err.HTTPStatus != 404 {
		t.Fatalf("GetRole of a missing role: %v", err)
	}
	if err := store.CreateUser(owner, "deployer"); err != nil {
		t.Fatal(err)
	}
	user := emu.Identity{AccountID: owner, Type: "ram-user", UserName: "deployer", PrincipalID: "2001"}
	_, _, err := c.Call(user, "ram", "CreateRole", map[string]string{"RoleName": "fc", "AssumeRolePolicyDocument": "{}"})
	if err == nil || err.Code != "NoPermission" || !strings.Contains(err.Message, "Resource: acs:ram:*:"+owner+":role/fc Action: ram:CreateRole") {
		t.Fatalf("a RAM user without a policy: %v", err)
	}
	// GetCallerIdentity needs no permission.
	resp, _, err := c.Call(user, "sts", "GetCallerIdentity", nil)
	if err != nil || resp["IdentityType"] != "RAMUser" || resp["Arn"] != "acs:ram::"+owner+":user/deployer" {
		t.Fatalf("GetCallerIdentity = %v, %v", resp, err)
	}
	if len(c.Unlisted()) != 0 {
		t.Fatalf("unlisted answers: %q", c.Unlisted())
	}
	calls := c.Calls()
	if len(calls) != 4 || calls[2].RAMAction != "ram:CreateRole" || !strings.Contains(calls[2].Denial, "ram:CreateRole on acs:ram:*:"+owner+":role/fc") {
		t.Fatalf("calls = %+v", calls)
	}
}
