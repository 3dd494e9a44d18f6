package boot

import (
	"context"
	"crypto/ed25519"
	"crypto/rsa"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strings"
	"time"

	"cloudcredits/functions/api"
	"cloudcredits/functions/auth"
	"cloudcredits/functions/credits"
	"cloudcredits/functions/credits/dynamo"
	"cloudcredits/functions/notify"
	"cloudcredits/functions/notify/ses"
	"cloudcredits/functions/payments"
	stripepay "cloudcredits/functions/payments/stripe"
	"cloudcredits/functions/quotekey"
	"cloudcredits/functions/sampledata"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/awslabs/aws-lambda-go-api-proxy/httpadapter"
)

// The environment variables the functions read (see the package doc).
const (
	EnvTable           = "TABLE_NAME"
	EnvIssuer          = "TOKEN_ISSUER"
	EnvAudience        = "TOKEN_AUDIENCE"
	EnvPublicKeysParam = "TOKEN_PUBLIC_KEYS_PARAM"
	EnvDynamoEndpoint  = "DYNAMODB_ENDPOINT"
	EnvRatecardDir     = "RATECARD_DIR"
	// EnvNotifyFrom is the sweeper's From address for notifications (SES);
	// it must belong to the identity its role may send as.
	EnvNotifyFrom = "NOTIFY_FROM"
	// The purchases function's checkout settings: the site's public URL
	// (where checkout returns the buyer) and the names of the SSM parameters
	// holding the Stripe secret key and webhook signing secret.
	EnvPublicURL          = "PUBLIC_URL"
	EnvStripeKeyParam     = "STRIPE_SECRET_KEY_PARAM"
	EnvStripeWebhookParam = "STRIPE_WEBHOOK_SECRET_PARAM"
	// The purchases function's quote links: the name of the SSM parameter
	// holding the Ed25519 signing key (quotekey.Parse's formats), and where
	// links point (the quote-link Worker; optional, PUBLIC_URL by default).
	EnvQuoteKeyParam = "QUOTE_SIGNING_KEY_PARAM"
	EnvQuoteLinkURL  = "QUOTE_LINK_URL"
	// EnvCORSOrigins lists, comma-separated, the origins whose pages may
	// call the authenticated routes from a browser (optional; the public
	// routes answer any origin).
	EnvCORSOrigins = "CORS_ORIGINS"
	// EnvLegacyKeysUntil, RFC 3339, is set only while a table upgraded
	// from idempotency records kept by the key itself may still hold live
	// ones (dynamo.WithLegacyKeysUntil).
	EnvLegacyKeysUntil = "LEGACY_KEYS_UNTIL"
)

// coldStartTimeout bounds reading the configuration at cold start (the SSM
// call), well inside Lambda's 10 s init phase.
const coldStartTimeout = 8 * time.Second

// Function names one HTTP Lambda function.
type Function string

// The HTTP functions, one per concern, so each IAM role allows only what its
// routes need. The sweeper is not among them: it serves no routes.
const (
	Purchases Function = "purchases" // orders, checkout, payment webhooks, quotes
	Admin     Function = "admin"     // contracts, users, budgets, lots
	Spending  Function = "spending"  // consume, hold, settle, release, refund
	Reads     Function = "reads"     // balances, reports, and the public routes
)

// Functions lists the HTTP functions.
func Functions() []Function { return []Function{Purchases, Admin, Spending, Reads} }

// Groups returns the route groups f serves.
func (f Function) Groups() []api.Group {
	switch f {
	case Purchases:
		return []api.Group{api.GroupPurchases}
	case Admin:
		return []api.Group{api.GroupAdmin}
	case Spending:
		return []api.Group{api.GroupSpending}
	case Reads:
		return []api.Group{api.GroupReads, api.GroupPublic}
	}
	panic(fmt.Sprintf("boot: unknown function %q", string(f)))
}

// Deps is what a function is built from.
type Deps struct {
	// DynamoDB is the client of the ledger's table.
	DynamoDB *dynamodb.Client
	Table    string
	// LegacyKeysUntil is until when the store honours idempotency records
	// kept where they were before key digests (zero: none).
	LegacyKeysUntil time.Time
	// Issuer, Audience and PublicKeys verify bearer tokens. Public keys
	// only: a function can verify a token, never mint one.
	Issuer     string
	Audience   string
	PublicKeys []*rsa.PublicKey
	// RatecardDir adds rate cards and price books to the embedded samples
	// (see sampledata.Catalogs); empty means the samples only.
	RatecardDir string
	// Payments, WebhookSecret and PublicURL serve checkout (the purchases
	// function only; the others leave them empty).
	Payments      payments.Provider
	WebhookSecret string
	PublicURL     string
	// QuoteKey signs quote links and QuoteLinkURL is where they point (the
	// purchases function only). The key is never logged.
	QuoteKey     ed25519.PrivateKey
	QuoteLinkURL string
	// CORSOrigins are the origins the authenticated routes answer.
	CORSOrigins []string
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Logger receives the JSON logs; nil means slog.Default().
	Logger *slog.Logger
}

