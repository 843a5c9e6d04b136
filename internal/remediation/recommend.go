package remediation

import (
	"context"
	"strings"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/awsarn"
	"github.com/crossbill/crossbill/internal/optimize"
	"github.com/crossbill/crossbill/internal/store"
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
		// optimize's s3-abort-multipart rule is an Upgrade of the bucket's lifecycle.
		a = map[string]Action{KindVolume: ModifyVolumeGP3, KindInstance: ResizeInstance, KindBucket: AbortMultipart}[kind]
	case "schedule":
		return "", crossbill.Errorf(crossbill.CodeInvalid, op, "a Schedule recommendation is carried out by an off-hours schedule: `crossbill remediate schedule create`")
	}
	if a == "" {
		return "", crossbill.Errorf(crossbill.CodeInvalid, op, "no remediation action does %s on %s (kind %q)", actionType, arn, kind)
	}
	return a, nil
}

// TargetsFor turns optimization recommendations (by ID) into the targets
// of a plan: the action their type maps to, the resource, and the
// arguments the change needs (the instance type a rightsizing names).
// Each target keeps its recommendation's ID, so the plan shows why.
func TargetsFor(ctx context.Context, st *store.Store, tenant crossbill.TenantID, ids []string) ([]Target, error) {
	const op = "remediation for a recommendation"
	out := make([]Target, 0, len(ids))
	for _, id := range ids {
		rec, err := optimize.Get(ctx, st, tenant, id)
		if err != nil {
			return nil, err
		}
		if rec.State != "" && rec.State != store.RecommendationOpen {
			return nil, crossbill.Errorf(crossbill.CodeConflict, op, "recommendation %s is %s: the last evaluation no longer makes it", id, rec.State)
		}
		a, err := ActionFor(string(rec.Action), rec.ARN)
		if err != nil {
			return nil, err
		}
		t := Target{Action: a, ARN: rec.ARN, Account: rec.AccountID, Region: rec.Region, Recommendation: rec.ID}
		if a == ResizeInstance {
			t.Params = map[string]string{"instance_type": rec.Target}
		}
		out = append(out, t)
	}
	return out, nil
}
