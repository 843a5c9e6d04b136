package main

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/spf13/cobra"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/awsclient"
	"github.com/crossbill/crossbill/internal/costexplorer"
	"github.com/crossbill/crossbill/internal/store"
)

// customerAWS is how a command reads a customer's account: through a
// connection's role, assumed from the hub with the connection's external ID
// (as the server does), or, without --connection, with the AWS credentials
// of the environment (someone reading their own account).
type customerAWS struct {
	hub        awsclient.HubOptions
	connection string
}

func (c *customerAWS) register(cmd *cobra.Command, what string) {
	fl := cmd.Flags()
	fl.StringVar(&c.connection, "connection", "", "read "+what+" through this verified connection's role (assumed with its external ID); default: the environment's AWS credentials")
	fl.StringVar(&c.hub.EndpointURL, "endpoint-url", "", "send AWS calls to this endpoint (an emulator such as moto_server, or an S3-compatible store)")
	fl.StringVar(&c.hub.Profile, "profile", "", "AWS shared-config profile of the credentials (the hub's, with --connection)")
}

// open returns a configuration per region and the account it reaches (""
// without --connection). tenant is the --tenant name the connection must
// belong to.
func (c *customerAWS) open(ctx context.Context, app *App, op, tenant string) (func(region string) aws.Config, crossbill.AccountID, error) {
	factory, err := app.AWS(ctx, c.hub)
	if err != nil {
		return nil, "", err
	}
	hub := factory.Hub()
	if err := awsclient.CheckHub(ctx, hub); err != nil {
		return nil, "", err
	}
	if c.connection == "" {
		return func(region string) aws.Config {
			cfg := hub.Copy()
			if region != "" {
				cfg.Region = region
			}
			return cfg
		}, "", nil
	}
	st, err := app.Store(ctx)
	if err != nil {
		return nil, "", err
	}
	t, err := st.TenantByName(ctx, tenant)
	if err != nil {
		return nil, "", err
	}
	conn, err := st.TenantConnection(ctx, t.ID, crossbill.ConnectionID(c.connection))
	if err != nil {
		return nil, "", err
	}
	if conn.Status != store.StatusVerified || conn.RoleARN == "" {
		return nil, "", crossbill.Errorf(crossbill.CodeInvalid, op, "connection %s is %s: verify it first with `crossbill connect verify --tenant %s --role-arn ARN`", conn.ID, conn.Status, tenant)
	}
	target := awsclient.Target{Tenant: t.Name, Connection: conn.ID, RoleARN: conn.RoleARN, ExternalID: conn.ExternalID}
	return func(region string) aws.Config { return factory.Config(target, region) }, target.Account(), nil
}

// customerCostExplorer is the metered Cost Explorer client of a tenant's
// verified connection, through its role: Cost Explorer answers for the
// account that calls it, so asking with the hub's own credentials would
// describe the wrong account.
func customerCostExplorer(ctx context.Context, app *App, hub awsclient.HubOptions, tenant crossbill.TenantID, connection string) (*costexplorer.Client, error) {
	if connection == "" {
		return nil, crossbill.Errorf(crossbill.CodeInvalid, "cost explorer", "--aws-compare needs --connection: Cost Explorer is asked through the customer's role, never with crossbill's own credentials")
	}
	f, err := app.AWS(ctx, hub)
	if err != nil {
		return nil, err
	}
	st, err := app.Store(ctx)
	if err != nil {
		return nil, err
	}
	return costexplorer.Open(ctx, st, f, tenant, crossbill.ConnectionID(connection), nil)
}
