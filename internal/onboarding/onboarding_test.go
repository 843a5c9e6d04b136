package onboarding_test

import (
	"encoding/json"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/manifest"
	"github.com/crossbill/crossbill/internal/onboarding"
)

func TestNewExternalID(t *testing.T) {
	t.Parallel()
	sts := regexp.MustCompile(`^[\w+=,.@:/-]+$`)
	seen := map[crossbill.ExternalID]bool{}
	for range 1000 {
		id, err := onboarding.NewExternalID()
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(string(id), "cb-") || !sts.MatchString(string(id)) || len(id) < 2 || len(id) > 1224 {
			t.Fatalf("external ID %q is not STS-valid with the cb- prefix", id)
		}
		// 32 base32 characters carry 160 bits.
		if len(id) != len("cb-")+32 {
			t.Fatalf("external ID %q: want 32 random characters", id)
		}
		if err := onboarding.ValidateExternalID(string(id)); err != nil {
			t.Fatalf("own ID refused: %v", err)
		}
		if seen[id] {
			t.Fatalf("duplicate external ID %q", id)
		}
		seen[id] = true
	}
	for _, bad := range []string{"", "cb-", "cb-short", "xx-abcdefghijklmnopqrstuvwxyz234567", "cb-ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", "cb-abcdefghijklmnopqrstuvwxyz23456!"} {
		if err := onboarding.ValidateExternalID(bad); crossbill.ErrorCode(err) != crossbill.CodeInvalid {
			t.Errorf("ValidateExternalID(%q) = %v, want invalid", bad, err)
		}
	}
}

func FuzzValidateExternalID(f *testing.F) {
	for _, s := range []string{"cb-abcdefghijklmnopqrstuvwxyz234567", "cb-", "", "cb-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa8"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		err := onboarding.ValidateExternalID(s)
		if err != nil && crossbill.ErrorCode(err) != crossbill.CodeInvalid {
			t.Fatalf("code %q", crossbill.ErrorCode(err))
		}
		if err == nil && (!strings.HasPrefix(s, "cb-") || len(s) != 35) {
			t.Fatalf("accepted %q", s)
		}
	})
}

// parse reads a generated template back, from either format.
func parse(tb testing.TB, f onboarding.File) map[string]any {
	tb.Helper()
	var tree map[string]any
	var err error
	if strings.HasSuffix(f.Name, ".json") {
		err = json.Unmarshal(f.Body, &tree)
	} else {
		err = yaml.Unmarshal(f.Body, &tree)
	}
	if err != nil {
		tb.Fatalf("%s does not parse: %v", f.Name, err)
	}
	return tree
}

func dig(v any, path ...string) any {
	for _, p := range path {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[p]
	}
	return v
}

func list(v any) []any {
	if l, ok := v.([]any); ok {
		return l
	}
	if v == nil {
		return nil
	}
	return []any{v}
}

// allowStatements yields every Allow statement of every IAM policy in a
// template (managed policies, the trust policy, bucket policies).
func allowStatements(tree map[string]any) []map[string]any {
	var out []map[string]any
	for _, res := range dig(tree, "Resources").(map[string]any) {
		props, _ := dig(res, "Properties").(map[string]any)
		for _, key := range []string{"PolicyDocument", "AssumeRolePolicyDocument"} {
			for _, st := range list(dig(props, key, "Statement")) {
				st := st.(map[string]any)
				if st["Effect"] == "Allow" {
					out = append(out, st)
				}
			}
		}
	}
	return out
}

