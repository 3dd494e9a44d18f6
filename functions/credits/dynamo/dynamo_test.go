package dynamo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"cloudcredits/core"
	"cloudcredits/core/ledger"
	"cloudcredits/functions/credits"
	"cloudcredits/functions/credits/storetest"
	"cloudcredits/functions/internal/ddblocal"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/shopspring/decimal"
)

func TestMain(m *testing.M) { ddblocal.Main(m) }

// conformanceOps is the size of the suite's concurrency test here: the
// suite's default of at least 5,000 operations, as on SQLite. DynamoDB Local
// takes about 20 ms per operation on a two-core machine, so this test alone
// takes about 100 s; the ledger laws are worth it.
var conformanceOps = storetest.ConcurrentOps

// TestConformance runs the one suite every store adapter must pass, each
// subtest on a fresh table of the shared DynamoDB Local.
func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) ledger.Store { return newStreamed(t, false) },
		storetest.Parallel(), storetest.Ops(conformanceOps))
}

// TestConformanceEntriesFromStream runs the parts of the suite that spend,
// hold, settle and refund again on stores that leave a spend's entries to
// the stream (WithEntriesFromStream, as deployed): every audit catches up
// first, so the entries the stream writes must be exactly the ones the
// spend's transaction would have written.
func TestConformanceEntriesFromStream(t *testing.T) {
	storetest.Run(t, func(t *testing.T) ledger.Store { return newStreamed(t, true) },
		storetest.Parallel(), storetest.Ops(conformanceOps/5), storetest.Groups("Spending", "Holds", "Refunds", "Budgets", "Concurrency"))
}

// newStore creates a fresh table on DynamoDB Local and a Store on it; the
// table is deleted when the test ends.
func newStore(tb testing.TB, opts ...TableOption) *Store {
	tb.Helper()
	return newStoreWith(tb, opts, nil)
}

// newStoreWith is newStore with the Store's own options.
func newStoreWith(tb testing.TB, opts []TableOption, storeOpts []Option) *Store {
	tb.Helper()
	db := ddblocal.Client(ddblocal.Endpoint(tb))
	table := ddblocal.UniqueName(tb.Name())
	if err := CreateTable(context.Background(), db, table, opts...); err != nil {
		tb.Fatalf("CreateTable: %v", err)
	}
	tb.Cleanup(func() {
		_, _ = db.DeleteTable(context.Background(), &dynamodb.DeleteTableInput{TableName: aws.String(table)})
	})
	return New(db, table, storeOpts...)
}

// streamed is a Store with its usage roll-up caught up on demand, from
// DynamoDB Local's stream, as the roll-up function does in AWS.
type streamed struct {
	*Store
	reader *StreamReader
}

func (s streamed) CatchUp(ctx context.Context) error {
	if s.reader == nil {
		return nil
	}
	return s.reader.CatchUp(ctx)
}

func newStreamed(tb testing.TB, entriesFromStream bool) streamed {
	tb.Helper()
	if !entriesFromStream && !storetest.ReadsRollups(tb.Name()) {
		// A rule that reads no roll-up gets a table without the stream:
		// DynamoDB Local slows down for every table as its streams fill.
		return streamed{Store: newStore(tb, WithoutStream())}
	}
	var opts []Option
	if entriesFromStream {
		opts = append(opts, WithEntriesFromStream())
	}
	st := newStoreWith(tb, nil, opts)
	r, err := NewStreamReader(context.Background(), st, ddblocal.Streams(ddblocal.Endpoint(tb)))
	if err != nil {
		tb.Fatal(err)
	}
	return streamed{Store: st, reader: r}
}

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func dec(s string) decimal.Decimal { return decimal.RequireFromString(s) }

// lot is a shared lot of c1 granted at t0, expiring a year later, with
// `remaining` of `amount` still remaining and the rest held.
func lot(id, amount, remaining string) ledger.Lot {
	a, r := dec(amount), dec(remaining)
	return ledger.Lot{
		ID: id, Contract: "c1", Currency: core.Cloud, Kind: ledger.Shared, Source: ledger.SourcePurchase, Grant: id,
		Amount: a, Remaining: r, Held: a.Sub(r), Spent: decimal.Zero, Expired: decimal.Zero,
		Withdrawn: decimal.Zero, Refunded: decimal.Zero,
		GrantedAt: t0, EffectiveFrom: t0, ExpiresAt: t0.AddDate(1, 0, 0),
	}
}

func debit(id, credits string, at time.Time) ledger.MoveLot {
	d := dec(credits)
	return ledger.MoveLot{Lot: id, Contract: "c1", Move: ledger.Movement{Remaining: d.Neg(), Spent: d}, LiveAt: at}
}

func entry(id, lotID, credits string, at time.Time) ledger.PutEntry {
	d := dec(credits)
	return ledger.PutEntry{Entry: ledger.Entry{ID: id, Contract: "c1", Lot: lotID, Currency: core.Cloud,
		Kind: ledger.EntryConsume, Credits: d, Move: ledger.Movement{Remaining: d.Neg(), Spent: d}, Ref: "op", At: at}}
}

func attempt(id string) ledger.PutAttempt {
	return ledger.PutAttempt{Attempt: ledger.Attempt{ID: id, Contract: "c1", User: "u1", Entity: "e1",
		Currency: core.Cloud, Credits: dec("1"), Reason: "unknown_user", At: t0}}
}

func hold(id string, state ledger.HoldState) ledger.Hold {
	return ledger.Hold{ID: id, Contract: "c1", User: "u1", Entity: "e1", Currency: core.Cloud, Credits: dec("5"),
		Debits: []ledger.Debit{{Lot: "L1", Credits: dec("5")}}, State: state, CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)}
}

func consumption(id, refunded string) ledger.Consumption {
	return ledger.Consumption{ID: id, Contract: "c1", User: "u1", Entity: "e1", Currency: core.Cloud, Credits: dec("5"),
		Debits: []ledger.Debit{{Lot: "L1", Credits: dec("5")}}, CreatedAt: t0, Refunded: dec(refunded),
		Returned: []decimal.Decimal{dec(refunded)}}
}

func contract(version int64) ledger.Contract {
	return ledger.Contract{ID: "c1", Customer: "Acme", Entity: "e1", CoveredEntities: []string{"e2"},
		Start: t0, End: t0.AddDate(2, 0, 0), MonthlyBaseline: dec("1000.5"), Version: version}
}

func user(version int64) ledger.User {
	return ledger.User{Contract: "c1", ID: "u1", Kind: ledger.Employee, Entity: "e1", CanSpend: true, Active: true,
		AddedAt: t0, Version: version}
}

func idem(key string, created time.Time) ledger.PutIdempotency {
	return ledger.PutIdempotency{At: created, Record: ledger.IdempotencyRecord{Contract: "c1", Key: key,
		Fingerprint: "f-" + created.String(), Response: []byte(`{"ok":true}`), CreatedAt: created,
		ExpiresAt: created.Add(ledger.IdempotencyRetention)}}
}

func budgetUse(delta string, capped bool, limit string) ledger.AddBudgetUsage {
	op := ledger.AddBudgetUsage{Contract: "c1", Project: "p1", Currency: core.Cloud, Month: "2026-03", Delta: dec(delta), Capped: capped}
	if capped {
		op.Cap = dec(limit)
	}
	return op
}

