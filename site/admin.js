// admin.html: the contract admin's dashboard. Balances by currency and kind
// and every lot with its expiry from GET /v1/contracts/{c}/balance; usage
// from GET …/usage when the server has it (a 404 "no route" means the
// governance reports are not deployed yet, and the page says so).
import { api, claims, el, fmt, tokenForm, ApiError } from "./session.js";

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
  usage(base);
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

async function usage(base) {
  const box = $("usage");
  const from = new Date(Date.UTC(new Date().getUTCFullYear(), 0, 1)).toISOString();
  try {
    const u = await api("GET", `${base}/usage?from=${encodeURIComponent(from)}&group_by=service`);
    const rows = u.rows || u.items || [];
    if (!rows.length) { box.replaceChildren(el("p", { class: "hint" }, "No usage this year.")); return; }
    const max = Math.max(...rows.map((r) => Number(r.credits) || 0), 1);
    const list = el("div", { id: "usage-chart" });
    for (const r of rows) {
      const pct = Math.round(((Number(r.credits) || 0) / max) * 100);
      list.append(el("div", { class: "field" }, el("span", {}, `${r.service || r.key || "—"}: ${fmt(r.credits)} ${r.currency || ""}`),
        el("div", { class: "bar", role: "img", "aria-label": `${fmt(r.credits)} credits` }, el("span", { style: `width:${pct}%` }))));
    }
    box.replaceChildren(list);
  } catch (e) {
    if (e instanceof ApiError && e.status === 404) {
      box.replaceChildren(el("p", { class: "hint", id: "usage-missing" }, "Usage reports arrive with governance."));
    } else {
      box.replaceChildren(el("p", { class: "error" }, `Usage could not be read: ${e.message}`));
    }
  }
}

tokenForm(refresh);
refresh();
