package rates

import (
	"fmt"
	"strings"

	"github.com/shopspring/decimal"

	"cloudcredits/core"
)

// Warning codes. New codes are appended only; clients match on them.
const (
	// WarnMeshScaleUp: a power_law job above the reference size; the message
	// says how the multiple of the mesh multiplies the cost.
	WarnMeshScaleUp = "mesh_scale_up"
	// WarnManyOutcomes: a base_plus_per_unit job with at least
	// ManyOutcomesWarnAt outcomes; the message compares it with one outcome.
	WarnManyOutcomes = "many_outcomes"
	// WarnInsufficientBalance: holdings were given and the balance in the
	// job's currency is below its cost (for a batch: below the total).
	WarnInsufficientBalance = "insufficient_balance"
	// WarnCurrencyNotHeld: holdings were given, none of the job's currency
	// is held, but some other currency is, which cannot substitute.
	WarnCurrencyNotHeld = "currency_not_held"
)

// Estimate is what one job costs under one card.
type Estimate struct {
	Service         string
	Credits         decimal.Decimal // whole unless the rule's rounding is none
	Currency        core.Currency
	RatecardVersion string
	// Params are the parameters the job was priced with: canonical text,
	// defaults filled in.
	Params    Params
	Breakdown []Line
	Warnings  []Warning
}

// Line is one line of an estimate's breakdown. The credits of the lines add
// up to the estimate's credits: a rule's lines, then, when rounding up to
// whole credits changed the sum, a "Rounded up to whole credits" line. Lines
// such as a base fee have no quantity, unit or rate.
type Line struct {
	Label    string
	Quantity string // decimal text, or empty
	Unit     string
	Rate     string // credits per unit of Quantity, decimal text, or empty
	Credits  decimal.Decimal
}

// Warning is a consumption trap or a balance problem the user should see
// before running the job. It never stops the estimate.
type Warning struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// Batch is the estimate of several jobs. Credits of different currencies
// never add up, so Total holds one sum per currency that occurs in Items.
type Batch struct {
	Items           []Estimate
	Total           map[core.Currency]decimal.Decimal
	RatecardVersion string
	// Warnings are about the batch as a whole: a balance that covers each
	// job alone but not all of them together.
	Warnings []Warning
}

// Estimate prices one job. Holdings (nil for none) enable the balance
// warnings. An unknown service, a missing, unknown or malformed parameter,
// or a value outside the parameter's schema is an invalid_request error
// naming each field ("service", "params.road_km").
func (c *Card) Estimate(service string, params Params, holdings map[core.Currency]decimal.Decimal) (Estimate, error) {
	var p core.Problems
	checkHoldings(&p, holdings)
	est, err := c.estimate(Item{Service: service, Params: params})
	if err != nil {
		if core.ErrorCode(err) != core.CodeInvalidRequest {
			return Estimate{}, err
		}
		p.Merge("", err)
	}
	if err := p.Err(); err != nil {
		return Estimate{}, err
	}
	est.Warnings = append(est.Warnings, balanceWarnings("this job", est.Currency, est.Credits, holdings)...)
	return est, nil
}

// EstimateMany prices up to ItemsMax jobs with one card. Problems of every
// item are reported at once, prefixed with the item ("items[2].service"), up
// to ProblemsMax.
func (c *Card) EstimateMany(items []Item, holdings map[core.Currency]decimal.Decimal) (Batch, error) {
	switch n := len(items); {
	case n == 0:
		return Batch{}, core.Invalid("items", "must list at least one item")
	case n > ItemsMax:
		return Batch{}, core.Invalid("items", "has %d items; at most %d are allowed", n, ItemsMax)
	}
	var p core.Problems
	checkHoldings(&p, holdings)
	b := Batch{
		Items:           make([]Estimate, len(items)),
		Total:           map[core.Currency]decimal.Decimal{},
		RatecardVersion: c.Version,
		Warnings:        []Warning{},
	}
	for i, it := range items {
		if p.Len() >= ProblemsMax {
			p.Add("items", "has more problems from items[%d] on; only the first %d are reported", i, ProblemsMax)
			break
		}
		est, err := c.estimate(it)
		if err != nil {
			if core.ErrorCode(err) != core.CodeInvalidRequest {
				return Batch{}, fmt.Errorf("items[%d]: %w", i, err)
			}
			p.Merge(fmt.Sprintf("items[%d]", i), err)
			continue
		}
		est.Warnings = append(est.Warnings, balanceWarnings("this job", est.Currency, est.Credits, holdings)...)
		b.Items[i] = est
		b.Total[est.Currency] = b.Total[est.Currency].Add(est.Credits)
	}
	if err := p.Err(); err != nil {
		return Batch{}, err
	}
	for _, cur := range core.Currencies() {
		total, ok := b.Total[cur]
		if !ok || holdings == nil {
			continue
		}
		// With none of the currency held each item already says so; the
		// batch adds only what no single item shows.
		if held := holdings[cur]; held.Sign() > 0 && total.GreaterThan(held) {
			b.Warnings = append(b.Warnings, balanceWarnings("the batch in total", cur, total, holdings)...)
		}
	}
	return b, nil
}

