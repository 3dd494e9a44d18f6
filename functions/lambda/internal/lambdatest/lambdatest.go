// Package lambdatest is what the Lambda functions' tests share: a fresh
// table on DynamoDB Local seeded with one contract, a throwaway token key,
// the recorded events of testdata/events, and a way to drive a handler
// through the real API Gateway adapter.
//
// It is for tests only: it must never be imported by a function's main.
package lambdatest

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"cloudcredits/core"
	"cloudcredits/core/ledger"
	"cloudcredits/functions/auth"
	"cloudcredits/functions/credits"
	"cloudcredits/functions/credits/dynamo"
	"cloudcredits/functions/internal/ddblocal"
	"cloudcredits/functions/lambda/boot"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/awslabs/aws-lambda-go-api-proxy/httpadapter"
	"github.com/shopspring/decimal"
)

// What the fixtures assume: their claims name this issuer and audience, and
// the contract and entity seeded by New.
const (
	Issuer   = "https://auth.cloudcredits.example"
	Audience = "cloudcredits-api"
	Contract = "acme-eng"
	Entity   = "acme-uk"
	// SharedLot holds SharedCredits cloud credits.
	SharedLot     = "acme-cloud-1"
	SharedCredits = 5000
	// Placeholder stands for the bearer token in the fixtures' headers.
	Placeholder = "{{TOKEN}}"
	tokenTTL    = 10 * time.Minute
)

var (
	keyOnce sync.Once
	key     *rsa.PrivateKey
	keyErr  error
)

// Key returns this test process's token signing key (the issuer's side; a
// function gets only its public half).
func Key(tb testing.TB) *rsa.PrivateKey {
	tb.Helper()
	keyOnce.Do(func() { key, keyErr = rsa.GenerateKey(rand.Reader, 2048) })
	if keyErr != nil {
		tb.Fatalf("generate test key: %v", keyErr)
	}
	return key
}

// Env is one test's world: a table of its own holding the seeded contract.
type Env struct {
	DB      *dynamodb.Client
	Table   string
	Signer  *auth.Keys // the test issuer: mints the tokens the functions verify
	Public  *rsa.PublicKey
	Credits *credits.Service

	stream *dynamo.StreamReader
}

// RollUp brings the table's usage roll-ups up to date from its stream, as
// the roll-up function does in AWS.
func (e *Env) RollUp(t *testing.T) {
	t.Helper()
	if err := e.stream.CatchUp(context.Background()); err != nil {
		t.Fatalf("roll up: %v", err)
	}
}

// New creates a table on DynamoDB Local and seeds, through credits.Service,
// the contract Contract (started this month, for a year), the users ann
// (employee) and bob (contractor) of Entity, and the shared lot SharedLot.
func New(t *testing.T) *Env {
	t.Helper()
	ctx := context.Background()
	db := ddblocal.Client(ddblocal.Endpoint(t))
	table := ddblocal.UniqueName(t.Name())
	if err := dynamo.CreateTable(ctx, db, table); err != nil {
		t.Fatalf("create table: %v", err)
	}
	t.Cleanup(func() {
		_, _ = db.DeleteTable(context.Background(), &dynamodb.DeleteTableInput{TableName: aws.String(table)})
	})
	k := Key(t)
	st := dynamo.New(db, table)
	stream, err := dynamo.NewStreamReader(ctx, st, ddblocal.Streams(ddblocal.Endpoint(t)))
	if err != nil {
		t.Fatal(err)
	}
	e := &Env{DB: db, Table: table, Signer: auth.NewKeys(Issuer, Audience, k), Public: &k.PublicKey,
		Credits: credits.New(st, nil), stream: stream}
	e.seed(t)
	return e
}

func (e *Env) seed(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	now := time.Now().UTC()
	start := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC)
	idem := func(step string) ledger.Idem { return ledger.Idem{Key: "seed-" + step, Scope: "seed"} }
	c := ledger.Contract{
		ID: Contract, Customer: "Acme Engineering Ltd", Entity: Entity, ContractorCoverage: true,
		Start: start, End: start.AddDate(1, 0, 0), Channel: "list",
		MonthlyBaseline: decimal.NewFromInt(2000), PlanActive: true,
	}
	if _, err := e.Credits.CreateContract(ctx, c, idem("contract")); err != nil {
		t.Fatalf("seed contract: %v", err)
	}
	for _, u := range []ledger.UserRequest{
		{User: "ann", Kind: ledger.Employee, Entity: Entity, CanSpend: true},
		{User: "bob", Kind: ledger.Contractor, Entity: Entity, CanSpend: true},
	} {
		if _, err := e.Credits.AddUser(ctx, Contract, u, idem("user-"+u.User)); err != nil {
			t.Fatalf("seed user %s: %v", u.User, err)
		}
	}
	g := ledger.GrantRequest{Lot: SharedLot, Currency: core.Cloud, Credits: decimal.NewFromInt(SharedCredits), Source: ledger.SourcePurchase}
	if _, err := e.Credits.GrantShared(ctx, Contract, g, idem("grant")); err != nil {
		t.Fatalf("seed grant: %v", err)
	}
}

