package notify

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/smtp"
	"net/textproto"
	"strconv"
	"strings"
	"time"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/store"
)

// Webhook headers: receivers check HMAC-SHA256(secret, timestamp + "." +
// body) against SignatureHeader (as "v1=<hex>") and refuse stale
// timestamps (replays); DeliveryHeader is the outbox row, the same on
// every retry, for receivers' own deduplication.
const (
	SignatureHeader = "X-Crossbill-Signature"
	TimestampHeader = "X-Crossbill-Timestamp"
	DeliveryHeader  = "X-Crossbill-Delivery"
)

// Options tune delivery; zero values take the defaults.
type Options struct {
	BaseBackoff time.Duration // first retry delay, doubled per attempt; default 10s
	MaxBackoff  time.Duration // default 1h
	MaxAttempts int           // then the row fails; default 10 (about 1.4 hours of retries)
	Timeout     time.Duration // one attempt; default 10s
	HTTP        *http.Client  // default: a client with Timeout
	Batch       int           // rows per store read; default 100
}

func (o Options) withDefaults() Options {
	if o.BaseBackoff <= 0 {
		o.BaseBackoff = 10 * time.Second
	}
	if o.MaxBackoff <= 0 {
		o.MaxBackoff = time.Hour
	}
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = 10
	}
	if o.Timeout <= 0 {
		o.Timeout = 10 * time.Second
	}
	if o.HTTP == nil {
		o.HTTP = &http.Client{Timeout: o.Timeout, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	}
	if o.Batch <= 0 {
		o.Batch = 100
	}
	return o
}

// Backoff is the wait after attempt n (1-based) failed.
func (o Options) Backoff(n int) time.Duration {
	o = o.withDefaults()
	d := o.BaseBackoff
	for i := 1; i < n && d < o.MaxBackoff; i++ {
		d *= 2
	}
	return min(d, o.MaxBackoff)
}

// Pending says whether the tenant's outbox still holds undelivered rows
// after a Deliver, and when the earliest is due.
type Pending struct {
	Any    bool
	NextAt time.Time
}

// Deliver sends the tenant's due outbox rows, each attempt recorded: a
// success delivers the row, a passing failure schedules a retry with
// exponential backoff, a refusal for good (a 4xx other than 408/429, a bad
// address) or the last attempt fails it. The notify job calls it and comes
// back at Pending.NextAt.
func Deliver(ctx context.Context, st *store.Store, tenant crossbill.TenantID, opts Options) (Pending, error) {
	opts = opts.withDefaults()
	chans := map[string]*store.NotifyChannel{}
	for {
		due, err := st.DueNotifications(ctx, tenant, st.Now(), opts.Batch)
		if err != nil {
			return Pending{}, err
		}
		for _, it := range due {
			if ctx.Err() != nil {
				return Pending{}, ctx.Err()
			}
			c, ok := chans[it.ChannelID]
			if !ok {
				ch, err := st.NotifyChannel(ctx, tenant, it.ChannelID)
				switch {
				case err == nil:
					c = &ch
				case crossbill.ErrorCode(err) != crossbill.CodeNotFound:
					return Pending{}, err
				}
				chans[it.ChannelID] = c
			}
			if err := st.RecordDelivery(ctx, tenant, it.ID, attempt(ctx, st, c, it, opts)); err != nil {
				return Pending{}, err
			}
		}
		if len(due) < opts.Batch {
			break
		}
	}
	next, ok, err := st.NextNotificationDue(ctx, tenant)
	return Pending{Any: ok, NextAt: next}, err
}

// attempt sends one row and says what became of it.
func attempt(ctx context.Context, st *store.Store, c *store.NotifyChannel, it store.OutboxItem, opts Options) store.DeliveryOutcome {
	if c == nil {
		return store.DeliveryOutcome{Status: store.OutboxDropped, Err: "the channel was removed"}
	}
	err := send(ctx, st, *c, it, opts)
	if err == nil {
		return store.DeliveryOutcome{Status: store.OutboxDelivered}
	}
	n := it.Attempts + 1
	var perm *permanentError
	if errors.As(err, &perm) || n >= opts.MaxAttempts {
		return store.DeliveryOutcome{Status: store.OutboxFailed, Err: fmt.Sprintf("attempt %d: %v", n, err)}
	}
	return store.DeliveryOutcome{Status: store.OutboxPending, NextAt: st.Now().Add(opts.Backoff(n)), Err: fmt.Sprintf("attempt %d: %v", n, err)}
}

