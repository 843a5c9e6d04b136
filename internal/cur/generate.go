package cur

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/duckdb/duckdb-go/v2"
	"github.com/google/uuid"

	"github.com/crossbill/crossbill"
)

// GenerateOptions configures the synthetic organization. The same options
// (Seed included) always produce the same data.
type GenerateOptions struct {
	Dir      string    // output directory, the "bucket" root
	Seed     uint64    // randomness seed
	Accounts int       // linked accounts besides the management account (default 5)
	Months   int       // billing periods (default 3)
	Start    time.Time // first billing period (default: Months months before the current one)
	Prefix   string    // S3 prefix (default "cur")
	Export   string    // export name (default "crossbill-cur2")
	Bucket   string    // bucket named in manifests' s3:// URIs (default "crossbill-cur")
	// ResourcesPerAccount scales each account's fleet (default 40, about 50
	// line items per account-hour).
	ResourcesPerAccount int
	// RowsPerFile splits a month into several data files, as AWS does for
	// large exports (default 5,000,000).
	RowsPerFile int64
	FOCUS       bool     // also write a FOCUS 1.2 export named Export+"-focus"
	Restate     []string // YYYY-MM periods to write as restated (new execution ID, corrections)
	// Progress, if set, receives progress lines.
	Progress func(format string, args ...any)
}

// MonthResult describes one written billing period.
type MonthResult struct {
	Period        string   `json:"period"`
	ExecutionID   string   `json:"execution_id"`
	Rows          int64    `json:"rows"`
	Files         []string `json:"files"`    // keys relative to Dir
	Manifest      string   `json:"manifest"` // key relative to Dir
	UnblendedCost float64  `json:"unblended_cost"`
	AmortizedCost float64  `json:"amortized_cost"`
	FOCUSRows     int64    `json:"focus_rows,omitempty"`
	FOCUSFiles    []string `json:"focus_files,omitempty"`
	FOCUSManifest string   `json:"focus_manifest,omitempty"`
	Restated      bool     `json:"restated,omitempty"`
}

// GenerateResult is what Generate wrote.
type GenerateResult struct {
	Dir           string        `json:"dir"`
	Prefix        string        `json:"prefix"`
	Export        string        `json:"export"`
	FOCUSExport   string        `json:"focus_export,omitempty"`
	Bucket        string        `json:"bucket"`
	Seed          uint64        `json:"seed"`
	Organization  string        `json:"organization"`
	Accounts      []Account     `json:"accounts"` // management account first
	Months        []MonthResult `json:"months"`
	Commitments   []Commitment  `json:"commitments"`
	Anomalies     []Anomaly     `json:"anomalies"`
	Rows          int64         `json:"rows"`
	Seconds       float64       `json:"seconds"`
	RowsPerMinute float64       `json:"rows_per_minute"`
}

var exportNameRe = regexp.MustCompile(`^[0-9A-Za-z_.-]{1,128}$`)

func (o *GenerateOptions) setDefaults(now time.Time) error {
	const op = "cur generate"
	if o.Dir == "" {
		return crossbill.Errorf(crossbill.CodeInvalid, op, "an output directory is required (--out DIR)")
	}
	if o.Accounts == 0 {
		o.Accounts = 5
	}
	if o.Months == 0 {
		o.Months = 3
	}
	if o.ResourcesPerAccount == 0 {
		o.ResourcesPerAccount = 40
	}
	if o.Prefix == "" {
		o.Prefix = "cur"
	}
	if o.Export == "" {
		o.Export = "crossbill-cur2"
	}
	if o.RowsPerFile == 0 {
		o.RowsPerFile = 5_000_000
	}
	if o.Bucket == "" {
		o.Bucket = "crossbill-cur"
	}
	if o.Start.IsZero() {
		o.Start = monthStart(now.UTC()).AddDate(0, -o.Months, 0)
	}
	switch {
	case o.Accounts < 1 || o.Accounts > 2000:
		return crossbill.Errorf(crossbill.CodeInvalid, op, "--accounts must be between 1 and 2000, got %d", o.Accounts)
	case o.Months < 1 || o.Months > 36:
		return crossbill.Errorf(crossbill.CodeInvalid, op, "--months must be between 1 and 36, got %d", o.Months)
	case o.RowsPerFile < 1000:
		return crossbill.Errorf(crossbill.CodeInvalid, op, "--rows-per-file must be at least 1000, got %d", o.RowsPerFile)
	case o.ResourcesPerAccount < 4 || o.ResourcesPerAccount > 5000:
		return crossbill.Errorf(crossbill.CodeInvalid, op, "--resources must be between 4 and 5000, got %d", o.ResourcesPerAccount)
	case !exportNameRe.MatchString(o.Export):
		return crossbill.Errorf(crossbill.CodeInvalid, op, "export name %q: use 1-128 letters, digits, '-', '_' or '.'", o.Export)
	case !validPrefix(o.Prefix):
		return crossbill.Errorf(crossbill.CodeInvalid, op, "prefix %q: use letters, digits, '-', '_', '.' and '/' between non-empty parts", o.Prefix)
	case o.Start != monthStart(o.Start):
		return crossbill.Errorf(crossbill.CodeInvalid, op, "start must be the first instant of a month in UTC, got %s", o.Start)
	}
	for _, p := range o.Restate {
		t, err := time.Parse("2006-01", p)
		if err != nil || t.Before(o.Start) || !t.Before(o.Start.AddDate(0, o.Months, 0)) {
			return crossbill.Errorf(crossbill.CodeInvalid, op, "--restate %q: give a YYYY-MM period inside the generated months", p)
		}
	}
	return nil
}

