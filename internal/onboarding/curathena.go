package onboarding

import (
	"strings"

	"github.com/crossbill/crossbill/internal/cur"
	"github.com/crossbill/crossbill/internal/manifest"
)

// athenaResources are the CUR stack's optional Athena resources (condition
// AthenaEnabled, parameter EnableAthena), as Wiv's and AWS's CID stacks
// add them: a Glue database and a table over the export's Parquet files in
// place, partitioned by billing period through partition projection (no
// crawler, no partition upkeep), an Athena workgroup whose results Athena
// stores itself (no results bucket to grant), and the crossbill role's
// policy for them (manifest.CURAthena).
func athenaResources() obj {
	cond := "AthenaEnabled"
	data := "s3://${CurBucket}/${CurPrefix}/${ExportName}/data/"
	return obj{
		"CurGlueDatabase": obj{
			"Type":      "AWS::Glue::Database",
			"Condition": cond,
			"Properties": obj{
				"CatalogId": ref("AWS::AccountId"),
				"DatabaseInput": obj{
					"Name":        manifest.AthenaDatabase,
					"Description": "crossbill: the CUR 2.0 export, for Athena",
				},
			},
		},
		"CurGlueTable": obj{
			"Type":      "AWS::Glue::Table",
			"Condition": cond,
			"Properties": obj{
				"CatalogId":    ref("AWS::AccountId"),
				"DatabaseName": ref("CurGlueDatabase"),
				"TableInput": obj{
					"Name":        manifest.AthenaTable,
					"Description": "CUR 2.0 line items, read in place from the export's Parquet files",
					"TableType":   "EXTERNAL_TABLE",
					"Parameters": obj{
						"classification":                          "parquet",
						"projection.enabled":                      "true",
						"projection.billing_period.type":          "date",
						"projection.billing_period.format":        "yyyy-MM",
						"projection.billing_period.range":         "2018-01,NOW",
						"projection.billing_period.interval":      "1",
						"projection.billing_period.interval.unit": "MONTHS",
						// ${!x} is Fn::Sub's literal ${x}: Athena's placeholder.
						"storage.location.template": sub(data + "BILLING_PERIOD=${!billing_period}"),
					},
					"PartitionKeys": []any{obj{"Name": "billing_period", "Type": "string"}},
					"StorageDescriptor": obj{
						"Location":     sub(data),
						"InputFormat":  "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat",
						"OutputFormat": "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat",
						"SerdeInfo":    obj{"SerializationLibrary": "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"},
						"Columns":      glueColumns(),
					},
				},
			},
		},
		"CurAthenaWorkGroup": obj{
			"Type":      "AWS::Athena::WorkGroup",
			"Condition": cond,
			"Properties": obj{
				"Name":                  manifest.AthenaWorkGroup,
				"Description":           "crossbill's cost queries over the CUR 2.0 export",
				"RecursiveDeleteOption": true,
				"WorkGroupConfiguration": obj{
					"EnforceWorkGroupConfiguration":    true,
					"PublishCloudWatchMetricsEnabled":  true,
					"ManagedQueryResultsConfiguration": obj{"Enabled": true},
				},
				"Tags": []any{tag("crossbill:template-version", TemplateVersion)},
			},
		},
		"CurAthenaPolicy": obj{
			"Type":      "AWS::IAM::ManagedPolicy",
			"Condition": cond,
			"Properties": obj{
				"ManagedPolicyName": sub("${RoleName}-" + string(manifest.ModuleCUR) + "-athena"),
				"Description":       "crossbill: run cost queries in Athena over the CUR 2.0 export (the CUR stack's Athena option)",
				"Roles":             []any{ref("RoleName")},
				"PolicyDocument":    policyDocument("CurAthena", manifest.CURAthena()),
			},
		},
	}
}

// glueColumns are the export's columns crossbill knows the types of, in
// Hive's type names; the partition column is the table's partition key.
func glueColumns() []any {
	selected := map[string]bool{}
	for _, c := range CURColumns() {
		selected[c] = true
	}
	var out []any
	for _, c := range cur.Columns() {
		if !selected[c.Name] {
			continue
		}
		out = append(out, obj{"Name": c.Name, "Type": hiveType(c.Type)})
	}
	return out
}

func hiveType(duck string) string {
	switch strings.ReplaceAll(duck, " ", "") {
	case "DOUBLE":
		return "double"
	case "TIMESTAMP":
		return "timestamp"
	case "BIGINT":
		return "bigint"
	case "MAP(VARCHAR,VARCHAR)":
		return "map<string,string>"
	case "MAP(VARCHAR,DOUBLE)":
		return "map<string,double>"
	}
	return "string"
}
