package ledger_test

import (
	"testing"
	"time"

	"cloudcredits/core"
	"cloudcredits/core/ledger"
)

func TestGrantEligible(t *testing.T) {
	c := contract()
	noCoverage := contract()
	noCoverage.ContractorCoverage = false
	inactive := contract()
	inactive.PlanActive = false
	ended := contract()
	ended.TerminatedAt = t0
	u := func(kind ledger.UserKind, canSpend bool) ledger.User {
		x := *user("alice", kind)
		x.CanSpend = canSpend
		return x
	}
	tests := []struct {
		name     string
		contract ledger.Contract
		user     ledger.User
		want     bool
	}{
		{"employee", c, u(ledger.Employee, true), true},
		{"employee without spend permission", c, u(ledger.Employee, false), false},
		{"contractor with coverage", c, u(ledger.Contractor, true), true},
		{"contractor without coverage", noCoverage, u(ledger.Contractor, true), false},
		{"education identity", c, u(ledger.Education, true), false},
		{"guest identity", c, u(ledger.Guest, true), false},
		{"plan inactive", inactive, u(ledger.Employee, true), false},
		{"contract ended", ended, u(ledger.Employee, true), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ledger.GrantEligible(tt.contract, tt.user, t0); got != tt.want {
				t.Errorf("GrantEligible = %v, want %v", got, tt.want)
			}
			dec, err := ledger.PlanAddUser(tt.contract, nil, false,
				ledger.UserRequest{User: "alice", Kind: tt.user.Kind, Entity: "acme-us", CanSpend: tt.user.CanSpend}, nil, key(), env())
			if err != nil {
				t.Fatal(err)
			}
			_, lots := opOf[ledger.CreateLot](dec.Tx)
			_, marks := opOf[ledger.MarkGrant](dec.Tx)
			if want := map[bool]int{true: 1, false: 0}[tt.want]; lots != want || marks != want {
				t.Errorf("PlanAddUser creates %d lots and %d grant marks, want %d of each", lots, marks, want)
			}
		})
	}
}

func TestIndividualGrantIsMadeOnce(t *testing.T) {
	c := contract()
	req := ledger.UserRequest{User: "alice", Kind: ledger.Employee, Entity: "acme-us", CanSpend: true}
	dec, err := ledger.PlanAddUser(c, nil, false, req, nil, key(), env())
	if err != nil {
		t.Fatal(err)
	}
	cl, n := opOf[ledger.CreateLot](dec.Tx)
	if n != 1 {
		t.Fatalf("first association creates %d lots, want 1", n)
	}
	l := cl.Lot
	if l.Kind != ledger.Individual || l.Owner != "alice" || l.Currency != core.Cloud || !l.Amount.Equal(d("100")) ||
		!l.Remaining.Equal(d("100")) || !l.ExpiresAt.Equal(c.EndAt()) || !l.EffectiveFrom.Equal(t0) {
		t.Errorf("grant lot = %+v, want 100 cloud credits owned by alice, live from now until the contract's end", l)
	}
	g := entries(dec.Tx)
	if len(g) != 1 || g[0].Kind != ledger.EntryGrant || !g[0].Credits.Equal(d("100")) || !g[0].Move.Remaining.Equal(d("100")) {
		t.Errorf("grant entries = %+v, want one grant entry of 100", g)
	}

	existing := user("alice", ledger.Employee)
	existing.Active = false
	for _, tt := range []struct {
		name     string
		existing *ledger.User
	}{{"re-adding a current user", user("alice", ledger.Employee)}, {"re-adding a removed user", existing}} {
		dec, err := ledger.PlanAddUser(c, tt.existing, true, req, nil, key(), env())
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if _, n := opOf[ledger.CreateLot](dec.Tx); n != 0 {
			t.Errorf("%s after the grant creates %d lots, want 0", tt.name, n)
		}
		pu, _ := opOf[ledger.PutUser](dec.Tx)
		if !pu.User.Active || pu.User.Version != tt.existing.Version+1 {
			t.Errorf("%s: user = %+v, want active at version %d", tt.name, pu.User, tt.existing.Version+1)
		}
	}
}

