// Package tagcheck checks an image's imageshare tags offline, before anyone sets them
// (`imageshare check-tags`, e.g. in a Terraform CI step): with no cloud and no
// credentials, it asks the product's own planner (pkg/plan, which reads the tags with
// pkg/policy) what the functions would refuse, on a state made of what is known — the
// tags, the settings, and optionally the owner and the directory's members. What only
// the directory can tell (whether an account is a member, whether a folder exists) is
// said to need the directory rather than guessed.
package tagcheck

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"imageshare/pkg/plan"
	"imageshare/pkg/policy"
	"imageshare/pkg/settings"
	"imageshare/pkg/state"
)

// Statuses of a finding.
const (
	OK             = "ok"
	Refused        = "refused"
	NeedsDirectory = "needs-directory"
)

// MaxTagLength is the longest tag key and value ECS takes, in characters (TagResources,
// https://www.alibabacloud.com/help/en/ecs/developer-reference/api-ecs-2014-05-26-tagresources:
// Tag.N.Key "up to 128 characters", Tag.N.Value "up to 128 characters").
const MaxTagLength = 128

// ReasonTooLong is a finding of the cloud's own limit: the tag would not be set at all.
const ReasonTooLong = "tag-too-long"

// Members is what is known of the Resource Directory.
type Members struct {
	// Directory is the rd-… ID ("" when the file does not say it).
	Directory string
	// Accounts maps each member to its path (the directory ID, the root folder and the
	// folders down to its own), nil when the file gives no paths.
	Accounts map[string][]string
	// Paths: the file gives every member's path (ListAccounts' ResourceDirectoryPath).
	Paths bool
}

// listAccounts is the answer of Resource Manager's ListAccounts
// (https://www.alibabacloud.com/help/en/resource-management/resource-directory/developer-reference/api-resourcemanager-2020-03-31-listaccounts):
// Accounts.Account[] with AccountId and ResourceDirectoryPath, e.g.
// rd-3G****/r-Wm****/fd-QRzuim****/181761095690****.
type listAccounts struct {
	Accounts *struct {
		Account []struct {
			AccountID             json.RawMessage `json:"AccountId"`
			ResourceDirectoryID   string          `json:"ResourceDirectoryId"`
			ResourceDirectoryPath string          `json:"ResourceDirectoryPath"`
		} `json:"Account"`
	} `json:"Accounts"`
}

// ParseMembers reads a members file: the JSON answer of ListAccounts (one page, several
// pages one after another, or a JSON array of pages), or plain text with one account ID
// per line (blank lines and lines starting with # are skipped).
func ParseMembers(data []byte) (*Members, error) {
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) > 0 && (trimmed[0] == '{' || trimmed[0] == '[') {
		return parseJSON(trimmed)
	}
	m := &Members{Accounts: map[string][]string{}}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if !policy.IsAccount(line) {
			return nil, fmt.Errorf("line %d: %q is not an account ID (16 digits); the file holds one per line, or ListAccounts' JSON", n, line)
		}
		m.Accounts[line] = nil
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(m.Accounts) == 0 {
		return nil, errors.New("no account in it")
	}
	return m, nil
}

func parseJSON(data []byte) (*Members, error) {
	var pages []listAccounts
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	for {
		var raw json.RawMessage
		if err := dec.Decode(&raw); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			return nil, fmt.Errorf("not valid JSON: %w", err)
		}
		one := bytes.TrimSpace(raw)
		if one[0] == '[' {
			var many []listAccounts
			d := json.NewDecoder(bytes.NewReader(one))
			d.UseNumber()
			if err := d.Decode(&many); err != nil {
				return nil, fmt.Errorf("a JSON array of ListAccounts answers: %w", err)
			}
			pages = append(pages, many...)
			continue
		}
		var p listAccounts
		d := json.NewDecoder(bytes.NewReader(one))
		d.UseNumber()
		if err := d.Decode(&p); err != nil {
			return nil, fmt.Errorf("a ListAccounts answer: %w", err)
		}
		pages = append(pages, p)
	}
	m := &Members{Accounts: map[string][]string{}, Paths: true}
	for i, p := range pages {
		if p.Accounts == nil {
			return nil, fmt.Errorf("answer %d has no Accounts.Account: not the JSON of ListAccounts", i+1)
		}
		for _, a := range p.Accounts.Account {
			// A string, as the API answers; a number, as a tool may have rewritten it
			// (json.Decoder.UseNumber keeps all its digits).
			id := strings.Trim(string(bytes.TrimSpace(a.AccountID)), `"`)
			if !policy.IsAccount(id) {
				return nil, fmt.Errorf("AccountId %q is not an account ID (16 digits)", id)
			}
			parts := strings.Split(a.ResourceDirectoryPath, "/")
			if a.ResourceDirectoryPath == "" || len(parts) < 3 || parts[len(parts)-1] != id || !policy.IsDirectory(parts[0]) {
				// Without its path a member's folders are unknown.
				m.Paths = false
				m.Accounts[id] = nil
			} else {
				m.Accounts[id] = parts[:len(parts)-1]
			}
			dir := a.ResourceDirectoryID
			if dir == "" && len(parts) > 0 && policy.IsDirectory(parts[0]) {
				dir = parts[0]
			}
			if dir != "" {
				if m.Directory != "" && m.Directory != dir {
					return nil, fmt.Errorf("members of two directories, %s and %s", m.Directory, dir)
				}
				m.Directory = dir
			}
		}
	}
	if len(m.Accounts) == 0 {
		return nil, errors.New("no account in it")
	}
	return m, nil
}

