package main

import (
	"net/http"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// staticSite serves the site folder. For a .wasm file it prefers the
// pre-compressed sibling the build wrote (file.wasm.br, then file.wasm.gz)
// when the browser accepts that encoding, with Content-Type application/wasm
// so the browser can compile while it downloads.
func staticSite(dir string) http.Handler {
	files := http.FileServer(http.Dir(dir))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if embeddable(r.URL.Path) {
			// The estimator widget embeds on any page (API.md, CORS): its
			// module scripts, its WebAssembly and its data load from here.
			w.Header().Set("Access-Control-Allow-Origin", "*")
		}
		if (r.Method == http.MethodGet || r.Method == http.MethodHead) && strings.HasSuffix(r.URL.Path, ".wasm") {
			name := filepath.Join(dir, filepath.FromSlash(path.Clean("/"+r.URL.Path)))
			accept := r.Header.Get("Accept-Encoding")
			for _, enc := range []struct{ token, ext string }{{"br", ".br"}, {"gzip", ".gz"}} {
				if !acceptsEncoding(accept, enc.token) {
					continue
				}
				f, err := os.Open(name + enc.ext)
				if err != nil {
					continue
				}
				defer f.Close()
				st, err := f.Stat()
				if err != nil || st.IsDir() {
					continue
				}
				w.Header().Set("Content-Type", "application/wasm")
				w.Header().Set("Content-Encoding", enc.token)
				w.Header().Add("Vary", "Accept-Encoding")
				http.ServeContent(w, r, path.Base(r.URL.Path), st.ModTime(), f)
				return
			}
			w.Header().Add("Vary", "Accept-Encoding")
		}
		files.ServeHTTP(w, r)
	})
}

// acceptsEncoding reports whether an Accept-Encoding header lists token with
// a non-zero quality.
// embeddable reports whether p is one of the widget's files.
func embeddable(p string) bool {
	return p == "/estimator.js" || p == "/tier-chart.js" || strings.HasPrefix(p, "/wasm/")
}

func acceptsEncoding(header, token string) bool {
	for _, part := range strings.Split(header, ",") {
		name, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if !strings.EqualFold(strings.TrimSpace(name), token) {
			continue
		}
		q := strings.ReplaceAll(strings.TrimSpace(params), " ", "")
		return q != "q=0" && q != "q=0.0" && q != "q=0.00" && q != "q=0.000"
	}
	return false
}
