package awsclient

import (
	"context"
	"fmt"
	"log/slog"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/crossbill/crossbill"
)

// Session limits. AWS caps a role session at the role's MaxSessionDuration
// (1-12 h) but a chained session (role credentials assuming another role)
// at one hour whatever is asked; asking more fails the call.
const (
	MinSessionDuration     = 15 * time.Minute
	ChainedSessionDuration = time.Hour
	DefaultSessionDuration = time.Hour
	// DefaultExpiryWindow refreshes credentials this long before they
	// expire, so that a call never leaves with credentials that die in flight.
	DefaultExpiryWindow = 5 * time.Minute
)

// Target is one customer role crossbill reaches for a connection.
type Target struct {
	Tenant     string // tenant name, shown in the session name (CloudTrail)
	Connection crossbill.ConnectionID
	RoleARN    crossbill.RoleARN
	ExternalID crossbill.ExternalID
	// Via, when set, is the role whose credentials assume this one (role
	// chaining, e.g. management account role -> member account role); the
	// session is then limited to one hour.
	Via *Target
}

// LogValue keeps the external ID out of logs.
func (t Target) LogValue() slog.Value {
	attrs := []slog.Attr{
		slog.String("tenant", t.Tenant),
		slog.String("connection", string(t.Connection)),
		slog.String("role", string(t.RoleARN)),
		slog.Any("external_id", t.ExternalID),
	}
	if t.Via != nil {
		attrs = append(attrs, slog.String("via", string(t.Via.RoleARN)))
	}
	return slog.GroupValue(attrs...)
}

// Account is the account ID in the role ARN ("" when the ARN is malformed).
func (t Target) Account() crossbill.AccountID {
	parts := strings.SplitN(string(t.RoleARN), ":", 6)
	if len(parts) < 6 {
		return ""
	}
	return crossbill.AccountID(parts[4])
}

// key identifies the credentials of a target: one connection may reach
// several accounts (its member accounts) through several roles, and the
// external ID is part of what was assumed (a verification with a decoy
// external ID must never reuse the real one's session).
func (t Target) key() string {
	k := string(t.Connection) + "|" + string(t.RoleARN) + "|" + string(t.ExternalID)
	if t.Via != nil {
		k += "|via|" + t.Via.key()
	}
	return k
}

var sessionNameInvalid = regexp.MustCompile(`[^\w+=,.@-]+`)

// SessionName is the RoleSessionName for a target: "crossbill" plus tenant
// and connection, limited to what STS accepts ([\w+=,.@-]{2,64}). It shows
// in the customer's CloudTrail, so they can tell which tenant acted.
func SessionName(tenant string, conn crossbill.ConnectionID) string {
	clean := func(s string) string { return strings.Trim(sessionNameInvalid.ReplaceAllString(s, "-"), "-") }
	t, c := clean(tenant), clean(string(conn))
	const max = 64
	name := "crossbill"
	// The connection ID must survive whole when possible: it is what the
	// operator searches for; the tenant name is cut first.
	if c != "" {
		if len(c) > max-len(name)-1 {
			c = c[:max-len(name)-1]
		}
		room := max - len(name) - len(c) - 2
		if t != "" && room > 0 {
			if len(t) > room {
				t = t[:room]
			}
			name += "-" + t
		}
		name += "-" + c
	} else if t != "" {
		if len(t) > max-len(name)-1 {
			t = t[:max-len(name)-1]
		}
		name += "-" + t
	}
	return name
}

// FactoryOptions tunes the credentials of a Factory.
type FactoryOptions struct {
	// Duration of each role session; 0 means DefaultSessionDuration.
	// Chained sessions never ask more than ChainedSessionDuration.
	Duration time.Duration
	// ExpiryWindow: credentials are refreshed this long before they expire;
	// 0 means DefaultExpiryWindow.
	ExpiryWindow time.Duration
	// ExpiryJitter spreads refreshes of many connections (fraction of the
	// window, 0-1); 0 means none.
	ExpiryJitter float64
}

// Factory builds AWS configurations for customer roles from the hub's
// configuration. Credentials are cached per target and refreshed before
// expiry, one refresh at a time. A process makes one factory (the CLI app,
// the server) and passes it down, so that cached credentials live as long
// as the process. It is safe for concurrent use.
type Factory struct {
	hub  aws.Config
	opts FactoryOptions

	mu    sync.Mutex
	creds map[string]*aws.CredentialsCache
}

