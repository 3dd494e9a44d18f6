package credits

import (
	"context"

	"cloudcredits/core"
	"cloudcredits/core/ledger"
)

// AcceptQuote records the order made from a verified quote and the quote's
// acceptance in one Tx, once per idempotency key and once per quote: of two
// concurrent accepts one makes the order and the other, on re-planning,
// reads the acceptance and is answered quote_already_accepted. The caller
// has verified the quote (signature, expiry, contract) and priced o from it.
func (s *Service) AcceptQuote(ctx context.Context, contract string, o ledger.Order, idem ledger.Idem) (Outcome, error) {
	return mutate(ctx, s, contract, idem, "accept-quote", []any{contract, o}, s.readContract(ctx, contract),
		func(c ledger.Contract, t try) (ledger.Decision, error) {
			accepted, err := s.QuoteAcceptance(ctx, o.Quote)
			if err != nil {
				return ledger.Decision{}, err
			}
			if t.prior == nil && accepted == nil {
				switch _, err := s.store.Order(ctx, contract, o.ID); {
				case err == nil:
					return ledger.Decision{}, core.Errorf(core.CodeConflict, "order %s already exists", o.ID)
				case core.ErrorCode(err) != core.CodeNotFound:
					return ledger.Decision{}, err
				}
			}
			return ledger.PlanAcceptQuote(c, o, accepted, t.prior, t.idem, t.env)
		})
}

// QuoteAcceptance returns a quote's acceptance, or nil when it has none.
func (s *Service) QuoteAcceptance(ctx context.Context, quoteID string) (*ledger.QuoteAcceptance, error) {
	return found(s.store.QuoteAcceptance(ctx, quoteID))
}

// Record stores result (made outside the ledger, such as a signed quote) as
// the answer to idem's key in idem's scope, so a retry answers it byte for
// byte; a concurrent twin that recorded first is answered with its result.
func (s *Service) Record(ctx context.Context, result any, idem ledger.Idem) (Outcome, error) {
	if idem.Scope == "" {
		return Outcome{}, core.Errorf(core.CodeInternal, "credits: Record needs an idempotency scope")
	}
	return s.run(ctx, idem.Scope, idem, func(env ledger.Env, prior *ledger.IdempotencyRecord) (ledger.Decision, error) {
		return ledger.PlanRecord(idem.Scope, result, prior, idem, env)
	})
}
