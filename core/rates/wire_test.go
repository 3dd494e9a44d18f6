package rates

import (
	"bytes"
	"testing"

	"cloudcredits/core"
)

// The JSON shapes of POST /v1/estimates as encoding/json wrote them before
// AppendJSON: the reference the hand-written encoder is held to.
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

func (e *Estimate) reference() estimateJSON {
	o := estimateJSON{
		Service: e.Service, Credits: core.FormatCredits(e.Credits), Currency: e.Currency, RatecardVersion: e.RatecardVersion,
		Params: e.Params, Breakdown: make([]lineJSON, len(e.Breakdown)), Warnings: e.Warnings,
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

// TestEstimateJSONIsEncodingJSONs: AppendJSON writes byte for byte what
// encoding/json writes for the documented shape, for every golden request
// (single and batch, with and without holdings) and for text that needs
// escaping.
func TestEstimateJSONIsEncodingJSONs(t *testing.T) {
	c := card2018(t)
	checked := 0
	for _, tc := range loadGoldenCases(t) {
		req, err := ParseEstimateRequest(tc.Request)
		if err != nil {
			continue
		}
		ans, err := c.Answer(req)
		if err != nil {
			continue
		}
		var got, want []byte
		switch a := ans.(type) {
		case Estimate:
			got = a.AppendJSON(nil)
			want, _ = core.EncodeJSON(a.reference())
		case Batch:
			got = a.AppendJSON(nil)
			ref := batchJSON{Items: make([]estimateJSON, len(a.Items)), Total: map[string]string{}, RatecardVersion: a.RatecardVersion, Warnings: a.Warnings}
			if ref.Warnings == nil {
				ref.Warnings = []Warning{}
			}
			for i := range a.Items {
				ref.Items[i] = a.Items[i].reference()
			}
			for cur, d := range a.Total {
				ref.Total[string(cur)] = core.FormatCredits(d)
			}
			want, _ = core.EncodeJSON(ref)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s:\n got: %s\nwant: %s", tc.Name, got, want)
		}
		checked++
	}
	odd := Estimate{Service: "a<b>&c", RatecardVersion: "v\u2028", Params: Params{"q\"": "\x01", "a": "é"},
		Breakdown: []Line{{Label: "x\ty", Unit: "km"}, {Label: "z", Quantity: "1", Rate: "2"}}, Warnings: []Warning{{Code: "c", Message: "bad\xff"}}}
	want, _ := core.EncodeJSON(odd.reference())
	if got := odd.AppendJSON(nil); !bytes.Equal(got, want) {
		t.Errorf("escaping:\n got: %s\nwant: %s", got, want)
	}
	if checked < 10 {
		t.Fatalf("only %d golden answers checked", checked)
	}
}
