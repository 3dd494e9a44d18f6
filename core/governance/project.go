package governance

import (
	"slices"
	"strings"
	"time"

	"cloudcredits/core"
	"cloudcredits/core/ledger"

	"github.com/shopspring/decimal"
)

// BurnRates is the average monthly consumption of each user in each
// currency over the BurnMonths complete months before at (the month of at is
// partial and left out). When the usage starts later than that window, the
// months since the first usage are averaged instead, so a new contract is
// not diluted by months it did not exist in.
func BurnRates(rows []ledger.Usage, at time.Time) map[core.Currency]map[string]decimal.Decimal {
	last := AddMonths(ledger.Month(at), -1)
	first := AddMonths(last, -(BurnMonths - 1))
	earliest := ""
	for _, u := range rows {
		if m := u.Key.Month; m >= first && m <= last && (earliest == "" || m < earliest) {
			earliest = m
		}
	}
	out := map[core.Currency]map[string]decimal.Decimal{}
	if earliest == "" {
		return out
	}
	n := decimal.NewFromInt(int64(MonthsBetween(earliest, last)))
	for _, u := range rows {
		if u.Key.Month < first || u.Key.Month > last {
			continue
		}
		m := out[u.Key.Currency]
		if m == nil {
			m = map[string]decimal.Decimal{}
			out[u.Key.Currency] = m
		}
		m[u.Key.User] = m[u.Key.User].Add(u.Credits)
	}
	for _, m := range out {
		for user, v := range m {
			m[user] = v.Div(n)
		}
	}
	return out
}

// LotProjection is what the simulation expects of one lot.
type LotProjection struct {
	Lot ledger.Lot
	// Unused is the credits forecast to be left when the lot ends (to
	// expire or be withdrawn); zero for a lot without an end.
	Unused decimal.Decimal
	// Used is the credits forecast to be consumed before the lot ends.
	Used decimal.Decimal
	// EmptyAt is when the lot is forecast to be used up; zero if never
	// within the projection.
	EmptyAt time.Time
}

// Projection is the simulation of one currency's lots at the current burn.
type Projection struct {
	Currency core.Currency
	// Burn is the currency's monthly burn (every user's together).
	Burn decimal.Decimal
	Lots []LotProjection // in burn order
	// PoolRemaining is what the currency's shared lots hold at the start.
	PoolRemaining decimal.Decimal
	// PoolEnd is when the last shared lot ends; zero when one has no end.
	PoolEnd time.Time
	// PoolRunsOutAt is when the shared pool is forecast to be empty while
	// demand remains; zero if it never is within the projection.
	PoolRunsOutAt time.Time
	// PoolUnused is what the shared lots are forecast to leave unused.
	PoolUnused decimal.Decimal
}

