// Package policy reads the tag language (docs/tags.md): the tags an ops team sets on
// an image become a Policy (whom to share with directly, which folders to share with
// through Resource Sharing, and the mode), or tag errors that freeze the image.
package policy

import (
	"regexp"
	"slices"
	"sort"
	"strings"
	"unicode"
)

// Mode says whether direct shares are exactly what the tags say or only added to.
type Mode string

// The two modes; Exact is the default.
const (
	Exact    Mode = "exact"
	Additive Mode = "additive"
)

// DefaultPrefix is the tag namespace unless TAG_PREFIX says otherwise.
const DefaultPrefix = "imageshare"

var (
	accountRE   = regexp.MustCompile(`^[0-9]{16}$`)
	folderRE    = regexp.MustCompile(`^fd-[A-Za-z0-9]{10}$`)
	directoryRE = regexp.MustCompile(`^rd-[A-Za-z0-9]{6,}$`)
	regionRE    = regexp.MustCompile(`^[a-z]{2,}(-[a-z0-9]+)+$`)
	imageRE     = regexp.MustCompile(`^m-[A-Za-z0-9]{1,64}$`)
)

// IsRegion reports whether s is a well-formed region ID (cn-hangzhou, ap-southeast-1).
func IsRegion(s string) bool { return regionRE.MatchString(s) }

// IsImage reports whether s is a well-formed image ID.
func IsImage(s string) bool { return imageRE.MatchString(s) }

// IsAccount reports whether s is a well-formed account ID.
func IsAccount(s string) bool { return accountRE.MatchString(s) }

// IsFolder reports whether s is a well-formed folder ID.
func IsFolder(s string) bool { return folderRE.MatchString(s) }

// IsDirectory reports whether s is a well-formed Resource Directory ID.
func IsDirectory(s string) bool { return directoryRE.MatchString(s) }

// TagError is one reason the tags of an image cannot be read. Subject is what the
// refusal names: the bad token, or the key when the key itself is wrong or its value
// is empty.
type TagError struct {
	Key     string
	Subject string
	Reason  string
}

// Policy is what the tags of one image ask for.
type Policy struct {
	// Managed: the image has at least one key equal to the prefix or under it.
	Managed bool
	// Accounts to share with directly, in tag order (docs/tags.md), first occurrence wins.
	Accounts []string
	// Folders holds folder and directory IDs to share with through Resource Sharing.
	Folders []string
	Mode    Mode
	// Regions lists the regions the regions keys ask for copies in (docs/regions.md),
	// sorted, each once; RegionsKeys names those keys, in key order.
	Regions     []string
	RegionsKeys []string
	// SourceRegion and SourceImage are the origin key's value: the image is the copy of
	// that source (both empty when the key is absent).
	SourceRegion, SourceImage string
	// Errors: when not empty the image is frozen (left exactly as it is).
	Errors []TagError
}

// IsCopy reports whether the tags carry the origin key.
func (p Policy) IsCopy() bool { return p.SourceImage != "" }

// Keys of the language, relative to the prefix.
const (
	keyAccounts = "accounts"
	keyFolders  = "folders"
	keyMode     = "mode"
	keyRegions  = "regions"
	keySource   = "source"
)

// RegionsKey is the key that asks for copies in other regions; SourceKey the origin key
// imageshare writes on each copy (docs/regions.md).
func RegionsKey(prefix string) string { return prefix + ":" + keyRegions }

// SourceKey is the origin key of copies.
func SourceKey(prefix string) string { return prefix + ":" + keySource }

// SourceValue is the origin key's value for a copy of image in region.
func SourceValue(region, image string) string { return region + "/" + image }

