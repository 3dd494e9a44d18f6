package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"cloudcredits/core"
	"cloudcredits/core/ledger"

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
// every Tx waiting at that moment (at most batchTxMax), applies each inside
// its own SAVEPOINT of one IMMEDIATE transaction — so each sees the ones
// before it, exactly as if run one after another — and commits them with one
// fsync. A Tx that fails is rolled back to its savepoint alone. Nothing is
// acknowledged before the commit, and if the commit fails every Tx of the
// batch fails with it.
func (s *Store) Apply(ctx context.Context, tx ledger.Tx) error {
	if err := tx.Check(); err != nil {
		return core.Errorf(core.CodeInternal, "refusing a transaction that breaks a ledger invariant: %v", err)
	}
	if n := len(tx.Ops); n > opsPerTxMax {
		return core.Errorf(core.CodeTooLarge, "a transaction of %d writes is more than the %d the store accepts", n, opsPerTxMax)
	}
	if len(tx.Ops) == 0 {
		return nil
	}
	r := &applyReq{ctx: ctx, tx: tx, done: make(chan error, 1)}
	select {
	case s.applyCh <- r:
	case <-s.quit:
		return errClosed
	case <-ctx.Done():
		return ctx.Err()
	}
	// Once the writer has the Tx its outcome is decided by the batch's
	// commit; waiting for it, rather than for ctx, means a cancelled caller
	// never mistakes a committed Tx for a failed one.
	return <-r.done
}

var errClosed = errors.New("sqlite: store is closed")

// applyReq is one Apply waiting for the writer.
type applyReq struct {
	ctx  context.Context
	tx   ledger.Tx
	done chan error // buffered: the writer never blocks on a caller
}

// writeLoop is the writer goroutine: the only code that writes.
func (s *Store) writeLoop() {
	defer close(s.writerDone)
	batch := make([]*applyReq, 0, batchTxMax)
	for {
		select {
		case r := <-s.applyCh:
			batch = append(batch[:0], r)
		case <-s.quit:
			return
		}
	drain:
		for len(batch) < batchTxMax {
			select {
			case r := <-s.applyCh:
				batch = append(batch, r)
			default:
				break drain
			}
		}
		s.commitBatch(batch)
		clear(batch)
	}
}

// commitBatch applies a batch in one transaction and tells each caller its
// outcome after the commit.
func (s *Store) commitBatch(batch []*applyReq) {
	errs := make([]error, len(batch))
	failAll := func(err error) {
		for i := range errs {
			if errs[i] == nil {
				errs[i] = err
			}
		}
	}
	// Statements run under the batch's own context: one caller's
	// cancellation must not interrupt the others' transaction.
	ctx := context.Background()
	sqlTx, err := s.writer.BeginTx(ctx, nil) // BEGIN IMMEDIATE: see dsn
	if err != nil {
		failAll(fmt.Errorf("sqlite: begin: %w", err))
	} else {
		w := &writeTx{s: s, tx: sqlTx, ctx: ctx}
		if err := w.applyBatch(batch, errs); err != nil {
			sqlTx.Rollback()
			failAll(err) // every Tx of the batch, the good ones too: none is committed
		} else if err := sqlTx.Commit(); err != nil {
			failAll(fmt.Errorf("sqlite: commit: %w", err))
		} else {
			s.commits.Add(1)
			s.committedTxs.Add(int64(len(batch)))
		}
	}
	for i, r := range batch {
		r.done <- errs[i]
	}
}

// applyBatch applies each Tx inside its own savepoint, recording its
// outcome in errs. It returns an error only when the transaction as a whole
// can't go on (a savepoint statement failed: SQLite may have rolled the
// whole transaction back).
func (w *writeTx) applyBatch(batch []*applyReq, errs []error) error {
	for i, r := range batch {
		if err := r.ctx.Err(); err != nil {
			errs[i] = err // the caller gave up before its Tx started
			continue
		}
		if _, err := w.exec(qSavepoint); err != nil {
			return fmt.Errorf("sqlite: savepoint: %w", err)
		}
		if errs[i] = w.applyTx(r.tx); errs[i] != nil {
			if _, err := w.exec(qRollbackTo); err != nil {
				return fmt.Errorf("sqlite: roll back to savepoint after %v: %w", errs[i], err)
			}
		}
		if _, err := w.exec(qRelease); err != nil {
			return fmt.Errorf("sqlite: release savepoint: %w", err)
		}
	}
	return nil
}