func validPrefix(p string) bool {
	for _, seg := range strings.Split(p, "/") {
		if seg == "." || seg == ".." || !exportNameRe.MatchString(seg) {
			return false
		}
	}
	return true
}

// Generate writes a synthetic organization's CUR 2.0 export (and optionally
// a FOCUS 1.2 export) under opts.Dir in the S3 layout of AWS Data Exports:
// PREFIX/EXPORT/data/BILLING_PERIOD=YYYY-MM/EXPORT-00001.snappy.parquet and
// PREFIX/EXPORT/metadata/BILLING_PERIOD=YYYY-MM/EXPORT-Manifest.json.
// Files are written to a temporary name and renamed, so a reader never sees
// half a file; a month's manifest is written after its data.
func Generate(ctx context.Context, opts GenerateOptions) (GenerateResult, error) {
	const op = "cur generate"
	began := time.Now()
	if err := opts.setDefaults(began); err != nil {
		return GenerateResult{}, err
	}
	progress := opts.Progress
	if progress == nil {
		progress = func(string, ...any) {}
	}
	o := newOrg(opts)
	res := GenerateResult{
		Dir: opts.Dir, Prefix: opts.Prefix, Export: opts.Export, Bucket: opts.Bucket, Seed: opts.Seed,
		Organization: o.name, Accounts: o.allAccounts(), Anomalies: o.anomalies,
	}
	if opts.FOCUS {
		res.FOCUSExport = opts.Export + "-focus"
	}
	for _, c := range o.commitments {
		res.Commitments = append(res.Commitments, *c)
	}

	db, err := sql.Open("duckdb", "")
	if err != nil {
		return GenerateResult{}, crossbill.Errorf(crossbill.CodeInternal, op, "open DuckDB: %w", err)
	}
	defer db.Close()
	conn, err := db.Conn(ctx)
	if err != nil {
		return GenerateResult{}, crossbill.Errorf(crossbill.CodeInternal, op, "connect to DuckDB: %w", err)
	}
	defer conn.Close()
	// One DuckDB thread: writing Parquet in order with more threads buffers
	// row groups (1 GB and more for a large month) for little gain on a
	// shared 2-core machine; the Go simulation runs beside it.
	if _, err := conn.ExecContext(ctx, "SET threads = 1"); err != nil {
		return GenerateResult{}, crossbill.Errorf(crossbill.CodeInternal, op, "configure DuckDB: %w", err)
	}
	if _, err := conn.ExecContext(ctx, generatorDDL); err != nil {
		return GenerateResult{}, crossbill.Errorf(crossbill.CodeInternal, op, "create tables: %w", err)
	}
	if err := loadDimensions(ctx, conn, o); err != nil {
		return GenerateResult{}, crossbill.Errorf(crossbill.CodeInternal, op, "load dimensions: %w", err)
	}
	progress("generating %d accounts x %d months (%d usage lines, %d commitments) into %s",
		len(res.Accounts), opts.Months, len(o.res), len(o.commitments), opts.Dir)

	sim := newSimulator(o)
	exportARN := fmt.Sprintf("arn:aws:bcm-data-exports:us-east-1:%s:export/%s-%s", o.payer.ID, opts.Export,
		uuid.NewSHA1(uuid.NameSpaceURL, fmt.Appendf(nil, "%d/%s", opts.Seed, opts.Export)).String()[:8])
	for m := 0; m < opts.Months; m++ {
		period := opts.Start.AddDate(0, m, 0)
		p := period.Format("2006-01")
		revision := 0
		if slices.Contains(opts.Restate, p) {
			revision = 1
		}
		mr, err := generateMonth(ctx, conn, sim, opts, period, revision, exportARN)
		if err != nil {
			if ctx.Err() != nil {
				return GenerateResult{}, crossbill.Errorf(crossbill.CodeInvalid, op, "interrupted in %s: %w", p, ctx.Err())
			}
			return GenerateResult{}, crossbill.Errorf(crossbill.CodeInternal, op, "billing period %s: %w", p, err)
		}
		res.Months = append(res.Months, mr)
		res.Rows += mr.Rows
		el := time.Since(began)
		progress("%s: %d line items, unblended $%.2f, amortized $%.2f (%d/%d months, %.0f rows/min)",
			p, mr.Rows, mr.UnblendedCost, mr.AmortizedCost, m+1, opts.Months, float64(res.Rows)/el.Minutes())
	}
	res.Seconds = time.Since(began).Seconds()
	if res.Seconds > 0 {
		res.RowsPerMinute = float64(res.Rows) / res.Seconds * 60
	}
	return res, nil
}

