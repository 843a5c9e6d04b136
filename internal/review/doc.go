// Package review reads a vendor's CloudFormation templates and IAM policies
// the way a security reviewer would and reports what they let the vendor do.
//
// A review runs in three steps. The template reader (template.go) turns YAML
// or JSON into a tree that keeps line numbers, with CloudFormation's short
// tags rewritten to their long Fn:: forms; intrinsic functions are then
// resolved into readable placeholders such as ${ExternalId} (intrinsic.go).
// The extractor (extract.go) finds every identity and policy in the tree:
// roles, users, groups, access keys, managed and inline policies, bucket
// policies and StackSets, recursively. The analyzer (analyze.go) expands each
// identity's grants against the IAM action catalog and produces findings from
// embedded data (escalation.yaml, sensitive.yaml, categories.yaml), and the
// report (report.go) summarizes them for text, JSON, Markdown and SARIF.
package review
