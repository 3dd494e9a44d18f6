package rates

import (
	"fmt"

	"github.com/shopspring/decimal"

	"cloudcredits/core"
	"cloudcredits/core/jsontext"
)

// Params are a job's parameters by name: decimal text ("12.5") for a number,
// the value itself ("final") for an enum.
type Params map[string]string

// Item is one job to estimate.
type Item struct {
	Service string `json:"service"`
	Params  Params `json:"params"`
}

// EstimateRequest is the parsed body of POST /v1/estimates.
type EstimateRequest struct {
	// Items holds the one job of the single form, or the jobs of the batch
	// form in request order.
	Items []Item
	// Batch is true when the body used the items form; the answer is then a
	// Batch even for one item.
	Batch bool
	// Holdings are the caller's balances by currency. Nil when the body gave
	// none: then no balance warnings are made. An empty, non-nil map means
	// the caller holds nothing.
	Holdings map[core.Currency]decimal.Decimal
}

// ParseEstimateRequest parses the body of POST /v1/estimates:
//
//	{"service": "...", "params": {...}, "holdings"?: {...}}
//	{"items": [{"service": "...", "params": {...}}, ...], "holdings"?: {...}}
//
// Exactly one of service and items must be given. A parameter value may be a
// JSON string or a JSON number; numbers are read as decimal text, never as
// binary fractions. Holdings map currency codes to non-negative decimal
// balances ({"cloud": "500"}). Unknown fields, a key given twice, wrong
// types and trailing data are refused, every problem at once, as an
// invalid_request error naming each field ("items[2].service",
// "params.road_km"). Whether a service and its parameters exist is checked
// by Estimate, against a card.
func ParseEstimateRequest(body []byte) (EstimateRequest, error) {
	req, p, err := parseRequest(body)
	if err != nil {
		return EstimateRequest{}, err
	}
	if err := p.Err(); err != nil {
		return EstimateRequest{}, err
	}
	return req, nil
}

// parseRequest returns what could be read of a body and the problems found.
// err is set only when nothing could be read (too large, not JSON, not an
// object); otherwise the request holds every item that was an object, so
// that AnswerJSON can report the card's problems with them too.
func parseRequest(body []byte) (EstimateRequest, *core.Problems, error) {
	var req EstimateRequest
	p := &core.Problems{}
	if len(body) > RequestBytesMax {
		return req, p, core.Errorf(core.CodeTooLarge, "an estimate request may be at most %d bytes; this one is %d", RequestBytesMax, len(body))
	}
	v, err := decodeStrict(body, jsonDepthMax)
	if err != nil {
		je := err.(*jsonError)
		return req, p, core.Invalid(orName(je.path, "body"), "%s", je.msg)
	}
	top, ok := v.(map[string]any)
	if !ok {
		return req, p, core.Invalid("body", "must be a JSON object; got %s", jsontext.KindOf(v))
	}
	for _, k := range sortedKeys(top) {
		switch k {
		case "service", "params", "items", "holdings":
		default:
			p.Add(joinPath("", k), "is not a known field; expected service and params, or items, and optionally holdings")
		}
	}
	rawItems, hasItems := top["items"]
	_, hasService := top["service"]
	switch {
	case hasItems && hasService:
		p.Add("items", "cannot be combined with service: send one job as service and params, or several as items")
	case hasItems:
		if _, ok := top["params"]; ok {
			p.Add("params", "belongs inside each item of items")
		}
		req.Batch = true
		req.Items = parseItems(p, rawItems)
	default:
		req.Items = []Item{parseItem(p, "", top)}
	}
	if raw, ok := top["holdings"]; ok && raw != nil {
		req.Holdings = parseHoldings(p, raw)
	}
	return req, p, nil
}

func parseItems(p *core.Problems, raw any) []Item {
	arr, ok := raw.([]any)
	switch {
	case !ok:
		p.Add("items", "must be an array of {service, params}; got %s", jsontext.KindOf(raw))
		return nil
	case len(arr) == 0:
		p.Add("items", "must list at least one item")
		return nil
	case len(arr) > ItemsMax:
		p.Add("items", "has %d items; at most %d are allowed", len(arr), ItemsMax)
		return nil
	}
	items := make([]Item, len(arr))
	for i, rawItem := range arr {
		prefix := fmt.Sprintf("items[%d]", i)
		obj, ok := rawItem.(map[string]any)
		if !ok {
			p.Add(prefix, "must be an object {service, params}; got %s", jsontext.KindOf(rawItem))
			continue // leaves a zero Item, whose problems are already told
		}
		for _, k := range sortedKeys(obj) {
			if k != "service" && k != "params" {
				p.Add(joinPath(prefix, k), "is not a known field; an item has service and params")
			}
		}
		items[i] = parseItem(p, prefix, obj)
	}
	return items
}

