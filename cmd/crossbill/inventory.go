package main

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/awsclient"
	"github.com/crossbill/crossbill/internal/inventory"
	"github.com/crossbill/crossbill/internal/store"
)

func newInventoryCmd(app *App) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "inventory",
		Short: "Resources of every connected account, with utilization and cost",
		Long: `Inventory reads the resources of a connection's account and of every verified member
account (EC2, EBS, snapshots and the AMIs and launch templates that use them, Elastic
IPs, NAT gateways, load balancers with target health, Auto Scaling groups, RDS,
ElastiCache, Redshift, OpenSearch, Lambda, DynamoDB, ECS, EKS, S3 bucket metadata) in
every enabled region through the connection's inventory role; 14 days of daily
CloudWatch utilization; and each resource's monthly cost, from its own CUR line items
when the CUR names it, else the on-demand list price (labelled). Run ` + "`inventory sync`" + `
first; the server syncs every connection with the inventory module daily.`,
	}
	cmd.AddCommand(newInventorySyncCmd(app), newInventoryListCmd(app), newInventoryShowCmd(app))
	return cmd
}

// inventoryTenant returns the store and the named tenant.
func inventoryTenant(ctx context.Context, app *App, name string) (*store.Store, store.Tenant, error) {
	s, err := app.Store(ctx)
	if err != nil {
		return nil, store.Tenant{}, err
	}
	t, err := s.TenantByName(ctx, name)
	return s, t, err
}

func newInventorySyncCmd(app *App) *cobra.Command {
	var (
		tenant, connID string
		regions        []string
		windowDays     int
		noCUR          bool
		hub            awsclient.HubOptions
		opts           inventory.SyncOptions
	)
	cmd := &cobra.Command{
		Use:   "sync --tenant NAME",
		Short: "Read resources, utilization and costs now",
		Long: `Sync reads the connection's account and every verified member account (run
` + "`connect members --verify`" + ` first for an organization), --concurrency accounts and
--region-concurrency regions of each at once. What cannot be read is listed per
account, region and service and does not fail the sync (those resources keep their last
state); a role that cannot list the account's regions does (exit 5).`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			if windowDays < 1 || windowDays > 63 {
				return crossbill.Errorf(crossbill.CodeInvalid, "inventory sync", "--window-days %d: give 1 to 63 (CloudWatch keeps daily points 63 days at full detail)", windowDays)
			}
			s, t, err := inventoryTenant(ctx, app, tenant)
			if err != nil {
				return err
			}
			conn, err := inventory.ConnectionFor(ctx, s, t.ID, crossbill.ConnectionID(connID))
			if err != nil {
				return err
			}
			if opts.AWS, err = app.AWS(ctx, hub); err != nil {
				return err
			}
			if !noCUR {
				// The CUR's per-resource costs; without a cost store every
				// figure comes from the price list, labelled so.
				cs, err := app.Costs(ctx)
				if err != nil {
					app.Progress("no CUR costs (%v): price-list figures only", err)
				} else {
					defer cs.Close()
					opts.Costs = cs
				}
			}
			opts.Tenant, opts.Progress, opts.Regions = t.Name, app.Progress, regions
			opts.Window = time.Duration(windowDays) * 24 * time.Hour
			res, err := inventory.Sync(ctx, s, conn, opts)
			if err != nil {
				return err
			}
			return app.Print(res, func(w io.Writer) error {
				fmt.Fprintf(w, "sync %s of connection %s: %d resource(s) in %d account(s) and %d region(s), %d with utilization, %d part(s) unread\n",
					res.SyncID, res.ConnectionID, res.Resources, res.Accounts, len(res.Regions), res.Utilization, len(res.Failures))
				var kinds []string
				for k := range res.ByType {
					kinds = append(kinds, k)
				}
				sort.Strings(kinds)
				for _, k := range kinds {
					fmt.Fprintf(w, "  %-40s %d\n", k, res.ByType[k])
				}
				fmt.Fprintf(w, "  costs: %d from the CUR, %d from the price list, %d unknown\n", res.CostSources[inventory.CostFromCUR], res.CostSources[inventory.CostFromPriceList], res.CostSources[""])
				for _, f := range res.Failures {
					fmt.Fprintf(w, "  unread: %s %s %s %s: %s\n    fix: %s\n", f.Account, orDash(f.Region), f.Service, f.Operation, f.Message, orDash(f.Fix))
				}
				return nil
			})
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&tenant, "tenant", "", "tenant the connection belongs to (required)")
	fl.StringVar(&connID, "connection", "", "connection to read (default: the tenant's one connection with the inventory module)")
	fl.IntVar(&opts.AccountConcurrency, "concurrency", inventory.DefaultAccountConcurrency, "accounts read at once")
	fl.IntVar(&opts.RegionConcurrency, "region-concurrency", inventory.DefaultRegionConcurrency, "regions of one account read at once")
	fl.StringSliceVar(&regions, "regions", nil, "read only these of the enabled regions (comma-separated; default all)")
	fl.IntVar(&windowDays, "window-days", 14, "days of daily utilization to read")
	fl.BoolVar(&noCUR, "no-cur", false, "do not read the CUR's per-resource costs (price-list figures only)")
	fl.StringVar(&hub.EndpointURL, "endpoint-url", "", "send AWS calls to this endpoint (an emulator such as moto_server)")
	fl.StringVar(&hub.Region, "region", "", "hub region (default from the AWS environment, else us-east-1)")
	fl.StringVar(&hub.Profile, "profile", "", "AWS shared-config profile of the hub identity")
	inventoryRequire(cmd, "tenant")
	return cmd
}

