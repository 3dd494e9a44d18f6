//go:build js && wasm

package main

import (
	"syscall/js"
	"time"
)

// main registers globalThis.cloudCredits with answer functions taking and
// returning JSON text: {status, body}, and the typed estimate call. The ES
// module loader (loader.js) wraps them into estimate(service, params),
// estimateMany(items) and price(currency, credits, channel,
// purchasedThisYear).
func main() {
	e, err := newEngine()
	if err != nil {
		js.Global().Get("console").Call("error", "cloud credits: "+err.Error())
		return
	}
	answer := func(fn func([]byte, time.Time) (int, []byte)) js.Func {
		return js.FuncOf(func(this js.Value, args []js.Value) any {
			if len(args) != 1 || args[0].Type() != js.TypeString {
				status, body := errorAnswer(errString("expected one JSON string argument"))
				return result(status, body)
			}
			status, body := fn([]byte(args[0].String()), time.Now())
			return result(status, body)
		})
	}
	api := js.Global().Get("Object").New()
	api.Set("estimate", answer(e.estimate))
	// estimatePacked(packed, batch): the typed call (typed.go). It answers
	// the JSON text itself when the status is 200, {status, body} for an
	// error, and null when the request must go as JSON instead.
	api.Set("estimatePacked", js.FuncOf(func(this js.Value, args []js.Value) any {
		if len(args) != 2 || args[0].Type() != js.TypeString {
			return nil
		}
		status, body := e.estimatePacked(args[0].String(), args[1].Truthy(), time.Now(), nil)
		switch status {
		case statusUseJSON:
			return nil
		case 200:
			return string(body)
		}
		return result(status, body)
	}))
	api.Set("price", answer(e.price))
	// stableUntil(): until when (ms since the epoch) the answers given now
	// stay the answers (stable.go); Infinity when no change is due, -1 when
	// they must not be reused.
	api.Set("stableUntil", js.FuncOf(func(this js.Value, args []js.Value) any {
		until, ok := e.stableUntil(time.Now())
		switch {
		case !ok:
			return -1
		case until.IsZero():
			return js.Global().Get("Infinity")
		}
		return until.UnixMilli()
	}))
	api.Set("setRateCard", js.FuncOf(func(this js.Value, args []js.Value) any {
		if len(args) != 1 || args[0].Type() != js.TypeString {
			return "expected the rate card as JSON text"
		}
		if err := e.setRateCard([]byte(args[0].String())); err != nil {
			return err.Error()
		}
		return nil
	}))
	js.Global().Set("cloudCredits", api)
	ready = e // the exported typed call (export_js.go) answers from now on
	if ready := js.Global().Get("cloudCreditsReady"); ready.Type() == js.TypeFunction {
		ready.Invoke()
	}
	select {} // keep the exported functions alive
}

type errString string

func (e errString) Error() string { return string(e) }

func result(status int, body []byte) js.Value {
	r := js.Global().Get("Object").New()
	r.Set("status", status)
	r.Set("body", string(body))
	return r
}
