package costs

// FOCUS files as exporters really write them: the FOCUS 1.0-1.2 specs type
// columns loosely (Decimal, String, Date/Time as ISO 8601 text, Key-Value
// as a JSON object), and the exporters differ: CSV files (Azure, OCI)
// carry everything as text, Parquet files carry JSON text for Tags and
// SkuPriceDetails, integers for quantities, numbers for account IDs, and
// BigQuery-style key/value lists for labels (GCP). The conversion below
// rewrites such files once, at load, into Parquet with the column types of
// cur.FOCUSColumns, so the views and rollups read one shape.

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/cur"
)

// focusTimeFormats are the date-time texts a plain cast does not read:
// minutes without seconds (OCI) and US dates (Azure's older exports).
const focusTimeFormats = `['%Y-%m-%dT%H:%MZ', '%Y-%m-%dT%H:%M', '%m/%d/%Y %H:%M:%S', '%m/%d/%Y %H:%M', '%m/%d/%Y']`

// awsAccountColumns are the FOCUS account IDs that AWS numbers with 12
// digits: a file that stores them as numbers loses their leading zeros.
var awsAccountColumns = map[string]bool{cur.FocusBillingAccountID: true, cur.FocusSubAccountID: true}

// FOCUSNeedsConversion reports whether FOCUS files with these columns (name
// -> DuckDB type) must be converted before loading: some column has a type
// the views cannot cast to the schema's.
func FOCUSNeedsConversion(cols map[string]string) bool {
	for _, c := range cur.FOCUSColumns() {
		if got, ok := cols[c.Name]; ok && !cur.Compatible(c.Type, got) {
			return true
		}
	}
	return false
}

// focusExpr is the expression converting column name of type got to the
// schema's type want; ok is false when none is needed. aws is an
// expression true on AWS rows ("" when the files say no provider).
func focusExpr(name, want, got, aws string) (expr string, ok bool, err error) {
	if cur.Compatible(want, got) {
		return "", false, nil
	}
	x := quoteIdent(name)
	g := strings.ToUpper(strings.NewReplacer(" ", "", `"`, "").Replace(got))
	text := g == "VARCHAR" || g == "JSON"
	blank := fmt.Sprintf("nullif(trim(%s::VARCHAR), '')", x)
	// strict fails the load on a value that does not convert, naming it,
	// rather than loading it as NULL.
	strict := func(conv, what string) string {
		return fmt.Sprintf("CASE WHEN %s IS NOT NULL AND (%s) IS NULL THEN error(%s || %s || %s) ELSE %s END",
			blank, conv, quoteString(name+": "), blank, quoteString(" is not "+what), conv)
	}
	switch want {
	case cur.TypeDouble:
		if text || isInteger(g) || g == "BOOLEAN" {
			return strict(fmt.Sprintf("try_cast(%s AS DOUBLE)", blank), "a number"), true, nil
		}
	case cur.TypeTimestamp:
		switch {
		case g == "DATE":
			return fmt.Sprintf("CAST(%s AS TIMESTAMP)", x), true, nil
		case text:
			conv := fmt.Sprintf("coalesce(try_cast(%[1]s AS TIMESTAMPTZ) AT TIME ZONE 'UTC', try_strptime(%[1]s, %[2]s))", blank, focusTimeFormats)
			return strict(conv, "an ISO 8601 date and time"), true, nil
		}
	case cur.TypeVarchar:
		var s string
		switch {
		case isInteger(g), strings.HasPrefix(g, "DECIMAL") && strings.HasSuffix(g, ",0)"):
			s = fmt.Sprintf("CAST(CAST(%s AS HUGEINT) AS VARCHAR)", x)
		case g == "DOUBLE" || g == "FLOAT" || strings.HasPrefix(g, "DECIMAL"):
			// Whole numbers (IDs) print without a decimal point.
			s = fmt.Sprintf("CASE WHEN %[1]s = trunc(%[1]s) THEN CAST(CAST(%[1]s AS HUGEINT) AS VARCHAR) ELSE CAST(%[1]s AS VARCHAR) END", x)
		default:
			s = fmt.Sprintf("CAST(%s AS VARCHAR)", x)
		}
		if awsAccountColumns[name] && aws != "" && !text {
			s = fmt.Sprintf("CASE WHEN %s THEN lpad(%s, 12, '0') ELSE %s END", aws, s, s)
		}
		return s, true, nil
	case cur.TypeMapString, cur.TypeMapDouble:
		val := strings.TrimSuffix(strings.TrimPrefix(want, "MAP(VARCHAR, "), ")")
		switch {
		case text:
			// A JSON object; "" and "{}" are no tags.
			conv := fmt.Sprintf("CAST(CAST(%s AS JSON) AS %s)", blank, want)
			return fmt.Sprintf("CASE WHEN %[1]s IS NULL THEN NULL WHEN json_valid(%[1]s) THEN %[2]s ELSE error(%[3]s || %[1]s) END", blank, conv,
				quoteString(name+": not a JSON object: ")), true, nil
		case strings.HasPrefix(g, "STRUCT(KEY") && strings.HasSuffix(g, "[]"):
			// BigQuery labels: a list of {key, value}.
			return fmt.Sprintf("map_from_entries(list_transform(%s, lambda e: {'key': e.key::VARCHAR, 'value': e.value::%s}))", x, val), true, nil
		case strings.HasPrefix(g, "MAP("):
			return fmt.Sprintf("map_from_entries(list_transform(map_entries(%s), lambda e: {'key': e.key::VARCHAR, 'value': e.value::%s}))", x, val), true, nil
		case strings.HasPrefix(g, "STRUCT("):
			return fmt.Sprintf("CAST(to_json(%s) AS %s)", x, want), true, nil
		}
	}
	return "", false, crossbill.Errorf(crossbill.CodeInvalid, "focus schema",
		"column %s is %s, which crossbill cannot read as %s; the FOCUS specification types it as %s", name, got, want, focusSpecType(want))
}