func TestTemplateStructure(t *testing.T) {
	t.Parallel()
	for name, r := range variants() {
		for _, format := range []onboarding.Format{onboarding.FormatYAML, onboarding.FormatJSON} {
			for _, f := range generate(t, r, format) {
				tree := parse(t, f)
				t.Run(name+"/"+f.Name, func(t *testing.T) {
					for _, st := range allowStatements(tree) {
						for _, a := range list(st["Action"]) {
							if s, _ := a.(string); strings.Contains(s, "*") {
								t.Errorf("Allow statement %v grants wildcard action %q", st["Sid"], s)
							}
						}
					}
					switch f.Kind {
					case onboarding.KindAccountRole, onboarding.KindEvaluation:
						checkTrust(t, tree)
						if f.Kind == onboarding.KindEvaluation {
							if d := dig(tree, "Parameters", "RoleName", "Default"); d != onboarding.EvaluationRoleName {
								t.Errorf("evaluation role name %v", d)
							}
							for _, st := range allowStatements(tree) {
								for _, a := range list(st["Action"]) {
									if s := a.(string); !strings.HasPrefix(s, "ce:") && !strings.HasPrefix(s, "pricing:") && !strings.Contains(s, "Describe") && s != "sts:AssumeRole" {
										t.Errorf("evaluation grants %s", s)
									}
								}
							}
						}
						if dig(tree, "Outputs", "RoleArn") == nil {
							t.Error("no RoleArn output")
						}
					case onboarding.KindCUR:
						checkCUR(t, tree)
					case onboarding.KindMembers:
						checkMembers(t, tree, format)
					}
				})
			}
		}
	}
}

func checkTrust(t *testing.T, tree map[string]any) {
	t.Helper()
	sts := list(dig(tree, "Resources", "Role", "Properties", "AssumeRolePolicyDocument", "Statement"))
	if len(sts) != 1 {
		t.Fatalf("trust policy has %d statements, want exactly 1", len(sts))
	}
	st := sts[0].(map[string]any)
	principal := dig(st, "Principal").(map[string]any)
	if len(principal) != 1 || dig(principal, "AWS", "Ref") != "HubPrincipalArn" {
		t.Errorf("trust principal %v: want only the hub principal parameter", principal)
	}
	cond := dig(st, "Condition").(map[string]any)
	if len(cond) != 1 || dig(cond, "StringEquals", "sts:ExternalId", "Ref") != "ExternalId" {
		t.Errorf("trust condition %v: want exactly StringEquals sts:ExternalId", cond)
	}
	if st["Action"] != "sts:AssumeRole" || st["Effect"] != "Allow" {
		t.Errorf("trust statement %v", st)
	}
	if p := dig(tree, "Parameters", "ExternalId", "AllowedPattern"); p != `[\w+=,.@:/-]{2,1224}` {
		t.Errorf("ExternalId AllowedPattern %v", p)
	}
	hasVersionTag := false
	for _, tg := range list(dig(tree, "Resources", "Role", "Properties", "Tags")) {
		if dig(tg, "Key") == "crossbill:template-version" {
			hasVersionTag = true
		}
	}
	if !hasVersionTag {
		t.Error("role has no template-version tag")
	}
}

