//go:build js && wasm

package main

import (
	"log"
	"os"
	"syscall/js"
	"time"
)

// main is the Worker's Go program. worker.mjs starts it once per isolate,
// with the Worker's vars as its environment, and it serves every request of
// that isolate: it hands JavaScript one synchronous function,
// handle(method, url) → [status, contentType, allow, body], and the
// security headers, then waits forever. Starting Go costs more than a page
// (see doc.go), so it must never be started per request.
func main() {
	serve := func(method, url string) Page { return NotConfiguredPage() }
	h, err := NewHandler(configFrom(os.Getenv), time.Now)
	if err != nil {
		log.Printf("quotelink: not configured: %v", err)
	} else {
		serve = h.Serve
	}
	handle := js.FuncOf(func(this js.Value, args []js.Value) any {
		if len(args) != 2 {
			return js.Undefined()
		}
		p := serve(args[0].String(), args[1].String())
		return []any{p.Status, p.ContentType, p.Allow, p.Body}
	})
	headers := make([]any, 0, len(SecurityHeaders))
	for _, kv := range SecurityHeaders {
		headers = append(headers, []any{kv[0], kv[1]})
	}
	// One line per isolate: the logs show how often Go starts (the workerd
	// test counts it).
	log.Print(startedLog)
	js.Global().Call("quotelinkReady", handle, headers)
	select {} // keep handle alive for the isolate's life
}
