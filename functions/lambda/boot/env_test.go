package boot_test

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"maps"
	"net/http"
	"strings"
	"testing"
	"time"

	"cloudcredits/functions/credits/dynamo"
	"cloudcredits/functions/internal/ddblocal"
	"cloudcredits/functions/lambda/boot"
	"cloudcredits/functions/lambda/internal/lambdatest"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"
)

// fakeParams is an SSM parameter store holding one value.
type fakeParams struct {
	value string
	err   error
	asked []*ssm.GetParameterInput
}

func (f *fakeParams) GetParameter(_ context.Context, in *ssm.GetParameterInput, _ ...func(*ssm.Options)) (*ssm.GetParameterOutput, error) {
	f.asked = append(f.asked, in)
	if f.err != nil {
		return nil, f.err
	}
	return &ssm.GetParameterOutput{Parameter: &ssmtypes.Parameter{Name: in.Name, Value: aws.String(f.value)}}, nil
}

func publicPEM(t *testing.T) string {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(&lambdatest.Key(t).PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
}

func privatePEM(t *testing.T) string {
	t.Helper()
	return string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(lambdatest.Key(t))}))
}

// staticAWS is an AWS configuration that needs no account (DynamoDB Local).
var staticAWS = aws.Config{Region: "eu-west-1", Credentials: credentials.NewStaticCredentialsProvider("local", "local", "")}

const keysParam = "/cloudcredits/prod/token-public-keys"

func environment(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
}

// The environment a function gets in AWS builds a handler that reads and
// writes the named table and verifies tokens with the keys of the named
// parameter.
func TestFromEnvironment(t *testing.T) {
	t.Parallel()
	env := lambdatest.New(t)
	params := &fakeParams{value: publicPEM(t)}
	deps, err := boot.DepsFromEnv(context.Background(), environment(map[string]string{
		boot.EnvTable:           env.Table,
		boot.EnvIssuer:          lambdatest.Issuer,
		boot.EnvAudience:        lambdatest.Audience,
		boot.EnvPublicKeysParam: keysParam,
		boot.EnvDynamoEndpoint:  ddblocal.Endpoint(t),
	}), staticAWS, params, true)
	if err != nil {
		t.Fatalf("DepsFromEnv: %v", err)
	}
	if len(params.asked) != 1 || aws.ToString(params.asked[0].Name) != keysParam || !aws.ToBool(params.asked[0].WithDecryption) {
		t.Errorf("parameter requests = %+v, want one for %s with decryption", params.asked, keysParam)
	}
	// The deployed client retries DynamoDB's throttling with the adapter's
	// budget before the API answers 503.
	if got := deps.DynamoDB.Options().Retryer.MaxAttempts(); got != dynamo.RetryAttemptsMax {
		t.Errorf("the DynamoDB client makes %d attempts per call, want dynamo.RetryAttemptsMax = %d", got, dynamo.RetryAttemptsMax)
	}
	h, err := boot.Handler(deps, boot.Reads.Groups()...)
	if err != nil {
		t.Fatal(err)
	}
	ev := lambdatest.HTTPEvent(t, "apigw-v2-balance.json")
	lambdatest.Authorize(t, &ev, env.Signer)
	resp := lambdatest.Serve(t, h, ev)
	if resp.StatusCode != http.StatusOK || !strings.Contains(resp.Body, lambdatest.SharedLot) {
		t.Errorf("balance through the environment's handler: %d %s", resp.StatusCode, resp.Body)
	}
}

