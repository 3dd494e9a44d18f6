package main

import (
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"cloudcredits/core"
	"cloudcredits/core/rates"
)

// The typed estimate call: what the page calls on every keystroke. The
// request crosses from JavaScript as one packed string instead of JSON
// (which Go would parse with the strict token decoder), the estimate is
// core's own (Card.Estimate, Card.EstimateMany: the same code as the API's),
// and the answer is encoded by hand, to exactly the bytes encoding/json
// gives the API's answer (answer_test.go compares them on every golden
// case), without reflection.
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
func (e *engine) estimatePacked(packed string, batch bool, at time.Time) (int, []byte) {
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
	buf := make([]byte, 0, 512*n)
	if batch {
		b, err := card.EstimateMany(items, nil)
		if err != nil {
			return errorAnswer(err)
		}
		return 200, appendBatch(buf, &b)
	}
	est, err := card.Estimate(items[0].Service, items[0].Params, nil)
	if err != nil {
		return errorAnswer(err)
	}
	return 200, appendEstimate(buf, &est)
}

// appendEstimate writes what encoding/json writes for the API's estimate:
// {"service", "credits", "currency", "ratecard_version", "params" (keys
// sorted), "breakdown": [{"label", "quantity"?, "unit"?, "rate"?,
// "credits"}], "warnings": [{"code", "message"}]}.
func appendEstimate(b []byte, e *rates.Estimate) []byte {
	b = append(b, `{"service":`...)
	b = appendString(b, e.Service)
	b = append(b, `,"credits":`...)
	b = appendString(b, core.FormatCredits(e.Credits))
	b = append(b, `,"currency":`...)
	b = appendString(b, string(e.Currency))
	b = append(b, `,"ratecard_version":`...)
	b = appendString(b, e.RatecardVersion)
	b = append(b, `,"params":`...)
	b = appendSortedMap(b, e.Params)
	b = append(b, `,"breakdown":[`...)
	for i, l := range e.Breakdown {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"label":`...)
		b = appendString(b, l.Label)
		for _, f := range [...]struct{ name, v string }{{`,"quantity":`, l.Quantity}, {`,"unit":`, l.Unit}, {`,"rate":`, l.Rate}} {
			if f.v != "" {
				b = append(b, f.name...)
				b = appendString(b, f.v)
			}
		}
		b = append(b, `,"credits":`...)
		b = appendString(b, core.FormatCredits(l.Credits))
		b = append(b, '}')
	}
	b = append(b, `],"warnings":`...)
	b = appendWarnings(b, e.Warnings)
	return append(b, '}')
}

// appendBatch writes the API's batch answer: {"items": [...], "total"
// (currencies sorted), "ratecard_version", "warnings"}.
func appendBatch(b []byte, batch *rates.Batch) []byte {
	b = append(b, `{"items":[`...)
	for i := range batch.Items {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendEstimate(b, &batch.Items[i])
	}
	b = append(b, `],"total":`...)
	total := make(map[string]string, len(batch.Total))
	for c, d := range batch.Total {
		total[string(c)] = core.FormatCredits(d)
	}
	b = appendSortedMap(b, total)
	b = append(b, `,"ratecard_version":`...)
	b = appendString(b, batch.RatecardVersion)
	b = append(b, `,"warnings":`...)
	b = appendWarnings(b, batch.Warnings)
	return append(b, '}')
}

func appendWarnings(b []byte, ws []rates.Warning) []byte {
	b = append(b, '[')
	for i, w := range ws {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"code":`...)
		b = appendString(b, w.Code)
		b = append(b, `,"message":`...)
		b = appendString(b, w.Message)
		b = append(b, '}')
	}
	return append(b, ']')
}

// appendSortedMap writes a map of strings as encoding/json does: keys
// sorted, a nil map as {}.
func appendSortedMap[M ~map[string]string](b []byte, m M) []byte {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	b = append(b, '{')
	for i, k := range keys {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, k)
		b = append(b, ':')
		b = appendString(b, m[k])
	}
	return append(b, '}')
}

const hexDigits = "0123456789abcdef"

// appendString quotes s as core.EncodeJSON does: '<', '>' and '&' as they
// are (no HTML escaping), control characters escaped, invalid UTF-8 as
// \ufffd, U+2028 and U+2029 escaped.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '\\', '"':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
