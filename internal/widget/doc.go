// Package widget is the watch list as a CloudWatch dashboard's custom
// widget: the event CloudWatch sends (its widgetContext, the widget's params
// and a button's params) and the HTML the function answers with. It reads
// nothing and calls nothing: the caller fills a Page from the state table
// and returns Render's string as the invocation's result.
//
// # Why not html/template
//
// Render writes its HTML with a writer of its own (htmlWriter), not with
// html/template, for the size of the function's binary: executing a
// text/template or html/template calls methods by name through
// reflection, and a binary that can do that keeps every exported method of
// every type it holds, for the linker cannot tell which a template might
// call. Reaching a template from the function's bootstrap made the arm64
// binary 4.6 MB (39%) larger, which its cold start pays for.
//
// # What the writer guarantees
//
// The page's structure is markup, a type only constants are of (no
// conversion to it is written in the package, and a test holds it to
// that), so nothing from a Row, the Page or a caller becomes markup. Every
// value goes through a method that writes it for where it lands:
//
//   - element text, and attribute values, which are always double-quoted,
//     escaped with html.EscapeString (< > & ' "), invalid UTF-8 and NUL
//     written as U+FFFD;
//   - a link only to an https URL httpsLink admits, percent-encoded past
//     the URL's own characters and escaped;
//   - a button's params as JSON, which json.Marshal writes with < > & as
//     \u003c \u003e \u0026, so that they read the same as text and as
//     markup; they are left out were that ever not so;
//   - numbers as digits.
//
// The writer follows the markup, in element text or inside a start tag,
// and refuses a value where escaping it would not be enough: text or JSON
// inside a tag, an attribute outside one, an attribute that takes a URL, a
// style or a script, and markup that leaves an attribute's value open or
// about to begin, or an element whose content is not HTML (style, script)
// open. A refusal is Render's error; the tests reach all of the package's
// markup, so a page never meets one.
package widget
