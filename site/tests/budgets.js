// The estimator's size: what the browser downloads before it computes
// estimates in the page.
//
// BROTLI_BUDGET is the ceiling sizes.test.js holds the module to: a change
// that makes it larger fails make test. BROTLI_GOAL is where it should get
// to; bench.mjs prints the size beside it. The module links what core links
// (encoding/json, fmt, reflect, math/big through decimal); builds without
// inlining reach the goal but make each estimate 25–60% slower, so the
// default build keeps inlining and the goal stays open.
const MIB = 2 ** 20;
export const BROTLI_BUDGET = 0.95 * MIB; // bytes, brotli
export const BROTLI_GOAL = 0.85 * MIB;
