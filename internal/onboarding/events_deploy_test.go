package onboarding_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/crossbill/crossbill/internal/emulator"
	"github.com/crossbill/crossbill/internal/manifest"
	"github.com/crossbill/crossbill/internal/onboarding"
)

// TestEventsStackDeploys creates the events stack in moto's
// CloudFormation (EventBridge and Secrets Manager are served) and reads
// back what it made: the connection with its API key kept in a Secrets
// Manager secret, the API destination to the endpoint, and the two rules
// targeting it with their CloudTrail patterns.
func TestEventsStackDeploys(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv := emulator.Shared(t)
	cfg, err := srv.RootConfig(ctx)
	if err != nil {
		t.Fatal(err)
	}
	const endpoint = "https://crossbill.example.com/api/v1/events"
	body, err := onboarding.EventsTemplate(onboarding.EventsOptions{Endpoint: endpoint})
	if err != nil {
		t.Fatal(err)
	}
	key := "cbe_" + strings.Repeat("k", 40)
	out, err := emulator.CreateStack(ctx, cfg, "crossbill-events", body, map[string]string{"EventsApiKey": key})
	if err != nil {
		t.Fatal(err)
	}
	eb := eventbridge.NewFromConfig(cfg)
	dest, err := eb.DescribeApiDestination(ctx, &eventbridge.DescribeApiDestinationInput{Name: aws.String(lastPart(out["ApiDestinationArn"]))})
	if err != nil {
		t.Fatalf("api destination %s: %v", out["ApiDestinationArn"], err)
	}
	if aws.ToString(dest.InvocationEndpoint) != endpoint || dest.HttpMethod != "POST" {
		t.Fatalf("destination %+v", dest)
	}
	conn, err := eb.DescribeConnection(ctx, &eventbridge.DescribeConnectionInput{Name: aws.String(lastPart(aws.ToString(dest.ConnectionArn)))})
	if err != nil {
		t.Fatal(err)
	}
	if conn.AuthorizationType != "API_KEY" || conn.AuthParameters == nil || aws.ToString(conn.AuthParameters.ApiKeyAuthParameters.ApiKeyName) != manifest.EventsKeyHeader {
		t.Fatalf("connection %+v", conn)
	}
	secret := aws.ToString(conn.SecretArn)
	if secret == "" || secret != out["ConnectionSecretArn"] {
		t.Fatalf("secret ARN %q, output %q", secret, out["ConnectionSecretArn"])
	}
	sm := secretsmanager.NewFromConfig(cfg)
	if _, err := sm.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String(secret)}); err != nil {
		t.Errorf("the connection's secret is not in Secrets Manager: %v", err)
	}
	rules, err := eb.ListRules(ctx, &eventbridge.ListRulesInput{})
	if err != nil {
		t.Fatal(err)
	}
	sources := map[string]bool{}
	targeted := 0
	for _, r := range rules.Rules {
		var pat struct {
			Source []string `json:"source"`
		}
		if err := json.Unmarshal([]byte(aws.ToString(r.EventPattern)), &pat); err != nil {
			continue
		}
		for _, s := range pat.Source {
			sources[s] = true
		}
		ts, err := eb.ListTargetsByRule(ctx, &eventbridge.ListTargetsByRuleInput{Rule: r.Name})
		if err != nil {
			t.Fatal(err)
		}
		for _, tg := range ts.Targets {
			if aws.ToString(tg.Arn) == out["ApiDestinationArn"] && aws.ToString(tg.RoleArn) != "" {
				targeted++
			}
		}
	}
	for _, s := range manifest.EventSources() {
		if !sources[s.Source] {
			t.Errorf("no rule matches %s", s.Source)
		}
	}
	if targeted != 2 {
		t.Errorf("%d rules target the API destination, want 2", targeted)
	}
}

func lastPart(arn string) string {
	parts := strings.Split(arn, "/")
	if len(parts) >= 2 {
		return parts[1]
	}
	return arn
}
