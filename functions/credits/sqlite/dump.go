package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Dump returns every row of every table as one text line,
// "table|col=value|col=value…" with the columns in schema order (keys
// first), the lines sorted. NULL is written null, a time column as RFC 3339
// in UTC, text bare unless it needs quoting. It reads one snapshot.
func (s *Store) Dump(ctx context.Context) ([]string, error) {
	tx, err := s.reader.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, fmt.Errorf("sqlite: dump: %w", err)
	}
	defer tx.Rollback()
	lines := []string{}
	for _, table := range tables {
		if lines, err = dumpTable(ctx, tx, table, lines); err != nil {
			return nil, fmt.Errorf("sqlite: dump %s: %w", table, err)
		}
	}
	slices.Sort(lines)
	return lines, nil
}

func dumpTable(ctx context.Context, tx *sql.Tx, table string, lines []string) ([]string, error) {
	rows, err := tx.QueryContext(ctx, "SELECT * FROM "+table)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return nil, err
	}
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	var b strings.Builder
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return nil, err
		}
		b.Reset()
		b.WriteString(table)
		for i, c := range cols {
			b.WriteString("|" + c + "=" + dumpValue(c, vals[i]))
		}
		lines = append(lines, b.String())
	}
	return lines, rows.Err()
}

func dumpValue(col string, v any) string {
	switch v := v.(type) {
	case nil:
		return "null"
	case int64:
		if col == "at" || strings.HasSuffix(col, "_at") {
			return time.Unix(0, v).UTC().Format(time.RFC3339Nano)
		}
		return strconv.FormatInt(v, 10)
	case string:
		return dumpText(v)
	case []byte:
		return dumpText(string(v))
	}
	return fmt.Sprintf("%v", v)
}

// dumpText quotes text that could be mistaken for structure or for null.
func dumpText(s string) string {
	if s == "" || s == "null" || strings.ContainsAny(s, "|=\"\\") ||
		strings.ContainsFunc(s, func(r rune) bool { return r <= ' ' || r == 0x7f || r > 0x7e }) {
		return strconv.Quote(s)
	}
	return s
}
