// admin.html: the contract admin's dashboard. Balances by currency and kind
// and every lot with its expiry from GET /v1/contracts/{c}/balance, then the
// governance reports, each as soon as its route answers (each is detected on
// its own: a 404 means that report is not deployed here, and its section
// says so in a line):
//   - usage by user, service and project (GET …/usage?group_by=…) as SVG
//     bar charts, with the period's CSV (…&format=csv) fetched with the
//     bearer token and saved through a Blob, since a link cannot carry it;
//   - the alerts (…/alerts), the expiry calendar (…/expirations), the
//     entity-coverage audit (…/audit), the forecast with its purchase
//     advisor (…/forecast), and the notification outbox (…/notifications):
//     what was sent to the contract's address, what is pending, and what
//     could not be addressed.
// Every value from the API reaches the page as text (textContent through
// el()/svg()), never as markup.
import { api, claims, el, fmt, token, tokenForm, ApiError } from "./session.js";

const $ = (id) => document.getElementById(id);
const NAMES = { cloud: "Cloud Credits", forma: "Forma Credits", flex: "Flex tokens" };
const SOON_DAYS = 90; // PRODUCT.md: expiring lots are warned 90 days ahead

async function refresh() {
  const c = claims();
  const msg = $("message");
  if (!c || !c.contract) {
    $("signin").open = true;
    msg.replaceChildren(el("p", { class: "notice" }, "Paste a contract admin token to see your contract."));
    return;
  }
  $("contract-line").textContent = `Contract ${c.contract} — signed in as ${c.sub}.`;
  const base = `/v1/contracts/${encodeURIComponent(c.contract)}`;
  try {
    const b = await api("GET", `${base}/balance`);
    msg.replaceChildren();
    balances(b);
    lots(b.lots || []);
  } catch (e) {
    msg.replaceChildren(el("p", { class: "error", role: "alert" }, `The balance could not be read: ${e.message}`));
    return;
  }
  governance(base);
}

function balances(b) {
  const box = $("balances");
  box.replaceChildren();
  const entries = Object.entries(b.balances || {});
  if (!entries.length) box.append(el("p", { class: "hint" }, "No credits yet."));
  for (const [cur, v] of entries) {
    const total = Number(v.total) || 0;
    const shared = Number(v.shared) || 0;
    const pct = total > 0 ? Math.round((shared / total) * 100) : 0;
    box.append(el("div", { class: "stat", "data-currency": cur },
      el("div", { class: "hint" }, NAMES[cur] || cur),
      el("div", { class: "big" }, fmt(v.total)),
      el("div", { class: "bar", role: "img", "aria-label": `${pct}% shared` }, el("span", { style: `width:${pct}%` })),
      el("div", { class: "hint" }, `shared ${fmt(v.shared)} · individual ${fmt(v.individual)}`)));
  }
}

function lots(list) {
  const now = Date.now();
  const sorted = [...list].sort((a, b) => (a.expires_at || "9999").localeCompare(b.expires_at || "9999") || a.id.localeCompare(b.id));
  const t = el("table", { class: "data", id: "lots-table" });
  t.append(el("caption", { class: "sr-only" }, "Lots by expiry date"));
  t.append(el("thead", {}, el("tr", {}, ...["Lot", "Currency", "Kind", "Owner", "Amount", "Remaining", "Expires"].map((h, i) => el("th", { scope: "col", class: i >= 4 && i <= 5 ? "num" : undefined }, h)))));
  const body = el("tbody");
  for (const l of sorted) {
    let exp = "no expiry";
    if (l.expires_at) {
      const days = Math.ceil((Date.parse(l.expires_at) - now) / 86400000);
      exp = `${l.expires_at.slice(0, 10)}${days <= SOON_DAYS ? ` (in ${days} days)` : ""}`;
    }
    body.append(el("tr", { "data-lot": l.id },
      el("td", {}, l.id), el("td", {}, l.currency), el("td", {}, el("span", { class: "badge" }, l.kind)), el("td", {}, l.owner || "—"),
      el("td", { class: "num" }, fmt(l.amount)), el("td", { class: "num" }, fmt(l.remaining)), el("td", {}, exp)));
  }
  t.append(body);
  $("lots").replaceChildren(list.length ? t : el("p", { class: "hint" }, "No lots."));
}


