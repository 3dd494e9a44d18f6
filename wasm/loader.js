// Cloud Credits in the browser: the core compiled to WebAssembly, answering
// exactly what POST /v1/estimates and POST /v1/prices answer (the same Go
// code computes both), with no network once loaded.
//
//   import * as cc from "./wasm/loader.js";
//   await cc.load();
//   cc.estimate("infraworks-profile-optimization", { road_km: "12" }); // {credits: "300", ...}
//   cc.price("cloud", "300", "list");                                  // {subtotal: "375.00", ...}
//
// The build (scripts/site) copies this file next to cloudcredits.wasm and the
// compiler's wasm_exec.js. Every answer function is synchronous after load().
// Requests and answers cross as UTF-8 in the module's memory through its
// WebAssembly exports: no JavaScript value crosses, and a call costs a few
// microseconds (estimateMany() still saves one per job). An answer that is
// not 200 throws a CloudCreditsError carrying the API's status and error
// object ({code, message, details}).
//
// estimate() and estimateMany() make one call into Go with the request
// packed in one string (no JSON to parse in Go; Go writes the answer's JSON
// by hand, the same bytes as the API's). The last answers of estimate(),
// estimateMany() and price() are kept and given again for the same request
// (keystrokes that come back to a value, an input's "input" then "change"
// event) for as long as the engine says they hold: until the next rate card
// or price book takes effect. A kept answer is always what a new call would
// answer.
//
// This file must never send anything anywhere: it fetches the module and
// wasm_exec.js, and nothing else.

let loading = null; // the promise of load(), shared by every caller
let exported = null; // the module's exports when it has the exported typed call

/** An error answer of the engine: the API's status and error object. */
export class CloudCreditsError extends Error {
  constructor(status, error) {
    super(error && error.message ? error.message : `cloud credits: status ${status}`);
    this.name = "CloudCreditsError";
    this.status = status;
    this.error = error || { code: "internal", message: this.message };
    this.code = this.error.code;
    this.details = this.error.details;
  }
}

/**
 * Loads, compiles and starts the module once; later calls return the same
 * promise. url defaults to cloudcredits.wasm beside this file.
 * @returns {Promise<void>} resolved when the engine is ready
 */
export function load(url) {
  if (!loading) {
    loading = start(url ? new URL(url, globalThis.location ? globalThis.location.href : import.meta.url) : new URL("./cloudcredits.wasm", import.meta.url));
    loading.catch(() => { loading = null; }); // a failed load may be retried
  }
  return loading;
}

/** Whether load() has finished: the answer functions may be called. */
export function isReady() {
  return Boolean(globalThis.cloudCredits);
}

async function start(url) {
  if (!globalThis.Go) {
    await import(new URL("./wasm_exec.js", import.meta.url).href); // defines globalThis.Go
  }
  const go = new globalThis.Go();
  const instance = await instantiate(url, go.importObject);
  exported = typeof instance.exports.estimateTyped === "function" ? instance.exports : null;
  return new Promise((resolve, reject) => {
    const previous = globalThis.cloudCreditsReady;
    globalThis.cloudCreditsReady = () => {
      globalThis.cloudCreditsReady = previous;
      if (typeof previous === "function") previous();
      resolve();
    };
    // run settles only when the program exits, which a ready engine never
    // does (it blocks to keep its functions alive): exiting means it failed.
    go.run(instance).then(
      () => reject(new Error("cloud credits: the engine stopped before it was ready (see the console)")),
      reject,
    );
  });
}

async function instantiate(url, imports) {
  const response = await fetch(url, { credentials: "same-origin" });
  if (!response.ok) {
    throw new Error(`cloud credits: ${url} answered ${response.status}`);
  }
  if (WebAssembly.instantiateStreaming) {
    try {
      // Compiles while downloading; needs Content-Type: application/wasm.
      return (await WebAssembly.instantiateStreaming(response.clone(), imports)).instance;
    } catch (err) {
      if (!(err instanceof TypeError)) throw err; // a wrong MIME type is a TypeError: fall back
    }
  }
  const bytes = await response.arrayBuffer();
  return (await WebAssembly.instantiate(bytes, imports)).instance;
}

