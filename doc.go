// Package crossbill holds the domain types shared by every part of crossbill:
// identifiers, the error type with codes, and nothing that does I/O.
//
// crossbill connects AWS accounts and Organizations through least-privilege
// cross-account IAM roles and then does the jobs of cost and access vendors.
// The data flow:
//
//	tenant -> connection (external ID + CloudFormation templates)
//	       -> customer deploys -> verify (assume role, negative checks, probes)
//	       -> collectors (org, inventory, commitments, CUR, entitlements)
//	       -> SQLite metadata store | Parquet + DuckDB cost store
//	       -> analysis (costs, commitments, recommendations, access review)
//	       -> JSON API -> CLI, web UI
//
// Subpackages live under internal/, one per area; see README.md.
package crossbill
