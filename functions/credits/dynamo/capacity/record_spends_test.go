package capacity_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"cloudcredits/core"
	"cloudcredits/core/ledger"
	"cloudcredits/functions/credits"
	"cloudcredits/functions/credits/dynamo"
	"cloudcredits/functions/credits/dynamo/capacity"
	"cloudcredits/functions/internal/ddblocal"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/shopspring/decimal"
)

func TestMain(m *testing.M) { ddblocal.Main(m) }

// The recorded pool: one contract whose shared pool is one grant of some
// lots (shards), spent by its users, each spend 1 credit of service
// "render", optionally in a project with a monthly budget.
const (
	recordContract = "acme"
	recordGrant    = "pool"
	recordEntity   = "hq"
	recordProject  = "p1"
	poolCredits    = 1_000_000_000
)

// poolSpec is the shape of a recorded pool.
type poolSpec struct {
	shards int
	users  int
	// budget puts every spend in one project with a monthly budget.
	budget bool
	// individual gives the contract an active plan, so each user gets the
	// one-time individual grant, which the set-up spends in full before the
	// recording: the spends then draw on the shared pool while every
	// user's (empty) individual lot still lives in the contract, as in
	// production. Without it the contract has no active plan and its users
	// no individual lots.
	individual bool
}

// pool is what a recording was made from, with the ids the replay re-maps.
type pool struct {
	poolSpec
	Users    []string
	Lots     []string // the grant's lot ids
	Direct   bool     // the lots were written directly (shards > ledger.ShardsMax)
	Recorded []capacity.Trace
}

// recordSpends sets up the pool on a fresh table of DynamoDB Local and
// records `spends` Consume calls, one at a time, each one trace.
func recordSpends(tb testing.TB, spec poolSpec, spends int) pool {
	tb.Helper()
	ctx := context.Background()
	rec, svc, p := newPool(tb, spec)
	if _, err := rec.Take(); err != nil {
		tb.Fatalf("recording the set-up: %v", err)
	}
	for i := range spends {
		req := spend(p.Users[i%len(p.Users)], 1, spec.budget)
		if _, err := svc.Consume(ctx, req, ledger.Idem{Key: fmt.Sprintf("spend-%d", i)}); err != nil {
			tb.Fatalf("spend %d: %v", i, err)
		}
		tr, err := rec.Take()
		if err != nil {
			tb.Fatalf("recording spend %d: %v", i, err)
		}
		p.Recorded = append(p.Recorded, tr)
	}
	return p
}

func spend(user string, credits int64, budget bool) ledger.SpendRequest {
	req := ledger.SpendRequest{Contract: recordContract, User: user, Entity: recordEntity,
		Service: "render", Currency: core.Cloud, Credits: decimal.NewFromInt(credits)}
	if budget {
		req.Project = recordProject
	}
	return req
}

// newPool creates a table, a recording store on it and the pool: the
// contract, its users (with their individual grants spent, if the spec
// says so), the project's budget and the grant.
func newPool(tb testing.TB, spec poolSpec) (*capacity.Recorder, *credits.Service, pool) {
	tb.Helper()
	ctx := context.Background()
	base := ddblocal.Client(ddblocal.Endpoint(tb))
	table := ddblocal.UniqueName(fmt.Sprintf("capacity-%d", spec.shards))
	if err := dynamo.CreateTable(ctx, base, table); err != nil {
		tb.Fatalf("CreateTable: %v", err)
	}
	tb.Cleanup(func() {
		_, _ = base.DeleteTable(context.Background(), &dynamodb.DeleteTableInput{TableName: aws.String(table)})
	})
	rec, client := capacity.NewRecorder(base)
	// As deployed: a spend's entries come from the stream.
	store := dynamo.New(client, table, dynamo.WithEntriesFromStream())
	t0 := time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)
	var tick atomic.Int64
	svc := credits.New(store, func() time.Time { return t0.Add(time.Duration(tick.Add(1)) * time.Millisecond) })
	p := pool{poolSpec: spec}
	must := func(_ credits.Outcome, err error) {
		if err != nil {
			tb.Fatalf("setting up the pool: %v", err)
		}
	}
	must(svc.CreateContract(ctx, ledger.Contract{ID: recordContract, Customer: "Acme", Entity: recordEntity,
		Start: t0.AddDate(0, -1, 0), End: t0.AddDate(2, 0, 0), PlanActive: spec.individual}, ledger.Idem{Key: "contract"}))
	for i := range spec.users {
		u := fmt.Sprintf("user%03d", i)
		p.Users = append(p.Users, u)
		must(svc.AddUser(ctx, recordContract, ledger.UserRequest{User: u, Kind: ledger.Employee, Entity: recordEntity, CanSpend: true},
			ledger.Idem{Key: "user-" + u}))
		if spec.individual {
			must(svc.Consume(ctx, spend(u, ledger.IndividualGrantCredits, false), ledger.Idem{Key: "individual-" + u}))
		}
	}
	if spec.budget {
		must(svc.SetBudget(ctx, recordContract, recordProject, ledger.BudgetRequest{Currency: core.Cloud,
			MonthlyCap: decimal.NewFromInt(core.CreditsMax)}, ledger.Idem{Key: "budget"}))
	}
	p.Lots, p.Direct = grantPool(tb, ctx, svc, store, spec.shards, t0)
	return rec, svc, p
}

// grantPool grants the shared pool as one grant of n lots and returns the
// lots' ids. A grant of more shards than ledger.ShardsMax is refused by the
// ledger; then the lots are written directly through the store, exactly as
// such a grant would store them (same Grant, same expiry, equal shares), so
// the spends see the layout a larger ShardsMax would give.
func grantPool(tb testing.TB, ctx context.Context, svc *credits.Service, store *dynamo.Store, n int, at time.Time) ([]string, bool) {
	tb.Helper()
	ids := make([]string, n)
	for i := range n {
		ids[i] = recordGrant
		if n > 1 {
			ids[i] = fmt.Sprintf("%s.s%d", recordGrant, i+1)
		}
	}
	if n <= ledger.ShardsMax {
		_, err := svc.GrantShared(ctx, recordContract, ledger.GrantRequest{Lot: recordGrant, Currency: core.Cloud,
			Credits: decimal.NewFromInt(poolCredits), Source: ledger.SourcePurchase, Shards: n}, ledger.Idem{Key: "grant"})
		if err != nil {
			tb.Fatalf("GrantShared: %v", err)
		}
		return ids, false
	}
	share := decimal.NewFromInt(poolCredits / int64(n))
	const lotsPerTx = 40 // a lot is two transaction items (the lot and its directory entry)
	for start := 0; start < n; start += lotsPerTx {
		var ops []ledger.Op
		for _, id := range ids[start:min(n, start+lotsPerTx)] {
			ops = append(ops, ledger.CreateLot{Lot: ledger.Lot{ID: id, Contract: recordContract, Currency: core.Cloud,
				Kind: ledger.Shared, Source: ledger.SourcePurchase, Grant: recordGrant,
				Amount: share, Remaining: share, Held: decimal.Zero, Spent: decimal.Zero, Expired: decimal.Zero,
				Withdrawn: decimal.Zero, Refunded: decimal.Zero,
				GrantedAt: at, EffectiveFrom: at, ExpiresAt: at.AddDate(0, ledger.SharedLifeMonths, 0)}})
		}
		if err := store.Apply(ctx, ledger.Tx{Ops: ops}); err != nil {
			tb.Fatalf("writing %d lots of one grant: %v", n, err)
		}
	}
	return ids, true
}