func TestSharedExpiry(t *testing.T) {
	bought := time.Date(2031, 3, 10, 9, 0, 0, 0, time.UTC)
	twelve := time.Date(2032, 3, 10, 9, 0, 0, 0, time.UTC)
	with := func(edit func(*ledger.Contract)) ledger.Contract { c := contract(); edit(&c); return c }
	tests := []struct {
		name        string
		contract    ledger.Contract
		currencyEnd time.Time
		want        time.Time
	}{
		{"12 months after purchase", contract(), time.Time{}, twelve},
		{"plus extension months", with(func(c *ledger.Contract) { c.ExtensionMonths = 3 }), time.Time{}, time.Date(2032, 6, 10, 9, 0, 0, 0, time.UTC)},
		{"contract end earlier", with(func(c *ledger.Contract) { c.End = time.Date(2031, 12, 1, 0, 0, 0, 0, time.UTC) }), time.Time{}, time.Date(2031, 12, 1, 0, 0, 0, 0, time.UTC)},
		{"contract end earlier than the extension", with(func(c *ledger.Contract) {
			c.ExtensionMonths = 12
			c.End = time.Date(2032, 7, 1, 0, 0, 0, 0, time.UTC)
		}), time.Time{}, time.Date(2032, 7, 1, 0, 0, 0, 0, time.UTC)},
		{"termination earlier", with(func(c *ledger.Contract) { c.TerminatedAt = time.Date(2031, 5, 1, 0, 0, 0, 0, time.UTC) }), time.Time{}, time.Date(2031, 5, 1, 0, 0, 0, 0, time.UTC)},
		{"open-ended contract", with(func(c *ledger.Contract) { c.End = time.Time{} }), time.Time{}, twelve},
		{"currency sunset earlier", contract(), time.Date(2031, 9, 1, 0, 0, 0, 0, time.UTC), time.Date(2031, 9, 1, 0, 0, 0, 0, time.UTC)},
		{"currency sunset later changes nothing", contract(), time.Date(2040, 1, 1, 0, 0, 0, 0, time.UTC), twelve},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ledger.SharedExpiry(tt.contract, bought, tt.currencyEnd); !got.Equal(tt.want) {
				t.Errorf("SharedExpiry = %s, want %s", got, tt.want)
			}
		})
	}
}

func TestGrantSharedShards(t *testing.T) {
	dec, err := ledger.PlanGrantShared(contract(), ledger.GrantRequest{Lot: "big", Currency: core.Cloud, Credits: d("1000"), Source: ledger.SourcePurchase, Shards: 3}, nil, key(), env())
	if err != nil {
		t.Fatal(err)
	}
	var lots []ledger.Lot
	mustDecode(t, dec.Response, &lots)
	if len(lots) != 3 {
		t.Fatalf("%d shards, want 3", len(lots))
	}
	sum := d("0")
	for i, l := range lots {
		sum = sum.Add(l.Amount)
		if l.Grant != "big" || !l.ExpiresAt.Equal(lots[0].ExpiresAt) || l.Kind != ledger.Shared {
			t.Errorf("shard %d = %+v, want grant big with the first shard's expiry", i, l)
		}
	}
	if !sum.Equal(d("1000")) {
		t.Errorf("shards sum to %s, want 1000", sum)
	}
	if got, want := ids(lots), "big.s1,big.s2,big.s3"; got != want {
		t.Errorf("shard ids = %s, want %s", got, want)
	}
	_, err = ledger.PlanGrantShared(contract(), ledger.GrantRequest{Lot: "dust", Currency: core.Cloud, Credits: d("0.000002"), Source: ledger.SourcePurchase, Shards: 3}, nil, key(), env())
	wantCode(t, err, core.CodeInvalidRequest)
}

