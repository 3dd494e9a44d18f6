// The site in headless Chromium against the real local server (SQLite in a
// throwaway folder): the browser's engine answers every golden case like the
// API, a user estimates a job in the widget, the chart draws its three
// channels, and — when the orders route is served — a contract admin buys
// credits through checkout and sees the lot. Screenshots of every page go to
// .artifacts/screenshots/.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { ROOT, ensureWasm, startServer, launch, screenshotPath, canonical } from "./harness.js";

let server, chrome;

before(async () => {
  ensureWasm();
  chrome = await launch(); // fails first, with how to install Chromium
  server = await startServer();
});

after(async () => {
  await chrome?.close();
  await server?.stop();
});

async function newPage(opts = {}) {
  const context = await chrome.browser.newContext({ viewport: opts.viewport || { width: 1280, height: 900 } });
  const page = await context.newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(e.message));
  page.on("console", (m) => { if (m.type() === "error") errors.push(m.text()); });
  return { page, context, errors };
}

// A page with the engine loaded and Date pinned by window.__at (ms), so
// cases priced at a past instant see the book of that instant (the engine
// reads the clock through Date, as the Go tests pass tc.At).
async function enginePage() {
  const p = await newPage();
  await p.page.addInitScript(() => {
    const RealDate = Date;
    window.__at = null;
    window.Date = class extends RealDate {
      constructor(...a) { if (a.length === 0 && window.__at !== null) super(window.__at); else super(...a); }
      static now() { return window.__at ?? RealDate.now(); }
    };
  });
  await p.page.goto(`${server.base}/index.html`);
  await p.page.evaluate(async () => { window.cc = await import("/wasm/loader.js"); await window.cc.load(); });
  return p;
}

const read = (path) => JSON.parse(readFileSync(join(ROOT, path), "utf8"));

test("every golden estimate answered in the browser equals its golden file", async () => {
  const { page, context } = await enginePage();
  const file = read("testdata/golden/estimates/cases.json");
  const answers = await page.evaluate((reqs) => {
    window.__at = Date.UTC(2025, 0, 1);
    return reqs.map((r) => window.cc.answer("estimates", r));
  }, file.cases.map((c) => c.request));
  let checked = 0;
  file.cases.forEach((c, i) => {
    const { status, body } = answers[i];
    const got = JSON.parse(body);
    if (c.error) {
      assert.equal(status, 400, `${c.name}: status`);
      assert.equal(got.error.code, c.error.code, `${c.name}: code`);
      assert.deepEqual(Object.keys(got.error.details?.fields || {}).sort(), [...(c.error.fields || [])].sort(), `${c.name}: fields`);
    } else {
      assert.equal(status, 200, `${c.name}: status ${status} ${body}`);
      assert.equal(canonical(got), canonical(read(`testdata/golden/estimates/${c.name}.json`)), `${c.name}`);
    }
    checked++;
  });
  assert.ok(checked >= 30, `only ${checked} estimate cases`);
  await context.close();
});

test("every golden price of the published books answered in the browser equals its golden file", async () => {
  const { page, context } = await enginePage();
  const cases = read("testdata/golden/prices/cases.json").filter((c) => c.book.startsWith("testdata/pricebooks/") && !c.book.includes("/variants/"));
  const answers = await page.evaluate((cs) => cs.map((c) => {
    window.__at = Date.parse(c.at);
    return window.cc.answer("prices", c.request);
  }), cases.map((c) => ({ at: c.at, request: c.request })));
  cases.forEach((c, i) => {
    const { status, body } = answers[i];
    assert.equal(status, c.error ? 400 : 200, `${c.name}: status ${status} ${body}`);
    assert.equal(canonical(JSON.parse(body)), canonical(read(c.golden)), c.name);
  });
  assert.ok(cases.length >= 12, `only ${cases.length} price cases`);
  await context.close();
});

