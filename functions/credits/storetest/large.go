package storetest

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"cloudcredits/core"
	"cloudcredits/core/ledger"

	"github.com/shopspring/decimal"
)

// LargeLots is how many individual lots the large-contract rules put on one
// contract (other users' lots in every state), besides the shared pool.
// An adapter's test may raise it; the suite never runs fewer unless told.
var LargeLots = 20_000

// largeSharedLots is the size of the large contract's shared pool, live and
// finished mixed.
const largeSharedLots = 400

// lotState is one way a lot can be when a spend comes: live, or finished in
// one of the ways a spend must never see.
type lotState int

const (
	stateLive         lotState = iota
	stateUsedUp                // nothing remaining: spent
	stateEndedSwept            // ended, its rest moved to expired
	stateEndedUnswept          // ended, the sweep not yet come: remaining > 0
	stateWithdrawn             // withdrawn and closed
	stateRetired               // finished and retired by the sweep
	stateNotYet                // effective only in the future
	lotStates
)

// largeLot is lot i of the large contract in state st: owner "" is shared.
func largeLot(i int, owner string, st lotState, at time.Time) ledger.Lot {
	amount := decimal.NewFromInt(int64(10 + i%7))
	kind, id := ledger.Shared, fmt.Sprintf("s%05d", i)
	if owner != "" {
		kind, id = ledger.Individual, fmt.Sprintf("i%05d", i)
	}
	l := ledger.Lot{
		ID: id, Contract: "big", Currency: core.Cloud, Kind: kind, Owner: owner, Source: ledger.SourcePurchase,
		Grant: id, Amount: amount, Remaining: amount, Held: decimal.Zero, Spent: decimal.Zero,
		Expired: decimal.Zero, Withdrawn: decimal.Zero, Refunded: decimal.Zero,
		// Ends spread over the year ahead (and some lots never end), grant
		// times over the year behind, so burn order has work to do.
		GrantedAt:     at.Add(-time.Duration(1+i%300) * time.Hour),
		EffectiveFrom: at.Add(-time.Duration(1+i%300) * time.Hour),
		ExpiresAt:     at.Add(time.Duration(1+(i*7919)%8000) * time.Hour),
		Version:       1,
	}
	if i%13 == 0 {
		l.ExpiresAt = time.Time{}
	}
	past := at.Add(-time.Duration(1+i%50) * time.Hour)
	switch st {
	case stateUsedUp:
		l.Remaining, l.Spent = decimal.Zero, amount
	case stateEndedSwept:
		l.ExpiresAt, l.Remaining, l.Expired = past, decimal.Zero, amount
	case stateEndedUnswept:
		l.ExpiresAt = past
	case stateWithdrawn:
		l.WithdrawNoticeAt, l.ClosesAt = past.Add(-ledger.WithdrawalNotice), past
		l.Remaining, l.Withdrawn = decimal.Zero, amount
	case stateRetired:
		l.ExpiresAt, l.Remaining, l.Expired, l.Retired = past.Add(-ledger.RetireGrace), decimal.Zero, amount, true
	case stateNotYet:
		l.EffectiveFrom = at.Add(time.Duration(1+i%20) * time.Hour)
	}
	return l
}

// putLots creates lots through the store (see createLots).
func (h *harness) putLots(lots []ledger.Lot) {
	h.t.Helper()
	if err := createLots(h.ctx, h.st, h.clk.Now(), lots); err != nil {
		h.t.Fatalf("create lots: %v", err)
	}
}

// createLots creates lots through st, many to a Tx, several Txs at once.
func createLots(ctx context.Context, st ledger.Store, at time.Time, lots []ledger.Lot) error {
	const perTx, workers = 33, 16 // 33 lots of at most 3 items: under DynamoDB's 100
	var (
		wg   sync.WaitGroup
		next = make(chan []ledger.Lot)
		errs = make(chan error, workers)
		stop = make(chan struct{})
	)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for batch := range next {
				tx := ledger.Tx{At: at}
				for _, l := range batch {
					tx.Ops = append(tx.Ops, ledger.CreateLot{Lot: l})
				}
				if err := st.Apply(ctx, tx); err != nil {
					errs <- err
					close(stop)
					return
				}
			}
		}()
	}
feed:
	for i := 0; i < len(lots); i += perTx {
		select {
		case next <- lots[i:min(i+perTx, len(lots))]:
		case <-stop:
			break feed
		}
	}
	close(next)
	wg.Wait()
	close(errs)
	return <-errs
}

