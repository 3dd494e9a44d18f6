package api

import (
	"errors"
	"mime"
	"net/http"
	"strings"

	"cloudcredits/core"
)

// Request bodies.
//
// Rules kept here:
//   - A body is at most BodyMax bytes; a larger one is 413 too_large.
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

// BodyMax is the largest request body accepted (API.md: over 64 KiB is 413).
const BodyMax = 64 << 10

// readBody reads a JSON request body of at most BodyMax bytes.
func readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	b, err := readRawBody(w, r)
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
	r.Body = http.MaxBytesReader(w, r.Body, BodyMax)
	b, err := readAll(r)
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return nil, core.Errorf(core.CodeTooLarge, "the request body is larger than %d bytes", BodyMax)
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