// ---- governance ------------------------------------------------------------

const SVG_NS = "http://www.w3.org/2000/svg";
const MISSING = {
  usage: "Usage reports arrive with governance.",
  alerts: "Alerts arrive with governance.",
  expirations: "The expiry calendar arrives with governance.",
  audit: "The entity-coverage audit arrives with governance.",
  forecast: "The forecast and purchase advisor arrive with governance.",
  outbox: "The notification outbox is not served here.",
};
const KIND_TITLES = { expiry_warning: "Expiry warning", withdrawal_notice: "Withdrawal notice", alert: "Alert" };
const STATE_BADGES = { sent: "good", pending: "warn", unaddressed: "bad" };
const ALERT_TITLES = {
  user_over_baseline_share: "User above 15% of the baseline",
  project_over_baseline_share: "Project above 15% of the baseline",
  consumption_over_baseline_share: "Large job",
  pool_runs_out_before_expiry: "Pool runs out before expiry",
  pool_expires_unused: "Credits will expire unused",
};
const DIM_CHARTS = [
  { dim: "user", title: "By user", empty: "(no user)" },
  { dim: "service", title: "By service", empty: "(no service)" },
  { dim: "project", title: "By project", empty: "(no project)" },
];
let govBase = "";

/** An SVG element; children are nodes or text (set as text, never markup). */
function svg(tag, attrs = {}, ...children) {
  const e = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs)) if (v !== undefined && v !== null && v !== false) e.setAttribute(k, v);
  for (const c of children) if (c !== undefined && c !== null) e.append(c);
  return e;
}

const curName = (c) => NAMES[c] || c;
const money = (s) => (s === undefined || s === null || s === "" ? "—" : `$${fmt(s)}`);
const range = (m) => (m ? `${money(m.low)}–${money(m.high)}` : "—");
const day = (t) => (t ? String(t).slice(0, 10) : "—");
const plural = (n, one, many = `${one}s`) => `${n} ${Number(n) === 1 ? one : many}`;

/** A decimal fraction as a percentage, by moving the point (no floats): "0.125" → "12.5". */
function percent(s) {
  const str = String(s ?? "0");
  const neg = str.startsWith("-");
  const [i, f = ""] = str.replace("-", "").split(".");
  const g = f.padEnd(2, "0");
  const whole = (i + g.slice(0, 2)).replace(/^0+(?=\d)/, "");
  const rest = g.slice(2).replace(/0+$/, "");
  return `${neg ? "−" : ""}${whole}${rest ? `.${rest}` : ""}%`;
}

/** A dl of [term, value] pairs (pairs with an undefined value are left out). */
function facts(pairs, attrs = {}) {
  const dl = el("dl", { class: "facts", ...attrs });
  for (const [k, v] of pairs) if (v !== undefined) dl.append(el("dt", {}, k), el("dd", {}, v));
  return dl;
}

/** A table in a horizontally scrollable region that the keyboard can scroll. */
function scroller(table, label) {
  return el("div", { class: "table-scroll", tabindex: "0", role: "region", "aria-label": label }, table);
}

function note(box, id, text) { box.replaceChildren(el("p", { class: "hint missing", id }, text)); }

/** Reads one governance report; null when its route is not served (404). */
async function report(name, box, path, render) {
  try {
    render(await api("GET", `${govBase}/${path}`));
  } catch (e) {
    if (e instanceof ApiError && e.status === 404) note(box, `${name}-missing`, MISSING[name]);
    else box.replaceChildren(el("p", { class: "error", role: "alert" }, `The ${name} report could not be read: ${e.message}`));
  }
}

function governance(base) {
  govBase = base;
  usage();
  report("alerts", $("alerts"), "alerts", alerts);
  report("expirations", $("expirations"), "expirations", expirations);
  report("audit", $("audit"), "audit", audit);
  report("forecast", $("forecast"), "forecast", forecast);
  report("outbox", $("outbox"), "notifications", outbox);
}

// ---- usage -----------------------------------------------------------------