// applyTx applies the ops of one Tx, stopping at the first that fails.
func (w *writeTx) applyTx(tx ledger.Tx) error {
	for i, op := range tx.Ops {
		if err := w.apply(op); err != nil {
			if c, ok := errors.AsType[*conditionFailed](err); ok {
				return &ledger.ConflictError{Op: i, Reason: c.reason}
			}
			return fmt.Errorf("sqlite: write %d (%T): %w", i, op, err)
		}
	}
	return nil
}

// writeTx is one Apply's transaction.
type writeTx struct {
	s   *Store
	tx  *sql.Tx
	ctx context.Context
}

// exec and queryRow run one of writeQueries on the statement prepared for
// it on the writer connection.
func (w *writeTx) exec(query string, args ...any) (sql.Result, error) {
	if st, ok := w.s.prepared(w.s.writeStmts, query); ok {
		return w.tx.StmtContext(w.ctx, st).ExecContext(w.ctx, args...)
	}
	return w.tx.ExecContext(w.ctx, query, args...)
}

func (w *writeTx) queryRow(query string, args ...any) *sql.Row {
	if st, ok := w.s.prepared(w.s.writeStmts, query); ok {
		return w.tx.StmtContext(w.ctx, st).QueryRowContext(w.ctx, args...)
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

// insertNew runs an INSERT … ON CONFLICT DO NOTHING; it reports whether the
// row was new.
func (w *writeTx) insertNew(query string, args []any, encErr error) (bool, error) {
	if encErr != nil {
		return false, encErr
	}
	res, err := w.exec(query, args...)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

func (w *writeTx) apply(op ledger.Op) error {
	switch o := op.(type) {
	case ledger.CreateLot:
		return w.createLot(o)
	case ledger.MoveLot:
		return w.moveLot(o)
	case ledger.EndLot:
		return w.endLot(o)
	case ledger.PutEntry:
		args, err := entryValues(o.Entry)
		ok, err := w.insertNew(qEntryInsert, args, err)
		if err == nil && !ok {
			return failed("entry %s already exists in contract %s", o.Entry.ID, o.Entry.Contract)
		}
		return err
	case ledger.PutIdempotency:
		return w.putIdempotency(o)
	case ledger.PutHold:
		args, err := holdValues(o.Hold)
		ok, err := w.insertNew(qHoldInsert, args, err)
		if err == nil && !ok {
			return failed("hold %s already exists in contract %s", o.Hold.ID, o.Hold.Contract)
		}
		return err
	case ledger.UpdateHold:
		return w.updateHold(o)
	case ledger.PutConsumption:
		args, err := consumptionValues(o.Consumption)
		ok, err := w.insertNew(qConsInsert, args, err)
		if err == nil && !ok {
			return failed("consumption %s already exists in contract %s", o.Consumption.ID, o.Consumption.Contract)
		}
		return err
	case ledger.UpdateConsumption:
		return w.updateConsumption(o)
	case ledger.AddBudgetUsage:
		return w.addBudgetUsage(o)
	case ledger.AddUsage:
		return w.addUsage(o)
	case ledger.PutAttempt:
		args, err := attemptValues(o.Attempt)
		if err != nil {
			return err
		}
		_, err = w.exec(qAttemptPut, args...)
		return err
	case ledger.PutContract:
		args, err := contractValues(o.Contract)
		ok, err := w.insertNew(qContractInsert, args, err)
		if err == nil && !ok {
			return failed("contract %s already exists", o.Contract.ID)
		}
		return err
	case ledger.UpdateContract:
		return w.updateContract(o)
	case ledger.PutUser:
		return w.putUser(o)
	case ledger.MarkGrant:
		ok, err := w.insertNew(qGrantInsert, []any{o.Contract, o.User}, nil)
		if err == nil && !ok {
			return failed("user %s of contract %s already received the individual grant", o.User, o.Contract)
		}
		return err
	case ledger.PutOrder:
		args, err := orderValues(o.Order)
		ok, err := w.insertNew(qOrderInsert, args, err)
		if err == nil && !ok {
			return failed("order %s already exists in contract %s", o.Order.ID, o.Order.Contract)
		}
		return err
	case ledger.UpdateOrder:
		return w.updateOrder(o)
	case ledger.PutQuoteAcceptance:
		args, err := quoteAcceptanceValues(o.Acceptance)
		ok, err := w.insertNew(qQuoteAccept, args, err)
		if err == nil && !ok {
			return failed("quote %s was already accepted", o.Acceptance.QuoteID)
		}
		return err
	case ledger.PutSunset:
		return w.putSunset(o)
	case ledger.SunsetIs:
		var version int64
		switch err := w.queryRow(qSunsetVersion, string(o.Currency)).Scan(&version); {
		case errors.Is(err, sql.ErrNoRows): // none: version 0
		case err != nil:
			return err
		}
		if version != o.Version {
			return failed("sunset of %s is at version %d, not %d", o.Currency, version, o.Version)
		}
		return nil
	case ledger.PutNotification:
		args, err := notificationValues(o.Notification)
		ok, err := w.insertNew(qNotifyInsert, args, err)
		if err == nil && !ok {
			return failed("notification %s was already recorded", o.Notification.ID)
		}
		return err
	case ledger.MarkSent:
		at, err := encodeTime(o.At)
		if err != nil {
			return err
		}
		return w.updateOne(fmt.Sprintf("notification %s of contract %s is not pending", o.ID, o.Contract),
			qNotifySent, at, o.Contract, o.ID)
	case ledger.Readdress:
		at, err := encodeTime(o.At)
		if err != nil {
			return err
		}
		return w.updateOne(fmt.Sprintf("notification %s of contract %s is not waiting unclaimed for %q", o.ID, o.Contract, o.WasTo),
			qNotifyReaddress, o.To, string(ledger.InitialState(o.To)), o.Contract, o.ID, o.WasTo, at)
	case ledger.ContractIs:
		var version int64
		switch err := w.queryRow(qContractVersion, o.Contract).Scan(&version); {
		case errors.Is(err, sql.ErrNoRows):
			return failed("contract %s does not exist", o.Contract)
		case err != nil:
			return err
		case version != o.Version:
			return failed("contract %s is at version %d, not %d", o.Contract, version, o.Version)
		}
		return nil
	case ledger.ClaimNotification:
		until, err1 := encodeTime(o.Until)
		at, err2 := encodeTime(o.At)
		if err := errors.Join(err1, err2); err != nil {
			return err
		}
		return w.updateOne(fmt.Sprintf("notification %s of contract %s is not pending, unclaimed, for %q", o.ID, o.Contract, o.To),
			qNotifyClaim, until, o.Contract, o.ID, o.To, at)
	case ledger.PutBudget:
		b := o.Budget
		args := []any{b.Contract, b.Project, string(b.Currency), encodeDecimal(b.MonthlyCap)}
		_, err := w.exec(qBudgetPut, args...)
		return err
	case nil:
		return errors.New("nil op")
	}
	return fmt.Errorf("unknown op %T", op)
}

// readLot reads a lot inside the transaction; ok is false when it is absent.
func (w *writeTx) readLot(contract, id string) (ledger.Lot, bool, error) {
	l, err := scanLot(w.queryRow(qLotRead, contract, id))
	if errors.Is(err, sql.ErrNoRows) {
		return l, false, nil
	}
	return l, err == nil, err
}

// verifyLot checks what the database now holds for a lot (the counters a
// RETURNING clause read back) against what was meant to be written, and
// conservation. A mismatch is a broken invariant, not a lost race.
func verifyLot(row scanner, want ledger.Lot) error {
	got := want
	if err := scanCounters(row, &got); err != nil {
		return fmt.Errorf("read back lot %s: %w", want.ID, err)
	}
	for _, p := range [][2]decimal.Decimal{
		{got.Amount, want.Amount}, {got.Remaining, want.Remaining}, {got.Held, want.Held},
		{got.Spent, want.Spent}, {got.Expired, want.Expired}, {got.Withdrawn, want.Withdrawn},
		{got.Refunded, want.Refunded},
	} {
		if !p[0].Equal(p[1]) {
			return core.Errorf(core.CodeInternal, "lot %s/%s reads back %+v after writing %+v", want.Contract, want.ID, got, want)
		}
	}
	if !got.Conserves() {
		return core.Errorf(core.CodeInternal, "lot %s/%s would not conserve credits: amount %s, remaining %s, held %s, spent %s, expired %s, withdrawn %s, refunded %s",
			got.Contract, got.ID, got.Amount, got.Remaining, got.Held, got.Spent, got.Expired, got.Withdrawn, got.Refunded)
	}
	return nil
}

func (w *writeTx) createLot(o ledger.CreateLot) error {
	args, err := lotValues(o.Lot)
	if err != nil {
		return err
	}
	row := w.queryRow(qLotCreate, args...)
	err = verifyLot(row, o.Lot)
	if errors.Is(err, sql.ErrNoRows) {
		return failed("lot %s already exists in contract %s", o.Lot.ID, o.Lot.Contract)
	}
	return err
}

func (w *writeTx) moveLot(o ledger.MoveLot) error {
	l, ok, err := w.readLot(o.Contract, o.Lot)
	switch {
	case err != nil:
		return err
	case !ok:
		return failed("lot %s does not exist in contract %s", o.Lot, o.Contract)
	case !o.LiveAt.IsZero() && !l.LiveAt(o.LiveAt):
		return failed("lot %s is not live at %s", o.Lot, o.LiveAt.Format(time.RFC3339Nano))
	}
	after := l.Apply(o.Move)
	switch {
	case after.Remaining.Sign() < 0:
		return failed("lot %s has %s remaining; the write needs %s", o.Lot, l.Remaining, o.Move.Remaining.Neg())
	case after.Held.Sign() < 0:
		return failed("lot %s has %s held; the write needs %s", o.Lot, l.Held, o.Move.Held.Neg())
	}
	row := w.queryRow(qLotMove, encodeDecimal(after.Remaining), encodeDecimal(after.Held), encodeDecimal(after.Spent),
		encodeDecimal(after.Expired), encodeDecimal(after.Withdrawn), encodeDecimal(after.Refunded),
		o.Contract, o.Lot)
	return verifyLot(row, after)
}

func (w *writeTx) endLot(o ledger.EndLot) error {
	l, ok, err := w.readLot(o.Contract, o.Lot)
	switch {
	case err != nil:
		return err
	case !ok:
		return failed("lot %s does not exist in contract %s", o.Lot, o.Contract)
	case !l.ExpiresAt.Equal(o.WasExpiresAt) || !l.WithdrawNoticeAt.Equal(o.WasNoticeAt) || !l.ClosesAt.Equal(o.WasClosesAt):
		return failed("lot %s's end changed since it was read", o.Lot)
	}
	after := l
	after.ExpiresAt, after.WithdrawNoticeAt, after.ClosesAt = o.ExpiresAt, o.WithdrawNoticeAt, o.ClosesAt
	var v values
	v.time(after.ExpiresAt)
	v.time(after.WithdrawNoticeAt)
	v.time(after.ClosesAt)
	v.time(after.End())
	v.add(o.Contract, o.Lot)
	if v.err != nil {
		return v.err
	}
	_, err = w.exec(qLotEnd, v.args...)
	return err
}

func (w *writeTx) putIdempotency(o ledger.PutIdempotency) error {
	r := o.Record
	old, err := scanIdempotency(w.queryRow(qIdemRead, r.Contract, r.Key))
	switch {
	case errors.Is(err, sql.ErrNoRows):
	case err != nil:
		return err
	case old.LiveAt(o.At):
		return failed("idempotency key %q of contract %s already has a live record", r.Key, r.Contract)
	}
	args, err := idempotencyValues(r)
	if err != nil {
		return err
	}
	_, err = w.exec(qIdemPut, args...)
	return err
}

func (w *writeTx) updateHold(o ledger.UpdateHold) error {
	h := o.Hold
	var state string
	err := w.queryRow(qHoldState, h.Contract, h.ID).Scan(&state)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return failed("hold %s does not exist in contract %s", h.ID, h.Contract)
	case err != nil:
		return err
	case ledger.HoldState(state) != o.WasState:
		return failed("hold %s is %s, not %s", h.ID, state, o.WasState)
	}
	args, err := holdValues(h)
	if err != nil {
		return err
	}
	_, err = w.exec(qHoldUpdate, args...)
	return err
}

func (w *writeTx) updateConsumption(o ledger.UpdateConsumption) error {
	c := o.Consumption
	var refunded string
	err := w.queryRow(qConsRefunded, c.Contract, c.ID).Scan(&refunded)
	if errors.Is(err, sql.ErrNoRows) {
		return failed("consumption %s does not exist in contract %s", c.ID, c.Contract)
	}
	if err != nil {
		return err
	}
	was, err := decodeDecimal("refunded", refunded)
	if err != nil {
		return err
	}
	if !was.Equal(o.WasRefunded) {
		return failed("consumption %s has %s refunded, not %s", c.ID, was, o.WasRefunded)
	}
	args, err := consumptionValues(c)
	if err != nil {
		return err
	}
	_, err = w.exec(qConsUpdate, args...)
	return err
}

func (w *writeTx) addBudgetUsage(o ledger.AddBudgetUsage) error {
	var text string
	err := w.queryRow(qBudgetUsedRead, o.Contract, o.Project, string(o.Currency), o.Month).Scan(&text)
	used := decimal.Zero
	switch {
	case errors.Is(err, sql.ErrNoRows):
	case err != nil:
		return err
	default:
		if used, err = decodeDecimal("used", text); err != nil {
			return err
		}
	}
	after := used.Add(o.Delta)
	if o.Capped && o.Delta.Sign() > 0 && after.GreaterThan(o.Cap) {
		return failed("project %s has used %s of its %s cap for %s; adding %s would cross it", o.Project, used, o.Cap, o.Month, o.Delta)
	}
	args := []any{o.Contract, o.Project, string(o.Currency), o.Month, encodeDecimal(after)}
	_, err = w.exec(qBudgetUsedPut, args...)
	return err
}

func (w *writeTx) addUsage(o ledger.AddUsage) error {
	k := o.Key
	key := []any{k.Contract, k.Month, string(k.Currency), k.User, k.Service, k.Project, k.Entity}
	var text string
	var count int64
	err := w.queryRow(qUsageRead, key...).Scan(&text, &count)
	credits := decimal.Zero
	switch {
	case errors.Is(err, sql.ErrNoRows):
	case err != nil:
		return err
	default:
		if credits, err = decodeDecimal("credits", text); err != nil {
			return err
		}
	}
	args := append(key, encodeDecimal(credits.Add(o.Credits)), count+o.Count)
	_, err = w.exec(qUsagePut, args...)
	return err
}

func (w *writeTx) updateContract(o ledger.UpdateContract) error {
	c := o.Contract
	var version int64
	err := w.queryRow(qContractVersion, c.ID).Scan(&version)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return failed("contract %s does not exist", c.ID)
	case err != nil:
		return err
	case version != c.Version-1:
		return failed("contract %s is at version %d, not %d", c.ID, version, c.Version-1)
	}
	args, err := contractValues(c)
	if err != nil {
		return err
	}
	_, err = w.exec(qContractUpdate, args...)
	return err
}

func (w *writeTx) putUser(o ledger.PutUser) error {
	u := o.User
	args, err := userValues(u)
	if err != nil {
		return err
	}
	if u.Version == 1 {
		ok, err := w.insertNew(qUserInsert, args, nil)
		if err == nil && !ok {
			return failed("user %s already exists in contract %s", u.ID, u.Contract)
		}
		return err
	}
	var version int64
	err = w.queryRow(qUserVersion, u.Contract, u.ID).Scan(&version)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return failed("user %s does not exist in contract %s", u.ID, u.Contract)
	case err != nil:
		return err
	case version != u.Version-1:
		return failed("user %s of contract %s is at version %d, not %d", u.ID, u.Contract, version, u.Version-1)
	}
	_, err = w.exec(qUserUpdate, args...)
	return err
}

