package main

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/approval"
	"github.com/crossbill/crossbill/internal/store"
)

// newApprovalsCmd is the shared approvals inbox: JIT access grants,
// remediations and commitment purchases wait here for a person's decision.
func newApprovalsCmd(app *App) *cobra.Command {
	var tenant, as string
	cmd := &cobra.Command{
		Use:   "approvals",
		Short: "The approvals inbox (JIT grants, remediations, purchases): list, show, approve, deny",
	}
	cmd.PersistentFlags().StringVar(&tenant, "tenant", "", "tenant (required)")
	open := func(ctx context.Context) (*store.Store, crossbill.TenantID, error) {
		if tenant == "" {
			return nil, "", crossbill.Errorf(crossbill.CodeInvalid, "approvals", "--tenant is required")
		}
		st, err := app.Store(ctx)
		if err != nil {
			return nil, "", err
		}
		t, err := st.TenantByName(ctx, tenant)
		return st, t.ID, err
	}
	printOne := func(a approval.Approval) error {
		return app.Print(a, func(w io.Writer) error {
			fmt.Fprintf(w, "%s  %s  %s  %s\n", a.ID, a.Kind, a.State, a.Summary)
			fmt.Fprintf(w, "  for %s, requested by %s at %s, expires %s; %d approval(s) needed\n", a.Subject, requester(a), a.CreatedAt.Format("2006-01-02 15:04"), a.ExpiresAt.Format("2006-01-02 15:04"), a.Required)
			if len(a.Approvers) > 0 {
				fmt.Fprintf(w, "  only %s may decide\n", strings.Join(a.Approvers, ", "))
			}
			if a.AutoApproved != "" {
				fmt.Fprintf(w, "  approved by policy: %s\n", a.AutoApproved)
			}
			for _, d := range a.Decisions {
				verb, who := "denied", d.By
				if d.Approve {
					verb = "approved"
				}
				if d.Email != "" {
					who = d.Email
				}
				fmt.Fprintf(w, "  %s %s at %s %s\n", who, verb, d.At.Format("2006-01-02 15:04"), d.Reason)
			}
			if len(a.Detail) > 0 && string(a.Detail) != "null" {
				fmt.Fprintf(w, "  plan: %s\n", a.Detail)
			}
			return nil
		})
	}

	var f approval.Filter
	list := &cobra.Command{
		Use: "list", Short: "List the tenant's approvals, newest first", Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			st, t, err := open(ctx)
			if err != nil {
				return err
			}
			as, err := approval.List(ctx, st, t, f)
			if err != nil {
				return err
			}
			return app.Print(as, func(w io.Writer) error {
				tw := newTable(w, 0)
				fmt.Fprintln(tw, "ID\tKIND\tSTATE\tREQUESTED BY\tAPPROVALS\tEXPIRES\tSUMMARY")
				for _, a := range as {
					n := 0
					for _, d := range a.Decisions {
						if d.Approve {
							n++
						}
					}
					rowf(tw, "%s\t%s\t%s\t%s\t%d/%d\t%s\t%s\n", a.ID, a.Kind, a.State, requester(a), n, a.Required, a.ExpiresAt.Format("2006-01-02 15:04"), a.Summary)
				}
				return tw.Flush()
			})
		},
	}
	list.Flags().StringVar(&f.Kind, "kind", "", "only this kind: "+strings.Join(approval.Kinds, ", "))
	list.Flags().StringVar(&f.State, "state", "", "only this state: "+strings.Join(approval.States, ", "))

	show := &cobra.Command{
		Use: "show ID", Short: "One approval: the plan it approves and its decisions", Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			st, t, err := open(ctx)
			if err != nil {
				return err
			}
			a, err := approval.Get(ctx, st, t, args[0])
			if err != nil {
				return err
			}
			return printOne(a)
		},
	}

	var reason string
	decide := func(approve bool) func(*cobra.Command, []string) error {
		return func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			st, t, err := open(ctx)
			if err != nil {
				return err
			}
			by := store.AuditEntry{Actor: cliActor()}
			if as != "" {
				u, err := st.LocalUser(ctx, as)
				if err != nil {
					return err
				}
				by.PersonEmail, by.PersonSubject = u.Email, u.Subject
			}
			a, err := approval.Decide(ctx, st, t, args[0], approve, reason, by)
			if err != nil {
				return err
			}
			return printOne(a)
		}
	}
	approve := &cobra.Command{
		Use: "approve ID", Short: "Approve (never your own request; once per person)", Args: exactArgs(1), RunE: decide(true),
		Long: "Approve a pending request. Exit code 5 when you requested it or are not among its named approvers, 4 when it is decided, expired, or you decided it already.",
	}
	deny := &cobra.Command{
		Use: "deny ID", Short: "Deny, with the reason the requester sees (--reason is required)", Args: exactArgs(1), RunE: decide(false),
	}
	for _, c := range []*cobra.Command{approve, deny} {
		c.Flags().StringVar(&reason, "reason", "", "why, shown to the requester and kept in the audit log")
		c.Flags().StringVar(&as, "as", "", "the person deciding, by email (the audit log names them; the requester cannot decide)")
	}
	cmd.AddCommand(list, show, approve, deny)
	return cmd
}

// requester names who asked: their email, else their actor.
func requester(a approval.Approval) string {
	if a.RequestedPerson != "" {
		return a.RequestedPerson
	}
	return a.RequestedBy
}