function ym(d) { return `${d.getUTCFullYear()}-${String(d.getUTCMonth() + 1).padStart(2, "0")}`; }

/** The period in the form; the last 12 months with the current one by default. */
function period() {
  const from = $("usage-from"), to = $("usage-to");
  if (!to.value) to.value = ym(new Date());
  if (!from.value) { const d = new Date(); from.value = ym(new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() - 11, 1))); }
  return { from: from.value, to: to.value };
}

async function usage() {
  const box = $("usage");
  const actions = $("usage-actions");
  const { from, to } = period();
  const q = (g) => `usage?from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}&group_by=${g}`;
  box.setAttribute("aria-busy", "true");
  try {
    const reports = await Promise.all(DIM_CHARTS.map((c) => api("GET", `${govBase}/${q(c.dim)}`)));
    const totals = reports[0].totals || [];
    const charts = el("div", { class: "charts", id: "usage-chart" });
    DIM_CHARTS.forEach((c, i) => charts.append(barChart(`usage-${c.dim}`, c.title,
      (reports[i].rows || []).map((r) => ({ key: r[c.dim] ?? "", label: r[c.dim] || c.empty, currency: r.currency, credits: r.credits, count: r.count })))));
    const sum = el("p", { id: "usage-totals" }, `${reports[0].from} to ${reports[0].to}: `,
      totals.length ? totals.map((t) => `${fmt(t.credits)} ${curName(t.currency)} in ${plural(t.count, "job")}`).join("; ") : "no usage.");
    box.replaceChildren(sum, ...(totals.length ? [charts] : []));
    const link = $("usage-csv");
    link.href = `${govBase}/usage?from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}&group_by=user,service,project,month&format=csv`;
    link.dataset.filename = `usage-${from}-${to}.csv`;
    actions.hidden = false;
  } catch (e) {
    actions.hidden = true;
    if (e instanceof ApiError && e.status === 404) note(box, "usage-missing", MISSING.usage);
    else box.replaceChildren(el("p", { class: "error", role: "alert" }, `Usage could not be read: ${e.message}`));
  } finally {
    box.removeAttribute("aria-busy");
  }
}

/**
 * A horizontal bar chart in SVG: one focusable row per item (label and value
 * above the bar), bars scaled to the largest item of the same currency —
 * credits of different currencies are never compared. Widths are
 * percentages, so the chart follows its column down to 360 px.
 */
function barChart(id, title, items, { emptyText = "No usage in this period." } = {}) {
  const fig = el("figure", { class: "chart", id });
  const capId = `${id}-caption`;
  fig.append(el("figcaption", { id: capId }, title));
  if (!items.length) { fig.append(el("p", { class: "hint" }, emptyText)); return fig; }
  const sorted = [...items].sort((a, b) => (Number(b.credits) || 0) - (Number(a.credits) || 0) || String(a.label).localeCompare(String(b.label)));
  const max = {};
  for (const r of sorted) max[r.currency] = Math.max(max[r.currency] || 0, Number(r.credits) || 0);
  const ROW = 38;
  const chart = svg("svg", { class: "bars", width: "100%", height: sorted.length * ROW, role: "list", "aria-labelledby": capId });
  sorted.forEach((r, i) => {
    const y = i * ROW;
    const v = Number(r.credits) || 0;
    const pct = max[r.currency] > 0 ? Math.max(v > 0 ? 0.5 : 0, (v / max[r.currency]) * 100) : 0;
    const label = String(r.label);
    const short = label.length > 26 ? `${label.slice(0, 25)}…` : label;
    const value = `${fmt(r.credits)} ${r.currency}`;
    const text = `${label}: ${fmt(r.credits)} ${curName(r.currency)}${r.count !== undefined ? `, ${plural(r.count, "job")}` : ""}`;
    chart.append(svg("g", { class: "bar-row", role: "listitem", tabindex: "0", "aria-label": text, "data-key": r.key, "data-currency": r.currency },
      svg("title", {}, text),
      svg("text", { x: 0, y: y + 14, class: "bar-label", "aria-hidden": "true" }, short),
      svg("text", { x: "100%", y: y + 14, "text-anchor": "end", class: "bar-value", "aria-hidden": "true" }, value),
      svg("rect", { class: "bar-track", x: 0, y: y + 20, width: "100%", height: 12, rx: 3 }),
      svg("rect", { class: `bar-fill cur-${r.currency}`, x: 0, y: y + 20, width: `${pct.toFixed(2)}%`, height: 12, rx: 3 })));
  });
  fig.append(chart);
  return fig;
}

