package boot_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"

	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"

	"cloudcredits/core"
	"cloudcredits/functions/api"
	"cloudcredits/functions/auth"
	"cloudcredits/functions/lambda/boot"
	"cloudcredits/functions/lambda/internal/lambdatest"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/smithy-go/middleware"
	"github.com/shopspring/decimal"
)

// fixture is a recorded event, the function that owns its route, and what
// that function answers to it.
type fixture struct {
	name   string
	owner  boot.Function
	status int
	want   map[string]string // dotted JSON path → value; "*" means any non-empty value
}

var fixtures = []fixture{
	{"apigw-v2-healthz.json", boot.Reads, http.StatusOK, map[string]string{"status": "ok"}},
	{"apigw-v2-estimates.json", boot.Reads, http.StatusOK, map[string]string{
		"service": "infraworks-profile-optimization", "credits": "300", "currency": "cloud"}},
	{"apigw-v2-estimates-base64.json", boot.Reads, http.StatusOK, map[string]string{"credits": "300", "currency": "cloud"}},
	{"apigw-v2-prices.json", boot.Reads, http.StatusOK, map[string]string{
		"credits": "5000", "channel": "list", "subtotal": "6250.00", "price_book_version": "cloud-2024-01"}},
	{"apigw-v2-balance.json", boot.Reads, http.StatusOK, map[string]string{
		"balances.cloud.shared": fmt.Sprint(lambdatest.SharedCredits)}},
	{"apigw-v2-consumption.json", boot.Spending, http.StatusCreated, map[string]string{
		"consumption_id": "*", "credits": "300", "currency": "cloud"}},
	{"apigw-v2-hold.json", boot.Spending, http.StatusCreated, map[string]string{
		"hold_id": "*", "credits": "300", "currency": "cloud", "expires_at": "*"}},
	{"apigw-v2-create-contract.json", boot.Admin, http.StatusCreated, map[string]string{
		"id": "globex", "customer": "Globex Corporation"}},
}

// field follows a dotted path through a decoded JSON object.
func field(v any, path string) (string, bool) {
	for _, k := range strings.Split(path, ".") {
		m, ok := v.(map[string]any)
		if !ok {
			return "", false
		}
		if v, ok = m[k]; !ok {
			return "", false
		}
	}
	switch v := v.(type) {
	case string:
		return v, true
	case nil:
		return "", false
	default:
		return fmt.Sprint(v), true
	}
}

func handlers(t *testing.T, env *lambdatest.Env) map[boot.Function]http.Handler {
	hs := map[boot.Function]http.Handler{}
	for _, f := range boot.Functions() {
		hs[f] = env.Handler(t, f)
	}
	return hs
}

// Every fixture, sent to the function that owns its route, through the API
// Gateway adapter, answers what API.md says.
func TestFixturesThroughTheAdapter(t *testing.T) {
	t.Parallel()
	env := lambdatest.New(t)
	hs := handlers(t, env)
	for _, fx := range fixtures {
		t.Run(strings.TrimSuffix(fx.name, ".json"), func(t *testing.T) {
			ev := lambdatest.HTTPEvent(t, fx.name)
			lambdatest.Authorize(t, &ev, env.Signer)
			resp := lambdatest.Serve(t, hs[fx.owner], ev)
			if resp.StatusCode != fx.status {
				t.Fatalf("%s answers %d, want %d: %s", fx.owner, resp.StatusCode, fx.status, resp.Body)
			}
			if got := resp.Headers["Content-Type"]; got != "application/json" {
				t.Errorf("Content-Type = %q, want application/json", got)
			}
			if resp.Headers["X-Request-Id"] == "" {
				t.Error("no X-Request-Id header")
			}
			var body map[string]any
			lambdatest.Decode(t, resp, &body)
			for path, want := range fx.want {
				got, ok := field(body, path)
				switch {
				case !ok || got == "":
					t.Errorf("%s missing from %s", path, resp.Body)
				case want != "*" && got != want:
					t.Errorf("%s = %q, want %q", path, got, want)
				}
			}
		})
	}
}

// A function answers 404 to every route it does not own, whatever the
// caller's token allows, and does nothing.
func TestFunctionsRefuseRoutesOfOtherGroups(t *testing.T) {
	t.Parallel()
	env := lambdatest.New(t)
	hs := handlers(t, env)
	for _, f := range boot.Functions() {
		for _, fx := range fixtures {
			if fx.owner == f {
				continue
			}
			t.Run(string(f)+"/"+strings.TrimSuffix(fx.name, ".json"), func(t *testing.T) {
				ev := lambdatest.HTTPEvent(t, fx.name)
				lambdatest.Authorize(t, &ev, env.Signer)
				resp := lambdatest.Serve(t, hs[f], ev)
				if resp.StatusCode != http.StatusNotFound {
					t.Fatalf("%s answers %d to %s %s, want 404: %s", f, resp.StatusCode,
						ev.RequestContext.HTTP.Method, ev.RawPath, resp.Body)
				}
				// The API answers its JSON error under /v1/ only; elsewhere
				// (GET /healthz) ServeMux's plain 404 answers.
				if !strings.HasPrefix(ev.RawPath, "/v1/") {
					return
				}
				var body struct{ Error struct{ Code core.Code } }
				lambdatest.Decode(t, resp, &body)
				if body.Error.Code != core.CodeNotFound {
					t.Errorf("error code = %q, want %q", body.Error.Code, core.CodeNotFound)
				}
			})
		}
	}
	// The vendor's create-contract request the spending function refused
	// (and every function but admin) created nothing.
	if _, err := env.Credits.Contract(context.Background(), "globex"); core.ErrorCode(err) != core.CodeNotFound {
		t.Errorf("contract globex after refused requests: err = %v, want not found", err)
	}
}

