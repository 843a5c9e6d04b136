package onboarding

import (
	"regexp"
	"strings"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/awsarn"
	"github.com/crossbill/crossbill/internal/manifest"
)

// Role names of the two role stacks. They differ so that an evaluation
// stack and a production stack can live side by side in one account, and
// the evaluation stack can be deleted once production is in place.
const (
	DefaultRoleName    = "CrossbillAccess"
	EvaluationRoleName = "CrossbillEvaluation"
)

// EvaluationModules are the read-only modules of the free evaluation.
func EvaluationModules() []manifest.Module {
	return []manifest.Module{manifest.ModuleCost, manifest.ModuleCommitments}
}

// Patterns CloudFormation enforces on the parameters, so a typo fails at
// stack creation instead of producing a role that cannot be assumed.
const (
	externalIDParamPattern = `[\w+=,.@:/-]{2,1224}`
	principalParamPattern  = `arn:aws(-cn|-us-gov)?:iam::\d{12}:(root|role/[\w+=,.@/-]+|user/[\w+=,.@/-]+)`
	roleNameParamPattern   = `[\w+=,.@-]{1,64}`
)

var roleNamePattern = regexp.MustCompile(`^` + roleNameParamPattern + `$`)

// RoleOptions describe one account role stack.
type RoleOptions struct {
	ExternalID   crossbill.ExternalID
	HubPrincipal string            // the ARN the role trusts: a role, user or account root
	Modules      []manifest.Module // "cur" gets no policy here: the CUR stack grants it
	RoleName     string            // "" means DefaultRoleName
	Format       Format
	// Evaluation marks the evaluation stack (only affects descriptions).
	Evaluation bool
	// OrganizationalUnits are the members stack's deployment targets: the
	// root ID (r-...) or OU IDs (ou-...). Empty leaves the parameter for
	// the customer to fill in.
	OrganizationalUnits []string
}

func (o *RoleOptions) check() error {
	const op = "account role template"
	if o.RoleName == "" {
		o.RoleName = DefaultRoleName
	}
	if !roleNamePattern.MatchString(o.RoleName) {
		return crossbill.Errorf(crossbill.CodeInvalid, op, "role name %q must be 1-64 letters, digits or +=,.@_-", o.RoleName)
	}
	if !stsExternalID(string(o.ExternalID)) {
		return crossbill.Errorf(crossbill.CodeInvalid, op, "external ID %q has characters or a length STS refuses", o.ExternalID)
	}
	if _, err := awsarn.ParsePrincipal(o.HubPrincipal, ""); err != nil {
		return err
	}
	if len(o.Modules) == 0 {
		return crossbill.Errorf(crossbill.CodeInvalid, op, "no module to grant: choose at least one of %s", strings.Join(moduleNames(manifest.ValidModules()), ", "))
	}
	return nil
}

// roleModules are the modules the role stack grants itself.
func roleModules(mods []manifest.Module) []manifest.Module {
	var out []manifest.Module
	for _, m := range mods {
		if m != manifest.ModuleCUR {
			out = append(out, m)
		}
	}
	return out
}

// AccountRoleTemplate returns the account role stack: a role that trusts
// only the hub principal, and only with the connection's external ID, and
// one managed policy per module.
func AccountRoleTemplate(o RoleOptions) ([]byte, error) {
	tree, err := accountRoleTree(o)
	if err != nil {
		return nil, err
	}
	return encode(tree, o.Format)
}

