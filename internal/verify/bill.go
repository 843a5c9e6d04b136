package verify

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/bcmdataexports"
	bcmtypes "github.com/aws/aws-sdk-go-v2/service/bcmdataexports/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/awsarn"
	"github.com/crossbill/crossbill/internal/awsclient"
	"github.com/crossbill/crossbill/internal/manifest"
	"github.com/crossbill/crossbill/internal/store"
)

// DefaultExportName is the CUR stack's default ExportName: preferred when
// the payer has several CUR 2.0 exports.
const DefaultExportName = "crossbill-cur2"

// IngestJob is the kind of the job that ingests a connection's bill, every
// IngestInterval (AWS refreshes a CUR export up to three times a day).
const (
	IngestJob      = "ingest"
	IngestInterval = 8 * time.Hour
)

// queueIngest queues the connection's ingest to run now. The job is in the
// store, so that a running server's scheduler (which looks for due jobs
// every second) picks it up whether the CLI or the server registered the
// bill; enqueueing is idempotent.
func queueIngest(ctx context.Context, st *store.Store, tenant crossbill.TenantID, id crossbill.ConnectionID) error {
	_, err := st.EnqueueJob(ctx, store.JobSpec{TenantID: tenant, ConnectionID: id, Kind: IngestJob, Interval: IngestInterval})
	return err
}

// Bill is what a verification learnt about the connection's bill (CUR 2.0
// export): where it is and whether AWS has delivered it yet.
type Bill struct {
	Source string `json:"source,omitempty"` // s3://bucket/prefix/export
	// Discovered: this verification found the export through Data Exports
	// and registered it; false when it was already registered.
	Discovered bool `json:"discovered"`
	Periods    int  `json:"periods"` // billing periods delivered so far
	// Note says why no bill is known, or what could not be read.
	Note string `json:"note,omitempty"`
}

// String is the line `connect verify` prints.
func (b Bill) String() string {
	switch {
	case b.Source == "":
		return "bill: " + b.Note
	case b.Periods == 0:
		s := "bill: " + b.Source + ", first delivery expected within 24 h"
		if b.Note != "" {
			s += " (" + b.Note + ")"
		}
		return s
	}
	return fmt.Sprintf("bill: %s, delivered, %d period(s)", b.Source, b.Periods)
}

// discoverBill runs after a verification that bound conn's role, for a
// connection with the cur module: it keeps the registered bill source, or
// finds the CUR 2.0 export through the role (bcm-data-exports ListExports
// and GetExport, both declared by the cur module) and registers it, then
// counts the billing periods delivered. Nothing AWS answers here fails the
// verification: the export may simply not exist yet; the note says what to
// do. Only store errors are returned.
func discoverBill(ctx context.Context, st *store.Store, conn store.Connection, opts Options) (*Bill, error) {
	if !slices.Contains(conn.Modules, manifest.ModuleCUR) {
		return nil, nil
	}
	factory := opts.AWS
	if factory == nil {
		return nil, errNoFactory("bill discovery")
	}
	role, err := awsarn.ParseRole(string(conn.RoleARN), "")
	if err != nil {
		return nil, err
	}
	target := awsclient.Target{Tenant: opts.Tenant, Connection: conn.ID, RoleARN: conn.RoleARN, ExternalID: conn.ExternalID}
	global := probeEnv{partition: role.Partition}.globalRegion()
	bill := &Bill{}
	src, err := st.BillSource(ctx, conn.TenantID, conn.ID)
	switch crossbill.ErrorCode(err) {
	case "":
	case crossbill.CodeNotFound:
		found, note := findExport(ctx, factory.Config(target, global))
		if found == nil {
			bill.Note = note
			return bill, nil
		}
		found.ConnectionID, found.TenantID, found.AccountID = conn.ID, conn.TenantID, role.Account
		if src, err = st.SaveBillSource(ctx, *found); err != nil {
			if crossbill.ErrorCode(err) == crossbill.CodeInvalid {
				bill.Note = "the export's destination is not usable: " + err.Error()
				return bill, nil
			}
			return nil, err
		}
		bill.Discovered = true
		if err := queueIngest(ctx, st, conn.TenantID, conn.ID); err != nil {
			return nil, err
		}
	default:
		return nil, err
	}
	bill.Source = "s3://" + src.Bucket + "/" + src.Path
	// The bucket region is not stored; the CUR stack puts it beside Data
	// Exports, and S3 redirects other regions' requests with an error that
	// lands in the note.
	n, err := deliveredPeriods(ctx, factory.Config(target, global), src.Bucket, src.Path)
	if err != nil {
		bill.Note = "could not list the export: " + why(err)
	}
	bill.Periods = n
	return bill, nil
}

