// Command local runs the whole Cloud Credits system as one process on this
// machine: the API and the site on 127.0.0.1, the ledger in SQLite in a local
// data folder (or on DynamoDB with --store dynamodb), the sample rate card and
// price books, and on first start a demo contract. `make run` starts it;
// `local token …` (`make token`) prints a token the running server accepts.
package main

import (
	"context"
	"crypto/ed25519"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"cloudcredits/core/ledger"
	"cloudcredits/functions/api"
	"cloudcredits/functions/auth"
	"cloudcredits/functions/credits"
	"cloudcredits/functions/credits/dynamo"
	"cloudcredits/functions/credits/sqlite"
	"cloudcredits/functions/internal/ddblocal"
	"cloudcredits/functions/notify"
	"cloudcredits/functions/payments"
	"cloudcredits/functions/payments/testpay"
	"cloudcredits/functions/quotekey"
	"cloudcredits/functions/sampledata"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
)

// EnvCORSOrigins lists, comma-separated, the origins whose pages may call
// the authenticated routes from a browser: the deployed functions' variable
// of the same name (none by default; the public routes answer any origin).
const EnvCORSOrigins = "CORS_ORIGINS"

// Token issuer and audience of the local server.
const (
	Issuer   = "cloudcredits-local"
	Audience = "cloudcredits-api"
	tokenTTL = 30 * 24 * time.Hour
)

func main() {
	var err error
	if len(os.Args) > 1 && os.Args[1] == "token" {
		err = tokenCmd(os.Args[2:])
	} else {
		err = serve(os.Args[1:])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "cloudcredits:", err)
		os.Exit(1)
	}
}

func serve(args []string) error {
	fs := flag.NewFlagSet("local", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:8080", "address to listen on")
	var cfg config
	fs.StringVar(&cfg.data, "data", ".data", "folder for local data: the SQLite database, the token and quote-link signing keys, the test checkout's webhook secret, tokens.env; extra rate cards and price books may be dropped into its ratecards/ and pricebooks/")
	fs.StringVar(&cfg.site, "site", "site", "folder of the static site")
	fs.StringVar(&cfg.storeKind, "store", "sqlite", "ledger store: sqlite or dynamodb")
	fs.StringVar(&cfg.endpoint, "endpoint", "", "DynamoDB endpoint URL (with --store dynamodb), e.g. DynamoDB Local's")
	fs.StringVar(&cfg.table, "table", "cloudcredits", "DynamoDB table name (with --store dynamodb)")
	fs.BoolVar(&cfg.noDemo, "no-demo", false, "do not create the demo contract on first start")
	if err := fs.Parse(args); err != nil {
		return err
	}

	logger := slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	slog.SetDefault(logger)
	cfg.logger, cfg.getenv = logger, os.Getenv

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	// Listen first: the test checkout needs the server's own address.
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	cfg.base = "http://" + ln.Addr().String()
	a, err := newApp(ctx, cfg)
	if err != nil {
		ln.Close()
		return err
	}
	defer a.close()
	srv := &http.Server{Handler: a.handler, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second, WriteTimeout: 60 * time.Second}
	go sweep(ctx, a.credits, logger)

	tokens := demoTokens(a.keys, time.Now())
	if err := writeTokensEnv(cfg.data, cfg.base, tokens); err != nil {
		return err
	}
	printWelcome(cfg.base, a, tokens, cfg.data)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		if !errors.Is(err, http.ErrServerClosed) {
			return err
		}
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	logger.Info("shutting down")
	return srv.Shutdown(shutdown)
}

// config is what the local server is built from.
type config struct {
	data, site                 string
	storeKind, endpoint, table string
	noDemo                     bool
	base                       string // http://host:port the server answers on
	getenv                     func(string) string
	logger                     *slog.Logger
}

// app is the local server: one handler for the API, the test checkout and
// the site, on one ledger.
type app struct {
	handler  http.Handler
	credits  *credits.Service
	keys     *auth.Keys
	where    string // the ledger store, for people
	payments payments.Provider
	close    func() error
}

// newApp builds the local server on cfg.base: the catalogs, the token key,
// the ledger (with the demo contract unless cfg.noDemo), the payment
// provider (testpay unless Stripe keys are in the environment) and the mux.
func newApp(ctx context.Context, cfg config) (*app, error) {
	if err := os.MkdirAll(cfg.data, 0o700); err != nil {
		return nil, fmt.Errorf("data folder: %w", err)
	}
	rc, pc, err := sampledata.Catalogs(cfg.data)
	if err != nil {
		return nil, err
	}
	key, err := auth.LoadOrCreateKey(cfg.data)
	if err != nil {
		return nil, err
	}
	keys := auth.NewKeys(Issuer, Audience, key)
	quoteKey, err := quotekey.LoadOrCreate(cfg.data)
	if err != nil {
		return nil, err
	}
	pay, err := newPayments(cfg.getenv, cfg.data, cfg.base)
	if err != nil {
		return nil, err
	}
	st, where, err := openStore(ctx, cfg.storeKind, cfg.data, cfg.endpoint, cfg.table)
	if err != nil {
		return nil, err
	}
	svc := credits.New(st, nil)
	// The readable local outbox: one .eml file per notification.
	svc.Notifier = notify.EML{Dir: filepath.Join(cfg.data, "outbox")}
	if !cfg.noDemo {
		if err := seedDemo(ctx, svc, time.Now().UTC()); err != nil {
			st.Close()
			return nil, fmt.Errorf("demo data: %w", err)
		}
	}
	h, err := api.New(api.Config{Rates: rc, Prices: pc, Credits: svc, Keys: keys, Logger: cfg.logger,
		Payments: pay.provider, WebhookSecret: pay.webhookSecret, PublicURL: cfg.base,
		QuoteKey: quoteKey, QuoteLinkURL: cfg.base,
		// The origins whose pages may call the authenticated routes, as
		// the deployed functions read them; the public routes answer any.
		CORSOrigins: api.ParseCORSOrigins(cfg.getenv(EnvCORSOrigins))})
	if err != nil {
		st.Close()
		return nil, err
	}
	mux := http.NewServeMux()
	mux.Handle("/v1/", h)
	mux.Handle("/v1", h) // else the mux redirects it to /v1/
	mux.Handle("/healthz", h)
	mux.Handle("GET /q/{token}", quotePage(quoteKey.Public().(ed25519.PublicKey), time.Now))
	if pay.pages != nil {
		mux.Handle(testpay.PathPrefix, pay.pages)
	}
	mux.Handle("/", staticSite(cfg.site))
	// The mux would redirect a path with an empty, "." or ".." segment to
	// its clean form (an empty 307 for a POST); the API answers it instead,
	// 404 not_found in its error shape, as it does when deployed.
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !api.CleanPath(r.URL.Path) {
			h.ServeHTTP(w, r)
			return
		}
		mux.ServeHTTP(w, r)
	})
	return &app{handler: handler, credits: svc, keys: keys, where: where, payments: pay.provider, close: st.Close}, nil
}

