package ledger_test

import (
	"encoding/json"
	"testing"

	"cloudcredits/core"
	"cloudcredits/core/ledger"
)

// applied is st with tx's lot movements written into its lots, as a store
// would leave them: what a fresh read after the apply returns.
func applied(st ledger.SpendState, tx ledger.Tx) ledger.SpendState {
	lots := append([]ledger.Lot(nil), st.Lots...)
	for _, op := range tx.Ops {
		if m, ok := op.(ledger.MoveLot); ok {
			for i := range lots {
				if lots[i].ID == m.Lot {
					lots[i] = lots[i].Apply(m.Move)
					lots[i].Version++
				}
			}
		}
		if b, ok := op.(ledger.AddBudgetUsage); ok {
			st.BudgetUsed = st.BudgetUsed.Add(b.Delta)
		}
	}
	st.Lots = lots
	return st
}

// Planning a batch on one read, each item on the state the Carry says the
// earlier items leave, plans what planning each item after the earlier ones
// were applied would: the same debits, the same refusals, the same budget.
func TestCarryPlansAsIfAppliedInOrder(t *testing.T) {
	read := state(
		lot("own", ledger.Individual, core.Cloud, "10"),
		lot("pool-a", ledger.Shared, core.Cloud, "25", expires(t0.AddDate(0, 2, 0))),
		lot("pool-b", ledger.Shared, core.Cloud, "40"),
	)
	read.Budget = &ledger.Budget{Contract: "acme", Project: "bridge", Currency: core.Cloud, MonthlyCap: d("60")}
	items := []struct {
		credits, project string
		wantDebits       string
		wantCode         core.Code
	}{
		{"4", "", "own:4", ""},
		{"8", "bridge", "own:6,pool-a:2", ""},
		{"30", "bridge", "pool-a:23,pool-b:7", ""},
		{"30", "bridge", "", core.CodeBudgetExceeded}, // 38 used of 60
		{"22", "bridge", "pool-b:22", ""},
		{"12", "", "", core.CodeInsufficientCredits}, // 11 left
		{"11", "", "pool-b:11", ""},
	}
	var carry ledger.Carry
	fresh := read // the state a read after each apply would return
	for i, it := range items {
		req := spend("alice", it.credits)
		req.Project = it.project
		e := env()
		st := carry.Over(read, req.Project, req.Currency, ledger.Month(e.At))
		dec, err := ledger.PlanConsume(st, req, key(), e)
		want, wantErr := ledger.PlanConsume(fresh, req, key(), e)
		if core.ErrorCode(err) != core.ErrorCode(wantErr) {
			t.Fatalf("item %d: carried plan %v, fresh plan %v", i, err, wantErr)
		}
		if it.wantCode != "" {
			wantCode(t, err, it.wantCode)
			continue
		}
		if err != nil {
			t.Fatalf("item %d: %v", i, err)
		}
		var got, exp ledger.ConsumeResult
		if err := json.Unmarshal(dec.Response, &got); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(want.Response, &exp); err != nil {
			t.Fatal(err)
		}
		if debitsString(got.Debits) != it.wantDebits || debitsString(exp.Debits) != it.wantDebits ||
			!got.BalanceAfter.Equal(exp.BalanceAfter) {
			t.Errorf("item %d: carried %s (balance %s), fresh %s (balance %s); want %s",
				i, debitsString(got.Debits), got.BalanceAfter, debitsString(exp.Debits), exp.BalanceAfter, it.wantDebits)
		}
		carry.Add(dec.Tx)
		fresh = applied(fresh, dec.Tx)
	}
	final := carry.Over(read, "bridge", core.Cloud, "2031-03")
	for i, l := range final.Lots {
		if l.Remaining.String() != fresh.Lots[i].Remaining.String() || l.Version != fresh.Lots[i].Version || !l.Conserves() {
			t.Errorf("lot %s: carried %s (version %d), applied %s (version %d)", l.ID, l.Remaining, l.Version, fresh.Lots[i].Remaining, fresh.Lots[i].Version)
		}
	}
	if !final.BudgetUsed.Equal(d("60")) || !fresh.BudgetUsed.Equal(d("60")) {
		t.Errorf("budget used: carried %s, applied %s; want 60", final.BudgetUsed, fresh.BudgetUsed)
	}
	if read.Lots[0].Remaining.String() != "10" {
		t.Error("Over changed the lots of the state it was given")
	}
	if other := carry.Over(read, "tunnel", core.Cloud, "2031-03"); !other.BudgetUsed.IsZero() {
		t.Errorf("another project's counter carries %s", other.BudgetUsed)
	}
}
