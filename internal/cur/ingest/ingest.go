// Package ingest loads AWS Data Exports (CUR 2.0 or FOCUS 1.2, Parquet) from
// S3 or a local directory into the cost store, one billing period at a
// time, skipping periods whose export has not changed.
package ingest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/costs"
	"github.com/crossbill/crossbill/internal/cur"
)

// Options says what to ingest.
type Options struct {
	Source string // s3://bucket/prefix/export or a local directory
	Tenant crossbill.TenantID
	// AWS is the configuration for S3 sources: a connection's role
	// credentials, or the emulator's. A BaseEndpoint (emulator, S3-compatible
	// store) switches to path-style addressing.
	AWS aws.Config
	// Progress receives progress lines; nil drops them.
	Progress func(format string, args ...any)
	// Format is "" for a Data Exports export (manifests name each billing
	// period's files) or FormatFOCUSFiles for plain FOCUS files.
	Format string
	// CommitRows: consecutive periods are committed together until they
	// hold this many line items; default DefaultCommitRows, 1 commits
	// every period by itself.
	CommitRows int64
}

// FormatFOCUSFiles reads Source as FOCUS files (CSV or Parquet, a file or
// every such file under a directory or prefix) without manifests: how most
// FOCUS users receive their data (Azure, GCP and OCI exports, a FinOps
// tool's download).
const FormatFOCUSFiles = "focus"

// Period statuses.
const (
	StatusLoaded    = "loaded"
	StatusUnchanged = "unchanged"
)

// PeriodResult is what happened to one billing period.
type PeriodResult struct {
	Period      string       `json:"billing_period"`
	Status      string       `json:"status"`
	Format      costs.Format `json:"format,omitempty"`
	ExecutionID string       `json:"execution_id"`
	Files       int          `json:"files"`
	Bytes       int64        `json:"bytes"`
	Rows        int64        `json:"rows"`
	Seconds     float64      `json:"seconds"`
}

// Result is the outcome of an ingest.
type Result struct {
	Source  string             `json:"source"`
	Tenant  crossbill.TenantID `json:"tenant"`
	Periods []PeriodResult     `json:"periods"`
}

var manifestKeyRe = regexp.MustCompile(`^metadata/BILLING_PERIOD=(\d{4}-\d{2})/[^/]*Manifest\.json$`)

