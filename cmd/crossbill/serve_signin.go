package main

import (
	"net/netip"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/server"
	"github.com/crossbill/crossbill/internal/signin"
)

// ClientSecretEnv holds the identity provider's client secret for the
// provider given by flags (never a flag: flags show in ps).
const ClientSecretEnv = "CROSSBILL_OIDC_CLIENT_SECRET"

// signInFlags are serve's flags for sign-in, sessions and TLS.
type signInFlags struct {
	config                  string
	name, issuer, clientID  string
	secretFile, redirectURL string
	roles, proxies          []string
	sessionIdle, sessionMax time.Duration
	tlsCert, tlsKey         string
}

func addSignInFlags(cmd *cobra.Command) *signInFlags {
	f := &signInFlags{}
	fl := cmd.Flags()
	fl.StringVar(&f.config, "oidc-config", "", "YAML file of identity providers (several, or per tenant) and their role mappings; see docs/signin.md")
	fl.StringVar(&f.issuer, "oidc-issuer", os.Getenv("CROSSBILL_OIDC_ISSUER"), "OpenID Connect issuer URL of the installation's identity provider (env CROSSBILL_OIDC_ISSUER)")
	fl.StringVar(&f.clientID, "oidc-client-id", os.Getenv("CROSSBILL_OIDC_CLIENT_ID"), "client ID registered at the identity provider (env CROSSBILL_OIDC_CLIENT_ID)")
	fl.StringVar(&f.secretFile, "oidc-client-secret-file", "", "file holding the client secret (or set "+ClientSecretEnv+"; never a flag)")
	fl.StringVar(&f.redirectURL, "oidc-redirect-url", os.Getenv("CROSSBILL_OIDC_REDIRECT_URL"), "https://HOST/api/v1/auth/callback as registered at the provider (env CROSSBILL_OIDC_REDIRECT_URL)")
	fl.StringVar(&f.name, "oidc-name", "sso", "the provider's name on the sign-in page")
	fl.StringArrayVar(&f.roles, "oidc-role", nil, "CLAIM=VALUE:TENANT:ROLE, e.g. groups=finops:acme:analyst; TENANT empty for operator (repeat)")
	fl.DurationVar(&f.sessionIdle, "session-idle", 30*time.Minute, "a browser session unused this long ends")
	fl.DurationVar(&f.sessionMax, "session-max", 12*time.Hour, "a browser session ends this long after sign-in, used or not")
	fl.StringVar(&f.tlsCert, "tls-cert", "", "serve HTTPS with this PEM certificate (chain); HSTS is sent")
	fl.StringVar(&f.tlsKey, "tls-key", "", "the private key of --tls-cert (PEM)")
	fl.StringArrayVar(&f.proxies, "trusted-proxy", nil, "CIDR of a reverse proxy whose X-Forwarded-For and X-Forwarded-Proto are believed (repeat); HSTS when it says https")
	return f
}

// apply puts the flags into m, reading the configuration file and secrets.
func (f *signInFlags) apply(m *server.Main) error {
	const op = "serve"
	var cfg signin.Config
	if f.config != "" {
		c, err := signin.LoadFile(f.config)
		if err != nil {
			return err
		}
		cfg = c
	}
	if f.issuer != "" || f.clientID != "" || len(f.roles) > 0 {
		p := signin.Provider{Name: f.name, Issuer: f.issuer, ClientID: f.clientID, RedirectURL: f.redirectURL, ClientSecretFile: f.secretFile}
		if f.secretFile == "" && os.Getenv(ClientSecretEnv) != "" {
			p.ClientSecretEnv = ClientSecretEnv
		}
		for _, r := range f.roles {
			mp, err := signin.ParseMapping(r)
			if err != nil {
				return err
			}
			p.Roles = append(p.Roles, mp)
		}
		cfg.Providers = append(cfg.Providers, p)
	}
	if err := cfg.Resolve(os.Getenv); err != nil {
		return err
	}
	m.SignIn = &cfg
	if f.sessionIdle <= 0 || f.sessionMax <= 0 {
		return crossbill.Errorf(crossbill.CodeInvalid, op, "--session-idle and --session-max must be positive")
	}
	m.SessionIdle, m.SessionAbsolute = f.sessionIdle, f.sessionMax
	m.TLSCert, m.TLSKey = f.tlsCert, f.tlsKey
	for _, p := range f.proxies {
		pf, err := netip.ParsePrefix(p)
		if err != nil {
			a, aerr := netip.ParseAddr(p)
			if aerr != nil {
				return crossbill.Errorf(crossbill.CodeInvalid, op, "--trusted-proxy %q: give a CIDR such as 10.0.0.0/8 or an address", p)
			}
			pf = netip.PrefixFrom(a, a.BitLen())
		}
		m.TrustedProxies = append(m.TrustedProxies, pf.Masked())
	}
	return nil
}