// Each function's route table is exactly its groups' share of the API.
func TestFunctionRoutesAreTheirGroups(t *testing.T) {
	t.Parallel()
	env := lambdatest.New(t)
	all, err := boot.Handler(env.Deps(), api.Groups()...)
	if err != nil {
		t.Fatal(err)
	}
	served := map[string]boot.Function{}
	for _, f := range boot.Functions() {
		h, err := boot.Handler(env.Deps(), f.Groups()...)
		if err != nil {
			t.Fatal(err)
		}
		var got, want []string
		for _, r := range h.Routes() {
			got = append(got, r.Pattern)
			if other, dup := served[r.Pattern]; dup {
				t.Errorf("%s is served by both %s and %s", r.Pattern, other, f)
			}
			served[r.Pattern] = f
		}
		for _, r := range all.Routes() {
			if slices.Contains(f.Groups(), r.Group) {
				want = append(want, r.Pattern)
			}
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s serves %q, want %q", f, got, want)
		}
	}
	if len(served) != len(all.Routes()) {
		t.Errorf("the functions serve %d routes between them; the API has %d", len(served), len(all.Routes()))
	}
}

// A consumption through the spending function debits the ledger once: the
// balance the reads function reports drops by the estimate, and a retry
// with the same Idempotency-Key replays the answer without debiting again.
func TestConsumptionDebitsOnce(t *testing.T) {
	t.Parallel()
	env := lambdatest.New(t)
	spending, reads := env.Handler(t, boot.Spending), env.Handler(t, boot.Reads)
	// call serves a fixture event, signed, to h and wants status.
	call := func(h http.Handler, fixture string, status int) events.APIGatewayV2HTTPResponse {
		t.Helper()
		ev := lambdatest.HTTPEvent(t, fixture)
		lambdatest.Authorize(t, &ev, env.Signer)
		resp := lambdatest.Serve(t, h, ev)
		if resp.StatusCode != status {
			t.Fatalf("%s: %d %s", fixture, resp.StatusCode, resp.Body)
		}
		return resp
	}
	balance := func() decimal.Decimal {
		t.Helper()
		resp := call(reads, "apigw-v2-balance.json", http.StatusOK)
		var b struct {
			Balances map[string]struct{ Total decimal.Decimal }
		}
		lambdatest.Decode(t, resp, &b)
		return b.Balances["cloud"].Total
	}
	consume := func() (id string, replayed bool) {
		t.Helper()
		resp := call(spending, "apigw-v2-consumption.json", http.StatusCreated)
		var c struct {
			ConsumptionID string `json:"consumption_id"`
			Credits       decimal.Decimal
		}
		lambdatest.Decode(t, resp, &c)
		if !c.Credits.Equal(decimal.NewFromInt(300)) {
			t.Errorf("consumption credits = %s, want 300 (12 km of InfraWorks)", c.Credits)
		}
		return c.ConsumptionID, resp.Headers["Idempotent-Replayed"] == "true"
	}

	before := balance()
	if before.IsZero() {
		t.Fatal("seeded contract has no cloud credits")
	}
	id, replayed := consume()
	if id == "" || replayed {
		t.Fatalf("first consumption: id %q, replayed %v", id, replayed)
	}
	after := balance()
	if want := before.Sub(decimal.NewFromInt(300)); !after.Equal(want) {
		t.Errorf("balance after consuming 300 = %s, want %s (was %s)", after, want, before)
	}
	again, replayed := consume()
	if again != id || !replayed {
		t.Errorf("retry: id %q replayed %v, want %q replayed", again, replayed, id)
	}
	if got := balance(); !got.Equal(after) {
		t.Errorf("balance after the retry = %s, want %s: the retry debited again", got, after)
	}
}

