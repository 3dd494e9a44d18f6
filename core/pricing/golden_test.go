package pricing

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"cloudcredits/core"
)

var update = flag.Bool("update", false, "rewrite testdata/golden/prices/ from the current code")

const goldenDir = "testdata/golden/prices"

// goldenCase is one priced request, pinned twice: the whole response in
// testdata/golden/prices/<name>.json, and the request with its expected
// subtotal (or error code) in cases.json, which the browser/WASM tests replay.
type goldenCase struct {
	Name string `json:"name"`
	// Book is the price book file the request is priced with, relative to
	// the repository root.
	Book string `json:"book"`
	// At is a time at which Book is the one in effect in the catalog of the
	// sales books (testdata/pricebooks/*.json); variants are priced with
	// Book directly.
	At      string          `json:"at"`
	Request json.RawMessage `json:"request"`
	// Subtotal is the expected subtotal; empty when Error is set.
	Subtotal string `json:"subtotal,omitempty"`
	// Error is the expected error code; empty for a price.
	Error string `json:"error,omitempty"`
	// Golden is the file holding the full response, relative to the root.
	Golden string `json:"golden"`
}

const (
	at2013    = "2015-01-01T00:00:00Z"
	atCurrent = "2025-01-01T00:00:00Z"
)

var goldenCases = []goldenCase{
	{Name: "cloud-list-5000", Book: cloudCurrentPath, At: atCurrent,
		Request: raw(`{"currency": "cloud", "credits": "5000", "channel": "list"}`), Subtotal: "6250.00"},
	{Name: "cloud-reseller-5000", Book: cloudCurrentPath, At: atCurrent,
		Request: raw(`{"currency": "cloud", "credits": "5000", "channel": "reseller", "purchased_this_year": "0"}`), Subtotal: "5500.00"},
	{Name: "cloud-reseller-50-packs", Book: cloudCurrentPath, At: atCurrent,
		Request: raw(`{"currency": "cloud", "packs": 50, "channel": "reseller"}`), Subtotal: "5500.00"},
	// An annual volume of 4,999 sits in the 1,000–4,999 tier ...
	{Name: "cloud-reseller-volume-4999", Book: cloudCurrentPath, At: atCurrent,
		Request: raw(`{"currency": "cloud", "credits": "4900", "channel": "reseller", "purchased_this_year": "99"}`), Subtotal: "5880.00"},
	// ... but asking for 4,999 credits buys 50 packs, 5,000 credits, which
	// reach the 5,000–19,999 tier.
	{Name: "cloud-reseller-asks-4999", Book: cloudCurrentPath, At: atCurrent,
		Request: raw(`{"currency": "cloud", "credits": "4999", "channel": "reseller"}`), Subtotal: "5500.00"},
	{Name: "cloud-list-1-credit-buys-a-pack", Book: cloudCurrentPath, At: atCurrent,
		Request: raw(`{"currency": "cloud", "credits": "1"}`), Subtotal: "125.00"},
	{Name: "cloud-2013-300", Book: cloud2013Path, At: at2013,
		Request: raw(`{"currency": "cloud", "credits": "300"}`), Subtotal: "300.00"},
	{Name: "cloud-2013-reseller-refused", Book: cloud2013Path, At: at2013,
		Request: raw(`{"currency": "cloud", "credits": "300", "channel": "reseller"}`), Error: "invalid_request"},
	{Name: "cloud-volume-800-bought-300-ordered", Book: cloudCurrentPath, At: atCurrent,
		Request: raw(`{"currency": "cloud", "credits": "300", "channel": "reseller", "purchased_this_year": "800"}`), Subtotal: "360.00"},
	{Name: "cloud-graduated-800-bought-300-ordered", Book: cloudGraduatedPath, At: atCurrent,
		Request: raw(`{"currency": "cloud", "credits": "300", "channel": "reseller", "purchased_this_year": "800"}`), Subtotal: "370.00"},
	{Name: "cloud-graduated-25000-reseller", Book: cloudGraduatedPath, At: atCurrent,
		Request: raw(`{"currency": "cloud", "credits": "25000", "channel": "reseller"}`), Subtotal: "27450.00"},
	{Name: "cloud-graduated-eba-straddling-refused", Book: cloudGraduatedPath, At: atCurrent,
		Request: raw(`{"currency": "cloud", "credits": "50000", "channel": "eba", "purchased_this_year": "80000"}`), Error: "invalid_request"},
	{Name: "cloud-eba-5000-refused", Book: cloudCurrentPath, At: atCurrent,
		Request: raw(`{"currency": "cloud", "credits": "5000", "channel": "eba"}`), Error: "invalid_request"},
	{Name: "cloud-eba-100000", Book: cloudCurrentPath, At: atCurrent,
		Request: raw(`{"currency": "cloud", "credits": "100000", "channel": "eba"}`), Subtotal: "70000.00"},
	{Name: "cloud-eba-reaches-top-with-purchases", Book: cloudCurrentPath, At: atCurrent,
		Request: raw(`{"currency": "cloud", "credits": "1000", "channel": "eba", "purchased_this_year": "99000"}`), Subtotal: "700.00"},
	{Name: "cloud-list-100000", Book: cloudCurrentPath, At: atCurrent,
		Request: raw(`{"currency": "cloud", "credits": "100000", "channel": "list"}`), Subtotal: "125000.00"},
	{Name: "forma-list-1000", Book: formaCurrentPath, At: atCurrent,
		Request: raw(`{"currency": "forma", "credits": "1000"}`), Subtotal: "1000.00"},
	{Name: "flex-reseller-20000", Book: flexCurrentPath, At: atCurrent,
		Request: raw(`{"currency": "flex", "credits": "20000", "channel": "reseller"}`), Subtotal: "47040.00"},
	{Name: "invalid-request-every-field", Book: cloudCurrentPath, At: atCurrent,
		Request: raw(`{"currency": "usd", "credits": 5000, "channel": "direct", "purchased_this_year": "-1", "discount": "0.5"}`), Error: "invalid_request"},
}

