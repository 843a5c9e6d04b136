package policy_test

import (
	"strings"
	"testing"

	"github.com/crossbill/crossbill/internal/iamdata"
	"github.com/crossbill/crossbill/internal/policy"
)

func catalog(tb testing.TB) *iamdata.Catalog {
	tb.Helper()
	c, err := iamdata.Load()
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

func grantMap(eff policy.Effective) map[string]policy.Grant {
	m := map[string]policy.Grant{}
	for _, g := range eff.Grants {
		m[g.Action.String()] = g
	}
	return m
}

func TestEffectiveActions(t *testing.T) {
	t.Parallel()
	cat := catalog(t)
	doc := mustParse(t, `{"Version":"2012-10-17","Statement":[
	  {"Sid":"Describe","Effect":"Allow","Action":["ec2:Describe*","ec2:DescribeInstances"],"Resource":"*"},
	  {"Sid":"Cur","Effect":"Allow","Action":["s3:GetObject","s3:ListBucket"],"Resource":["arn:aws:s3:::cur","arn:aws:s3:::cur/*"]},
	  {"Sid":"Tagged","Effect":"Allow","Action":"ec2:StopInstances","Resource":"*","Condition":{"StringEquals":{"aws:ResourceTag/crossbill":"allowed"}}},
	  {"Sid":"AlsoGet","Effect":"Allow","Action":"s3:getobject","Resource":"*"},
	  {"Sid":"NoRegions","Effect":"Deny","Action":"ec2:DescribeRegions","Resource":"*"},
	  {"Sid":"NoCurWrite","Effect":"Deny","Action":"s3:GetObject","Resource":"arn:aws:s3:::cur/private/*"},
	  {"Sid":"Typos","Effect":"Allow","Action":["s3:GetObjekt","nosuch:Get*"],"Resource":"*"}
	]}`)
	eff := policy.EffectiveActions(doc, cat)
	g := grantMap(eff)

	describe, _ := cat.Expand("ec2:Describe*")
	for _, a := range describe {
		if a.Name == "DescribeRegions" {
			if _, ok := g[a.String()]; ok {
				t.Error("ec2:DescribeRegions is denied on * but still granted")
			}
			continue
		}
		if gr, ok := g[a.String()]; !ok || len(gr.Scopes) != 1 || !gr.Unrestricted() {
			t.Errorf("%s: grant %+v (one unrestricted scope expected; duplicates within a statement merged)", a, gr)
		}
	}
	get := g["s3:GetObject"]
	if len(get.Scopes) != 2 || get.Scopes[0].Sid != "Cur" || get.Scopes[1].Sid != "AlsoGet" || !get.Unrestricted() {
		t.Errorf("s3:GetObject scopes = %+v", get.Scopes)
	}
	if len(get.Denies) != 1 || get.Denies[0].Sid != "NoCurWrite" {
		t.Errorf("s3:GetObject denies = %+v", get.Denies)
	}
	if lb := g["s3:ListBucket"]; lb.Unrestricted() || lb.Scopes[0].Resources[0] != "arn:aws:s3:::cur" {
		t.Errorf("s3:ListBucket = %+v", lb)
	}
	if st := g["ec2:StopInstances"]; st.Unrestricted() || len(st.Scopes[0].Conditions) != 1 {
		t.Errorf("ec2:StopInstances = %+v", st)
	}
	if len(eff.Unknown) != 2 || eff.Unknown[0].Pattern != "s3:GetObjekt" || eff.Unknown[0].UnknownService || !eff.Unknown[1].UnknownService {
		t.Errorf("Unknown = %+v", eff.Unknown)
	}
	for i := 1; i < len(eff.Grants); i++ {
		a, b := eff.Grants[i-1].Action, eff.Grants[i].Action
		if a.Service > b.Service || (a.Service == b.Service && strings.ToLower(a.Name) >= strings.ToLower(b.Name)) {
			t.Fatalf("grants not sorted: %s before %s", a, b)
		}
	}
}

func TestEffectiveDenyBeforeAllow(t *testing.T) {
	t.Parallel()
	doc := mustParse(t, `{"Version":"2012-10-17","Statement":[
	  {"Effect":"Deny","Action":"s3:DeleteBucket","Resource":"*"},
	  {"Effect":"Deny","Action":"s3:PutObject","Resource":"arn:aws:s3:::locked/*"},
	  {"Effect":"Allow","Action":["s3:DeleteBucket","s3:PutObject","s3:GetObject"],"Resource":"*"}
	]}`)
	g := grantMap(policy.EffectiveActions(doc, catalog(t)))
	if _, ok := g["s3:DeleteBucket"]; ok {
		t.Error("s3:DeleteBucket denied on * earlier in the document, still granted")
	}
	if put := g["s3:PutObject"]; len(put.Scopes) != 1 || len(put.Denies) != 1 || put.Denies[0].Statement != 1 {
		t.Errorf("s3:PutObject = %+v", put)
	}
	if get := g["s3:GetObject"]; len(get.Scopes) != 1 || len(get.Denies) != 0 {
		t.Errorf("s3:GetObject = %+v", get)
	}
	if len(g) != 2 {
		t.Errorf("%d grants, want 2", len(g))
	}
}

func TestEffectiveNotAction(t *testing.T) {
	t.Parallel()
	cat := catalog(t)
	doc := mustParse(t, `{"Version":"2012-10-17","Statement":[
	  {"Effect":"Allow","NotAction":["iam:*","organizations:*","account:*"],"Resource":"*"}
	]}`)
	eff := policy.EffectiveActions(doc, cat)
	want := len(cat.All()) - len(cat.Actions("iam")) - len(cat.Actions("organizations")) - len(cat.Actions("account"))
	if len(eff.Grants) != want {
		t.Errorf("NotAction grants %d actions, want %d", len(eff.Grants), want)
	}
	g := grantMap(eff)
	if _, ok := g["iam:PassRole"]; ok {
		t.Error("iam:PassRole granted despite NotAction iam:*")
	}
	if _, ok := g["ec2:RunInstances"]; !ok {
		t.Error("ec2:RunInstances not granted by NotAction")
	}
	// A Deny NotAction removes everything but the listed actions.
	doc = mustParse(t, `{"Version":"2012-10-17","Statement":[
	  {"Effect":"Allow","Action":"*","Resource":"*"},
	  {"Effect":"Deny","NotAction":["s3:GetObject","sts:GetCallerIdentity"],"Resource":"*"}
	]}`)
	eff = policy.EffectiveActions(doc, cat)
	if len(eff.Grants) != 2 || eff.Grants[0].Action.String() != "s3:GetObject" || eff.Grants[1].Action.String() != "sts:GetCallerIdentity" {
		var names []string
		for _, g := range eff.Grants[:min(5, len(eff.Grants))] {
			names = append(names, g.Action.String())
		}
		t.Errorf("Allow * minus Deny NotAction = %d grants %v", len(eff.Grants), names)
	}
}
