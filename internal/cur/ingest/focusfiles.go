package ingest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/costs"
	"github.com/crossbill/crossbill/internal/cur"
)

// isFOCUSFile tells the data files of a plain FOCUS source: Parquet and CSV
// (optionally compressed).
func isFOCUSFile(key string) bool {
	k := strings.ToLower(key)
	for _, ext := range []string{".parquet", ".csv", ".csv.gz", ".csv.zst"} {
		if strings.HasSuffix(k, ext) {
			return true
		}
	}
	return false
}

// ingestFOCUSFiles loads plain FOCUS files: every file is read, converted
// to the schema's types and split by billing period (the month of
// BillingPeriodStart); each period is then replaced like an export's. With
// no manifest, the fingerprint is every file's name, ETag and size: when
// none changed since the last ingest, nothing is read again.
func ingestFOCUSFiles(ctx context.Context, store *costs.Store, files exportFiles, loc Location, tenantID crossbill.TenantID,
	objects []object, progress func(string, ...any)) (_ Result, err error) {
	const op = "cur ingest"
	tenant := string(tenantID) // the cost store keys tenants by string
	res := Result{Source: loc.String(), Tenant: tenantID, Periods: []PeriodResult{}}
	var data []object
	for _, o := range objects {
		if isFOCUSFile(o.Key) {
			data = append(data, o)
		}
	}
	if len(data) == 0 {
		return Result{}, crossbill.Errorf(crossbill.CodeNotFound, op, "no .parquet or .csv files under %s; point --source at a FOCUS file or the folder holding them", loc)
	}
	sort.Slice(data, func(i, j int) bool { return data[i].Key < data[j].Key })
	h := sha256.New()
	var size int64
	for _, o := range data {
		fmt.Fprintf(h, "%s %s %d\n", o.Key, o.ETag, o.Size)
		size += o.Size
	}
	fingerprint := hex.EncodeToString(h.Sum(nil))
	// The execution ID names the content, so the same files loaded from
	// another path replace rather than double each other.
	execution := "files-" + fingerprint[:16]
	if unchanged, err := sourceUnchanged(ctx, store, tenant, loc.String(), fingerprint); err != nil {
		return Result{}, err
	} else if len(unchanged) > 0 {
		for _, p := range unchanged {
			res.Periods = append(res.Periods, PeriodResult{Period: p, Status: StatusUnchanged, Format: costs.FormatFOCUS, ExecutionID: execution, Files: len(data)})
			progress("%s: unchanged, skipped", p)
		}
		return res, nil
	}

	start := time.Now()
	raw, err := store.StageDir()
	if err != nil {
		return Result{}, err
	}
	defer func() { err = errors.Join(err, store.DiscardStage(raw)) }()
	progress("fetching %d FOCUS file(s), %.1f MB", len(data), float64(size)/1e6)
	paths := make([]string, len(data))
	for i, o := range data {
		// The name keeps the file's extension, which says how to read it.
		name := fmt.Sprintf("in-%05d-%s", i+1, path.Base(o.Key))
		if paths[i], err = files.fetch(ctx, o.Key, filepath.Join(raw, name)); err != nil {
			return Result{}, err
		}
	}
	byPeriod, converted, err := store.SplitFOCUS(ctx, paths, filepath.Join(raw, "periods"))
	if err != nil {
		return Result{}, crossbill.Errorf(crossbill.CodeInvalid, op, "%s: %w; nothing was replaced", loc, err)
	}
	if len(converted) > 0 {
		progress("converted to the FOCUS column types: %s", strings.Join(converted, ", "))
	}
	periods := make([]string, 0, len(byPeriod))
	for p := range byPeriod {
		periods = append(periods, p)
	}
	sort.Strings(periods)
	// Every period is validated before any is replaced.
	for _, p := range periods {
		cols, err := store.DescribeParquet(ctx, byPeriod[p])
		if err != nil {
			return Result{}, err
		}
		if err := cur.ValidateFOCUS(cols); err != nil {
			return Result{}, crossbill.Errorf(crossbill.CodeInvalid, op, "%s: %w; nothing was replaced", loc, err)
		}
	}
	for _, p := range periods {
		if err := ctx.Err(); err != nil {
			return Result{}, err
		}
		dir, err := store.StageDir()
		if err != nil {
			return Result{}, err
		}
		staged, err := costs.MoveFiles(byPeriod[p], dir)
		if err != nil {
			return Result{}, errors.Join(err, store.DiscardStage(dir))
		}
		pr := PeriodResult{Period: p, Format: costs.FormatFOCUS, ExecutionID: execution, Files: len(data), Bytes: size}
		progress("%s: loading FOCUS files", p)
		pr.Rows, err = store.ReplacePeriod(ctx, costs.Load{Tenant: tenant, Source: loc.String(), Period: p, Format: costs.FormatFOCUS,
			Dir: dir, Files: staged, ExecutionID: execution, Fingerprint: fingerprint})
		if err != nil {
			return Result{}, err
		}
		pr.Status = StatusLoaded
		pr.Seconds = time.Since(start).Seconds()
		progress("%s: loaded %d rows", p, pr.Rows)
		res.Periods = append(res.Periods, pr)
	}
	return res, store.Checkpoint(ctx)
}

// sourceUnchanged returns the periods loaded from source when every one of
// them was loaded from these very files (fingerprint), else none.
func sourceUnchanged(ctx context.Context, store *costs.Store, tenant, source, fingerprint string) ([]string, error) {
	ps, err := store.Periods(ctx, crossbill.TenantID(tenant))
	if err != nil {
		return nil, err
	}
	var out []string
	for _, p := range ps {
		if p.Source != source {
			continue
		}
		fp, err := store.Fingerprint(ctx, tenant, source, p.Period)
		if err != nil {
			return nil, err
		}
		if fp != fingerprint {
			return nil, nil
		}
		out = append(out, p.Period)
	}
	return out, nil
}

// convertFOCUS rewrites one period's FOCUS files, typed as an exporter
// wrote them, into one Parquet file of the schema's types in dir, removing
// the originals, and returns it with its columns.
func convertFOCUS(ctx context.Context, store *costs.Store, paths []string, dir string, progress func(string, ...any), period string) ([]string, map[string]string, error) {
	dst := filepath.Join(dir, "focus.parquet")
	converted, err := store.ConvertFOCUS(ctx, paths, dst)
	if err != nil {
		return nil, nil, err
	}
	progress("%s: converted to the FOCUS column types: %s", period, strings.Join(converted, ", "))
	for _, p := range paths {
		if err := os.Remove(p); err != nil {
			return nil, nil, crossbill.Errorf(crossbill.CodeUnavailable, "focus convert", "removing %s: %w", p, err)
		}
	}
	cols, err := store.DescribeParquet(ctx, []string{dst})
	return []string{dst}, cols, err
}
