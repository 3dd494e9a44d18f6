// checkout.html: price an order on the server (POST /v1/prices), create it
// (POST /v1/contracts/{c}/orders), follow the payment provider's checkout_url,
// and on return (?order=…) poll the order until it is fulfilled, then show
// the new lot from the balance. The page never computes a price it charges:
// the server prices the order again when it is created.
//
// With ?quote=<token> (the Accept button of a reseller's quote link) the
// page shows the signed quote, verified by the API, and Pay accepts it
// (POST /v1/quotes/{token}/accept): the order is made at the quoted price.
import { api, claims, el, fmt, tokenForm, ApiError } from "./session.js";

const $ = (id) => document.getElementById(id);
const POLL_MS = 1000;
const POLLS_MAX = 90; // give up after about 90 s and say so

let quoteSeq = 0;
let orderKey = null; // one Idempotency-Key per order: a double click pays once

// request is the order's quantity as the API reads it: credits a decimal
// string, packs a whole number sent as a JSON integer (anything else is sent
// as typed, for the API to name what is wrong with it).
function request() {
  const amount = $("amount").value.trim();
  const unit = $("unit").value;
  const body = { currency: $("currency").value };
  body[unit] = unit === "packs" && /^[0-9]{1,13}$/.test(amount) ? Number(amount) : amount;
  return body;
}

async function quote() {
  const seq = ++quoteSeq;
  orderKey = null;
  const out = $("quote");
  const body = { ...request(), channel: $("channel").value };
  try {
    const p = await api("POST", "/v1/prices", body, { auth: false });
    if (seq !== quoteSeq) return;
    out.replaceChildren(
      el("p", { class: "total" }, `$${fmt(p.subtotal)}`),
      el("dl", { class: "facts" },
        el("dt", {}, "Credits"), el("dd", {}, `${fmt(p.credits)} (${fmt(p.packs)} pack${p.packs === "1" ? "" : "s"} of ${fmt(p.pack_size)})`),
        el("dt", {}, "Unit price"), el("dd", {}, `$${p.unit_price} (${p.channel}, tier ${p.tier.name})`),
        el("dt", {}, "List total"), el("dd", {}, `$${fmt(p.list_total)}${Number(p.savings) > 0 ? `, you save $${fmt(p.savings)}` : ""}`),
        el("dt", {}, "Price book"), el("dd", {}, p.price_book_version)),
      p.benchmark && p.benchmark.message ? el("p", { class: "hint" }, p.benchmark.message) : null);
    $("pay").disabled = false;
  } catch (e) {
    if (seq !== quoteSeq) return;
    out.replaceChildren(el("p", { class: "error" }, e.message));
    $("pay").disabled = true;
  }
}

async function pay(ev) {
  ev.preventDefault();
  const status = $("status");
  const c = claims();
  if (!c || !c.contract) {
    status.replaceChildren(el("p", { class: "error", role: "alert" }, "Paste a contract admin token first (Your access)."));
    $("token").focus();
    return;
  }
  orderKey ||= crypto.randomUUID();
  $("pay").disabled = true;
  status.replaceChildren(el("p", {}, "Creating your order…"));
  try {
    const o = await api("POST", `/v1/contracts/${encodeURIComponent(c.contract)}/orders`, { ...request(), payment: "card" }, { idempotencyKey: orderKey });
    sessionStorage.setItem("cloudcredits.lastOrder", o.order_id);
    if (o.checkout_url) {
      status.replaceChildren(el("p", {}, `Order ${o.order_id}: $${fmt(o.total)} for ${fmt(o.credits)} credits. Taking you to the payment page…`));
      location.assign(o.checkout_url);
      return;
    }
    status.replaceChildren(el("p", {}, `Order ${o.order_id} is ${o.status}.`));
  } catch (e) {
    const msg = e instanceof ApiError && e.status === 404 && e.code === "not_found" && /no route/.test(e.message)
      ? "Buying credits is not available on this server yet."
      : `The order was not created: ${e.message}`;
    status.replaceChildren(el("p", { class: "error", role: "alert" }, msg));
    $("pay").disabled = false;
  }
}

