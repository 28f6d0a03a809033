package docs

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"imageshare"
	"imageshare/pkg/function"
	"imageshare/pkg/sandbox"
	"imageshare/pkg/scenario"
	"imageshare/pkg/syaml"
)

// TestMain lets the sandbox start this binary as a function process, so that the
// examples of docs/scenarios.md run as `imageshare sandbox` runs them.
func TestMain(m *testing.M) {
	if len(os.Args) == 3 && os.Args[1] == "imageshare-function" {
		function.Main(os.Args[2])
	}
	os.Exit(m.Run())
}

// blocksAfter returns the fenced blocks of language lang that follow a line starting
// with marker, each with the marker line's text.
func blocksAfter(md, marker, lang string) (blocks, markers []string) {
	lines := strings.Split(md, "\n")
	for i := 0; i < len(lines); i++ {
		if !strings.HasPrefix(strings.TrimSpace(lines[i]), marker) {
			continue
		}
		m := strings.TrimSpace(lines[i])
		for i++; i < len(lines) && strings.TrimSpace(lines[i]) != "```"+lang; i++ {
		}
		var b strings.Builder
		for i++; i < len(lines) && strings.TrimSpace(lines[i]) != "```"; i++ {
			b.WriteString(lines[i] + "\n")
		}
		blocks, markers = append(blocks, b.String()), append(markers, m)
	}
	return blocks, markers
}

// stepKinds are the names of every step the parser knows, found by setting each kind
// field of scenario.Step in turn.
func stepKinds(t *testing.T) []string {
	t.Helper()
	var kinds []string
	st := reflect.TypeOf(scenario.Step{})
	for i := 0; i < st.NumField(); i++ {
		f := st.Field(i)
		if f.Name == "Line" {
			continue
		}
		var s scenario.Step
		v := reflect.ValueOf(&s).Elem().Field(i)
		switch {
		case f.Type == reflect.TypeOf(json.RawMessage{}):
			v.Set(reflect.ValueOf(json.RawMessage(`{}`)))
		case f.Type.Kind() == reflect.Pointer:
			v.Set(reflect.New(f.Type.Elem()))
		case f.Type.Kind() == reflect.String:
			v.SetString("on")
		case f.Type == reflect.TypeOf(time.Duration(0)):
			v.SetInt(int64(time.Second))
		case f.Type.Kind() == reflect.Slice:
			v.Set(reflect.MakeSlice(f.Type, 1, 1))
		default:
			t.Fatalf("scenario.Step.%s: a step field of a kind this test does not know", f.Name)
		}
		k := s.Kind()
		if k == "" {
			t.Fatalf("scenario.Step.%s set gives no kind", f.Name)
		}
		kinds = append(kinds, k)
	}
	return kinds
}

