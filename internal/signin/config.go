// Package signin signs people in through their company's identity
// provider (OpenID Connect, authorization code flow with PKCE, state and
// nonce) and maps the provider's claims to crossbill roles per tenant.
// The server's /api/v1/auth routes only parse the request, call Begin and
// Complete here, and set the session cookie.
package signin

import (
	"fmt"
	"log/slog"
	"os"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/store"
)

// Secret is a client secret: never logged.
type Secret string

// LogValue keeps the secret out of logs.
func (Secret) LogValue() slog.Value { return slog.StringValue("[redacted]") }

// String keeps the secret out of fmt output too.
func (Secret) String() string { return "[redacted]" }

// Mapping gives a role in a tenant to people whose ID token's claim
// (a string or a list of strings, e.g. groups) holds value.
type Mapping struct {
	Claim  string     `yaml:"claim" json:"claim"`
	Value  string     `yaml:"value" json:"value"`
	Tenant string     `yaml:"tenant" json:"tenant,omitempty"` // tenant name; "" with role operator: every tenant
	Role   store.Role `yaml:"role" json:"role"`
}

// Provider is one identity provider: the installation's, or a tenant's own
// (an MSP's customer bringing their IdP), whose mappings can only give
// roles in that tenant.
type Provider struct {
	Name             string    `yaml:"name"`
	Issuer           string    `yaml:"issuer"`
	ClientID         string    `yaml:"client_id"`
	ClientSecretEnv  string    `yaml:"client_secret_env"`  // environment variable holding the secret
	ClientSecretFile string    `yaml:"client_secret_file"` // or a file holding it
	RedirectURL      string    `yaml:"redirect_url"`       // https://crossbill.example/api/v1/auth/callback
	Tenant           string    `yaml:"tenant"`             // a tenant's own IdP
	Scopes           []string  `yaml:"scopes"`             // beyond openid; default: email, profile, groups
	Roles            []Mapping `yaml:"roles"`

	clientSecret Secret
}

// Config is the sign-in configuration: its identity providers.
type Config struct {
	Providers []Provider `yaml:"providers"`
}

// Enabled reports whether any provider is configured.
func (c Config) Enabled() bool { return len(c.Providers) > 0 }

// LoadFile reads a YAML configuration (see docs/signin.md).
func LoadFile(path string) (Config, error) {
	const op = "sign-in config"
	b, err := os.ReadFile(path)
	if err != nil {
		return Config{}, crossbill.Errorf(crossbill.CodeInvalid, op, "reading %s: %v", path, err)
	}
	var c Config
	dec := yaml.NewDecoder(strings.NewReader(string(b)))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil {
		return Config{}, crossbill.Errorf(crossbill.CodeInvalid, op, "%s: %v", path, err)
	}
	return c, nil
}

// ParseMapping reads CLAIM=VALUE:TENANT:ROLE (TENANT empty for operator),
// the form of `serve --oidc-role`.
func ParseMapping(s string) (Mapping, error) {
	cv, rest, ok1 := strings.Cut(s, ":")
	tenant, role, ok2 := strings.Cut(rest, ":")
	claim, value, ok3 := strings.Cut(cv, "=")
	if !ok1 || !ok2 || !ok3 {
		return Mapping{}, crossbill.Errorf(crossbill.CodeInvalid, "sign-in config", "role mapping %q: use CLAIM=VALUE:TENANT:ROLE, e.g. groups=finops:acme:analyst (TENANT empty for operator)", s)
	}
	return Mapping{Claim: claim, Value: value, Tenant: tenant, Role: store.Role(role)}, nil
}

// Resolve checks the configuration and reads the client secrets from
// their environment variables or files. It never puts a secret in an error.
func (c *Config) Resolve(getenv func(string) string) error {
	const op = "sign-in config"
	names := map[string]bool{}
	for i := range c.Providers {
		p := &c.Providers[i]
		if p.Name == "" {
			p.Name = "default"
		}
		if names[p.Name] {
			return crossbill.Errorf(crossbill.CodeInvalid, op, "two providers are named %q: name each one", p.Name)
		}
		names[p.Name] = true
		if p.Issuer == "" || p.ClientID == "" || p.RedirectURL == "" {
			return crossbill.Errorf(crossbill.CodeInvalid, op, "provider %s: issuer, client_id and redirect_url are required", p.Name)
		}
		switch {
		case p.ClientSecretEnv != "" && p.ClientSecretFile != "":
			return crossbill.Errorf(crossbill.CodeInvalid, op, "provider %s: give client_secret_env or client_secret_file, not both", p.Name)
		case p.ClientSecretEnv != "":
			p.clientSecret = Secret(strings.TrimSpace(getenv(p.ClientSecretEnv)))
			if p.clientSecret == "" {
				return crossbill.Errorf(crossbill.CodeInvalid, op, "provider %s: environment variable %s is empty: set it to the client secret", p.Name, p.ClientSecretEnv)
			}
		case p.ClientSecretFile != "":
			b, err := os.ReadFile(p.ClientSecretFile)
			if err != nil {
				return crossbill.Errorf(crossbill.CodeInvalid, op, "provider %s: reading the client secret file %s: %v", p.Name, p.ClientSecretFile, err)
			}
			p.clientSecret = Secret(strings.TrimSpace(string(b)))
		}
		if len(p.Roles) == 0 {
			return crossbill.Errorf(crossbill.CodeInvalid, op, "provider %s: no role mappings, so nobody could sign in: add roles (claim, value, tenant, role)", p.Name)
		}
		for j := range p.Roles {
			m := &p.Roles[j]
			if m.Tenant == "" && p.Tenant != "" && m.Role != store.RoleOperator {
				m.Tenant = p.Tenant
			}
			if _, err := store.ParseRole(string(m.Role)); err != nil {
				return crossbill.Errorf(crossbill.CodeInvalid, op, "provider %s, mapping %d: %v", p.Name, j+1, err)
			}
			if m.Claim == "" || m.Value == "" {
				return crossbill.Errorf(crossbill.CodeInvalid, op, "provider %s, mapping %d: claim and value are required", p.Name, j+1)
			}
			if (m.Role == store.RoleOperator) != (m.Tenant == "") {
				return crossbill.Errorf(crossbill.CodeInvalid, op, "provider %s, mapping %d: operator is the role for every tenant (no tenant); other roles need a tenant", p.Name, j+1)
			}
			if p.Tenant != "" && m.Tenant != p.Tenant {
				return crossbill.Errorf(crossbill.CodeInvalid, op, "provider %s belongs to tenant %s: its mappings cannot give roles elsewhere (mapping %d)", p.Name, p.Tenant, j+1)
			}
		}
	}
	return nil
}

// Grant is a mapped role: tenant by name, "" for every tenant.
type Grant struct {
	Tenant string     `json:"tenant,omitempty"`
	Role   store.Role `json:"role"`
}

// grants maps an ID token's claims to roles.
func (p Provider) grants(claims map[string]any) []Grant {
	var out []Grant
	for _, m := range p.Roles {
		if claimHas(claims[m.Claim], m.Value) {
			out = append(out, Grant{Tenant: m.Tenant, Role: m.Role})
		}
	}
	return out
}

func claimHas(v any, want string) bool {
	switch x := v.(type) {
	case string:
		return x == want
	case bool, float64:
		return fmt.Sprint(x) == want
	case []any:
		for _, e := range x {
			if s, ok := e.(string); ok && s == want {
				return true
			}
		}
	}
	return false
}
