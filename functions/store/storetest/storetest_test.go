package storetest

import (
	"testing"

	"cloudcredits/functions/store"
)

// TestMemStore runs the suite against the in-memory reference store, so the
// suite itself is exercised without a database.
func TestMemStore(t *testing.T) {
	Run(t, func(t *testing.T) store.Store { return newMemStore() }, Parallel())
}
