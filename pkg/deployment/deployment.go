// Package deployment resolves the functions' settings of a deployment the way `s deploy`
// gives them to the functions: from s.yaml, with each ${env('IMAGESHARE_…', 'default')}
// read from the operator's environment (pkg/syaml's HostEnv), and with overrides on
// top — and says where each setting came from. The operator commands (plan, explain,
// status, check-tags) read their settings through it, so that they decide as the
// deployed functions do rather than as the operator's shell happens to say; the
// emulator uses it to print the variables that give its functions' settings.
package deployment

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"imageshare/pkg/settings"
	"imageshare/pkg/syaml"
)

// Where a setting's value came from.
const (
	FromBuiltin = "built-in default" // s.yaml does not set it: the functions' own default
	FromSYAML   = "s.yaml default"   // the written default of its ${env(…)}, or a literal in s.yaml
	FromEnv     = "environment variable"
	FromFlag    = "--setting"
)

// Setting is one of the functions' settings with its value and source.
type Setting struct {
	Name   string `json:"name"`
	Value  string `json:"value"`
	Source string `json:"source"` // FromBuiltin, FromSYAML, FromFlag, "environment variable IMAGESHARE_X", or "IMAGESHARE_X in ./.env"
	// Var is the operator's environment variable that sets it through s.yaml ("" none).
	Var string `json:"var,omitempty"`
}

// Default reports whether the value is the functions' built-in default.
func (s Setting) Default() bool { return strings.TrimSpace(s.Value) == builtin(s.Name) }

// Resolved is a deployment's settings.
type Resolved struct {
	// File names the s.yaml read ("./s.yaml", or "the built-in s.yaml").
	File string
	// Region is s.yaml's region (vars.region as resolved), RegionVar the variable that
	// set it ("" when its default was taken).
	Region, RegionVar string
	// Settings lists every setting of settings.Vars, in that order.
	Settings []Setting
	// Ignored lists the functions' own variable names (e.g. ALLOWED_EXTERNAL_ACCOUNTS)
	// set in the operator's environment to another value: the functions never see them,
	// so neither do the commands; each entry is a sentence with the remedy.
	Ignored []string
}

// Options say what to resolve.
type Options struct {
	// Data is the s.yaml; File names it for messages.
	Data []byte
	File string
	// Lookup reads the operator's environment (os.LookupEnv in the CLI).
	Lookup func(string) (string, bool)
	// Dotenv holds the variables of the .env file beside s.yaml, which Serverless Devs
	// reads too; the environment wins over it. DotenvFile names it.
	Dotenv     map[string]string
	DotenvFile string
	// Vars override s.yaml's vars (e.g. accountId, region), as pkg/syaml's Options.Vars.
	Vars map[string]string
	// Overrides set settings by name (flags), over everything else.
	Overrides map[string]string
}

// sentinel marks the value of one ${env(…)} so that a resolution shows which variable
// each setting comes from, through vars or directly.
func sentinel(name string) string { return "\x1fenv:" + name + "\x1f" }

// Resolve reads the settings of the deployment s.yaml describes.
func Resolve(o Options) (*Resolved, error) {
	for k := range o.Overrides {
		if !known(k) {
			return nil, fmt.Errorf("--setting %s: not a setting (settings: %s)", k, strings.Join(names(), ", "))
		}
	}
	env := o.Lookup
	if env == nil {
		env = func(string) (string, bool) { return "", false }
	}
	// where says where a variable's value comes from: the environment, then .env.
	where := func(name string) (string, string) {
		if v, ok := env(name); ok && v != "" {
			return v, FromEnv + " " + name
		}
		if v := o.Dotenv[name]; v != "" {
			return v, name + " in " + o.DotenvFile
		}
		return "", ""
	}
	lookup := func(name string) (string, bool) {
		v, from := where(name)
		return v, from != ""
	}
	fenv, region, err := functionEnv(o.Data, o.Vars, syaml.HostEnv(lookup))
	if err != nil {
		return nil, err
	}
	vars, regionVar, err := VarsOf(o.Data, o.Vars)
	if err != nil {
		return nil, err
	}
	r := &Resolved{File: o.File, Region: region}
	if regionVar != "" {
		if v, ok := lookup(regionVar); ok && v != "" {
			r.RegionVar = regionVar
		}
	}
	for _, v := range settings.Vars {
		s := Setting{Name: v.Name, Value: v.Default, Source: FromBuiltin, Var: vars[v.Name]}
		if val, ok := fenv[v.Name]; ok {
			s.Value, s.Source = val, FromSYAML
			if s.Var != "" {
				if _, from := where(s.Var); from != "" {
					s.Source = from
				}
			}
		}
		if val, ok := o.Overrides[v.Name]; ok {
			s.Value, s.Source = val, FromFlag
		}
		if plain, ok := env(v.Name); ok && plain != "" && strings.TrimSpace(plain) != strings.TrimSpace(s.Value) {
			how := "--setting " + v.Name + "=…"
			if s.Var != "" {
				how = s.Var + " (what s deploy reads) or " + how
			}
			r.Ignored = append(r.Ignored, fmt.Sprintf("%s=%s in the environment is not read: the functions get their settings from s.yaml, where %s is %q (%s); set %s",
				v.Name, plain, v.Name, s.Value, s.Source, how))
		}
		r.Settings = append(r.Settings, s)
	}
	return r, nil
}

