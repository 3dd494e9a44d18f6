package api

import (
	"context"
	"net/http"
	"net/url"

	"cloudcredits/core"
	"cloudcredits/core/ledger"
	"cloudcredits/functions/auth"
)

type principalKey struct{}

func principalOf(ctx context.Context) auth.Principal {
	p, _ := ctx.Value(principalKey{}).(auth.Principal)
	return p
}

// authed wraps a handler that only the given roles may call. The token is
// verified on every request; a caller of another role gets 403 forbidden.
func (h *Handler) authed(roles []auth.Role, next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if h.cfg.Keys == nil {
			writeError(w, r, core.Errorf(core.CodeInternal, "no token keys configured"))
			return
		}
		p, err := h.cfg.Keys.Verify(auth.BearerToken(r.Header.Get("Authorization")), h.now(r.Context()))
		if err != nil {
			w.Header().Set("WWW-Authenticate", `Bearer realm="cloudcredits"`)
			writeError(w, r, err)
			return
		}
		allowed := false
		for _, role := range roles {
			allowed = allowed || p.Role == role
		}
		if !allowed {
			writeError(w, r, core.Errorf(core.CodeForbidden, "role %s may not %s %s", p.Role, r.Method, r.URL.Path))
			return
		}
		next(w, r.WithContext(context.WithValue(r.Context(), principalKey{}, p)))
	}
}

// ownContract answers whether the caller may act on contract c. Another
// contract's resources answer 404, never 403, so their existence is not
// revealed. A vendor admin may act on every contract.
func ownContract(r *http.Request, c string) error {
	p := principalOf(r.Context())
	if p.Role == auth.VendorAdmin || p.Contract == c {
		return nil
	}
	return core.Errorf(core.CodeNotFound, "contract %s not found", c)
}

// idemOf reads the Idempotency-Key header of a mutating request and
// fingerprints the request (method, path and body bytes): the same key with
// another body is refused. The ledger service checks the key's form, once,
// for every caller. Keys are scoped to the caller's contract; a vendor
// admin's to its subject; a reseller's to its reseller claim and subject
// together, so two resellers whose tokens share a subject never replay each
// other's answers (a quote's token is a capability).
func idemOf(r *http.Request, body []byte) (ledger.Idem, error) {
	key := r.Header.Get("Idempotency-Key")
	return ledger.Idem{Key: key, Fingerprint: ledger.Fingerprint(r.Method+" "+r.URL.Path, body), Scope: idemScope(r)}, nil
}

// idemScope is the key space of the caller of r (see idemOf).
func idemScope(r *http.Request) string {
	p := principalOf(r.Context())
	switch p.Role {
	case auth.VendorAdmin:
		return string(p.Role) + ":" + p.Subject
	case auth.Reseller:
		return string(p.Role) + ":" + url.QueryEscape(p.Reseller) + ":" + url.QueryEscape(p.Subject)
	}
	return "contract:" + p.Contract
}
