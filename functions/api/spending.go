package api

import (
	"context"
	"encoding/json"
	"net/http"

	"cloudcredits/core"
	"cloudcredits/core/ledger"
	"cloudcredits/core/rates"
	"cloudcredits/functions/credits"
)

// spendingRoutes registers the routes of consumptions and refunds.
func (h *Handler) spendingRoutes() {
	h.handle(GroupSpending, "POST /v1/contracts/{c}/consumptions", h.authed(spenders, h.consume))
	h.handleLarge(GroupSpending, "POST /v1/contracts/{c}/consumptions/batch", BatchBodyMax, h.authed(spenders, h.consumeBatch))
	h.handle(GroupSpending, "POST /v1/contracts/{c}/consumptions/{id}/refund", h.authed(spenders, h.refund))
}

// spendRequest parses the body of a consumption or a hold: the job is priced
// with the rate card in effect now (params), or its credits are given
// directly; either way the service's rate names the currency.
func (h *Handler) spendRequest(ctx context.Context, o *object, contract string) ledger.SpendRequest {
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
	card, err := h.cfg.Rates.At(h.now(ctx))
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
	h.mutation(w, r, c, http.StatusCreated, false, func(o *object) call {
		req := h.spendRequest(r.Context(), o, c)
		return func(idem ledger.Idem) (credits.Outcome, error) {
			return h.cfg.Credits.Consume(r.Context(), req, idem)
		}
	})
}

func (h *Handler) refund(w http.ResponseWriter, r *http.Request) {
	c, id := r.PathValue("c"), r.PathValue("id")
	h.mutation(w, r, c, http.StatusOK, true, func(o *object) call {
		amount, _ := o.dec("credits", false, true, core.CreditsScaleMax)
		return func(idem ledger.Idem) (credits.Outcome, error) {
			return h.cfg.Credits.Refund(r.Context(), c, id, amount, idem)
		}
	})
}
