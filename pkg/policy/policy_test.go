package policy

import (
	"reflect"
	"strings"
	"testing"
)

const (
	a1 = "1000000000000001"
	a2 = "1000000000000002"
	a3 = "1000000000000003"
	a4 = "1000000000000004"
	f1 = "fd-Prod000001"
	f2 = "fd-Dev0000002"
	rd = "rd-Ab12Cd"
)

func TestParse(t *testing.T) {
	tests := []struct {
		name     string
		tags     map[string]string
		managed  bool
		accounts []string
		folders  []string
		mode     Mode
		errs     []string // "key|subject"
	}{
		{name: "untagged", tags: map[string]string{"env": "prod"}, mode: Exact},
		{name: "other prefixes ignored", tags: map[string]string{"imageshared:accounts": "x", "acs:ecs:image:osVersion": "8"}, mode: Exact},
		{name: "one account", tags: map[string]string{"imageshare:accounts": a1}, managed: true, accounts: []string{a1}, mode: Exact},
		{name: "separators", tags: map[string]string{"imageshare:accounts": " " + a1 + ",," + a2 + "，" + a3 + ";\t" + a4 + " "},
			managed: true, accounts: []string{a1, a2, a3, a4}, mode: Exact},
		{name: "full-width space separates", tags: map[string]string{"imageshare:accounts": a1 + "\u3000" + a2}, managed: true, accounts: []string{a1, a2}, mode: Exact},
		{name: "none is empty", tags: map[string]string{"imageshare:accounts": "none"}, managed: true, mode: Exact},
		{name: "none with spaces", tags: map[string]string{"imageshare:accounts": "  none "}, managed: true, mode: Exact},
		{name: "none beside tokens", tags: map[string]string{"imageshare:accounts": "none," + a1}, managed: true, accounts: []string{a1}, mode: Exact,
			errs: []string{"imageshare:accounts|none"}},
		{name: "NONE is not none", tags: map[string]string{"imageshare:accounts": "NONE"}, managed: true, mode: Exact,
			errs: []string{"imageshare:accounts|NONE"}},
		{name: "empty value", tags: map[string]string{"imageshare:accounts": " ,; "}, managed: true, mode: Exact,
			errs: []string{"imageshare:accounts|imageshare:accounts"}},
		{name: "bad account token", tags: map[string]string{"imageshare:accounts": a1 + " 12345"}, managed: true, accounts: []string{a1}, mode: Exact,
			errs: []string{"imageshare:accounts|12345"}},
		{name: "17 digits", tags: map[string]string{"imageshare:accounts": a1 + "0"}, managed: true, mode: Exact,
			errs: []string{"imageshare:accounts|" + a1 + "0"}},
		{name: "folder in accounts key", tags: map[string]string{"imageshare:accounts": f1}, managed: true, mode: Exact,
			errs: []string{"imageshare:accounts|" + f1}},
		{name: "account in folders key", tags: map[string]string{"imageshare:folders": a1}, managed: true, mode: Exact,
			errs: []string{"imageshare:folders|" + a1}},
		{name: "folders and directory", tags: map[string]string{"imageshare:folders": f1 + " " + rd + " " + f2}, managed: true,
			folders: []string{f1, rd, f2}, mode: Exact},
		{name: "short folder", tags: map[string]string{"imageshare:folders": "fd-Abc"}, managed: true, mode: Exact,
			errs: []string{"imageshare:folders|fd-Abc"}},
		{name: "short directory", tags: map[string]string{"imageshare:folders": "rd-Ab1"}, managed: true, mode: Exact,
			errs: []string{"imageshare:folders|rd-Ab1"}},
		{name: "root folder is not a target token", tags: map[string]string{"imageshare:folders": "r-Ab12Cd"}, managed: true, mode: Exact,
			errs: []string{"imageshare:folders|r-Ab12Cd"}},
		{name: "mode additive", tags: map[string]string{"imageshare:mode": "additive", "imageshare:accounts": a1}, managed: true,
			accounts: []string{a1}, mode: Additive},
		{name: "mode alone manages", tags: map[string]string{"imageshare:mode": "exact"}, managed: true, mode: Exact},
		{name: "mode upper case", tags: map[string]string{"imageshare:mode": "Additive"}, managed: true, mode: Exact,
			errs: []string{"imageshare:mode|Additive"}},
		{name: "mode empty", tags: map[string]string{"imageshare:mode": ""}, managed: true, mode: Exact,
			errs: []string{"imageshare:mode|imageshare:mode"}},
		{name: "mode two tokens", tags: map[string]string{"imageshare:mode": "exact additive"}, managed: true, mode: Exact,
			errs: []string{"imageshare:mode|exact additive"}},
		{name: "bare prefix key", tags: map[string]string{"imageshare": "yes"}, managed: true, mode: Exact,
			errs: []string{"imageshare|imageshare"}},
		{name: "unknown key", tags: map[string]string{"imageshare:account": a1}, managed: true, mode: Exact,
			errs: []string{"imageshare:account|imageshare:account"}},
		{name: "keys are case-sensitive", tags: map[string]string{"imageshare:Accounts": a1}, managed: true, mode: Exact,
			errs: []string{"imageshare:Accounts|imageshare:Accounts"}},
		{name: "mode with suffix is unknown", tags: map[string]string{"imageshare:mode:x": "exact"}, managed: true, mode: Exact,
			errs: []string{"imageshare:mode:x|imageshare:mode:x"}},
		{name: "accountsX is unknown", tags: map[string]string{"imageshare:accountsX": a1}, managed: true, mode: Exact,
			errs: []string{"imageshare:accountsX|imageshare:accountsX"}},
		{name: "key order and first occurrence", tags: map[string]string{
			"imageshare:accounts:partners": a4 + " " + a1,
			"imageshare:accounts:10":       a3,
			"imageshare:accounts:2":        a2 + " " + a3,
			"imageshare:accounts":          a1,
		}, managed: true, accounts: []string{a1, a2, a3, a4}, mode: Exact},
		{name: "numeric before text, text bytewise", tags: map[string]string{
			"imageshare:accounts:b":  a4,
			"imageshare:accounts:A":  a3,
			"imageshare:accounts:9":  a2,
			"imageshare:accounts:01": a1,
		}, managed: true, accounts: []string{a1, a2, a3, a4}, mode: Exact},
		{name: "folders union over keys", tags: map[string]string{"imageshare:folders:2": f2, "imageshare:folders": f1 + " " + f2}, managed: true,
			folders: []string{f1, f2}, mode: Exact},
		{name: "several errors", tags: map[string]string{"imageshare:accounts": "x y", "imageshare:oops": "1"}, managed: true, mode: Exact,
			errs: []string{"imageshare:accounts|x", "imageshare:accounts|y", "imageshare:oops|imageshare:oops"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := Parse(DefaultPrefix, tc.tags)
			if p.Managed != tc.managed {
				t.Errorf("Managed = %v, want %v", p.Managed, tc.managed)
			}
			if !reflect.DeepEqual(p.Accounts, tc.accounts) {
				t.Errorf("Accounts = %v, want %v", p.Accounts, tc.accounts)
			}
			if !reflect.DeepEqual(p.Folders, tc.folders) {
				t.Errorf("Folders = %v, want %v", p.Folders, tc.folders)
			}
			if p.Mode != tc.mode {
				t.Errorf("Mode = %v, want %v", p.Mode, tc.mode)
			}
			var got []string
			for _, e := range p.Errors {
				if e.Reason == "" {
					t.Errorf("error without a reason: %+v", e)
				}
				got = append(got, e.Key+"|"+e.Subject)
			}
			if !reflect.DeepEqual(got, tc.errs) {
				t.Errorf("Errors = %v, want %v", got, tc.errs)
			}
		})
	}
}

