package remediation_test

import (
	"testing"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/remediation"
)

func TestParseTargets(t *testing.T) {
	got, err := remediation.ParseTargets([]byte(`{"targets":[{"action":"resize-instance","arn":"arn:aws:ec2:eu-west-1:123456789012:instance/i-1","params":{"instance_type":"m7g.large"}}]}`))
	if err != nil || len(got) != 1 || got[0].Params["instance_type"] != "m7g.large" {
		t.Fatalf("object form: %v %+v", err, got)
	}
	if got, err := remediation.ParseTargets([]byte(` [{"action":"stop-db","arn":"arn:aws:rds:eu-west-1:123456789012:db:x"}] `)); err != nil || len(got) != 1 {
		t.Fatalf("array form: %v %+v", err, got)
	}
	for _, bad := range []string{`[{"action":"explode","arn":"x"}]`, `[{"action":"stop-db","arn":""}]`, `[{"action":"stop-db","arn":"a","parms":{}}]`, `[] []`, `{`} {
		if _, err := remediation.ParseTargets([]byte(bad)); crossbill.ErrorCode(err) != crossbill.CodeInvalid {
			t.Errorf("%s: %v", bad, err)
		}
	}
}

func FuzzParseTargets(f *testing.F) {
	for _, s := range []string{`[]`, `{"targets":[]}`, `[{"action":"stop-instance","arn":"arn:aws:ec2:us-east-1:123456789012:instance/i-1","params":{"a":"b"}}]`,
		`{"targets":[{"action":"s3-abort-multipart","arn":"arn:aws:s3:::b","region":"eu-west-1"}]}`, `[{"action":1}]`, "\x00", `{"targets":null}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		ts, err := remediation.ParseTargets(data)
		if err != nil {
			if crossbill.ErrorCode(err) != crossbill.CodeInvalid {
				t.Fatalf("error code %s: %v", crossbill.ErrorCode(err), err)
			}
			return
		}
		for _, tg := range ts {
			if tg.Action.Kind() == "" || tg.ARN == "" {
				t.Fatalf("accepted %+v", tg)
			}
		}
	})
}
