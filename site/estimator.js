// <credit-estimator>: what a job will cost, before it runs, in any page.
//
//   <script type="module" src="https://…/estimator.js"></script>
//   <credit-estimator channel="list"></credit-estimator>
//
// Attributes: api (the API's origin; default this page's), channel (list,
// reseller or eba; default list), purchased-this-year (credits already
// bought this contract year, for the volume tier), service (the service
// picked first), params (its starting values as JSON, e.g.
// '{"road_km":"12"}'), wasm (the module's URL; default wasm/cloudcredits.wasm
// beside this file).
//
// The form is generated from the rate card's params schema (GET /v1/ratecard,
// or the card the module embeds when the API can't be reached); every
// keystroke is estimated and priced in the browser by the core compiled to
// WebAssembly, which answers exactly what the API answers. Each estimate
// fires a bubbling `credit-estimate` CustomEvent whose detail is the
// estimate JSON of POST /v1/estimates.
//
// It never sends what the user types anywhere: the only requests are the
// rate card and the module.
import * as cc from "./wasm/loader.js";

const CURRENCY_NAMES = { cloud: "Cloud Credits", forma: "Forma Credits", flex: "Flex tokens" };

const STYLE = `
:host { display: block; font: inherit; color: inherit; --cc-accent: #0b5cad; --cc-warn: #8a4b00; --cc-warn-bg: #fff4e0; --cc-border: #c9d1da; --cc-muted: #55606e; }
* { box-sizing: border-box; }
.card { border: 1px solid var(--cc-border); border-radius: 10px; padding: 1rem; background: var(--cc-bg, #fff); max-width: 42rem; }
h2 { font-size: 1.15rem; margin: 0 0 .75rem; }
.field { display: grid; gap: .25rem; margin-bottom: .75rem; }
label { font-weight: 600; }
.hint, .unit, .desc { color: var(--cc-muted); font-size: .9rem; }
.desc { margin: -.25rem 0 .75rem; }
.control { display: flex; align-items: center; gap: .5rem; }
input, select { font: inherit; padding: .45rem .55rem; border: 1px solid var(--cc-border); border-radius: 6px; min-width: 0; width: 100%; background: #fff; color: #111; }
input:focus-visible, select:focus-visible { outline: 3px solid color-mix(in srgb, var(--cc-accent) 45%, transparent); outline-offset: 1px; border-color: var(--cc-accent); }
input[aria-invalid="true"] { border-color: #b00020; }
.error { color: #b00020; font-size: .9rem; }
.result { border-top: 1px solid var(--cc-border); margin-top: .5rem; padding-top: .75rem; }
.credits { font-size: 2rem; font-weight: 700; line-height: 1.1; }
.credits small { font-size: 1rem; font-weight: 500; color: var(--cc-muted); }
.price { margin: .25rem 0 .5rem; }
table { border-collapse: collapse; width: 100%; font-size: .9rem; }
th, td { text-align: left; padding: .3rem .4rem; border-bottom: 1px solid #e6eaef; vertical-align: top; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
ul.warnings { list-style: none; padding: 0; margin: .5rem 0 0; display: grid; gap: .4rem; }
ul.warnings li { background: var(--cc-warn-bg); color: var(--cc-warn); border-left: 4px solid var(--cc-warn); padding: .4rem .6rem; border-radius: 4px; }
.status { color: var(--cc-muted); font-size: .85rem; margin-top: .5rem; }
.sr-only { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
@media (max-width: 420px) { .card { padding: .75rem; } .credits { font-size: 1.6rem; } th.rate, td.rate { display: none; } }
`;

let ids = 0;

export class CreditEstimator extends HTMLElement {
  static get observedAttributes() { return ["channel", "purchased-this-year"]; }

  constructor() {
    super();
    this.attachShadow({ mode: "open" });
    this.card = null;
    this.cardSource = "";
    this.last = null;
    this.uid = `cc${++ids}`;
  }

  connectedCallback() {
    if (this.started) return;
    this.started = true;
    this.shadowRoot.innerHTML = `<style>${STYLE}</style>
      <section class="card" part="card" aria-labelledby="${this.uid}-title">
        <h2 id="${this.uid}-title" part="title">Estimate a job</h2>
        <div class="form" part="form"><p class="status" role="status">Loading the estimator…</p></div>
        <div class="result" part="result" aria-live="polite" aria-atomic="true"></div>
        <p class="status source" part="source"></p>
      </section>`;
    this.ready = this.start().catch((err) => this.fail(err));
  }

  attributeChangedCallback() {
    if (this.card) this.update();
  }