// NewFactory returns a factory that assumes roles with the hub's
// credentials (hub is typically HubConfig's result).
func NewFactory(hub aws.Config, opts FactoryOptions) (*Factory, error) {
	const op = "aws client factory"
	if opts.Duration == 0 {
		opts.Duration = DefaultSessionDuration
	}
	if opts.ExpiryWindow == 0 {
		opts.ExpiryWindow = DefaultExpiryWindow
	}
	if opts.Duration < MinSessionDuration || opts.Duration > 12*time.Hour {
		return nil, crossbill.Errorf(crossbill.CodeInvalid, op, "session duration %s: AWS accepts 15m to 12h", opts.Duration)
	}
	if opts.ExpiryWindow >= opts.Duration {
		return nil, crossbill.Errorf(crossbill.CodeInvalid, op, "expiry window %s must be shorter than the session duration %s", opts.ExpiryWindow, opts.Duration)
	}
	if opts.ExpiryJitter < 0 || opts.ExpiryJitter >= 1 {
		return nil, crossbill.Errorf(crossbill.CodeInvalid, op, "expiry jitter %v must be in [0, 1)", opts.ExpiryJitter)
	}
	if hub.Region == "" {
		hub.Region = DefaultRegion
	}
	return &Factory{hub: hub, opts: opts, creds: map[string]*aws.CredentialsCache{}}, nil
}

// MustFactory is NewFactory with default options, which are always valid.
func MustFactory(hub aws.Config) *Factory {
	f, err := NewFactory(hub, FactoryOptions{})
	if err != nil {
		panic(err)
	}
	return f
}

// Hub returns the hub's configuration (a copy).
func (f *Factory) Hub() aws.Config {
	cfg := f.hub.Copy()
	// Every call crossbill makes goes through a factory: under `make test`
	// it is where the suite's operations are logged for the manifest check.
	logOps(&cfg, ViaHub)
	return cfg
}

// duration is the session length to ask for target.
func (f *Factory) duration(t Target) time.Duration {
	if t.Via != nil && f.opts.Duration > ChainedSessionDuration {
		return ChainedSessionDuration
	}
	return f.opts.Duration
}

// Credentials returns the cached, self-refreshing credentials of target.
func (f *Factory) Credentials(t Target) *aws.CredentialsCache {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.credentialsLocked(t)
}

func (f *Factory) credentialsLocked(t Target) *aws.CredentialsCache {
	k := t.key()
	if c, ok := f.creds[k]; ok {
		return c
	}
	source := f.hub.Copy()
	logOps(&source, ViaHub)
	if t.Via != nil {
		source.Credentials = f.credentialsLocked(*t.Via)
	}
	duration := f.duration(t)
	provider := stscreds.NewAssumeRoleProvider(sts.NewFromConfig(source), string(t.RoleARN), func(o *stscreds.AssumeRoleOptions) {
		o.RoleSessionName = SessionName(t.Tenant, t.Connection)
		o.Duration = duration
		if t.ExternalID != "" {
			o.ExternalID = aws.String(string(t.ExternalID))
		}
	})
	c := aws.NewCredentialsCache(provider, func(o *aws.CredentialsCacheOptions) {
		o.ExpiryWindow = f.opts.ExpiryWindow
		o.ExpiryWindowJitterFrac = f.opts.ExpiryJitter
	})
	f.creds[k] = c
	return c
}

// Config returns a configuration for target in region: the hub's endpoint,
// retryer and middleware with target's credentials.
func (f *Factory) Config(t Target, region string) aws.Config {
	cfg := f.hub.Copy()
	logOps(&cfg, ViaRole)
	cfg.Credentials = f.Credentials(t)
	if region != "" {
		cfg.Region = region
	}
	return cfg
}

// Forget drops the credentials of target (and of every target chained
// through it): the next call assumes the role afresh.
func (f *Factory) Forget(t Target) {
	k := t.key()
	f.mu.Lock()
	defer f.mu.Unlock()
	for ck := range f.creds {
		if ck == k || strings.Contains(ck, "|via|"+k) {
			delete(f.creds, ck)
		}
	}
}

// Check classifies err from a call made for target; when the failure means
// the credentials are wrong, expired or no longer obtainable, the cached
// credentials of target are dropped so the next call starts
// clean. It returns a *crossbill.Error (nil for nil).
func (f *Factory) Check(op string, t Target, err error) error {
	if err == nil {
		return nil
	}
	if Diagnose(err).Class.authFailure() {
		f.Forget(t)
	}
	return Classify(op, err)
}

// Retrieve obtains target's credentials now (one eager AssumeRole), so that
// a bad role or external ID fails here, classified, rather than inside the
// first service call.
func (f *Factory) Retrieve(ctx context.Context, t Target) (aws.Credentials, error) {
	creds, err := f.Credentials(t).Retrieve(ctx)
	if err != nil {
		return aws.Credentials{}, f.Check(fmt.Sprintf("assume role %s", t.RoleARN), t, err)
	}
	return creds, nil
}
