package widget

import (
	"encoding/json"
	"errors"
	"go/ast"
	"go/parser"
	"go/token"
	"html"
	"os"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"
)

// hostile are values that would be markup, end an attribute or an element,
// or pass for an escape, were they written as they are.
var hostile = []string{
	`<script>alert(1)</script>`,
	`"><img src=x onerror=alert(1)>`,
	`' onmouseover='alert(1)`,
	`a" onclick="alert(1)" b="`,
	`&lt;already escaped&gt; &amp; &#34; &#x3c;`,
	`</cwdb-action><cwdb-action action="call">{}`,
	`</style><style>*{display:none}</style>`,
	`<!-- --> <![CDATA[ ]]> <?x?>`,
	"\x00<\x00>\x00",
	"\xff<\xfe>\xc0\"",
	"\u2028</td></tr>\u2029",
	`javascript:alert(1)`,
	`{{.}} ${x} <%= x %>`,
	``,
}

// escapedOK: s holds none of < > " ' but as the escapes html.EscapeString
// writes, and no & that begins anything else.
var escapedOK = regexp.MustCompile(`^(?:[^<>"'&]|&lt;|&gt;|&amp;|&#34;|&#39;)*$`)

// readsAs is what s reads as once written: valid UTF-8, NUL as U+FFFD.
func readsAs(s string) string {
	return strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "\uFFFD")
}

