package access

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
)

// Advisor reads Access Advisor (service last accessed) for one principal.
// It is an interface because the AWS emulator crossbill tests against does
// not serve Access Advisor: tests stub the two IAM calls.
type Advisor interface {
	LastAccessed(ctx context.Context, cfg aws.Config, arn string) ([]ServiceAccess, error)
}

// IAMAdvisor asks IAM: start a job, then read it once it is complete.
type IAMAdvisor struct {
	// Wait bounds the wait for one job; 0 means 30 s.
	Wait time.Duration
}

// LastAccessed implements Advisor.
func (a IAMAdvisor) LastAccessed(ctx context.Context, cfg aws.Config, arn string) ([]ServiceAccess, error) {
	wait := a.Wait
	if wait == 0 {
		wait = 30 * time.Second
	}
	client := iam.NewFromConfig(cfg)
	job, err := client.GenerateServiceLastAccessedDetails(ctx, &iam.GenerateServiceLastAccessedDetailsInput{Arn: aws.String(arn)})
	if err != nil {
		return nil, err
	}
	deadline := time.Now().Add(wait)
	for {
		var out []ServiceAccess
		var status iamtypes.JobStatusType
		var marker *string
		for {
			page, err := client.GetServiceLastAccessedDetails(ctx, &iam.GetServiceLastAccessedDetailsInput{JobId: job.JobId, Marker: marker})
			if err != nil {
				return nil, err
			}
			status = page.JobStatus
			if status != iamtypes.JobStatusTypeCompleted {
				break
			}
			for _, s := range page.ServicesLastAccessed {
				out = append(out, ServiceAccess{Namespace: aws.ToString(s.ServiceNamespace), LastAuthenticated: s.LastAuthenticated})
			}
			if !page.IsTruncated {
				break
			}
			marker = page.Marker
		}
		switch {
		case status == iamtypes.JobStatusTypeCompleted:
			return out, nil
		case status == iamtypes.JobStatusTypeFailed:
			return nil, fmt.Errorf("access advisor job for %s failed", arn)
		case time.Now().After(deadline):
			return nil, fmt.Errorf("access advisor job for %s not complete after %s", arn, wait)
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(time.Second):
		}
	}
}
