package sqlite

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"cloudcredits/core"
	"cloudcredits/core/ledger"
	"cloudcredits/functions/credits"

	"github.com/shopspring/decimal"
)

// t0 is the tests' "now": every fixture is dated from it.
var t0 = time.Date(2025, 3, 14, 9, 26, 53, 589793238, time.UTC)

func dec(s string) decimal.Decimal { return decimal.RequireFromString(s) }

// openTemp opens a fresh store in the test's temporary folder, closed when
// the test ends.
func openTemp(t testing.TB) *Store {
	t.Helper()
	st, err := Open(filepath.Join(t.TempDir(), "ledger.db"))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		if n := st.unprepared.Load(); n > 0 {
			t.Errorf("%d queries ran without a prepared statement; add them to writeQueries or readQueries", n)
		}
		if err := st.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return st
}

func apply(t testing.TB, st ledger.Store, ops ...ledger.Op) {
	t.Helper()
	if err := st.Apply(context.Background(), ledger.Tx{At: t0, Ops: ops}); err != nil {
		t.Fatalf("Apply(%T…): %v", ops[0], err)
	}
}

func dump(t testing.TB, st ledger.Store) []string {
	t.Helper()
	d, err := st.Dump(context.Background())
	if err != nil {
		t.Fatalf("Dump: %v", err)
	}
	return d
}

// diff describes how two dumps differ, or "" when they are the same.
func diff(before, after []string) string {
	var out string
	for _, l := range before {
		if !slices.Contains(after, l) {
			out += "\n- " + l
		}
	}
	for _, l := range after {
		if !slices.Contains(before, l) {
			out += "\n+ " + l
		}
	}
	return out
}

func lot(contract, id string, amount string, from, expires time.Time) ledger.Lot {
	a := dec(amount)
	return ledger.Lot{
		ID: id, Contract: contract, Currency: core.Cloud, Kind: ledger.Shared, Source: ledger.SourcePurchase,
		Grant: id, Amount: a, Remaining: a, Held: decimal.Zero, Spent: decimal.Zero, Expired: decimal.Zero,
		Withdrawn: decimal.Zero, Refunded: decimal.Zero, GrantedAt: from, EffectiveFrom: from, ExpiresAt: expires,
	}
}

// order is an order of contract with every field set (a fulfilled card
// order), so a round trip proves each column is stored.
func order(contract, id string) ledger.Order {
	return ledger.Order{ID: id, Contract: contract, Status: ledger.OrderFulfilled, Currency: core.Forma,
		Credits: dec("250.5"), Packs: dec("3"), Channel: "reseller", UnitPrice: dec("1.1833"), Total: dec("296.43"),
		MoneyCurrency: ledger.USD, PriceBookVersion: "forma-2024-01", Payment: ledger.PayCard, Provider: "stripe",
		SessionID: "cs_test_1", CheckoutURL: "https://checkout.example/c/pay/cs_test_1?a=b|c", TestMode: true,
		Quote: "q_1", Lot: "lot_" + id, CreatedAt: t0, PaidAt: t0.Add(time.Nanosecond),
		FulfilledAt: t0.Add(2 * time.Nanosecond), CancelledAt: t0.Add(time.Hour)}
}

// checkLedger asserts the ledger's laws on every lot of the contracts: the
// counters conserve, and replaying the lot's entries from zero gives exactly
// its counters, with Amount the sum of its grant entries.
func checkLedger(t testing.TB, st ledger.Store, contracts ...string) {
	t.Helper()
	ctx := context.Background()
	for _, c := range contracts {
		lots, err := st.Lots(ctx, c, "", ledger.LotsPageMax)
		if err != nil {
			t.Fatalf("Lots(%s): %v", c, err)
		}
		for _, l := range lots {
			if !l.Conserves() {
				t.Errorf("lot %s/%s does not conserve: %+v", c, l.ID, l)
			}
			entries, err := st.Entries(ctx, c, l.ID)
			if err != nil {
				t.Fatalf("Entries(%s, %s): %v", c, l.ID, err)
			}
			replay := ledger.Lot{ID: l.ID, Amount: decimal.Zero}
			for _, e := range entries {
				replay = replay.Apply(e.Move)
				if e.Kind == ledger.EntryGrant {
					replay.Amount = replay.Amount.Add(e.Credits)
				}
			}
			for _, p := range []struct {
				name      string
				got, want decimal.Decimal
			}{
				{"amount", replay.Amount, l.Amount}, {"remaining", replay.Remaining, l.Remaining},
				{"held", replay.Held, l.Held}, {"spent", replay.Spent, l.Spent},
				{"expired", replay.Expired, l.Expired}, {"withdrawn", replay.Withdrawn, l.Withdrawn},
				{"refunded", replay.Refunded, l.Refunded},
			} {
				if !p.got.Equal(p.want) {
					t.Errorf("lot %s/%s: its %d entries give %s %s, the lot holds %s", c, l.ID, len(entries), p.name, p.got, p.want)
				}
			}
		}
	}
}

// fixture is a contract with one spending user and shared lots, driven
// through credits.Service as the API would.
type fixture struct {
	svc      *credits.Service
	contract string
	user     string
	prefix   string // of idempotency keys, so several processes can share a database
	keys     atomic.Int64
}

func newFixture(t testing.TB, st ledger.Store, contract string, lots ...string) *fixture {
	t.Helper()
	f := &fixture{svc: newFixtureService(st), contract: contract, user: "u1"}
	ctx := context.Background()
	c := ledger.Contract{ID: contract, Customer: "Acme", Entity: "acme", CoveredEntities: []string{}, Start: t0.AddDate(0, -1, 0),
		Channel: "list", MonthlyBaseline: dec("1000")}
	if _, err := f.svc.CreateContract(ctx, c, f.idem()); err != nil {
		t.Fatalf("CreateContract: %v", err)
	}
	if _, err := f.svc.AddUser(ctx, contract, ledger.UserRequest{User: f.user, Kind: ledger.Employee, Entity: "acme", CanSpend: true}, f.idem()); err != nil {
		t.Fatalf("AddUser: %v", err)
	}
	for i, amount := range lots {
		f.grant(t, fmt.Sprintf("L%d", i+1), amount)
	}
	return f
}

// newFixtureService runs the ledger on st with the clock stopped at t0.
func newFixtureService(st ledger.Store) *credits.Service {
	return credits.New(st, func() time.Time { return t0 })
}

func (f *fixture) idem() ledger.Idem {
	return ledger.Idem{Key: fmt.Sprintf("%sk-%s-%d", f.prefix, f.contract, f.keys.Add(1))}
}

func (f *fixture) grant(t testing.TB, lot, amount string) {
	t.Helper()
	req := ledger.GrantRequest{Lot: lot, Currency: core.Cloud, Credits: dec(amount), Source: ledger.SourcePurchase}
	if _, err := f.svc.GrantShared(context.Background(), f.contract, req, f.idem()); err != nil {
		t.Fatalf("GrantShared %s: %v", lot, err)
	}
}

func (f *fixture) spend(credits string) ledger.SpendRequest {
	return ledger.SpendRequest{Contract: f.contract, User: f.user, Entity: "acme", Service: "render",
		Currency: core.Cloud, Credits: dec(credits)}
}

func isCode(err error, code core.Code) bool { return core.ErrorCode(err) == code }

func asConflict(err error) (*ledger.ConflictError, bool) {
	var c *ledger.ConflictError
	ok := errors.As(err, &c)
	return c, ok
}
