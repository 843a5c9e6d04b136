// Package events receives the CloudTrail management events a customer's
// events stack (onboarding.EventsTemplate) sends through an EventBridge API
// destination: it authenticates the connection's events key, validates the
// event, records it once per event ID (EventBridge retries, replays are
// ignored) and says what to refresh. The server then queues the access or
// inventory sync of that connection and the tenant's alert evaluation.
package events

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"regexp"
	"slices"
	"time"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/manifest"
	"github.com/crossbill/crossbill/internal/store"
)

// KeyPrefix starts every events key, so that scanners and people know one.
const KeyPrefix = "cbe_"

// HashKey is a key's stored form: hex SHA-256 (the key carries 256 random
// bits, so a plain hash cannot be brute-forced).
func HashKey(key string) string {
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:])
}

// NewKey makes an events key: 256 random bits.
func NewKey() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", crossbill.Errorf(crossbill.CodeInternal, "events key", "reading random bytes: %w", err)
	}
	return KeyPrefix + hex.EncodeToString(b), nil
}

// IssueKey makes a new events key for the tenant's connection, whose stack
// calls endpoint (replacing any earlier key), and returns it; only its
// hash is kept: show it once.
func IssueKey(ctx context.Context, st *store.Store, tenant crossbill.TenantID, conn crossbill.ConnectionID, endpoint string) (string, error) {
	key, err := NewKey()
	if err != nil {
		return "", err
	}
	if err := st.SetEventsKey(ctx, tenant, conn, HashKey(key), endpoint); err != nil {
		return "", err
	}
	return key, nil
}

// Event is the part of an EventBridge "AWS API Call via CloudTrail" event
// crossbill reads.
type Event struct {
	Version    string          `json:"version"`
	ID         string          `json:"id"`
	DetailType string          `json:"detail-type"`
	Source     string          `json:"source"`
	Account    string          `json:"account"`
	Time       time.Time       `json:"time"`
	Region     string          `json:"region"`
	Detail     json.RawMessage `json:"detail"`
}

type detail struct {
	EventSource  string `json:"eventSource"`
	EventName    string `json:"eventName"`
	UserIdentity struct {
		ARN string `json:"arn"`
	} `json:"userIdentity"`
}

// Parsed is a validated event.
type Parsed struct {
	Event
	EventSource string
	EventName   string
	Principal   string
	Refresh     string // what it changes: access, inventory
}

const detailType = "AWS API Call via CloudTrail"