async function followOrder(orderId, cancelled) {
  const status = $("status");
  const c = claims();
  if (!c || !c.contract) {
    status.replaceChildren(el("p", { class: "error" }, `Paste your token to see order ${orderId}.`));
    return;
  }
  const base = `/v1/contracts/${encodeURIComponent(c.contract)}`;
  status.replaceChildren(el("p", { role: "status" }, cancelled ? `Checking cancelled order ${orderId}…` : `Payment sent. Waiting for order ${orderId} to be fulfilled…`));
  for (let i = 0; i < POLLS_MAX; i++) {
    let o;
    try {
      o = await api("GET", `${base}/orders/${encodeURIComponent(orderId)}`);
    } catch (e) {
      status.replaceChildren(el("p", { class: "error", role: "alert" }, `Order ${orderId}: ${e.message}`));
      return;
    }
    if (o.status === "fulfilled") return showLot(base, o);
    if (o.status === "cancelled" || o.status === "refunded") {
      status.replaceChildren(el("p", { class: "error" }, `Order ${orderId} was ${o.status}; nothing was charged for it.`));
      return;
    }
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
  status.replaceChildren(el("p", { class: "error" }, `Order ${orderId} is still not fulfilled. The payment may be on its way; check again later.`));
}

async function showLot(base, o) {
  const status = $("status");
  const b = await api("GET", `${base}/balance`);
  const lot = (b.lots || []).find((l) => l.id === o.lot || l.order === o.order_id);
  status.replaceChildren(
    el("p", { class: "ok", role: "status", id: "fulfilled" }, `Order ${o.order_id} is fulfilled: ${fmt(o.credits)} ${o.currency} credits are yours.`),
    lot ? el("dl", { class: "facts", id: "new-lot" },
      el("dt", {}, "Lot"), el("dd", {}, lot.id),
      el("dt", {}, "Credits"), el("dd", {}, `${fmt(lot.remaining)} of ${fmt(lot.amount)} ${lot.currency}`),
      el("dt", {}, "Kind"), el("dd", {}, lot.kind || "shared"),
      el("dt", {}, "Expires"), el("dd", {}, lot.expires_at ? new Date(lot.expires_at).toISOString().slice(0, 10) : "no expiry")) : el("p", { class: "hint" }, "The lot is not in the balance yet."),
    el("p", {}, el("a", { href: "admin.html" }, "See it on the dashboard")));
}

// showQuote verifies a quote link's token with the API and shows its terms;
// the order form's own fields are not used for a quote.
async function showQuote(token) {
  const out = $("quote");
  // The quote fixes what is bought: the order form's own fields don't apply.
  $("currency").closest(".row").style.display = "none";
  $("order-title").textContent = "Your quote";
  try {
    const q = await api("GET", `/v1/quotes/${encodeURIComponent(token)}`, undefined, { auth: false });
    out.replaceChildren(
      el("p", { class: "total", id: "quoted-total" }, `$${fmt(q.total)}`),
      el("dl", { class: "facts" },
        el("dt", {}, "Quote"), el("dd", {}, `${q.quote_id} from ${q.reseller || "the vendor"} for ${q.customer}`),
        el("dt", {}, "Credits"), el("dd", {}, `${fmt(q.credits)} ${q.currency}`),
        el("dt", {}, "Unit price"), el("dd", {}, `$${q.unit_price} (${q.channel})`),
        el("dt", {}, "List total"), el("dd", {}, `$${fmt(q.list_total)}${Number(q.savings) > 0 ? `, you save $${fmt(q.savings)}` : ""}`),
        el("dt", {}, "Valid until"), el("dd", {}, new Date(q.expires_at).toISOString().slice(0, 16).replace("T", " ") + " UTC")),
      ...(q.accepted ? [el("p", { class: "error" }, "This quote has already been accepted.")] : []));
    $("pay").disabled = !!q.accepted;
    $("pay").textContent = "Accept and pay";
  } catch (e) {
    out.replaceChildren(el("p", { class: "error", role: "alert" }, `This quote link cannot be used: ${e.message}`));
    $("pay").disabled = true;
  }
}

async function acceptQuote(ev, token) {
  ev.preventDefault();
  const status = $("status");
  const c = claims();
  if (!c || !c.contract) {
    status.replaceChildren(el("p", { class: "error", role: "alert" }, "Paste a contract admin token first (Your access)."));
    $("token").focus();
    return;
  }
  orderKey ||= crypto.randomUUID();
  $("pay").disabled = true;
  status.replaceChildren(el("p", {}, "Accepting the quote…"));
  try {
    const o = await api("POST", `/v1/quotes/${encodeURIComponent(token)}/accept`, { payment: "card" }, { idempotencyKey: orderKey });
    sessionStorage.setItem("cloudcredits.lastOrder", o.order_id);
    if (o.checkout_url) {
      status.replaceChildren(el("p", {}, `Order ${o.order_id}: $${fmt(o.total)} for ${fmt(o.credits)} credits. Taking you to the payment page…`));
      location.assign(o.checkout_url);
      return;
    }
    status.replaceChildren(el("p", {}, `Order ${o.order_id} is ${o.status}.`));
  } catch (e) {
    status.replaceChildren(el("p", { class: "error", role: "alert" }, `The quote was not accepted: ${e.message}`));
    $("pay").disabled = false;
  }
}

function init() {
  const params = new URLSearchParams(location.search);
  const quoteToken = params.get("quote");
  if (quoteToken) {
    tokenForm(() => {});
    $("order-form").addEventListener("submit", (ev) => acceptQuote(ev, quoteToken));
    showQuote(quoteToken);
    return;
  }
  tokenForm(() => { if (params.get("order")) followOrder(params.get("order"), params.has("cancelled")); });
  let t;
  for (const id of ["currency", "unit", "amount", "channel"]) {
    $(id).addEventListener("input", () => { clearTimeout(t); t = setTimeout(quote, 200); });
  }
  $("unit").addEventListener("change", () => { $("amount").value = $("unit").value === "packs" ? "10" : "1000"; quote(); });
  $("order-form").addEventListener("submit", pay);
  const ch = claims();
  if (ch && ch.channel) $("channel").value = ch.channel;
  quote();
  if (params.get("order")) followOrder(params.get("order"), params.has("cancelled"));
}

init();
