package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"cloudcredits/functions/api"
	"cloudcredits/functions/auth"
	"cloudcredits/functions/payments"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
)

// openAPIServer is the server of the document; test requests are addressed
// to it so the router matches them as it would a real client's.
const openAPIServer = "http://127.0.0.1:8080"

// openAPIDoc loads the embedded document and validates it as OpenAPI 3.
func openAPIDoc(t *testing.T) *openapi3.T {
	t.Helper()
	doc, err := openapi3.NewLoader().LoadFromData(api.OpenAPI())
	if err != nil {
		t.Fatalf("load openapi.yaml: %v", err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatalf("openapi.yaml is not valid OpenAPI: %v", err)
	}
	return doc
}

func TestOpenAPIDocumentIsValid(t *testing.T) {
	doc := openAPIDoc(t)
	if doc.OpenAPI != "3.0.3" {
		t.Errorf("openapi = %q, want 3.0.3", doc.OpenAPI)
	}
	if len(doc.Servers) == 0 || doc.Servers[0].URL != openAPIServer {
		t.Errorf("the first server should be the local one, %s", openAPIServer)
	}
	// The document served is the file in the repository, byte for byte.
	rec := do(t, newHandler(t, nil, nil, time.Date(2026, 3, 10, 0, 0, 0, 0, time.UTC)), "GET", "/v1/openapi.yaml", nil)
	if rec.Code != http.StatusOK || rec.Header().Get("Content-Type") != "application/yaml" {
		t.Errorf("GET /v1/openapi.yaml = %d, Content-Type %q", rec.Code, rec.Header().Get("Content-Type"))
	}
	if !bytes.Equal(rec.Body.Bytes(), readFile(t, "openapi.yaml")) {
		t.Error("GET /v1/openapi.yaml does not serve openapi.yaml")
	}
}

// isPlanned reports whether the document marks an operation as not served yet.
func isPlanned(op *openapi3.Operation) bool { return op.Extensions["x-status"] == "planned" }

// extStrings reads an extension that holds a list of strings.
func extStrings(v any) []string {
	list, _ := v.([]any)
	out := make([]string, 0, len(list))
	for _, item := range list {
		if s, ok := item.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

// docOperations lists the document's operations as "METHOD /path".
func docOperations(doc *openapi3.T) map[string]*openapi3.Operation {
	ops := map[string]*openapi3.Operation{}
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			ops[method+" "+path] = op
		}
	}
	return ops
}

// TestOpenAPIDescribesEveryServedRoute holds the document and the handler's
// route table to each other: a served route is described with its method,
// path template and group, and is not marked planned; a described route not
// marked planned is served. Mutating routes declare the Idempotency-Key and
// authenticated routes name the roles that may call them.
func TestOpenAPIDescribesEveryServedRoute(t *testing.T) {
	doc := openAPIDoc(t)
	ops := docOperations(doc)
	e := newEnv(t)
	h, ok := e.h.(*api.Handler)
	if !ok {
		t.Fatalf("env handler is %T, not *api.Handler", e.h)
	}
	served := map[string]bool{}
	for _, r := range h.Routes() {
		served[r.Pattern] = true
		op := ops[r.Pattern]
		switch {
		case op == nil:
			t.Errorf("%s (group %s) is served but not described in openapi.yaml", r.Pattern, r.Group)
			continue
		case isPlanned(op):
			t.Errorf("%s is served but marked x-status: planned; remove the marker", r.Pattern)
		}
		if g := op.Extensions["x-group"]; g != string(r.Group) {
			t.Errorf("%s: x-group = %v, served in group %s", r.Pattern, g, r.Group)
		}
	}
	roles := []string{string(auth.VendorAdmin), string(auth.ContractAdmin), string(auth.User), string(auth.Service), string(auth.Reseller)}
	groups := make([]string, 0, len(api.Groups()))
	for _, g := range api.Groups() {
		groups = append(groups, string(g))
	}
	for pattern, op := range ops {
		method, path, _ := strings.Cut(pattern, " ")
		if !isPlanned(op) && !served[pattern] {
			t.Errorf("%s is described without x-status: planned but not served", pattern)
		}
		if g, _ := op.Extensions["x-group"].(string); !slices.Contains(groups, g) {
			t.Errorf("%s: x-group %q is not a group of the handler", pattern, g)
		}
		public := op.Security != nil && len(*op.Security) == 0
		opRoles := extStrings(op.Extensions["x-roles"])
		switch {
		case public && len(opRoles) > 0:
			t.Errorf("%s: public (security: []) but lists x-roles %v", pattern, opRoles)
		case !public && len(opRoles) == 0:
			t.Errorf("%s: needs a bearer token but lists no x-roles", pattern)
		}
		for _, r := range opRoles {
			if !slices.Contains(roles, r) {
				t.Errorf("%s: x-roles names unknown role %q", pattern, r)
			}
		}
		mutating := method == http.MethodPost || method == http.MethodPut || method == http.MethodDelete
		// The public POSTs compute and store nothing; Stripe sends no key; a
		// batch's items carry theirs.
		exempt := path == "/v1/estimates" || path == "/v1/prices" || path == "/v1/webhooks/stripe" ||
			path == "/v1/contracts/{c}/consumptions/batch"
		if mutating && !exempt {
			p := op.Parameters.GetByInAndName("header", "Idempotency-Key")
			if p == nil || !p.Required {
				t.Errorf("%s: mutating, but declares no required Idempotency-Key header", pattern)
			}
			if resp := op.Responses.Status(409); resp == nil {
				t.Errorf("%s: mutating, but declares no 409 (idempotency_key_reused)", pattern)
			}
		}
		if mutating && op.RequestBody != nil && op.Responses.Status(413) == nil {
			t.Errorf("%s: takes a body but declares no 413", pattern)
		}
		if mutating && op.RequestBody != nil && path != "/v1/webhooks/stripe" && op.Responses.Status(415) == nil {
			t.Errorf("%s: takes a JSON body but declares no 415", pattern)
		}
	}
}

// openAPICheck drives requests through the real handler and checks each request
// and response against the document.
type openAPICheck struct {
	t      *testing.T
	e      *env
	router routers.Router
	opts   *openapi3filter.Options
	// ok records, per described route, that a 2xx answer was validated.
	ok map[string]bool
}

func newOpenAPICheck(t *testing.T, e *env) *openAPICheck {
	t.Helper()
	doc := openAPIDoc(t)
	// The document leaves response objects open, so clients tolerate added
	// fields; the test closes them, so a field the handler writes that the
	// document does not describe fails here.
	closeObjects(doc)
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		t.Fatal(err)
	}
	c := &openAPICheck{t: t, e: e, router: router, ok: map[string]bool{}}
	c.opts = &openapi3filter.Options{
		IncludeResponseStatus: true, // a status the document does not list fails
		MultiError:            true,
		AuthenticationFunc:    c.authenticate,
	}
	return c
}

