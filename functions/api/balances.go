package api

import (
	"net/http"

	"cloudcredits/core"
)

// balanceRoutes registers the routes of balances.
func (h *Handler) balanceRoutes() {
	h.handle(GroupReads, "GET /v1/contracts/{c}/balance", h.authed(contractAdmin, h.balance))
	h.handle(GroupReads, "GET /v1/me/balance", h.authed(usersOnly, h.myBalance))
}

func (h *Handler) balance(w http.ResponseWriter, r *http.Request) {
	c := r.PathValue("c")
	if err := ownContract(r, c); err != nil {
		writeError(w, r, err)
		return
	}
	if _, err := h.cfg.Credits.Contract(r.Context(), c); err != nil {
		writeError(w, r, err)
		return
	}
	b, err := h.cfg.Credits.Balance(r.Context(), c, "")
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, b)
}

func (h *Handler) myBalance(w http.ResponseWriter, r *http.Request) {
	p := principalOf(r.Context())
	u, err := h.cfg.Credits.User(r.Context(), p.Contract, p.Subject)
	if err != nil {
		writeError(w, r, err)
		return
	}
	if !u.Active {
		writeError(w, r, core.Errorf(core.CodeNotFound, "you are no longer a user of contract %s", p.Contract))
		return
	}
	b, err := h.cfg.Credits.UserBalance(r.Context(), p.Contract, p.Subject)
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, b)
}
