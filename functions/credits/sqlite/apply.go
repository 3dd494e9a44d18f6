package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"cloudcredits/core"
	"cloudcredits/core/ledger"
	"cloudcredits/functions/credits/sqlite/internal/groupcommit"

	"github.com/shopspring/decimal"
)

// conditionFailed is an op whose condition did not hold; Apply turns it into
// a *ledger.ConflictError naming the op.
type conditionFailed struct{ reason string }

func (c *conditionFailed) Error() string { return c.reason }

func failed(format string, args ...any) error {
	return &conditionFailed{reason: fmt.Sprintf(format, args...)}
}

// Apply performs every op of tx or none, checking each op's condition on
// rows read inside the write transaction: a failed condition undoes the Tx
// and returns a *ledger.ConflictError naming the op; any other failure
// undoes it and returns that error. It returns once the outcome is durable.
//
// Group commit: Apply hands the Tx to the one writer goroutine, which takes
// every Tx waiting at that moment (at most batchTxMax), applies them one
// after another in one IMMEDIATE transaction — so each sees the ones before
// it, exactly as if run one after another — and commits them with one
// fsync. A Tx that fails leaves nothing: alone, its transaction is rolled
// back; in a batch, the batch is applied again with each Tx in its own
// SAVEPOINT and the failed one rolled back to it (see commitBatch). Nothing
// is acknowledged before the commit, and if the commit fails every Tx of
// the batch fails with it.
func (s *Store) Apply(ctx context.Context, tx ledger.Tx) error {
	writes, err := lower(tx)
	if err != nil || len(writes) == 0 {
		return err
	}
	return s.send(ctx, [][]ledger.Write{writes})[0]
}

// lower turns a Tx into its writes, refusing one that breaks a ledger
// invariant or is larger than the store takes.
func lower(tx ledger.Tx) ([]ledger.Write, error) {
	writes, err := tx.Writes()
	if err != nil {
		return nil, core.Errorf(core.CodeInternal, "refusing a transaction that breaks a ledger invariant: %v", err)
	}
	if n := len(writes); n > opsPerTxMax {
		return nil, core.Errorf(core.CodeTooLarge, "a transaction of %d writes is more than the %d the store accepts", n, opsPerTxMax)
	}
	return writes, nil
}

// send hands Txs (lowered, none empty) to the writer as one request and
// returns each one's outcome once their group commit is decided.
func (s *Store) send(ctx context.Context, txs [][]ledger.Write) []error {
	r := &applyReq{ctx: ctx, txs: txs, errs: make([]error, len(txs)), done: make(chan struct{})}
	fail := func(err error) []error {
		for i := range r.errs {
			r.errs[i] = err
		}
		return r.errs
	}
	select {
	case s.applyCh <- r:
	case <-s.quit:
		return fail(errClosed)
	case <-ctx.Done():
		return fail(ctx.Err())
	}
	// Once the writer has the Txs their outcome is decided by the batch's
	// commit; waiting for it, rather than for ctx, means a cancelled caller
	// never mistakes a committed Tx for a failed one.
	<-r.done
	return r.errs
}

var errClosed = errors.New("sqlite: store is closed")

// applyReq is one Apply (or ApplyEach) waiting for the writer: one or more
// Txs, each all-or-nothing on its own.
type applyReq struct {
	ctx  context.Context
	txs  [][]ledger.Write
	errs []error       // each Tx's outcome, set by the writer before done closes
	done chan struct{} // closed by the writer: it never blocks on a caller
}

// writeLoop is the writer goroutine: the only code that writes.
func (s *Store) writeLoop() {
	defer close(s.writerDone)
	groupcommit.Loop(s.applyCh, s.quit, batchTxMax, s.commitBatch)
}

// commitBatch applies a batch in one transaction and tells each caller its
// outcomes after the commit.
//
// A savepoint per Tx costs two statements per Tx, and is needed only when a
// Tx fails, which a well-planned Tx rarely does. So the batch is first
// applied without savepoints; if a Tx fails, that transaction is rolled
// back (nothing of it was committed) and the batch is applied again, each
// Tx in its own savepoint. A batch of one Tx never needs one: its failure
// is the whole transaction's, rolled back.
func (s *Store) commitBatch(batch []*applyReq) {
	err := s.tryBatch(batch, false)
	if errors.Is(err, errTxFailed) {
		s.savepointBatches.Add(1)
		for _, r := range batch {
			clear(r.errs)
		}
		err = s.tryBatch(batch, true)
	}
	for _, r := range batch {
		if err != nil {
			for i := range r.errs {
				if r.errs[i] == nil {
					r.errs[i] = err // every Tx of the batch, the good ones too: none is committed
				}
			}
		}
		close(r.done)
	}
}