function engine() {
  const cc = globalThis.cloudCredits;
  if (!cc) throw new Error("cloud credits: call and await load() first");
  return cc;
}

/**
 * The raw answer to a request body, as the API would give it:
 * {status, body} with body the JSON text. kind is "estimates" or "prices".
 */
export function answer(kind, body) {
  const text = typeof body === "string" ? body : JSON.stringify(body);
  const cc = engine();
  const code = kind === "estimates" ? 1 : kind === "prices" ? 2 : 0;
  if (code === 0) throw new Error(`cloud credits: unknown kind ${kind}: use estimates or prices`);
  const ex = exported;
  if (ex && typeof ex.answerJSON === "function") {
    const written = writeInput(ex, text);
    if (written >= 0) {
      const n = ex.answerJSON(code, written, Date.now());
      if (n >= 0) return { status: ex.answerStatusCode(), body: decoder.decode(new Uint8Array(ex.mem.buffer, ex.answerBytes(), n)) };
    }
  }
  return code === 1 ? cc.estimate(text) : cc.price(text);
}

function parsed(kind, body) {
  const { status, body: text } = answer(kind, body);
  const value = JSON.parse(text);
  if (status !== 200) throw new CloudCreditsError(status, value.error);
  return value;
}

// The typed call's packing (wasm/typed.go): items split by SEP_ITEM, an
// item's service, names and values by SEP_FIELD.
const SEP_ITEM = "\x1d";
const SEP_FIELD = "\x1e";
const SEPARATORS = /[\x1d\x1e]/;
const MEMO_MAX = 64; // answers kept, the least recently used dropped first

const memo = new Map(); // request key → answer JSON text
// The kept answers hold while memoFrom <= Date.now() < memoUntil (the clock
// may be set back).
let memoFrom = 0;
let memoUntil = -1;

function remembered(key) {
  const now = Date.now();
  if (now < memoFrom || now >= memoUntil) {
    memo.clear();
    memoFrom = now;
    memoUntil = engine().stableUntil();
    return undefined;
  }
  const text = memo.get(key);
  if (text !== undefined) { memo.delete(key); memo.set(key, text); } // most recent last
  return text;
}

function remember(key, text) {
  const now = Date.now();
  if (now < memoFrom || now >= memoUntil) return;
  memo.set(key, text);
  if (memo.size > MEMO_MAX) memo.delete(memo.keys().next().value);
}

