package main

import (
	"time"

	"cloudcredits/core"
)

// stableUntil says how long the answers given at at stay the answers: an
// estimate depends on the time only through the rate card in force, a
// price only through the price book in force, so every answer holds until
// the next card or book takes effect (the zero time: none is due). ok is
// false before the first card or book of a currency takes effect: then an
// answer may name the instant it was asked at, and must not be reused. The
// loader keeps answers for reuse between keystrokes within that bound, so a
// reused answer is always the one a fresh call would give.
func (e *engine) stableUntil(at time.Time) (until time.Time, ok bool) {
	next := func(from time.Time) bool { // false when at is before from
		if from.After(at) {
			if until.IsZero() || from.Before(until) {
				until = from
			}
			return false
		}
		return true
	}
	ok = true
	for i, c := range e.rates.Cards() {
		if !next(c.EffectiveFrom) && i == 0 {
			ok = false
		}
	}
	for _, cur := range core.Currencies() {
		for i, b := range e.prices.Books(cur) {
			if !next(b.EffectiveFrom) && i == 0 {
				ok = false
			}
		}
	}
	return until, ok
}
