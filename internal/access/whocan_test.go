package access_test

import (
	"slices"
	"testing"

	"github.com/crossbill/crossbill/internal/access"
)

// TestWhoCanServiceIndex: who-can skips only the principals whose Allow
// statements cannot name the action's service; NotAction, wildcard and
// and mixed-case services still find theirs.
func TestWhoCanServiceIndex(t *testing.T) {
	const acct = "111111111111"
	role := func(name, doc string) access.Role {
		return access.Role{ARN: "arn:aws:iam::" + acct + ":role/" + name, Name: name, Trust: `{"Statement":[]}`,
			Inline: []access.InlinePolicy{{Name: name, Document: doc}}}
	}
	a := access.Account{ID: acct, Roles: []access.Role{
		role("s3only", `{"Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}`),
		role("notaction", `{"Statement":[{"Effect":"Allow","NotAction":"s3:*","Resource":"*"}]}`),
		role("wildsvc", `{"Statement":[{"Effect":"Allow","Action":"i*:Pass*","Resource":"*"}]}`),
		role("upper", `{"Statement":[{"Effect":"Allow","Action":"IAM:PassRole","Resource":"*"}]}`),
		role("denyonly", `{"Statement":[{"Effect":"Deny","Action":"iam:*","Resource":"*"},{"Effect":"Allow","Action":"ec2:*","Resource":"*"}]}`),
	}}
	m := access.Build(&access.Snapshot{Accounts: []access.Account{a}})
	who := func(action string) []string {
		t.Helper()
		as, err := m.WhoCan(action, "")
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, x := range as {
			out = append(out, x.Name)
		}
		slices.Sort(out)
		return out
	}
	if got, want := who("iam:PassRole"), []string{"notaction", "upper", "wildsvc"}; !slices.Equal(got, want) {
		t.Errorf("who can iam:PassRole: %v, want %v", got, want)
	}
	if got, want := who("S3:GetObject"), []string{"s3only"}; !slices.Equal(got, want) {
		t.Errorf("who can S3:GetObject: %v, want %v", got, want)
	}
}
