package costs

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/cur"
)

// viewsVersion changes whenever the view definitions change, so stores
// built by older code get their views rebuilt on Open.
const viewsVersion = "views-3"

// querier is what rebuildViews needs of a transaction.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// loadRef is a ledger row's reference to its files.
type loadRef struct {
	tenant, source, period, format string
	paths, columns                 []string
}

// rebuildViews recreates cur and focus_export over the files the ledger
// lists, and with derived also the views built on them (line_items,
// focus). Inside the caller's transaction, so the views change with the
// ledger, atomically. A load needs only the first two: DuckDB binds a view
// when it is queried, so the derived views see the new branches, and
// recreating them would bind every loaded file's schema again.
func (s *Store) rebuildViews(ctx context.Context, q querier, derived bool) error {
	const op = "cost views"
	rows, err := q.QueryContext(ctx, `SELECT tenant, source, billing_period, format, paths, columns
		FROM ingest_ledger ORDER BY tenant, source, billing_period`)
	if err != nil {
		return crossbill.Errorf(crossbill.CodeInternal, op, "reading the ledger: %w", err)
	}
	var loads []loadRef
	for rows.Next() {
		var l loadRef
		var paths, cols duckList
		if err := rows.Scan(&l.tenant, &l.source, &l.period, &l.format, &paths, &cols); err != nil {
			rows.Close()
			return crossbill.Errorf(crossbill.CodeInternal, op, "reading the ledger: %w", err)
		}
		l.paths, l.columns = paths, cols
		loads = append(loads, l)
	}
	if err := rows.Close(); err != nil {
		return crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
	}
	if err := rows.Err(); err != nil {
		return crossbill.Errorf(crossbill.CodeInternal, op, "reading the ledger: %w", err)
	}
	stmts := []string{
		s.exportViewSQL("cur", cur.Columns(), loads, string(FormatCUR2)),
		s.exportViewSQL("focus_export", cur.FOCUSColumns(), loads, string(FormatFOCUS)),
	}
	if derived {
		stmts = append(stmts, lineItemsViewSQL(), focusViewSQL())
	}
	for _, stmt := range stmts {
		if _, err := q.ExecContext(ctx, stmt); err != nil {
			return crossbill.Errorf(crossbill.CodeInternal, op, "creating a view: %w", err)
		}
	}
	return nil
}

// exportViewSQL is a view with the schema's columns (typed as the schema
// says) plus tenant, source and billing_period over the loads' files.
func (s *Store) exportViewSQL(name string, schema []cur.Column, loads []loadRef, format string) string {
	return fmt.Sprintf("CREATE OR REPLACE VIEW %s AS\n", name) + s.exportSelectSQL(schema, loads, format, false)
}

// exportSelectSQL is the body of an export view: an empty typed branch,
// then one branch per load of the format, reading its files; columns the
// files lack are NULL. byName binds the files by their own columns
// (reading their footers) rather than by the ledger's (schemaScan): the
// load's rollup pass, which reads its own files once, ran ≈ 20% faster so.
func (s *Store) exportSelectSQL(schema []cur.Column, loads []loadRef, format string, byName bool) string {
	var b strings.Builder
	b.WriteString("SELECT NULL::VARCHAR AS tenant, NULL::VARCHAR AS source, NULL::VARCHAR AS billing_period")
	for _, c := range schema {
		fmt.Fprintf(&b, ", NULL::%s AS %s", c.Type, quoteIdent(c.Name))
	}
	b.WriteString(" WHERE false")
	for _, l := range loads {
		if l.format != format {
			continue
		}
		have := map[string]bool{}
		for _, c := range l.columns {
			have[c] = true
		}
		fmt.Fprintf(&b, "\nUNION ALL\nSELECT %s, %s, %s", quoteString(l.tenant), quoteString(l.source), quoteString(l.period))
		var read []cur.Column
		for _, c := range schema {
			switch {
			case !have[c.Name]:
				fmt.Fprintf(&b, ", NULL::%s", c.Type)
			case byName:
				fmt.Fprintf(&b, ", CAST(%s AS %s)", quoteIdent(c.Name), c.Type)
			default:
				fmt.Fprintf(&b, ", %s", quoteIdent(c.Name))
				read = append(read, c)
			}
		}
		abs := make([]string, len(l.paths))
		for i, p := range l.paths {
			abs[i] = filepath.Join(s.filesDir, filepath.FromSlash(p))
		}
		if byName {
			fmt.Fprintf(&b, " FROM %s", parquetScan(abs))
		} else {
			fmt.Fprintf(&b, " FROM %s", schemaScan(abs, read))
		}
	}
	return b.String()
}

// schemaScan reads files as the columns say: each column by name, cast to
// its type (NULL in a file that lacks it). Given the schema, DuckDB reads
// no file to bind the statement: a view over every load is created without
// opening a file, and a query opens only the files of the branches it
// keeps (a tenant's query, only its own). Bound by union_by_name instead,
// every commit parsed every loaded file's footer (≈ 20 MB each for a
// month of 5 M line items in 150 row groups) and the memory followed the
// number of files.
func schemaScan(files []string, cols []cur.Column) string {
	fields := make([]string, len(cols))
	for i, c := range cols {
		fields[i] = fmt.Sprintf("%s: {name: %s, type: %s, default_value: NULL}", quoteString(c.Name), quoteString(c.Name), quoteString(c.Type))
	}
	return "read_parquet(" + fileList(files) + ", schema = map{" + strings.Join(fields, ", ") + "})"
}

// loadLineItemsSQL is a subquery of one load's line items, shaped as the
// line_items view, reading only that load's files: the line_items body
// with CTEs named like the export views shadowing them. The load's rollups
// are built from it; through the views DuckDB also planned every other
// load's branch, to prune it, and the first pass took about 15% longer.
func (s *Store) loadLineItemsSQL(l loadRef) string {
	loads := []loadRef{l}
	return "(WITH cur AS (" + s.exportSelectSQL(cur.Columns(), loads, string(FormatCUR2), true) +
		"), focus_export AS (" + s.exportSelectSQL(cur.FOCUSColumns(), loads, string(FormatFOCUS), true) +
		")\n" + lineItemsSelectSQL() + ")"
}

// duckList scans a DuckDB VARCHAR[] into a []string.
type duckList []string

func (l *duckList) Scan(src any) error {
	items, ok := src.([]any)
	if !ok {
		return fmt.Errorf("want a list, got %T", src)
	}
	out := make([]string, len(items))
	for i, it := range items {
		s, ok := it.(string)
		if !ok {
			return fmt.Errorf("want a string list item, got %T", it)
		}
		out[i] = s
	}
	*l = out
	return nil
}