// Parse reads the tags of one image under prefix.
func Parse(prefix string, tags map[string]string) Policy {
	p := Policy{Mode: Exact}
	var accountKeys, folderKeys, regionKeys []keyed
	for key, value := range tags {
		if key != prefix && !strings.HasPrefix(key, prefix+":") {
			continue
		}
		p.Managed = true
		rest := strings.TrimPrefix(strings.TrimPrefix(key, prefix), ":")
		switch {
		case key == prefix:
			p.Errors = append(p.Errors, TagError{Key: key, Subject: key, Reason: "unknown key: the prefix alone is not a key of the tag language"})
		case rest == keyAccounts || strings.HasPrefix(rest, keyAccounts+":"):
			accountKeys = append(accountKeys, keyed{key: key, suffix: suffixOf(rest, keyAccounts), value: value})
		case rest == keyFolders || strings.HasPrefix(rest, keyFolders+":"):
			folderKeys = append(folderKeys, keyed{key: key, suffix: suffixOf(rest, keyFolders), value: value})
		case rest == keyMode:
			p.parseMode(key, value)
		case rest == keyRegions || strings.HasPrefix(rest, keyRegions+":"):
			regionKeys = append(regionKeys, keyed{key: key, suffix: suffixOf(rest, keyRegions), value: value})
		case rest == keySource:
			p.parseSource(key, value)
		default:
			p.Errors = append(p.Errors, TagError{Key: key, Subject: key, Reason: "unknown key under the prefix (keys are " + prefix + ":accounts[:…], " + prefix + ":folders[:…], " + prefix + ":mode, " + prefix + ":regions[:…]; " + prefix + ":source is written by imageshare on copies)"})
		}
	}
	sortKeys(accountKeys)
	sortKeys(folderKeys)
	seen := map[string]bool{}
	for _, k := range accountKeys {
		for _, tok := range p.tokens(k.key, k.value) {
			if !IsAccount(tok) {
				p.Errors = append(p.Errors, TagError{Key: k.key, Subject: tok, Reason: "not an account ID (16 digits)"})
				continue
			}
			if !seen[tok] {
				seen[tok] = true
				p.Accounts = append(p.Accounts, tok)
			}
		}
	}
	for _, k := range folderKeys {
		for _, tok := range p.tokens(k.key, k.value) {
			if !IsFolder(tok) && !IsDirectory(tok) {
				p.Errors = append(p.Errors, TagError{Key: k.key, Subject: tok, Reason: "not a folder ID (fd- and 10 letters or digits) or a directory ID (rd-…)"})
				continue
			}
			if !seen[tok] {
				seen[tok] = true
				p.Folders = append(p.Folders, tok)
			}
		}
	}
	sortKeys(regionKeys)
	for _, k := range regionKeys {
		p.RegionsKeys = append(p.RegionsKeys, k.key)
		for _, tok := range p.tokens(k.key, k.value) {
			if !IsRegion(tok) {
				p.Errors = append(p.Errors, TagError{Key: k.key, Subject: tok, Reason: "not a region ID (such as cn-shanghai)"})
				continue
			}
			if !slices.Contains(p.Regions, tok) {
				p.Regions = append(p.Regions, tok)
			}
		}
	}
	sort.Strings(p.Regions)
	sort.SliceStable(p.Errors, func(i, j int) bool {
		if p.Errors[i].Key != p.Errors[j].Key {
			return p.Errors[i].Key < p.Errors[j].Key
		}
		return p.Errors[i].Subject < p.Errors[j].Subject
	})
	return p
}

func (p *Policy) parseMode(key, value string) {
	toks := Split(value)
	if len(toks) == 1 && (toks[0] == string(Exact) || toks[0] == string(Additive)) {
		p.Mode = Mode(toks[0])
		return
	}
	subject := strings.TrimSpace(value)
	if subject == "" {
		subject = key
	}
	p.Errors = append(p.Errors, TagError{Key: key, Subject: subject, Reason: "mode must be exact or additive"})
}

// parseSource reads the origin key: <region>/<image ID>.
func (p *Policy) parseSource(key, value string) {
	r, im, ok := strings.Cut(strings.TrimSpace(value), "/")
	if !ok || !IsRegion(r) || !IsImage(im) {
		subject := strings.TrimSpace(value)
		if subject == "" {
			subject = key
		}
		p.Errors = append(p.Errors, TagError{Key: key, Subject: subject, Reason: "the origin key of a copy must be <region>/<image ID>, such as cn-hangzhou/m-Base00000001"})
		return
	}
	p.SourceRegion, p.SourceImage = r, im
}