func (w *writeTx) updateOrder(o ledger.UpdateOrder) error {
	ord := o.Order
	var status string
	err := w.queryRow(qOrderStatus, ord.Contract, ord.ID).Scan(&status)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return failed("order %s does not exist in contract %s", ord.ID, ord.Contract)
	case err != nil:
		return err
	case ledger.OrderStatus(status) != o.WasStatus:
		return failed("order %s is %s, not %s", ord.ID, status, o.WasStatus)
	}
	args, err := orderValues(ord)
	if err != nil {
		return err
	}
	_, err = w.exec(qOrderUpdate, args...)
	return err
}

// putSunset creates a sunset (Version 1, none may exist) or replaces it on
// condition that it is at Version − 1.
func (w *writeTx) putSunset(o ledger.PutSunset) error {
	x := o.Sunset
	args, err := sunsetValues(x)
	if x.Version == 1 {
		ok, err := w.insertNew(qSunsetInsert, args, err)
		if err == nil && !ok {
			return failed("currency %s already has a sunset", x.Currency)
		}
		return err
	}
	if err != nil {
		return err
	}
	var version int64
	switch err := w.queryRow(qSunsetVersion, string(x.Currency)).Scan(&version); {
	case errors.Is(err, sql.ErrNoRows):
		return failed("currency %s has no sunset to replace", x.Currency)
	case err != nil:
		return err
	case version != x.Version-1:
		return failed("sunset of %s is at version %d, not %d", x.Currency, version, x.Version-1)
	}
	_, err = w.exec(qSunsetUpdate, args...)
	return err
}

// cmpErr returns err when there is one, else the condition's failure.
func cmpErr(err, failure error) error {
	if err != nil {
		return err
	}
	return failure
}
