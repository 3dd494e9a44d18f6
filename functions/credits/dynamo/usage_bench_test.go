package dynamo

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"cloudcredits/functions/credits/storetest"
	"cloudcredits/functions/internal/ddblocal"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/smithy-go/middleware"
)

// usageLoadRowsPerTx keeps a loading Tx within TransactItemsMax: each raw
// row comes with the usage sums it adds to (usageSums), which consecutive
// rows mostly share.
const usageLoadRowsPerTx = 40

// The usage-report benchmark loads the roll-ups of 1,000,000 consumptions
// (storetest.UsageRollups) once per process into one table (DynamoDB Local
// is in memory and stops with the process), in transactions of at most
// usageLoadRowsPerTx rows applied by 4 concurrent callers. Besides time it
// reports per report:
//
//   - groups/op: the rows of the report;
//   - items-read/op and items-scanned/op: the Count and ScannedCount of the
//     Query pages, and pages/op, seen by a middleware on the store's client
//     (the adapter doesn't expose them);
//   - RCU/op: the capacity the Query pages reported (ReturnConsumedCapacity
//     TOTAL, which Store.Consumed sums). DynamoDB Local's figures don't follow
//     the pricing rules; against real DynamoDB (DYNAMODB_ENDPOINT) they are
//     the bill.
var usageBench struct {
	once  sync.Once
	st    *Store
	meter *queryMeter
	load  storetest.UsageLoad
	err   error
}

// queryMeter counts what the Query calls of one client returned.
type queryMeter struct {
	st                    *Store
	pages, items, scanned atomic.Int64
}

func (m *queryMeter) middleware(stack *middleware.Stack) error {
	return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("usageBenchQueryMeter",
		func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (
			middleware.InitializeOutput, middleware.Metadata, error) {
			out, md, err := next.HandleInitialize(ctx, in)
			if q, ok := out.Result.(*dynamodb.QueryOutput); ok && err == nil {
				m.pages.Add(1)
				m.items.Add(int64(q.Count))
				m.scanned.Add(int64(q.ScannedCount))
			}
			return out, md, err
		}), middleware.After)
}

func (m *queryMeter) Reset() {
	m.pages.Store(0)
	m.items.Store(0)
	m.scanned.Store(0)
	m.st.ResetConsumed()
}

func (m *queryMeter) Totals() map[string]float64 {
	return map[string]float64{
		"pages":         float64(m.pages.Load()),
		"items-read":    float64(m.items.Load()),
		"items-scanned": float64(m.scanned.Load()),
		"RCU":           m.st.Consumed().ReadUnits,
	}
}

func usageBenchStore(b *testing.B) (*Store, *queryMeter, storetest.UsageLoad) {
	b.Helper()
	usageBench.once.Do(func() {
		ctx := context.Background()
		m := &queryMeter{}
		base := ddblocal.Client(ddblocal.Endpoint(b))
		db := dynamodb.New(base.Options(), func(o *dynamodb.Options) {
			o.APIOptions = append(append([]func(*middleware.Stack) error{}, o.APIOptions...), m.middleware)
		})
		table := ddblocal.UniqueName("usagebench")
		t0 := time.Now()
		// Roll-up rows are written directly: the table needs no stream.
		if err := CreateTable(ctx, db, table, WithoutStream()); err != nil {
			usageBench.err = err
			return
		}
		created := time.Since(t0)
		m.st = New(db, table)
		usageBench.st, usageBench.meter = m.st, m
		usageBench.load, usageBench.err = storetest.LoadUsage(ctx, m.st, usageLoadRowsPerTx, 4)
		if usageBench.err == nil {
			l := usageBench.load
			b.Logf("dynamo: table created in %s; loaded %d roll-up rows (%d consumptions) in %d Txs in %s",
				created.Round(time.Millisecond), l.Rows, l.Consumptions, l.Txs, l.Took.Round(time.Millisecond))
		}
	})
	if usageBench.err != nil {
		b.Fatalf("loading usage: %v", usageBench.err)
	}
	return usageBench.st, usageBench.meter, usageBench.load
}

// BenchmarkUsageReport measures a 12-month usage report of a contract with
// 1,000,000 consumptions: Service.UsageReport (the usage sums that serve
// the grouping, read with a paged Query; see usagesum.go).
func BenchmarkUsageReport(b *testing.B) {
	st, m, l := usageBenchStore(b)
	storetest.BenchUsageReports(b, st, l, m)
}

// BenchmarkAlertCheck measures the hourly alert check of that contract:
// what one contract costs the sweeper's hourly run, in reads and RCU.
func BenchmarkAlertCheck(b *testing.B) {
	st, m, l := usageBenchStore(b)
	storetest.BenchAlertCheck(b, st, l, m)
}
