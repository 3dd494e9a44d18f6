package ledger_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"cloudcredits/core"
	"cloudcredits/core/ledger"

	"github.com/shopspring/decimal"
)

// t0 is the instant most tests plan at.
var t0 = time.Date(2031, 3, 10, 9, 0, 0, 0, time.UTC)

func d(s string) decimal.Decimal { return decimal.RequireFromString(s) }

// lot builds a live lot of amount credits granted at `granted`; options adjust it.
func lot(id string, kind ledger.Kind, cur core.Currency, amount string, opts ...func(*ledger.Lot)) ledger.Lot {
	a := d(amount)
	l := ledger.Lot{
		ID: id, Contract: "acme", Currency: cur, Kind: kind, Source: ledger.SourcePurchase, Grant: id,
		Amount: a, Remaining: a, Held: decimal.Zero, Spent: decimal.Zero, Expired: decimal.Zero,
		Withdrawn: decimal.Zero, Refunded: decimal.Zero,
		GrantedAt: t0.Add(-30 * 24 * time.Hour), EffectiveFrom: t0.Add(-30 * 24 * time.Hour),
	}
	if kind == ledger.Individual {
		l.Owner = "alice"
	}
	for _, o := range opts {
		o(&l)
	}
	return l
}

func expires(t time.Time) func(*ledger.Lot) { return func(l *ledger.Lot) { l.ExpiresAt = t } }
func granted(t time.Time) func(*ledger.Lot) {
	return func(l *ledger.Lot) { l.GrantedAt, l.EffectiveFrom = t, t }
}
func owner(u string) func(*ledger.Lot)        { return func(l *ledger.Lot) { l.Owner = u } }
func grantOf(g string) func(*ledger.Lot)      { return func(l *ledger.Lot) { l.Grant = g } }
func effective(t time.Time) func(*ledger.Lot) { return func(l *ledger.Lot) { l.EffectiveFrom = t } }
func closes(t time.Time) func(*ledger.Lot) {
	return func(l *ledger.Lot) { l.WithdrawNoticeAt, l.ClosesAt = t.Add(-ledger.WithdrawalNotice), t }
}
func remaining(s string) func(*ledger.Lot) {
	return func(l *ledger.Lot) {
		r := d(s)
		l.Spent = l.Amount.Sub(r)
		l.Remaining = r
	}
}

func contract() ledger.Contract {
	return ledger.Contract{
		ID: "acme", Customer: "Acme Corp", Entity: "acme-us", CoveredEntities: []string{"acme-uk"},
		ContractorCoverage: true, Start: time.Date(2031, 1, 1, 0, 0, 0, 0, time.UTC),
		End: time.Date(2033, 1, 1, 0, 0, 0, 0, time.UTC), PlanActive: true, Version: 1,
	}
}

func user(id string, kind ledger.UserKind) *ledger.User {
	return &ledger.User{Contract: "acme", ID: id, Kind: kind, Entity: "acme-us", CanSpend: true, Active: true,
		AddedAt: t0.Add(-24 * time.Hour), Version: 1}
}

func spend(u, credits string) ledger.SpendRequest {
	return ledger.SpendRequest{Contract: "acme", User: u, Entity: "acme-us", Service: "rendering",
		Currency: core.Cloud, Credits: d(credits)}
}

func state(lots ...ledger.Lot) ledger.SpendState {
	return ledger.SpendState{Contract: contract(), User: user("alice", ledger.Employee), Lots: lots, BudgetUsed: decimal.Zero}
}

var opSeq int

func env() ledger.Env {
	opSeq++
	return ledger.Env{At: t0, OpID: fmt.Sprintf("op%d", opSeq)}
}

func envAt(at time.Time) ledger.Env {
	e := env()
	e.At = at
	return e
}

func key() ledger.Idem {
	opSeq++
	return ledger.Idem{Key: fmt.Sprintf("k%d", opSeq), Fingerprint: "fp"}
}

func ids(lots []ledger.Lot) string {
	var s []string
	for _, l := range lots {
		s = append(s, l.ID)
	}
	return strings.Join(s, ",")
}

func debitsString(ds []ledger.Debit) string {
	var s []string
	for _, x := range ds {
		s = append(s, x.Lot+":"+x.Credits.String())
	}
	return strings.Join(s, ",")
}

func wantCode(t *testing.T, err error, code core.Code) *core.Error {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want %s", code)
	}
	e, ok := core.AsError(err)
	if !ok || e.Code != code {
		t.Fatalf("got error %v (code %s), want code %s", err, core.ErrorCode(err), code)
	}
	return e
}

// moves returns the MoveLot ops of tx by lot id, failing on a duplicate.
func moves(t *testing.T, tx ledger.Tx) map[string]ledger.MoveLot {
	t.Helper()
	out := map[string]ledger.MoveLot{}
	for _, op := range tx.Ops {
		if m, ok := op.(ledger.MoveLot); ok {
			if _, dup := out[m.Lot]; dup {
				t.Fatalf("tx moves lot %s twice", m.Lot)
			}
			out[m.Lot] = m
		}
	}
	return out
}

func entries(tx ledger.Tx) []ledger.Entry {
	var out []ledger.Entry
	for _, op := range tx.Ops {
		if e, ok := op.(ledger.PutEntry); ok {
			out = append(out, e.Entry)
		}
	}
	return out
}

func opOf[T ledger.Op](tx ledger.Tx) (T, int) {
	var zero T
	n := 0
	for _, op := range tx.Ops {
		if o, ok := op.(T); ok {
			if n == 0 {
				zero = o
			}
			n++
		}
	}
	return zero, n
}

func moveString(m ledger.Movement) string {
	var parts []string
	for _, f := range []struct {
		name string
		v    decimal.Decimal
	}{{"remaining", m.Remaining}, {"held", m.Held}, {"spent", m.Spent}, {"expired", m.Expired}, {"withdrawn", m.Withdrawn}, {"refunded", m.Refunded}} {
		if !f.v.IsZero() {
			parts = append(parts, f.name+"="+f.v.String())
		}
	}
	return strings.Join(parts, " ")
}
