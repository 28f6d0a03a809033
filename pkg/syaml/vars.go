package syaml

import (
	"fmt"
	"os"
	"regexp"
	"strings"
)

// Serverless Devs 3 evaluates `${…}` as a JavaScript expression with `vars`, `env(…)`,
// `file(…)`, `config(…)`, `this.…`, `resources.…` and more in scope
// (https://github.com/Serverless-Devs/Serverless-Devs/blob/master/docs/zh/variables.md;
// the engine: Serverless-Devs/toolkit packages/parse-spec). This package accepts the two
// forms a deployment file needs and refuses the rest by name:
//
//   - ${vars.NAME}: the file's `vars` entry NAME (vars may refer to other vars, and to
//     env(…): Serverless Devs resolves `vars` before the resources).
//   - ${env('NAME')} and ${env('NAME', 'default')}, with single or double quotes and
//     optional spaces: the environment variable NAME of whoever runs `s`; Serverless
//     Devs takes the default when NAME is unset or empty, and fails when there is no
//     default. How Load resolves it is the caller's choice (Options.Env).

// EnvRef is one ${env(…)} expression, where Load met it.
type EnvRef struct {
	Name       string // the environment variable
	Default    string // the written default ("" when none)
	HasDefault bool
	Expr       string // as written, e.g. ${env('IMAGESHARE_REGION', 'cn-hangzhou')}
	// Path is where the expression sits: "vars.region", or
	// "resources.reconcile.props.environmentVariables.DRY_RUN".
	Path string
	Line int // 0 for a value the caller passed in Options.Vars
	// EnvVar is the function environment variable the expression sets: "DRY_RUN" when
	// Path is resources.KEY.props.environmentVariables.DRY_RUN, else "".
	EnvVar string
}

func (r EnvRef) where() string {
	if r.Line == 0 {
		return r.Path
	}
	return fmt.Sprintf("line %d: %s", r.Line, r.Path)
}

// EnvResolver gives the value of one ${env(…)} expression.
type EnvResolver func(EnvRef) (string, error)

// WrittenDefault resolves every ${env(…)} to its written default and never reads the
// environment; an expression without a default is an error.
func WrittenDefault(r EnvRef) (string, error) {
	if !r.HasDefault {
		return "", fmt.Errorf("%s: %s has no default (write ${env('%s', 'default')})", r.where(), r.Expr, r.Name)
	}
	return r.Default, nil
}

// HostEnv resolves ${env(…)} as Serverless Devs does, through lookup (os.LookupEnv
// when nil): a set, non-empty value wins, else the written default; with neither it is
// an error naming the variable.
func HostEnv(lookup func(string) (string, bool)) EnvResolver {
	if lookup == nil {
		lookup = os.LookupEnv
	}
	return func(r EnvRef) (string, error) {
		if v, ok := lookup(r.Name); ok && v != "" {
			return v, nil
		}
		if !r.HasDefault {
			return "", fmt.Errorf("%s: %s: environment variable %s is not set and there is no default", r.where(), r.Expr, r.Name)
		}
		return r.Default, nil
	}
}

var (
	varRefRE  = regexp.MustCompile(`^vars\.([A-Za-z_$][A-Za-z0-9_$]*)$`)
	varNameRE = regexp.MustCompile(`^[A-Za-z_$][A-Za-z0-9_$]*$`)
	// env('NAME') or env('NAME', 'default'); each argument in '…' or "…", no escapes.
	envRefRE  = regexp.MustCompile(`^env\(\s*(?:'([^'\\]*)'|"([^"\\]*)")\s*(?:,\s*(?:'([^'\\]*)'|"([^"\\]*)")\s*)?\)$`)
	envNameRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	// A function's environment variable, by the path of its value.
	envVarPathRE = regexp.MustCompile(`^resources\..+\.props\.environmentVariables\.([A-Za-z_][A-Za-z0-9_]*)$`)
)

// rawVar is one `vars` entry before substitution.
type rawVar struct {
	text string
	line int // 0: given by the caller
}