// errTxFailed is tryBatch without savepoints finding a Tx of a batch of
// several that failed: the batch must be applied again with them.
var errTxFailed = errors.New("sqlite: a Tx of the batch failed")

// tryBatch applies the batch in one transaction and commits it, recording
// each Tx's own outcome in its request's errs. Without savepoints it gives
// up at the first Tx that fails: for a batch of one Tx, that Tx's outcome
// is final (the transaction is rolled back and nil returned); for more, it
// returns errTxFailed. Any other error is the whole batch's.
func (s *Store) tryBatch(batch []*applyReq, savepoints bool) error {
	txs := 0
	for _, r := range batch {
		txs += len(r.txs)
	}
	// Statements run under the batch's own context: one caller's
	// cancellation must not interrupt the others' transaction.
	ctx := context.Background()
	sqlTx, err := s.writer.BeginTx(ctx, nil) // BEGIN IMMEDIATE: see dsn
	if err != nil {
		return fmt.Errorf("sqlite: begin: %w", err)
	}
	w := &writeTx{s: s, tx: sqlTx, ctx: ctx, stmts: map[string]*sql.Stmt{}}
	if !savepoints && txs > 1 {
		w.deferred = &deferred{counters: map[string]*counters{}, creates: map[*shape][]any{}, txs: txs}
	}
	failed, err := w.applyBatch(batch, savepoints)
	if err == nil && !failed && w.deferred != nil {
		// A write held back that fails now can't be told apart from
		// the others: the batch goes again with savepoints, where each
		// Tx's writes go straight to the table.
		failed = w.flush() != nil
	}
	switch {
	case err != nil:
		sqlTx.Rollback()
		return err
	case failed && txs == 1:
		// The Tx's error is in errs; rolling back undoes its writes (a
		// failed rollback leaves them uncommitted all the same).
		sqlTx.Rollback()
		return nil
	case failed:
		sqlTx.Rollback()
		return errTxFailed
	}
	if err := sqlTx.Commit(); err != nil {
		return fmt.Errorf("sqlite: commit: %w", err)
	}
	s.commits.Add(1)
	s.committedTxs.Add(int64(txs))
	return nil
}

// applyBatch applies each Tx of each request, recording its outcome in the
// request's errs. With savepoints, each Tx runs inside its own and one that
// fails is rolled back to it alone; without, it stops at the first Tx that
// fails and reports failed. It returns an error only when the transaction
// as a whole can't go on (a savepoint statement failed: SQLite may have
// rolled the whole transaction back).
func (w *writeTx) applyBatch(batch []*applyReq, savepoints bool) (failed bool, err error) {
	for _, r := range batch {
		if err := r.ctx.Err(); err != nil {
			for i := range r.errs {
				r.errs[i] = err // the caller gave up before its Txs started
			}
			continue
		}
		for i, writes := range r.txs {
			if !savepoints {
				if r.errs[i] = w.applyTx(writes); r.errs[i] != nil {
					return true, nil
				}
				continue
			}
			if err := w.applyInSavepoint(writes, &r.errs[i]); err != nil {
				return false, err
			}
		}
	}
	return false, nil
}

// applyInSavepoint applies one Tx inside its own savepoint, setting *outcome
// to its error (rolled back to the savepoint) or nil.
func (w *writeTx) applyInSavepoint(writes []ledger.Write, outcome *error) error {
	if _, err := w.exec(qSavepoint); err != nil {
		return fmt.Errorf("sqlite: savepoint: %w", err)
	}
	if *outcome = w.applyTx(writes); *outcome != nil {
		if _, err := w.exec(qRollbackTo); err != nil {
			return fmt.Errorf("sqlite: roll back to savepoint after %v: %w", *outcome, err)
		}
	}
	if _, err := w.exec(qRelease); err != nil {
		return fmt.Errorf("sqlite: release savepoint: %w", err)
	}
	return nil
}

