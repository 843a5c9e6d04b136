package cur

import (
	"encoding/json"
	"fmt"
	"path"
	"regexp"
	"strings"
	"time"

	"github.com/crossbill/crossbill"
)

// Manifest is the metadata file that AWS Data Exports writes next to each
// billing period's data, at
// PREFIX/EXPORT/metadata/BILLING_PERIOD=YYYY-MM/EXPORT-Manifest.json.
// A new ExecutionID means the period was (re)delivered: a restated month
// carries a new ID and replaces the old data whole.
type Manifest struct {
	ExportARN     string           `json:"export_arn,omitempty"`
	ExportName    string           `json:"export_name,omitempty"`
	ExecutionID   string           `json:"execution_id"`
	BillingPeriod string           `json:"billing_period"` // YYYY-MM
	PeriodStart   time.Time        `json:"period_start"`
	PeriodEnd     time.Time        `json:"period_end"`
	Bucket        string           `json:"bucket,omitempty"` // from s3:// data file URIs
	DataFiles     []string         `json:"data_files"`       // keys relative to the bucket root
	Columns       []ManifestColumn `json:"columns,omitempty"`
}

// ManifestColumn is a column as the manifest describes it (Data Exports
// types: string, double, timestamp, map<string,string>, ...).
type ManifestColumn struct {
	Name string `json:"name"`
	Type string `json:"type"`
}

// manifestWire is the JSON shape of a Data Exports manifest.
type manifestWire struct {
	ExportARN     string           `json:"exportArn,omitempty"`
	ExportName    string           `json:"exportName,omitempty"`
	ExecutionID   string           `json:"executionId"`
	BillingPeriod *wirePeriod      `json:"billingPeriod,omitempty"`
	DataFiles     []string         `json:"dataFiles"`
	Columns       []ManifestColumn `json:"columns,omitempty"`
}

type wirePeriod struct {
	Start string `json:"start"`
	End   string `json:"end"`
}

const manifestTimeLayout = "2006-01-02T15:04:05.000Z"

var partitionRe = regexp.MustCompile(`(?:^|/)BILLING_PERIOD=(\d{4}-\d{2})(?:/|$)`)

// ParseManifest parses a Data Exports manifest. Data file URIs
// (s3://bucket/key) become bucket-relative keys. It fails with CodeInvalid
// when the document is not JSON, lacks an execution ID or data files, names
// a non-Parquet file or an unsafe key, or mixes billing periods.
func ParseManifest(data []byte) (Manifest, error) {
	const op = "cur manifest"
	var w manifestWire
	if err := json.Unmarshal(data, &w); err != nil {
		return Manifest{}, crossbill.Errorf(crossbill.CodeInvalid, op, "the manifest is not valid JSON (%v); re-download it or check the export's metadata/ folder", err)
	}
	if strings.TrimSpace(w.ExecutionID) == "" {
		return Manifest{}, crossbill.Errorf(crossbill.CodeInvalid, op, "the manifest has no executionId; it is not a Data Exports manifest")
	}
	if len(w.DataFiles) == 0 {
		return Manifest{}, crossbill.Errorf(crossbill.CodeInvalid, op, "the manifest lists no dataFiles")
	}
	m := Manifest{ExportARN: w.ExportARN, ExportName: w.ExportName, ExecutionID: w.ExecutionID, Columns: w.Columns}
	for i, f := range w.DataFiles {
		bucket, key, err := splitDataFile(f)
		if err != nil {
			return Manifest{}, crossbill.Errorf(crossbill.CodeInvalid, op, "data file %d: %v", i+1, err)
		}
		if i == 0 {
			m.Bucket = bucket
		} else if bucket != m.Bucket {
			return Manifest{}, crossbill.Errorf(crossbill.CodeInvalid, op, "data files are in different buckets (%q and %q)", m.Bucket, bucket)
		}
		if p := partitionRe.FindStringSubmatch(key); p != nil {
			if m.BillingPeriod == "" {
				m.BillingPeriod = p[1]
			} else if p[1] != m.BillingPeriod {
				return Manifest{}, crossbill.Errorf(crossbill.CodeInvalid, op, "data files belong to billing periods %s and %s; a manifest covers one period", m.BillingPeriod, p[1])
			}
		}
		m.DataFiles = append(m.DataFiles, key)
	}
	if w.BillingPeriod != nil && w.BillingPeriod.Start != "" {
		start, err := parseManifestTime(w.BillingPeriod.Start)
		if err != nil {
			return Manifest{}, crossbill.Errorf(crossbill.CodeInvalid, op, "billingPeriod.start: %v", err)
		}
		if p := start.Format("2006-01"); m.BillingPeriod != "" && p != m.BillingPeriod {
			return Manifest{}, crossbill.Errorf(crossbill.CodeInvalid, op, "billingPeriod.start %s does not match the data files' partition BILLING_PERIOD=%s", w.BillingPeriod.Start, m.BillingPeriod)
		}
		m.BillingPeriod = start.Format("2006-01")
	}
	if m.BillingPeriod == "" {
		return Manifest{}, crossbill.Errorf(crossbill.CodeInvalid, op, "the manifest has no billingPeriod and its data files have no BILLING_PERIOD=YYYY-MM partition")
	}
	start, err := time.Parse("2006-01", m.BillingPeriod)
	if err != nil {
		return Manifest{}, crossbill.Errorf(crossbill.CodeInvalid, op, "billing period %q: %v", m.BillingPeriod, err)
	}
	m.PeriodStart, m.PeriodEnd = start, start.AddDate(0, 1, 0)
	return m, nil
}

