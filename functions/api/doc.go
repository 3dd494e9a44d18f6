// Package api is the public HTTP contract of API.md as one http.Handler. The
// local server mounts all of it; each Lambda function mounts the routes of its
// concern. Handlers parse and authorise, call core (prices, estimates) or the
// ledger service, and encode; they never compute money themselves.
//
// Conventions kept here, in one place each: JSON in and out with decimals as
// strings; a body must be application/json (charset=utf-8 allowed), else 415
// unsupported_media_type, while an empty body may come without a
// Content-Type (body.go); bodies over 64 KiB answer 413 too_large; errors are
// {"error": {"code", "message", "details"}} with the status from one table
// (statusOf); a store that throttled or did not answer is 503 unavailable
// with Retry-After; a wrong method on a known path is 405 with Allow, and an
// unclean path is 404, never a redirect (routing.go); every response carries an X-Request-Id, and the JSON access log
// names the request, never a token or a key.
package api
