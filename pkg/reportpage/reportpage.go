// Package reportpage renders `imageshare report --html`: one self-contained HTML page
// (inline CSS, no script, no external asset, nothing fetched) that shows, per region,
// who can boot each image — accounts shared with directly, and resource-share targets
// with their place in the Resource Directory and the members they reach — with the
// refusals and their remedies, the removals awaiting confirmation and the images not
// Available yet. It is made from exactly the data of `imageshare status --json`.
//
// Each fact the page shows also carries a data-fact attribute ("direct|IMAGE|ACCOUNT",
// "org|IMAGE|TARGET|SHARE", "refusal|IMAGE|SUBJECT|REASON", "awaiting|IMAGE|REMOVAL",
// "postponed|IMAGE"), so that a test can compare what a browser shows with the JSON.
package reportpage

import (
	"fmt"
	"html/template"
	"io"
	"strings"
	"time"

	"imageshare/pkg/inspect"
	"imageshare/pkg/report"
)

// Setting is one of the functions' settings the page was made with.
type Setting struct {
	Name, Value, Source string
}

// Page is what the page shows: the status of each region.
type Page struct {
	Owner     string
	Generated time.Time
	Regions   []inspect.Status
	// Settings are the non-default settings, with where each came from.
	Settings []Setting
}

// Render writes the page.
func Render(w io.Writer, p Page) error {
	return page.Execute(w, view(p))
}

type pageView struct {
	Page
	When    string
	Regions []regionView
}

type regionView struct {
	inspect.Status
	Images    []imageView
	Postponed []inspect.Postponed
	Shared    int // images someone else can boot
	// Other are refusals about no image of the listing (the whole run).
	Other []report.Entry
}

type imageView struct {
	inspect.ImageAccess
	Refusals []report.Entry
	Reach    int // accounts that can boot it (direct and through shares)
	State    string
}

func view(p Page) pageView {
	pv := pageView{Page: p, When: p.Generated.UTC().Format("2006-01-02 15:04 UTC")}
	for _, st := range p.Regions {
		rv := regionView{Status: st, Postponed: st.Postponed}
		for _, a := range st.Access {
			iv := imageView{ImageAccess: a}
			for _, r := range st.Refusals {
				if r.Image == a.Image {
					iv.Refusals = append(iv.Refusals, r)
				}
			}
			who := map[string]bool{}
			for _, d := range a.Direct {
				who[d] = true
			}
			for _, g := range a.Organization {
				for _, acct := range g.Accounts {
					who[acct] = true
				}
			}
			iv.Reach = len(who)
			if iv.Reach > 0 {
				rv.Shared++
			}
			switch {
			case a.Frozen:
				iv.State = "managed — a tag error freezes it"
			case a.Managed:
				iv.State = "managed, mode " + a.Mode
			default:
				iv.State = "not managed"
			}
			rv.Images = append(rv.Images, iv)
		}
		for _, r := range st.Refusals {
			listed := false
			for _, a := range st.Access {
				listed = listed || a.Image == r.Image
			}
			if !listed {
				rv.Other = append(rv.Other, r)
			}
		}
		pv.Regions = append(pv.Regions, rv)
	}
	return pv
}

var funcs = template.FuncMap{
	"fact": func(parts ...string) string { return strings.Join(parts, "|") },
	"plural": func(n int, one, many string) string {
		if n == 1 {
			return fmt.Sprintf("1 %s", one)
		}
		return fmt.Sprintf("%d %s", n, many)
	},
	"subject": func(s string) string {
		if s == "" {
			return "the image"
		}
		return s
	},
}

