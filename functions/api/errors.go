package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strconv"

	"cloudcredits/core"
)

// statusOf is the one table from domain codes to HTTP statuses (API.md).
var statusOf = map[core.Code]int{
	core.CodeInvalidRequest:        http.StatusBadRequest,
	core.CodeIdempotencyKeyMissing: http.StatusBadRequest,
	core.CodeUnauthenticated:       http.StatusUnauthorized,
	core.CodeForbidden:             http.StatusForbidden,
	core.CodeNotFound:              http.StatusNotFound,
	core.CodeIdempotencyKeyReused:  http.StatusConflict,
	core.CodeConflict:              http.StatusConflict,
	core.CodeQuoteAlreadyAccepted:  http.StatusConflict,
	core.CodeTooLarge:              http.StatusRequestEntityTooLarge,
	core.CodeInsufficientCredits:   http.StatusUnprocessableEntity,
	core.CodeBudgetExceeded:        http.StatusUnprocessableEntity,
	core.CodeCurrencyMismatch:      http.StatusUnprocessableEntity,
	core.CodeNotEligible:           http.StatusUnprocessableEntity,
	core.CodeQuoteExpired:          http.StatusUnprocessableEntity,
	core.CodeQuoteInvalid:          http.StatusUnprocessableEntity,
	core.CodeSalesClosed:           http.StatusUnprocessableEntity,
	core.CodeHoldExpired:           http.StatusUnprocessableEntity,
	core.CodeInternal:              http.StatusInternalServerError,
	core.CodeUnavailable:           http.StatusServiceUnavailable,
	core.CodeUnsupportedMediaType:  http.StatusUnsupportedMediaType,
	core.CodeMethodNotAllowed:      http.StatusMethodNotAllowed,
}

// RetryAfterSeconds is the Retry-After of a 503 unavailable: the store's
// client has already retried for seconds, so a caller waits a moment more.
const RetryAfterSeconds = 1

// StatusOf returns the HTTP status of a domain code.
func StatusOf(code core.Code) int {
	if s, ok := statusOf[code]; ok {
		return s
	}
	return http.StatusInternalServerError
}

type errorBody struct {
	Error errorJSON `json:"error"`
}

type errorJSON struct {
	Code    core.Code      `json:"code"`
	Message string         `json:"message"`
	Details map[string]any `json:"details,omitempty"`
}

// writeError answers with the error shape of API.md. An error that is not a
// *core.Error is an internal failure: it is logged with the request id and
// answered with a message that reveals nothing of the internals.
func writeError(w http.ResponseWriter, r *http.Request, err error) {
	e := errorOf(r, err)
	if e.Code == core.CodeUnavailable {
		w.Header().Set("Retry-After", strconv.Itoa(RetryAfterSeconds))
	}
	writeJSON(w, StatusOf(e.Code), errorBody{Error: e})
}

// errorOf is the answer to err in the error shape (see writeError), logged
// as writeError logs it. A batch answers each item's error with it.
func errorOf(r *http.Request, err error) errorJSON {
	e, ok := core.AsError(err)
	if !ok && errors.Is(err, context.DeadlineExceeded) {
		// The request's time ran out waiting for the store (ServeHTTP's
		// deadline): the store did not answer in time.
		e, ok = core.Errorf(core.CodeUnavailable,
			"the ledger's store did not answer in time; retry in %d s with the same Idempotency-Key", RetryAfterSeconds).
			WithDetail("retry_after_seconds", RetryAfterSeconds), true
	}
	if !ok || e.Code == core.CodeInternal {
		slog.ErrorContext(r.Context(), "internal error", "request_id", requestID(r.Context()), "error", err.Error())
		e = core.Errorf(core.CodeInternal, "something went wrong on our side; the request id is %s", requestID(r.Context()))
	}
	if e.Code == core.CodeUnavailable {
		slog.WarnContext(r.Context(), "store unavailable", "request_id", requestID(r.Context()), "error", err.Error())
	}
	return errorJSON{Code: e.Code, Message: e.Message, Details: e.Details}
}

// writeJSON answers v encoded without HTML escaping: '<', '>' and '&' stay
// as they are (a JSON answer is not HTML, and \u003c in an error message
// only confuses its reader). Answers stored for replay are encoded by the
// ledger once and written back byte for byte by writeRaw, never re-encoded
// here.
func writeJSON(w http.ResponseWriter, status int, v any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	b := []byte(`{"error":{"code":"internal","message":"could not encode the response"}}`)
	if err := enc.Encode(v); err != nil {
		status = http.StatusInternalServerError
	} else {
		b = bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
	}
	writeRaw(w, status, b)
}

// writeRaw answers body as JSON. The length is declared, so an answer that
// is flushed before its handler ends (a 413 whose body is drained after it)
// is complete as soon as it arrives.
func writeRaw(w http.ResponseWriter, status int, body []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)+1))
	w.WriteHeader(status)
	_, _ = w.Write(body)
	_, _ = w.Write([]byte("\n"))
}