// order is an invoice order of c1 in status.
func order(id string, status ledger.OrderStatus) ledger.Order {
	return ledger.Order{ID: id, Contract: "c1", Status: status, Currency: core.Cloud, Credits: dec("100"), Packs: dec("1"),
		Channel: "eba", UnitPrice: dec("1.25"), Total: dec("125"), MoneyCurrency: ledger.USD,
		PriceBookVersion: "cloud-2024-01", Payment: ledger.PayInvoice, CreatedAt: t0}
}

// atVersion is a record as an update writes it at version v.
func atVersion[R interface {
	ledger.Lot | ledger.Hold | ledger.Consumption | ledger.Order
}](r R, v int64) R {
	switch x := any(&r).(type) {
	case *ledger.Lot:
		x.Version = v
	case *ledger.Hold:
		x.Version = v
	case *ledger.Consumption:
		x.Version = v
	case *ledger.Order:
		x.Version = v
	}
	return r
}

func apply(t *testing.T, st *Store, ops ...ledger.Op) {
	t.Helper()
	if err := st.Apply(context.Background(), ledger.Tx{At: t0, Ops: ops}); err != nil {
		t.Fatalf("Apply: %v", err)
	}
}

func dump(t *testing.T, st *Store) []string {
	t.Helper()
	lines, err := st.Dump(context.Background())
	if err != nil {
		t.Fatalf("Dump: %v", err)
	}
	return lines
}

func mustLot(t *testing.T, st *Store, id string) ledger.Lot {
	t.Helper()
	l, err := st.Lot(context.Background(), "c1", id)
	if err != nil {
		t.Fatalf("Lot %s: %v", id, err)
	}
	return l
}

// TestApplyRefusesFailedConditions checks every op's condition: the
// transaction is refused as a ConflictError naming the failing op, and
// nothing at all is written (the dump is unchanged), although an
// unconditional write comes first in every transaction.
func TestApplyRefusesFailedConditions(t *testing.T) {
	st := newStore(t)
	ctx := context.Background()
	end := t0.AddDate(1, 0, 0)
	apply(t, st,
		ledger.CreateLot{Lot: lot("L1", "10", "10")},
		ledger.CreateLot{Lot: lot("L2", "10", "5")}, // 5 held
		ledger.PutHold{Hold: hold("h1", ledger.HoldOpen)},
		ledger.PutConsumption{Consumption: consumption("k1", "2")},
		ledger.PutContract{Contract: contract(1)},
		ledger.PutUser{User: user(1)},
		ledger.MarkGrant{Contract: "c1", User: "u1"},
		entry("op1.1", "L1", "1", t0),
		idem("key1", t0),
		budgetUse("8", true, "10"),
		ledger.PutOrder{Order: order("o1", ledger.OrderPending)},
	)
	later := t0.Add(time.Hour)
	tests := []struct {
		name string
		op   ledger.Op
	}{
		{"debit beyond remaining", debit("L1", "10.000001", later)},
		{"release beyond held", ledger.MoveLot{Lot: "L2", Contract: "c1",
			Move: ledger.Movement{Held: dec("-5.5"), Remaining: dec("5.5")}}},
		{"lot not yet effective", debit("L1", "1", t0.Add(-time.Nanosecond))},
		{"lot ended at LiveAt", debit("L1", "1", end)},
		{"lot of another contract", ledger.MoveLot{Lot: "L1", Contract: "c2",
			Move: ledger.Movement{Remaining: dec("-1"), Spent: dec("1")}}},
		{"lot missing", debit("L9", "1", later)},
		{"refund into a missing lot", ledger.MoveLot{Lot: "L9", Contract: "c1",
			Move: ledger.Movement{Remaining: dec("1"), Refunded: dec("1")}}},
		{"lot exists", ledger.CreateLot{Lot: lot("L1", "1", "1")}},
		{"entry exists", entry("op1.1", "L1", "1", t0)},
		{"live idempotency record", idem("key1", later)},
		{"idempotency record live one ns before expiry", idem("key1", t0.Add(ledger.IdempotencyRetention-time.Nanosecond))},
		{"budget over cap", budgetUse("2.000001", true, "10")},
		{"first budget use over cap", ledger.AddBudgetUsage{Contract: "c1", Project: "p2", Currency: core.Cloud,
			Month: "2026-03", Delta: dec("11"), Capped: true, Cap: dec("10")}},
		{"hold exists", ledger.PutHold{Hold: hold("h1", ledger.HoldOpen)}},
		{"hold not at the version read", ledger.UpdateHold{Hold: atVersion(hold("h1", ledger.HoldReleased), 3)}},
		{"hold missing", ledger.UpdateHold{Hold: atVersion(hold("h9", ledger.HoldReleased), 2)}},
		{"consumption exists", ledger.PutConsumption{Consumption: consumption("k1", "0")}},
		{"consumption not at the version read", ledger.UpdateConsumption{Consumption: atVersion(consumption("k1", "3"), 3)}},
		{"contract exists", ledger.PutContract{Contract: contract(1)}},
		{"contract version skipped", ledger.UpdateContract{Contract: contract(3)}},
		{"contract version repeated", ledger.UpdateContract{Contract: contract(1)}},
		{"contract missing", ledger.UpdateContract{Contract: func() ledger.Contract { c := contract(2); c.ID = "c9"; return c }()}},
		{"user exists", ledger.PutUser{User: user(1)}},
		{"user version skipped", ledger.PutUser{User: user(3)}},
		{"grant marked", ledger.MarkGrant{Contract: "c1", User: "u1"}},
		{"lot not at the version read", ledger.UpdateLot{Lot: atVersion(lot("L1", "10", "10"), 3)}},
		{"end of a missing lot", ledger.UpdateLot{Lot: atVersion(lot("L9", "10", "10"), 2)}},
		{"order exists", ledger.PutOrder{Order: order("o1", ledger.OrderPending)}},
		{"order not at the version read", ledger.UpdateOrder{Order: atVersion(order("o1", ledger.OrderFulfilled), 3)}},
		{"order missing", ledger.UpdateOrder{Order: atVersion(order("o9", ledger.OrderFulfilled), 2)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := dump(t, st)
			// An unconditional write and a passing conditional one come
			// first, so "nothing written" proves the transaction is atomic.
			tx := ledger.Tx{At: later, Ops: []ledger.Op{attempt("a-" + tt.name), entry("op2.1", "L1", "1", later), tt.op}}
			err := st.Apply(ctx, tx)
			var conflict *ledger.ConflictError
			if !errors.As(err, &conflict) {
				t.Fatalf("Apply = %v, want a *ledger.ConflictError", err)
			}
			if conflict.Op != 2 {
				t.Errorf("ConflictError.Op = %d, want 2 (reason %q)", conflict.Op, conflict.Reason)
			}
			if !strings.HasPrefix(conflict.Reason, "ConditionalCheckFailed") {
				t.Errorf("ConflictError.Reason = %q, want a failed condition", conflict.Reason)
			}
			if core.ErrorCode(err) != core.CodeConflict {
				t.Errorf("ErrorCode = %s, want conflict", core.ErrorCode(err))
			}
			if after := dump(t, st); !slices.Equal(before, after) {
				t.Errorf("a refused transaction changed the table:\nbefore %q\nafter  %q", before, after)
			}
		})
	}
}

