// The estimator's size: what the browser downloads before it computes
// estimates in the page.
//
// BROTLI_BUDGET is the ceiling sizes.test.js holds the module to: a change
// that makes it larger fails make test. BROTLI_GOAL is where it should get
// to; bench.mjs prints the size beside it. The budget is the goal: core
// reads and writes its JSON without encoding/json (core/jsontext), so the
// module no longer links encoding/json; what remains large is the runtime,
// math/big (through decimal), time, fmt and reflect (decimal and core's
// messages use fmt).
const MIB = 2 ** 20;
export const BROTLI_BUDGET = 0.85 * MIB; // bytes, brotli
export const BROTLI_GOAL = 0.85 * MIB;
