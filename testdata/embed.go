// Package testdata holds the sample data the product was created from: the
// 2018 rate card, the price books, golden estimates and prices, ledger
// scenarios and Lambda event fixtures. The rate cards and price books are
// embedded so the local server and the WebAssembly estimator start with the
// sample data and nothing else to install.
//
// The go tool leaves directories named testdata out of ./... patterns, so
// this package is only ever built when something imports it.
package testdata

import "embed"

// Files holds the sample rate cards and price books.
//
//go:embed ratecards/*.json pricebooks/*.json
var Files embed.FS
