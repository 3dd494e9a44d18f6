// <price-tier-chart>: the unit price of credits against the contract year's
// volume, for each channel (list, reseller, eba), with the buyer-side market
// and advisory bands and where the viewer stands. An SVG drawn from the price
// book the module embeds: every point is an answer of price() — the same
// answer POST /v1/prices gives — so the chart never disagrees with a quote.
//
//   <script type="module" src="…/tier-chart.js"></script>
//   <price-tier-chart currency="cloud" credits="5000" purchased-this-year="0" channel="reseller"></price-tier-chart>
//
// Attributes: currency (default cloud), credits and purchased-this-year (the
// viewer's order and the year's purchases before it: the marker), channel
// (the viewer's channel, drawn bold; default list), wasm (the module's URL).
import * as cc from "./wasm/loader.js";

const CHANNELS = [
  { id: "list", name: "List", color: "#1f5fa8", dash: "" },
  { id: "reseller", name: "Reseller", color: "#b4590b", dash: "6 3" },
  { id: "eba", name: "EBA", color: "#2e7d32", dash: "2 3" },
];
const VOLUME_MAX = 1_000_000; // the x axis ends here (log scale from one pack)
const PROBES_MAX = 64; // bounds the walk over a book's tiers

const STYLE = `
:host { display: block; font: inherit; }
figure { margin: 0; }
svg { width: 100%; height: auto; display: block; font-size: 12px; font-family: inherit; }
figcaption { font-size: .9rem; color: #55606e; margin-top: .25rem; }
.legend { display: flex; flex-wrap: wrap; gap: .5rem 1rem; font-size: .85rem; margin: .25rem 0; padding: 0; list-style: none; }
.legend li { display: flex; align-items: center; gap: .35rem; }
.swatch { width: 1.4rem; height: .7rem; border-radius: 2px; display: inline-block; }
details { font-size: .85rem; margin-top: .25rem; }
table { border-collapse: collapse; }
th, td { padding: .15rem .5rem; border-bottom: 1px solid #e6eaef; text-align: right; }
th:first-child, td:first-child { text-align: left; }
.error { color: #b00020; }
`;

export class PriceTierChart extends HTMLElement {
  static get observedAttributes() { return ["currency", "credits", "purchased-this-year", "channel"]; }

  constructor() {
    super();
    this.attachShadow({ mode: "open" });
    this.shadowRoot.innerHTML = `<style>${STYLE}</style><figure part="figure"><p role="status">Loading the price chart…</p></figure>`;
  }

  connectedCallback() {
    if (!this.loading) this.loading = firstEstimateOrSoon().then(() => cc.load(this.getAttribute("wasm") || undefined)).then(() => this.draw(), (err) => this.fail(err));
  }

  attributeChangedCallback() {
    if (cc.isReady()) this.draw();
  }

  get currency() { return this.getAttribute("currency") || "cloud"; }
  get channel() { return this.getAttribute("channel") || "list"; }

  fail(err) {
    this.shadowRoot.querySelector("figure").innerHTML = `<p class="error" role="alert"></p>`;
    this.shadowRoot.querySelector(".error").textContent = `The price chart could not load: ${err.message}`;
  }

  /**
   * Each channel's tiers, walked with price(): ask for one pack, read the
   * tier it lands in, ask again at the tier's end. A channel a tier does not
   * offer (eba below its threshold) answers offered_from: start there.
   */
  series() {
    const out = [];
    for (const ch of CHANNELS) {
      const steps = [];
      let v = "1";
      for (let i = 0; i < PROBES_MAX && v !== null && Number(v) < VOLUME_MAX; i++) {
        let p;
        try {
          p = cc.price(this.currency, v, ch.id, "0");
        } catch (e) {
          const from = e.details && e.details.offered_from;
          if (from && Number(from) > Number(v)) { v = from; continue; }
          break; // not offered at all on this book
        }
        steps.push({ from: Math.max(Number(p.tier.from), Number(p.pack_size)), to: p.tier.to ? Number(p.tier.to) : VOLUME_MAX, unit: Number(p.unit_price), tier: p.tier, benchmark: p.benchmark, packSize: Number(p.pack_size) });
        v = p.tier.to || null;
      }
      if (steps.length) out.push({ ...ch, steps });
    }
    return out;
  }

