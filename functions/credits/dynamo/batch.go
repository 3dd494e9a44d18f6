package dynamo

import (
	"context"
	"fmt"
	"sync"

	"cloudcredits/core/ledger"
)

// ApplyEachConcurrencyMax bounds the transactions one ApplyEach has in
// flight at once.
const ApplyEachConcurrencyMax = 16

var _ ledger.EachApplier = (*Store)(nil)

// ApplyEach applies each Tx as its own TransactWriteItems (as Apply does),
// at most ApplyEachConcurrencyMax at once, and returns each one's outcome
// in the order given. A Tx that writes an item an earlier Tx of the call
// also writes (a lot both debit, the usage row of one user and service)
// starts only once that one has finished: DynamoDB cancels a transaction
// that meets another in flight on one of its items, so the call's own
// Txs never cancel each other, and they reach each item in the order given.
func (s *Store) ApplyEach(ctx context.Context, txs []ledger.Tx) []error {
	errs := make([]error, len(txs))
	after := make([][]int, len(txs)) // the earlier Txs each one waits for
	done := make([]chan struct{}, len(txs))
	last := map[string]int{} // item key → the last Tx that writes it
	for i, tx := range txs {
		done[i] = make(chan struct{})
		keys, err := s.itemKeys(tx)
		if err != nil {
			errs[i] = err
			close(done[i])
			continue
		}
		for _, k := range keys {
			if j, ok := last[k]; ok && j != i {
				after[i] = append(after[i], j)
			}
			last[k] = i
		}
	}
	sem := make(chan struct{}, ApplyEachConcurrencyMax)
	var wg sync.WaitGroup
	for i := range txs {
		if errs[i] != nil {
			continue
		}
		wg.Go(func() {
			defer close(done[i])
			for _, j := range after[i] {
				<-done[j]
			}
			sem <- struct{}{}
			defer func() { <-sem }()
			errs[i] = s.Apply(ctx, txs[i])
		})
	}
	wg.Wait()
	return errs
}

// itemKeys lists the items tx writes, as Apply would build its transaction.
func (s *Store) itemKeys(tx ledger.Tx) ([]string, error) {
	if len(tx.Ops) == 0 {
		return nil, nil
	}
	lowered, err := tx.Writes()
	if err != nil {
		return nil, fmt.Errorf("dynamo: refusing a transaction that breaks a ledger invariant: %w", err)
	}
	writes, err := s.plan(lowered, 0, nil)
	if err != nil {
		return nil, err
	}
	keys := make([]string, 0, len(writes))
	for _, w := range writes {
		var it item
		switch {
		case w.item.Put != nil:
			it = w.item.Put.Item
		case w.item.Update != nil:
			it = w.item.Update.Key
		case w.item.ConditionCheck != nil:
			it = w.item.ConditionCheck.Key
		case w.item.Delete != nil:
			it = w.item.Delete.Key
		}
		keys = append(keys, keyText(it, AttrPK)+"\x00"+keyText(it, AttrSK))
	}
	return keys, nil
}
