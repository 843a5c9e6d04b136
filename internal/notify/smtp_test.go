package notify_test

import (
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"github.com/crossbill/crossbill/internal/notify"
	"github.com/crossbill/crossbill/internal/store"
)

// mailbox is a real SMTP server (emersion/go-smtp) in the test process
// that takes PLAIN logins from user/pass and keeps what it receives.
type mailbox struct {
	mu    sync.Mutex
	mails []mail
}

type mail struct {
	from string
	to   []string
	data string
	user string
}

type session struct {
	box *mailbox
	cur mail
}

func (b *mailbox) NewSession(*smtp.Conn) (smtp.Session, error) { return &session{box: b}, nil }

func (s *session) AuthMechanisms() []string { return []string{sasl.Plain} }
func (s *session) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, user, pass string) error {
		if user != "alerts" || pass != "s3cret" {
			return errors.New("bad login")
		}
		s.cur.user = user
		return nil
	}), nil
}
func (s *session) Mail(from string, _ *smtp.MailOptions) error { s.cur.from = from; return nil }
func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	if strings.HasSuffix(to, "@invalid.example") {
		return &smtp.SMTPError{Code: 550, Message: "no such user"}
	}
	s.cur.to = append(s.cur.to, to)
	return nil
}
func (s *session) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.cur.data = string(b)
	s.box.mu.Lock()
	s.box.mails = append(s.box.mails, s.cur)
	s.box.mu.Unlock()
	return nil
}
func (s *session) Reset()        { s.cur = mail{user: s.cur.user} }
func (s *session) Logout() error { return nil }

func startSMTP(t *testing.T) (*mailbox, string) {
	t.Helper()
	box := &mailbox{}
	srv := smtp.NewServer(box)
	srv.Domain, srv.AllowInsecureAuth = "localhost", true
	srv.ReadTimeout, srv.WriteTimeout = 10*time.Second, 10*time.Second
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln) //nolint:errcheck // ends with Close
	t.Cleanup(func() { srv.Close() })
	return box, ln.Addr().String()
}

// TestEmailDelivery: an email channel logs in with its sealed password
// and delivers to every recipient; a recipient the server refuses (550)
// fails the row without retries.
func TestEmailDelivery(t *testing.T) {
	ctx := context.Background()
	st, tenant := open(t)
	box, addr := startSMTP(t)
	if _, err := notify.AddChannel(ctx, st, notify.ChannelRequest{By: store.AuditEntry{Actor: "test"}, Tenant: tenant, Name: "finops-mail", Kind: notify.KindEmail, SMTPAddr: addr,
		From: "crossbill@example.com", To: []string{"ann@example.com", "bob@example.com"}, Username: "alerts", Password: "s3cret"}); err != nil {
		t.Fatal(err)
	}
	if err := notify.Enqueue(ctx, st, notify.Message{Tenant: tenant, Topic: "alert.commitment", Subject: "Savings Plan expires in 14 days", Text: "sp-123 expires on 2026-12-17.\nRenew or let it lapse."}); err != nil {
		t.Fatal(err)
	}
	drain(t, st, tenant, fast)
	box.mu.Lock()
	mails := box.mails
	box.mu.Unlock()
	if len(mails) != 1 {
		t.Fatalf("%d mails", len(mails))
	}
	m := mails[0]
	if m.user != "alerts" || m.from != "crossbill@example.com" || strings.Join(m.to, ",") != "ann@example.com,bob@example.com" ||
		!strings.Contains(m.data, "Subject: Savings Plan expires in 14 days\r\n") || !strings.Contains(m.data, "sp-123 expires on 2026-12-17.\r\nRenew") {
		t.Fatalf("%+v", m)
	}

	if _, err := notify.AddChannel(ctx, st, notify.ChannelRequest{By: store.AuditEntry{Actor: "test"}, Tenant: tenant, Name: "bad-mail", Kind: notify.KindEmail, SMTPAddr: addr,
		From: "crossbill@example.com", To: []string{"nobody@invalid.example"}, Topics: []string{"x"}}); err != nil {
		t.Fatal(err)
	}
	if err := notify.Enqueue(ctx, st, notify.Message{Tenant: tenant, Topic: "x", Subject: "s"}); err != nil {
		t.Fatal(err)
	}
	drain(t, st, tenant, fast)
	log, _ := notify.Log(ctx, st, tenant, "bad-mail", 1)
	if len(log) != 1 || log[0].Status != store.OutboxFailed || log[0].Attempts != 1 || !strings.Contains(log[0].LastError, "550") {
		t.Fatalf("%+v", log)
	}
}