// estimate prices one item without looking at balances.
func (c *Card) estimate(it Item) (Estimate, error) {
	var p core.Problems
	svc, ok := c.Service(it.Service)
	if !ok {
		switch {
		case it.Service == "":
			p.Add("service", "is required")
		case len(c.Services) <= 20:
			ids := make([]string, len(c.Services))
			for i := range c.Services {
				ids[i] = c.Services[i].ID
			}
			p.Add("service", "%q is not a service of rate card %s; expected %s", clip(it.Service), c.Version, orList(ids))
		default:
			p.Add("service", "%q is not a service of rate card %s (GET /v1/ratecard lists them)", clip(it.Service), c.Version)
		}
		return Estimate{}, p.Err()
	}
	vals := svc.resolve(&p, it.Params)
	if err := p.Err(); err != nil {
		return Estimate{}, err
	}
	got, err := svc.price(vals)
	if err != nil {
		return Estimate{}, core.Errorf(core.CodeInternal, "rate card %s, service %s: %v", c.Version, svc.ID, err)
	}
	echo := make(Params, len(vals))
	for i := range vals {
		echo[svc.Params[i].Name] = vals[i].text
	}
	warnings := got.warnings
	if warnings == nil {
		warnings = []Warning{}
	}
	return Estimate{
		Service:         svc.ID,
		Credits:         got.credits,
		Currency:        svc.Currency,
		RatecardVersion: c.Version,
		Params:          echo,
		Breakdown:       got.lines,
		Warnings:        warnings,
	}, nil
}

// resolve checks a job's parameters against the schema and fills in
// defaults. Problems are recorded under "params.<name>".
func (s *Service) resolve(p *core.Problems, params Params) []value {
	if len(params) > ParamsPerRequestMax {
		p.Add("params", "has %d parameters; at most %d are allowed", len(params), ParamsPerRequestMax)
		return nil
	}
	for name := range params {
		if s.param(name) >= 0 {
			continue
		}
		if len(name) > IDLenMax {
			p.Add("params", "has a parameter name longer than %d characters", IDLenMax)
			continue
		}
		names := make([]string, len(s.Params))
		for i := range s.Params {
			names[i] = s.Params[i].Name
		}
		if len(names) == 0 {
			p.Add("params."+name, "is not a parameter of %s, which takes none", s.ID)
		} else {
			p.Add("params."+name, "is not a parameter of %s; expected %s", s.ID, orList(names))
		}
	}
	vals := make([]value, len(s.Params))
	for i := range s.Params {
		pr := &s.Params[i]
		field := "params." + pr.Name
		text, given := params[pr.Name]
		if !given {
			if pr.Default == "" {
				if pr.Unit != "" {
					p.Add(field, "is required: %s, in %s", pr.Label, pr.Unit)
				} else {
					p.Add(field, "is required: %s", pr.Label)
				}
				continue
			}
			text = pr.Default
		}
		d, ok := pr.parse(p, field, text)
		if !ok {
			continue
		}
		if pr.Type == ParamNumber {
			text = d.String()
		}
		vals[i] = value{num: d, text: text}
	}
	return vals
}

// checkHoldings validates balances given from Go (ParseEstimateRequest has
// already checked those from JSON).
func checkHoldings(p *core.Problems, holdings map[core.Currency]decimal.Decimal) {
	for c, d := range holdings {
		field := "holdings." + clip(string(c))
		if _, ok := core.ParseCurrency(string(c)); !ok {
			p.Add(field, "is not a currency; expected %s", currencyList())
		} else if msg := holdingProblem(d); msg != "" {
			p.Add(field, "%s", msg)
		}
	}
}

// balanceWarnings compares a cost with the holdings; what names the cost in
// the message ("this job", "the batch in total").
func balanceWarnings(what string, cur core.Currency, credits decimal.Decimal, holdings map[core.Currency]decimal.Decimal) []Warning {
	if holdings == nil {
		return nil
	}
	held := holdings[cur]
	if !held.LessThan(credits) {
		return nil
	}
	if held.IsZero() {
		var others []string
		for _, other := range core.Currencies() {
			if d := holdings[other]; other != cur && d.Sign() > 0 {
				others = append(others, d.String()+" "+other.Name())
			}
		}
		if len(others) > 0 {
			return []Warning{{
				Code:    WarnCurrencyNotHeld,
				Message: fmt.Sprintf("you hold %s; this service takes %s", andList(others), cur.Name()),
			}}
		}
	}
	return []Warning{{
		Code: WarnInsufficientBalance,
		Message: fmt.Sprintf("%s needs %s %s; you hold %s (%s short)",
			what, credits, cur.Name(), held, credits.Sub(held)),
	}}
}

func andList(items []string) string {
	if len(items) <= 1 {
		return strings.Join(items, "")
	}
	return strings.Join(items[:len(items)-1], ", ") + " and " + items[len(items)-1]
}

