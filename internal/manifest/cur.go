package manifest

// cur: read the CUR 2.0 export, nothing else in the bucket. ${CurBucket} and
// ${CurPrefix} are resolved by the CUR stack, which creates the bucket and
// attaches this policy to the crossbill role.
func curPermissions() []Permission {
	return []Permission{
		{Module: ModuleCUR, Action: "s3:ListBucket", Level: LevelList, Resource: "arn:${AWS::Partition}:s3:::${CurBucket}",
			Condition: map[string]map[string]any{"StringLike": {"s3:prefix": []string{"${CurPrefix}", "${CurPrefix}/*"}}},
			Calls:     []string{"s3:ListObjectsV2"},
			Why:       "Lists the export's Parquet files and manifests, only under the export prefix."},
		{Module: ModuleCUR, Action: "s3:GetObject", Level: LevelRead, Resource: "arn:${AWS::Partition}:s3:::${CurBucket}/${CurPrefix}/*",
			Calls: []string{"s3:HeadObject"},
			Why:   "Downloads the CUR 2.0 Parquet files and manifests under the export prefix; no other object."},
		{Module: ModuleCUR, Action: "bcm-data-exports:ListExports", Level: LevelList, Resource: "*",
			Why: "Finds the CUR 2.0 export; also the verification probe for this module."},
		{Module: ModuleCUR, Action: "bcm-data-exports:GetExport", Level: LevelRead, Resource: "arn:${AWS::Partition}:bcm-data-exports:us-east-1:${AWS::AccountId}:export/*",
			Why: "Reads the export's query, bucket and prefix to check it matches what crossbill expects."},
	}
}

// Athena names the CUR stack's optional Glue database, table and Athena
// workgroup: the query engine option for bills too large for one node.
const (
	AthenaDatabase  = "crossbill_cur"
	AthenaTable     = "cur2"
	AthenaWorkGroup = "crossbill"
)

// AthenaTBUSD is Athena's price per TB scanned (SQL queries, us-east-1
// list price).
const AthenaTBUSD = 5.0

// CURAthena is what the cur module adds when the CUR stack's Athena
// option is on (EnableAthena): running the cost queries in the customer's
// Athena over the export in place. Not part of ByModule: the CUR stack
// grants it in a policy of its own, only under that condition. Results
// live in the workgroup's Athena-managed storage, so no S3 write is needed.
func CURAthena() []Permission {
	workgroup := "arn:${AWS::Partition}:athena:us-east-1:${AWS::AccountId}:workgroup/" + AthenaWorkGroup
	glue := "arn:${AWS::Partition}:glue:us-east-1:${AWS::AccountId}:"
	glueResources := []string{glue + "database/" + AthenaDatabase, glue + "table/" + AthenaDatabase + "/" + AthenaTable}
	return []Permission{
		{Module: ModuleCUR, Action: "athena:StartQueryExecution", Level: LevelWrite, Resource: workgroup,
			CostUSD: AthenaTBUSD, CostPer: "TB scanned (10 MB minimum a query)",
			Why: "Runs a cost query over the export in the crossbill workgroup (Athena charges per TB scanned)."},
		{Module: ModuleCUR, Action: "athena:GetQueryExecution", Level: LevelRead, Resource: workgroup,
			Why: "Polls a cost query until it ends."},
		{Module: ModuleCUR, Action: "athena:GetQueryResults", Level: LevelRead, Resource: workgroup,
			Why: "Reads a cost query's results."},
		{Module: ModuleCUR, Action: "athena:StopQueryExecution", Level: LevelWrite, Resource: workgroup,
			Why: "Stops a cost query crossbill no longer waits for, so that it does not go on scanning."},
		{Module: ModuleCUR, Action: "glue:GetDatabase", Level: LevelRead, Resource: glue + "catalog", ExtraResources: glueResources, OnBehalf: true,
			Why: "Athena reads the export table's database from the Glue catalog with the caller's permissions."},
		{Module: ModuleCUR, Action: "glue:GetTable", Level: LevelRead, Resource: glue + "catalog", ExtraResources: glueResources,
			Why: "Athena reads the export table's definition (columns, partition projection) from the Glue catalog; also the verification probe of the option."},
	}
}
