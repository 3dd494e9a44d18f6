package floor

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"testing"

	"cloudcredits/functions/credits/sqlite"
	"cloudcredits/functions/credits/sqlite/internal/groupcommit"
	"cloudcredits/functions/credits/storetest"
)

// Limits.
const (
	// Lots is how many lot rows the spends are spread over (the bench
	// pool's shards).
	Lots = 8
	// BatchMax is the spends one commit takes: one. The floor is one
	// transaction per spend, as a store without group commit would run;
	// the adapter's group commit is what lets its spends share an fsync
	// and pass the floor when many spend at once.
	BatchMax = 1
	// creditsStart is each lot's amount: more than any run spends.
	creditsStart = 1_000_000_000_000
)

const (
	contract = "floor"
	qLot     = `INSERT INTO lots (contract, id, currency, kind, owner, source, grant_id, order_id,
	amount, remaining, held, spent, expired, withdrawn, refunded) VALUES (?1, ?2, 'cloud', 'shared', '', 'purchase', ?2, '',
	?3, ?3, '0', '0', '0', '0', '0')`
	qSpend = `UPDATE lots SET remaining = ?1, spent = ?2, version = version + 1
	WHERE contract = ?3 AND id = ?4 AND version = ?5`
	qEntry = `INSERT INTO entries (contract, id, lot, currency, kind, credits,
	move_remaining, move_held, move_spent, move_expired, move_withdrawn, move_refunded, ref, at)
	VALUES (?1, ?2, ?3, 'cloud', 'spend', '1', '-1', '0', '1', '0', '0', '0', ?2, ?4)`
)

// lot is the writer's copy of one lot row.
type lot struct {
	id               string
	remaining, spent int64
	version          int64
}

// DB is a floor database with its writer goroutine.
type DB struct {
	db           *sql.DB
	spend, entry *sql.Stmt
	lots         []lot // the writer's alone

	in         chan *request
	quit, done chan struct{}
	commits    int64 // the writer's alone until Close
}

type request struct {
	i    int64
	done chan error
}

// Open creates the floor database at path (a new file) with its Lots lots.
func Open(path string) (*DB, error) {
	db, err := sqlite.OpenWriter(path)
	if err != nil {
		return nil, err
	}
	d := &DB{db: db, in: make(chan *request), quit: make(chan struct{}), done: make(chan struct{})}
	if err := d.setUp(); err != nil {
		db.Close()
		return nil, fmt.Errorf("floor: %s: %w", path, err)
	}
	go func() {
		defer close(d.done)
		groupcommit.Loop(d.in, d.quit, BatchMax, d.commit)
	}()
	return d, nil
}

func (d *DB) setUp() error {
	for i := range Lots {
		l := lot{id: fmt.Sprintf("lot-%d", i), remaining: creditsStart, version: 1}
		if _, err := d.db.Exec(qLot, contract, l.id, strconv.FormatInt(creditsStart, 10)); err != nil {
			return fmt.Errorf("lot %s: %w", l.id, err)
		}
		d.lots = append(d.lots, l)
	}
	var err error
	if d.spend, err = d.db.Prepare(qSpend); err == nil {
		d.entry, err = d.db.Prepare(qEntry)
	}
	return err
}

// Spend spends one credit from lot i mod Lots, recording entry i (each i
// once), and returns once the commit that carried it is durable.
func (d *DB) Spend(ctx context.Context, i int64) error {
	r := &request{i: i, done: make(chan error, 1)}
	select {
	case d.in <- r:
	case <-d.quit:
		return errors.New("floor: closed")
	case <-ctx.Done():
		return ctx.Err()
	}
	return <-r.done
}

// commit writes a batch in one transaction; a failure fails all of it.
func (d *DB) commit(batch []*request) {
	err := d.write(batch)
	if err == nil {
		d.commits++
	}
	for _, r := range batch {
		r.done <- err
	}
}

func (d *DB) write(batch []*request) (err error) {
	tx, err := d.db.Begin() // BEGIN IMMEDIATE: see the DSN
	if err != nil {
		return err
	}
	saved := append([]lot(nil), d.lots...)
	defer func() {
		if err != nil {
			tx.Rollback()
			d.lots = saved
		}
	}()
	spend, entry := tx.Stmt(d.spend), tx.Stmt(d.entry)
	for _, r := range batch {
		l := &d.lots[r.i%Lots]
		res, err := spend.Exec(strconv.FormatInt(l.remaining-1, 10), strconv.FormatInt(l.spent+1, 10), contract, l.id, l.version)
		if err != nil {
			return fmt.Errorf("spend %d: %w", r.i, err)
		}
		if n, err := res.RowsAffected(); err != nil || n != 1 {
			return fmt.Errorf("spend %d: lot %s is not at version %d (%d rows, %v)", r.i, l.id, l.version, n, err)
		}
		l.remaining, l.spent, l.version = l.remaining-1, l.spent+1, l.version+1
		if _, err := entry.Exec(contract, "e-"+strconv.FormatInt(r.i, 10), l.id, r.i); err != nil {
			return fmt.Errorf("entry %d: %w", r.i, err)
		}
	}
	return tx.Commit()
}

// Close stops the writer after its batch in hand and closes the database.
func (d *DB) Close() error {
	close(d.quit)
	<-d.done
	return errors.Join(d.spend.Close(), d.entry.Close(), d.db.Close())
}

// Bench measures b.N floor spends by `spenders` concurrent callers on a new
// database at path, through storetest.MeasureSpends (so it reports what
// BenchSpenders reports: spends/s, p50-ms, p99-ms), plus txs/commit.
func Bench(b *testing.B, path string, spenders int) {
	d, err := Open(path)
	if err != nil {
		b.Fatal(err)
	}
	storetest.MeasureSpends(b, spenders, d.Spend)
	if err := d.Close(); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(b.N)/float64(max(d.commits, 1)), "txs/commit")
}
