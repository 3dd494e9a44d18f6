package main

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// TestTable: testdata/bench.txt (two packages, -count 2 results, a figure
// without its baseline, a baseline in another package) prints as
// testdata/bench.golden.
func TestTable(t *testing.T) {
	in, err := os.ReadFile(filepath.Join("testdata", "bench.txt"))
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := run(bytes.NewReader(in), &out); err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "bench.golden")
	if *update {
		if err := os.WriteFile(golden, out.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if got := out.String(); got != string(want) {
		t.Errorf("table:\n%s\nwant:\n%s", got, want)
	}
}

// TestRatios: each figure is divided by its baseline of the same package
// and the same -count round; a figure without one gets none.
func TestRatios(t *testing.T) {
	tables, err := parse(strings.NewReader(mustRead(t, "bench.txt")))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string][]string{}
	for _, tb := range tables {
		tb.addRatios(ratios)
		for _, r := range tb.rows {
			for _, rt := range ratios {
				if v, ok := r.metrics[rt.column]; ok {
					key := tb.pkg[strings.LastIndex(tb.pkg, "/")+1:] + " " + r.name
					got[key] = append(got[key], v)
				}
			}
		}
	}
	want := map[string][]string{
		"sqlite Spenders/spenders=1-2":  {"0.50"},         // 1453 ÷ 2906
		"sqlite Spenders/spenders=32-2": {"0.10", "0.50"}, // 2856 ÷ 28560, then 5712 ÷ 11424
		"dynamo Balance/lots=100000-2":  {"30.00"},        // 45 ÷ 1.5
	}
	// Spenders/spenders=8 has its floor in another package; Spend/lots=100000
	// has no lots=1 sibling: neither gets a ratio.
	if len(got) != len(want) {
		t.Errorf("ratios for %v, want %v", got, want)
	}
	for k, w := range want {
		if strings.Join(got[k], " ") != strings.Join(w, " ") {
			t.Errorf("%s: ratios %v, want %v", k, got[k], w)
		}
	}
}

func TestNoResults(t *testing.T) {
	var out bytes.Buffer
	if err := run(strings.NewReader("PASS\nok  \tx\t0.1s\n"), &out); err == nil {
		t.Errorf("no results: printed %q and no error", out.String())
	}
}

func TestMatch(t *testing.T) {
	for _, c := range []struct {
		pattern, name, star string
		ok                  bool
	}{
		{"Spenders/spenders=*", "Spenders/spenders=32", "32", true},
		{"*/lots=100000", "Consume/lots=100000", "Consume", true},
		{"*/lots=100000", "Consume/lots=1000000", "", false},
		{"Floor", "Floor", "", true},
		{"a*a", "a", "", false},
	} {
		star, ok := match(c.pattern, c.name)
		if star != c.star || ok != c.ok {
			t.Errorf("match(%q, %q) = %q, %v; want %q, %v", c.pattern, c.name, star, ok, c.star, c.ok)
		}
	}
}

func mustRead(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