var (
	idRE      = regexp.MustCompile(`^[A-Za-z0-9-]{1,64}$`)
	accountRE = regexp.MustCompile(`^\d{12}$`)
	regionRE  = regexp.MustCompile(`^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d{1,2}$`)
	nameRE    = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9]{0,127}$`)
)

// maxDetail is the most of an event's detail kept (CloudTrail request
// parameters can be large; what matters is who did what).
const maxDetail = 32 << 10

// Parse validates one event body: a CloudTrail management event of a
// source the events stack forwards (manifest.EventSources). Each refusal
// says what was wrong (CodeInvalid: the endpoint answers 400).
func Parse(body []byte) (Parsed, error) {
	const op = "events"
	bad := func(format string, args ...any) (Parsed, error) {
		return Parsed{}, crossbill.Errorf(crossbill.CodeInvalid, op, format, args...)
	}
	var e Event
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&e); err != nil {
		return bad("the body is not an EventBridge event (JSON): %v", err)
	}
	if dec.More() {
		return bad("one event per request: EventBridge API destinations send events one by one")
	}
	switch {
	case e.Version != "0":
		return bad("version %q: an EventBridge event has version \"0\"", e.Version)
	case !idRE.MatchString(e.ID):
		return bad("id %q: an event needs its EventBridge id", e.ID)
	case e.DetailType != detailType:
		return bad("detail-type %q: only %q events are read", e.DetailType, detailType)
	case !accountRE.MatchString(e.Account):
		return bad("account %q is not a 12-digit AWS account ID", e.Account)
	case !regionRE.MatchString(e.Region):
		return bad("region %q is not an AWS region", e.Region)
	case e.Time.IsZero():
		return bad("the event has no time")
	}
	i := slices.IndexFunc(manifest.EventSources(), func(s manifest.EventSource) bool { return s.Source == e.Source })
	if i < 0 {
		return bad("source %q is not one the events stack forwards", e.Source)
	}
	src := manifest.EventSources()[i]
	var d detail
	if err := json.Unmarshal(e.Detail, &d); err != nil {
		return bad("detail is not a CloudTrail record: %v", err)
	}
	if d.EventSource != src.EventSource {
		return bad("detail.eventSource %q does not match source %s", d.EventSource, e.Source)
	}
	if !nameRE.MatchString(d.EventName) {
		return bad("detail.eventName %q is not an API call name", d.EventName)
	}
	if len(src.EventNames) > 0 && !slices.Contains(src.EventNames, d.EventName) {
		return bad("%s events other than %v are not forwarded", e.Source, src.EventNames)
	}
	if len(d.UserIdentity.ARN) > 2048 {
		return bad("detail.userIdentity.arn is too long")
	}
	if err := crossbill.CheckText(op, "detail.userIdentity.arn", d.UserIdentity.ARN); err != nil {
		return Parsed{}, err
	}
	if len(e.Detail) > maxDetail {
		e.Detail = json.RawMessage(`{"truncated":true}`)
	}
	return Parsed{Event: e, EventSource: d.EventSource, EventName: d.EventName, Principal: d.UserIdentity.ARN, Refresh: src.Refresh}, nil
}

// Result is what Receive did with an event.
type Result struct {
	ID           string                 `json:"id"`
	Duplicate    bool                   `json:"duplicate"` // seen before: nothing done
	ConnectionID crossbill.ConnectionID `json:"connection_id"`
	Account      crossbill.AccountID    `json:"account"`
	EventName    string                 `json:"event_name"`
	Refresh      string                 `json:"refresh,omitempty"` // access or inventory: the sync to queue
	Connection   store.Connection       `json:"-"`
}

// Receive authenticates key, validates body and records the event once.
// An unknown key is Unauthorized (401), a bad event Invalid (400), an
// event of an account the connection does not hold AccessDenied (403).
func Receive(ctx context.Context, st *store.Store, key string, body []byte) (Result, error) {
	if len(key) < len(KeyPrefix)+32 || len(key) > 200 {
		return Result{}, crossbill.Errorf(crossbill.CodeUnauthorized, "events", "send the connection's events key in the %s header", manifest.EventsKeyHeader)
	}
	c, err := st.ConnectionByEventsKey(ctx, HashKey(key))
	if err != nil {
		return Result{}, err
	}
	p, err := Parse(body)
	if err != nil {
		return Result{}, err
	}
	if err := accountOf(ctx, st, c, crossbill.AccountID(p.Account)); err != nil {
		return Result{}, err
	}
	fresh, err := st.RecordEvent(ctx, store.CloudEvent{ConnectionID: c.ID, ID: p.ID, TenantID: c.TenantID, Account: crossbill.AccountID(p.Account), Region: p.Region,
		Source: p.Source, EventName: p.EventName, Principal: p.Principal, Time: p.Time.UTC(), ReceivedAt: st.Now(), Detail: p.Detail})
	if err != nil {
		return Result{}, err
	}
	res := Result{ID: p.ID, Duplicate: !fresh, Connection: c, ConnectionID: c.ID, Account: crossbill.AccountID(p.Account), EventName: p.EventName}
	if fresh {
		res.Refresh = p.Refresh
	}
	return res, nil
}

// accountOf accepts events of the connection's own account and of the
// member accounts of its organization.
func accountOf(ctx context.Context, st *store.Store, c store.Connection, account crossbill.AccountID) error {
	if c.AccountID == account {
		return nil
	}
	ms, err := st.Members(ctx, c.ID)
	if err != nil {
		return err
	}
	for _, m := range ms {
		if m.AccountID == account {
			return nil
		}
	}
	return crossbill.Errorf(crossbill.CodeAccessDenied, "events", "account %s is neither the connection's account nor a member of its organization: deploy the events stack with the key of the connection that holds it", account)
}