// TestApplyPassesAtTheBoundaries checks the edges of each numeric
// condition from the passing side.
func TestApplyPassesAtTheBoundaries(t *testing.T) {
	st := newStore(t)
	ctx := context.Background()
	apply(t, st, ledger.CreateLot{Lot: lot("L1", "10", "10")}, idem("key1", t0), budgetUse("8", true, "10"))
	end := t0.AddDate(1, 0, 0)

	apply(t, st, debit("L1", "4", t0))
	apply(t, st, debit("L1", "5.999999", end.Add(-time.Nanosecond)))
	l := mustLot(t, st, "L1")
	if !l.Remaining.Equal(dec("0.000001")) || !l.Spent.Equal(dec("9.999999")) || !l.Conserves() || l.Version != 3 {
		t.Errorf("after two debits lot (version %d) = remaining %s spent %s, want 0.000001 and 9.999999, conserving", l.Version, l.Remaining, l.Spent)
	}
	apply(t, st, debit("L1", "0.000001", t0.Add(time.Hour)))
	if l := mustLot(t, st, "L1"); !l.Remaining.IsZero() {
		t.Errorf("remaining = %s, want 0", l.Remaining)
	}

	apply(t, st, budgetUse("2", true, "10"))
	apply(t, st, budgetUse("-3", true, "10"), budgetUse0("p2", "10", "10"))
	if used, err := st.BudgetUsed(ctx, "c1", "p1", core.Cloud, "2026-03"); err != nil || !used.Equal(dec("7")) {
		t.Errorf("BudgetUsed = %s, %v; want 7", used, err)
	}

	// A record that expires at At no longer answers at At, so its key is free.
	expiry := t0.Add(ledger.IdempotencyRetention)
	if _, ok, err := st.Idempotency(ctx, "c1", "key1", expiry.Add(-time.Nanosecond)); err != nil || !ok {
		t.Errorf("Idempotency 1 ns before expiry = %v, %v; want the record", ok, err)
	}
	if _, ok, err := st.Idempotency(ctx, "c1", "key1", expiry); err != nil || ok {
		t.Errorf("Idempotency at expiry = %v, %v; want none", ok, err)
	}
	apply(t, st, idem("key1", expiry))
	r, ok, err := st.Idempotency(ctx, "c1", "key1", expiry)
	if err != nil || !ok || !r.CreatedAt.Equal(expiry) || string(r.Response) != `{"ok":true}` {
		t.Errorf("Idempotency after reuse = %+v, %v, %v; want the new record", r, ok, err)
	}
}

func budgetUse0(project, delta, limit string) ledger.AddBudgetUsage {
	op := budgetUse(delta, true, limit)
	op.Project = project
	return op
}

func TestApplyRefusesWhatDynamoDBCannotDo(t *testing.T) {
	st := newStore(t)
	ctx := context.Background()
	var ops []ledger.Op
	for i := range TransactItemsMax + 1 {
		ops = append(ops, attempt(fmt.Sprint(i)))
	}
	err := st.Apply(ctx, ledger.Tx{At: t0, Ops: ops})
	var conflict *ledger.ConflictError
	if err == nil || errors.As(err, &conflict) {
		t.Errorf("Apply of %d items = %v, want a plain error", len(ops), err)
	}
	err = st.Apply(ctx, ledger.Tx{At: t0, Ops: []ledger.Op{entry("e.1", "L1", "1", t0), entry("e.1", "L1", "1", t0)}})
	if err == nil || errors.As(err, &conflict) {
		t.Errorf("Apply writing one entry twice = %v, want a plain error", err)
	}
	unbalanced := debit("L1", "1", t0)
	unbalanced.Move.Spent = dec("2")
	if err := st.Apply(ctx, ledger.Tx{At: t0, Ops: []ledger.Op{unbalanced}}); err == nil {
		t.Errorf("Apply of a movement that does not conserve = nil, want an error")
	}
	if lines := dump(t, st); len(lines) != 0 {
		t.Errorf("refused transactions wrote %q", lines)
	}
}