func TestCustomPrefix(t *testing.T) {
	p := Parse("share", map[string]string{"share:accounts": a1, "imageshare:accounts": a2})
	if !p.Managed || !reflect.DeepEqual(p.Accounts, []string{a1}) {
		t.Fatalf("got %+v", p)
	}
	if q := Parse("share", map[string]string{"imageshare:accounts": a2}); q.Managed {
		t.Fatalf("default-prefix tags must not manage under another prefix: %+v", q)
	}
}

func TestKeyOrder(t *testing.T) {
	got := KeyOrder("imageshare", "accounts", []string{
		"imageshare:accounts:retained:2", "imageshare:accounts:retained", "imageshare:accounts:3", "imageshare:accounts",
	})
	want := []string{"imageshare:accounts", "imageshare:accounts:3", "imageshare:accounts:retained", "imageshare:accounts:retained:2"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("KeyOrder = %v, want %v", got, want)
	}
}

func FuzzParse(f *testing.F) {
	f.Add("imageshare:accounts", a1+","+a2, "imageshare:folders", f1)
	f.Add("imageshare:mode", "additive", "imageshare:accounts:2", "none")
	f.Add("imageshare", "", "imageshare:accounts:", "，；")
	f.Fuzz(func(t *testing.T, k1, v1, k2, v2 string) {
		p := Parse(DefaultPrefix, map[string]string{k1: v1, k2: v2})
		for _, e := range p.Errors {
			if e.Subject == "" || e.Reason == "" || e.Key == "" {
				t.Fatalf("tag error must name key, subject and reason: %+v", e)
			}
		}
		seen := map[string]bool{}
		for _, a := range p.Accounts {
			if !IsAccount(a) || seen[a] {
				t.Fatalf("bad or repeated account %q in %+v", a, p)
			}
			seen[a] = true
		}
		for _, fd := range p.Folders {
			if !(IsFolder(fd) || IsDirectory(fd)) || seen[fd] {
				t.Fatalf("bad or repeated folder %q", fd)
			}
			seen[fd] = true
		}
		if !p.Managed && (len(p.Errors) > 0 || len(p.Accounts) > 0 || len(p.Folders) > 0) {
			t.Fatalf("unmanaged image with content: %+v", p)
		}
		if strings.HasPrefix(k1, DefaultPrefix) && (k1 == DefaultPrefix || strings.HasPrefix(k1, DefaultPrefix+":")) && !p.Managed {
			t.Fatalf("key %q must manage the image", k1)
		}
	})
}

