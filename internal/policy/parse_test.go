package policy_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/policy"
)

func mustParse(tb testing.TB, src string) *policy.Document {
	tb.Helper()
	doc, err := policy.Parse([]byte(src))
	if err != nil {
		tb.Fatalf("Parse: %v\n%s", err, src)
	}
	return doc
}

func TestParseForms(t *testing.T) {
	t.Parallel()
	doc := mustParse(t, `{
	  "Version": "2012-10-17",
	  "Id": "p1",
	  "Statement": {
	    "Sid": "One",
	    "Effect": "Allow",
	    "Principal": {"AWS": "arn:aws:iam::123456789012:role/Vendor", "Service": ["ec2.amazonaws.com", "lambda.amazonaws.com"]},
	    "Action": "sts:AssumeRole",
	    "Condition": {
	      "StringEquals": {"sts:ExternalId": "abc", "aws:SourceAccount": ["111122223333"]},
	      "ForAllValues:StringLikeIfExists": {"aws:TagKeys": ["team", "env*"]},
	      "NumericLessThan": {"aws:MultiFactorAuthAge": 3600},
	      "Bool": {"aws:SecureTransport": true},
	      "Null": {"aws:TokenIssueTime": "false"}
	    }
	  }
	}`)
	if doc.Version != policy.Version2012 || doc.ID != "p1" || len(doc.Statements) != 1 {
		t.Fatalf("doc = %+v", doc)
	}
	st := doc.Statements[0]
	if st.Sid != "One" || st.Effect != policy.Allow || !reflect.DeepEqual(st.Action, []string{"sts:AssumeRole"}) || st.NotAction != nil {
		t.Errorf("statement = %+v", st)
	}
	if st.Resource != nil || st.NotResource != nil {
		t.Errorf("trust statement has resources: %+v", st)
	}
	wantP := &policy.Principal{AWS: []string{"arn:aws:iam::123456789012:role/Vendor"}, Service: []string{"ec2.amazonaws.com", "lambda.amazonaws.com"}}
	if !reflect.DeepEqual(st.Principal, wantP) {
		t.Errorf("principal = %+v, want %+v", st.Principal, wantP)
	}
	want := []policy.Condition{
		{Operator: "StringEquals", Base: policy.StringEquals, Key: "sts:ExternalId", Values: []string{"abc"}},
		{Operator: "StringEquals", Base: policy.StringEquals, Key: "aws:SourceAccount", Values: []string{"111122223333"}},
		{Operator: "ForAllValues:StringLikeIfExists", Base: policy.StringLike, Set: policy.ForAllValues, IfExists: true, Key: "aws:TagKeys", Values: []string{"team", "env*"}},
		{Operator: "NumericLessThan", Base: policy.NumericLessThan, Key: "aws:MultiFactorAuthAge", Values: []string{"3600"}},
		{Operator: "Bool", Base: policy.Bool, Key: "aws:SecureTransport", Values: []string{"true"}},
		{Operator: "Null", Base: policy.Null, Key: "aws:TokenIssueTime", Values: []string{"false"}},
	}
	if !reflect.DeepEqual(st.Conditions, want) {
		t.Errorf("conditions =\n%+v\nwant\n%+v", st.Conditions, want)
	}
	if got := st.ConditionsOn("STS:EXTERNALID"); len(got) != 1 || got[0].Values[0] != "abc" {
		t.Errorf("ConditionsOn = %+v", got)
	}

	if bom := mustParse(t, "\ufeff"+`{"Statement":{"Effect":"Allow","Action":"*"}}`); len(bom.Statements) != 1 {
		t.Error("document with a byte-order mark not parsed")
	}

	doc = mustParse(t, `{"Statement": [
	  {"Effect": "Deny", "NotAction": ["iam:*", "sts:*"], "NotResource": "arn:aws:s3:::b/*", "NotPrincipal": {"AWS": ["111122223333"]}},
	  {"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": ["*"], "Condition": {"stringequalsignorecaseifexists": {"aws:PrincipalOrgID": "o-123"}}},
	  {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "s3:GetObject", "Resource": "${Bucket.Arn}/*"},
	  {"Effect": "Allow", "Principal": {"Federated": "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com", "CanonicalUser": "79a5"}, "Action": "sts:AssumeRoleWithWebIdentity"}
	]}`)
	if doc.Version != "" || len(doc.Statements) != 4 {
		t.Fatalf("doc = %+v", doc)
	}
	s0, s1, s2, s3 := doc.Statements[0], doc.Statements[1], doc.Statements[2], doc.Statements[3]
	if s0.Action != nil || len(s0.NotAction) != 2 || s0.NotResource[0] != "arn:aws:s3:::b/*" || s0.NotPrincipal.AWS[0] != "111122223333" {
		t.Errorf("statement 0 = %+v", s0)
	}
	if !s1.Principal.Any || s1.Conditions[0].Operator != "StringEqualsIgnoreCaseIfExists" || s1.Index != 1 {
		t.Errorf("statement 1 = %+v", s1)
	}
	if !s2.Principal.Any || s2.Resource[0] != "${Bucket.Arn}/*" {
		t.Errorf("statement 2 = %+v", s2)
	}
	if len(s3.Principal.Federated) != 1 || len(s3.Principal.CanonicalUser) != 1 || s3.Principal.Any {
		t.Errorf("statement 3 = %+v", s3)
	}
}