// Ingest discovers the export's billing periods from its manifests and
// loads every period whose manifest or data files changed since the last
// ingest. Each period is validated before anything is replaced and loaded
// whole, in a transaction it shares with the small periods next to it (see
// costs.Batch and Options.CommitRows). Running it twice
// changes nothing the second time.
func Ingest(ctx context.Context, store *costs.Store, opt Options) (Result, error) {
	const op = "cur ingest"
	progress := opt.Progress
	if progress == nil {
		progress = func(string, ...any) {}
	}
	// The next period is fetched while one loads: the two report progress.
	var progressMu sync.Mutex
	report := progress
	progress = func(format string, args ...any) {
		progressMu.Lock()
		defer progressMu.Unlock()
		report(format, args...)
	}
	loc, err := ParseLocation(opt.Source)
	if err != nil {
		return Result{}, err
	}
	if opt.Tenant == "" {
		return Result{}, crossbill.Errorf(crossbill.CodeInvalid, op, "no tenant given")
	}
	var files exportFiles = dirFiles{root: loc.Prefix}
	switch opt.Format {
	case "":
	case FormatFOCUSFiles:
		if loc.Bucket == "" {
			if info, err := os.Stat(loc.Prefix); err == nil && info.Mode().IsRegular() {
				files = dirFiles{root: filepath.Dir(loc.Prefix), only: filepath.Base(loc.Prefix)}
			}
		}
	default:
		return Result{}, crossbill.Errorf(crossbill.CodeInvalid, op, "unknown format %q; leave it out for a Data Exports export, or use %s for plain FOCUS files", opt.Format, FormatFOCUSFiles)
	}
	if loc.Bucket != "" {
		files = s3Files{loc: loc, client: s3.NewFromConfig(opt.AWS, func(o *s3.Options) {
			o.UsePathStyle = o.BaseEndpoint != nil
		})}
	}
	res := Result{Source: loc.String(), Tenant: opt.Tenant, Periods: []PeriodResult{}}

	progress("listing %s", loc)
	var objects []object
	err = retry(ctx, progress, "listing "+loc.String(), func() (err error) {
		objects, err = files.list(ctx)
		return err
	})
	if err != nil {
		return Result{}, err
	}
	if opt.Format == FormatFOCUSFiles {
		return ingestFOCUSFiles(ctx, store, files, loc, opt.Tenant, objects, progress)
	}
	byKey := map[string]object{}
	var manifests []object
	for _, o := range objects {
		byKey[o.Key] = o
		if manifestKeyRe.MatchString(o.Key) {
			manifests = append(manifests, o)
		}
	}
	if len(manifests) == 0 {
		return Result{}, crossbill.Errorf(crossbill.CodeNotFound, op,
			"no manifests under %s/metadata/BILLING_PERIOD=YYYY-MM/; point --source at the export itself (the folder that holds data/ and metadata/), or add --format focus for plain FOCUS files", loc)
	}
	sort.Slice(manifests, func(i, j int) bool { return manifests[i].Key < manifests[j].Key })

	// Periods are loaded in batches (one transaction, see costs.Batch) of
	// about commitRows line items: a small period's commit and the views'
	// rebuild cost as much as a large one's, and a batch pays them once; a
	// large period commits by itself, so a crash loses little work.
	commitRows := opt.CommitRows
	if commitRows <= 0 {
		commitRows = DefaultCommitRows
	}
	var batch *costs.Batch
	flush := func() error {
		if batch == nil {
			return nil
		}
		b := batch
		batch = nil
		return b.Commit(ctx)
	}
	load := func(l costs.Load) (int64, error) {
		if batch == nil {
			b, err := store.Begin(ctx)
			if err != nil {
				return 0, errors.Join(err, store.DiscardStage(l.Dir))
			}
			batch = b
		}
		n, err := batch.Replace(ctx, l)
		if err != nil {
			batch = nil // rolled back
			return 0, err
		}
		if batch.Rows() >= commitRows {
			return n, flush()
		}
		return n, nil
	}
	// Each period is prepared (manifest read, files fetched) while the one
	// before it loads: fetching is mostly waiting on the
	// source and the disk, which the load's DuckDB threads leave free.
	// At 100 M line items copying the files was a fifth of the ingest's
	// wall time, spent with DuckDB idle.
	prepCtx, stopPreparing := context.WithCancel(ctx)
	defer stopPreparing()
	prepare := func(mo object) <-chan prepared {
		c := make(chan prepared, 1)
		go func() {
			var p prepared
			p.pr, p.load, p.keys, p.err = preparePeriod(prepCtx, files, loc, string(opt.Tenant), mo, byKey, progress, store)
			c <- p
		}()
		return c
	}
	// discard removes what a prepared period staged but will not load.
	discard := func(c <-chan prepared) error {
		if c == nil {
			return nil
		}
		if p := <-c; p.load != nil {
			return store.DiscardStage(p.load.Dir)
		}
		return nil
	}
	loaded := false
	var next <-chan prepared
	if len(manifests) > 0 {
		next = prepare(manifests[0])
	}
	for i := range manifests {
		p := <-next
		next = nil
		err := p.err
		if err == nil {
			err = ctx.Err()
		}
		if err == nil && i+1 < len(manifests) {
			next = prepare(manifests[i+1])
		}
		if err == nil && p.load != nil {
			if err = checkPeriod(ctx, store, loc, progress, &p.pr, p.load, p.keys); err != nil {
				err = errors.Join(err, store.DiscardStage(p.load.Dir))
			} else {
				p.pr, err = loadPeriod(p.pr, *p.load, progress, load)
			}
		} else if p.load != nil {
			err = errors.Join(err, store.DiscardStage(p.load.Dir))
		}
		if err != nil {
			// The periods loaded before stay loaded, as when each
			// committed by itself.
			stopPreparing()
			return Result{}, errors.Join(err, discard(next), flush())
		}
		loaded = loaded || p.pr.Status == StatusLoaded
		res.Periods = append(res.Periods, p.pr)
	}
	if err := flush(); err != nil {
		return Result{}, err
	}
	if loaded {
		return res, store.Checkpoint(ctx)
	}
	return res, nil
}