// Project simulates the currency's lots from at at the burn rates: each
// user's burn takes that user's individual lots first, then the shared
// pool, within each soonest end first (the ledger's burn order). Time moves
// month by month, split at every lot's start and end, and each span burns
// the monthly rate pro rata to its length. A lot that ends with credits
// left contributes them to Unused.
func Project(lots []ledger.Lot, burn map[string]decimal.Decimal, currency core.Currency, at time.Time) Projection {
	pr := Projection{Currency: currency, Burn: decimal.Zero, PoolRemaining: decimal.Zero, PoolUnused: decimal.Zero}
	horizon := at.AddDate(0, ProjectionMonthsMax, 0)
	var live []LotProjection
	for _, l := range lots {
		if l.Currency != currency || l.Remaining.Sign() <= 0 {
			continue
		}
		if end := l.End(); !end.IsZero() && !at.Before(end) {
			continue
		}
		live = append(live, LotProjection{Lot: l, Unused: decimal.Zero, Used: decimal.Zero})
	}
	slices.SortFunc(live, func(a, b LotProjection) int { return burnCompare(a.Lot, b.Lot) })
	left := make([]decimal.Decimal, len(live))
	for i, p := range live {
		left[i] = p.Lot.Remaining
		if p.Lot.Kind == ledger.Shared {
			pr.PoolRemaining = pr.PoolRemaining.Add(p.Lot.Remaining)
			if end := p.Lot.End(); end.After(pr.PoolEnd) {
				pr.PoolEnd = end
			}
		}
	}
	if poolOpen(live) {
		pr.PoolEnd = time.Time{}
	}
	users := make([]string, 0, len(burn))
	for u, b := range burn {
		if b.Sign() > 0 {
			users = append(users, u)
			pr.Burn = pr.Burn.Add(b)
		}
	}
	slices.Sort(users)

	// The simulation's clock stops at every month step and lot boundary.
	stops := []time.Time{}
	for k := 1; k <= ProjectionMonthsMax; k++ {
		stops = append(stops, at.AddDate(0, k, 0))
	}
	for _, p := range live {
		for _, t := range []time.Time{p.Lot.EffectiveFrom, p.Lot.End()} {
			if t.After(at) && t.Before(horizon) {
				stops = append(stops, t)
			}
		}
	}
	slices.SortFunc(stops, func(a, b time.Time) int { return a.Compare(b) })
	stops = slices.CompactFunc(stops, func(a, b time.Time) bool { return a.Equal(b) })

	from := at
	poolHad := pr.PoolRemaining.Sign() > 0
	for _, to := range stops {
		span := decimal.NewFromInt(int64(to.Sub(from) / time.Second)).Div(secondsPerMonth)
		shared := decimal.Zero
		for _, u := range users {
			need := burn[u].Mul(span)
			for i := range live {
				l := live[i].Lot
				if need.Sign() <= 0 {
					break
				}
				if l.Kind != ledger.Individual || l.Owner != u || !l.LiveAt(from) || left[i].Sign() <= 0 {
					continue
				}
				take := minDec(need, left[i])
				left[i], need = left[i].Sub(take), need.Sub(take)
				live[i].Used = live[i].Used.Add(take)
				if left[i].Sign() == 0 {
					live[i].EmptyAt = at2(from, to, span, burn[u], need)
				}
			}
			shared = shared.Add(need)
		}
		want := shared
		for i := range live {
			l := live[i].Lot
			if shared.Sign() <= 0 {
				break
			}
			if l.Kind != ledger.Shared || !l.LiveAt(from) || left[i].Sign() <= 0 {
				continue
			}
			take := minDec(shared, left[i])
			left[i], shared = left[i].Sub(take), shared.Sub(take)
			live[i].Used = live[i].Used.Add(take)
			if left[i].Sign() == 0 {
				live[i].EmptyAt = fraction(from, to, want.Sub(shared), want)
			}
		}
		if shared.Sign() > 0 && poolHad && pr.PoolRunsOutAt.IsZero() {
			pr.PoolRunsOutAt = fraction(from, to, want.Sub(shared), want)
		}
		// Lots that end at this stop leave what they hold unused.
		open := false
		for i := range live {
			end := live[i].Lot.End()
			if left[i].Sign() > 0 && !end.IsZero() && !to.Before(end) {
				live[i].Unused = left[i]
				left[i] = decimal.Zero
			}
			open = open || left[i].Sign() > 0
		}
		if !open {
			break
		}
		from = to
	}
	for _, p := range live {
		if p.Lot.Kind == ledger.Shared {
			pr.PoolUnused = pr.PoolUnused.Add(p.Unused)
		}
	}
	pr.Lots = live
	return pr
}

// at2 is when an individual lot ran dry within [from, to): its owner's burn
// took the lot's credits at the share of the span burnt before need remained.
func at2(from, to time.Time, span, rate, need decimal.Decimal) time.Time {
	total := rate.Mul(span)
	return fraction(from, to, total.Sub(need), total)
}

// fraction is the instant at part/whole of the way from from to to.
func fraction(from, to time.Time, part, whole decimal.Decimal) time.Time {
	if whole.Sign() <= 0 {
		return from
	}
	secs := decimal.NewFromInt(int64(to.Sub(from) / time.Second)).Mul(part).Div(whole).IntPart()
	return from.Add(time.Duration(secs) * time.Second)
}

func poolOpen(live []LotProjection) bool {
	for _, p := range live {
		if p.Lot.Kind == ledger.Shared && p.Lot.End().IsZero() {
			return true
		}
	}
	return false
}

// burnCompare orders lots as the ledger burns them: individual before
// shared; soonest end first (no end last); then oldest grant; then id.
func burnCompare(a, b ledger.Lot) int {
	if a.Kind != b.Kind {
		if a.Kind == ledger.Individual {
			return -1
		}
		return 1
	}
	ea, eb := a.End(), b.End()
	switch {
	case ea.IsZero() && !eb.IsZero():
		return 1
	case !ea.IsZero() && eb.IsZero():
		return -1
	}
	if c := ea.Compare(eb); c != 0 {
		return c
	}
	if c := a.GrantedAt.Compare(b.GrantedAt); c != 0 {
		return c
	}
	return strings.Compare(a.ID, b.ID)
}

// currenciesOf lists the currencies that lots or rows name, in the fixed
// order of core.Currencies.
func currenciesOf(lots []ledger.Lot, rows []ledger.Usage) []core.Currency {
	seen := map[core.Currency]bool{}
	for _, l := range lots {
		seen[l.Currency] = true
	}
	for _, u := range rows {
		seen[u.Key.Currency] = true
	}
	var out []core.Currency
	for _, c := range core.Currencies() {
		if seen[c] {
			out = append(out, c)
		}
	}
	return out
}