// TestReadsRoundTrip writes each entity and reads it back exactly.
func TestReadsRoundTrip(t *testing.T) {
	st := newStore(t)
	ctx := context.Background()
	big := lot("L-big", "999999999999.999999", "999999999999.999999")
	apply(t, st, ledger.PutContract{Contract: contract(1)}, ledger.PutUser{User: user(1)},
		ledger.CreateLot{Lot: big}, ledger.CreateLot{Lot: lot("L-a", "1", "1")},
		ledger.PutBudget{Budget: ledger.Budget{Contract: "c1", Project: "p1", Currency: core.Cloud, MonthlyCap: dec("12.5")}},
		ledger.PutHold{Hold: hold("h1", ledger.HoldOpen)}, ledger.PutConsumption{Consumption: consumption("k1", "0")},
		attempt("a2"), ledger.MarkGrant{Contract: "c1", User: "u1"})
	first, second0 := order("o2", ledger.OrderPending), order("o1", ledger.OrderPending)
	second0.CreatedAt = t0.Add(time.Second)
	apply(t, st, ledger.PutOrder{Order: first}, ledger.PutOrder{Order: second0})
	if os, err := st.Orders(ctx, "c1"); err != nil || len(os) != 2 || os[0].ID != "o2" || os[1].ID != "o1" {
		t.Errorf("Orders = %+v, %v; want o2 then o1, oldest first", os, err)
	}
	if os, err := st.Orders(ctx, "c9"); err != nil || os == nil || len(os) != 0 {
		t.Errorf("Orders(c9) = %#v, %v; want an empty list", os, err)
	}
	if c, err := st.OrderContract(ctx, "o1"); err != nil || c != "c1" {
		t.Errorf("OrderContract(o1) = %q, %v; want c1", c, err)
	}
	if _, err := st.OrderContract(ctx, "o9"); core.ErrorCode(err) != core.CodeNotFound {
		t.Errorf("OrderContract(o9) = %v, want not_found", err)
	}

	if c, err := st.Contract(ctx, "c1"); err != nil || c.Version != 1 || !c.MonthlyBaseline.Equal(dec("1000.5")) ||
		!slices.Equal(c.CoveredEntities, []string{"e2"}) || !c.End.Equal(t0.AddDate(2, 0, 0)) {
		t.Errorf("Contract = %+v, %v", c, err)
	}
	if u, err := st.User(ctx, "c1", "u1"); err != nil || u != user(1) {
		t.Errorf("User = %+v, %v; want %+v", u, err, user(1))
	}
	if us, err := st.Users(ctx, "c1"); err != nil || len(us) != 1 {
		t.Errorf("Users = %+v, %v", us, err)
	}
	if g, err := st.Granted(ctx, "c1", "u1"); err != nil || !g {
		t.Errorf("Granted(u1) = %v, %v; want true", g, err)
	}
	if g, err := st.Granted(ctx, "c1", "u2"); err != nil || g {
		t.Errorf("Granted(u2) = %v, %v; want false", g, err)
	}
	lots, err := st.Lots(ctx, "c1", "", ledger.LotsPageMax)
	if err != nil || len(lots) != 2 || lots[0].ID != "L-a" || lots[1].ID != "L-big" {
		t.Fatalf("Lots = %+v, %v; want L-a, L-big", lots, err)
	}
	if got := lots[1]; !got.Remaining.Equal(big.Remaining) || !got.Amount.Equal(big.Amount) || !got.ExpiresAt.Equal(big.ExpiresAt) || !got.Conserves() {
		t.Errorf("big lot = %+v, want %+v", got, big)
	}
	if h, err := st.Hold(ctx, "c1", "h1"); err != nil || h.State != ledger.HoldOpen || len(h.Debits) != 1 || !h.Debits[0].Credits.Equal(dec("5")) {
		t.Errorf("Hold = %+v, %v", h, err)
	}
	if c, err := st.Consumption(ctx, "c1", "k1"); err != nil || !c.Refunded.IsZero() || len(c.Returned) != 1 {
		t.Errorf("Consumption = %+v, %v", c, err)
	}
	if b, ok, err := st.Budget(ctx, "c1", "p1", core.Cloud); err != nil || !ok || !b.MonthlyCap.Equal(dec("12.5")) {
		t.Errorf("Budget = %+v, %v, %v", b, ok, err)
	}
	if _, ok, err := st.Budget(ctx, "c1", "p1", core.Forma); err != nil || ok {
		t.Errorf("Budget in forma = %v, %v; want none", ok, err)
	}
	if used, err := st.BudgetUsed(ctx, "c1", "p1", core.Cloud, "2026-03"); err != nil || !used.IsZero() {
		t.Errorf("BudgetUsed with no counter = %s, %v; want 0", used, err)
	}
	if as, err := st.Attempts(ctx, "c1"); err != nil || len(as) != 1 || as[0].ID != "a2" {
		t.Errorf("Attempts = %+v, %v", as, err)
	}
	if c, err := st.LotContract(ctx, "L-a"); err != nil || c != "c1" {
		t.Errorf("LotContract(L-a) = %q, %v; want c1", c, err)
	}
	if _, err := st.LotContract(ctx, "L-none"); core.ErrorCode(err) != core.CodeNotFound {
		t.Errorf("LotContract(L-none) = %v, want not_found", err)
	}
	lines := dump(t, st)
	var kinds []string
	for _, l := range lines {
		kinds = append(kinds, l[:strings.IndexByte(l, '|')])
	}
	kinds = slices.Compact(kinds)
	// usage_sums: the marker every contract is created with (usagesum.go).
	want := []string{"attempts", "budgets", "consumptions", "contracts", "grants", "holds", "lot_contracts", "lots",
		"order_contracts", "orders", "usage_sums", "users"}
	if !slices.Equal(kinds, want) {
		t.Errorf("dump kinds = %v, want %v", kinds, want)
	}
}

func TestLotContractRefusesAmbiguousIDs(t *testing.T) {
	st := newStore(t)
	other := lot("L1", "1", "1")
	other.Contract = "c2"
	apply(t, st, ledger.CreateLot{Lot: lot("L1", "1", "1")}, ledger.CreateLot{Lot: other})
	if c, err := st.LotContract(context.Background(), "L1"); err == nil {
		t.Errorf("LotContract(L1 of c1 and c2) = %q, want an error", c)
	}
	otherOrder := order("o1", ledger.OrderPending)
	otherOrder.Contract = "c2"
	apply(t, st, ledger.PutOrder{Order: order("o1", ledger.OrderPending)}, ledger.PutOrder{Order: otherOrder})
	if c, err := st.OrderContract(context.Background(), "o1"); core.ErrorCode(err) != core.CodeConflict {
		t.Errorf("OrderContract(o1 of c1 and c2) = %q, %v; want a conflict", c, err)
	}
}

