package api

import (
	"encoding/json"
	"net/http"
	"time"

	"cloudcredits/core"
	"cloudcredits/core/ledger"
	"cloudcredits/core/rates"
	"cloudcredits/functions/auth"
	"cloudcredits/functions/credits"

	"github.com/shopspring/decimal"
)

var (
	vendorOnly    = []auth.Role{auth.VendorAdmin}
	contractAdmin = []auth.Role{auth.ContractAdmin, auth.VendorAdmin}
	spenders      = []auth.Role{auth.Service}
	usersOnly     = []auth.Role{auth.User}
)

func (h *Handler) ledgerRoutes() {
	h.handle(GroupAdmin, "POST /v1/contracts", h.authed(vendorOnly, h.createContract))
	h.handle(GroupAdmin, "POST /v1/contracts/{c}/terminate", h.authed(vendorOnly, h.terminate))
	h.handle(GroupAdmin, "POST /v1/lots/{lot}/withdraw", h.authed(vendorOnly, h.withdraw))
	h.handle(GroupAdmin, "POST /v1/contracts/{c}/users", h.authed(contractAdmin, h.addUser))
	h.handle(GroupAdmin, "DELETE /v1/contracts/{c}/users/{u}", h.authed(contractAdmin, h.removeUser))
	h.handle(GroupAdmin, "PUT /v1/contracts/{c}/projects/{p}/budget", h.authed(contractAdmin, h.setBudget))
	h.handle(GroupAdmin, "PUT /v1/contracts/{c}/notify-email", h.authed(contractAdmin, h.setNotifyEmail))
	h.handle(GroupReads, "GET /v1/contracts/{c}/balance", h.authed(contractAdmin, h.balance))
	h.handle(GroupSpending, "POST /v1/contracts/{c}/consumptions", h.authed(spenders, h.consume))
	h.handle(GroupSpending, "POST /v1/contracts/{c}/holds", h.authed(spenders, h.hold))
	h.handle(GroupSpending, "POST /v1/contracts/{c}/holds/{h}/settle", h.authed(spenders, h.settle))
	h.handle(GroupSpending, "POST /v1/contracts/{c}/holds/{h}/release", h.authed(spenders, h.release))
	h.handle(GroupSpending, "POST /v1/contracts/{c}/consumptions/{id}/refund", h.authed(spenders, h.refund))
	h.handle(GroupReads, "GET /v1/me/balance", h.authed(usersOnly, h.myBalance))
	h.orderRoutes()
	h.governanceRoutes()
	h.sunsetRoutes()
}