// Ledger returns the ledger service on deps' table. It needs no keys.
func Credits(deps Deps) (*credits.Service, error) {
	if err := errors.Join(storeProblems(deps)...); err != nil {
		return nil, fmt.Errorf("boot: %w", err)
	}
	l := credits.New(deps.store(), nil)
	if deps.Now != nil {
		l.Now = deps.Now
	}
	return l, nil
}

// store is the ledger's store on deps' table, whose stream feeds the
// roll-up function (so a spend's entries come from there).
func (deps Deps) store() *dynamo.Store {
	return dynamo.New(deps.DynamoDB, deps.Table, dynamo.WithLegacyKeysUntil(deps.LegacyKeysUntil), dynamo.WithEntriesFromStream())
}

func storeProblems(deps Deps) []error {
	var errs []error
	if deps.DynamoDB == nil {
		errs = append(errs, errors.New("a DynamoDB client is required"))
	}
	if deps.Table == "" {
		errs = append(errs, errors.New("a table name is required"))
	}
	return errs
}

// Handler returns the API handler limited to groups, on deps' table, with
// tokens verified by deps' public keys.
func Handler(deps Deps, groups ...api.Group) (*api.Handler, error) {
	var errs []error
	if deps.Issuer == "" {
		errs = append(errs, errors.New("a token issuer is required"))
	}
	if deps.Audience == "" {
		errs = append(errs, errors.New("a token audience is required"))
	}
	if len(deps.PublicKeys) == 0 {
		errs = append(errs, errors.New("at least one token public key is required"))
	}
	if len(deps.PublicKeys) > PublicKeysMax {
		errs = append(errs, fmt.Errorf("%d token public keys; at most %d", len(deps.PublicKeys), PublicKeysMax))
	}
	for i, k := range deps.PublicKeys {
		if k == nil || k.N == nil || k.N.BitLen() < keyBitsMin {
			errs = append(errs, fmt.Errorf("token public key %d: need an RSA key of at least %d bits", i+1, keyBitsMin))
		}
	}
	// An empty list would mean every route: a function names its share.
	if len(groups) == 0 {
		errs = append(errs, errors.New("name the route groups this function serves"))
	}
	for _, g := range groups {
		if !slices.Contains(api.Groups(), g) {
			errs = append(errs, fmt.Errorf("unknown route group %q", g))
		}
	}
	errs = append(errs, storeProblems(deps)...)
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("boot: %w", err)
	}
	svc, err := Credits(deps)
	if err != nil {
		return nil, err
	}
	rc, pc, err := sampledata.Catalogs(deps.RatecardDir)
	if err != nil {
		return nil, fmt.Errorf("boot: catalogs: %w", err)
	}
	return api.New(api.Config{
		Rates:   rc,
		Prices:  pc,
		Credits: svc,
		Keys:    auth.NewKeys(deps.Issuer, deps.Audience, nil, deps.PublicKeys...),
		Groups:  slices.Clone(groups),
		Now:     deps.Now,
		Logger:  deps.Logger,

		Payments:      deps.Payments,
		WebhookSecret: deps.WebhookSecret,
		PublicURL:     deps.PublicURL,
		QuoteKey:      deps.QuoteKey,
		QuoteLinkURL:  deps.QuoteLinkURL,
		CORSOrigins:   deps.CORSOrigins,
	})
}

// coldStart is what every function does first: the JSON logger on stderr
// as the default, and the AWS configuration.
func coldStart(ctx context.Context) (*slog.Logger, aws.Config, error) {
	logger := defaultLogger()
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return nil, cfg, fmt.Errorf("boot: AWS configuration: %w", err)
	}
	return logger, cfg, nil
}

// FromEnv builds the handler for groups from the environment, at cold start
// (Serve calls it). It makes a JSON logger on stderr the default.
func FromEnv(ctx context.Context, groups ...api.Group) (*api.Handler, error) {
	ctx, cancel := context.WithTimeout(ctx, coldStartTimeout)
	defer cancel()
	logger, cfg, err := coldStart(ctx)
	if err != nil {
		return nil, err
	}
	params := ssm.NewFromConfig(cfg)
	deps, err := depsFromEnv(ctx, os.Getenv, cfg, params, true)
	if err != nil {
		return nil, err
	}
	if slices.Contains(groups, api.GroupPurchases) {
		if err := checkoutFromEnv(ctx, os.Getenv, params, &deps); err != nil {
			return nil, err
		}
		if err := quoteKeyFromEnv(ctx, os.Getenv, params, &deps); err != nil {
			return nil, err
		}
	}
	deps.Logger = logger
	h, err := Handler(deps, groups...)
	if err != nil {
		return nil, err
	}
	logStart(logger, deps, groups)
	return h, nil
}