// Config is what the check knows besides the tags.
type Config struct {
	Settings settings.Settings
	// Owner is the account that owns the images ("" unknown).
	Owner string
	// Members is the directory's membership (nil unknown).
	Members *Members
}

// Finding is what the functions would do about one target or one tag.
type Finding struct {
	Subject string `json:"subject"`
	Status  string `json:"status"` // OK, Refused or NeedsDirectory
	Reason  string `json:"reason,omitempty"`
	Message string `json:"message"`
}

// Result is the check of one image's tags.
type Result struct {
	Name    string `json:"name"`
	Managed bool   `json:"managed"`
	Mode    string `json:"mode,omitempty"`
	// Frozen: a tag error; the functions leave the image exactly as it is and check no
	// target until it is fixed.
	Frozen   bool      `json:"frozen,omitempty"`
	Findings []Finding `json:"findings"`
}

// Refusals counts the findings the functions would refuse.
func (r Result) Refusals() int {
	n := 0
	for _, f := range r.Findings {
		if f.Status == Refused {
			n++
		}
	}
	return n
}

// Check checks one image's tags.
func Check(cfg Config, name string, tags map[string]string) Result {
	prefix := cfg.Settings.TagPrefix
	res := Result{Name: name, Findings: []Finding{}}
	// The cloud's own limit first: a tag it refuses is never set.
	for _, k := range slices.Sorted(maps.Keys(tags)) {
		if k != prefix && !strings.HasPrefix(k, prefix+":") {
			continue
		}
		if n := utf8.RuneCountInString(k); n > MaxTagLength {
			res.Findings = append(res.Findings, Finding{Subject: k, Status: Refused, Reason: ReasonTooLong,
				Message: fmt.Sprintf("the key is %d characters; ECS takes at most %d, so the tag would not be set", n, MaxTagLength)})
		}
		if n := utf8.RuneCountInString(tags[k]); n > MaxTagLength {
			res.Findings = append(res.Findings, Finding{Subject: k, Status: Refused, Reason: ReasonTooLong,
				Message: fmt.Sprintf("the value is %d characters; ECS takes at most %d, so the tag would not be set: spread the IDs over more keys (%s:accounts:2, …) or use a folder", n, MaxTagLength, prefix)})
		}
	}
	pol := policy.Parse(prefix, tags)
	res.Managed, res.Frozen = pol.Managed, len(pol.Errors) > 0
	if pol.Managed {
		res.Mode = string(pol.Mode)
	}
	st := &state.State{Region: "offline", Owner: cfg.Owner, Now: time.Now().UTC(),
		Images: []state.Image{{ID: name, OwnerAlias: "self", Status: state.Available, Tags: tags}},
		// A directory is assumed, so that folders are looked at; what is not known of it
		// needs the directory (below).
		Directory: &state.Directory{Members: map[string]state.Member{}, Folders: map[string][]string{}}}
	if m := cfg.Members; m != nil {
		st.Directory.ID = m.Directory
		for id, path := range m.Accounts {
			st.Directory.Members[id] = state.Member{ID: id, Path: path}
			for i, f := range path {
				if policy.IsFolder(f) {
					st.Directory.Folders[f] = path[1:i]
				}
			}
		}
	}
	p := plan.Make(st, cfg.Settings)
	refused := map[string]bool{}
	if len(p.Images) == 1 {
		for _, r := range p.Images[0].Refusals {
			f := Finding{Subject: r.Subject, Status: Refused, Reason: r.Reason, Message: r.Message}
			switch {
			case r.Reason == plan.ReasonNotAllowed && cfg.Members == nil:
				f.Status, f.Reason = NeedsDirectory, ""
				f.Message = "neither in ALLOWED_EXTERNAL_ACCOUNTS nor known to be a member: whether it is a member needs the directory (--members, or imageshare plan --set on the real account)"
			case r.Reason == plan.ReasonUnknownFolder || (r.Reason == plan.ReasonUnknownDirectory && (cfg.Members == nil || cfg.Members.Directory == "")):
				f.Status, f.Reason = NeedsDirectory, ""
				f.Message = "whether it exists needs the directory (imageshare plan --set on the real account)"
				if cfg.Members != nil && cfg.Members.Paths {
					f.Message = "no member of the members file is in it, so whether it exists (an empty folder) needs the directory (imageshare plan --set on the real account)"
				}
			}
			refused[r.Subject] = true
			res.Findings = append(res.Findings, f)
		}
	}
	if res.Frozen {
		return res
	}
	for _, a := range pol.Accounts {
		if refused[a] {
			continue
		}
		why := "a member of the directory"
		switch {
		case cfg.Settings.Allowed(a):
			why = "listed in ALLOWED_EXTERNAL_ACCOUNTS"
		case len(st.Directory.Members[a].Path) > 0:
			why = "a member, at " + strings.Join(st.Directory.Members[a].Path, "/")
		}
		res.Findings = append(res.Findings, Finding{Subject: a, Status: OK, Message: "shared directly: " + why})
	}
	for _, f := range pol.Folders {
		if refused[f] {
			continue
		}
		res.Findings = append(res.Findings, Finding{Subject: f, Status: OK, Message: "shared through Resource Sharing with every member in it"})
	}
	return res
}