// varState tracks the resolution of `vars`, which may refer to each other.
type varState struct {
	raw       map[string]rawVar
	done      map[string]string
	resolving []string // the chain being resolved, to name a cycle
}

// varValue returns vars.name after substitution.
func (l *loader) varValue(name string) (string, bool, error) {
	if v, ok := l.vs.done[name]; ok {
		return v, true, nil
	}
	rv, ok := l.vs.raw[name]
	if !ok {
		return "", false, nil
	}
	for i, n := range l.vs.resolving {
		if n == name {
			chain := append(append([]string(nil), l.vs.resolving[i:]...), name)
			return "", true, fmt.Errorf("vars.%s: the variables refer to each other in a circle (%s)", name, strings.Join(chain, " → "))
		}
	}
	l.vs.resolving = append(l.vs.resolving, name)
	v, err := l.substitute(rv.text, rv.line, "vars."+name)
	l.vs.resolving = l.vs.resolving[:len(l.vs.resolving)-1]
	if err != nil {
		return "", true, err
	}
	l.vs.done[name] = v
	return v, true, nil
}

// substitute replaces every ${…} of s; path names the value, line 0 means a value the
// caller gave.
func (l *loader) substitute(s string, line int, path string) (string, error) {
	if !strings.Contains(s, "${") {
		return s, nil
	}
	at := func() string {
		if line == 0 {
			return path
		}
		return fmt.Sprintf("line %d: %s", line, path)
	}
	var b strings.Builder
	for {
		i := strings.Index(s, "${")
		if i < 0 {
			b.WriteString(s)
			return b.String(), nil
		}
		j := closing(s[i+2:])
		if j < 0 {
			return "", fmt.Errorf("%s: unterminated %q", at(), s[i:])
		}
		ref := s[i : i+2+j+1]
		inner := strings.TrimSpace(ref[2 : len(ref)-1])
		var v string
		switch {
		case varRefRE.MatchString(inner):
			name := varRefRE.FindStringSubmatch(inner)[1]
			val, ok, err := l.varValue(name)
			if err != nil {
				return "", err
			}
			if !ok {
				return "", fmt.Errorf("%s: unknown variable %s (not in vars)", at(), ref)
			}
			v = val
		case strings.HasPrefix(inner, "env(") || strings.HasPrefix(inner, "env ("):
			m := envRefRE.FindStringSubmatchIndex(inner)
			if m == nil {
				return "", fmt.Errorf("%s: %s: write ${env('NAME')} or ${env('NAME', 'default')}, each argument quoted, without escapes", at(), ref)
			}
			group := func(k int) string {
				if m[2*k] < 0 {
					return ""
				}
				return inner[m[2*k]:m[2*k+1]]
			}
			r := EnvRef{Name: group(1) + group(2), Default: group(3) + group(4), HasDefault: m[6] >= 0 || m[8] >= 0,
				Expr: ref, Path: path, Line: line}
			if !envNameRE.MatchString(r.Name) {
				return "", fmt.Errorf("%s: %s: %q is not an environment variable name", at(), ref, r.Name)
			}
			if em := envVarPathRE.FindStringSubmatch(path); em != nil {
				r.EnvVar = em[1]
			}
			val, err := l.env(r)
			if err != nil {
				return "", err
			}
			l.envRefs = append(l.envRefs, r)
			v = val
		default:
			return "", fmt.Errorf("%s: unsupported variable %s (only ${vars.NAME} and ${env('NAME', 'default')} are supported)", at(), ref)
		}
		b.WriteString(s[:i])
		b.WriteString(v)
		s = s[i+2+j+1:]
	}
}

// closing returns the index of the '}' that ends an expression, skipping quoted text.
func closing(s string) int {
	var quote byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case quote != 0:
			if c == '\\' {
				i++ // an escaped character (refused later, but it does not end the quote)
			} else if c == quote {
				quote = 0
			}
		case c == '\'' || c == '"':
			quote = c
		case c == '}':
			return i
		}
	}
	return -1
}