// Serve is an HTTP function's main: it builds f's handler from the
// environment (FromEnv) and hands it to the Lambda runtime behind the API
// Gateway adapter (HTTP API, payload 2.0). A failed cold start is logged and
// exits, so the runtime reports the instance as failed.
func Serve(f Function) {
	h, err := FromEnv(context.Background(), f.Groups()...)
	if err != nil {
		slog.Error("cold start failed", "function", f, "error", err.Error())
		os.Exit(1)
	}
	lambda.Start(httpadapter.NewV2(h).ProxyWithContext)
}

// CreditsFromEnv builds the ledger service from the environment (TABLE_NAME,
// DYNAMODB_ENDPOINT): it is for the sweeper's main. It reads no keys.
func CreditsFromEnv(ctx context.Context) (*credits.Service, error) {
	return fromEnvWithoutKeys(ctx, Credits)
}

// fromEnvWithoutKeys is the cold start of a function that reads no keys:
// the dependencies from the environment, built into what the function
// runs on by build, and the start logged.
func fromEnvWithoutKeys[T any](ctx context.Context, build func(Deps) (T, error)) (T, error) {
	var zero T
	ctx, cancel := context.WithTimeout(ctx, coldStartTimeout)
	defer cancel()
	logger, cfg, err := coldStart(ctx)
	if err != nil {
		return zero, err
	}
	deps, err := depsFromEnv(ctx, os.Getenv, cfg, nil, false)
	if err != nil {
		return zero, err
	}
	v, err := build(deps)
	if err != nil {
		return zero, err
	}
	logStart(logger, deps, nil)
	return v, nil
}

// StoreFromEnv builds the ledger's DynamoDB store from the environment
// (TABLE_NAME, DYNAMODB_ENDPOINT): it is for the roll-up function, which
// works on the table's stream below the ledger service. It reads no keys.
func StoreFromEnv(ctx context.Context) (*dynamo.Store, error) {
	return fromEnvWithoutKeys(ctx, func(deps Deps) (*dynamo.Store, error) {
		if err := errors.Join(storeProblems(deps)...); err != nil {
			return nil, fmt.Errorf("boot: %w", err)
		}
		return deps.store(), nil
	})
}

// SweeperFromEnv is CreditsFromEnv with the notification outbox delivered
// through Amazon SES from NOTIFY_FROM (required). Like CreditsFromEnv it
// reads no keys.
func SweeperFromEnv(ctx context.Context) (*credits.Service, error) {
	from := os.Getenv(EnvNotifyFrom)
	if !strings.Contains(from, "@") || strings.ContainsAny(from, "\r\n") {
		return nil, fmt.Errorf("boot: %s must be the notifications' From address (domain %q)", EnvNotifyFrom, notify.Domain(from))
	}
	l, err := CreditsFromEnv(ctx)
	if err != nil {
		return nil, err
	}
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return nil, fmt.Errorf("boot: AWS configuration: %w", err)
	}
	l.Notifier = ses.Sender{Client: sesv2.NewFromConfig(cfg), From: from}
	return l, nil
}

// Parameters reads one SSM parameter; *ssm.Client is one.
type Parameters interface {
	GetParameter(ctx context.Context, in *ssm.GetParameterInput, opts ...func(*ssm.Options)) (*ssm.GetParameterOutput, error)
}

// depsFromEnv reads the dependencies from getenv, reporting every missing
// variable at once. With keys it also reads the token settings and fetches
// the public keys from params.
func depsFromEnv(ctx context.Context, getenv func(string) string, cfg aws.Config, params Parameters, keys bool) (Deps, error) {
	deps := Deps{Table: getenv(EnvTable), RatecardDir: getenv(EnvRatecardDir)}
	required := []string{EnvTable}
	if keys {
		required = append(required, EnvIssuer, EnvAudience, EnvPublicKeysParam)
		deps.Issuer, deps.Audience = getenv(EnvIssuer), getenv(EnvAudience)
	}
	var errs []error
	for _, name := range required {
		if getenv(name) == "" {
			errs = append(errs, fmt.Errorf("%s is not set", name))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return Deps{}, fmt.Errorf("boot: environment: %w", err)
	}
	if v := getenv(EnvLegacyKeysUntil); v != "" {
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			return Deps{}, fmt.Errorf("boot: environment: %s is not an RFC 3339 time: %q", EnvLegacyKeysUntil, v)
		}
		deps.LegacyKeysUntil = t
	}
	deps.DynamoDB = dynamoClient(cfg, getenv(EnvDynamoEndpoint))
	deps.CORSOrigins = api.ParseCORSOrigins(getenv(EnvCORSOrigins))
	if keys {
		pubs, err := publicKeysFrom(ctx, params, getenv(EnvPublicKeysParam))
		if err != nil {
			return Deps{}, fmt.Errorf("boot: %w", err)
		}
		deps.PublicKeys = pubs
	}
	return deps, nil
}

