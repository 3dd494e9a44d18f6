package ledger_test

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"cloudcredits/core"
	"cloudcredits/core/ledger"

	"github.com/shopspring/decimal"
)

func mustDecode(t *testing.T, b []byte, v any) {
	t.Helper()
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("decode %s: %v", b, err)
	}
}

func TestEligibility(t *testing.T) {
	c := contract()
	noCoverage := contract()
	noCoverage.ContractorCoverage = false
	removed := user("alice", ledger.Employee)
	removed.Active, removed.RemovedAt = false, t0.Add(-time.Hour)
	noSpend := user("alice", ledger.Employee)
	noSpend.CanSpend = false
	ended := contract()
	ended.End = t0
	terminated := contract()
	terminated.TerminatedAt = t0.Add(-time.Hour)
	tests := []struct {
		name     string
		contract ledger.Contract
		user     *ledger.User
		entity   string
		want     string
	}{
		{"an employee of a covered entity may spend", c, user("alice", ledger.Employee), "acme-us", ""},
		{"a covered affiliate entity may spend", c, user("alice", ledger.Employee), "acme-uk", ""},
		{"unknown user", c, nil, "acme-us", "unknown_user"},
		{"removed user", c, removed, "acme-us", "user_removed"},
		{"education identity", c, user("alice", ledger.Education), "acme-us", "education_identity"},
		{"guest identity", c, user("alice", ledger.Guest), "acme-us", "guest_identity"},
		{"contractor without coverage", noCoverage, user("alice", ledger.Contractor), "acme-us", "contractor_without_coverage"},
		{"contractor with coverage", c, user("alice", ledger.Contractor), "acme-us", ""},
		{"no spend permission", c, noSpend, "acme-us", "no_spend_permission"},
		{"uncovered entity", c, user("alice", ledger.Employee), "globex", "entity_not_covered"},
		{"contract ended at exactly now", ended, user("alice", ledger.Employee), "acme-us", "contract_ended"},
		{"contract terminated", terminated, user("alice", ledger.Employee), "acme-us", "contract_ended"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, msg := ledger.Eligibility(tt.contract, tt.user, tt.entity, t0)
			if got != tt.want {
				t.Errorf("Eligibility = %q (%s), want %q", got, msg, tt.want)
			}
			if (got == "") != (msg == "") {
				t.Errorf("reason %q with message %q: a refusal needs both, an admission neither", got, msg)
			}
			// The planner refuses with not_eligible and the reason, and the
			// only write is the attempt record.
			st := state(lot("pool", ledger.Shared, core.Cloud, "100"))
			st.Contract, st.User = tt.contract, tt.user
			req := spend("alice", "10")
			req.Entity = tt.entity
			dec, err := ledger.PlanConsume(st, req, key(), env())
			if tt.want == "" {
				if err != nil {
					t.Fatalf("PlanConsume: %v, want success", err)
				}
				return
			}
			e := wantCode(t, err, core.CodeNotEligible)
			if e.Details["reason"] != tt.want {
				t.Errorf("reason detail = %v, want %s", e.Details["reason"], tt.want)
			}
			if len(dec.Tx.Ops) != 1 {
				t.Fatalf("refusal writes %d ops, want exactly the attempt", len(dec.Tx.Ops))
			}
			a, ok := dec.Tx.Ops[0].(ledger.PutAttempt)
			if !ok {
				t.Fatalf("refusal writes %T, want PutAttempt", dec.Tx.Ops[0])
			}
			if a.Attempt.Reason != tt.want || a.Attempt.Entity != tt.entity || !a.Attempt.Credits.Equal(d("10")) {
				t.Errorf("attempt = %+v, want reason %s, entity %s, 10 credits", a.Attempt, tt.want, tt.entity)
			}
		})
	}
}

func TestCurrencyMismatchSaysWhatIsHeld(t *testing.T) {
	st := state(lot("forma-pool", ledger.Shared, core.Forma, "500"))
	_, err := ledger.PlanConsume(st, spend("alice", "10"), key(), env())
	e := wantCode(t, err, core.CodeCurrencyMismatch)
	if got, want := e.Message, "you hold 500 forma credits; this service takes cloud credits"; got != want {
		t.Errorf("message = %q, want %q", got, want)
	}

	// When some of the right currency is held, the refusal is about the amount.
	st.Lots = append(st.Lots, lot("cloud-pool", ledger.Shared, core.Cloud, "5"))
	_, err = ledger.PlanConsume(st, spend("alice", "10"), key(), env())
	wantCode(t, err, core.CodeInsufficientCredits)
}

