package infratest

import (
	"crypto/rand"
	"crypto/rsa"
	"maps"
	"regexp"
	"slices"
	"strings"
	"testing"

	"cloudcredits/functions/api"
	"cloudcredits/functions/lambda/boot"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/awslabs/goformation/v7/cloudformation/serverless"
)

// unauthenticated are the routes outside api.GroupPublic that API Gateway
// must pass without a token: the Stripe webhook proves itself by its
// signature (Stripe sends no bearer token), a quote link is its own proof
// (anyone holding it may view it), and the quote keys are public. The
// handler checks tokens on everything else again.
var unauthenticated = []string{"POST /v1/webhooks/stripe", "GET /v1/quotes/{token}", "GET /v1/quotes/keys"}

// served returns the routes the named HTTP function serves, from the very
// handler its main builds (boot.Handler with the function's groups), on a
// DynamoDB client that is never called.
func served(t *testing.T, f boot.Function, key *rsa.PublicKey) []api.Route {
	t.Helper()
	h, err := boot.Handler(boot.Deps{
		DynamoDB:   dynamodb.New(dynamodb.Options{Region: "us-east-1"}),
		Table:      "unused",
		Issuer:     "https://issuer.example",
		Audience:   "cloudcredits-api",
		PublicKeys: []*rsa.PublicKey{key},
	}, f.Groups()...)
	if err != nil {
		t.Fatalf("boot.Handler(%s): %v", f, err)
	}
	return h.Routes()
}

// gatewayRoute turns a net/http pattern ("METHOD /a/{b}/{rest...}") into
// API Gateway's method and path ("/a/{b}/{rest+}").
var wildcard = regexp.MustCompile(`\{([A-Za-z0-9_]+)\.\.\.\}`)

func gatewayRoute(t *testing.T, pattern string) (method, path string) {
	t.Helper()
	method, path, ok := strings.Cut(pattern, " ")
	if !ok || !strings.HasPrefix(path, "/") {
		t.Fatalf("route %q: want METHOD /path", pattern)
	}
	path = wildcard.ReplaceAllString(path, "{$1+}")
	if strings.Contains(path, "{$}") {
		t.Fatalf("route %q: API Gateway has no exact-match marker", pattern)
	}
	return method, path
}

// TestRoutes: every route each function serves is an HttpApi event of that
// function (and of no other), on the template's API, behind the JWT
// authorizer unless the route is public or a webhook; no event names a
// route the function does not serve.
func TestRoutes(t *testing.T) {
	tpl := load(t)
	fns := functions(t, tpl)
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	checkAuthorizer(t, tpl.GetAllServerlessHttpApiResources())

	type route struct{ method, path string }
	owner := map[route]string{}
	for _, f := range boot.Functions() {
		name := string(f)
		fn := fns[name]
		if fn == nil {
			t.Errorf("no function for %s", name)
			continue
		}
		events := map[route]string{} // route → its event's authorizer
		for evName, ev := range fn.Events {
			if ev.Type != "HttpApi" {
				t.Errorf("%s: event %s of type %s; the HTTP functions have HttpApi events only", name, evName, ev.Type)
				continue
			}
			if ev.Properties == nil || ev.Properties.HttpApiEvent == nil {
				t.Errorf("%s: event %s: unreadable HttpApi properties", name, evName)
				continue
			}
			e := ev.Properties.HttpApiEvent
			if str(e.ApiId) != "${"+apiID+"}" {
				t.Errorf("%s: event %s: ApiId %q, want %s", name, evName, str(e.ApiId), apiID)
			}
			if v := str(e.PayloadFormatVersion); v != "" && v != "2.0" {
				t.Errorf("%s: event %s: payload format %s; httpadapter.NewV2 reads 2.0", name, evName, v)
			}
			r := route{str(e.Method), str(e.Path)}
			if _, dup := events[r]; dup {
				t.Errorf("%s: two events for %s %s", name, r.method, r.path)
			}
			authorizer := authorizerID // the API's DefaultAuthorizer
			if e.Auth != nil && e.Auth.Authorizer != nil {
				authorizer = *e.Auth.Authorizer
			}
			events[r] = authorizer
			if other, taken := owner[r]; taken {
				t.Errorf("%s %s is an event of both %s and %s", r.method, r.path, other, name)
			}
			owner[r] = name
		}
		want := map[route]string{}
		for _, rt := range served(t, f, &key.PublicKey) {
			m, p := gatewayRoute(t, rt.Pattern)
			auth := authorizerID
			if rt.Group == api.GroupPublic || slices.Contains(unauthenticated, rt.Pattern) {
				auth = "NONE"
			}
			want[route{m, p}] = auth
		}
		if len(want) == 0 {
			t.Errorf("%s serves no routes: is the handler built with a ledger?", name)
		}
		for r, auth := range want {
			got, ok := events[r]
			switch {
			case !ok:
				t.Errorf("%s serves %s %s; the template has no event for it", name, r.method, r.path)
			case got != auth:
				t.Errorf("%s %s %s: authorizer %s, want %s", name, r.method, r.path, got, auth)
			}
		}
		for _, r := range slices.SortedFunc(maps.Keys(events), func(a, b route) int { return strings.Compare(a.path+a.method, b.path+b.method) }) {
			if _, ok := want[r]; !ok {
				t.Errorf("%s has an event for %s %s, which it does not serve (it would answer 404)", name, r.method, r.path)
			}
		}
	}
}

// checkAuthorizer: one HTTP API whose default authorizer is the JWT
// authorizer on the issuer and audience parameters.
func checkAuthorizer(t *testing.T, apis map[string]*serverless.HttpApi) {
	t.Helper()
	a, ok := apis[apiID]
	if !ok || len(apis) != 1 {
		t.Fatalf("want one AWS::Serverless::HttpApi, %s; have %d", apiID, len(apis))
	}
	if a.Auth == nil || str(a.Auth.DefaultAuthorizer) != authorizerID {
		t.Fatalf("%s: DefaultAuthorizer must be %s", apiID, authorizerID)
	}
	all, _ := a.Auth.Authorizers.(map[string]any)
	jwt, _ := all[authorizerID].(map[string]any)
	cfg, _ := jwt["JwtConfiguration"].(map[string]any)
	if cfg["issuer"] != "${TokenIssuer}" {
		t.Errorf("%s: issuer %v, want the TokenIssuer parameter", authorizerID, cfg["issuer"])
	}
	if got := strings1(cfg["audience"]); !slices.Equal(got, []string{"${TokenAudience}"}) {
		t.Errorf("%s: audience %v, want [the TokenAudience parameter]", authorizerID, got)
	}
	if jwt["IdentitySource"] != "$request.header.Authorization" {
		t.Errorf("%s: IdentitySource %v, want $request.header.Authorization", authorizerID, jwt["IdentitySource"])
	}
}