// dynamoClient returns a client from cfg with the adapter's retryer and
// attempt timeout (dynamo.Configure), pointed at endpoint when one is
// given (DynamoDB Local, whose error responses carry no valid checksum).
func dynamoClient(cfg aws.Config, endpoint string) *dynamodb.Client {
	return dynamodb.NewFromConfig(cfg, func(o *dynamodb.Options) {
		dynamo.Configure(o)
		if endpoint != "" {
			o.BaseEndpoint = aws.String(endpoint)
			o.DisableValidateResponseChecksum = true
		}
	})
}

// checkoutFromEnv reads the purchases function's checkout settings: the
// public URL and the Stripe secrets (from SSM, by the names in the
// environment), and makes the Stripe provider.
func checkoutFromEnv(ctx context.Context, getenv func(string) string, params Parameters, deps *Deps) error {
	var errs []error
	for _, name := range []string{EnvPublicURL, EnvStripeKeyParam, EnvStripeWebhookParam} {
		if getenv(name) == "" {
			errs = append(errs, fmt.Errorf("%s is not set", name))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("boot: environment: %w", err)
	}
	key, err := parameter(ctx, params, getenv(EnvStripeKeyParam))
	if err != nil {
		return fmt.Errorf("boot: %w", err)
	}
	secret, err := parameter(ctx, params, getenv(EnvStripeWebhookParam))
	if err != nil {
		return fmt.Errorf("boot: %w", err)
	}
	provider, err := stripepay.New(key)
	if err != nil {
		return fmt.Errorf("boot: stripe: %w", err)
	}
	deps.Payments, deps.WebhookSecret, deps.PublicURL = provider, secret, strings.TrimRight(getenv(EnvPublicURL), "/")
	return nil
}

// quoteKeyFromEnv reads the purchases function's quote-signing key from the
// SSM parameter QUOTE_SIGNING_KEY_PARAM names, and QUOTE_LINK_URL. Errors
// name the parameter, never its value.
func quoteKeyFromEnv(ctx context.Context, getenv func(string) string, params Parameters, deps *Deps) error {
	name := getenv(EnvQuoteKeyParam)
	if name == "" {
		return fmt.Errorf("boot: environment: %s is not set", EnvQuoteKeyParam)
	}
	value, err := parameter(ctx, params, name)
	if err != nil {
		return fmt.Errorf("boot: %w", err)
	}
	key, err := quotekey.Parse(value)
	if err != nil {
		return fmt.Errorf("boot: parameter %s: %w", name, err)
	}
	deps.QuoteKey, deps.QuoteLinkURL = key, strings.TrimRight(getenv(EnvQuoteLinkURL), "/")
	return nil
}

// parameter reads one SSM parameter's value (decrypting a SecureString).
// Errors name the parameter, never its value.
func parameter(ctx context.Context, params Parameters, name string) (string, error) {
	if params == nil {
		return "", errors.New("no parameter store client")
	}
	out, err := params.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String(name), WithDecryption: aws.Bool(true)})
	if err != nil {
		return "", fmt.Errorf("read parameter %s: %w", name, err)
	}
	if out.Parameter == nil || out.Parameter.Value == nil || *out.Parameter.Value == "" {
		return "", fmt.Errorf("parameter %s has no value", name)
	}
	return *out.Parameter.Value, nil
}

// publicKeysFrom reads the parameter name (decrypting a SecureString) and
// parses its PEM public keys. Errors name the parameter, never its value.
func publicKeysFrom(ctx context.Context, params Parameters, name string) ([]*rsa.PublicKey, error) {
	value, err := parameter(ctx, params, name)
	if err != nil {
		return nil, err
	}
	pubs, err := ParsePublicKeys([]byte(value))
	if err != nil {
		return nil, fmt.Errorf("parameter %s: %w", name, err)
	}
	return pubs, nil
}

func defaultLogger() *slog.Logger {
	logger := slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	slog.SetDefault(logger)
	return logger
}

// logStart logs what the instance runs with: key ids (hashes), never keys.
func logStart(logger *slog.Logger, deps Deps, groups []api.Group) {
	ids := make([]string, 0, len(deps.PublicKeys))
	for _, k := range deps.PublicKeys {
		ids = append(ids, auth.KeyID(k))
	}
	logger.Info("cold start", "groups", groups, "table", deps.Table, "token_key_ids", ids,
		"dynamodb_endpoint", os.Getenv(EnvDynamoEndpoint), "ratecard_dir", deps.RatecardDir)
}
