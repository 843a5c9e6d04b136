package onboarding

import (
	"net/url"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/manifest"
)

// KindEvents is the opt-in real-time events stack.
const KindEvents = "events"

// EventsOptions shape the events stack.
type EventsOptions struct {
	// Endpoint is crossbill's events URL (https://HOST/api/v1/events), the
	// default of the stack's EventsEndpoint parameter.
	Endpoint string
	Format   Format
}

// CheckEventsEndpoint accepts an https URL (EventBridge API destinations
// call https only).
func CheckEventsEndpoint(s string) error {
	u, err := url.Parse(s)
	if err != nil || u.Scheme != "https" || u.Host == "" || u.User != nil || u.Fragment != "" {
		return crossbill.Errorf(crossbill.CodeInvalid, "connect init", "--events-endpoint %q must be crossbill's https URL of POST /api/v1/events, e.g. https://crossbill.example.com/api/v1/events (EventBridge API destinations call https only)", s)
	}
	return nil
}

// EventsTemplate returns the events stack: EventBridge rules on the
// CloudTrail management events of manifest.EventSources, an EventBridge
// connection holding the connection's events key (EventBridge stores it in
// Secrets Manager), an API destination to crossbill's endpoint, and the
// role EventBridge uses to invoke it. It grants crossbill nothing. IAM and
// Organizations events arrive in us-east-1: create the stack there, and in
// each region whose EC2 and RDS changes should be heard.
func EventsTemplate(o EventsOptions) ([]byte, error) {
	if err := CheckEventsEndpoint(o.Endpoint); err != nil {
		return nil, err
	}
	return encode(eventsTree(o), o.Format)
}

func eventsTree(o EventsOptions) obj {
	const detailType = "AWS API Call via CloudTrail"
	var writeSources, writeEventSources, s3Names []any
	for _, s := range manifest.EventSources() {
		if len(s.EventNames) == 0 {
			writeSources, writeEventSources = append(writeSources, s.Source), append(writeEventSources, s.EventSource)
			continue
		}
		for _, n := range s.EventNames {
			s3Names = append(s3Names, n)
		}
	}
	target := func(id string) []any {
		return []any{obj{
			"Id": id, "Arn": getAtt("EventsDestination", "Arn"), "RoleArn": getAtt("EventsInvokeRole", "Arn"),
			// EventBridge retries a failed delivery for up to a day.
			"RetryPolicy": obj{"MaximumRetryAttempts": 185, "MaximumEventAgeInSeconds": 86400},
		}}
	}
	tags := []any{tag("crossbill:template", TemplateVersion)}
	return obj{
		"AWSTemplateFormatVersion": "2010-09-09",
		"Description":              "crossbill real-time events: CloudTrail management events of IAM, Organizations, EC2, RDS and S3 bucket policies sent to crossbill through an EventBridge API destination; grants crossbill no permission (template " + TemplateVersion + ")",
		"Parameters": obj{
			"EventsEndpoint": obj{
				"Type": "String", "Description": "crossbill's events URL (POST /api/v1/events)", "Default": o.Endpoint,
				"AllowedPattern": `https://.+`,
			},
			"EventsApiKey": obj{
				"Type": "String", "NoEcho": true, "MinLength": 32,
				"Description": "The connection's events key printed by `crossbill connect init --events` (EventBridge keeps it in Secrets Manager)",
			},
		},
		"Resources": obj{
			"EventsConnection": obj{
				"Type": "AWS::Events::Connection",
				"Properties": obj{
					"Description":       "crossbill events endpoint: the connection's API key",
					"AuthorizationType": "API_KEY",
					"AuthParameters": obj{"ApiKeyAuthParameters": obj{
						"ApiKeyName": manifest.EventsKeyHeader, "ApiKeyValue": ref("EventsApiKey"),
					}},
				},
			},
			"EventsDestination": obj{
				"Type": "AWS::Events::ApiDestination",
				"Properties": obj{
					"Description":                  "crossbill events endpoint",
					"ConnectionArn":                getAtt("EventsConnection", "Arn"),
					"InvocationEndpoint":           ref("EventsEndpoint"),
					"HttpMethod":                   "POST",
					"InvocationRateLimitPerSecond": 20,
				},
			},
			"EventsInvokeRole": obj{
				"Type": "AWS::IAM::Role",
				"Properties": obj{
					"Description": "Lets this account's EventBridge rules call crossbill's API destination, nothing else",
					"AssumeRolePolicyDocument": obj{
						"Version": "2012-10-17",
						"Statement": []any{obj{
							"Effect": "Allow", "Principal": obj{"Service": "events.amazonaws.com"}, "Action": "sts:AssumeRole",
							"Condition": obj{"StringEquals": obj{"aws:SourceAccount": ref("AWS::AccountId")}},
						}},
					},
					"Policies": []any{obj{
						"PolicyName": "InvokeCrossbillApiDestination",
						"PolicyDocument": obj{
							"Version": "2012-10-17",
							"Statement": []any{obj{
								"Effect": "Allow", "Action": "events:InvokeApiDestination",
								"Resource": sub("arn:${AWS::Partition}:events:${AWS::Region}:${AWS::AccountId}:api-destination/${EventsDestination}/*"),
							}},
						},
					}},
					"Tags": tags,
				},
			},
			"ManagementEventsRule": obj{
				"Type": "AWS::Events::Rule",
				"Properties": obj{
					"Description": "CloudTrail write events of IAM, Organizations, EC2 and RDS, to crossbill",
					"State":       "ENABLED",
					"EventPattern": obj{
						"detail-type": []any{detailType},
						"source":      writeSources,
						"detail":      obj{"eventSource": writeEventSources, "readOnly": []any{false}},
					},
					"Targets": target("crossbill-events"),
				},
			},
			"BucketPolicyEventsRule": obj{
				"Type": "AWS::Events::Rule",
				"Properties": obj{
					"Description": "S3 bucket policy and public-access changes, to crossbill",
					"State":       "ENABLED",
					"EventPattern": obj{
						"detail-type": []any{detailType},
						"source":      []any{"aws.s3"},
						"detail":      obj{"eventSource": []any{"s3.amazonaws.com"}, "eventName": s3Names},
					},
					"Targets": target("crossbill-bucket-policy-events"),
				},
			},
		},
		"Outputs": obj{
			"ApiDestinationArn": obj{"Description": "The API destination calling crossbill", "Value": getAtt("EventsDestination", "Arn")},
			"ConnectionSecretArn": obj{"Description": "The Secrets Manager secret EventBridge keeps the events key in",
				"Value": getAtt("EventsConnection", "SecretArn")},
		},
	}
}
