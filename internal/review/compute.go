package review

import (
	"fmt"
	"regexp"
	"strings"
)

// What a template runs, and what it hands to code the review cannot read:
// Lambda functions (plain and SAM), nested stacks and custom resources.
// Each either becomes something the review analyses or a finding that says
// it was not seen, so that "no findings" never hides an unread part.

// function is a Lambda function of the template.
type function struct {
	Name   string // logical ID
	Where  Location
	ARNs   []string // how policies can name it
	Role   string   // resolved Role property, "${Logical.Arn}" for a role of the template
	Inline string   // ZipFile or InlineCode source; "" when the code is a package
	// Triggered is set when a custom resource of the template calls it,
	// i.e. it runs at deploy time with the stack's properties.
	Triggered bool
}

// nestedStack reports a nested stack: its template is not in the input.
func (e *extractor) nestedStack(logical string, r, props *node) {
	url := props.get("TemplateURL").str()
	msg := "the nested stack deploys a template from " + firstNonEmpty(url, "an unresolved TemplateURL") + " that is not in the input, with whatever permissions it defines"
	if unpinned(url) {
		msg += "; the URL is not pinned to a version, so the vendor can change what deploys after this review"
	}
	e.inv.Unreviewable = append(e.inv.Unreviewable, problem{Where: e.at(r, "Resources."+logical), Message: msg + ". Download it and review it with this one"})
}

var versioned = regexp.MustCompile(`(^|[/_.-])v?\d+(\.\d+)+([/_.-]|$)`)

// unpinned reports whether a template URL names no version ("latest", or
// no version-like path segment).
func unpinned(url string) bool {
	return strings.Contains(strings.ToLower(url), "latest") || !versioned.MatchString(url)
}

// lambdaFunction records an AWS::Lambda::Function.
func (e *extractor) lambdaFunction(logical string, r, props *node) *function {
	fn := &function{Name: logical, Where: e.at(r, "Resources."+logical), Role: props.get("Role").str(), Inline: props.get("Code").get("ZipFile").str()}
	fn.ARNs = []string{"${" + logical + ".Arn}", "${" + logical + "}",
		"arn:aws:lambda:${AWS::Region}:${AWS::AccountId}:function:" + firstNonEmpty(props.get("FunctionName").str(), "${"+logical+"}")}
	e.inv.Functions = append(e.inv.Functions, fn)
	return fn
}

// samFunction reads an AWS::Serverless::Function: SAM creates a role for
// it from Policies unless Role names one.
func (e *extractor) samFunction(logical string, r, props *node) (*function, *identity) {
	fn := e.lambdaFunction(logical, r, props)
	fn.Inline = props.get("InlineCode").str()
	if fn.Role != "" {
		return fn, nil
	}
	path := "Resources." + logical + ".Properties.Policies"
	roleName := logical + "Role" // the logical ID SAM gives the role it creates
	id := &identity{Kind: kindRole, Name: roleName, Where: e.at(r, "Resources."+logical), Service: "lambda.amazonaws.com",
		RoleARN: []string{"${" + roleName + ".Arn}", "arn:aws:iam::${AWS::AccountId}:role/${" + roleName + "}"}}
	fn.Role = "${" + roleName + ".Arn}"
	// SAM always attaches the basic execution policy.
	id.ManagedARNs = append(id.ManagedARNs, managedRef{ARN: "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole", Where: fn.Where})
	pols := props.get("Policies")
	items := pols.items()
	if pols != nil && pols.Kind != listNode {
		items = []*node{pols}
	}
	for i, p := range items {
		where := e.at(p, fmt.Sprintf("%s[%d]", path, i))
		switch {
		case p.Kind == scalarNode:
			arn := p.Str
			if !strings.HasPrefix(arn, "arn:") {
				arn = "arn:aws:iam::aws:policy/" + arn
			}
			id.ManagedARNs = append(id.ManagedARNs, managedRef{ARN: arn, Where: where})
		case p.get("Statement") != nil:
			id.Policies = append(id.Policies, e.policy(p, fmt.Sprintf("%s Policies[%d]", logical, i), fmt.Sprintf("%s[%d]", path, i), p))
		case p.Kind == mapNode && len(p.Keys) == 1:
			e.inv.Unreviewable = append(e.inv.Unreviewable, problem{Where: where,
				Message: fmt.Sprintf("SAM policy template %s is expanded by the SAM transform at deploy time into statements this review does not have; run `sam validate --debug` or review the transformed template", p.Keys[0])})
		default:
			e.inv.Unreviewable = append(e.inv.Unreviewable, problem{Where: where, Message: "a SAM Policies entry the review cannot read; review the transformed template"})
		}
	}
	return fn, id
}

