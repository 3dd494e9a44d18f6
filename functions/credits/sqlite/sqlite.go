package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"

	"cloudcredits/core/ledger"

	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// Limits.
const (
	// busyTimeoutMs is how long a connection waits for another process's
	// lock before failing with SQLITE_BUSY. Within this process writers
	// queue on the one writer connection and never see it.
	busyTimeoutMs = 10_000
	// readersMax bounds the query-only connections.
	readersMax = 16
	// opsPerTxMax bounds the ops of one Apply. The largest Txs the planners
	// make are a termination's (ledger.EndLotsPerTxMax lot ends) and a
	// spend's (two ops per debited lot); this leaves room for both.
	opsPerTxMax = 1024
	// batchTxMax bounds the Txs one group commit gathers from waiting
	// callers; an ApplyEach's Txs are always taken whole.
	batchTxMax = 64
	// listMax bounds the rows EndedLots and ExpiredHolds return in one call,
	// whatever limit the caller asks for.
	listMax = 10_000
)

// Store is ledger.Store on one SQLite file.
type Store struct {
	path   string
	writer *sql.DB // exactly one connection, used only by writeLoop
	reader *sql.DB // query-only connections for the reads

	applyCh    chan *applyReq // unbuffered: a sent Tx is in the writer's hands
	quit       chan struct{}  // closed by Close
	writerDone chan struct{}  // closed when writeLoop has returned

	// commits and committedTxs count group commits and the Txs they carried;
	// savepointBatches the batches applied again with a savepoint per Tx.
	commits, committedTxs, savepointBatches atomic.Int64

	// Statements prepared at Open, by query text; see writeQueries and
	// readQueries. unprepared counts queries run without one (a test keeps
	// it at zero).
	writeStmts, readStmts map[string]*sql.Stmt
	unprepared            atomic.Int64

	closeOnce sync.Once
	closeErr  error
}

var _ ledger.Store = (*Store)(nil)

// Open opens (creating if needed) the ledger database at path and brings
// its schema up to date. path names a file; ":memory:" is refused because
// each connection would see a different database.
func Open(path string) (*Store, error) {
	abs, err := absPath(path)
	if err != nil {
		return nil, err
	}
	s := &Store{path: abs}
	if s.writer, err = openWriter(abs); err != nil {
		return nil, err
	}

	// The readers, opened after the writer has created the file and made
	// it WAL, so they never race to initialise it.
	s.reader, err = sql.Open("sqlite", dsn(abs, true))
	if err != nil {
		s.writer.Close()
		return nil, fmt.Errorf("sqlite: open %s for reading: %w", abs, err)
	}
	n := min(max(4, runtime.GOMAXPROCS(0)), readersMax)
	s.reader.SetMaxOpenConns(n)
	s.reader.SetMaxIdleConns(n)
	if err := s.reader.Ping(); err != nil {
		s.Close()
		return nil, fmt.Errorf("sqlite: open %s for reading: %w", abs, err)
	}
	if s.writeStmts, err = prepare(s.writer, writeQueries); err == nil {
		s.readStmts, err = prepare(s.reader, readQueries)
	}
	if err != nil {
		s.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", abs, err)
	}
	s.applyCh, s.quit, s.writerDone = make(chan *applyReq), make(chan struct{}), make(chan struct{})
	go s.writeLoop()
	return s, nil
}

func prepare(db *sql.DB, queries []string) (map[string]*sql.Stmt, error) {
	m := make(map[string]*sql.Stmt, len(queries))
	for _, q := range queries {
		st, err := db.Prepare(q)
		if err != nil {
			return nil, fmt.Errorf("prepare %q: %w", q, err)
		}
		m[q] = st
	}
	return m, nil
}

// prepared returns the statement prepared for query, if any.
func (s *Store) prepared(stmts map[string]*sql.Stmt, query string) (*sql.Stmt, bool) {
	st, ok := stmts[query]
	if !ok {
		s.unprepared.Add(1)
	}
	return st, ok
}

