package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"slices"
	"strings"
	"text/tabwriter"

	"imageshare/pkg/policy"
	"imageshare/pkg/settings"
	"imageshare/pkg/tagcheck"
)

const checkTagsUsage = `check-tags [--json] [--owner ID] [--members FILE] [--syaml FILE] [--setting NAME=VALUE]... (KEY=VALUE... | --file TAGS.json)
  Check imageshare tags before anyone sets them, offline: no cloud, no credentials
  (e.g. a CI step before terraform apply). It asks the functions' own planner what they
  would refuse: tag errors always; the owner's own account with --owner; whether an
  account is a member only with --members (otherwise such an account "needs the
  directory"); ALLOWED_EXTERNAL_ACCOUNTS and TAG_PREFIX as the deployment sets them
  (s.yaml with the IMAGESHARE_* variables, as s deploy reads them, or --setting).
  KEY=VALUE...     the tags of one image (other keys than TAG_PREFIX's are ignored)
  --file FILE      JSON: one image's tags {"imageshare:accounts": "…"}, or several
                   {"NAME": {tags}, …} (e.g. Terraform addresses; "-" reads stdin)
  --members FILE   the directory's members: the JSON of ListAccounts (its pages one
                   after another, or an array of them), or one account ID per line
  --owner ID       the account that owns the images (the functions' account)
  --json           print {"images": [{"name", "managed", "mode", "frozen", "findings":
                   [{"subject", "status", "reason", "message"}]}], "refusals", "exitCode"}
  exit 0: nothing refused (some targets may need the directory); 4: refusals; 2: usage`

// checkTagsJSON is check-tags' JSON answer.
type checkTagsJSON struct {
	Prefix   string            `json:"prefix"`
	Owner    string            `json:"owner,omitempty"`
	Members  int               `json:"members,omitempty"` // how many the members file lists
	Images   []tagcheck.Result `json:"images"`
	Refusals int               `json:"refusals"`
	ExitCode int               `json:"exitCode"`
}

func checkTagsCmd(args []string, e *env) int {
	fs := newFlags("check-tags", e, checkTagsUsage)
	asJSON := fs.Bool("json", false, "print JSON")
	owner := fs.String("owner", "", "the account that owns the images (16 digits)")
	membersFile := fs.String("members", "", "the directory's members: ListAccounts' JSON, or one account ID per line")
	file := fs.String("file", "", "tags as JSON (\"-\": stdin)")
	var c common
	fs.StringVar(&c.syaml, "syaml", "", "the deployment's s.yaml (default ./s.yaml when there is one, else the built-in one)")
	c.settings = pairs{}
	fs.Var(c.settings, "setting", "set one of the functions' settings, NAME=VALUE, over s.yaml (repeatable)")
	if wantsHelp(args) {
		return help(fs, e)
	}
	pos, err := parse(fs, args)
	if err != nil {
		return exitUsage
	}
	usage := func(format string, a ...any) int {
		fmt.Fprintf(e.stderr, "imageshare check-tags: "+format+"\n", a...)
		return exitUsage
	}
	if (len(pos) == 0) == (*file == "") {
		return usage("give the tags as KEY=VALUE arguments or with --file, not both")
	}
	if *owner != "" && !policy.IsAccount(*owner) {
		return usage("--owner %q: not an account ID (16 digits)", *owner)
	}
	images, err := readTags(pos, *file, e)
	if err != nil {
		return usage("%v", err)
	}
	dep, err := c.loadDeployment(e, *owner, "")
	if err != nil {
		return usage("%v", err)
	}
	for _, n := range dep.Ignored {
		fmt.Fprintf(e.stderr, "note: %s\n", n)
	}
	set, err := settings.Load(dep.Lookup)
	if err != nil {
		return usage("invalid setting (%s): %v", dep.File, err)
	}
	cfg := tagcheck.Config{Settings: set, Owner: *owner}
	out := checkTagsJSON{Prefix: set.TagPrefix, Owner: *owner, Images: []tagcheck.Result{}}
	if *membersFile != "" {
		b, err := os.ReadFile(*membersFile)
		if err != nil {
			return usage("--members: %v", err)
		}
		if cfg.Members, err = tagcheck.ParseMembers(b); err != nil {
			return usage("--members %s: %v", *membersFile, err)
		}
		out.Members = len(cfg.Members.Accounts)
	}
	for _, im := range images {
		r := tagcheck.Check(cfg, im.name, im.tags)
		out.Images = append(out.Images, r)
		out.Refusals += r.Refusals()
	}
	if out.Refusals > 0 {
		out.ExitCode = exitRefusals
	}
	if *asJSON {
		if err := writeJSON(e.stdout, out); err != nil {
			return fail(e, "check-tags", err)
		}
		return out.ExitCode
	}
	w := e.stdout
	known := "owner not checked (--owner)"
	if *owner != "" {
		known = "owner " + *owner
	}
	if cfg.Members != nil {
		known += fmt.Sprintf("; %d members from %s", out.Members, *membersFile)
		if cfg.Members.Directory != "" {
			known += " (directory " + cfg.Members.Directory + ")"
		}
	} else {
		known += "; membership not checked (--members)"
	}
	fmt.Fprintf(w, "imageshare check-tags: prefix %s; %s\n%s\n", set.TagPrefix, known, dep.Line())
	for _, r := range out.Images {
		state := "not managed: no " + set.TagPrefix + ":* tag, the functions leave it as it is"
		switch {
		case r.Frozen:
			state = "managed; a tag error freezes it: the functions leave it exactly as it is and check no target until the tag is fixed"
		case r.Managed:
			state = "managed, mode " + r.Mode
		}
		fmt.Fprintf(w, "\n%s: %s\n", r.Name, state)
		tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
		for _, f := range r.Findings {
			status := f.Status
			if f.Reason != "" {
				status += " (" + f.Reason + ")"
			}
			fmt.Fprintf(tw, "  %s\t%s\t%s\n", status, f.Subject, f.Message)
		}
		_ = tw.Flush()
	}
	fmt.Fprintf(w, "\n%s.\n", count(out.Refusals, "refusal"))
	return out.ExitCode
}

