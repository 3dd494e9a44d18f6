package api

import (
	"context"
	"net/http"
	"time"

	"cloudcredits/core"
	"cloudcredits/core/ledger"
	"cloudcredits/functions/auth"
	"cloudcredits/functions/credits"
)

// Currency sunsets (PRODUCT.md, "Checkout and quotes"; core/ledger/sunset.go
// has the rules).
//
// Rules kept here:
//
//   - PUT /v1/currencies/{cur}/sunset is a vendor admin's, idempotent like
//     every mutation; it answers the sunset in force and has ended, before
//     answering, every lot of the currency that would outlive its final
//     expiry (a replay finishes the job if a crash interrupted it).
//   - GET /v1/currencies/{cur}/sunset is open to every authenticated role:
//     a customer needs to know when its credits stop, a reseller when to
//     stop quoting. A currency with no sunset is not_found; an unknown
//     currency too.
//   - salesOpen and currencyEnd read the stored sunset on every order and
//     quote (one GetItem): a vendor admin's change takes effect at once.

// everyRole is every authenticated role.
var everyRole = []auth.Role{auth.VendorAdmin, auth.ContractAdmin, auth.User, auth.Service, auth.Reseller}

// sunsetRoutes registers the sunset routes (api.GroupAdmin).
func (h *Handler) sunsetRoutes() {
	h.handle(GroupAdmin, "PUT /v1/currencies/{cur}/sunset", h.authed(vendorOnly, h.setSunset))
	h.handle(GroupAdmin, "GET /v1/currencies/{cur}/sunset", h.authed(everyRole, h.getSunset))
}

func (h *Handler) setSunset(w http.ResponseWriter, r *http.Request) {
	h.mutation(w, r, "", http.StatusOK, false, func(o *object) call {
		req := ledger.SunsetRequest{SalesEnd: o.when("sales_end", true), FinalExpiry: o.when("final_expiry", true)}
		if s := o.str("successor", false, 16); s != "" {
			c, ok := core.ParseCurrency(s)
			if !ok {
				o.p.Add("successor", "unknown currency %q: use cloud, forma or flex", s)
			}
			req.Successor = c
			if !ok {
				req.Successor = core.Currency(s)
			}
		}
		return func(idem ledger.Idem) (credits.Outcome, error) {
			return h.cfg.Credits.SetSunset(r.Context(), core.Currency(r.PathValue("cur")), req, idem)
		}
	})
}

func (h *Handler) getSunset(w http.ResponseWriter, r *http.Request) {
	cur, ok := core.ParseCurrency(r.PathValue("cur"))
	if !ok {
		writeError(w, r, core.Errorf(core.CodeNotFound, "no currency %q: use cloud, forma or flex", r.PathValue("cur")))
		return
	}
	x, err := h.cfg.Credits.Sunset(r.Context(), cur)
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, x)
}

// salesOpen refuses an order or quote of a currency whose sales have
// stopped at a sunset (sales_closed, 422).
func (h *Handler) salesOpen(ctx context.Context, cur core.Currency, at time.Time) error {
	return h.cfg.Credits.SalesOpen(ctx, cur, at)
}

// currencyEnd is the final expiry of a currency's lots after a sunset
// (zero: none), which caps a purchased lot's expiry. The ledger service
// caps it again from the store when it plans, so a sunset set between the
// two reads still holds.
func (h *Handler) currencyEnd(ctx context.Context, cur core.Currency) (time.Time, error) {
	return h.cfg.Credits.CurrencyEnd(ctx, cur)
}
