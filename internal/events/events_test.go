package events_test

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/events"
	"github.com/crossbill/crossbill/internal/manifest"
	"github.com/crossbill/crossbill/internal/store"
	"github.com/crossbill/crossbill/internal/store/storetest"
)

func read(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// bound makes tenant name's connection bound to account with an events
// key, and returns the connection and the key.
func bound(t *testing.T, st *store.Store, name, account string) (store.Connection, string) {
	t.Helper()
	ctx := context.Background()
	ten, err := st.CreateTenant(ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	c, err := st.CreateConnection(ctx, store.NewConnection{TenantID: ten.ID, ExternalID: crossbill.ExternalID("cb-" + strings.Repeat(name[:1], 32)), HubPrincipal: "arn:aws:iam::999999999999:role/hub", Modules: []manifest.Module{manifest.ModuleAccessRead}})
	if err != nil {
		t.Fatal(err)
	}
	if c, err = storetest.Bind(ctx, st, c.ID, crossbill.RoleARN("arn:aws:iam::"+account+":role/CrossbillAccess")); err != nil {
		t.Fatal(err)
	}
	key, err := events.IssueKey(ctx, st, ten.ID, c.ID, "https://crossbill.example.com/api/v1/events")
	if err != nil {
		t.Fatal(err)
	}
	return c, key
}

// TestReceive: a real-shaped CloudTrail event with the right key is
// recorded and asks for the access sync; the same event again is a
// replay, ignored; a wrong key is Unauthorized, a malformed event
// Invalid, an event of an account the connection does not hold
// AccessDenied; a key reaches its own connection only.
func TestReceive(t *testing.T) {
	ctx := context.Background()
	st, err := store.Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	c, key := bound(t, st, "acme", "111122223333")
	if !strings.HasPrefix(key, events.KeyPrefix) {
		t.Fatalf("key %q", key)
	}
	body := read(t, "iam-create-user.json")
	res, err := events.Receive(ctx, st, key, body)
	if err != nil || res.Duplicate || res.Refresh != "access" || res.ConnectionID != c.ID || res.EventName != "CreateUser" {
		t.Fatalf("%+v %v", res, err)
	}
	again, err := events.Receive(ctx, st, key, body)
	if err != nil || !again.Duplicate || again.Refresh != "" {
		t.Fatalf("replay: %+v %v", again, err)
	}
	evs, err := st.CloudEvents(ctx, c.TenantID, time.Now().Add(-time.Hour), 10)
	if err != nil || len(evs) != 1 || evs[0].Principal != "arn:aws:sts::111122223333:assumed-role/Admin/ann" || evs[0].Source != "aws.iam" {
		t.Fatalf("recorded %+v %v", evs, err)
	}
	if _, err := events.Receive(ctx, st, key+"x", body); crossbill.ErrorCode(err) != crossbill.CodeUnauthorized {
		t.Fatalf("wrong key: %v", err)
	}
	if _, err := events.Receive(ctx, st, "", body); crossbill.ErrorCode(err) != crossbill.CodeUnauthorized {
		t.Fatalf("no key: %v", err)
	}
	if _, err := events.Receive(ctx, st, key, []byte(`{"version":"0","id":"x"`)); crossbill.ErrorCode(err) != crossbill.CodeInvalid {
		t.Fatalf("malformed: %v", err)
	}
	if _, err := events.Receive(ctx, st, key, read(t, "ec2-run-instances.json")); crossbill.ErrorCode(err) != crossbill.CodeAccessDenied {
		t.Fatalf("another account's event: %v", err)
	}
	s3, err := events.Receive(ctx, st, key, read(t, "s3-put-bucket-policy.json"))
	if err != nil || s3.Refresh != "access" {
		t.Fatalf("bucket policy: %+v %v", s3, err)
	}

	// beta's key reaches beta's connection only: acme's event is not its
	// account's, its own EC2 event records under it.
	cb, keyB := bound(t, st, "beta", "444455556666")
	if _, err := events.Receive(ctx, st, keyB, body); crossbill.ErrorCode(err) != crossbill.CodeAccessDenied {
		t.Fatalf("acme's event with beta's key: %v", err)
	}
	rb, err := events.Receive(ctx, st, keyB, read(t, "ec2-run-instances.json"))
	if err != nil || rb.Duplicate || rb.ConnectionID != cb.ID || rb.Refresh != "inventory" {
		t.Fatalf("beta: %+v %v", rb, err)
	}
	if evs, _ := st.CloudEvents(ctx, c.TenantID, time.Now().Add(-time.Hour), 10); len(evs) != 2 {
		t.Fatalf("acme sees %d events, want its own 2", len(evs))
	}
	// A new key replaces the old one.
	if _, err := events.IssueKey(ctx, st, c.TenantID, c.ID, "https://crossbill.example.com/api/v1/events"); err != nil {
		t.Fatal(err)
	}
	if _, err := events.Receive(ctx, st, key, body); crossbill.ErrorCode(err) != crossbill.CodeUnauthorized {
		t.Fatalf("the replaced key still works: %v", err)
	}
}

// TestParseRefuses: each malformed or foreign event is refused saying why.
func TestParseRefuses(t *testing.T) {
	good := string(read(t, "iam-create-user.json"))
	for name, body := range map[string]string{
		"not json":       `not json`,
		"two events":     good + good,
		"version":        strings.Replace(good, `"version": "0"`, `"version": "1"`, 1),
		"detail-type":    strings.Replace(good, `"AWS API Call via CloudTrail"`, `"EC2 Instance State-change Notification"`, 1),
		"source":         strings.Replace(good, `"source": "aws.iam"`, `"source": "aws.kms"`, 1),
		"eventSource":    strings.Replace(good, `"eventSource": "iam.amazonaws.com"`, `"eventSource": "kms.amazonaws.com"`, 1),
		"account":        strings.Replace(good, `"account": "111122223333"`, `"account": "1111"`, 1),
		"region":         strings.Replace(good, `"region": "us-east-1"`, `"region": "moon"`, 1),
		"eventName":      strings.Replace(good, `"eventName": "CreateUser"`, `"eventName": "Create User\u001b"`, 1),
		"id":             strings.Replace(good, `"id": "6f2f3e3a-1b7c-4c9e-9d55-2f0b7e8c1a11"`, `"id": ""`, 1),
		"s3 other names": strings.Replace(string(read(t, "s3-put-bucket-policy.json")), `"PutBucketPolicy"`, `"GetObject"`, 1),
	} {
		if _, err := events.Parse([]byte(body)); crossbill.ErrorCode(err) != crossbill.CodeInvalid {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// FuzzParse: any body is refused or parsed into a valid event; never a
// panic, and a parsed event keeps its invariants.
func FuzzParse(f *testing.F) {
	for _, n := range []string{"iam-create-user.json", "s3-put-bucket-policy.json", "ec2-run-instances.json"} {
		f.Add(read(f, n))
	}
	f.Add([]byte(`{"version":"0"}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, body []byte) {
		p, err := events.Parse(body)
		if err != nil {
			if crossbill.ErrorCode(err) != crossbill.CodeInvalid {
				t.Fatalf("refusal with code %s: %v", crossbill.ErrorCode(err), err)
			}
			return
		}
		if p.ID == "" || p.Refresh == "" || len(p.Account) != 12 || p.EventName == "" {
			t.Fatalf("parsed an invalid event: %+v", p)
		}
	})
}
