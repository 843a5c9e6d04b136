package emulator_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/crossbill/crossbill/internal/emulator"
	"github.com/crossbill/crossbill/internal/onboarding"
)

// TestDeployableCURStack: the CUR stack keeps its bucket, bucket policy
// and read policy, and loses only the Data Exports export and its output.
func TestDeployableCURStack(t *testing.T) {
	t.Parallel()
	for _, f := range []onboarding.Format{onboarding.FormatYAML, onboarding.FormatJSON} {
		body, err := onboarding.CURTemplate(onboarding.CUROptions{Format: f})
		if err != nil {
			t.Fatal(err)
		}
		out, removed, err := emulator.Deployable(body)
		if err != nil {
			t.Fatal(err)
		}
		var tree struct {
			Resources map[string]struct{ Type string }
			Outputs   map[string]any
		}
		if err := json.Unmarshal(out, &tree); err != nil {
			t.Fatal(err)
		}
		if strings.Join(removed, ",") != "CurExport" {
			t.Errorf("%s: removed %v, want CurExport", f, removed)
		}
		for _, id := range []string{"CurBucket", "CurBucketPolicy", "CurReadPolicy"} {
			if _, ok := tree.Resources[id]; !ok {
				t.Errorf("%s: %s was removed", f, id)
			}
		}
		if _, ok := tree.Outputs["ExportArn"]; ok {
			t.Errorf("%s: the export's output stayed", f)
		}
		if _, ok := tree.Outputs["BucketName"]; !ok {
			t.Errorf("%s: the bucket's output went", f)
		}
	}
}
