package access_test

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"

	"github.com/crossbill/crossbill/internal/access"
)

// apiForm is a page as the API sends it: documents URL-encoded.
var apiForm = `{"UserDetailList":[{"UserName":"alice","Arn":"arn:aws:iam::111111111111:user/alice","CreateDate":"2026-01-02T03:04:05Z",
"GroupList":["admins"],"UserPolicyList":[{"PolicyName":"p","PolicyDocument":"` + url.PathEscape(`{"Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}`) + `"}],
"PermissionsBoundary":{"PermissionsBoundaryArn":"arn:aws:iam::111111111111:policy/b","PermissionsBoundaryType":"Policy"}}],
"RoleDetailList":[{"RoleName":"r","Arn":"arn:aws:iam::111111111111:role/r","Path":"/","AssumeRolePolicyDocument":"%7B%22Statement%22%3A%5B%5D%7D",
"RoleLastUsed":{"LastUsedDate":"2026-02-01T00:00:00Z"}}],
"Policies":[{"PolicyName":"b","Arn":"arn:aws:iam::111111111111:policy/b","DefaultVersionId":"v2","AttachmentCount":1,
"PolicyVersionList":[{"VersionId":"v1","IsDefaultVersion":false,"Document":"%7B%7D"},{"VersionId":"v2","IsDefaultVersion":true,"Document":"%7B%22Statement%22%3A%5B%5D%7D"}]}]}`

// cliForm is what `aws iam get-account-authorization-details` prints:
// documents decoded into JSON objects.
var cliForm = `{"UserDetailList":[],"GroupDetailList":[{"GroupName":"g","Arn":"arn:aws:iam::111111111111:group/g",
"GroupPolicyList":[{"PolicyName":"i","PolicyDocument":{"Statement":[{"Effect":"Deny","Action":"*","Resource":"*"}]}}],
"AttachedManagedPolicies":[{"PolicyName":"ReadOnlyAccess","PolicyArn":"arn:aws:iam::aws:policy/ReadOnlyAccess"}]}],
"RoleDetailList":[{"RoleName":"r","Arn":"arn:aws:iam::111111111111:role/r","AssumeRolePolicyDocument":{"Statement":[]}}]}`

func TestParseAuthorizationDetails(t *testing.T) {
	a, err := access.ParseAuthorizationDetails([]byte(apiForm))
	if err != nil {
		t.Fatal(err)
	}
	u := a.Users[0]
	if u.Name != "alice" || u.Groups[0] != "admins" || u.Boundary != "arn:aws:iam::111111111111:policy/b" ||
		u.Inline[0].Document != `{"Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}` {
		t.Errorf("user = %+v", u)
	}
	if r := a.Roles[0]; r.Trust != `{"Statement":[]}` || r.LastUsed == nil {
		t.Errorf("role = %+v", r)
	}
	if p := a.Policies[0]; p.Document != `{"Statement":[]}` || p.Attached != 1 {
		t.Errorf("policy = %+v (the default version is v2)", p)
	}
	b, err := access.ParseAuthorizationDetails([]byte(cliForm))
	if err != nil {
		t.Fatal(err)
	}
	if g := b.Groups[0]; !strings.Contains(g.Inline[0].Document, `"Deny"`) || g.Attached[0] != "arn:aws:iam::aws:policy/ReadOnlyAccess" {
		t.Errorf("group = %+v", g)
	}
	if _, err := access.ParseAuthorizationDetails([]byte(`{"UserDetailList":"x"}`)); err == nil {
		t.Error("a malformed list is accepted")
	}
}

func FuzzParseAuthorizationDetails(f *testing.F) {
	for _, s := range []string{apiForm, cliForm, `{}`, `[]`, `{"Policies":[{"PolicyVersionList":[{"Document":"%ZZ"}]}]}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		a, err := access.ParseAuthorizationDetails(data)
		if err != nil {
			return
		}
		// Whatever was read builds a model and analyses without panicking.
		if _, err := json.Marshal(a); err != nil {
			t.Fatal(err)
		}
		m := access.Build(&access.Snapshot{Accounts: []access.Account{a}})
		if _, err := m.Findings(access.Thresholds{}); err != nil {
			t.Fatal(err)
		}
		if _, err := m.WhoCan("iam:PassRole", ""); err != nil {
			t.Fatal(err)
		}
	})
}