// permanentError is a failure a retry cannot fix.
type permanentError struct{ err error }

func (e *permanentError) Error() string { return e.err.Error() }

// Payload is the JSON body a webhook receives.
type Payload struct {
	ID        string          `json:"id"`
	Tenant    string          `json:"tenant"`
	Topic     string          `json:"topic"`
	Subject   string          `json:"subject"`
	Text      string          `json:"text"`
	Data      json.RawMessage `json:"data,omitempty"`
	CreatedAt time.Time       `json:"created_at"`
}

func send(ctx context.Context, st *store.Store, c store.NotifyChannel, it store.OutboxItem, opts Options) error {
	plain, err := unseal(st.Dir(), bindOf(c.TenantID, c.Name), c.Sealed)
	if err != nil {
		return &permanentError{err}
	}
	var cfg config
	if err := json.Unmarshal(plain, &cfg); err != nil {
		return &permanentError{err}
	}
	ctx, cancel := context.WithTimeout(ctx, opts.Timeout)
	defer cancel()
	switch c.Kind {
	case KindWebhook:
		body, err := json.Marshal(Payload{ID: it.ID, Tenant: string(it.TenantID), Topic: it.Topic, Subject: it.Subject, Text: it.Text, Data: it.Data, CreatedAt: it.CreatedAt})
		if err != nil {
			return &permanentError{err}
		}
		ts := strconv.FormatInt(st.Now().Unix(), 10)
		return post(ctx, opts.HTTP, cfg.URL, body, map[string]string{
			DeliveryHeader: it.ID, TimestampHeader: ts, SignatureHeader: Sign(cfg.Secret, ts, body),
		})
	case KindSlack:
		body, _ := json.Marshal(map[string]string{"text": "*" + slackEscape(it.Subject) + "*\n" + slackEscape(it.Text)})
		return post(ctx, opts.HTTP, cfg.URL, body, nil)
	case KindEmail:
		return sendMail(ctx, cfg, it)
	}
	return &permanentError{fmt.Errorf("unknown channel kind %q", c.Kind)}
}

// Sign is the webhook signature header's value for body sent at ts (Unix
// seconds, as sent in TimestampHeader).
func Sign(secret, ts string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(ts))
	m.Write([]byte("."))
	m.Write(body)
	return "v1=" + hex.EncodeToString(m.Sum(nil))
}

// Verify is what a receiver does: the signature matches (constant time)
// and the timestamp is within tolerance of now.
func Verify(secret string, h http.Header, body []byte, now time.Time, tolerance time.Duration) error {
	ts := h.Get(TimestampHeader)
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return errors.New("no valid " + TimestampHeader)
	}
	if d := now.Sub(time.Unix(sec, 0)); d > tolerance || d < -tolerance {
		return errors.New("the timestamp is outside the tolerance: a replay or a skewed clock")
	}
	if !hmac.Equal([]byte(h.Get(SignatureHeader)), []byte(Sign(secret, ts, body))) {
		return errors.New("the signature does not match")
	}
	return nil
}

func post(ctx context.Context, hc *http.Client, url string, body []byte, headers map[string]string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return &permanentError{err}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "crossbill-notify/1")
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := hc.Do(req)
	if err != nil {
		// The URL is the channel's secret (Slack's carries a token): the
		// logged error names the host only.
		var ue interface{ Unwrap() error }
		if errors.As(err, &ue) {
			err = ue.Unwrap()
		}
		return fmt.Errorf("posting to %s: %w", req.URL.Host, err)
	}
	defer resp.Body.Close()
	snippet, _ := io.ReadAll(io.LimitReader(resp.Body, 200))
	switch code := resp.StatusCode; {
	case code >= 200 && code < 300:
		return nil
	case code == http.StatusRequestTimeout || code == http.StatusTooManyRequests || code == 425 || code >= 500:
		return fmt.Errorf("%s answered %s", req.URL.Host, resp.Status)
	default:
		return &permanentError{fmt.Errorf("%s refused the message: %s %s (fix the receiver or the channel's URL; not retried)", req.URL.Host, resp.Status, crossbill.Printable(strings.TrimSpace(string(snippet))))}
	}
}

// slackEscape keeps message text from forming Slack links or mentions.
func slackEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

