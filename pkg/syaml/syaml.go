// Package syaml reads a Serverless Devs project file (s.yaml, edition 3.0.0) whose
// resources use the fc3 component, as data: the sandbox builds its functions and
// triggers from it, and tests validate its props against the fc3 schema.
//
// Variables: `${vars.NAME}` and `${env('NAME', 'default')}` are replaced in every string
// value (not in keys), as Serverless Devs does (see vars.go), with NAME taken from the
// file's `vars` (overridden by the caller's) or resolved by the caller's EnvResolver.
// The result of a substitution is always a string, as the template engine Serverless
// Devs uses produces text. Any other magic variable (`${env.X}`, `${this.props…}`,
// `${file(…)}`, a typo, …) is an error naming it and its place, as is an unknown NAME.
//
// Scalars: `vars` values are read as their source text (an unquoted 16-digit account
// ID stays a string). In props, quoted and plain text are strings; plain YAML numbers,
// booleans and null become Go numbers, bools and nil, as a YAML 1.2 loader reads them.
// Anchors, aliases and merge keys (<<) are followed.
package syaml

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"

	"gopkg.in/yaml.v3"
)

// Project is an s.yaml after variable substitution.
type Project struct {
	Edition, Name, Access string
	// Vars are the variables after the caller's overrides, substituted.
	Vars map[string]string
	// Resources in file order.
	Resources []Resource
	// Env lists every ${env(…)} expression resolved, in the order met (an expression
	// in an aliased mapping once per place it lands).
	Env []EnvRef
}

// Resource is one entry of `resources`.
type Resource struct {
	Key       string
	Component string
	// Props after substitution: map[string]any, []any, string, bool, int, float64, nil.
	Props     map[string]any
	PreDeploy []Action
}

// Action is one `run` action of `actions.pre-deploy`.
type Action struct {
	Run, Path string
}

// aliasBudget bounds how many nodes alias expansion may visit, so that a small file
// of nested aliases cannot expand without bound.
const aliasBudget = 1 << 20

// Options say how LoadWith resolves variables.
type Options struct {
	// Vars override (or add to) the file's `vars`; their values may use ${…} too.
	Vars map[string]string
	// Env resolves each ${env(…)}; nil means WrittenDefault. HostEnv(nil) reads the
	// process environment as Serverless Devs does.
	Env EnvResolver
}

// Load parses s.yaml; vars override (or add to) the file's `vars`, and every
// ${env(…)} takes its written default (the environment is never read).
func Load(data []byte, vars map[string]string) (*Project, error) {
	return LoadWith(data, Options{Vars: vars})
}

