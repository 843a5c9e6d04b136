package notify

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"net"
	"net/mail"
	"net/url"
	"strings"
	"time"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/store"
)

// Channel kinds.
const (
	KindWebhook = "webhook" // JSON POST signed with HMAC-SHA256
	KindSlack   = "slack"   // Slack-compatible incoming webhook ({"text": ...})
	KindEmail   = "email"   // SMTP
)

// MaxChannels is the most channels a tenant keeps.
const MaxChannels = 50

// ChannelRequest adds a channel.
type ChannelRequest struct {
	Tenant crossbill.TenantID `json:"-"`
	Name   string             `json:"name"`
	Kind   string             `json:"kind"`
	Topics []string           `json:"topics"` // default: every topic
	// webhook and slack
	URL string `json:"url,omitempty"`
	// email
	SMTPAddr string   `json:"smtp_addr,omitempty"` // host:port
	From     string   `json:"from,omitempty"`
	To       []string `json:"to,omitempty"`
	Username string   `json:"username,omitempty"`
	Password string   `json:"password,omitempty"`
	// By is who adds it, as its audit line names them (the channel's
	// created_by is By.Actor).
	By store.AuditEntry `json:"-"`
}

// Added is a new channel; Secret (webhooks only) is the signing secret,
// shown this once: the receiver checks signatures with it.
type Added struct {
	Channel store.NotifyChannel `json:"channel"`
	Secret  string              `json:"secret,omitempty"`
}

// config is a channel's sealed part.
type config struct {
	URL      string   `json:"url,omitempty"`
	Secret   string   `json:"secret,omitempty"`
	SMTPAddr string   `json:"smtp_addr,omitempty"`
	From     string   `json:"from,omitempty"`
	To       []string `json:"to,omitempty"`
	Username string   `json:"username,omitempty"`
	Password string   `json:"password,omitempty"`
}

// SecretPrefix starts every webhook signing secret.
const SecretPrefix = "whsec_"

// AddChannel checks and saves a channel, its secrets sealed.
func AddChannel(ctx context.Context, st *store.Store, req ChannelRequest) (Added, error) {
	const op = "channel add"
	if req.Name == "" || len(req.Name) > 100 {
		return Added{}, crossbill.Errorf(crossbill.CodeInvalid, op, "a channel needs a name of at most 100 bytes")
	}
	if err := crossbill.CheckText(op, "name", req.Name); err != nil {
		return Added{}, err
	}
	topics := req.Topics
	if len(topics) == 0 {
		topics = []string{"*"}
	}
	for _, t := range topics {
		if t != "*" && !topicRE.MatchString(strings.TrimSuffix(t, ".*")) {
			return Added{}, crossbill.Errorf(crossbill.CodeInvalid, op, "topic %q: use a topic (alert.budget), a prefix (alert.*) or * for all", t)
		}
	}
	var cfg config
	var target, secret string
	switch req.Kind {
	case KindWebhook, KindSlack:
		u, err := checkURL(req.URL)
		if err != nil {
			return Added{}, err
		}
		cfg.URL, target = req.URL, u.Scheme+"://"+u.Host // the path may carry a token (Slack's does)
		if req.Kind == KindWebhook {
			b := make([]byte, 24)
			if _, err := rand.Read(b); err != nil {
				return Added{}, crossbill.Errorf(crossbill.CodeInternal, op, "reading random bytes: %w", err)
			}
			secret = SecretPrefix + hex.EncodeToString(b)
			cfg.Secret = secret
		}
	case KindEmail:
		if _, port, err := net.SplitHostPort(req.SMTPAddr); err != nil || port == "" {
			return Added{}, crossbill.Errorf(crossbill.CodeInvalid, op, "--smtp-addr %q: give the SMTP server as host:port (e.g. smtp.example.com:587)", req.SMTPAddr)
		}
		if _, err := mail.ParseAddress(req.From); err != nil {
			return Added{}, crossbill.Errorf(crossbill.CodeInvalid, op, "--from %q is not an email address", req.From)
		}
		if len(req.To) == 0 || len(req.To) > 20 {
			return Added{}, crossbill.Errorf(crossbill.CodeInvalid, op, "an email channel needs 1 to 20 recipients (--to)")
		}
		for _, to := range req.To {
			if a, err := mail.ParseAddress(to); err != nil || a.Name != "" {
				return Added{}, crossbill.Errorf(crossbill.CodeInvalid, op, "recipient %q is not a plain email address", to)
			}
		}
		if (req.Username == "") != (req.Password == "") {
			return Added{}, crossbill.Errorf(crossbill.CodeInvalid, op, "give both the SMTP username and password, or neither")
		}
		cfg = config{SMTPAddr: req.SMTPAddr, From: req.From, To: req.To, Username: req.Username, Password: req.Password}
		target = "smtp://" + req.SMTPAddr + " to " + strings.Join(req.To, ",")
	default:
		return Added{}, crossbill.Errorf(crossbill.CodeInvalid, op, "kind %q: use webhook, slack or email", req.Kind)
	}
	plain, err := json.Marshal(cfg)
	if err != nil {
		return Added{}, crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
	}
	sealed, err := seal(st.Dir(), bindOf(req.Tenant, req.Name), plain)
	if err != nil {
		return Added{}, err
	}
	c, err := st.CreateNotifyChannel(ctx, store.NotifyChannel{TenantID: req.Tenant, Name: req.Name, Kind: req.Kind, Target: target,
		Topics: topics, Sealed: sealed, CreatedBy: req.By.Actor}, MaxChannels, req.By)
	if err != nil {
		return Added{}, err
	}
	return Added{Channel: c, Secret: secret}, nil
}

