package cur

import (
	"bytes"
	"reflect"
	"testing"
	"time"

	"github.com/crossbill/crossbill"
)

const goodManifest = `{
  "exportArn": "arn:aws:bcm-data-exports:us-east-1:111122223333:export/cur2-0b1c",
  "exportName": "cur2",
  "executionId": "7f1c2a9e-0000-4000-8000-000000000001",
  "billingPeriod": {"start": "2026-01-01T00:00:00.000Z", "end": "2026-02-01T00:00:00.000Z"},
  "dataFiles": [
    "s3://my-bucket/cur/cur2/data/BILLING_PERIOD=2026-01/cur2-00001.snappy.parquet",
    "s3://my-bucket/cur/cur2/data/BILLING_PERIOD=2026-01/cur2-00002.snappy.parquet"
  ],
  "columns": [{"name": "bill_bill_type", "type": "string"}]
}`

func TestParseManifest(t *testing.T) {
	t.Parallel()
	m, err := ParseManifest([]byte(goodManifest))
	if err != nil {
		t.Fatalf("ParseManifest: %v", err)
	}
	want := Manifest{
		ExportARN:     "arn:aws:bcm-data-exports:us-east-1:111122223333:export/cur2-0b1c",
		ExportName:    "cur2",
		ExecutionID:   "7f1c2a9e-0000-4000-8000-000000000001",
		BillingPeriod: "2026-01",
		PeriodStart:   time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC),
		PeriodEnd:     time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC),
		Bucket:        "my-bucket",
		DataFiles: []string{
			"cur/cur2/data/BILLING_PERIOD=2026-01/cur2-00001.snappy.parquet",
			"cur/cur2/data/BILLING_PERIOD=2026-01/cur2-00002.snappy.parquet",
		},
		Columns: []ManifestColumn{{Name: "bill_bill_type", Type: "string"}},
	}
	if !reflect.DeepEqual(m, want) {
		t.Fatalf("ParseManifest = %+v\nwant %+v", m, want)
	}
	// Encode then parse again gives the same manifest.
	b, err := m.Encode()
	if err != nil {
		t.Fatal(err)
	}
	m2, err := ParseManifest(b)
	if err != nil {
		t.Fatalf("ParseManifest(Encode): %v", err)
	}
	if !reflect.DeepEqual(m2, want) {
		t.Fatalf("round trip = %+v", m2)
	}
}

func TestParseManifestKeysAndPartitionOnly(t *testing.T) {
	t.Parallel()
	m, err := ParseManifest([]byte(`{"executionId":"x","dataFiles":["p/e/data/BILLING_PERIOD=2025-12/e-00001.snappy.parquet"]}`))
	if err != nil {
		t.Fatal(err)
	}
	if m.BillingPeriod != "2025-12" || m.Bucket != "" || m.DataFiles[0] != "p/e/data/BILLING_PERIOD=2025-12/e-00001.snappy.parquet" {
		t.Fatalf("got %+v", m)
	}
}

func TestParseManifestErrors(t *testing.T) {
	t.Parallel()
	tests := map[string]string{
		"not json":        `{`,
		"no execution":    `{"dataFiles":["a/BILLING_PERIOD=2026-01/x.parquet"]}`,
		"no files":        `{"executionId":"x","dataFiles":[]}`,
		"csv":             `{"executionId":"x","dataFiles":["a/BILLING_PERIOD=2026-01/x.csv.gz"]}`,
		"dotdot":          `{"executionId":"x","dataFiles":["a/../../etc/BILLING_PERIOD=2026-01/x.parquet"]}`,
		"absolute":        `{"executionId":"x","dataFiles":["/etc/BILLING_PERIOD=2026-01/x.parquet"]}`,
		"no bucket":       `{"executionId":"x","dataFiles":["s3:///a/BILLING_PERIOD=2026-01/x.parquet"]}`,
		"two periods":     `{"executionId":"x","dataFiles":["a/BILLING_PERIOD=2026-01/x.parquet","a/BILLING_PERIOD=2026-02/y.parquet"]}`,
		"two buckets":     `{"executionId":"x","dataFiles":["s3://a/BILLING_PERIOD=2026-01/x.parquet","s3://b/BILLING_PERIOD=2026-01/y.parquet"]}`,
		"no period":       `{"executionId":"x","dataFiles":["a/x.parquet"]}`,
		"period mismatch": `{"executionId":"x","billingPeriod":{"start":"2026-03-01T00:00:00.000Z"},"dataFiles":["a/BILLING_PERIOD=2026-01/x.parquet"]}`,
		"bad start":       `{"executionId":"x","billingPeriod":{"start":"March"},"dataFiles":["a/BILLING_PERIOD=2026-01/x.parquet"]}`,
	}
	for name, doc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			_, err := ParseManifest([]byte(doc))
			if crossbill.ErrorCode(err) != crossbill.CodeInvalid {
				t.Fatalf("error code = %q (%v), want invalid", crossbill.ErrorCode(err), err)
			}
		})
	}
}

func FuzzParseManifest(f *testing.F) {
	f.Add([]byte(goodManifest))
	f.Add([]byte(`{"executionId":"x","dataFiles":["p/e/data/BILLING_PERIOD=2025-12/e-00001.snappy.parquet"]}`))
	f.Add([]byte(`{"executionId":"x","billingPeriod":{"start":"2026-03-01"},"dataFiles":["s3://b/k.parquet"]}`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := ParseManifest(data)
		if err != nil {
			if crossbill.ErrorCode(err) != crossbill.CodeInvalid {
				t.Fatalf("error code %q for %q", crossbill.ErrorCode(err), data)
			}
			return
		}
		if m.ExecutionID == "" || len(m.DataFiles) == 0 || len(m.BillingPeriod) != 7 || !m.PeriodEnd.After(m.PeriodStart) {
			t.Fatalf("accepted an incomplete manifest %+v", m)
		}
		for _, k := range m.DataFiles {
			if k == "" || k[0] == '/' || bytes.Contains([]byte("/"+k+"/"), []byte("/../")) {
				t.Fatalf("accepted unsafe key %q", k)
			}
		}
		// What parses re-encodes and parses to the same thing.
		b, err := m.Encode()
		if err != nil {
			t.Fatal(err)
		}
		m2, err := ParseManifest(b)
		if err != nil {
			t.Fatalf("re-parse: %v\n%s", err, b)
		}
		if m2.ExecutionID != m.ExecutionID || m2.BillingPeriod != m.BillingPeriod || !reflect.DeepEqual(m2.DataFiles, m.DataFiles) {
			t.Fatalf("round trip changed %+v to %+v", m, m2)
		}
	})
}
