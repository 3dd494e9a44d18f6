// The quote-link Worker's JavaScript: starts the Go program (app.wasm, built
// from this folder for js/wasm) once per isolate and hands it every request.
//
// The module is instantiated when the isolate loads this script, and the Go
// program is run on the isolate's first request (the runtime draws random
// numbers as it starts, which workerd forbids outside a handler), with the
// Worker's vars as its environment (go.env; they are fixed for a deployed
// version). Then it is kept: starting Go costs far more CPU than a page, so
// no request may pay it but the first. Go answers synchronously, in one call,
// with plain values: no streams, no promises, no Request object crossing
// into Go.
//
// The build copies this file, and the compiler's own wasm_exec.js, into
// build/ beside app.wasm (infra/wrangler.toml's [build] command).
import "./wasm_exec.js";
import mod from "./app.wasm";

let engine = null; // {handle, headers} of the running Go program
let starting = null; // the promise of the program being started
let loaded = ahead(); // the next program to run, instantiated ahead

function instantiate() {
  const go = new globalThis.Go();
  return { go, instance: new WebAssembly.Instance(mod, go.importObject) };
}

// ahead instantiates while the script loads; if that fails, the first
// request tries again and answers the error, rather than the script failing
// to load at all.
function ahead() {
  try {
    return instantiate();
  } catch (err) {
    console.error("quotelink: instantiating the module:", err);
    return null;
  }
}

function start(env) {
  const { go, instance } = loaded ?? instantiate();
  loaded = null; // an instance runs once
  go.env = { QUOTE_PUBLIC_KEYS: env.QUOTE_PUBLIC_KEYS ?? "", SITE_URL: env.SITE_URL ?? "" };
  return new Promise((resolve, reject) => {
    globalThis.quotelinkReady = (handle, headers) => {
      delete globalThis.quotelinkReady;
      resolve({ handle, headers });
    };
    // run settles only if the program exits, which a serving program never
    // does: exiting means it failed, and the next request starts it again.
    go.run(instance).then(
      () => { engine = null; reject(new Error("quotelink: the Go program exited")); },
      (err) => { engine = null; reject(err); },
    );
  });
}

async function fetch(request, env) {
  if (!engine) {
    if (!starting) {
      starting = start(env).finally(() => { starting = null; });
    }
    engine = await starting;
  }
  const [status, contentType, allow, body] = engine.handle(request.method, request.url);
  const headers = new Headers(engine.headers);
  headers.set("Content-Type", contentType);
  if (allow) headers.set("Allow", allow);
  return new Response(request.method === "HEAD" ? null : body, { status, headers });
}

export default { fetch };