func parseManifestTime(s string) (time.Time, error) {
	for _, layout := range []string{manifestTimeLayout, time.RFC3339Nano, "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is not a timestamp like 2026-01-01T00:00:00.000Z", s)
}

// splitDataFile turns "s3://bucket/key" or "key" into bucket and a key that
// is safe to map onto a local directory.
func splitDataFile(f string) (bucket, key string, err error) {
	key = f
	if rest, ok := strings.CutPrefix(f, "s3://"); ok {
		var found bool
		bucket, key, found = strings.Cut(rest, "/")
		if !found || bucket == "" {
			return "", "", fmt.Errorf("%q has no bucket and key", f)
		}
	}
	if key == "" || strings.HasPrefix(key, "/") || strings.Contains(key, "\\") || strings.ContainsRune(key, 0) {
		return "", "", fmt.Errorf("%q is not a relative object key", f)
	}
	for _, seg := range strings.Split(key, "/") {
		if seg == "" || seg == "." || seg == ".." {
			return "", "", fmt.Errorf("%q has an empty, . or .. path segment", f)
		}
	}
	if !strings.HasSuffix(key, ".parquet") {
		return "", "", fmt.Errorf("%q is not a Parquet file; set the export's format to Parquet", path.Base(key))
	}
	return bucket, key, nil
}

// Encode writes m in the Data Exports manifest format (Manifest's own JSON
// tags serve crossbill's --json output, not this wire format). Data files are written
// as s3:// URIs when Bucket is set, else as keys.
func (m Manifest) Encode() ([]byte, error) {
	w := manifestWire{ExportARN: m.ExportARN, ExportName: m.ExportName, ExecutionID: m.ExecutionID, Columns: m.Columns}
	if !m.PeriodStart.IsZero() {
		w.BillingPeriod = &wirePeriod{Start: m.PeriodStart.UTC().Format(manifestTimeLayout), End: m.PeriodEnd.UTC().Format(manifestTimeLayout)}
	}
	for _, k := range m.DataFiles {
		if m.Bucket != "" {
			k = "s3://" + m.Bucket + "/" + k
		}
		w.DataFiles = append(w.DataFiles, k)
	}
	b, err := json.MarshalIndent(w, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encode manifest: %w", err)
	}
	return b, nil
}

// ManifestColumnType is the Data Exports manifest spelling of a DuckDB type.
func ManifestColumnType(duckType string) string {
	switch normType(duckType) {
	case "VARCHAR":
		return "string"
	case "DOUBLE":
		return "double"
	case "TIMESTAMP":
		return "timestamp"
	case "MAP(VARCHAR,VARCHAR)":
		return "map<string,string>"
	case "MAP(VARCHAR,DOUBLE)":
		return "map<string,double>"
	}
	return strings.ToLower(duckType)
}

// DataKey is the object key of a billing period's n-th data file (from 1).
func DataKey(prefix, export, period string, n int) string {
	return path.Join(prefix, export, "data", "BILLING_PERIOD="+period, fmt.Sprintf("%s-%05d.snappy.parquet", export, n))
}

// ManifestKey is the object key of a billing period's manifest.
func ManifestKey(prefix, export, period string) string {
	return path.Join(prefix, export, "metadata", "BILLING_PERIOD="+period, export+"-Manifest.json")
}