// mutation is the shape every mutating route shares: read the body, check
// the contract scope and the idempotency key, parse, run, and answer with
// the stored result (a replay is marked Idempotent-Replayed: true).
func (h *Handler) mutation(w http.ResponseWriter, r *http.Request, contract string, status int, allowEmpty bool,
	run func(o *object, idem ledger.Idem) (credits.Outcome, error)) {
	body, err := readBody(w, r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	if contract != "" {
		if err := ownContract(r, contract); err != nil {
			writeError(w, r, err)
			return
		}
	}
	idem, err := idemOf(r, body)
	if err != nil {
		writeError(w, r, err)
		return
	}
	o, err := parseObject(body, allowEmpty)
	if err != nil {
		writeError(w, r, err)
		return
	}
	out, err := run(o, idem)
	if err != nil {
		writeError(w, r, err)
		return
	}
	if out.Replayed {
		w.Header().Set("Idempotent-Replayed", "true")
	}
	writeRaw(w, status, out.Body)
}

func (h *Handler) createContract(w http.ResponseWriter, r *http.Request) {
	h.mutation(w, r, "", http.StatusCreated, false, func(o *object, idem ledger.Idem) (credits.Outcome, error) {
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
		if err := o.done(); err != nil {
			return credits.Outcome{}, err
		}
		return h.cfg.Ledger.CreateContract(r.Context(), c, idem)
	})
}

func (h *Handler) terminate(w http.ResponseWriter, r *http.Request) {
	c := r.PathValue("c")
	h.mutation(w, r, c, http.StatusOK, true, func(o *object, idem ledger.Idem) (credits.Outcome, error) {
		at := o.when("at", false)
		if err := o.done(); err != nil {
			return credits.Outcome{}, err
		}
		return h.cfg.Ledger.Terminate(r.Context(), c, at, idem)
	})
}

func (h *Handler) withdraw(w http.ResponseWriter, r *http.Request) {
	lot := r.PathValue("lot")
	h.mutation(w, r, "", http.StatusOK, true, func(o *object, idem ledger.Idem) (credits.Outcome, error) {
		notice := o.when("notice_at", false)
		if err := o.done(); err != nil {
			return credits.Outcome{}, err
		}
		contract, err := h.cfg.Ledger.Store.LotContract(r.Context(), lot)
		if err != nil {
			return credits.Outcome{}, err
		}
		return h.cfg.Ledger.WithdrawLot(r.Context(), contract, lot, notice, idem)
	})
}

func (h *Handler) addUser(w http.ResponseWriter, r *http.Request) {
	c := r.PathValue("c")
	h.mutation(w, r, c, http.StatusCreated, false, func(o *object, idem ledger.Idem) (credits.Outcome, error) {
		req := ledger.UserRequest{
			User:     o.id("user", true),
			Kind:     ledger.UserKind(o.str("kind", true, 32)),
			Entity:   o.id("entity", true),
			CanSpend: o.boolean("can_spend", false),
		}
		if _, ok := ledger.ParseUserKind(string(req.Kind)); !ok && req.Kind != "" {
			o.p.Add("kind", "must be one of employee, contractor, education, guest")
		}
		if err := o.done(); err != nil {
			return credits.Outcome{}, err
		}
		return h.cfg.Ledger.AddUser(r.Context(), c, req, idem)
	})
}

// setNotifyEmail sets the contract's notification address ("" clears it);
// setting one queues the recent unaddressed notifications to it.
func (h *Handler) setNotifyEmail(w http.ResponseWriter, r *http.Request) {
	c := r.PathValue("c")
	h.mutation(w, r, c, http.StatusOK, false, func(o *object, idem ledger.Idem) (credits.Outcome, error) {
		if _, ok := o.raw("notify_email"); !ok {
			o.p.Add("notify_email", `is required ("" clears the address)`)
		}
		req := ledger.NotifyEmailRequest{NotifyEmail: o.str("notify_email", false, ledger.NotifyEmailMax)}
		if err := o.done(); err != nil {
			return credits.Outcome{}, err
		}
		return h.cfg.Ledger.SetNotifyEmail(r.Context(), c, req, idem)
	})
}

func (h *Handler) removeUser(w http.ResponseWriter, r *http.Request) {
	c, u := r.PathValue("c"), r.PathValue("u")
	h.mutation(w, r, c, http.StatusOK, true, func(o *object, idem ledger.Idem) (credits.Outcome, error) {
		if err := o.done(); err != nil {
			return credits.Outcome{}, err
		}
		return h.cfg.Ledger.RemoveUser(r.Context(), c, u, idem)
	})
}

func (h *Handler) setBudget(w http.ResponseWriter, r *http.Request) {
	c, p := r.PathValue("c"), r.PathValue("p")
	h.mutation(w, r, c, http.StatusOK, false, func(o *object, idem ledger.Idem) (credits.Outcome, error) {
		req := ledger.BudgetRequest{Currency: core.Currency(o.str("currency", true, 16))}
		if _, ok := core.ParseCurrency(string(req.Currency)); !ok && req.Currency != "" {
			o.p.Add("currency", "unknown currency %q: use cloud, forma or flex", req.Currency)
		}
		req.MonthlyCap, _ = o.dec("monthly_cap", true, false, core.CreditsScaleMax)
		if !validID(p) || len(p) > idMax {
			o.p.Add("project", "must be printable ASCII without spaces, '#' or '/'")
		}
		if err := o.done(); err != nil {
			return credits.Outcome{}, err
		}
		return h.cfg.Ledger.SetBudget(r.Context(), c, p, req, idem)
	})
}

// spendRequest parses the body of a consumption or a hold: the job is priced
// with the rate card in effect now (params), or its credits are given
// directly; either way the service's rate names the currency.
func (h *Handler) spendRequest(o *object, contract string) ledger.SpendRequest {
	req := ledger.SpendRequest{
		Contract: contract,
		User:     o.id("user", true),
		Entity:   o.id("entity", true),
		Project:  o.id("project", false),
		Service:  o.id("service", true),
	}
	given, hasCredits := o.dec("credits", false, true, core.CreditsScaleMax)
	params, hasParams := o.rawField("params")
	if hasCredits && hasParams {
		o.p.Add("credits", "give either params (to price the job) or credits, not both")
	}
	if req.Service == "" {
		return req
	}
	card, err := h.cfg.Rates.At(h.cfg.Now())
	if err != nil {
		o.p.Add("service", "no rate card is in effect")
		return req
	}
	svc, ok := card.Service(req.Service)
	if !ok {
		o.p.Add("service", "unknown service %q", req.Service)
		return req
	}
	req.Currency = svc.Currency
	if hasCredits {
		req.Credits = given
		return req
	}
	if !hasParams {
		params = json.RawMessage(`{}`)
	}
	body, _ := json.Marshal(map[string]json.RawMessage{"service": mustJSON(req.Service), "params": params})
	er, err := rates.ParseEstimateRequest(body)
	if err == nil && len(er.Items) == 1 {
		var est rates.Estimate
		if est, err = card.Estimate(er.Items[0].Service, er.Items[0].Params, nil); err == nil {
			req.Credits = est.Credits
			if est.Credits.IsZero() {
				o.p.Add("service", "service %s is included: it costs no credits and needs no consumption", req.Service)
			}
			return req
		}
	}
	o.p.Merge("", err)
	return req
}

func (h *Handler) consume(w http.ResponseWriter, r *http.Request) {
	c := r.PathValue("c")
	h.mutation(w, r, c, http.StatusCreated, false, func(o *object, idem ledger.Idem) (credits.Outcome, error) {
		req := h.spendRequest(o, c)
		if err := o.done(); err != nil {
			return credits.Outcome{}, err
		}
		return h.cfg.Ledger.Consume(r.Context(), req, idem)
	})
}

func (h *Handler) hold(w http.ResponseWriter, r *http.Request) {
	c := r.PathValue("c")
	h.mutation(w, r, c, http.StatusCreated, false, func(o *object, idem ledger.Idem) (credits.Outcome, error) {
		req := h.spendRequest(o, c)
		secs := o.integer("expires_in_seconds", false, 1, int64(ledger.HoldTTLMax/time.Second))
		req.HoldFor = time.Duration(secs) * time.Second
		if err := o.done(); err != nil {
			return credits.Outcome{}, err
		}
		return h.cfg.Ledger.Hold(r.Context(), req, idem)
	})
}

func (h *Handler) settle(w http.ResponseWriter, r *http.Request) {
	c, id := r.PathValue("c"), r.PathValue("h")
	h.mutation(w, r, c, http.StatusOK, false, func(o *object, idem ledger.Idem) (credits.Outcome, error) {
		actual, _ := o.dec("credits", true, false, core.CreditsScaleMax)
		if err := o.done(); err != nil {
			return credits.Outcome{}, err
		}
		return h.cfg.Ledger.Settle(r.Context(), c, id, actual, idem)
	})
}

func (h *Handler) release(w http.ResponseWriter, r *http.Request) {
	c, id := r.PathValue("c"), r.PathValue("h")
	h.mutation(w, r, c, http.StatusOK, true, func(o *object, idem ledger.Idem) (credits.Outcome, error) {
		if err := o.done(); err != nil {
			return credits.Outcome{}, err
		}
		return h.cfg.Ledger.Release(r.Context(), c, id, idem)
	})
}

func (h *Handler) refund(w http.ResponseWriter, r *http.Request) {
	c, id := r.PathValue("c"), r.PathValue("id")
	h.mutation(w, r, c, http.StatusOK, true, func(o *object, idem ledger.Idem) (credits.Outcome, error) {
		amount, _ := o.dec("credits", false, true, core.CreditsScaleMax)
		if err := o.done(); err != nil {
			return credits.Outcome{}, err
		}
		return h.cfg.Ledger.Refund(r.Context(), c, id, amount, idem)
	})
}

func (h *Handler) balance(w http.ResponseWriter, r *http.Request) {
	c := r.PathValue("c")
	if err := ownContract(r, c); err != nil {
		writeError(w, r, err)
		return
	}
	if _, err := h.cfg.Ledger.Store.Contract(r.Context(), c); err != nil {
		writeError(w, r, err)
		return
	}
	b, err := h.cfg.Ledger.Balance(r.Context(), c, "")
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, b)
}

func (h *Handler) myBalance(w http.ResponseWriter, r *http.Request) {
	p := principalOf(r.Context())
	u, err := h.cfg.Ledger.Store.User(r.Context(), p.Contract, p.Subject)
	if err != nil {
		writeError(w, r, err)
		return
	}
	if !u.Active {
		writeError(w, r, core.Errorf(core.CodeNotFound, "you are no longer a user of contract %s", p.Contract))
		return
	}
	b, err := h.cfg.Ledger.Balance(r.Context(), p.Contract, p.Subject)
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, b)
}

func mustJSON(v any) json.RawMessage {
	b, _ := json.Marshal(v)
	return b
}

var _ = decimal.Zero