// parseItem reads service and params from obj; prefix is "" for the single
// form and "items[i]" in a batch.
func parseItem(p *core.Problems, prefix string, obj map[string]any) Item {
	var it Item
	sf := joinPath(prefix, "service")
	switch s := obj["service"].(type) {
	case string:
		switch {
		case s == "":
			p.Add(sf, "is required")
		case len(s) > IDLenMax:
			p.Add(sf, "is longer than %d characters", IDLenMax)
		default:
			it.Service = s
		}
	case nil:
		if _, given := obj["service"]; given || prefix != "" {
			p.Add(sf, "is required: a service id such as \"rendering\"")
		} else {
			p.Add(sf, "is required (or items, for a batch)")
		}
	default:
		p.Add(sf, "must be a string; got %s", jsontext.KindOf(s))
	}
	pf := joinPath(prefix, "params")
	raw, given := obj["params"]
	if !given || raw == nil {
		it.Params = Params{}
		return it
	}
	m, ok := raw.(map[string]any)
	if !ok {
		p.Add(pf, "must be an object of parameter names to values; got %s", jsontext.KindOf(raw))
		return it
	}
	if len(m) > ParamsPerRequestMax {
		p.Add(pf, "has %d parameters; at most %d are allowed", len(m), ParamsPerRequestMax)
		return it
	}
	it.Params = make(Params, len(m))
	for _, name := range sortedKeys(m) {
		field := joinPath(pf, name)
		if len(name) > IDLenMax {
			p.Add(pf, "has a parameter name longer than %d characters", IDLenMax)
			continue
		}
		text, ok := scalarText(m[name])
		switch {
		case !ok:
			p.Add(field, "must be a number or a string; got %s", jsontext.KindOf(m[name]))
		case len(text) > ParamValueLenMax:
			p.Add(field, "is longer than %d characters", ParamValueLenMax)
		default:
			it.Params[name] = text
		}
	}
	return it
}

// scalarText returns a string's value or a number's decimal text.
func scalarText(v any) (string, bool) {
	switch t := v.(type) {
	case string:
		return t, true
	case jsontext.Number:
		return string(t), true
	}
	return "", false
}

func parseHoldings(p *core.Problems, raw any) map[core.Currency]decimal.Decimal {
	m, ok := raw.(map[string]any)
	if !ok {
		p.Add("holdings", "must be an object of currency to balance, such as {\"cloud\": \"500\"}; got %s", jsontext.KindOf(raw))
		return nil
	}
	out := make(map[core.Currency]decimal.Decimal, len(m))
	for _, k := range sortedKeys(m) {
		field := joinPath("holdings", k)
		c, ok := core.ParseCurrency(k)
		if !ok {
			p.Add(field, "is not a currency; expected %s", currencyList())
			continue
		}
		text, ok := scalarText(m[k])
		if !ok {
			p.Add(field, "must be a decimal balance such as \"500\"; got %s", jsontext.KindOf(m[k]))
			continue
		}
		d, err := core.ParseDecimal(field, text, core.CreditsScaleMax)
		if err != nil {
			p.Merge("", err)
			continue
		}
		if msg := holdingProblem(d); msg != "" {
			p.Add(field, "%s", msg)
			continue
		}
		out[c] = d
	}
	return out
}

func holdingProblem(d decimal.Decimal) string {
	switch {
	case d.Sign() < 0:
		return "must not be negative"
	case d.GreaterThan(decimal.NewFromInt(core.CreditsMax)):
		return fmt.Sprintf("must be at most %d", core.CreditsMax)
	case !d.Equal(d.Truncate(core.CreditsScaleMax)):
		return fmt.Sprintf("has more than %d decimal places", core.CreditsScaleMax)
	}
	return ""
}
