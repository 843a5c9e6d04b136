package policy_test

import (
	"encoding/json"
	"testing"

	"github.com/crossbill/crossbill/internal/policy"
)

// policy125 builds a 125-action identity policy in the shape vendors ship:
// several statements, exact actions and a few wildcards, scoped resources,
// a condition and a deny.
func policy125(tb testing.TB) []byte {
	tb.Helper()
	cat := catalog(tb)
	var actions []string
	for _, svc := range []string{"ec2", "rds", "s3", "cloudwatch", "ce", "organizations", "iam", "elasticloadbalancing", "lambda", "dynamodb"} {
		n := 0
		for _, a := range cat.Actions(svc) {
			if a.Level == "List" || a.Level == "Read" {
				actions = append(actions, a.String())
				if n++; n == 12 {
					break
				}
			}
		}
	}
	actions = append(actions, "ec2:Describe*", "rds:Describe*", "s3:Get*", "cloudwatch:Get*", "ce:Get*")
	if len(actions) != 125 {
		tb.Fatalf("built %d actions", len(actions))
	}
	doc := map[string]any{
		"Version": "2012-10-17",
		"Statement": []any{
			map[string]any{"Sid": "Inventory", "Effect": "Allow", "Action": actions[:100], "Resource": "*"},
			map[string]any{"Sid": "Cur", "Effect": "Allow", "Action": actions[100:120], "Resource": []string{"arn:aws:s3:::cur", "arn:aws:s3:::cur/*"}},
			map[string]any{"Sid": "Tagged", "Effect": "Allow", "Action": actions[120:], "Resource": "*",
				"Condition": map[string]any{"StringEquals": map[string]any{"aws:ResourceTag/crossbill": "allowed"}}},
			map[string]any{"Sid": "NoSecrets", "Effect": "Deny", "Action": []string{"secretsmanager:GetSecretValue", "ssm:GetParameter*"}, "Resource": "*"},
		},
	}
	b, err := json.Marshal(doc)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// BenchmarkParseEvaluateExpand125 is the engine's share of reviewing a
// 125-action policy: parse it, list its effective actions, and evaluate
// one request per statement.
func BenchmarkParseEvaluateExpand125(b *testing.B) {
	src := policy125(b)
	cat := catalog(b)
	reqs := []policy.Request{
		{Action: "ec2:DescribeInstances", Resource: "*"},
		{Action: "s3:GetObject", Resource: "arn:aws:s3:::cur/x"},
		{Action: "secretsmanager:GetSecretValue", Resource: "*"},
		{Action: "iam:CreateUser", Resource: "*"},
	}
	b.SetBytes(int64(len(src)))
	b.ResetTimer()
	for b.Loop() {
		doc, err := policy.Parse(src)
		if err != nil {
			b.Fatal(err)
		}
		eff := policy.EffectiveActions(doc, cat)
		if len(eff.Grants) < 125 {
			b.Fatalf("%d grants", len(eff.Grants))
		}
		for _, r := range reqs {
			policy.Evaluate(r, policy.Policies{Identity: []*policy.Document{doc}})
		}
	}
}

func BenchmarkParse125(b *testing.B) {
	src := policy125(b)
	b.SetBytes(int64(len(src)))
	for b.Loop() {
		if _, err := policy.Parse(src); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEvaluate(b *testing.B) {
	doc := mustParse(b, string(policy125(b)))
	p := policy.Policies{Identity: []*policy.Document{doc}}
	req := policy.Request{Action: "ce:GetCostAndUsage", Resource: "*", Context: map[string][]string{"aws:ResourceTag/crossbill": {"allowed"}}}
	for b.Loop() {
		policy.Evaluate(req, p)
	}
}

// BenchmarkEffectiveNotAction lists a NotAction grant: the complement of
// three services within the whole catalog (~22,000 actions).
func BenchmarkEffectiveNotAction(b *testing.B) {
	doc := mustParse(b, `{"Version":"2012-10-17","Statement":{"Effect":"Allow","NotAction":["iam:*","organizations:*","account:*"],"Resource":"*"}}`)
	cat := catalog(b)
	for b.Loop() {
		if eff := policy.EffectiveActions(doc, cat); len(eff.Grants) < 20000 {
			b.Fatalf("%d grants", len(eff.Grants))
		}
	}
}

func BenchmarkLint125(b *testing.B) {
	doc := mustParse(b, string(policy125(b)))
	cat := catalog(b)
	for b.Loop() {
		policy.Lint(doc, cat)
	}
}