func raw(s string) json.RawMessage { return json.RawMessage(s) }

func (c goldenCase) goldenPath() string { return goldenDir + "/" + c.Name + ".json" }

// respond prices a case the way the API will: parse the body, price it, and
// render either the price or the error envelope.
func respond(t *testing.T, book *Book, body []byte) (Price, []byte, error) {
	t.Helper()
	var p Price
	req, err := ParseRequest(body)
	if err == nil {
		p, err = book.Price(req)
	}
	var out any = p
	if err != nil {
		e, ok := core.AsError(err)
		if !ok {
			t.Fatalf("error %v is not a *core.Error", err)
		}
		out = map[string]any{"error": map[string]any{"code": e.Code, "message": e.Message, "details": e.Details}}
	}
	data, merr := json.MarshalIndent(out, "", "  ")
	if merr != nil {
		t.Fatalf("marshal: %v", merr)
	}
	return p, append(data, '\n'), err
}

func TestGoldenPrices(t *testing.T) {
	catalog := sampleCatalog(t)
	seen := map[string]bool{}
	for i := range goldenCases {
		c := &goldenCases[i]
		c.Golden = c.goldenPath()
		t.Run(c.Name, func(t *testing.T) {
			if seen[c.Name] {
				t.Fatalf("case name %s is used twice", c.Name)
			}
			seen[c.Name] = true
			p, got, err := respond(t, loadBook(t, c.Book), c.Request)
			switch {
			case c.Error != "" && core.ErrorCode(err) != core.Code(c.Error):
				t.Errorf("got error %v, want code %s", err, c.Error)
			case c.Error == "" && err != nil:
				t.Errorf("got error %v, want subtotal %s", err, c.Subtotal)
			case c.Error == "" && core.FormatMoney(p.Subtotal) != c.Subtotal:
				t.Errorf("got subtotal %s, want %s", core.FormatMoney(p.Subtotal), c.Subtotal)
			}
			// A sales book must be the one the catalog picks at c.At, and
			// pricing through the catalog must give the same answer.
			if filepath.Dir(c.Book) == "testdata/pricebooks" {
				req, perr := ParseRequest(c.Request)
				if perr == nil {
					viaCatalog, cerr := catalog.Price(req, date(c.At))
					if core.ErrorCode(cerr) != core.ErrorCode(err) {
						t.Errorf("catalog: got error %v, book gave %v", cerr, err)
					} else if err == nil && (viaCatalog.PriceBookVersion != p.PriceBookVersion || !viaCatalog.Subtotal.Equal(p.Subtotal)) {
						t.Errorf("catalog priced %s %s, book %s %s", viaCatalog.PriceBookVersion, viaCatalog.Subtotal, p.PriceBookVersion, p.Subtotal)
					}
				}
			}
			checkGolden(t, c.Golden, got)
		})
	}
	data, err := json.MarshalIndent(goldenCases, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	checkGolden(t, goldenDir+"/cases.json", append(data, '\n'))
}

func checkGolden(t *testing.T, rel string, got []byte) {
	t.Helper()
	path := filepath.Join(repoRoot, filepath.FromSlash(rel))
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./core/pricing -run TestGoldenPrices -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the code's output (rerun with -update if the change is intended)\n got: %s\nwant: %s", rel, got, want)
	}
}
