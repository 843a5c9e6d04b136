package main

import (
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/server"
	"github.com/crossbill/crossbill/internal/store"
)

func newTokenCmd(app *App) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "token",
		Short: "Manage API tokens (per tenant, scope read or admin; operator tokens for every tenant)",
	}
	var tenant, name, scope, role, user string
	var operatorTok bool
	create := writes(&cobra.Command{
		Use:   "create",
		Short: "Create an API token; the secret is printed once and stored only as a SHA-256 hash",
		Args:  exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			const op = "token create"
			if (tenant == "") == !operatorTok {
				return crossbill.Errorf(crossbill.CodeInvalid, op, "pass either --tenant NAME or --operator")
			}
			if operatorTok && !cmd.Flags().Changed("scope") {
				scope = string(store.ScopeAdmin)
			}
			if role != "" && !cmd.Flags().Changed("scope") {
				scope = "" // the role sets it
			}
			var sc store.Scope
			if scope != "" {
				var err error
				if sc, err = store.ParseScope(scope); err != nil {
					return err
				}
			}
			if operatorTok && sc != store.ScopeAdmin && role == "" {
				return crossbill.Errorf(crossbill.CodeInvalid, op, "operator tokens have admin scope; drop --scope or use a tenant token")
			}
			s, err := app.Store(cmd.Context())
			if err != nil {
				return err
			}
			var id crossbill.TenantID
			if tenant != "" {
				t, err := s.TenantByName(cmd.Context(), tenant)
				if err != nil {
					return err
				}
				id = t.ID
			}
			req := store.TokenRequest{Tenant: id, Name: name, Scope: sc, Role: store.Role(role)}
			if user != "" {
				u, err := s.LocalUser(cmd.Context(), user)
				if err != nil {
					return err
				}
				req.UserID = u.ID
			}
			tok, secret, err := s.NewToken(cmd.Context(), req)
			if err != nil {
				return err
			}
			out := struct {
				store.Token
				Secret string `json:"token"`
			}{tok, string(secret)}
			return app.Print(out, func(w io.Writer) error {
				fmt.Fprintf(w, "created token %s (role %s); its secret, shown only now:\n\n    %s\n\n", tok.ID, tok.Role, secret)
				_, err := fmt.Fprintln(w, "Send it as: Authorization: Bearer <token>")
				return err
			})
		},
	})
	create.Flags().StringVar(&tenant, "tenant", "", "tenant name")
	create.Flags().BoolVar(&operatorTok, "operator", false, "operator token: admin over every tenant")
	create.Flags().StringVar(&scope, "scope", "read", "read or admin (operator tokens: admin); without --role, read = viewer and admin = admin of the tenant")
	create.Flags().StringVar(&role, "role", "", "viewer, analyst, approver or admin (operator tokens: operator); sets the scope")
	create.Flags().StringVar(&user, "user", "", "the person (email) the token acts for: audit lines name them")
	create.Flags().StringVar(&name, "name", "", "a label for the token")

	var listTenant string
	list := &cobra.Command{
		Use:   "list",
		Short: "List tokens (never their secrets)",
		Args:  exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			s, err := app.Store(cmd.Context())
			if err != nil {
				return err
			}
			var id crossbill.TenantID
			if listTenant != "" {
				t, err := s.TenantByName(cmd.Context(), listTenant)
				if err != nil {
					return err
				}
				id = t.ID
			}
			ts, err := s.Tokens(cmd.Context(), id, listTenant == "")
			if err != nil {
				return err
			}
			names := map[crossbill.TenantID]string{"": "(operator)"}
			tenants, err := s.Tenants(cmd.Context())
			if err != nil {
				return err
			}
			for _, t := range tenants {
				names[t.ID] = t.Name
			}
			return app.Print(ts, func(w io.Writer) error {
				tw := newTable(w, 0)
				fmt.Fprintln(tw, "ID\tTENANT\tROLE\tNAME\tCREATED\tLAST USED\tSTATE")
				for _, t := range ts {
					used, state := "never", "live"
					if t.LastUsedAt != nil {
						used = t.LastUsedAt.Format(time.RFC3339)
					}
					if t.RevokedAt != nil {
						state = "revoked " + t.RevokedAt.Format(time.RFC3339)
					}
					rowf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", t.ID, names[t.TenantID], t.Role, t.Name, t.CreatedAt.Format(time.RFC3339), used, state)
				}
				return tw.Flush()
			})
		},
	}
	list.Flags().StringVar(&listTenant, "tenant", "", "only this tenant's tokens")

	revoke := &cobra.Command{
		Use:   "revoke TOKEN_ID",
		Short: fmt.Sprintf("Revoke a token by its ID (tok_...); a running server refuses it within %s (on PostgreSQL at once)", server.TokenCacheTTL),
		Long: fmt.Sprintf(`Revoke a token by its ID (tok_...). A running server reads a token it
has seen from the store again only every %s, so it refuses this one within
%s; a token revoked through the API (DELETE
/api/v1/tenants/{tenant}/tokens/{id}) is refused by that server at once.
With the metadata in PostgreSQL (--database) every server refuses it at once,
whichever way it was revoked: the revocation is announced to them (NOTIFY).`, server.TokenCacheTTL, server.TokenCacheTTL),
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := app.Store(cmd.Context())
			if err != nil {
				return err
			}
			if err := s.RevokeToken(cmd.Context(), "", true, args[0]); err != nil {
				return err
			}
			return app.Print(map[string]string{"revoked": args[0]}, func(w io.Writer) error {
				_, err := fmt.Fprintf(w, "revoked token %s\n", args[0])
				return err
			})
		},
	}
	cmd.AddCommand(create, list, revoke)
	return cmd
}
