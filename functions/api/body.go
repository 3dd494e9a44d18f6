package api

import (
	"errors"
	"io"
	"mime"
	"net/http"
	"strings"
	"time"

	"cloudcredits/core"
)

// Request bodies.
//
// Rules kept here:
//   - A body is at most BodyMax bytes (a route registered with handleLarge:
//     its own bound); a larger one is 413 too_large.
//   - A body must be sent as application/json; a charset parameter is allowed
//     and must be utf-8 (JSON is UTF-8), and no other parameter is. Anything
//     else — text/plain, a form, application/problem+json, a missing
//     Content-Type on a non-empty body — is 415 unsupported_media_type, and
//     the request changes nothing.
//   - An empty body may come without a Content-Type: the routes that take no
//     body (release, mark-paid, accept) are called that way. An empty body
//     with a Content-Type must still name application/json.
//   - The Stripe webhook is the exception: its body is Stripe's, verified by
//     its signature, whatever its Content-Type (readRawBody).

//   - A body declared larger than its route takes (Content-Length) is
//     answered 413 with Connection: close before routing, and the answer is
//     sent before a byte of the body is read: a client that sent Expect:
//     100-continue and waits is never told to go ahead, so it never sends
//     the body (tooLargeUpfront). Many clients send it anyway (they do not
//     wait, or stop waiting): what they send is then read and discarded, up
//     to DrainMax bytes for at most DrainTimeout, before the connection
//     closes, since closing a socket with unread data resets it and the
//     client would see the reset instead of the answer.
//   - A body found larger while reading (sent chunked) is answered 413 with
//     Connection: close after draining the same bounded amount, for the
//     same reason.

// BodyMax is the largest request body accepted (API.md: over 64 KiB is 413),
// unless a route is registered with a larger bound of its own (handleLarge).
const BodyMax = 64 << 10

// DrainMax and DrainTimeout bound what is read and discarded of a body found
// too large while reading it.
const (
	DrainMax     = 16 << 20
	DrainTimeout = 5 * time.Second
)

// tooLargeUpfront answers 413 when r declares a body larger than its
// route takes.
func (h *Handler) tooLargeUpfront(w http.ResponseWriter, r *http.Request) bool {
	if r.ContentLength <= BodyMax {
		return false
	}
	limit := h.bodyMaxOf(r)
	if r.ContentLength <= limit {
		return false
	}
	w.Header().Set("Connection", "close")
	writeError(w, r, tooLarge(limit))
	// The answer goes out first: reading the body after it never sends
	// 100 Continue, so a client that waits sends nothing and closes.
	rc := http.NewResponseController(w)
	_ = rc.Flush()
	drain(rc, r.Body)
	return true
}

// drain reads and discards what a client sends of a body that is refused,
// within DrainMax and DrainTimeout (see the rules above).
func drain(rc *http.ResponseController, body io.Reader) {
	_ = rc.SetReadDeadline(time.Now().Add(DrainTimeout))
	_, _ = io.CopyN(io.Discard, body, DrainMax)
}

// bodyMaxOf is the largest body r's route takes: BodyMax, or the route's
// own bound.
func (h *Handler) bodyMaxOf(r *http.Request) int64 {
	if _, pattern := h.mux.Handler(r); h.bodyMax[pattern] > 0 {
		return h.bodyMax[pattern]
	}
	return BodyMax
}

func tooLarge(limit int64) error {
	return core.Errorf(core.CodeTooLarge, "the request body is larger than %d bytes", limit)
}

// readBody reads a JSON request body of at most BodyMax bytes.
func readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	return readBodyMax(w, r, BodyMax)
}

// readBodyMax reads a JSON request body of at most limit bytes.
func readBodyMax(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, error) {
	b, err := readRawBodyMax(w, r, limit)
	if err != nil {
		return nil, err
	}
	if err := jsonMediaType(r.Header.Get("Content-Type"), len(b) > 0); err != nil {
		return nil, err
	}
	return b, nil
}

// readRawBody reads a request body of at most BodyMax bytes, of any type.
func readRawBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	return readRawBodyMax(w, r, BodyMax)
}

func readRawBodyMax(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, error) {
	if r.ContentLength > limit {
		return nil, tooLarge(limit)
	}
	body := r.Body
	r.Body = http.MaxBytesReader(w, body, limit)
	b, err := readAll(r)
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		w.Header().Set("Connection", "close")
		drain(http.NewResponseController(w), body)
		return nil, tooLarge(limit)
	}
	if err != nil {
		return nil, core.Errorf(core.CodeInvalidRequest, "the request body could not be read")
	}
	return b, nil
}

// jsonMediaType checks a request's Content-Type (see the rules above).
func jsonMediaType(ct string, hasBody bool) error {
	if ct == "" {
		if hasBody {
			return core.Errorf(core.CodeUnsupportedMediaType, "the request has a body but no Content-Type; send it as application/json")
		}
		return nil
	}
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil {
		return core.Errorf(core.CodeUnsupportedMediaType, "the Content-Type %q cannot be read; send application/json", ct)
	}
	if mt != "application/json" {
		return core.Errorf(core.CodeUnsupportedMediaType, "the body is %s; send it as application/json", mt)
	}
	for k, v := range params {
		if k != "charset" {
			return core.Errorf(core.CodeUnsupportedMediaType, "application/json takes no %s parameter; only charset=utf-8", k)
		}
		if !strings.EqualFold(v, "utf-8") {
			return core.Errorf(core.CodeUnsupportedMediaType, "the body is in charset %s; JSON is sent in utf-8", v)
		}
	}
	return nil
}
