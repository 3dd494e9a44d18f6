package pricing

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"cloudcredits/core"

	"github.com/shopspring/decimal"
)

// repoRoot is the module root seen from this package's directory; relative
// paths also work under GOOS=js GOARCH=wasm, where the test runs in Node.
const repoRoot = "../.."

// Paths of the sample books, relative to the repository root (the form
// cases.json records for the browser tests).
const (
	cloud2013Path      = "testdata/pricebooks/cloud-2013.json"
	cloudCurrentPath   = "testdata/pricebooks/cloud-current.json"
	formaCurrentPath   = "testdata/pricebooks/forma-current.json"
	flexCurrentPath    = "testdata/pricebooks/flex-current.json"
	cloudGraduatedPath = "testdata/pricebooks/variants/cloud-current-graduated.json"
)

var salesBookPaths = []string{cloud2013Path, cloudCurrentPath, formaCurrentPath, flexCurrentPath}

func readRepoFile(t testing.TB, rel string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(repoRoot, filepath.FromSlash(rel)))
	if err != nil {
		t.Fatalf("read %s: %v", rel, err)
	}
	return data
}

func loadBook(t testing.TB, rel string) *Book {
	t.Helper()
	b, err := ParseBook(readRepoFile(t, rel))
	if err != nil {
		t.Fatalf("parse %s: %v", rel, err)
	}
	return b
}

func sampleCatalog(t testing.TB) *Catalog {
	t.Helper()
	var books []*Book
	for _, p := range salesBookPaths {
		books = append(books, loadBook(t, p))
	}
	c, err := NewCatalog(books...)
	if err != nil {
		t.Fatalf("NewCatalog: %v", err)
	}
	return c
}

func dec(s string) decimal.Decimal { return decimal.RequireFromString(s) }

func date(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

// problems returns the fields of an invalid_request error, failing the test
// for any other error.
func problems(t *testing.T, err error) map[string]string {
	t.Helper()
	e, ok := core.AsError(err)
	if !ok || e.Code != core.CodeInvalidRequest {
		t.Fatalf("got error %v, want an invalid_request *core.Error", err)
	}
	fields, _ := e.Details["fields"].(map[string]string)
	return fields
}

// wantProblems checks that every wanted field has a problem containing the
// wanted text.
func wantProblems(t *testing.T, got map[string]string, want map[string]string) {
	t.Helper()
	for field, text := range want {
		msg, ok := got[field]
		if !ok {
			t.Errorf("no problem reported for %s; got %v", field, got)
			continue
		}
		if !strings.Contains(msg, text) {
			t.Errorf("%s: got %q, want it to contain %q", field, msg, text)
		}
	}
}