/** Fetches the CSV with the bearer token and saves it through a Blob. */
async function downloadCSV(e) {
  e.preventDefault();
  const link = e.currentTarget;
  const status = $("csv-status");
  status.textContent = "Preparing the CSV…";
  try {
    const r = await fetch(link.href, { headers: { Accept: "text/csv", Authorization: `Bearer ${token()}` } });
    if (!r.ok) {
      let msg = `the API answered ${r.status}`;
      try { msg = (await r.json()).error.message || msg; } catch { /* not JSON */ }
      throw new Error(msg);
    }
    const blob = await r.blob();
    const m = /filename="([^"]+)"/.exec(r.headers.get("Content-Disposition") || "");
    const url = URL.createObjectURL(blob);
    const a = el("a", { href: url, download: m ? m[1] : link.dataset.filename || "usage.csv", hidden: "" });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
    status.textContent = `Saved ${a.download}.`;
  } catch (err) {
    status.textContent = `The CSV could not be downloaded: ${err.message}`;
  }
}

// ---- alerts ----------------------------------------------------------------

function alerts(rep) {
  const box = $("alerts");
  const list = rep.alerts || [];
  const intro = el("p", { class: "hint" }, Number(rep.monthly_baseline) > 0
    ? `Monthly baseline ${fmt(rep.monthly_baseline)} credits; users, projects and jobs above ${fmt(rep.threshold)} (15%) in ${(rep.months || []).join(" or ")} are flagged, and shared pools that run out or expire unused.`
    : "No monthly baseline is set: only the shared pools are checked.");
  if (!list.length) { box.replaceChildren(intro, el("p", { id: "alerts-none", class: "ok" }, "No alerts.")); return; }
  const ul = el("ul", { class: "plain alerts", id: "alerts-list" });
  for (const a of list) {
    ul.append(el("li", { class: "alert", "data-code": a.code, "data-currency": a.currency },
      el("div", { class: "alert-head" }, el("strong", {}, ALERT_TITLES[a.code] || a.code), " ", el("span", { class: "badge" }, curName(a.currency))),
      el("p", {}, a.message)));
  }
  box.replaceChildren(intro, ul);
  if (rep.omitted > 0) box.append(el("p", { class: "hint" }, `${plural(rep.omitted, "more alert")} not listed.`));
}

// ---- notification outbox ---------------------------------------------------

function outbox(rep) {
  const box = $("outbox");
  const list = rep.notifications || [];
  const input = $("notify-email");
  if (document.activeElement !== input) input.value = rep.notify_email || "";
  const intro = el("p", { class: "hint" }, "Expiry warnings, withdrawal notices and alerts, newest first. Each event is sent once to the contract's notification address; new alerts are recorded at the next alert check.");
  if (!list.length) { box.replaceChildren(intro, el("p", { id: "outbox-none", class: "ok" }, "No notifications yet.")); return; }
  const t = el("table", { class: "data", id: "outbox-table" });
  t.append(el("caption", { class: "sr-only" }, "Notifications, newest first"));
  t.append(el("thead", {}, el("tr", {}, ...["Recorded", "Kind", "Message", "To", "State"].map((h) => el("th", { scope: "col" }, h)))));
  const body = el("tbody");
  for (const n of list) {
    const state = n.state === "sent" && n.sent_at ? `sent ${day(n.sent_at)}` : n.state;
    body.append(el("tr", { "data-id": n.id, "data-kind": n.kind, "data-state": n.state },
      el("td", {}, day(n.created_at)),
      el("td", {}, KIND_TITLES[n.kind] || n.kind),
      el("td", {}, el("details", {}, el("summary", {}, n.subject), el("pre", { class: "mail" }, n.body))),
      el("td", {}, n.to || "(no address)"),
      el("td", {}, el("span", { class: `badge ${STATE_BADGES[n.state] || ""}` }, state))));
  }
  t.append(body);
  box.replaceChildren(intro, scroller(t, "Notifications table"));
}

