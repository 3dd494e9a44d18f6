package storetest

import (
	"testing"

	"cloudcredits/core/ledger"
)

// TestMemStore runs the suite against the in-memory reference store, so the
// suite itself is exercised without a database.
func TestMemStore(t *testing.T) {
	Run(t, func(t *testing.T) ledger.Store { return newMemStore() }, Parallel())
}
