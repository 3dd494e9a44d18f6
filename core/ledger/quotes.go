package ledger

import (
	"time"

	"cloudcredits/core"
)

// QuoteAcceptance records that a signed quote was accepted: by which
// contract, with which order. There is at most one per quote id — what makes
// a quote link "accepted once" (PRODUCT.md).
type QuoteAcceptance struct {
	QuoteID    string    `json:"quote_id"`
	Contract   string    `json:"contract"`
	Order      string    `json:"order_id"`
	AcceptedAt time.Time `json:"accepted_at"`
}

// PutQuoteAcceptance records a quote's acceptance. Condition: no acceptance
// of that quote id exists. Planned in the same Tx as the PutOrder it names,
// so two concurrent accepts make one order and one conflict.
type PutQuoteAcceptance struct{ Acceptance QuoteAcceptance }

func (PutQuoteAcceptance) isOp() {}

// AlreadyAccepted is the error for accepting a quote a second time. The
// order is named only to the contract that accepted it.
func AlreadyAccepted(a QuoteAcceptance, contract string) error {
	e := core.Errorf(core.CodeQuoteAlreadyAccepted, "quote %s was already accepted on %s", a.QuoteID, a.AcceptedAt.UTC().Format(time.RFC3339)).
		WithDetail("quote_id", a.QuoteID)
	if a.Contract == contract {
		e = e.WithDetail("order_id", a.Order)
	}
	return e
}

// PlanAcceptQuote records a new pending order made from a verified quote
// (o carries the quote's price and o.Quote its id) together with the quote's
// acceptance, once per idempotency key. accepted is the quote's acceptance
// as read (nil: none): a quote already accepted is quote_already_accepted,
// and the acceptance's create-if-absent condition refuses the loser of a
// race that read none. The quote's validity (signature, expiry, contract) is
// the caller's to check before planning.
func PlanAcceptQuote(c Contract, o Order, accepted *QuoteAcceptance, prior *IdempotencyRecord, idem Idem, env Env) (Decision, error) {
	return idempotent(c.ID, idem, prior, env, func() (Tx, any, error) {
		if o.Quote == "" {
			return Tx{}, nil, core.Invalid("quote_id", "an order made from a quote names the quote")
		}
		if accepted != nil {
			return Tx{}, nil, AlreadyAccepted(*accepted, c.ID)
		}
		if err := CanBuy(c, env.At); err != nil {
			return Tx{}, nil, err
		}
		o.Contract, o.Status, o.CreatedAt = c.ID, OrderPending, env.At
		o.Lot, o.PaidAt, o.FulfilledAt, o.CancelledAt = "", time.Time{}, time.Time{}, time.Time{}
		if err := CheckOrder(o); err != nil {
			return Tx{}, nil, err
		}
		return Tx{Ops: []Op{
			PutOrder{Order: o},
			PutQuoteAcceptance{Acceptance: QuoteAcceptance{QuoteID: o.Quote, Contract: c.ID, Order: o.ID, AcceptedAt: env.At}},
		}}, o, nil
	})
}

// PlanRecord stores a result made outside the ledger (a signed quote) as
// the answer to its idempotency key, so a retried request answers it again
// byte for byte. It writes nothing else.
func PlanRecord(scope string, result any, prior *IdempotencyRecord, idem Idem, env Env) (Decision, error) {
	return idempotent(scope, idem, prior, env, func() (Tx, any, error) { return Tx{}, result, nil })
}
