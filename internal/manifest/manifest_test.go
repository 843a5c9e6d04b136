package manifest_test

import (
	"strings"
	"testing"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/manifest"
)

func TestManifestValid(t *testing.T) {
	t.Parallel()
	for _, err := range manifest.Validate(nil) {
		t.Error(err)
	}
}

func TestEveryModuleHasPermissionsAndAProbe(t *testing.T) {
	t.Parallel()
	for _, m := range manifest.ValidModules() {
		if len(manifest.ByModule(m)) == 0 {
			t.Errorf("module %s has no permissions", m)
		}
		probes := manifest.Probes(m)
		if len(probes) == 0 {
			t.Errorf("module %s has no probe entry", m)
		}
		for _, p := range probes {
			if p.Skip != "" {
				continue
			}
			perm, ok := manifest.ActionForCall(p.Call)
			if !ok {
				t.Errorf("probe %s of %s is not declared in the manifest", p.Call, m)
				continue
			}
			inModule := false
			for _, q := range manifest.ByModule(m) {
				if q.Action == perm.Action {
					inModule = true
				}
			}
			if !inModule {
				t.Errorf("probe %s of %s exercises an action of another module", p.Call, m)
			}
			if p.Paid != (perm.CostUSD > 0 && perm.CostPer == "") {
				t.Errorf("probe %s: Paid=%v but the action costs %v", p.Call, p.Paid, perm.CostUSD)
			}
		}
	}
}

func TestValidateCatchesMistakes(t *testing.T) {
	t.Parallel()
	// The plug-in catalog check reports each unknown action.
	errs := manifest.Validate(func(action string) bool { return action != "ce:GetCostAndUsage" })
	if len(errs) != 1 || !strings.Contains(errs[0].Error(), "ce:GetCostAndUsage") {
		t.Fatalf("catalog check: %v", errs)
	}
}

func TestGuarantees(t *testing.T) {
	t.Parallel()
	for _, p := range manifest.All() {
		prefix, name, _ := strings.Cut(p.Action, ":")
		switch {
		case p.Action == "s3:GetObject" && p.Module != manifest.ModuleCUR:
			t.Errorf("%s: object reads are for the CUR module only", p.Module)
		case p.Action == "s3:GetObject" && p.Resource != "arn:${AWS::Partition}:s3:::${CurBucket}/${CurPrefix}/*":
			t.Errorf("s3:GetObject is not limited to the export prefix: %s", p.Resource)
		case prefix == "iam" && p.Level == manifest.LevelWrite && p.Module != manifest.ModuleAccessJIT:
			t.Errorf("%s: IAM write %s outside access-jit", p.Module, p.Action)
		case prefix == "secretsmanager" || prefix == "ssm" || prefix == "kms":
			t.Errorf("%s: %s reaches secrets, parameters or keys", p.Module, p.Action)
		case p.Module == manifest.ModuleRemediation && p.Level == manifest.LevelWrite && p.Condition == nil &&
			!strings.Contains(p.Resource, ":snapshot/") && !strings.Contains(p.Resource, ":snapshot:crossbill-"):
			t.Errorf("remediation %s has no condition", p.Action)
		case strings.Contains(name, "*"):
			t.Errorf("wildcard action %s", p.Action)
		}
		if p.Level != manifest.LevelList && p.Level != manifest.LevelRead {
			switch p.Module {
			case manifest.ModuleAccessJIT, manifest.ModuleRemediation, manifest.ModuleCommitmentsPurchase:
			default:
				t.Errorf("%s is a read-only module but has %s (%s)", p.Module, p.Action, p.Level)
			}
		}
	}
	if !manifest.ModuleCost.ReadOnly() || manifest.ModuleRemediation.ReadOnly() {
		t.Error("ReadOnly is wrong")
	}
}

