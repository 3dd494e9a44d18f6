package credits

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"cloudcredits/core"
	"cloudcredits/core/ledger"
)

// Limits of a batch of consumptions.
const (
	// BatchItemsMax bounds the items of one batch (API.md: 1–1,000).
	BatchItemsMax = 1000
	// BatchConcurrencyMax bounds the reads, applies and lone retries one
	// batch runs at once.
	BatchConcurrencyMax = 16
)

// BatchItem is one consumption of a batch, with its own idempotency key.
type BatchItem struct {
	Req  ledger.SpendRequest
	Idem ledger.Idem
	// Refused is the caller's refusal of the item (a malformed item): it is
	// the item's answer, and nothing is planned for it. Its key still counts
	// against a duplicate later in the batch.
	Refused error
}

// BatchResult is one item's answer: its Outcome (a replay is marked
// Replayed) or its error, exactly as ConsumeBatch's single counterpart,
// Consume, would have answered the item alone.
type BatchResult struct {
	Outcome
	Err error
}

// ConsumeBatch consumes each item exactly once by its own key, all or
// nothing per item, and answers one result per item in order; a refused
// item refuses no other. The items are planned in order on one read of the
// ledger, each on the state the earlier ones leave (ledger.Carry), and
// applied together: in one transaction where the store can
// (ledger.EachApplier). An item whose write lost a race, or met an
// unavailable store, is planned again alone, as Consume would. The error is
// for the batch as a whole (no items, too many, another contract's item)
// and means nothing was done.
func (s *Service) ConsumeBatch(ctx context.Context, contract string, items []BatchItem) ([]BatchResult, error) {
	if len(items) == 0 || len(items) > BatchItemsMax {
		return nil, core.Invalid("items", "must hold 1 to %d items, not %d", BatchItemsMax, len(items))
	}
	for i, it := range items {
		if it.Refused == nil && it.Req.Contract != contract {
			return nil, core.Invalid(fmt.Sprintf("items[%d]", i), "is a spend of contract %s, not %s", it.Req.Contract, contract)
		}
	}
	if _, ok := TimeOf(ctx); !ok {
		ctx = WithTime(ctx, s.now(ctx)) // one instant for every item, retries included
	}
	b := &batch{s: s, ctx: ctx, contract: contract, at: s.now(ctx), items: items,
		results: make([]BatchResult, len(items)), states: map[stateKey]*stateRead{}}
	pending := b.admit()
	pending = b.replays(pending)
	b.readStates(pending)
	planned := b.plan(pending)
	b.apply(planned)
	return b.results, nil
}

// batch is one ConsumeBatch call's work.
type batch struct {
	s        *Service
	ctx      context.Context
	contract string
	at       time.Time
	items    []BatchItem
	results  []BatchResult
	states   map[stateKey]*stateRead
}

// stateKey names the state a spend plans on, besides the contract's lots.
type stateKey struct {
	user, project string
	currency      core.Currency
}

type stateRead struct {
	st  ledger.SpendState
	err error
}

// admit answers the items that fail before anything is read: refused by the
// caller, a key of the wrong form, a key an earlier item of the batch uses.
// It fingerprints the others as Consume would and returns their indexes.
func (b *batch) admit() []int {
	first := map[[2]string]int{} // (scope, key) → the first item using it
	var pending []int
	for i := range b.items {
		it := &b.items[i]
		if it.Idem.Key != "" {
			k := [2]string{it.Idem.ScopeOr(b.contract), it.Idem.Key}
			if j, dup := first[k]; dup {
				b.results[i].Err = core.Invalid("idempotency_key", "is also the key of items[%d]; each item of a batch needs its own key", j)
				continue
			}
			first[k] = i
		}
		if it.Refused != nil {
			b.results[i].Err = it.Refused
			continue
		}
		if err := ledger.CheckIdem(it.Idem.Key); err != nil {
			b.results[i].Err = err
			continue
		}
		it.Idem = fingerprint(it.Idem, "consume", []any{it.Req})
		pending = append(pending, i)
	}
	return pending
}

// replays reads each pending item's idempotency record and answers the
// items it decides (a replay, a reused key); it returns the rest.
func (b *batch) replays(pending []int) []int {
	priors, errs := b.priors(pending)
	var rest []int
	for j, i := range pending {
		if errs[j] != nil {
			b.results[i].Err = errs[j]
			continue
		}
		d, replayed, err := ledger.Replay(priors[j], b.items[i].Idem, b.at)
		switch {
		case err != nil:
			b.results[i].Err = err
		case replayed:
			b.results[i].Outcome = Outcome{Body: d.Response, Replayed: true}
		default:
			rest = append(rest, i)
		}
	}
	return rest
}

