package dynamo

import (
	"context"
	"fmt"
	"hash/fnv"
	"slices"
	"strconv"

	"cloudcredits/core/governance"
	"cloudcredits/core/ledger"

	"github.com/shopspring/decimal"
)

// A usage report reads roll-ups; the raw roll-up rows are per month,
// currency, user, service, project and entity, so a contract's year can be
// tens of thousands of items however few rows the report has. Beside every
// raw row the adapter keeps coarser sums, one family per usageSum, written
// in the same transaction as the raw row (LAYOUT.md, "Usage sums"), and a
// report whose grouping a family serves reads that family instead.
//
// The sums are complete only for a contract whose every usage was written
// with them: the marker item skUsageSums, written with the contract (an
// extra of its create), says so. A contract without it (made before the
// sums existed, until backfilled) is reported from the raw rows.

// usageSum is one family of summed roll-ups: per contract, month and
// currency, the raw rows summed over every dimension not in dims, and
// spread over shards items by a hash of the user when shards > 1 (so the
// family's items are not one hot item every spend of the month updates).
type usageSum struct {
	family string
	dims   []string // governance dimensions besides month, in key order
	shards int
}

// usageSums are the families, the coarsest first: a report reads the first
// that serves its grouping.
var usageSums = [usageSumFamilies]usageSum{
	// By month (and nothing else): per month, currency and user shard.
	{family: "M", shards: 16},
	// By user, service or both (and month).
	{family: "US", dims: []string{governance.DimUser, governance.DimService}},
}

// usageSumFamilies is how many families usageSums has.
const usageSumFamilies = 2

const (
	skUsageSum  = "USAGESUM#"
	skUsageSums = "USAGESUMS" // the marker: this contract's sums are complete
)

// serves reports whether the family's sums group into a report by groupBy.
func (f usageSum) serves(groupBy []string) bool {
	for _, d := range groupBy {
		if d != governance.DimMonth && !slices.Contains(f.dims, d) {
			return false
		}
	}
	return true
}

// prefix is the family's sort keys' prefix: USAGESUM#<family>#.
func (f usageSum) prefix() string { return skUsageSum + f.family + "#" }

// of is the family's item a raw row of key k adds to: its sort key
// (USAGESUM#<family>#<month>#<currency>[#<shard>][#<dim>…]) and the key it
// decodes to (k less the dimensions summed over).
func (f usageSum) of(k ledger.UsageKey) (string, ledger.UsageKey) {
	sum := ledger.UsageKey{Contract: k.Contract, Month: k.Month, Currency: k.Currency}
	sk := f.prefix() + k.Month + "#" + string(k.Currency)
	if f.shards > 1 {
		h := fnv.New32a()
		h.Write([]byte(k.User))
		sk += "#" + strconv.Itoa(int(h.Sum32()%uint32(f.shards)))
	}
	for _, d := range f.dims {
		var v *string
		switch d {
		case governance.DimUser:
			sum.User, v = k.User, &k.User
		case governance.DimService:
			sum.Service, v = k.Service, &k.Service
		case governance.DimProject:
			sum.Project, v = k.Project, &k.Project
		case governance.DimEntity:
			sum.Entity, v = k.Entity, &k.Entity
		default:
			panic("dynamo: usage sum family " + f.family + " names dimension " + d)
		}
		sk += "#" + *v
	}
	return sk, sum
}

// usageSumWrites are the updates that keep the families in step with the
// raw rows a Tx adds to: one per family item, each adding the sum of the
// Tx's additions to it (a transaction may touch an item once).
func (s *Store) usageSumWrites(writes []ledger.Write) ([]write, error) {
	type acc struct {
		op             int
		key            ledger.UsageKey
		credits, count decimal.Decimal
	}
	var order []string
	sums := map[string]*acc{}
	for _, wr := range writes {
		u, ok := wr.Rec.(ledger.Usage)
		if !ok {
			continue
		}
		if wr.Kind != ledger.WriteAdd {
			return nil, fmt.Errorf("dynamo: write %d: a usage row is only ever added to (its sums follow the additions)", wr.Op)
		}
		for _, f := range usageSums {
			sk, key := f.of(u.Key)
			a := sums[sk]
			if a == nil {
				a = &acc{op: wr.Op, key: key}
				sums[sk] = a
				order = append(order, sk)
			}
			for _, add := range wr.Adds {
				switch add.Counter {
				case ledger.CounterCredits:
					a.credits = a.credits.Add(add.By)
				case ledger.CounterCount:
					a.count = a.count.Add(add.By)
				}
			}
		}
	}
	out := make([]write, 0, len(order))
	for _, sk := range order {
		a := sums[sk]
		wr := ledger.Write{Op: a.op, Kind: ledger.WriteAdd, Rec: ledger.Usage{Key: a.key}, What: "usage sum " + sk,
			Adds: []ledger.Add{{Counter: ledger.CounterCredits, By: a.credits}, {Counter: ledger.CounterCount, By: a.count}}}
		out = append(out, s.add(wr, usageItem(ledger.Usage{Key: a.key}, sk), &expr{}))
	}
	return out, nil
}

// usageSumsMarker is the item that says a contract's sums are complete.
func usageSumsMarker(contract string) item {
	it := keyOf(contractPK(contract), skUsageSums)
	it.s(AttrContract, contract)
	return it
}

// UsageSums is credits.UsageSummer: the contract's usage of months [from,
// to] from the first family that serves groupBy, when the contract's sums
// are complete; else its raw rows. Either way governance.Usage groups them
// into the report.
func (s *Store) UsageSums(ctx context.Context, contract, fromMonth, toMonth string, groupBy []string) ([]ledger.Usage, error) {
	i := slices.IndexFunc(usageSums[:], func(f usageSum) bool { return f.serves(groupBy) })
	if i < 0 || toMonth < fromMonth {
		return s.Usage(ctx, contract, fromMonth, toMonth)
	}
	marker, err := s.get(ctx, contractPK(contract), skUsageSums)
	if err != nil {
		return nil, err
	}
	if marker == nil {
		return s.Usage(ctx, contract, fromMonth, toMonth)
	}
	// '$' sorts right after '#': "…#to$" is above every key of month to.
	f := usageSums[i]
	return queryAll(ctx, s, contractPK(contract), f.prefix()+fromMonth+"#", f.prefix()+toMonth+"$", ReadItemsMax, decodeUsage)
}
