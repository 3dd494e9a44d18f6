// Shared by the browser tests and the bench: builds what the site needs,
// starts the local server on a free port with a throwaway data folder, and
// launches Debian's Chromium headless through playwright-core (never a
// downloaded browser: see shared/TOOLCHAIN.md).
import { spawn, execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, mkdirSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
export const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";
export const SCREENSHOTS = join(ROOT, ".artifacts", "screenshots");
const SERVER_START_MS = 60_000;

/** Builds site/wasm/ when it is missing (make site-wasm does it first). */
export function ensureWasm() {
  if (!existsSync(join(ROOT, "site", "wasm", "cloudcredits.wasm")) || !existsSync(join(ROOT, "site", "wasm", "loader.js"))) {
    execFileSync("go", ["run", "./scripts/site"], { cwd: ROOT, stdio: "inherit" });
  }
}

function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, "127.0.0.1", () => { const { port } = s.address(); s.close(() => resolve(port)); });
    s.on("error", reject);
  });
}

/**
 * Builds and starts functions/cmd/local. Resolves with {base, tokens, stop}
 * once /healthz answers; tokens are the ones it prints (ADMIN, VENDOR, …).
 * opts.env adds to the server's environment (e.g. CORS_ORIGINS).
 */
export async function startServer(opts = {}) {
  const dir = mkdtempSync(join(tmpdir(), "cc-site-"));
  const bin = join(dir, "cloudcredits-local");
  execFileSync("go", ["build", "-o", bin, "./functions/cmd/local"], { cwd: ROOT, stdio: "inherit" });
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const proc = spawn(bin, ["--addr", `127.0.0.1:${port}`, "--data", join(dir, "data"), "--site", join(ROOT, "site")], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, ...(opts.env || {}) } });
  let out = "", err = "";
  proc.stdout.on("data", (d) => { out += d; });
  proc.stderr.on("data", (d) => { err += d; if (err.length > 1e6) err = err.slice(-5e5); });
  const stop = async () => {
    if (proc.exitCode === null) {
      proc.kill("SIGTERM");
      await new Promise((r) => { const t = setTimeout(() => { proc.kill("SIGKILL"); r(); }, 5000); proc.on("exit", () => { clearTimeout(t); r(); }); });
    }
    rmSync(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + SERVER_START_MS;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`the local server exited (${proc.exitCode}):\n${err.slice(-3000)}`);
    try {
      const r = await fetch(`${base}/healthz`);
      if (r.ok && /ADMIN=/.test(out)) break;
    } catch { /* not yet */ }
    if (Date.now() > deadline) { await stop(); throw new Error(`the local server did not answer /healthz within ${SERVER_START_MS} ms:\n${err.slice(-3000)}`); }
    await new Promise((r) => setTimeout(r, 100));
  }
  const tokens = {};
  for (const m of out.matchAll(/^\s*([A-Z]+)=(\S+)/gm)) tokens[m[1]] = m[2];
  return { base, tokens, stop, logs: () => err };
}

/** Launches headless Chromium, or throws the one line that says how to get it. */
export async function launch() {
  if (!existsSync(CHROMIUM)) throw new Error("install chromium: apt-get install -y chromium");
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
    // Playwright gives every launch a fresh temporary profile (it refuses
    // --user-data-dir here: that is launchPersistentContext's job).
  });
  return { browser, close: async () => { await browser.close(); } };
}

export function screenshotPath(name) {
  mkdirSync(SCREENSHOTS, { recursive: true });
  return join(SCREENSHOTS, `${name}.png`);
}

/** JSON with keys sorted at every level: two answers compare as text. */
export function canonical(v) {
  if (Array.isArray(v)) return `[${v.map(canonical).join(",")}]`;
  if (v && typeof v === "object") return `{${Object.keys(v).sort().map((k) => `${JSON.stringify(k)}:${canonical(v[k])}`).join(",")}}`;
  return JSON.stringify(v);
}