// priors reads the live idempotency record of each pending item's key:
// one read per scope where the store lists many keys at once
// (ledger.IdempotencyLister), else one read per key.
func (b *batch) priors(pending []int) ([]*ledger.IdempotencyRecord, []error) {
	priors := make([]*ledger.IdempotencyRecord, len(pending))
	errs := make([]error, len(pending))
	if l, ok := b.s.store.(ledger.IdempotencyLister); ok {
		byScope := map[string][]int{} // scope → indexes into pending
		var scopes []string
		for j, i := range pending {
			scope := b.items[i].Idem.ScopeOr(b.contract)
			if _, seen := byScope[scope]; !seen {
				scopes = append(scopes, scope)
			}
			byScope[scope] = append(byScope[scope], j)
		}
		for _, scope := range scopes {
			js := byScope[scope]
			keys := make([]string, len(js))
			for n, j := range js {
				keys[n] = b.items[pending[j]].Idem.Key
			}
			records, err := l.IdempotencyMany(b.ctx, scope, keys, b.at)
			for n, j := range js {
				if err != nil {
					errs[j] = fmt.Errorf("read idempotency records: %w", err)
				} else if r, ok := records[keys[n]]; ok {
					priors[j] = &r
				}
			}
		}
		return priors, errs
	}
	forEach(len(pending), func(j int) {
		it := b.items[pending[j]]
		r, ok, err := b.s.store.Idempotency(b.ctx, it.Idem.ScopeOr(b.contract), it.Idem.Key, b.at)
		if err != nil {
			errs[j] = fmt.Errorf("read idempotency record: %w", err)
		} else if ok {
			priors[j] = &r
		}
	})
	return priors, errs
}

// readStates reads, once per user, project and currency of the pending
// items, what their spends plan on. Every read happens before any item is
// applied, so the Carry's movements apply to each alike.
func (b *batch) readStates(pending []int) {
	var keys []stateKey
	for _, i := range pending {
		k := keyOf(b.items[i].Req)
		if _, ok := b.states[k]; !ok {
			b.states[k] = &stateRead{}
			keys = append(keys, k)
		}
	}
	month := ledger.Month(b.at)
	forEach(len(keys), func(j int) {
		k := keys[j]
		r := b.states[k]
		r.st, r.err = b.s.spendState(b.ctx, b.contract, k.user, k.project, k.currency, b.at, month)
	})
}

func keyOf(req ledger.SpendRequest) stateKey {
	return stateKey{user: req.User, project: req.Project, currency: req.Currency}
}

// planned is one item's Tx to apply: a consumption, or the audit record of
// a refused attempt (refusal is then the item's answer).
type planned struct {
	item     int
	tx       ledger.Tx
	response []byte
	refusal  error
}

// plan plans the pending items in order, each on its state as the items
// before it leave it.
func (b *batch) plan(pending []int) []planned {
	var carry ledger.Carry
	var out []planned
	month := ledger.Month(b.at)
	for _, i := range pending {
		it := b.items[i]
		r := b.states[keyOf(it.Req)]
		if r.err != nil {
			b.results[i].Err = r.err
			continue
		}
		st := carry.Over(r.st, it.Req.Project, it.Req.Currency, month)
		d, err := ledger.PlanConsume(st, it.Req, it.Idem, b.s.env(b.ctx, b.contract, it.Idem))
		switch {
		case err != nil && len(d.Tx.Ops) > 0:
			out = append(out, planned{item: i, tx: d.Tx, refusal: err})
		case err != nil:
			b.results[i].Err = err
		default:
			carry.Add(d.Tx)
			out = append(out, planned{item: i, tx: d.Tx, response: d.Response})
		}
	}
	return out
}

// apply applies the planned Txs together and answers their items; an item
// whose write lost a race or met an unavailable store goes again alone
// through Consume, which re-reads it (and replays it if it was written).
func (b *batch) apply(ps []planned) {
	txs := make([]ledger.Tx, len(ps))
	for j, p := range ps {
		txs[j] = p.tx
	}
	errs := b.s.applyEach(b.ctx, txs)
	var again []int
	for j, p := range ps {
		res, err := &b.results[p.item], errs[j]
		var conflict *ledger.ConflictError
		switch {
		case p.refusal != nil && err != nil:
			res.Err = fmt.Errorf("record refused attempt: %w", err)
		case p.refusal != nil:
			res.Err = p.refusal
		case err == nil:
			res.Outcome = Outcome{Body: p.response}
		case errors.As(err, &conflict) || core.ErrorCode(err) == core.CodeUnavailable:
			again = append(again, p.item)
		default:
			res.Err = fmt.Errorf("apply: %w", err)
		}
	}
	forEach(len(again), func(j int) {
		i := again[j]
		res := &b.results[i]
		res.Outcome, res.Err = b.s.Consume(b.ctx, b.items[i].Req, b.items[i].Idem)
	})
}

// applyEach applies txs with the store's ApplyEach, or else one Apply each,
// BatchConcurrencyMax at once.
func (s *Service) applyEach(ctx context.Context, txs []ledger.Tx) []error {
	if len(txs) == 0 {
		return nil
	}
	if ea, ok := s.store.(ledger.EachApplier); ok {
		errs := ea.ApplyEach(ctx, txs)
		if len(errs) != len(txs) {
			panic(fmt.Sprintf("credits: ApplyEach answered %d outcomes for %d transactions", len(errs), len(txs)))
		}
		return errs
	}
	errs := make([]error, len(txs))
	forEach(len(txs), func(i int) { errs[i] = s.store.Apply(ctx, txs[i]) })
	return errs
}

// forEach calls fn(0) … fn(n−1), at most BatchConcurrencyMax at once, and
// returns when every call has.
func forEach(n int, fn func(i int)) {
	if n == 1 {
		fn(0)
		return
	}
	sem := make(chan struct{}, BatchConcurrencyMax)
	var wg sync.WaitGroup
	for i := range n {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			fn(i)
		})
	}
	wg.Wait()
}
