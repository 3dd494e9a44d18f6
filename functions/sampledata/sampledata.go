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
		err := each(src, "ratecards", func(name string, b []byte) error {
			c, err := rates.ParseCard(b)
			if err != nil {
				return fmt.Errorf("rate card %s: %w", name, err)
			}
			cards = append(cards, c)
			return nil
		})
		if err != nil {
			return nil, nil, err
		}
		err = each(src, "pricebooks", func(name string, b []byte) error {
			pb, err := pricing.ParseBook(b)
			if err != nil {
				return fmt.Errorf("price book %s: %w", name, err)
			}
			books = append(books, pb)
			return nil
		})
		if err != nil {
			return nil, nil, err
		}
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

func each(src fs.FS, dir string, fn func(name string, b []byte) error) error {
	names, err := fs.Glob(src, path.Join(dir, "*.json"))
	if err != nil {
		return err
	}
	if len(names) > FilesMax {
		return fmt.Errorf("%s holds %d files; at most %d", dir, len(names), FilesMax)
	}
	sort.Strings(names)
	for _, n := range names {
		b, err := fs.ReadFile(src, n)
		if err != nil {
			return err
		}
		if err := fn(n, b); err != nil {
			return err
		}
	}
	return nil
}
