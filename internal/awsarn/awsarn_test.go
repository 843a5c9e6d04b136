package awsarn_test

import (
	"testing"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/awsarn"
)

func TestParseRole(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, arn, partition string
		want                 awsarn.Role
		code                 crossbill.Code
	}{
		{"plain", "arn:aws:iam::123456789012:role/CrossbillAccess", "aws", awsarn.Role{Partition: "aws", Account: "123456789012", Path: "/", Name: "CrossbillAccess"}, ""},
		{"path", "arn:aws:iam::123456789012:role/a/b/Name+=,.@_-", "", awsarn.Role{Partition: "aws", Account: "123456789012", Path: "/a/b/", Name: "Name+=,.@_-"}, ""},
		{"china", "arn:aws-cn:iam::123456789012:role/R", "aws-cn", awsarn.Role{Partition: "aws-cn", Account: "123456789012", Path: "/", Name: "R"}, ""},
		{"govcloud any partition", "arn:aws-us-gov:iam::123456789012:role/R", "", awsarn.Role{Partition: "aws-us-gov", Account: "123456789012", Path: "/", Name: "R"}, ""},
		{"other partition", "arn:aws-cn:iam::123456789012:role/R", "aws", awsarn.Role{}, crossbill.CodeInvalid},
		{"unknown partition", "arn:aws-iso:iam::123456789012:role/R", "", awsarn.Role{}, crossbill.CodeInvalid},
		{"not arn", "CrossbillAccess", "", awsarn.Role{}, crossbill.CodeInvalid},
		{"short account", "arn:aws:iam::12345:role/R", "", awsarn.Role{}, crossbill.CodeInvalid},
		{"user", "arn:aws:iam::123456789012:user/R", "", awsarn.Role{}, crossbill.CodeInvalid},
		{"sts session", "arn:aws:sts::123456789012:assumed-role/R/s", "", awsarn.Role{}, crossbill.CodeInvalid},
		{"region set", "arn:aws:iam:us-east-1:123456789012:role/R", "", awsarn.Role{}, crossbill.CodeInvalid},
		{"empty name", "arn:aws:iam::123456789012:role/", "", awsarn.Role{}, crossbill.CodeInvalid},
		{"bad char", "arn:aws:iam::123456789012:role/a b", "", awsarn.Role{}, crossbill.CodeInvalid},
		{"long name", "arn:aws:iam::123456789012:role/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "", awsarn.Role{}, crossbill.CodeInvalid},
		{"double slash", "arn:aws:iam::123456789012:role//x", "", awsarn.Role{}, crossbill.CodeInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := awsarn.ParseRole(tt.arn, tt.partition)
			if crossbill.ErrorCode(err) != tt.code {
				t.Fatalf("ParseRole(%q) error %v, want code %q", tt.arn, err, tt.code)
			}
			if err != nil {
				return
			}
			if got != tt.want {
				t.Fatalf("ParseRole(%q) = %+v, want %+v", tt.arn, got, tt.want)
			}
			if string(got.ARN()) != tt.arn {
				t.Fatalf("round trip %q -> %q", tt.arn, got.ARN())
			}
		})
	}
}

func TestParsePrincipal(t *testing.T) {
	t.Parallel()
	for arn, code := range map[string]crossbill.Code{
		"arn:aws:iam::123456789012:root":               "",
		"arn:aws:iam::123456789012:role/hub/Crossbill": "",
		"arn:aws:iam::123456789012:user/crossbill":     "",
		"arn:aws:sts::123456789012:assumed-role/R/s":   crossbill.CodeInvalid,
		"arn:aws:iam::123456789012:group/G":            crossbill.CodeInvalid,
		"arn:aws:iam::*:root":                          crossbill.CodeInvalid,
		"*":                                            crossbill.CodeInvalid,
		"arn:aws-cn:iam::123456789012:root":            crossbill.CodeInvalid, // configured partition is aws
	} {
		if _, err := awsarn.ParsePrincipal(arn, "aws"); crossbill.ErrorCode(err) != code {
			t.Errorf("ParsePrincipal(%q) = %v, want code %q", arn, err, code)
		}
	}
}

func TestPartitionOf(t *testing.T) {
	t.Parallel()
	for region, want := range map[string]string{"us-east-1": "aws", "eu-west-3": "aws", "cn-north-1": "aws-cn", "us-gov-west-1": "aws-us-gov"} {
		if got := awsarn.PartitionOf(region); got != want {
			t.Errorf("PartitionOf(%q) = %q, want %q", region, got, want)
		}
	}
}

func FuzzParseRole(f *testing.F) {
	for _, s := range []string{"arn:aws:iam::123456789012:role/R", "arn:aws-cn:iam::123456789012:role/a/b/c", "arn:aws:iam::123456789012:user/x", "arn:::::", "arn:aws:iam::123456789012:role//"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := awsarn.ParseRole(s, "")
		if err != nil {
			if crossbill.ErrorCode(err) != crossbill.CodeInvalid {
				t.Fatalf("error code %q for %q", crossbill.ErrorCode(err), s)
			}
			return
		}
		if string(r.ARN()) != s {
			t.Fatalf("accepted %q but rebuilt %q", s, r.ARN())
		}
		if !r.Account.Valid() || r.Name == "" {
			t.Fatalf("accepted %q with %+v", s, r)
		}
	})
}

func FuzzParsePrincipal(f *testing.F) {
	for _, s := range []string{"arn:aws:iam::123456789012:root", "arn:aws:iam::123456789012:user/u", "arn:aws:sts::123456789012:assumed-role/R/s", "arn:aws:iam::123456789012:group/g"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		a, err := awsarn.ParsePrincipal(s, "")
		if err != nil {
			if crossbill.ErrorCode(err) != crossbill.CodeInvalid {
				t.Fatalf("error code %q for %q", crossbill.ErrorCode(err), s)
			}
			return
		}
		if a.String() != s || a.Service != "iam" || !a.Account.Valid() {
			t.Fatalf("accepted %q as %+v", s, a)
		}
	})
}
