package scenario

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// ID grammars of the format.
var (
	accountRE   = regexp.MustCompile(`^[0-9]{16}$`)
	folderRE    = regexp.MustCompile(`^fd-[A-Za-z0-9]{10}$`)
	directoryRE = regexp.MustCompile(`^rd-[A-Za-z0-9]{6,}$`)
	rootRE      = regexp.MustCompile(`^r-[A-Za-z0-9]{4,}$`)
	imageRE     = regexp.MustCompile(`^m-[A-Za-z0-9]+$`)
	regionRE    = regexp.MustCompile(`^[a-z]+(-[a-z0-9]+)+$`)
	settingRE   = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	actionRE    = regexp.MustCompile(`^[a-z][a-z0-9-]*:[A-Za-z*][A-Za-z0-9*]*$`)
	shareNameRE = regexp.MustCompile(`^[A-Za-z0-9._-]{1,50}$`)
	kmsKeyRE    = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_:/.\-]{0,63}$`)
	yamlLineRE  = regexp.MustCompile(`^yaml: line ([0-9]+): (.*)$`)
)

// maxShareAccounts is ModifyImageSharePermission's limit per list.
const maxShareAccounts = 10

// Parse reads a scenario. name is used in error messages (FILE:LINE: msg).
func Parse(name string, data []byte) (*Scenario, error) {
	p := &parser{file: name}
	root, err := p.document(data)
	if err != nil {
		return nil, err
	}
	sc, err := p.scenario(root)
	if err != nil {
		return nil, err
	}
	return sc, nil
}

type parser struct {
	file string
	// known accounts while reading steps in order: created or invited ones join.
	known   map[string]bool
	folders map[string]bool
	sc      *Scenario
}

func (p *parser) errf(n *yaml.Node, format string, args ...any) error {
	line := 1
	if n != nil && n.Line > 0 {
		line = n.Line
	}
	return &Error{File: p.file, Line: line, Msg: fmt.Sprintf(format, args...)}
}

func (p *parser) document(data []byte) (*yaml.Node, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, &Error{File: p.file, Line: 1, Msg: "empty scenario"}
		}
		return nil, p.yamlError(err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		return nil, p.errf(&extra, "a scenario is one YAML document; found a second one")
	} else if !errors.Is(err, io.EOF) {
		return nil, p.yamlError(err)
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) != 1 {
		return nil, &Error{File: p.file, Line: 1, Msg: "empty scenario"}
	}
	return doc.Content[0], nil
}

func (p *parser) yamlError(err error) error {
	msg := err.Error()
	if m := yamlLineRE.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		return &Error{File: p.file, Line: line, Msg: "YAML: " + m[2]}
	}
	return &Error{File: p.file, Line: 1, Msg: strings.TrimPrefix(msg, "yaml: ")}
}

// entry is one key of a mapping.
type entry struct {
	key, val *yaml.Node
}

// fields reads a mapping whose keys must be among allowed (in file order).
func (p *parser) fields(n *yaml.Node, what string, allowed ...string) (map[string]entry, error) {
	if err := p.plain(n, what); err != nil {
		return nil, err
	}
	if n.Kind != yaml.MappingNode {
		return nil, p.errf(n, "%s: want a mapping, found %s", what, kindName(n))
	}
	out := map[string]entry{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if err := p.plain(k, what); err != nil {
			return nil, err
		}
		if k.Kind != yaml.ScalarNode {
			return nil, p.errf(k, "%s: a key must be a scalar", what)
		}
		if k.ShortTag() == "!!merge" {
			return nil, p.errf(k, "%s: merge keys (<<) are not supported", what)
		}
		if !slices.Contains(allowed, k.Value) {
			return nil, p.errf(k, "%s: unknown key %q (allowed: %s)", what, k.Value, strings.Join(allowed, ", "))
		}
		if prev, dup := out[k.Value]; dup {
			return nil, p.errf(k, "%s: key %q given twice (first at line %d)", what, k.Value, prev.key.Line)
		}
		if err := p.plain(v, what+"."+k.Value); err != nil {
			return nil, err
		}
		out[k.Value] = entry{k, v}
	}
	return out, nil
}

// plain rejects anchors and aliases: a scenario is written out flat, and following
// aliases while walking the tree could expand a small file without bound.
func (p *parser) plain(n *yaml.Node, what string) error {
	if n.Kind == yaml.AliasNode || n.Anchor != "" {
		return p.errf(n, "%s: anchors and aliases are not supported in scenarios", what)
	}
	return nil
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		if isNull(n) {
			return "nothing"
		}
		return fmt.Sprintf("the scalar %q", n.Value)
	case yaml.AliasNode:
		return "an alias"
	}
	return "something else"
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

// text reads a scalar as its source text; null is "".
func (p *parser) text(n *yaml.Node, what string) (string, error) {
	if err := p.plain(n, what); err != nil {
		return "", err
	}
	if n.Kind != yaml.ScalarNode {
		return "", p.errf(n, "%s: want a scalar, found %s", what, kindName(n))
	}
	if isNull(n) {
		return "", nil
	}
	return n.Value, nil
}

func (p *parser) id(n *yaml.Node, what string, re *regexp.Regexp, kind string) (string, error) {
	s, err := p.text(n, what)
	if err != nil {
		return "", err
	}
	if !re.MatchString(s) {
		return "", p.errf(n, "%s: bad %s %q (want %s)", what, kind, s, re.String())
	}
	return s, nil
}

func (p *parser) account(n *yaml.Node, what string) (string, error) {
	return p.id(n, what, accountRE, "account ID")
}

func (p *parser) image(n *yaml.Node, what string) (string, error) {
	return p.id(n, what, imageRE, "image ID")
}

func (p *parser) enum(n *yaml.Node, what string, values []string) (string, error) {
	s, err := p.text(n, what)
	if err != nil {
		return "", err
	}
	if !slices.Contains(values, s) {
		return "", p.errf(n, "%s: %q is not one of %s", what, s, strings.Join(values, " | "))
	}
	return s, nil
}

func (p *parser) boolean(n *yaml.Node, what string) (bool, error) {
	s, err := p.enum(n, what, []string{"true", "false"})
	return s == "true", err
}

func (p *parser) duration(n *yaml.Node, what string) (time.Duration, error) {
	s, err := p.text(n, what)
	if err != nil {
		return 0, err
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, p.errf(n, "%s: bad duration %q (want a positive Go duration such as 5s, 3m, 1h30m)", what, s)
	}
	return d, nil
}

func (p *parser) rate(n *yaml.Node, what string) (float64, error) {
	s, err := p.text(n, what)
	if err != nil {
		return 0, err
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) || f < 0 || f > 1 {
		return 0, p.errf(n, "%s: rate %q must be a number in [0,1]", what, s)
	}
	return f, nil
}

// list reads a sequence; null is an absent list (nil).
func (p *parser) list(n *yaml.Node, what string) ([]*yaml.Node, bool, error) {
	if err := p.plain(n, what); err != nil {
		return nil, false, err
	}
	if isNull(n) {
		return nil, false, nil
	}
	if n.Kind != yaml.SequenceNode {
		return nil, false, p.errf(n, "%s: want a list, found %s", what, kindName(n))
	}
	for _, c := range n.Content {
		if err := p.plain(c, what); err != nil {
			return nil, false, err
		}
	}
	return n.Content, true, nil
}

// strings reads a list of scalars each checked by check (nil: any text).
func (p *parser) strings(n *yaml.Node, what string, check func(*yaml.Node, string) (string, error)) ([]string, error) {
	items, ok, err := p.list(n, what)
	if err != nil || !ok {
		return nil, err
	}
	out := make([]string, 0, len(items))
	for i, it := range items {
		w := fmt.Sprintf("%s[%d]", what, i)
		var s string
		if check != nil {
			s, err = check(it, w)
		} else {
			s, err = p.text(it, w)
		}
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

func (p *parser) accounts(n *yaml.Node, what string) ([]string, error) {
	return p.strings(n, what, p.account)
}

func (p *parser) images(n *yaml.Node, what string) ([]string, error) {
	return p.strings(n, what, p.image)
}

// stringMap reads a mapping of scalar to scalar (tags, settings); null is absent.
func (p *parser) stringMap(n *yaml.Node, what string, key func(*yaml.Node, string) error) (map[string]string, error) {
	if err := p.plain(n, what); err != nil {
		return nil, err
	}
	if isNull(n) {
		return nil, nil
	}
	if n.Kind != yaml.MappingNode {
		return nil, p.errf(n, "%s: want a mapping, found %s", what, kindName(n))
	}
	out := map[string]string{}
	lines := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		kn, vn := n.Content[i], n.Content[i+1]
		if kn.Kind == yaml.ScalarNode && kn.ShortTag() == "!!merge" {
			return nil, p.errf(kn, "%s: merge keys (<<) are not supported", what)
		}
		k, err := p.text(kn, what+" key")
		if err != nil {
			return nil, err
		}
		if key != nil {
			if err := key(kn, k); err != nil {
				return nil, err
			}
		}
		if l, dup := lines[k]; dup {
			return nil, p.errf(kn, "%s: key %q given twice (first at line %d)", what, k, l)
		}
		v, err := p.text(vn, what+"."+k)
		if err != nil {
			return nil, err
		}
		out[k] = v
		lines[k] = kn.Line
	}
	return out, nil
}

func (p *parser) tags(n *yaml.Node, what string) (map[string]string, error) {
	return p.stringMap(n, what, func(kn *yaml.Node, k string) error {
		if k == "" {
			return p.errf(kn, "%s: a tag key must not be empty", what)
		}
		return nil
	})
}

func (p *parser) scenario(root *yaml.Node) (*Scenario, error) {
	f, err := p.fields(root, "scenario", "region", "owner", "directory", "outside", "settings", "roles", "deny",
		"cloud", "faults", "kms_keys", "images", "resource_shares", "steps", "expect")
	if err != nil {
		return nil, err
	}
	sc := &Scenario{Cloud: Cloud{OrgEvents: true}}
	p.sc = sc
	p.known = map[string]bool{}
	p.folders = map[string]bool{}

	e, ok := f["region"]
	if !ok {
		return nil, p.errf(root, "region is missing")
	}
	if sc.Region, err = p.id(e.val, "region", regionRE, "region"); err != nil {
		return nil, err
	}
	e, ok = f["owner"]
	if !ok {
		return nil, p.errf(root, "owner is missing")
	}
	if sc.Owner, err = p.account(e.val, "owner"); err != nil {
		return nil, err
	}
	// Every account is listed once. The owner may also be listed once in
	// directory.accounts (member: true), to put it in a folder: it is a member at the
	// root unless listed there.
	ownerLine := e.val.Line
	seen := map[string]int{}
	claim := func(n *yaml.Node, what, id string, member bool) error {
		if l, dup := seen[id]; dup {
			return p.errf(n, "%s: duplicate ID %s (already at line %d)", what, id, l)
		}
		if id == sc.Owner && !member {
			return p.errf(n, "%s: %s is the owner (line %d); list it only in directory.accounts, to put it in a folder", what, id, ownerLine)
		}
		seen[id] = n.Line
		return nil
	}

	if e, ok := f["directory"]; ok && !isNull(e.val) {
		if sc.Directory, err = p.directory(e.val, claim); err != nil {
			return nil, err
		}
	}
	if e, ok := f["outside"]; ok {
		items, _, err := p.list(e.val, "outside")
		if err != nil {
			return nil, err
		}
		if sc.Outside, err = p.accounts(e.val, "outside"); err != nil {
			return nil, err
		}
		for i, a := range sc.Outside {
			if err := claim(items[i], fmt.Sprintf("outside[%d]", i), a, false); err != nil {
				return nil, err
			}
		}
	}
	seen[sc.Owner] = ownerLine
	for id := range seen {
		if accountRE.MatchString(id) {
			p.known[id] = true
		}
	}
	if e, ok := f["settings"]; ok {
		sc.Settings, err = p.stringMap(e.val, "settings", func(kn *yaml.Node, k string) error {
			if !settingRE.MatchString(k) {
				return p.errf(kn, "settings: %q is not an environment variable name", k)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	if e, ok := f["roles"]; ok {
		if sc.Roles, err = p.strings(e.val, "roles", func(n *yaml.Node, w string) (string, error) {
			s, err := p.text(n, w)
			if err == nil && s == "" {
				err = p.errf(n, "%s: empty role name", w)
			}
			return s, err
		}); err != nil {
			return nil, err
		}
	}
	if e, ok := f["deny"]; ok {
		if sc.Deny, err = p.strings(e.val, "deny", func(n *yaml.Node, w string) (string, error) {
			return p.id(n, w, actionRE, "API action")
		}); err != nil {
			return nil, err
		}
	}
	if e, ok := f["cloud"]; ok && !isNull(e.val) {
		cf, err := p.fields(e.val, "cloud", "org_events", "org_grants_listed", "lookup_delay", "copy_ready_after", "copy_fails", "copy_list_delay")
		if err != nil {
			return nil, err
		}
		if c, ok := cf["copy_ready_after"]; ok {
			if sc.Cloud.CopyReadyAfter, err = p.duration(c.val, "cloud.copy_ready_after"); err != nil {
				return nil, err
			}
		}
		if c, ok := cf["copy_list_delay"]; ok {
			if sc.Cloud.CopyListDelay, err = p.duration(c.val, "cloud.copy_list_delay"); err != nil {
				return nil, err
			}
		}
		if c, ok := cf["copy_fails"]; ok {
			m, err := p.stringMap(c.val, "cloud.copy_fails", func(kn *yaml.Node, k string) error {
				if !regionRE.MatchString(k) {
					return p.errf(kn, "cloud.copy_fails: %q is not a region ID", k)
				}
				return nil
			})
			if err != nil {
				return nil, err
			}
			sc.CopyFails = map[string]int{}
			for k, v := range m {
				n, err := strconv.Atoi(v)
				if err != nil || n < 1 || n > 1000 {
					return nil, p.errf(c.val, "cloud.copy_fails.%s: want a whole number from 1 to 1000, found %q", k, v)
				}
				sc.CopyFails[k] = n
			}
		}
		if c, ok := cf["org_events"]; ok {
			if sc.Cloud.OrgEvents, err = p.boolean(c.val, "cloud.org_events"); err != nil {
				return nil, err
			}
		}
		if c, ok := cf["org_grants_listed"]; ok {
			if sc.Cloud.OrgGrantsListed, err = p.boolean(c.val, "cloud.org_grants_listed"); err != nil {
				return nil, err
			}
		}
		if c, ok := cf["lookup_delay"]; ok {
			s, err := p.text(c.val, "cloud.lookup_delay")
			if err != nil {
				return nil, err
			}
			d, derr := time.ParseDuration(s)
			if s == "0" {
				d, derr = 0, nil
			}
			if derr != nil || d < 0 || d > MaxLookupDelay {
				return nil, p.errf(c.val, "cloud.lookup_delay: bad duration %q (want a Go duration from 0s to %s, such as 0s or 10m)", s, MaxLookupDelay)
			}
			sc.Cloud.LookupDelay = d
		}
	}
	if e, ok := f["faults"]; ok && !isNull(e.val) {
		if err := p.faults(e.val, &sc.Faults); err != nil {
			return nil, err
		}
	}
	if e, ok := f["kms_keys"]; ok && !isNull(e.val) {
		if err := p.kmsKeys(e.val, sc); err != nil {
			return nil, err
		}
	}
	imageIDs := map[string]int{}
	elsewhere := map[string]string{} // images of another region → their region
	if e, ok := f["images"]; ok {
		items, present, err := p.list(e.val, "images")
		if err != nil {
			return nil, err
		}
		if present {
			sc.Images = make([]Image, 0, len(items))
		}
		for i, it := range items {
			im, err := p.imageDef(it, fmt.Sprintf("images[%d]", i))
			if err != nil {
				return nil, err
			}
			if l, dup := imageIDs[im.ID]; dup {
				return nil, p.errf(it, "images[%d]: duplicate image %s (already at line %d)", i, im.ID, l)
			}
			if im.Region == sc.Region {
				im.Region = ""
			}
			imageIDs[im.ID] = it.Line
			if im.Region != "" {
				elsewhere[im.ID] = im.Region
			}
			sc.Images = append(sc.Images, im)
		}
	}
	if e, ok := f["resource_shares"]; ok {
		items, present, err := p.list(e.val, "resource_shares")
		if err != nil {
			return nil, err
		}
		if present {
			sc.ResourceShares = make([]ResourceShare, 0, len(items))
		}
		// A name may repeat (as in the cloud, where names are not unique): the shares
		// are created oldest first, in file order, and org_share edits the oldest.
		for i, it := range items {
			rs, err := p.resourceShare(it, fmt.Sprintf("resource_shares[%d]", i), imageIDs)
			if err != nil {
				return nil, err
			}
			for _, id := range rs.Images {
				if r := elsewhere[id]; r != "" {
					return nil, p.errf(it, "resource_shares[%d]: image %s is in region %s: resource shares are the scenario's region's (%s)", i, id, r, sc.Region)
				}
			}
			sc.ResourceShares = append(sc.ResourceShares, rs)
		}
	}
	if e, ok := f["steps"]; ok {
		items, present, err := p.list(e.val, "steps")
		if err != nil {
			return nil, err
		}
		if present {
			sc.Steps = make([]Step, 0, len(items))
		}
		for i, it := range items {
			st, err := p.step(it, fmt.Sprintf("steps[%d]", i), false)
			if err != nil {
				return nil, err
			}
			sc.Steps = append(sc.Steps, st)
		}
	}
	if e, ok := f["expect"]; ok && !isNull(e.val) {
		if err := p.expect(e.val, &sc.Expect); err != nil {
			return nil, err
		}
	}
	return sc, nil
}

func (p *parser) directory(n *yaml.Node, claim func(n *yaml.Node, what, id string, member bool) error) (*Directory, error) {
	f, err := p.fields(n, "directory", "id", "root", "management", "sharing_enabled", "folders", "accounts")
	if err != nil {
		return nil, err
	}
	d := &Directory{SharingEnabled: true, Management: p.sc.Owner}
	e, ok := f["id"]
	if !ok {
		return nil, p.errf(n, "directory.id is missing")
	}
	if d.ID, err = p.id(e.val, "directory.id", directoryRE, "directory ID"); err != nil {
		return nil, err
	}
	e, ok = f["root"]
	if !ok {
		return nil, p.errf(n, "directory.root is missing")
	}
	if d.Root, err = p.id(e.val, "directory.root", rootRE, "root folder ID"); err != nil {
		return nil, err
	}
	if e, ok := f["management"]; ok {
		if d.Management, err = p.account(e.val, "directory.management"); err != nil {
			return nil, err
		}
		// Another account manages the directory: it is an account of the scenario, a
		// member at the root, listed nowhere else.
		if d.Management != p.sc.Owner {
			if err := claim(e.val, "directory.management", d.Management, true); err != nil {
				return nil, err
			}
		}
	}
	if e, ok := f["sharing_enabled"]; ok {
		if d.SharingEnabled, err = p.boolean(e.val, "directory.sharing_enabled"); err != nil {
			return nil, err
		}
	}
	folderLines := map[string]*yaml.Node{}
	if e, ok := f["folders"]; ok {
		items, present, err := p.list(e.val, "directory.folders")
		if err != nil {
			return nil, err
		}
		if present {
			d.Folders = make([]Folder, 0, len(items))
		}
		for i, it := range items {
			w := fmt.Sprintf("directory.folders[%d]", i)
			ff, err := p.fields(it, w, "id", "name", "parent")
			if err != nil {
				return nil, err
			}
			var fo Folder
			e, ok := ff["id"]
			if !ok {
				return nil, p.errf(it, "%s: id is missing", w)
			}
			if fo.ID, err = p.id(e.val, w+".id", folderRE, "folder ID"); err != nil {
				return nil, err
			}
			if prev, dup := folderLines[fo.ID]; dup {
				return nil, p.errf(e.val, "%s: duplicate folder %s (already at line %d)", w, fo.ID, prev.Line)
			}
			folderLines[fo.ID] = e.val
			if e, ok := ff["name"]; ok {
				if fo.Name, err = p.text(e.val, w+".name"); err != nil {
					return nil, err
				}
			}
			e, ok = ff["parent"]
			if !ok {
				return nil, p.errf(it, "%s: parent is missing (a folder ID or the root ID %s)", w, d.Root)
			}
			if fo.Parent, err = p.text(e.val, w+".parent"); err != nil {
				return nil, err
			}
			d.Folders = append(d.Folders, fo)
		}
	}
	// Parents are checked once every folder is known, so folders may come in any order.
	parent := map[string]string{}
	for i, fo := range d.Folders {
		if fo.Parent != d.Root && folderLines[fo.Parent] == nil {
			return nil, p.errf(folderLines[fo.ID], "directory.folders[%d]: parent %q is neither the root %s nor a folder of the directory", i, fo.Parent, d.Root)
		}
		parent[fo.ID] = fo.Parent
	}
	for i, fo := range d.Folders {
		at := fo.ID
		for steps := 0; at != d.Root; steps++ {
			if steps > len(d.Folders) {
				return nil, p.errf(folderLines[fo.ID], "directory.folders[%d]: folder %s is its own ancestor", i, fo.ID)
			}
			at = parent[at]
		}
	}
	p.folders[d.Root] = true
	for id := range folderLines {
		p.folders[id] = true
	}
	if e, ok := f["accounts"]; ok {
		items, present, err := p.list(e.val, "directory.accounts")
		if err != nil {
			return nil, err
		}
		if present {
			d.Accounts = make([]Account, 0, len(items))
		}
		for i, it := range items {
			w := fmt.Sprintf("directory.accounts[%d]", i)
			af, err := p.fields(it, w, "id", "folder", "site")
			if err != nil {
				return nil, err
			}
			a := Account{Folder: d.Root, Site: "china"}
			e, ok := af["id"]
			if !ok {
				return nil, p.errf(it, "%s: id is missing", w)
			}
			if a.ID, err = p.account(e.val, w+".id"); err != nil {
				return nil, err
			}
			if a.ID == d.Management && a.ID != p.sc.Owner {
				return nil, p.errf(e.val, "%s: %s is the management account (directory.management), a member at the root: do not list it here", w, a.ID)
			}
			if err := claim(e.val, w, a.ID, true); err != nil {
				return nil, err
			}
			if e, ok := af["folder"]; ok {
				if a.Folder, err = p.folderRef(e.val, w+".folder"); err != nil {
					return nil, err
				}
			}
			if e, ok := af["site"]; ok {
				if a.Site, err = p.enum(e.val, w+".site", Sites); err != nil {
					return nil, err
				}
			}
			d.Accounts = append(d.Accounts, a)
		}
	}
	return d, nil
}

// folderRef reads a folder ID or the root ID of the directory.
func (p *parser) folderRef(n *yaml.Node, what string) (string, error) {
	s, err := p.text(n, what)
	if err != nil {
		return "", err
	}
	if p.sc.Directory == nil && len(p.folders) == 0 {
		return "", p.errf(n, "%s: %q: the scenario has no directory", what, s)
	}
	if !p.folders[s] {
		return "", p.errf(n, "%s: %q is neither the root nor a folder of the directory", what, s)
	}
	return s, nil
}

// target reads a resource share target: the directory, a folder or a member account.
func (p *parser) target(n *yaml.Node, what string) (string, error) {
	s, err := p.text(n, what)
	if err != nil {
		return "", err
	}
	d := p.sc.Directory
	switch {
	case d == nil:
		return "", p.errf(n, "%s: %q: the scenario has no directory", what, s)
	case directoryRE.MatchString(s):
		if s != d.ID {
			return "", p.errf(n, "%s: %q is not the directory %s", what, s, d.ID)
		}
	case folderRE.MatchString(s):
		if !p.folders[s] {
			return "", p.errf(n, "%s: %q is not a folder of the directory", what, s)
		}
	case accountRE.MatchString(s):
		if !slices.ContainsFunc(d.Accounts, func(a Account) bool { return a.ID == s }) {
			return "", p.errf(n, "%s: account %s is not a member of the directory", what, s)
		}
	default:
		return "", p.errf(n, "%s: bad target %q (want the directory ID, a folder ID or a member account ID)", what, s)
	}
	return s, nil
}

func (p *parser) targets(n *yaml.Node, what string) ([]string, error) {
	return p.strings(n, what, p.target)
}

func (p *parser) faults(n *yaml.Node, out *Faults) error {
	f, err := p.fields(n, "faults", "seed", "throttle", "server_error", "kill")
	if err != nil {
		return err
	}
	if e, ok := f["seed"]; ok {
		s, err := p.text(e.val, "faults.seed")
		if err != nil {
			return err
		}
		if out.Seed, err = strconv.ParseInt(s, 10, 64); err != nil {
			return p.errf(e.val, "faults.seed: %q is not a 64-bit integer", s)
		}
	}
	for _, r := range []struct {
		key string
		dst *float64
	}{{"throttle", &out.Throttle}, {"server_error", &out.ServerError}, {"kill", &out.Kill}} {
		if e, ok := f[r.key]; ok {
			if *r.dst, err = p.rate(e.val, "faults."+r.key); err != nil {
				return err
			}
		}
	}
	return nil
}

func (p *parser) imageDef(n *yaml.Node, w string) (Image, error) {
	im := Image{Status: "Available", Owner: "self", Encrypted: "none"}
	f, err := p.fields(n, w, "id", "region", "status", "owner", "product_code", "product_regions", "encrypted", "tags", "shared_with")
	if err != nil {
		return im, err
	}
	e, ok := f["id"]
	if !ok {
		return im, p.errf(n, "%s: id is missing", w)
	}
	if im.ID, err = p.image(e.val, w+".id"); err != nil {
		return im, err
	}
	if e, ok := f["status"]; ok {
		if im.Status, err = p.enum(e.val, w+".status", Statuses); err != nil {
			return im, err
		}
	}
	if e, ok := f["owner"]; ok {
		if im.Owner, err = p.enum(e.val, w+".owner", Owners); err != nil {
			return im, err
		}
	}
	if e, ok := f["product_code"]; ok {
		if im.ProductCode, err = p.text(e.val, w+".product_code"); err != nil {
			return im, err
		}
	}
	if e, ok := f["encrypted"]; ok {
		if im.Encrypted, err = p.enum(e.val, w+".encrypted", Encryption); err != nil {
			return im, err
		}
	}
	if e, ok := f["tags"]; ok {
		if im.Tags, err = p.tags(e.val, w+".tags"); err != nil {
			return im, err
		}
	}
	if e, ok := f["shared_with"]; ok {
		if im.SharedWith, err = p.accounts(e.val, w+".shared_with"); err != nil {
			return im, err
		}
	}
	if e, ok := f["region"]; ok {
		if im.Region, err = p.id(e.val, w+".region", regionRE, "region"); err != nil {
			return im, err
		}
	}
	if e, ok := f["product_regions"]; ok {
		if im.ProductRegions, err = p.regions(e.val, w+".product_regions"); err != nil {
			return im, err
		}
	}
	return im, nil
}

// regions reads a list of region IDs.
func (p *parser) regions(n *yaml.Node, what string) ([]string, error) {
	return p.strings(n, what, func(n *yaml.Node, w string) (string, error) { return p.id(n, w, regionRE, "region") })
}

// kmsKeys reads kms_keys: a mapping of region to the KMS key IDs that exist there.
func (p *parser) kmsKeys(n *yaml.Node, sc *Scenario) error {
	if n.Kind != yaml.MappingNode {
		return p.errf(n, "kms_keys: want a mapping of region to key IDs, found %s", kindName(n))
	}
	sc.KMSKeys = map[string][]string{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		kn, vn := n.Content[i], n.Content[i+1]
		r, err := p.id(kn, "kms_keys", regionRE, "region")
		if err != nil {
			return err
		}
		if _, dup := sc.KMSKeys[r]; dup {
			return p.errf(kn, "kms_keys: region %s given twice", r)
		}
		keys, err := p.strings(vn, "kms_keys."+r, func(n *yaml.Node, w string) (string, error) { return p.id(n, w, kmsKeyRE, "KMS key ID") })
		if err != nil {
			return err
		}
		sc.KMSKeys[r] = keys
	}
	return nil
}

func (p *parser) resourceShare(n *yaml.Node, w string, images map[string]int) (ResourceShare, error) {
	var rs ResourceShare
	f, err := p.fields(n, w, "name", "targets", "images")
	if err != nil {
		return rs, err
	}
	e, ok := f["name"]
	if !ok {
		return rs, p.errf(n, "%s: name is missing (a name may repeat: shares are created oldest first, in file order)", w)
	}
	if rs.Name, err = p.id(e.val, w+".name", shareNameRE, "resource share name"); err != nil {
		return rs, err
	}
	if e, ok := f["targets"]; ok {
		if rs.Targets, err = p.targets(e.val, w+".targets"); err != nil {
			return rs, err
		}
	}
	if e, ok := f["images"]; ok {
		rs.Images, err = p.strings(e.val, w+".images", func(n *yaml.Node, w string) (string, error) {
			id, err := p.image(n, w)
			if err == nil && images[id] == 0 {
				err = p.errf(n, "%s: image %s is not among the scenario's images", w, id)
			}
			return id, err
		})
		if err != nil {
			return rs, err
		}
	}
	return rs, nil
}

// listField names a list-valued field of a step.
type listField struct {
	key string
	dst *[]string
}

var stepKinds = []string{"tag_image", "untag_image", "create_image", "delete_image", "share_image",
	"create_account", "invite_account", "move_account", "remove_account", "org_share", "events",
	"event", "advance", "together", "wait"}

func (p *parser) step(n *yaml.Node, w string, inTogether bool) (Step, error) {
	st := Step{Line: n.Line}
	if err := p.plain(n, w); err != nil {
		return st, err
	}
	if n.Kind != yaml.MappingNode || len(n.Content) != 2 {
		return st, p.errf(n, "%s: a step is a mapping with exactly one key (%s), found %s", w, strings.Join(stepKinds, ", "), kindName(n))
	}
	kn, v := n.Content[0], n.Content[1]
	kind, err := p.text(kn, w)
	if err != nil {
		return st, err
	}
	if !slices.Contains(stepKinds, kind) {
		return st, p.errf(kn, "%s: unknown step %q (steps: %s)", w, kind, strings.Join(stepKinds, ", "))
	}
	if err := p.plain(v, w); err != nil {
		return st, err
	}
	w += " (" + kind + ")"
	switch kind {
	case "tag_image":
		f, err := p.fields(v, w, "image", "tags")
		if err != nil {
			return st, err
		}
		s := &TagImage{}
		if s.Image, err = p.needImage(v, f, w); err != nil {
			return st, err
		}
		e, ok := f["tags"]
		if !ok {
			return st, p.errf(v, "%s: tags is missing", w)
		}
		if s.Tags, err = p.tags(e.val, w+".tags"); err != nil {
			return st, err
		}
		if len(s.Tags) == 0 {
			return st, p.errf(e.val, "%s: tags: TagResources needs at least one tag", w)
		}
		st.TagImage = s
	case "untag_image":
		f, err := p.fields(v, w, "image", "keys")
		if err != nil {
			return st, err
		}
		s := &UntagImage{}
		if s.Image, err = p.needImage(v, f, w); err != nil {
			return st, err
		}
		e, ok := f["keys"]
		if !ok {
			return st, p.errf(v, "%s: keys is missing", w)
		}
		if s.Keys, err = p.strings(e.val, w+".keys", nil); err != nil {
			return st, err
		}
		if len(s.Keys) == 0 {
			return st, p.errf(e.val, "%s: keys: UntagResources needs at least one key", w)
		}
		st.UntagImage = s
	case "create_image":
		f, err := p.fields(v, w, "image", "tags", "ready_after")
		if err != nil {
			return st, err
		}
		s := &CreateImage{ReadyAfter: DefaultReadyAfter}
		if s.Image, err = p.needImage(v, f, w); err != nil {
			return st, err
		}
		if e, ok := f["tags"]; ok {
			if s.Tags, err = p.tags(e.val, w+".tags"); err != nil {
				return st, err
			}
		}
		if e, ok := f["ready_after"]; ok {
			if s.ReadyAfter, err = p.duration(e.val, w+".ready_after"); err != nil {
				return st, err
			}
		}
		st.CreateImage = s
	case "delete_image":
		f, err := p.fields(v, w, "image")
		if err != nil {
			return st, err
		}
		s := &DeleteImage{}
		if s.Image, err = p.needImage(v, f, w); err != nil {
			return st, err
		}
		st.DeleteImage = s
	case "share_image":
		f, err := p.fields(v, w, "image", "add", "remove")
		if err != nil {
			return st, err
		}
		s := &ShareImage{}
		if s.Image, err = p.needImage(v, f, w); err != nil {
			return st, err
		}
		for _, l := range []listField{{"add", &s.Add}, {"remove", &s.Remove}} {
			if e, ok := f[l.key]; ok {
				if *l.dst, err = p.accounts(e.val, w+"."+l.key); err != nil {
					return st, err
				}
				if len(*l.dst) > maxShareAccounts {
					return st, p.errf(e.val, "%s.%s: at most %d accounts per call, found %d", w, l.key, maxShareAccounts, len(*l.dst))
				}
			}
		}
		st.ShareImage = s
	case "create_account":
		f, err := p.fields(v, w, "account", "folder")
		if err != nil {
			return st, err
		}
		s := &CreateAccount{}
		if err := p.needDirectory(kn, w); err != nil {
			return st, err
		}
		e, ok := f["account"]
		if !ok {
			return st, p.errf(v, "%s: account is missing", w)
		}
		if s.Account, err = p.account(e.val, w+".account"); err != nil {
			return st, err
		}
		if p.known[s.Account] {
			return st, p.errf(e.val, "%s: account %s already exists", w, s.Account)
		}
		if s.Folder, err = p.needFolder(v, f, "folder", w); err != nil {
			return st, err
		}
		p.known[s.Account] = true
		st.CreateAccount = s
	case "invite_account":
		f, err := p.fields(v, w, "account", "folder", "accept_after")
		if err != nil {
			return st, err
		}
		s := &InviteAccount{AcceptAfter: DefaultAcceptAfter}
		if err := p.needDirectory(kn, w); err != nil {
			return st, err
		}
		e, ok := f["account"]
		if !ok {
			return st, p.errf(v, "%s: account is missing", w)
		}
		if s.Account, err = p.account(e.val, w+".account"); err != nil {
			return st, err
		}
		if !slices.Contains(p.sc.Outside, s.Account) {
			return st, p.errf(e.val, "%s: account %s is not listed in outside", w, s.Account)
		}
		if s.Folder, err = p.needFolder(v, f, "folder", w); err != nil {
			return st, err
		}
		if e, ok := f["accept_after"]; ok {
			if s.AcceptAfter, err = p.duration(e.val, w+".accept_after"); err != nil {
				return st, err
			}
		}
		st.InviteAccount = s
	case "move_account":
		f, err := p.fields(v, w, "account", "to")
		if err != nil {
			return st, err
		}
		s := &MoveAccount{}
		if err := p.needDirectory(kn, w); err != nil {
			return st, err
		}
		if s.Account, err = p.knownAccount(v, f, w); err != nil {
			return st, err
		}
		if s.To, err = p.needFolder(v, f, "to", w); err != nil {
			return st, err
		}
		st.MoveAccount = s
	case "remove_account":
		f, err := p.fields(v, w, "account")
		if err != nil {
			return st, err
		}
		s := &RemoveAccount{}
		if err := p.needDirectory(kn, w); err != nil {
			return st, err
		}
		if s.Account, err = p.knownAccount(v, f, w); err != nil {
			return st, err
		}
		st.RemoveAccount = s
	case "org_share":
		f, err := p.fields(v, w, "name", "add_images", "remove_images", "add_targets", "remove_targets")
		if err != nil {
			return st, err
		}
		s := &OrgShare{}
		if err := p.needDirectory(kn, w); err != nil {
			return st, err
		}
		e, ok := f["name"]
		if !ok {
			return st, p.errf(v, "%s: name is missing (the share of that name is edited, the oldest when several have it; created when none has)", w)
		}
		if s.Name, err = p.id(e.val, w+".name", shareNameRE, "resource share name"); err != nil {
			return st, err
		}
		for _, l := range []listField{{"add_images", &s.AddImages}, {"remove_images", &s.RemoveImages}} {
			if e, ok := f[l.key]; ok {
				if *l.dst, err = p.images(e.val, w+"."+l.key); err != nil {
					return st, err
				}
			}
		}
		for _, l := range []listField{{"add_targets", &s.AddTargets}, {"remove_targets", &s.RemoveTargets}} {
			if e, ok := f[l.key]; ok {
				if *l.dst, err = p.targets(e.val, w+"."+l.key); err != nil {
					return st, err
				}
			}
		}
		st.OrgShare = s
	case "events":
		s, err := p.enum(v, w, []string{"on", "off"})
		if err != nil {
			return st, err
		}
		st.Events = s
	case "event":
		if v.Kind != yaml.MappingNode {
			return st, p.errf(v, "%s: a CloudEvent is a mapping, found %s", w, kindName(v))
		}
		var buf bytes.Buffer
		if err := p.json(&buf, v, w); err != nil {
			return st, err
		}
		st.Event = json.RawMessage(buf.Bytes())
	case "advance":
		if st.Advance, err = p.duration(v, w); err != nil {
			return st, err
		}
	case "wait":
		if !inTogether {
			return st, p.errf(kn, "%s: wait is only allowed inside together", w)
		}
		if st.Wait, err = p.duration(v, w); err != nil {
			return st, err
		}
	case "together":
		if inTogether {
			return st, p.errf(kn, "%s: together cannot be nested", w)
		}
		items, _, err := p.list(v, w)
		if err != nil {
			return st, err
		}
		if len(items) == 0 {
			return st, p.errf(v, "%s: together needs at least one step", w)
		}
		st.Together = make([]Step, 0, len(items))
		for i, it := range items {
			sub, err := p.step(it, fmt.Sprintf("%s[%d]", w, i), true)
			if err != nil {
				return st, err
			}
			st.Together = append(st.Together, sub)
		}
	}
	return st, nil
}

func (p *parser) needImage(v *yaml.Node, f map[string]entry, w string) (string, error) {
	e, ok := f["image"]
	if !ok {
		return "", p.errf(v, "%s: image is missing", w)
	}
	return p.image(e.val, w+".image")
}

func (p *parser) needFolder(v *yaml.Node, f map[string]entry, key, w string) (string, error) {
	e, ok := f[key]
	if !ok {
		return "", p.errf(v, "%s: %s is missing", w, key)
	}
	return p.folderRef(e.val, w+"."+key)
}

func (p *parser) needDirectory(n *yaml.Node, w string) error {
	if p.sc.Directory == nil {
		return p.errf(n, "%s: the scenario has no directory", w)
	}
	return nil
}

func (p *parser) knownAccount(v *yaml.Node, f map[string]entry, w string) (string, error) {
	e, ok := f["account"]
	if !ok {
		return "", p.errf(v, "%s: account is missing", w)
	}
	a, err := p.account(e.val, w+".account")
	if err != nil {
		return "", err
	}
	if a == p.sc.Owner {
		return "", p.errf(e.val, "%s: %s is the owner (whose functions run the scenario)", w, a)
	}
	if d := p.sc.Directory; d != nil && a == d.Management {
		return "", p.errf(e.val, "%s: %s is the management account (directory.management)", w, a)
	}
	if !p.known[a] {
		return "", p.errf(e.val, "%s: unknown account %s (not a member, outside or created account)", w, a)
	}
	return a, nil
}

// json writes a YAML node as JSON: see Step.Event for the scalar rules.
func (p *parser) json(buf *bytes.Buffer, n *yaml.Node, w string) error {
	if err := p.plain(n, w); err != nil {
		return err
	}
	switch n.Kind {
	case yaml.MappingNode:
		buf.WriteByte('{')
		seen := map[string]int{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			kn, vn := n.Content[i], n.Content[i+1]
			if kn.Kind == yaml.ScalarNode && kn.ShortTag() == "!!merge" {
				return p.errf(kn, "%s: merge keys (<<) are not supported", w)
			}
			k, err := p.text(kn, w+" key")
			if err != nil {
				return err
			}
			if l, dup := seen[k]; dup {
				return p.errf(kn, "%s: key %q given twice (first at line %d)", w, k, l)
			}
			seen[k] = kn.Line
			if i > 0 {
				buf.WriteByte(',')
			}
			writeJSONString(buf, k)
			buf.WriteByte(':')
			if err := p.json(buf, vn, w+"."+k); err != nil {
				return err
			}
		}
		buf.WriteByte('}')
	case yaml.SequenceNode:
		buf.WriteByte('[')
		for i, c := range n.Content {
			if i > 0 {
				buf.WriteByte(',')
			}
			if err := p.json(buf, c, fmt.Sprintf("%s[%d]", w, i)); err != nil {
				return err
			}
		}
		buf.WriteByte(']')
	case yaml.ScalarNode:
		switch n.ShortTag() {
		case "!!null":
			buf.WriteString("null")
		case "!!bool":
			if strings.EqualFold(n.Value, "true") {
				buf.WriteString("true")
			} else {
				buf.WriteString("false")
			}
		default:
			writeJSONString(buf, n.Value)
		}
	default:
		return p.errf(n, "%s: unsupported YAML node", w)
	}
	return nil
}

func writeJSONString(buf *bytes.Buffer, s string) {
	enc := json.NewEncoder(buf)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s)           // a string always encodes
	buf.Truncate(buf.Len() - 1) // Encode appends a newline
}

func (p *parser) expect(n *yaml.Node, out *Expect) error {
	f, err := p.fields(n, "expect", "images", "copies", "refusals", "no_other_refusals")
	if err != nil {
		return err
	}
	if e, ok := f["copies"]; ok && !isNull(e.val) {
		if err := p.expectCopies(e.val, out); err != nil {
			return err
		}
	}
	if e, ok := f["images"]; ok && !isNull(e.val) {
		if e.val.Kind != yaml.MappingNode {
			return p.errf(e.val, "expect.images: want a mapping of image ID to expectations, found %s", kindName(e.val))
		}
		out.Images = map[string]ExpectImage{}
		lines := map[string]int{}
		for i := 0; i+1 < len(e.val.Content); i += 2 {
			kn, vn := e.val.Content[i], e.val.Content[i+1]
			id, err := p.image(kn, "expect.images")
			if err != nil {
				return err
			}
			if l, dup := lines[id]; dup {
				return p.errf(kn, "expect.images: image %s given twice (first at line %d)", id, l)
			}
			lines[id] = kn.Line
			w := "expect.images." + id
			var ei ExpectImage
			if !isNull(vn) {
				ff, err := p.fields(vn, w, "direct", "organization", "tags")
				if err != nil {
					return err
				}
				if ei, err = p.expectImage(ff, w); err != nil {
					return err
				}
			}
			out.Images[id] = ei
		}
	}
	if e, ok := f["refusals"]; ok {
		items, present, err := p.list(e.val, "expect.refusals")
		if err != nil {
			return err
		}
		if present {
			out.Refusals = make([]ExpectRefusal, 0, len(items))
		}
		for i, it := range items {
			w := fmt.Sprintf("expect.refusals[%d]", i)
			rf, err := p.fields(it, w, "image", "subject", "reason")
			if err != nil {
				return err
			}
			var r ExpectRefusal
			e, ok := rf["image"]
			if !ok {
				return p.errf(it, "%s: image is missing", w)
			}
			if r.Image, err = p.image(e.val, w+".image"); err != nil {
				return err
			}
			e, ok = rf["subject"]
			if !ok {
				return p.errf(it, `%s: subject is missing (use "" for a refusal of the whole image)`, w)
			}
			if r.Subject, err = p.text(e.val, w+".subject"); err != nil {
				return err
			}
			if e, ok := rf["reason"]; ok {
				if r.Reason, err = p.text(e.val, w+".reason"); err != nil {
					return err
				}
				if r.Reason == "" {
					return p.errf(e.val, "%s.reason: empty (leave reason out to accept any reason)", w)
				}
			}
			out.Refusals = append(out.Refusals, r)
		}
	}
	if e, ok := f["no_other_refusals"]; ok {
		if out.NoOtherRefusals, err = p.boolean(e.val, "expect.no_other_refusals"); err != nil {
			return err
		}
	}
	return nil
}

// expectImage reads the direct, organization and tags expectations of an image (or of
// the copies of a source in a region) from its fields ff; w names it in errors.
func (p *parser) expectImage(ff map[string]entry, w string) (ExpectImage, error) {
	var ei ExpectImage
	if e, ok := ff["direct"]; ok {
		if isNull(e.val) {
			return ei, p.errf(e.val, "%s.direct: want a list (use [] for none)", w)
		}
		l, err := p.accounts(e.val, w+".direct")
		if err != nil {
			return ei, err
		}
		ei.Direct = &l
	}
	if e, ok := ff["organization"]; ok {
		if isNull(e.val) {
			return ei, p.errf(e.val, "%s.organization: want a list (use [] for none)", w)
		}
		l, err := p.strings(e.val, w+".organization", func(n *yaml.Node, w string) (string, error) {
			s, err := p.text(n, w)
			if err == nil && !directoryRE.MatchString(s) && !folderRE.MatchString(s) && !accountRE.MatchString(s) {
				err = p.errf(n, "%s: bad target %q (want a directory, folder or account ID)", w, s)
			}
			return s, err
		})
		if err != nil {
			return ei, err
		}
		ei.Organization = &l
	}
	if e, ok := ff["tags"]; ok {
		var err error
		if ei.Tags, err = p.tags(e.val, w+".tags"); err != nil {
			return ei, err
		}
	}
	return ei, nil
}

// expectCopies reads expect.copies: source image → region → what must hold there.
func (p *parser) expectCopies(n *yaml.Node, out *Expect) error {
	if n.Kind != yaml.MappingNode {
		return p.errf(n, "expect.copies: want a mapping of source image to regions, found %s", kindName(n))
	}
	out.Copies = map[string]map[string]ExpectCopy{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		kn, vn := n.Content[i], n.Content[i+1]
		src, err := p.image(kn, "expect.copies")
		if err != nil {
			return err
		}
		if _, dup := out.Copies[src]; dup {
			return p.errf(kn, "expect.copies: image %s given twice", src)
		}
		if vn.Kind != yaml.MappingNode {
			return p.errf(vn, "expect.copies.%s: want a mapping of region to expectations, found %s", src, kindName(vn))
		}
		byRegion := map[string]ExpectCopy{}
		for j := 0; j+1 < len(vn.Content); j += 2 {
			rn, en := vn.Content[j], vn.Content[j+1]
			r, err := p.id(rn, "expect.copies."+src, regionRE, "region")
			if err != nil {
				return err
			}
			if _, dup := byRegion[r]; dup {
				return p.errf(rn, "expect.copies.%s: region %s given twice", src, r)
			}
			w := "expect.copies." + src + "." + r
			var ec ExpectCopy
			if !isNull(en) {
				ff, err := p.fields(en, w, "count", "status", "direct", "organization", "tags")
				if err != nil {
					return err
				}
				if e, ok := ff["count"]; ok {
					v, err := p.text(e.val, w+".count")
					if err != nil {
						return err
					}
					c, cerr := strconv.Atoi(v)
					if cerr != nil || c < 0 || c > 1000 {
						return p.errf(e.val, "%s.count: want a whole number from 0 to 1000, found %q", w, v)
					}
					ec.Count = &c
				}
				if e, ok := ff["status"]; ok {
					if ec.Status, err = p.enum(e.val, w+".status", Statuses); err != nil {
						return err
					}
				}
				if ec.ExpectImage, err = p.expectImage(ff, w); err != nil {
					return err
				}
			}
			byRegion[r] = ec
		}
		out.Copies[src] = byRegion
	}
	return nil
}