/** PUT …/notify-email: the address notifications go to ("" clears it). */
async function saveNotifyEmail(e) {
  e.preventDefault();
  const status = $("notify-status");
  if (!govBase) return;
  const addr = $("notify-email").value.trim();
  try {
    const res = await api("PUT", `${govBase}/notify-email`, { notify_email: addr });
    const queued = (res.readdressed || []).length;
    status.textContent = res.notify_email
      ? `Notifications go to ${res.notify_email}.${queued ? ` ${plural(queued, "notification")} not yet sent moved to it.` : ""}`
      : `No address: new notifications are recorded but not sent.${queued ? ` ${plural(queued, "queued notification")} taken out of the queue.` : ""}`;
    report("outbox", $("outbox"), "notifications", outbox);
  } catch (err) {
    status.textContent = `The address was not saved: ${err.message}`;
  }
}

// ---- expiry calendar -------------------------------------------------------

function expirations(cal) {
  const box = $("expirations");
  const warnDays = cal.warn_days || SOON_DAYS;
  const cards = el("div", { class: "cards", id: "expiry-summary" });
  for (const c of cal.currencies || []) {
    cards.append(el("div", { class: "stat", "data-currency": c.currency },
      el("div", { class: "hint" }, curName(c.currency)),
      facts([
        ["Remaining", fmt(c.remaining)],
        ["Burn a month", fmt(c.monthly_burn)],
        [`Expiring ≤ ${warnDays} days`, el("span", { class: Number(c.expiring_within_warn_days) > 0 ? "warn-text" : undefined }, fmt(c.expiring_within_warn_days))],
        ["Forecast unused", el("span", { class: Number(c.forecast_unused) > 0 ? "unused" : undefined }, fmt(c.forecast_unused))],
        ["Pool runs out", c.pool_runs_out_at ? day(c.pool_runs_out_at) : undefined],
      ])));
  }
  const lots = cal.lots || [];
  if (!lots.length) { box.replaceChildren(el("p", { class: "hint" }, "No lot holds credits.")); return; }
  const t = el("table", { class: "data calendar", id: "expiry-table" });
  t.append(el("caption", { class: "sr-only" }, `Lots by expiry date; lots ending within ${warnDays} days are marked, with the credits forecast to expire unused at the current burn`));
  t.append(el("thead", {}, el("tr", {}, ...["Lot", "Currency", "Owner", "Remaining", "Forecast used", "Forecast unused"].map((h, i) => el("th", { scope: "col", class: i >= 3 ? "num" : undefined }, h)))));
  const groups = new Map();
  for (const l of lots) {
    const k = l.expires_at ? day(l.expires_at) : "";
    if (!groups.has(k)) groups.set(k, []);
    groups.get(k).push(l);
  }
  for (const [date, ls] of groups) {
    const warn = ls.some((l) => l.warn);
    const days = ls[0].days_left;
    const tb = el("tbody", { class: `date-group${warn ? " warn" : ""}`, "data-date": date });
    tb.append(el("tr", { class: "group" }, el("th", { scope: "rowgroup", colspan: "6" },
      date ? `${date} · ${days !== undefined ? `in ${plural(days, "day")}` : ""}` : "No expiry",
      warn ? el("span", { class: "badge warn" }, `within ${warnDays} days`) : "")));
    for (const l of ls) {
      tb.append(el("tr", { class: l.warn ? "warn" : undefined, "data-lot": l.lot },
        el("td", {}, l.lot), el("td", {}, curName(l.currency)),
        el("td", {}, l.owner ? `${l.owner} (individual)` : l.kind),
        el("td", { class: "num" }, fmt(l.remaining)), el("td", { class: "num" }, fmt(l.forecast_used)),
        el("td", { class: `num${Number(l.forecast_unused) > 0 ? " unused" : ""}` }, fmt(l.forecast_unused))));
    }
    t.append(tb);
  }
  box.replaceChildren(cards,
    el("p", { class: "hint" }, `As of ${day(cal.as_of)}, at the average burn of the last ${cal.burn_months} complete months.`),
    scroller(t, "Expiry calendar table"));
}

