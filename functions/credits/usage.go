package credits

import (
	"context"
	"time"

	"cloudcredits/core/governance"
	"cloudcredits/core/ledger"
)

// UsageSummer is a store that can sum a contract's roll-up rows over the
// dimensions a report does not group by before handing them over, so the
// report reads one row per group rather than every roll-up row.
//
// UsageSums returns rows that governance.Usage groups by groupBy
// (governance's names, checked with governance.ParseGroupBy) into the
// report it makes of the raw rows of months [fromMonth, toMonth]: each row
// is the exact sum (no floating point) of raw rows of that range that agree
// on currency and on every dimension in groupBy, and carries those values;
// a dimension not in groupBy may be "", and Month, when not in groupBy, is
// some month of the range. (The SQLite store sums exactly to the groups; the
// DynamoDB store reads pre-summed roll-ups that may be finer.)
type UsageSummer interface {
	UsageSums(ctx context.Context, contract, fromMonth, toMonth string, groupBy []string) ([]ledger.Usage, error)
}

// UsageReport is a contract's usage report for the months [fromMonth,
// toMonth] grouped by groupBy (already checked with
// governance.ParseGroupBy): from the store's sums when it can make them
// (UsageSummer), else from every roll-up row.
func (s *Service) UsageReport(ctx context.Context, contract, fromMonth, toMonth string, groupBy []string) (governance.UsageReport, error) {
	var rows []ledger.Usage
	var err error
	if sum, ok := s.store.(UsageSummer); ok {
		rows, err = sum.UsageSums(ctx, contract, fromMonth, toMonth, groupBy)
	} else {
		rows, err = s.store.Usage(ctx, contract, fromMonth, toMonth)
	}
	if err != nil {
		return governance.UsageReport{}, err
	}
	rep := governance.Usage(rows, groupBy, fromMonth, toMonth)
	rep.AsOf, err = s.usageAsOf(ctx)
	return rep, err
}

// UsageFreshness is a store whose roll-ups follow its ledger in the
// background (DynamoDB: from the table's stream): UsageAsOf is the latest
// change they include (zero: none yet). A store without it rolls up in the
// spend's own transaction, so its roll-ups are as fresh as the read.
type UsageFreshness interface {
	UsageAsOf(ctx context.Context) (time.Time, error)
}

// usageAsOf is how fresh the store's roll-ups are (nil: none rolled up).
func (s *Service) usageAsOf(ctx context.Context) (*time.Time, error) {
	at := s.now(ctx)
	if f, ok := s.store.(UsageFreshness); ok {
		var err error
		if at, err = f.UsageAsOf(ctx); err != nil || at.IsZero() {
			return nil, err
		}
	}
	return &at, nil
}
