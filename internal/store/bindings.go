package store

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/awsarn"
)

// A binding makes a role (connections.role_arn) and its AWS account
// (account_owners) a tenant's. Bindings are made in one place only:
// SaveVerification, in the transaction that records a verification in
// which crossbill assumed the role with the connection's external ID. So a
// tenant cannot claim an account it does not control by naming it, and an
// unfinished or failed verification binds nothing. Operators list and
// release bindings (Bindings, ReleaseAccount).

// ErrNotBindable is returned (wrapped, code Conflict) by SaveVerification
// when the verified role, or its account, is bound to another tenant:
// nothing was written. Callers must not show this to the tenant (that would
// tell it whose account is connected); verify answers with an ordinary
// failed verification instead.
var ErrNotBindable = errors.New("the role or its account is bound to another tenant")

// bindRole binds role and its account to connection id inside tx, which
// must already hold the write lock. Binding the connection's own role again
// changes nothing.
func bindRole(ctx context.Context, tx *sql.Tx, id crossbill.ConnectionID, role crossbill.RoleARN, now time.Time) error {
	const op = "connection bind role"
	r, err := awsarn.ParseRole(string(role), "")
	if err != nil {
		return err
	}
	role = r.ARN()
	c, err := scanConnection(tx.QueryRowContext(ctx, `SELECT `+connectionColumns+` FROM connections WHERE id = ?`, string(id)))
	if err != nil {
		return notFound(err, op, "no connection with id %q", id)
	}
	if c.RoleARN == role {
		return nil
	}
	if c.RoleARN != "" {
		return crossbill.Errorf(crossbill.CodeConflict, op, "connection %s is already bound to %s: create a new connection with `crossbill connect init` for another role", id, c.RoleARN)
	}
	var otherConn, otherTenant string
	err = tx.QueryRowContext(ctx, `SELECT id, tenant_id FROM connections WHERE role_arn = ?`, string(role)).Scan(&otherConn, &otherTenant)
	switch {
	case err == nil && otherTenant == string(c.TenantID):
		return crossbill.Errorf(crossbill.CodeConflict, op, "role %s is already bound to connection %s of this tenant: verify that connection instead", role, otherConn)
	case err == nil:
		return crossbill.Errorf(crossbill.CodeConflict, op, "%w", ErrNotBindable)
	case !errors.Is(err, sql.ErrNoRows):
		return crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
	}
	// Insert-or-keep, then read: the owner is whoever got there first.
	if _, err := tx.ExecContext(ctx, `INSERT INTO account_owners(account_id, tenant_id) VALUES (?, ?) ON CONFLICT(account_id) DO NOTHING`,
		string(r.Account), string(c.TenantID)); err != nil {
		return crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
	}
	var owner string
	if err := tx.QueryRowContext(ctx, `SELECT tenant_id FROM account_owners WHERE account_id = ?`, string(r.Account)).Scan(&owner); err != nil {
		return crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
	}
	if owner != string(c.TenantID) {
		return crossbill.Errorf(crossbill.CodeConflict, op, "%w", ErrNotBindable)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE connections SET role_arn = ?, account_id = ?, updated_at = ? WHERE id = ?`,
		string(role), string(r.Account), now.Format(time.RFC3339), string(id)); isUniqueViolation(err) {
		// PostgreSQL: another connection of this tenant bound the role
		// since the read above (SQLite's one writer rules that out).
		return crossbill.Errorf(crossbill.CodeConflict, op, "role %s was just bound to another connection of this tenant: verify that connection instead", role)
	} else if err != nil {
		return crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
	}
	return nil
}

// BoundElsewhere reports whether role, or its account, is bound to a
// tenant other than tenant. verify asks before it starts so that such a
// verification fails exactly as one with a role that does not trust the
// connection's external ID does; SaveVerification decides for good.
func (s *Store) BoundElsewhere(ctx context.Context, tenant crossbill.TenantID, role crossbill.RoleARN) (bool, error) {
	const op = "binding check"
	r, err := awsarn.ParseRole(string(role), "")
	if err != nil {
		return false, err
	}
	var n int
	err = s.db.QueryRowContext(ctx, `SELECT
		(SELECT COUNT(*) FROM connections WHERE role_arn = ? AND tenant_id <> ?) +
		(SELECT COUNT(*) FROM account_owners WHERE account_id = ? AND tenant_id <> ?)`,
		string(r.ARN()), string(tenant), string(r.Account), string(tenant)).Scan(&n)
	if err != nil {
		return false, crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
	}
	return n > 0, nil
}

// Binding is an AWS account bound to a tenant, with the roles of it bound
// to the tenant's connections and the connections whose organization lists
// it as a verified member.
type Binding struct {
	AccountID  crossbill.AccountID      `json:"account_id"`
	TenantID   crossbill.TenantID       `json:"tenant_id"`
	TenantName string                   `json:"tenant"`
	Roles      []BoundRole              `json:"roles"`
	Members    []crossbill.ConnectionID `json:"member_of"` // organization connections that verified the account
}

// BoundRole is one role bound to a connection.
type BoundRole struct {
	ConnectionID crossbill.ConnectionID `json:"connection_id"`
	RoleARN      crossbill.RoleARN      `json:"role_arn"`
	Status       ConnectionStatus       `json:"status"`
	// AssumedAt is the last verification that assumed the role with the
	// connection's external ID. Absent: nothing stored proves the tenant
	// controls the role (a binding made before crossbill required that).
	AssumedAt *time.Time `json:"assumed_at,omitempty"`
}

// BindingFilter narrows Bindings; empty fields match everything.
type BindingFilter struct {
	TenantID  crossbill.TenantID
	AccountID crossbill.AccountID
}

// Bindings lists bound accounts by tenant name and account ID.
func (s *Store) Bindings(ctx context.Context, f BindingFilter) ([]Binding, error) {
	const op = "binding list"
	rows, err := s.db.QueryContext(ctx, `SELECT a.account_id, a.tenant_id, t.name FROM account_owners a JOIN tenants t ON t.id = a.tenant_id
		WHERE (? = '' OR a.tenant_id = ?) AND (? = '' OR a.account_id = ?) ORDER BY t.name, a.account_id`,
		string(f.TenantID), string(f.TenantID), string(f.AccountID), string(f.AccountID))
	if err != nil {
		return nil, crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
	}
	out := []Binding{}
	at := map[crossbill.AccountID]int{}
	for rows.Next() {
		var b Binding
		var account, tenant string
		if err := rows.Scan(&account, &tenant, &b.TenantName); err != nil {
			rows.Close()
			return nil, crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
		}
		b.AccountID, b.TenantID, b.Roles, b.Members = crossbill.AccountID(account), crossbill.TenantID(tenant), []BoundRole{}, []crossbill.ConnectionID{}
		at[b.AccountID] = len(out)
		out = append(out, b)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
	}
	if len(out) == 0 {
		return out, nil
	}
	// Roles: a role counts for its account's binding only when its
	// connection is the owner's (older data might say otherwise).
	rows, err = s.db.QueryContext(ctx, `SELECT c.account_id, c.tenant_id, c.id, c.role_arn, c.status,
		(SELECT MAX(v.finished_at) FROM verifications v JOIN verification_checks k ON k.verification_id = v.id
			WHERE v.connection_id = c.id AND v.role_arn = c.role_arn AND k.name = ? AND k.status = ?)
		FROM connections c WHERE c.role_arn IS NOT NULL ORDER BY c.created_at, c.rowid`, CheckAssumeRole, string(CheckPass))
	if err != nil {
		return nil, crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
	}
	for rows.Next() {
		var account, tenant, id, role, status string
		var assumed sql.NullString
		if err := rows.Scan(&account, &tenant, &id, &role, &status, &assumed); err != nil {
			rows.Close()
			return nil, crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
		}
		i, ok := at[crossbill.AccountID(account)]
		if !ok || string(out[i].TenantID) != tenant {
			continue
		}
		br := BoundRole{ConnectionID: crossbill.ConnectionID(id), RoleARN: crossbill.RoleARN(role), Status: ConnectionStatus(status)}
		if assumed.Valid {
			t, err := time.Parse(timeMillis, assumed.String)
			if err != nil {
				rows.Close()
				return nil, crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
			}
			br.AssumedAt = &t
		}
		out[i].Roles = append(out[i].Roles, br)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
	}
	rows, err = s.db.QueryContext(ctx, `SELECT m.account_id, c.tenant_id, m.connection_id FROM connection_members m JOIN connections c ON c.id = m.connection_id
		WHERE m.check_status = ? AND m.gone_at IS NULL ORDER BY m.connection_id`, string(MemberVerified))
	if err != nil {
		return nil, crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var account, tenant, conn string
		if err := rows.Scan(&account, &tenant, &conn); err != nil {
			return nil, crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
		}
		if i, ok := at[crossbill.AccountID(account)]; ok && string(out[i].TenantID) == tenant {
			out[i].Members = append(out[i].Members, crossbill.ConnectionID(conn))
		}
	}
	if err := rows.Err(); err != nil {
		return nil, crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
	}
	return out, nil
}

// memberReleasedMessage is what a released member account says until its
// next check.
const memberReleasedMessage = "the operator released this account's binding: the next members run checks it again"

// ReleaseAccount frees account from the tenant it is bound to: the
// tenant's connections with roles in it go back to pending without a role,
// its verified member records go back to pending, and one audit line
// records who did it and why, all in one transaction. The account can then
// be bound by the next verification that assumes one of its roles, the
// old tenant's included if its role still trusts that tenant's external ID.
// It returns the binding as it was. by names who asked (Actor, and the
// person's IdP subject and email when a person did).
func (s *Store) ReleaseAccount(ctx context.Context, account crossbill.AccountID, by AuditEntry, reason string) (Binding, error) {
	const op = "binding release"
	if !account.Valid() {
		return Binding{}, crossbill.Errorf(crossbill.CodeInvalid, op, "%q is not a 12-digit AWS account ID", account)
	}
	if by.Actor == "" || reason == "" {
		return Binding{}, crossbill.Errorf(crossbill.CodeInvalid, op, "a release needs who asked and why (--reason): both go to the audit log")
	}
	bs, err := s.Bindings(ctx, BindingFilter{AccountID: account})
	if err != nil {
		return Binding{}, err
	}
	if len(bs) == 0 {
		return Binding{}, crossbill.Errorf(crossbill.CodeNotFound, op, "account %s is not bound to any tenant: see `crossbill connect bindings`", account)
	}
	b := bs[0]
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return Binding{}, crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
	}
	defer tx.Rollback() //nolint:errcheck // after Commit this is a no-op
	// The delete comes first: it takes the write lock and settles a race
	// with another release or a change of owner since the read above.
	res, err := tx.ExecContext(ctx, `DELETE FROM account_owners WHERE account_id = ? AND tenant_id = ?`, string(account), string(b.TenantID))
	if err != nil {
		return Binding{}, crossbill.Errorf(crossbill.CodeUnavailable, op, "releasing %s (database busy, retry): %w", account, err)
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return Binding{}, crossbill.Errorf(crossbill.CodeConflict, op, "account %s changed while it was being released: list the bindings again and retry", account)
	}
	now := s.now().Truncate(time.Second).Format(time.RFC3339)
	if _, err := tx.ExecContext(ctx, `UPDATE connections SET role_arn = NULL, account_id = NULL, status = ?, updated_at = ? WHERE tenant_id = ? AND account_id = ?`,
		string(StatusPending), now, string(b.TenantID), string(account)); err != nil {
		return Binding{}, crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE connection_members SET check_status = ?, failure_class = '', message = ?, fix = ''
		WHERE account_id = ? AND check_status = ? AND connection_id IN (SELECT id FROM connections WHERE tenant_id = ?)`,
		string(MemberPending), memberReleasedMessage, string(account), string(MemberVerified), string(b.TenantID)); err != nil {
		return Binding{}, crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
	}
	detail := struct {
		Reason  string                   `json:"reason"`
		Tenant  string                   `json:"tenant"`
		Roles   []BoundRole              `json:"roles"`
		Members []crossbill.ConnectionID `json:"member_of"`
	}{reason, b.TenantName, b.Roles, b.Members}
	line := AuditEntry{Actor: by.Actor, PersonSubject: by.PersonSubject, PersonEmail: by.PersonEmail, Action: AuditBindingRelease, TenantID: b.TenantID, Subject: string(account)}
	if err := s.appendAudit(ctx, tx, line, detail); err != nil {
		return Binding{}, err
	}
	if err := tx.Commit(); err != nil {
		return Binding{}, crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
	}
	return b, nil
}
