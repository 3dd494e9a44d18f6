package rates

import (
	"strings"
	"testing"
)

// TestAnswersDoNotEscapeHTML: a card's names and units, and the estimates
// that quote them, are JSON for a client, so '<', '>' and '&' are written as
// they are, never as \u003c, \u003e or \u0026.
func TestAnswersDoNotEscapeHTML(t *testing.T) {
	c := card2018(t)
	const odd = "Roads & <ramps>"
	found := false
	for i := range c.Services {
		s := &c.Services[i]
		if s.ID != "infraworks-profile-optimization" {
			continue
		}
		found = true
		s.Name = odd
		for j := range s.Params {
			s.Params[j].Unit = "km & more"
		}
	}
	if !found {
		t.Fatal("the sample card has no infraworks-profile-optimization service")
	}
	card, err := c.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	single, err := c.AnswerJSON([]byte(`{"service":"infraworks-profile-optimization","params":{"road_km":"12"}}`))
	if err != nil {
		t.Fatal(err)
	}
	batch, err := c.AnswerJSON([]byte(`{"items":[{"service":"infraworks-profile-optimization","params":{"road_km":"12"}}]}`))
	if err != nil {
		t.Fatal(err)
	}
	for name, tc := range map[string]struct {
		got  []byte
		want string
	}{
		"card":     {card, odd},
		"estimate": {single, "km & more"},
		"batch":    {batch, "km & more"},
	} {
		if s := string(tc.got); !strings.Contains(s, tc.want) || strings.Contains(s, `\u00`) {
			t.Errorf("%s = %s; want %q written as it is", name, s, tc.want)
		}
	}
}