// applyTx applies the writes of one Tx, stopping at the first that fails.
func (w *writeTx) applyTx(writes []ledger.Write) error {
	for _, wr := range writes {
		if err := w.apply(wr); err != nil {
			if c, ok := errors.AsType[*conditionFailed](err); ok {
				return &ledger.ConflictError{Op: wr.Op, Reason: c.reason}
			}
			return fmt.Errorf("sqlite: write %d (%s %T): %w", wr.Op, wr.Kind, wr.Rec, err)
		}
	}
	return nil
}

// writeTx is one batch's transaction.
type writeTx struct {
	s   *Store
	tx  *sql.Tx
	ctx context.Context
	// stmts are the prepared statements bound to tx, each bound once.
	stmts map[string]*sql.Stmt
	// deferred, when not nil, holds writes back until flush: see deferred.
	deferred *deferred
}

// deferred is what a batch of several Txs, applied without savepoints,
// holds back to write once at the end (flush) rather than a statement per
// write: each record's counters, read once and added to in memory, and
// the records created in the shapes that take several rows in one INSERT.
//
// Every condition is still checked, in order, on the state the Txs
// before it leave: a counter's bounds, its record's existence and a lot's
// life on the counters read inside this transaction with the earlier Adds
// applied; a create's free key by the INSERT itself, which must insert
// every row it was given. Any other write first flushes what is held, so
// it reads and writes the tables as if nothing had been held back. When
// anything fails the batch's transaction is rolled back and it is applied
// again with a savepoint per Tx and nothing held back.
type deferred struct {
	counters      map[string]*counters // by table and key
	counterOrder  []*counters
	counterShapes []*shape         // counterShapes[i] is counterOrder[i]'s
	creates       map[*shape][]any // each shape's rows, one after another
	createOrder   []*shape
	txs           int // in the batch: room for a row of each shape per Tx
}

// stmt returns the statement prepared for query on the writer connection,
// bound to the transaction; nil when query was not prepared.
func (w *writeTx) stmt(query string) *sql.Stmt {
	if st, ok := w.stmts[query]; ok {
		return st
	}
	st, ok := w.s.prepared(w.s.writeStmts, query)
	if !ok {
		return nil
	}
	st = w.tx.StmtContext(w.ctx, st)
	w.stmts[query] = st
	return st
}

// exec and queryRow run one of writeQueries on its prepared statement.
func (w *writeTx) exec(query string, args ...any) (sql.Result, error) {
	if st := w.stmt(query); st != nil {
		return st.ExecContext(w.ctx, args...)
	}
	return w.tx.ExecContext(w.ctx, query, args...)
}

func (w *writeTx) queryRow(query string, args ...any) *sql.Row {
	if st := w.stmt(query); st != nil {
		return st.QueryRowContext(w.ctx, args...)
	}
	return w.tx.QueryRowContext(w.ctx, query, args...)
}

// updateOne runs an UPDATE whose WHERE is the op's condition: it must
// change exactly one row, or the condition failed (reason).
func (w *writeTx) updateOne(reason, query string, args ...any) error {
	res, err := w.exec(query, args...)
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil || n != 1 {
		return cmpErr(err, &conditionFailed{reason: reason})
	}
	return nil
}

// apply performs one write: the one switch over the primitives.
func (w *writeTx) apply(wr ledger.Write) error {
	sh, err := shapeOf(wr.Rec)
	if err != nil {
		return err
	}
	if w.deferred != nil {
		switch {
		case wr.Kind == ledger.WriteAdd:
			return w.addDeferred(sh, wr)
		case wr.Kind == ledger.WriteCreate && sh.createsMany:
			args, err := sh.values(wr.Rec)
			if err != nil {
				return err
			}
			d := w.deferred
			if _, ok := d.creates[sh]; !ok {
				d.createOrder = append(d.createOrder, sh)
				d.creates[sh] = make([]any, 0, d.txs*sh.ncols)
			}
			d.creates[sh] = append(d.creates[sh], args...)
			return nil
		}
		if err := w.flush(); err != nil {
			return err
		}
	}
	switch wr.Kind {
	case ledger.WriteCreate:
		return w.create(sh, wr)
	case ledger.WriteReplace:
		return w.replace(sh, wr)
	case ledger.WriteAdd:
		return w.add(sh, wr)
	case ledger.WriteCheck:
		return w.check(sh, wr)
	}
	return fmt.Errorf("unknown write kind %v", wr.Kind)
}