// authenticate accepts the bearer scheme when the token verifies and its
// role is one the operation's x-roles lists, so the document's roles are
// checked against what the handler allows.
func (c *openAPICheck) authenticate(_ context.Context, in *openapi3filter.AuthenticationInput) error {
	if in.SecuritySchemeName != "bearer" {
		return in.NewError(fmt.Errorf("unknown security scheme %q", in.SecuritySchemeName))
	}
	p, err := c.e.keys.Verify(auth.BearerToken(in.RequestValidationInput.Request.Header.Get("Authorization")), c.e.now)
	if err != nil {
		return in.NewError(err)
	}
	roles := extStrings(in.RequestValidationInput.Route.Operation.Extensions["x-roles"])
	if !slices.Contains(roles, string(p.Role)) {
		return in.NewError(fmt.Errorf("role %s is not in x-roles %v", p.Role, roles))
	}
	return nil
}

// refusedByDoc marks a request the document itself must refuse (a bad body, a
// missing key or token, a role the operation does not list).
const refusedByDoc = true

// call sends one request as who (a token name of env, a raw token, or "" for
// none) and checks: the status is want; the request validates against the
// document unless docRefuses, and does not if it does; the response
// validates. It returns the response.
func (c *openAPICheck) call(who, method, path, key, body string, want int, docRefuses bool) *httptest.ResponseRecorder {
	c.t.Helper()
	return c.callWith(nil, who, method, path, key, body, want, docRefuses)
}

// callWith is call with extra request headers (a webhook's signature).
func (c *openAPICheck) callWith(header map[string]string, who, method, path, key, body string, want int, docRefuses bool) *httptest.ResponseRecorder {
	c.t.Helper()
	newReq := func() *http.Request {
		r := httptest.NewRequest(method, openAPIServer+path, strings.NewReader(body))
		if body != "" {
			r.Header.Set("Content-Type", "application/json")
		}
		if tok := c.e.tokens[who]; tok != "" {
			r.Header.Set("Authorization", "Bearer "+tok)
		} else if who != "" {
			r.Header.Set("Authorization", "Bearer "+who)
		}
		if key != "" {
			r.Header.Set("Idempotency-Key", key)
		}
		for k, v := range header {
			r.Header.Set(k, v)
		}
		return r
	}
	rec := httptest.NewRecorder()
	c.e.h.ServeHTTP(rec, newReq())
	name := fmt.Sprintf("%s %s → %d", method, path, rec.Code)
	if rec.Code != want {
		c.t.Errorf("%s: status = %d, want %d: %s", name, rec.Code, want, rec.Body)
	}

	ctx := context.Background()
	req := newReq()
	route, params, err := c.router.FindRoute(req)
	if err != nil {
		c.t.Errorf("%s: the document has no route for it: %v", name, err)
		return rec
	}
	name = fmt.Sprintf("%s %s (as %s %s) → %d", route.Method, route.Path, method, path, rec.Code)
	in := &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route, Options: c.opts}
	reqErr := openapi3filter.ValidateRequest(ctx, in)
	switch {
	case docRefuses && reqErr == nil:
		c.t.Errorf("%s: the handler refuses the request, but the document accepts it", name)
	case !docRefuses && reqErr != nil:
		c.t.Errorf("%s: the request does not match the document: %v", name, reqErr)
	}
	resp := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: in,
		Status:                 rec.Code,
		Header:                 rec.Header(),
		Options:                c.opts,
	}
	resp.SetBodyBytes(rec.Body.Bytes())
	if err := openapi3filter.ValidateResponse(ctx, resp); err != nil {
		c.t.Errorf("%s: the response does not match the document: %v\n%s", name, err, rec.Body)
	} else if rec.Code/100 == 2 {
		c.ok[route.Method+" "+route.Path] = true
	}
	return rec
}

// jsonField reads one string field of a JSON answer, by a dotted path.
func jsonField(t *testing.T, rec *httptest.ResponseRecorder, path string) string {
	t.Helper()
	var v any
	if err := json.Unmarshal(rec.Body.Bytes(), &v); err != nil {
		t.Fatalf("answer is not JSON: %v: %s", err, rec.Body)
	}
	for _, k := range strings.Split(path, ".") {
		m, _ := v.(map[string]any)
		v = m[k]
	}
	s, ok := v.(string)
	if !ok || s == "" {
		t.Fatalf("answer has no %s: %s", path, rec.Body)
	}
	return s
}

