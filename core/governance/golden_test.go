package governance_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"cloudcredits/core/governance"
	"cloudcredits/core/ledger"
	"cloudcredits/core/pricing"

	"github.com/shopspring/decimal"
)

var update = flag.Bool("update", false, "rewrite testdata/golden/governance/ from the current code")

const repoRoot = "../.."

// year is a synthetic contract written by scripts/synth.
type year struct {
	At       json.RawMessage  `json:"at"`
	Contract ledger.Contract  `json:"contract"`
	Users    []ledger.User    `json:"users"`
	Lots     []ledger.Lot     `json:"lots"`
	Usage    []ledger.Usage   `json:"usage"`
	Attempts []ledger.Attempt `json:"attempts"`
}

func loadYear(t *testing.T, name string) year {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot, "testdata/governance", name+".json"))
	if err != nil {
		t.Fatalf("%v (run: go run ./scripts/synth)", err)
	}
	var y year
	if err := json.Unmarshal(b, &y); err != nil {
		t.Fatal(err)
	}
	return y
}

func catalog(t *testing.T) *pricing.Catalog {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(repoRoot, "testdata/pricebooks/*.json"))
	var books []*pricing.Book
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		pb, err := pricing.ParseBook(b)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		books = append(books, pb)
	}
	c, err := pricing.NewCatalog(books...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func golden(t *testing.T, name string, v any) {
	t.Helper()
	got, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	got = append(got, '\n')
	path := filepath.Join(repoRoot, "testdata/golden/governance", name+".json")
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./core/governance -update)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file; if the change is intended, run go test ./core/governance -update\n%s", name, got)
	}
}

var contracts = []string{"render-steady", "sim-spiky", "jv-mixed"}

// TestGoldenViews pins all five views of each synthetic contract.
func TestGoldenViews(t *testing.T) {
	pc := catalog(t)
	for _, name := range contracts {
		t.Run(name, func(t *testing.T) {
			y := loadYear(t, name)
			now := atOf(t, y)
			golden(t, name+"-usage", governance.Usage(y.Usage, []string{"month", "service"}, "2025-03", "2026-03"))
			golden(t, name+"-expirations", governance.Expirations(y.Lots, y.Usage, now))
			alerts := governance.Alerts(y.Contract, y.Lots, y.Usage, now)
			golden(t, name+"-alerts", alerts)
			// The hourly check reads only from AlertHistoryFrom: the rows
			// before it must change nothing.
			var recent []ledger.Usage
			for _, u := range y.Usage {
				if u.Key.Month >= governance.AlertHistoryFrom(now) {
					recent = append(recent, u)
				}
			}
			if len(recent) == len(y.Usage) {
				t.Fatal("the synthetic year has no rows before the alert window: the check below proves nothing")
			}
			if got := governance.Alerts(y.Contract, y.Lots, recent, now); !reflect.DeepEqual(got, alerts) {
				t.Errorf("alerts from the rows since %s differ from alerts from every row:\n%+v\n%+v", governance.AlertHistoryFrom(now), got, alerts)
			}
			golden(t, name+"-audit", governance.Audit(y.Attempts, y.Usage, y.Users, y.Contract))
			ch, _ := pricing.ParseChannel(y.Contract.Channel)
			f := governance.Forecast(y.Usage, now, governance.ForecastOptions{Lots: y.Lots, Channel: ch,
				Price: func(r pricing.Request) (pricing.Price, error) { return pc.Price(r, now) }})
			golden(t, name+"-forecast", f)
			for _, c := range f.Currencies {
				mape := "n/a"
				if c.Backtest.MAPE != nil {
					mape = c.Backtest.MAPE.String() + "%"
				}
				t.Logf("backtest %s %s: hold out %d months, MAE %s credits/month, MAPE %s (history %s credits, variability %s)",
					name, c.Currency, c.Backtest.HoldoutMonths, c.Backtest.MAE, mape, c.HistoryTotal, c.Variability)
				if c.Advisor != nil {
					t.Logf("advisor %s: %s", name, c.Advisor.Recommendation)
				}
			}
		})
	}
}

func atOf(t *testing.T, y year) (out time.Time) {
	t.Helper()
	if err := json.Unmarshal(y.At, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestUsageTotalsEqualRows is a law: however rows are grouped, the totals
// are the rows' sums and every row's credits add up to them.
func TestUsageTotalsEqualRows(t *testing.T) {
	y := loadYear(t, "render-steady")
	all := governance.Usage(y.Usage, nil, "2025-03", "2026-03")
	for _, g := range [][]string{{"user"}, {"service", "month"}, {"project", "entity", "user", "month", "service"}} {
		rep := governance.Usage(y.Usage, g, "2025-03", "2026-03")
		sum, n := decimal.Zero, int64(0)
		for _, r := range rep.Rows {
			sum, n = sum.Add(r.Credits), n+r.Count
		}
		if !sum.Equal(all.Totals[0].Credits) || n != all.Totals[0].Count {
			t.Errorf("group_by %v: rows sum to %s/%d, want %s/%d", g, sum, n, all.Totals[0].Credits, all.Totals[0].Count)
		}
	}
}
