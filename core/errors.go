package core

import (
	"errors"
	"fmt"
	"sort"
	"strings"
)

// Code is a machine-readable error code of the public API. New codes are
// appended only; existing codes are never renamed, because clients match on
// them.
type Code string

const (
	CodeInvalidRequest        Code = "invalid_request"
	CodeIdempotencyKeyMissing Code = "idempotency_key_missing"
	CodeUnauthenticated       Code = "unauthenticated"
	CodeForbidden             Code = "forbidden"
	CodeNotFound              Code = "not_found"
	CodeIdempotencyKeyReused  Code = "idempotency_key_reused"
	CodeConflict              Code = "conflict"
	CodeQuoteAlreadyAccepted  Code = "quote_already_accepted"
	CodeTooLarge              Code = "too_large"
	CodeInsufficientCredits   Code = "insufficient_credits"
	CodeBudgetExceeded        Code = "budget_exceeded"
	CodeCurrencyMismatch      Code = "currency_mismatch"
	CodeNotEligible           Code = "not_eligible"
	CodeQuoteExpired          Code = "quote_expired"
	CodeQuoteInvalid          Code = "quote_invalid"
	CodeSalesClosed           Code = "sales_closed"
	CodeHoldExpired           Code = "hold_expired"
	CodeInternal              Code = "internal"
	// CodeUnavailable: the store throttled the request or did not answer,
	// after the adapter's retries. The request changed nothing, or it did
	// and a retry with the same idempotency key replays its answer.
	CodeUnavailable          Code = "unavailable"
	CodeUnsupportedMediaType Code = "unsupported_media_type"
	CodeMethodNotAllowed     Code = "method_not_allowed"
)

// Error is the one error type of the domain. Adapters translate their own
// failures into it (a failed DynamoDB condition becomes insufficient_credits
// or conflict); the HTTP layer maps Code to a status with one table.
type Error struct {
	Code    Code
	Message string
	// Details carries structured facts a client can act on: the fields that
	// were wrong, the credits available, the currency held. Values must be
	// JSON-encodable; decimals are encoded as strings.
	Details map[string]any
}

func (e *Error) Error() string {
	return string(e.Code) + ": " + e.Message
}

// Errorf returns an *Error with the code and a formatted message.
func Errorf(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// WithDetail returns e with one more detail set, for chaining.
func (e *Error) WithDetail(key string, value any) *Error {
	if e.Details == nil {
		e.Details = map[string]any{}
	}
	e.Details[key] = value
	return e
}

// ErrorCode returns the code of the first *Error in err's chain, or
// CodeInternal when there is none (an unexpected failure).
func ErrorCode(err error) Code {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return CodeInternal
}

// AsError returns the first *Error in err's chain.
func AsError(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}

// Problems collects every problem found while validating input, so a caller
// learns about all of them at once rather than one per attempt. The zero value
// is ready to use.
type Problems struct {
	fields map[string]string
}

// Add records a problem with one field. The first problem recorded for a field
// wins; later ones for the same field are usually consequences of it.
func (p *Problems) Add(field, format string, args ...any) {
	if p.fields == nil {
		p.fields = map[string]string{}
	}
	if _, seen := p.fields[field]; seen {
		return
	}
	p.fields[field] = fmt.Sprintf(format, args...)
}

// Merge copies every problem of an invalid_request error into p, with the
// field names prefixed. Other errors are recorded under prefix itself.
func (p *Problems) Merge(prefix string, err error) {
	if err == nil {
		return
	}
	e, ok := AsError(err)
	if !ok || e.Code != CodeInvalidRequest {
		p.Add(prefix, "%s", err.Error())
		return
	}
	fields, _ := e.Details["fields"].(map[string]string)
	if len(fields) == 0 {
		p.Add(prefix, "%s", e.Message)
		return
	}
	for f, msg := range fields {
		name := f
		if prefix != "" {
			name = prefix + "." + f
		}
		p.Add(name, "%s", msg)
	}
}

// Len reports how many fields have problems.
func (p *Problems) Len() int { return len(p.fields) }

// Err returns nil when nothing was recorded, else an invalid_request *Error
// whose message lists every problem and whose Details["fields"] maps each
// field to its problem.
func (p *Problems) Err() error {
	if len(p.fields) == 0 {
		return nil
	}
	names := make([]string, 0, len(p.fields))
	for f := range p.fields {
		names = append(names, f)
	}
	sort.Strings(names)
	parts := make([]string, len(names))
	fields := make(map[string]string, len(names))
	for i, f := range names {
		parts[i] = f + ": " + p.fields[f]
		fields[f] = p.fields[f]
	}
	return &Error{
		Code:    CodeInvalidRequest,
		Message: strings.Join(parts, "; "),
		Details: map[string]any{"fields": fields},
	}
}

// Invalid is a shorthand for an invalid_request error about one field.
func Invalid(field, format string, args ...any) error {
	var p Problems
	p.Add(field, format, args...)
	return p.Err()
}