// customResource notes which function a custom resource runs, or reports
// a ServiceToken in another account: the stack then sends the resource's
// properties to code the vendor runs, and waits for its answer.
func (e *extractor) customResource(logical string, r, props *node) {
	token := props.get("ServiceToken").str()
	where := e.at(r, "Resources."+logical)
	for _, fn := range e.inv.Functions {
		for _, arn := range fn.ARNs {
			if token == arn {
				fn.Triggered = true
				return
			}
		}
	}
	acct := arnAccount(token)
	if acct == "" || strings.Contains(acct, "AWS::AccountId") || strings.Contains(acct, "${") {
		return
	}
	e.inv.Tokens = append(e.inv.Tokens, serviceToken{Resource: logical, Token: token, Account: acct, Where: where})
}

// serviceToken is a custom resource served from another account.
type serviceToken struct {
	Resource, Token, Account string
	Where                    Location
}

// arnAccount returns the account field of an ARN ("" if not an ARN).
func arnAccount(arn string) string {
	parts := strings.SplitN(placeholder.ReplaceAllStringFunc(arn, func(s string) string { return strings.ReplaceAll(s, ":", "\x00") }), ":", 6)
	if len(parts) < 6 || parts[0] != "arn" {
		return ""
	}
	return strings.ReplaceAll(parts[4], "\x00", ":")
}

// fetchesAtRuntime reports whether inline function code downloads something
// (a URL, an S3 object) whose content the review cannot see.
func fetchesAtRuntime(code string) bool {
	for _, s := range []string{"urlopen", "requests.get", "requests.post", "http.client", "https://", "http://", "get_object", "fetch(", "https.get", "axios"} {
		if strings.Contains(code, s) {
			return true
		}
	}
	return false
}

// macros reports template macros other than AWS's own transforms: a macro
// is a function that rewrites the template at deploy time, so what deploys
// (policies included) is not what the input shows.
func (e *extractor) macros(tmpl *node) {
	var names []string
	if t := tmpl.get("Transform"); t != nil {
		names = append(names, e.names(t)...)
	}
	for _, n := range names {
		if !strings.HasPrefix(n, "AWS::") {
			e.inv.Unreviewable = append(e.inv.Unreviewable, problem{Where: e.at(tmpl.get("Transform"), "Transform"),
				Message: "the template is processed by the macro " + n + ", which rewrites it at deploy time; review the processed template (CloudFormation shows it in the stack's template, \"View processed template\")"})
		}
	}
	res := tmpl.get("Resources")
	if res == nil || res.Kind != mapNode {
		return
	}
	for i, logical := range res.Keys {
		if where := findTransform(res.Vals[i], 0); where != nil {
			t := where.get("Fn::Transform")
			if t != nil && t.Kind == listNode && len(t.List) > 0 {
				t = t.List[0] // Datadog's templates write it as a list
			}
			name := t.get("Name").str()
			e.inv.Unreviewable = append(e.inv.Unreviewable, problem{Where: e.at(where, "Resources."+logical),
				Message: "Fn::Transform calls the macro " + firstNonEmpty(name, "(unnamed)") + ", which generates this part of the resource at deploy time; review the processed template"})
		}
	}
}

// findTransform returns the first map holding an Fn::Transform under n.
func findTransform(n *node, depth int) *node {
	if n == nil || depth > maxDepth {
		return nil
	}
	switch n.Kind {
	case mapNode:
		for i, k := range n.Keys {
			if k == "Fn::Transform" {
				return n
			}
			if w := findTransform(n.Vals[i], depth+1); w != nil {
				return w
			}
		}
	case listNode:
		for _, v := range n.List {
			if w := findTransform(v, depth+1); w != nil {
				return w
			}
		}
	}
	return nil
}
