// Command wasm is the core compiled to WebAssembly for the browser. It
// exposes to JavaScript exactly the answers of the public routes
// POST /v1/estimates and POST /v1/prices, computed by the same core code, so
// an estimate shown in the browser is byte for byte the one the server gives.
// It starts with the embedded sample rate card and price books and can be
// handed the server's current card; once loaded it needs no network.
//
// The page calls it on every keystroke, so the calls are cheap: estimates
// go through a typed call (typed.go: one packed string in, the answer's
// JSON written by core's hand-written encoder out, the very bytes the route
// answers), and the loader keeps recent answers for as long as stableUntil
// (stable.go) says the card and book in force make them the answers. The
// typed call and the JSON answers cross as WebAssembly exports
// (export_js.go): the loader writes the request as UTF-8 into the module's
// memory and reads the answer from it, so no JavaScript value is made per
// call. The syscall/js functions on globalThis.cloudCredits answer the same.
//
// The module links no encoding/json: core reads and writes its JSON with
// core/jsontext, which keeps the download small (site/tests/budgets.js).
//
// It may import core and the embedded sample data only: no network, no
// storage, no server code.
package main