  get channel() { return this.getAttribute("channel") || "list"; }
  get purchasedThisYear() { return this.getAttribute("purchased-this-year") || undefined; }

  /** The last estimate shown (the JSON of POST /v1/estimates), or null. */
  get estimate() { return this.last; }

  // start shows the form as soon as the rate card is in, and the first
  // estimate from the API (POST /v1/estimates and /v1/prices answer the very
  // JSON the module computes) while the module is still compiling; from then
  // on every estimate is computed in the page.
  async start() {
    const api = (this.getAttribute("api") || "").replace(/\/$/, "");
    const wasm = this.getAttribute("wasm") || undefined;
    const card = await this.fetchCard(api);
    this.card = card;
    this.api = api;
    this.renderForm();
    // The first answer comes from the API; the module starts compiling once
    // it is shown, so the two don't compete for the page's main thread.
    if (this.cardSource === "api") await this.updateRemote();
    await cc.load(wasm);
    if (this.cardSource === "api") {
      try { cc.setRateCard(card); } catch (err) { console.warn("cloud credits: the API's rate card was refused; estimating with the embedded card", err); }
    }
    this.local = true;
    this.update();
  }

  // updateRemote asks the API for the estimate and its price while the
  // module loads; an answer that arrives after the module is ready is dropped.
  async updateRemote() {
    const s = this.service();
    const seq = (this.remoteSeq = (this.remoteSeq || 0) + 1);
    // An empty required field is the prompt the engine's answer would
    // become: say it here rather than send a request bound to be refused.
    const missing = [...this.inputs].filter(([, f]) => f.input.required && f.input.value === "" && !(f.input.validity && f.input.validity.badInput));
    if (missing.length) {
      this.showErrors({ details: { fields: Object.fromEntries(missing.map(([name]) => [`params.${name}`, "is required"])) } },
        this.shadowRoot.querySelector(".result"));
      return;
    }
    const post = async (path, body) => {
      const r = await fetch(`${this.api}${path}`, { method: "POST", headers: { "Content-Type": "application/json", Accept: "application/json" }, body: JSON.stringify(body) });
      const v = await r.json();
      if (!r.ok) throw Object.assign(new Error(v.error ? v.error.message : `${path} answered ${r.status}`), v.error || {});
      return v;
    };
    try {
      const est = await post("/v1/estimates", { service: s.id, params: this.values() });
      let price = null;
      if (Number(est.credits) > 0) {
        const body = { currency: est.currency, credits: est.credits, channel: this.channel };
        if (this.purchasedThisYear) body.purchased_this_year = this.purchasedThisYear;
        price = await post("/v1/prices", body).catch((e) => e);
      }
      if (this.local || seq !== this.remoteSeq) return;
      this.show(est, price);
    } catch (e) {
      if (this.local || seq !== this.remoteSeq) return;
      this.showErrors(e, this.shadowRoot.querySelector(".result"));
    }
  }

  // The API's current card, or the card the module embeds when the API
  // can't be reached (offline, blocked, another origin without CORS).
  async fetchCard(api) {
    try {
      const r = await fetch(`${api}/v1/ratecard`, { headers: { Accept: "application/json" } });
      if (!r.ok) throw new Error(`GET /v1/ratecard answered ${r.status}`);
      this.cardSource = "api";
      return await r.json();
    } catch (err) {
      const r = await fetch(new URL("./wasm/ratecard.json", import.meta.url));
      if (!r.ok) throw new Error(`no rate card: ${err.message}; the embedded card answered ${r.status}`);
      this.cardSource = "embedded";
      return r.json();
    }
  }

  fail(err) {
    console.error(err);
    const form = this.shadowRoot.querySelector(".form");
    form.innerHTML = "";
    const p = el("p", { class: "error", role: "alert" }, `The estimator could not start: ${err.message}`);
    form.append(p);
  }

  renderForm() {
    const form = this.shadowRoot.querySelector(".form");
    form.innerHTML = "";
    const sel = el("select", { id: `${this.uid}-service`, name: "service" });
    const groups = new Map();
    for (const s of this.card.services) {
      if (!groups.has(s.currency)) {
        const g = el("optgroup", { label: CURRENCY_NAMES[s.currency] || s.currency });
        groups.set(s.currency, g);
        sel.append(g);
      }
      groups.get(s.currency).append(el("option", { value: s.id }, s.name));
    }
    const wanted = this.getAttribute("service");
    if (wanted && this.card.services.some((s) => s.id === wanted)) sel.value = wanted;
    sel.addEventListener("change", () => { this.renderParams(); this.update(); });
    form.append(field(el("label", { for: sel.id }, "Service"), sel));
    this.serviceSelect = sel;
    this.desc = el("p", { class: "desc", id: `${this.uid}-desc` });
    this.params = el("div", { class: "params" });
    form.append(this.desc, this.params);
    this.renderParams();
    this.shadowRoot.querySelector(".source").textContent = this.cardSource === "api"
      ? `Rate card ${this.card.version}. Computed in your browser; nothing you type is sent.`
      : `Rate card ${this.card.version} (built in: the server could not be reached). Computed in your browser.`;
  }

