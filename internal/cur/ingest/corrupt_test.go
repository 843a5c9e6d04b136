package ingest_test

import (
	"context"
	"encoding/binary"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/costs/costtest"
	"github.com/crossbill/crossbill/internal/cur/ingest"
)

// TestCorruptParquetNamesTheObject: a data file that is truncated, garbage,
// or whose footer is damaged is refused naming the export's object and what
// is wrong with it, with neither DuckDB's SQL nor the store's staging path
// (issue 11); nothing is loaded.
func TestCorruptParquetNamesTheObject(t *testing.T) {
	t.Parallel()
	for name, tc := range map[string]struct {
		damage func(b []byte) []byte
		want   string
	}{
		"truncated":      {func(b []byte) []byte { return b[:len(b)/2] }, "truncated"},
		"garbage":        {func([]byte) []byte { return []byte("<html>503 Service Unavailable</html>\n") }, "not a Parquet file"},
		"empty":          {func([]byte) []byte { return nil }, "empty"},
		"damaged footer": {damageFooter, "Parquet"},
		"footer length": {func(b []byte) []byte {
			c := append([]byte(nil), b...)
			copy(c[len(c)-8:], "\xff\xff\xff\x0fPAR1")
			return c
		}, "footer claims"},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			root := t.TempDir()
			writeExport(t, root, "2026-01", "exec-1", []costtest.Row{usage("2026-01", 1, "AmazonEC2", 10)})
			src := filepath.Join(root, "cur", "exp")
			var key string
			err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
				if err == nil && strings.HasSuffix(p, ".parquet") {
					b, rerr := os.ReadFile(p)
					if rerr != nil {
						return rerr
					}
					key, _ = filepath.Rel(src, p)
					return os.WriteFile(p, tc.damage(b), 0o600)
				}
				return err
			})
			if err != nil || key == "" {
				t.Fatalf("damaging the export: %v (%q)", err, key)
			}
			s := openStore(t)
			_, err = ingest.Ingest(context.Background(), s, ingest.Options{Source: src, Tenant: "acme"})
			msg := ""
			if err != nil {
				msg = err.Error()
			}
			if crossbill.ErrorCode(err) != crossbill.CodeInvalid || !strings.Contains(msg, filepath.ToSlash(key)) || !strings.Contains(msg, tc.want) {
				t.Fatalf("error %q (code %s); want invalid input naming %s and saying %q", msg, crossbill.ErrorCode(err), key, tc.want)
			}
			t.Logf("refused: %s", msg)
			for _, leak := range []string{"read_parquet", "SELECT", "DESCRIBE", "LINE 1", "part-0", "/files/"} {
				if strings.Contains(msg, leak) {
					t.Errorf("error shows %q: %s", leak, msg)
				}
			}
			if p, err := s.Periods(context.Background(), "acme"); err != nil || len(p) != 0 {
				t.Errorf("a refused ingest loaded %v (%v)", p, err)
			}
		})
	}
}

// damageFooter overwrites the start of the file's footer (its Thrift
// metadata), keeping the framing: only DuckDB can tell.
func damageFooter(b []byte) []byte {
	c := append([]byte(nil), b...)
	n := int(binary.LittleEndian.Uint32(c[len(c)-8:]))
	start := len(c) - 8 - n
	for i := start; i < start+min(n, 32); i++ {
		c[i] = 0xff
	}
	return c
}
