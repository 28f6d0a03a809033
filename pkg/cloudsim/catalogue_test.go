package cloudsim_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"imageshare/pkg/cloudsim"
	"imageshare/pkg/cloudsim/emu"
)

// literalCode is an error code written in the emulator's source.
type literalCode struct {
	file   string
	line   int
	status int
	code   string
}

// products says which products a source file answers for.
func products(path string) []string {
	base := filepath.Base(path)
	switch {
	case strings.HasSuffix(path, "/mns/open.go"):
		return []string{"mns-open"} // the MNS management API
	case strings.Contains(path, "/mns/"):
		// The REST API's answers, which the management API shares.
		return []string{"mns", "mns-open"}
	case strings.Contains(path, "/eventbridge/"):
		return []string{"eventbridge"}
	case strings.Contains(path, "/sts/"):
		return []string{"sts"}
	case strings.Contains(path, "/actiontrail/"):
		return []string{"actiontrail"}
	case strings.HasSuffix(path, "/emu/ram.go"), strings.HasSuffix(path, "/ram/api.go"):
		return []string{"ram"} // the RAM API's answers
	case strings.Contains(path, "/ram/"):
		// RAM's denials, answered by every product it guards.
		return []string{"ecs", "resourcemanager", "resourcesharing", "mns", "ram", "eventbridge", "mns-open", "actiontrail"}
	case base == "ecs.go" || base == "contract_ecs.go":
		return []string{"ecs"}
	case base == "rm.go" || base == "contract_rm.go":
		return []string{"resourcemanager"}
	case base == "rs.go" || base == "contract_rs.go":
		return []string{"resourcesharing"}
	}
	// The RPC wire, the dispatcher and the shared core answer for every RPC product.
	return []string{"ecs", "resourcemanager", "resourcesharing", "ram", "sts", "eventbridge", "mns-open", "actiontrail"}
}

// scanCodes finds every error code literal in the emulator's non-test sources: the
// codes of emu.Errorf calls, of answer{status, code, message} literals and of
// emu.APIError literals. A code that is not a string literal is reported as such, so
// that no answer escapes the static check.
func scanCodes(t *testing.T) (codes []literalCode, dynamic []string) {
	t.Helper()
	fset := token.NewFileSet()
	root := "."
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return err
		}
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			return err
		}
		str := func(e ast.Expr) (string, bool) {
			if bl, ok := e.(*ast.BasicLit); ok && bl.Kind == token.STRING {
				s, err := strconv.Unquote(bl.Value)
				return s, err == nil
			}
			return "", false
		}
		num := func(e ast.Expr) int {
			if bl, ok := e.(*ast.BasicLit); ok && bl.Kind == token.INT {
				n, _ := strconv.Atoi(bl.Value)
				return n
			}
			return -1
		}
		ast.Inspect(f, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.CallExpr:
				name := ""
				switch fn := n.Fun.(type) {
				case *ast.Ident:
					name = fn.Name
				case *ast.SelectorExpr:
					name = fn.Sel.Name
				}
				if name != "Errorf" || len(n.Args) < 2 || num(n.Args[0]) < 0 {
					return true
				}
				pos := fset.Position(n.Pos())
				if code, ok := str(n.Args[1]); ok {
					codes = append(codes, literalCode{"pkg/cloudsim/" + path, pos.Line, num(n.Args[0]), code})
				} else {
					dynamic = append(dynamic, pos.String())
				}
			case *ast.CompositeLit:
				pos := fset.Position(n.Pos())
				switch ty := n.Type.(type) {
				case *ast.Ident:
					if ty.Name == "answer" && len(n.Elts) == 3 {
						if code, ok := str(n.Elts[1]); ok {
							codes = append(codes, literalCode{"pkg/cloudsim/" + path, pos.Line, num(n.Elts[0]), code})
						} else {
							dynamic = append(dynamic, pos.String())
						}
					}
				case *ast.SelectorExpr:
					if ty.Sel.Name == "APIError" {
						status, code := 0, ""
						for _, e := range n.Elts {
							kv, ok := e.(*ast.KeyValueExpr)
							if !ok {
								continue
							}
							switch kv.Key.(*ast.Ident).Name {
							case "HTTPStatus":
								status = num(kv.Value)
							case "Code":
								// answer.err passes on the code of an answer literal,
								// which the scan reads where it is written.
								if sel, ok := kv.Value.(*ast.SelectorExpr); ok && sel.Sel.Name == "code" {
									continue
								}
								var ok bool
								if code, ok = str(kv.Value); !ok {
									dynamic = append(dynamic, pos.String())
								}
							}
						}
						if code != "" {
							codes = append(codes, literalCode{"pkg/cloudsim/" + path, pos.Line, status, code})
						}
					}
				}
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return codes, dynamic
}

