package onboarding

import (
	"encoding/json"
	"regexp"
	"strings"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/manifest"
)

// maxTemplateBody is CloudFormation's limit on an inline TemplateBody.
const maxTemplateBody = 51200

// ouPattern matches an organization root ID or an OU ID.
var ouPattern = regexp.MustCompile(`^(r-[0-9a-z]{4,32}|ou-[0-9a-z]{4,32}-[a-z0-9]{8,32})$`)

// CheckOrganizationalUnits checks deployment targets for the members stack.
func CheckOrganizationalUnits(ids []string) error {
	for _, id := range ids {
		if !ouPattern.MatchString(id) {
			return crossbill.Errorf(crossbill.CodeInvalid, "members template", "%q is neither an organization root ID (r-xxxx) nor an OU ID (ou-xxxx-xxxxxxxx): find them with `aws organizations list-roots` and `list-organizational-units-for-parent`", id)
		}
	}
	return nil
}

// MemberModules are the modules a member account's role gets: the chosen
// ones minus those that only make sense in the management account (the
// CUR export and the organization reads).
func MemberModules(mods []manifest.Module) []manifest.Module {
	var out []manifest.Module
	for _, m := range mods {
		if m != manifest.ModuleCUR && m != manifest.ModuleOrg {
			out = append(out, m)
		}
	}
	return out
}

// MembersTemplate returns the members stack for the management account (or
// a delegated administrator): a service-managed StackSet with automatic
// deployment that puts the account role into every account of the chosen
// OUs, and into accounts that join them later. Service-managed StackSets
// skip the management account itself: deploy the account role stack there.
func MembersTemplate(o RoleOptions) ([]byte, error) {
	tree, err := membersTree(o)
	if err != nil {
		return nil, err
	}
	return encode(tree, o.Format)
}

func membersTree(o RoleOptions) (obj, error) {
	const op = "members template"
	member := o
	member.Modules = MemberModules(o.Modules)
	member.Evaluation = false
	if member.RoleName == "" {
		member.RoleName = DefaultRoleName
	}
	if len(member.Modules) == 0 {
		return nil, crossbill.Errorf(crossbill.CodeInvalid, op, "no module applies to member accounts (cur and org are management-account only): add cost, commitments, inventory, access-read, access-jit or remediation")
	}
	roleTree, err := accountRoleTree(member)
	if err != nil {
		return nil, err
	}
	// Compact JSON keeps the embedded template well under the limit.
	body, err := json.Marshal(roleTree)
	if err != nil {
		return nil, crossbill.Errorf(crossbill.CodeInternal, op, "encoding the member role template: %w", err)
	}
	if len(body) > maxTemplateBody {
		return nil, crossbill.Errorf(crossbill.CodeInvalid, op, "member role template is %d bytes, over CloudFormation's %d: enable fewer modules", len(body), maxTemplateBody)
	}
	if err := CheckOrganizationalUnits(o.OrganizationalUnits); err != nil {
		return nil, err
	}
	ous := obj{
		"Type":        "CommaDelimitedList",
		"Description": "Where to deploy: the organization root ID (r-xxxx) for every account, or OU IDs (ou-xxxx-yyyyyyyy)",
	}
	if len(o.OrganizationalUnits) > 0 {
		ous["Default"] = strings.Join(o.OrganizationalUnits, ",")
	}
	stackParam := func(name string) obj { return obj{"ParameterKey": name, "ParameterValue": ref(name)} }
	return obj{
		"AWSTemplateFormatVersion": "2010-09-09",
		"Description":              "crossbill member account roles through a service-managed StackSet (template " + TemplateVersion + ")",
		"Parameters": obj{
			"ExternalId": obj{
				"Type":           "String",
				"Description":    "External ID crossbill generated for this connection",
				"Default":        string(o.ExternalID),
				"AllowedPattern": externalIDParamPattern,
			},
			"HubPrincipalArn": obj{
				"Type":           "String",
				"Description":    "The crossbill hub identity allowed to assume the member roles",
				"Default":        o.HubPrincipal,
				"AllowedPattern": principalParamPattern,
			},
			"RoleName": obj{
				"Type":           "String",
				"Description":    "Name of the role in each member account",
				"Default":        member.RoleName,
				"AllowedPattern": roleNameParamPattern,
			},
			"OrganizationalUnitIds": ous,
			"CallAs": obj{
				"Type":          "String",
				"Description":   "SELF in the management account, DELEGATED_ADMIN in a delegated StackSets administrator",
				"Default":       "SELF",
				"AllowedValues": []any{"SELF", "DELEGATED_ADMIN"},
			},
		},
		"Resources": obj{
			"MemberRoles": obj{
				"Type": "AWS::CloudFormation::StackSet",
				"Properties": obj{
					"StackSetName":    "crossbill-member-roles",
					"Description":     "crossbill role in every member account of the chosen OUs",
					"PermissionModel": "SERVICE_MANAGED",
					"CallAs":          ref("CallAs"),
					"AutoDeployment": obj{
						"Enabled":                      true,
						"RetainStacksOnAccountRemoval": false,
					},
					"ManagedExecution": obj{"Active": true},
					"Capabilities":     []any{"CAPABILITY_NAMED_IAM"},
					"OperationPreferences": obj{
						"FailureTolerancePercentage": 10,
						"MaxConcurrentPercentage":    25,
						"RegionConcurrencyType":      "PARALLEL",
					},
					"Parameters": []any{stackParam("ExternalId"), stackParam("HubPrincipalArn"), stackParam("RoleName")},
					// IAM is global: one region per account is enough.
					"StackInstancesGroup": []any{obj{
						"DeploymentTargets": obj{"OrganizationalUnitIds": ref("OrganizationalUnitIds")},
						"Regions":           []any{ref("AWS::Region")},
					}},
					"TemplateBody": string(body),
					"Tags":         []any{tag("crossbill:template-version", TemplateVersion)},
				},
			},
		},
		"Outputs": obj{
			"StackSetId": obj{"Description": "The StackSet deploying member roles", "Value": ref("MemberRoles")},
		},
	}, nil
}