func checkCUR(t *testing.T, tree map[string]any) {
	t.Helper()
	bucket := dig(tree, "Resources", "CurBucket", "Properties")
	for _, k := range []string{"BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls", "RestrictPublicBuckets"} {
		if dig(bucket, "PublicAccessBlockConfiguration", k) != true {
			t.Errorf("public access block %s not set", k)
		}
	}
	if dig(list(dig(bucket, "OwnershipControls", "Rules"))[0], "ObjectOwnership") != "BucketOwnerEnforced" {
		t.Error("bucket ownership not enforced")
	}
	rule := list(dig(bucket, "LifecycleConfiguration", "Rules"))[0]
	if dig(list(dig(rule, "Transitions"))[0], "StorageClass") != "GLACIER_IR" || dig(rule, "ExpirationInDays", "Ref") != "ExpirationDays" {
		t.Errorf("lifecycle rule %v", rule)
	}
	if dig(tree, "Parameters", "TransitionToGlacierIRDays", "Default") != 30 && dig(tree, "Parameters", "TransitionToGlacierIRDays", "Default") != float64(30) {
		t.Errorf("transition default %v", dig(tree, "Parameters", "TransitionToGlacierIRDays", "Default"))
	}
	var tlsDeny, delivery bool
	for _, st := range list(dig(tree, "Resources", "CurBucketPolicy", "Properties", "PolicyDocument", "Statement")) {
		switch dig(st, "Sid") {
		case "DenyInsecureTransport":
			tlsDeny = dig(st, "Effect") == "Deny" && dig(st, "Condition", "Bool", "aws:SecureTransport") == "false"
		case "AllowDataExportsDelivery":
			delivery = dig(st, "Principal", "Service") == "bcm-data-exports.amazonaws.com" &&
				dig(st, "Condition", "StringEquals", "aws:SourceAccount") != nil &&
				dig(st, "Condition", "StringLike", "aws:SourceArn") != nil
		}
	}
	if !tlsDeny || !delivery {
		t.Errorf("bucket policy: TLS-only deny %v, Data Exports delivery with source conditions %v", tlsDeny, delivery)
	}
	export := dig(tree, "Resources", "CurExport", "Properties", "Export")
	q, _ := dig(export, "DataQuery", "QueryStatement").(string)
	if !strings.HasPrefix(q, "SELECT ") || !strings.HasSuffix(q, " FROM COST_AND_USAGE_REPORT") ||
		!strings.Contains(q, "line_item_unblended_cost") || !strings.Contains(q, "split_line_item_split_cost") || !strings.Contains(q, "resource_tags") {
		t.Errorf("query statement %.80q...", q)
	}
	cfg := dig(export, "DataQuery", "TableConfigurations", "COST_AND_USAGE_REPORT")
	for k, v := range map[string]string{"TIME_GRANULARITY": "HOURLY", "INCLUDE_RESOURCES": "TRUE", "INCLUDE_SPLIT_COST_ALLOCATION_DATA": "TRUE", "INCLUDE_MANUAL_DISCOUNT_COMPATIBILITY": "FALSE"} {
		if dig(cfg, k) != v {
			t.Errorf("table configuration %s = %v, want %s", k, dig(cfg, k), v)
		}
	}
	out := dig(export, "DestinationConfigurations", "S3Destination", "S3OutputConfigurations")
	if dig(out, "Format") != "PARQUET" || dig(out, "Overwrite") != "OVERWRITE_REPORT" {
		t.Errorf("output configuration %v", out)
	}
	// The role's read policy: objects only under the prefix.
	for _, st := range list(dig(tree, "Resources", "CurReadPolicy", "Properties", "PolicyDocument", "Statement")) {
		for _, a := range list(dig(st, "Action")) {
			if a == "s3:GetObject" && dig(st, "Resource", "Fn::Sub") != "arn:${AWS::Partition}:s3:::${CurBucket}/${CurPrefix}/*" {
				t.Errorf("s3:GetObject on %v", dig(st, "Resource"))
			}
			if a == "s3:ListBucket" && dig(st, "Condition", "StringLike", "s3:prefix") == nil {
				t.Error("s3:ListBucket without an s3:prefix condition")
			}
		}
	}
}

func checkMembers(t *testing.T, tree map[string]any, format onboarding.Format) {
	t.Helper()
	props := dig(tree, "Resources", "MemberRoles", "Properties")
	if dig(props, "PermissionModel") != "SERVICE_MANAGED" || dig(props, "AutoDeployment", "Enabled") != true {
		t.Errorf("StackSet %v", props)
	}
	body, _ := dig(props, "TemplateBody").(string)
	var inner map[string]any
	if err := json.Unmarshal([]byte(body), &inner); err != nil {
		t.Fatalf("TemplateBody is not a template: %v", err)
	}
	checkTrust(t, inner)
	res := dig(inner, "Resources").(map[string]any)
	if res["PolicyOrg"] != nil || res["PolicyCur"] != nil {
		t.Error("member roles must not get org or cur")
	}
}

