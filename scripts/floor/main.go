// Command floor measures the SQLite store's storage floor (package
// functions/credits/sqlite/floor) with 1, 8 and 32 concurrent spenders on a
// database in a temporary folder, and prints the results as `go test
// -bench` does, so scripts/benchtable reads them:
//
//	go run ./scripts/floor | go run ./scripts/benchtable
//	go run ./scripts/floor -dir /var/tmp    # the disk under test
//
// The figures are what BenchmarkFloor in functions/credits/sqlite measures;
// this is for a machine without the repository's tests at hand.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"cloudcredits/functions/credits/sqlite/floor"
)

func main() {
	dir := flag.String("dir", os.TempDir(), "the folder the floor's databases are made in (and removed from)")
	flag.Parse()
	tmp, err := os.MkdirTemp(*dir, "cloudcredits-floor-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "floor:", err)
		os.Exit(1)
	}
	defer os.RemoveAll(tmp)
	fmt.Println("pkg: cloudcredits/functions/credits/sqlite/floor")
	runs := 0
	for _, n := range []int{1, 8, 32} {
		r := testing.Benchmark(func(b *testing.B) {
			runs++
			floor.Bench(b, filepath.Join(tmp, fmt.Sprintf("floor-%d.db", runs)), n)
		})
		if r.N == 0 {
			fmt.Fprintf(os.Stderr, "floor: spenders=%d failed\n", n)
			os.Exit(1)
		}
		fmt.Printf("BenchmarkFloor/spenders=%d-%d\t%s\n", n, runtime.GOMAXPROCS(0), r)
	}
}
