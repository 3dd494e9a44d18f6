package sqlite

import (
	"database/sql"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// The outbox reads the sweeper runs every minute use the index meant for
// them, with no sort of their own: a query plan that scans a contract's
// whole outbox, or sorts the pending queue, is a regression.
//
// Both on a new database and on one made at schema version 6 (whose
// notifications_due index had another expression) and migrated.
func TestOutboxQueryPlans(t *testing.T) {
	t.Run("new", func(t *testing.T) { outboxPlans(t, filepath.Join(t.TempDir(), "ledger.db")) })
	t.Run("from version 6", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "ledger.db")
		db, err := sql.Open("sqlite", dsn(path, false))
		if err != nil {
			t.Fatal(err)
		}
		for _, q := range append(slices.Clone(migrations[:6]), "PRAGMA user_version = 6") {
			if _, err := db.Exec(q); err != nil {
				t.Fatalf("%.40s: %v", q, err)
			}
		}
		db.Close()
		outboxPlans(t, path)
	})
}

func outboxPlans(t *testing.T, path string) {
	st, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	wantPlans(t, st, "TEMP B-TREE", []planCase{
		{"NotificationsByPrefix", rNotesPrefix, "USING PRIMARY KEY (id>? AND id<?)", []any{"a", "b", "c", 10}},
		{"PendingNotifications", rPendingNotes, "USING INDEX notifications_due", []any{1, 10}},
	})
}

// planCase is a read whose query plan must use want.
type planCase struct {
	name, query, want string
	args              []any
}

// wantPlans checks each case's plan uses its want and never contains
// forbidden.
func wantPlans(t *testing.T, st *Store, forbidden string, cases []planCase) {
	t.Helper()
	for _, tc := range cases {
		all := queryPlan(t, st, tc.query, tc.args...)
		if !strings.Contains(all, tc.want) || strings.Contains(all, forbidden) {
			t.Errorf("%s plan: %s; want %s and no %s", tc.name, all, tc.want, forbidden)
		}
	}
}

// A spend's lot read uses lots_pool (only lots with credits left), a
// removal's lots_owner, and a page of Lots the primary key: none of them
// scans the contract's lots.
func TestLotQueryPlans(t *testing.T) {
	st, err := Open(filepath.Join(t.TempDir(), "ledger.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	wantPlans(t, st, "SCAN", []planCase{
		{"SpendLots", rSpendLots, "USING INDEX lots_pool (contract=? AND owner=?", []any{"c", "u", 1}},
		{"OwnerLots", rOwnerLots, "USING INDEX lots_owner (contract=? AND owner=?)", []any{"c", "u"}},
		{"Lots", rLots, "USING PRIMARY KEY (contract=? AND id>?)", []any{"c", "", 10}},
	})
	// The contract and the user a spend reads with its lots: two lookups,
	// each on its table's primary key.
	wantPlans(t, st, "SCAN", []planCase{
		{"ReadSpend's contract", rContractUser, "SEARCH c USING PRIMARY KEY (id=?)", []any{"c", "u"}},
		{"ReadSpend's user", rContractUser, "SEARCH u USING PRIMARY KEY (contract=? AND id=?)", []any{"c", "u"}},
	})
}

// A batch's read of its keys' idempotency records looks each key up on the
// primary key: it never scans the scope's records.
func TestIdempotencyManyQueryPlan(t *testing.T) {
	st, err := Open(filepath.Join(t.TempDir(), "ledger.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	wantPlans(t, st, "SCAN idempotency", []planCase{
		{"IdempotencyMany", rIdempotencyMany, "USING PRIMARY KEY (contract=? AND key=?)", []any{"c", `["a","b"]`}},
	})
}
