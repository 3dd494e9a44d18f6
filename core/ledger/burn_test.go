package ledger_test

import (
	"testing"
	"time"

	"cloudcredits/core"
	"cloudcredits/core/ledger"
)

func TestBurnOrder(t *testing.T) {
	day := 24 * time.Hour
	soon, later := t0.Add(10*day), t0.Add(40*day)
	older, newer := t0.Add(-60*day), t0.Add(-5*day)
	tests := []struct {
		name string
		lots []ledger.Lot
		want string
	}{
		{
			name: "the user's individual lot burns before any shared lot, even one expiring sooner",
			lots: []ledger.Lot{
				lot("shared-soon", ledger.Shared, core.Cloud, "10", expires(soon)),
				lot("mine", ledger.Individual, core.Cloud, "10", expires(later)),
			},
			want: "mine,shared-soon",
		},
		{
			name: "soonest end first, no end last",
			lots: []ledger.Lot{
				lot("none", ledger.Shared, core.Cloud, "10"),
				lot("later", ledger.Shared, core.Cloud, "10", expires(later)),
				lot("soon", ledger.Shared, core.Cloud, "10", expires(soon)),
			},
			want: "soon,later,none",
		},
		{
			name: "a withdrawal close is an end like an expiry",
			lots: []ledger.Lot{
				lot("expires-later", ledger.Individual, core.Cloud, "10", expires(later)),
				lot("closes-soon", ledger.Individual, core.Cloud, "10", closes(soon)),
			},
			want: "closes-soon,expires-later",
		},
		{
			name: "same end: oldest grant first",
			lots: []ledger.Lot{
				lot("a-newer", ledger.Shared, core.Cloud, "10", expires(later), granted(newer)),
				lot("b-older", ledger.Shared, core.Cloud, "10", expires(later), granted(older)),
			},
			want: "b-older,a-newer",
		},
		{
			name: "same end and grant time: lot id",
			lots: []ledger.Lot{
				lot("c", ledger.Shared, core.Cloud, "10", expires(later)),
				lot("a", ledger.Shared, core.Cloud, "10", expires(later)),
				lot("b", ledger.Shared, core.Cloud, "10", expires(later)),
			},
			want: "a,b,c",
		},
		{
			name: "individual lots among themselves follow the same order",
			lots: []ledger.Lot{
				lot("ind-none", ledger.Individual, core.Cloud, "10"),
				lot("ind-soon", ledger.Individual, core.Cloud, "10", expires(soon)),
			},
			want: "ind-soon,ind-none",
		},
		{
			name: "another user's individual lot, another currency, empty, expired, not yet effective and withdrawn lots are left out",
			lots: []ledger.Lot{
				lot("bobs", ledger.Individual, core.Cloud, "10", owner("bob")),
				lot("forma", ledger.Shared, core.Forma, "10"),
				lot("empty", ledger.Shared, core.Cloud, "10", remaining("0")),
				lot("expired", ledger.Shared, core.Cloud, "10", expires(t0)),
				lot("future", ledger.Shared, core.Cloud, "10", effective(t0.Add(time.Nanosecond))),
				lot("withdrawn", ledger.Individual, core.Cloud, "10", closes(t0)),
				lot("ok", ledger.Shared, core.Cloud, "10"),
			},
			want: "ok",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := append([]ledger.Lot(nil), tt.lots...)
			got := ids(ledger.BurnOrder(tt.lots, "alice", core.Cloud, t0, 0))
			if got != tt.want {
				t.Errorf("burn order = %s, want %s", got, tt.want)
			}
			if ids(in) != ids(tt.lots) {
				t.Errorf("BurnOrder reordered its input: %s, was %s", ids(tt.lots), ids(in))
			}
		})
	}
}

func TestBurnOrderRotatesOnlyAmongShardsOfOneGrant(t *testing.T) {
	end := t0.Add(100 * 24 * time.Hour)
	lots := []ledger.Lot{
		lot("ind", ledger.Individual, core.Cloud, "10"),
		lot("big.s1", ledger.Shared, core.Cloud, "10", expires(end), grantOf("big")),
		lot("big.s2", ledger.Shared, core.Cloud, "10", expires(end), grantOf("big")),
		lot("big.s3", ledger.Shared, core.Cloud, "10", expires(end), grantOf("big")),
		lot("other", ledger.Shared, core.Cloud, "10", expires(end)), // same end, another grant
		lot("last", ledger.Shared, core.Cloud, "10"),
	}
	tests := []struct {
		rotation uint32
		want     string
	}{
		{0, "ind,big.s1,big.s2,big.s3,other,last"},
		{1, "ind,big.s2,big.s3,big.s1,other,last"},
		{2, "ind,big.s3,big.s1,big.s2,other,last"},
		{3, "ind,big.s1,big.s2,big.s3,other,last"},
		{7, "ind,big.s2,big.s3,big.s1,other,last"},
	}
	for _, tt := range tests {
		if got := ids(ledger.BurnOrder(lots, "alice", core.Cloud, t0, tt.rotation)); got != tt.want {
			t.Errorf("rotation %d: burn order = %s, want %s", tt.rotation, got, tt.want)
		}
	}
}

