package storetest

import (
	"context"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"cloudcredits/core"
	"cloudcredits/core/ledger"
	"cloudcredits/functions/credits"

	"github.com/shopspring/decimal"
)

// The seed's dates (PRODUCT.md, seeds/004): Cloud Credits stop selling on
// 2022-03-29 and every one of them expires on 2023-03-29.
var (
	seedSalesEnd = time.Date(2022, 3, 29, 0, 0, 0, 0, time.UTC)
	seedFinal    = time.Date(2023, 3, 29, 0, 0, 0, 0, time.UTC)
)

func seedContract(id string, extensionMonths int) func(*ledger.Contract) {
	return func(c *ledger.Contract) {
		c.Start, c.End = time.Date(2021, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		c.ExtensionMonths = extensionMonths
		if id != "acme" {
			named(id)(c)
		}
	}
}

func (h *harness) setSunset(cur core.Currency, req ledger.SunsetRequest) (ledger.Sunset, error) {
	out, err := h.svc.SetSunset(h.ctx, cur, req, h.key())
	var x ledger.Sunset
	if err == nil {
		decode(h.t, out, &x)
	}
	return x, err
}

func testSunsetSeed(t *testing.T, h *harness) {
	alice, c2021 := sunsetSeedBeforeAnnouncement(t, h)
	sunsetSeedAnnounced(t, h, alice.ID, c2021)
	sunsetSeedGrantsCapped(t, h)
	sunsetSeedSalesClose(t, h)
	sunsetSeedFlexPaysForCloud(t, h, alice.ID)
	sunsetSeedCloudEnds(t, h)
}

// sunsetSeedBeforeAnnouncement: two contracts buy cloud credits in 2021,
// with the usual lives; it returns alice's individual lot and acme's lot.
func sunsetSeedBeforeAnnouncement(t *testing.T, h *harness) (ledger.Lot, ledger.Lot) {
	h.clk.Set(time.Date(2021, 6, 1, 0, 0, 0, 0, time.UTC))
	h.contract(seedContract("acme", 0))
	h.contract(seedContract("beta", 6))
	alice := h.employee("acme", "alice") // 100 cloud credits, ending with the contract (2026)
	c2021 := h.grant("acme", "c2021", "1000")[0]
	wantTime(t, "a lot bought 2021-06-01 expires", c2021.ExpiresAt, time.Date(2022, 6, 1, 0, 0, 0, 0, time.UTC))
	h.clk.Set(time.Date(2021, 12, 1, 0, 0, 0, 0, time.UTC))
	b2021 := h.grant("beta", "b2021", "300")[0] // 12 + 6 months: 2023-06-01, past the final expiry
	wantTime(t, "beta's lot bought 2021-12-01 expires", b2021.ExpiresAt, time.Date(2023, 6, 1, 0, 0, 0, 0, time.UTC))
	return alice, c2021
}

// sunsetSeedAnnounced: the vendor announces the sunset on 2022-01-10; it
// reads back as set, and setting it ended the lots that would have outlived
// 2023-03-29.
func sunsetSeedAnnounced(t *testing.T, h *harness, alice string, c2021 ledger.Lot) {
	h.clk.Set(time.Date(2022, 1, 10, 0, 0, 0, 0, time.UTC))
	x, err := h.setSunset(core.Cloud, ledger.SunsetRequest{SalesEnd: seedSalesEnd, FinalExpiry: seedFinal, Successor: core.Flex})
	if err != nil {
		t.Fatalf("set sunset: %v", err)
	}
	if x.Version != 1 || x.Successor != core.Flex {
		t.Errorf("sunset = %+v, want version 1 with successor flex", x)
	}
	got, err := h.st.Sunset(h.ctx, core.Cloud)
	if err != nil || !got.SalesEnd.Equal(seedSalesEnd) || !got.FinalExpiry.Equal(seedFinal) || got.Successor != core.Flex {
		t.Errorf("Sunset(cloud) = %+v, %v; want the seed's dates and successor", got, err)
	}
	wantTime(t, "alice's individual lot now ends", h.lot("acme", alice).End(), seedFinal)
	wantTime(t, "beta's 2021 lot now ends", h.lot("beta", "b2021").End(), seedFinal)
	wantTime(t, "acme's 2021 lot still ends", h.lot("acme", "c2021").End(), c2021.ExpiresAt)
}

// sunsetSeedGrantsCapped: lots granted after the sunset is set are capped at
// the final expiry; acme also buys flex tokens.
func sunsetSeedGrantsCapped(t *testing.T, h *harness) {
	h.clk.Set(time.Date(2022, 3, 1, 0, 0, 0, 0, time.UTC))
	c2022 := h.grant("acme", "c2022", "500")[0]
	wantTime(t, "a lot bought 2022-03-01 (12 months, before the final expiry) expires", c2022.ExpiresAt, time.Date(2023, 3, 1, 0, 0, 0, 0, time.UTC))
	b2022 := h.grant("beta", "b2022", "200")[0]
	wantTime(t, "beta's lot bought 2022-03-01 (18 months) is capped at", b2022.ExpiresAt, seedFinal)
	h.grant("acme", "f2022", "200", currency(core.Flex))
	h.employee("beta", "bob")
	if bob := h.lots("beta"); !slices.ContainsFunc(bob, func(l ledger.Lot) bool { return l.Owner == "bob" && l.End().Equal(seedFinal) }) {
		t.Errorf("bob's individual cloud lot, granted after the sunset was set, does not end at %s", seedFinal)
	}
}

// sunsetSeedSalesClose: cloud sales are open until 2022-03-28T23:59:59Z and
// closed from 2022-03-29T00:00:00Z, naming the successor; flex stays open.
func sunsetSeedSalesClose(t *testing.T, h *harness) {
	if err := h.svc.SalesOpen(h.ctx, core.Cloud, seedSalesEnd.Add(-time.Second)); err != nil {
		t.Errorf("cloud sales at %s: %v, want open", seedSalesEnd.Add(-time.Second), err)
	}
	e := wantCode(t, h.svc.SalesOpen(h.ctx, core.Cloud, seedSalesEnd), core.CodeSalesClosed)
	if e != nil && !strings.Contains(e.Message, "flex tokens") {
		t.Errorf("sales_closed message %q does not name the successor", e.Message)
	}
	if err := h.svc.SalesOpen(h.ctx, core.Flex, seedSalesEnd); err != nil {
		t.Errorf("flex sales at the sales end: %v, want open", err)
	}
}

// sunsetSeedFlexPaysForCloud: before the sales end flex never pays for a
// cloud service; from it, a cloud job burns the cloud lots first (they
// expire), then flex.
func sunsetSeedFlexPaysForCloud(t *testing.T, h *harness, alice string) {
	h.clk.Set(seedSalesEnd.Add(-time.Second))
	_, err := h.tryConsume(req("alice", "1700"), h.key())
	wantCode(t, err, core.CodeInsufficientCredits)

	h.clk.Set(time.Date(2022, 4, 1, 0, 0, 0, 0, time.UTC))
	res := h.consume(req("alice", "1700"))
	if got, want := debitsString(res.Debits), alice+":100,c2021:1000,c2022:500,f2022:100"; got != want {
		t.Errorf("debits = %s, want %s", got, want)
	}
	for _, db := range res.Debits {
		want := core.Currency("")
		if db.Lot == "f2022" {
			want = core.Flex
		}
		if db.Currency != want {
			t.Errorf("debit of %s names currency %q, want %q", db.Lot, db.Currency, want)
		}
	}
	if stored := h.getConsumption("acme", res.ConsumptionID); len(stored.Debits) != 4 || stored.Debits[3].Currency != core.Flex || stored.Currency != core.Cloud {
		t.Errorf("stored consumption = %+v, want cloud with its last debit in flex", stored)
	}
	// With the cloud lots empty, a cloud-priced job spends flex alone.
	res = h.consume(req("alice", "50"))
	if got := debitsString(res.Debits); got != "f2022:50" {
		t.Errorf("debits with no cloud left = %s, want f2022:50", got)
	}
	h.wantLot("acme", "f2022", counters{remaining: "50", spent: "150"})
	// A flex-priced job never draws on cloud, and forma still takes only forma.
	_, err = h.tryConsume(req("alice", "10", func(r *ledger.SpendRequest) { r.Currency = core.Forma }), h.key())
	if e := wantCode(t, err, core.CodeCurrencyMismatch); e != nil && !strings.Contains(e.Message, "this service takes forma credits") {
		t.Errorf("currency_mismatch message = %q", e.Message)
	}
}

// sunsetSeedCloudEnds: every cloud lot ends by the final expiry, and the
// sweep after it moves what is left of cloud to expired.
func sunsetSeedCloudEnds(t *testing.T, h *harness) {
	for _, c := range []string{"acme", "beta"} {
		for _, l := range h.lots(c) {
			if l.Currency == core.Cloud && (l.End().IsZero() || l.End().After(seedFinal)) {
				t.Errorf("cloud lot %s/%s ends %v, after %s", c, l.ID, l.End(), seedFinal)
			}
		}
	}

	// The sweep after the final expiry moves what is left of cloud to expired.
	h.clk.Set(seedFinal)
	h.sweep()
	h.wantLot("beta", "b2021", counters{expired: "300"})
	h.wantLot("beta", "b2022", counters{expired: "200"})
	for _, c := range []string{"acme", "beta"} {
		for _, l := range h.lots(c) {
			if l.Currency == core.Cloud && l.Remaining.Sign() != 0 {
				t.Errorf("cloud lot %s/%s keeps %s remaining after the final expiry's sweep", c, l.ID, l.Remaining)
			}
		}
	}
	// The flex lot keeps its own life (12 months, 2023-03-01): no sunset.
	h.wantLot("acme", "f2022", counters{spent: "150", expired: "50"})
}

func testSunsetConditions(t *testing.T, h *harness) {
	h.contract()
	if _, err := h.st.Sunset(h.ctx, core.Forma); core.ErrorCode(err) != core.CodeNotFound {
		t.Fatalf("Sunset before any = %v, want not_found", err)
	}
	x := ledger.Sunset{Currency: core.Forma, SalesEnd: t0.Add(day), FinalExpiry: t0.Add(400 * day), Successor: core.Flex, UpdatedAt: t0, Version: 1}
	if err := h.st.Apply(h.ctx, ledger.Tx{At: t0, Ops: []ledger.Op{ledger.PutSunset{Sunset: x}}}); err != nil {
		t.Fatal(err)
	}
	h.wantConflict(t, "a second version 1", ledger.Tx{At: t0, Ops: []ledger.Op{ledger.PutSunset{Sunset: x}}})
	y := x
	y.Version = 3
	h.wantConflict(t, "a replacement skipping a version", ledger.Tx{At: t0, Ops: []ledger.Op{ledger.PutSunset{Sunset: y}}})
	y.Version, y.FinalExpiry, y.Successor = 2, t0.Add(300*day), ""
	if err := h.st.Apply(h.ctx, ledger.Tx{At: t0, Ops: []ledger.Op{ledger.PutSunset{Sunset: y}}}); err != nil {
		t.Fatalf("replace at version 1: %v", err)
	}
	got, err := h.st.Sunset(h.ctx, core.Forma)
	if err != nil || got.Version != 2 || !got.FinalExpiry.Equal(y.FinalExpiry) || got.Successor != "" || !got.SalesEnd.Equal(y.SalesEnd) || !got.UpdatedAt.Equal(t0) {
		t.Errorf("Sunset = %+v, %v; want %+v", got, err, y)
	}
	all, err := h.st.Sunsets(h.ctx)
	if err != nil || len(all) != 1 || all[0].Currency != core.Forma {
		t.Errorf("Sunsets = %+v, %v; want forma's", all, err)
	}
	h.wantDumpLines(t, "sunsets", 1)
	// LotsOutliving: the lots of a currency that end after a time or never.
	h.grant("acme", "short", "10", currency(core.Forma), sunset(t0.Add(10*day)))
	h.grant("acme", "long", "10", currency(core.Forma))
	h.grant("acme", "cloudy", "10")
	h.employee("acme", "alice") // cloud: not forma
	lots, err := h.st.LotsOutliving(h.ctx, core.Forma, t0.Add(10*day), 10)
	if err != nil || len(lots) != 1 || lots[0].ID != "long" {
		t.Errorf("LotsOutliving(forma, +10d) = %v, %v; want [long]", lots, err)
	}
	if lots, err := h.st.LotsOutliving(h.ctx, core.Forma, t0, 1); err != nil || len(lots) != 1 {
		t.Errorf("LotsOutliving with limit 1 = %v, %v; want one lot", lots, err)
	}
}

// beforeFirstApply runs hook once, just before the first Tx it is given is
// applied: a change that lands between a planner's reads and its write.
type beforeFirstApply struct {
	ledger.Store
	once sync.Once
	hook func()
}

func (b *beforeFirstApply) Apply(ctx context.Context, tx ledger.Tx) error {
	b.once.Do(b.hook)
	return b.Store.Apply(ctx, tx)
}

func testSunsetRace(t *testing.T, h *harness) {
	h.clk.Set(time.Date(2021, 6, 1, 0, 0, 0, 0, time.UTC))
	// 12 + 6 months: a shared lot bought in 2022-01 would end in 2023-07,
	// past the final expiry.
	h.contract(seedContract("acme", 6))
	h.clk.Set(time.Date(2022, 1, 10, 0, 0, 0, 0, time.UTC))
	sunset := ledger.SunsetRequest{SalesEnd: seedSalesEnd, FinalExpiry: seedFinal, Successor: core.Flex}
	cases := []struct {
		name string
		cur  core.Currency
		do   func(svc *credits.Service) (credits.Outcome, error)
		lot  func() ledger.Lot
	}{
		{"a shared grant", core.Cloud,
			func(svc *credits.Service) (credits.Outcome, error) {
				return svc.GrantShared(h.ctx, "acme", ledger.GrantRequest{Lot: "late", Currency: core.Cloud, Credits: d("500"), Source: ledger.SourcePurchase}, h.key())
			},
			func() ledger.Lot { return h.lot("acme", "late") }},
		{"an individual grant", core.Cloud,
			func(svc *credits.Service) (credits.Outcome, error) {
				return svc.AddUser(h.ctx, "acme", ledger.UserRequest{User: "zoe", Kind: ledger.Employee, Entity: "acme-us", CanSpend: true}, h.key())
			},
			func() ledger.Lot {
				for _, l := range h.lots("acme") {
					if l.Kind == ledger.Individual && l.Owner == "zoe" {
						return l
					}
				}
				t.Fatal("zoe has no individual lot")
				return ledger.Lot{}
			}},
	}
	for i, tc := range cases {
		// The first case creates the sunset, the second moves its final
		// expiry a day earlier: each time a new version lands between the
		// planner's read and its write.
		final := seedFinal.AddDate(0, 0, -i)
		req := sunset
		req.FinalExpiry = final
		svc := credits.New(&beforeFirstApply{Store: h.st, hook: func() {
			if _, err := h.setSunset(tc.cur, req); err != nil {
				t.Fatalf("%s: set the sunset: %v", tc.name, err)
			}
		}}, h.clk.Now)
		if _, err := tc.do(svc); err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if end := tc.lot().End(); end.IsZero() || end.After(final) {
			t.Errorf("%s planned before the sunset ends at %v, after the final expiry %v", tc.name, end, final)
		}
	}
	// A card order's fulfilment (the payment event), the same way.
	o := h.order(ledger.PayCard, core.Cloud, "300")
	final := seedFinal.AddDate(0, 0, -2)
	req := sunset
	req.FinalExpiry = final
	svc := credits.New(&beforeFirstApply{Store: h.st, hook: func() {
		if _, err := h.setSunset(core.Cloud, req); err != nil {
			t.Fatalf("order: set the sunset: %v", err)
		}
	}}, h.clk.Now)
	if _, err := svc.Fulfil(h.ctx, "acme", o.ID, time.Time{}); err != nil {
		t.Fatal(err)
	}
	lots := h.lotsOfOrder("acme", o.ID)
	if len(lots) != 1 || lots[0].End().After(final) {
		t.Errorf("the order's lots %+v, want one ending by %v", lots, final)
	}
	// A Tx planned before the sunset's current version is refused outright.
	x, err := h.st.Sunset(h.ctx, core.Cloud)
	if err != nil {
		t.Fatal(err)
	}
	stale := ledger.Tx{At: h.clk.Now(), Ops: []ledger.Op{
		ledger.CreateLot{Lot: ledger.Lot{ID: "stale", Contract: "acme", Currency: core.Cloud, Kind: ledger.Shared,
			Amount: decimal.NewFromInt(1), Remaining: decimal.NewFromInt(1), GrantedAt: h.clk.Now(), EffectiveFrom: h.clk.Now(),
			ExpiresAt: seedFinal.AddDate(1, 0, 0), Source: ledger.SourcePurchase}},
		ledger.SunsetIs{Currency: core.Cloud, Version: x.Version - 1},
	}}
	h.wantConflict(t, "a lot planned under the previous sunset version", stale)
	h.wantConflict(t, "a lot planned when the currency had no sunset", ledger.Tx{At: stale.At, Ops: []ledger.Op{stale.Ops[0], ledger.SunsetIs{Currency: core.Cloud}}})
}
