// The site's numbers: module sizes, time from navigation to the first
// estimate shown in Chromium, and the cost of estimates inside the page.
//   node site/tests/bench.mjs   (make site-bench; writes .artifacts/site-bench.txt)
import { statSync, writeFileSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { ROOT, ensureWasm, startServer, launch } from "./harness.js";

const RUNS = 5; // page loads; the median is reported
ensureWasm();
const size = (f) => statSync(join(ROOT, "site", "wasm", f)).size;
const mib = (n) => `${(n / 2 ** 20).toFixed(2)} MiB`;
const chrome = await launch();
const server = await startServer();
const lines = [];
try {
  lines.push(`wasm size: raw ${mib(size("cloudcredits.wasm"))}, gzip ${mib(size("cloudcredits.wasm.gz"))}, brotli ${mib(size("cloudcredits.wasm.br"))}`);
  const firsts = [];
  for (let i = 0; i < RUNS; i++) {
    const context = await chrome.browser.newContext(); // cold cache each run
    const page = await context.newPage();
    await page.goto(`${server.base}/index.html`);
    await page.waitForFunction(() => window.__firstEstimateAt !== undefined, null, { timeout: 30000 });
    firsts.push(await page.evaluate(() => window.__firstEstimateAt));
    if (i === RUNS - 1) {
      const r = await page.evaluate(async () => {
        const cc = await import("/wasm/loader.js");
        await cc.load();
        const N = 1000;
        const items = Array.from({ length: N }, (_, k) => ({ service: "infraworks-profile-optimization", params: { road_km: String(1 + (k % 50)) } }));
        for (let k = 0; k < 200; k++) cc.estimate(items[k].service, items[k].params); // warm up
        let t = performance.now();
        for (const it of items) cc.estimate(it.service, it.params);
        const single = (performance.now() - t) / N;
        t = performance.now();
        const batch = cc.estimateMany(items);
        const many = performance.now() - t;
        t = performance.now();
        for (let k = 0; k < N; k++) cc.price("cloud", String(100 * (1 + (k % 200))), "reseller");
        const price = (performance.now() - t) / N;
        return { single, many, price, total: batch.total };
      });
      lines.push(`one estimate (loader.estimate, mean of 1000): ${(r.single * 1000).toFixed(1)} µs`);
      lines.push(`1,000 estimates batched (estimateMany): ${r.many.toFixed(1)} ms (total ${JSON.stringify(r.total)})`);
      lines.push(`one price (loader.price, mean of 1000): ${(r.price * 1000).toFixed(1)} µs`);
    }
    await context.close();
  }
  firsts.sort((a, b) => a - b);
  lines.splice(1, 0, `navigation to first estimate shown (localhost over http, wasm served gzip, cold cache, median of ${RUNS}): ${firsts[RUNS >> 1].toFixed(0)} ms (min ${firsts[0].toFixed(0)}, max ${firsts.at(-1).toFixed(0)})`);
} finally {
  await chrome.close();
  await server.stop();
}
const report = lines.join("\n") + "\n";
process.stdout.write(report);
mkdirSync(join(ROOT, ".artifacts"), { recursive: true });
writeFileSync(join(ROOT, ".artifacts", "site-bench.txt"), report);