  service() {
    return this.card.services.find((s) => s.id === this.serviceSelect.value);
  }

  renderParams() {
    const s = this.service();
    this.desc.textContent = s.description || "";
    this.params.innerHTML = "";
    this.inputs = new Map();
    if (!s.params || s.params.length === 0) {
      this.params.append(el("p", { class: "hint" }, "This service takes no parameters."));
    }
    for (const p of s.params || []) {
      const id = `${this.uid}-p-${p.name}`;
      const label = el("label", { for: id }, p.label || p.name);
      let input;
      if (p.type === "enum") {
        input = el("select", { id, name: p.name });
        for (const v of p.values || []) input.append(el("option", { value: v }, v));
        if (p.default !== undefined) input.value = p.default;
      } else {
        input = el("input", { id, name: p.name, type: "number", inputmode: p.integer ? "numeric" : "decimal", autocomplete: "off" });
        if (p.min !== undefined) input.min = p.min;
        if (p.max !== undefined) input.max = p.max;
        input.step = p.integer ? "1" : p.decimals ? String(10 ** -p.decimals) : "any";
        const start = this.startParams(s.id)[p.name];
        if (start !== undefined) input.value = start;
        else if (p.default !== undefined) input.value = p.default;
        if (p.default === undefined) input.required = true;
      }
      const hintId = `${id}-hint`;
      const errId = `${id}-err`;
      const hint = el("span", { class: "hint", id: hintId }, rangeHint(p));
      const err = el("span", { class: "error", id: errId, hidden: "" });
      input.setAttribute("aria-describedby", `${hintId} ${errId}`);
      input.addEventListener("input", () => this.update());
      input.addEventListener("change", () => this.update());
      const control = el("div", { class: "control" }, input);
      if (p.unit && p.type !== "enum") control.append(el("span", { class: "unit", "aria-hidden": "true" }, p.unit));
      this.params.append(field(label, control, hint, err));
      this.inputs.set(p.name, { input, err });
    }
  }

  // The params attribute applies to the service picked first only.
  startParams(service) {
    if (service !== this.getAttribute("service")) return {};
    try { return JSON.parse(this.getAttribute("params") || "{}"); } catch { return {}; }
  }

  values() {
    const params = {};
    for (const [name, { input }] of this.inputs) {
      // type=number gives "" for text it can't read: send nothing, so the
      // engine names the field (required, or its default applies).
      if (input.value !== "") params[name] = input.value;
      else if (input.validity && input.validity.badInput) params[name] = "not a number";
    }
    return params;
  }

  update() {
    if (!this.card || !this.serviceSelect) return;
    if (!this.local) {
      if (this.cardSource === "api") this.updateRemote(); // else: the module's answer comes when it is ready
      return;
    }
    const s = this.service();
    let est;
    try {
      est = cc.estimate(s.id, this.values());
    } catch (e) {
      this.clearErrors();
      this.showErrors(e, this.shadowRoot.querySelector(".result"));
      return;
    }
    let price = null;
    if (Number(est.credits) > 0) {
      try {
        price = cc.price(est.currency, est.credits, this.channel, this.purchasedThisYear);
      } catch (e) {
        price = e;
      }
    }
    this.show(est, price);
  }

  clearErrors() {
    for (const { input, err } of this.inputs.values()) {
      input.removeAttribute("aria-invalid");
      err.hidden = true;
      err.textContent = "";
    }
  }

  // show renders an estimate and its price (or the error pricing it gave).
  show(est, price) {
    this.clearErrors();
    const result = this.shadowRoot.querySelector(".result");
    this.last = est;
    result.innerHTML = "";
    const cur = CURRENCY_NAMES[est.currency] || est.currency;
    result.append(el("div", { class: "credits", part: "credits" }, `${fmt(est.credits)} `, el("small", {}, cur)));
    result.append(this.priceLine(est, price));
    if (est.breakdown && est.breakdown.length) result.append(breakdownTable(est));
    if (est.warnings && est.warnings.length) {
      const ul = el("ul", { class: "warnings", part: "warnings", "aria-label": "Warnings" });
      for (const w of est.warnings) ul.append(el("li", { "data-code": w.code }, el("strong", {}, "Watch out: "), w.message));
      result.append(ul);
    }
    this.dispatchEvent(new CustomEvent("credit-estimate", { detail: est, bubbles: true, composed: true }));
  }

