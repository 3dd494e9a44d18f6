package credits

import (
	"context"

	"cloudcredits/core"
	"cloudcredits/core/ledger"
)

// The reads below are what the HTTP layer shows as they are stored. They pass
// through the service so the API has one way to the data: a handler never
// holds a store, and a read that needs a rule (a balance, a report) is
// planned here with core, like a write.

// Contract reads a contract.
func (s *Service) Contract(ctx context.Context, id string) (ledger.Contract, error) {
	return s.store.Contract(ctx, id)
}

// Users returns a contract's users.
func (s *Service) Users(ctx context.Context, contract string) ([]ledger.User, error) {
	return s.store.Users(ctx, contract)
}

// User reads one user of a contract.
func (s *Service) User(ctx context.Context, contract, user string) (ledger.User, error) {
	return s.store.User(ctx, contract, user)
}

// Lots returns every lot of a contract, in any state, ordered by id, read
// page by page (ledger.LotsPageMax a page): a report's or an
// administrative operation's read, never a spend's.
func (s *Service) Lots(ctx context.Context, contract string) ([]ledger.Lot, error) {
	var out []ledger.Lot
	after := ""
	for {
		page, err := s.store.Lots(ctx, contract, after, ledger.LotsPageMax)
		if err != nil {
			return nil, err
		}
		out = append(out, page...)
		if len(page) < ledger.LotsPageMax {
			return out, nil
		}
		after = page[len(page)-1].ID
	}
}

// LotContract returns the contract a lot belongs to.
func (s *Service) LotContract(ctx context.Context, lot string) (string, error) {
	return s.store.LotContract(ctx, lot)
}

// HoldOf reads one hold of a contract (Hold is the mutation that takes one).
func (s *Service) HoldOf(ctx context.Context, contract, id string) (ledger.Hold, error) {
	return s.store.Hold(ctx, contract, id)
}

// Order reads one order of a contract.
func (s *Service) Order(ctx context.Context, contract, id string) (ledger.Order, error) {
	return s.store.Order(ctx, contract, id)
}

// OrderContract returns the contract an order belongs to (payment events
// and mark-paid name an order by id alone).
func (s *Service) OrderContract(ctx context.Context, id string) (string, error) {
	return s.store.OrderContract(ctx, id)
}

// Usage returns a contract's roll-up rows for the months [from, to].
func (s *Service) Usage(ctx context.Context, contract, fromMonth, toMonth string) ([]ledger.Usage, error) {
	return s.store.Usage(ctx, contract, fromMonth, toMonth)
}

// Attempts returns the refused spend attempts recorded for the audit.
func (s *Service) Attempts(ctx context.Context, contract string) ([]ledger.Attempt, error) {
	return s.store.Attempts(ctx, contract)
}

// Notifications returns a contract's newest notifications, oldest first.
func (s *Service) Notifications(ctx context.Context, contract string) ([]ledger.Notification, error) {
	return s.store.Notifications(ctx, contract)
}

// Sunset reads a currency's sunset, or not_found when it has none.
func (s *Service) Sunset(ctx context.Context, cur core.Currency) (ledger.Sunset, error) {
	return s.store.Sunset(ctx, cur)
}
