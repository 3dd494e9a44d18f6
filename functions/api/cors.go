package api

import (
	"net/http"
	"slices"
	"strings"
)

// CORS, as API.md says: the public routes answer any origin (the estimator
// widget embeds on any page); the authenticated routes answer only the
// origins the deployment lists in Config.CORSOrigins (none by default), so a
// page elsewhere cannot drive the API with a user's token. A preflight
// (OPTIONS with Access-Control-Request-Method) is answered here, 204, before
// routing; a refused origin gets no CORS headers and the browser blocks it.

// ParseCORSOrigins reads a deployment's list of origins (CORS_ORIGINS):
// comma-separated, spaces around each and a trailing slash ignored, empty
// entries dropped. An origin is matched exactly as a browser sends it
// (scheme://host[:port]).
func ParseCORSOrigins(list string) []string {
	var out []string
	for _, o := range strings.Split(list, ",") {
		if o = strings.TrimSuffix(strings.TrimSpace(o), "/"); o != "" {
			out = append(out, o)
		}
	}
	return out
}

// corsMaxAge is how long a browser may keep a preflight's answer (seconds).
const corsMaxAge = "600"

// corsHeaders are the request headers a cross-origin caller may send.
const corsHeaders = "Authorization, Content-Type, Idempotency-Key, X-Request-Id"

// corsExposed are the answer's headers a cross-origin caller may read.
const corsExposed = "Idempotent-Replayed, Retry-After, X-Request-Id, Allow"

// cors sets the CORS headers of an answer to r and answers a preflight; it
// reports whether it answered.
func (h *Handler) cors(w http.ResponseWriter, r *http.Request) bool {
	origin := r.Header.Get("Origin")
	preflight := r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != ""
	if origin == "" {
		return false
	}
	method := r.Method
	if preflight {
		method = r.Header.Get("Access-Control-Request-Method")
	}
	public := h.isPublic(method, r)
	allowed := public || slices.Contains(h.cfg.CORSOrigins, origin)
	hdr := w.Header()
	hdr.Add("Vary", "Origin")
	if allowed {
		if public {
			hdr.Set("Access-Control-Allow-Origin", "*")
		} else {
			hdr.Set("Access-Control-Allow-Origin", origin)
		}
		hdr.Set("Access-Control-Expose-Headers", corsExposed)
	}
	if !preflight {
		return false
	}
	if allowed {
		hdr.Set("Access-Control-Allow-Methods", strings.Join(h.allowedMethods(r), ", "))
		hdr.Set("Access-Control-Allow-Headers", corsHeaders)
		hdr.Set("Access-Control-Max-Age", corsMaxAge)
	}
	w.WriteHeader(http.StatusNoContent)
	return true
}

// isPublic reports whether method on r's path is a public route.
func (h *Handler) isPublic(method string, r *http.Request) bool {
	probe := r.Clone(r.Context())
	probe.Method = method
	_, pattern := h.publicMux.Handler(probe)
	return pattern != ""
}