// create inserts the record unless its key is taken (by a record that, for
// ExpiredBy, has not expired).
func (w *writeTx) create(sh *shape, wr ledger.Write) error {
	args, err := sh.values(wr.Rec)
	if err != nil {
		return err
	}
	query := sh.qCreate
	if !wr.ExpiredBy.IsZero() && sh.qCreateExpired != "" {
		by, err := encodeTime(wr.ExpiredBy)
		if err != nil {
			return err
		}
		query, args = sh.qCreateExpired, append(args, by)
	}
	if err := w.updateOne(wr.What, query, args...); err != nil {
		return err
	}
	if lot, ok := wr.Rec.(ledger.Lot); ok && !lot.Conserves() {
		return core.Errorf(core.CodeInternal, "lot %s/%s would not conserve credits", lot.Contract, lot.ID)
	}
	return nil
}

// replace writes the whole record over the one at version Was.
func (w *writeTx) replace(sh *shape, wr ledger.Write) error {
	args, err := sh.values(wr.Rec)
	if err != nil {
		return err
	}
	if lot, ok := wr.Rec.(ledger.Lot); ok && !lot.Conserves() {
		return core.Errorf(core.CodeInternal, "lot %s/%s would not conserve credits", lot.Contract, lot.ID)
	}
	switch {
	case wr.Was == ledger.AnyVersion:
		_, err = w.exec(sh.qUpsert, args...)
		return err
	case !sh.versioned:
		return fmt.Errorf("%s has no version to replace at", sh.table)
	}
	return w.updateOne(wr.What, sh.qReplace, append(args, wr.Was)...)
}

// check compares the stored version with Was (no record: version 0).
func (w *writeTx) check(sh *shape, wr ledger.Write) error {
	key, err := sh.keyOf(wr.Rec)
	if err != nil {
		return err
	}
	var version int64
	switch err := w.queryRow(sh.qVersion, key...).Scan(&version); {
	case errors.Is(err, sql.ErrNoRows):
	case err != nil:
		return err
	}
	if version != wr.Was {
		return failed("%s: it is at version %d", wr.What, version)
	}
	return nil
}

// add reads the record's counters inside the write transaction, adds to
// them, checks the bounds (and a lot's life) and writes them back.
func (w *writeTx) add(sh *shape, wr ledger.Write) error {
	key, err := sh.keyOf(wr.Rec)
	if err != nil {
		return err
	}
	c, err := w.readCounters(sh, key)
	if err != nil {
		return err
	}
	if err := c.add(sh, wr); err != nil {
		return err
	}
	return w.writeCounters(sh, c, wr.What)
}

// addDeferred is add on the record's counters held in memory, read from
// the table the first time the batch adds to them.
func (w *writeTx) addDeferred(sh *shape, wr ledger.Write) error {
	key, err := sh.keyOf(wr.Rec)
	if err != nil {
		return err
	}
	d := w.deferred
	ck := counterKey(sh, key)
	c, ok := d.counters[ck]
	if !ok {
		if c, err = w.readCounters(sh, key); err != nil {
			return err
		}
		d.counters[ck] = c
		d.counterOrder = append(d.counterOrder, c)
		d.counterShapes = append(d.counterShapes, sh)
	}
	return c.add(sh, wr)
}

// counterKey names a record for deferred.counters: its table and key.
func counterKey(sh *shape, key []any) string {
	var b strings.Builder
	b.WriteString(sh.table)
	for _, k := range key {
		b.WriteByte(0)
		if s, ok := k.(string); ok { // every key column is text
			b.WriteString(s)
		} else {
			fmt.Fprint(&b, k)
		}
	}
	return b.String()
}

// flush writes what deferred holds: the rows created, several to an
// INSERT, each of which must insert every row it was given (a key taken
// is a failed condition), then each record's counters once.
func (w *writeTx) flush() error {
	d := w.deferred
	for _, sh := range d.createOrder {
		cols := sh.ncols
		rows := d.creates[sh]
		for len(rows) > 0 {
			n := createChunk(len(rows) / cols)
			args := rows[:n*cols]
			query := sh.qCreate
			if n > 1 {
				query = sh.qCreateMany[n]
			}
			res, err := w.exec(query, args...)
			if err != nil {
				return err
			}
			if got, err := res.RowsAffected(); err != nil || got != int64(n) {
				return cmpErr(err, failed("%s: %d of %d new rows had a key already taken", sh.table, int64(n)-got, n))
			}
			rows = rows[n*cols:]
		}
	}
	for i, c := range d.counterOrder {
		if c.adds == 0 {
			continue
		}
		if err := w.writeCounters(d.counterShapes[i], c, d.counterShapes[i].table+" row read in this transaction"); err != nil {
			return err
		}
	}
	*d = deferred{counters: map[string]*counters{}, creates: map[*shape][]any{}, txs: d.txs}
	return nil
}

