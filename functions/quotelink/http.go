//go:build !js

package main

import (
	"io"
	"log"
	"net/http"
)

// ServeHTTP serves the pages natively (tests, and workers.Serve's net/http
// fallback). The Worker's build answers through Serve from JavaScript and
// does not link net/http.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	writePage(w, r, h.servePath(r.Method, r.URL.Path))
}

// NotConfigured answers every request with 500 when the Worker's vars are
// wrong: a misconfiguration must not pass for an invalid link.
func NotConfigured(err error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		log.Printf("quotelink: not configured: %v", err)
		writePage(w, r, NotConfiguredPage())
	})
}

func writePage(w http.ResponseWriter, r *http.Request, p Page) {
	h := w.Header()
	for _, kv := range SecurityHeaders {
		h.Set(kv[0], kv[1])
	}
	if p.Allow != "" {
		h.Set("Allow", p.Allow)
	}
	h.Set("Content-Type", p.ContentType)
	w.WriteHeader(p.Status)
	if r.Method != http.MethodHead {
		_, _ = io.WriteString(w, p.Body)
	}
}
