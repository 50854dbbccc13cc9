package ui

import (
	"strings"

	"github.com/vugu/vugu"
)

// setContent is vg-content in the generated components (doc.go's go:generate puts it in place
// of vugu's SetInnerHTML). vugu sets an element's innerHTML on every render, changed or not, so
// the browser parsed HTML and rebuilt those elements' children each time: ParseHTML was 10-40%
// of the page's long tasks in Chrome traces of TestBrowserNoLongTasks (PREFER_LONGTASKS_TRACE=1).
// Text becomes the element's text child instead, which the renderer updates in place; markup
// (a vugu.HTML with a tag or an entity) stays innerHTML.
func setContent(n *vugu.VGNode, v any) {
	var s string
	switch v := v.(type) {
	case string:
		s = v
	case vugu.HTML:
		if strings.ContainsAny(string(v), "<&") {
			n.SetInnerHTML(v)
			return
		}
		s = string(v)
	default:
		n.SetInnerHTML(v)
		return
	}
	n.AppendChild(&vugu.VGNode{Type: vugu.TextNode, Data: s})
}
