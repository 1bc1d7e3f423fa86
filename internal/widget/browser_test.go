package widget

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/example/zuora-runstatus/internal/widget/browsertest"
)

// The widget as a person sees it: Render's HTML in a headless Chromium,
// inside a page that mimics the console's widget frame, in both themes.
func TestWidgetInBrowser(t *testing.T) {
	b := browsertest.ForTest(t)
	for _, theme := range []string{ThemeLight, ThemeDark} {
		t.Run(theme, func(t *testing.T) {
			html, err := Render(fixturePage(theme))
			if err != nil {
				t.Fatal(err)
			}
			tab := open(t, b, html, theme, browsertest.DefaultWidth)

			t.Run("rows in order", func(t *testing.T) {
				var got []string
				eval(t, tab, `[...document.querySelectorAll('#widget tbody tr')].map(tr => tr.cells[0].innerText.trim())`, &got)
				if strings.Join(got, "\n") != strings.Join(fixtureOrder, "\n") {
					t.Errorf("rows as read:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(fixtureOrder, "\n"))
				}
			})
			t.Run("counts", func(t *testing.T) {
				var got string
				eval(t, tab, `document.querySelector('#widget .counts').innerText.replace(/\s+/g, ' ').trim()`, &got)
				if got != fixtureCounts {
					t.Errorf("counts read %q, want %q", got, fixtureCounts)
				}
				eval(t, tab, `document.querySelector('#widget .meta').innerText`, &got)
				if want := "Last scheduled check: 2026-12-07 14:00 (5m ago). Times in UTC+01:00."; got != want {
					t.Errorf("read %q, want %q", got, want)
				}
			})
			t.Run("hostile values are text", func(t *testing.T) { hostileIsText(t, tab) })
			t.Run("contrast", func(t *testing.T) { contrast(t, tab, 100) })
			t.Run("nothing cut off", func(t *testing.T) { fits(t, tab, browsertest.DefaultWidth) })
		})
	}
}

// At the narrower width of a default widget beside the console's open
// navigation, and at the width of CloudWatch's documented example, with
// rows as long as the contract lets them be, nothing is cut off either.
func TestWidgetFitsWidths(t *testing.T) {
	b := browsertest.ForTest(t)
	p := fixturePage(ThemeLight)
	p.Rows = append(p.Rows, manyRows(3)...)
	html, err := Render(p)
	if err != nil {
		t.Fatal(err)
	}
	for _, width := range []int{browsertest.NarrowWidth, browsertest.DefaultWidth, browsertest.DocsWidth} {
		t.Run(fmt.Sprint(width), func(t *testing.T) {
			fits(t, open(t, b, html, ThemeLight, width), width)
		})
	}
}

// A table that cannot be read is a message in the widget, readable in both
// themes.
func TestWidgetErrorInBrowser(t *testing.T) {
	b := browsertest.ForTest(t)
	for _, theme := range []string{ThemeLight, ThemeDark} {
		t.Run(theme, func(t *testing.T) {
			html, err := Render(Page{Error: "ResourceNotFoundException: Requested resource not found", Theme: theme, Now: now})
			if err != nil {
				t.Fatal(err)
			}
			tab := open(t, b, html, theme, browsertest.DefaultWidth)
			var got string
			eval(t, tab, `document.querySelector('#widget [role=alert]').innerText`, &got)
			if want := "The watch list could not be read. ResourceNotFoundException: Requested resource not found"; got != want {
				t.Errorf("read %q, want %q", got, want)
			}
			contrast(t, tab, 2)
			fits(t, tab, browsertest.DefaultWidth)
		})
	}
}

func open(t *testing.T, b *browsertest.Browser, html, theme string, width int) *browsertest.Tab {
	t.Helper()
	tab, err := b.Open(browsertest.Frame(html, theme, width), time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(tab.Close)
	return tab
}

func eval(t *testing.T, tab *browsertest.Tab, expr string, out any) {
	t.Helper()
	if err := tab.Eval(expr, out); err != nil {
		t.Fatal(err)
	}
}

// hostileIsText: the hostile reason and version show as the text they are;
// no element and no event handler came of them, and the buttons' params
// still read, as text and as markup, as JSON holding the whole version.
func hostileIsText(t *testing.T, tab *browsertest.Tab) {
	var dom struct {
		Elements []string `json:"elements"` // img, script, iframe, object, embed
		Handlers []string `json:"handlers"` // attributes on*
		Title    string   `json:"title"`
		Row      string   `json:"row"`
		Params   []struct {
			Text, Markup map[string]any
		} `json:"params"`
		Links []string `json:"links"`
	}
	eval(t, tab, `(() => {
		const w = document.getElementById('widget');
		const row = [...w.querySelectorAll('tbody tr')].find(tr => tr.cells[0].innerText.startsWith('105 '));
		return {
			elements: [...w.querySelectorAll('img, script, iframe, object, embed, svg, form, input')].map(e => e.outerHTML),
			handlers: [...w.querySelectorAll('*')].flatMap(e => [...e.attributes].filter(a => a.name.startsWith('on')).map(a => e.tagName + ' ' + a.name)),
			title: document.title,
			row: row ? row.innerText : '',
			params: [...row.querySelectorAll('cwdb-action')].map(a => ({text: JSON.parse(a.textContent), markup: JSON.parse(a.innerHTML)})),
			links: [...w.querySelectorAll('a[href]')].map(a => a.href),
		};
	})()`, &dom)
	if len(dom.Elements) > 0 || len(dom.Handlers) > 0 || dom.Title != "Dashboard" {
		t.Errorf("markup came of values: elements %q, handlers %q, title %q", dom.Elements, dom.Handlers, dom.Title)
	}
	if !strings.Contains(dom.Row, "muted until 2026-12-07 16:05 (in 2h): "+hostileReason) {
		t.Errorf("the muted row reads %q, want the reason as text", dom.Row)
	}
	if len(dom.Params) != 2 {
		t.Fatalf("the hostile row has %d buttons, want 2", len(dom.Params))
	}
	for _, p := range dom.Params {
		for _, params := range []map[string]any{p.Text, p.Markup} {
			if params["version"] != hostileVersion || params["meterId"] != float64(105) {
				t.Errorf("a button's params read %v, want meter 105's version %q", params, hostileVersion)
			}
		}
	}
	if strings.Join(dom.Links, " ") != "https://zuora.example.com/meters/102" {
		t.Errorf("links %q, want only the https one", dom.Links)
	}
}

// contrast: every piece of text drawn in the widget, on the background
// it is drawn on (the element's and its ancestors' composited), has a
// WCAG 2 contrast ratio of at least 4.5, the level AA for normal text.
func contrast(t *testing.T, tab *browsertest.Tab, minTexts int) {
	var worst struct {
		Ratio float64 `json:"ratio"`
		What  string  `json:"what"`
		Texts int     `json:"texts"`
	}
	eval(t, tab, `(() => {
		const rgba = s => { const p = s.match(/[\d.]+/g).map(Number); return {r: p[0], g: p[1], b: p[2], a: p.length > 3 ? p[3] : 1}; };
		const over = (top, under) => ({r: top.r*top.a + under.r*(1-top.a), g: top.g*top.a + under.g*(1-top.a), b: top.b*top.a + under.b*(1-top.a), a: 1});
		const background = el => {
			const chain = [];
			for (let e = el; e; e = e.parentElement) chain.push(rgba(getComputedStyle(e).backgroundColor));
			return chain.reverse().reduce((under, top) => over(top, under), {r: 255, g: 255, b: 255, a: 1});
		};
		const lum = c => [c.r, c.g, c.b].map(v => { v /= 255; return v <= 0.03928 ? v/12.92 : Math.pow((v+0.055)/1.055, 2.4); })
			.reduce((s, v, i) => s + v*[0.2126, 0.7152, 0.0722][i], 0);
		let worst = {ratio: 100, what: '', texts: 0};
		for (const el of document.querySelectorAll('#widget *')) {
			if (!el.getClientRects().length) continue; // not drawn: style, cwdb-action
			if (![...el.childNodes].some(n => n.nodeType === 3 && n.textContent.trim())) continue;
			const bg = background(el), fg = over(rgba(getComputedStyle(el).color), bg);
			const [hi, lo] = [lum(fg), lum(bg)].sort((a, b) => b - a);
			const ratio = (hi + 0.05) / (lo + 0.05);
			worst.texts++;
			if (ratio < worst.ratio) worst = {ratio, what: el.tagName + '.' + el.className + ' ' + el.textContent.slice(0, 40), texts: worst.texts};
		}
		return worst;
	})()`, &worst)
	if worst.Texts < minTexts {
		t.Fatalf("found %d pieces of text; the page did not draw", worst.Texts)
	}
	if worst.Ratio < 4.5 {
		t.Errorf("contrast %.2f < 4.5 for %s", worst.Ratio, worst.What)
	}
	t.Logf("lowest contrast %.2f of %d texts (%s)", worst.Ratio, worst.Texts, worst.What)
}

// fits: the widget needs no horizontal scrolling in a frame width pixels
// wide, and no element and no text reaches past the frame's right edge.
func fits(t *testing.T, tab *browsertest.Tab, width int) {
	var got struct {
		ScrollWidth, ClientWidth int
		Over                     float64
		What                     string
	}
	eval(t, tab, `(() => {
		const f = document.getElementById('widget'), right = f.getBoundingClientRect().right;
		let over = 0, what = '';
		const walk = document.createTreeWalker(f, NodeFilter.SHOW_ELEMENT | NodeFilter.SHOW_TEXT);
		for (let n = walk.nextNode(); n; n = walk.nextNode()) {
			let rects = n.getClientRects ? n.getClientRects() : [];
			if (n.nodeType === Node.TEXT_NODE) { const r = document.createRange(); r.selectNodeContents(n); rects = r.getClientRects(); }
			for (const r of rects) if (r.right - right > over) { over = r.right - right; what = n.nodeName + ' ' + n.textContent.slice(0, 40); }
		}
		return {ScrollWidth: f.scrollWidth, ClientWidth: f.clientWidth, Over: over, What: what};
	})()`, &got)
	if got.ClientWidth != width {
		t.Fatalf("the frame is %d pixels wide, want %d", got.ClientWidth, width)
	}
	if got.ScrollWidth > got.ClientWidth || got.Over > 0.5 {
		t.Errorf("cut off at %d pixels: content %d wide, %s reaches %.1f pixels past the edge", width, got.ScrollWidth, got.What, got.Over)
	}
}
