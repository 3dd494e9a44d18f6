// Command jwks writes the two documents API Gateway's JWT authorizer reads
// for self-minted tokens: <out>/.well-known/openid-configuration (naming
// the issuer and the jwks_uri) and <out>/.well-known/jwks.json (the public
// keys, with the key ids the API's tokens carry as kid). Publish <out> so
// that <issuer>/.well-known/... serves them over HTTPS (infra/README.md,
// "Tokens").
//
//	go run ./infra/jwks -issuer https://auth.example.com -out dist/issuer < token-public.pem
//
// It reads public keys only (the same PEM the functions read from SSM) and
// refuses a private key.
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"cloudcredits/functions/auth"
	"cloudcredits/functions/lambda/boot"
)

func main() {
	if err := run(os.Args[1:], os.Stdin); err != nil {
		fmt.Fprintln(os.Stderr, "jwks:", err)
		os.Exit(1)
	}
}

func run(args []string, stdin io.Reader) error {
	fs := flag.NewFlagSet("jwks", flag.ContinueOnError)
	issuer := fs.String("issuer", "", "the tokens' iss, an https URL (the TokenIssuer parameter)")
	out := fs.String("out", "dist/issuer", "folder to write .well-known/ into")
	if err := fs.Parse(args); err != nil {
		return err
	}
	iss := strings.TrimSuffix(*issuer, "/")
	if !strings.HasPrefix(iss, "https://") {
		return errors.New("-issuer must be an https URL")
	}
	pem, err := io.ReadAll(io.LimitReader(stdin, 64<<10))
	if err != nil {
		return fmt.Errorf("read public keys: %w", err)
	}
	pubs, err := boot.ParsePublicKeys(pem)
	if err != nil {
		return err
	}
	discovery := map[string]any{
		"issuer":                                iss,
		"jwks_uri":                              iss + "/.well-known/jwks.json",
		"id_token_signing_alg_values_supported": []string{"RS256"},
		"response_types_supported":              []string{"id_token"},
		"subject_types_supported":               []string{"public"},
	}
	dir := filepath.Join(*out, ".well-known")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for name, doc := range map[string]any{
		"openid-configuration": discovery,
		"jwks.json":            auth.NewKeys(iss, "", nil, pubs...).JWKS(),
	} {
		b, err := json.MarshalIndent(doc, "", "  ")
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, name), append(b, '\n'), 0o644); err != nil {
			return err
		}
	}
	fmt.Printf("wrote %s/{openid-configuration,jwks.json} for %d key(s)\n", dir, len(pubs))
	return nil
}
