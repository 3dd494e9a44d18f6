package sqlite

import (
	"context"

	"cloudcredits/core/ledger"
)

var _ ledger.EachApplier = (*Store)(nil)

// ApplyEach applies several Txs in one write transaction and one commit:
// each inside its own savepoint, in the order given, so each sees the ones
// before it and a Tx whose condition fails is rolled back alone (its
// *ledger.ConflictError in its place of the answer). Like Apply it returns
// once the outcome is durable, and if the commit fails every Tx fails with
// it. The writer's group commit may add other callers' Txs to the same
// transaction.
func (s *Store) ApplyEach(ctx context.Context, txs []ledger.Tx) []error {
	errs := make([]error, len(txs))
	lowered := make([][]ledger.Write, 0, len(txs))
	at := make([]int, 0, len(txs)) // lowered[j] is txs[at[j]]
	for i, tx := range txs {
		writes, err := lower(tx)
		if err != nil || len(writes) == 0 {
			errs[i] = err
			continue
		}
		lowered, at = append(lowered, writes), append(at, i)
	}
	if len(lowered) == 0 {
		return errs
	}
	for j, err := range s.send(ctx, lowered) {
		errs[at[j]] = err
	}
	return errs
}
