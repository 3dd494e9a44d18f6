// Command benchtable reads `go test -bench` output on stdin and prints the
// results as one readable table per package: every metric a benchmark
// reported (ns/op, B/op, allocs/op and custom ones such as WCU/op or p99-ms)
// as a column, and, for the figures that have a baseline measured in the
// same run (see ratios), the figure divided by its baseline.
//
//	go test -run '^$' -bench . ./functions/credits/sqlite/ | go run ./scripts/benchtable
package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
)

// ratio pairs a figure with its baseline: each benchmark whose name (less
// "Benchmark" and the -GOMAXPROCS suffix) matches figure, where '*' stands
// for any text, is shown beside baseline with that '*' put back, from the
// same package of the same run, as figure's metric ÷ the baseline's.
type ratio struct {
	figure, baseline string
	metric           string
	column           string
}

// ratios are the figures that stand beside a baseline.
var ratios = []ratio{
	// The spend throughput against the storage floor with as many callers
	// (the SQLite store's BenchmarkSpenders and BenchmarkFloor).
	{figure: "Spenders/spenders=*", baseline: "Floor/spenders=*", metric: "spends/s", column: "spends/s÷floor"},
	// A read or write of a contract with many lots against one lot.
	{figure: "*/lots=100000", baseline: "*/lots=1", metric: "p50-ms", column: "p50÷lots=1"},
}

// row is one benchmark result line.
type row struct {
	name    string // without "Benchmark"
	metrics map[string]string
}

// table is one package's results, in the order they came.
type table struct {
	pkg     string
	rows    []row
	columns []string // the metrics' units, in the order first seen
}

func main() {
	if err := run(os.Stdin, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "benchtable:", err)
		os.Exit(1)
	}
}

func run(in io.Reader, out io.Writer) error {
	tables, err := parse(in)
	if err != nil {
		return err
	}
	if len(tables) == 0 {
		return fmt.Errorf("no benchmark results on stdin")
	}
	w := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	for _, t := range tables {
		t.addRatios(ratios)
		t.print(w)
	}
	return w.Flush()
}

// parse reads `go test -bench` output: "pkg: " lines name the package of
// the results after them; a result line is a name, the runs, then value and
// unit pairs. Anything else is skipped.
func parse(in io.Reader) ([]*table, error) {
	var (
		tables []*table
		byPkg  = map[string]*table{}
		pkg    string
	)
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if p, ok := strings.CutPrefix(line, "pkg: "); ok {
			pkg = p
			continue
		}
		if !strings.HasPrefix(line, "Benchmark") {
			continue
		}
		f := strings.Fields(line)
		if len(f) < 4 || len(f)%2 != 0 {
			continue
		}
		t := byPkg[pkg]
		if t == nil {
			t = &table{pkg: pkg}
			byPkg[pkg] = t
			tables = append(tables, t)
		}
		r := row{name: strings.TrimPrefix(f[0], "Benchmark"), metrics: map[string]string{"runs": f[1]}}
		for i := 2; i+1 < len(f); i += 2 {
			t.column(f[i+1])
			r.metrics[f[i+1]] = f[i]
		}
		t.rows = append(t.rows, r)
	}
	return tables, sc.Err()
}

func (t *table) column(unit string) {
	if !slices.Contains(t.columns, unit) {
		t.columns = append(t.columns, unit)
	}
}

// procsSuffix is the -GOMAXPROCS that `go test` appends to a name.
var procsSuffix = regexp.MustCompile(`-[0-9]+$`)

// addRatios gives every figure that has its baseline in t the ratio's
// column. With -count, the k-th result of a figure is divided by the k-th
// of its baseline.
func (t *table) addRatios(rs []ratio) {
	seen := map[string]int{} // results of each name so far
	nth := make([]int, len(t.rows))
	for i, r := range t.rows {
		nth[i] = seen[r.name]
		seen[r.name]++
	}
	find := func(name string, k int) (row, bool) {
		for i, r := range t.rows {
			if r.name == name && nth[i] == k {
				return r, true
			}
		}
		return row{}, false
	}
	for i, r := range t.rows {
		base, procs := r.name, procsSuffix.FindString(r.name)
		base = strings.TrimSuffix(base, procs)
		for _, rt := range rs {
			star, ok := match(rt.figure, base)
			if !ok {
				continue
			}
			b, ok := find(strings.Replace(rt.baseline, "*", star, 1)+procs, nth[i])
			if !ok {
				continue
			}
			if v, ok := divide(r.metrics[rt.metric], b.metrics[rt.metric]); ok {
				t.column(rt.column)
				t.rows[i].metrics[rt.column] = v
			}
		}
	}
}

// match reports whether name matches pattern (at most one '*', standing
// for any text) and what the '*' stood for.
func match(pattern, name string) (string, bool) {
	before, after, hasStar := strings.Cut(pattern, "*")
	if !hasStar {
		return "", name == pattern
	}
	if len(name) < len(before)+len(after) || !strings.HasPrefix(name, before) || !strings.HasSuffix(name, after) {
		return "", false
	}
	return name[len(before) : len(name)-len(after)], true
}

// divide is a ÷ b to two decimal places; ok is false unless both are
// numbers and b is not zero.
func divide(a, b string) (string, bool) {
	x, errA := strconv.ParseFloat(a, 64)
	y, errB := strconv.ParseFloat(b, 64)
	if errA != nil || errB != nil || y == 0 {
		return "", false
	}
	return strconv.FormatFloat(x/y, 'f', 2, 64), true
}

func (t *table) print(w io.Writer) {
	fmt.Fprintf(w, "\n%s\n", t.pkg)
	fmt.Fprintf(w, "benchmark\truns\t%s\t\n", strings.Join(t.columns, "\t"))
	for _, r := range t.rows {
		cells := []string{r.name, r.metrics["runs"]}
		for _, c := range t.columns {
			v := r.metrics[c]
			if v == "" {
				v = "-"
			}
			cells = append(cells, v)
		}
		fmt.Fprintf(w, "%s\t\n", strings.Join(cells, "\t"))
	}
}
