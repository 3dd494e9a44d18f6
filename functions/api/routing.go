package api

import (
	"net/http"
	"path"
	"strings"

	"cloudcredits/core"
)

// Paths and methods the routes do not serve.
//
// Rules kept here:
//   - A path that some route serves, asked with a method none of its routes
//     takes, answers 405 method_not_allowed with an Allow header listing
//     the methods that path does take (HEAD is served wherever GET is).
//   - A path with an empty, "." or ".." segment ("//v1/ratecard",
//     "/v1/x/../y") is answered 404 not_found in the error shape. It is
//     never redirected to its clean form: a redirect has no error body, and
//     a client that built such a path has a bug to see, not to follow.
//   - Any other path is 404 not_found.

// methodsTried are the methods a route may be registered with.
var methodsTried = []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodDelete, http.MethodPatch}

// allowedMethods lists the methods some route serves r's path with.
func (h *Handler) allowedMethods(r *http.Request) []string {
	var allow []string
	for _, m := range methodsTried {
		probe := r.Clone(r.Context())
		probe.Method = m
		if _, pattern := h.mux.Handler(probe); pattern != "" && pattern != "/" {
			allow = append(allow, m)
		}
	}
	return allow
}

// CleanPath reports whether p has no empty, "." or ".." segment. A server
// that mounts the handler behind a mux of its own sends the paths that are
// not clean to the handler, which answers them (see the rules above), since
// http.ServeMux would redirect them before any handler ran.
func CleanPath(p string) bool {
	if p == "" || p[0] != '/' {
		return false
	}
	c := path.Clean(p)
	if strings.HasSuffix(p, "/") && c != "/" {
		c += "/"
	}
	return c == p
}

// uncleanPath answers a path that is not clean (see the rules above).
func uncleanPath(w http.ResponseWriter, r *http.Request) {
	writeError(w, r, core.Errorf(core.CodeNotFound,
		"no route %s %s: a path has no empty, '.' or '..' segments", r.Method, r.URL.Path))
}

func (h *Handler) unknownRoute(w http.ResponseWriter, r *http.Request) {
	if allow := h.allowedMethods(r); len(allow) > 0 {
		w.Header().Set("Allow", strings.Join(allow, ", "))
		writeError(w, r, core.Errorf(core.CodeMethodNotAllowed, "%s takes %s, not %s", r.URL.Path, strings.Join(allow, " or "), r.Method).
			WithDetail("allow", allow))
		return
	}
	writeError(w, r, core.Errorf(core.CodeNotFound, "no route %s %s", r.Method, r.URL.Path))
}