func TestGenerateFiles(t *testing.T) {
	t.Parallel()
	files := generate(t, onboarding.Request{Modules: manifest.DefaultModules(), TemplateURLBase: "https://b.s3.amazonaws.com/cb/", Region: "eu-west-1"}, onboarding.FormatJSON)
	kinds := map[string]onboarding.File{}
	for _, f := range files {
		kinds[f.Kind] = f
	}
	if len(kinds) != 3 || kinds[onboarding.KindCUR].Region != "us-east-1" || kinds[onboarding.KindAccountRole].Region != "eu-west-1" {
		t.Fatalf("files %+v", files)
	}
	link, err := url.Parse(kinds[onboarding.KindAccountRole].Link)
	if err != nil || link.Host != "console.aws.amazon.com" || link.Query().Get("region") != "eu-west-1" {
		t.Fatalf("link %q: %v", kinds[onboarding.KindAccountRole].Link, err)
	}
	frag, err := url.ParseQuery(strings.TrimPrefix(link.Fragment, "/stacks/quickcreate?"))
	if err != nil || frag.Get("templateURL") != "https://b.s3.amazonaws.com/cb/crossbill-account-role.json" ||
		frag.Get("param_ExternalId") != "cb-abcdefghijklmnopqrstuvwxyz234567" || frag.Get("param_HubPrincipalArn") != testPrincipal || frag.Get("stackName") == "" {
		t.Fatalf("quick-create fragment %q: %v", link.Fragment, err)
	}
	if !strings.Contains(kinds[onboarding.KindCUR].Link, "region=us-east-1") {
		t.Errorf("CUR link %q", kinds[onboarding.KindCUR].Link)
	}
	// cur alone still needs the role: the CUR stack attaches its policy to it.
	curOnly := generate(t, onboarding.Request{Modules: []manifest.Module{manifest.ModuleCUR}}, onboarding.FormatYAML)
	if len(curOnly) != 2 || curOnly[0].Kind != onboarding.KindAccountRole || curOnly[1].Kind != onboarding.KindCUR {
		t.Fatalf("cur only: %+v", curOnly)
	}
	for name := range dig(parse(t, curOnly[0]), "Resources").(map[string]any) {
		if name != "Role" {
			t.Errorf("cur-only role stack has %s; the cur policy belongs to the CUR stack", name)
		}
	}
	noLinks := generate(t, onboarding.Request{Modules: manifest.DefaultModules()}, onboarding.FormatYAML)
	if noLinks[0].Link != "" || !strings.HasSuffix(noLinks[0].Name, ".yaml") {
		t.Errorf("without a URL base: %+v", noLinks[0])
	}
}

func TestGenerateRefusesBadInput(t *testing.T) {
	t.Parallel()
	good := onboarding.Request{ExternalID: "cb-abcdefghijklmnopqrstuvwxyz234567", HubPrincipal: testPrincipal, Modules: manifest.DefaultModules()}
	for name, mutate := range map[string]func(*onboarding.Request){
		"malformed principal":  func(r *onboarding.Request) { r.HubPrincipal = "arn:aws:iam::1:role/x" },
		"other partition":      func(r *onboarding.Request) { r.HubPrincipal = "arn:aws-cn:iam::111111111111:role/x" },
		"session principal":    func(r *onboarding.Request) { r.HubPrincipal = "arn:aws:sts::111111111111:assumed-role/x/y" },
		"http url base":        func(r *onboarding.Request) { r.TemplateURLBase = "http://example.com/x" },
		"bad region":           func(r *onboarding.Request) { r.Region = "mars-1" },
		"no role modules":      func(r *onboarding.Request) { r.Modules = nil },
		"external ID charset":  func(r *onboarding.Request) { r.ExternalID = "cb-has space" },
		"unknown format value": func(r *onboarding.Request) { r.Format = "toml" },
		"bad OU":               func(r *onboarding.Request) { r.OrganizationalUnits = []string{"ou-x"} },
		"cur in china": func(r *onboarding.Request) {
			r.Region, r.HubPrincipal = "cn-north-1", "arn:aws-cn:iam::111111111111:role/hub"
		},
	} {
		r := good
		mutate(&r)
		if _, err := onboarding.Generate(r); crossbill.ErrorCode(err) != crossbill.CodeInvalid {
			t.Errorf("%s: %v, want invalid", name, err)
		}
	}
	china := good
	china.Region, china.HubPrincipal, china.Modules = "cn-north-1", "arn:aws-cn:iam::111111111111:role/hub", []manifest.Module{manifest.ModuleCost}
	files, err := onboarding.Generate(china)
	if err != nil || !strings.Contains(string(files[0].Body), "arn:aws-cn:iam::111111111111:role/hub") {
		t.Errorf("china without cur: %v", err)
	}
	if _, err := onboarding.ParseFormat("xml"); crossbill.ErrorCode(err) != crossbill.CodeInvalid {
		t.Errorf("ParseFormat(xml) = %v", err)
	}
}