func accountRoleTree(o RoleOptions) (obj, error) {
	if err := o.check(); err != nil {
		return nil, err
	}
	// A module whose every action is pending grants nothing yet: no
	// policy, and the role does not claim it.
	var mods []manifest.Module
	for _, m := range roleModules(o.Modules) {
		if len(manifest.Granted(m)) > 0 {
			mods = append(mods, m)
		}
	}
	names := moduleNames(mods)
	kind := "cross-account role"
	if o.Evaluation {
		kind = "evaluation role (read-only cost and commitments; delete it once the production role is in place)"
	}
	resources := obj{
		"Role": obj{
			"Type": "AWS::IAM::Role",
			"Properties": obj{
				"RoleName":           ref("RoleName"),
				"Description":        "crossbill " + kind + "; modules: " + strings.Join(names, ", "),
				"MaxSessionDuration": ref("MaxSessionDuration"),
				"AssumeRolePolicyDocument": obj{
					"Version": "2012-10-17",
					"Statement": []any{obj{
						"Sid":       "TrustCrossbillHubWithExternalId",
						"Effect":    "Allow",
						"Principal": obj{"AWS": ref("HubPrincipalArn")},
						"Action":    "sts:AssumeRole",
						"Condition": obj{"StringEquals": obj{"sts:ExternalId": ref("ExternalId")}},
					}},
				},
				"Tags": []any{
					tag("crossbill:template-version", TemplateVersion),
					// IAM tag values allow no commas: modules are space-separated.
					tag("crossbill:modules", strings.Join(names, " ")),
				},
			},
		},
	}
	for _, m := range mods {
		resources["Policy"+camel(string(m))] = obj{
			"Type": "AWS::IAM::ManagedPolicy",
			"Properties": obj{
				"ManagedPolicyName": sub("${RoleName}-" + string(m)),
				"Description":       moduleDescription(m),
				"Roles":             []any{ref("Role")},
				"PolicyDocument":    policyDocument(camel(string(m)), manifest.Granted(m)),
			},
		}
	}
	return obj{
		"AWSTemplateFormatVersion": "2010-09-09",
		"Description":              "crossbill " + kind + " (template " + TemplateVersion + ")",
		"Metadata": obj{
			"AWS::CloudFormation::Interface": obj{
				"ParameterGroups": []any{obj{
					"Label":      obj{"default": "crossbill connection (do not change: crossbill generated these)"},
					"Parameters": []any{"ExternalId", "HubPrincipalArn"},
				}, obj{
					"Label":      obj{"default": "Role"},
					"Parameters": []any{"RoleName", "MaxSessionDuration"},
				}},
			},
		},
		"Parameters": roleParameters(o),
		"Resources":  resources,
		"Outputs": obj{
			"RoleArn": obj{
				"Description": "Give this ARN to crossbill (crossbill connect verify --role-arn ...)",
				"Value":       getAtt("Role", "Arn"),
			},
			"ExternalId": obj{
				"Description": "The external ID the role requires",
				"Value":       ref("ExternalId"),
			},
		},
	}, nil
}

func roleParameters(o RoleOptions) obj {
	return obj{
		"ExternalId": obj{
			"Type":                  "String",
			"Description":           "External ID crossbill generated for this connection; the role refuses any other",
			"Default":               string(o.ExternalID),
			"AllowedPattern":        externalIDParamPattern,
			"ConstraintDescription": "2-1224 letters, digits or +=,.@:/-_",
		},
		"HubPrincipalArn": obj{
			"Type":                  "String",
			"Description":           "The crossbill hub identity allowed to assume the role",
			"Default":               o.HubPrincipal,
			"AllowedPattern":        principalParamPattern,
			"ConstraintDescription": "an IAM role, user or account-root ARN",
		},
		"RoleName": obj{
			"Type":                  "String",
			"Description":           "Name of the role crossbill assumes",
			"Default":               o.RoleName,
			"AllowedPattern":        roleNameParamPattern,
			"ConstraintDescription": "1-64 letters, digits or +=,.@_-",
		},
		"MaxSessionDuration": obj{
			"Type":        "Number",
			"Description": "Longest session, in seconds, crossbill can hold (crossbill refreshes before expiry)",
			"Default":     3600,
			"MinValue":    3600,
			"MaxValue":    43200,
		},
	}
}

func moduleNames(mods []manifest.Module) []string {
	var s []string
	for _, m := range mods {
		s = append(s, string(m))
	}
	return s
}

func moduleDescription(m manifest.Module) string {
	switch m {
	case manifest.ModuleCost:
		return "crossbill cost: Cost Explorer reads and public prices"
	case manifest.ModuleCUR:
		return "crossbill cur: read the CUR 2.0 export prefix only"
	case manifest.ModuleCommitments:
		return "crossbill commitments: Savings Plans and reservation reads"
	case manifest.ModuleInventory:
		return "crossbill inventory: Describe/List resources, metrics and tags; no object reads"
	case manifest.ModuleOrg:
		return "crossbill org: organization structure and SCP reads"
	case manifest.ModuleAccessRead:
		return "crossbill access-read: IAM and Identity Center reads"
	case manifest.ModuleAccessJIT:
		return "crossbill access-jit: membership of crossbill-jit/ groups and assignments of tagged permission sets"
	case manifest.ModuleCommitmentsPurchase:
		return "crossbill commitments-purchase: buy, queue, cancel and list commitments a second person approved"
	case manifest.ModuleRemediation:
		return "crossbill remediation: writes limited to resources tagged crossbill-remediation=allowed"
	}
	return "crossbill " + string(m)
}