// TestEveryFieldRoundTrips writes one of each entity with every field set
// and reads it back equal, so a field added to core/ledger fails here until
// the codec stores it.
func TestEveryFieldRoundTrips(t *testing.T) {
	st := newStore(t)
	ctx := context.Background()
	at := t0.Add(123456789 * time.Nanosecond)
	c := ledger.Contract{ID: "c1", Customer: "Acme", Entity: "e1", CoveredEntities: []string{"e2", "e3"},
		ContractorCoverage: true, Start: t0, End: t0.AddDate(2, 0, 0), ExtensionMonths: 3, Channel: "reseller",
		MonthlyBaseline: dec("1000.25"), PlanActive: true, TerminatedAt: at, Version: 1, NotifyEmail: "admin@acme.example"}
	u := ledger.User{Contract: "c1", ID: "u1", Kind: ledger.Contractor, Entity: "e2", CanSpend: true, Active: true,
		AddedAt: t0, RemovedAt: at, Version: 1}
	l := ledger.Lot{ID: "L1", Contract: "c1", Currency: core.Forma, Kind: ledger.Individual, Owner: "u1",
		Source: ledger.SourceMigration, Grant: "g1", Order: "o1", Amount: dec("9.000001"), Remaining: dec("1.000001"),
		Held: dec("2"), Spent: dec("3"), Expired: dec("4"), Withdrawn: dec("5"), Refunded: dec("6"),
		GrantedAt: t0, EffectiveFrom: at, ExpiresAt: t0.AddDate(1, 0, 0), WithdrawNoticeAt: at,
		ClosesAt: at.Add(ledger.WithdrawalNotice), Version: 1, Retired: true}
	debits := []ledger.Debit{{Lot: "L1", Credits: dec("1.5")}, {Lot: "L2", Credits: dec("2")}}
	h := ledger.Hold{ID: "h1", Contract: "c1", User: "u1", Entity: "e2", Project: "p1", Service: "render",
		Currency: core.Forma, Credits: dec("3.5"), Debits: debits, State: ledger.HoldSettled, CreatedAt: t0,
		ExpiresAt: at, ClosedAt: at, Consumption: "k1", Version: 1}
	k := ledger.Consumption{ID: "k1", Contract: "c1", User: "u1", Entity: "e2", Project: "p1", Service: "render",
		Currency: core.Forma, Credits: dec("3.5"), Debits: debits, Hold: "h1", CreatedAt: at, Refunded: dec("1"),
		Returned: []decimal.Decimal{dec("1"), dec("0")}, BudgetMonth: "2026-02", Version: 1}
	e := ledger.Entry{ID: "op.1", Contract: "c1", Lot: "L1", Currency: core.Forma, Kind: ledger.EntryRefund,
		Credits: dec("1"), Move: ledger.Movement{Remaining: dec("1"), Held: dec("-2"), Spent: dec("3"),
			Expired: dec("-4"), Withdrawn: dec("5"), Refunded: dec("3")}, Ref: "k1", At: at}
	b := ledger.Budget{Contract: "c1", Project: "p1", Currency: core.Forma, MonthlyCap: dec("77.7")}
	a := ledger.Attempt{ID: "a1", Contract: "c1", User: "u1", Entity: "e9", Kind: ledger.Guest, Service: "render",
		Currency: core.Forma, Credits: dec("2.5"), Reason: "guest_identity", At: at}
	r := ledger.IdempotencyRecord{Contract: "c1", Key: "key #1/ é", Fingerprint: "fp", Response: []byte("{}"),
		CreatedAt: at, ExpiresAt: at.Add(ledger.IdempotencyRetention)}
	use := ledger.Usage{Key: ledger.UsageKey{Contract: "c1", Month: "2026-03", Currency: core.Forma, User: "u1",
		Service: "render", Project: "p1", Entity: "e2"}, Credits: dec("4.25"), Count: 2}
	o := ledger.Order{ID: "o1", Contract: "c1", Status: ledger.OrderFulfilled, Currency: core.Forma, Credits: dec("250.5"),
		Packs: dec("3"), Channel: "reseller", UnitPrice: dec("1.1833"), Total: dec("296.43"), MoneyCurrency: ledger.USD,
		PriceBookVersion: "forma-2024-01", Payment: ledger.PayCard, Provider: "stripe", SessionID: "cs_test_1",
		CheckoutURL: "https://checkout.example/c/pay/cs_test_1", TestMode: true, Quote: "q1", Lot: "lot_o1",
		CreatedAt: t0, PaidAt: at, FulfilledAt: at.Add(time.Nanosecond), CancelledAt: at.Add(time.Hour), Version: 1}
	n := ledger.Notification{ID: "withdrawal:c1:L1:x", Contract: "c1", Kind: ledger.KindWithdrawalNotice, To: "admin@acme.example",
		Subject: "subject é", Body: "body\nline 2", CreatedAt: at, State: ledger.NotificationSent, SentAt: at.Add(time.Second),
		ClaimedUntil: at.Add(time.Second + 7*time.Nanosecond), Version: 1}
	written := []any{c, u, l, h, k, e, b, a, r, use, o, n}
	for _, v := range written {
		allSet(t, v)
	}
	apply(t, st, ledger.PutContract{Contract: c}, ledger.PutUser{User: u}, ledger.CreateLot{Lot: l},
		ledger.PutHold{Hold: h}, ledger.PutConsumption{Consumption: k}, ledger.PutEntry{Entry: e},
		ledger.PutBudget{Budget: b}, ledger.PutAttempt{Attempt: a}, ledger.PutIdempotency{Record: r, At: at},
		ledger.PutOrder{Order: o}, ledger.PutNotification{Notification: n})
	// A usage row beside a consumption is left to the stream's roll-up;
	// alone it is written as it is.
	apply(t, st, ledger.AddUsage{Key: use.Key, Credits: use.Credits, Count: use.Count})

	gotC, err1 := st.Contract(ctx, "c1")
	gotU, err2 := st.User(ctx, "c1", "u1")
	gotL, err3 := st.Lot(ctx, "c1", "L1")
	gotH, err4 := st.Hold(ctx, "c1", "h1")
	gotK, err5 := st.Consumption(ctx, "c1", "k1")
	gotE, err6 := st.Entries(ctx, "c1", "L1")
	gotB, _, err7 := st.Budget(ctx, "c1", "p1", core.Forma)
	gotA, err8 := st.Attempts(ctx, "c1")
	gotR, _, err9 := st.Idempotency(ctx, "c1", r.Key, at)
	gotUse, err10 := st.Usage(ctx, "c1", "2026-03", "2026-03")
	gotO, err11 := st.Order(ctx, "c1", "o1")
	gotN, err12 := st.Notifications(ctx, "c1")
	if err := errors.Join(err1, err2, err3, err4, err5, err6, err7, err8, err9, err10, err11, err12); err != nil {
		t.Fatal(err)
	}
	if len(gotE) != 1 || len(gotA) != 1 || len(gotUse) != 1 || len(gotN) != 1 {
		t.Fatalf("read %d entries, %d attempts, %d usage rows, %d notifications; want 1 each", len(gotE), len(gotA), len(gotUse), len(gotN))
	}
	read := []any{gotC, gotU, gotL, gotH, gotK, gotE[0], gotB, gotA[0], gotR, gotUse[0], gotO, gotN[0]}
	for i := range written {
		w, _ := json.Marshal(written[i])
		g, _ := json.Marshal(read[i])
		if string(w) != string(g) {
			t.Errorf("%T round trip:\n got %s\nwant %s", written[i], g, w)
		}
	}
}

// allSet fails the test for every zero field of struct v.
func allSet(t *testing.T, v any) {
	t.Helper()
	rv := reflect.ValueOf(v)
	for i := range rv.NumField() {
		if rv.Field(i).IsZero() {
			t.Errorf("%T.%s is zero in the fixture: set it (and store it)", v, rv.Type().Field(i).Name)
		}
	}
}

func second[T any](_ T, err error) error { return err }

// TestEntriesInWriteOrder: entries come back in the order they were
// written, whatever their request times, and within one write by id with
// ".10" after ".9".
func TestEntriesInWriteOrder(t *testing.T) {
	st := newStore(t)
	var want []string
	var first []ledger.Op
	for i := 12; i >= 1; i-- {
		first = append(first, entry(fmt.Sprintf("op_b.%d", i), "L1", "1", t0.Add(time.Hour)))
	}
	for i := 1; i <= 12; i++ {
		want = append(want, fmt.Sprintf("op_b.%d", i))
	}
	apply(t, st, first...)
	// Written later, planned earlier, with ids that sort first.
	apply(t, st, entry("op_a.1", "L1", "1", t0), entry("op_x.1", "L2", "1", t0))
	apply(t, st, entry("op_a.2", "L1", "1", t0))
	want = append(want, "op_a.1", "op_a.2")
	es, err := st.Entries(context.Background(), "c1", "L1")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range es {
		got = append(got, e.ID)
	}
	if !slices.Equal(got, want) {
		t.Errorf("Entries = %v\nwant      %v", got, want)
	}
}

func TestUsageByMonth(t *testing.T) {
	st := newStore(t)
	ctx := context.Background()
	use := func(month, service, credits string, n int64) ledger.AddUsage {
		return ledger.AddUsage{Key: ledger.UsageKey{Contract: "c1", Month: month, Currency: core.Cloud, User: "u1",
			Service: service, Entity: "e1"}, Credits: dec(credits), Count: n}
	}
	apply(t, st, use("2026-01", "render", "1.5", 1), use("2026-02", "render", "2", 1), use("2026-03", "", "4", 1))
	apply(t, st, use("2026-02", "render", "0.25", 1), use("2026-01", "render", "-0.5", 0))
	rows, err := st.Usage(ctx, "c1", "2026-01", "2026-02")
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 2 || !rows[0].Credits.Equal(dec("1")) || rows[0].Count != 1 ||
		!rows[1].Credits.Equal(dec("2.25")) || rows[1].Count != 2 || rows[1].Key.Service != "render" || rows[1].Key.Project != "" {
		t.Errorf("Usage Jan–Feb = %+v", rows)
	}
	if rows, err := st.Usage(ctx, "c1", "2026-03", "2026-03"); err != nil || len(rows) != 1 || rows[0].Key.Service != "" {
		t.Errorf("Usage Mar = %+v, %v", rows, err)
	}
}

