package capacity

// Kind is what one access does to one item (or, for a Query, to one
// partition's items).
type Kind string

// The kinds of access. A table write inside a TransactWriteItems is
// Transactional; an index entry's upkeep never is (DynamoDB propagates it
// after the write, outside the transaction).
const (
	Get         Kind = "Get"
	Query       Kind = "Query"
	Scan        Kind = "Scan"
	Put         Kind = "Put"
	Update      Kind = "Update"
	Delete      Kind = "Delete"
	Check       Kind = "ConditionCheck"
	IndexPut    Kind = "IndexPut"
	IndexDelete Kind = "IndexDelete"
	IndexUpdate Kind = "IndexUpdate"
)

// Access is one item (or one Query's items) a call touched.
type Access struct {
	Kind Kind
	// Table is the table; Index the global secondary index, "" for the
	// table itself. A partition is a distinct (Table, Index, PK).
	Table, Index string
	// PK and SK are the key values as text ("" when the key has no sort
	// key; a Query's SK is empty).
	PK, SK string
	// Strong is a strongly consistent read.
	Strong bool
	// Transactional is an access of TransactWriteItems or TransactGetItems.
	Transactional bool
	// Bytes is the size the capacity rule applies to: for a table write the
	// larger of the item before and after; for a condition check the item
	// checked; for an index access the index entry (table keys, index keys
	// and projected attributes); for a Get the item; for a Query or Scan
	// the sum of the items returned.
	Bytes int
	// Items is how many items a Query or Scan returned.
	Items int
}

// Write reports whether the access consumes write capacity.
func (a Access) Write() bool {
	switch a.Kind {
	case Get, Query, Scan:
		return false
	}
	return true
}

// Units is what the access costs in write and read capacity units, by
// DynamoDB's rules: a write 1 unit per started KB of its item (2 in a
// transaction; a condition check is charged as a transactional write of the
// item it checks); an index entry's upkeep 1 per started KB of the entry;
// a Get 1 per started 4 KB of its item (half when eventually consistent, 2
// in a transaction); a Query or Scan 1 per started 4 KB of all its items
// together (half when eventually consistent). Even an absent item costs one
// unit.
func (a Access) Units() (wcu, rcu float64) {
	switch a.Kind {
	case Get, Query, Scan:
		u := float64(units(a.Bytes, ReadUnitBytes))
		switch {
		case a.Transactional:
			u *= TransactionalFactor
		case !a.Strong:
			u *= EventualFactor
		}
		return 0, u
	}
	u := float64(units(a.Bytes, WriteUnitBytes))
	if a.Transactional {
		u *= TransactionalFactor
	}
	return u, 0
}

// Call is one API call the adapter made, as recorded.
type Call struct {
	// Op is the API operation: GetItem, BatchGetItem, Query, Scan,
	// PutItem, UpdateItem, DeleteItem, TransactWriteItems, TransactGetItems.
	Op       string
	Accesses []Access
	// Err is how the call failed, if it did (the accesses are what it
	// touched all the same).
	Err string
	// Note says what the recorder could not measure exactly, if anything.
	Note string
}

// Transact reports whether the call is a transaction of writes: its items
// take part in DynamoDB's transaction conflict detection.
func (c Call) Transact() bool { return c.Op == "TransactWriteItems" }

// Writes reports whether the call writes (one response time for all
// writes; reads have their own).
func (c Call) Writes() bool {
	for _, a := range c.Accesses {
		if a.Write() && a.Index == "" {
			return true
		}
	}
	return false
}

// Trace is the calls of one operation (one spend), in order.
type Trace []Call

// Units sums the capacity units of a trace.
func (t Trace) Units() (wcu, rcu float64) {
	for _, c := range t {
		for _, a := range c.Accesses {
			w, r := a.Units()
			wcu, rcu = wcu+w, rcu+r
		}
	}
	return wcu, rcu
}