type namedTags struct {
	name string
	tags map[string]string
}

// readTags reads KEY=VALUE arguments (one image) or a JSON file (one image's tags, or
// several images by name).
func readTags(pos []string, file string, e *env) ([]namedTags, error) {
	if file == "" {
		tags := map[string]string{}
		for _, a := range pos {
			k, v, ok := strings.Cut(a, "=")
			if !ok || k == "" {
				return nil, fmt.Errorf("%q is not KEY=VALUE", a)
			}
			if _, dup := tags[k]; dup {
				return nil, fmt.Errorf("tag %s given twice (an image has one value per key)", k)
			}
			tags[k] = v
		}
		return []namedTags{{"(command line)", tags}}, nil
	}
	var data []byte
	var err error
	if file == "-" {
		var buf bytes.Buffer
		if _, err = buf.ReadFrom(e.stdin); err == nil {
			data = buf.Bytes()
		}
	} else {
		data, err = os.ReadFile(file)
	}
	if err != nil {
		return nil, fmt.Errorf("--file: %w", err)
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, fmt.Errorf("--file %s: not a JSON object of tags: %v", file, err)
	}
	strs, objs := 0, 0
	for _, v := range raw {
		switch t := bytes.TrimSpace(v); {
		case len(t) > 0 && t[0] == '"':
			strs++
		case len(t) > 0 && (t[0] == '{' || string(t) == "null"):
			objs++
		default:
			return nil, fmt.Errorf("--file %s: values must be strings (one image's tags) or objects (images by name); a tag value is always a string, so quote numbers", file)
		}
	}
	if strs > 0 && objs > 0 {
		return nil, fmt.Errorf("--file %s: mixes tags (strings) and images (objects)", file)
	}
	if objs == 0 {
		var tags map[string]string
		if err := json.Unmarshal(data, &tags); err != nil {
			return nil, fmt.Errorf("--file %s: %v", file, err)
		}
		return []namedTags{{file, tags}}, nil
	}
	var out []namedTags
	for _, name := range slices.Sorted(maps.Keys(raw)) {
		tags := map[string]string{}
		if string(bytes.TrimSpace(raw[name])) != "null" {
			if err := json.Unmarshal(raw[name], &tags); err != nil {
				return nil, fmt.Errorf("--file %s: %s: tag values must be strings: %v", file, name, err)
			}
		}
		out = append(out, namedTags{name, tags})
	}
	return out, nil
}
