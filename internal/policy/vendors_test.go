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
	extra, err := policy.LoadKnownAccounts(strings.NewReader("- name: x\n  accounts: ['123456789012']\n  notes: a field a newer list may add\n"))
	if err != nil || extra.Len() != 1 {
		t.Errorf("list with an extra field: %v", err)
	}
	var nilK *policy.KnownAccounts
	if _, ok := nilK.Lookup("123456789012"); ok || nilK.Len() != 0 {
		t.Error("nil list found something")
	}
}

func TestLoadKnownAccountsErrors(t *testing.T) {
	t.Parallel()
	for name, src := range map[string]string{
		"not a list":     "name: x\n",
		"no name":        "- accounts: ['123456789012']\n",
		"no accounts":    "- name: x\n",
		"short account":  "- name: x\n  accounts: ['12345']\n",
		"misspelt field": "- name: x\n  acounts: ['123456789012']\n",
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

func FuzzLoadKnownAccounts(f *testing.F) {
	seed, err := os.ReadFile("testdata/known_accounts.yaml")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(string(seed))
	f.Add("- name: x\n  accounts: [123456789012]\n  enabled: true\n")
	f.Add("[]")
	f.Add("- {name: a, accounts: ['000000000000'], source: [], type: aws}\n- {name: b, accounts: ['000000000000']}\n")
	f.Fuzz(func(t *testing.T, src string) {
		k, err := policy.LoadKnownAccounts(strings.NewReader(src))
		if err != nil {
			if code := crossbill.ErrorCode(err); code != crossbill.CodeInvalid {
				t.Fatalf("code %s: %v", code, err)
			}
			return
		}
		// Every listed account is found, and each is a 12-digit ID.
		for _, v := range k.Vendors() {
			for _, a := range v.Accounts {
				if !crossbill.AccountID(a).Valid() {
					t.Fatalf("loaded malformed account %q", a)
				}
				if _, ok := k.Lookup(a); !ok {
					t.Fatalf("account %s of %s not found", a, v.Name)
				}
			}
		}
	})
}
