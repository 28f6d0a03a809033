package scenario

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"time"

	"gopkg.in/yaml.v3"
)

// Marshal writes the scenario as YAML that Parse reads back to an equal Scenario
// (Step.Line aside). Every string is double-quoted, so IDs stay strings. It fails on a
// scenario that Parse would reject (the output is parsed once as a check), and on an
// Event holding a JSON number, which the format cannot express.
func (s *Scenario) Marshal() ([]byte, error) {
	root, err := s.node()
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(root); err != nil {
		return nil, fmt.Errorf("encode scenario: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("encode scenario: %w", err)
	}
	if _, err := Parse("marshalled scenario", buf.Bytes()); err != nil {
		return nil, fmt.Errorf("scenario is not valid: %w", err)
	}
	return buf.Bytes(), nil
}

func str(s string) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: s, Style: yaml.DoubleQuotedStyle}
}

func lit(s string) *yaml.Node { return &yaml.Node{Kind: yaml.ScalarNode, Value: s} }

func boolNode(b bool) *yaml.Node { return lit(strconv.FormatBool(b)) }

func durNode(d time.Duration) *yaml.Node { return lit(d.String()) }

type mapNode struct{ n *yaml.Node }

func newMap() mapNode { return mapNode{&yaml.Node{Kind: yaml.MappingNode}} }

func (m mapNode) add(key string, v *yaml.Node) mapNode {
	m.n.Content = append(m.n.Content, lit(key), v)
	return m
}

func strList(l []string) *yaml.Node {
	n := &yaml.Node{Kind: yaml.SequenceNode, Style: yaml.FlowStyle}
	for _, s := range l {
		n.Content = append(n.Content, str(s))
	}
	return n
}

func strMap(m map[string]string) *yaml.Node {
	n := &yaml.Node{Kind: yaml.MappingNode, Style: yaml.FlowStyle}
	for _, k := range slices.Sorted(maps.Keys(m)) {
		n.Content = append(n.Content, str(k), str(m[k]))
	}
	return n
}

func (m mapNode) list(key string, l []string) mapNode {
	if l != nil {
		m.add(key, strList(l))
	}
	return m
}

func (m mapNode) strMap(key string, v map[string]string) mapNode {
	if v != nil {
		m.add(key, strMap(v))
	}
	return m
}

