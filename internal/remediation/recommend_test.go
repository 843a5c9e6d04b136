package remediation_test

import (
	"testing"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/remediation"
)

func TestActionFor(t *testing.T) {
	const acct = "123456789012"
	for _, c := range []struct {
		typ, arn string
		want     remediation.Action
	}{
		{"Stop", "arn:aws:ec2:eu-west-1:" + acct + ":instance/i-1", remediation.StopInstance},
		{"Stop", "arn:aws:rds:eu-west-1:" + acct + ":db:orders", remediation.StopDB},
		{"Delete", "arn:aws:ec2:eu-west-1:" + acct + ":volume/vol-1", remediation.DeleteVolume},
		{"Delete", "arn:aws:ec2:eu-west-1::snapshot/snap-1", remediation.DeleteSnapshot},
		{"Delete", "arn:aws:ec2:eu-west-1:" + acct + ":elastic-ip/eipalloc-1", remediation.ReleaseAddress},
		{"Delete", "arn:aws:elasticloadbalancing:eu-west-1:" + acct + ":loadbalancer/app/idle/1", remediation.DeleteLoadBalancer},
		{"Delete", "arn:aws:rds:eu-west-1:" + acct + ":db:old", remediation.DeleteDB},
		{"Delete", "arn:aws:s3:::logs", remediation.AbortMultipart},
		{"Rightsize", "arn:aws:ec2:eu-west-1:" + acct + ":instance/i-1", remediation.ResizeInstance},
		{"MigrateToGraviton", "arn:aws:ec2:eu-west-1:" + acct + ":instance/i-1", remediation.ResizeInstance},
		{"Upgrade", "arn:aws:ec2:eu-west-1:" + acct + ":volume/vol-1", remediation.ModifyVolumeGP3},
		{"Upgrade", "arn:aws:s3:::logs", remediation.AbortMultipart},
	} {
		if got, err := remediation.ActionFor(c.typ, c.arn); err != nil || got != c.want {
			t.Errorf("%s %s: %q %v, want %q", c.typ, c.arn, got, err, c.want)
		}
	}
	for _, c := range [][2]string{{"ScaleIn", "arn:aws:autoscaling:eu-west-1:" + acct + ":autoScalingGroup:x"}, {"Schedule", "arn:aws:ec2:eu-west-1:" + acct + ":instance/i-1"},
		{"Stop", "arn:aws:ec2:eu-west-1:" + acct + ":volume/vol-1"}, {"Delete", "not an arn"}} {
		if _, err := remediation.ActionFor(c[0], c[1]); crossbill.ErrorCode(err) != crossbill.CodeInvalid {
			t.Errorf("%v: %v", c, err)
		}
	}
}