func wantReplayed(t *testing.T, rec *httptest.ResponseRecorder, want bool) {
	t.Helper()
	if got := rec.Header().Get("Idempotent-Replayed") == "true"; got != want {
		t.Errorf("Idempotent-Replayed = %q, want replayed %v", rec.Header().Get("Idempotent-Replayed"), want)
	}
}

// TestOpenAPIMatchesTheHandler drives a realistic sequence through the real
// handler on a real SQLite ledger — public routes, a contract's life, every
// spend path, balances, and one failure of each status — and validates every
// request and response against the document. Every served route must have
// had a 2xx answer validated.
func TestOpenAPIMatchesTheHandler(t *testing.T) {
	e := newEnv(t)
	c := newOpenAPICheck(t, e)
	const none = ""

	// Public.
	c.call(none, "GET", "/healthz", "", "", 200, false)
	c.call(none, "GET", "/v1/openapi.yaml", "", "", 200, false)
	c.call(none, "GET", "/v1/ratecard", "", "", 200, false)
	c.call(none, "POST", "/v1/estimates", "", `{"service":"infraworks-profile-optimization","params":{"road_km":"12"}}`, 200, false)
	c.call(none, "POST", "/v1/estimates", "", `{"items":[{"service":"infraworks-profile-optimization","params":{"road_km":12}},{"service":"structural-analysis"}],"holdings":{"cloud":"100"}}`, 200, false)
	c.call(none, "POST", "/v1/prices", "", `{"currency":"cloud","credits":"5000","channel":"reseller"}`, 200, false)
	c.call(none, "POST", "/v1/prices", "", `{"currency":"forma","packs":3,"purchased_this_year":"250"}`, 200, false)
	c.call(none, "POST", "/v1/estimates", "", `{"service":"teleportation","params":{}}`, 400, false)
	c.call(none, "POST", "/v1/prices", "", `{"currency":"cloud","credits":5000}`, 400, refusedByDoc)
	c.call(none, "POST", "/v1/estimates", "", `{"service":"structural-analysis","params":{"x":"`+strings.Repeat("1", api.BodyMax)+`"}}`, 413, refusedByDoc)

	// A contract's life, as the vendor admin.
	c3 := `{"id":"c3","customer":"Customer c3","entity":"c3-hq","covered_entities":["c3-sub"],"contractor_coverage":true,"start":"2026-01-01T00:00:00Z","end":"2027-01-01T00:00:00Z","extension_months":3,"channel":"eba","monthly_baseline":"2500","plan_active":true,"notify_email":"procurement@c3.example"}`
	wantReplayed(t, c.call("vendor", "POST", "/v1/contracts", "c3", c3, 201, false), false)
	wantReplayed(t, c.call("vendor", "POST", "/v1/contracts", "c3", c3, 201, false), true)
	c.call("vendor", "POST", "/v1/contracts", "c4", `{"id":"c4","customer":"Open-ended","entity":"c4-hq","start":"2026-01-01T00:00:00Z"}`, 201, false)
	c.call("vendor", "POST", "/v1/contracts", "c3", `{"id":"c3","customer":"Other","entity":"c3-hq","start":"2026-01-01T00:00:00Z"}`, 409, false)
	c.call("vendor", "POST", "/v1/contracts", "c1-again", `{"id":"c1","customer":"Again","entity":"c1-hq","start":"2026-01-01T00:00:00Z"}`, 409, false)
	c.call("vendor", "POST", "/v1/contracts", "", c3, 400, refusedByDoc)
	c.call("vendor", "POST", "/v1/contracts", "bad", `{"id":"c5","customer":"x","entity":"e","start":"yesterday"}`, 400, refusedByDoc)
	c.call("admin", "POST", "/v1/contracts", "k", c3, 403, refusedByDoc)
	c.call(none, "POST", "/v1/contracts", "k", c3, 401, refusedByDoc)
	c.call("not-a-token", "POST", "/v1/contracts", "k", c3, 401, refusedByDoc)

	// Users and budgets, as the contract admin.
	bob := c.call("admin", "POST", "/v1/contracts/c1/users", "u-bob", `{"user":"bob","kind":"employee","entity":"c1-hq","can_spend":true}`, 201, false)
	bobLot := jsonField(t, bob, "grant.id")
	c.call("admin", "POST", "/v1/contracts/c1/users", "u-gus", `{"user":"gus","kind":"guest","entity":"c1-hq"}`, 201, false)
	c.call("admin", "POST", "/v1/contracts/c1/users", "u-zed", `{"user":"zed","kind":"robot","entity":"c1-hq"}`, 400, refusedByDoc)
	c.call("admin2", "POST", "/v1/contracts/c1/users", "u-zed", `{"user":"zed","kind":"employee","entity":"c1-hq"}`, 404, false)
	c.call("admin", "PUT", "/v1/contracts/c1/projects/p1/budget", "b-p1", `{"currency":"cloud","monthly_cap":"500"}`, 200, false)
	c.call("vendor", "PUT", "/v1/contracts/c1/projects/p2/budget", "b-p2", `{"currency":"forma","monthly_cap":"0"}`, 200, false)
	c.call("admin", "PUT", "/v1/contracts/c1/projects/p1/budget", "b-usd", `{"currency":"usd","monthly_cap":"10"}`, 400, refusedByDoc)

	// Spending, as the service.
	consumptions := "/v1/contracts/c1/consumptions"
	job := `{"user":"ann","entity":"c1-hq","project":"p1","service":"infraworks-profile-optimization","params":{"road_km":"12"}}`
	first := c.call("service", "POST", consumptions, "job-1", job, 201, false)
	wantReplayed(t, first, false)
	again := c.call("service", "POST", consumptions, "job-1", job, 201, false)
	wantReplayed(t, again, true)
	if !bytes.Equal(first.Body.Bytes(), again.Body.Bytes()) {
		t.Errorf("replay differs from the first answer:\n%s\n%s", first.Body, again.Body)
	}
	byCredits := c.call("service", "POST", consumptions, "job-2", `{"user":"bob","entity":"c1-sub","service":"rendering","credits":"12.5"}`, 201, false)
	consumption := jsonField(t, byCredits, "consumption_id")
	c.call("service", "POST", consumptions, "job-1", `{"user":"ann","entity":"c1-hq","service":"rendering","credits":"1"}`, 409, false)
	c.call("service", "POST", consumptions, "job-3", `{"user":"ann","entity":"c1-hq","service":"rendering","credits":"5000"}`, 422, false)
	c.call("service", "POST", consumptions, "job-4", `{"user":"ann","entity":"c1-hq","project":"p1","service":"rendering","credits":"400"}`, 422, false)
	c.call("service", "POST", consumptions, "job-5", `{"user":"ann","entity":"elsewhere","service":"rendering","credits":"1"}`, 422, false)
	c.call("service", "POST", consumptions, "job-6", `{"user":"ann","entity":"c1-hq","service":"rendering","credits":"1","params":{}}`, 400, refusedByDoc)
	c.call("service", "POST", consumptions, "job-7", `{"user":"ann","entity":"c1-hq","service":"rendering","credits":"-1"}`, 400, refusedByDoc)
	c.callWith(map[string]string{"Content-Type": "text/plain"}, "service", "POST", consumptions, "job-text", `{"user":"ann","entity":"c1-hq","service":"rendering","credits":"1"}`, 415, refusedByDoc)
	c.call("service", "POST", consumptions, "job-8", `{"user":"ann","entity":"c1-hq","service":"rendering","credits":"1","project":"`+strings.Repeat("p", api.BodyMax)+`"}`, 413, refusedByDoc)
	c.call("admin", "POST", consumptions, "job-9", job, 403, refusedByDoc)
	c.call("service", "POST", "/v1/contracts/c2/consumptions", "job-10", job, 404, false)

	batch := consumptions + "/batch"
	c.call("service", "POST", batch, "", `{"items":[{"idempotency_key":"b-1","user":"ann","entity":"c1-hq","service":"rendering","credits":"2"},{"idempotency_key":"job-1","user":"ann","entity":"c1-hq","project":"p1","service":"infraworks-profile-optimization","params":{"road_km":"12"}},{"idempotency_key":"b-2","user":"ann","entity":"c1-hq","service":"rendering","credits":"5000"},{"idempotency_key":"job-1","user":"ann","entity":"c1-hq","service":"rendering","credits":"1"}]}`, 200, false)
	c.call("service", "POST", batch, "", `{"items":[{"idempotency_key":"b-3","user":"ann","entity":"c1-hq","service":"rendering","credits":2},{"user":"ann","entity":"c1-hq","service":"rendering","credits":"1"}]}`, 200, refusedByDoc)
	c.call("service", "POST", batch, "", `{"items":[]}`, 400, refusedByDoc)
	c.call("service", "POST", batch, "", `{"items":[{"idempotency_key":"b-4","user":"ann"}`, 400, refusedByDoc)
	c.call("service", "POST", batch, "", `{"items":[{"idempotency_key":"b-5","user":"ann","entity":"c1-hq","service":"rendering","credits":"1","project":"`+strings.Repeat("p", api.BatchBodyMax)+`"}]}`, 413, refusedByDoc)
	c.call("admin", "POST", batch, "", `{"items":[{"idempotency_key":"b-6","user":"ann","entity":"c1-hq","service":"rendering","credits":"1"}]}`, 403, refusedByDoc)
	c.call("service", "POST", "/v1/contracts/c2/consumptions/batch", "", `{"items":[{"idempotency_key":"b-7","user":"ann","entity":"c1-hq","service":"rendering","credits":"1"}]}`, 404, false)

	hold := c.call("service", "POST", "/v1/contracts/c1/holds", "h-1", `{"user":"ann","entity":"c1-hq","service":"rendering","credits":"150","expires_in_seconds":3600}`, 201, false)
	holdID := jsonField(t, hold, "hold_id")
	settled := c.call("service", "POST", "/v1/contracts/c1/holds/"+holdID+"/settle", "s-1", `{"credits":"120"}`, 200, false)
	c.call("service", "POST", "/v1/contracts/c1/holds/"+holdID+"/release", "r-1", "", 409, false)
	c.call("service", "POST", "/v1/contracts/c1/holds/nope/settle", "s-2", `{"credits":"1"}`, 404, false)
	small := c.call("service", "POST", "/v1/contracts/c1/holds", "h-2", `{"user":"bob","entity":"c1-hq","service":"infraworks-profile-optimization","params":{"road_km":"3"}}`, 201, false)
	c.call("service", "POST", "/v1/contracts/c1/holds/"+jsonField(t, small, "hold_id")+"/release", "r-2", "", 200, false)
	zero := c.call("service", "POST", "/v1/contracts/c1/holds", "h-0", `{"user":"ann","entity":"c1-hq","service":"rendering","credits":"5"}`, 201, false)
	c.call("service", "POST", "/v1/contracts/c1/holds/"+jsonField(t, zero, "hold_id")+"/settle", "s-0", `{"credits":"0"}`, 200, false)
	c.call("service", "POST", "/v1/contracts/c1/holds", "h-3", `{"user":"ann","entity":"c1-hq","service":"rendering","credits":"1","expires_in_seconds":999999999}`, 400, refusedByDoc)
	c.call("service", "POST", "/v1/contracts/c1/consumptions/"+jsonField(t, settled, "consumption_id")+"/refund", "rf-1", `{"credits":"20"}`, 200, false)
	c.call("service", "POST", "/v1/contracts/c1/consumptions/"+consumption+"/refund", "rf-2", "", 200, false)
	c.call("service", "POST", "/v1/contracts/c1/consumptions/nope/refund", "rf-3", `{}`, 404, false)

	// Balances.
	c.call("admin", "GET", "/v1/contracts/c1/balance", "", "", 200, false)
	c.call("vendor", "GET", "/v1/contracts/c2/balance", "", "", 200, false)
	c.call("vendor", "GET", "/v1/contracts/c4/balance", "", "", 200, false)
	c.call("admin2", "GET", "/v1/contracts/c1/balance", "", "", 404, false)
	c.call("ann", "GET", "/v1/me/balance", "", "", 200, false)
	c.call("service", "GET", "/v1/me/balance", "", "", 403, refusedByDoc)

	// Governance reads.
	c.call("admin", "GET", "/v1/contracts/c1/usage?from=2026-01&to=2026-03&group_by=user,service,project,entity,month", "", "", 200, false)
	c.call("vendor", "GET", "/v1/contracts/c1/usage", "", "", 200, false)
	c.call("admin", "GET", "/v1/contracts/c1/usage?group_by=service&format=csv", "", "", 200, false)
	c.call("admin", "GET", "/v1/contracts/c1/usage?from=2026-13", "", "", 400, refusedByDoc)
	c.call("admin", "GET", "/v1/contracts/c1/usage?group_by=colour", "", "", 400, refusedByDoc)
	c.call("admin2", "GET", "/v1/contracts/c1/usage", "", "", 404, false)
	for _, report := range []string{"expirations", "alerts", "audit", "forecast"} {
		c.call("admin", "GET", "/v1/contracts/c1/"+report, "", "", 200, false)
		c.call("admin2", "GET", "/v1/contracts/c1/"+report, "", "", 404, false)
		c.call("ann", "GET", "/v1/contracts/c1/"+report, "", "", 403, refusedByDoc)
	}

	// Orders: a card order opens a checkout (stripe-mock) and the signed
	// webhook fulfils it; an invoice order on a reseller contract is marked
	// paid by the vendor admin.
	orders := "/v1/contracts/c1/orders"
	cardRec := c.call("admin", "POST", orders, "o-card", cardOrder, 201, false)
	wantReplayed(t, cardRec, false)
	card := decodeOrder(t, cardRec)
	if !strings.HasPrefix(jsonField(t, cardRec, "checkout_url"), "https://") {
		t.Errorf("card order has no https checkout_url: %s", cardRec.Body)
	}
	wantReplayed(t, c.call("admin", "POST", orders, "o-card", cardOrder, 201, false), true)
	c.call("admin", "POST", orders, "o-card", `{"currency":"cloud","credits":"100","payment":"card"}`, 409, false)
	c.call("vendor", "POST", orders, "o-packs", `{"currency":"forma","packs":2,"payment":"card"}`, 201, false)
	c.call("admin", "POST", orders, "o-inv", `{"currency":"cloud","credits":"300","payment":"invoice"}`, 400, false)
	c.call("admin", "POST", orders, "o-big", `{"currency":"cloud","credits":"1000000","payment":"card"}`, 400, false)
	c.call("admin", "POST", orders, "o-quote", `{"currency":"cloud","credits":"100","payment":"card","quote_token":"abc"}`, 422, false)
	c.call("admin", "POST", orders, "o-both", `{"currency":"cloud","credits":"100","packs":1,"payment":"card"}`, 400, refusedByDoc)
	c.call("admin", "POST", orders, "o-zero", `{"currency":"cloud","packs":0,"payment":"card"}`, 400, refusedByDoc)
	c.call("admin", "POST", orders, "o-price", `{"currency":"cloud","credits":"100","payment":"card","total":"1.00"}`, 400, refusedByDoc)
	c.call("admin", "POST", orders, "o-pay", `{"currency":"cloud","credits":"100","payment":"cash"}`, 400, refusedByDoc)
	c.call("admin", "POST", orders, "", cardOrder, 400, refusedByDoc)
	c.call("admin", "POST", orders, "o-long", `{"currency":"cloud","credits":"100","payment":"card","quote_token":"`+strings.Repeat("q", api.BodyMax)+`"}`, 413, refusedByDoc)
	c.call("service", "POST", orders, "o-svc", cardOrder, 403, refusedByDoc)
	c.call(none, "POST", orders, "o-anon", cardOrder, 401, refusedByDoc)
	c.call("admin2", "POST", orders, "o-c1", cardOrder, 404, false)
	c.call("admin", "GET", orders+"/"+card.ID, "", "", 200, false)
	c.call("vendor", "GET", orders+"/"+card.ID, "", "", 200, false)
	c.call("admin2", "GET", orders+"/"+card.ID, "", "", 404, false)
	c.call("admin2", "GET", "/v1/contracts/c2/orders/"+card.ID, "", "", 404, false)
	c.call("ann", "GET", orders+"/"+card.ID, "", "", 403, refusedByDoc)

	hook := "/v1/webhooks/stripe"
	signed := func(payload []byte) map[string]string {
		return map[string]string{"Stripe-Signature": payments.SignWebhook(payload, webhookSecret, e.now)}
	}
	paid := paidEvent(t, card)
	if a := jsonField(t, c.callWith(signed(paid), none, "POST", hook, "", string(paid), 200, false), "action"); a != "fulfilled" {
		t.Errorf("paid webhook action = %s, want fulfilled", a)
	}
	if r := jsonField(t, c.callWith(signed(paid), none, "POST", hook, "", string(paid), 200, false), "reason"); r != "already fulfilled" {
		t.Errorf("redelivered webhook reason = %q", r)
	}
	if lot := jsonField(t, c.call("admin", "GET", orders+"/"+card.ID, "", "", 200, false), "lot"); lot != "lot_"+card.ID {
		t.Errorf("paid card order's lot = %s", lot)
	}
	other := decodeOrder(t, c.call("admin", "POST", orders, "o-card-2", `{"currency":"cloud","credits":"100","payment":"card"}`, 201, false))
	expired := checkoutEvent("evt_exp_openapi", payments.EventCheckoutExpired, other, "unpaid", cents(t, other))
	if a := jsonField(t, c.callWith(signed(expired), none, "POST", hook, "", string(expired), 200, false), "action"); a != "cancelled" {
		t.Errorf("expired webhook action = %s, want cancelled", a)
	}
	unhandled := `{"id":"evt_pi","object":"event","type":"payment_intent.succeeded","data":{"object":{"id":"pi_1","object":"payment_intent"}}}`
	c.callWith(signed([]byte(unhandled)), none, "POST", hook, "", unhandled, 200, false)
	c.callWith(map[string]string{"Stripe-Signature": payments.SignWebhook(paid, "whsec_someone_else", e.now)}, none, "POST", hook, "", string(paid), 400, false)
	c.callWith(nil, none, "POST", hook, "", string(paid), 400, refusedByDoc)
	huge := `{"id":"evt_big","object":"event","type":"x","pad":"` + strings.Repeat("p", api.BodyMax) + `"}`
	c.callWith(signed([]byte(huge)), none, "POST", hook, "", huge, 413, false)

	e.resellerContract(t, "r1")
	invoice := decodeOrder(t, c.call("admin-r1", "POST", "/v1/contracts/r1/orders", "o-r1", `{"currency":"cloud","credits":"300","payment":"invoice"}`, 201, false))
	markPaid := "/v1/orders/" + invoice.ID + "/mark-paid"
	c.call("admin-r1", "POST", markPaid, "mp-1", "", 403, refusedByDoc)
	c.call("vendor", "POST", markPaid, "mp-1", `{"paid":true}`, 400, refusedByDoc)
	marked := c.call("vendor", "POST", markPaid, "mp-1", "", 200, false)
	wantReplayed(t, marked, false)
	if lot := jsonField(t, marked, "lot.id"); lot != "lot_"+invoice.ID {
		t.Errorf("mark-paid lot = %s", lot)
	}
	wantReplayed(t, c.call("vendor", "POST", markPaid, "mp-1", "", 200, false), true)
	c.call("vendor", "POST", markPaid, "mp-2", `{}`, 200, false)
	c.call("vendor", "POST", markPaid, "mp-1", `{}`, 409, false)
	c.call("vendor", "POST", "/v1/orders/"+card.ID+"/mark-paid", "mp-3", "", 400, false)
	c.call("vendor", "POST", "/v1/orders/ord_nope/mark-paid", "mp-4", "", 404, false)
	c.call("admin-r1", "GET", "/v1/contracts/r1/orders/"+invoice.ID, "", "", 200, false)

	// Quote links: a reseller makes one for r1, anyone reads it, r1's admin
	// accepts it once; a vendor's open quote is accepted through an order.
	c.call(none, "GET", "/v1/quotes/keys", "", "", 200, false)
	quoteBody := `{"customer":"Reseller customer","contract":"r1","currency":"cloud","credits":"5000"}`
	made := c.call("reseller", "POST", "/v1/quotes", "q-1", quoteBody, 201, false)
	wantReplayed(t, c.call("reseller", "POST", "/v1/quotes", "q-1", quoteBody, 201, false), true)
	qtok := jsonField(t, made, "token")
	c.call(none, "GET", "/v1/quotes/"+qtok, "", "", 200, false)
	c.call(none, "GET", "/v1/quotes/"+qtok[:len(qtok)-3]+"AAA", "", "", 422, false)
	c.call(none, "GET", "/v1/quotes/garbage", "", "", 422, false)
	c.call("reseller", "POST", "/v1/quotes", "q-1", `{"customer":"Other","currency":"cloud","credits":"100"}`, 409, false)
	c.call("reseller", "POST", "/v1/quotes", "q-2", `{"customer":"x","currency":"cloud","credits":5000}`, 400, refusedByDoc)
	c.call("reseller", "POST", "/v1/quotes", "q-3", `{"customer":"x","currency":"cloud","credits":"100","valid_days":91}`, 400, refusedByDoc)
	c.call("reseller", "POST", "/v1/quotes", "q-4", `{"customer":"x","currency":"cloud","credits":"100","channel":"eba"}`, 400, false)
	c.call("reseller", "POST", "/v1/quotes", "q-5", `{"customer":"x","contract":"nope","currency":"cloud","credits":"100"}`, 400, false)
	c.call("reseller", "POST", "/v1/quotes", "", quoteBody, 400, refusedByDoc)
	c.call("reseller", "POST", "/v1/quotes", "q-6", `{"customer":"`+strings.Repeat("x", api.BodyMax)+`","currency":"cloud","credits":"100"}`, 413, refusedByDoc)
	c.call("admin", "POST", "/v1/quotes", "q-7", quoteBody, 403, refusedByDoc)
	c.call(none, "POST", "/v1/quotes", "q-8", quoteBody, 401, refusedByDoc)
	open := c.call("vendor", "POST", "/v1/quotes", "q-9", `{"customer":"Anyone","currency":"cloud","packs":2,"channel":"list","valid_days":7}`, 201, false)
	accept := "/v1/quotes/" + qtok + "/accept"
	c.call("admin", "POST", accept, "qa-1", `{"payment":"invoice"}`, 404, false)
	wantReplayed(t, c.call("admin-r1", "POST", accept, "qa-2", `{"payment":"invoice"}`, 201, false), false)
	wantReplayed(t, c.call("admin-r1", "POST", accept, "qa-2", `{"payment":"invoice"}`, 201, false), true)
	c.call("admin-r1", "POST", accept, "qa-3", "", 409, false)
	c.call("admin-r1", "POST", accept, "qa-4", `{"payment":"cash"}`, 400, refusedByDoc)
	c.call("admin-r1", "POST", "/v1/quotes/garbage/accept", "qa-5", "", 422, false)
	c.call("vendor", "POST", accept, "qa-6", "", 403, refusedByDoc)
	c.call(none, "POST", accept, "qa-7", "", 401, refusedByDoc)
	c.call("admin", "POST", orders, "o-open-quote", `{"payment":"card","quote_token":"`+jsonField(t, open, "token")+`"}`, 201, false)
	c.call("admin", "POST", orders, "o-open-again", `{"payment":"card","currency":"cloud","packs":2,"quote_token":"`+jsonField(t, open, "token")+`"}`, 409, false)
	c.call("admin", "POST", orders, "o-no-qty", `{"payment":"card","currency":"cloud"}`, 400, refusedByDoc)

	// Lot withdrawal, removal and termination, as the vendor admin.
	c.call("vendor", "POST", "/v1/lots/"+bobLot+"/withdraw", "w-1", `{"notice_at":"2026-04-01T00:00:00Z"}`, 200, false)
	c.call("vendor", "POST", "/v1/lots/"+bobLot+"/withdraw", "w-2", `{}`, 409, false)
	c.call("vendor", "POST", "/v1/lots/c1-pool/withdraw", "w-3", "", 400, false)
	c.call("vendor", "POST", "/v1/lots/nope/withdraw", "w-4", "", 404, false)
	// The withdrawal recorded its notice in the outbox.
	if rec := c.call("admin", "GET", "/v1/contracts/c1/notifications", "", "", 200, false); !strings.Contains(rec.Body.String(), `"withdrawal_notice"`) {
		t.Errorf("the outbox after a withdrawal has no withdrawal notice: %s", rec.Body)
	}
	c.call("vendor", "GET", "/v1/contracts/c1/notifications?state=pending&kind=withdrawal_notice", "", "", 200, false)
	c.call("admin", "GET", "/v1/contracts/c1/notifications?state=lost", "", "", 400, refusedByDoc)
	c.call("admin", "GET", "/v1/contracts/c1/notifications?page=2", "", "", 400, false)
	c.call("admin2", "GET", "/v1/contracts/c1/notifications", "", "", 404, false)
	c.call("ann", "GET", "/v1/contracts/c1/notifications", "", "", 403, refusedByDoc)
	// The notice is addressed to c1's notify_email, or queued to the one set now.
	c.call("admin", "PUT", "/v1/contracts/c1/notify-email", "ne-1", `{"notify_email":"buyers@c1.example"}`, 200, false)
	c.call("vendor", "PUT", "/v1/contracts/c1/notify-email", "ne-2", `{"notify_email":""}`, 200, false)
	c.call("admin", "PUT", "/v1/contracts/c1/notify-email", "ne-3", `{}`, 400, refusedByDoc)
	c.call("admin", "PUT", "/v1/contracts/c1/notify-email", "ne-4", `{"notify_email":"Buyers <b@c1.example>"}`, 400, false)
	c.call("admin", "PUT", "/v1/contracts/c1/notify-email", "ne-5", `{"notify_email":"b@c1.example","cc":"x@y.example"}`, 400, refusedByDoc)
	c.call("admin2", "PUT", "/v1/contracts/c1/notify-email", "ne-6", `{"notify_email":"b@c1.example"}`, 404, false)
	c.call("ann", "PUT", "/v1/contracts/c1/notify-email", "ne-7", `{"notify_email":"b@c1.example"}`, 403, refusedByDoc)
	c.call("admin", "DELETE", "/v1/contracts/c1/users/bob", "d-bob", "", 200, false)
	c.call("admin", "DELETE", "/v1/contracts/c1/users/nobody", "d-nobody", "", 404, false)
	c.call("vendor", "POST", "/v1/contracts/c1/terminate", "t-1", `{"at":"2026-06-01T00:00:00Z"}`, 200, false)
	c.call("vendor", "POST", "/v1/contracts/c1/terminate", "t-2", `{"at":"2026-07-01T00:00:00Z"}`, 409, false)
	c.call("vendor", "POST", "/v1/contracts/c2/terminate", "t-3", "", 200, false)
	c.call("vendor", "POST", "/v1/contracts/c3/terminate", "t-4", `{"at":"2020-01-01T00:00:00Z"}`, 400, false)
	c.call("admin2", "POST", "/v1/contracts/c2/orders", "o-ended", cardOrder, 409, false)

	// A currency sunset, as the vendor admin: forma stops selling now.
	sunsetURL := "/v1/currencies/forma/sunset"
	c.call("ann", "GET", sunsetURL, "", "", 404, false)
	formaSunset := `{"sales_end":"2026-03-10T09:00:00Z","final_expiry":"2026-12-01T00:00:00Z","successor":"flex"}`
	wantReplayed(t, c.call("vendor", "PUT", sunsetURL, "ss-1", formaSunset, 200, false), false)
	wantReplayed(t, c.call("vendor", "PUT", sunsetURL, "ss-1", formaSunset, 200, false), true)
	c.call("ann", "GET", sunsetURL, "", "", 200, false)
	c.call("reseller", "GET", sunsetURL, "", "", 200, false)
	c.call("vendor", "GET", "/v1/currencies/cloud/sunset", "", "", 404, false)
	c.call("admin", "PUT", sunsetURL, "ss-2", formaSunset, 403, refusedByDoc)
	c.call("vendor", "PUT", sunsetURL, "ss-3", `{"sales_end":"2026-05-01T00:00:00Z","final_expiry":"2026-04-01T00:00:00Z"}`, 400, false)
	c.call("vendor", "PUT", "/v1/currencies/usd/sunset", "ss-4", formaSunset, 400, false)
	c.call("vendor", "PUT", sunsetURL, "ss-5", `{"sales_end":"2026-05-01T00:00:00Z","final_expiry":"2026-06-01T00:00:00Z","successor":"forma"}`, 400, false)
	c.call("vendor", "PUT", sunsetURL, "ss-6", `{"sales_end":"2026-05-01T00:00:00Z","final_expiry":"2026-06-01T00:00:00Z","successor":"usd"}`, 400, refusedByDoc)
	c.call("vendor", "PUT", sunsetURL, "", formaSunset, 400, refusedByDoc)
	c.call("vendor", "POST", "/v1/contracts/c4/orders", "o-forma", `{"currency":"forma","packs":1,"payment":"card"}`, 422, false)

	var missed []string
	for _, r := range e.h.(*api.Handler).Routes() {
		if !c.ok[r.Pattern] {
			missed = append(missed, r.Pattern)
		}
	}
	sort.Strings(missed)
	for _, p := range missed {
		t.Errorf("%s is served but no 2xx answer of it was validated: add it to this sequence", p)
	}
}