func openStore(ctx context.Context, kind, data, endpoint, table string) (ledger.Store, string, error) {
	switch kind {
	case "sqlite":
		path := filepath.Join(data, "ledger.db")
		st, err := sqlite.Open(path)
		if err != nil {
			return nil, "", err
		}
		abs, _ := filepath.Abs(path)
		return st, "SQLite " + abs, nil
	case "dynamodb":
		if endpoint == "" {
			return nil, "", errors.New("--store dynamodb needs --endpoint (e.g. DynamoDB Local's URL)")
		}
		// The deployed functions' retry budget and attempt timeout
		// (dynamo.Configure), so a throttled or unanswered call is retried
		// here as it is in AWS before the API answers 503 unavailable.
		client := dynamodb.New(ddblocal.Client(endpoint).Options(), dynamo.Configure)
		if err := dynamo.CreateTable(ctx, client, table); err != nil {
			return nil, "", fmt.Errorf("create table %s: %w", table, err)
		}
		st := dynamo.New(client, table, dynamo.WithEntriesFromStream())
		// In AWS the table's stream invokes the roll-up function; here a
		// reader polls DynamoDB Local's stream, so usage reports and the
		// entries of spends follow within seconds.
		r, err := dynamo.NewStreamReader(ctx, st, ddblocal.Streams(endpoint))
		if err != nil {
			return nil, "", err
		}
		go r.Poll(ctx, 2*time.Second, func(err error) { slog.Error("usage roll-up", "error", err.Error()) })
		return st, "DynamoDB " + endpoint + " table " + table, nil
	}
	return nil, "", fmt.Errorf("unknown --store %q: use sqlite or dynamodb", kind)
}

