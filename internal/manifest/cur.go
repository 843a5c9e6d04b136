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
		{Module: ModuleCUR, Action: "s3:GetBucketLocation", Level: LevelRead, Resource: "arn:${AWS::Partition}:s3:::${CurBucket}",
			Why: "Finds the export bucket's region to read it from the right endpoint."},
		{Module: ModuleCUR, Action: "bcm-data-exports:ListExports", Level: LevelList, Resource: "*",
			Why: "Finds the CUR 2.0 export; also the verification probe for this module."},
		{Module: ModuleCUR, Action: "bcm-data-exports:GetExport", Level: LevelRead, Resource: "arn:${AWS::Partition}:bcm-data-exports:us-east-1:${AWS::AccountId}:export/*",
			Why: "Reads the export's query, bucket and prefix to check it matches what crossbill expects."},
	}
}