func generateMonth(ctx context.Context, conn *sql.Conn, sim *simulator, opts GenerateOptions, period time.Time, revision int, exportARN string) (MonthResult, error) {
	o := sim.o
	p := period.Format("2006-01")
	mr := MonthResult{Period: p, Restated: revision > 0}
	if _, err := conn.ExecContext(ctx, factDDL); err != nil {
		return mr, fmt.Errorf("clear facts: %w", err)
	}
	// identity_time_interval of the month's hourly rows
	hoursQ := fmt.Sprintf(`INSERT INTO hours SELECT h, strftime(t, '%%Y-%%m-%%dT%%H:%%M:%%SZ') || '/' || strftime(t + INTERVAL 1 HOUR, '%%Y-%%m-%%dT%%H:%%M:%%SZ')
		FROM (SELECT h::INTEGER AS h, %s + to_hours(h) AS t FROM range(%d) r(h))`, sqlTimestamp(period), int(hoursInMonth(period)))
	if _, err := conn.ExecContext(ctx, hoursQ); err != nil {
		return mr, fmt.Errorf("fill hours: %w", err)
	}
	err := conn.Raw(func(dc any) error {
		dconn, ok := dc.(driver.Conn)
		if !ok {
			return errors.New("DuckDB connection is not a driver.Conn")
		}
		app, err := duckdb.NewAppenderFromConn(dconn, "", "fact")
		if err != nil {
			return fmt.Errorf("appender: %w", err)
		}
		emit := func(f *fact) error {
			mr.Rows++
			mr.UnblendedCost += f.cost
			mr.AmortizedCost += f.amortized()
			return app.AppendRow(f.res, f.h, f.n, f.lit, f.cmt, f.usage, f.cost, f.rate, f.od, f.eff, f.a, f.b, f.c)
		}
		if err := sim.month(period, revision, emit, ctx.Err); err != nil {
			return errors.Join(err, app.Close())
		}
		return app.Close()
	})
	if err != nil {
		return mr, err
	}
	info := monthInfo{period: period, payerID: o.payer.ID, payerName: o.payer.Name,
		invoiceID: fmt.Sprintf("%d", 1000000000+fnv64(fmt.Sprintf("%d/%s", o.seed, p))%8999999999)}
	execID := uuid.NewSHA1(uuid.NameSpaceOID, fmt.Appendf(nil, "crossbill-gen-v1|%d|%d|%d|%s|%d|%s|%d",
		opts.Seed, opts.Accounts, opts.ResourcesPerAccount, opts.Start.Format("2006-01"), opts.Months, p, revision)).String()
	mr.ExecutionID = execID

	write := func(export string, query func(monthInfo, string) string, cols []Column) ([]string, string, error) {
		var keys []string
		for from := int64(0); from == 0 || from < mr.Rows; from += opts.RowsPerFile {
			key := DataKey(opts.Prefix, export, p, len(keys)+1)
			if err := copyParquet(ctx, conn, query(info, factRange(from, from+opts.RowsPerFile)), filepath.Join(opts.Dir, filepath.FromSlash(key))); err != nil {
				return nil, "", err
			}
			keys = append(keys, key)
		}
		// A restated month may have fewer files than before: remove the rest.
		for n := len(keys) + 1; ; n++ {
			stale := filepath.Join(opts.Dir, filepath.FromSlash(DataKey(opts.Prefix, export, p, n)))
			if err := os.Remove(stale); errors.Is(err, os.ErrNotExist) {
				break
			} else if err != nil {
				return nil, "", fmt.Errorf("remove stale data file: %w", err)
			}
		}
		man := Manifest{ExportARN: exportARN, ExportName: export, ExecutionID: execID, BillingPeriod: p,
			PeriodStart: period, PeriodEnd: period.AddDate(0, 1, 0), Bucket: opts.Bucket, DataFiles: keys}
		if export != opts.Export {
			man.ExportARN = exportARN + "-focus"
		}
		for _, c := range cols {
			man.Columns = append(man.Columns, ManifestColumn{Name: c.Name, Type: ManifestColumnType(c.Type)})
		}
		b, err := man.Encode()
		if err != nil {
			return nil, "", err
		}
		mkey := ManifestKey(opts.Prefix, export, p)
		if err := writeFileAtomic(filepath.Join(opts.Dir, filepath.FromSlash(mkey)), b); err != nil {
			return nil, "", err
		}
		return keys, mkey, nil
	}
	mr.Files, mr.Manifest, err = write(opts.Export, curSelect, Columns())
	if err != nil {
		return mr, fmt.Errorf("write CUR 2.0 export: %w", err)
	}
	if opts.FOCUS {
		mr.FOCUSFiles, mr.FOCUSManifest, err = write(opts.Export+"-focus", focusSelect, FOCUSColumns())
		if err != nil {
			return mr, fmt.Errorf("write FOCUS export: %w", err)
		}
		if err := conn.QueryRowContext(ctx, focusCountQuery()).Scan(&mr.FOCUSRows); err != nil {
			return mr, fmt.Errorf("count FOCUS rows: %w", err)
		}
	}
	return mr, nil
}

