package ram

import (
	"fmt"
	"strings"
)

// Paths resolves Resource Directory paths (rd-…/r-…/fd-…[/account]) for the ARNs of
// Resource Manager calls; the emulated cloud implements it from its state.
type Paths interface {
	AccountPath(account string) (string, bool)
	FolderPath(folder string) (string, bool)
}

// Request is what an ARN is built from: the call's parameters, its region (empty for
// global services) and the account whose resources it acts on.
type Request struct {
	Region, Account string
	Params          map[string]string
	Paths           Paths // nil: paths are unknown
}

// Resources builds the ARNs a call is checked on from the row's template:
//
//	{region} {account}   the request's region and account
//	{P}                  parameter P ("*" when absent)
//	{P.N}                one ARN per value of the repeated parameter P.1, P.2, …
//	{P,}                 one ARN per item of the comma-separated parameter P
//	{accountPath:P}      the Resource Directory path of the account named by P
//	{folderPath:P}       the path of the folder named by P
//
// A list parameter with no value gives "*" (the call names no particular resource).
func (a API) Resources(r Request) []string {
	if a.AllResources || a.Resource == "*" {
		return []string{"*"}
	}
	out := expandTemplate(a.Resource, r)
	for _, t := range a.Also {
		out = append(out, expandTemplate(t, r)...)
	}
	return out
}

func expandTemplate(template string, r Request) []string {
	out := []string{""}
	rest := template
	for rest != "" {
		i := strings.IndexByte(rest, '{')
		if i < 0 {
			out = appendAll(out, []string{rest})
			break
		}
		j := strings.IndexByte(rest[i:], '}')
		if j < 0 {
			panic(fmt.Sprintf("ram: unterminated placeholder in %q", template)) // a table typo
		}
		out = appendAll(out, []string{rest[:i]})
		out = appendAll(out, r.expand(rest[i+1:i+j]))
		rest = rest[i+j+1:]
	}
	return out
}

func appendAll(prefixes, suffixes []string) []string {
	var out []string
	for _, p := range prefixes {
		for _, s := range suffixes {
			out = append(out, p+s)
		}
	}
	return out
}

func (r Request) expand(ph string) []string {
	orStar := func(vs []string) []string {
		if len(vs) == 0 {
			return []string{"*"}
		}
		return vs
	}
	switch {
	case ph == "region":
		return []string{r.Region}
	case ph == "account":
		return []string{r.Account}
	case strings.HasPrefix(ph, "accountPath:"):
		id := r.Params[strings.TrimPrefix(ph, "accountPath:")]
		if id == "" {
			return []string{"*"}
		}
		if r.Paths != nil {
			if p, ok := r.Paths.AccountPath(id); ok {
				return []string{p}
			}
		}
		return []string{id}
	case strings.HasPrefix(ph, "folderPath:"):
		id := r.Params[strings.TrimPrefix(ph, "folderPath:")]
		if id == "" {
			return []string{"*"}
		}
		if r.Paths != nil {
			if p, ok := r.Paths.FolderPath(id); ok {
				return []string{p}
			}
		}
		return []string{id}
	case strings.HasSuffix(ph, ".N"):
		name := strings.TrimSuffix(ph, ".N")
		var vs []string
		for n := 1; ; n++ {
			v, ok := r.Params[fmt.Sprintf("%s.%d", name, n)]
			if !ok {
				break
			}
			vs = append(vs, v)
		}
		return orStar(vs)
	case strings.HasSuffix(ph, ","):
		var vs []string
		for _, v := range strings.Split(r.Params[strings.TrimSuffix(ph, ",")], ",") {
			if v = strings.TrimSpace(v); v != "" {
				vs = append(vs, v)
			}
		}
		return orStar(vs)
	default:
		if v := r.Params[ph]; v != "" {
			return []string{v}
		}
		return []string{"*"}
	}
}
