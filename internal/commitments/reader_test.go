package commitments_test

import (
	"database/sql"
	"math"
	"strconv"
	"testing"
	"time"

	"github.com/crossbill/crossbill/internal/commitments"
)

// TestTextRows: Athena's text values read into what *sql.Rows would fill,
// NULL ("") into the sql.Null forms, and bad text refused.
func TestTextRows(t *testing.T) {
	t.Parallel()
	rows := commitments.TextRows([][]string{
		{"2026-01-02 03:00:00.000", "reservation", "1.5E-4", "42", "", "", "x"},
		{"2026-01-02 03:00:00", "savings_plan", "2", "-1", "2026-02-01 00:00:00.000", "3.25", ""},
	})
	type row struct {
		t    time.Time
		kind commitments.Kind
		f    float64
		n    int64
		end  sql.NullTime
		nf   sql.NullFloat64
		s    string
	}
	var got []row
	for rows.Next() {
		var r row
		if err := rows.Scan(&r.t, &r.kind, &r.f, &r.n, &r.end, &r.nf, &r.s); err != nil {
			t.Fatal(err)
		}
		got = append(got, r)
	}
	if len(got) != 2 || rows.Err() != nil || rows.Close() != nil {
		t.Fatalf("%d rows, %v", len(got), rows.Err())
	}
	day := time.Date(2026, 1, 2, 3, 0, 0, 0, time.UTC)
	if r := got[0]; !r.t.Equal(day) || r.kind != commitments.KindReservation || r.f != 1.5e-4 || r.n != 42 || r.end.Valid || r.nf.Valid || r.s != "x" {
		t.Fatalf("row 1: %+v", r)
	}
	if r := got[1]; !r.t.Equal(day) || r.kind != commitments.KindSavingsPlan || r.f != 2 || r.n != -1 || !r.end.Valid || r.end.Time.Month() != 2 || r.nf.Float64 != 3.25 {
		t.Fatalf("row 2: %+v", r)
	}
	for _, bad := range [][]string{{"2026-01-02T03:00:00Z"}, {"abc"}, {"NaN"}, {""}} {
		rs := commitments.TextRows([][]string{bad})
		rs.Next()
		var tm time.Time
		var f float64
		var dest any = &f
		if bad[0] != "abc" && bad[0] != "NaN" && bad[0] != "" {
			dest = &tm
		}
		if err := rs.Scan(dest); err == nil {
			t.Errorf("%q read as %v %v", bad, tm, f)
		}
	}
	rs := commitments.TextRows([][]string{{"a", "b"}})
	rs.Next()
	var one string
	if err := rs.Scan(&one); err == nil {
		t.Fatal("two columns scanned into one value")
	}
}

// FuzzTextRows: any text scans without panicking, and a number read
// reads back the same when printed.
func FuzzTextRows(f *testing.F) {
	for _, s := range []string{"", "1", "-2.5", "1.5E-4", "NaN", "Inf", "2026-01-02 03:00:00.000", "2026-13-40 99:00:00", "savings_plan", "9223372036854775808"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		scan := func(dest any) error {
			rs := commitments.TextRows([][]string{{v}})
			if !rs.Next() {
				t.Fatal("no row")
			}
			return rs.Scan(dest)
		}
		var (
			s  string
			k  commitments.Kind
			fl float64
			n  int64
			tm time.Time
			nt sql.NullTime
			nf sql.NullFloat64
		)
		for _, dest := range []any{&s, &k, &n, &tm, &nt, &nf} {
			_ = scan(dest)
		}
		if s != v || string(k) != v {
			t.Fatalf("%q read as %q, %q", v, s, k)
		}
		if err := scan(&fl); err == nil {
			if math.IsNaN(fl) {
				t.Fatalf("%q read as NaN", v)
			}
			if back, err := strconv.ParseFloat(strconv.FormatFloat(fl, 'g', -1, 64), 64); err != nil || back != fl {
				t.Fatalf("%q read as %v, which reads back as %v", v, fl, back)
			}
		}
		if err := scan(&tm); err == nil && tm.Location() != time.UTC {
			t.Fatalf("%q read as %v, not UTC", v, tm)
		}
	})
}
