package iamdata_test

import (
	"strings"
	"testing"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/iamdata"
)

func mustLoad(tb testing.TB) *iamdata.Catalog {
	tb.Helper()
	c, err := iamdata.Load()
	if err != nil {
		tb.Fatalf("Load: %v", err)
	}
	return c
}

func TestLoad(t *testing.T) {
	t.Parallel()
	c := mustLoad(t)
	if len(c.All()) < 20000 {
		t.Errorf("catalog has %d actions, want > 20000", len(c.All()))
	}
	if len(c.Services()) < 400 {
		t.Errorf("catalog has %d services, want > 400", len(c.Services()))
	}
	if !strings.HasPrefix(c.Version(), "0.") {
		t.Errorf("Version() = %q", c.Version())
	}
	for i, a := range c.All() {
		if a.ID != i {
			t.Fatalf("All()[%d].ID = %d", i, a.ID)
		}
	}
	if all := c.All(); cap(all) != len(all) || cap(c.Actions("s3")) != len(c.Actions("s3")) {
		t.Error("returned slices have spare capacity: an append would write into the catalog")
	}
	c2 := mustLoad(t)
	if c != c2 {
		t.Error("Load returned a different catalog the second time")
	}
}

func TestActionLevels(t *testing.T) {
	t.Parallel()
	c := mustLoad(t)
	tests := []struct {
		name  string
		level iamdata.Level
	}{
		{"s3:GetObject", iamdata.LevelRead},
		{"S3:getobject", iamdata.LevelRead},
		{"iam:PassRole", iamdata.LevelWrite},
		{"iam:PutRolePolicy", iamdata.LevelPermissions},
		{"ec2:DescribeInstances", iamdata.LevelList},
		{"s3:PutObjectTagging", iamdata.LevelTagging},
		{"s3:ListBucket", iamdata.LevelList},
		{"secretsmanager:GetSecretValue", iamdata.LevelRead},
	}
	for _, tt := range tests {
		a, ok := c.Action(tt.name)
		if !ok {
			t.Errorf("Action(%q) not found", tt.name)
			continue
		}
		if a.Level != tt.level {
			t.Errorf("Action(%q).Level = %q, want %q", tt.name, a.Level, tt.level)
		}
		if !strings.EqualFold(a.String(), tt.name) {
			t.Errorf("Action(%q).String() = %q", tt.name, a.String())
		}
	}
	a, _ := c.Action("s3:getobject")
	if a.String() != "s3:GetObject" || a.Description == "" {
		t.Errorf("canonical name/description: %q %q", a.String(), a.Description)
	}
}

func TestExpand(t *testing.T) {
	t.Parallel()
	c := mustLoad(t)

	describe, err := c.Expand("ec2:Describe*")
	if err != nil {
		t.Fatal(err)
	}
	if len(describe) <= 100 {
		t.Errorf("ec2:Describe* expands to %d actions, want > 100", len(describe))
	}
	for _, a := range describe {
		if a.Service != "ec2" || !strings.HasPrefix(a.Name, "Describe") {
			t.Errorf("ec2:Describe* expanded to %s", a)
		}
	}
	// Every Describe action of ec2 is in the expansion.
	n := 0
	for _, a := range c.Actions("ec2") {
		if strings.HasPrefix(a.Name, "Describe") {
			n++
		}
	}
	if n != len(describe) {
		t.Errorf("ec2 has %d Describe actions, expansion has %d", n, len(describe))
	}

	tests := []struct {
		pattern string
		must    []string
		check   func(iamdata.Action) bool
	}{
		{"s3:Get*Acl", []string{"s3:GetBucketAcl", "s3:GetObjectAcl"}, func(a iamdata.Action) bool {
			return a.Service == "s3" && strings.HasPrefix(a.Name, "Get") && strings.HasSuffix(a.Name, "Acl")
		}},
		{"iam:?etRole", []string{"iam:GetRole"}, func(a iamdata.Action) bool {
			return a.Service == "iam" && len(a.Name) == len("GetRole") && strings.HasSuffix(a.Name, "etRole")
		}},
		{"IAM:GETROLE", []string{"iam:GetRole"}, func(a iamdata.Action) bool { return a.String() == "iam:GetRole" }},
		{"secretsmanager:*", []string{"secretsmanager:GetSecretValue"}, func(a iamdata.Action) bool { return a.Service == "secretsmanager" }},
		{"s3*:GetObject", []string{"s3:GetObject"}, func(a iamdata.Action) bool { return strings.HasPrefix(a.Service, "s3") }},
	}
	for _, tt := range tests {
		got, err := c.Expand(tt.pattern)
		if err != nil {
			t.Errorf("Expand(%q): %v", tt.pattern, err)
			continue
		}
		names := map[string]bool{}
		for _, a := range got {
			names[a.String()] = true
			if !tt.check(a) {
				t.Errorf("Expand(%q) returned %s", tt.pattern, a)
			}
		}
		for _, m := range tt.must {
			if !names[m] {
				t.Errorf("Expand(%q) lacks %s", tt.pattern, m)
			}
		}
	}

	all, err := c.Expand("*")
	if err != nil || len(all) != len(c.All()) {
		t.Errorf("Expand(*) = %d actions, %v; want %d", len(all), err, len(c.All()))
	}
}