// sendMail sends it over SMTP: STARTTLS when the server offers it (and
// required before a password is sent to a host other than this machine:
// net/smtp refuses PLAIN auth in clear to remote hosts).
func sendMail(ctx context.Context, cfg config, it store.OutboxItem) error {
	host, _, _ := net.SplitHostPort(cfg.SMTPAddr)
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", cfg.SMTPAddr)
	if err != nil {
		return fmt.Errorf("connecting to SMTP %s: %w", cfg.SMTPAddr, err)
	}
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	cl, err := smtp.NewClient(conn, host)
	if err != nil {
		conn.Close()
		return fmt.Errorf("SMTP %s: %w", cfg.SMTPAddr, err)
	}
	defer cl.Close()
	if ok, _ := cl.Extension("STARTTLS"); ok {
		if err := cl.StartTLS(&tls.Config{ServerName: host, MinVersion: tls.VersionTLS12}); err != nil {
			return fmt.Errorf("SMTP %s STARTTLS: %w", cfg.SMTPAddr, err)
		}
	}
	if cfg.Username != "" {
		if err := cl.Auth(smtp.PlainAuth("", cfg.Username, cfg.Password, host)); err != nil {
			return &permanentError{fmt.Errorf("SMTP %s refused the login (check the channel's username and password): %w", cfg.SMTPAddr, err)}
		}
	}
	if err := cl.Mail(cfg.From); err != nil {
		return smtpErr(cfg, err)
	}
	for _, to := range cfg.To {
		if err := cl.Rcpt(to); err != nil {
			return smtpErr(cfg, err)
		}
	}
	w, err := cl.Data()
	if err != nil {
		return smtpErr(cfg, err)
	}
	var msg bytes.Buffer
	fmt.Fprintf(&msg, "From: %s\r\nTo: %s\r\nSubject: %s\r\nDate: %s\r\nMessage-ID: <%s@crossbill>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\nX-Crossbill-Topic: %s\r\n\r\n",
		cfg.From, strings.Join(cfg.To, ", "), mime.QEncoding.Encode("utf-8", it.Subject), time.Now().UTC().Format(time.RFC1123Z), it.ID, it.Topic)
	msg.WriteString(strings.ReplaceAll(strings.ReplaceAll(it.Text, "\r\n", "\n"), "\n", "\r\n"))
	msg.WriteString("\r\n")
	if _, err := w.Write(msg.Bytes()); err != nil {
		return smtpErr(cfg, err)
	}
	if err := w.Close(); err != nil {
		return smtpErr(cfg, err)
	}
	return cl.Quit()
}

// smtpErr: a 5xx reply is final (bad address, refused sender), others
// are retried.
func smtpErr(cfg config, err error) error {
	var te *textproto.Error
	if errors.As(err, &te) && te.Code >= 500 {
		return &permanentError{fmt.Errorf("SMTP %s refused the message: %w", cfg.SMTPAddr, err)}
	}
	return fmt.Errorf("SMTP %s: %w", cfg.SMTPAddr, err)
}

// TestChannel sends a test message to one channel now, once (no retry),
// and logs it like any delivery.
func TestChannel(ctx context.Context, st *store.Store, tenant crossbill.TenantID, ref string, opts Options) (store.OutboxItem, error) {
	c, err := st.NotifyChannel(ctx, tenant, ref)
	if err != nil {
		return store.OutboxItem{}, err
	}
	items, _, err := st.EnqueueNotifications(ctx, tenant, "", []store.OutboxItem{{ChannelID: c.ID, ChannelName: c.Name, Topic: "test",
		Subject: "crossbill test message", Text: "This is a test message from crossbill to channel " + c.Name + ".", Data: json.RawMessage(`{"test":true}`)}})
	if err != nil {
		return store.OutboxItem{}, err
	}
	opts.MaxAttempts = 1
	opts = opts.withDefaults()
	out := attempt(ctx, st, &c, items[0], opts)
	if err := st.RecordDelivery(ctx, tenant, items[0].ID, out); err != nil {
		return store.OutboxItem{}, err
	}
	it := items[0]
	it.Status, it.LastError, it.Attempts = out.Status, out.Err, 1
	if out.Status != store.OutboxDelivered {
		return it, crossbill.Errorf(crossbill.CodeUnavailable, "channel test", "%s", out.Err)
	}
	return it, nil
}
