package pricing

import (
	"encoding/json"
	"testing"

	"cloudcredits/core"
)

// FuzzParseRequest feeds arbitrary bodies to ParseRequest. It must never
// panic; it refuses only with invalid_request or too_large; and every body it
// accepts must price, under the sample catalog and the graduated variant,
// either successfully (obeying checkPriceLaws, and rendering as JSON) or with
// invalid_request (an unsold channel, too many credits) — never any other
// error and never a panic.
func FuzzParseRequest(f *testing.F) {
	for _, c := range goldenCases {
		f.Add([]byte(c.Request))
	}
	for _, s := range []string{
		``, `{}`, `null`, `[]`, `"cloud"`, `{"currency": "cloud"}`,
		`{"currency": "cloud", "credits": "0.000001"}`,
		`{"currency": "cloud", "credits": "1000000000000", "channel": "eba", "purchased_this_year": "1000000000000"}`,
		`{"currency": "cloud", "packs": 10000000000, "channel": "eba"}`,
		`{"currency": "flex", "credits": "99999.999999", "channel": "reseller", "purchased_this_year": "0.5"}`,
		`{"currency": "cloud", "credits": "1", "credits": "2"}`,
		`{"currency": "cloud", "credits": "1"} x`,
		`{"currency": "cloud", "credits": "1e9"}`,
		`{"currency": "cloud", "credits": "-0"}`,
		`{"currency": "cloud", "packs": 7}`,
		`{"currency": "\u0063loud", "credits": "5"}`,
		`{"currency": "cloud", "credits": "5", "\u00e9": 1}`,
	} {
		f.Add([]byte(s))
	}
	catalog := sampleCatalog(f)
	graduated := loadBook(f, cloudGraduatedPath)
	at := date(atCurrent)
	f.Fuzz(func(t *testing.T, body []byte) {
		req, err := ParseRequest(body)
		if err != nil {
			if code := core.ErrorCode(err); code != core.CodeInvalidRequest && code != core.CodeTooLarge {
				t.Fatalf("ParseRequest(%q): error %v has code %s", body, err, code)
			}
			return
		}
		if err := req.Validate(); err != nil {
			t.Fatalf("ParseRequest(%q) accepted %+v, which Validate refuses: %v", body, req, err)
		}
		check := func(b *Book, p Price, err error) {
			if err != nil {
				if code := core.ErrorCode(err); code != core.CodeInvalidRequest {
					t.Fatalf("price of %q: error %v has code %s", body, err, code)
				}
				return
			}
			checkPriceLaws(t, b, req, p)
			if _, err := json.Marshal(p); err != nil {
				t.Fatalf("marshal price of %q: %v", body, err)
			}
		}
		b, err := catalog.Book(req.Currency, at)
		if err != nil {
			t.Fatalf("no book for accepted currency %q: %v", req.Currency, err)
		}
		p, err := catalog.Price(req, at)
		check(b, p, err)
		if req.Currency == core.Cloud {
			p, err := graduated.Price(req)
			check(graduated, p, err)
		}
	})
}