func TestInsufficientCreditsIsAllOrNothing(t *testing.T) {
	st := state(
		lot("mine", ledger.Individual, core.Cloud, "20"),
		lot("pool", ledger.Shared, core.Cloud, "30"),
		lot("bobs", ledger.Individual, core.Cloud, "1000", owner("bob")),
		lot("expired", ledger.Shared, core.Cloud, "1000", expires(t0.Add(-time.Hour))),
	)
	for _, tt := range []struct {
		credits string
		ok      bool
	}{{"50", true}, {"50.000001", false}, {"51", false}} {
		dec, err := ledger.PlanConsume(st, spend("alice", tt.credits), key(), env())
		if tt.ok {
			if err != nil {
				t.Errorf("consume %s of 50: %v", tt.credits, err)
			}
			continue
		}
		e := wantCode(t, err, core.CodeInsufficientCredits)
		if e.Details["available"] != "50" || e.Details["requested"] != tt.credits {
			t.Errorf("consume %s: details = %v, want available 50, requested %s", tt.credits, e.Details, tt.credits)
		}
		if len(dec.Tx.Ops) != 0 {
			t.Errorf("consume %s: refusal carries %d writes, want none", tt.credits, len(dec.Tx.Ops))
		}
	}
}

func TestBudgetExceeded(t *testing.T) {
	st := state(lot("pool", ledger.Shared, core.Cloud, "1000"))
	st.Budget = &ledger.Budget{Contract: "acme", Project: "bridge", Currency: core.Cloud, MonthlyCap: d("100")}
	st.BudgetUsed = d("90")
	req := spend("alice", "11")
	req.Project = "bridge"
	_, err := ledger.PlanConsume(st, req, key(), env())
	e := wantCode(t, err, core.CodeBudgetExceeded)
	if e.Details["monthly_cap"] != "100" || e.Details["used"] != "90" || e.Details["requested"] != "11" {
		t.Errorf("details = %v, want cap 100, used 90, requested 11", e.Details)
	}

	req.Credits = d("10")
	dec, err := ledger.PlanConsume(st, req, key(), env())
	if err != nil {
		t.Fatalf("consume up to the cap: %v", err)
	}
	b, n := opOf[ledger.AddBudgetUsage](dec.Tx)
	if n != 1 {
		t.Fatalf("%d budget ops, want 1", n)
	}
	if !b.Capped || !b.Cap.Equal(d("100")) || !b.Delta.Equal(d("10")) || b.Month != "2031-03" || b.Project != "bridge" {
		t.Errorf("budget op = %+v, want capped at 100, +10 in 2031-03 for bridge", b)
	}

	// A project without a budget still counts its usage, uncapped.
	st.Budget = nil
	dec, err = ledger.PlanConsume(st, req, key(), env())
	if err != nil {
		t.Fatal(err)
	}
	if b, n := opOf[ledger.AddBudgetUsage](dec.Tx); n != 1 || b.Capped {
		t.Errorf("uncapped project: %d budget ops, capped %v; want 1 uncapped", n, b.Capped)
	}
}

