package pricing

import (
	"testing"

	"cloudcredits/core"
)

func BenchmarkPrice(b *testing.B) {
	catalog := sampleCatalog(b)
	graduated := loadBook(b, cloudGraduatedPath)
	at := date(atCurrent)
	reseller := Request{Currency: core.Cloud, Credits: dec("5000"), Channel: ChannelReseller, PurchasedThisYear: dec("800")}
	b.Run("volume", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := catalog.Price(reseller, at); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("graduated", func(b *testing.B) {
		req := reseller
		req.Credits = dec("120000") // all five tiers
		req.PurchasedThisYear = dec("0")
		b.ReportAllocs()
		for b.Loop() {
			if _, err := graduated.Price(req); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("parse+price+json", func(b *testing.B) {
		body := []byte(`{"currency": "cloud", "credits": "5000", "channel": "reseller", "purchased_this_year": "800"}`)
		b.ReportAllocs()
		for b.Loop() {
			req, err := ParseRequest(body)
			if err != nil {
				b.Fatal(err)
			}
			p, err := catalog.Price(req, at)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := p.MarshalJSON(); err != nil {
				b.Fatal(err)
			}
		}
	})
}