// counters is a record's counters as read inside the write transaction,
// with the Adds applied to them since.
type counters struct {
	key    []any
	exists bool // the record was in the table when read
	vals   []decimal.Decimal
	// effective and end are a lot's, for a LiveAt condition.
	effective, end sql.NullInt64
	// adds counts the Adds applied: each moves a versioned record's
	// version on by one.
	adds int64
}

// readCounters reads the counters of the record at key (all zero when
// there is none).
func (w *writeTx) readCounters(sh *shape, key []any) (*counters, error) {
	n := len(sh.counters)
	c := &counters{key: key, exists: true, vals: make([]decimal.Decimal, n)}
	texts := make([]any, n, n+2)
	for i, col := range sh.counters {
		if sh.integer[col] {
			texts[i] = new(int64)
		} else {
			texts[i] = new(string)
		}
	}
	dest := texts
	if sh.table == "lots" {
		dest = append(texts, &c.effective, &c.end)
	}
	switch err := w.queryRow(sh.qCounters, key...).Scan(dest...); {
	case errors.Is(err, sql.ErrNoRows):
		c.exists = false
		for i := range c.vals {
			c.vals[i] = decimal.Zero
		}
	case err != nil:
		return nil, err
	default:
		for i, col := range sh.counters {
			if sh.integer[col] {
				c.vals[i] = decimal.NewFromInt(*texts[i].(*int64))
			} else if c.vals[i], err = decodeDecimal(col, *texts[i].(*string)); err != nil {
				return nil, err
			}
		}
	}
	return c, nil
}

// add applies wr's Adds to the counters, checking its conditions on them:
// the record exists (MustExist), is live (LiveAt), and each counter stays
// within its bounds; a lot must still conserve credits.
func (c *counters) add(sh *shape, wr ledger.Write) error {
	exists := c.exists || c.adds > 0
	if wr.MustExist && !exists {
		return failed("%s: it does not exist", wr.What)
	}
	if !wr.LiveAt.IsZero() {
		l := ledger.Lot{EffectiveFrom: decodeTime(c.effective), ExpiresAt: decodeTime(c.end)}
		if !c.exists || !l.LiveAt(wr.LiveAt) {
			return failed("%s: not live at %s", wr.What, wr.LiveAt.Format(time.RFC3339Nano))
		}
	}
	vals := slices.Clone(c.vals)
	for _, a := range wr.Adds {
		i := slices.Index(sh.counters, string(a.Counter))
		if i < 0 {
			return fmt.Errorf("%s has no counter %s", sh.table, a.Counter)
		}
		vals[i] = vals[i].Add(a.By)
		if (a.AtLeast != nil && vals[i].LessThan(*a.AtLeast)) || (a.AtMost != nil && vals[i].GreaterThan(*a.AtMost)) {
			return failed("%s: %s would be %s", wr.What, a.Counter, vals[i])
		}
	}
	if sh.table == "lots" {
		l := ledger.Lot{Amount: vals[0], Remaining: vals[1], Held: vals[2], Spent: vals[3], Expired: vals[4], Withdrawn: vals[5], Refunded: vals[6]}
		if !l.Conserves() {
			return core.Errorf(core.CodeInternal, "lot %v would not conserve credits: %+v", c.key, l)
		}
	}
	c.vals = vals
	c.adds++
	return nil
}

// writeCounters writes the counters back: it creates the record when it
// was not there, else updates it (moving a versioned record's version on
// by one per Add).
func (w *writeTx) writeCounters(sh *shape, c *counters, what string) error {
	args := make([]any, len(sh.counters), len(sh.counters)+1+len(c.key))
	for i, col := range sh.counters {
		if sh.integer[col] {
			args[i] = c.vals[i].IntPart()
		} else {
			args[i] = encodeDecimal(c.vals[i])
		}
	}
	if !c.exists {
		_, err := w.exec(sh.qInsertCounters, append(slices.Clip(c.key), args...)...)
		return err
	}
	if sh.versioned {
		args = append(args, c.adds)
	}
	return w.updateOne(what, sh.qSetCounters, append(args, c.key...)...)
}

// cmpErr returns err when there is one, else the condition's failure.
func cmpErr(err, failure error) error {
	if err != nil {
		return err
	}
	return failure
}
