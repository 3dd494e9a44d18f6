package main

import (
	"fmt"
	"io/fs"
	"time"

	"cloudcredits/core"
	"cloudcredits/core/pricing"
	"cloudcredits/core/rates"
	"cloudcredits/testdata"
)

// engine answers estimate and price requests like the API does.
type engine struct {
	rates  *rates.Catalog
	prices *pricing.Catalog
}

func newEngine() (*engine, error) {
	var cards []*rates.Card
	var books []*pricing.Book
	names, _ := fs.Glob(testdata.Files, "ratecards/*.json")
	for _, n := range names {
		b, _ := fs.ReadFile(testdata.Files, n)
		c, err := rates.ParseCard(b)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", n, err)
		}
		cards = append(cards, c)
	}
	names, _ = fs.Glob(testdata.Files, "pricebooks/*.json")
	for _, n := range names {
		b, _ := fs.ReadFile(testdata.Files, n)
		pb, err := pricing.ParseBook(b)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", n, err)
		}
		books = append(books, pb)
	}
	rc, err := rates.NewCatalog(cards...)
	if err != nil {
		return nil, err
	}
	pc, err := pricing.NewCatalog(books...)
	if err != nil {
		return nil, err
	}
	return &engine{rates: rc, prices: pc}, nil
}

// setRateCard replaces the rate cards with one card (the JSON of
// GET /v1/ratecard), so the browser estimates with the server's current card.
func (e *engine) setRateCard(body []byte) error {
	c, err := rates.ParseCard(body)
	if err != nil {
		return err
	}
	rc, err := rates.NewCatalog(c)
	if err != nil {
		return err
	}
	e.rates = rc
	return nil
}

// estimate answers a POST /v1/estimates body at time at.
func (e *engine) estimate(body []byte, at time.Time) (int, []byte) {
	card, err := e.rates.At(at)
	if err != nil {
		return errorAnswer(err)
	}
	out, err := card.AnswerJSON(body)
	if err != nil {
		return errorAnswer(err)
	}
	return 200, out
}

// price answers a POST /v1/prices body at time at.
func (e *engine) price(body []byte, at time.Time) (int, []byte) {
	req, err := pricing.ParseRequest(body)
	if err != nil {
		return errorAnswer(err)
	}
	p, err := e.prices.Price(req, at)
	if err != nil {
		return errorAnswer(err)
	}
	// p.MarshalJSON's bytes are the route's: compact and not HTML-escaped
	// (core.EncodeJSON), so no second pass is needed.
	out, err := p.MarshalJSON()
	if err != nil {
		return errorAnswer(err)
	}
	return 200, out
}

// errorAnswer encodes an error in the API's shape, with the API's status for
// its code (the two codes that can arise here).
func errorAnswer(err error) (int, []byte) {
	e, ok := core.AsError(err)
	if !ok {
		e = core.Errorf(core.CodeInternal, "%s", err.Error())
	}
	status := 500
	switch e.Code {
	case core.CodeInvalidRequest:
		status = 400
	case core.CodeSalesClosed:
		status = 422
	}
	out, _ := core.EncodeJSON(map[string]any{"error": map[string]any{"code": e.Code, "message": e.Message, "details": e.Details}})
	return status, out
}