var page = template.Must(template.New("page").Funcs(funcs).Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>imageshare: who can boot these images</title>
<style>
:root { color-scheme: light; --ink: #1d2433; --muted: #5b6475; --line: #d9dee7; --bg: #f6f7f9; --ok: #17663a; --warn: #8a4b00; --bad: #a3202c; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", sans-serif; color: var(--ink); background: var(--bg); }
main { max-width: 980px; margin: 0 auto; padding: 16px; }
h1 { font-size: 1.35rem; margin: 0 0 4px; }
h2 { font-size: 1.15rem; margin: 24px 0 8px; }
h3 { font-size: 1rem; margin: 0; }
p, li { overflow-wrap: anywhere; }
.muted { color: var(--muted); }
.id { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 0.92em; overflow-wrap: anywhere; }
.summary { display: flex; flex-wrap: wrap; gap: 8px; margin: 8px 0 16px; padding: 0; list-style: none; }
.summary li { background: #fff; border: 1px solid var(--line); border-radius: 6px; padding: 4px 10px; }
.card { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 12px 14px; margin: 0 0 12px; }
.card header { display: flex; flex-wrap: wrap; align-items: baseline; gap: 4px 12px; margin-bottom: 8px; }
.badge { display: inline-block; border-radius: 999px; padding: 0 8px; font-size: 0.82rem; border: 1px solid var(--line); background: var(--bg); }
.badge.frozen, .badge.bad { border-color: var(--bad); color: var(--bad); }
.badge.wait { border-color: var(--warn); color: var(--warn); }
.cols { display: grid; grid-template-columns: repeat(auto-fit, minmax(260px, 1fr)); gap: 8px 20px; }
.cols h4 { font-size: 0.85rem; text-transform: uppercase; letter-spacing: 0.04em; color: var(--muted); margin: 4px 0; }
ul.plain { list-style: none; margin: 0; padding: 0; }
ul.plain li { padding: 2px 0; }
.grant { border-left: 3px solid var(--ok); padding-left: 8px; margin: 4px 0; }
.refusal { border-left: 3px solid var(--bad); padding-left: 8px; margin: 6px 0; }
.awaiting { border-left: 3px solid var(--warn); padding-left: 8px; margin: 6px 0; }
details summary { cursor: pointer; color: var(--muted); }
footer { margin-top: 24px; font-size: 0.85rem; }
</style>
</head>
<body>
<main>
<h1>Who can boot these images</h1>
<p class="muted">Account <span class="id">{{.Owner}}</span>, {{.When}}. Made by <code>imageshare report --html</code> from the same data as <code>imageshare status --json</code>: the cloud as it is now, and what the functions would do next.</p>
{{if .Settings}}<p class="muted">Settings: {{range $i, $s := .Settings}}{{if $i}}; {{end}}<span class="id">{{$s.Name}}={{$s.Value}}</span> ({{$s.Source}}){{end}}.</p>{{end}}
{{range .Regions}}
<section class="region" data-region="{{.Region}}">
<h2>Region {{.Region}}</h2>
<ul class="summary">
<li>{{plural .Managed "managed image" "managed images"}}{{if .Frozen}}, {{.Frozen}} frozen by tag errors{{end}}</li>
<li>{{plural .Shared "image" "images"}} shared with someone</li>
<li>{{plural .DirectShares "direct share" "direct shares"}}</li>
<li>{{plural (len .Shares) "resource share" "resource shares"}}</li>
<li>{{plural (len .Refusals) "refusal" "refusals"}}</li>
<li>{{plural .Pending "pending change" "pending changes"}}{{if .Awaiting}}, {{plural .Awaiting "image" "images"}} awaiting confirmation{{end}}</li>
</ul>
{{range $im := .Images}}
<article class="card" data-image="{{$im.Image}}">
<header>
<h3 class="id">{{.Image}}</h3>
<span class="badge{{if ne .Status "Available"}} wait{{end}}">{{.Status}}</span>
<span class="badge{{if .Frozen}} frozen{{end}}">{{.State}}</span>
<span class="muted">{{if .Reach}}{{plural .Reach "account" "accounts"}} can boot it{{else}}no other account can boot it{{end}}</span>
</header>
<div class="cols">
<div>
<h4>Shared directly with</h4>
{{if .Direct}}<ul class="plain">{{range $a := .Direct}}<li class="id" data-fact="{{fact "direct" $im.Image $a}}">{{$a}}</li>{{end}}</ul>{{else}}<p class="muted">no account</p>{{end}}
</div>
<div>
<h4>Through resource sharing</h4>
{{if .Organization}}{{range $g := .Organization}}<div class="grant" data-fact="{{fact "org" $im.Image $g.Target $g.Share}}">
<div><span class="id">{{$g.Target}}</span> <span class="muted">({{$g.Kind}}{{if $g.Path}} at <span class="id">{{$g.Path}}</span>{{end}})</span></div>
<div class="muted">via {{if $g.Managed}}managed share{{else}}resource share made by a person{{end}} <span class="id">{{$g.Share}}</span></div>
{{if $g.Accounts}}<details><summary>{{plural (len $g.Accounts) "member" "members"}} reached</summary><ul class="plain">{{range $g.Accounts}}<li class="id">{{.}}</li>{{end}}</ul></details>{{end}}
</div>{{end}}{{else}}<p class="muted">no resource share</p>{{end}}
</div>
</div>
{{range .Refusals}}<div class="refusal" data-fact="{{fact "refusal" .Image .Subject .Reason}}"><strong>Refused <span class="id">{{subject .Subject}}</span></strong> ({{.Reason}}): {{.Message}}</div>{{end}}
{{range $r := .Awaiting}}<div class="awaiting" data-fact="{{fact "awaiting" $im.Image $r}}"><strong>Awaiting confirmation:</strong> <span class="id">{{$r}}</span> — done on a second look SETTLE_DELAY later that finds the tags unchanged.</div>{{end}}
{{if .Pending}}<p class="muted">{{plural .Pending "change" "changes"}} pending: <code>imageshare plan --image {{.Image}}</code> lists them.</p>{{end}}
</article>
{{end}}
{{if .Other}}
<h3>Other refusals</h3>
{{range .Other}}<div class="refusal" data-fact="{{fact "refusal" .Image .Subject .Reason}}"><strong>Refused <span class="id">{{subject .Subject}}</span>{{if .Image}} of <span class="id">{{.Image}}</span>{{end}}</strong> ({{.Reason}}): {{.Message}}</div>{{end}}
{{end}}
{{if .Postponed}}
<h3>Not Available yet</h3>
<ul class="plain">{{range .Postponed}}<li data-fact="{{fact "postponed" .Image}}"><span class="id">{{.Image}}</span> {{.Status}}{{if .Created}} since {{.Created}}{{end}}: {{.Message}}</li>{{end}}</ul>
{{end}}
</section>
{{end}}
<footer class="muted">An account can boot an image when the image is shared with it directly, or when a resource share holds the image and a target that reaches the account, both Associated. Refusals say what imageshare will not do and what to do about it; removals of access wait for a second look at unchanged tags.</footer>
</main>
</body>
</html>
`))