// DefaultCommitRows is Options.CommitRows' default: at 100 k line items a
// month (one account) five months commit together; a month of 500 k or
// more commits by itself. Larger batches cost more than they save: at
// 830 k a month, batches of two months took 6% more CPU (their commits
// cost more than twice one month's) and left a 5% larger database file;
// at 100 k a month, one batch of 12 peaked at 360 MB against 200 MB.
const DefaultCommitRows = 500_000

// prepared is a billing period fetched: load is nil when the period is
// unchanged (pr says why), else its files are staged in load.Dir, to be
// checked (checkPeriod) and loaded.
type prepared struct {
	pr   PeriodResult
	load *costs.Load
	keys []string
	err  error
}

// preparePeriod reads one billing period's manifest and, if its export
// changed, fetches its files into a staging directory of the store, ready
// for checkPeriod and loadPeriod; keys are the files' keys in the export.
func preparePeriod(ctx context.Context, files exportFiles, loc Location, tenant string,
	mo object, byKey map[string]object, progress func(string, ...any),
	store *costs.Store) (_ PeriodResult, _ *costs.Load, keys []string, err error) {
	start := time.Now()
	period := manifestKeyRe.FindStringSubmatch(mo.Key)[1]
	op := "cur ingest " + period
	var raw []byte
	err = retry(ctx, progress, "reading "+mo.Key, func() (err error) {
		raw, err = files.read(ctx, mo.Key)
		return err
	})
	if err != nil {
		return PeriodResult{}, nil, nil, err
	}
	m, err := cur.ParseManifest(raw)
	if err != nil {
		return PeriodResult{}, nil, nil, crossbill.Errorf(crossbill.CodeInvalid, op, "%s: %w", mo.Key, err)
	}
	if m.BillingPeriod != period {
		return PeriodResult{}, nil, nil, crossbill.Errorf(crossbill.CodeInvalid, op, "%s describes billing period %s, not %s", mo.Key, m.BillingPeriod, period)
	}
	pr := PeriodResult{Period: period, ExecutionID: m.ExecutionID, Files: len(m.DataFiles)}
	// The fingerprint covers the manifest's execution and every data file's
	// ETag: a restatement changes the first, a file rewritten in place the
	// second.
	h := sha256.New()
	fmt.Fprintf(h, "%s\n%s\n", m.ExecutionID, mo.ETag)
	keys = make([]string, len(m.DataFiles))
	for i, k := range m.DataFiles {
		rel, err := exportRelative(k)
		if err != nil {
			return PeriodResult{}, nil, nil, crossbill.Errorf(crossbill.CodeInvalid, op, "%s: %w", mo.Key, err)
		}
		o, ok := byKey[rel]
		if !ok {
			return PeriodResult{}, nil, nil, crossbill.Errorf(crossbill.CodeNotFound, op,
				"the manifest lists %s but %s has no such file; the export may still be delivering, retry later", rel, loc)
		}
		keys[i] = rel
		pr.Bytes += o.Size
		fmt.Fprintf(h, "%s %s %d\n", rel, o.ETag, o.Size)
	}
	fingerprint := hex.EncodeToString(h.Sum(nil))
	old, err := store.Fingerprint(ctx, tenant, loc.String(), period)
	if err != nil {
		return PeriodResult{}, nil, nil, err
	}
	if old == fingerprint {
		pr.Status = StatusUnchanged
		progress("%s: unchanged (execution %s), skipped", period, m.ExecutionID)
		return pr, nil, nil, nil
	}
	// The same delivery reached through another path (a copy of the
	// export, another bucket prefix) is already counted: loading it again
	// would only swap one copy for the other.
	if other, err := store.LoadedFrom(ctx, tenant, period, m.ExecutionID); err != nil {
		return PeriodResult{}, nil, nil, err
	} else if other != "" && other != loc.String() {
		pr.Status = StatusUnchanged
		progress("%s: execution %s already loaded from %s, skipped", period, m.ExecutionID, other)
		return pr, nil, nil, nil
	}

	// The files are copied into the store: it keeps them, as delivered, as
	// the period's line items.
	dir, err := store.StageDir()
	if err != nil {
		return PeriodResult{}, nil, nil, err
	}
	handedOver := false
	defer func() {
		if !handedOver {
			err = errors.Join(err, store.DiscardStage(dir))
		}
	}()
	progress("%s: fetching %d file(s), %.1f MB", period, len(keys), float64(pr.Bytes)/1e6)
	paths := make([]string, len(keys))
	for i, k := range keys {
		dst := filepath.Join(dir, fmt.Sprintf("part-%05d.parquet", i+1))
		err := retry(ctx, progress, "downloading "+k, func() (err error) {
			// A download cut off midway left part of the file: start over.
			if err := os.Remove(dst); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return crossbill.Errorf(crossbill.CodeInternal, op, "removing a partial download: %w", err)
			}
			paths[i], err = files.fetch(ctx, k, dst)
			return err
		})
		if err != nil {
			return PeriodResult{}, nil, nil, err
		}
	}
	handedOver = true
	pr.Seconds = time.Since(start).Seconds()
	return pr, &costs.Load{Tenant: tenant, Source: loc.String(), Period: period,
		Dir: dir, Files: paths, ExecutionID: m.ExecutionID, Export: m.ExportARN, Fingerprint: fingerprint}, keys, nil
}

