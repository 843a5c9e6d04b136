package review

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// TestGolden compares whole reports with reviewed copies, so that any change
// in wording, ordering or severity shows up in review. Refresh with
// `go test ./internal/review -run TestGolden -update` and read the diff.
func TestGolden(t *testing.T) {
	t.Parallel()
	tests := []struct {
		golden string
		format string
		files  []string
	}{
		// Identity policies only: trust wording belongs to the policy
		// package and is tested there.
		{"flexera-policy.md", FormatMarkdown, []string{"004-flexera-policy.json"}},
		{"flexera-policy.sarif", FormatSARIF, []string{"004-flexera-policy.json"}},
		{"flexera-policy.txt", FormatText, []string{"004-flexera-policy.json"}},
	}
	for _, tt := range tests {
		t.Run(tt.golden, func(t *testing.T) {
			t.Parallel()
			rep := reviewFiles(t, tt.files...)
			rep.Catalog = "(catalog)" // regenerating the catalog must not churn these files
			var buf bytes.Buffer
			if err := rep.Write(&buf, tt.format, "test"); err != nil {
				t.Fatal(err)
			}
			path := filepath.Join("testdata", "golden", tt.golden)
			if *update {
				if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if !bytes.Equal(buf.Bytes(), want) {
				t.Errorf("%s differs from the golden file; run with -update and review the diff.\ngot:\n%s", tt.golden, buf.String())
			}
		})
	}
}
