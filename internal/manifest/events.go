package manifest

// The events stack (opt-in, `connect init --events`) sends CloudTrail
// management events of interest from the customer's account to
// crossbill's events endpoint through an EventBridge API destination. It
// grants crossbill no permission: the customer's EventBridge pushes, and
// crossbill calls nothing. The sources below are the whole of what it
// forwards; the annex and the template read them from here.

// EventSource is one AWS service whose CloudTrail management events are
// forwarded, and why.
type EventSource struct {
	Source      string   // EventBridge source, e.g. aws.iam
	EventSource string   // CloudTrail eventSource, e.g. iam.amazonaws.com
	EventNames  []string // only these calls; none: every write call (readOnly false)
	Refresh     string   // what crossbill refreshes on such an event: access, inventory
	Why         string
}

// EventsKeyHeader is the header the API destination sends the
// connection's events key in (EventBridge keeps the key in Secrets
// Manager).
const EventsKeyHeader = "X-Crossbill-Events-Key"

// EventSources are the services whose changes crossbill hears of at once.
func EventSources() []EventSource {
	return []EventSource{
		{Source: "aws.iam", EventSource: "iam.amazonaws.com", Refresh: "access",
			Why: "IAM changes (users, roles, policies, keys) refresh access findings within seconds instead of at the next daily sync."},
		{Source: "aws.organizations", EventSource: "organizations.amazonaws.com", Refresh: "access",
			Why: "Accounts joining or leaving, SCP changes: the organization's members and effective permissions."},
		{Source: "aws.ec2", EventSource: "ec2.amazonaws.com", Refresh: "inventory",
			Why: "Instances, volumes, addresses created, changed or deleted: the inventory and its recommendations."},
		{Source: "aws.rds", EventSource: "rds.amazonaws.com", Refresh: "inventory",
			Why: "Databases created, changed, stopped or deleted: the inventory and its recommendations."},
		{Source: "aws.s3", EventSource: "s3.amazonaws.com", Refresh: "access",
			EventNames: []string{"PutBucketPolicy", "DeleteBucketPolicy", "PutBucketAcl", "PutBucketPublicAccessBlock", "DeleteBucketPublicAccessBlock"},
			Why:        "Bucket policy and public-access changes: data exposure findings."},
	}
}