func TestExpandErrors(t *testing.T) {
	t.Parallel()
	c := mustLoad(t)
	tests := []struct {
		pattern        string
		code           crossbill.Code
		unknownService bool
		noMatch        bool
	}{
		{"nosuchservice:Get*", crossbill.CodeNotFound, true, false},
		{"nosuch*:Get*", crossbill.CodeNotFound, true, false},
		{"s3:NoSuchAction", crossbill.CodeNotFound, false, true},
		{"s3:Zz*", crossbill.CodeNotFound, false, true},
		{"s3", crossbill.CodeInvalid, false, false},
		{"s3:", crossbill.CodeInvalid, false, false},
		{":Get", crossbill.CodeInvalid, false, false},
		{"", crossbill.CodeInvalid, false, false},
	}
	for _, tt := range tests {
		got, err := c.Expand(tt.pattern)
		if err == nil {
			t.Errorf("Expand(%q) = %d actions, want error", tt.pattern, len(got))
			continue
		}
		if code := crossbill.ErrorCode(err); code != tt.code {
			t.Errorf("Expand(%q) code = %s, want %s (%v)", tt.pattern, code, tt.code, err)
		}
		if iamdata.IsUnknownService(err) != tt.unknownService || iamdata.IsNoMatch(err) != tt.noMatch {
			t.Errorf("Expand(%q): IsUnknownService=%v IsNoMatch=%v: %v", tt.pattern, iamdata.IsUnknownService(err), iamdata.IsNoMatch(err), err)
		}
	}
	for name, want := range map[string]bool{
		"s3:GetObject": false, "s3:Get*": false, "s3:GetObjekt": true, "foo:Bar": true, "aws-portal:ViewBilling": false,
	} {
		if got := c.IsUnknown(name); got != want {
			t.Errorf("IsUnknown(%q) = %v, want %v", name, got, want)
		}
	}
}

func TestServicesResourcesKeys(t *testing.T) {
	t.Parallel()
	c := mustLoad(t)
	s, ok := c.Service("EC2")
	if !ok || s.Prefix != "ec2" || s.Name == "" || s.Category != "compute" || s.CategoryName != "Compute" || s.RCP {
		t.Errorf("Service(EC2) = %+v, %v", s, ok)
	}
	if s3, _ := c.Service("s3"); !s3.RCP {
		t.Error("s3 does not support RCPs in the catalog")
	}
	if _, ok := c.Service("nosuch"); ok {
		t.Error("Service(nosuch) found")
	}
	rts := c.ResourceTypes("s3:GetObject")
	found := false
	for _, rt := range rts {
		if rt.Name == "object" && strings.Contains(rt.ARN, "${BucketName}/${ObjectName}") {
			found = true
		}
	}
	if !found {
		t.Errorf("ResourceTypes(s3:GetObject) = %+v, want object with bucket/object ARN", rts)
	}
	a, _ := c.Action("iam:PassRole")
	if len(a.Resources) == 0 || a.Resources[0].Type != "role" || !a.Resources[0].Required {
		t.Errorf("iam:PassRole resources = %+v, want required role", a.Resources)
	}
	if c.ResourceTypes("nosuch:Action") != nil {
		t.Error("ResourceTypes of unknown action not nil")
	}
	for name, typ := range map[string]string{
		"aws:MultiFactorAuthPresent": "Bool",
		"aws:SourceIp":               "IPAddress",
		"aws:RequestTag/team":        "String",
		"sts:ExternalId":             "String",
		"aws:TagKeys":                "ArrayOfString",
	} {
		k, ok := c.ConditionKey(name)
		if !ok || k.Type != typ {
			t.Errorf("ConditionKey(%q) = %+v, %v; want type %s", name, k, ok, typ)
		}
	}
}

func BenchmarkLoad(b *testing.B) {
	// Parse the embedded data each time (Load itself is memoized).
	for b.Loop() {
		if _, err := iamdata.ParseEmbedded(); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkExpand(b *testing.B) {
	c := mustLoad(b)
	for b.Loop() {
		if _, err := c.Expand("ec2:Describe*"); err != nil {
			b.Fatal(err)
		}
	}
}