// ---- audit -----------------------------------------------------------------

function audit(rep) {
  const box = $("audit");
  const found = (rep.findings || []).filter((f) => f.found);
  const head = el("p", { id: "audit-total", class: found.length ? "notice" : "ok" }, found.length
    ? `${plural(found.length, "risk")} found; total exposure ${range(rep.total_exposure)}.`
    : "No coverage risk found.");
  const ul = el("ul", { class: "plain findings", id: "findings" });
  for (const f of rep.findings || []) {
    const li = el("li", { class: `finding ${f.found ? "found" : "clear"}`, "data-code": f.code });
    li.append(el("h3", {}, f.title, " ", el("span", { class: `badge ${f.found ? "bad" : "good"}` }, f.found ? "Found" : "Not found")));
    if (f.found) {
      li.append(facts([
        ["Exposure", range(f.exposure)],
        ["Consumed", `${fmt(f.consumed_credits)} credits in ${plural(f.consumptions, "consumption")}`],
        ["Refused", `${fmt(f.attempted_credits)} credits in ${plural(f.attempts, "attempt")}`],
        ["Users", (f.users || []).join(", ") || "—"],
        ["Entities", (f.entities || []).join(", ") || "—"],
        ["Attempts", f.first_attempt_at ? (day(f.first_attempt_at) === day(f.last_attempt_at) ? `on ${day(f.first_attempt_at)}` : `${day(f.first_attempt_at)} to ${day(f.last_attempt_at)}`) : undefined],
        ["Audits find it", f.audit_frequency],
        ["Challenged successfully", f.challenge_success_rate],
      ]));
    } else {
      li.append(el("p", { class: "hint" }, `Typical finding value ${range(f.typical_finding_value)}.`));
    }
    li.append(el("p", { class: "advice" }, el("strong", {}, "Advice: "), f.prevention));
    ul.append(li);
  }
  box.replaceChildren(head, ul);
  const refusals = rep.refusals || [];
  if (refusals.length) {
    const t = el("table", { class: "data", id: "refusals" });
    t.append(el("caption", {}, "Refused attempts by reason"));
    t.append(el("thead", {}, el("tr", {}, el("th", { scope: "col" }, "Reason"), el("th", { scope: "col", class: "num" }, "Attempts"), el("th", { scope: "col", class: "num" }, "Credits"))));
    t.append(el("tbody", {}, ...refusals.map((r) => el("tr", {}, el("td", {}, r.reason), el("td", { class: "num" }, fmt(r.count)), el("td", { class: "num" }, fmt(r.credits))))));
    box.append(scroller(t, "Refused attempts table"));
  }
}

// ---- forecast and advisor --------------------------------------------------

function forecast(rep) {
  const box = $("forecast");
  const list = rep.currencies || [];
  const method = el("p", { class: "hint" }, rep.method || "");
  if (!list.length) {
    box.replaceChildren(el("p", { id: "forecast-none" }, `No forecast yet: it needs usage in the ${rep.history_months || 12} complete months before this one.`), method);
    return;
  }
  box.replaceChildren(...list.map((c) => currencyForecast(c, rep.months)), method);
}