func isInteger(t string) bool {
	switch strings.TrimPrefix(t, "U") {
	case "TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT":
		return true
	}
	return false
}

func focusSpecType(t string) string {
	switch t {
	case cur.TypeDouble:
		return "a decimal number"
	case cur.TypeTimestamp:
		return "an ISO 8601 date and time in UTC"
	case cur.TypeMapString, cur.TypeMapDouble:
		return "a key-value JSON object"
	}
	return "a string"
}

// focusSelect is a SELECT over files (Parquet and CSV, told apart by their
// names) with every FOCUS column in the schema's type and the other columns
// as written, and the columns it converted.
func (s *Store) focusSelect(ctx context.Context, files []string) (stmt string, converted []string, err error) {
	var parquet, csv []string
	for _, f := range files {
		if isCSV(f) {
			csv = append(csv, f)
		} else {
			parquet = append(parquet, f)
		}
	}
	var branches []string
	for _, group := range []struct {
		files []string
		scan  func([]string) string
	}{{parquet, parquetScan}, {csv, csvScan}} {
		if len(group.files) == 0 {
			continue
		}
		scan := group.scan(group.files)
		cols, err := s.describe(ctx, scan, group.files[0])
		if err != nil {
			return "", nil, err
		}
		aws := ""
		if _, ok := cols[cur.FocusProviderName]; ok {
			aws = fmt.Sprintf("coalesce(%s::VARCHAR IN ('AWS', 'Amazon Web Services'), false)", quoteIdent(cur.FocusProviderName))
		}
		var repl []string
		for _, c := range cur.FOCUSColumns() {
			got, ok := cols[c.Name]
			if !ok {
				continue
			}
			expr, conv, err := focusExpr(c.Name, c.Type, got, aws)
			if err != nil {
				return "", nil, err
			}
			if conv {
				repl = append(repl, expr+" AS "+quoteIdent(c.Name))
				converted = append(converted, c.Name+" ("+got+")")
			}
		}
		sel := "SELECT *"
		if len(repl) > 0 {
			sel += " REPLACE (" + strings.Join(repl, ", ") + ")"
		}
		branches = append(branches, sel+" FROM "+scan)
	}
	sort.Strings(converted)
	return strings.Join(branches, "\nUNION ALL BY NAME\n"), converted, nil
}

// isCSV tells CSV files (optionally compressed) from Parquet ones.
func isCSV(name string) bool {
	n := strings.ToLower(name)
	for _, ext := range []string{".csv", ".csv.gz", ".csv.zst"} {
		if strings.HasSuffix(n, ext) {
			return true
		}
	}
	return false
}

