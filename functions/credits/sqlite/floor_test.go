package sqlite_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"cloudcredits/core/ledger"
	"cloudcredits/functions/credits/sqlite"
	"cloudcredits/functions/credits/sqlite/floor"
)

// BenchmarkFloor is the storage floor (package floor) with 1, 8 and 32
// concurrent spenders: what BenchmarkSpenders' figures are divided by.
func BenchmarkFloor(b *testing.B) {
	for _, n := range []int{1, 8, 32} {
		b.Run(fmt.Sprintf("spenders=%d", n), func(b *testing.B) {
			floor.Bench(b, filepath.Join(b.TempDir(), "floor.db"), n)
		})
	}
}

// TestFloor: the floor's spends land, each moving one credit of its lot and
// writing its entry, so the benchmark measures the writes it claims to.
func TestFloor(t *testing.T) {
	path := filepath.Join(t.TempDir(), "floor.db")
	d, err := floor.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	const spends = 3*floor.Lots + 1
	errs := make(chan error, spends)
	for i := range int64(spends) {
		go func() { errs <- d.Spend(context.Background(), i) }()
	}
	for range spends {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	st, err := sqlite.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	lots, err := st.Lots(context.Background(), "floor", "", ledger.LotsPageMax)
	if err != nil {
		t.Fatal(err)
	}
	var spent int64
	for _, l := range lots {
		entries, err := st.Entries(context.Background(), "floor", l.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !l.Conserves() || l.Spent.IntPart() != int64(len(entries)) || l.Version != 1+int64(len(entries)) {
			t.Errorf("lot %s: spent %s, version %d, %d entries; want conserved, spent = entries = version-1", l.ID, l.Spent, l.Version, len(entries))
		}
		spent += l.Spent.IntPart()
	}
	if len(lots) != floor.Lots || spent != spends {
		t.Errorf("%d lots spent %d credits, want %d lots and %d", len(lots), spent, floor.Lots, spends)
	}
}
