package main

import (
	"strings"
	"time"

	"cloudcredits/core/rates"
)

// The typed estimate call: what the page calls on every keystroke. The
// request crosses from JavaScript as one packed string instead of JSON
// (which Go would parse with the strict token decoder), the estimate is
// core's own (Card.Estimate, Card.EstimateMany: the same code as the API's),
// and the answer is written by core's own encoder (Estimate.AppendJSON,
// Batch.AppendJSON), the very bytes the route answers.
//
// Packing: items are separated by sepItem; an item is its service, then its
// parameters' names and values, all separated by sepField. The loader packs
// only strings free of both separators, and sends anything else (holdings,
// non-string values, separators in the text) as JSON through estimate.
const (
	sepItem  = "\x1d"
	sepField = "\x1e"
)

// statusUseJSON asks the loader to send the request as JSON instead: the
// typed call does not check what only the JSON form can get wrong (the
// number of items, the body's size), so it leaves those requests to it.
const statusUseJSON = 0

// estimatePacked answers a packed request: the single form ({service,
// params}) unless batch, the items form otherwise. Its answers are those of
// estimate for the same request as JSON without holdings.
//
// The answer is appended to buf, which may be reused between calls.
func (e *engine) estimatePacked(packed string, batch bool, at time.Time, buf []byte) (int, []byte) {
	if len(packed) > rates.RequestBytesMax/2 {
		return statusUseJSON, nil
	}
	n := strings.Count(packed, sepItem) + 1
	if !batch && n != 1 || n > rates.ItemsMax {
		return statusUseJSON, nil
	}
	items := make([]rates.Item, 0, n)
	for it := range strings.SplitSeq(packed, sepItem) {
		fields := strings.Split(it, sepField)
		if len(fields)%2 != 1 {
			return statusUseJSON, nil // a name without a value: not the loader's packing
		}
		params := make(rates.Params, len(fields)/2)
		for i := 1; i < len(fields); i += 2 {
			if _, dup := params[fields[i]]; dup {
				return statusUseJSON, nil
			}
			params[fields[i]] = fields[i+1]
		}
		items = append(items, rates.Item{Service: fields[0], Params: params})
	}
	card, err := e.rates.At(at)
	if err != nil {
		return errorAnswer(err)
	}
	if batch {
		b, err := card.EstimateMany(items, nil)
		if err != nil {
			return errorAnswer(err)
		}
		return 200, b.AppendJSON(buf)
	}
	est, err := card.Estimate(items[0].Service, items[0].Params, nil)
	if err != nil {
		return errorAnswer(err)
	}
	return 200, est.AppendJSON(buf)
}