// largeContract makes contract "big" with alice on it, LargeLots individual
// lots of other users and largeSharedLots shared lots, every state mixed
// in, and returns alice's individual lot. The contract stays out of the
// harness's audit (which reads every lot's entries); the large rules check
// conservation themselves.
func (h *harness) largeContract() ledger.Lot {
	h.t.Helper()
	c := ledger.Contract{ID: "big", Customer: "Big Corp", Entity: "big-hq", Start: contractStart, End: contractEnd,
		Channel: "list", MonthlyBaseline: d("1000"), PlanActive: true}
	if _, err := h.svc.CreateContract(h.ctx, c, h.key()); err != nil {
		h.t.Fatalf("create contract big: %v", err)
	}
	alice := h.employee("big", "alice")
	at := h.clk.Now()
	var lots []ledger.Lot
	for i := 0; i < LargeLots; i++ {
		owner := fmt.Sprintf("u%05d", i)
		if i%500 == 0 {
			owner = "alice" // alice's own finished and unfinished lots, spread through
		}
		lots = append(lots, largeLot(i, owner, lotState(i%int(lotStates)), at))
	}
	for i := 0; i < largeSharedLots; i++ {
		lots = append(lots, largeLot(i, "", lotState(i%int(lotStates)), at))
	}
	h.putLots(lots)
	return alice
}

func testLargeContract(t *testing.T, h *harness) {
	h.largeContract()
	at := h.clk.Now()
	before := h.lots("big")
	if len(before) != LargeLots+largeSharedLots+1 {
		t.Fatalf("the contract has %d lots, want %d", len(before), LargeLots+largeSharedLots+1)
	}

	// The store's spend read returns exactly the lots alice may draw on:
	// nothing used up, ended, withdrawn or retired, nobody else's.
	got, err := h.st.SpendLots(h.ctx, "big", "alice", at)
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, l := range before {
		if l.SpendableBy("alice") && l.Remaining.Sign() > 0 && !l.Retired && (l.End().IsZero() || l.End().After(at)) {
			want = append(want, l.ID)
		}
	}
	ids := make([]string, len(got))
	for i, l := range got {
		ids[i] = l.ID
	}
	slices.Sort(ids)
	if !slices.Equal(ids, want) {
		t.Fatalf("SpendLots returned %d lots, want the %d live lots with credits alice may spend\n got %v\nwant %v", len(ids), len(want), ids, want)
	}

	// Spends across many lots debit exactly the burn order computed from
	// every lot of the contract.
	model := slices.Clone(before)
	spent := decimal.Zero
	for i, amount := range []string{"5", "40", "111.5", "200", "0.25", "150"} {
		r := h.consume(ledger.SpendRequest{Contract: "big", User: "alice", Entity: "big-hq", Service: "rendering",
			Currency: core.Cloud, Credits: d(amount)})
		wantDebits := takeInOrder(model, "alice", at, d(amount))
		if got, want := debitsString(r.Debits), debitsString(wantDebits); got != want {
			t.Fatalf("spend %d of %s debited %s, want %s (burn order over every lot)", i, amount, got, want)
		}
		spent = spent.Add(d(amount))
		wantEqual(t, fmt.Sprintf("balance_after of spend %d", i), r.BalanceAfter, ledger.Spendable(model, "alice", core.Cloud, at))
	}

	// Nothing finished was touched; every lot conserves; the credits spent
	// left remaining for spent.
	after := h.lots("big")
	if len(after) != len(before) {
		t.Fatalf("the contract has %d lots after spending, had %d", len(after), len(before))
	}
	remaining := decimal.Zero
	for i, l := range after {
		b := before[i]
		if !l.Conserves() {
			t.Errorf("lot %s does not conserve: amount %s, %s", l.ID, l.Amount, countersOf(l))
		}
		live := b.Remaining.Sign() > 0 && b.LiveAt(at)
		if !live && countersOf(l) != countersOf(b) {
			t.Errorf("finished lot %s was debited: %s, was %s", l.ID, countersOf(l), countersOf(b))
		}
		remaining = remaining.Add(b.Remaining).Sub(l.Remaining)
	}
	wantEqual(t, "credits taken from remaining", remaining, spent)
}

// takeInOrder takes credits from lots in user's burn order at `at`,
// updating lots in place, and returns the debits.
func takeInOrder(lots []ledger.Lot, user string, at time.Time, credits decimal.Decimal) []ledger.Debit {
	var out []ledger.Debit
	for _, l := range ledger.BurnOrder(lots, user, core.Cloud, at, 0) {
		if credits.Sign() == 0 {
			break
		}
		take := decimal.Min(credits, l.Remaining)
		credits = credits.Sub(take)
		out = append(out, ledger.Debit{Lot: l.ID, Credits: take})
		for i := range lots {
			if lots[i].ID == l.ID {
				lots[i].Remaining = lots[i].Remaining.Sub(take)
			}
		}
	}
	return out
}