  marker() {
    const credits = this.getAttribute("credits");
    if (!credits) return null;
    try {
      const p = cc.price(this.currency, credits, this.channel, this.getAttribute("purchased-this-year") || "0");
      return { volume: Number(p.annual_volume), unit: Number(p.unit_price), price: p };
    } catch (e) {
      return { error: e.message };
    }
  }

  draw() {
    let series;
    try { series = this.series(); } catch (err) { this.fail(err); return; }
    const fig = this.shadowRoot.querySelector("figure");
    if (!series.length) { this.fail(new Error(`no price book for ${this.currency}`)); return; }
    const mark = this.marker();
    const W = 640, H = 340, L = 52, R = 16, T = 16, B = 44;
    const xMin = Math.min(...series.flatMap((s) => s.steps.map((t) => t.from)));
    const bands = series[0].steps.filter((t) => t.benchmark && t.benchmark.market_range);
    const ys = [...series.flatMap((s) => s.steps.map((t) => t.unit)),
      ...bands.flatMap((t) => [t.benchmark.market_range.low, t.benchmark.market_range.high, t.benchmark.advisory_range.low, t.benchmark.advisory_range.high].map(Number))];
    const yMin = Math.max(0, Math.floor((Math.min(...ys) - 0.05) * 10) / 10), yMax = Math.ceil((Math.max(...ys) + 0.05) * 10) / 10;
    const lx0 = Math.log10(xMin), lx1 = Math.log10(VOLUME_MAX);
    const x = (v) => L + ((Math.log10(Math.max(v, xMin)) - lx0) / (lx1 - lx0)) * (W - L - R);
    const y = (u) => T + (1 - (u - yMin) / (yMax - yMin)) * (H - T - B);
    const ns = "http://www.w3.org/2000/svg";
    const svg = document.createElementNS(ns, "svg");
    const s = (tag, attrs, text) => {
      const e = document.createElementNS(ns, tag);
      for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
      if (text !== undefined) e.textContent = text;
      return e;
    };
    svg.setAttribute("viewBox", `0 0 ${W} ${H}`);
    svg.setAttribute("role", "img");
    svg.setAttribute("aria-labelledby", "t d");
    svg.append(s("title", { id: "t" }, `Unit price of ${this.currency} credits by annual volume`));
    svg.append(s("desc", { id: "d" }, series.map((c) => `${c.name}: ${c.steps.map((t) => `${t.tier.name} $${t.unit.toFixed(2)}`).join(", ")}`).join(". ")));

    // Benchmark bands per volume band: advisory (best a buyer can expect) and market.
    const gBands = s("g", { class: "bands" });
    for (const t of bands) {
      for (const [kind, fill] of [["advisory_range", "#d9f0dc"], ["market_range", "#e4ecf7"]]) {
        const r = t.benchmark[kind];
        gBands.append(s("rect", { class: `band ${kind}`, x: x(t.from), width: Math.max(0, x(t.to) - x(t.from)), y: y(Number(r.high)), height: Math.max(0, y(Number(r.low)) - y(Number(r.high))), fill, "data-band": t.benchmark.band }));
      }
    }
    svg.append(gBands);

    // Axes: decades on x, 0.1 steps on y.
    const gAxes = s("g", { class: "axes", stroke: "#c9d1da", "stroke-width": 1 });
    for (let d = Math.ceil(lx0); d <= lx1; d++) {
      const v = 10 ** d;
      gAxes.append(s("line", { x1: x(v), x2: x(v), y1: T, y2: H - B }));
      svg.append(s("text", { x: x(v), y: H - B + 16, "text-anchor": "middle", fill: "#333" }, v >= 1e6 ? `${v / 1e6}M` : v >= 1e3 ? `${v / 1e3}k` : String(v)));
    }
    for (let u = yMin; u <= yMax + 1e-9; u += 0.1) {
      gAxes.append(s("line", { x1: L, x2: W - R, y1: y(u), y2: y(u) }));
      svg.append(s("text", { x: L - 6, y: y(u) + 4, "text-anchor": "end", fill: "#333" }, `$${u.toFixed(2)}`));
    }
    svg.prepend(gAxes);
    svg.append(s("text", { x: (L + W - R) / 2, y: H - 6, "text-anchor": "middle", fill: "#333" }, "credits bought this contract year (log scale)"));

    // One step line per channel.
    for (const c of series) {
      const pts = c.steps.flatMap((t) => [[x(t.from), y(t.unit)], [x(t.to), y(t.unit)]]);
      const bold = c.id === this.channel;
      const g = s("g", { class: "series", "data-channel": c.id });
      g.append(s("polyline", { points: pts.map((p) => p.join(",")).join(" "), fill: "none", stroke: c.color, "stroke-width": bold ? 3.5 : 2, "stroke-dasharray": c.dash }));
      for (const t of c.steps) g.append(s("circle", { cx: x(t.from), cy: y(t.unit), r: 3, fill: c.color }, undefined));
      svg.append(g);
    }

    if (mark && !mark.error) {
      const g = s("g", { class: "viewer" });
      g.append(s("circle", { cx: x(mark.volume), cy: y(mark.unit), r: 7, fill: "none", stroke: "#111", "stroke-width": 2.5 }));
      const right = x(mark.volume) > W - 160;
      g.append(s("text", { x: x(mark.volume) + (right ? -10 : 10), y: y(mark.unit) - 10, "text-anchor": right ? "end" : "start", fill: "#111", "font-weight": "600" }, `you: ${mark.volume.toLocaleString("en-US")} at $${mark.price.unit_price}`));
      svg.append(g);
    }

    fig.innerHTML = "";
    const legend = document.createElement("ul");
    legend.className = "legend";
    for (const c of series) legend.append(item(c.name + (c.id === this.channel ? " (yours)" : ""), c.color));
    if (bands.length) { legend.append(item("market rate", "#e4ecf7")); legend.append(item("advisory best rate", "#d9f0dc")); }
    fig.append(legend, svg);
    const cap = document.createElement("figcaption");
    cap.textContent = mark && mark.price ? this.position(mark)
      : mark && mark.error ? `Your position: ${mark.error}` : "Set credits to see where you stand.";
    fig.append(cap, this.table(series));
  }