// Answer is the one code path of POST /v1/estimates, shared by the HTTP API
// and the WebAssembly build: it returns what the route encodes, an Estimate
// for the single form and a Batch for the items form.
func (c *Card) Answer(req EstimateRequest) (any, error) {
	if req.Batch {
		b, err := c.EstimateMany(req.Items, req.Holdings)
		if err != nil {
			return nil, err
		}
		return b, nil
	}
	if len(req.Items) != 1 {
		return nil, core.Invalid("service", "is required (or items, for a batch)")
	}
	est, err := c.Estimate(req.Items[0].Service, req.Items[0].Params, req.Holdings)
	if err != nil {
		return nil, err
	}
	return est, nil
}

// AnswerJSON parses a POST /v1/estimates body and returns the JSON answer,
// byte for byte what both the server and the browser return. Errors are
// *core.Error (invalid_request, too_large) for the caller's error envelope.
func (c *Card) AnswerJSON(body []byte) ([]byte, error) {
	req, p, err := parseRequest(body)
	if err != nil {
		return nil, err
	}
	if p.Len() > 0 {
		// Report the card's problems with the readable items too, so that
		// one round trip shows everything. A problem found while parsing
		// wins over one the card finds in the same field.
		for i, it := range req.Items {
			if p.Len() >= ProblemsMax {
				break
			}
			prefix := ""
			if req.Batch {
				prefix = fmt.Sprintf("items[%d]", i)
			}
			if it.Params == nil {
				continue // not an object: already reported
			}
			if _, err := c.estimate(it); core.ErrorCode(err) == core.CodeInvalidRequest {
				p.Merge(prefix, err)
			}
		}
		return nil, p.Err()
	}
	ans, err := c.Answer(req)
	if err != nil {
		return nil, err
	}
	// The same bytes as core.EncodeJSON(ans), without compacting the output
	// of MarshalJSON a second time.
	switch a := ans.(type) {
	case Estimate:
		return core.EncodeJSON(a.toJSON())
	case Batch:
		return core.EncodeJSON(a.toJSON())
	}
	return core.EncodeJSON(ans)
}

// The JSON shapes of the public API. Decimals are strings; lists are never
// null.
type estimateJSON struct {
	Service         string        `json:"service"`
	Credits         string        `json:"credits"`
	Currency        core.Currency `json:"currency"`
	RatecardVersion string        `json:"ratecard_version"`
	Params          Params        `json:"params"`
	Breakdown       []lineJSON    `json:"breakdown"`
	Warnings        []Warning     `json:"warnings"`
}

type lineJSON struct {
	Label    string `json:"label"`
	Quantity string `json:"quantity,omitempty"`
	Unit     string `json:"unit,omitempty"`
	Rate     string `json:"rate,omitempty"`
	Credits  string `json:"credits"`
}

type batchJSON struct {
	Items           []estimateJSON    `json:"items"`
	Total           map[string]string `json:"total"`
	RatecardVersion string            `json:"ratecard_version"`
	Warnings        []Warning         `json:"warnings"`
}

func (e *Estimate) toJSON() estimateJSON {
	o := estimateJSON{
		Service:         e.Service,
		Credits:         core.FormatCredits(e.Credits),
		Currency:        e.Currency,
		RatecardVersion: e.RatecardVersion,
		Params:          e.Params,
		Breakdown:       make([]lineJSON, len(e.Breakdown)),
		Warnings:        e.Warnings,
	}
	if o.Params == nil {
		o.Params = Params{}
	}
	if o.Warnings == nil {
		o.Warnings = []Warning{}
	}
	for i, l := range e.Breakdown {
		o.Breakdown[i] = lineJSON{Label: l.Label, Quantity: l.Quantity, Unit: l.Unit, Rate: l.Rate, Credits: core.FormatCredits(l.Credits)}
	}
	return o
}

// MarshalJSON writes {"service", "credits", "currency", "ratecard_version",
// "params", "breakdown": [{"label", "quantity"?, "unit"?, "rate"?,
// "credits"}], "warnings": [{"code", "message"}]}.
func (e Estimate) MarshalJSON() ([]byte, error) {
	return core.EncodeJSON(e.toJSON())
}

// MarshalJSON writes {"items": [<estimate>...], "total": {"cloud": "...",
// "forma": "..."}, "ratecard_version", "warnings": [...]}.
func (b Batch) MarshalJSON() ([]byte, error) {
	return core.EncodeJSON(b.toJSON())
}

func (b *Batch) toJSON() batchJSON {
	o := batchJSON{
		Items:           make([]estimateJSON, len(b.Items)),
		Total:           make(map[string]string, len(b.Total)),
		RatecardVersion: b.RatecardVersion,
		Warnings:        b.Warnings,
	}
	if o.Warnings == nil {
		o.Warnings = []Warning{}
	}
	for i := range b.Items {
		o.Items[i] = b.Items[i].toJSON()
	}
	for c, d := range b.Total {
		o.Total[string(c)] = core.FormatCredits(d)
	}
	return o
}