func TestMarshalRoundTrip(t *testing.T) {
	t.Parallel()
	paths, err := filepath.Glob("testdata/*.good.json")
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range paths {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		doc := mustParse(t, string(b))
		out, err := json.Marshal(doc)
		if err != nil {
			t.Fatal(err)
		}
		if again := mustParse(t, string(out)); !reflect.DeepEqual(again, doc) {
			t.Errorf("%s: round trip changed the document\n%s", path, out)
		}
	}
	doc := mustParse(t, `{"Statement":{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Condition":{"Bool":{"aws:SecureTransport":true}}}}`)
	out, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	const want = `{"Statement":[{"Effect":"Allow","Principal":"*","Action":["s3:GetObject"],"Condition":{"Bool":{"aws:SecureTransport":["true"]}}}]}`
	if string(out) != want {
		t.Errorf("canonical form\n%s\nwant\n%s", out, want)
	}
}

func TestParseErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, src, path string
	}{
		{"not json", `{`, "not valid JSON"},
		{"not object", `[]`, "must be a JSON object"},
		{"trailing", `{"Statement":{"Effect":"Allow","Action":"*"}} {}`, "after the policy"},
		{"bad version", `{"Version":"2012-10-18","Statement":{"Effect":"Allow","Action":"*"}}`, "Version:"},
		{"unknown top", `{"statement":{"Effect":"Allow","Action":"*"}}`, `statement: unknown element (element names are case-sensitive: write "Statement")`},
		{"no statement", `{"Version":"2012-10-17"}`, "Statement: missing"},
		{"empty statements", `{"Statement":[]}`, "Statement: is empty"},
		{"statement string", `{"Statement":"x"}`, "Statement: must be"},
		{"bad effect", `{"Statement":[{"Effect":"Allow","Action":"*"},{"Effect":"Allow","Action":"*"},{"Effect":"allow","Action":"*"}]}`, "Statement[2].Effect: must be Allow or Deny"},
		{"no effect", `{"Statement":{"Action":"*"}}`, "Statement.Effect: missing"},
		{"no action", `{"Statement":{"Effect":"Allow"}}`, "Statement.Action: missing"},
		{"both actions", `{"Statement":{"Effect":"Allow","Action":"*","NotAction":"s3:*"}}`, "Statement.NotAction:"},
		{"both resources", `{"Statement":{"Effect":"Allow","Action":"*","Resource":"*","NotResource":"*"}}`, "Statement.NotResource:"},
		{"both principals", `{"Statement":{"Effect":"Deny","Action":"*","Principal":"*","NotPrincipal":"*"}}`, "Statement.NotPrincipal:"},
		{"bad action", `{"Statement":{"Effect":"Allow","Action":["s3:GetObject","GetObject"]}}`, "Statement.Action[1]:"},
		{"empty action list", `{"Statement":{"Effect":"Allow","Action":[]}}`, "Statement.Action: is an empty list"},
		{"number action", `{"Statement":{"Effect":"Allow","Action":[1]}}`, "Statement.Action[0]: must be a string"},
		{"empty resource", `{"Statement":{"Effect":"Allow","Action":"*","Resource":""}}`, "Statement.Resource: is empty"},
		{"principal string", `{"Statement":{"Effect":"Allow","Action":"*","Principal":"123456789012"}}`, "Statement.Principal:"},
		{"principal type", `{"Statement":{"Effect":"Allow","Action":"*","Principal":{"aws":"*"}}}`, `Statement.Principal.aws: unknown principal type (element names are case-sensitive: write "AWS")`},
		{"empty principal", `{"Statement":{"Effect":"Allow","Action":"*","Principal":{}}}`, "Statement.Principal: is empty"},
		{"unknown element", `{"Statement":{"Effect":"Allow","Action":"*","Resources":"*"}}`, "Statement.Resources: unknown element"},
		{"dup key", `{"Statement":{"Effect":"Allow","Effect":"Deny","Action":"*"}}`, "duplicate key"},
		{"dup sid", `{"Statement":[{"Sid":"A","Effect":"Allow","Action":"*"},{"Sid":"A","Effect":"Allow","Action":"*"}]}`, "Statement[1].Sid:"},
		{"cond not object", `{"Statement":{"Effect":"Allow","Action":"*","Condition":[]}}`, "Statement.Condition: must be an object"},
		{"unknown operator", `{"Statement":{"Effect":"Allow","Action":"*","Condition":{"StringEq":{"a:b":"c"}}}}`, "Statement.Condition.StringEq: unknown condition operator"},
		{"unknown qualifier", `{"Statement":{"Effect":"Allow","Action":"*","Condition":{"ForSomeValues:StringEquals":{"a:b":"c"}}}}`, "unknown qualifier"},
		{"null ifexists", `{"Statement":{"Effect":"Allow","Action":"*","Condition":{"NullIfExists":{"a:b":"true"}}}}`, "Null takes neither"},
		{"empty cond block", `{"Statement":{"Effect":"Allow","Action":"*","Condition":{"StringEquals":{}}}}`, "Statement.Condition.StringEquals: is empty"},
		{"cond value object", `{"Statement":{"Effect":"Allow","Action":"*","Condition":{"StringEquals":{"a:b":{}}}}}`, `Statement.Condition.StringEquals["a:b"]: must be`},
		{"cond empty list", `{"Statement":{"Effect":"Allow","Action":"*","Condition":{"StringEquals":{"a:b":[]}}}}`, "empty list"},
		{"bool value", `{"Statement":{"Effect":"Allow","Action":"*","Condition":{"Bool":{"aws:SecureTransport":"yes"}}}}`, "is not true or false"},
		{"numeric value", `{"Statement":{"Effect":"Allow","Action":"*","Condition":{"NumericLessThan":{"s3:max-keys":"ten"}}}}`, "is not a number"},
		{"date value", `{"Statement":{"Effect":"Allow","Action":"*","Condition":{"DateLessThan":{"aws:CurrentTime":"tomorrow"}}}}`, "is not a date"},
		{"ip value", `{"Statement":{"Effect":"Allow","Action":"*","Condition":{"IpAddress":{"aws:SourceIp":"10.0.0.0/33"}}}}`, "is not an IP address"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			doc, err := policy.Parse([]byte(tt.src))
			if err == nil {
				t.Fatalf("Parse succeeded: %+v", doc)
			}
			if code := crossbill.ErrorCode(err); code != crossbill.CodeInvalid {
				t.Errorf("code = %s, want invalid (%v)", code, err)
			}
			if !strings.Contains(err.Error(), tt.path) {
				t.Errorf("error %q does not contain %q", err, tt.path)
			}
		})
	}
}