// TestSweepIndex: EndedLots and ExpiredHolds find work across contracts
// through the sparse index, filter what is done, and finished lots leave
// the index.
func TestSweepIndex(t *testing.T) {
	st := newStore(t)
	ctx := context.Background()
	var ops []ledger.Op
	for i := range 20 { // enough to land on several shards
		l := lot(fmt.Sprintf("L%02d", i), "10", "10")
		l.Contract = fmt.Sprintf("c%d", i%3)
		l.ExpiresAt = t0.Add(time.Duration(i+1) * time.Hour)
		ops = append(ops, ledger.CreateLot{Lot: l})
	}
	noEnd := lot("Lforever", "1", "1")
	noEnd.ExpiresAt = time.Time{}
	ops = append(ops, ledger.CreateLot{Lot: noEnd})
	h1, h2 := hold("h1", ledger.HoldOpen), hold("h2", ledger.HoldOpen)
	h2.ExpiresAt = t0.Add(48 * time.Hour)
	ops = append(ops, ledger.PutHold{Hold: h1}, ledger.PutHold{Hold: h2})
	apply(t, st, ops...)

	at := t0.Add(5 * time.Hour) // L00..L04 ended
	lots, err := st.EndedLots(ctx, at, 100)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, l := range lots {
		ids = append(ids, l.ID)
	}
	if want := []string{"L00", "L01", "L02", "L03", "L04"}; !slices.Equal(ids, want) {
		t.Errorf("EndedLots = %v, want %v", ids, want)
	}
	if lots, _ := st.EndedLots(ctx, at, 2); len(lots) != 2 || lots[0].ID != "L00" {
		t.Errorf("EndedLots limit 2 = %d lots", len(lots))
	}

	// Close out L00 as the sweeper does; it is then finished: once
	// ledger.RetireGrace has passed since its end, EndedLots hands it to the
	// sweep to retire (reading writes nothing), and retired it leaves the
	// index.
	l0 := lots[0]
	apply(t, st, ledger.PlanExpireLot(l0, ledger.Env{At: at, OpID: "sweep"}).Ops...)
	indexed := func() bool {
		it, err := st.get(ctx, contractPK(l0.Contract), lotSK(l0.ID))
		if err != nil {
			t.Fatal(err)
		}
		_, ok := it[AttrGSI1PK]
		return ok
	}
	if lots, _ := st.EndedLots(ctx, at, 100); len(lots) != 4 || !indexed() {
		t.Errorf("EndedLots after closing one = %d lots, indexed %v; want 4, still indexed", len(lots), indexed())
	}
	graced := l0.End().Add(ledger.RetireGrace)
	before := dump(t, st)
	lots, _ = st.EndedLots(ctx, graced, 100)
	if len(lots) != 20 || lots[0].ID != "L00" || !indexed() {
		t.Errorf("EndedLots after the grace = %d lots (first %s), indexed %v; want 20 with L00 to retire, still indexed", len(lots), lots[0].ID, indexed())
	}
	if after := dump(t, st); !slices.Equal(before, after) {
		t.Errorf("EndedLots wrote: %v", after)
	}
	read := func() ledger.Lot {
		l, err := st.Lot(ctx, l0.Contract, l0.ID)
		if err != nil {
			t.Fatal(err)
		}
		return l
	}
	retire, ok := ledger.PlanRetireLot(read(), ledger.Env{At: graced})
	if !ok {
		t.Fatal("L00 is not retirable after the grace")
	}
	apply(t, st, retire.Ops...)
	if lots, _ := st.EndedLots(ctx, graced, 100); len(lots) != 19 || indexed() || !read().Retired {
		t.Errorf("EndedLots after retiring L00 = %d lots, indexed %v; want 19, L00 out of the index", len(lots), indexed())
	}

	// Ending a lot moves its end earlier: the index follows.
	forever := mustLot(t, st, "Lforever")
	apply(t, st, forever.Ended(t0.Add(time.Minute), time.Time{}, time.Time{}))
	if lots, _ := st.EndedLots(ctx, at, 100); len(lots) != 5 || lots[0].ID != "Lforever" {
		t.Errorf("EndedLots after ending Lforever = %+v", lots)
	}
	if err := st.Apply(ctx, ledger.Tx{At: at, Ops: []ledger.Op{debit("Lforever", "1", t0.Add(time.Minute))}}); err == nil {
		t.Errorf("debit at the new end succeeded")
	}

	holds, err := st.ExpiredHolds(ctx, t0.Add(time.Hour), 100)
	if err != nil || len(holds) != 1 || holds[0].ID != "h1" {
		t.Errorf("ExpiredHolds = %+v, %v; want h1", holds, err)
	}
	apply(t, st, ledger.UpdateHold{Hold: atVersion(hold("h1", ledger.HoldExpired), 2)})
	if holds, err := st.ExpiredHolds(ctx, t0.Add(time.Hour), 100); err != nil || len(holds) != 0 {
		t.Errorf("ExpiredHolds after release = %+v, %v; want none", holds, err)
	}
}

// setup makes contract c1 (user u1, an employee who may spend) through the
// service, with a shared lot of credits.
func setup(tb testing.TB, svc *credits.Service, sharedCredits string) {
	tb.Helper()
	ctx := context.Background()
	start := time.Now().UTC().Add(-time.Hour)
	c := ledger.Contract{ID: "c1", Customer: "Acme", Entity: "e1", Start: start, End: start.AddDate(2, 0, 0), PlanActive: true}
	if _, err := svc.CreateContract(ctx, c, ledger.Idem{Key: "setup-contract"}); err != nil {
		tb.Fatalf("CreateContract: %v", err)
	}
	u := ledger.UserRequest{User: "u1", Kind: ledger.Employee, Entity: "e1", CanSpend: true}
	if _, err := svc.AddUser(ctx, "c1", u, ledger.Idem{Key: "setup-user"}); err != nil {
		tb.Fatalf("AddUser: %v", err)
	}
	if sharedCredits != "" {
		g := ledger.GrantRequest{Lot: "shared", Currency: core.Cloud, Credits: dec(sharedCredits), Source: ledger.SourcePurchase}
		if _, err := svc.GrantShared(ctx, "c1", g, ledger.Idem{Key: "setup-grant"}); err != nil {
			tb.Fatalf("GrantShared: %v", err)
		}
	}
}

// checkLedger asserts conservation on every lot of c1 and that each lot's
// entries sum to its counters.
func checkLedger(t *testing.T, st *Store) []ledger.Lot {
	t.Helper()
	ctx := context.Background()
	lots, err := st.Lots(ctx, "c1", "", ledger.LotsPageMax)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range lots {
		if !l.Conserves() {
			t.Errorf("lot %s does not conserve: %+v", l.ID, l)
		}
		es, err := st.Entries(ctx, "c1", l.ID)
		if err != nil {
			t.Fatal(err)
		}
		var sum ledger.Lot
		for _, e := range es {
			sum = sum.Apply(e.Move)
		}
		if !sum.Remaining.Equal(l.Remaining) || !sum.Held.Equal(l.Held) || !sum.Spent.Equal(l.Spent) ||
			!sum.Expired.Equal(l.Expired) || !sum.Withdrawn.Equal(l.Withdrawn) || !sum.Refunded.Equal(l.Refunded) {
			t.Errorf("lot %s: entries sum to %+v, counters are %+v", l.ID, sum, l)
		}
	}
	return lots
}