// findExport returns the payer's CUR 2.0 export as a bill source (no
// connection yet), or nil and why none was chosen.
func findExport(ctx context.Context, cfg aws.Config) (*store.BillSource, string) {
	c := bcmdataexports.NewFromConfig(cfg)
	var candidates []store.BillSource
	var names []string
	p := bcmdataexports.NewListExportsPaginator(c, &bcmdataexports.ListExportsInput{})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if unserved(cfg, err) {
			return nil, "Data Exports is " + NotInSandbox + "; set the bill with `crossbill connect bill`"
		}
		if err != nil {
			return nil, "could not list the Data Exports exports: " + why(err) + "; set the bill with `crossbill connect bill`"
		}
		for _, ref := range page.Exports {
			out, err := c.GetExport(ctx, &bcmdataexports.GetExportInput{ExportArn: ref.ExportArn})
			if err != nil {
				return nil, "could not read export " + aws.ToString(ref.ExportName) + ": " + why(err)
			}
			if b, ok := curDestination(out.Export); ok {
				candidates = append(candidates, b)
				names = append(names, aws.ToString(out.Export.Name))
			}
		}
	}
	switch {
	case len(candidates) == 0:
		return nil, "no CUR 2.0 export found: deploy the CUR stack (crossbill-cur.yaml) in us-east-1, or set the bill with `crossbill connect bill`"
	case len(candidates) == 1:
		return &candidates[0], ""
	}
	if i := slices.Index(names, DefaultExportName); i >= 0 {
		return &candidates[i], ""
	}
	return nil, fmt.Sprintf("%d CUR 2.0 exports found (%s): choose one with `crossbill connect bill --source s3://BUCKET/PREFIX/EXPORT`", len(names), strings.Join(names, ", "))
}

// curDestination is the bill source of a CUR 2.0 export writing to S3.
// CUR 2.0 delivers under s3://bucket/prefix/export-name/.
func curDestination(e *bcmtypes.Export) (store.BillSource, bool) {
	if e == nil || e.DataQuery == nil || e.DestinationConfigurations == nil || e.DestinationConfigurations.S3Destination == nil {
		return store.BillSource{}, false
	}
	if !strings.Contains(strings.ToUpper(aws.ToString(e.DataQuery.QueryStatement)), "FROM COST_AND_USAGE_REPORT") {
		return store.BillSource{}, false
	}
	d := e.DestinationConfigurations.S3Destination
	path := strings.Trim(aws.ToString(d.S3Prefix), "/")
	if path != "" {
		path += "/"
	}
	return store.BillSource{Bucket: aws.ToString(d.S3Bucket), Path: path + aws.ToString(e.Name)}, true
}

// deliveredPeriods counts the billing periods with a manifest under the
// export (metadata/BILLING_PERIOD=YYYY-MM/).
func deliveredPeriods(ctx context.Context, cfg aws.Config, bucket, path string) (int, error) {
	p := s3.NewListObjectsV2Paginator(s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = o.BaseEndpoint != nil }), &s3.ListObjectsV2Input{
		Bucket: aws.String(bucket), Prefix: aws.String(path + "/metadata/"), Delimiter: aws.String("/")})
	n := 0
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return 0, err
		}
		for _, cp := range page.CommonPrefixes {
			if strings.Contains(aws.ToString(cp.Prefix), "BILLING_PERIOD=") {
				n++
			}
		}
	}
	return n, nil
}

// why is an AWS error in one line with its fix, for a note.
func why(err error) string {
	d := awsclient.Diagnose(err)
	if d.ErrorCode == "" {
		return err.Error()
	}
	s := d.Operation + ": " + d.ErrorCode + ": " + d.Message
	if d.Fix != "" {
		s += " (fix: " + d.Fix + ")"
	}
	return s
}

// SetBill registers (or replaces) the bill source of tenant's connection
// from source, s3://BUCKET/PREFIX/EXPORT (the folder holding data/ and
// metadata/), as a user sets it when discovery cannot (another account's
// bucket, several exports). The bill account is the connection's. A
// verified connection's ingest is queued to run now.
func SetBill(ctx context.Context, st *store.Store, tenant crossbill.TenantID, id crossbill.ConnectionID, source string) (store.BillSource, error) {
	const op = "connect bill"
	c, err := st.ConnectionByID(ctx, id)
	if err != nil {
		return store.BillSource{}, err
	}
	if c.TenantID != tenant {
		return store.BillSource{}, crossbill.Errorf(crossbill.CodeNotFound, op, "connection %s not found", id)
	}
	rest, ok := strings.CutPrefix(source, "s3://")
	bucket, path, _ := strings.Cut(rest, "/")
	if !ok || strings.Trim(path, "/") == "" {
		return store.BillSource{}, crossbill.Errorf(crossbill.CodeInvalid, op, "source %q must be s3://BUCKET/PREFIX/EXPORT, the folder holding data/ and metadata/", source)
	}
	account := c.AccountID
	if account == "" {
		return store.BillSource{}, crossbill.Errorf(crossbill.CodeInvalid, op, "connection %s has no account yet: run `crossbill connect verify` first", id)
	}
	b, err := st.SaveBillSource(ctx, store.BillSource{ConnectionID: c.ID, TenantID: c.TenantID, AccountID: account, Bucket: bucket, Path: path})
	if err != nil {
		return store.BillSource{}, err
	}
	if c.Status == store.StatusVerified {
		if err := queueIngest(ctx, st, c.TenantID, c.ID); err != nil {
			return store.BillSource{}, err
		}
	}
	return b, nil
}
