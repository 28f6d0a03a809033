// Package policy reads the tag language (docs/tags.md): the tags an ops team sets on
// an image become a Policy (whom to share with directly, which folders to share with
// through Resource Sharing, and the mode), or tag errors that freeze the image.
package policy

import (
	"regexp"
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
)

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
	// Errors: when not empty the image is frozen (left exactly as it is).
	Errors []TagError
}

// Keys of the language, relative to the prefix.
const (
	keyAccounts = "accounts"
	keyFolders  = "folders"
	keyMode     = "mode"
)

// Parse reads the tags of one image under prefix.
func Parse(prefix string, tags map[string]string) Policy {
	p := Policy{Mode: Exact}
	var accountKeys, folderKeys []keyed
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
		default:
			p.Errors = append(p.Errors, TagError{Key: key, Subject: key, Reason: "unknown key under the prefix (keys are " + prefix + ":accounts[:…], " + prefix + ":folders[:…], " + prefix + ":mode)"})
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