func TestWithdrawal(t *testing.T) {
	ind := lot("ind", ledger.Individual, core.Cloud, "100", remaining("60"))
	dec, err := ledger.PlanWithdrawLot(ind, "admin@acme.example", t0, nil, key(), env())
	if err != nil {
		t.Fatal(err)
	}
	var after ledger.Lot
	mustDecode(t, dec.Response, &after)
	closeAt := t0.Add(90 * 24 * time.Hour)
	if !after.ClosesAt.Equal(closeAt) || !after.WithdrawNoticeAt.Equal(t0) {
		t.Fatalf("withdrawn lot notice %s closes %s, want notice %s closes %s", after.WithdrawNoticeAt, after.ClosesAt, t0, closeAt)
	}
	end, n := opOf[ledger.UpdateLot](dec.Tx)
	if n != 1 || !end.Lot.ClosesAt.Equal(closeAt) || end.Lot.Version != ind.Version+1 {
		t.Errorf("UpdateLot = %+v, want close at %s conditioned on the lot as read", end, closeAt)
	}
	notice, n := opOf[ledger.PutNotification](dec.Tx)
	if want := "withdrawal:" + ind.Contract + ":ind:" + t0.UTC().Format(time.RFC3339); n != 1 || notice.Notification.ID != want ||
		notice.Notification.To != "admin@acme.example" || notice.Notification.State != ledger.NotificationPending ||
		notice.Notification.Kind != ledger.KindWithdrawalNotice {
		t.Errorf("notice = %+v (%d), want one pending withdrawal notice %s to admin@acme.example in the same Tx", notice, n, want)
	}
	if !after.LiveAt(closeAt.Add(-time.Nanosecond)) || after.LiveAt(closeAt) {
		t.Errorf("withdrawn lot live at close−1ns %v and at close %v, want true then false",
			after.LiveAt(closeAt.Add(-time.Nanosecond)), after.LiveAt(closeAt))
	}
	if tx := ledger.PlanExpireLot(after, envAt(closeAt.Add(-time.Nanosecond))); len(tx.Ops) != 0 {
		t.Errorf("closing out before the close plans %d ops, want none", len(tx.Ops))
	}
	tx := ledger.PlanExpireLot(after, envAt(closeAt))
	if up, n := opOf[ledger.UpdateLot](tx); n != 1 || !up.Lot.Withdrawn.Equal(after.Withdrawn.Add(d("60"))) || !up.Lot.Remaining.IsZero() ||
		up.Lot.Version != after.Version+1 || up.Lot.Retired {
		t.Errorf("close-out = %+v, want 60 more withdrawn, nothing remaining, at the next version, not yet retired", up.Lot)
	}
	if tx := ledger.PlanExpireLot(after, envAt(closeAt.Add(ledger.RetireGrace))); !onlyLot(t, tx).Retired {
		t.Errorf("a close-out with nothing held after the grace does not retire the lot")
	}
	if e := entries(tx); len(e) != 1 || e[0].Kind != ledger.EntryWithdraw {
		t.Errorf("close-out entries = %+v, want one withdraw entry", e)
	}

	_, err = ledger.PlanWithdrawLot(after, "admin@acme.example", t0, nil, key(), env())
	wantCode(t, err, core.CodeConflict)
	_, err = ledger.PlanWithdrawLot(lot("pool", ledger.Shared, core.Cloud, "100"), "admin@acme.example", t0, nil, key(), env())
	wantCode(t, err, core.CodeInvalidRequest)
	_, err = ledger.PlanWithdrawLot(ind, "admin@acme.example", t0.Add(-time.Hour), nil, key(), env())
	wantCode(t, err, core.CodeInvalidRequest)
}

func TestExpireLotMovesRemainingToExpired(t *testing.T) {
	end := t0.Add(time.Hour)
	l := lot("pool", ledger.Shared, core.Cloud, "100", remaining("40"), expires(end))
	l.Remaining, l.Held = d("30"), d("10") // 10 still held by an open hold
	tx := ledger.PlanExpireLot(l, envAt(end.Add(ledger.RetireGrace)))
	if up := onlyLot(t, tx); !up.Expired.Equal(l.Expired.Add(d("30"))) || !up.Remaining.IsZero() || !up.Held.Equal(d("10")) || up.Retired {
		t.Errorf("expiry = %+v, want 30 more expired, 10 still held (with its hold), not retired while held", up)
	}
	l.Remaining = d("0")
	if tx := ledger.PlanExpireLot(l, envAt(end)); len(tx.Ops) != 0 {
		t.Errorf("expiring an empty lot plans %d ops, want none", len(tx.Ops))
	}
}

