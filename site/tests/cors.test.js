// CORS as API.md says, seen by a browser: pages of two other origins call
// the local server. The public routes answer both; the authenticated routes
// answer only the origin the deployment lists (CORS_ORIGINS), reads and
// keyed mutations alike (their preflight included); the other origin's
// calls are blocked by the browser and change nothing.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { startServer, launch } from "./harness.js";

let server, chrome, listed, other;

function shop() {
  const s = createServer((req, res) => {
    res.writeHead(200, { "Content-Type": "text/html" });
    res.end(`<!doctype html><html lang="en"><title>Elsewhere</title><p>another origin</p></html>`);
  });
  return new Promise((ok) => s.listen(0, "127.0.0.1", () => ok({ server: s, origin: `http://127.0.0.1:${s.address().port}` })));
}

before(async () => {
  chrome = await launch(); // fails first, with how to install Chromium
  listed = await shop();
  other = await shop();
  server = await startServer({ env: { CORS_ORIGINS: listed.origin } });
});

after(async () => {
  await chrome?.close();
  await server?.stop();
  listed?.server.close();
  other?.server.close();
});

// calls runs fetches in a page of origin and returns what each answered:
// {status, body} or {blocked: message} when the browser refused it.
async function calls(origin, requests) {
  const context = await chrome.browser.newContext();
  const page = await context.newPage();
  try {
    await page.goto(`${origin}/page.html`);
    return await page.evaluate(async (rs) => Promise.all(rs.map(async (r) => {
      try {
        const res = await fetch(r.url, { method: r.method || "GET", headers: r.headers || {}, body: r.body });
        return { status: res.status, body: await res.text(), replayed: res.headers.get("Idempotent-Replayed") };
      } catch (e) {
        return { blocked: String(e) };
      }
    })), requests);
  } finally {
    await context.close();
  }
}

test("a listed origin calls the authenticated routes; another origin is blocked; both call the public ones", async () => {
  const spend = (key) => ({
    url: `${server.base}/v1/contracts/demo/consumptions`, method: "POST",
    headers: { "Authorization": `Bearer ${server.tokens.SERVICE}`, "Content-Type": "application/json", "Idempotency-Key": key },
    body: JSON.stringify({ user: "ann", entity: "demo-eng", service: "rendering", credits: "10" }),
  });
  const requests = (key) => [
    { url: `${server.base}/v1/ratecard` },
    { url: `${server.base}/v1/me/balance`, headers: { "Authorization": `Bearer ${server.tokens.ANN}` } },
    spend(key),
  ];
  const balanceBefore = await (await fetch(`${server.base}/v1/contracts/demo/balance`, { headers: { Authorization: `Bearer ${server.tokens.ADMIN}` } })).text();

  const [ratecardOther, balanceOther, spendOther] = await calls(other.origin, requests("cors-other"));
  assert.equal(ratecardOther.status, 200, "the rate card answers any origin");
  assert.ok(balanceOther.blocked, `an unlisted origin read a balance: ${JSON.stringify(balanceOther)}`);
  assert.ok(spendOther.blocked, `an unlisted origin spent: ${JSON.stringify(spendOther)}`);
  const balanceAfter = await (await fetch(`${server.base}/v1/contracts/demo/balance`, { headers: { Authorization: `Bearer ${server.tokens.ADMIN}` } })).text();
  assert.equal(balanceAfter, balanceBefore, "a blocked spend changed the balance");

  const [ratecard, balance, spent] = await calls(listed.origin, requests("cors-listed"));
  assert.equal(ratecard.status, 200);
  assert.equal(balance.status, 200, `the listed origin's balance: ${JSON.stringify(balance)}`);
  assert.match(balance.body, /"balances":\{"cloud":/);
  assert.equal(spent.status, 201, `the listed origin's spend: ${JSON.stringify(spent)}`);
  const [, , again] = await calls(listed.origin, requests("cors-listed"));
  assert.equal(again.status, 201);
  assert.equal(again.replayed, "true", "the listed origin reads Idempotent-Replayed (an exposed header)");
  assert.equal(again.body, spent.body, "the replay is the first answer, byte for byte");
});