func TestParseTestdata(t *testing.T) {
	t.Parallel()
	good, err := filepath.Glob("testdata/*.good.json")
	if err != nil || len(good) == 0 {
		t.Fatalf("no good fixtures: %v", err)
	}
	for _, path := range good {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := policy.Parse(b); err != nil {
			t.Errorf("%s: %v", path, err)
		}
	}
	bad, err := filepath.Glob("testdata/*.bad.json")
	if err != nil || len(bad) == 0 {
		t.Fatalf("no bad fixtures: %v", err)
	}
	for _, path := range bad {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := policy.Parse(b); crossbill.ErrorCode(err) != crossbill.CodeInvalid {
			t.Errorf("%s: err = %v, want invalid", path, err)
		}
	}
}

func FuzzParse(f *testing.F) {
	seeds, err := filepath.Glob("testdata/*.json")
	if err != nil {
		f.Fatal(err)
	}
	for _, path := range seeds {
		b, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"Statement":{"Effect":"Allow","Action":"*","Condition":{"ForAnyValue:StringLike":{"a:b":["x",1,true]}}}}`))
	f.Add([]byte(`{"Statement":{"Sid":"q\"b\\c\u0001\u00e9","Effect":"Deny","NotAction":"s3:Get*","NotPrincipal":{"AWS":["*"]},"Resource":"\ud83d\ude00"}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		doc, err := policy.Parse(data)
		if err != nil {
			if code := crossbill.ErrorCode(err); code != crossbill.CodeInvalid {
				t.Fatalf("error code %s, want invalid: %v", code, err)
			}
			return
		}
		// The canonical form parses back to the same document.
		out, err := json.Marshal(doc)
		if err != nil {
			t.Fatalf("marshal: %v", err)
		}
		again, err := policy.Parse(out)
		if err != nil {
			t.Fatalf("canonical form does not parse: %v\n%s", err, out)
		}
		if !reflect.DeepEqual(again, doc) {
			t.Fatalf("round trip changed the document:\n%+v\n%+v\n%s", doc, again, out)
		}
		// Invariants every parsed document keeps.
		if len(doc.Statements) == 0 {
			t.Fatal("parsed a document without statements")
		}
		for i, st := range doc.Statements {
			if st.Index != i || (st.Effect != policy.Allow && st.Effect != policy.Deny) {
				t.Fatalf("statement %d: %+v", i, st)
			}
			if (st.Action == nil) == (st.NotAction == nil) {
				t.Fatalf("statement %d has both or neither Action and NotAction", i)
			}
			for _, c := range st.Conditions {
				if c.Key == "" || len(c.Values) == 0 || c.Base == "" {
					t.Fatalf("statement %d: bad condition %+v", i, c)
				}
			}
		}
	})
}
