package commitments

import (
	"context"
	"database/sql"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"time"
)

// Reader runs the commitments statements on one engine: crossbill's cost
// store (DB) or a tenant's Amazon Athena over the CUR in place
// (internal/costs/athena). Each statement is one SQL text in the subset
// DuckDB and Athena (Trino) both run alike, its values inlined, so that
// the same Go code computes both engines' answers.
type Reader interface {
	// Table is the CUR relation the statements read.
	Table() Table
	// Query runs stmt, which takes no arguments.
	Query(ctx context.Context, stmt string) (Rows, error)
}

// Rows is a statement's result, as *sql.Rows reads it.
type Rows interface {
	Next() bool
	Scan(dest ...any) error
	Err() error
	Close() error
}

// Table is the CUR 2.0 relation a Reader's statements read.
type Table struct {
	// Name is the relation: the cost store's cur view, or Athena's
	// DATABASE.TABLE (checked by the Reader).
	Name string
	// Tenants: the relation holds several tenants' lines, a tenant column
	// selects the window's (the cost store); false: the tenant's own
	// table (Athena's Glue table over the tenant's export).
	Tenants bool
	// Partitioned: the table has billing_period partitions, and every
	// statement names those of its window so that Athena reads (and bills)
	// only them.
	Partitioned bool
	// Recent are the billing periods (YYYY-MM) where a Partitioned table's
	// last hour of data is looked for (DataEnd).
	Recent []string
	// DB is the local cost store's database, for its FOCUS data (FOCUS
	// exports are loaded in the cost store only); nil for Athena.
	DB *sql.DB
}

// DB reads the local cost store's cur view (or any DuckDB relation named
// cur with CUR 2.0 columns and a tenant column).
func DB(db *sql.DB) Reader { return dbReader{db} }

type dbReader struct{ db *sql.DB }

func (r dbReader) Table() Table { return Table{Name: "cur", Tenants: true, DB: r.db} }

func (r dbReader) Query(ctx context.Context, stmt string) (Rows, error) {
	return r.db.QueryContext(ctx, stmt)
}

// literal quotes s as an SQL string literal.
func literal(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// timestamp is t as a TIMESTAMP literal (UTC), which both engines read.
func timestamp(t time.Time) string {
	return "TIMESTAMP '" + t.UTC().Format("2006-01-02 15:04:05.999999") + "'"
}

// periods are the billing periods (YYYY-MM) of the months [start, end)
// touches.
func periods(start, end time.Time) []string {
	start, end = start.UTC(), end.UTC()
	var out []string
	for m := time.Date(start.Year(), start.Month(), 1, 0, 0, 0, 0, time.UTC); m.Before(end); m = m.AddDate(0, 1, 0) {
		out = append(out, m.Format("2006-01"))
	}
	return out
}

// inList is vals as an IN list of string literals.
func inList(vals []string) string {
	q := make([]string, len(vals))
	for i, v := range vals {
		q[i] = literal(v)
	}
	return "(" + strings.Join(q, ", ") + ")"
}

// TextRows reads rows whose values are text, as Athena's GetQueryResults
// returns them (NULL as ""), into the destinations *sql.Rows would take:
// strings (and string kinds), numbers, times ("2006-01-02 15:04:05.000",
// UTC) and their sql.Null* forms.
func TextRows(records [][]string) Rows { return &textRows{records: records, i: -1} }

type textRows struct {
	records [][]string
	i       int
}

func (t *textRows) Next() bool   { t.i++; return t.i < len(t.records) }
func (t *textRows) Err() error   { return nil }
func (t *textRows) Close() error { return nil }

func (t *textRows) Scan(dest ...any) error {
	if t.i < 0 || t.i >= len(t.records) {
		return fmt.Errorf("scan outside the rows")
	}
	rec := t.records[t.i]
	if len(rec) != len(dest) {
		return fmt.Errorf("a row of %d columns scanned into %d values", len(rec), len(dest))
	}
	for i, v := range rec {
		if err := scanText(v, dest[i]); err != nil {
			return fmt.Errorf("column %d: %w", i+1, err)
		}
	}
	return nil
}

// scanText stores the text v in dest.
func scanText(v string, dest any) error {
	switch d := dest.(type) {
	case *string:
		*d = v
	case *sql.NullString:
		*d = sql.NullString{String: v, Valid: v != ""}
	case *float64:
		f, err := parseNumber(v)
		*d = f
		return err
	case *sql.NullFloat64:
		*d = sql.NullFloat64{}
		if v != "" {
			f, err := parseNumber(v)
			*d = sql.NullFloat64{Float64: f, Valid: true}
			return err
		}
	case *int64:
		n, err := strconv.ParseInt(v, 10, 64)
		*d = n
		return err
	case *int:
		n, err := strconv.Atoi(v)
		*d = n
		return err
	case *sql.NullInt64:
		*d = sql.NullInt64{}
		if v != "" {
			n, err := strconv.ParseInt(v, 10, 64)
			*d = sql.NullInt64{Int64: n, Valid: true}
			return err
		}
	case *time.Time:
		t, err := parseAthenaTime(v)
		*d = t
		return err
	case *sql.NullTime:
		*d = sql.NullTime{}
		if v != "" {
			t, err := parseAthenaTime(v)
			*d = sql.NullTime{Time: t, Valid: true}
			return err
		}
	default:
		// A string kind (Kind).
		rv := reflect.ValueOf(dest)
		if rv.Kind() == reflect.Pointer && !rv.IsNil() && rv.Elem().Kind() == reflect.String {
			rv.Elem().SetString(v)
			return nil
		}
		return fmt.Errorf("cannot read text into %T", dest)
	}
	return nil
}

// parseNumber reads a number as Athena renders it (1.5, 1.5E-4, NaN
// refused).
func parseNumber(v string) (float64, error) {
	f, err := strconv.ParseFloat(v, 64)
	if err != nil {
		return 0, fmt.Errorf("number %q: %w", v, err)
	}
	if f != f {
		return 0, fmt.Errorf("number %q is not a number", v)
	}
	return f, nil
}

// parseAthenaTime reads a timestamp as Athena renders it: "2026-01-01
// 00:00:00.000" (fractional seconds optional), UTC.
func parseAthenaTime(v string) (time.Time, error) {
	t, err := time.Parse("2006-01-02 15:04:05.999999999", v)
	if err != nil {
		return time.Time{}, fmt.Errorf("timestamp %q: %w", v, err)
	}
	return t.UTC(), nil
}
