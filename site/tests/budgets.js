// The estimator's size budget: what the browser downloads before the first
// estimate computed in the page. sizes.test.js fails above it; bench.mjs
// prints it beside the size.
export const BROTLI_BUDGET = 0.85 * 2 ** 20; // bytes, brotli
