package onboarding

import (
	"net/url"
	"regexp"
	"strings"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/awsarn"
	"github.com/crossbill/crossbill/internal/manifest"
)

// Template kinds.
const (
	KindAccountRole = "account-role"
	KindEvaluation  = "evaluation"
	KindCUR         = "cur"
	KindMembers     = "members"
)

// Request is everything `crossbill connect init` asks for.
type Request struct {
	ExternalID   crossbill.ExternalID
	HubPrincipal string
	Modules      []manifest.Module
	Format       Format
	// Evaluation asks for the evaluation stack alone (read-only cost and
	// commitments, role CrossbillEvaluation).
	Evaluation bool
	// TemplateURLBase is where the customer or operator hosts the files
	// (an https S3 URL); quick-create links are made only when it is set.
	TemplateURLBase string
	// Region is where the role and members stacks are created (the CUR
	// stack is always in us-east-1); "" means us-east-1.
	Region string
	// OrganizationalUnits prefill the members stack's targets.
	OrganizationalUnits []string
	// EventsEndpoint, when set, adds the opt-in real-time events stack
	// calling crossbill's events URL (POST /api/v1/events).
	EventsEndpoint string
}

// File is one generated template.
type File struct {
	Kind      string `json:"kind"`
	Name      string `json:"file"`
	StackName string `json:"stack_name"`
	Region    string `json:"region"`
	Link      string `json:"link,omitempty"` // console quick-create link
	Body      []byte `json:"-"`
}

var regionPattern = regexp.MustCompile(`^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d{1,2}$`)

// Generate makes the templates of one connection. Nothing is written: the
// caller decides where the files go.
func Generate(r Request) ([]File, error) {
	const op = "connect init"
	if r.Region == "" {
		r.Region = CURRegion
	}
	if !regionPattern.MatchString(r.Region) {
		return nil, crossbill.Errorf(crossbill.CodeInvalid, op, "region %q is not an AWS region name such as us-east-1", r.Region)
	}
	if r.Format != FormatYAML && r.Format != FormatJSON && r.Format != "" {
		return nil, crossbill.Errorf(crossbill.CodeInvalid, op, "unknown template format %q: use yaml or json", r.Format)
	}
	if len(r.Modules) == 0 && !r.Evaluation {
		return nil, crossbill.Errorf(crossbill.CodeInvalid, op, "no modules chosen: pass --modules (e.g. cost,cur,commitments)")
	}
	partition := awsarn.PartitionOf(r.Region)
	hub, err := awsarn.ParsePrincipal(r.HubPrincipal, "")
	if err != nil {
		return nil, err
	}
	if hub.Partition != partition {
		return nil, crossbill.Errorf(crossbill.CodeInvalid, op, "hub principal %s is in partition %s but region %s is in %s: a role can only trust a principal of its own partition; pass a region of partition %s", r.HubPrincipal, hub.Partition, r.Region, partition, hub.Partition)
	}
	if partition != "aws" && containsModule(r.Modules, manifest.ModuleCUR) && !r.Evaluation {
		return nil, crossbill.Errorf(crossbill.CodeInvalid, op, "the CUR stack targets us-east-1 in the aws partition; region %s is in %s: drop the cur module (use --modules without cur)", r.Region, partition)
	}
	base, err := checkURLBase(r.TemplateURLBase)
	if err != nil {
		return nil, err
	}
	ext := "." + string(r.Format)
	if r.Format == "" {
		ext = ".yaml"
	}
	if err := CheckOrganizationalUnits(r.OrganizationalUnits); err != nil {
		return nil, err
	}
	role := RoleOptions{ExternalID: r.ExternalID, HubPrincipal: r.HubPrincipal, Modules: r.Modules, Format: r.Format, OrganizationalUnits: r.OrganizationalUnits}
	var files []File
	add := func(kind, stack, region string, body []byte) {
		files = append(files, File{Kind: kind, Name: "crossbill-" + kind + ext, StackName: stack, Region: region, Body: body})
	}
	if r.Evaluation {
		role.RoleName, role.Modules, role.Evaluation = EvaluationRoleName, EvaluationModules(), true
		body, err := AccountRoleTemplate(role)
		if err != nil {
			return nil, err
		}
		add(KindEvaluation, "crossbill-evaluation", r.Region, body)
	} else {
		// Always made: with cur alone, the role's only policy comes from
		// the CUR stack, which attaches it to this role.
		body, err := AccountRoleTemplate(role)
		if err != nil {
			return nil, err
		}
		add(KindAccountRole, "crossbill-access", r.Region, body)
		if containsModule(r.Modules, manifest.ModuleCUR) {
			body, err := CURTemplate(CUROptions{Format: r.Format})
			if err != nil {
				return nil, err
			}
			add(KindCUR, "crossbill-cur", CURRegion, body)
		}
		if len(MemberModules(r.Modules)) > 0 {
			body, err := MembersTemplate(role)
			if err != nil {
				return nil, err
			}
			add(KindMembers, "crossbill-members", r.Region, body)
		}
	}
	if r.EventsEndpoint != "" && !r.Evaluation {
		body, err := EventsTemplate(EventsOptions{Endpoint: r.EventsEndpoint, Format: r.Format})
		if err != nil {
			return nil, err
		}
		// us-east-1: where IAM and Organizations events arrive.
		add(KindEvents, "crossbill-events", CURRegion, body)
	}
	if base != "" {
		for i := range files {
			files[i].Link = QuickCreateLink(base+"/"+files[i].Name, files[i], partition, r)
		}
	}
	return files, nil
}

func containsModule(mods []manifest.Module, m manifest.Module) bool {
	for _, x := range mods {
		if x == m {
			return true
		}
	}
	return false
}

func checkURLBase(s string) (string, error) {
	if s == "" {
		return "", nil
	}
	u, err := url.Parse(s)
	if err != nil || u.Scheme != "https" || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return "", crossbill.Errorf(crossbill.CodeInvalid, "connect init", "--template-url-base %q must be an https URL of the folder holding the templates, e.g. https://my-bucket.s3.amazonaws.com/crossbill", s)
	}
	return strings.TrimRight(s, "/"), nil
}

// consoleBase is the AWS console of a partition.
func consoleBase(partition string) string {
	switch partition {
	case "aws-cn":
		return "https://console.amazonaws.cn"
	case "aws-us-gov":
		return "https://console.amazonaws-us-gov.com"
	}
	return "https://console.aws.amazon.com"
}

// QuickCreateLink returns a console link that opens the stack creation page
// with the template and crossbill's parameters filled in.
func QuickCreateLink(templateURL string, f File, partition string, r Request) string {
	q := url.Values{}
	q.Set("templateURL", templateURL)
	q.Set("stackName", f.StackName)
	switch f.Kind {
	case KindAccountRole, KindEvaluation, KindMembers:
		q.Set("param_ExternalId", string(r.ExternalID))
		q.Set("param_HubPrincipalArn", r.HubPrincipal)
	}
	if f.Kind == KindMembers && len(r.OrganizationalUnits) > 0 {
		q.Set("param_OrganizationalUnitIds", strings.Join(r.OrganizationalUnits, ","))
	}
	return consoleBase(partition) + "/cloudformation/home?region=" + url.QueryEscape(f.Region) + "#/stacks/quickcreate?" + q.Encode()
}
