package credits

import (
	"context"
	"time"

	"cloudcredits/core"
	"cloudcredits/core/ledger"
)

// Replay answers a mutating request from the record its idempotency key
// already has, without planning anything: ok is true with the first answer
// when the same request was made before, and the same key with another
// request is idempotency_key_reused. Checkout asks this before opening a
// payment session, so a retried order opens none.
func (s *Service) Replay(ctx context.Context, contract string, idem ledger.Idem) (Outcome, bool, error) {
	if err := ledger.CheckIdem(idem.Key); err != nil {
		return Outcome{}, false, err
	}
	at := s.now(ctx)
	r, ok, err := s.store.Idempotency(ctx, idem.ScopeOr(contract), idem.Key, at)
	if err != nil {
		return Outcome{}, false, err
	}
	var prior *ledger.IdempotencyRecord
	if ok {
		prior = &r
	}
	d, replayed, err := ledger.Replay(prior, idem, at)
	if err != nil || !replayed {
		return Outcome{}, false, err
	}
	return Outcome{Body: d.Response, Replayed: true}, true, nil
}

// CreateOrder records a new pending order, priced by the caller with the
// server's price book, once per idempotency key. Its id is
// ledger.OrderID(scope, key), so an order that exists without a live record
// for the key (the record expired, and the key was used again) is refused as
// a conflict rather than retried.
func (s *Service) CreateOrder(ctx context.Context, contract string, o ledger.Order, idem ledger.Idem) (Outcome, error) {
	return mutate(ctx, s, contract, idem, "order", []any{contract, o}, s.readContract(ctx, contract),
		func(c ledger.Contract, t try) (ledger.Decision, error) {
			if t.prior == nil {
				switch _, err := s.store.Order(ctx, contract, o.ID); {
				case err == nil:
					// A concurrent twin of this request may have written it since
					// the key was read: answer from its record if so.
					r, ok, err := s.store.Idempotency(ctx, t.idem.ScopeOr(contract), t.idem.Key, t.env.At)
					if err != nil {
						return ledger.Decision{}, err
					}
					if ok {
						d, _, err := ledger.Replay(&r, t.idem, t.env.At)
						return d, err
					}
					return ledger.Decision{}, core.Errorf(core.CodeConflict, "order %s already exists", o.ID)
				case core.ErrorCode(err) != core.CodeNotFound:
					return ledger.Decision{}, err
				}
			}
			return ledger.PlanCreateOrder(c, o, t.prior, t.idem, t.env)
		})
}

// Fulfil marks a paid order fulfilled and creates its shared lot, exactly
// once however often (and however concurrently) it is called: the payment
// provider delivers its event at least once. A fulfilled order answers with
// itself; a cancelled one is a conflict. currencyEnd is the currency's final
// expiry after a sales sunset (zero: none). It carries no idempotency key:
// the order's status condition is what makes it happen once.
func (s *Service) Fulfil(ctx context.Context, contract, orderID string, currencyEnd time.Time) (Outcome, error) {
	return s.runSystem(ctx, contract, func(env ledger.Env) (ledger.Decision, error) {
		p, err := s.readPaidOrder(ctx, contract, orderID, currencyEnd)
		if err != nil {
			return ledger.Decision{}, err
		}
		return guarded(p.guard)(ledger.PlanFulfil(p.contract, p.order, p.end, env))
	})
}

// MarkPaid is a vendor admin marking an invoice/PO order paid, which fulfils
// it as Fulfil does; the request's idempotency key makes a retry answer the
// first result.
func (s *Service) MarkPaid(ctx context.Context, contract, orderID string, currencyEnd time.Time, idem ledger.Idem) (Outcome, error) {
	return mutate(ctx, s, contract, idem, "mark-paid", []any{contract, orderID},
		func(try) (paidOrder, error) { return s.readPaidOrder(ctx, contract, orderID, currencyEnd) },
		func(p paidOrder, t try) (ledger.Decision, error) {
			return guarded(p.guard)(ledger.PlanMarkPaid(p.contract, p.order, p.end, t.prior, t.idem, t.env))
		})
}

// CancelOrder cancels a pending order (its checkout session expired); any
// other order is answered as it is.
func (s *Service) CancelOrder(ctx context.Context, contract, orderID string) (Outcome, error) {
	return s.runSystem(ctx, contract, func(env ledger.Env) (ledger.Decision, error) {
		o, err := s.store.Order(ctx, contract, orderID)
		if err != nil {
			return ledger.Decision{}, err
		}
		return ledger.PlanCancelOrder(o, env)
	})
}

// Orders returns a contract's orders, oldest first.
func (s *Service) Orders(ctx context.Context, contract string) ([]ledger.Order, error) {
	return s.store.Orders(ctx, contract)
}

// paidOrder is what fulfilling an order plans with: the order, its
// contract, and the end of the lot it makes with that end's guard (lotEnd).
type paidOrder struct {
	contract ledger.Contract
	order    ledger.Order
	end      time.Time
	guard    ledger.SunsetIs
}

func (s *Service) readPaidOrder(ctx context.Context, contract, orderID string, currencyEnd time.Time) (paidOrder, error) {
	var p paidOrder
	var err error
	if p.order, err = s.store.Order(ctx, contract, orderID); err != nil {
		return p, err
	}
	if p.contract, err = s.store.Contract(ctx, contract); err != nil {
		return p, err
	}
	p.end, p.guard, err = s.lotEnd(ctx, p.order.Currency, currencyEnd)
	return p, err
}
