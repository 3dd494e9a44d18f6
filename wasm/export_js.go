//go:build js && wasm

package main

import (
	"time"
	"unsafe"

	"cloudcredits/core/rates"
)

// The typed estimate call as WebAssembly exports, without syscall/js: the
// loader writes the packed request (typed.go) as UTF-8 into packedIn, calls
// estimateTyped with its length, and reads the answer's bytes from
// answerBytes. No JavaScript value is made, looked up or finalized on
// either side, and the time comes in as an argument instead of a call out
// to the clock: a call costs a few microseconds instead of the event
// round trip of a js.FuncOf function.
//
// estimateTyped returns the answer's length when the status is 200, -1
// when the request must go as JSON instead (and before the engine is
// ready), and -2 for an error answer, whose status answerStatus gives and
// whose length answerLength gives.
var (
	packedIn     [packedBytesMax]byte
	answerOut    []byte // the last answer, read before the next call
	reuse        []byte // the buffer 200 answers are written into
	answerStatus int32
	ready        *engine // set by main once the engine is loaded
)

// packedBytesMax is the longest packed request the typed call takes.
const packedBytesMax = rates.RequestBytesMax / 2

//go:wasmexport estimateInput
func estimateInput() unsafe.Pointer { return unsafe.Pointer(&packedIn[0]) }

//go:wasmexport estimateInputSize
func estimateInputSize() int32 { return packedBytesMax }

//go:wasmexport estimateTyped
func estimateTyped(n int32, batch int32, atMilli float64) int32 {
	if ready == nil || n < 0 || n > packedBytesMax {
		return -1
	}
	status, body := ready.estimatePacked(string(packedIn[:n]), batch != 0, time.UnixMilli(int64(atMilli)), reuse[:0])
	if status == 200 {
		reuse = body // the grown buffer serves the next answer
	}
	answerOut, answerStatus = body, int32(status)
	switch status {
	case statusUseJSON:
		return -1
	case 200:
		return int32(len(body))
	}
	return -2
}

// answerJSON answers a JSON request body written into the same input as
// the typed call, like cloudCredits.estimate (kind 1) and
// cloudCredits.price (kind 2) do but without their event round trip. It
// returns the answer's length, its status being answerStatusCode's, or -1
// when it cannot answer (the engine is not ready, an unknown kind): then
// the loader calls the js.FuncOf function instead.
//
//go:wasmexport answerJSON
func answerJSON(kind int32, n int32, atMilli float64) int32 {
	if ready == nil || n < 0 || n > packedBytesMax {
		return -1
	}
	var answer func([]byte, time.Time) (int, []byte)
	switch kind {
	case 1:
		answer = ready.estimate
	case 2:
		answer = ready.price
	default:
		return -1
	}
	status, body := answer(packedIn[:n:n], time.UnixMilli(int64(atMilli)))
	answerOut, answerStatus = body, int32(status)
	return int32(len(body))
}

//go:wasmexport answerBytes
func answerBytes() unsafe.Pointer {
	if len(answerOut) == 0 {
		return nil
	}
	return unsafe.Pointer(&answerOut[0])
}

//go:wasmexport answerLength
func answerLength() int32 { return int32(len(answerOut)) }

//go:wasmexport answerStatusCode
func answerStatusCode() int32 { return answerStatus }
