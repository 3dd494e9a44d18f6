package main

import (
	"context"
	"fmt"
	"time"

	"cloudcredits/core"
	"cloudcredits/core/ledger"
	"cloudcredits/functions/credits"

	"github.com/shopspring/decimal"
)

const (
	demoContract = "demo"
	demoEntity   = "demo-eng"
)

// seedDemo creates the demo contract on first start: a customer with two
// covered entities and contractor coverage, an employee, a contractor and an
// education identity (the first two receive their one-time 100 individual
// credits), and purchased shared pools of cloud and forma credits. Every
// step carries a fixed idempotency key, so a second start changes nothing.
func seedDemo(ctx context.Context, l *credits.Service, now time.Time) error {
	if _, err := l.Contract(ctx, demoContract); err == nil {
		return nil
	} else if core.ErrorCode(err) != core.CodeNotFound {
		return err
	}
	start := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC)
	vendor := func(step string) ledger.Idem { return ledger.Idem{Key: "demo-seed-" + step, Scope: "seed"} }
	c := ledger.Contract{
		ID: demoContract, Customer: "Demo Engineering Ltd", Entity: demoEntity,
		CoveredEntities: []string{"demo-sub"}, ContractorCoverage: true,
		Start: start, End: start.AddDate(1, 0, 0), Channel: "list",
		MonthlyBaseline: decimal.NewFromInt(2000), PlanActive: true,
		// Notifications land in <data>/outbox/ locally: nothing is mailed.
		NotifyEmail: "procurement@demo.example",
	}
	if _, err := l.CreateContract(ctx, c, vendor("contract")); err != nil {
		return fmt.Errorf("contract: %w", err)
	}
	for _, u := range []ledger.UserRequest{
		{User: "ann", Kind: ledger.Employee, Entity: demoEntity, CanSpend: true},
		{User: "bob", Kind: ledger.Contractor, Entity: "demo-sub", CanSpend: true},
		{User: "eve", Kind: ledger.Education, Entity: demoEntity, CanSpend: true},
	} {
		if _, err := l.AddUser(ctx, demoContract, u, vendor("user-"+u.User)); err != nil {
			return fmt.Errorf("user %s: %w", u.User, err)
		}
	}
	for _, g := range []ledger.GrantRequest{
		{Lot: "demo-cloud-1", Currency: core.Cloud, Credits: decimal.NewFromInt(5000), Source: ledger.SourcePurchase},
		{Lot: "demo-forma-1", Currency: core.Forma, Credits: decimal.NewFromInt(500), Source: ledger.SourcePurchase},
	} {
		if _, err := l.GrantShared(ctx, demoContract, g, vendor("grant-"+g.Lot)); err != nil {
			return fmt.Errorf("grant %s: %w", g.Lot, err)
		}
	}
	return nil
}
