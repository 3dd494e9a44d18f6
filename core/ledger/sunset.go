package ledger

import (
	"time"

	"cloudcredits/core"
)

// Sunset retires a currency (PRODUCT.md, "Checkout and quotes"; the seed's
// move from Cloud Credits to Flex tokens): from SalesEnd the currency is no
// longer sold and, when Successor is set, a service whose rate names the
// currency may be paid with the successor; at FinalExpiry every lot of the
// currency has ended.
//
// Rules chosen where PRODUCT.md is silent:
//
//   - SalesEnd and FinalExpiry are instants: an order at SalesEnd − 1ns is
//     sold, one at SalesEnd is refused with sales_closed. FinalExpiry is after
//     SalesEnd.
//   - A quote made before SalesEnd and accepted after it is refused
//     (sales_closed): accepting is when the order is made, and a quote is
//     only a price. An order made before SalesEnd and paid after it is
//     fulfilled (its price was fixed while sales were open); its lot ends by
//     FinalExpiry like every other.
//   - A sunset is changed, never deleted. Values being set (not kept) may not
//     be in the past; FinalExpiry may only move earlier (lots already ended
//     by it are not revived); once SalesEnd has passed, SalesEnd and
//     Successor are fixed (sales can't be reopened, and spends already drew
//     on the successor). Before that, SalesEnd may move either way.
//   - The successor is another known currency that has no sunset of its own
//     naming this one (no cycles); a sunset may name none, and then the
//     currency's services take only the currency itself until its end.
type Sunset struct {
	Currency    core.Currency `json:"currency"`
	SalesEnd    time.Time     `json:"sales_end"`
	FinalExpiry time.Time     `json:"final_expiry"`
	Successor   core.Currency `json:"successor,omitempty"`
	UpdatedAt   time.Time     `json:"updated_at"`
	Version     int64         `json:"version"`
}

// PutSunset creates (Version 1) or replaces a currency's sunset. Condition:
// for Version 1 none exists; otherwise its version is Version − 1.
type PutSunset struct{ Sunset Sunset }

func (PutSunset) isOp() {}

// SunsetIs is a condition without a write: the currency's sunset is at
// Version (0: the currency has none). A Tx that creates a lot whose end the
// sunset capped (a grant, an individual grant, an order's fulfilment)
// carries it, so a sunset set or changed between the read and the write
// fails the Tx, and the service plans it again under the new sunset. Without
// it, a grant read before a sunset and written after the sunset ended the
// currency's lots would outlive the final expiry.
type SunsetIs struct {
	Currency core.Currency
	Version  int64
}

func (SunsetIs) isOp() {}

// SunsetRequest is the body of PUT /v1/currencies/{cur}/sunset.
type SunsetRequest struct {
	SalesEnd    time.Time     `json:"sales_end"`
	FinalExpiry time.Time     `json:"final_expiry"`
	Successor   core.Currency `json:"successor,omitempty"`
}

// sunsetGrace absorbs a caller's clock skew when a date "now" is sent.
const sunsetGrace = time.Minute

// PlanSetSunset creates or changes the sunset of cur. existing is the sunset
// as read (nil: none); successorSunset is the successor's own sunset, if any.
// Ending the lots that outlive FinalExpiry is not part of this Tx (a
// currency may have any number of lots): the caller applies
// EndLotsAfterSunset in bounded follow-up Txs, on every answer and replay.
func PlanSetSunset(cur core.Currency, existing, successorSunset *Sunset, req SunsetRequest, prior *IdempotencyRecord, idem Idem, env Env) (Decision, error) {
	return idempotent("vendor", idem, prior, env, func() (Tx, any, error) {
		if err := CheckSunset(cur, existing, successorSunset, req, env.At); err != nil {
			return Tx{}, nil, err
		}
		s := Sunset{Currency: cur, SalesEnd: req.SalesEnd.UTC(), FinalExpiry: req.FinalExpiry.UTC(),
			Successor: req.Successor, UpdatedAt: env.At, Version: 1}
		if existing != nil {
			s.Version = existing.Version + 1
		}
		return Tx{Ops: []Op{PutSunset{Sunset: s}}}, s, nil
	})
}

