package main

import (
	"context"
	"encoding/json"
	"html"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"imageshare/pkg/cloudsim"
)

// browser finds headless Chromium. Outside CI a machine without it skips the test,
// saying so; in CI (CI=true) .ci/run installs it (test/report/browser.sh), so its
// absence fails.
func browser(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("no Chromium in CI: .ci/run installs Debian's chromium with test/report/browser.sh")
	}
	t.Skip("no headless Chromium on this machine (apt-get install chromium, or test/report/browser.sh): the page is not checked in a browser")
	return ""
}

// measured is what the harness page reads of the report, rendered in a 375 px wide frame.
type measured struct {
	ScrollWidth int         `json:"scrollWidth"`
	ClientWidth int         `json:"clientWidth"`
	InnerWidth  int         `json:"innerWidth"`
	Facts       [][2]string `json:"facts"` // data-fact, and the element's rendered text
}

// render opens the page in headless Chromium inside a 375 px wide iframe (a headless
// window is never narrower than 500 px, a frame is exactly as wide as it is told) and
// returns what a script of the harness — not of the page, which has none — measured:
// the page's scroll width against its width, and each fact with its visible text.
func render(t *testing.T, chromium, page string) measured {
	t.Helper()
	dir := t.TempDir()
	harness := `<!DOCTYPE html><html><head><meta charset="utf-8"></head><body>
<iframe id="f" style="width:375px;height:800px;border:0" srcdoc="` + html.EscapeString(page) + `"></iframe>
<pre id="out"></pre>
<script>
window.addEventListener('load', () => {
  const f = document.getElementById('f');
  const d = f.contentDocument;
  const facts = Array.from(d.querySelectorAll('[data-fact]')).map(e => [e.getAttribute('data-fact'), e.innerText.replace(/\s+/g, ' ')]);
  document.getElementById('out').textContent = JSON.stringify({scrollWidth: d.documentElement.scrollWidth,
    clientWidth: d.documentElement.clientWidth, innerWidth: f.contentWindow.innerWidth, facts: facts});
});
</script></body></html>`
	file := filepath.Join(dir, "harness.html")
	if err := os.WriteFile(file, []byte(harness), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync", "--user-data-dir="+filepath.Join(dir, "profile"),
		"--dump-dom", "file://"+file)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("chromium --dump-dom: %v\n%s", err, out)
	}
	m := regexp.MustCompile(`(?s)<pre id="out">(.*?)</pre>`).FindSubmatch(out)
	if m == nil || len(m[1]) == 0 {
		t.Fatalf("the harness measured nothing:\n%s", out)
	}
	var res measured
	if err := json.Unmarshal([]byte(html.UnescapeString(string(m[1]))), &res); err != nil {
		t.Fatalf("%v: %s", err, m[1])
	}
	return res
}

// TestReportHTMLInABrowser: the page of `imageshare report --html`, rendered by headless
// Chromium, shows exactly the facts of `imageshare status --json` — direct shares,
// organization grants with their share, refusals, removals awaiting confirmation,
// images not Available yet — each in visible text; it has no script and loads nothing;
// and at 375 px it has no horizontal scroll (a page with a wide element is caught by the
// same measure).
func TestReportHTMLInABrowser(t *testing.T) {
	chromium := browser(t)
	w := newWorld(t, cloudsim.Config{})
	w.converge()
	// A direct share the tags no longer name: its removal awaits a second look (R12).
	w.cloud.PutImage(region, cloudsim.ImageSpec{ID: "m-Await0000001", Owner: owner, Status: "Available",
		Tags: map[string]string{"imageshare:accounts": m5}, SharedWith: []string{m5, ext}, Created: w.clock.Now().Add(-time.Hour)})
	code, out, errOut := w.run("", "status", "--json")
	if code != exitOK {
		t.Fatalf("status --json: exit %d\n%s", code, errOut)
	}
	var st statusJSON
	if err := json.Unmarshal([]byte(out), &st); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "report.html")
	if code, _, errOut := w.run("", "report", "--html", file); code != exitOK {
		t.Fatalf("report --html: exit %d\n%s", code, errOut)
	}
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	page := string(b)
	for _, outside := range []string{"<script", "src=", "http://", "https://", "@import", "url("} {
		if strings.Contains(page, outside) {
			t.Errorf("the page is not self-contained: it has %q", outside)
		}
	}

	// What the JSON says, as facts.
	want := map[string]string{} // fact → a text the browser must show for it
	r := st.Regions[0]
	for _, a := range r.Access {
		for _, d := range a.Direct {
			want["direct|"+a.Image+"|"+d] = d
		}
		for _, g := range a.Organization {
			want["org|"+a.Image+"|"+g.Target+"|"+g.Share] = g.Target + " (" + g.Kind + " at " + g.Path + ") via "
		}
		for _, x := range a.Awaiting {
			want["awaiting|"+a.Image+"|"+x] = x
		}
	}
	for _, e := range r.Refusals {
		want["refusal|"+e.Image+"|"+e.Subject+"|"+e.Reason] = e.Message
	}
	for _, p := range r.Postponed {
		want["postponed|"+p.Image] = p.Message
	}
	kinds := map[string]bool{}
	for f := range want {
		kinds[strings.SplitN(f, "|", 2)[0]] = true
	}
	if len(kinds) != 5 {
		t.Fatalf("the world shows only %v of the five kinds of facts: %v", kinds, want)
	}

	got := render(t, chromium, page)
	if got.InnerWidth != 375 {
		t.Fatalf("the frame is %d px wide, not 375", got.InnerWidth)
	}
	if got.ScrollWidth > got.ClientWidth {
		t.Errorf("at 375 px the page scrolls sideways: scroll width %d > width %d", got.ScrollWidth, got.ClientWidth)
	}
	seen := map[string]string{}
	for _, f := range got.Facts {
		if _, dup := seen[f[0]]; dup {
			t.Errorf("fact %s shown twice", f[0])
		}
		seen[f[0]] = f[1]
	}
	for f, text := range want {
		shown, ok := seen[f]
		switch {
		case !ok:
			t.Errorf("status --json has %s; the page does not show it", f)
		case !strings.Contains(shown, text):
			t.Errorf("%s is shown as %q, without %q", f, shown, text)
		}
	}
	for f := range seen {
		if _, ok := want[f]; !ok {
			t.Errorf("the page shows %s, which status --json does not have", f)
		}
	}

	// The measure itself: a page wider than the frame is caught.
	wide := strings.Replace(page, "<main>", `<main><div style="width:600px">wide</div>`, 1)
	if m := render(t, chromium, wide); m.ScrollWidth <= m.ClientWidth {
		t.Errorf("a 600 px element at 375 px: scroll width %d, width %d — the measure cannot see a sideways scroll", m.ScrollWidth, m.ClientWidth)
	}
}