// dsn builds the connection string. Every connection gets the busy timeout
// and WAL; the writer begins its transactions IMMEDIATE and syncs FULL; the
// readers are query_only, so a bug can't write through them.
func dsn(path string, readOnly bool) string {
	q := url.Values{}
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", busyTimeoutMs))
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous(FULL)")
	// No table declares a foreign key (see schema.go), but if one ever does
	// it must be enforced, so the pragma is on everywhere.
	q.Add("_pragma", "foreign_keys(1)")
	// Savepoints journal into temp storage: in memory, not a file per
	// transaction (SCHEMA.md).
	q.Add("_pragma", "temp_store(MEMORY)")
	if readOnly {
		q.Add("_pragma", "query_only(1)")
	} else {
		q.Set("_txlock", "immediate")
	}
	return path + "?" + q.Encode()
}

// OpenWriter opens the one writer connection of the database at path,
// exactly as Open does for its writer goroutine (this driver, the DSN
// above: WAL, synchronous=FULL, BEGIN IMMEDIATE), checks that the pragmas
// took and brings the schema up to date. It is for programs that measure
// the storage itself (the storage floor); a Store must be the only writer
// of its file in a process, so never open both on one file.
func OpenWriter(path string) (*sql.DB, error) {
	abs, err := absPath(path)
	if err != nil {
		return nil, err
	}
	return openWriter(abs)
}

// absPath is path made absolute, refused when it is not a plain file path
// the DSN can carry.
func absPath(path string) (string, error) {
	if path == "" || path == ":memory:" || strings.HasPrefix(path, "file:") {
		return "", fmt.Errorf("sqlite: open %q: need a file path", path)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", fmt.Errorf("sqlite: open %q: %w", path, err)
	}
	if strings.ContainsAny(abs, "?#") {
		return "", fmt.Errorf("sqlite: open %q: the path may not contain '?' or '#'", path)
	}
	return abs, nil
}

func openWriter(abs string) (*sql.DB, error) {
	db, err := sql.Open("sqlite", dsn(abs, false))
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", abs, err)
	}
	db.SetMaxOpenConns(1)
	db.SetMaxIdleConns(1)
	db.SetConnMaxLifetime(0)
	db.SetConnMaxIdleTime(0)
	if err := checkWriter(db); err != nil {
		db.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", abs, err)
	}
	if err := migrate(db); err != nil {
		db.Close()
		return nil, fmt.Errorf("sqlite: migrate %s: %w", abs, err)
	}
	return db, nil
}

// checkWriter verifies that the pragmas took: a silently ignored WAL or
// sync setting would weaken durability without anyone noticing.
func checkWriter(db *sql.DB) error {
	ctx := context.Background()
	var mode string
	if err := db.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil {
		return err
	}
	if !strings.EqualFold(mode, "wal") {
		return fmt.Errorf("journal_mode is %q, want wal", mode)
	}
	var sync int
	if err := db.QueryRowContext(ctx, "PRAGMA synchronous").Scan(&sync); err != nil {
		return err
	}
	if sync != 2 {
		return fmt.Errorf("synchronous is %d, want 2 (FULL)", sync)
	}
	return nil
}

// migrate runs the migrations the database has not seen, in one IMMEDIATE
// transaction, so two processes opening a new file at once can't both run
// them and a crash mid-way leaves the old version.
func migrate(db *sql.DB) error {
	ctx := context.Background()
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	var version int
	if err := tx.QueryRowContext(ctx, "PRAGMA user_version").Scan(&version); err != nil {
		return err
	}
	switch {
	case version > len(migrations):
		return fmt.Errorf("database schema version %d is newer than this program's %d", version, len(migrations))
	case version == len(migrations):
		return nil
	}
	for v := version; v < len(migrations); v++ {
		if _, err := tx.ExecContext(ctx, migrations[v]); err != nil {
			return fmt.Errorf("migration %d: %w", v+1, err)
		}
	}
	// PRAGMA takes no parameters; the value is our own integer.
	if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", len(migrations))); err != nil {
		return err
	}
	return tx.Commit()
}

// Close stops the writer after the batch it is applying, then closes the
// database. Apply after Close fails. It is safe to call more than once.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		if s.quit != nil {
			close(s.quit)
			<-s.writerDone // the batch in hand is committed (or not) and answered
		}
		var errs []error
		for _, m := range []map[string]*sql.Stmt{s.writeStmts, s.readStmts} {
			for _, st := range m {
				errs = append(errs, st.Close())
			}
		}
		if s.reader != nil {
			errs = append(errs, s.reader.Close())
		}
		errs = append(errs, s.writer.Close())
		s.closeErr = errors.Join(errs...)
	})
	return s.closeErr
}

// Path is the database file.
func (s *Store) Path() string { return s.path }
