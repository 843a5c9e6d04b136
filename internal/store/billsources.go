package store

import (
	"context"
	"regexp"
	"strings"
	"time"

	"github.com/crossbill/crossbill"
)

// BillSource is where a connection's CUR 2.0 export lives.
type BillSource struct {
	ConnectionID crossbill.ConnectionID `json:"connection_id"`
	TenantID     crossbill.TenantID     `json:"tenant_id"`
	AccountID    crossbill.AccountID    `json:"account_id"`
	Bucket       string                 `json:"bucket"`
	Path         string                 `json:"path"` // prefix inside the bucket, no leading or trailing slash
	CreatedAt    time.Time              `json:"created_at"`
	UpdatedAt    time.Time              `json:"updated_at"`
}

// bucketPattern is S3's bucket naming rule (3-63 characters; lowercase
// letters, digits, dots and hyphens; starting and ending alphanumeric).
var bucketPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$`)

// ValidateBillSource checks and normalizes a bill source's fields.
func ValidateBillSource(b *BillSource) error {
	const op = "bill source"
	if !b.AccountID.Valid() {
		return crossbill.Errorf(crossbill.CodeInvalid, op, "bill account ID %q is not a 12-digit AWS account ID", b.AccountID)
	}
	if !bucketPattern.MatchString(b.Bucket) || strings.Contains(b.Bucket, "..") {
		return crossbill.Errorf(crossbill.CodeInvalid, op, "bucket name %q is not a valid S3 bucket name (3-63 lowercase letters, digits, '.' or '-')", b.Bucket)
	}
	b.Path = strings.Trim(b.Path, "/")
	if len(b.Path) > 1024 || strings.ContainsAny(b.Path, "\x00\r\n") {
		return crossbill.Errorf(crossbill.CodeInvalid, op, "bucket path must be at most 1024 characters without control characters")
	}
	return nil
}

// SaveBillSource records (or replaces) a connection's bill source.
func (s *Store) SaveBillSource(ctx context.Context, b BillSource) (BillSource, error) {
	const op = "bill source save"
	if err := ValidateBillSource(&b); err != nil {
		return BillSource{}, err
	}
	now := s.now()
	b.UpdatedAt = now
	_, err := s.db.ExecContext(ctx, `INSERT INTO bill_sources(connection_id, tenant_id, bill_account_id, bucket, path, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT(connection_id) DO UPDATE SET bill_account_id = excluded.bill_account_id, bucket = excluded.bucket, path = excluded.path, updated_at = excluded.updated_at
		WHERE bill_sources.tenant_id = excluded.tenant_id`,
		string(b.ConnectionID), string(b.TenantID), string(b.AccountID), b.Bucket, b.Path, formatStamp(now), formatStamp(now))
	if err != nil {
		return BillSource{}, crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
	}
	return s.BillSource(ctx, b.TenantID, b.ConnectionID)
}

// BillSource returns a tenant's connection's bill source.
func (s *Store) BillSource(ctx context.Context, tenant crossbill.TenantID, conn crossbill.ConnectionID) (BillSource, error) {
	var b BillSource
	var acct, created, updated string
	err := s.db.QueryRowContext(ctx, `SELECT connection_id, tenant_id, bill_account_id, bucket, path, created_at, updated_at FROM bill_sources WHERE tenant_id = ? AND connection_id = ?`,
		string(tenant), string(conn)).Scan(&b.ConnectionID, &b.TenantID, &acct, &b.Bucket, &b.Path, &created, &updated)
	if err != nil {
		return BillSource{}, notFound(err, "bill source", "connection %s has no bill bucket registered", conn)
	}
	b.AccountID = crossbill.AccountID(acct)
	if b.CreatedAt, err = time.Parse(time.RFC3339Nano, created); err != nil {
		return BillSource{}, crossbill.Errorf(crossbill.CodeInternal, "bill source", "%w", err)
	}
	if b.UpdatedAt, err = time.Parse(time.RFC3339Nano, updated); err != nil {
		return BillSource{}, crossbill.Errorf(crossbill.CodeInternal, "bill source", "%w", err)
	}
	return b, nil
}