// copyParquet writes the query's result to path through a temporary file.
// Row groups of 32k rows keep the writer's buffer (a CUR row is wide: maps
// and ~60 strings) near 100 MB; 122k-row groups took 4 times as much.
func copyParquet(ctx context.Context, conn *sql.Conn, query, path string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("create directory: %w", err)
	}
	tmp := path + ".tmp"
	q := fmt.Sprintf("COPY (%s) TO %s (FORMAT PARQUET, COMPRESSION SNAPPY, ROW_GROUP_SIZE 32768)", query, sqlString(tmp))
	if _, err := conn.ExecContext(ctx, q); err != nil {
		err = fmt.Errorf("write %s: %w", filepath.Base(path), err)
		if rmErr := os.Remove(tmp); rmErr != nil && !errors.Is(rmErr, os.ErrNotExist) {
			err = errors.Join(err, rmErr)
		}
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("rename %s: %w", filepath.Base(path), err)
	}
	return nil
}

func writeFileAtomic(path string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("create directory: %w", err)
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		return fmt.Errorf("write %s: %w", filepath.Base(path), err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("rename %s: %w", filepath.Base(path), err)
	}
	return nil
}

func businessUnit(team string) string {
	switch team {
	case "payments", "checkout", "ads":
		return "Commerce"
	case "search", "web", "mobile":
		return "Consumer"
	case "data", "ml":
		return "Data"
	case "finance":
		return "Corporate"
	}
	return "Platform"
}

func serviceCategory(r *resource) (name, category, rtype string) {
	switch r.kind {
	case kEC2:
		return "Amazon Elastic Compute Cloud", "Compute", "Instance"
	case kEBS:
		return "Amazon Elastic Compute Cloud", "Storage", "Volume"
	case kRDS, kRDSStorage:
		return "Amazon Relational Database Service", "Databases", "DB Instance"
	case kS3Storage, kS3Requests:
		return "Amazon Simple Storage Service", "Storage", "Bucket"
	case kLambdaGBs, kLambdaReq:
		return "AWS Lambda", "Compute", "Function"
	case kFargateCPU, kFargateMem:
		return "Amazon Elastic Container Service", "Compute", "Service"
	case kDataOut, kDataAZ:
		return "AWS Data Transfer", "Networking", ""
	case kNATHours, kNATBytes:
		return "Amazon Virtual Private Cloud", "Networking", "NAT Gateway"
	case kSnapshot:
		return "Amazon Elastic Compute Cloud", "Storage", "Snapshot"
	case kIPv4:
		return "Amazon Virtual Private Cloud", "Networking", "Public IPv4 Address"
	case kCWMetrics, kCWLogs:
		return "Amazon CloudWatch", "Management and Governance", "Log Group"
	}
	if r.productCode == "ComputeSavingsPlans" {
		return "Savings Plans for AWS Compute usage", "Compute", "Savings Plan"
	}
	// tax, credit and refund rows belong to the service they are for
	return r.productName, map[string]string{"AmazonEC2": "Compute", "AmazonRDS": "Databases", "AmazonS3": "Storage",
		"AWSLambda": "Compute", "AmazonECS": "Compute", "AmazonCloudWatch": "Management and Governance"}[r.productCode], ""
}

