package pricing

import (
	"fmt"
	"slices"
	"time"

	"cloudcredits/core"
)

// CatalogBooksMax is the most books one catalog holds (every version of
// every currency, past ones included).
const CatalogBooksMax = 1000

// Catalog holds every price book version of every currency and answers which
// one prices an order at a given time. It is immutable once made and safe for
// concurrent use.
type Catalog struct {
	// byCurrency holds each currency's books in ascending EffectiveFrom.
	byCurrency map[core.Currency][]*Book
}

// NewCatalog validates every book and refuses duplicates: two books of one
// currency may share neither a version nor an effective time. Every problem
// is reported at once, each under books[i].
func NewCatalog(books ...*Book) (*Catalog, error) {
	var p core.Problems
	switch {
	case len(books) == 0:
		p.Add("books", "must hold at least one price book")
		return nil, p.Err()
	case len(books) > CatalogBooksMax:
		p.Add("books", "has %d books; a catalog may hold at most %d", len(books), CatalogBooksMax)
		return nil, p.Err()
	}
	c := &Catalog{byCurrency: map[core.Currency][]*Book{}}
	versions := map[string]int{}
	starts := map[string]int{}
	for i, b := range books {
		field := fmt.Sprintf("books[%d]", i)
		if err := b.Validate(); err != nil {
			p.Merge(field, err)
			continue
		}
		vk := string(b.Currency) + "\x00" + b.Version
		if j, dup := versions[vk]; dup {
			p.Add(field+".version", "repeats books[%d]: %s already has a book %s", j, b.Currency, b.Version)
			continue
		}
		sk := string(b.Currency) + "\x00" + b.EffectiveFrom.UTC().Format(time.RFC3339Nano)
		if j, dup := starts[sk]; dup {
			p.Add(field+".effective_from", "repeats books[%d]: two %s books may not take effect at the same time", j, b.Currency)
			continue
		}
		versions[vk], starts[sk] = i, i
		c.byCurrency[b.Currency] = append(c.byCurrency[b.Currency], b)
	}
	if err := p.Err(); err != nil {
		return nil, err
	}
	for cur := range c.byCurrency {
		slices.SortFunc(c.byCurrency[cur], func(a, b *Book) int { return a.EffectiveFrom.Compare(b.EffectiveFrom) })
	}
	return c, nil
}

// Book returns the book of currency in effect at at: the one with the latest
// EffectiveFrom not after at. An unknown currency, a currency the catalog
// does not sell, and a time before its first book are invalid_request errors
// about the currency.
func (c *Catalog) Book(currency core.Currency, at time.Time) (*Book, error) {
	if _, ok := core.ParseCurrency(string(currency)); !ok {
		return nil, core.Invalid("currency", "must be one of cloud, forma, flex, got %s", echo(string(currency)))
	}
	books := c.byCurrency[currency]
	if len(books) == 0 {
		return nil, core.Invalid("currency", "%s are not sold: there is no price book for them", currency.Name())
	}
	// The first book that starts after at; the one before it is in effect.
	i, _ := slices.BinarySearchFunc(books, at, func(b *Book, t time.Time) int {
		if b.EffectiveFrom.After(t) {
			return 1
		}
		return -1
	})
	if i == 0 {
		return nil, core.Invalid("currency", "no %s price book is in effect at %s; the first takes effect at %s",
			currency, at.UTC().Format(time.RFC3339), books[0].EffectiveFrom.UTC().Format(time.RFC3339))
	}
	return books[i-1], nil
}

// Version returns the book of currency with that version, in effect or not:
// a quote names the version it was priced with, and is honoured with it.
func (c *Catalog) Version(currency core.Currency, version string) (*Book, bool) {
	for _, b := range c.byCurrency[currency] {
		if b.Version == version {
			return b, true
		}
	}
	return nil, false
}

// Books returns every book of currency, oldest first (a copy of the list).
func (c *Catalog) Books(currency core.Currency) []*Book {
	return slices.Clone(c.byCurrency[currency])
}

// Price prices req with the book of req.Currency in effect at at. This is the
// one entry point the prices API, checkout and quotes share, so a quote and
// a charge at the same time can never disagree.
func (c *Catalog) Price(req Request, at time.Time) (Price, error) {
	// Check the whole request first, so a bad currency is reported with
	// every other problem rather than alone.
	if err := req.Validate(); err != nil {
		return Price{}, err
	}
	b, err := c.Book(req.Currency, at)
	if err != nil {
		return Price{}, err
	}
	return b.price(req)
}
