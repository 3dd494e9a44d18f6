package api

import (
	"net/http"
	"time"

	"cloudcredits/core"
	"cloudcredits/core/ledger"
	"cloudcredits/functions/credits"
)

// holdRoutes registers the routes of holds, their settlement and release.
func (h *Handler) holdRoutes() {
	h.handle(GroupSpending, "POST /v1/contracts/{c}/holds", h.authed(spenders, h.hold))
	h.handle(GroupSpending, "POST /v1/contracts/{c}/holds/{h}/settle", h.authed(spenders, h.settle))
	h.handle(GroupSpending, "POST /v1/contracts/{c}/holds/{h}/release", h.authed(spenders, h.release))
}

func (h *Handler) hold(w http.ResponseWriter, r *http.Request) {
	c := r.PathValue("c")
	h.mutation(w, r, c, http.StatusCreated, false, func(o *object) call {
		req := h.spendRequest(r.Context(), o, c)
		secs := o.integer("expires_in_seconds", false, 1, int64(ledger.HoldTTLMax/time.Second))
		req.HoldFor = time.Duration(secs) * time.Second
		return func(idem ledger.Idem) (credits.Outcome, error) {
			return h.cfg.Credits.Hold(r.Context(), req, idem)
		}
	})
}

func (h *Handler) settle(w http.ResponseWriter, r *http.Request) {
	c, id := r.PathValue("c"), r.PathValue("h")
	h.mutation(w, r, c, http.StatusOK, false, func(o *object) call {
		actual, _ := o.dec("credits", true, false, core.CreditsScaleMax)
		return func(idem ledger.Idem) (credits.Outcome, error) {
			return h.cfg.Credits.Settle(r.Context(), c, id, actual, idem)
		}
	})
}

func (h *Handler) release(w http.ResponseWriter, r *http.Request) {
	c, id := r.PathValue("c"), r.PathValue("h")
	h.mutation(w, r, c, http.StatusOK, true, func(o *object) call {
		return func(idem ledger.Idem) (credits.Outcome, error) {
			return h.cfg.Credits.Release(r.Context(), c, id, idem)
		}
	})
}
