package ledger

import "time"

// SpendRefusal returns why user u may spend none of contract c's credits at
// t, or "" when they may spend some. It is Eligibility for a job of the
// contract's own entity, which the contract always covers: the rules about
// the user (authorised, current, not an education or guest identity, a
// contractor only with coverage, permission to spend) and the contract's end.
// Whether a given job's entity is covered is decided per job, not here.
//
// A user's balance (GET /v1/me/balance) is what they may spend: nothing
// when SpendRefusal gives a reason, else their individual lots and the
// shared pool.
func SpendRefusal(c Contract, u *User, t time.Time) (reason, message string) {
	return Eligibility(c, u, c.Entity, t)
}
