package widget

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"strconv"
	"strings"
	"unicode/utf8"
)

// markup is HTML written as it is: tags, attribute names and fixed text.
// Only constants are of this type: an untyped string constant becomes a
// markup where one is wanted, a string value does not, and this package
// writes no conversion to markup (TestMarkupIsConstant holds it to that).
// So nothing from a Row, the Page or a caller is ever markup.
type markup string

// htmlWriter writes a page of HTML: its structure from markup, every value
// through a method that escapes it for where it lands. It follows where
// the markup leaves it, in element text or inside a start tag, and refuses
// a value anywhere else (an unquoted attribute, a tag's name, a style
// element); the first refusal is the error String returns, and nothing is
// written after it.
type htmlWriter struct {
	b     []byte
	inTag bool // the markup so far ends inside a start tag: only Attr may follow
	err   error
}

// errMarkup: the package's markup would let a value land where it is not
// escaped. Render's tests reach every markup of the package, so it is a
// bug found there, never a page's.
var errMarkup = errors.New("widget: markup misused")

func (w *htmlWriter) fail(format string, args ...any) {
	if w.err == nil {
		w.err = fmt.Errorf("%w: %s", errMarkup, fmt.Sprintf(format, args...))
	}
}

// Markup writes m as it is. m may end inside a start tag, with its
// attributes so far quoted with ", but not inside an attribute's value nor
// before one, and an element whose content is not HTML (style, script and
// the like) must end in the same markup: a value written next is then
// either element text or an attribute, and the writer knows which.
func (w *htmlWriter) Markup(m markup) {
	if w.err != nil {
		return
	}
	inTag, err := after(string(m), w.inTag)
	if err != nil {
		w.fail("%q: %v", m, err)
		return
	}
	w.inTag = inTag
	w.b = append(w.b, m...)
}

// Text writes s as element text, escaped.
func (w *htmlWriter) Text(s string) {
	if w.err != nil {
		return
	}
	if w.inTag {
		w.fail("text %.40q inside a start tag", s)
		return
	}
	w.b = append(w.b, escape(s)...)
}

// Int writes n as element text: digits and a sign, nothing to escape.
func (w *htmlWriter) Int(n int64) {
	if w.err != nil {
		return
	}
	if w.inTag {
		w.fail("a number inside a start tag")
		return
	}
	w.b = strconv.AppendInt(w.b, n, 10)
}

// Attr writes ` name="value"` into the start tag the markup left open, the
// value escaped. It refuses a name that would make the value a URL, a
// style or a script: those take no value of a Row or a caller (a link is
// Link's).
func (w *htmlWriter) Attr(name markup, value string) {
	if w.err != nil {
		return
	}
	switch {
	case !w.inTag:
		w.fail("attribute %s outside a start tag", name)
	case !plainAttr(string(name)):
		w.fail("attribute %q takes no value", name)
	default:
		w.b = append(w.b, ' ')
		w.b = append(w.b, name...)
		w.b = append(w.b, `="`...)
		w.b = append(w.b, escape(value)...)
		w.b = append(w.b, '"')
	}
}

// Link writes a link to href, opening in a new tab, with text as its text,
// when href is an https URL httpsLink admits; otherwise nothing. The href is
// percent-encoded past the URL's own characters, as html/template did, then
// escaped.
func (w *htmlWriter) Link(href string, text markup) {
	href = httpsLink(href)
	if w.err != nil || href == "" {
		return
	}
	if w.inTag {
		w.fail("a link inside a start tag")
		return
	}
	w.b = append(w.b, `<a href="`...)
	w.b = append(w.b, escape(normalizeURL(href))...)
	w.b = append(w.b, `" target="_blank" rel="noopener noreferrer">`...)
	w.Markup(text)
	w.b = append(w.b, "</a>"...)
}

// JSON writes v as JSON in element text, where the console reads a
// cwdb-action's params, or nothing when v does not marshal. json.Marshal
// writes < > & as \u003c \u003e \u0026 (and control characters escaped),
// so the JSON holds no character that means anything in element text: it
// is the same whether it is read as text or as markup, and no string in it
// can end the element or start another. Were that ever not so, nothing is
// written.
func (w *htmlWriter) JSON(v any) {
	if w.err != nil {
		return
	}
	if w.inTag {
		w.fail("JSON inside a start tag")
		return
	}
	b, err := json.Marshal(v)
	if err != nil || bytes.ContainsAny(b, "<>&") {
		return
	}
	w.b = append(w.b, b...)
}

// Len is how many bytes are written.
func (w *htmlWriter) Len() int { return len(w.b) }

// writerMark is a point to go back to: the length and where it was.
type writerMark struct {
	n     int
	inTag bool
}

