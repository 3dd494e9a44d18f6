// The pages' small shared shell: the bearer token the user pasted (kept in
// sessionStorage, so it leaves with the tab), its claims, and fetch helpers
// that speak the API's conventions (JSON, Bearer, Idempotency-Key, error
// objects). It never stores anything but the token.
const TOKEN_KEY = "cloudcredits.token";

export function token() { return sessionStorage.getItem(TOKEN_KEY) || ""; }
export function setToken(t) {
  const v = (t || "").trim().replace(/^(ADMIN|VENDOR|SERVICE|USER)=/, "").replace(/^Bearer\s+/i, "");
  if (v) sessionStorage.setItem(TOKEN_KEY, v); else sessionStorage.removeItem(TOKEN_KEY);
  return v;
}

/** The token's claims (not verified here: the API verifies every call). */
export function claims(t = token()) {
  try {
    const part = t.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
    return JSON.parse(atob(part + "=".repeat((4 - (part.length % 4)) % 4)));
  } catch { return null; }
}

/** An API error: status and the API's {code, message, details}. */
export class ApiError extends Error {
  constructor(status, error) {
    super(error && error.message ? error.message : `the API answered ${status}`);
    this.status = status;
    this.code = error && error.code;
    this.details = error && error.details;
  }
}

/** Calls the API; mutating calls get a fresh Idempotency-Key unless one is given. */
export async function api(method, path, body, { idempotencyKey, auth = true } = {}) {
  const headers = { Accept: "application/json" };
  if (auth && token()) headers.Authorization = `Bearer ${token()}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (method !== "GET") headers["Idempotency-Key"] = idempotencyKey || crypto.randomUUID();
  const r = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await r.text();
  let value = null;
  try { value = text ? JSON.parse(text) : null; } catch { value = null; }
  if (!r.ok) throw new ApiError(r.status, value && value.error ? value.error : { code: "http_" + r.status, message: `${method} ${path} answered ${r.status}` });
  return value;
}

/** Decimal strings with thousands separators (never through floats). */
export function fmt(s) {
  if (s === undefined || s === null) return "";
  const str = String(s);
  const neg = str.startsWith("-");
  const [i, f] = str.replace("-", "").split(".");
  return (neg ? "−" : "") + i.replace(/\B(?=(\d{3})+(?!\d))/g, ",") + (f ? `.${f}` : "");
}

export function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) if (v !== undefined && v !== null && v !== false) e.setAttribute(k, v);
  for (const c of children) if (c !== undefined && c !== null) e.append(c);
  return e;
}

/** Wires a token form: a textarea #token and a form #token-form. */
export function tokenForm(onChange) {
  const form = document.getElementById("token-form");
  const area = document.getElementById("token");
  const who = document.getElementById("token-who");
  const show = () => {
    const c = claims();
    who.textContent = c ? `Signed in as ${c.sub} (${c.role}${c.contract ? `, contract ${c.contract}` : ""}).` : "No token yet: paste one that `make run` printed (ADMIN=…).";
  };
  area.value = token();
  show();
  form.addEventListener("submit", (e) => { e.preventDefault(); setToken(area.value); area.value = token(); show(); onChange(); });
}