// closeObjects sets additionalProperties: false on every object schema of
// the document that lists properties and says nothing of others.
func closeObjects(doc *openapi3.T) {
	seen := map[*openapi3.Schema]bool{}
	var walk func(ref *openapi3.SchemaRef)
	walk = func(ref *openapi3.SchemaRef) {
		if ref == nil || ref.Value == nil || seen[ref.Value] {
			return
		}
		s := ref.Value
		seen[s] = true
		if len(s.Properties) > 0 && s.AdditionalProperties.Has == nil && s.AdditionalProperties.Schema == nil {
			no := false
			s.AdditionalProperties.Has = &no
		}
		for _, p := range s.Properties {
			walk(p)
		}
		for _, list := range []openapi3.SchemaRefs{s.AllOf, s.OneOf, s.AnyOf} {
			for _, x := range list {
				walk(x)
			}
		}
		walk(s.Items)
		walk(s.Not)
		walk(s.AdditionalProperties.Schema)
	}
	for _, s := range doc.Components.Schemas {
		walk(s)
	}
	for _, item := range doc.Paths.Map() {
		for _, op := range item.Operations() {
			if op.RequestBody != nil && op.RequestBody.Value != nil {
				for _, mt := range op.RequestBody.Value.Content {
					walk(mt.Schema)
				}
			}
			for _, resp := range op.Responses.Map() {
				if resp.Value != nil {
					for _, mt := range resp.Value.Content {
						walk(mt.Schema)
					}
				}
			}
		}
	}
}

// A response with a field the document does not describe must fail: the
// closed schemas are what make the sequence above able to catch drift.
func TestOpenAPIClosedSchemasRefuseUndescribedFields(t *testing.T) {
	doc := openAPIDoc(t)
	closeObjects(doc)
	budget := doc.Components.Schemas["Budget"].Value
	good := map[string]any{"contract": "c1", "project": "p1", "currency": "cloud", "monthly_cap": "500"}
	if err := budget.VisitJSON(good); err != nil {
		t.Fatalf("a real budget fails: %v", err)
	}
	for name, bad := range map[string]map[string]any{
		"an undescribed field": {"contract": "c1", "project": "p1", "currency": "cloud", "monthly_cap": "500", "cap_cents": "50000"},
		"credits as a number":  {"contract": "c1", "project": "p1", "currency": "cloud", "monthly_cap": 500.0},
		"an unknown currency":  {"contract": "c1", "project": "p1", "currency": "usd", "monthly_cap": "500"},
		"a missing field":      {"contract": "c1", "project": "p1", "currency": "cloud"},
	} {
		if err := budget.VisitJSON(bad); err == nil {
			t.Errorf("a budget with %s validates", name)
		}
	}
}