func newInventoryListCmd(app *App) *cobra.Command {
	var (
		tenant, acct string
		f            inventory.Filter
	)
	cmd := &cobra.Command{
		Use:   "list --tenant NAME [--account ID] [--region R] [--service S] [--type T]",
		Short: "List the stored resources with their state and monthly cost",
		Args:  exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			s, t, err := inventoryTenant(ctx, app, tenant)
			if err != nil {
				return err
			}
			f.Account = crossbill.AccountID(acct)
			res, err := inventory.ListResources(ctx, s, t.ID, f)
			if err != nil {
				return err
			}
			return app.Print(res, func(w io.Writer) error {
				tw := newTable(w, 0)
				rowf(tw, "ACCOUNT\tREGION\tKIND\tID\tNAME\tSTATE\tMONTHLY\tSOURCE\n")
				for _, r := range res.Resources {
					monthly, src := "-", "-"
					if r.Cost != nil {
						monthly, src = strconv.FormatFloat(r.Cost.MonthlyAmortized, 'f', 2, 64), r.Cost.Source
					}
					rowf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.AccountID, r.Region, r.Service+" "+r.Type, r.ID, orDash(r.Name), orDash(r.State), monthly, src)
				}
				if err := tw.Flush(); err != nil {
					return err
				}
				for _, sy := range res.Syncs {
					fmt.Fprintf(w, "connection %s last synced %s: %d resource(s), %d part(s) unread\n", sy.ConnectionID, sy.FinishedAt.UTC().Format(time.RFC3339), sy.Resources, len(sy.Failures))
					for _, fl := range sy.Failures {
						fmt.Fprintf(w, "  unread: %s %s %s %s: %s\n", fl.Account, orDash(fl.Region), fl.Service, fl.Operation, fl.Message)
					}
				}
				return nil
			})
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&tenant, "tenant", "", "tenant (required)")
	fl.StringVar(&acct, "account", "", "only this account's resources")
	fl.StringVar(&f.Region, "region", "", "only this region's resources")
	fl.StringVar(&f.Service, "service", "", "only this service's: ec2, rds, s3, elasticloadbalancing...")
	fl.StringVar(&f.Type, "type", "", "only this type: instance, volume, snapshot, bucket...")
	fl.IntVar(&f.Limit, "limit", 0, "at most this many (default and maximum 5000)")
	inventoryRequire(cmd, "tenant")
	return cmd
}

func newInventoryShowCmd(app *App) *cobra.Command {
	var tenant string
	cmd := &cobra.Command{
		Use:   "show ARN --tenant NAME",
		Short: "One resource: metadata, relations, cost and utilization",
		Args:  exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			s, t, err := inventoryTenant(ctx, app, tenant)
			if err != nil {
				return err
			}
			d, err := inventory.Show(ctx, s, t.ID, args[0])
			if err != nil {
				return err
			}
			return app.Print(d, func(w io.Writer) error {
				r := d.Resource
				fmt.Fprintf(w, "%s\n  %s %s %s in %s %s, state %s, fetched %s\n", r.ARN, r.Service, r.Type, r.ID, r.AccountID, r.Region, orDash(r.State), r.Fetched.UTC().Format(time.RFC3339))
				if r.Name != "" {
					fmt.Fprintf(w, "  name: %s\n", r.Name)
				}
				if r.Cost != nil {
					fmt.Fprintf(w, "  cost: %.2f %s a month amortized, %.2f on demand (source %s)\n", r.Cost.MonthlyAmortized, r.Cost.Currency, r.Cost.MonthlyOnDemand, r.Cost.Source)
				}
				for _, k := range inventoryKeys(r.Tags) {
					fmt.Fprintf(w, "  tag %s=%s\n", k, r.Tags[k])
				}
				for _, k := range inventoryKeys(r.Metadata) {
					fmt.Fprintf(w, "  %s: %v\n", k, r.Metadata[k])
				}
				for _, rel := range r.Relations {
					fmt.Fprintf(w, "  %s %s\n", rel.Kind, rel.Target)
				}
				if r.Console != "" {
					fmt.Fprintf(w, "  console: %s\n", r.Console)
				}
				if d.Utilization != nil {
					for _, s := range d.Utilization.Series {
						var vals []string
						for _, p := range s.Points {
							vals = append(vals, strconv.FormatFloat(p.Value, 'g', 4, 64))
						}
						fmt.Fprintf(w, "  %s %s (%s, daily): %s\n", s.Metric, s.Stat, s.Namespace, strings.Join(vals, " "))
					}
				}
				return nil
			})
		},
	}
	cmd.Flags().StringVar(&tenant, "tenant", "", "tenant (required)")
	inventoryRequire(cmd, "tenant")
	return cmd
}

func inventoryKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func inventoryRequire(cmd *cobra.Command, flag string) {
	if err := cmd.MarkFlagRequired(flag); err != nil {
		panic(err) // a flag name typo: a bug caught by every test run
	}
}