func bindOf(tenant crossbill.TenantID, name string) string { return string(tenant) + "\x00" + name }

// checkURL accepts https URLs, and http only to this machine (tests, a
// local relay): a signed payload must not cross a network in clear.
func checkURL(raw string) (*url.URL, error) {
	const op = "channel add"
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.User != nil {
		return nil, crossbill.Errorf(crossbill.CodeInvalid, op, "--url must be an absolute https:// URL without credentials")
	}
	switch u.Scheme {
	case "https":
	case "http":
		host := u.Hostname()
		if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
			return nil, crossbill.Errorf(crossbill.CodeInvalid, op, "--url must use https:// (http:// is accepted only for localhost)")
		}
	default:
		return nil, crossbill.Errorf(crossbill.CodeInvalid, op, "--url must be an https:// URL")
	}
	return u, nil
}

// Channels lists the tenant's channels (no secrets).
func Channels(ctx context.Context, st *store.Store, tenant crossbill.TenantID) ([]store.NotifyChannel, error) {
	return st.NotifyChannels(ctx, tenant)
}

// RemoveChannel removes a channel; its pending deliveries are dropped.
// by is who removes it, for the audit line.
func RemoveChannel(ctx context.Context, st *store.Store, tenant crossbill.TenantID, ref string, by store.AuditEntry) (store.NotifyChannel, error) {
	return st.DeleteNotifyChannel(ctx, tenant, ref, by)
}

// Snooze stops a channel taking messages for d (0 ends a snooze); the
// messages that come meanwhile are logged as snoozed, not sent later. by
// is who snoozes it, for the audit line.
func Snooze(ctx context.Context, st *store.Store, tenant crossbill.TenantID, ref string, d time.Duration, by store.AuditEntry) (store.NotifyChannel, error) {
	if d < 0 || d > 90*24*time.Hour {
		return store.NotifyChannel{}, crossbill.Errorf(crossbill.CodeInvalid, "channel snooze", "snooze for 0 (end it) up to 90 days")
	}
	var until time.Time
	if d > 0 {
		until = st.Now().Add(d)
	}
	return st.SnoozeNotifyChannel(ctx, tenant, ref, until, by)
}

// Log is the tenant's delivery log, newest first.
func Log(ctx context.Context, st *store.Store, tenant crossbill.TenantID, channel string, limit int) ([]store.OutboxItem, error) {
	if limit <= 0 || limit > 1000 {
		limit = 100
	}
	return st.NotificationLog(ctx, tenant, channel, limit)
}
