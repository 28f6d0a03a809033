package probe

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"imageshare/pkg/cloud"
)

// The probe against a small in-memory cloud (a pure unit fake; the probe over the real
// SDK and the emulated cloud is tested in cmd/imageshare). The fake is the thing the
// probe must find out about: whether the direct share list shows accounts a resource
// share reaches (listed), and whether removing such an account there cuts it off (cut).

const (
	owner  = "1000000000000001"
	member = "1000000000000005"
	rd     = "rd-Probe1"
	root   = "r-Probe1"
	folder = "fd-Prod000001"
	img    = "m-Probe0000001"
)

type fakeCloud struct {
	cloud.API   // any other call panics: the probe makes none
	listed, cut bool
	status      string            // the image's status
	tags        map[string]string // the image's tags
	members     []cloud.Account   // the directory
	direct      map[string]bool   // direct shares
	blocked     map[string]bool   // org grants cut by a removal (cut clouds)
	shareID     string            // the probe's resource share; "" none
	assocPolls  int               // ListResourceShareAssociations calls left until Associating ends
	assoc       string            // status of the share's image and folder
	writes      []string
	failWrite   string // a write that fails (by prefix)
}

func newFake(listed, cut bool) *fakeCloud {
	f := &fakeCloud{listed: listed, cut: cut, status: "Available", direct: map[string]bool{}, blocked: map[string]bool{}}
	for _, id := range []string{"1000000000000003", member, "1000000000000007"} {
		f.members = append(f.members, cloud.Account{ID: id, Path: rd + "/" + root + "/" + folder + "/" + id})
	}
	f.members = append(f.members, cloud.Account{ID: "1000000000000002", Path: rd + "/" + root + "/1000000000000002"})
	f.direct["1000000000000003"] = true // already shared: not usable
	return f
}

// reached: the probe share holds the image and the folder, Associated, and reaches acct.
func (f *fakeCloud) reached(acct string) bool {
	if f.shareID == "" || f.assoc != "Associated" || f.blocked[acct] {
		return false
	}
	for _, m := range f.members {
		if m.ID == acct && strings.Contains(m.Path, folder) {
			return true
		}
	}
	return false
}

func (f *fakeCloud) write(w string) error {
	f.writes = append(f.writes, w)
	if f.failWrite != "" && strings.HasPrefix(w, f.failWrite) {
		return &cloud.Error{Code: "Forbidden.RAM", HTTPStatus: 403}
	}
	return nil
}

func (f *fakeCloud) DescribeImages(_ context.Context, in cloud.DescribeImagesInput) (cloud.ImagePage, error) {
	if in.OwnerAlias != "self" {
		return cloud.ImagePage{}, errors.New("the owner's API asked for other owners' images")
	}
	return cloud.ImagePage{Images: []cloud.Image{{ID: img, OwnerAlias: "self", Status: f.status, Tags: f.tags}}, Total: 1}, nil
}

func (f *fakeCloud) GetResourceDirectory(context.Context) (cloud.Directory, error) {
	return cloud.Directory{ID: rd, RootID: root, MasterAccountID: owner}, nil
}

func (f *fakeCloud) ListAncestors(_ context.Context, fd string) ([]string, error) {
	if fd != folder {
		return nil, &cloud.Error{Code: "EntityNotExists.Folder", HTTPStatus: 404}
	}
	return []string{root}, nil
}

func (f *fakeCloud) ListAccounts(_ context.Context, page int) (cloud.AccountPage, error) {
	if page > 1 {
		return cloud.AccountPage{Total: len(f.members)}, nil
	}
	return cloud.AccountPage{Accounts: slices.Clone(f.members), Total: len(f.members)}, nil
}

func (f *fakeCloud) GetAccount(_ context.Context, id string) (cloud.Account, error) {
	for _, m := range f.members {
		if m.ID == id {
			return m, nil
		}
	}
	return cloud.Account{}, &cloud.Error{Code: "EntityNotExists.Account", HTTPStatus: 404}
}

func (f *fakeCloud) DescribeImageSharePermission(_ context.Context, _, _ string, _ int) (cloud.SharePermissionPage, error) {
	var out []string
	for _, m := range f.members {
		if f.direct[m.ID] || f.listed && f.reached(m.ID) {
			out = append(out, m.ID)
		}
	}
	return cloud.SharePermissionPage{Accounts: out, Total: len(out)}, nil
}

