package awsclient_test

import (
	"context"
	"testing"

	smithy "github.com/aws/smithy-go"

	"github.com/crossbill/crossbill/internal/awsclient"
)

// BenchmarkDiagnose: classification runs on every failed AWS call of a
// collection run; it must stay negligible next to the call itself.
func BenchmarkDiagnose(b *testing.B) {
	err := &smithy.OperationError{ServiceID: "EC2", OperationName: "DescribeVolumes", Err: &smithy.GenericAPIError{Code: "UnauthorizedOperation",
		Message: "You are not authorized to perform this operation. User: arn:aws:sts::210987654321:assumed-role/CrossbillAccess/s is not authorized to perform: ec2:DescribeVolumes with an explicit deny in a service control policy"}}
	b.ReportAllocs()
	for b.Loop() {
		if awsclient.Diagnose(err).Class != awsclient.ClassSCPDeny {
			b.Fatal("wrong class")
		}
	}
}

// BenchmarkCachedCredentials: the cost of getting a connection's
// credentials once they are cached (every SDK call signs with them).
func BenchmarkCachedCredentials(b *testing.B) {
	hub, rec := hubConfig(b)
	f := newFactory(b, hub, awsclient.FactoryOptions{})
	tg := target("conn-bench", "CrossbillAccess")
	ctx := context.Background()
	if _, err := f.Retrieve(ctx, tg); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := f.Credentials(tg).Retrieve(ctx); err != nil {
				b.Error(err)
				return
			}
		}
	})
	if n := rec.Count("sts:AssumeRole"); n != 1 {
		b.Fatalf("%d AssumeRole calls, want 1", n)
	}
}
