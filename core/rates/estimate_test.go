package rates

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/shopspring/decimal"

	"cloudcredits/core"
)

func TestEstimateErrors(t *testing.T) {
	c := card2018(t)
	tests := []struct {
		name    string
		service string
		params  Params
		want    map[string]string // field: message
	}{
		{"unknown service", "teleport", Params{}, map[string]string{
			"service": `"teleport" is not a service of rate card 2018-03-23; expected structural-analysis, inventor-optimization, simulation-fixed-study, moldflow-insight, infraworks-profile-optimization, configurator-360, rendering, cfd-fea-simulation, generative-design, lighting-analysis, forma-solar, forma-wind, forma-noise or forma-daylight`}},
		{"no service", "", Params{}, map[string]string{"service": "is required"}},
		{"missing required param", "infraworks-profile-optimization", Params{}, map[string]string{
			"params.road_km": "is required: Road length, in km"}},
		{"negative", "infraworks-profile-optimization", Params{"road_km": "-12"}, map[string]string{
			"params.road_km": "must not be negative; got -12"}},
		{"zero where not allowed", "infraworks-profile-optimization", Params{"road_km": "0"}, map[string]string{
			"params.road_km": "must be greater than zero (at least 0.01 km)"}},
		{"non-numeric", "infraworks-profile-optimization", Params{"road_km": "12km"}, map[string]string{
			"params.road_km": `must be a decimal number such as "12" or "12.5", got "12km"`}},
		{"absurdly large", "cfd-fea-simulation", Params{"elements": "99999999999999999999"}, map[string]string{
			"params.elements": "must be at most 100000000 elements; got 99999999999999999999"}},
		{"over-precise", "rendering", Params{"size_mb": "1.005"}, map[string]string{
			"params.size_mb": "has more than 2 decimal places; got 1.005"}},
		{"non-integer", "generative-design", Params{"outcomes": "2.5"}, map[string]string{
			"params.outcomes": "must be a whole number; got 2.5"}},
		{"unknown enum value", "rendering", Params{"size_mb": "1", "quality": "ultra"}, map[string]string{
			"params.quality": `must be one of draft, standard, final or panorama; got "ultra"`}},
		{"unknown param name", "configurator-360", Params{"session": "3"}, map[string]string{
			"params.session": "is not a parameter of configurator-360; expected sessions"}},
		{"param for a service that takes none", "lighting-analysis", Params{"rooms": "3"}, map[string]string{
			"params.rooms": "is not a parameter of lighting-analysis, which takes none"}},
		{"every problem at once", "rendering", Params{"size_mb": "-1", "quality": "ultra", "colour": "red"}, map[string]string{
			"params.size_mb": "must not be negative; got -1",
			"params.quality": `must be one of draft, standard, final or panorama; got "ultra"`,
			"params.colour":  "is not a parameter of rendering; expected size_mb or quality"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			est, err := c.Estimate(tt.service, tt.params, nil)
			if err == nil {
				t.Fatalf("got %s credits, want an error", est.Credits)
			}
			fields := problemFields(t, err)
			if len(fields) != len(tt.want) {
				t.Errorf("fields: got %q, want %d of them (%v)", fields, len(tt.want), err)
			}
			for field, want := range tt.want {
				if got := problemMessage(t, err, field); got != want {
					t.Errorf("%s:\n got %q\nwant %q", field, got, want)
				}
			}
		})
	}
}