// csvScan reads CSV files as text, with a header; focusExpr converts the
// text, so that DuckDB's type guess (an account ID taken for a number, a
// column empty in the sample) never decides a type.
func csvScan(files []string) string {
	quoted := make([]string, len(files))
	for i, f := range files {
		quoted[i] = quoteString(f)
	}
	return "read_csv([" + strings.Join(quoted, ", ") + "], header = true, all_varchar = true, union_by_name = true)"
}

// describe returns the columns of a scan (name -> DuckDB type).
func (s *Store) describe(ctx context.Context, scan, first string) (map[string]string, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM `+scan+`)`)
	if err != nil {
		return nil, crossbill.Errorf(crossbill.CodeInvalid, "describe files", "reading the schema of %s: %w", first, err)
	}
	defer rows.Close()
	cols := map[string]string{}
	for rows.Next() {
		var name, typ string
		if err := rows.Scan(&name, &typ); err != nil {
			return nil, crossbill.Errorf(crossbill.CodeInternal, "describe files", "%w", err)
		}
		cols[name] = typ
	}
	if err := rows.Err(); err != nil {
		return nil, crossbill.Errorf(crossbill.CodeInternal, "describe files", "%w", err)
	}
	return cols, nil
}

// ConvertFOCUS writes the rows of FOCUS files (Parquet or CSV) to the
// Parquet file dst with the schema's column types, and returns the columns
// it converted.
func (s *Store) ConvertFOCUS(ctx context.Context, files []string, dst string) ([]string, error) {
	stmt, converted, err := s.focusSelect(ctx, files)
	if err != nil {
		return nil, err
	}
	if _, err := s.db.ExecContext(ctx, fmt.Sprintf("COPY (%s) TO %s (FORMAT parquet)", stmt, quoteString(dst))); err != nil {
		return nil, crossbill.Errorf(crossbill.CodeInvalid, "focus convert", "converting %s: %w", filepath.Base(files[0]), err)
	}
	return converted, nil
}

// SplitFOCUS is ConvertFOCUS for files that are not one billing period's:
// it writes one Parquet file per billing period (the month of
// BillingPeriodStart) under dir and returns them by period ('YYYY-MM').
func (s *Store) SplitFOCUS(ctx context.Context, files []string, dir string) (map[string][]string, []string, error) {
	const op = "focus convert"
	stmt, converted, err := s.focusSelect(ctx, files)
	if err != nil {
		return nil, nil, err
	}
	period := fmt.Sprintf("strftime(%s, '%%Y-%%m')", quoteIdent(cur.FocusBillingPeriodStart))
	stmt = fmt.Sprintf(`COPY (SELECT *, CASE WHEN %[1]s IS NULL THEN error('a row has no BillingPeriodStart; FOCUS requires one on every row') ELSE %[1]s END AS crossbill_period FROM (%[2]s))
		TO %[3]s (FORMAT parquet, PARTITION_BY (crossbill_period))`, period, stmt, quoteString(dir))
	if _, err := s.db.ExecContext(ctx, stmt); err != nil {
		return nil, nil, crossbill.Errorf(crossbill.CodeInvalid, op, "converting %s: %w", filepath.Base(files[0]), err)
	}
	out := map[string][]string{}
	parts, err := filepath.Glob(filepath.Join(dir, "crossbill_period=*", "*.parquet"))
	if err != nil {
		return nil, nil, crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
	}
	for _, p := range parts {
		period := strings.TrimPrefix(filepath.Base(filepath.Dir(p)), "crossbill_period=")
		out[period] = append(out[period], p)
	}
	if len(out) == 0 {
		return nil, nil, crossbill.Errorf(crossbill.CodeNotFound, op, "the FOCUS files hold no line items")
	}
	return out, converted, nil
}

// MoveFiles moves files into dir (a StageDir) and returns their new paths.
func MoveFiles(files []string, dir string) ([]string, error) {
	out := make([]string, len(files))
	for i, f := range files {
		out[i] = filepath.Join(dir, fmt.Sprintf("part-%05d.parquet", i+1))
		if err := os.Rename(f, out[i]); err != nil {
			return nil, crossbill.Errorf(crossbill.CodeUnavailable, "focus convert", "moving %s: %w", f, err)
		}
	}
	return out, nil
}