func TestActionForCall(t *testing.T) {
	t.Parallel()
	for call, want := range map[string]string{
		"s3:ListObjectsV2":           "s3:ListBucket",
		"s3:HeadObject":              "s3:GetObject",
		"s3:ListBuckets":             "s3:ListAllMyBuckets",
		"ce:GetCostAndUsage":         "ce:GetCostAndUsage",
		"sts:AssumeRole":             "sts:AssumeRole",
		"sts:GetCallerIdentity":      "sts:GetCallerIdentity",
		"organizations:ListAccounts": "organizations:ListAccounts",
	} {
		p, ok := manifest.ActionForCall(call)
		if !ok || p.Action != want {
			t.Errorf("ActionForCall(%q) = %q, %v; want %q", call, p.Action, ok, want)
		}
	}
	if p, _ := manifest.ActionForCall("sts:GetCallerIdentity"); !p.NoPermission {
		t.Error("sts:GetCallerIdentity must need no permission")
	}
	// s3:PutObject and s3:DeleteObject are crossbill's own (hub) calls to
	// its --cost-store bucket; no customer module may grant them.
	for _, call := range []string{"s3:PutObject", "s3:DeleteObject"} {
		if p, ok := manifest.ActionForCall(call); !ok || p.Module != manifest.ModuleHub {
			t.Errorf("ActionForCall(%q) = %+v, %v; want the hub's", call, p, ok)
		}
		for _, p := range manifest.All() {
			if p.Action == call {
				t.Errorf("module %s grants %s in customer accounts", p.Module, call)
			}
		}
	}
	for _, call := range []string{"s3:PutBucketPolicy", "secretsmanager:GetSecretValue", "", "iam:CreateUser"} {
		if _, ok := manifest.ActionForCall(call); ok {
			t.Errorf("ActionForCall(%q) found an undeclared call", call)
		}
	}
}

func TestCallName(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ svc, op, want string }{
		{"Cost Explorer", "GetCostAndUsage", "ce:GetCostAndUsage"},
		{"S3", "ListObjectsV2", "s3:ListObjectsV2"},
		{"SSO Admin", "ListInstances", "sso:ListInstances"},
		{"identitystore", "ListUsers", "identitystore:ListUsers"},
		{"BCM Data Exports", "ListExports", "bcm-data-exports:ListExports"},
		{"OpenSearch", "DescribeReservedInstances", "es:DescribeReservedInstances"},
		{"Elastic Load Balancing v2", "DescribeLoadBalancers", "elasticloadbalancing:DescribeLoadBalancers"},
	} {
		if got := manifest.CallName(tt.svc, tt.op); got != tt.want {
			t.Errorf("CallName(%q, %q) = %q, want %q", tt.svc, tt.op, got, tt.want)
		}
	}
}

func TestParseModules(t *testing.T) {
	t.Parallel()
	got, err := manifest.ParseModules(" org, COST,org ")
	if err != nil || len(got) != 2 || got[0] != manifest.ModuleCost || got[1] != manifest.ModuleOrg {
		t.Fatalf("ParseModules = %v, %v", got, err)
	}
	if got, err := manifest.ParseModules(""); err != nil || len(got) != len(manifest.DefaultModules()) {
		t.Fatalf("default = %v, %v", got, err)
	}
	_, err = manifest.ParseModules("cost,billing")
	if crossbill.ErrorCode(err) != crossbill.CodeInvalid || !strings.Contains(err.Error(), "access-jit") {
		t.Fatalf("unknown module: %v (want invalid and the valid list)", err)
	}
	if _, err := manifest.ParseModules("hub"); crossbill.ErrorCode(err) != crossbill.CodeInvalid {
		t.Fatalf("hub is not a customer module: %v", err)
	}
}

func FuzzParseModules(f *testing.F) {
	for _, s := range []string{"", "cost", "cost,org", ",,", "access-jit, remediation", "x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ms, err := manifest.ParseModules(s)
		if err != nil {
			if crossbill.ErrorCode(err) != crossbill.CodeInvalid {
				t.Fatalf("code %q", crossbill.ErrorCode(err))
			}
			return
		}
		if len(ms) == 0 {
			t.Fatalf("%q parsed to no modules", s)
		}
	})
}

