package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/awsarn"
)

// MemberStatus is where the check of one member account stands.
type MemberStatus string

// Member statuses.
const (
	MemberPending  MemberStatus = "pending"  // listed, not checked yet
	MemberVerified MemberStatus = "verified" // its crossbill role works
	MemberFailed   MemberStatus = "failed"   // its role could not be assumed or a probe failed
	MemberSkipped  MemberStatus = "skipped"  // not checked: the connection's own account, or not ACTIVE
	MemberConflict MemberStatus = "conflict" // the account belongs to another tenant: never checked nor taken over
)

func (s MemberStatus) valid() bool {
	switch s {
	case MemberPending, MemberVerified, MemberFailed, MemberSkipped, MemberConflict:
		return true
	}
	return false
}

// AccountActive is the organization state of an account crossbill checks.
const AccountActive = "ACTIVE"

// OrgAccount is one account as the organization lists it.
type OrgAccount struct {
	AccountID    crossbill.AccountID
	Name         string
	Email        string
	State        string // ACTIVE, SUSPENDED, PENDING_CLOSURE...
	JoinedMethod string // CREATED or INVITED
	JoinedAt     time.Time
}

// Member is one account of a connection's organization and the outcome of
// its last check.
type Member struct {
	ConnectionID crossbill.ConnectionID `json:"connection_id"`
	AccountID    crossbill.AccountID    `json:"account_id"`
	Name         string                 `json:"name"`
	Email        string                 `json:"email"`
	State        string                 `json:"state"`
	JoinedMethod string                 `json:"joined_method,omitempty"`
	JoinedAt     *time.Time             `json:"joined_at,omitempty"`
	RoleARN      crossbill.RoleARN      `json:"role_arn"`
	Status       MemberStatus           `json:"status"`
	CheckedAt    *time.Time             `json:"checked_at,omitempty"`
	DurationMS   int64                  `json:"duration_ms,omitempty"`
	Class        string                 `json:"class,omitempty"`
	Message      string                 `json:"message,omitempty"`
	Fix          string                 `json:"fix,omitempty"`
	FirstSeen    time.Time              `json:"first_seen"`
	LastSeen     time.Time              `json:"last_seen"`
	GoneAt       *time.Time             `json:"gone_at,omitempty"` // left the organization
}

// Gone reports whether the account no longer appears in the organization.
func (m Member) Gone() bool { return m.GoneAt != nil }

// MemberSync is what SyncMembers changed.
type MemberSync struct {
	Added []crossbill.AccountID `json:"added"` // listed for the first time
	Gone  []crossbill.AccountID `json:"gone"`  // no longer listed (marked gone, kept)
}

// MemberCheck is the outcome of checking one member account.
type MemberCheck struct {
	// Inconclusive: the check could not be made (every failure was a
	// passing fault); the member keeps its status and last check time,
	// and only the class, message and fix say why.
	Inconclusive bool
	Status       MemberStatus
	Class        string
	Message      string
	Fix          string
	CheckedAt    time.Time
	DurationMS   int64
}

const memberColumns = `connection_id, account_id, name, email, state, joined_method, joined_at, role_arn, check_status,
	checked_at, duration_ms, failure_class, message, fix, first_seen, last_seen, gone_at`

// Messages of the statuses SyncMembers decides by itself.
const (
	memberSelfMessage     = "the connection's own account: `crossbill connect verify` checks it"
	memberConflictMessage = "account %s belongs to another tenant: an account is connected by one tenant only, so crossbill does not check or use it for this one"
	// MemberConflictFix is the fix for a member account owned by another tenant.
	MemberConflictFix = "If this organization really is this tenant's, remove the other tenant's connection of the account first; otherwise exclude the account's OU from the members stack."
)

