package remediation

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

func itoa[T ~int32 | ~int](n T) string { return strconv.Itoa(int(n)) }

// Default parameters.
const (
	defaultSnapshotAgeDays  = 90
	defaultAbortAfterDays   = 7
	abortMultipartRuleID    = "crossbill-abort-incomplete-multipart"
	maxInstanceTypeLen      = 40
	maxTargets              = 500
	defaultPlanApprovalDays = 7
)

// decide fills item's status, steps, undo and restore note from what was
// read about its resource. It never calls AWS.
func decide(it *Item, f facts, now time.Time) {
	t := it.Target
	key, value := AllowedTag()
	it.State = f.State
	switch {
	case !f.Exists:
		it.Status, it.Reason = ItemSkipped, "the resource does not exist (any more) in "+string(t.Account)+" "+t.Region
		return
	case f.Tags[key] != value:
		it.Status = ItemRefused
		it.Reason = fmt.Sprintf("outside the remediation module's tag condition: the resource is not tagged %s=%s, so crossbill's role may not change it", key, value)
		it.Fix = fmt.Sprintf("if this change is wanted, tag %s with %s=%s (%s), then plan again", it.ID, key, value, tagCommand(t.Action.Kind(), it.ID, key, value))
		return
	case f.Tags[ProtectTag] != "":
		it.Status, it.Reason = ItemSkipped, "protected: the resource has the "+ProtectTag+" tag"
		it.Fix = "remove the " + ProtectTag + " tag if crossbill may change it"
		return
	}
	if f.Protected != "" && t.Action != StartInstance && t.Action != StopDB && t.Action != ModifyVolumeGP3 {
		it.Status, it.Reason = ItemSkipped, "protected: "+f.Protected
		return
	}
	if f.Attr["deletion_protection"] == "true" && t.Action == DeleteDB {
		it.Status, it.Reason = ItemSkipped, "protected: deletion protection is on"
		return
	}
	skip := func(reason string) { it.Status, it.Reason = ItemSkipped, reason }
	wrongState := func(allowed ...string) bool {
		for _, s := range allowed {
			if f.State == s {
				return false
			}
		}
		skip(fmt.Sprintf("state guard: %s is %s; %s acts only from %s", it.ID, f.State, t.Action, strings.Join(allowed, " or ")))
		return true
	}
	it.Status = ItemReady
	switch t.Action {
	case StopInstance:
		if f.State == "stopped" {
			skip("already stopped (compliant)")
			return
		}
		if wrongState("running") {
			return
		}
		it.Steps = []Step{{Op: "ec2:StopInstances", Says: "stop " + it.ID + " and wait until it is stopped"}}
		it.Undo = []Step{{Op: "ec2:StartInstances", Says: "start " + it.ID + " again"}}
	case StartInstance:
		if f.State == "running" {
			skip("already running (compliant)")
			return
		}
		if wrongState("stopped") {
			return
		}
		it.Steps = []Step{{Op: "ec2:StartInstances", Says: "start " + it.ID}}
		it.Undo = []Step{{Op: "ec2:StopInstances", Says: "stop " + it.ID + " again"}}
	case ResizeInstance:
		to, from := t.Params["instance_type"], f.Attr["instance_type"]
		if to == "" || len(to) > maxInstanceTypeLen || !strings.Contains(to, ".") {
			it.Status, it.Reason, it.Fix = ItemRefused, "resize needs the new instance type", "pass the parameter instance_type=TYPE (e.g. m7g.large)"
			return
		}
		if to == from {
			skip("already " + to + " (compliant)")
			return
		}
		if wrongState("running", "stopped") {
			return
		}
		it.Steps, it.Undo = resizeSteps(it.ID, from, to, f.State == "running"), resizeSteps(it.ID, to, from, f.State == "running")
	case DeleteVolume:
		if wrongState("available") {
			return
		}
		it.Steps = []Step{
			{Op: "ec2:CreateSnapshot", Says: "snapshot " + it.ID + " first (what restores it)"},
			{Op: "ec2:DeleteVolume", Says: "delete " + it.ID},
		}
		it.UndoNote = fmt.Sprintf("not undone by crossbill: restore from the snapshot this plan takes (aws ec2 create-volume --snapshot-id SNAPSHOT --availability-zone %s --volume-type %s)", f.Attr["availability_zone"], f.Attr["volume_type"])
	case ModifyVolumeGP3:
		if f.Attr["volume_type"] == "gp3" {
			skip("already gp3 (compliant)")
			return
		}
		if f.Attr["volume_type"] != "gp2" {
			skip("state guard: " + it.ID + " is " + f.Attr["volume_type"] + ", not gp2")
			return
		}
		if wrongState("available", "in-use") {
			return
		}
		it.Steps = []Step{{Op: "ec2:ModifyVolume", Says: "change " + it.ID + " from gp2 to gp3 (no downtime; same size, baseline 3000 IOPS)", Args: map[string]string{"volume_type": "gp3"}}}
		it.Undo = []Step{{Op: "ec2:ModifyVolume", Says: "change " + it.ID + " back to gp2 (AWS allows one change per volume every 6 hours)", Args: map[string]string{"volume_type": "gp2"}}}
	case DeleteSnapshot:
		if wrongState("completed") {
			return
		}
		days := defaultSnapshotAgeDays
		if s := t.Params["min_age_days"]; s != "" {
			n, err := strconv.Atoi(s)
			if err != nil || n < 1 || n > 36500 {
				it.Status, it.Reason, it.Fix = ItemRefused, "min_age_days must be a number of days", "pass min_age_days=N (1 or more)"
				return
			}
			days = n
		}
		started, err := time.Parse("2006-01-02T15:04:05Z", f.Attr["started"])
		if err != nil || now.Sub(started) < time.Duration(days)*24*time.Hour {
			skip(fmt.Sprintf("state guard: the snapshot is younger than %d days (taken %s)", days, f.Attr["started"]))
			return
		}
		it.Steps = []Step{{Op: "ec2:DeleteSnapshot", Says: "delete " + it.ID + " (taken " + f.Attr["started"] + ")"}}
		it.UndoNote = "a deleted snapshot cannot be restored"
	case ReleaseAddress:
		if wrongState("unassociated") {
			return
		}
		it.Steps = []Step{{Op: "ec2:ReleaseAddress", Says: "release " + f.Attr["public_ip"] + " (" + it.ID + ")"}}
		it.Restore = "AWS may give the same address back if no one else took it: aws ec2 allocate-address --address " + f.Attr["public_ip"]
		it.UndoNote = "not undone by crossbill: " + it.Restore
	case DeleteLoadBalancer:
		if wrongState("active", "failed") {
			return
		}
		it.Steps = []Step{{Op: "elasticloadbalancing:DeleteLoadBalancer", Says: "delete " + f.Attr["type"] + " load balancer " + f.Attr["name"]}}
		it.Restore = fmt.Sprintf("recreate a %s %s load balancer named %s with its listeners and target groups; its DNS name %s will change", f.Attr["scheme"], f.Attr["type"], f.Attr["name"], f.Attr["dns_name"])
		it.UndoNote = "not undone by crossbill: " + it.Restore
	case StopDB:
		if f.State == "stopped" {
			skip("already stopped (compliant)")
			return
		}
		if wrongState("available") {
			return
		}
		it.Steps = []Step{{Op: "rds:StopDBInstance", Says: "snapshot " + it.ID + " as it stops, then stop it (AWS starts it again after 7 days)"}}
		it.Undo = []Step{{Op: "rds:StartDBInstance", Says: "start " + it.ID + " again"}}
	case DeleteDB:
		if wrongState("available", "stopped") {
			return
		}
		it.Steps = []Step{{Op: "rds:DeleteDBInstance", Says: "delete " + it.ID + " after a final snapshot"}}
		it.UndoNote = "not undone by crossbill: restore the final snapshot (aws rds restore-db-instance-from-db-snapshot)"
	case AbortMultipart:
		days := defaultAbortAfterDays
		if s := t.Params["days"]; s != "" {
			n, err := strconv.Atoi(s)
			if err != nil || n < 1 || n > 3650 {
				it.Status, it.Reason, it.Fix = ItemRefused, "days must be a number of days", "pass days=N (1 or more)"
				return
			}
			days = n
		}
		for _, r := range f.Lifecycle {
			if r.AbortIncompleteMultipartUpload != nil && string(r.Status) == "Enabled" && ruleCoversBucket(r) {
				skip("the bucket's lifecycle already aborts incomplete multipart uploads (compliant)")
				return
			}
		}
		it.Steps = []Step{{Op: "s3:PutLifecycleConfiguration", Says: fmt.Sprintf("add lifecycle rule %s to %s: abort incomplete multipart uploads after %d days, keeping its %d other rule(s)", abortMultipartRuleID, it.ID, days, len(f.Lifecycle)),
			Args: map[string]string{"days": strconv.Itoa(days)}}}
		it.Undo = []Step{{Op: "s3:PutLifecycleConfiguration", Says: "put the bucket's previous lifecycle rules back", Args: map[string]string{"restore": "previous"}}}
	default:
		it.Status, it.Reason = ItemRefused, "unknown action "+string(t.Action)
	}
	if len(it.Undo) == 0 && it.UndoNote == "" && it.Status == ItemReady {
		it.UndoNote = "no undo"
	}
}

func resizeSteps(id, from, to string, running bool) []Step {
	var s []Step
	if running {
		s = append(s, Step{Op: "ec2:StopInstances", Says: "stop " + id + " and wait until it is stopped"})
	}
	s = append(s, Step{Op: "ec2:ModifyInstanceAttribute", Says: "change " + id + " from " + from + " to " + to, Args: map[string]string{"instance_type": to, "from": from}})
	if running {
		s = append(s, Step{Op: "ec2:StartInstances", Says: "start " + id + " again"})
	}
	return s
}

// tagCommand is the AWS CLI command that tags a resource.
func tagCommand(kind, id, key, value string) string {
	switch kind {
	case KindLoadBalancer:
		return fmt.Sprintf("aws elbv2 add-tags --resource-arns %s --tags Key=%s,Value=%s", id, key, value)
	case KindDB:
		return fmt.Sprintf("aws rds add-tags-to-resource --resource-name DB_ARN --tags Key=%s,Value=%s", key, value)
	case KindBucket:
		return fmt.Sprintf("aws s3api put-bucket-tagging --bucket %s with %s=%s added to its tag set", id, key, value)
	}
	return fmt.Sprintf("aws ec2 create-tags --resources %s --tags Key=%s,Value=%s", id, key, value)
}
