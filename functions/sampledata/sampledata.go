// Package sampledata loads rate cards and price books: the samples embedded
// from testdata/, and any newer versions a vendor drops into a folder, so
// rates and prices change without a deploy. It reads files; it never decides
// a price or an estimate (core does).
package sampledata

import (
	"fmt"
	"io/fs"
	"os"
	"path"
	"sort"

	"cloudcredits/core/pricing"
	"cloudcredits/core/rates"
	"cloudcredits/testdata"
)

// FilesMax bounds how many cards or books one folder may hold.
const FilesMax = 200

// Catalogs returns the rate card and price book catalogs: the embedded
// samples plus, when dir is not empty, every ratecards/*.json and
// pricebooks/*.json under dir (a version present in both is an error, so a
// vendor's file never silently shadows another).
func Catalogs(dir string) (*rates.Catalog, *pricing.Catalog, error) {
	sources := []fs.FS{testdata.Files}
	if dir != "" {
		sources = append(sources, os.DirFS(dir))
	}
	var cards []*rates.Card
	var books []*pricing.Book
	for _, src := range sources {
		c, err := parseAll(src, "ratecards", "rate card", rates.ParseCard)
		if err != nil {
			return nil, nil, err
		}
		b, err := parseAll(src, "pricebooks", "price book", pricing.ParseBook)
		if err != nil {
			return nil, nil, err
		}
		cards, books = append(cards, c...), append(books, b...)
	}
	rc, err := rates.NewCatalog(cards...)
	if err != nil {
		return nil, nil, fmt.Errorf("rate cards: %w", err)
	}
	pc, err := pricing.NewCatalog(books...)
	if err != nil {
		return nil, nil, fmt.Errorf("price books: %w", err)
	}
	return rc, pc, nil
}

// parseAll parses the JSON files of dir in src, in name order, naming the
// file (a `what`) that fails.
func parseAll[T any](src fs.FS, dir, what string, parse func([]byte) (T, error)) ([]T, error) {
	names, err := fs.Glob(src, path.Join(dir, "*.json"))
	if err != nil {
		return nil, err
	}
	if len(names) > FilesMax {
		return nil, fmt.Errorf("%s holds %d files; at most %d", dir, len(names), FilesMax)
	}
	sort.Strings(names)
	out := make([]T, 0, len(names))
	for _, n := range names {
		b, err := fs.ReadFile(src, n)
		if err != nil {
			return nil, err
		}
		x, err := parse(b)
		if err != nil {
			return nil, fmt.Errorf("%s %s: %w", what, n, err)
		}
		out = append(out, x)
	}
	return out, nil
}