// checkPeriod checks and describes a prepared period's files (after the
// load before it: DuckDB's reading of the footers and the load's would
// add up), converts FOCUS files that need it and validates the columns;
// it completes l and pr.
func checkPeriod(ctx context.Context, store *costs.Store, loc Location, progress func(string, ...any),
	pr *PeriodResult, l *costs.Load, keys []string) error {
	start := time.Now()
	op := "cur ingest " + l.Period
	paths := l.Files
	for i, p := range paths {
		if err := checkParquet(p); err != nil {
			return crossbill.Errorf(crossbill.CodeInvalid, op, "%s: object %s: %s; nothing was replaced", loc, keys[i], err.Error())
		}
	}
	cols, err := store.DescribeParquet(ctx, paths)
	if err != nil {
		// Name the file DuckDB could not read, in its words without its SQL.
		for i, p := range paths {
			if _, ferr := store.DescribeParquet(ctx, []string{p}); ferr != nil {
				return crossbill.Errorf(crossbill.CodeInvalid, op, "%s: object %s is not a readable Parquet file: its metadata (footer) cannot be decoded (%s); nothing was replaced", loc, keys[i], parquetReason(ferr, p))
			}
		}
		return crossbill.Errorf(crossbill.CodeInvalid, op, "%s: the period's Parquet files cannot be read together: %s; nothing was replaced", loc, parquetReason(err, paths[0]))
	}
	pr.Format = costs.FormatCUR2
	validate := cur.Validate
	if _, ok := cols[cur.FocusBilledCost]; ok {
		pr.Format, validate = costs.FormatFOCUS, cur.ValidateFOCUS
		if costs.FOCUSNeedsConversion(cols) {
			if paths, cols, err = convertFOCUS(ctx, store, paths, l.Dir, progress, l.Period); err != nil {
				return crossbill.Errorf(crossbill.CodeInvalid, op, "%s: %w; nothing was replaced", loc, err)
			}
		}
	}
	if err := validate(cols); err != nil {
		return crossbill.Errorf(crossbill.CodeInvalid, op, "%s: %w; nothing was replaced", loc, err)
	}
	names := make([]string, 0, len(cols))
	for c := range cols {
		names = append(names, c)
	}
	l.Format, l.Files, l.Columns = pr.Format, paths, names
	pr.Seconds += time.Since(start).Seconds()
	return nil
}