func (f *fakeCloud) ListResourceShareAssociations(_ context.Context, _, typ, _ string) (cloud.AssociationPage, error) {
	if f.shareID == "" {
		return cloud.AssociationPage{}, nil
	}
	if f.assocPolls > 0 {
		if f.assocPolls--; f.assocPolls == 0 {
			f.assoc = map[string]string{"Associating": "Associated", "Disassociating": "Disassociated"}[f.assoc]
		}
	}
	entity := img
	if typ == cloud.AssociationTarget {
		entity = folder
	}
	return cloud.AssociationPage{Associations: []cloud.Association{{ShareID: f.shareID, EntityID: entity, Type: typ, Status: f.assoc}}}, nil
}

func (f *fakeCloud) CreateResourceShare(_ context.Context, _, name string, res, tg []string) (cloud.ShareInfo, cloud.Result, error) {
	if err := f.write(fmt.Sprintf("create %s %v %v", name, res, tg)); err != nil {
		return cloud.ShareInfo{}, cloud.Result{}, err
	}
	f.shareID, f.assoc, f.assocPolls = "rs-probe", "Associating", 2
	return cloud.ShareInfo{ID: f.shareID, Name: name}, cloud.Result{}, nil
}

func (f *fakeCloud) ModifyImageSharePermission(_ context.Context, _, _ string, add, remove []string) (cloud.Result, error) {
	if err := f.write(fmt.Sprintf("modify add=%v remove=%v", add, remove)); err != nil {
		return cloud.Result{}, err
	}
	for _, a := range add {
		f.direct[a] = true
		delete(f.blocked, a)
	}
	for _, a := range remove {
		if f.cut && f.reached(a) {
			f.blocked[a] = true
		}
		delete(f.direct, a)
	}
	return cloud.Result{}, nil
}

func (f *fakeCloud) DisassociateResourceShare(_ context.Context, _, id string, res, tg []string) (cloud.Result, error) {
	if err := f.write(fmt.Sprintf("disassociate %v %v", res, tg)); err != nil {
		return cloud.Result{}, err
	}
	f.assoc, f.assocPolls = "Disassociating", 1
	return cloud.Result{}, nil
}

func (f *fakeCloud) DeleteResourceShare(_ context.Context, _, id string) (cloud.Result, error) {
	if err := f.write("delete " + id); err != nil {
		return cloud.Result{}, err
	}
	f.shareID = ""
	clear(f.blocked)
	return cloud.Result{}, nil
}

// memberView is the member's own DescribeImages: the image shows when it has access.
type memberView struct {
	cloud.API
	f *fakeCloud
}

func (m memberView) DescribeImages(_ context.Context, in cloud.DescribeImagesInput) (cloud.ImagePage, error) {
	if in.OwnerAlias != "others" {
		return cloud.ImagePage{}, errors.New("the member's view asks for others' images")
	}
	if m.f.direct[member] || m.f.reached(member) {
		return cloud.ImagePage{Images: []cloud.Image{{ID: img, OwnerAlias: "others", Status: "Available"}}, Total: 1}, nil
	}
	return cloud.ImagePage{}, nil
}

func config(f *fakeCloud, withMember bool, answers ...bool) (Config, *[]string) {
	var asked []string
	cfg := Config{API: f, Region: "cn-hangzhou", Owner: owner, Image: img, Folder: folder, Prefix: "imageshare",
		Poll: time.Second, Wait: time.Minute, Now: func() time.Time { return time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC) },
		Sleep: func(context.Context, time.Duration) error { return nil },
		Ask: func(q string) (bool, error) {
			asked = append(asked, q)
			if len(answers) == 0 {
				return true, nil
			}
			a := answers[0]
			answers = answers[1:]
			return a, nil
		}}
	if withMember {
		cfg.Member, cfg.Account = memberView{f: f}, member
	}
	return cfg, &asked
}

// TestProbeConcludes: the setting the probe recommends follows what the cloud does.
func TestProbeConcludes(t *testing.T) {
	cases := []struct {
		name                 string
		listed, cut, witness bool
		revoke               bool
		evidence             string
	}{
		{"direct list holds direct shares only", false, false, true, true, "survived the removal"},
		{"organization grants listed and cut", true, true, true, false, "cut the member's access"},
		{"organization grants listed, not cut", true, false, true, false, "lists organization-granted accounts"},
		{"not listed, but the removal cuts", false, true, true, false, "cut the member's access although the resource share reaches it"},
		{"owner's view only", false, false, false, true, "not observed"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newFake(c.listed, c.cut)
			cfg, asked := config(f, c.witness)
			res, err := Run(context.Background(), cfg)
			if err != nil {
				t.Fatal(err)
			}
			if res.Account != member || res.Listed != c.listed || res.RevokeRedundant != c.revoke || !res.Completed || !res.Undone {
				t.Fatalf("result %+v", res)
			}
			if !strings.Contains(strings.Join(res.Evidence, "\n"), c.evidence) {
				t.Errorf("evidence lacks %q: %v", c.evidence, res.Evidence)
			}
			if len(*asked) != 3 {
				t.Errorf("asked %d times, want once before each of the 3 writes", len(*asked))
			}
			// Undone: no share, no direct share to the member, nothing cut.
			if f.shareID != "" || f.direct[member] || len(f.blocked) != 0 || !f.direct["1000000000000003"] {
				t.Errorf("left behind: share %q direct %v blocked %v", f.shareID, f.direct, f.blocked)
			}
		})
	}
}