// allowedKeys asks the parser which keys a mapping takes, from the error it gives for
// an unknown key placed in it (src holds ZZ where the unknown key goes).
func allowedKeys(t *testing.T, src string) []string {
	t.Helper()
	_, err := scenario.Parse("probe.yaml", []byte(strings.Replace(src, "ZZ", "zz_unknown: x", 1)))
	m := regexp.MustCompile(`unknown key "zz_unknown" \(allowed: ([^)]*)\)`).FindStringSubmatch(errString(err))
	if m == nil {
		t.Fatalf("no unknown-key error for\n%s\n(error: %v)", src, err)
	}
	return strings.Split(m[1], ", ")
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// TestScenarioFormatDocumented: docs/scenarios.md documents every key and every step the
// parser accepts; its examples parse, those marked to pass do pass in the sandbox, and
// its --json example is what the first of them prints.
func TestScenarioFormatDocumented(t *testing.T) {
	md := read(t, "docs/scenarios.md")
	const head = "region: cn-hangzhou\nowner: \"1000000000000001\"\n"
	const dir = "directory:\n  id: rd-Probe1\n  root: r-Probe1\n  folders: [{id: fd-Probe00001, parent: r-Probe1}]\n  accounts: [{id: \"1000000000000002\"}]\noutside: [\"2000000000000001\"]\nimages: [{id: m-Probe0001}]\n"
	objects := map[string]string{
		"the top level":           head + "ZZ\n",
		"directory":               head + "directory: {ZZ, id: rd-Probe1, root: r-Probe1}\n",
		"directory.folders":       head + "directory: {id: rd-Probe1, root: r-Probe1, folders: [{ZZ, id: fd-Probe00001, parent: r-Probe1}]}\n",
		"directory.accounts":      head + "directory: {id: rd-Probe1, root: r-Probe1, accounts: [{ZZ, id: \"1000000000000002\"}]}\n",
		"cloud":                   head + "cloud: {ZZ}\n",
		"faults":                  head + "faults: {ZZ}\n",
		"images":                  head + "images: [{ZZ, id: m-Probe0001}]\n",
		"resource_shares":         head + "resource_shares: [{ZZ, name: n}]\n",
		"expect":                  head + "expect: {ZZ}\n",
		"expect.images":           head + "expect: {images: {m-Probe0001: {ZZ}}}\n",
		"expect.refusals":         head + "expect: {refusals: [{ZZ, image: m-Probe0001, subject: \"\"}]}\n",
		"expect.copies":           head + "expect: {copies: {m-Probe0001: {cn-shanghai: {ZZ}}}}\n",
		"the tag_image step":      head + dir + "steps: [{tag_image: {ZZ}}]\n",
		"the untag_image step":    head + dir + "steps: [{untag_image: {ZZ}}]\n",
		"the create_image step":   head + dir + "steps: [{create_image: {ZZ}}]\n",
		"the delete_image step":   head + dir + "steps: [{delete_image: {ZZ}}]\n",
		"the share_image step":    head + dir + "steps: [{share_image: {ZZ}}]\n",
		"the create_account step": head + dir + "steps: [{create_account: {ZZ}}]\n",
		"the invite_account step": head + dir + "steps: [{invite_account: {ZZ}}]\n",
		"the move_account step":   head + dir + "steps: [{move_account: {ZZ}}]\n",
		"the remove_account step": head + dir + "steps: [{remove_account: {ZZ}}]\n",
		"the org_share step":      head + dir + "steps: [{org_share: {ZZ}}]\n",
	}
	for what, src := range objects {
		for _, k := range allowedKeys(t, src) {
			if !strings.Contains(md, "`"+k+"`") {
				t.Errorf("docs/scenarios.md does not document the key %s of %s", k, what)
			}
		}
	}
	top := allowedKeys(t, objects["the top level"])
	for _, k := range top {
		if !strings.Contains(md, "| `"+k+"` |") {
			t.Errorf("docs/scenarios.md: the top-level table has no row for %s", k)
		}
	}
	kinds := stepKinds(t)
	if len(kinds) < 15 {
		t.Fatalf("found only %d step kinds: %v", len(kinds), kinds)
	}
	for _, k := range kinds {
		if !strings.Contains(md, "| `"+k+"` |") {
			t.Errorf("docs/scenarios.md: the steps table has no row for %s", k)
		}
	}

	blocks, markers := blocksAfter(md, "<!-- scenario:", "yaml")
	if len(blocks) < 2 {
		t.Fatalf("docs/scenarios.md has %d examples marked <!-- scenario: … -->", len(blocks))
	}
	usedKinds, usedTop := map[string]bool{}, map[string]bool{}
	var first *sandbox.Result
	for i, b := range blocks {
		sc, err := scenario.Parse("docs/scenarios.md example", []byte(b))
		if err != nil {
			t.Errorf("example %d does not parse: %v", i+1, err)
			continue
		}
		for _, st := range sc.Steps {
			usedKinds[st.Kind()] = true
			for _, in := range st.Together {
				usedKinds[in.Kind()] = true
			}
		}
		var doc map[string]any
		if err := yaml.Unmarshal([]byte(b), &doc); err == nil {
			for k := range doc {
				usedTop[k] = true
			}
		}
		if !strings.Contains(markers[i], "passes") {
			continue
		}
		res, err := sandbox.Run(context.Background(), sc, sandbox.Options{SYAML: imageshare.SYAML,
			FunctionCommand: func(name string) []string { return []string{os.Args[0], "imageshare-function", name} }})
		if err != nil {
			t.Fatalf("example %d: %v", i+1, err)
		}
		if !res.OK() {
			t.Errorf("example %d, marked to pass, fails: %v %v", i+1, res.Failures, res.Violations)
		}
		if first == nil {
			first = res
		}
	}
	for _, k := range kinds {
		if !usedKinds[k] {
			t.Errorf("no example of docs/scenarios.md uses the step %s", k)
		}
	}
	for _, k := range top {
		if !usedTop[k] {
			t.Errorf("no example of docs/scenarios.md uses the key %s", k)
		}
	}

	js, _ := blocksAfter(md, "<!-- sandbox-json -->", "json")
	if len(js) != 1 || first == nil {
		t.Fatalf("docs/scenarios.md needs one <!-- sandbox-json --> block and a passing example (%d blocks)", len(js))
	}
	var want, got any
	if err := json.Unmarshal([]byte(js[0]), &want); err != nil {
		t.Fatalf("the --json example: %v", err)
	}
	b, _ := json.Marshal(first)
	_ = json.Unmarshal(b, &got)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("the --json example is not what the first example prints; it prints\n%s", b)
	}
}