// SyncMembers records the accounts the organization lists for conn (bound
// to a role), with the role roleName each should have: new accounts are
// added, listed ones updated (their last check kept while their role is
// unchanged), and accounts no longer listed are marked gone, not deleted.
// An account owned by another tenant is marked conflict; the connection's
// own account and accounts that are not ACTIVE are marked skipped. All in
// one transaction.
func (s *Store) SyncMembers(ctx context.Context, conn Connection, roleName string, accounts []OrgAccount) (MemberSync, error) {
	const op = "members sync"
	if conn.RoleARN == "" {
		return MemberSync{}, crossbill.Errorf(crossbill.CodeInvalid, op, "connection %s has no role yet: verify it first with `crossbill connect verify`", conn.ID)
	}
	role, err := awsarn.ParseRole(string(conn.RoleARN), "")
	if err != nil {
		return MemberSync{}, err
	}
	now := s.now().UTC().Truncate(time.Second).Format(time.RFC3339)
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return MemberSync{}, crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
	}
	defer tx.Rollback() //nolint:errcheck // after Commit this is a no-op
	// Write first so that the transaction holds the write lock from the
	// start (see SaveVerification).
	res, err := tx.ExecContext(ctx, `UPDATE connections SET updated_at = updated_at WHERE id = ?`, string(conn.ID))
	if err != nil {
		return MemberSync{}, crossbill.Errorf(crossbill.CodeUnavailable, op, "locking connection %s (database busy, retry): %w", conn.ID, err)
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return MemberSync{}, crossbill.Errorf(crossbill.CodeNotFound, op, "no connection with id %q", conn.ID)
	}
	known, err := memberRoles(ctx, tx, conn.ID)
	if err != nil {
		return MemberSync{}, crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
	}
	var out MemberSync
	listed := map[crossbill.AccountID]bool{}
	for _, a := range accounts {
		member, err := awsarn.ParseRole(fmt.Sprintf("arn:%s:iam::%s:role/%s", role.Partition, a.AccountID, roleName), "")
		if err != nil {
			return MemberSync{}, crossbill.Errorf(crossbill.CodeInvalid, op, "member account %q with role name %q: %w", a.AccountID, roleName, err)
		}
		arn := string(member.ARN())
		if listed[a.AccountID] {
			continue
		}
		listed[a.AccountID] = true
		prev, seen := known[a.AccountID]
		if !seen {
			out.Added = append(out.Added, a.AccountID)
		}
		var owner string
		err = tx.QueryRowContext(ctx, `SELECT tenant_id FROM account_owners WHERE account_id = ?`, string(a.AccountID)).Scan(&owner)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return MemberSync{}, crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
		}
		status, message, fix := MemberPending, "", ""
		keep := false // keep the last check's outcome
		switch {
		case owner != "" && owner != string(conn.TenantID):
			status, message, fix = MemberConflict, fmt.Sprintf(memberConflictMessage, a.AccountID), MemberConflictFix
		case a.AccountID == conn.AccountID:
			status, message = MemberSkipped, memberSelfMessage
		case a.State != AccountActive:
			status, message = MemberSkipped, fmt.Sprintf("the account is %s in the organization: only ACTIVE accounts are checked", orUnknown(a.State))
		default:
			keep = seen && prev.role == arn && (prev.status == MemberVerified || prev.status == MemberFailed || prev.status == MemberPending)
		}
		var joined string
		if !a.JoinedAt.IsZero() {
			joined = a.JoinedAt.UTC().Truncate(time.Second).Format(time.RFC3339)
		}
		if keep {
			_, err = tx.ExecContext(ctx, `UPDATE connection_members SET name = ?, email = ?, state = ?, joined_method = ?, joined_at = ?,
				last_seen = ?, gone_at = NULL WHERE connection_id = ? AND account_id = ?`,
				a.Name, a.Email, a.State, a.JoinedMethod, joined, now, string(conn.ID), string(a.AccountID))
		} else {
			_, err = tx.ExecContext(ctx, `INSERT INTO connection_members(`+memberColumns+`)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, '', 0, '', ?, ?, ?, ?, NULL)
				ON CONFLICT(connection_id, account_id) DO UPDATE SET name = excluded.name, email = excluded.email,
					state = excluded.state, joined_method = excluded.joined_method, joined_at = excluded.joined_at,
					role_arn = excluded.role_arn, check_status = excluded.check_status, checked_at = '', duration_ms = 0,
					failure_class = '', message = excluded.message, fix = excluded.fix, last_seen = excluded.last_seen, gone_at = NULL`,
				string(conn.ID), string(a.AccountID), a.Name, a.Email, a.State, a.JoinedMethod, joined, arn, string(status),
				message, fix, now, now)
		}
		if err != nil {
			return MemberSync{}, crossbill.Errorf(crossbill.CodeInternal, op, "storing member %s: %w", a.AccountID, err)
		}
	}
	for id, prev := range known {
		if listed[id] || prev.gone {
			continue
		}
		if _, err := tx.ExecContext(ctx, `UPDATE connection_members SET gone_at = ? WHERE connection_id = ? AND account_id = ?`,
			now, string(conn.ID), string(id)); err != nil {
			return MemberSync{}, crossbill.Errorf(crossbill.CodeInternal, op, "marking member %s gone: %w", id, err)
		}
		out.Gone = append(out.Gone, id)
	}
	if err := tx.Commit(); err != nil {
		return MemberSync{}, crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
	}
	slices.Sort(out.Added)
	slices.Sort(out.Gone)
	return out, nil
}

