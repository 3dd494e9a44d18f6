// The module's WebAssembly exports (the calls loader.js makes: the request
// written into the module's memory, the answer read from it) answer byte for
// byte what its syscall/js functions on globalThis.cloudCredits answer, for
// every golden estimate request and for prices, errors included. Runs in
// Node (no browser): the loader is handed the module through fetch.
import { test, before } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { ROOT, ensureWasm } from "./harness.js";

let cc, js;

before(async () => {
  ensureWasm();
  const dir = join(ROOT, "site", "wasm");
  globalThis.fetch = async (url) => new Response(readFileSync(new URL(url)), { headers: { "Content-Type": "application/wasm" } });
  cc = await import(pathToFileURL(join(dir, "loader.js")).href);
  await cc.load(pathToFileURL(join(dir, "cloudcredits.wasm")).href);
  // The syscall/js functions answer the wants; the loader must not fall
  // back to them, so they throw when it calls them.
  const g = globalThis.cloudCredits;
  js = { estimate: g.estimate, price: g.price };
  for (const name of ["estimate", "price", "estimatePacked"]) {
    g[name] = () => { throw new Error(`loader.js called cloudCredits.${name} instead of the module's exports`); };
  }
});

const cases = JSON.parse(readFileSync(join(ROOT, "testdata", "golden", "estimates", "cases.json"), "utf8")).cases;

test("JSON answers through the exports are the syscall/js answers", () => {
  const bodies = [
    ...cases.map((c) => ["estimates", JSON.stringify(c.request)]),
    ["estimates", '{"service": '],
    ["estimates", '{"service": "rendering", "params": {"size_mb": true}}'],
    ["prices", '{"currency":"cloud","credits":"5000","channel":"reseller"}'],
    ["prices", '{"currency":"cloud","credits":"120000","channel":"eba","purchased_this_year":"1000"}'],
    ["prices", '{"currency":"cloud","credits":"1","channel":"eba"}'],
    ["prices", '{"currency":"usd","credits":5}'],
    ["prices", ""],
  ];
  for (const [kind, text] of bodies) {
    const want = kind === "estimates" ? js.estimate(text) : js.price(text);
    const got = cc.answer(kind, text);
    assert.equal(got.status, want.status, `${kind} ${text}`);
    assert.equal(got.body, want.body, `${kind} ${text}`);
  }
});

test("typed estimates through the exports are the JSON answers", () => {
  let typed = 0;
  for (const c of cases) {
    const r = c.request;
    const keys = Object.keys(r);
    const single = keys.every((k) => k === "service" || k === "params");
    if (!single && !(keys.length === 1 && keys[0] === "items")) continue; // not a call of estimate() or estimateMany()
    const want = js.estimate(JSON.stringify(r));
    let got;
    try {
      got = r.items ? cc.estimateMany(r.items) : cc.estimate(r.service, r.params || {});
    } catch (err) {
      assert.equal(want.status, err.status, c.name);
      assert.deepEqual(err.error, JSON.parse(want.body).error, c.name);
      typed++;
      continue;
    }
    assert.equal(want.status, 200, c.name);
    assert.equal(JSON.stringify(got), JSON.stringify(JSON.parse(want.body)), c.name);
    typed++;
  }
  assert.ok(typed >= 20, `only ${typed} cases went through the typed call`);
});