func (s *Scenario) node() (*yaml.Node, error) {
	top := newMap().add("region", str(s.Region)).add("owner", str(s.Owner))
	if d := s.Directory; d != nil {
		dm := newMap().add("id", str(d.ID)).add("root", str(d.Root))
		if d.Management != "" && d.Management != s.Owner {
			dm.add("management", str(d.Management))
		}
		dm.add("sharing_enabled", boolNode(d.SharingEnabled))
		if d.Folders != nil {
			fl := &yaml.Node{Kind: yaml.SequenceNode}
			for _, f := range d.Folders {
				fm := newMap().add("id", str(f.ID)).add("name", str(f.Name)).add("parent", str(f.Parent))
				fm.n.Style = yaml.FlowStyle
				fl.Content = append(fl.Content, fm.n)
			}
			dm.add("folders", fl)
		}
		if d.Accounts != nil {
			al := &yaml.Node{Kind: yaml.SequenceNode}
			for _, a := range d.Accounts {
				am := newMap().add("id", str(a.ID)).add("folder", str(a.Folder)).add("site", str(a.Site))
				am.n.Style = yaml.FlowStyle
				al.Content = append(al.Content, am.n)
			}
			dm.add("accounts", al)
		}
		top.add("directory", dm.n)
	}
	top.list("outside", s.Outside).strMap("settings", s.Settings).list("roles", s.Roles).list("deny", s.Deny)
	cm := newMap().add("org_events", boolNode(s.Cloud.OrgEvents)).add("org_grants_listed", boolNode(s.Cloud.OrgGrantsListed))
	cm.n.Style = yaml.FlowStyle
	top.add("cloud", cm.n)
	fm := newMap().add("seed", lit(strconv.FormatInt(s.Faults.Seed, 10))).
		add("throttle", lit(strconv.FormatFloat(s.Faults.Throttle, 'g', -1, 64))).
		add("server_error", lit(strconv.FormatFloat(s.Faults.ServerError, 'g', -1, 64))).
		add("kill", lit(strconv.FormatFloat(s.Faults.Kill, 'g', -1, 64)))
	fm.n.Style = yaml.FlowStyle
	top.add("faults", fm.n)
	if s.Images != nil {
		il := &yaml.Node{Kind: yaml.SequenceNode}
		for _, im := range s.Images {
			m := newMap().add("id", str(im.ID)).add("status", str(im.Status)).add("owner", str(im.Owner)).
				add("product_code", str(im.ProductCode)).add("encrypted", str(im.Encrypted)).
				strMap("tags", im.Tags).list("shared_with", im.SharedWith)
			if im.Region != "" {
				m.add("region", str(im.Region))
			}
			il.Content = append(il.Content, m.n)
		}
		top.add("images", il)
	}
	if s.ResourceShares != nil {
		rl := &yaml.Node{Kind: yaml.SequenceNode}
		for _, rs := range s.ResourceShares {
			m := newMap().add("name", str(rs.Name)).list("targets", rs.Targets).list("images", rs.Images)
			m.n.Style = yaml.FlowStyle
			rl.Content = append(rl.Content, m.n)
		}
		top.add("resource_shares", rl)
	}
	if s.Steps != nil {
		sl := &yaml.Node{Kind: yaml.SequenceNode}
		for i := range s.Steps {
			n, err := stepNode(&s.Steps[i])
			if err != nil {
				return nil, fmt.Errorf("steps[%d]: %w", i, err)
			}
			sl.Content = append(sl.Content, n)
		}
		top.add("steps", sl)
	}
	em := newMap()
	if s.Expect.Images != nil {
		im := newMap()
		for _, id := range slices.Sorted(maps.Keys(s.Expect.Images)) {
			ei := s.Expect.Images[id]
			m := newMap()
			if ei.Direct != nil {
				m.add("direct", strList(nonNil(*ei.Direct)))
			}
			if ei.Organization != nil {
				m.add("organization", strList(nonNil(*ei.Organization)))
			}
			m.strMap("tags", ei.Tags)
			im.n.Content = append(im.n.Content, str(id), m.n)
		}
		em.add("images", im.n)
	}
	if s.Expect.Refusals != nil {
		rl := &yaml.Node{Kind: yaml.SequenceNode}
		for _, r := range s.Expect.Refusals {
			m := newMap().add("image", str(r.Image)).add("subject", str(r.Subject))
			if r.Reason != "" {
				m.add("reason", str(r.Reason))
			}
			m.n.Style = yaml.FlowStyle
			rl.Content = append(rl.Content, m.n)
		}
		em.add("refusals", rl)
	}
	if s.Expect.NoOtherRefusals {
		em.add("no_other_refusals", boolNode(true))
	}
	top.add("expect", em.n)
	return &yaml.Node{Kind: yaml.DocumentNode, Content: []*yaml.Node{top.n}}, nil
}

// nonNil keeps an expected empty list written as [] (a nil *[]string is "not checked").
func nonNil(l []string) []string {
	if l == nil {
		return []string{}
	}
	return l
}

