package report

import (
	"bytes"
	"strings"
	"testing"

	"golang.org/x/net/html"
)

// node helpers over golang.org/x/net/html, for structural assertions.

func parse(t *testing.T, b []byte) *html.Node {
	t.Helper()
	doc, err := html.Parse(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("page does not parse: %v", err)
	}
	return doc
}

func attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

func hasClass(n *html.Node, class string) bool {
	for _, c := range strings.Fields(attr(n, "class")) {
		if c == class {
			return true
		}
	}
	return false
}

// all returns the elements, in document order, for which match is true.
func all(root *html.Node, match func(*html.Node) bool) []*html.Node {
	var out []*html.Node
	for n := range root.Descendants() {
		if n.Type == html.ElementNode && match(n) {
			out = append(out, n)
		}
	}
	return out
}

func tag(name string) func(*html.Node) bool {
	return func(n *html.Node) bool { return n.Data == name }
}

func text(n *html.Node) string {
	var b strings.Builder
	for d := range n.Descendants() {
		if d.Type == html.TextNode {
			b.WriteString(d.Data)
		}
	}
	return strings.Join(strings.Fields(b.String()), " ")
}

// checkSelfContained fails when the page could load anything: an
// external script, style, image, font or frame, or a policy that allows
// any of them.
func checkSelfContained(t *testing.T, doc *html.Node) {
	t.Helper()
	for _, n := range all(doc, func(*html.Node) bool { return true }) {
		for _, key := range []string{"src", "href", "srcset", "action", "poster", "data"} {
			v := attr(n, key)
			// A link loads nothing until followed; it must stay on the site.
			if n.Data == "a" && key == "href" && !strings.Contains(v, "//") {
				continue
			}
			if v != "" && !strings.HasPrefix(v, "#") && !strings.HasPrefix(v, "data:") {
				t.Errorf("<%s %s=%q> may load from outside the page", n.Data, key, v)
			}
		}
		if n.Data == "link" || n.Data == "iframe" || n.Data == "object" || n.Data == "embed" {
			t.Errorf("page has a <%s>", n.Data)
		}
	}
	metas := all(doc, func(n *html.Node) bool { return n.Data == "meta" && attr(n, "http-equiv") == "Content-Security-Policy" })
	if len(metas) != 1 || !strings.HasPrefix(attr(metas[0], "content"), "default-src 'none'") {
		t.Errorf("page lacks a Content-Security-Policy that starts from default-src 'none'")
	}
}