// CheckSunset validates a sunset request against the one in force,
// collecting every problem.
func CheckSunset(cur core.Currency, existing, successorSunset *Sunset, req SunsetRequest, at time.Time) error {
	var p core.Problems
	if _, ok := core.ParseCurrency(string(cur)); !ok {
		p.Add("currency", "unknown currency %q: use cloud, forma or flex", cur)
	}
	past := at.Add(-sunsetGrace)
	salesKept := existing != nil && existing.SalesEnd.Equal(req.SalesEnd)
	finalKept := existing != nil && existing.FinalExpiry.Equal(req.FinalExpiry)
	switch {
	case req.SalesEnd.IsZero():
		p.Add("sales_end", "is required")
	case req.SalesEnd.Before(timeMin) || req.SalesEnd.After(timeMax):
		p.Add("sales_end", "must be between %d and %d", timeMin.Year(), timeMax.Year())
	case existing != nil && !existing.SalesEnd.After(at) && !salesKept:
		p.Add("sales_end", "sales of %s ended on %s; that date can no longer change", cur.Name(), existing.SalesEnd.Format(time.RFC3339))
	case !salesKept && req.SalesEnd.Before(past):
		p.Add("sales_end", "must not be in the past")
	}
	switch {
	case req.FinalExpiry.IsZero():
		p.Add("final_expiry", "is required")
	case req.FinalExpiry.Before(timeMin) || req.FinalExpiry.After(timeMax):
		p.Add("final_expiry", "must be between %d and %d", timeMin.Year(), timeMax.Year())
	case !req.SalesEnd.IsZero() && !req.FinalExpiry.After(req.SalesEnd):
		p.Add("final_expiry", "must be after sales_end")
	case existing != nil && req.FinalExpiry.After(existing.FinalExpiry):
		p.Add("final_expiry", "may only move earlier than %s: lots already ended by it are not revived", existing.FinalExpiry.Format(time.RFC3339))
	case !finalKept && req.FinalExpiry.Before(past):
		p.Add("final_expiry", "must not be in the past")
	}
	if req.Successor != "" {
		switch _, ok := core.ParseCurrency(string(req.Successor)); {
		case !ok:
			p.Add("successor", "unknown currency %q: use cloud, forma or flex", req.Successor)
		case req.Successor == cur:
			p.Add("successor", "must be another currency than %s", cur)
		case successorSunset != nil && successorSunset.Successor == cur:
			p.Add("successor", "%s is itself retiring in favour of %s", req.Successor, cur)
		}
	}
	if existing != nil && !existing.SalesEnd.After(at) && req.Successor != existing.Successor {
		p.Add("successor", "sales of %s ended on %s; its successor (%q) can no longer change", cur.Name(), existing.SalesEnd.Format(time.RFC3339), existing.Successor)
	}
	return p.Err()
}

// SalesOpen refuses an order or quote of a currency whose sales ended at or
// before `at` (sales_closed). s is the currency's sunset, nil when none.
func SalesOpen(s *Sunset, at time.Time) error {
	if s == nil || at.Before(s.SalesEnd) {
		return nil
	}
	e := core.Errorf(core.CodeSalesClosed, "%s are no longer sold: sales ended on %s", s.Currency.Name(), s.SalesEnd.UTC().Format(time.RFC3339)).
		WithDetail("currency", string(s.Currency)).
		WithDetail("sales_end", s.SalesEnd.UTC().Format(time.RFC3339)).
		WithDetail("final_expiry", s.FinalExpiry.UTC().Format(time.RFC3339))
	if s.Successor != "" {
		e.Message += "; buy " + s.Successor.Name() + " instead"
		e = e.WithDetail("successor", string(s.Successor))
	}
	return e
}

// CurrencyEnd is the end every lot of the currency must keep to: its final
// expiry, or zero when s is nil.
func CurrencyEnd(s *Sunset) time.Time {
	if s == nil {
		return time.Time{}
	}
	return s.FinalExpiry
}

// Payable lists the currencies a spend priced in cur draws on at t, in the
// order it draws on them: cur itself, then — from the sunset's SalesEnd on,
// when it names a successor — the successor. s is cur's sunset (nil: none).
func Payable(cur core.Currency, s *Sunset, t time.Time) []core.Currency {
	if s != nil && s.Currency == cur && s.Successor != "" && s.Successor != cur && !t.Before(s.SalesEnd) {
		return []core.Currency{cur, s.Successor}
	}
	return []core.Currency{cur}
}

// EndLotsAfterSunset returns the writes that end every lot of s.Currency
// among lots that would outlive s.FinalExpiry (or has no end). Like
// EndLotsAfter, each write is conditioned on the lot as read, and a
// lot already ending in time yields none, so applying them is idempotent.
func EndLotsAfterSunset(s Sunset, lots []Lot) []UpdateLot {
	var ops []UpdateLot
	for _, l := range lots {
		if l.Currency != s.Currency {
			continue
		}
		if op, ok := endLotAt(l, s.FinalExpiry); ok {
			ops = append(ops, op)
		}
	}
	return ops
}