func TestRemoveUserEndsTheirIndividualLotsOnly(t *testing.T) {
	lots := []ledger.Lot{
		lot("alices", ledger.Individual, core.Cloud, "100", expires(contract().End)),
		lot("bobs", ledger.Individual, core.Cloud, "100", owner("bob")),
		lot("pool", ledger.Shared, core.Cloud, "100"),
	}
	dec, err := ledger.PlanRemoveUser(*user("alice", ledger.Employee), lots, nil, key(), env())
	if err != nil {
		t.Fatal(err)
	}
	end, n := opOf[ledger.UpdateLot](dec.Tx)
	if n != 1 || end.Lot.ID != "alices" || !end.Lot.ExpiresAt.Equal(t0) || end.Lot.Version != 1 {
		t.Errorf("UpdateLot = %+v (%d ops), want alices ending now, conditioned on the lot as read", end, n)
	}
	pu, _ := opOf[ledger.PutUser](dec.Tx)
	if pu.User.Active || !pu.User.RemovedAt.Equal(t0) {
		t.Errorf("removed user = %+v, want inactive since now", pu.User)
	}
}

func TestTerminateEndsEveryLotThatWouldOutliveIt(t *testing.T) {
	at := t0.Add(time.Hour)
	lots := []ledger.Lot{
		lot("ind", ledger.Individual, core.Cloud, "100", expires(contract().End)),
		lot("pool", ledger.Shared, core.Cloud, "100", expires(t0.Add(300*24*time.Hour))),
		lot("soon", ledger.Shared, core.Cloud, "100", expires(t0.Add(time.Minute))),
	}
	dec, err := ledger.PlanTerminate(contract(), lots, at, nil, key(), env())
	if err != nil {
		t.Fatal(err)
	}
	var res ledger.TerminateResult
	mustDecode(t, dec.Response, &res)
	if got := res.EndedLots; len(got) != 2 || got[0] != "ind" || got[1] != "pool" {
		t.Errorf("ended lots = %v, want [ind pool]", got)
	}
	for _, op := range dec.Tx.Ops {
		if e, ok := op.(ledger.UpdateLot); ok && !e.Lot.ExpiresAt.Equal(at) {
			t.Errorf("lot %s ends at %s, want %s", e.Lot.ID, e.Lot.ExpiresAt, at)
		}
	}
	if !res.Contract.TerminatedAt.Equal(at) || res.Contract.Version != 2 {
		t.Errorf("contract = %+v, want terminated at %s, version 2", res.Contract, at)
	}

	// A termination dated a few seconds ago (clock skew) ends lots now, not
	// retroactively under spends already made.
	dec, err = ledger.PlanTerminate(contract(), lots, t0.Add(-10*time.Second), nil, key(), env())
	if err != nil {
		t.Fatal(err)
	}
	mustDecode(t, dec.Response, &res)
	if !res.Contract.TerminatedAt.Equal(t0) {
		t.Errorf("skewed termination at %s, want clamped to now %s", res.Contract.TerminatedAt, t0)
	}
	_, err = ledger.PlanTerminate(contract(), lots, t0.Add(-time.Hour), nil, key(), env())
	wantCode(t, err, core.CodeInvalidRequest)
}

// onlyLot is the lot a Tx's one UpdateLot writes.
func onlyLot(t *testing.T, tx ledger.Tx) ledger.Lot {
	t.Helper()
	up, n := opOf[ledger.UpdateLot](tx)
	if n != 1 {
		t.Fatalf("Tx has %d UpdateLot ops, want 1: %+v", n, tx.Ops)
	}
	return up.Lot
}

func TestRetireLot(t *testing.T) {
	end := t0.Add(time.Hour)
	l := lot("pool", ledger.Shared, core.Cloud, "100", remaining("0"), expires(end))
	l.Spent = d("100")
	if _, ok := ledger.PlanRetireLot(l, envAt(end.Add(ledger.RetireGrace-time.Nanosecond))); ok {
		t.Errorf("retired before the grace")
	}
	tx, ok := ledger.PlanRetireLot(l, envAt(end.Add(ledger.RetireGrace)))
	if r := onlyLot(t, tx); !ok || !r.Retired || r.Version != l.Version+1 {
		t.Errorf("retire = %+v, %v; want retired at the next version", r, ok)
	}
	held := l
	held.Spent, held.Held = d("90"), d("10")
	if _, ok := ledger.PlanRetireLot(held, envAt(end.Add(ledger.RetireGrace))); ok {
		t.Errorf("retired a lot with credits held")
	}
	l.Retired = true
	if _, ok := ledger.PlanRetireLot(l, envAt(end.Add(ledger.RetireGrace))); ok {
		t.Errorf("retired a retired lot")
	}
}