func stepNode(st *Step) (*yaml.Node, error) {
	if n := countKinds(st); n != 1 {
		return nil, fmt.Errorf("a step must have exactly one kind, found %d", n)
	}
	var body *yaml.Node
	switch {
	case st.TagImage != nil:
		body = newMap().add("image", str(st.TagImage.Image)).add("tags", strMap(st.TagImage.Tags)).n
	case st.UntagImage != nil:
		body = newMap().add("image", str(st.UntagImage.Image)).add("keys", strList(nonNil(st.UntagImage.Keys))).n
	case st.CreateImage != nil:
		body = newMap().add("image", str(st.CreateImage.Image)).strMap("tags", st.CreateImage.Tags).
			add("ready_after", durNode(st.CreateImage.ReadyAfter)).n
	case st.DeleteImage != nil:
		body = newMap().add("image", str(st.DeleteImage.Image)).n
	case st.ShareImage != nil:
		body = newMap().add("image", str(st.ShareImage.Image)).list("add", st.ShareImage.Add).list("remove", st.ShareImage.Remove).n
	case st.CreateAccount != nil:
		body = newMap().add("account", str(st.CreateAccount.Account)).add("folder", str(st.CreateAccount.Folder)).n
	case st.InviteAccount != nil:
		body = newMap().add("account", str(st.InviteAccount.Account)).add("folder", str(st.InviteAccount.Folder)).
			add("accept_after", durNode(st.InviteAccount.AcceptAfter)).n
	case st.MoveAccount != nil:
		body = newMap().add("account", str(st.MoveAccount.Account)).add("to", str(st.MoveAccount.To)).n
	case st.RemoveAccount != nil:
		body = newMap().add("account", str(st.RemoveAccount.Account)).n
	case st.OrgShare != nil:
		o := st.OrgShare
		body = newMap().add("name", str(o.Name)).list("add_images", o.AddImages).list("remove_images", o.RemoveImages).
			list("add_targets", o.AddTargets).list("remove_targets", o.RemoveTargets).n
	case st.Events != "":
		body = str(st.Events)
	case st.Event != nil:
		n, err := jsonNode(st.Event)
		if err != nil {
			return nil, fmt.Errorf("event: %w", err)
		}
		body = n
	case st.Advance > 0:
		body = durNode(st.Advance)
	case st.Wait > 0:
		body = durNode(st.Wait)
	case st.Together != nil:
		l := &yaml.Node{Kind: yaml.SequenceNode}
		for i := range st.Together {
			n, err := stepNode(&st.Together[i])
			if err != nil {
				return nil, fmt.Errorf("together[%d]: %w", i, err)
			}
			l.Content = append(l.Content, n)
		}
		body = l
	}
	if body.Kind == yaml.MappingNode {
		body.Style = yaml.FlowStyle
	}
	return newMap().add(st.Kind(), body).n, nil
}

func countKinds(st *Step) int {
	n := 0
	for _, set := range []bool{st.TagImage != nil, st.UntagImage != nil, st.CreateImage != nil, st.DeleteImage != nil,
		st.ShareImage != nil, st.CreateAccount != nil, st.InviteAccount != nil, st.MoveAccount != nil,
		st.RemoveAccount != nil, st.OrgShare != nil, st.Events != "", st.Event != nil, st.Advance > 0,
		st.Together != nil, st.Wait > 0} {
		if set {
			n++
		}
	}
	return n
}

// jsonNode turns event JSON back into YAML, keeping the key order.
func jsonNode(raw []byte) (*yaml.Node, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	n, err := jsonValue(dec)
	if err != nil {
		return nil, err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, errors.New("trailing data after the JSON value")
	}
	return n, nil
}

func jsonValue(dec *json.Decoder) (*yaml.Node, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, fmt.Errorf("bad JSON: %w", err)
	}
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '{':
			m := &yaml.Node{Kind: yaml.MappingNode}
			for dec.More() {
				k, err := dec.Token()
				if err != nil {
					return nil, fmt.Errorf("bad JSON: %w", err)
				}
				v, err := jsonValue(dec)
				if err != nil {
					return nil, err
				}
				m.Content = append(m.Content, str(k.(string)), v)
			}
			if _, err := dec.Token(); err != nil {
				return nil, fmt.Errorf("bad JSON: %w", err)
			}
			return m, nil
		case '[':
			l := &yaml.Node{Kind: yaml.SequenceNode}
			for dec.More() {
				v, err := jsonValue(dec)
				if err != nil {
					return nil, err
				}
				l.Content = append(l.Content, v)
			}
			if _, err := dec.Token(); err != nil {
				return nil, fmt.Errorf("bad JSON: %w", err)
			}
			return l, nil
		}
	case string:
		return str(t), nil
	case bool:
		return boolNode(t), nil
	case nil:
		return lit("null"), nil
	case json.Number:
		return nil, fmt.Errorf("the JSON number %s cannot be written (scenario scalars are strings)", t)
	}
	return nil, fmt.Errorf("unexpected JSON token %v", tok)
}