// TestConcurrentConsume: 32 spenders race for one 100-credit lot through
// the service; the lot never goes below zero and every success is paid for.
func TestConcurrentConsume(t *testing.T) {
	st := newStore(t)
	svc := credits.New(st, nil)
	setup(t, svc, "") // only the user's 100-credit individual lot
	ctx := context.Background()
	const spenders, each = 32, 7
	var wg sync.WaitGroup
	var mu sync.Mutex
	ok, refused := 0, map[core.Code]int{}
	for i := range spenders {
		wg.Go(func() {
			req := ledger.SpendRequest{Contract: "c1", User: "u1", Entity: "e1", Currency: core.Cloud, Credits: decimal.NewFromInt(each)}
			_, err := svc.Consume(ctx, req, ledger.Idem{Key: fmt.Sprintf("spend-%d", i)})
			mu.Lock()
			defer mu.Unlock()
			if err == nil {
				ok++
				return
			}
			refused[core.ErrorCode(err)]++
			if c := core.ErrorCode(err); c != core.CodeInsufficientCredits && c != core.CodeConflict {
				t.Errorf("Consume: %v", err)
			}
		})
	}
	wg.Wait()
	lots := checkLedger(t, st)
	if len(lots) != 1 {
		t.Fatalf("lots = %+v, want the one individual lot", lots)
	}
	l := lots[0]
	t.Logf("%d consumed, refused %v, lot remaining %s", ok, refused, l.Remaining)
	if l.Remaining.Sign() < 0 {
		t.Fatalf("lot went negative: %s", l.Remaining)
	}
	if want := decimal.NewFromInt(int64(ok * each)); !l.Spent.Equal(want) {
		t.Errorf("spent %s, but %d consumptions of %d succeeded", l.Spent, ok, each)
	}
	if ok != 100/each {
		t.Errorf("%d consumptions succeeded, want %d (refusals %v)", ok, 100/each, refused)
	}
}

// TestServiceSpendingLife runs hold, settle (below and above the hold),
// release, refund and sweep through the service against DynamoDB: each
// plans transactions whose shape only this adapter can reject (several
// moves of one lot).
func TestServiceSpendingLife(t *testing.T) {
	st := newStore(t)
	now := time.Now().UTC()
	svc := credits.New(st, nil)
	svc.Now = func() time.Time { return now }
	setup(t, svc, "50")
	ctx := context.Background()
	spend := func(credits string) ledger.SpendRequest {
		return ledger.SpendRequest{Contract: "c1", User: "u1", Entity: "e1", Project: "p1", Currency: core.Cloud, Credits: dec(credits)}
	}
	if _, err := svc.SetBudget(ctx, "c1", "p1", ledger.BudgetRequest{Currency: core.Cloud, MonthlyCap: dec("1000")}, ledger.Idem{Key: "b"}); err != nil {
		t.Fatal(err)
	}
	// Hold 120: the 100-credit individual lot and 20 of the shared lot.
	out, err := svc.Hold(ctx, spend("120"), ledger.Idem{Key: "h1"})
	if err != nil {
		t.Fatal(err)
	}
	var h ledger.HoldResult
	if err := out.Decode(&h); err != nil || len(h.Debits) != 2 {
		t.Fatalf("hold = %+v, %v", h, err)
	}
	// Settle 110: posts 100 + 10 and returns 10 to the shared lot, which is
	// two moves of that lot in one transaction.
	out, err = svc.Settle(ctx, "c1", h.HoldID, dec("110"), ledger.Idem{Key: "s1"})
	if err != nil {
		t.Fatalf("Settle below the hold: %v", err)
	}
	var settled ledger.SettleResult
	_ = out.Decode(&settled)
	// Hold 5 and settle 8: posts 5 and consumes 3 more from the same lot.
	out, err = svc.Hold(ctx, spend("5"), ledger.Idem{Key: "h2"})
	if err != nil {
		t.Fatal(err)
	}
	_ = out.Decode(&h)
	out, err = svc.Settle(ctx, "c1", h.HoldID, dec("8"), ledger.Idem{Key: "s2"})
	if err != nil {
		t.Fatalf("Settle above the hold: %v", err)
	}
	var above ledger.SettleResult
	_ = out.Decode(&above)
	// Refunding that consumption returns to the shared lot twice over.
	if _, err := svc.Refund(ctx, "c1", above.ConsumptionID, decimal.Zero, ledger.Idem{Key: "r1"}); err != nil {
		t.Fatalf("Refund of a consumption naming one lot twice: %v", err)
	}
	if _, err := svc.Refund(ctx, "c1", settled.ConsumptionID, dec("30"), ledger.Idem{Key: "r2"}); err != nil {
		t.Fatalf("Refund: %v", err)
	}
	// A hold that expires is released by the sweeper.
	req := spend("4")
	req.HoldFor = time.Minute
	if _, err := svc.Hold(ctx, req, ledger.Idem{Key: "h3"}); err != nil {
		t.Fatal(err)
	}
	// Replays answer from the idempotency record.
	if out, err := svc.Hold(ctx, req, ledger.Idem{Key: "h3"}); err != nil || !out.Replayed {
		t.Errorf("replayed hold = %+v, %v", out, err)
	}
	now = now.Add(2 * time.Minute)
	rep, err := svc.Sweep(ctx)
	if err != nil || rep.HoldsReleased != 1 {
		t.Errorf("Sweep = %+v, %v; want one hold released", rep, err)
	}
	lots := checkLedger(t, st)
	total := decimal.Zero
	for _, l := range lots {
		total = total.Add(l.Remaining)
		if !l.Held.IsZero() {
			t.Errorf("lot %s still holds %s", l.ID, l.Held)
		}
	}
	// 150 − 110 − 8 + 8 + 30 = 70 remaining.
	if !total.Equal(dec("70")) {
		t.Errorf("remaining across lots = %s, want 70", total)
	}
	used, err := st.BudgetUsed(ctx, "c1", "p1", core.Cloud, ledger.Month(now))
	if err != nil || !used.Equal(dec("80")) {
		t.Errorf("budget used = %s, %v; want 80", used, err)
	}
	// Ending the contract ends every lot; the sweeper expires what is left.
	if _, err := svc.Terminate(ctx, "c1", time.Time{}, ledger.Idem{Key: "t"}); err != nil {
		t.Fatal(err)
	}
	now = now.Add(time.Second)
	if rep, err := svc.Sweep(ctx); err != nil || rep.LotsClosed != 2 {
		t.Errorf("Sweep after termination = %+v, %v; want 2 lots closed", rep, err)
	}
	for _, l := range checkLedger(t, st) {
		if !l.Remaining.IsZero() {
			t.Errorf("lot %s keeps %s after its contract ended", l.ID, l.Remaining)
		}
	}
	if lots, err := st.EndedLots(ctx, now, 10); err != nil || len(lots) != 0 {
		t.Errorf("EndedLots after sweep = %+v, %v", lots, err)
	}
}