// TestProbeUndoesWhatItDid: declining a step, or a failing write, stops the probe and
// undoes everything done so far — after a removal first giving the access back.
func TestProbeUndoesWhatItDid(t *testing.T) {
	f := newFake(true, true)
	cfg, _ := config(f, false, true, false) // yes to the share, no to the direct share
	res, err := Run(context.Background(), cfg)
	if !errors.Is(err, ErrDeclined) || res == nil || res.Completed || !res.Undone {
		t.Fatalf("declined: %v %+v", err, res)
	}
	if want := []string{"create imageshare-probe-20260101t000000 [m-Probe0000001] [fd-Prod000001]", "disassociate [m-Probe0000001] [fd-Prod000001]",
		"delete rs-probe"}; !slices.Equal(f.writes, want) {
		t.Fatalf("writes %v, want %v", f.writes, want)
	}

	// Everything done, on a cloud whose removal cuts: the undo re-adds the member before
	// it takes the share away, and removes that direct share only once the share is gone.
	f = newFake(true, true)
	cfg, _ = config(f, true)
	if _, err := Run(context.Background(), cfg); err != nil {
		t.Fatal(err)
	}
	undo := f.writes[3:]
	if want := []string{"modify add=[" + member + "] remove=[]", "disassociate [m-Probe0000001] [fd-Prod000001]", "delete rs-probe",
		"modify add=[] remove=[" + member + "]"}; !slices.Equal(undo, want) {
		t.Fatalf("undo writes %v, want %v", undo, want)
	}

	// A write that fails half way leaves a note of what a person must undo.
	f = newFake(false, false)
	f.failWrite = "delete"
	cfg, _ = config(f, false)
	res, err = Run(context.Background(), cfg)
	if err != nil || res.Undone || len(res.Leftovers) == 0 || !strings.Contains(strings.Join(res.Leftovers, "\n"), "still exists") {
		t.Fatalf("failed delete: %v %+v", err, res)
	}
}

// TestProbeRefusesBeforeWriting: what the probe cannot use is refused before any write.
func TestProbeRefusesBeforeWriting(t *testing.T) {
	cases := []struct {
		name  string
		edit  func(*fakeCloud, *Config)
		error string
	}{
		{"no folder", func(_ *fakeCloud, c *Config) { c.Folder = "" }, "--folder are required"},
		{"bad folder", func(_ *fakeCloud, c *Config) { c.Folder = "prod" }, "not a folder ID"},
		{"unknown folder", func(_ *fakeCloud, c *Config) { c.Folder = "fd-Nope000001" }, "folder fd-Nope000001 in the directory"},
		{"member credentials without the account", func(f *fakeCloud, c *Config) { c.Member = memberView{f: f} }, "need --account"},
		{"bad account", func(_ *fakeCloud, c *Config) { c.Account = "5" }, "not an account ID"},
		{"account outside the folder", func(_ *fakeCloud, c *Config) { c.Account = "1000000000000002" }, "is not in folder"},
		{"account already shared", func(_ *fakeCloud, c *Config) { c.Account = "1000000000000003" }, "already shared with it directly"},
		{"the owner", func(f *fakeCloud, c *Config) {
			f.members = append(f.members, cloud.Account{ID: owner, Path: rd + "/" + root + "/" + folder + "/" + owner})
			c.Account = owner
		}, "image's owner"},
		{"managed image", func(f *fakeCloud, _ *Config) { f.tags = map[string]string{"imageshare:accounts": member} }, "carries imageshare tags"},
		{"image not Available", func(f *fakeCloud, _ *Config) { f.status = "Creating" }, "is Creating"},
		{"nobody usable", func(f *fakeCloud, _ *Config) { f.members = f.members[:1] }, "no member in or below"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newFake(false, false)
			cfg, asked := config(f, false)
			c.edit(f, &cfg)
			res, err := Run(context.Background(), cfg)
			if err == nil || !strings.Contains(err.Error(), c.error) {
				t.Fatalf("error %v, want one naming %q", err, c.error)
			}
			if res != nil || len(f.writes) != 0 || len(*asked) != 0 {
				t.Fatalf("refused after asking or writing: %+v %v %v", res, f.writes, *asked)
			}
		})
	}
}
