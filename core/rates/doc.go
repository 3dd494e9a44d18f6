// Package rates is what a job costs: versioned, effective-dated rate cards
// and the estimates priced from them. The same code answers the estimator in
// the browser (compiled to WebAssembly), GET /v1/ratecard and
// POST /v1/estimates on the server, and prices consumptions and holds in
// the ledger, so a quote and a charge can never disagree.
//
// # What it must never do
//
// Like all of core, rates is pure: no I/O, no clock, no file system, no
// network, no randomness, no binary floating point. Cards arrive as bytes
// (ParseCard) or values, time arrives as an argument (Catalog.At), and every
// quantity is a shopspring/decimal. It never embeds or reads files: callers
// read testdata/ratecards/*.json (or a database) and call ParseCard. It
// never trusts a card it has not validated, and never returns a cost a
// valid request could push past core.CreditsMax.
//
// # Cards
//
// A Card is data: a version, the instant it takes effect and its services.
// Each service names one currency, one Rule and the schema of its
// parameters (Param: number with unit, min, max, integer or decimals, and
// default; or enum with values), from which the browser widget builds its
// form. A Catalog holds every card; At(t) is the card with the latest
// EffectiveFrom not after t, so rates change by publishing a card, not by a
// deploy, and an estimate names the version it used.
//
// Validation reports every problem at once, as one invalid_request error
// whose details name each field ("services[3].rule.exponent"). Beyond the
// shape, it prices each service at its parameters' maximum and refuses a
// card that could exceed core.CreditsMax.
//
// # Rules
//
//   - fixed: rate × count (Structural Analysis: 2 per analysis). Without a
//     count parameter, rate per job.
//   - per_unit: rate per started block of a quantity. A started block counts
//     whole: at 100 per 5 km, 5 km cost 100, 5.01 km 200, 12 km 300.
//   - base_plus_per_unit: base + rate × count (Generative Design: 10 + 9 per
//     outcome, so 20 outcomes cost 190, 10× one outcome at 19).
//   - power_law: base × (quantity / reference)^k with 0.5 ≤ k ≤ 3
//     (CFD/FEA: k = 1.8, so 3× the mesh costs 3^1.8 ≈ 7.2× the base). The
//     factor is computed to 16 decimal places (decimal.PowWithPrecision),
//     then rounded as below.
//   - size_quality: rate × size × multiplier of the quality. The sample
//     card's multipliers are draft 0.5, standard 1, final 2, panorama 4.
//   - included: always 0 (Lighting Analysis).
//
// Moldflow Insight is per_unit with a runs parameter defaulting to 1: one
// simulation is 20 credits, a Design of Experiments of 8 runs is 160.
//
// # Rounding
//
// A job's cost is rounded up to whole credits, never down, so an estimate
// never promises less than the charge. A rule with "rounding": "none" keeps
// fractions, rounded up only to core.CreditsScaleMax decimal places, the
// ledger's precision. Each breakdown line is exact to that precision, and
// when rounding up changes the sum a "Rounded up to whole credits" line
// says by how much: the lines always add up to the credits.
//
// # Warnings
//
// Warnings never stop an estimate; they show the seeds' consumption traps
// before a job runs:
//
//   - mesh_scale_up: a power_law quantity above the reference ("3× the
//     reference mesh (1500000 vs 500000 elements) costs 7.2× the base").
//   - many_outcomes: a base_plus_per_unit count of ManyOutcomesWarnAt (10)
//     or more, compared with a single-outcome study.
//   - insufficient_balance: holdings were given and the balance of the
//     job's currency is below its cost.
//   - currency_not_held: holdings were given, none of the job's currency is
//     held but another is ("you hold 500 forma credits; this service takes
//     cloud credits"). Balances of one currency never pay for another.
//
// Without holdings (nil) there are no balance warnings; an empty map means
// the caller holds nothing.
//
// # Batches
//
// EstimateMany prices up to ItemsMax jobs with one card. Credits of
// different currencies never add up, so a batch's total has one sum per
// currency that occurs ({"cloud": "490", "forma": "2"}). The batch adds an
// insufficient_balance warning of its own when a currency's total exceeds a
// non-zero balance of it, even if every job fits alone.
//
// # One code path
//
// ParseEstimateRequest reads a POST /v1/estimates body (strict: unknown
// fields, keys given twice, wrong types and trailing data are refused;
// JSON numbers are read as decimal text). Card.Answer returns what the
// route encodes and Card.AnswerJSON the bytes; the HTTP handler and the
// WebAssembly build both call AnswerJSON, so their answers are identical.
// testdata/golden/estimates/cases.json lists request bodies and the
// credits they must cost, for every client to replay.
package rates
