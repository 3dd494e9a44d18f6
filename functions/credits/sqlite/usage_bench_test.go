package sqlite

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"cloudcredits/functions/credits/storetest"
)

// The usage-report benchmark loads the roll-ups of 1,000,000 consumptions
// (storetest.UsageRollups) once per process, into a database in a temporary
// folder that outlives the benchmark (so -count reruns and b.N ramp-ups
// reuse it; it is left in os.TempDir as cloudcredits-usagebench-*), in Txs
// of up to 10,000 rows (under opsPerTxMax).
var usageBench struct {
	once sync.Once
	st   *Store
	load storetest.UsageLoad
	err  error
}

func usageBenchStore(b *testing.B) (*Store, storetest.UsageLoad) {
	b.Helper()
	usageBench.once.Do(func() {
		dir, err := os.MkdirTemp("", "cloudcredits-usagebench-")
		if err != nil {
			usageBench.err = err
			return
		}
		st, err := Open(filepath.Join(dir, "ledger.db"))
		if err != nil {
			usageBench.err = err
			return
		}
		usageBench.st = st
		usageBench.load, usageBench.err = storetest.LoadUsage(context.Background(), st, 1_000, 1)
		if usageBench.err == nil {
			l := usageBench.load
			b.Logf("sqlite: loaded %d roll-up rows (%d consumptions) in %d Txs in %s into %s",
				l.Rows, l.Consumptions, l.Txs, l.Took.Round(1e6), dir)
		}
	})
	if usageBench.err != nil {
		b.Fatalf("loading usage: %v", usageBench.err)
	}
	return usageBench.st, usageBench.load
}

// BenchmarkUsageReport measures a 12-month usage report of a contract with
// 1,000,000 consumptions: Store.Usage plus governance.Usage.
func BenchmarkUsageReport(b *testing.B) {
	st, l := usageBenchStore(b)
	storetest.BenchUsageReports(b, st, l, nil)
}

// BenchmarkAlertCheck measures the hourly alert check of that contract.
func BenchmarkAlertCheck(b *testing.B) {
	st, l := usageBenchStore(b)
	storetest.BenchAlertCheck(b, st, l, nil)
}
