package policy_test

import (
	"os"
	"strings"
	"testing"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/policy"
)

func TestLoadKnownAccounts(t *testing.T) {
	t.Parallel()
	k, err := policy.LoadKnownAccountsFile("testdata/known_accounts.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if k.Len() != 3 {
		t.Errorf("Len = %d", k.Len())
	}
	for acct, want := range map[string]string{"123456789012": "Example Cost Vendor", "012345678901": "Example Cost Vendor", "210987654321": "Example Log Service"} {
		if got, ok := k.Lookup(acct); !ok || got != want {
			t.Errorf("Lookup(%s) = %q, %v; want %q", acct, got, ok, want)
		}
	}
	if v, ok := k.Vendor("210987654321"); !ok || v.Type != "aws" || !v.Enabled || len(v.Sources) != 1 {
		t.Errorf("Vendor = %+v", v)
	}
	if v, ok := k.Vendor("999988887777"); !ok || v.Enabled {
		t.Errorf("disabled vendor = %+v, %v", v, ok)
	}
	if _, ok := k.Lookup("111111111111"); ok {
		t.Error("unknown account found")
	}
	var nilK *policy.KnownAccounts
	if _, ok := nilK.Lookup("123456789012"); ok || nilK.Len() != 0 {
		t.Error("nil list found something")
	}
}

func TestLoadKnownAccountsErrors(t *testing.T) {
	t.Parallel()
	for name, src := range map[string]string{
		"not a list":    "name: x\n",
		"no name":       "- accounts: ['123456789012']\n",
		"no accounts":   "- name: x\n",
		"short account": "- name: x\n  accounts: ['12345']\n",
		"unknown field": "- name: x\n  acounts: ['123456789012']\n",
	} {
		_, err := policy.LoadKnownAccounts(strings.NewReader(src))
		if code := crossbill.ErrorCode(err); code != crossbill.CodeInvalid {
			t.Errorf("%s: code %s (%v), want invalid", name, code, err)
		}
	}
	if _, err := policy.LoadKnownAccountsFile("testdata/nosuch.yaml"); crossbill.ErrorCode(err) != crossbill.CodeNotFound {
		t.Errorf("missing file: %v", err)
	}
}

// TestSharedKnownAccounts reads the full fwdcloudsec list kept outside the
// repository for tests; it is skipped where that copy is absent.
func TestSharedKnownAccounts(t *testing.T) {
	t.Parallel()
	const path = "/work/shared/data/known_aws_accounts.yaml"
	if _, err := os.Stat(path); err != nil {
		t.Skipf("%s not present", path)
	}
	k, err := policy.LoadKnownAccountsFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if k.Len() < 200 {
		t.Errorf("loaded %d vendors, want > 200", k.Len())
	}
	if name, ok := k.Lookup("464622532012"); !ok || name != "Datadog" {
		t.Errorf("Lookup(464622532012) = %q, %v; want Datadog", name, ok)
	}
}