function currencyForecast(c, months) {
  const art = el("article", { class: "forecast", "data-currency": c.currency });
  art.append(el("h3", {}, curName(c.currency)));
  art.append(facts([
    [`Next ${months || (c.forecast || []).length} months`, `${fmt(c.total)} credits`],
    ["Last 12 months", `${fmt(c.history_total)} credits`],
    ["Backtest error", c.backtest?.mape_percent !== undefined ? `${c.backtest.mape_percent}% MAPE over ${c.backtest.holdout_months} months` : `MAE ${fmt(c.backtest?.mae)}`],
    ["Variability", percent(c.variability)],
  ]));
  art.append(barChart(`forecast-${c.currency}-services`, "Forecast by service, next 12 months",
    (c.services || []).map((s) => ({ key: s.service, label: s.service, currency: c.currency, credits: s.total })), { emptyText: "No service." }));
  const fc = c.forecast || [];
  if (fc.length) {
    const t = el("table", { class: "data" });
    t.append(el("caption", { class: "sr-only" }, `Monthly forecast by service, ${curName(c.currency)}`));
    t.append(el("thead", {}, el("tr", {}, el("th", { scope: "col" }, "Service"), ...fc.map((m) => el("th", { scope: "col", class: "num" }, m.month)), el("th", { scope: "col", class: "num" }, "Total"))));
    const body = el("tbody");
    for (const s of c.services || []) body.append(el("tr", {}, el("th", { scope: "row" }, s.service), ...(s.forecast || []).map((m) => el("td", { class: "num" }, fmt(m.credits))), el("td", { class: "num" }, fmt(s.total))));
    body.append(el("tr", { class: "sum" }, el("th", { scope: "row" }, "All services"), ...fc.map((m) => el("td", { class: "num" }, fmt(m.credits))), el("td", { class: "num" }, fmt(c.total))));
    t.append(body);
    art.append(el("details", {}, el("summary", {}, "Monthly forecast by service"), scroller(t, `Monthly forecast table, ${curName(c.currency)}`)));
  }
  const a = c.advisor;
  if (!a) { art.append(el("p", { class: "hint" }, "No purchase advice for this currency.")); return art; }
  const adv = el("div", { class: "advisor" });
  adv.append(el("h4", {}, "Purchase advisor"));
  adv.append(el("p", { class: "recommendation" }, a.recommendation));
  adv.append(facts([
    ["Recommended purchase", el("strong", {}, `${fmt(a.recommended_purchase)} credits`)],
    ["Annual volume", `${fmt(a.annual_volume)} credits (forecast ${fmt(a.forecast_credits)} + ${percent(a.safety_margin)} margin)`],
    ["Usable balance", `${fmt(a.usable_balance)} credits`],
    ["Expected to expire", `${fmt(a.expected_unused)} credits at ${money(a.unit_price)} each`],
    ["Best term to negotiate", a.best],
  ]));
  const ch = el("table", { class: "data channels" });
  ch.append(el("caption", {}, "The annual volume on each channel"));
  ch.append(el("thead", {}, el("tr", {}, ...["Channel", "Tier", "Unit price", "Total", "Against the market"].map((h, i) => el("th", { scope: "col", class: i === 2 || i === 3 ? "num" : undefined }, h)))));
  ch.append(el("tbody", {}, ...(a.channels || []).map((q) => el("tr", { "data-channel": q.channel },
    el("th", { scope: "row" }, q.channel),
    ...(q.available
      ? [el("td", {}, q.tier || "—"), el("td", { class: "num" }, money(q.unit_price)), el("td", { class: "num" }, money(q.total)), el("td", { class: "wrap" }, q.benchmark || q.position || "—")]
      : [el("td", { class: "wrap", colspan: "4" }, `Not available: ${q.reason || "—"}`)])))));
  adv.append(scroller(ch, "Channel prices table"));
  const opts = a.options || [];
  if (opts.length) {
    const ot = el("table", { class: "data options" });
    ot.append(el("caption", {}, "Expiry extension or price cut"));
    ot.append(el("thead", {}, el("tr", {}, el("th", { scope: "col" }, "Term"), el("th", { scope: "col", class: "num" }, "Credits saved"), el("th", { scope: "col", class: "num" }, "Value"))));
    ot.append(el("tbody", {}, ...opts.map((o) => el("tr", {},
      el("th", { scope: "row" }, o.kind === "expiry_extension" ? `${o.months}-month expiry extension` : o.kind === "price_cut" ? `${o.percent}% price cut` : o.kind),
      el("td", { class: "num" }, fmt(o.credits_saved)), el("td", { class: "num" }, money(o.value))))));
    adv.append(scroller(ot, "Contract terms table"));
  }
  art.append(adv);
  return art;
}

$("usage-form").addEventListener("submit", (e) => {
  e.preventDefault();
  if (govBase) usage();
});
$("usage-csv").addEventListener("click", downloadCSV);
$("notify-form").addEventListener("submit", saveNotifyEmail);
tokenForm(refresh);
refresh();
