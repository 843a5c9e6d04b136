package main

import (
	"encoding/json"
	"net/http"
	"net/url"
	"testing"

	"github.com/crossbill/crossbill/internal/access"
)

// TestParityAccess: the access commands with --json and the access routes
// give the same answers from the same stored sync (one use case each).
func TestParityAccess(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	conn := seedAccess(t, dir)
	base := "/api/v1/tenants/acme/connections/" + string(conn) + "/access/"
	cases := []struct {
		cli  []string
		api  string
		into func() any
	}{
		{[]string{"principals", "--admin"}, "principals?admin=true", func() any { return &access.PrincipalList{} }},
		{[]string{"show", "bob"}, "principal?id=bob", func() any { return &access.PrincipalDetail{} }},
		{[]string{"who-can", "iam:PassRole"}, "who-can?action=iam:PassRole", func() any { return &access.WhoCanResult{} }},
		{[]string{"findings", "--key-age-days", "365"}, "findings?key_age_days=365", func() any { return &access.FindingList{} }},
		{[]string{"changes", "--since", "2000-01-01"}, "changes?since=" + url.QueryEscape("2000-01-01T00:00:00Z"), func() any { return &access.ChangeList{} }},
	}
	var cli []string
	for _, c := range cases {
		stdout, stderr, code := runCLI(t, dir, append(append([]string{"access"}, c.cli...), "--tenant", "acme", "--json")...)
		if code != 0 {
			t.Fatalf("CLI %v: %d %s", c.cli, code, stderr)
		}
		v := c.into()
		mustNoErr(t, json.Unmarshal([]byte(stdout), v))
		b, _ := json.Marshal(v)
		cli = append(cli, string(b))
	}
	api := newAPI(t, dir, nil, "")
	for i, c := range cases {
		status, body := api.do(t, "GET", base+c.api, nil)
		if status != http.StatusOK {
			t.Fatalf("API %s: %d %s", c.api, status, body)
		}
		v := c.into()
		mustNoErr(t, json.Unmarshal(body, v))
		b, _ := json.Marshal(v)
		if string(b) != cli[i] || len(b) < 100 {
			t.Errorf("%v: CLI and API differ\nCLI %s\nAPI %s", c.cli, cli[i], b)
		}
	}
}