// functionEnv resolves s.yaml and returns the functions' environment (the union of
// every fc3 function's, as they share one anchor) and the region of the first function.
func functionEnv(data []byte, vars map[string]string, env syaml.EnvResolver) (map[string]string, string, error) {
	p, err := syaml.LoadWith(data, syaml.Options{Vars: vars, Env: env})
	if err != nil {
		return nil, "", fmt.Errorf("s.yaml: %w", err)
	}
	fns, err := p.Functions()
	if err != nil {
		return nil, "", fmt.Errorf("s.yaml: %w", err)
	}
	if len(fns) == 0 {
		return nil, "", fmt.Errorf("s.yaml: no fc3 function")
	}
	out := map[string]string{}
	for _, f := range fns {
		maps.Copy(out, f.Env)
	}
	return out, fns[0].Region, nil
}

// VarsOf maps each setting that s.yaml reads from one environment variable, directly or
// through its vars, to that variable (e.g. JOB_QUEUE → IMAGESHARE_JOB_QUEUE), and says
// which variable sets the region.
func VarsOf(data []byte, vars map[string]string) (map[string]string, string, error) {
	marked, region, err := functionEnv(data, vars, func(r syaml.EnvRef) (string, error) { return sentinel(r.Name), nil })
	if err != nil {
		return nil, "", err
	}
	out := map[string]string{}
	for k, v := range marked {
		if name, ok := strings.CutPrefix(v, "\x1fenv:"); ok && strings.HasSuffix(name, "\x1f") && strings.Count(v, "\x1f") == 2 {
			out[k] = strings.TrimSuffix(name, "\x1f")
		}
	}
	regionVar := ""
	if n, ok := strings.CutPrefix(region, "\x1fenv:"); ok && strings.Count(region, "\x1f") == 2 {
		regionVar = strings.TrimSuffix(n, "\x1f")
	}
	return out, regionVar, nil
}

// Exports returns the assignments of the operator's variables that make s.yaml give the
// functions the settings in want (name → value): one per setting whose value differs
// from what s.yaml gives with none of its variables set, in settings.Vars order. A
// setting that s.yaml does not read from a variable cannot be exported and is
// returned in missing.
func Exports(data []byte, vars map[string]string, want map[string]string) (exports [][2]string, missing []string, err error) {
	base, _, err := functionEnv(data, vars, syaml.HostEnv(func(string) (string, bool) { return "", false }))
	if err != nil {
		return nil, nil, err
	}
	from, _, err := VarsOf(data, vars)
	if err != nil {
		return nil, nil, err
	}
	for _, v := range settings.Vars {
		w, ok := want[v.Name]
		if !ok {
			continue
		}
		have, set := base[v.Name]
		if !set {
			have = v.Default
		}
		if strings.TrimSpace(w) == strings.TrimSpace(have) {
			continue
		}
		if from[v.Name] == "" {
			missing = append(missing, v.Name)
			continue
		}
		exports = append(exports, [2]string{from[v.Name], w})
	}
	return exports, missing, nil
}

// Lookup returns the value of a setting by name ("" when unknown), for settings.Load.
func (r *Resolved) Lookup(name string) string {
	for _, s := range r.Settings {
		if s.Name == name {
			return s.Value
		}
	}
	return ""
}

// NonDefault lists the settings whose value is not the functions' built-in default.
func (r *Resolved) NonDefault() []Setting {
	var out []Setting
	for _, s := range r.Settings {
		if !s.Default() {
			out = append(out, s)
		}
	}
	return out
}

// Line says, in one line, where the settings come from and every non-default one with
// its source, e.g. "settings from ./s.yaml: DRY_RUN=true (s.yaml default),
// ALLOWED_EXTERNAL_ACCOUNTS=2000000000000001 (environment variable
// IMAGESHARE_ALLOWED_EXTERNAL_ACCOUNTS); the others are the functions' defaults".
func (r *Resolved) Line() string {
	nd := r.NonDefault()
	if len(nd) == 0 {
		return "settings from " + r.File + ": all the functions' defaults"
	}
	parts := make([]string, len(nd))
	for i, s := range nd {
		parts[i] = fmt.Sprintf("%s=%s (%s)", s.Name, shown(s.Value), s.Source)
	}
	return "settings from " + r.File + ": " + strings.Join(parts, ", ") + "; the others are the functions' defaults"
}

func shown(v string) string {
	if v == "" {
		return `""`
	}
	return v
}

func builtin(name string) string {
	for _, v := range settings.Vars {
		if v.Name == name {
			return v.Default
		}
	}
	return ""
}

func known(name string) bool {
	return slices.ContainsFunc(settings.Vars, func(v settings.Var) bool { return v.Name == name })
}

func names() []string {
	out := make([]string, len(settings.Vars))
	for i, v := range settings.Vars {
		out[i] = v.Name
	}
	return out
}

// ParseDotenv reads a .env file as Serverless Devs does for the common cases: KEY=VALUE
// lines, optionally after "export ", the value optionally in single or double quotes;
// blank lines and lines starting with # are skipped.
func ParseDotenv(data []byte) (map[string]string, error) {
	out := map[string]string{}
	for n, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		line = strings.TrimPrefix(line, "export ")
		k, v, ok := strings.Cut(line, "=")
		k = strings.TrimSpace(k)
		if !ok || k == "" || strings.ContainsAny(k, " \t") {
			return nil, fmt.Errorf("line %d: not KEY=VALUE", n+1)
		}
		v = strings.TrimSpace(v)
		if len(v) >= 2 && (v[0] == '"' || v[0] == '\'') && v[len(v)-1] == v[0] {
			v = v[1 : len(v)-1]
		}
		out[k] = v
	}
	return out, nil
}