// The function verifies the bearer token itself, even behind API Gateway's
// JWT authorizer: a request whose token it cannot verify is refused and
// moves nothing.
func TestTokenIsVerifiedAgain(t *testing.T) {
	t.Parallel()
	env := lambdatest.New(t)
	spending := env.Handler(t, boot.Spending)
	other, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name   string
		signer *auth.Keys // nil: the placeholder stays
	}{
		{"placeholder left in", nil},
		{"signed by a key the function does not hold", auth.NewKeys(lambdatest.Issuer, lambdatest.Audience, other)},
		{"another audience", auth.NewKeys(lambdatest.Issuer, "another-api", lambdatest.Key(t))},
		{"another issuer", auth.NewKeys("https://elsewhere.example", lambdatest.Audience, lambdatest.Key(t))},
	}
	before := env.CloudBalance(t)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ev := lambdatest.HTTPEvent(t, "apigw-v2-consumption.json")
			if tc.signer != nil {
				lambdatest.Authorize(t, &ev, tc.signer)
			}
			resp := lambdatest.Serve(t, spending, ev)
			if resp.StatusCode != http.StatusUnauthorized {
				t.Fatalf("status %d, want 401: %s", resp.StatusCode, resp.Body)
			}
			if strings.Contains(resp.Body, strings.TrimPrefix(ev.Headers["authorization"], "Bearer ")) {
				t.Error("the answer echoes the token")
			}
		})
	}
	if got := env.CloudBalance(t); !got.Equal(before) {
		t.Errorf("balance moved from %s to %s on refused requests", before, got)
	}
}

func TestHandlerNeedsEveryDependency(t *testing.T) {
	t.Parallel()
	_, err := boot.Handler(boot.Deps{})
	if err == nil {
		t.Fatal("boot.Handler(Deps{}) succeeded")
	}
	for _, want := range []string{"issuer", "audience", "public key", "route groups", "DynamoDB client", "table"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %s", err, want)
		}
	}
	env := lambdatest.New(t)
	deps := env.Deps()
	if _, err := boot.Handler(deps, "billing"); err == nil || !strings.Contains(err.Error(), `unknown route group "billing"`) {
		t.Errorf("unknown group: err = %v", err)
	}
	weak, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	deps.PublicKeys = []*rsa.PublicKey{&weak.PublicKey}
	if _, err := boot.Handler(deps, api.GroupReads); err == nil {
		t.Error("a 1024-bit key was accepted")
	}
}

// calls records the IAM actions a DynamoDB client's calls need: the
// operation, a transaction's items by kind, a Query on an index as
// "Query@<index>".
type calls struct {
	mu   sync.Mutex
	seen map[string]bool
}

func (c *calls) add(a string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.seen[a] = true
}

// recording returns a client of db's table that records its calls in c.
func recording(db *dynamodb.Client, c *calls) *dynamodb.Client {
	mw := middleware.InitializeMiddlewareFunc("recordActions", func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
		switch p := in.Parameters.(type) {
		case *dynamodb.TransactWriteItemsInput:
			for _, it := range p.TransactItems {
				switch {
				case it.Put != nil:
					c.add("dynamodb:PutItem")
				case it.Update != nil:
					c.add("dynamodb:UpdateItem")
				case it.ConditionCheck != nil:
					c.add("dynamodb:ConditionCheckItem")
				case it.Delete != nil:
					c.add("dynamodb:DeleteItem")
				}
			}
		case *dynamodb.QueryInput:
			if p.IndexName != nil {
				c.add("dynamodb:Query@" + *p.IndexName)
			} else {
				c.add("dynamodb:Query")
			}
		default:
			c.add("dynamodb:" + awsmiddleware.GetOperationName(ctx))
		}
		return next.HandleInitialize(ctx, in)
	})
	return dynamodb.New(db.Options(), func(o *dynamodb.Options) {
		o.APIOptions = append(o.APIOptions, func(s *middleware.Stack) error { return s.Initialize.Add(mw, middleware.After) })
	})
}

// Each function's calls for its fixtures, made against DynamoDB Local,
// are among the actions it declares (boot.Function.TableActions and
// IndexQueries), which the deploy template's roles allow and no more.
func TestFunctionsCallOnlyWhatTheyDeclare(t *testing.T) {
	t.Parallel()
	env := lambdatest.New(t)
	for _, f := range boot.Functions() {
		c := &calls{seen: map[string]bool{}}
		deps := env.Deps()
		deps.DynamoDB = recording(env.DB, c)
		h, err := boot.Handler(deps, f.Groups()...)
		if err != nil {
			t.Fatal(err)
		}
		ran := 0
		for _, fx := range fixtures {
			if fx.owner != f {
				continue
			}
			ev := lambdatest.HTTPEvent(t, fx.name)
			lambdatest.Authorize(t, &ev, env.Signer)
			if resp := lambdatest.Serve(t, h, ev); resp.StatusCode != fx.status {
				t.Fatalf("%s: %s answers %d: %s", f, fx.name, resp.StatusCode, resp.Body)
			}
			ran++
		}
		declared := map[string]bool{}
		for _, a := range f.TableActions() {
			declared[a] = true
		}
		for _, index := range f.IndexQueries() {
			declared["dynamodb:Query@"+index] = true
		}
		for a := range c.seen {
			if !declared[a] {
				t.Errorf("%s calls %s for its fixtures, which it does not declare (and its role does not allow)", f, a)
			}
		}
		if ran > 0 && len(c.seen) == 0 {
			t.Errorf("%s: %d fixtures recorded no call", f, ran)
		}
	}
}