func TestIdempotency(t *testing.T) {
	st := state(lot("pool", ledger.Shared, core.Cloud, "100"))
	req := spend("alice", "10")
	idem := ledger.Idem{Key: "job-1", Fingerprint: ledger.Fingerprint("consume", []byte(req.User))}
	first, err := ledger.PlanConsume(st, req, idem, env())
	if err != nil {
		t.Fatal(err)
	}
	rec, n := opOf[ledger.PutIdempotency](first.Tx)
	if n != 1 {
		t.Fatalf("%d idempotency records, want 1", n)
	}
	if !bytes.Equal(rec.Record.Response, first.Response) || rec.Record.Key != "job-1" || rec.Record.Contract != "acme" {
		t.Errorf("record = %+v, want the response under acme/job-1", rec.Record)
	}
	if got, want := rec.Record.ExpiresAt, t0.Add(ledger.IdempotencyRetention); !got.Equal(want) {
		t.Errorf("record expires %s, want %s (35 days)", got, want)
	}
	prior := rec.Record
	// Spent meanwhile: the replay must not depend on the current state.
	st.Lots[0] = lot("pool", ledger.Shared, core.Cloud, "100", remaining("0"))

	tests := []struct {
		name     string
		idem     ledger.Idem
		prior    *ledger.IdempotencyRecord
		at       time.Time
		code     core.Code
		replayed bool
	}{
		{"same key and body replays the first response", idem, &prior, t0.Add(34 * 24 * time.Hour), "", true},
		{"replays until just before 35 days", idem, &prior, prior.ExpiresAt.Add(-time.Nanosecond), "", true},
		{"same key, other body is refused", ledger.Idem{Key: "job-1", Fingerprint: "other"}, &prior, t0.Add(time.Hour), core.CodeIdempotencyKeyReused, false},
		{"an expired record is ignored", idem, &prior, prior.ExpiresAt, core.CodeInsufficientCredits, false},
		{"an expired record with another body is ignored too", ledger.Idem{Key: "job-1", Fingerprint: "other"}, &prior, prior.ExpiresAt.Add(time.Hour), core.CodeInsufficientCredits, false},
		{"missing key", ledger.Idem{Fingerprint: "fp"}, nil, t0, core.CodeIdempotencyKeyMissing, false},
	}
	// A key's form is checked once, by the ledger service (CheckIdem); the
	// planners trust the key they are given.
	for _, k := range []struct{ name, key string }{
		{"key too long", strings.Repeat("k", ledger.IdempotencyKeyMax+1)},
		{"key with a control character", "job\n1"},
		{"key with a non-ASCII character", "jöb"},
	} {
		wantCode(t, ledger.CheckIdem(k.key), core.CodeInvalidRequest)
	}
	wantCode(t, ledger.CheckIdem(""), core.CodeIdempotencyKeyMissing)
	if err := ledger.CheckIdem(strings.Repeat("k", ledger.IdempotencyKeyMax)); err != nil {
		t.Errorf("a key of %d characters: %v", ledger.IdempotencyKeyMax, err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := st
			s.Prior = tt.prior
			dec, err := ledger.PlanConsume(s, req, tt.idem, envAt(tt.at))
			if tt.code != "" {
				wantCode(t, err, tt.code)
				if len(dec.Tx.Ops) != 0 {
					t.Errorf("refusal carries %d writes, want none", len(dec.Tx.Ops))
				}
				return
			}
			if err != nil {
				t.Fatalf("got %v, want a replay", err)
			}
			if dec.Replayed != tt.replayed || !bytes.Equal(dec.Response, first.Response) {
				t.Errorf("replayed %v, response %s; want replayed %v with %s", dec.Replayed, dec.Response, tt.replayed, first.Response)
			}
			if len(dec.Tx.Ops) != 0 {
				t.Errorf("replay carries %d writes, want none", len(dec.Tx.Ops))
			}
		})
	}

	t.Run("a 255-character printable key is accepted", func(t *testing.T) {
		if err := ledger.CheckIdem(strings.Repeat("~", ledger.IdempotencyKeyMax)); err != nil {
			t.Errorf("CheckIdem: %v", err)
		}
	})
	t.Run("a new request after the record expired writes a new record", func(t *testing.T) {
		s := state(lot("pool", ledger.Shared, core.Cloud, "100"))
		s.Prior = &prior
		dec, err := ledger.PlanConsume(s, req, idem, envAt(prior.ExpiresAt))
		if err != nil || dec.Replayed {
			t.Fatalf("got replayed %v, err %v; want a fresh consumption", dec.Replayed, err)
		}
		r, _ := opOf[ledger.PutIdempotency](dec.Tx)
		if !r.At.Equal(prior.ExpiresAt) || !r.Record.ExpiresAt.Equal(prior.ExpiresAt.Add(ledger.IdempotencyRetention)) {
			t.Errorf("new record at %s expiring %s", r.At, r.Record.ExpiresAt)
		}
	})
}

func TestInvalidSpendRequests(t *testing.T) {
	st := state(lot("pool", ledger.Shared, core.Cloud, "100"))
	tests := []struct {
		name  string
		edit  func(*ledger.SpendRequest)
		field string
	}{
		{"zero credits", func(r *ledger.SpendRequest) { r.Credits = decimal.Zero }, "credits"},
		{"negative credits", func(r *ledger.SpendRequest) { r.Credits = d("-1") }, "credits"},
		{"seven decimal places", func(r *ledger.SpendRequest) { r.Credits = d("0.0000001") }, "credits"},
		{"above the maximum", func(r *ledger.SpendRequest) { r.Credits = d("1000000000001") }, "credits"},
		{"unknown currency", func(r *ledger.SpendRequest) { r.Currency = "gold" }, "currency"},
		{"missing user", func(r *ledger.SpendRequest) { r.User = "" }, "user"},
		{"entity with a slash", func(r *ledger.SpendRequest) { r.Entity = "a/b" }, "entity"},
		{"hold longer than the maximum", func(r *ledger.SpendRequest) { r.HoldFor = ledger.HoldTTLMax + time.Second }, "expires_in_seconds"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := spend("alice", "10")
			tt.edit(&req)
			_, err := ledger.PlanConsume(st, req, key(), env())
			e := wantCode(t, err, core.CodeInvalidRequest)
			fields, _ := e.Details["fields"].(map[string]string)
			if _, ok := fields[tt.field]; !ok {
				t.Errorf("problems %v do not name %s", fields, tt.field)
			}
		})
	}
}