func duckMap(m map[string]string) duckdb.Map {
	out := duckdb.Map{}
	for k, v := range m {
		out[k] = v
	}
	return out
}

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// allTags is the CUR 2.0 tags column of a resource's rows: its own tags and
// its IAM principal's.
func allTags(r *resource) map[string]string {
	out := make(map[string]string, len(r.tags)+len(r.principalTags))
	for k, v := range r.tags {
		out[k] = v
	}
	for k, v := range r.principalTags {
		out[k] = v
	}
	return out
}

// loadDimensions writes the resource and commitment dimensions.
func loadDimensions(ctx context.Context, conn *sql.Conn, o *org) error {
	return conn.Raw(func(dc any) error {
		dconn, ok := dc.(driver.Conn)
		if !ok {
			return errors.New("DuckDB connection is not a driver.Conn")
		}
		app, err := duckdb.NewAppenderFromConn(dconn, "", "res")
		if err != nil {
			return fmt.Errorf("appender: %w", err)
		}
		for i, r := range o.res {
			svc, cat, rtype := serviceCategory(r)
			if cat == "" {
				cat = "Other"
			}
			cc := map[string]string{"business_unit": businessUnit(r.acct.Team), "environment": r.acct.Env}
			var nf any
			if r.nf > 0 {
				nf = r.nf
			}
			if err := app.AppendRow(int32(i), r.acct.ID, r.acct.Name, r.productCode, r.servicecode, r.productName, nullable(r.family),
				r.usageType, nullable(r.operation), r.region.code, r.region.name, nullable(r.az), nullable(r.resourceID), nullable(rtype),
				r.description, nullable(r.unit), r.odRate, strconv.FormatFloat(r.odRate, 'g', -1, 64), nullable(r.itype), nullable(r.ifamily), nf, r.sku,
				duckMap(r.productMap), duckMap(r.tags), duckMap(cc), nullable(r.fromLoc), nullable(r.toLoc), nullable(r.taxType), r.billType,
				svc, cat, r.edp, r.privateRate, r.bundled, nullable(r.principal), duckMap(allTags(r))); err != nil {
				return errors.Join(fmt.Errorf("append resource: %w", err), app.Close())
			}
		}
		if err := app.Close(); err != nil {
			return fmt.Errorf("flush resources: %w", err)
		}
		app, err = duckdb.NewAppenderFromConn(dconn, "", "cmt")
		if err != nil {
			return fmt.Errorf("appender: %w", err)
		}
		for _, c := range o.commitments {
			focusType, focusCat := "Reserved Instances", "Usage"
			switch c.Type {
			case CommitmentComputeSP:
				focusType, focusCat = "Compute Savings Plans", "Spend"
			case CommitmentEC2SP:
				focusType, focusCat = "EC2 Instance Savings Plans", "Spend"
			}
			regionName := ""
			if c.Region != "" {
				for _, r := range regions() {
					if r.code == c.Region {
						regionName = r.name
					}
				}
			}
			sub := c.ARN[strings.LastIndexAny(c.ARN, "/:")+1:]
			desc := fmt.Sprintf("%s %s %s", c.Term, c.Payment, focusType)
			if !c.isSP() {
				desc = fmt.Sprintf("USD %.4g hourly fee per %s instance (%d reservations)", c.RecurringHourly/float64(c.Count), c.InstanceType, c.Count)
			}
			if err := app.AppendRow(int32(c.id), c.ARN, c.Type, c.Payment, c.Term,
				c.Start.UTC().Format(manifestTimeLayout), c.End.UTC().Format(manifestTimeLayout), nullable(c.Region), nullable(regionName),
				nullable(c.InstanceFamily), c.HourlyCommitment, c.RecurringHourly, c.upfrontH, c.UpfrontTotal, int32(c.Count), c.nf,
				sub, focusType, focusCat, desc); err != nil {
				return errors.Join(fmt.Errorf("append commitment: %w", err), app.Close())
			}
		}
		if err := app.Close(); err != nil {
			return fmt.Errorf("flush commitments: %w", err)
		}
		return ctx.Err()
	})
}
