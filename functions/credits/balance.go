package credits

import (
	"context"

	"cloudcredits/core"
	"cloudcredits/core/ledger"
)

// UserBalance is what user may spend of contract's credits now: their
// individual lots and the shared pool, or nothing, with the reason, when
// ledger.SpendRefusal says they may spend none (an education or guest
// identity, no permission to spend, a contractor without coverage, a
// removed user, an ended contract).
func (s *Service) UserBalance(ctx context.Context, contract, user string) (BalanceResult, error) {
	c, err := s.store.Contract(ctx, contract)
	if err != nil {
		return BalanceResult{}, err
	}
	u, err := s.store.User(ctx, contract, user)
	if err != nil {
		return BalanceResult{}, err
	}
	if reason, message := ledger.SpendRefusal(c, &u, s.Now().UTC()); reason != "" {
		return BalanceResult{Balances: map[core.Currency]ledger.BalanceView{}, Lots: []LotView{},
			Refused: &BalanceRefusal{Reason: reason, Message: message}}, nil
	}
	return s.Balance(ctx, contract, user)
}

// BalanceRefusal is why a user may spend nothing.
type BalanceRefusal struct {
	Reason  string `json:"reason"`
	Message string `json:"message"`
}