func TestLiveAtBoundaries(t *testing.T) {
	end := t0.Add(time.Hour)
	tests := []struct {
		name string
		lot  ledger.Lot
		at   time.Time
		want bool
	}{
		{"expiring at T: live at T−1ns", lot("x", ledger.Shared, core.Cloud, "1", expires(end)), end.Add(-time.Nanosecond), true},
		{"expiring at T: not live at T", lot("x", ledger.Shared, core.Cloud, "1", expires(end)), end, false},
		{"expiring at T: not live after T", lot("x", ledger.Shared, core.Cloud, "1", expires(end)), end.Add(time.Nanosecond), false},
		{"closing at T: live at T−1ns", lot("x", ledger.Individual, core.Cloud, "1", closes(end)), end.Add(-time.Nanosecond), true},
		{"closing at T: not live at T", lot("x", ledger.Individual, core.Cloud, "1", closes(end)), end, false},
		{"effective at E: not live at E−1ns", lot("x", ledger.Shared, core.Cloud, "1", effective(end)), end.Add(-time.Nanosecond), false},
		{"effective at E: live at E", lot("x", ledger.Shared, core.Cloud, "1", effective(end)), end, true},
		{"no end: live far in the future", lot("x", ledger.Shared, core.Cloud, "1"), t0.AddDate(100, 0, 0), true},
		{"a close after the expiry does not extend it", lot("x", ledger.Individual, core.Cloud, "1", expires(end), closes(end.Add(time.Hour))), end, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.lot.LiveAt(tt.at); got != tt.want {
				t.Errorf("LiveAt(%s) = %v, want %v (effective %s, end %s)", tt.at, got, tt.want, tt.lot.EffectiveFrom, tt.lot.End())
			}
		})
	}
}

func TestSpendAtTheExpiryBoundary(t *testing.T) {
	end := t0.Add(time.Hour)
	l := lot("x", ledger.Shared, core.Cloud, "10", expires(end))
	if _, err := ledger.PlanConsume(state(l), spend("alice", "10"), key(), envAt(end.Add(-time.Nanosecond))); err != nil {
		t.Errorf("consume at T−1ns: %v, want success", err)
	}
	_, err := ledger.PlanConsume(state(l), spend("alice", "10"), key(), envAt(end))
	e := wantCode(t, err, core.CodeInsufficientCredits)
	if got := e.Details["available"]; got != "0" {
		t.Errorf("available at T = %v, want 0", got)
	}
}

func TestConsumeTakesFullAmountInBurnOrder(t *testing.T) {
	st := state(
		lot("shared-later", ledger.Shared, core.Cloud, "100", expires(t0.Add(90*24*time.Hour))),
		lot("shared-soon", ledger.Shared, core.Cloud, "30", expires(t0.Add(9*24*time.Hour))),
		lot("mine", ledger.Individual, core.Cloud, "20"),
	)
	dec, err := ledger.PlanConsume(st, spend("alice", "60"), key(), env())
	if err != nil {
		t.Fatal(err)
	}
	var res ledger.ConsumeResult
	mustDecode(t, dec.Response, &res)
	if got, want := debitsString(res.Debits), "mine:20,shared-soon:30,shared-later:10"; got != want {
		t.Errorf("debits = %s, want %s", got, want)
	}
	if got, want := res.BalanceAfter, d("90"); !got.Equal(want) {
		t.Errorf("balance_after = %s, want %s", got, want)
	}
	mv := moves(t, dec.Tx)
	for id, want := range map[string]string{"mine": "20", "shared-soon": "30", "shared-later": "10"} {
		m, ok := mv[id]
		if !ok {
			t.Fatalf("no MoveLot for %s", id)
		}
		if !m.Move.Spent.Equal(d(want)) || !m.Move.Remaining.Equal(d(want).Neg()) {
			t.Errorf("move on %s = %s, want remaining=-%s spent=%s", id, moveString(m.Move), want, want)
		}
		if !m.LiveAt.Equal(t0) {
			t.Errorf("debit of %s is conditioned on live at %s, want %s", id, m.LiveAt, t0)
		}
	}
	if _, n := opOf[ledger.PutIdempotency](dec.Tx); n != 1 {
		t.Errorf("%d idempotency records, want 1", n)
	}
	if err := dec.Tx.Check(); err != nil {
		t.Errorf("planned Tx fails Check: %v", err)
	}
}
