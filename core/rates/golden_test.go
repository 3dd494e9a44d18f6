package rates

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/shopspring/decimal"

	"cloudcredits/core"
)

var update = flag.Bool("update", false, "rewrite testdata/golden/estimates/<case>.json from the current code")

// goldenCase is one entry of testdata/golden/estimates/cases.json: a
// POST /v1/estimates body and what it must produce. The same file is
// replayed by the HTTP and WebAssembly tests, which compare the strings.
type goldenCase struct {
	Name     string            `json:"name"`
	Note     string            `json:"note"`
	Request  json.RawMessage   `json:"request"`
	Credits  string            `json:"credits"`
	Currency string            `json:"currency"`
	Total    map[string]string `json:"total"`
	Warnings []string          `json:"warnings"`
	Error    *struct {
		Code   string   `json:"code"`
		Fields []string `json:"fields"`
	} `json:"error"`
}

func loadGoldenCases(t *testing.T) []goldenCase {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(goldenDir, "cases.json"))
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		About    string       `json:"about"`
		Ratecard string       `json:"ratecard"`
		Cases    []goldenCase `json:"cases"`
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&doc); err != nil {
		t.Fatalf("cases.json: %v", err)
	}
	if got, want := doc.Ratecard, "testdata/ratecards/2018.json"; got != want {
		t.Fatalf("cases.json ratecard: got %s, want %s", got, want)
	}
	return doc.Cases
}

func TestGoldenEstimates(t *testing.T) {
	c := card2018(t)
	cases := loadGoldenCases(t)
	want := map[string]bool{"cases.json": true}
	seen := map[string]bool{}
	for _, tc := range cases {
		if seen[tc.Name] || tc.Name == "" || strings.ContainsAny(tc.Name, `/\ `) {
			t.Fatalf("case name %q is empty, repeated or not a file name", tc.Name)
		}
		seen[tc.Name] = true
		t.Run(tc.Name, func(t *testing.T) {
			out, err := c.AnswerJSON(tc.Request)
			if tc.Error != nil {
				if err == nil {
					t.Fatalf("got %s, want a %s error", out, tc.Error.Code)
				}
				if got := string(core.ErrorCode(err)); got != tc.Error.Code {
					t.Fatalf("code: got %s, want %s", got, tc.Error.Code)
				}
				if got := problemFields(t, err); !equalStrings(got, sortedCopy(tc.Error.Fields)) {
					t.Errorf("fields: got %q, want %q", got, sortedCopy(tc.Error.Fields))
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			want[tc.Name+".json"] = true
			checkGoldenExpectations(t, tc, out)
			checkGoldenFile(t, tc.Name, out)
		})
	}
	// A golden file whose case is gone is stale.
	files, err := filepath.Glob(filepath.Join(goldenDir, "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if !want[filepath.Base(f)] {
			if *update {
				os.Remove(f)
				continue
			}
			t.Errorf("%s belongs to no success case of cases.json (run with -update to remove it)", f)
		}
	}
}

// checkGoldenExpectations compares the answer with the case's hand-written
// expectations, which are the specification; the golden file only pins the
// rest.
func checkGoldenExpectations(t *testing.T, tc goldenCase, out []byte) {
	t.Helper()
	var got struct {
		Credits  *string           `json:"credits"`
		Currency string            `json:"currency"`
		Total    map[string]string `json:"total"`
		Warnings []Warning         `json:"warnings"`
	}
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatal(err)
	}
	if tc.Total != nil {
		if len(got.Total) != len(tc.Total) {
			t.Errorf("total: got %v, want %v", got.Total, tc.Total)
		}
		for cur, w := range tc.Total {
			if got.Total[cur] != w {
				t.Errorf("total.%s: got %q, want %q", cur, got.Total[cur], w)
			}
		}
	} else {
		if got.Credits == nil || *got.Credits != tc.Credits {
			t.Errorf("credits: got %v, want %q", got.Credits, tc.Credits)
		}
		if got.Currency != tc.Currency {
			t.Errorf("currency: got %q, want %q", got.Currency, tc.Currency)
		}
	}
	var codes []string
	for _, w := range got.Warnings {
		codes = append(codes, w.Code)
	}
	if !equalStrings(codes, tc.Warnings) {
		t.Errorf("warnings: got %q, want %q", codes, tc.Warnings)
	}
}

// checkGoldenFile compares the answer, indented, with <name>.json.
func checkGoldenFile(t *testing.T, name string, out []byte) {
	t.Helper()
	var buf bytes.Buffer
	if err := json.Indent(&buf, out, "", "  "); err != nil {
		t.Fatal(err)
	}
	buf.WriteByte('\n')
	path := filepath.Join(goldenDir, name+".json")
	if *update {
		if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./core/rates -run TestGoldenEstimates -update to create it)", err)
	}
	if !bytes.Equal(buf.Bytes(), want) {
		t.Errorf("%s differs from the answer (run with -update if the change is intended):\n got %s\nwant %s", path, buf.Bytes(), want)
	}
}

// The cases the product pins must stay in cases.json.
func TestGoldenCasesCoverTheProduct(t *testing.T) {
	names := map[string]bool{}
	for _, tc := range loadGoldenCases(t) {
		names[tc.Name] = true
	}
	for _, n := range []string{
		"structural-analysis", "infraworks-12-km", "infraworks-5-km", "moldflow-doe-8-runs",
		"configurator-3-sessions", "generative-design-1-outcome", "generative-design-20-outcomes",
		"cfd-reference-mesh", "cfd-3x-mesh", "lighting-analysis", "rendering-standard-12.5-mb",
	} {
		if !names[n] {
			t.Errorf("cases.json lacks the case %s", n)
		}
	}
}

// The seeds' consumption traps, as ratios rather than golden text: a
// 20-outcome generative study costs about 10× a single-outcome one, and 3×
// the reference mesh costs 6–9× the base.
func TestTrapRatios(t *testing.T) {
	c := card2018(t)
	credits := func(service string, params Params) decimal.Decimal {
		t.Helper()
		est, err := c.Estimate(service, params, nil)
		if err != nil {
			t.Fatal(err)
		}
		return est.Credits
	}
	between := func(name string, ratio decimal.Decimal, lo, hi string) {
		t.Helper()
		if ratio.LessThan(dec(lo)) || ratio.GreaterThan(dec(hi)) {
			t.Errorf("%s: got %s×, want between %s× and %s×", name, ratio.StringFixed(2), lo, hi)
		}
	}
	one := credits("generative-design", Params{"outcomes": "1"})
	twenty := credits("generative-design", Params{"outcomes": "20"})
	between("20 outcomes / 1 outcome", twenty.DivRound(one, 4), "9", "11")
	if twenty.LessThan(dec("100")) {
		t.Errorf("a 20-outcome study: got %s credits, want 100+", twenty)
	}

	cfd, _ := c.Service("cfd-fea-simulation")
	ref := cfd.Rule.Reference
	base := credits("cfd-fea-simulation", Params{"elements": ref.String()})
	if !base.Equal(cfd.Rule.Base) {
		t.Errorf("at the reference mesh: got %s, want the base %s", base, cfd.Rule.Base)
	}
	tripled := credits("cfd-fea-simulation", Params{"elements": ref.Mul(dec("3")).String()})
	between("3× mesh / reference mesh", tripled.DivRound(base, 4), "6", "9")
	// And the rule itself, before rounding: 3^k.
	factor, err := dec("3").PowWithPrecision(cfd.Rule.Exponent, powPrecision)
	if err != nil {
		t.Fatal(err)
	}
	between("3^k", factor, "6", "9")
}