// sweep runs the ledger's sweeper every minute: it closes ended lots,
// releases expired holds, records expiry warnings and writes pending
// notifications to <data>/outbox/. Each run first does the alert check, so
// a new alert reaches the outbox within a minute on one machine. In AWS the
// sweeper Lambda function runs the sweep every minute and the alert check
// every hour (it reads every contract), sending through SES.
func sweep(ctx context.Context, svc *credits.Service, logger *slog.Logger) {
	t := time.NewTicker(time.Minute)
	defer t.Stop()
	for {
		if rep, err := svc.SweepAlerts(ctx); err != nil {
			logger.Error("alert check", "error", err.Error())
		} else if rep.AlertsRecorded > 0 {
			logger.Info("alert check", "contracts_checked", rep.Contracts, "alerts_recorded", rep.AlertsRecorded)
		}
		if rep, err := svc.Sweep(ctx); err != nil {
			logger.Error("sweep", "error", err.Error())
		} else if rep.LotsClosed+rep.HoldsReleased+rep.WarningsRecorded+rep.NotificationsSent+rep.NotificationsFailed > 0 {
			logger.Info("sweep", "lots_closed", rep.LotsClosed, "holds_released", rep.HoldsReleased,
				"warnings_recorded", rep.WarningsRecorded, "notifications_sent", rep.NotificationsSent,
				"notifications_failed", rep.NotificationsFailed)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// demoTokens mints the tokens printed at start, by their variable name.
func demoTokens(keys *auth.Keys, now time.Time) [][2]string {
	mint := func(p auth.Principal) string {
		tok, err := keys.Mint(p, now, tokenTTL)
		if err != nil {
			return "(" + err.Error() + ")"
		}
		return tok
	}
	return [][2]string{
		{"VENDOR", mint(auth.Principal{Subject: "vendor-admin", Role: auth.VendorAdmin})},
		{"ADMIN", mint(auth.Principal{Subject: "carol-admin", Role: auth.ContractAdmin, Contract: demoContract, Entity: demoEntity})},
		{"SERVICE", mint(auth.Principal{Subject: "render-service", Role: auth.Service, Contract: demoContract, Entity: demoEntity})},
		{"ANN", mint(auth.Principal{Subject: "ann", Role: auth.User, Contract: demoContract, Entity: demoEntity})},
	}
}

func printWelcome(base string, a *app, tokens [][2]string, data string) {
	fmt.Printf("\nCloud Credits is running on %s (ledger: %s)\n\n", base, a.where)
	fmt.Printf("  site        %s/\n", base)
	fmt.Printf("  rate card   %s/v1/ratecard\n", base)
	fmt.Printf("  health      %s/healthz\n\n", base)
	switch {
	case a.payments.Name() == payments.ProviderTest:
		fmt.Printf("Checkout runs in TEST MODE: card orders open the local test checkout page\n")
		fmt.Printf("(%s%s…); no card is asked for and no money moves.\n\n", base, testpay.PathPrefix)
	case a.payments.TestMode():
		fmt.Printf("Checkout: Stripe, in test mode (a test key).\n\n")
	default:
		fmt.Printf("Checkout: Stripe, LIVE: card orders take real money.\n\n")
	}
	fmt.Printf("Tokens for the demo contract %q (valid 30 days; `make token` makes others;\n", demoContract)
	fmt.Printf("`. %s` sets them in your shell):\n\n", filepath.Join(data, tokensFile))
	for _, t := range tokens {
		fmt.Printf("  %s=%s\n\n", t[0], t[1])
	}
	fmt.Println("Press Ctrl-C to stop.")
}

func tokenCmd(args []string) error {
	fs := flag.NewFlagSet("token", flag.ContinueOnError)
	data := fs.String("data", ".data", "the local server's data folder (holds the signing key)")
	role := fs.String("role", "", "vendor_admin, contract_admin, user, service or reseller")
	contract := fs.String("contract", "", "the contract (contract_admin, user, service)")
	sub := fs.String("sub", "", "the subject: a user id, a service name")
	entity := fs.String("entity", "", "the caller's entity")
	reseller := fs.String("reseller", "", "the reseller id (reseller)")
	ttl := fs.Duration("ttl", tokenTTL, "how long the token is valid")
	if err := fs.Parse(args); err != nil {
		return err
	}
	r, ok := auth.ParseRole(*role)
	if !ok {
		return fmt.Errorf("ROLE must be one of vendor_admin, contract_admin, user, service, reseller (got %q)", *role)
	}
	key, err := auth.LoadOrCreateKey(*data)
	if err != nil {
		return err
	}
	tok, err := auth.NewKeys(Issuer, Audience, key).Mint(auth.Principal{
		Subject: *sub, Role: r, Contract: *contract, Entity: *entity, Reseller: *reseller,
	}, time.Now(), *ttl)
	if err != nil {
		return err
	}
	fmt.Println(tok)
	return nil
}