func TestEstimateWarnings(t *testing.T) {
	c := card2018(t)
	h := func(kv ...string) map[core.Currency]decimal.Decimal {
		m := map[core.Currency]decimal.Decimal{}
		for i := 0; i < len(kv); i += 2 {
			m[core.Currency(kv[i])] = dec(kv[i+1])
		}
		return m
	}
	tests := []struct {
		name     string
		service  string
		params   Params
		holdings map[core.Currency]decimal.Decimal
		want     []Warning
	}{
		{"no warnings", "structural-analysis", Params{}, nil, nil},
		{"mesh scale-up", "cfd-fea-simulation", Params{"elements": "1500000"}, nil, []Warning{
			{WarnMeshScaleUp, "3× the reference mesh (1500000 vs 500000 elements) costs 7.2× the base (73 vs 10 credits)"}}},
		{"a smaller mesh is no trap", "cfd-fea-simulation", Params{"elements": "250000"}, nil, nil},
		{"many outcomes", "generative-design", Params{"outcomes": "20"}, nil, []Warning{
			{WarnManyOutcomes, "a study of 20 outcomes costs 10× a single-outcome study (190 vs 19 credits)"}}},
		{"many outcomes from the threshold", "generative-design", Params{"outcomes": fmt.Sprint(ManyOutcomesWarnAt)}, nil, []Warning{
			{WarnManyOutcomes, "a study of 10 outcomes costs 5.3× a single-outcome study (100 vs 19 credits)"}}},
		{"below the threshold", "generative-design", Params{"outcomes": fmt.Sprint(ManyOutcomesWarnAt - 1)}, nil, nil},
		{"balance covers the job", "infraworks-profile-optimization", Params{"road_km": "12"}, h("cloud", "300"), nil},
		{"insufficient balance", "infraworks-profile-optimization", Params{"road_km": "12"}, h("cloud", "250", "forma", "900"), []Warning{
			{WarnInsufficientBalance, "this job needs 300 cloud credits; you hold 250 (50 short)"}}},
		{"currency not held", "structural-analysis", Params{}, h("forma", "500"), []Warning{
			{WarnCurrencyNotHeld, "you hold 500 forma credits; this service takes cloud credits"}}},
		{"currency not held, two others", "forma-wind", Params{}, h("cloud", "500", "flex", "20", "forma", "0"), []Warning{
			{WarnCurrencyNotHeld, "you hold 500 cloud credits and 20 flex tokens; this service takes forma credits"}}},
		{"nothing held at all", "forma-wind", Params{}, h(), []Warning{
			{WarnInsufficientBalance, "this job needs 10 forma credits; you hold 0 (10 short)"}}},
		{"a free job needs no balance", "lighting-analysis", Params{}, h(), nil},
		{"trap and balance together", "generative-design", Params{"outcomes": "20"}, h("cloud", "100"), []Warning{
			{WarnManyOutcomes, "a study of 20 outcomes costs 10× a single-outcome study (190 vs 19 credits)"},
			{WarnInsufficientBalance, "this job needs 190 cloud credits; you hold 100 (90 short)"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			est, err := c.Estimate(tt.service, tt.params, tt.holdings)
			if err != nil {
				t.Fatal(err)
			}
			if len(est.Warnings) != len(tt.want) {
				t.Fatalf("warnings: got %v, want %v", est.Warnings, tt.want)
			}
			for i := range tt.want {
				if est.Warnings[i] != tt.want[i] {
					t.Errorf("warnings[%d]:\n got %+v\nwant %+v", i, est.Warnings[i], tt.want[i])
				}
			}
		})
	}
}

func TestEstimateRefusesBadHoldingsFromGo(t *testing.T) {
	c := card2018(t)
	_, err := c.Estimate("structural-analysis", Params{"analyses": "x"}, map[core.Currency]decimal.Decimal{"gold": dec("1"), core.Cloud: dec("-1")})
	want := []string{"holdings.cloud", "holdings.gold", "params.analyses"}
	if got := problemFields(t, err); !equalStrings(got, want) {
		t.Errorf("fields: got %q, want %q", got, want)
	}
}

func TestEstimateMany(t *testing.T) {
	c := card2018(t)
	items := []Item{
		{"infraworks-profile-optimization", Params{"road_km": "12"}},
		{"forma-solar", Params{}},
		{"lighting-analysis", nil},
		{"generative-design", Params{"outcomes": "2"}},
		{"forma-wind", Params{"analyses": "2"}},
	}
	holdings := map[core.Currency]decimal.Decimal{core.Cloud: dec("320"), core.Forma: dec("50")}
	b, err := c.EstimateMany(items, holdings)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := len(b.Items), len(items); got != want {
		t.Fatalf("items: got %d, want %d", got, want)
	}
	for i, est := range b.Items {
		if est.Service != items[i].Service {
			t.Errorf("items[%d]: got %s, want %s (order is kept)", i, est.Service, items[i].Service)
		}
		checkEstimate(t, c, est)
	}
	// Credits of different currencies never add up.
	want := map[core.Currency]string{core.Cloud: "328", core.Forma: "22"}
	if len(b.Total) != len(want) {
		t.Errorf("total: got %v, want %v", b.Total, want)
	}
	for cur, w := range want {
		if got := b.Total[cur]; !got.Equal(dec(w)) {
			t.Errorf("total.%s: got %s, want %s", cur, got, w)
		}
	}
	// Each cloud job fits 320 alone; together they do not.
	wantWarnings := []Warning{{WarnInsufficientBalance, "the batch in total needs 328 cloud credits; you hold 320 (8 short)"}}
	if len(b.Warnings) != 1 || b.Warnings[0] != wantWarnings[0] {
		t.Errorf("batch warnings:\n got %+v\nwant %+v", b.Warnings, wantWarnings)
	}
	for i, est := range b.Items {
		if len(est.Warnings) != 0 {
			t.Errorf("items[%d] warnings: got %+v, want none", i, est.Warnings)
		}
	}
}

func TestEstimateManyErrors(t *testing.T) {
	c := card2018(t)
	_, err := c.EstimateMany([]Item{
		{"nope", nil},
		{"rendering", Params{"size_mb": "1"}},
		{"cfd-fea-simulation", Params{"elements": "1e6"}},
		{"generative-design", Params{"outcomes": "2.5", "seed": "1"}},
	}, nil)
	want := []string{"items[0].service", "items[2].params.elements", "items[3].params.outcomes", "items[3].params.seed"}
	if got := problemFields(t, err); !equalStrings(got, want) {
		t.Errorf("fields: got %q, want %q", got, want)
	}

	if _, err := c.EstimateMany(nil, nil); !equalStrings(problemFields(t, err), []string{"items"}) {
		t.Errorf("no items: got %v", err)
	}
	if _, err := c.EstimateMany(make([]Item, ItemsMax+1), nil); !equalStrings(problemFields(t, err), []string{"items"}) {
		t.Errorf("too many items: got %v", err)
	}

	// A batch of bad items reports a bounded number of problems.
	bad := make([]Item, ItemsMax)
	for i := range bad {
		bad[i] = Item{Service: "nope"}
	}
	_, err = c.EstimateMany(bad, nil)
	if got := len(problemFields(t, err)); got > ProblemsMax+1 {
		t.Errorf("problems: got %d, want at most %d", got, ProblemsMax+1)
	}
	if got := problemMessage(t, err, "items"); !strings.Contains(got, "only the first 100 are reported") {
		t.Errorf("items: got %q", got)
	}
}

// The JSON shapes are the public API: field names and string decimals are
// fixed.
func TestAnswerJSONShapes(t *testing.T) {
	c := card2018(t)
	got, err := c.AnswerJSON([]byte(`{"service": "infraworks-profile-optimization", "params": {"road_km": 12}}`))
	if err != nil {
		t.Fatal(err)
	}
	want := `{"service":"infraworks-profile-optimization","credits":"300","currency":"cloud","ratecard_version":"2018-03-23",` +
		`"params":{"road_km":"12"},` +
		`"breakdown":[{"label":"Road length 12 km, in started blocks of 5 km","quantity":"3","unit":"blocks","rate":"100","credits":"300"}],` +
		`"warnings":[]}`
	if string(got) != want {
		t.Errorf("single:\n got %s\nwant %s", got, want)
	}

	got, err = c.AnswerJSON([]byte(`{"items": [{"service": "forma-solar"}, {"service": "lighting-analysis"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	want = `{"items":[` +
		`{"service":"forma-solar","credits":"2","currency":"forma","ratecard_version":"2018-03-23","params":{"analyses":"1"},"breakdown":[{"label":"Analyses","quantity":"1","unit":"analyses","rate":"2","credits":"2"}],"warnings":[]},` +
		`{"service":"lighting-analysis","credits":"0","currency":"cloud","ratecard_version":"2018-03-23","params":{},"breakdown":[{"label":"Included in the subscription","credits":"0"}],"warnings":[]}],` +
		`"total":{"cloud":"0","forma":"2"},"ratecard_version":"2018-03-23","warnings":[]}`
	if string(got) != want {
		t.Errorf("batch:\n got %s\nwant %s", got, want)
	}

	// Answer returns the same values AnswerJSON encodes.
	req, err := ParseEstimateRequest([]byte(`{"items": [{"service": "forma-solar"}, {"service": "lighting-analysis"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	ans, err := c.Answer(req)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := ans.(Batch); !ok {
		t.Fatalf("Answer(items form): got %T, want Batch", ans)
	}
	again, _ := json.Marshal(ans)
	if string(again) != want {
		t.Errorf("json.Marshal(Answer(...)) differs from AnswerJSON")
	}
}

// One round trip shows every problem: the body's shape and the card's view
// of the readable items together.
func TestAnswerJSONReportsEveryProblem(t *testing.T) {
	c := card2018(t)
	_, err := c.AnswerJSON([]byte(`{"items": [{"service": "nope"}, {"service": "rendering", "params": {"size_mb": "1.234"}}, 3, {"service": 5, "params": {"x": "1"}}], "extra": 1}`))
	want := []string{"extra", "items[0].service", "items[1].params.size_mb", "items[2]", "items[3].service"}
	if got := problemFields(t, err); !equalStrings(got, want) {
		t.Errorf("fields: got %q, want %q (%v)", got, want, err)
	}
	if got, want := problemMessage(t, err, "items[3].service"), "must be a string; got a number"; got != want {
		t.Errorf("the body's problem wins: got %q, want %q", got, want)
	}
}