test("a user estimates a 12 km InfraWorks job in the widget", async () => {
  const { page, context, errors } = await newPage();
  await page.addInitScript(() => { window.__events = []; document.addEventListener("credit-estimate", (e) => window.__events.push(e.detail)); });
  await page.goto(`${server.base}/index.html`);
  const widget = page.locator("credit-estimator");
  await widget.getByLabel("Service").selectOption({ label: "InfraWorks profile optimization" });
  const km = widget.getByLabel("Road length");
  await km.fill("");
  await km.pressSequentially("12");
  await assert.doesNotReject(widget.locator(".credits").filter({ hasText: /^300\b/ }).waitFor({ timeout: 5000 }), "the widget shows 300 credits");
  const last = await page.evaluate(() => window.__events.at(-1));
  assert.equal(last.service, "infraworks-profile-optimization");
  assert.equal(last.credits, "300");
  assert.equal(await widget.locator("[aria-live]").count(), 1, "the result is a live region");
  assert.match(await widget.locator(".price").innerText(), /\$375\.00/, "300 credits are 3 packs at list $1.25");
  await page.screenshot({ path: screenshotPath("index"), fullPage: true });
  const narrow = await newPage({ viewport: { width: 360, height: 780 } });
  await narrow.page.goto(`${server.base}/index.html`);
  await narrow.page.locator("credit-estimator .credits").waitFor();
  const overflow = await narrow.page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  assert.ok(overflow <= 0, `the page scrolls sideways by ${overflow}px at 360 px`);
  await narrow.page.screenshot({ path: screenshotPath("index-360"), fullPage: true });
  await narrow.context.close();
  assert.deepEqual(errors, []);
  await context.close();
});

test("the price-tier chart draws list, reseller and eba", async () => {
  const { page, context, errors } = await newPage();
  await page.goto(`${server.base}/index.html`);
  const chart = page.locator("price-tier-chart");
  await chart.locator("svg g.series").first().waitFor();
  const channels = await chart.locator("svg g.series").evaluateAll((gs) => gs.map((g) => g.dataset.channel));
  assert.deepEqual(channels, ["list", "reseller", "eba"]);
  assert.ok(await chart.locator("svg rect.band").count() >= 8, "market and advisory bands");
  await chart.locator("svg g.viewer circle").waitFor();
  assert.deepEqual(errors, []);
  await context.close();
});

test("a contract admin buys credits through checkout and sees the lot", async (t) => {
  const probe = await fetch(`${server.base}/v1/contracts/demo/orders`, { method: "POST", headers: { "Content-Type": "application/json", "Idempotency-Key": "probe" }, body: "{}" });
  const probeBody = await probe.json().catch(() => ({}));
  if (probe.status === 404 && /no route/.test(probeBody?.error?.message || "")) {
    t.skip("POST /v1/contracts/{c}/orders is not served yet");
    return;
  }
  const { page, context } = await newPage();
  await page.goto(`${server.base}/checkout.html`);
  await page.getByLabel("Contract admin token").fill(server.tokens.ADMIN);
  await page.getByRole("button", { name: "Use this token" }).click();
  await page.getByLabel("How many").fill("1000");
  await page.locator("#quote .total").filter({ hasText: "$1,250.00" }).waitFor({ timeout: 5000 });
  await page.screenshot({ path: screenshotPath("checkout"), fullPage: true });
  await page.getByRole("button", { name: "Pay", exact: true }).click();
  const left = await Promise.race([
    page.waitForURL((u) => !u.pathname.endsWith("/checkout.html"), { timeout: 10000 }).then(() => null),
    page.locator("#status .error").waitFor({ timeout: 10000 }).then(() => page.locator("#status .error").innerText()),
  ]);
  assert.equal(left, null, `the orders route exists but checkout did not start: ${left}`);
  await page.getByText("TEST MODE").first().waitFor();
  await page.screenshot({ path: screenshotPath("test-checkout"), fullPage: true });
  await page.getByRole("button", { name: /^Pay/ }).click();
  await page.waitForURL(/checkout\.html\?order=/, { timeout: 15000 });
  await page.locator("#fulfilled").waitFor({ timeout: 30000 });
  const lotId = (await page.locator("#new-lot dd").first().innerText()).trim();
  await page.screenshot({ path: screenshotPath("checkout-fulfilled"), fullPage: true });
  await page.goto(`${server.base}/admin.html`);
  await page.locator(`#lots-table tr[data-lot="${lotId}"]`).waitFor({ timeout: 5000 });
  await page.screenshot({ path: screenshotPath("admin"), fullPage: true });
  await context.close();
});

test("the admin dashboard shows balances and lots of the demo contract", async () => {
  const { page, context, errors } = await newPage();
  await page.goto(`${server.base}/admin.html`);
  if (!(await page.locator("#signin").evaluate((d) => d.open))) await page.getByText("Access token").click();
  await page.getByLabel("Contract admin token").fill(server.tokens.ADMIN);
  await page.getByRole("button", { name: "Use this token" }).click();
  await page.locator('#lots-table tr[data-lot="demo-cloud-1"]').waitFor({ timeout: 5000 });
  assert.match(await page.locator('#balances [data-currency="cloud"]').innerText(), /Cloud Credits/);
  await page.locator("#usage p, #usage-chart").first().waitFor();
  await page.screenshot({ path: screenshotPath("admin-demo"), fullPage: true });
  assert.deepEqual(errors.filter((e) => !/404/.test(e)), []);
  await context.close();
});