// tokens splits a list value; `none` alone is the explicit empty list.
func (p *Policy) tokens(key, value string) []string {
	toks := Split(value)
	if len(toks) == 0 {
		p.Errors = append(p.Errors, TagError{Key: key, Subject: key, Reason: "empty value (write none for an explicit empty list)"})
		return nil
	}
	if len(toks) == 1 && toks[0] == "none" {
		return nil
	}
	out := toks[:0:0]
	for _, t := range toks {
		if t == "none" {
			p.Errors = append(p.Errors, TagError{Key: key, Subject: t, Reason: "none must stand alone"})
			continue
		}
		out = append(out, t)
	}
	return out
}

// Split cuts a tag value on runs of commas (ASCII or full-width), semicolons and
// white space; empty tokens are dropped.
func Split(value string) []string {
	return strings.FieldsFunc(value, func(r rune) bool {
		return r == ',' || r == '，' || r == ';' || unicode.IsSpace(r)
	})
}

type keyed struct {
	key, suffix, value string
}

func suffixOf(rest, base string) string {
	return strings.TrimPrefix(strings.TrimPrefix(rest, base), ":")
}

// sortKeys orders keys as docs/tags.md says: the bare key first, then numeric suffixes
// numerically, then the other suffixes bytewise.
func sortKeys(ks []keyed) {
	sort.Slice(ks, func(i, j int) bool { return keyLess(ks[i].key, ks[i].suffix, ks[j].key, ks[j].suffix) })
}

func keyLess(ki, si, kj, sj string) bool {
	// The bare key (suffix empty and no trailing colon) comes first.
	bi, bj := si == "" && !strings.HasSuffix(ki, ":"), sj == "" && !strings.HasSuffix(kj, ":")
	if bi != bj {
		return bi
	}
	ni, iok := numeric(si)
	nj, jok := numeric(sj)
	switch {
	case iok && jok:
		if c := compareNumeric(ni, nj); c != 0 {
			return c < 0
		}
		return si < sj
	case iok != jok:
		return iok
	}
	return si < sj
}

// numeric returns the digits of s without leading zeros when s is all digits.
func numeric(s string) (string, bool) {
	if s == "" {
		return "", false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return "", false
		}
	}
	t := strings.TrimLeft(s, "0")
	if t == "" {
		t = "0"
	}
	return t, true
}

// compareNumeric compares digit strings of any length without overflow.
func compareNumeric(a, b string) int {
	if len(a) != len(b) {
		return len(a) - len(b)
	}
	return strings.Compare(a, b)
}

// KeyOrder returns keys (all under one prefix and one base, e.g. accounts) in the order
// of the tag language; exported for writers of tags (R8) and for tests.
func KeyOrder(prefix, base string, keys []string) []string {
	ks := make([]keyed, 0, len(keys))
	for _, k := range keys {
		rest := strings.TrimPrefix(strings.TrimPrefix(k, prefix), ":")
		ks = append(ks, keyed{key: k, suffix: suffixOf(rest, base)})
	}
	sortKeys(ks)
	out := make([]string, len(ks))
	for i, k := range ks {
		out[i] = k.key
	}
	return out
}

// SharingKey reports whether key is one of the keys a copy carries from its source:
// accounts, accounts:…, folders, folders:…, mode (docs/regions.md).
func SharingKey(prefix, key string) bool {
	rest, ok := strings.CutPrefix(key, prefix+":")
	if !ok {
		return false
	}
	return rest == keyMode || rest == keyAccounts || strings.HasPrefix(rest, keyAccounts+":") ||
		rest == keyFolders || strings.HasPrefix(rest, keyFolders+":")
}

// CopyTags are the prefix tags a copy of an image carries (docs/regions.md): the
// source's sharing keys with their values byte for byte and the origin key when the
// copy's region is wanted, or, when it is withdrawn, only accounts=none and the origin
// key. Tags outside the prefix are not part of it.
func CopyTags(prefix string, source map[string]string, sourceRegion, sourceImage string, wanted bool) map[string]string {
	out := map[string]string{SourceKey(prefix): SourceValue(sourceRegion, sourceImage)}
	if !wanted {
		out[prefix+":"+keyAccounts] = "none"
		return out
	}
	for k, v := range source {
		if SharingKey(prefix, k) {
			out[k] = v
		}
	}
	return out
}

// PrefixTags returns the tags under the prefix (the prefix key itself included).
func PrefixTags(prefix string, tags map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range tags {
		if k == prefix || strings.HasPrefix(k, prefix+":") {
			out[k] = v
		}
	}
	return out
}
