package browsertest

import (
	"fmt"
	"strings"
)

// FrameID is the id of the element that holds the widget's HTML, as the
// console's widget body does.
const FrameID = "widget"

// Widths of a custom widget, in CSS pixels. A dashboard is 24 columns wide
// and a new widget takes 6 of them (the CloudFormation and CDK default
// width). On a 1920-pixel screen, the most common desktop width, the
// console's dashboard area is about 1,840 pixels with its navigation
// closed, so a default widget is about 460 pixels wide; with the
// navigation open, about 400. CloudWatch's documentation shows a
// widgetContext with width 588.
const (
	DefaultWidth = 460
	NarrowWidth  = 400
	DocsWidth    = 588
)

// console is how the console draws around a widget in one theme, after its
// design system (Cloudscape): the dashboard's background, the widget's
// container and border, and the widget title's colour.
type console struct{ page, container, border, title string }

var consoles = map[string]console{
	"light": {page: "#f2f3f3", container: "#ffffff", border: "#e9ebed", title: "#000716"},
	"dark":  {page: "#161d26", container: "#0f1b2a", border: "#414d5c", title: "#d1d5db"},
}

// Frame is a page that mimics a dashboard in the console: its background
// for theme ("light" or "dark"; anything else is light), and one widget
// of width CSS pixels with its title bar and the widget's HTML as its body.
// The console takes a cwdb-action element as the previous element's
// behaviour and does not show its content; the frame hides it likewise. The
// widget's height grows with its content, so a screenshot shows every row.
func Frame(widgetHTML, theme string, width int) string {
	c, ok := consoles[theme]
	if !ok {
		c = consoles["light"]
	}
	var b strings.Builder
	fmt.Fprintf(&b, `<!doctype html>
<html><head><meta charset="utf-8"><title>Dashboard</title>
<style>
html,body{margin:0;background:%[1]s}
body{padding:16px;font:14px "Amazon Ember","Helvetica Neue",Roboto,Arial,sans-serif}
.widget{width:%[5]dpx;background:%[2]s;border:1px solid %[3]s;border-radius:8px}
.widget h2{margin:0;padding:8px 12px;font-size:14px;color:%[4]s}
#%[6]s{width:%[5]dpx;overflow:auto;background:%[2]s;border-radius:0 0 8px 8px}
cwdb-action{display:none}
</style></head><body>
<div class="widget"><h2>Zuora meter watch list</h2><div id="%[6]s">`, c.page, c.container, c.border, c.title, width, FrameID)
	b.WriteString(widgetHTML)
	b.WriteString("</div></div></body></html>\n")
	return b.String()
}