// TestEveryCodeInTheSourceIsCatalogued: every error code the emulator's source can
// answer is in the catalogue, for the product of its file, with its HTTP status.
func TestEveryCodeInTheSourceIsCatalogued(t *testing.T) {
	codes, dynamic := scanCodes(t)
	if len(codes) < 100 {
		t.Fatalf("the scan found only %d codes: it no longer sees the emulator's answers", len(codes))
	}
	for _, d := range dynamic {
		t.Errorf("%s: an error code that is not a string literal escapes the catalogue's static check", d)
	}
	for _, c := range codes {
		// A file of one product must have the code listed for that product; a shared
		// file (the wire, the dispatcher) for one of the products it serves.
		listed := false
		for _, p := range products(c.file) {
			listed = listed || emu.ListedAnywhere(p, c.code, c.status)
		}
		if !listed {
			t.Errorf("%s:%d: %v answers %s (HTTP %d), which emu.Catalogue does not list", c.file, c.line, products(c.file), c.code, c.status)
		}
	}
}

// TestCatalogueEntriesHaveSources: every entry names a reference URL or says why it is
// invented, and names a product the emulator serves.
func TestCatalogueEntriesHaveSources(t *testing.T) {
	served := map[string]bool{"ecs": true, "resourcemanager": true, "resourcesharing": true, "mns": true, "ram": true,
		"sts": true, "eventbridge": true, "mns-open": true, "actiontrail": true}
	seen := map[string]bool{}
	for _, e := range emu.Catalogue {
		if !strings.HasPrefix(e.Source, "https://") && !strings.HasPrefix(e.Source, "invented: ") {
			t.Errorf("%s (%v): source %q is neither a URL nor \"invented: reason\"", e.Code, e.Products, e.Source)
		}
		if e.Status < 0 || e.Code == "" || len(e.Products) == 0 {
			t.Errorf("incomplete entry %+v", e)
		}
		for _, p := range e.Products {
			if !served[p] {
				t.Errorf("%s: unknown product %q", e.Code, p)
			}
			key := p + " " + e.Code + " " + strconv.Itoa(e.Status) + " " + strings.Join(e.Actions, ",")
			if seen[key] {
				t.Errorf("entry listed twice: %s", key)
			}
			seen[key] = true
		}
	}
}

// TestContractCodesAreCatalogued: every answer a contract can give is in the catalogue
// for its action.
func TestContractCodesAreCatalogued(t *testing.T) {
	n := 0
	for _, c := range cloudsim.Contracts() {
		if !strings.HasPrefix(c.Source, "https://www.alibabacloud.com/help/") {
			t.Errorf("%s:%s: source %q is not a reference page", c.Product, c.Action, c.Source)
		}
		for _, p := range c.Params {
			for rule, a := range p.Answers {
				n++
				if !emu.Listed(c.Product, c.Action, a.Code, a.Status) {
					t.Errorf("%s:%s %s (%s): answer %s (HTTP %d) is not in the catalogue for this action", c.Product, c.Action, p.Name, rule, a.Code, a.Status)
				}
			}
		}
	}
	if n < 50 {
		t.Fatalf("only %d contract answers: the contracts are no longer listed", n)
	}
}

// TestUnlistedAnswersAreCaught: an answer the catalogue does not list is reported by
// Cloud.Unlisted (which the sandbox turns into a violation and every test env checks).
func TestUnlistedAnswersAreCaught(t *testing.T) {
	saved := emu.Catalogue
	t.Cleanup(func() { emu.Catalogue = saved })
	var without []emu.Answer
	for _, a := range saved {
		if a.Code != "InvalidImageId.NotFound" {
			without = append(without, a)
		}
	}
	emu.Catalogue = without

	c := cloudsim.New(cloudsim.Config{})
	c.AddAccount(owner, "china")
	caller := emu.Identity{AccountID: owner, Type: "root-account"}
	if _, _, err := c.Call(caller, "ecs", "DescribeImageSharePermission", map[string]string{"RegionId": region, "ImageId": "m-none"}); err == nil || err.Code != "InvalidImageId.NotFound" {
		t.Fatalf("answer = %v", err)
	}
	got := c.Unlisted()
	if len(got) != 1 || !strings.Contains(got[0], "ecs:DescribeImageSharePermission answered InvalidImageId.NotFound (HTTP 404)") {
		t.Fatalf("Unlisted = %q", got)
	}
	// A listed answer is not reported.
	emu.Catalogue = saved
	if _, _, err := c.Call(caller, "ecs", "DescribeImageSharePermission", map[string]string{"RegionId": region, "ImageId": "m-none"}); err == nil {
		t.Fatal("want an error")
	}
	if len(c.Unlisted()) != 1 {
		t.Fatalf("Unlisted = %q", c.Unlisted())
	}
}

// TestContractRulesHaveAnswers: every rule a contract checks has the answer the
// reference documents for breaking it (none is answered with an empty code).
func TestContractRulesHaveAnswers(t *testing.T) {
	answerOf := map[string][]string{"required": {"missing"}, "enum": {"invalid"}, "range": {"invalid"}, "pattern": {"invalid"},
		"length": {"invalid", "too long"}, "list limit": {"too many"}, "unique": {"duplicate"}, "forbidden": {"invalid"}}
	for _, c := range cloudsim.Contracts() {
		for _, p := range c.Params {
			for _, rule := range p.Checks {
				found := false
				for _, a := range answerOf[rule] {
					_, ok := p.Answers[a]
					found = found || ok
				}
				if !found {
					t.Errorf("%s:%s %s checks %s but has no answer for it", c.Product, c.Action, p.Name, rule)
				}
			}
		}
	}
}
