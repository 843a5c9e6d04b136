package verify

import (
	"context"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/bcmdataexports"
	"github.com/aws/aws-sdk-go-v2/service/costexplorer"
	cetypes "github.com/aws/aws-sdk-go-v2/service/costexplorer/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/glue"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/pricing"
	"github.com/aws/aws-sdk-go-v2/service/ssoadmin"

	"github.com/crossbill/crossbill/internal/awsclient"
	"github.com/crossbill/crossbill/internal/manifest"
)

// probeEnv is what a probe needs to make its call.
type probeEnv struct {
	factory   *awsclient.Factory
	target    awsclient.Target
	region    string // regional services
	partition string
}

// config returns the role's configuration in region.
func (e probeEnv) config(region string) aws.Config { return e.factory.Config(e.target, region) }

// globalRegion is where a partition's global billing endpoints live
// (Cost Explorer, Price List, Data Exports, Organizations).
func (e probeEnv) globalRegion() string {
	switch e.partition {
	case "aws-cn":
		return "cn-northwest-1"
	case "aws-us-gov":
		return "us-gov-west-1"
	}
	return "us-east-1"
}

// probeFunc makes one probe call; its error goes to awsclient.Diagnose.
type probeFunc func(ctx context.Context, e probeEnv) error

// executors implement the manifest's probes, keyed by Probe.Call. Each
// sends the input the probe describes: the smallest read that proves the
// permission. A test fails when a manifest probe has no executor here.
func executors() map[string]probeFunc {
	return map[string]probeFunc{
		"pricing:DescribeServices": func(ctx context.Context, e probeEnv) error {
			_, err := pricing.NewFromConfig(e.config(e.globalRegion())).DescribeServices(ctx, &pricing.DescribeServicesInput{
				ServiceCode: aws.String("AmazonEC2"), MaxResults: aws.Int32(1)})
			return err
		},
		"ce:GetCostAndUsage": func(ctx context.Context, e probeEnv) error {
			today := time.Now().UTC()
			_, err := costexplorer.NewFromConfig(e.config(e.globalRegion())).GetCostAndUsage(ctx, &costexplorer.GetCostAndUsageInput{
				TimePeriod: &cetypes.DateInterval{
					Start: aws.String(today.AddDate(0, 0, -1).Format(time.DateOnly)),
					End:   aws.String(today.Format(time.DateOnly)),
				},
				Granularity: cetypes.GranularityDaily,
				Metrics:     []string{"UnblendedCost"},
			})
			return err
		},
		"glue:GetTable": func(ctx context.Context, e probeEnv) error {
			_, err := glue.NewFromConfig(e.config(e.globalRegion())).GetTable(ctx, &glue.GetTableInput{
				DatabaseName: aws.String(manifest.AthenaDatabase), Name: aws.String(manifest.AthenaTable)})
			return err
		},
		"bcm-data-exports:ListExports": func(ctx context.Context, e probeEnv) error {
			_, err := bcmdataexports.NewFromConfig(e.config(e.globalRegion())).ListExports(ctx, &bcmdataexports.ListExportsInput{MaxResults: aws.Int32(1)})
			return err
		},
		"ec2:DescribeReservedInstances": func(ctx context.Context, e probeEnv) error {
			_, err := ec2.NewFromConfig(e.config(e.region)).DescribeReservedInstances(ctx, &ec2.DescribeReservedInstancesInput{})
			return err
		},
		"ec2:DescribeReservedInstancesOfferings": func(ctx context.Context, e probeEnv) error {
			_, err := ec2.NewFromConfig(e.config(e.region)).DescribeReservedInstancesOfferings(ctx, &ec2.DescribeReservedInstancesOfferingsInput{
				InstanceType: "t3.micro", MaxResults: aws.Int32(5)})
			return err
		},
		"ec2:DescribeVolumes": func(ctx context.Context, e probeEnv) error {
			_, err := ec2.NewFromConfig(e.config(e.region)).DescribeVolumes(ctx, &ec2.DescribeVolumesInput{MaxResults: aws.Int32(5)})
			return err
		},
		"organizations:DescribeOrganization": func(ctx context.Context, e probeEnv) error {
			_, err := organizations.NewFromConfig(e.config(e.globalRegion())).DescribeOrganization(ctx, &organizations.DescribeOrganizationInput{})
			return err
		},
		"iam:ListRoles": func(ctx context.Context, e probeEnv) error {
			_, err := iam.NewFromConfig(e.config("")).ListRoles(ctx, &iam.ListRolesInput{MaxItems: aws.Int32(1)})
			return err
		},
		"sso:DescribeAccountAssignmentCreationStatus": func(ctx context.Context, e probeEnv) error {
			// A made-up instance and request: "not found" or "validation"
			// answers come only after the call was authorized.
			_, err := ssoadmin.NewFromConfig(e.config(e.region)).DescribeAccountAssignmentCreationStatus(ctx, &ssoadmin.DescribeAccountAssignmentCreationStatusInput{
				InstanceArn:                        aws.String("arn:" + e.partition + ":sso:::instance/ssoins-0000000000000000"),
				AccountAssignmentCreationRequestId: aws.String("00000000-0000-0000-0000-000000000000"),
			})
			return err
		},
	}
}