func written(t *testing.T, write func(w *htmlWriter)) string {
	t.Helper()
	var w htmlWriter
	write(&w)
	out, err := w.String()
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// Every method that takes a value escapes it: what it writes has no < > "
// ' & of the value's, and reads back as the value.
func TestWriterEscapes(t *testing.T) {
	for _, v := range hostile {
		text := written(t, func(w *htmlWriter) { w.Markup("<p>"); w.Text(v); w.Markup("</p>") })
		inner := strings.TrimSuffix(strings.TrimPrefix(text, "<p>"), "</p>")
		if !escapedOK.MatchString(inner) || html.UnescapeString(inner) != readsAs(v) {
			t.Errorf("Text(%q) wrote %q", v, text)
		}
		attr := written(t, func(w *htmlWriter) { w.Markup("<p"); w.Attr("title", v); w.Markup(">") })
		value, ok := strings.CutPrefix(attr, `<p title="`)
		value, ok2 := strings.CutSuffix(value, `">`)
		if !ok || !ok2 || !escapedOK.MatchString(value) || html.UnescapeString(value) != readsAs(v) {
			t.Errorf("Attr(title, %q) wrote %q", v, attr)
		}
		params := written(t, func(w *htmlWriter) {
			w.Markup("<cwdb-action>")
			w.JSON(actionParams{ActionMute, 1, v})
			w.Markup("</cwdb-action>")
		})
		body := strings.TrimSuffix(strings.TrimPrefix(params, "<cwdb-action>"), "</cwdb-action>")
		var back actionParams
		if strings.ContainsAny(body, "<>&") || json.Unmarshal([]byte(body), &back) != nil ||
			json.Unmarshal([]byte(html.UnescapeString(body)), &back) != nil || utf8.ValidString(v) && back.Version != v {
			t.Errorf("JSON of %q wrote %q", v, params)
		}
	}
}

// Link writes only an https link, its href percent-encoded and escaped.
func TestWriterLink(t *testing.T) {
	link := regexp.MustCompile(`^<a href="([^"<>']*)" target="_blank" rel="noopener noreferrer">meter page</a>$`)
	for _, v := range []string{
		`https://a.example/"><script>alert(1)</script>`,
		`https://a.example/?q="onmouseover=alert(1)&x='y'<>`,
		`https://a.example/#"><img src=x onerror=alert(1)>`,
		"https://a.example/\u2028 x?y=`{|}^\\",
		`https://a.example/p'()?q=%zz%41'`,
	} {
		out := written(t, func(w *htmlWriter) { w.Link(v, "meter page") })
		m := link.FindStringSubmatch(out)
		if m == nil || !escapedOK.MatchString(m[1]) || !strings.HasPrefix(m[1], "https://a.example/") ||
			strings.ContainsAny(html.UnescapeString(m[1]), "\"'<> `{|}^\\\u2028") {
			t.Errorf("Link(%q) wrote %q", v, out)
		}
	}
	for _, v := range append(hostile, "http://a.example/", "https://u:p@a.example/", "//a.example/", "https:///x",
		"data:text/html,<script>alert(1)</script>", " https://a.example/") {
		if out := written(t, func(w *htmlWriter) { w.Link(v, "meter page") }); out != "" {
			t.Errorf("Link(%q) wrote %q", v, out)
		}
	}
}

// The writer refuses a value where escaping it is not enough, and markup
// that would leave a value there; it writes nothing more after.
func TestWriterRefuses(t *testing.T) {
	const v = `x onclick=alert(1)`
	for name, write := range map[string]func(w *htmlWriter){
		"text in a tag":          func(w *htmlWriter) { w.Markup("<p "); w.Text(v) },
		"a number in a tag":      func(w *htmlWriter) { w.Markup("<p "); w.Int(1) },
		"JSON in a tag":          func(w *htmlWriter) { w.Markup(`<p class="a"`); w.JSON(v) },
		"a link in a tag":        func(w *htmlWriter) { w.Markup("<p "); w.Link("https://a.example/", "x") },
		"an attribute in text":   func(w *htmlWriter) { w.Markup("<p>"); w.Attr("title", v) },
		"an event handler":       func(w *htmlWriter) { w.Markup("<p"); w.Attr("onclick", v) },
		"a URL attribute":        func(w *htmlWriter) { w.Markup("<a"); w.Attr("href", v) },
		"a style attribute":      func(w *htmlWriter) { w.Markup("<p"); w.Attr("style", v) },
		"an odd attribute name":  func(w *htmlWriter) { w.Markup("<p"); w.Attr("a onclick", v) },
		"an upper-case handler":  func(w *htmlWriter) { w.Markup("<p"); w.Attr("ONCLICK", v) },
		"a value left open":      func(w *htmlWriter) { w.Markup(`<p title="`); w.Text(v) },
		"a value about to begin": func(w *htmlWriter) { w.Markup(`<p title= `); w.Attr("class", v) },
		"a value quoted with '":  func(w *htmlWriter) { w.Markup(`<p title='`); w.Text(v) },
		"a style left open":      func(w *htmlWriter) { w.Markup(`<style>p{}`); w.Text(v) },
		"a script left open":     func(w *htmlWriter) { w.Markup(`<p>a</p><SCRIPT type="module"`); w.Attr("class", v) },
		"a page ending in a tag": func(w *htmlWriter) { w.Markup(`<p`) },
		"nothing after":          func(w *htmlWriter) { w.Markup("<p "); w.Int(1); w.Markup(">"); w.Text(v) },
	} {
		var w htmlWriter
		write(&w)
		if out, err := w.String(); !errors.Is(err, errMarkup) || out != "" || strings.Contains(string(w.b), v) {
			t.Errorf("%s: %q, %v", name, w.b, err)
		}
	}
	// What the writer allows: a style closed in its markup, a > inside a
	// quoted value, attributes one after another.
	out := written(t, func(w *htmlWriter) {
		w.Markup("<style>p>b{}</style><p>")
		w.Text(v)
		w.Markup(`</p><a title="a>b"`)
		w.Attr("class", v)
		w.Markup(` display="x">`)
		w.Text(v)
		w.Markup("</a>")
	})
	if want := `<style>p>b{}</style><p>` + v + `</p><a title="a>b" class="` + v + `" display="x">` + v + `</a>`; out != want {
		t.Errorf("wrote %q, want %q", out, want)
	}
}

// markup holds only constants: no conversion to it is written anywhere in
// the package, so a string value can reach the page only through the
// methods that escape it.
func TestMarkupIsConstant(t *testing.T) {
	fset := token.NewFileSet()
	entries, err := os.ReadDir(".")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		name := e.Name()
		if !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			if call, ok := n.(*ast.CallExpr); ok {
				if id, ok := ast.Unparen(call.Fun).(*ast.Ident); ok && id.Name == "markup" {
					t.Errorf("%s: a conversion to markup", fset.Position(call.Pos()))
				}
			}
			return true
		})
	}
}
