package store

import (
	"context"
	"database/sql"
	"time"

	"github.com/crossbill/crossbill"
)

// Session is a signed-in browser: a person, or a break-glass operator
// signed in with the operator token. Only the SHA-256 of its cookie's
// secret is stored.
type Session struct {
	ID         string    `json:"id"`
	UserID     string    `json:"user_id,omitempty"`
	TokenID    string    `json:"token_id,omitempty"` // break-glass: the operator token used
	CreatedAt  time.Time `json:"created_at"`
	LastSeenAt time.Time `json:"last_seen_at"`
	ExpiresAt  time.Time `json:"expires_at"`
}

// BreakGlass reports whether the session is an operator's local sign-in.
func (s Session) BreakGlass() bool { return s.UserID == "" }

// SessionPrefix starts every session secret.
const SessionPrefix = "cbs_"

// CreateSession starts a session for a person (userID) or a break-glass
// operator (tokenID), ending at the latest after absolute.
func (s *Store) CreateSession(ctx context.Context, userID, tokenID string, absolute time.Duration) (Session, Secret, error) {
	const op = "session create"
	if (userID == "") == (tokenID == "") {
		return Session{}, "", crossbill.Errorf(crossbill.CodeInternal, op, "a session is a person's or an operator token's")
	}
	idPart, err := randomString(8)
	if err != nil {
		return Session{}, "", crossbill.Errorf(crossbill.CodeInternal, op, "reading random bytes: %w", err)
	}
	secretPart, err := randomString(20)
	if err != nil {
		return Session{}, "", crossbill.Errorf(crossbill.CodeInternal, op, "reading random bytes: %w", err)
	}
	now := s.now()
	// Ended sessions are kept a day (for the audit's sake of a question
	// soon after), then dropped; sign-ins are rare enough to carry this.
	if _, err := s.db.ExecContext(ctx, `DELETE FROM sessions WHERE expires_at < ?`, formatStamp(now.Add(-24*time.Hour))); err != nil {
		return Session{}, "", crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
	}
	ses := Session{ID: "ses_" + idPart, UserID: userID, TokenID: tokenID, CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(absolute)}
	secret := Secret(SessionPrefix + secretPart)
	if _, err := s.db.ExecContext(ctx, `INSERT INTO sessions(id, hash, user_id, token_id, created_at, last_seen_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		ses.ID, HashToken(secret), nullIfEmpty(userID), nullIfEmpty(tokenID), formatStamp(now), formatStamp(now), formatStamp(ses.ExpiresAt)); err != nil {
		return Session{}, "", crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
	}
	return ses, secret, nil
}

// SessionBySecret finds the live session of a cookie: not signed out, not
// past its absolute end, and used within idle. Its use is recorded (at
// most once a minute). Unknown, ended and idle sessions are all
// Unauthorized.
func (s *Store) SessionBySecret(ctx context.Context, secret Secret, idle time.Duration) (Session, error) {
	const op = "session"
	var ses Session
	var user, tok sql.NullString
	var created, seen, expires string
	err := s.db.QueryRowContext(ctx, `SELECT id, user_id, token_id, created_at, last_seen_at, expires_at FROM sessions WHERE hash = ? AND revoked_at IS NULL`,
		HashToken(secret)).Scan(&ses.ID, &user, &tok, &created, &seen, &expires)
	if err == sql.ErrNoRows {
		return Session{}, crossbill.Errorf(crossbill.CodeUnauthorized, op, "your session ended: sign in again")
	}
	if err != nil {
		return Session{}, crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
	}
	ses.UserID, ses.TokenID = user.String, tok.String
	for _, f := range []struct {
		s string
		t *time.Time
	}{{created, &ses.CreatedAt}, {seen, &ses.LastSeenAt}, {expires, &ses.ExpiresAt}} {
		if *f.t, err = time.Parse(time.RFC3339Nano, f.s); err != nil {
			return Session{}, crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
		}
	}
	now := s.now()
	if !now.Before(ses.ExpiresAt) || now.Sub(ses.LastSeenAt) >= idle {
		return Session{}, crossbill.Errorf(crossbill.CodeUnauthorized, op, "your session timed out: sign in again")
	}
	if now.Sub(ses.LastSeenAt) >= time.Minute {
		if _, err := s.db.ExecContext(ctx, `UPDATE sessions SET last_seen_at = ? WHERE id = ?`, formatStamp(now), ses.ID); err != nil {
			return Session{}, crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
		}
		ses.LastSeenAt = now
	}
	return ses, nil
}

// EndSession signs one session out.
func (s *Store) EndSession(ctx context.Context, id string) error {
	if _, err := s.db.ExecContext(ctx, `UPDATE sessions SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL`, formatStamp(s.now()), id); err != nil {
		return crossbill.Errorf(crossbill.CodeInternal, "sign out", "%w", err)
	}
	return nil
}

// EndUserSessions signs a person out everywhere and says how many
// sessions ended.
func (s *Store) EndUserSessions(ctx context.Context, userID string) (int, error) {
	now := formatStamp(s.now())
	res, err := s.db.ExecContext(ctx, `UPDATE sessions SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL AND expires_at > ?`, now, userID, now)
	if err != nil {
		return 0, crossbill.Errorf(crossbill.CodeInternal, "sign out", "%w", err)
	}
	n, err := res.RowsAffected()
	return int(n), err
}