type memberRole struct {
	role   string
	status MemberStatus
	gone   bool
}

func memberRoles(ctx context.Context, tx *sql.Tx, conn crossbill.ConnectionID) (map[crossbill.AccountID]memberRole, error) {
	rows, err := tx.QueryContext(ctx, `SELECT account_id, role_arn, check_status, gone_at IS NOT NULL FROM connection_members WHERE connection_id = ?`, string(conn))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[crossbill.AccountID]memberRole{}
	for rows.Next() {
		var id, role, status string
		var gone bool
		if err := rows.Scan(&id, &role, &status, &gone); err != nil {
			return nil, err
		}
		out[crossbill.AccountID(id)] = memberRole{role: role, status: MemberStatus(status), gone: gone}
	}
	return out, rows.Err()
}

// SetMemberCheck records the outcome of checking one member account. A
// verified member account becomes the tenant's (account_owners), as a
// role bound by `connect verify` does; if another tenant owns it already,
// the member is recorded as a conflict instead and keeps no claim. It
// returns the member as stored.
func (s *Store) SetMemberCheck(ctx context.Context, conn crossbill.ConnectionID, account crossbill.AccountID, c MemberCheck) (Member, error) {
	const op = "member check save"
	if !c.Inconclusive && (!c.Status.valid() || c.Status == MemberPending) {
		return Member{}, crossbill.Errorf(crossbill.CodeInvalid, op, "a check ends verified, failed, skipped or conflict, not %q", c.Status)
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return Member{}, crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
	}
	defer tx.Rollback() //nolint:errcheck // after Commit this is a no-op
	checked := c.CheckedAt.UTC().Truncate(time.Second).Format(time.RFC3339)
	q := `UPDATE connection_members SET check_status = ?, checked_at = ?, duration_ms = ?, failure_class = ?, message = ?, fix = ?
		WHERE connection_id = ? AND account_id = ?`
	args := []any{string(c.Status), checked, c.DurationMS, c.Class, c.Message, c.Fix, string(conn), string(account)}
	if c.Inconclusive {
		q = `UPDATE connection_members SET failure_class = ?, message = ?, fix = ? WHERE connection_id = ? AND account_id = ?`
		args = args[3:]
	}
	res, err := tx.ExecContext(ctx, q, args...)
	if err != nil {
		return Member{}, crossbill.Errorf(crossbill.CodeUnavailable, op, "storing the check of %s (database busy, retry): %w", account, err)
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return Member{}, crossbill.Errorf(crossbill.CodeNotFound, op, "connection %s has no member account %s: list the members first", conn, account)
	}
	if c.Status == MemberVerified && !c.Inconclusive {
		if err := claimMember(ctx, tx, conn, account); err != nil {
			return Member{}, err
		}
	}
	m, err := scanMember(tx.QueryRowContext(ctx, `SELECT `+memberColumns+` FROM connection_members WHERE connection_id = ? AND account_id = ?`, string(conn), string(account)))
	if err != nil {
		return Member{}, crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
	}
	if err := tx.Commit(); err != nil {
		return Member{}, crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
	}
	return m, nil
}

