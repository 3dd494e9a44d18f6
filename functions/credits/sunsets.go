package credits

import (
	"context"
	"fmt"
	"time"

	"cloudcredits/core"
	"cloudcredits/core/ledger"
)

// SunsetRoundsMax bounds the read–end rounds one SetSunset runs to end the
// lots that outlive a currency's final expiry: each round ends up to
// SweepBatchMax lots, so a currency of up to SunsetRoundsMax × SweepBatchMax
// live lots is finished in one call. A call that stops short reports a
// conflict; retrying it (a replay with the same key) carries on.
const SunsetRoundsMax = 2000

// sunsetOf reads a currency's sunset; nil when it has none.
func (s *Service) sunsetOf(ctx context.Context, cur core.Currency) (*ledger.Sunset, error) {
	x, err := found(s.store.Sunset(ctx, cur))
	if err != nil {
		return nil, fmt.Errorf("read sunset of %s: %w", cur, err)
	}
	return x, nil
}

// SunsetCacheFor is how long a spend may plan with a currency's sunset as
// this process last read it. A sunset is set months before it takes effect
// and changes rarely; what a stale one can cost is a spend planned on the
// payable currencies as they were (refused, or paid from the retiring
// currency's lots, which its own end bounds), never a credit: each debit's
// write checks its lot. Every spend in the system would otherwise read the
// same item. A sunset this process writes is forgotten at once.
const SunsetCacheFor = 30 * time.Second

type cachedSunset struct {
	sunset *ledger.Sunset
	until  time.Time
}

// spendSunset is cur's sunset for a spend at `at`, from the cache while it
// is fresh.
func (s *Service) spendSunset(ctx context.Context, cur core.Currency, at time.Time) (*ledger.Sunset, error) {
	s.sunsetMu.Lock()
	c, ok := s.sunsets[cur]
	s.sunsetMu.Unlock()
	if ok && at.Before(c.until) && !at.Before(c.until.Add(-SunsetCacheFor)) {
		return c.sunset, nil
	}
	x, err := s.sunsetOf(ctx, cur)
	if err != nil {
		return nil, err
	}
	s.sunsetMu.Lock()
	if s.sunsets == nil {
		s.sunsets = map[core.Currency]cachedSunset{}
	}
	s.sunsets[cur] = cachedSunset{sunset: x, until: at.Add(SunsetCacheFor)}
	s.sunsetMu.Unlock()
	return x, nil
}

// forgetSunsets drops the cached sunsets (after this process wrote one).
func (s *Service) forgetSunsets() {
	s.sunsetMu.Lock()
	s.sunsets = nil
	s.sunsetMu.Unlock()
}

// lotEnd is the earlier of end and cur's final expiry, if it has a sunset
// (what caps the end of a lot granted in cur), with the guard the Tx
// creating the lot must carry: a ledger.SunsetIs on the sunset version it
// read (see guarded).
func (s *Service) lotEnd(ctx context.Context, cur core.Currency, end time.Time) (time.Time, ledger.SunsetIs, error) {
	x, err := s.sunsetOf(ctx, cur)
	guard := ledger.SunsetIs{Currency: cur}
	if err != nil || x == nil {
		return end, guard, err
	}
	guard.Version = x.Version
	if end.IsZero() || x.FinalExpiry.Before(end) {
		return x.FinalExpiry, guard, nil
	}
	return end, guard, nil
}

// guarded returns what adds guard to a planned Tx that creates a lot (a
// replay, a refusal or a change without a new lot needs none):
// guarded(g)(ledger.PlanX(…)).
func guarded(guard ledger.SunsetIs) func(ledger.Decision, error) (ledger.Decision, error) {
	return func(dec ledger.Decision, err error) (ledger.Decision, error) {
		if err != nil {
			return dec, err
		}
		for _, op := range dec.Tx.Ops {
			if _, ok := op.(ledger.CreateLot); ok {
				dec.Tx.Ops = append(dec.Tx.Ops, guard)
				break
			}
		}
		return dec, err
	}
}

// SalesOpen refuses (sales_closed) an order or quote of cur at `at` once the
// currency's sales have ended.
func (s *Service) SalesOpen(ctx context.Context, cur core.Currency, at time.Time) error {
	x, err := s.sunsetOf(ctx, cur)
	if err != nil {
		return err
	}
	return ledger.SalesOpen(x, at)
}

// CurrencyEnd is cur's final expiry after a sunset (zero: none).
func (s *Service) CurrencyEnd(ctx context.Context, cur core.Currency) (time.Time, error) {
	end, _, err := s.lotEnd(ctx, cur, time.Time{})
	return end, err
}

// SetSunset creates or changes a currency's sunset (a vendor admin's), then
// ends, in bounded follow-up transactions, every lot of the currency that
// would outlive its final expiry — on the first answer and on every replay,
// so a retry finishes what a crash interrupted.
func (s *Service) SetSunset(ctx context.Context, cur core.Currency, req ledger.SunsetRequest, idem ledger.Idem) (Outcome, error) {
	out, err := mutate(ctx, s, idem.ScopeOr("vendor"), idem, "sunset", []any{cur, req},
		func(try) (*ledger.Sunset, error) { return s.sunsetOf(ctx, cur) },
		func(existing *ledger.Sunset, t try) (ledger.Decision, error) {
			var next *ledger.Sunset
			if req.Successor != "" {
				var err error
				if next, err = s.sunsetOf(ctx, req.Successor); err != nil {
					return ledger.Decision{}, err
				}
			}
			return ledger.PlanSetSunset(cur, existing, next, req, t.prior, t.idem, t.env)
		})
	s.forgetSunsets()
	if err != nil {
		return out, err
	}
	return out, s.EndLotsOfSunset(ctx, cur)
}

// EndLotsOfSunset ends every lot of cur that would outlive its sunset's
// final expiry (nothing when cur has no sunset), in transactions of at most
// ledger.EndLotsPerTxMax lot ends.
func (s *Service) EndLotsOfSunset(ctx context.Context, cur core.Currency) error {
	for round := 0; round < SunsetRoundsMax; round++ {
		x, err := s.sunsetOf(ctx, cur)
		if err != nil || x == nil {
			return err
		}
		lots, err := s.store.LotsOutliving(ctx, cur, x.FinalExpiry, SweepBatchMax)
		if err != nil {
			return fmt.Errorf("lots of %s outliving its sunset: %w", cur, err)
		}
		ops := ledger.EndLotsAfterSunset(*x, lots)
		if len(ops) == 0 {
			return nil
		}
		if err := s.endLots(ctx, ops); err != nil {
			return fmt.Errorf("end lots of %s at its sunset: %w", cur, err)
		}
	}
	return core.Errorf(core.CodeConflict, "lots of %s were still being ended after %d rounds; retry the request to carry on", cur, SunsetRoundsMax)
}
