package main

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"cloudcredits/functions/payments"
	"cloudcredits/functions/payments/stripe"
	"cloudcredits/functions/payments/testpay"
)

// Environment that switches the local server from the test checkout to Stripe.
const (
	EnvStripeKey           = "STRIPE_SECRET_KEY"
	EnvStripeWebhookSecret = "STRIPE_WEBHOOK_SECRET"
)

// Files the local server keeps in its data folder.
const (
	webhookSecretFile = "webhook-secret" // the test checkout's signing secret
	tokensFile        = "tokens.env"     // the printed tokens, for `. .data/tokens.env`
)

// checkout is the payment side of the local server.
type checkout struct {
	provider      payments.Provider
	webhookSecret string
	pages         http.Handler // testpay's pages; nil with Stripe
}

// newPayments picks the payment provider: Stripe when STRIPE_SECRET_KEY and
// STRIPE_WEBHOOK_SECRET are both set (events then come from Stripe, e.g.
// through `stripe listen --forward-to <base>/v1/webhooks/stripe`), otherwise
// the local test checkout, whose pages live on this server and which posts
// its signed events to this server's webhook with a secret kept in the data
// folder. One of the two alone is refused: half a Stripe setup would take
// payments that never fulfil.
func newPayments(getenv func(string) string, data, base string) (checkout, error) {
	key, secret := getenv(EnvStripeKey), getenv(EnvStripeWebhookSecret)
	switch {
	case key != "" && secret != "":
		p, err := stripe.New(key)
		if err != nil {
			return checkout{}, err
		}
		return checkout{provider: p, webhookSecret: secret}, nil
	case key != "" || secret != "":
		return checkout{}, fmt.Errorf("set both %s and %s to take payments with Stripe, or neither for the local test checkout", EnvStripeKey, EnvStripeWebhookSecret)
	}
	secret, err := loadOrCreateWebhookSecret(data)
	if err != nil {
		return checkout{}, err
	}
	p, err := testpay.New(base, base+"/v1/webhooks/stripe", secret, nil)
	if err != nil {
		return checkout{}, err
	}
	return checkout{provider: p, webhookSecret: secret, pages: p.Handler()}, nil
}

// loadOrCreateWebhookSecret reads the test checkout's webhook signing
// secret from the data folder, creating it (mode 0600) on first start.
func loadOrCreateWebhookSecret(data string) (string, error) {
	path := filepath.Join(data, webhookSecretFile)
	b, err := os.ReadFile(path)
	if err == nil {
		s := strings.TrimSpace(string(b))
		if s == "" {
			return "", fmt.Errorf("%s is empty; delete it to make a new one", path)
		}
		return s, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return "", fmt.Errorf("read webhook secret: %w", err)
	}
	var r [32]byte
	if _, err := rand.Read(r[:]); err != nil {
		return "", err
	}
	secret := "whsec_local_" + hex.EncodeToString(r[:])
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, os.ErrExist) {
		return loadOrCreateWebhookSecret(data) // another process made it first
	}
	if err != nil {
		return "", fmt.Errorf("create webhook secret: %w", err)
	}
	if _, err := f.WriteString(secret + "\n"); err != nil {
		f.Close()
		return "", err
	}
	return secret, f.Close()
}

// writeTokensEnv writes the printed tokens and the server's address as
// shell exports to data/tokens.env (mode 0600: they are credentials), so
// `. .data/tokens.env` sets $VENDOR, $ADMIN, $SERVICE, $ANN (the user ann) and $BASE. It
// replaces the file atomically.
func writeTokensEnv(data, base string, tokens [][2]string) error {
	var b strings.Builder
	b.WriteString("# Written by the local Cloud Credits server at start: tokens for the demo contract\n")
	b.WriteString("# (valid 30 days) and the server's address. Load with: . " + filepath.Join(data, tokensFile) + "\n")
	fmt.Fprintf(&b, "export BASE=%s\n", base)
	for _, t := range tokens {
		fmt.Fprintf(&b, "export %s=%s\n", t[0], t[1])
	}
	tmp, err := os.CreateTemp(data, tokensFile+".*")
	if err != nil {
		return fmt.Errorf("write tokens: %w", err)
	}
	defer os.Remove(tmp.Name()) // after the rename, a no-op
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return fmt.Errorf("write tokens: %w", err)
	}
	if _, err := tmp.WriteString(b.String()); err != nil {
		tmp.Close()
		return fmt.Errorf("write tokens: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write tokens: %w", err)
	}
	if err := os.Rename(tmp.Name(), filepath.Join(data, tokensFile)); err != nil {
		return fmt.Errorf("write tokens: %w", err)
	}
	return nil
}