func TestValidateRejectsSeedMistakes(t *testing.T) {
	t.Parallel()
	ok := manifest.Permission{Module: manifest.ModuleCost, Action: "ce:GetCostAndUsage", Level: manifest.LevelRead, Resource: "*", Why: "x"}
	for name, p := range map[string]manifest.Permission{
		"service wildcard":      {Module: manifest.ModuleCUR, Action: "s3:*", Level: manifest.LevelRead, Resource: "arn:${AWS::Partition}:s3:::b", Why: "x"},
		"action wildcard":       {Module: manifest.ModuleCost, Action: "ce:Get*", Level: manifest.LevelRead, Resource: "*", Why: "x"},
		"deprecated prefix":     {Module: manifest.ModuleCost, Action: "aws-portal:ViewBilling", Level: manifest.LevelRead, Resource: "*", Why: "x"},
		"uppercase service":     {Module: manifest.ModuleCost, Action: "CE:GetCostAndUsage", Level: manifest.LevelRead, Resource: "*", Why: "x"},
		"lowercase action":      {Module: manifest.ModuleCost, Action: "ce:getCostAndUsage", Level: manifest.LevelRead, Resource: "*", Why: "x"},
		"object read on *":      {Module: manifest.ModuleCUR, Action: "s3:GetObject", Level: manifest.LevelRead, Resource: "*", Why: "x"},
		"iam read on *":         {Module: manifest.ModuleAccessRead, Action: "iam:GetRole", Level: manifest.LevelRead, Resource: "*", Why: "x"},
		"ec2 delete on *":       {Module: manifest.ModuleRemediation, Action: "ec2:DeleteVolume", Level: manifest.LevelWrite, Resource: "*", Why: "x"},
		"no why":                {Module: manifest.ModuleCost, Action: "ce:GetTags", Level: manifest.LevelRead, Resource: "*"},
		"unknown level":         {Module: manifest.ModuleCost, Action: "ce:GetTags", Level: "Admin", Resource: "*", Why: "x"},
		"unknown module":        {Module: "billing", Action: "ce:GetTags", Level: manifest.LevelRead, Resource: "*", Why: "x"},
		"hard-coded partition":  {Module: manifest.ModuleCUR, Action: "s3:ListBucket", Level: manifest.LevelList, Resource: "arn:aws:s3:::b", Why: "x"},
		"unknown template var":  {Module: manifest.ModuleCUR, Action: "s3:ListBucket", Level: manifest.LevelList, Resource: "arn:${AWS::Partition}:s3:::${Bucket}", Why: "x"},
		"call of other service": {Module: manifest.ModuleCUR, Action: "s3:ListBucket", Level: manifest.LevelList, Resource: "arn:${AWS::Partition}:s3:::${CurBucket}", Calls: []string{"ec2:ListObjectsV2"}, Why: "x"},
	} {
		if errs := manifest.ValidatePermissions([]manifest.Permission{ok, p}, nil); len(errs) == 0 {
			t.Errorf("%s: %s passed validation", name, p.Action)
		}
	}
	if errs := manifest.ValidatePermissions([]manifest.Permission{ok, ok}, nil); len(errs) != 1 {
		t.Errorf("duplicate: %v", errs)
	}
	if errs := manifest.ValidatePermissions([]manifest.Permission{ok}, nil); len(errs) != 0 {
		t.Errorf("good permission refused: %v", errs)
	}
}

func BenchmarkActionForCall(b *testing.B) {
	for b.Loop() {
		if _, ok := manifest.ActionForCall("s3:ListObjectsV2"); !ok {
			b.Fatal("not found")
		}
	}
}

func BenchmarkIndexActionForCall(b *testing.B) {
	ix := manifest.NewIndex()
	for b.Loop() {
		if _, ok := ix.ActionForCall("s3:ListObjectsV2"); !ok {
			b.Fatal("not found")
		}
	}
}