func (w *htmlWriter) mark() writerMark { return writerMark{len(w.b), w.inTag} }

// reset drops what was written since m. A refusal stays.
func (w *htmlWriter) reset(m writerMark) { w.b, w.inTag = w.b[:m.n], m.inTag }

// String is the page, or the first refusal. A page left inside a start tag
// is refused too.
func (w *htmlWriter) String() (string, error) {
	if w.err == nil && w.inTag {
		w.fail("the page ends inside a start tag")
	}
	if w.err != nil {
		return "", w.err
	}
	return string(w.b), nil
}

// escape is s as element text or a double-quoted attribute value:
// html.EscapeString (< > & ' "), with invalid UTF-8 and NUL (which an HTML
// parser drops from text) as U+FFFD, so that the page is UTF-8 and shows
// them as the widget always has.
func escape(s string) string {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	if strings.IndexByte(s, 0) >= 0 {
		s = strings.ReplaceAll(s, "\x00", "\uFFFD")
	}
	return html.EscapeString(s)
}

// after reads markup s, written in a start tag (inTag) or in text, and says
// where it leaves the page; an error when it leaves an attribute's value
// open or about to begin, quotes one with ', or leaves open an element
// whose content is not HTML.
func after(s string, inTag bool) (bool, error) {
	quoted := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case quoted:
			quoted = c != '"'
		case inTag && c == '"':
			quoted = true
		case inTag && c == '\'':
			return false, errors.New("an attribute quoted with '")
		case inTag && c == '>':
			inTag = false
		case !inTag && c == '<':
			if name := rawText(s[i+1:]); name != "" {
				end := indexEndTag(s[i:], name)
				if end < 0 {
					return false, fmt.Errorf("<%s> is not closed", name)
				}
				i += end // at the end tag's <
			}
			inTag = true
		}
	}
	switch {
	case quoted:
		return false, errors.New("an attribute value left open")
	case inTag && strings.HasSuffix(strings.TrimRight(s, " \t\n\f\r"), "="):
		return false, errors.New("an attribute without its value")
	}
	return inTag, nil
}

// rawTextElements are the elements whose content an HTML parser does not
// read as markup, so that an escaped value in them could still be script,
// style or the end of the page's markup.
var rawTextElements = []string{"script", "style", "textarea", "title", "xmp", "iframe", "noembed", "noframes",
	"noscript", "plaintext"}

// rawText is the element whose start tag begins rest (what follows a <),
// when it is one of rawTextElements; "" otherwise.
func rawText(rest string) string {
	for _, name := range rawTextElements {
		if len(rest) < len(name) || rest[0]|0x20 != name[0] || !strings.EqualFold(rest[:len(name)], name) {
			continue
		}
		if len(rest) == len(name) || !isNameByte(rest[len(name)]) {
			return name
		}
	}
	return ""
}

// indexEndTag is where the end tag of the element name begins in s, in
// any case; -1 when s has none.
func indexEndTag(s, name string) int {
	for j := 0; j+2+len(name) <= len(s); j++ {
		if s[j] == '<' && s[j+1] == '/' && strings.EqualFold(s[j+2:j+2+len(name)], name) {
			return j
		}
	}
	return -1
}

func isNameByte(c byte) bool {
	return 'a' <= c|0x20 && c|0x20 <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == ':'
}

// plainAttr: name is an attribute name of lower-case letters, digits and
// hyphens whose value is text: not an event handler, a style, nor one of
// the attributes that take a URL.
func plainAttr(name string) bool {
	if name == "" || strings.HasPrefix(name, "on") || strings.Trim(name, "abcdefghijklmnopqrstuvwxyz0123456789-") != "" {
		return false
	}
	switch name {
	case "href", "src", "srcset", "srcdoc", "style", "action", "formaction", "data", "poster", "background",
		"cite", "codebase", "longdesc", "manifest", "ping", "xmlns":
		return false
	}
	return true
}

// normalizeURL percent-encodes every byte of s but the letters, digits and
// the characters that mean something in a URL (RFC 3986's unreserved and
// reserved ones, but ' ( ), which html/template encoded too, and a % that
// begins an escape): the href html/template wrote for the same link.
func normalizeURL(s string) string {
	var b strings.Builder
	written := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
			strings.IndexByte("!#$&*+,/:;=?@[]-._~", c) >= 0 ||
			c == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]) {
			continue
		}
		b.WriteString(s[written:i])
		fmt.Fprintf(&b, "%%%02x", c)
		written = i + 1
	}
	if written == 0 {
		return s
	}
	b.WriteString(s[written:])
	return b.String()
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c|0x20 && c|0x20 <= 'f'
}
