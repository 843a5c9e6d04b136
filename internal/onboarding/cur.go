package onboarding

import (
	"strings"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/manifest"
)

// CURRegion is the only region where AWS Data Exports runs.
const CURRegion = "us-east-1"

// CURQuery is the export's query: every CUR 2.0 column crossbill reads.
func CURQuery() string {
	return "SELECT " + strings.Join(CURColumns(), ", ") + " FROM COST_AND_USAGE_REPORT"
}

// CUROptions describe the CUR 2.0 stack.
type CUROptions struct {
	RoleName string // the crossbill role to grant read access; "" means DefaultRoleName
	Format   Format
}

// CURTemplate returns the CUR 2.0 stack for the payer (management)
// account, in us-east-1: a private, encrypted, TLS-only bucket with a
// lifecycle, the Data Exports export writing hourly Parquet into it, and a
// policy letting the crossbill role read the export prefix and nothing else.
func CURTemplate(o CUROptions) ([]byte, error) {
	tree, err := curTree(o)
	if err != nil {
		return nil, err
	}
	return encode(tree, o.Format)
}

func curTree(o CUROptions) (obj, error) {
	if o.RoleName == "" {
		o.RoleName = DefaultRoleName
	}
	if !roleNamePattern.MatchString(o.RoleName) {
		return nil, crossbill.Errorf(crossbill.CodeInvalid, "cur template", "role name %q must be 1-64 letters, digits or +=,.@_-", o.RoleName)
	}
	bucketARN := sub("arn:${AWS::Partition}:s3:::${CurBucket}")
	objectsARN := sub("arn:${AWS::Partition}:s3:::${CurBucket}/*")
	exportARNs := "arn:${AWS::Partition}:bcm-data-exports:" + CURRegion + ":${AWS::AccountId}:export/*"
	resources := obj{
		"CurBucket": obj{
			"Type": "AWS::S3::Bucket",
			// Cost history outlives the stack: deleting the stack keeps
			// the bucket and its data.
			"DeletionPolicy":      "Retain",
			"UpdateReplacePolicy": "Retain",
			"Properties": obj{
				"BucketEncryption": obj{
					"ServerSideEncryptionConfiguration": []any{obj{
						"ServerSideEncryptionByDefault": obj{"SSEAlgorithm": "AES256"},
						"BucketKeyEnabled":              true,
					}},
				},
				"PublicAccessBlockConfiguration": obj{
					"BlockPublicAcls":       true,
					"BlockPublicPolicy":     true,
					"IgnorePublicAcls":      true,
					"RestrictPublicBuckets": true,
				},
				"OwnershipControls": obj{"Rules": []any{obj{"ObjectOwnership": "BucketOwnerEnforced"}}},
				"LifecycleConfiguration": obj{"Rules": []any{obj{
					"Id":     "crossbill-cur-retention",
					"Status": "Enabled",
					"Transitions": []any{obj{
						"StorageClass":     "GLACIER_IR",
						"TransitionInDays": ref("TransitionToGlacierIRDays"),
					}},
					"ExpirationInDays":               ref("ExpirationDays"),
					"AbortIncompleteMultipartUpload": obj{"DaysAfterInitiation": 7},
				}}},
				"Tags": []any{tag("crossbill:template-version", TemplateVersion)},
			},
		},
		"CurBucketPolicy": obj{
			"Type": "AWS::S3::BucketPolicy",
			"Properties": obj{
				"Bucket": ref("CurBucket"),
				"PolicyDocument": obj{
					"Version": "2012-10-17",
					"Statement": []any{
						obj{
							"Sid":       "DenyInsecureTransport",
							"Effect":    "Deny",
							"Principal": "*",
							"Action":    "s3:*",
							"Resource":  []any{bucketARN, objectsARN},
							"Condition": obj{"Bool": obj{"aws:SecureTransport": "false"}},
						},
						obj{
							"Sid":       "AllowDataExportsDelivery",
							"Effect":    "Allow",
							"Principal": obj{"Service": "bcm-data-exports.amazonaws.com"},
							"Action":    []any{"s3:GetBucketPolicy", "s3:PutObject"},
							"Resource":  []any{bucketARN, objectsARN},
							"Condition": obj{
								"StringEquals": obj{"aws:SourceAccount": ref("AWS::AccountId")},
								"StringLike":   obj{"aws:SourceArn": sub(exportARNs)},
							},
						},
					},
				},
			},
		},
		"CurExport": obj{
			"Type":      "AWS::BCMDataExports::Export",
			"DependsOn": "CurBucketPolicy", // Data Exports checks the bucket policy at creation
			"Properties": obj{
				"Export": obj{
					"Name":        ref("ExportName"),
					"Description": "CUR 2.0 for crossbill: hourly, with resource IDs and split cost allocation, Parquet",
					"DataQuery": obj{
						"QueryStatement": CURQuery(),
						"TableConfigurations": obj{
							"COST_AND_USAGE_REPORT": obj{
								"TIME_GRANULARITY":                      "HOURLY",
								"INCLUDE_RESOURCES":                     "TRUE",
								"INCLUDE_SPLIT_COST_ALLOCATION_DATA":    "TRUE",
								"INCLUDE_MANUAL_DISCOUNT_COMPATIBILITY": "FALSE",
							},
						},
					},
					"DestinationConfigurations": obj{
						"S3Destination": obj{
							"S3Bucket": ref("CurBucket"),
							"S3Prefix": ref("CurPrefix"),
							"S3Region": ref("AWS::Region"),
							"S3OutputConfigurations": obj{
								"Format":      "PARQUET",
								"Compression": "PARQUET",
								"OutputType":  "CUSTOM",
								"Overwrite":   "OVERWRITE_REPORT",
							},
						},
					},
					"RefreshCadence": obj{"Frequency": "SYNCHRONOUS"},
				},
				"Tags": []any{tag("crossbill:template-version", TemplateVersion)},
			},
		},
		"CurReadPolicy": obj{
			"Type": "AWS::IAM::ManagedPolicy",
			"Properties": obj{
				"ManagedPolicyName": sub("${RoleName}-" + string(manifest.ModuleCUR)),
				"Description":       moduleDescription(manifest.ModuleCUR),
				"Roles":             []any{ref("RoleName")},
				"PolicyDocument":    policyDocument("Cur", manifest.Granted(manifest.ModuleCUR)),
			},
		},
	}
	return obj{
		"AWSTemplateFormatVersion": "2010-09-09",
		"Description":              "crossbill CUR 2.0 export, bucket and read access (deploy in us-east-1; template " + TemplateVersion + ")",
		"Rules": obj{
			"DataExportsRegion": obj{
				"Assertions": []any{obj{
					"Assert":            obj{"Fn::Equals": []any{ref("AWS::Region"), CURRegion}},
					"AssertDescription": "AWS Data Exports runs in us-east-1 only: create this stack there",
				}},
			},
		},
		"Parameters": obj{
			"RoleName": obj{
				"Type":           "String",
				"Description":    "The crossbill role (from the account role stack) that may read the export",
				"Default":        o.RoleName,
				"AllowedPattern": roleNameParamPattern,
			},
			"ExportName": obj{
				"Type":           "String",
				"Description":    "Name of the Data Exports export",
				"Default":        "crossbill-cur2",
				"AllowedPattern": `[0-9A-Za-z_-]{1,128}`,
			},
			"CurPrefix": obj{
				"Type":           "String",
				"Description":    "Key prefix of the export in the bucket; crossbill can read only under it",
				"Default":        "crossbill",
				"AllowedPattern": `[0-9A-Za-z_.-]+(/[0-9A-Za-z_.-]+)*`,
			},
			"TransitionToGlacierIRDays": obj{
				"Type":        "Number",
				"Description": "Days before export files move to S3 Glacier Instant Retrieval",
				"Default":     30,
				"MinValue":    1,
			},
			"ExpirationDays": obj{
				"Type":        "Number",
				"Description": "Days before export files are deleted (crossbill keeps its own copy); must exceed the transition days",
				"Default":     180,
				"MinValue":    2,
			},
		},
		"Resources": resources,
		"Outputs": obj{
			"BucketName": obj{"Description": "Bucket receiving the CUR 2.0 export", "Value": ref("CurBucket")},
			"Prefix":     obj{"Description": "Export prefix", "Value": ref("CurPrefix")},
			"ExportArn":  obj{"Description": "The Data Exports export", "Value": getAtt("CurExport", "ExportArn")},
		},
	}, nil
}