// Deps returns what a function is built from: this table, and the public
// half of the test key.
func (e *Env) Deps() boot.Deps {
	return boot.Deps{
		DynamoDB: e.DB, Table: e.Table,
		Issuer: Issuer, Audience: Audience, PublicKeys: []*rsa.PublicKey{e.Public},
	}
}

// Handler builds function f's handler on this table.
func (e *Env) Handler(t *testing.T, f boot.Function) http.Handler {
	t.Helper()
	h, err := boot.Handler(e.Deps(), f.Groups()...)
	if err != nil {
		t.Fatalf("boot.Handler(%s): %v", f, err)
	}
	return h
}

// CloudBalance is the contract's spendable cloud credits now, read through
// the service.
func (e *Env) CloudBalance(t *testing.T) decimal.Decimal {
	t.Helper()
	b, err := e.Credits.Balance(context.Background(), Contract, "")
	if err != nil {
		t.Fatalf("balance: %v", err)
	}
	return b.Balances[core.Cloud].Total
}

// Root returns the repository root: the nearest folder above the working
// directory holding go.mod.
func Root(tb testing.TB) string {
	tb.Helper()
	dir, err := os.Getwd()
	if err != nil {
		tb.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			tb.Fatal("no go.mod above the working directory")
		}
		dir = parent
	}
}

// ReadEvent decodes the fixture testdata/events/<name> into v, as the
// Lambda runtime decodes a payload into a handler's argument.
func ReadEvent(tb testing.TB, name string, v any) {
	tb.Helper()
	readEvent(tb, name, v)
}

func readEvent(tb testing.TB, name string, v any) {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join(Root(tb), "testdata", "events", name))
	if err != nil {
		tb.Fatalf("fixture: %v", err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		tb.Fatalf("fixture %s: %v", name, err)
	}
}

// HTTPEvent loads an API Gateway HTTP API (payload 2.0) request fixture as
// recorded: a fixture that carries JWT authorizer claims still has the
// placeholder for its token (see Authorize).
func HTTPEvent(tb testing.TB, name string) events.APIGatewayV2HTTPRequest {
	tb.Helper()
	var ev events.APIGatewayV2HTTPRequest
	readEvent(tb, name, &ev)
	if ev.Version != "2.0" {
		tb.Fatalf("fixture %s: version %q, want 2.0", name, ev.Version)
	}
	return ev
}

// ScheduledEvent loads an EventBridge event fixture.
func ScheduledEvent(tb testing.TB, name string) events.EventBridgeEvent {
	tb.Helper()
	var ev events.EventBridgeEvent
	readEvent(tb, name, &ev)
	return ev
}

// Principal is the caller the JWT authorizer saw: the claims of a fixture.
func Principal(ev events.APIGatewayV2HTTPRequest) (auth.Principal, bool) {
	if ev.RequestContext.Authorizer == nil || ev.RequestContext.Authorizer.JWT == nil {
		return auth.Principal{}, false
	}
	c := ev.RequestContext.Authorizer.JWT.Claims
	return auth.Principal{Subject: c["sub"], Role: auth.Role(c["role"]), Contract: c["contract"],
		Entity: c["entity"], Reseller: c["reseller"]}, true
}

// Authorize puts in place of the fixture's token placeholder a token that
// signer mints for the principal of the fixture's authorizer claims. A
// fixture without claims is left alone.
func Authorize(tb testing.TB, ev *events.APIGatewayV2HTTPRequest, signer *auth.Keys) {
	tb.Helper()
	p, ok := Principal(*ev)
	if !ok {
		return
	}
	h := ev.Headers["authorization"]
	if !strings.Contains(h, Placeholder) {
		tb.Fatalf("fixture has authorizer claims but its authorization header %q has no %s", h, Placeholder)
	}
	tok, err := signer.Mint(p, time.Now(), tokenTTL)
	if err != nil {
		tb.Fatalf("mint a token for %+v: %v", p, err)
	}
	ev.Headers["authorization"] = strings.Replace(h, Placeholder, tok, 1)
}

// Serve drives h with ev through the API Gateway adapter the functions run
// behind.
func Serve(tb testing.TB, h http.Handler, ev events.APIGatewayV2HTTPRequest) events.APIGatewayV2HTTPResponse {
	tb.Helper()
	resp, err := httpadapter.NewV2(h).ProxyWithContext(context.Background(), ev)
	if err != nil {
		tb.Fatalf("adapter: %v", err)
	}
	return resp
}

// Decode unmarshals a response body (never base64 for JSON answers).
func Decode(tb testing.TB, resp events.APIGatewayV2HTTPResponse, v any) {
	tb.Helper()
	if resp.IsBase64Encoded {
		tb.Fatalf("JSON answer came base64-encoded")
	}
	if err := json.Unmarshal([]byte(resp.Body), v); err != nil {
		tb.Fatalf("body %q: %v", resp.Body, err)
	}
}
