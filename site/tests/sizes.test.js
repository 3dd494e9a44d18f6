// The estimator's module against its size budget (site/tests/budgets.js).
// Sizes are deterministic for one toolchain, so this is a test, not a
// benchmark. make test-site builds site/wasm/ first (make site-wasm).
import { test } from "node:test";
import assert from "node:assert/strict";
import { statSync } from "node:fs";
import { join } from "node:path";
import { ROOT, ensureWasm } from "./harness.js";
import { BROTLI_BUDGET } from "./budgets.js";

test("the estimator's module is within its brotli budget", () => {
  ensureWasm();
  const size = statSync(join(ROOT, "site", "wasm", "cloudcredits.wasm.br")).size;
  const mib = (n) => (n / 2 ** 20).toFixed(3);
  assert.ok(size <= BROTLI_BUDGET, `cloudcredits.wasm.br is ${size} bytes (${mib(size)} MiB); its budget is ${BROTLI_BUDGET} (${mib(BROTLI_BUDGET)} MiB): what does the module link that it does not use?`);
});