// LoadWith parses s.yaml, resolving variables as opts say.
func LoadWith(data []byte, opts Options) (*Project, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, errors.New("s.yaml is empty")
		}
		return nil, fmt.Errorf("s.yaml: %w", err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		return nil, fmt.Errorf("line %d: s.yaml holds more than one YAML document", extra.Line)
	} else if !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("s.yaml: %w", err)
	}
	if len(doc.Content) != 1 || doc.Content[0].Kind != yaml.MappingNode {
		return nil, errors.New("s.yaml: the top level must be a mapping")
	}
	l := &loader{budget: aliasBudget, env: opts.Env, vs: varState{raw: map[string]rawVar{}, done: map[string]string{}}}
	if l.env == nil {
		l.env = WrittenDefault
	}
	top, err := l.mapping(doc.Content[0], "s.yaml")
	if err != nil {
		return nil, err
	}

	p := &Project{}
	if n := top.get("vars"); n != nil {
		vm, err := l.mapping(n, "vars")
		if err != nil {
			return nil, err
		}
		for _, e := range vm {
			name := e.key.Value
			if !varNameRE.MatchString(name) {
				return nil, fmt.Errorf("line %d: vars: %q is not a variable name", e.key.Line, name)
			}
			v := l.resolve(e.val)
			if v.Kind != yaml.ScalarNode {
				return nil, fmt.Errorf("line %d: vars.%s: only scalar variables are supported", v.Line, name)
			}
			l.vs.raw[name] = rawVar{text: scalarText(v), line: v.Line}
		}
	}
	for k, v := range opts.Vars {
		l.vs.raw[k] = rawVar{text: v}
	}
	// Every variable is resolved, used or not, as Serverless Devs resolves all of `vars`
	// before the resources; a variable may refer to others.
	p.Vars = map[string]string{}
	for _, k := range slices.Sorted(maps.Keys(l.vs.raw)) {
		v, _, err := l.varValue(k)
		if err != nil {
			return nil, err
		}
		p.Vars[k] = v
	}

	for _, f := range []struct {
		key string
		dst *string
	}{{"edition", &p.Edition}, {"name", &p.Name}, {"access", &p.Access}} {
		if n := top.get(f.key); n != nil {
			if *f.dst, err = l.str(n, f.key); err != nil {
				return nil, err
			}
		}
	}
	if p.Edition != "3.0.0" {
		return nil, fmt.Errorf("s.yaml: edition %q is not supported (want 3.0.0)", p.Edition)
	}
	rn := top.get("resources")
	if rn == nil {
		return nil, errors.New("s.yaml: resources is missing")
	}
	rm, err := l.mapping(rn, "resources")
	if err != nil {
		return nil, err
	}
	for _, e := range rm {
		r, err := l.resource(e.key.Value, e.val)
		if err != nil {
			return nil, err
		}
		p.Resources = append(p.Resources, r)
	}
	p.Env = l.envRefs
	return p, nil
}

type loader struct {
	vs      varState
	env     EnvResolver
	envRefs []EnvRef
	budget  int
}

type kv struct {
	key, val *yaml.Node
}

type entries []kv

func (es entries) get(key string) *yaml.Node {
	for _, e := range es {
		if e.key.Value == key {
			return e.val
		}
	}
	return nil
}

// resolve follows aliases.
func (l *loader) resolve(n *yaml.Node) *yaml.Node {
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	return n
}

// mapping returns a mapping's entries in order, with merge keys applied (explicit keys
// win over merged ones) and duplicate keys rejected.
func (l *loader) mapping(n *yaml.Node, what string) (entries, error) {
	n = l.resolve(n)
	if n.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("line %d: %s: want a mapping", n.Line, what)
	}
	var out, merged entries
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := l.resolve(n.Content[i]), n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			return nil, fmt.Errorf("line %d: %s: keys must be scalars", k.Line, what)
		}
		if k.ShortTag() == "!!merge" {
			srcs := []*yaml.Node{l.resolve(v)}
			if srcs[0].Kind == yaml.SequenceNode {
				srcs = srcs[0].Content
			}
			for _, s := range srcs {
				me, err := l.mapping(s, what+" (<<)")
				if err != nil {
					return nil, err
				}
				merged = append(merged, me...)
			}
			continue
		}
		if seen[k.Value] {
			return nil, fmt.Errorf("line %d: %s: key %q given twice", k.Line, what, k.Value)
		}
		seen[k.Value] = true
		out = append(out, kv{k, v})
	}
	for _, m := range merged {
		if !seen[m.key.Value] {
			seen[m.key.Value] = true
			out = append(out, m)
		}
	}
	return out, nil
}

func scalarText(n *yaml.Node) string {
	if n.ShortTag() == "!!null" {
		return ""
	}
	return n.Value
}

// str reads a scalar as text, with substitution.
func (l *loader) str(n *yaml.Node, what string) (string, error) {
	n = l.resolve(n)
	if n.Kind != yaml.ScalarNode {
		return "", fmt.Errorf("line %d: %s: want a scalar", n.Line, what)
	}
	return l.substitute(scalarText(n), n.Line, what)
}

