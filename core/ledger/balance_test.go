package ledger_test

import (
	"testing"

	"cloudcredits/core/ledger"
)

// TestSpendRefusal: a user may spend some of a contract's credits only when
// Eligibility lets them spend for the contract's own entity.
func TestSpendRefusal(t *testing.T) {
	c := contract()
	for _, tc := range []struct {
		name string
		u    *ledger.User
		want string
	}{
		{"employee who may spend", &ledger.User{ID: "u", Kind: ledger.Employee, CanSpend: true, Active: true, Entity: "elsewhere"}, ""},
		{"education identity", &ledger.User{ID: "u", Kind: ledger.Education, CanSpend: true, Active: true}, "education_identity"},
		{"guest identity", &ledger.User{ID: "u", Kind: ledger.Guest, CanSpend: true, Active: true}, "guest_identity"},
		{"no permission to spend", &ledger.User{ID: "u", Kind: ledger.Employee, Active: true}, "no_spend_permission"},
		{"removed", &ledger.User{ID: "u", Kind: ledger.Employee, CanSpend: true}, "user_removed"},
		{"unknown", nil, "unknown_user"},
	} {
		if got, _ := ledger.SpendRefusal(c, tc.u, t0); got != tc.want {
			t.Errorf("%s: reason %q, want %q", tc.name, got, tc.want)
		}
	}
}
