package credits

import (
	"context"

	"cloudcredits/core/governance"
	"cloudcredits/core/ledger"
)

// UsageSummer is a store that can sum a contract's roll-up rows over the
// dimensions a report does not group by before handing them over, so the
// report reads one row per group rather than every roll-up row.
//
// UsageSums returns the rows of months [fromMonth, toMonth] summed over
// every dimension not in groupBy (governance's names, checked with
// governance.ParseGroupBy), per currency, exactly (no floating point). In a
// row, a dimension summed over is "", except Month, which is fromMonth.
// governance.Usage over those rows gives the report it gives over the raw
// rows.
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
	return governance.Usage(rows, groupBy, fromMonth, toMonth), nil
}
