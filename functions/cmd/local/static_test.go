package main

import (
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
)

func TestStaticSitePrefersPrecompressedWasm(t *testing.T) {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "wasm"), 0o755)
	os.WriteFile(filepath.Join(dir, "wasm", "m.wasm"), []byte("raw"), 0o644)
	os.WriteFile(filepath.Join(dir, "wasm", "m.wasm.br"), []byte("brotli"), 0o644)
	os.WriteFile(filepath.Join(dir, "wasm", "m.wasm.gz"), []byte("gzip"), 0o644)
	h := staticSite(dir)
	for _, tc := range []struct{ accept, body, encoding string }{
		{"gzip, deflate, br", "brotli", "br"},
		{"gzip", "gzip", "gzip"},
		{"br;q=0, gzip", "gzip", "gzip"},
		{"", "raw", ""},
	} {
		req := httptest.NewRequest("GET", "/wasm/m.wasm", nil)
		req.Header.Set("Accept-Encoding", tc.accept)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Body.String() != tc.body || rec.Header().Get("Content-Encoding") != tc.encoding {
			t.Errorf("Accept-Encoding %q: got %q with encoding %q; want %q with %q", tc.accept, rec.Body, rec.Header().Get("Content-Encoding"), tc.body, tc.encoding)
		}
		if ct := rec.Header().Get("Content-Type"); ct != "application/wasm" {
			t.Errorf("Accept-Encoding %q: Content-Type %q", tc.accept, ct)
		}
	}
	req := httptest.NewRequest("GET", "/wasm/../../etc/passwd.wasm", nil)
	req.Header.Set("Accept-Encoding", "br")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code == 200 {
		t.Errorf("a path outside the site was served")
	}
}
