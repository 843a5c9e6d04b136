package ingest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzCheckParquet: any bytes give an answer, never a panic, and only a
// file framed as Parquet (PAR1 ... length PAR1) passes.
func FuzzCheckParquet(f *testing.F) {
	for _, s := range []string{"", "PAR1", "PAR1\x00\x00\x00\x00PAR1", "PAR1xxxx\x04\x00\x00\x00PAR1", "<html>", "PAR1\xff\xff\xff\xffPAR1"} {
		f.Add([]byte(s))
	}
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, b []byte) {
		p := filepath.Join(dir, "f.parquet")
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		err := checkParquet(p)
		framed := len(b) >= 12 && strings.HasPrefix(string(b), parquetMagic) && strings.HasSuffix(string(b), parquetMagic)
		if err == nil && !framed {
			t.Fatalf("%q passed", b)
		}
		if err != nil && strings.Contains(err.Error(), dir) {
			t.Fatalf("the error shows the path: %v", err)
		}
	})
}