  // position is the caption for the viewer's price: the benchmark's words
  // where the book publishes one (cloud), else the price itself (forma and
  // flex books carry no market benchmark).
  position(mark) {
    const b = mark.price.benchmark;
    if (b && b.message) return b.message;
    return `You pay $${mark.price.unit_price} per credit at ${mark.volume.toLocaleString("en-US")} credits; no market benchmark is published for this currency.`;
  }

  table(series) {
    const d = document.createElement("details");
    const sum = document.createElement("summary");
    sum.textContent = "The prices as a table";
    const t = document.createElement("table");
    const tiers = series[0].steps;
    t.innerHTML = `<thead><tr><th scope="col">Annual volume</th>${series.map((c) => `<th scope="col">${c.name}</th>`).join("")}</tr></thead>`;
    const body = document.createElement("tbody");
    for (const tier of tiers) {
      const tr = document.createElement("tr");
      const cells = [tier.tier.name, ...series.map((c) => { const st = c.steps.find((x) => x.tier.from === tier.tier.from); return st ? `$${st.unit.toFixed(2)}` : "—"; })];
      for (const v of cells) { const td = document.createElement("td"); td.textContent = v; tr.append(td); }
      body.append(tr);
    }
    t.append(body);
    d.append(sum, t);
    return d;
  }
}

function item(label, color) {
  const li = document.createElement("li");
  const sw = document.createElement("span");
  sw.className = "swatch";
  sw.style.background = color;
  li.append(sw, label);
  return li;
}

if (!customElements.get("price-tier-chart")) customElements.define("price-tier-chart", PriceTierChart);

// firstEstimateOrSoon resolves when an estimator on the page has shown its
// first estimate (or after a short while when there is none), so the chart's
// start-up never delays the number a user came for.
function firstEstimateOrSoon() {
  const waitMs = 1500;
  return new Promise((resolve) => {
    if (!document.querySelector("credit-estimator")) return resolve();
    const done = () => { document.removeEventListener("credit-estimate", done); clearTimeout(timer); resolve(); };
    const timer = setTimeout(done, waitMs);
    document.addEventListener("credit-estimate", done);
  });
}