// TestDeployDocsMatchSYaml: the variables docs/deploy.md lists are exactly those s.yaml
// reads, with the same defaults; every IMAGESHARE_* name the docs use exists; no doc
// deploys with --var (Serverless Devs has none); README, docs/deploy.md and s.yaml give
// the same commands.
func TestDeployDocsMatchSYaml(t *testing.T) {
	sy := read(t, "s.yaml")
	p, err := syaml.LoadWith([]byte(sy), syaml.Options{Env: syaml.HostEnv(func(k string) (string, bool) {
		return map[string]string{"IMAGESHARE_ACCOUNT_ID": "1000000000000001"}[k], k == "IMAGESHARE_ACCOUNT_ID"
	})})
	if err != nil {
		t.Fatal(err)
	}
	type def struct {
		value string
		has   bool
	}
	vars := map[string]def{}
	for _, r := range p.Env {
		vars[r.Name] = def{r.Default, r.HasDefault}
	}
	deploy := read(t, "docs/deploy.md")
	i := strings.Index(deploy, "<!-- deploy-variables -->")
	if i < 0 {
		t.Fatal("docs/deploy.md has no <!-- deploy-variables --> table")
	}
	rowRE := regexp.MustCompile("^\\| `(IMAGESHARE_[A-Z_]+)` \\| ([^|]*) \\|")
	listed := map[string]bool{}
	for _, line := range strings.Split(deploy[i:], "\n")[2:] {
		if !strings.HasPrefix(line, "|") {
			break
		}
		m := rowRE.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		listed[m[1]] = true
		d, ok := vars[m[1]]
		if !ok {
			t.Errorf("docs/deploy.md lists %s, which s.yaml does not read", m[1])
			continue
		}
		doc := strings.TrimSpace(m[2])
		switch {
		case !d.has:
			if !strings.Contains(doc, "required") {
				t.Errorf("docs/deploy.md: %s has no default in s.yaml; the table says %q", m[1], doc)
			}
		case d.value == "":
			if doc != "empty" {
				t.Errorf("docs/deploy.md: %s defaults to empty; the table says %q", m[1], doc)
			}
		case doc != "`"+d.value+"`":
			t.Errorf("docs/deploy.md: %s defaults to %q; the table says %q", m[1], d.value, doc)
		}
	}
	for name := range vars {
		if !listed[name] {
			t.Errorf("s.yaml reads %s, which the table of docs/deploy.md does not list", name)
		}
	}

	files := map[string]string{"s.yaml": sy, "README.md": read(t, "README.md")}
	paths, err := filepath.Glob(filepath.Join(root, "docs", "*.md"))
	if err != nil || len(paths) < 5 {
		t.Fatalf("docs: %v %v", paths, err)
	}
	for _, f := range paths {
		rel, _ := filepath.Rel(root, f)
		files[rel] = read(t, rel)
	}
	nameRE := regexp.MustCompile(`IMAGESHARE_[A-Z_]*[A-Z]`)
	deployVarRE := regexp.MustCompile("s deploy[^`\n]*--var")
	for f, text := range files {
		for _, n := range nameRE.FindAllString(text, -1) {
			if _, ok := vars[n]; !ok && !strings.HasPrefix(n, "IMAGESHARE_PROBE_") {
				t.Errorf("%s names %s, which s.yaml does not read", f, n)
			}
		}
		inSh := false
		for _, line := range strings.Split(text, "\n") {
			if strings.HasPrefix(strings.TrimSpace(line), "```") {
				inSh = strings.TrimSpace(line) == "```sh"
				continue
			}
			if inSh && strings.Contains(line, "--var") || deployVarRE.MatchString(line) {
				t.Errorf("%s deploys with --var, which Serverless Devs does not have: %s", f, strings.TrimSpace(line))
			}
		}
	}
	for _, f := range []string{"s.yaml", "README.md", "docs/deploy.md"} {
		for _, want := range []string{"export IMAGESHARE_ACCOUNT_ID=", "IMAGESHARE_DRY_RUN=false s deploy"} {
			if !strings.Contains(files[f], want) {
				t.Errorf("%s does not give the command %q", f, want)
			}
		}
	}
	if d, ok := vars["IMAGESHARE_DRY_RUN"]; !ok || d.value != "true" {
		t.Error("s.yaml must read IMAGESHARE_DRY_RUN with the default true (a first deployment is a dry run)")
	}
}
