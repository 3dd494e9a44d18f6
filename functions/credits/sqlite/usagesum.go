package sqlite

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"cloudcredits/core"
	"cloudcredits/core/governance"
	"cloudcredits/core/ledger"
)

// usageSumQueries[mask] sums a contract's usage rows of months [?2, ?3]
// over every dimension not in mask (bit i is governance.Dimensions()[i]),
// per currency: credits exactly (sum_decimal), counts as integers (SQLite's
// sum() of integers fails on overflow rather than wrap). A dimension summed
// over reads as the empty string, and month as the first month, so the row
// falls in the report's range. One query per set of dimensions, all
// prepared at Open.
//
// A grouping that is a prefix of the usage key (by month) streams in key
// order; any other sorts the contract's rows of the range once. (Summing
// first over the key's prefix down to the last grouped column, streaming,
// and sorting only those sums measured slower: the sums cost more than
// the sort they save.)
var usageSumQueries = func() []string {
	dims := governance.Dimensions()
	qs := make([]string, 1<<len(dims))
	for mask := range qs {
		sel := make([]string, len(dims))
		for i, d := range dims {
			switch {
			case mask&(1<<i) != 0:
				sel[i] = d
			case d == governance.DimMonth:
				sel[i] = "?2"
			default:
				sel[i] = "''"
			}
		}
		var group []string // in the key's order, so a prefix of it streams
		for _, col := range usageKeyCols {
			if i := slices.Index(dims, col); i < 0 || mask&(1<<i) != 0 {
				group = append(group, col)
			}
		}
		qs[mask] = fmt.Sprintf("SELECT %s, currency, %s(credits), sum(count) FROM usage "+
			"WHERE contract = ?1 AND month >= ?2 AND month <= ?3 GROUP BY %s",
			strings.Join(sel, ", "), sumDecimalSQL, strings.Join(group, ", "))
	}
	return qs
}()

// usageKeyCols is the usage table's key after the contract, in its order;
// every column but currency is a governance dimension.
var usageKeyCols = []string{"month", "currency", "user", "service", "project", "entity"}

func init() { readQueries = append(readQueries, usageSumQueries...) }

// UsageSums is credits.UsageSummer: the contract's roll-up rows of months
// [from, to] summed in SQL over the dimensions not in groupBy (governance's
// names), so a report reads one row per group instead of every roll-up row.
// In the rows, a dimension summed over is "", except Month, which is
// fromMonth.
func (s *Store) UsageSums(ctx context.Context, contract, fromMonth, toMonth string, groupBy []string) ([]ledger.Usage, error) {
	mask := 0
	for _, d := range groupBy {
		i := slices.Index(governance.Dimensions(), d)
		if i < 0 {
			return nil, core.Invalid("group_by", "unknown dimension %q", d)
		}
		mask |= 1 << i
	}
	return many(ctx, s, func(r scanner) (ledger.Usage, error) {
		u := ledger.Usage{Key: ledger.UsageKey{Contract: contract}}
		k := &u.Key
		err := r.Scan(&k.User, &k.Service, &k.Project, &k.Entity, &k.Month, textCol[core.Currency]{&k.Currency},
			decCol{"credits", &u.Credits}, &u.Count)
		return u, err
	}, "usage sums", unbounded, usageSumQueries[mask], contract, fromMonth, toMonth)
}