  priceLine(est, pr) {
    const p = el("p", { class: "price", part: "price" });
    if (Number(est.credits) === 0) {
      p.textContent = "No credits: this service is included.";
      return p;
    }
    try {
      if (pr instanceof Error || !pr) throw pr || new Error("no price");
      this.lastPrice = pr;
      const packs = `${fmt(pr.packs)} pack${pr.packs === "1" ? "" : "s"} of ${fmt(pr.pack_size)}`;
      p.append(el("strong", {}, `$${fmtMoney(pr.subtotal)}`),
        ` at the ${pr.channel} price: ${packs} (${fmt(pr.credits)} credits) at $${pr.unit_price} per credit`);
      if (pr.savings && Number(pr.savings) > 0) p.append(`, saving $${fmtMoney(pr.savings)} on list`);
      p.append(".");
    } catch (e) {
      this.lastPrice = null;
      p.textContent = `No price on the ${this.channel} channel: ${e.message}`;
    }
    return p;
  }

  showErrors(e, result) {
    this.last = null;
    result.innerHTML = "";
    const fields = (e.details && e.details.fields) || {};
    const empty = Object.keys(fields).map((k) => this.inputs.get(k.replace(/^params\./, ""))).filter((f) => f && f.input.value === "" && !(f.input.validity && f.input.validity.badInput));
    if (empty.length && empty.length === Object.keys(fields).length) {
      const names = empty.map((f) => this.shadowRoot.querySelector(`label[for="${f.input.id}"]`).textContent.toLowerCase());
      result.append(el("p", { class: "hint", part: "prompt" }, `Enter the ${names.join(" and ")} to see the estimate.`));
      return;
    }
    let shown = 0;
    for (const [key, msg] of Object.entries(fields)) {
      const name = key.replace(/^params\./, "");
      const f = this.inputs.get(name);
      if (f) {
        f.input.setAttribute("aria-invalid", "true");
        f.err.textContent = msg;
        f.err.hidden = false;
        shown++;
      }
    }
    result.append(el("p", { class: "error", part: "error" },
      shown ? "Fix the highlighted field to see the estimate." : (e.message || "This job can't be estimated.")));
  }
}

function breakdownTable(est) {
  const t = el("table", { part: "breakdown" });
  t.append(el("caption", { class: "sr-only" }, "How the credits add up"));
  const head = el("tr", {}, el("th", { scope: "col" }, "Item"), el("th", { scope: "col", class: "num rate" }, "Rate"), el("th", { scope: "col", class: "num" }, "Credits"));
  t.append(el("thead", {}, head));
  const body = el("tbody");
  for (const b of est.breakdown) {
    const qty = b.quantity !== undefined && b.unit ? ` (${fmt(b.quantity)} ${b.unit})` : "";
    body.append(el("tr", {}, el("td", {}, b.label + qty), el("td", { class: "num rate" }, b.rate !== undefined ? fmt(b.rate) : ""), el("td", { class: "num" }, fmt(b.credits))));
  }
  t.append(body);
  return t;
}

function field(label, control, ...rest) {
  return el("div", { class: "field" }, label, control, ...rest);
}

function rangeHint(p) {
  if (p.type === "enum") return p.default ? `Default ${p.default}.` : "";
  const parts = [];
  if (p.min !== undefined && p.max !== undefined) parts.push(`${fmt(p.min)} to ${fmt(p.max)} ${p.unit || ""}`.trim());
  if (p.integer) parts.push("whole numbers");
  else if (p.decimals) parts.push(`up to ${p.decimals} decimals`);
  return parts.join(", ");
}

function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  for (const c of children) e.append(c);
  return e;
}

// Decimal strings are shown with thousands separators, never through floats.
function fmt(s) {
  const str = String(s);
  const neg = str.startsWith("-");
  const [i, f] = str.replace("-", "").split(".");
  const grouped = i.replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  return (neg ? "−" : "") + grouped + (f ? `.${f}` : "");
}

function fmtMoney(s) {
  return fmt(s);
}

if (!customElements.get("credit-estimator")) customElements.define("credit-estimator", CreditEstimator);