// A contract item written before the directory existed has no index keys:
// the alert check's Contracts does not see it until BackfillDirectory gives
// it them, once.
func TestBackfillDirectory(t *testing.T) {
	st := newStore(t)
	ctx := context.Background()
	c := ledger.Contract{ID: "new", Customer: "New", Entity: "e", Start: t0, Channel: "list", PlanActive: true, Version: 1}
	if err := st.Apply(ctx, ledger.Tx{At: t0, Ops: []ledger.Op{ledger.PutContract{Contract: c}}}); err != nil {
		t.Fatal(err)
	}
	old := contractItem(ledger.Contract{ID: "old", Customer: "Old", Entity: "e", Start: t0, Channel: "list", PlanActive: true, Version: 3})
	delete(old, AttrGSI1PK)
	delete(old, AttrGSI1SK)
	if _, err := st.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: &st.table, Item: old}); err != nil {
		t.Fatal(err)
	}
	if ids, err := st.Contracts(ctx, "", 10); err != nil || strings.Join(ids, ",") != "new" {
		t.Fatalf("Contracts before the backfill = %v, %v; want only new", ids, err)
	}
	before, err := st.Dump(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for run, want := range []int{1, 0} {
		if n, err := BackfillDirectory(ctx, st.db, st.table); err != nil || n != want {
			t.Fatalf("backfill %d = %d, %v; want %d contracts indexed", run+1, n, err, want)
		}
	}
	if ids, err := st.Contracts(ctx, "", 10); err != nil || strings.Join(ids, ",") != "new,old" {
		t.Errorf("Contracts after the backfill = %v, %v; want new,old", ids, err)
	}
	after, err := st.Dump(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(before, "\n") != strings.Join(after, "\n") {
		t.Errorf("the backfill changed more than index keys:\n%s\n---\n%s", strings.Join(before, "\n"), strings.Join(after, "\n"))
	}
	if got, err := st.Contract(ctx, "old"); err != nil || got.Version != 3 || got.Customer != "Old" {
		t.Errorf("old reads back %+v, %v", got, err)
	}
}

// TestBackfillPools: a lot written before the pool index existed (no pool
// keys, no owner directory item) is invisible to a spend and to its owner's
// removal until BackfillPools gives it both; a second run changes nothing.
func TestBackfillPools(t *testing.T) {
	st := newStore(t)
	ctx := context.Background()
	one := decimal.NewFromInt(1)
	lot := func(id, owner string, remaining decimal.Decimal) ledger.Lot {
		kind := ledger.Shared
		if owner != "" {
			kind = ledger.Individual
		}
		return ledger.Lot{ID: id, Contract: "c1", Currency: core.Cloud, Kind: kind, Owner: owner, Source: ledger.SourcePurchase,
			Grant: id, Amount: one, Remaining: remaining, Held: decimal.Zero, Spent: one.Sub(remaining), Expired: decimal.Zero,
			Withdrawn: decimal.Zero, Refunded: decimal.Zero, GrantedAt: t0, EffectiveFrom: t0, ExpiresAt: t0.AddDate(1, 0, 0), Version: 4}
	}
	legacy := []ledger.Lot{lot("own", "alice", one), lot("pool", "", one), lot("spent", "", decimal.Zero)}
	for _, l := range legacy {
		it := lotItem(l)
		for _, name := range []string{AttrPoolPK, AttrPoolSK, AttrGSI2PK, AttrGSI2SK} {
			delete(it, name)
		}
		if _, err := st.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: &st.table, Item: it}); err != nil {
			t.Fatal(err)
		}
	}
	at := t0.Add(time.Hour)
	ids := func() string {
		spend, err := st.SpendLots(ctx, "c1", "alice", at)
		if err != nil {
			t.Fatal(err)
		}
		owned, err := st.OwnerLots(ctx, "c1", "alice")
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, l := range append(spend, owned...) {
			out = append(out, l.ID)
		}
		return strings.Join(out, ",")
	}
	if got := ids(); got != "" {
		t.Fatalf("before the backfill the spend and the owner see %q, want nothing", got)
	}
	for run, want := range []int{3, 0} {
		if n, err := BackfillPools(ctx, st.db, st.table); err != nil || n != want {
			t.Fatalf("backfill %d = %d, %v; want %d lots", run+1, n, err, want)
		}
	}
	// The spend sees alice's lot and the pool's, not the used-up one; the
	// owner directory names alice's.
	if got := ids(); got != "own,pool,own" {
		t.Errorf("after the backfill the spend and the owner see %q, want own,pool then own", got)
	}
	if l, err := st.Lot(ctx, "c1", "own"); err != nil || l.Version != 4 {
		t.Errorf("the backfill moved the lot's version: %+v, %v", l, err)
	}
}

// TestRollUpExactlyOnce: a batch of the stream's changes adds each
// consumption to its roll-up row once, however often the batch is
// delivered and across more rows than one transaction holds; a refund's
// change takes its credits off and leaves the count; the status says how
// fresh the rows are.
func TestRollUpExactlyOnce(t *testing.T) {
	st := newStore(t)
	ctx := context.Background()
	var changes []Change
	var first map[string]types.AttributeValue
	for i := 0; i < 3*rollupRowsPerTx/2; i++ {
		c := ledger.Consumption{ID: fmt.Sprintf("c%d", i), Contract: "c1", User: fmt.Sprintf("u%03d", i), Entity: "e",
			Service: "rendering", Currency: core.Cloud, Credits: dec("2.5"), Refunded: decimal.Zero, CreatedAt: t0, Version: 1}
		it := consumptionItem(c)
		if i == 0 {
			first = it
		}
		changes = append(changes, Change{EventID: fmt.Sprintf("e%d", i), At: t0.Add(time.Duration(i) * time.Millisecond), New: it})
	}
	for delivery := 0; delivery < 3; delivery++ {
		if err := st.RollUp(ctx, changes); err != nil {
			t.Fatalf("delivery %d: %v", delivery, err)
		}
	}
	refunded, err := decodeConsumption(first)
	if err != nil {
		t.Fatal(err)
	}
	refunded.Refunded, refunded.Version = dec("1"), 2
	refund := []Change{{EventID: "refund", At: t0.Add(time.Hour), Old: first, New: consumptionItem(refunded)}}
	for delivery := 0; delivery < 2; delivery++ {
		if err := st.RollUp(ctx, refund); err != nil {
			t.Fatal(err)
		}
	}
	rows, err := st.Usage(ctx, "c1", ledger.Month(t0), ledger.Month(t0))
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != len(changes) {
		t.Fatalf("%d rows, want %d", len(rows), len(changes))
	}
	for _, r := range rows {
		want := dec("2.5")
		if r.Key.User == "u000" {
			want = dec("1.5")
		}
		if !r.Credits.Equal(want) || r.Count != 1 {
			t.Errorf("row of %s: %s ×%d, want %s ×1", r.Key.User, r.Credits, r.Count, want)
		}
	}
	if at, err := st.UsageAsOf(ctx); err != nil || !at.Equal(t0.Add(time.Hour)) {
		t.Errorf("UsageAsOf = %v, %v; want the refund's time", at, err)
	}
}
