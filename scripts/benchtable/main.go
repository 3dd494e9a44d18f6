// Command benchtable reads `go test -bench` output on stdin and prints the
// results as one readable table per package: every metric a benchmark
// reported (ns/op, B/op, allocs/op and custom ones such as WCU/op or p99-ms)
// as a column.
package main

import (
	"bufio"
	"fmt"
	"os"
	"strings"
	"text/tabwriter"
)

type row struct {
	name    string
	metrics map[string]string
}

func main() {
	var (
		pkg     string
		order   []string
		rows    = map[string][]row{}
		columns = map[string][]string{}
	)
	sc := bufio.NewScanner(os.Stdin)
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
		r := row{name: strings.TrimPrefix(f[0], "Benchmark"), metrics: map[string]string{}}
		r.metrics["runs"] = f[1]
		for i := 2; i+1 < len(f); i += 2 {
			unit := f[i+1]
			r.metrics[unit] = f[i]
			if !contains(columns[pkg], unit) {
				columns[pkg] = append(columns[pkg], unit)
			}
		}
		if _, seen := rows[pkg]; !seen {
			order = append(order, pkg)
		}
		rows[pkg] = append(rows[pkg], r)
	}
	if len(order) == 0 {
		fmt.Fprintln(os.Stderr, "benchtable: no benchmark results on stdin")
		os.Exit(1)
	}
	w := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	for _, p := range order {
		fmt.Fprintf(w, "\n%s\n", p)
		fmt.Fprintf(w, "benchmark\truns\t%s\t\n", strings.Join(columns[p], "\t"))
		for _, r := range rows[p] {
			cells := []string{r.name, r.metrics["runs"]}
			for _, c := range columns[p] {
				v := r.metrics[c]
				if v == "" {
					v = "-"
				}
				cells = append(cells, v)
			}
			fmt.Fprintf(w, "%s\t\n", strings.Join(cells, "\t"))
		}
	}
	w.Flush()
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}
