package policy

import (
	"fmt"
	"io"
	"os"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/crossbill/crossbill"
)

// Vendor is one entry of a known_aws_accounts list (fwdcloudsec format):
// a company, or an AWS service when Type is "aws", and the AWS accounts it
// uses to reach its customers' accounts.
type Vendor struct {
	Name     string   `yaml:"name"`
	Type     string   `yaml:"type"`
	Sources  []string `yaml:"source"`
	Accounts []string `yaml:"accounts"`
	// Enabled is false for entries the list marks "enabled: false"
	// (kept for lookup, flagged as such).
	Enabled bool `yaml:"-"`
}

// KnownAccounts maps AWS account IDs to the vendors that own them. A nil
// *KnownAccounts is an empty list.
type KnownAccounts struct {
	vendors   []Vendor
	byAccount map[string]int
}

// LoadKnownAccountsFile reads a known_aws_accounts YAML file.
func LoadKnownAccountsFile(path string) (*KnownAccounts, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, crossbill.Errorf(crossbill.CodeNotFound, "load known accounts", "opening %s: %w", path, err)
	}
	defer f.Close()
	k, err := LoadKnownAccounts(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return k, nil
}

// LoadKnownAccounts reads a YAML list of {name, source, accounts, type,
// enabled} entries, the format of fwdcloudsec's known_aws_accounts.
func LoadKnownAccounts(r io.Reader) (*KnownAccounts, error) {
	const op = "load known accounts"
	var raw []struct {
		Vendor  `yaml:",inline"`
		Enabled *bool `yaml:"enabled"`
	}
	// Unknown fields are ignored: the upstream list may grow new ones. A
	// misspelt "accounts" still fails below, as an entry without accounts.
	dec := yaml.NewDecoder(r)
	if err := dec.Decode(&raw); err != nil && err != io.EOF {
		return nil, crossbill.Errorf(crossbill.CodeInvalid, op, "not a known_aws_accounts list (a YAML list of name/source/accounts entries): %w", err)
	}
	k := &KnownAccounts{byAccount: map[string]int{}}
	for i, e := range raw {
		v := e.Vendor
		v.Enabled = e.Enabled == nil || *e.Enabled
		if strings.TrimSpace(v.Name) == "" {
			return nil, crossbill.Errorf(crossbill.CodeInvalid, op, "entry %d has no name", i+1)
		}
		if len(v.Accounts) == 0 {
			return nil, crossbill.Errorf(crossbill.CodeInvalid, op, "entry %d (%s) lists no accounts", i+1, v.Name)
		}
		for _, a := range v.Accounts {
			if !isAccountID(a) {
				return nil, crossbill.Errorf(crossbill.CodeInvalid, op, "entry %d (%s): %q is not a 12-digit account ID", i+1, v.Name, a)
			}
			if _, dup := k.byAccount[a]; !dup {
				k.byAccount[a] = len(k.vendors)
			}
		}
		k.vendors = append(k.vendors, v)
	}
	return k, nil
}

// Lookup returns the name of the vendor that owns an account.
func (k *KnownAccounts) Lookup(account string) (string, bool) {
	v, ok := k.Vendor(account)
	return v.Name, ok
}

// Vendor returns the entry that lists an account.
func (k *KnownAccounts) Vendor(account string) (Vendor, bool) {
	if k == nil {
		return Vendor{}, false
	}
	i, ok := k.byAccount[account]
	if !ok {
		return Vendor{}, false
	}
	return k.vendors[i], true
}

// Vendors returns the entries in file order (shared; do not modify).
func (k *KnownAccounts) Vendors() []Vendor {
	if k == nil {
		return nil
	}
	return k.vendors
}

// Len returns the number of vendors in the list.
func (k *KnownAccounts) Len() int {
	if k == nil {
		return 0
	}
	return len(k.vendors)
}
