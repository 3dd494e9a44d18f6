package storetest

import (
	"testing"
	"time"

	"cloudcredits/core"
	"cloudcredits/core/ledger"
)

// newUserSpends adds a user of kind to acme, allowed to spend or not, and
// has it ask to spend 5.
func newUserSpends(user string, kind ledger.UserKind, canSpend bool) func(h *harness) ledger.SpendRequest {
	return func(h *harness) ledger.SpendRequest {
		h.addUser("acme", user, kind, canSpend)
		return req(user, "5")
	}
}

func eligibilitySpecs() []spec {
	cases := []struct {
		name   string
		reason string
		setup  func(h *harness) ledger.SpendRequest
	}{
		{"8 a user who is not on the contract is refused and the attempt recorded", "unknown_user",
			func(h *harness) ledger.SpendRequest { return req("mallory", "5") }},
		{"8 a removed user is refused and the attempt recorded", "user_removed",
			func(h *harness) ledger.SpendRequest {
				h.addUser("acme", "carol", ledger.Employee, true)
				if _, err := h.svc.RemoveUser(h.ctx, "acme", "carol", h.key()); err != nil {
					h.t.Fatal(err)
				}
				return req("carol", "5")
			}},
		{"8 an education identity never spends on a commercial contract", "education_identity",
			newUserSpends("eve", ledger.Education, true)},
		{"8 a guest identity never spends on a commercial contract", "guest_identity",
			newUserSpends("gus", ledger.Guest, true)},
		{"8 a contractor spends only where the contract covers contractors", "contractor_without_coverage",
			func(h *harness) ledger.SpendRequest {
				h.contract(named("nocov"), noContractors)
				h.grant("nocov", "npool", "100")
				h.addUser("nocov", "carl", ledger.Contractor, true)
				return req("carl", "5", in("nocov"))
			}},
		{"8 a user without spend permission is refused", "no_spend_permission",
			newUserSpends("viewer", ledger.Employee, false)},
		{"8 a consuming entity the contract does not cover is refused", "entity_not_covered",
			func(h *harness) ledger.SpendRequest {
				return req("alice", "5", func(r *ledger.SpendRequest) { r.Entity = "initech" })
			}},
		{"8 nobody spends after the contract ended", "contract_ended",
			func(h *harness) ledger.SpendRequest {
				h.contract(named("short"), func(c *ledger.Contract) { c.End = t0.Add(time.Hour) })
				h.employee("short", "sam")
				h.grant("short", "spool", "100")
				h.clk.Set(t0.Add(time.Hour))
				return req("sam", "5", in("short"))
			}},
	}
	var specs []spec
	for _, c := range cases {
		specs = append(specs, spec{c.name, func(t *testing.T, h *harness) {
			h.contract()
			h.employee("acme", "alice")
			h.grant("acme", "pool", "100")
			r := c.setup(h)
			for _, op := range []struct {
				what string
				call func() error
			}{
				{"consume", func() error { _, err := h.svc.Consume(h.ctx, r, h.key()); return err }},
				{"hold", func() error { _, err := h.svc.Hold(h.ctx, r, h.key()); return err }},
			} {
				before, attempts := h.dump(), h.attempts(r.Contract)
				err := op.call()
				if e := wantCode(t, err, core.CodeNotEligible); e.Details["reason"] != c.reason {
					t.Errorf("%s: reason = %v, want %s", op.what, e.Details["reason"], c.reason)
				}
				a := h.onlyAttemptAdded(t, r.Contract, before, attempts)
				if a.Reason != c.reason || a.User != r.User || a.Entity != r.Entity || a.Contract != r.Contract ||
					!a.Credits.Equal(r.Credits) || a.Currency != r.Currency || a.Service != r.Service {
					t.Errorf("%s: attempt = %+v, want reason %s for %s at %s", op.what, a, c.reason, r.User, r.Entity)
				}
				wantTime(t, "attempt time", a.At, h.clk.Now())
			}
		}})
	}
	specs = append(specs,
		spec{"8 a contractor on a contract with contractor coverage may spend, and so may a covered affiliate", func(t *testing.T, h *harness) {
			h.contract()
			h.grant("acme", "pool", "100")
			h.addUser("acme", "carl", ledger.Contractor, true)
			h.consume(req("carl", "10"))
			h.consume(req("carl", "10", func(r *ledger.SpendRequest) { r.Entity = "acme-uk" }))
			if n := len(h.attempts("acme")); n != 0 {
				t.Errorf("%d attempts recorded for admitted spends, want 0", n)
			}
		}},
	)
	return specs
}
