package main

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"os"
	"path/filepath"
	"testing"

	"cloudcredits/functions/auth"
)

func TestWritesDiscoveryAndKeys(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	in := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
	out := t.TempDir()
	if err := run([]string{"-issuer", "https://auth.example.com/", "-out", out}, bytes.NewReader(in)); err != nil {
		t.Fatal(err)
	}
	var discovery struct {
		Issuer  string `json:"issuer"`
		JwksURI string `json:"jwks_uri"`
	}
	read(t, filepath.Join(out, ".well-known", "openid-configuration"), &discovery)
	if discovery.Issuer != "https://auth.example.com" || discovery.JwksURI != "https://auth.example.com/.well-known/jwks.json" {
		t.Errorf("discovery = %+v", discovery)
	}
	var set struct {
		Keys []struct{ Kid, Kty, Alg string }
	}
	read(t, filepath.Join(out, ".well-known", "jwks.json"), &set)
	if len(set.Keys) != 1 || set.Keys[0].Kid != auth.KeyID(&key.PublicKey) || set.Keys[0].Alg != "RS256" {
		t.Errorf("jwks = %+v, want one RS256 key with kid %s (the kid tokens carry)", set, auth.KeyID(&key.PublicKey))
	}
}

func TestRefusesPrivateKeyAndPlainHTTP(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	priv := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})
	if err := run([]string{"-issuer", "https://a.example", "-out", t.TempDir()}, bytes.NewReader(priv)); err == nil {
		t.Error("a private key was accepted")
	}
	if err := run([]string{"-issuer", "http://a.example", "-out", t.TempDir()}, bytes.NewReader(nil)); err == nil {
		t.Error("an http issuer was accepted; API Gateway needs https")
	}
}

func read(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}