func TestParseRegionsAndSource(t *testing.T) {
	tests := []struct {
		name          string
		tags          map[string]string
		regions       []string
		srcRegion     string
		srcImage      string
		errs          []string // "key|subject"
		accountsAfter []string
	}{
		{name: "regions", tags: map[string]string{"imageshare:regions": "cn-shanghai, cn-beijing"}, regions: []string{"cn-beijing", "cn-shanghai"}},
		{name: "regions keys unioned, each once", tags: map[string]string{"imageshare:regions": "cn-shanghai", "imageshare:regions:2": "ap-southeast-1 cn-shanghai"},
			regions: []string{"ap-southeast-1", "cn-shanghai"}},
		{name: "regions none", tags: map[string]string{"imageshare:regions": "none"}},
		{name: "bad region token", tags: map[string]string{"imageshare:regions": "cn-shanghai Shanghai"}, regions: []string{"cn-shanghai"},
			errs: []string{"imageshare:regions|Shanghai"}},
		{name: "regions empty value", tags: map[string]string{"imageshare:regions": " "}, errs: []string{"imageshare:regions|imageshare:regions"}},
		{name: "none beside a region", tags: map[string]string{"imageshare:regions": "none cn-beijing"}, regions: []string{"cn-beijing"},
			errs: []string{"imageshare:regions|none"}},
		{name: "origin key", tags: map[string]string{"imageshare:source": "cn-hangzhou/m-Base00000001", "imageshare:accounts": a1},
			srcRegion: "cn-hangzhou", srcImage: "m-Base00000001", accountsAfter: []string{a1}},
		{name: "origin key without a region", tags: map[string]string{"imageshare:source": "m-Base00000001"},
			errs: []string{"imageshare:source|m-Base00000001"}},
		{name: "origin key with a bad image", tags: map[string]string{"imageshare:source": "cn-hangzhou/Base"},
			errs: []string{"imageshare:source|cn-hangzhou/Base"}},
		{name: "empty origin key", tags: map[string]string{"imageshare:source": ""}, errs: []string{"imageshare:source|imageshare:source"}},
		{name: "sources is not a key", tags: map[string]string{"imageshare:sources": "cn-hangzhou/m-A"}, errs: []string{"imageshare:sources|imageshare:sources"}},
		{name: "region singular is not a key", tags: map[string]string{"imageshare:region": "cn-hangzhou"}, errs: []string{"imageshare:region|imageshare:region"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := Parse("imageshare", tc.tags)
			if !p.Managed {
				t.Fatal("not managed")
			}
			if !reflect.DeepEqual(p.Regions, tc.regions) {
				t.Errorf("regions %v, want %v", p.Regions, tc.regions)
			}
			if p.SourceRegion != tc.srcRegion || p.SourceImage != tc.srcImage || p.IsCopy() != (tc.srcImage != "") {
				t.Errorf("source %q/%q, want %q/%q", p.SourceRegion, p.SourceImage, tc.srcRegion, tc.srcImage)
			}
			var errs []string
			for _, e := range p.Errors {
				errs = append(errs, e.Key+"|"+e.Subject)
			}
			if !reflect.DeepEqual(errs, tc.errs) {
				t.Errorf("errors %v, want %v", errs, tc.errs)
			}
			if !reflect.DeepEqual(p.Accounts, tc.accountsAfter) {
				t.Errorf("accounts %v, want %v", p.Accounts, tc.accountsAfter)
			}
		})
	}
}

func TestCopyTags(t *testing.T) {
	src := map[string]string{"imageshare:accounts": a1, "imageshare:accounts:2": a2, "imageshare:folders": f1, "imageshare:mode": "additive",
		"imageshare:regions": "cn-shanghai", "Name": "golden", "imageshare:source": "cn-beijing/m-Older"}
	got := CopyTags("imageshare", src, "cn-hangzhou", "m-Base00000001", true)
	want := map[string]string{"imageshare:accounts": a1, "imageshare:accounts:2": a2, "imageshare:folders": f1, "imageshare:mode": "additive",
		"imageshare:source": "cn-hangzhou/m-Base00000001"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("wanted copy tags %v, want %v", got, want)
	}
	got = CopyTags("imageshare", src, "cn-hangzhou", "m-Base00000001", false)
	want = map[string]string{"imageshare:accounts": "none", "imageshare:source": "cn-hangzhou/m-Base00000001"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("withdrawn copy tags %v, want %v", got, want)
	}
	if p := Parse("imageshare", got); len(p.Errors) > 0 || len(p.Accounts) > 0 || !p.IsCopy() {
		t.Fatalf("withdrawn tags parse as %+v", p)
	}
	for key, sharing := range map[string]bool{"imageshare:accounts": true, "imageshare:accounts:x": true, "imageshare:folders:2": true,
		"imageshare:mode": true, "imageshare:regions": false, "imageshare:source": false, "imageshare:accountsx": false, "other:accounts": false} {
		if SharingKey("imageshare", key) != sharing {
			t.Errorf("SharingKey(%s) = %v", key, !sharing)
		}
	}
}