// value converts a node to plain Go data, substituting in strings.
func (l *loader) value(n *yaml.Node, path string) (any, error) {
	if l.budget--; l.budget < 0 {
		return nil, fmt.Errorf("line %d: %s: aliases expand too far", n.Line, path)
	}
	n = l.resolve(n)
	switch n.Kind {
	case yaml.MappingNode:
		es, err := l.mapping(n, path)
		if err != nil {
			return nil, err
		}
		m := make(map[string]any, len(es))
		for _, e := range es {
			v, err := l.value(e.val, path+"."+e.key.Value)
			if err != nil {
				return nil, err
			}
			m[e.key.Value] = v
		}
		return m, nil
	case yaml.SequenceNode:
		out := make([]any, 0, len(n.Content))
		for i, c := range n.Content {
			v, err := l.value(c, fmt.Sprintf("%s[%d]", path, i))
			if err != nil {
				return nil, err
			}
			out = append(out, v)
		}
		return out, nil
	case yaml.ScalarNode:
		switch n.ShortTag() {
		case "!!int", "!!float", "!!bool", "!!null":
			var v any
			if err := n.Decode(&v); err != nil {
				return nil, fmt.Errorf("line %d: %s: %w", n.Line, path, err)
			}
			return v, nil
		}
		return l.substitute(n.Value, n.Line, path)
	}
	return nil, fmt.Errorf("line %d: %s: unsupported YAML node", n.Line, path)
}

func (l *loader) resource(key string, n *yaml.Node) (Resource, error) {
	r := Resource{Key: key}
	w := "resources." + key
	es, err := l.mapping(n, w)
	if err != nil {
		return r, err
	}
	if e := es.get("extend"); e != nil {
		return r, fmt.Errorf("line %d: %s: extend (templates) is not supported", e.Line, w)
	}
	cn := es.get("component")
	if cn == nil {
		return r, fmt.Errorf("line %d: %s: component is missing", l.resolve(n).Line, w)
	}
	if r.Component, err = l.str(cn, w+".component"); err != nil {
		return r, err
	}
	if pn := es.get("props"); pn != nil {
		v, err := l.value(pn, w+".props")
		if err != nil {
			return r, err
		}
		m, ok := v.(map[string]any)
		if !ok {
			return r, fmt.Errorf("line %d: %s.props: want a mapping", l.resolve(pn).Line, w)
		}
		r.Props = m
	}
	if an := es.get("actions"); an != nil {
		acts, err := l.mapping(an, w+".actions")
		if err != nil {
			return r, err
		}
		if pd := acts.get("pre-deploy"); pd != nil {
			pd = l.resolve(pd)
			if pd.Kind != yaml.SequenceNode {
				return r, fmt.Errorf("line %d: %s.actions.pre-deploy: want a list", pd.Line, w)
			}
			for i, it := range pd.Content {
				iw := fmt.Sprintf("%s.actions.pre-deploy[%d]", w, i)
				ae, err := l.mapping(it, iw)
				if err != nil {
					return r, err
				}
				run := ae.get("run")
				if run == nil {
					continue // plugin and component actions are not commands
				}
				var a Action
				if a.Run, err = l.str(run, iw+".run"); err != nil {
					return r, err
				}
				if pn := ae.get("path"); pn != nil {
					if a.Path, err = l.str(pn, iw+".path"); err != nil {
						return r, err
					}
				}
				r.PreDeploy = append(r.PreDeploy, a)
			}
		}
	}
	return r, nil
}

// asText renders a scalar prop as text (environment variables are strings).
func asText(v any) (string, bool) {
	switch t := v.(type) {
	case nil:
		return "", true
	case string:
		return t, true
	case bool:
		return strconv.FormatBool(t), true
	case int:
		return strconv.Itoa(t), true
	case int64:
		return strconv.FormatInt(t, 10), true
	case uint64:
		return strconv.FormatUint(t, 10), true
	case float64:
		return strconv.FormatFloat(t, 'g', -1, 64), true
	}
	return "", false
}
