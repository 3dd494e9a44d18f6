package main

import (
	_ "embed"
	"fmt"
	"html"
	"strings"
)

// The pages are HTML files with {{name}} slots. The Worker does not use
// html/template: it (text/template's reflection) adds 1.2 MB gzip to the
// Worker, and its templates would be parsed when the Worker starts.
// Instead there is one rule, in fill: every slot is text, HTML-escaped, and
// the pages put slots only in element text and double-quoted attributes,
// where that escaping is complete. The style and
// the page bodies are ours and put together once, below.
var (
	//go:embed layout.html
	layoutHTML string
	//go:embed quote.html
	quoteHTML string
	//go:embed message.html
	messageHTML string

	quotePageHTML   = compose(quoteHTML)
	messagePageHTML = compose(messageHTML)
)

// compose puts a page body and the style into the layout: trusted markup
// only, never a value from a request or a quote.
func compose(main string) string {
	// Two plain replacements: a strings.Replacer would build its lookup
	// trie when the Worker starts, for nothing.
	page := strings.Replace(layoutHTML, "{{style}}", pageCSS, 1)
	return strings.Replace(page, "{{main}}", strings.TrimSpace(main), 1)
}

// slotsMax bounds the slots one page may have (a template bug, not input,
// would pass it).
const slotsMax = 64

// fill replaces each {{name}} in tmpl with html.EscapeString(vars[name]).
// A slot without a value is an error, so a misspelt name can't leave a
// hole or a literal "{{" in a page.
func fill(tmpl string, vars map[string]string) (string, error) {
	var b strings.Builder
	b.Grow(len(tmpl) + 1024)
	for n := 0; ; n++ {
		i := strings.Index(tmpl, "{{")
		if i < 0 {
			b.WriteString(tmpl)
			return b.String(), nil
		}
		if n == slotsMax {
			return "", fmt.Errorf("more than %d slots", slotsMax)
		}
		j := strings.Index(tmpl[i:], "}}")
		if j < 0 {
			return "", fmt.Errorf("unclosed slot at %q", tmpl[i:min(len(tmpl), i+20)])
		}
		name := tmpl[i+2 : i+j]
		v, ok := vars[name]
		if !ok {
			return "", fmt.Errorf("no value for slot {{%s}}", name)
		}
		b.WriteString(tmpl[:i])
		b.WriteString(html.EscapeString(v))
		tmpl = tmpl[i+j+2:]
	}
}