// loadPeriod loads a prepared period (load owns l.Dir from then on).
// Seconds counts the period's preparation and its load.
func loadPeriod(pr PeriodResult, l costs.Load, progress func(string, ...any), load func(costs.Load) (int64, error)) (PeriodResult, error) {
	start := time.Now()
	progress("%s: loading %s export (execution %s)", l.Period, pr.Format, l.ExecutionID)
	rows, err := load(l)
	if err != nil {
		return PeriodResult{}, err
	}
	pr.Rows, pr.Status = rows, StatusLoaded
	pr.Seconds += time.Since(start).Seconds()
	progress("%s: loaded %d rows in %.1fs", l.Period, pr.Rows, pr.Seconds)
	return pr, nil
}

// Retries of one listing, manifest read or download that failed for a
// passing fault (throttled, unavailable, cut off) after the SDK's own
// attempts: a run spends seconds on a burst instead of failing whole.
const (
	retryAttempts = 4
	retryDelay    = 500 * time.Millisecond
)

// retry calls f until it succeeds, fails for a reason that does not pass
// by itself, or retryAttempts are spent, doubling the delay each time.
func retry(ctx context.Context, progress func(string, ...any), what string, f func() error) error {
	delay := retryDelay
	for attempt := 1; ; attempt++ {
		err := f()
		code := crossbill.ErrorCode(err)
		if err == nil || attempt == retryAttempts || ctx.Err() != nil || code != crossbill.CodeThrottled && code != crossbill.CodeUnavailable {
			return err
		}
		progress("%s failed (%v); retry %d in %s", what, err, attempt, delay)
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return err
		case <-t.C:
		}
		delay *= 2
	}
}

// exportRelative maps a manifest's data file key (bucket-relative, e.g.
// "cur/export/data/BILLING_PERIOD=2026-01/x.parquet") to a key relative to
// the export root ("data/BILLING_PERIOD=2026-01/x.parquet"), so an export
// copied to another bucket, prefix or directory still resolves.
func exportRelative(key string) (string, error) {
	if strings.HasPrefix(key, "data/") {
		return key, nil
	}
	i := strings.LastIndex(key, "/data/")
	if i < 0 {
		return "", fmt.Errorf("data file %q is not under the export's data/ folder", key)
	}
	return key[i+1:], nil
}

// s3Error classifies an S3 failure with advice.
func s3Error(what string, err error) error {
	const op = "cur source"
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	var api smithy.APIError
	if errors.As(err, &api) {
		switch api.ErrorCode() {
		case "NoSuchBucket", "NoSuchKey", "NotFound":
			return crossbill.Errorf(crossbill.CodeNotFound, op, "%s: %s; check the bucket and prefix of the export", what, api.ErrorCode())
		case "AccessDenied", "Forbidden", "AllAccessDisabled":
			return crossbill.Errorf(crossbill.CodeAccessDenied, op, "%s: access denied; the role needs s3:ListBucket and s3:GetObject on the export's prefix (see the cur module's policy)", what)
		case "SlowDown", "Throttling", "ThrottlingException", "RequestLimitExceeded":
			return crossbill.Errorf(crossbill.CodeThrottled, op, "%s: S3 is throttling; retry later", what)
		case "InvalidAccessKeyId", "SignatureDoesNotMatch", "ExpiredToken", "InvalidToken":
			return crossbill.Errorf(crossbill.CodeUnauthorized, op, "%s: the credentials were refused (%s)", what, api.ErrorCode())
		}
	}
	return crossbill.Errorf(crossbill.CodeUnavailable, op, "%s: %w", what, err)
}