// claimMember makes a verified member account the connection's tenant's,
// or marks the member conflict when another tenant owns it.
func claimMember(ctx context.Context, tx *sql.Tx, conn crossbill.ConnectionID, account crossbill.AccountID) error {
	const op = "member check save"
	var tenant string
	if err := tx.QueryRowContext(ctx, `SELECT tenant_id FROM connections WHERE id = ?`, string(conn)).Scan(&tenant); err != nil {
		return notFound(err, op, "no connection with id %q", conn)
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO account_owners(account_id, tenant_id) VALUES (?, ?) ON CONFLICT(account_id) DO NOTHING`, string(account), tenant)
	if err != nil {
		return crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
	}
	var owner string
	if err := tx.QueryRowContext(ctx, `SELECT tenant_id FROM account_owners WHERE account_id = ?`, string(account)).Scan(&owner); err != nil {
		return crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
	}
	if owner == tenant {
		return nil
	}
	_, err = tx.ExecContext(ctx, `UPDATE connection_members SET check_status = ?, failure_class = '', message = ?, fix = ? WHERE connection_id = ? AND account_id = ?`,
		string(MemberConflict), fmt.Sprintf(memberConflictMessage, account), MemberConflictFix, string(conn), string(account))
	if err != nil {
		return crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
	}
	return nil
}

// Members lists the member accounts recorded for a connection: those still
// in the organization first, then those gone, each by account ID.
func (s *Store) Members(ctx context.Context, conn crossbill.ConnectionID) ([]Member, error) {
	const op = "members list"
	rows, err := s.db.QueryContext(ctx, `SELECT `+memberColumns+` FROM connection_members WHERE connection_id = ?
		ORDER BY gone_at IS NOT NULL, account_id`, string(conn))
	if err != nil {
		return nil, crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
	}
	defer rows.Close()
	out := []Member{}
	for rows.Next() {
		m, err := scanMember(rows)
		if err != nil {
			return nil, crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
		}
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
	}
	return out, nil
}

func scanMember(r scanner) (Member, error) {
	var m Member
	var conn, account, role, status, joined, checked, first, last string
	var gone sql.NullString
	if err := r.Scan(&conn, &account, &m.Name, &m.Email, &m.State, &m.JoinedMethod, &joined, &role, &status,
		&checked, &m.DurationMS, &m.Class, &m.Message, &m.Fix, &first, &last, &gone); err != nil {
		return Member{}, err
	}
	m.ConnectionID, m.AccountID, m.RoleARN, m.Status = crossbill.ConnectionID(conn), crossbill.AccountID(account), crossbill.RoleARN(role), MemberStatus(status)
	var err error
	if m.FirstSeen, err = time.Parse(time.RFC3339, first); err != nil {
		return Member{}, err
	}
	if m.LastSeen, err = time.Parse(time.RFC3339, last); err != nil {
		return Member{}, err
	}
	for _, f := range []struct {
		s   string
		dst **time.Time
	}{{joined, &m.JoinedAt}, {checked, &m.CheckedAt}, {gone.String, &m.GoneAt}} {
		if f.s == "" {
			continue
		}
		t, err := time.Parse(time.RFC3339, f.s)
		if err != nil {
			return Member{}, err
		}
		*f.dst = &t
	}
	return m, nil
}

func orUnknown(s string) string {
	if s == "" {
		return "in an unknown state"
	}
	return s
}

// AccountNames maps the AWS accounts of the tenant's organizations to the
// names Organizations gave them, as the members listing recorded them; an
// account still in an organization wins over one recorded as gone.
func (s *Store) AccountNames(ctx context.Context, tenant crossbill.TenantID) (map[crossbill.AccountID]string, error) {
	const op = "account names"
	rows, err := s.db.QueryContext(ctx, `SELECT m.account_id, m.name FROM connection_members m JOIN connections c ON c.id = m.connection_id
		WHERE c.tenant_id = ? AND m.name <> '' ORDER BY m.gone_at IS NULL, m.last_seen`, string(tenant))
	if err != nil {
		return nil, crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
	}
	defer rows.Close()
	names := map[crossbill.AccountID]string{}
	for rows.Next() {
		var account, name string
		if err := rows.Scan(&account, &name); err != nil {
			return nil, crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
		}
		names[crossbill.AccountID(account)] = name
	}
	if err := rows.Err(); err != nil {
		return nil, crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
	}
	return names, nil
}
