package storetest

import (
	"testing"
	"time"

	"cloudcredits/core"
	"cloudcredits/core/ledger"

	"github.com/shopspring/decimal"
)

// refusalWorld is a contract with something of everything: alice's
// individual lot, a cloud pool, a forma pool, a project budget, an open hold
// and a consumption made under a known key.
type refusalWorld struct {
	hold        ledger.HoldResult
	consumption ledger.ConsumeResult
	key         ledger.Idem
}

func newRefusalWorld(h *harness) refusalWorld {
	h.contract()
	h.employee("acme", "alice")
	h.grant("acme", "pool", "200")
	h.grant("acme", "forma-pool", "500", currency(core.Forma))
	h.budget("acme", "bridge", "50")
	w := refusalWorld{key: h.key()}
	w.hold = h.hold(req("alice", "10", holdFor(time.Hour)))
	c, err := h.tryConsume(req("alice", "20", project("bridge")), w.key)
	if err != nil {
		h.t.Fatal(err)
	}
	w.consumption = c
	return w
}

func refusalSpecs() []spec {
	consume := func(r ledger.SpendRequest) func(h *harness, w refusalWorld) error {
		return func(h *harness, w refusalWorld) error { _, err := h.svc.Consume(h.ctx, r, h.key()); return err }
	}
	hold := func(r ledger.SpendRequest) func(h *harness, w refusalWorld) error {
		return func(h *harness, w refusalWorld) error { _, err := h.svc.Hold(h.ctx, r, h.key()); return err }
	}
	cases := []struct {
		name string
		code core.Code
		call func(h *harness, w refusalWorld) error
	}{
		{"insufficient credits", core.CodeInsufficientCredits, consume(req("alice", "1000"))},
		{"insufficient credits for a hold", core.CodeInsufficientCredits, hold(req("alice", "1000"))},
		{"budget exceeded", core.CodeBudgetExceeded, consume(req("alice", "31", project("bridge")))},
		{"budget exceeded by a hold", core.CodeBudgetExceeded, hold(req("alice", "31", project("bridge")))},
		{"currency mismatch", core.CodeCurrencyMismatch, consume(req("alice", "10", func(r *ledger.SpendRequest) { r.Currency = core.Flex }))},
		{"idempotency key reused with another body", core.CodeIdempotencyKeyReused, func(h *harness, w refusalWorld) error {
			_, err := h.svc.Consume(h.ctx, req("alice", "21", project("bridge")), w.key)
			return err
		}},
		{"idempotency key of a consumption reused to settle", core.CodeIdempotencyKeyReused, func(h *harness, w refusalWorld) error {
			_, err := h.svc.Settle(h.ctx, "acme", w.hold.HoldID, d("5"), w.key)
			return err
		}},
		{"idempotency key of a consumption reused to refund", core.CodeIdempotencyKeyReused, func(h *harness, w refusalWorld) error {
			_, err := h.svc.Refund(h.ctx, "acme", w.consumption.ConsumptionID, d("5"), w.key)
			return err
		}},
		{"hold expired", core.CodeHoldExpired, func(h *harness, w refusalWorld) error {
			h.clk.Set(w.hold.ExpiresAt)
			_, err := h.settle("acme", w.hold.HoldID, "5")
			return err
		}},
		{"idempotency key missing", core.CodeIdempotencyKeyMissing, func(h *harness, w refusalWorld) error {
			_, err := h.svc.Consume(h.ctx, req("alice", "1"), ledger.Idem{})
			return err
		}},
		{"invalid: zero credits", core.CodeInvalidRequest, consume(req("alice", "0"))},
		{"invalid: negative credits", core.CodeInvalidRequest, consume(req("alice", "-5"))},
		{"invalid: seven decimal places", core.CodeInvalidRequest, consume(req("alice", "0.0000001"))},
		{"invalid: unknown currency", core.CodeInvalidRequest, consume(req("alice", "1", func(r *ledger.SpendRequest) { r.Currency = "gold" }))},
		{"invalid: missing user", core.CodeInvalidRequest, consume(req("", "1"))},
		{"invalid: entity with a slash", core.CodeInvalidRequest, consume(req("alice", "1", func(r *ledger.SpendRequest) { r.Entity = "acme/us" }))},
		{"invalid: hold longer than the maximum", core.CodeInvalidRequest, hold(req("alice", "1", holdFor(ledger.HoldTTLMax+time.Second)))},
		{"invalid: negative settlement", core.CodeInvalidRequest, func(h *harness, w refusalWorld) error {
			_, err := h.settle("acme", w.hold.HoldID, "-1")
			return err
		}},
		{"invalid: refund above the consumption", core.CodeInvalidRequest, func(h *harness, w refusalWorld) error {
			_, err := h.refund("acme", w.consumption.ConsumptionID, "20.5")
			return err
		}},
		{"invalid: negative refund", core.CodeInvalidRequest, func(h *harness, w refusalWorld) error {
			_, err := h.svc.Refund(h.ctx, "acme", w.consumption.ConsumptionID, decimal.NewFromInt(-1), h.key())
			return err
		}},
		{"not found: settling a hold that does not exist", core.CodeNotFound, func(h *harness, w refusalWorld) error {
			_, err := h.settle("acme", "no-such-hold", "1")
			return err
		}},
		{"not found: refunding a consumption that does not exist", core.CodeNotFound, func(h *harness, w refusalWorld) error {
			_, err := h.refund("acme", "no-such-consumption", "1")
			return err
		}},
		{"not found: spending on a contract that does not exist", core.CodeNotFound, consume(req("alice", "1", in("nowhere")))},
	}
	var specs []spec
	for _, c := range cases {
		specs = append(specs, spec{"a refused request changes nothing: " + c.name, func(t *testing.T, h *harness) {
			w := newRefusalWorld(h)
			before := h.dump()
			err := c.call(h, w)
			wantCode(t, err, c.code)
			h.unchanged(t, c.name, before)
			if n := len(h.attempts("acme")); n != 0 {
				t.Errorf("%d attempts recorded; only not_eligible refusals are recorded", n)
			}
		}})
	}
	return specs
}
