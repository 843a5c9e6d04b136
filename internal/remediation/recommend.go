package remediation

import (
	"strings"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/awsarn"
)

// kindOf is the resource kind an ARN names, "" when remediation has no
// action for it.
func kindOf(arn string) string {
	a, err := awsarn.Parse(arn)
	if err != nil {
		return ""
	}
	switch {
	case a.Service == "s3" && !strings.Contains(a.Resource, "/"):
		return KindBucket
	case a.Service == "rds" && strings.HasPrefix(a.Resource, "db:"):
		return KindDB
	case a.Service == "elasticloadbalancing" && strings.HasPrefix(a.Resource, "loadbalancer/"):
		return KindLoadBalancer
	case a.Service == "ec2":
		for _, k := range []string{KindInstance, KindVolume, KindSnapshot, KindAddress} {
			if strings.HasPrefix(a.Resource, k+"/") {
				return k
			}
		}
	}
	return ""
}

// ActionFor turns an optimization recommendation's action type (Stop,
// Delete, Rightsize, Upgrade, MigrateToGraviton, ScaleIn, Schedule) on a
// resource into the remediation action that carries it out. ScaleIn and
// Schedule have none (an Auto Scaling change, an off-hours schedule): the
// error says so.
func ActionFor(actionType, arn string) (Action, error) {
	const op = "remediation for a recommendation"
	kind := kindOf(arn)
	var a Action
	switch strings.ToLower(actionType) {
	case "stop":
		a = map[string]Action{KindInstance: StopInstance, KindDB: StopDB}[kind]
	case "delete":
		a = map[string]Action{KindVolume: DeleteVolume, KindSnapshot: DeleteSnapshot, KindAddress: ReleaseAddress,
			KindLoadBalancer: DeleteLoadBalancer, KindDB: DeleteDB, KindBucket: AbortMultipart}[kind]
	case "rightsize", "migratetograviton":
		a = map[string]Action{KindInstance: ResizeInstance}[kind]
	case "upgrade":
		a = map[string]Action{KindVolume: ModifyVolumeGP3, KindInstance: ResizeInstance}[kind]
	case "schedule":
		return "", crossbill.Errorf(crossbill.CodeInvalid, op, "a Schedule recommendation is carried out by an off-hours schedule: `crossbill remediate schedule create`")
	}
	if a == "" {
		return "", crossbill.Errorf(crossbill.CodeInvalid, op, "no remediation action does %s on %s (kind %q)", actionType, arn, kind)
	}
	return a, nil
}