// pack is the item as packed text, or null when it must go as JSON (a value
// that is not a string or number, a separator in the text).
function pack(service, params) {
  if (typeof service !== "string" || SEPARATORS.test(service)) return null;
  let out = service;
  for (const k in params) {
    if (!Object.prototype.hasOwnProperty.call(params, k)) continue;
    let v = params[k];
    if (typeof v === "number") v = String(v);
    else if (typeof v !== "string") return null;
    if (SEPARATORS.test(k) || SEPARATORS.test(v)) return null;
    out += SEP_FIELD + k + SEP_FIELD + v;
  }
  return out;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();
let input = null; // the module's input buffer of the exported typed call

// writeInput writes text as UTF-8 into the module's input buffer and
// returns its length in bytes, or -1 when it does not fit.
function writeInput(ex, text) {
  if (!input || input.buffer !== ex.mem.buffer) {
    input = new Uint8Array(ex.mem.buffer, ex.estimateInput(), ex.estimateInputSize()); // again once memory grows
  }
  const { read, written } = encoder.encodeInto(text, input);
  return read < text.length ? -1 : written;
}

// callTyped makes the typed call: through the module's exports when it has
// them (no JavaScript value crosses: the request is written into the
// module's memory, the answer read from it), else through
// cloudCredits.estimatePacked. It answers as estimatePacked does: the JSON
// text, {status, body}, or null to send the request as JSON.
function callTyped(packed, batch) {
  const ex = exported;
  if (!ex || !globalThis.cloudCredits) return engine().estimatePacked(packed, batch);
  const written = writeInput(ex, packed);
  if (written < 0) return null; // longer than the typed call takes
  const n = ex.estimateTyped(written, batch ? 1 : 0, Date.now());
  if (n === -1) return null;
  const text = decoder.decode(new Uint8Array(ex.mem.buffer, ex.answerBytes(), n >= 0 ? n : ex.answerLength()));
  return n >= 0 ? text : { status: ex.answerStatusCode(), body: text };
}

// typed answers a packed request, or undefined when it must go as JSON.
function typed(packed, batch) {
  const key = (batch ? "m" : "s") + packed;
  const kept = remembered(key);
  if (kept !== undefined) return JSON.parse(kept);
  const r = callTyped(packed, batch);
  if (r === null || r === undefined) return undefined;
  if (typeof r === "string") {
    remember(key, r);
    return JSON.parse(r);
  }
  const value = JSON.parse(r.body);
  throw new CloudCreditsError(r.status, value.error);
}

/** The answer of POST /v1/estimates {service, params}. */
export function estimate(service, params = {}, holdings) {
  if (!holdings && params && typeof params === "object") {
    const packed = pack(service, params);
    if (packed !== null) {
      const answer = typed(packed, false);
      if (answer !== undefined) return answer;
    }
  }
  const body = { service, params: decimals(params) };
  if (holdings) body.holdings = decimals(holdings);
  return parsed("estimates", body);
}

/** The answer of POST /v1/estimates {items}: {items: [...], total}. */
export function estimateMany(items, holdings) {
  if (!holdings && Array.isArray(items) && items.length > 0) {
    const packed = [];
    for (const it of items) {
      const p = it && typeof it === "object" && (it.params === undefined || (it.params && typeof it.params === "object")) ? pack(it.service, it.params || {}) : null;
      if (p === null) { packed.length = 0; break; }
      packed.push(p);
    }
    if (packed.length) {
      const answer = typed(packed.join(SEP_ITEM), true);
      if (answer !== undefined) return answer;
    }
  }
  const body = { items: items.map(({ service, params }) => ({ service, params: decimals(params || {}) })) };
  if (holdings) body.holdings = decimals(holdings);
  return parsed("estimates", body);
}

/**
 * The answer of POST /v1/prices. credits is a decimal string or a number
 * (sent as its decimal text); the price book rounds it up to whole packs.
 */
export function price(currency, credits, channel = "list", purchasedThisYear) {
  const body = { currency, credits: String(credits), channel };
  if (purchasedThisYear !== undefined && purchasedThisYear !== null && purchasedThisYear !== "") {
    body.purchased_this_year = String(purchasedThisYear);
  }
  const text = JSON.stringify(body);
  const key = "p" + text;
  const kept = remembered(key);
  if (kept !== undefined) return JSON.parse(kept);
  const { status, body: answerText } = answer("prices", text);
  const value = JSON.parse(answerText);
  if (status !== 200) throw new CloudCreditsError(status, value.error);
  remember(key, answerText);
  return value;
}

/** Estimates with this rate card (the JSON of GET /v1/ratecard) from now on. */
export function setRateCard(card) {
  memo.clear();
  memoUntil = -1;
  const refused = engine().setRateCard(typeof card === "string" ? card : JSON.stringify(card));
  if (refused) throw new CloudCreditsError(400, { code: "invalid_request", message: String(refused) });
}

// The API takes quantities as decimal strings; numbers are sent as their text.
function decimals(obj) {
  const out = {};
  for (const [k, v] of Object.entries(obj)) out[k] = typeof v === "number" ? String(v) : v;
  return out;
}