func TestFromEnvironmentReportsEveryMissingVariable(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		keys bool
		want []string
	}{
		{true, []string{boot.EnvTable, boot.EnvIssuer, boot.EnvAudience, boot.EnvPublicKeysParam}},
		{false, []string{boot.EnvTable}},
	} {
		params := &fakeParams{value: publicPEM(t)}
		_, err := boot.DepsFromEnv(context.Background(), environment(nil), staticAWS, params, tc.keys)
		if err == nil {
			t.Fatalf("keys=%v: empty environment accepted", tc.keys)
		}
		for _, name := range tc.want {
			if !strings.Contains(err.Error(), name) {
				t.Errorf("keys=%v: error %q does not name %s", tc.keys, err, name)
			}
		}
		if !tc.keys && strings.Contains(err.Error(), "TOKEN_") {
			t.Errorf("the sweeper's environment asks for token settings: %v", err)
		}
		if len(params.asked) != 0 {
			t.Errorf("keys=%v: read the parameter with an incomplete environment", tc.keys)
		}
	}
}

// A signing key put where the public keys belong stops the function at
// cold start, and the error never quotes it.
func TestFromEnvironmentRefusesKeysItCannotUse(t *testing.T) {
	t.Parallel()
	full := map[string]string{
		boot.EnvTable: "cloudcredits", boot.EnvIssuer: lambdatest.Issuer,
		boot.EnvAudience: lambdatest.Audience, boot.EnvPublicKeysParam: keysParam,
	}
	priv := privatePEM(t)
	for _, tc := range []struct {
		name   string
		params *fakeParams
		want   string
	}{
		{"private key", &fakeParams{value: priv}, "private key"},
		{"public then private", &fakeParams{value: publicPEM(t) + priv}, "private key"},
		{"not PEM", &fakeParams{value: "ssh-rsa AAAAB3NzaC1yc2E"}, "no PEM public key"},
		{"parameter unreadable", &fakeParams{err: errors.New("AccessDeniedException")}, keysParam},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := boot.DepsFromEnv(context.Background(), environment(full), staticAWS, tc.params, true)
			if err == nil {
				t.Fatal("accepted")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not say %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "BEGIN") || strings.Contains(err.Error(), "AAAAB3") {
				t.Errorf("error quotes the parameter's value: %q", err)
			}
		})
	}
}

// TestSweeperNeedsNotifyFrom: the sweeper refuses to start without the
// notifications' From address, before it touches AWS.
func TestSweeperNeedsNotifyFrom(t *testing.T) {
	for _, from := range []string{"", "no-at-sign", "a@b.example\r\nBcc: x@y.example"} {
		t.Setenv(boot.EnvNotifyFrom, from)
		if _, err := boot.SweeperFromEnv(context.Background()); err == nil || !strings.Contains(err.Error(), boot.EnvNotifyFrom) {
			t.Errorf("SweeperFromEnv with %s=%q: %v, want an error naming %s", boot.EnvNotifyFrom, from, err, boot.EnvNotifyFrom)
		}
	}
}

// An upgrade's window for idempotency records kept by the key itself is
// read as an RFC 3339 time; anything else stops the function at cold start.
func TestLegacyKeysWindowFromEnvironment(t *testing.T) {
	t.Parallel()
	base := map[string]string{boot.EnvTable: "ledger", boot.EnvDynamoEndpoint: "http://127.0.0.1:1"}
	for _, tc := range []struct {
		value string
		want  time.Time
		ok    bool
	}{
		{"", time.Time{}, true},
		{"2027-01-10T00:00:00Z", time.Date(2027, 1, 10, 0, 0, 0, 0, time.UTC), true},
		{"2027-01-10", time.Time{}, false},
		{"next month", time.Time{}, false},
	} {
		vars := maps.Clone(base)
		vars[boot.EnvLegacyKeysUntil] = tc.value
		deps, err := boot.DepsFromEnv(context.Background(), environment(vars), staticAWS, nil, false)
		switch {
		case tc.ok && (err != nil || !deps.LegacyKeysUntil.Equal(tc.want)):
			t.Errorf("%q: %v, %v; want %v", tc.value, deps.LegacyKeysUntil, err, tc.want)
		case !tc.ok && (err == nil || !strings.Contains(err.Error(), boot.EnvLegacyKeysUntil)):
			t.Errorf("%q: %v; want an error naming %s", tc.value, err, boot.EnvLegacyKeysUntil)
		}
	}
}
