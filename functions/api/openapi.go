package api

import (
	_ "embed"
	"net/http"
	"slices"
)

// openAPIYAML is the OpenAPI 3.0.3 description of the whole API of API.md:
// the routes served today and, marked `x-status: planned`, those still to
// come. openapi_test.go checks it against the real handler, so the document
// and the code cannot drift apart unnoticed.
//
//go:embed openapi.yaml
var openAPIYAML []byte

// OpenAPI returns the OpenAPI document of the API (YAML). The slice is a
// copy: callers may change it without changing what is served.
func OpenAPI() []byte { return slices.Clone(openAPIYAML) }

// openAPI serves the document at GET /v1/openapi.yaml, for client
// generators and the site's API reference.
func (h *Handler) openAPI(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/yaml")
	w.Header().Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(openAPIYAML)
}
