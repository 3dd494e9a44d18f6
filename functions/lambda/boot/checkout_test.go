package boot

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"
)

// oneParam is an SSM parameter store answering every name with one value.
type oneParam struct {
	value string
	asked []*ssm.GetParameterInput
}

func (f *oneParam) GetParameter(_ context.Context, in *ssm.GetParameterInput, _ ...func(*ssm.Options)) (*ssm.GetParameterOutput, error) {
	f.asked = append(f.asked, in)
	return &ssm.GetParameterOutput{Parameter: &ssmtypes.Parameter{Name: in.Name, Value: aws.String(f.value)}}, nil
}

func TestCheckoutFromEnv(t *testing.T) {
	env := map[string]string{EnvPublicURL: "https://credits.example.com/", EnvStripeKeyParam: "/cc/stripe-key", EnvStripeWebhookParam: "/cc/stripe-webhook"}
	params := &oneParam{value: "sk_test_123"}
	var deps Deps
	if err := checkoutFromEnv(context.Background(), func(k string) string { return env[k] }, params, &deps); err != nil {
		t.Fatal(err)
	}
	if deps.Payments == nil || deps.WebhookSecret != "sk_test_123" || deps.PublicURL != "https://credits.example.com" {
		t.Errorf("deps = %+v", deps)
	}
	if len(params.asked) != 2 || *params.asked[0].Name != "/cc/stripe-key" || !*params.asked[0].WithDecryption {
		t.Errorf("asked %d parameters", len(params.asked))
	}
	err := checkoutFromEnv(context.Background(), func(string) string { return "" }, params, &Deps{})
	for _, name := range []string{EnvPublicURL, EnvStripeKeyParam, EnvStripeWebhookParam} {
		if err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("missing %s not reported: %v", name, err)
		}
	}
	if err := checkoutFromEnv(context.Background(), func(k string) string { return env[k] }, &oneParam{value: "pk_live_public"}, &Deps{}); err == nil {
		t.Error("a publishable key was accepted as the Stripe secret key")
	} else if strings.Contains(err.Error(), "pk_live_public") {
		t.Error("the error quotes the parameter's value")
	}
}

func TestQuoteKeyFromEnv(t *testing.T) {
	seed := "BwAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" // base64url of a 32-byte seed
	env := map[string]string{EnvQuoteKeyParam: "/cc/quote-key", EnvQuoteLinkURL: "https://q.example.com/"}
	params := &oneParam{value: seed}
	var deps Deps
	if err := quoteKeyFromEnv(context.Background(), func(k string) string { return env[k] }, params, &deps); err != nil {
		t.Fatal(err)
	}
	if len(deps.QuoteKey) != 64 || deps.QuoteLinkURL != "https://q.example.com" {
		t.Errorf("deps: key %d bytes, link %q", len(deps.QuoteKey), deps.QuoteLinkURL)
	}
	if len(params.asked) != 1 || *params.asked[0].Name != "/cc/quote-key" || !*params.asked[0].WithDecryption {
		t.Errorf("asked %d parameters", len(params.asked))
	}
	if err := quoteKeyFromEnv(context.Background(), func(string) string { return "" }, params, &Deps{}); err == nil || !strings.Contains(err.Error(), EnvQuoteKeyParam) {
		t.Errorf("missing %s not reported: %v", EnvQuoteKeyParam, err)
	}
	err := quoteKeyFromEnv(context.Background(), func(k string) string { return env[k] }, &oneParam{value: "not a key"}, &Deps{})
	if err == nil || strings.Contains(err.Error(), "not a key") {
		t.Errorf("a bad key: %v (must fail without echoing the value)", err)
	}
}
