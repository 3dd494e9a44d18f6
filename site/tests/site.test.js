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
import { createServer } from "node:http";
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

// The same cases through the calls the page makes (estimate and
// estimateMany: the typed call, and the kept answers when a request comes
// again): the same answers as the JSON route, hence as the API.
test("every golden estimate asked through estimate() and estimateMany() equals its golden file", async () => {
  const { page, context } = await enginePage();
  const file = read("testdata/golden/estimates/cases.json");
  const answers = await page.evaluate((reqs) => {
    window.__at = Date.UTC(2025, 0, 1);
    const ask = (r) => {
      try {
        if (r.holdings) return { skipped: true };
        if (Array.isArray(r.items) && r.service === undefined) return { value: window.cc.estimateMany(r.items) };
        if (typeof r.service === "string" && r.items === undefined && r.params && typeof r.params === "object") return { value: window.cc.estimate(r.service, r.params) };
        return { skipped: true };
      } catch (e) {
        return { error: { status: e.status, code: e.code, fields: Object.keys(e.details?.fields || {}) } };
      }
    };
    // Twice: the second answer of a request may be the kept one.
    return reqs.map((r) => [ask(r), ask(r)]);
  }, file.cases.map((c) => c.request));
  let checked = 0;
  file.cases.forEach((c, i) => {
    for (const a of answers[i]) {
      if (a.skipped) return;
      if (c.error) {
        assert.ok(a.error, `${c.name}: answered ${JSON.stringify(a.value)}, want error ${c.error.code}`);
        assert.equal(a.error.status, 400, `${c.name}: status`);
        assert.equal(a.error.code, c.error.code, `${c.name}: code`);
        assert.deepEqual([...a.error.fields].sort(), [...(c.error.fields || [])].sort(), `${c.name}: fields`);
      } else {
        assert.ok(a.value, `${c.name}: ${JSON.stringify(a.error)}`);
        assert.equal(canonical(a.value), canonical(read(`testdata/golden/estimates/${c.name}.json`)), `${c.name}`);
      }
    }
    checked++;
  });
  assert.ok(checked >= 20, `only ${checked} estimate cases asked through the typed calls`);
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
  // The module arrives late, so the typing below is answered by the API
  // (as on a slow network): an emptied required field must be a prompt in
  // the page, not a request the API refuses.
  let apiAnswered = 0;
  page.on("response", (r) => { if (r.url().endsWith("/v1/estimates") && r.ok()) apiAnswered++; });
  await page.route("**/wasm/cloudcredits.wasm", async (r) => { await new Promise((ok) => setTimeout(ok, 1500)); await r.continue(); });
  await page.goto(`${server.base}/index.html`);
  const widget = page.locator("credit-estimator");
  await widget.getByLabel("Service").selectOption({ label: "InfraWorks profile optimization" });
  const km = widget.getByLabel("Road length");
  await km.fill("");
  await widget.getByText("Enter the road length to see the estimate.").waitFor({ timeout: 1000 });
  await km.pressSequentially("12");
  await assert.doesNotReject(widget.locator(".credits").filter({ hasText: /^300\b/ }).waitFor({ timeout: 5000 }), "the widget shows 300 credits");
  const last = await page.evaluate(() => window.__events.at(-1));
  assert.equal(last.service, "infraworks-profile-optimization");
  assert.equal(last.credits, "300");
  assert.ok(apiAnswered >= 1, "the estimates while the module loaded came from the API");
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

test("the estimator embeds in a page of another origin, as the snippet says", async () => {
  const { page, context, errors } = await newPage();
  // A shop's page on another origin (its own server, another port): the
  // widget, its module and the API answer it across origins (CORS).
  const shop = createServer((req, res) => {
    res.writeHead(200, { "Content-Type": "text/html" });
    res.end(`<!doctype html><html lang="en"><title>Shop</title>
      <script type="module" src="${server.base}/estimator.js"></script>
      <credit-estimator api="${server.base}" channel="reseller"></credit-estimator></html>`);
  });
  await new Promise((ok) => shop.listen(0, "127.0.0.1", ok));
  const other = `http://127.0.0.1:${shop.address().port}`;
  try {
    let crossOrigin = 0;
    page.on("response", (r) => { if (r.url().startsWith(server.base) && r.ok()) crossOrigin++; });
    await page.goto(`${other}/shop.html`);
    const widget = page.locator("credit-estimator");
    await widget.getByLabel("Service").selectOption({ label: "InfraWorks profile optimization" });
    await widget.getByLabel("Road length").fill("12");
    await assert.doesNotReject(widget.locator(".credits").filter({ hasText: /^300\b/ }).waitFor({ timeout: 10000 }), "the embedded widget shows 300 credits");
    assert.ok(crossOrigin >= 2, `the widget loaded from the other origin (${crossOrigin} answers)`);
    assert.deepEqual(errors, []);
  } finally {
    await context.close();
    shop.close();
  }
});

test("signed out, the dashboard offers no CSV download; checkout counts one pack as one pack", async () => {
  const { page, context, errors } = await newPage();
  await page.goto(`${server.base}/admin.html`);
  await page.locator("#usage-actions").waitFor({ state: "attached" });
  assert.equal(await page.locator("#usage-actions").isVisible(), false, "Download CSV is hidden while signed out");
  assert.equal(await page.getByRole("link", { name: "Download CSV" }).isVisible(), false);
  await page.goto(`${server.base}/checkout.html`);
  await page.locator("#unit").selectOption("packs");
  await page.locator("#amount").fill("1");
  await page.locator("#amount").dispatchEvent("input");
  await page.locator("#quote dd").first().filter({ hasText: /\(1 pack of / }).waitFor({ timeout: 5000 });
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

test("the price-tier chart draws a book without a benchmark (forma, flex) with its caption and table", async () => {
  const { page, context, errors } = await newPage();
  await page.goto(`${server.base}/index.html`);
  const chart = page.locator("price-tier-chart");
  await chart.locator("svg g.series").first().waitFor();
  for (const currency of ["forma", "flex"]) {
    await chart.evaluate((el, cur) => { el.setAttribute("credits", "500"); el.setAttribute("currency", cur); }, currency);
    await page.waitForFunction((cur) => {
      const el = document.querySelector("price-tier-chart");
      return el.getAttribute("currency") === cur && el.shadowRoot.querySelector("svg g.viewer circle") && el.shadowRoot.querySelector("figcaption");
    }, currency);
    const caption = await chart.locator("figcaption").textContent();
    assert.match(caption, /\$[0-9.]+ per credit/, `${currency} caption: ${caption}`);
    assert.equal(await chart.locator("svg rect.band").count(), 0, `${currency} draws no benchmark bands`);
    assert.ok(await chart.locator("details table").count() === 1, `${currency} keeps its table alternative`);
  }
  assert.deepEqual(errors, []);
  await context.close();
});

test("a contract admin buys credits through checkout and sees the lot", async (t) => {
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

// A reseller's quote link leads into checkout: the page shows the signed
// quote as the API verifies it, and accepting it makes an order at the quoted
// price, paid through the TEST MODE checkout.
test("a contract admin accepts a quote link in checkout and pays the quoted price", async () => {
  const made = await fetch(`${server.base}/v1/quotes`, {
    method: "POST",
    headers: { Authorization: `Bearer ${server.tokens.VENDOR}`, "Content-Type": "application/json", "Idempotency-Key": crypto.randomUUID() },
    body: JSON.stringify({ customer: "Demo Engineering Ltd", contract: "demo", currency: "cloud", credits: "2000", channel: "reseller" }),
  });
  const q = await made.json();
  assert.equal(made.status, 201, JSON.stringify(q));
  const { page, context, errors } = await newPage();
  await page.goto(`${server.base}/checkout.html?quote=${encodeURIComponent(q.token)}`);
  await page.getByLabel("Contract admin token").fill(server.tokens.ADMIN);
  await page.getByRole("button", { name: "Use this token" }).click();
  await page.locator("#quoted-total").filter({ hasText: "$2,400.00" }).waitFor({ timeout: 5000 });
  assert.doesNotMatch(await page.locator("#quote").innerText(), /null|undefined/);
  assert.equal(await page.locator("#amount").isVisible(), false, "a quote's amount is fixed: the form's own fields are hidden");
  await page.screenshot({ path: screenshotPath("checkout-quote"), fullPage: true });
  await page.getByRole("button", { name: "Accept and pay" }).click();
  await page.getByText("TEST MODE").first().waitFor({ timeout: 10000 });
  await page.getByRole("button", { name: /^Pay/ }).click();
  await page.waitForURL(/checkout\.html\?order=/, { timeout: 15000 });
  await page.locator("#fulfilled").waitFor({ timeout: 30000 });
  assert.match(await page.locator("#fulfilled").innerText(), /2,000 cloud credits/);
  const again = await fetch(`${server.base}/v1/quotes/${encodeURIComponent(q.token)}`);
  assert.equal((await again.json()).accepted, true, "the quote is marked accepted");
  assert.deepEqual(errors, []);
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

// The governance reports on the dashboard: consumptions made through the API
// with the service token (ann over the baseline share on a project, bob
// without a project), a refused education identity (an audit finding) and
// bob's individual lot withdrawn by the vendor (it closes within 90 days, so
// the calendar warns). Then the forecast and advisor from a golden report,
// since a fresh contract has no complete month of history to forecast from.
test("the admin dashboard shows usage charts, alerts, the expiry calendar, the audit and the forecast", async (t) => {
  const base = `${server.base}/v1/contracts/demo`;
  const call = async (tok, method, path, body) => {
    const r = await fetch(path.startsWith("http") ? path : `${base}${path}`, {
      method,
      headers: { Authorization: `Bearer ${tok}`, "Content-Type": "application/json", ...(method === "GET" ? {} : { "Idempotency-Key": crypto.randomUUID() }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: r.status, body: await r.json().catch(() => null) };
  };
  const probe = await call(server.tokens.ADMIN, "GET", "/usage");
  assert.equal(probe.status, 200, `GET /usage: ${JSON.stringify(probe.body)}`);
  assert.ok(server.tokens.SERVICE && server.tokens.VENDOR, "the server printed SERVICE and VENDOR tokens");
  for (let i = 0; i < 2; i++) {
    const r = await call(server.tokens.SERVICE, "POST", "/consumptions", { user: "ann", entity: "demo-eng", project: "bridge", service: "moldflow-insight", params: { runs: "20" } });
    assert.equal(r.status, 201, JSON.stringify(r.body));
  }
  const bob = await call(server.tokens.SERVICE, "POST", "/consumptions", { user: "bob", entity: "demo-sub", service: "structural-analysis", params: { analyses: "10" } });
  assert.equal(bob.status, 201, JSON.stringify(bob.body));
  const eve = await call(server.tokens.SERVICE, "POST", "/consumptions", { user: "eve", entity: "demo-eng", service: "structural-analysis", params: { analyses: "1" } });
  assert.equal(eve.status, 422, JSON.stringify(eve.body));
  const bal = await call(server.tokens.ADMIN, "GET", "/balance");
  const bobLot = bal.body.lots.find((l) => l.owner === "bob" && l.kind === "individual");
  assert.ok(bobLot, "bob has an individual lot");
  const wd = await call(server.tokens.VENDOR, "POST", `${server.base}/v1/lots/${encodeURIComponent(bobLot.id)}/withdraw`, {});
  assert.equal(wd.status, 200, JSON.stringify(wd.body));

  const { page, context, errors } = await newPage();
  await page.goto(`${server.base}/admin.html`);
  if (!(await page.locator("#signin").evaluate((d) => d.open))) await page.getByText("Access token").click();
  await page.getByLabel("Contract admin token").fill(server.tokens.ADMIN);
  await page.getByRole("button", { name: "Use this token" }).click();

  // Usage: a bar for ann, for the service she used and for her project.
  const annBar = page.locator('#usage-user g.bar-row[data-key="ann"]');
  await annBar.waitFor({ timeout: 10000 });
  assert.match(await annBar.getAttribute("aria-label"), /^ann: 800 Cloud Credits, 2 jobs$/);
  assert.equal(await annBar.getAttribute("tabindex"), "0", "bars are reachable by keyboard");
  assert.ok(Number.parseFloat(await annBar.locator("rect.bar-fill").getAttribute("width")) > 0, "ann's bar has a width");
  await page.locator('#usage-service g.bar-row[data-key="moldflow-insight"]').waitFor();
  await page.locator('#usage-service g.bar-row[data-key="structural-analysis"]').waitFor();
  await page.locator('#usage-project g.bar-row[data-key="bridge"]').waitFor();
  assert.match(await page.locator('#usage-project g.bar-row[data-key=""]').getAttribute("aria-label"), /^\(no project\): 20 Cloud Credits/, "\"\" is a real project value");
  assert.equal(await page.getByRole("list", { name: "By user" }).count(), 1, "the chart is labelled");

  // The CSV is fetched with the token and saved from a Blob.
  const [download] = await Promise.all([page.waitForEvent("download"), page.getByRole("link", { name: "Download CSV" }).click()]);
  const csv = readFileSync(await download.path(), "utf8");
  assert.match(download.suggestedFilename(), /^usage-demo-\d{4}-\d{2}-\d{4}-\d{2}\.csv$/);
  assert.match(csv, /^user,service,project,month,currency,credits,count\r\n/);
  assert.match(csv, /\r\nann,moldflow-insight,bridge,\d{4}-\d{2},cloud,800,2\r\n/);

  // Alerts, the calendar (bob's withdrawn lot warned), the audit, the forecast.
  await page.locator('#alerts-list li[data-code="user_over_baseline_share"]').filter({ hasText: "user ann" }).waitFor();
  await page.locator('#alerts-list li[data-code="project_over_baseline_share"]').filter({ hasText: "project bridge" }).waitFor();
  const warned = page.locator(`#expiry-table tr.warn[data-lot="${bobLot.id}"]`);
  await warned.waitFor();
  assert.match(await warned.locator("xpath=ancestor::tbody").locator("tr.group").innerText(), /within 90 days/);
  assert.ok(await page.locator("#expiry-table td.unused").count() >= 1, "credits forecast to expire unused are marked");
  const edu = page.locator('#findings li.found[data-code="education_identity"]');
  await edu.waitFor();
  assert.match(await edu.innerText(), /Exposure\s+\$2,500\.00–\$12,000\.00/);
  assert.match(await edu.innerText(), /Advice: Named User registry audit/);
  assert.match(await page.locator("#audit-total").innerText(), /total exposure \$2,500\.00–\$12,000\.00/);
  await page.locator("#forecast #forecast-none, #forecast article.forecast").first().waitFor();
  // The outbox: bob's withdrawal notice, to the demo's address, its body
  // behind a disclosure.
  const notice = page.locator('#outbox-table tr[data-kind="withdrawal_notice"]').filter({ hasText: "procurement@demo.example" });
  await notice.waitFor();
  assert.match(await notice.getAttribute("data-state"), /^(pending|sent)$/);
  await notice.locator("summary").click();
  assert.match(await notice.locator("pre.mail").innerText(), new RegExp(bobLot.id));
  // The address field shows the address in use; a bad one is refused and
  // says why; a good one is saved.
  assert.equal(await page.getByLabel("Send notifications to").inputValue(), "procurement@demo.example");
  await page.getByLabel("Send notifications to").fill("Buyers <buyers@demo.example>");
  await page.evaluate(() => { document.getElementById("notify-email").type = "text"; }); // let the server judge it
  await page.getByRole("button", { name: "Save address" }).click();
  await page.locator("#notify-status").filter({ hasText: "not saved" }).waitFor();
  assert.match(await page.locator("#notify-status").innerText(), /notify_email/);
  // The refusal is the one console line the page may have: the browser logs the 400.
  assert.deepEqual(errors.splice(0), ["Failed to load resource: the server responded with a status of 400 (Bad Request)"]);
  await page.getByLabel("Send notifications to").fill("buyers@demo.example");
  await page.getByRole("button", { name: "Save address" }).click();
  await page.locator("#notify-status").filter({ hasText: "Notifications go to buyers@demo.example." }).waitFor();
  const put = await call(server.tokens.ADMIN, "PUT", "/notify-email", { notify_email: "procurement@demo.example" });
  assert.equal(put.status, 200, JSON.stringify(put.body));
  await page.screenshot({ path: screenshotPath("admin-governance"), fullPage: true });
  assert.deepEqual(errors, []);
  await context.close();

  // At 360 px nothing scrolls sideways; the token is already in the tab.
  const narrow = await newPage({ viewport: { width: 360, height: 780 } });
  await narrow.page.addInitScript((tok) => sessionStorage.setItem("cloudcredits.token", tok), server.tokens.ADMIN);
  await narrow.page.goto(`${server.base}/admin.html`);
  await narrow.page.locator('#usage-user g.bar-row[data-key="ann"]').waitFor({ timeout: 10000 });
  await narrow.page.locator("#findings li").first().waitFor();
  const overflow = await narrow.page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  assert.ok(overflow <= 0, `the dashboard scrolls sideways by ${overflow}px at 360 px`);
  await narrow.page.keyboard.press("Tab");
  await narrow.page.screenshot({ path: screenshotPath("admin-governance-360"), fullPage: true });
  await narrow.context.close();

  // The forecast and advisor of a golden report, and an alert whose message
  // is markup: it must arrive as text.
  const golden = readFileSync(join(ROOT, "testdata/golden/governance/jv-mixed-forecast.json"), "utf8");
  const g = await newPage();
  await g.page.addInitScript((tok) => sessionStorage.setItem("cloudcredits.token", tok), server.tokens.ADMIN);
  await g.page.route("**/v1/contracts/demo/forecast", (r) => r.fulfill({ status: 200, contentType: "application/json", body: golden }));
  await g.page.route("**/v1/contracts/demo/alerts", (r) => r.fulfill({ status: 200, contentType: "application/json", body: JSON.stringify({
    as_of: new Date().toISOString(), months: ["2026-01", "2026-02"], monthly_baseline: "0", threshold: "0", omitted: 0,
    alerts: [{ code: "pool_expires_unused", currency: "cloud", message: '<img src=x onerror="window.__pwned=1">', details: {} }] }) }));
  await g.page.route("**/v1/contracts/demo/notifications", (r) => r.fulfill({ status: 200, contentType: "application/json", body: JSON.stringify({
    notify_email: "", notifications: [{ id: "alert:demo:x", kind: "alert", to: "", subject: '<img src=x onerror="window.__pwned=2">', body: "<b>bold</b>", state: "unaddressed", created_at: new Date().toISOString() }] }) }));
  await g.page.goto(`${server.base}/admin.html`);
  const advisor = g.page.locator('#forecast article.forecast[data-currency="cloud"] .advisor');
  await advisor.waitFor({ timeout: 10000 });
  assert.match(await advisor.locator(".recommendation").innerText(), /^Forecast demand is 3148 cloud credits/);
  assert.match(await advisor.innerText(), /Recommended purchase\s+1,467 credits/);
  await advisor.locator('tr[data-channel="eba"]').filter({ hasText: "Not available" }).waitFor();
  await g.page.locator('#forecast-cloud-services g.bar-row[data-key="rendering"]').waitFor();
  const li = g.page.locator('#alerts-list li[data-code="pool_expires_unused"]');
  await li.waitFor();
  assert.match(await li.innerText(), /<img src=x onerror=/);
  assert.equal(await g.page.locator("#alerts img").count(), 0);
  const unaddressed = g.page.locator('#outbox-table tr[data-state="unaddressed"]');
  await unaddressed.waitFor();
  assert.match(await unaddressed.innerText(), /<img src=x onerror=[\s\S]*\(no address\)/);
  assert.equal(await g.page.locator("#outbox img, #outbox b").count(), 0);
  assert.equal(await g.page.evaluate(() => window.__pwned), undefined);
  await g.page.screenshot({ path: screenshotPath("admin-governance-forecast"), fullPage: true });
  assert.deepEqual(g.errors, []);
  await g.context.close();

  // A server without a report: its section says so in a line.
  const m = await newPage();
  await m.page.addInitScript((tok) => sessionStorage.setItem("cloudcredits.token", tok), server.tokens.ADMIN);
  await m.page.route("**/v1/contracts/demo/audit", (r) => r.fulfill({ status: 404, contentType: "application/json", body: '{"error":{"code":"not_found","message":"no route GET /v1/contracts/demo/audit"}}' }));
  await m.page.goto(`${server.base}/admin.html`);
  await m.page.locator("#audit-missing").waitFor({ timeout: 10000 });
  await m.page.locator('#usage-user g.bar-row[data-key="ann"]').waitFor();
  await m.context.close();
});