func TestManagedPoliciesFitIAMLimits(t *testing.T) {
	t.Parallel()
	// A managed policy may hold 6,144 characters, whitespace excluded, and a
	// role 10 managed policies by default. Sizes are measured after Fn::Sub,
	// with the longest partition name.
	files := generate(t, onboarding.Request{Modules: manifest.ValidModules()}, onboarding.FormatJSON)
	for _, f := range files {
		if f.Kind != onboarding.KindAccountRole && f.Kind != onboarding.KindCUR {
			continue
		}
		n := 0
		for name, res := range dig(parse(t, f), "Resources").(map[string]any) {
			if dig(res, "Type") != "AWS::IAM::ManagedPolicy" {
				continue
			}
			n++
			doc, err := json.Marshal(resolveSub(dig(res, "Properties", "PolicyDocument")))
			if err != nil {
				t.Fatal(err)
			}
			if size := len(strings.Join(strings.Fields(string(doc)), "")); size > 6144 {
				t.Errorf("%s policy is %d characters, over 6,144", name, size)
			} else {
				t.Logf("%s %s: %d characters", f.Kind, name, size)
			}
		}
		if n > 10 {
			t.Errorf("%d managed policies on one role, over the default quota of 10", n)
		}
	}
}

// resolveSub replaces Fn::Sub with its string, the pseudo parameters with
// their longest values and template values with long names.
func resolveSub(v any) any {
	switch v := v.(type) {
	case map[string]any:
		if s, ok := v["Fn::Sub"].(string); ok && len(v) == 1 {
			return strings.NewReplacer("${AWS::Partition}", "aws-us-gov", "${AWS::AccountId}", "123456789012",
				"${CurBucket}", strings.Repeat("b", 63), "${CurPrefix}", strings.Repeat("p", 64)).Replace(s)
		}
		out := map[string]any{}
		for k, x := range v {
			out[k] = resolveSub(x)
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, x := range v {
			out[i] = resolveSub(x)
		}
		return out
	}
	return v
}

func TestMembersTargets(t *testing.T) {
	t.Parallel()
	ous := []string{"r-ab12", "ou-ab12-cdefgh34"}
	files := generate(t, onboarding.Request{Modules: []manifest.Module{manifest.ModuleCost}, OrganizationalUnits: ous, TemplateURLBase: "https://b.s3.amazonaws.com"}, onboarding.FormatYAML)
	var members onboarding.File
	for _, f := range files {
		if f.Kind == onboarding.KindMembers {
			members = f
		}
	}
	if d := dig(parse(t, members), "Parameters", "OrganizationalUnitIds", "Default"); d != "r-ab12,ou-ab12-cdefgh34" {
		t.Errorf("OrganizationalUnitIds default %v", d)
	}
	if !strings.Contains(members.Link, "param_OrganizationalUnitIds=r-ab12%2Cou-ab12-cdefgh34") {
		t.Errorf("members link %s", members.Link)
	}
}

// TestPendingActionsLeaveTheTemplates: an action no feature calls yet
// (manifest.PendingActions) is granted by no generated policy, and a module
// whose every action is pending (access-jit) gets no policy at all.
func TestPendingActionsLeaveTheTemplates(t *testing.T) {
	t.Parallel()
	granted := map[string]bool{}
	for _, p := range manifest.Granted(manifest.ValidModules()...) {
		granted[p.Action] = true
	}
	files := generate(t, onboarding.Request{Modules: manifest.ValidModules()}, onboarding.FormatJSON)
	checked := 0
	for _, f := range files {
		if f.Kind != onboarding.KindAccountRole && f.Kind != onboarding.KindCUR {
			continue
		}
		for name, res := range dig(parse(t, f), "Resources").(map[string]any) {
			if dig(res, "Type") != "AWS::IAM::ManagedPolicy" {
				continue
			}
			if name == "PolicyAccessJit" {
				t.Errorf("%s: %s exists, though every action of its module is pending", f.Kind, name)
			}
			doc, err := json.Marshal(dig(res, "Properties", "PolicyDocument"))
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range manifest.PendingActions() {
				// An action another module grants may appear (s3:GetBucketLocation).
				if !granted[p.Action] && strings.Contains(string(doc), `"`+p.Action+`"`) {
					t.Errorf("%s %s grants pending %s (%s)", f.Kind, name, p.Action, p.Issue)
				}
			}
			checked++
		}
	}
	if checked < 5 {
		t.Fatalf("checked %d policies, want every module's", checked)
	}
}
