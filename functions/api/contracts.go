package api

import (
	"net/http"

	"cloudcredits/core"
	"cloudcredits/core/ledger"
	"cloudcredits/functions/credits"
)

// contractRoutes registers the routes of the contracts, their users, project budgets, lots and notification address.
func (h *Handler) contractRoutes() {
	h.handle(GroupAdmin, "POST /v1/contracts", h.authed(vendorOnly, h.createContract))
	h.handle(GroupAdmin, "POST /v1/contracts/{c}/terminate", h.authed(vendorOnly, h.terminate))
	h.handle(GroupAdmin, "POST /v1/lots/{lot}/withdraw", h.authed(vendorOnly, h.withdraw))
	h.handle(GroupAdmin, "POST /v1/contracts/{c}/users", h.authed(contractAdmin, h.addUser))
	h.handle(GroupAdmin, "DELETE /v1/contracts/{c}/users/{u}", h.authed(contractAdmin, h.removeUser))
	h.handle(GroupAdmin, "PUT /v1/contracts/{c}/projects/{p}/budget", h.authed(contractAdmin, h.setBudget))
	h.handle(GroupAdmin, "PUT /v1/contracts/{c}/notify-email", h.authed(contractAdmin, h.setNotifyEmail))
}

func (h *Handler) createContract(w http.ResponseWriter, r *http.Request) {
	h.mutation(w, r, "", http.StatusCreated, false, func(o *object) call {
		c := ledger.Contract{
			ID:                 o.id("id", true),
			Customer:           o.str("customer", true, 200),
			Entity:             o.id("entity", true),
			CoveredEntities:    o.ids("covered_entities", 100),
			ContractorCoverage: o.boolean("contractor_coverage", false),
			Start:              o.when("start", true),
			End:                o.when("end", false),
			ExtensionMonths:    int(o.integer("extension_months", false, 0, 24)),
			Channel:            o.str("channel", false, 32),
			PlanActive:         o.boolean("plan_active", false),
			NotifyEmail:        o.str("notify_email", false, ledger.NotifyEmailMax),
		}
		if err := ledger.CheckNotifyEmail(c.NotifyEmail); err != nil {
			o.p.Add("notify_email", "%s", err.Error())
		}
		c.MonthlyBaseline, _ = o.dec("monthly_baseline", false, false, core.CreditsScaleMax)
		if c.Channel == "" {
			c.Channel = "list"
		} else if c.Channel != "list" && c.Channel != "reseller" && c.Channel != "eba" {
			o.p.Add("channel", "must be one of list, reseller, eba")
		}
		return func(idem ledger.Idem) (credits.Outcome, error) {
			return h.cfg.Credits.CreateContract(r.Context(), c, idem)
		}
	})
}

func (h *Handler) terminate(w http.ResponseWriter, r *http.Request) {
	c := r.PathValue("c")
	h.mutation(w, r, c, http.StatusOK, true, func(o *object) call {
		at := o.when("at", false)
		return func(idem ledger.Idem) (credits.Outcome, error) {
			return h.cfg.Credits.Terminate(r.Context(), c, at, idem)
		}
	})
}

func (h *Handler) withdraw(w http.ResponseWriter, r *http.Request) {
	lot := r.PathValue("lot")
	h.mutation(w, r, "", http.StatusOK, true, func(o *object) call {
		notice := o.when("notice_at", false)
		return func(idem ledger.Idem) (credits.Outcome, error) {
			contract, err := h.cfg.Credits.LotContract(r.Context(), lot)
			if err != nil {
				return credits.Outcome{}, err
			}
			return h.cfg.Credits.WithdrawLot(r.Context(), contract, lot, notice, idem)
		}
	})
}

func (h *Handler) addUser(w http.ResponseWriter, r *http.Request) {
	c := r.PathValue("c")
	h.mutation(w, r, c, http.StatusCreated, false, func(o *object) call {
		req := ledger.UserRequest{
			User:     o.id("user", true),
			Kind:     ledger.UserKind(o.str("kind", true, 32)),
			Entity:   o.id("entity", true),
			CanSpend: o.boolean("can_spend", false),
		}
		if _, ok := ledger.ParseUserKind(string(req.Kind)); !ok && req.Kind != "" {
			o.p.Add("kind", "must be one of employee, contractor, education, guest")
		}
		return func(idem ledger.Idem) (credits.Outcome, error) {
			return h.cfg.Credits.AddUser(r.Context(), c, req, idem)
		}
	})
}

// setNotifyEmail sets the contract's notification address ("" clears it);
// setting one queues the recent unaddressed notifications to it.
func (h *Handler) setNotifyEmail(w http.ResponseWriter, r *http.Request) {
	c := r.PathValue("c")
	h.mutation(w, r, c, http.StatusOK, false, func(o *object) call {
		if _, ok := o.raw("notify_email"); !ok {
			o.p.Add("notify_email", `is required ("" clears the address)`)
		}
		req := ledger.NotifyEmailRequest{NotifyEmail: o.str("notify_email", false, ledger.NotifyEmailMax)}
		return func(idem ledger.Idem) (credits.Outcome, error) {
			return h.cfg.Credits.SetNotifyEmail(r.Context(), c, req, idem)
		}
	})
}

func (h *Handler) removeUser(w http.ResponseWriter, r *http.Request) {
	c, u := r.PathValue("c"), r.PathValue("u")
	h.mutation(w, r, c, http.StatusOK, true, func(o *object) call {
		return func(idem ledger.Idem) (credits.Outcome, error) {
			return h.cfg.Credits.RemoveUser(r.Context(), c, u, idem)
		}
	})
}

func (h *Handler) setBudget(w http.ResponseWriter, r *http.Request) {
	c, p := r.PathValue("c"), r.PathValue("p")
	h.mutation(w, r, c, http.StatusOK, false, func(o *object) call {
		req := ledger.BudgetRequest{Currency: core.Currency(o.str("currency", true, 16))}
		if _, ok := core.ParseCurrency(string(req.Currency)); !ok && req.Currency != "" {
			o.p.Add("currency", "unknown currency %q: use cloud, forma or flex", req.Currency)
		}
		req.MonthlyCap, _ = o.dec("monthly_cap", true, false, core.CreditsScaleMax)
		if !validID(p) || len(p) > idMax {
			o.p.Add("project", "must be printable ASCII without spaces, '#' or '/'")
		}
		return func(idem ledger.Idem) (credits.Outcome, error) {
			return h.cfg.Credits.SetBudget(r.Context(), c, p, req, idem)
		}
	})
}
