package review

import (
	"fmt"
	"strings"
)

// Identity kinds.
const (
	kindRole           = "role"
	kindUser           = "user"
	kindGroup          = "group"
	kindPolicy         = "policy"          // a policy attached to nothing we can see
	kindResourcePolicy = "resource-policy" // a bucket, key, queue, topic or secret policy granting to principals
)

// Location says where something is, for people (Path) and for SARIF (File, Line).
type Location struct {
	File string `json:"file"`
	Line int    `json:"line,omitempty"`
	Path string `json:"path"`
}

func (l Location) String() string {
	if l.Line > 0 {
		return fmt.Sprintf("%s:%d %s", l.File, l.Line, l.Path)
	}
	return l.File + " " + l.Path
}

// rawPolicy is one policy document found in the input, resolved to plain
// values, before the policy package parses it.
type rawPolicy struct {
	Name  string
	Where Location
	Doc   *node // resolved document
	// stmtLines[i] is the line of statement i, when known.
	stmtLines []int
	// Problems are structural mistakes CloudFormation or IAM would reject,
	// repaired for the review with the most permissive reading.
	Problems []problem
	// ownAccount is how the document names the account it lives in:
	// ${AWS::AccountId} in templates, unknown ("") for bare policies.
	ownAccount string
}

// problem is a structural mistake found while reading the input.
type problem struct {
	Where   Location
	Message string
}

// identity is something that holds permissions: a role, a user, a group, a
// standalone policy, or a resource policy.
type identity struct {
	Kind    string
	What    string // for resource policies: "bucket policy", "key policy", ...
	Name    string // logical ID, or file name for raw policies
	Where   Location
	RoleARN []string // ARNs the identity is known by, for self-modification checks

	Trust        *rawPolicy
	Policies     []*rawPolicy
	ManagedARNs  []managedRef
	Groups       []string // group references of a user
	AccessKeys   []Location
	LoginProfile *Location
	Boundary     string
	// Service is the AWS service that alone assumes a role SAM creates
	// (no trust policy in the template).
	Service string

	referenced bool // a policy that some identity attaches by ARN
}

type managedRef struct {
	ARN   string
	Where Location
}

// inventory is everything extracted from the inputs.
type inventory struct {
	Identities []*identity
	Problems   []problem
	// Unreviewable notes what could not be read (e.g. a StackSet TemplateURL).
	Unreviewable []problem
	Functions    []*function
	Tokens       []serviceToken
	// Local maps the ARN placeholders of the template's own roles and users
	// ("${Logical.Arn}") to them: a trust in one is not cross-account.
	Local map[string]*identity
}

// extractor walks one template.
type extractor struct {
	file   string
	prefix string // path prefix, e.g. "Resources.OrgStackSet.TemplateBody > "
	offset int    // line offset of an embedded template
	depth  int    // StackSet nesting depth
	inv    *inventory
	scope  *scope
}

func (e *extractor) at(n *node, path string) Location {
	line := 0
	if n != nil && n.Line > 0 {
		line = n.Line + e.offset
	}
	return Location{File: e.file, Line: line, Path: e.prefix + path}
}

// extractTemplate finds every identity and policy in a CloudFormation template.
func (e *extractor) extractTemplate(tmpl *node) {
	e.scope = newScope(tmpl)
	e.macros(tmpl)
	res := tmpl.get("Resources")
	if res == nil || res.Kind != mapNode {
		e.inv.Problems = append(e.inv.Problems, problem{Where: e.at(tmpl, "Resources"), Message: "the template has no Resources section"})
		return
	}
	byRef := map[string]*identity{} // "${Logical}" or literal name -> identity
	var attachments, custom []func()
	var fns []*function
	for i, logical := range res.Keys {
		r := res.Vals[i]
		if i < len(res.KeyLines) {
			// Point at the resource's name, not its first property.
			r = &node{Kind: r.Kind, Str: r.Str, List: r.List, Keys: r.Keys, Vals: r.Vals, Line: res.KeyLines[i]}
		}
		typ := r.get("Type").str()
		props := e.scope.resolve(r.get("Properties"))
		path := "Resources." + logical
		switch typ {
		case "AWS::IAM::Role", "AWS::IAM::User", "AWS::IAM::Group":
			id := e.principalResource(logical, typ, r, props)
			e.inv.Identities = append(e.inv.Identities, id)
			byRef["${"+logical+"}"] = id
			byRef["${"+logical+".Arn}"] = id
			for _, key := range []string{"RoleName", "UserName", "GroupName"} {
				if name := props.get(key).str(); name != "" {
					byRef[name] = id
				}
			}
		case "AWS::IAM::ManagedPolicy", "AWS::IAM::Policy":
			p := e.policy(props.get("PolicyDocument"), firstNonEmpty(props.get("PolicyName").str(), props.get("ManagedPolicyName").str(), logical), path+".Properties.PolicyDocument", r)
			byRef["${"+logical+"}"] = &identity{Kind: kindPolicy, Name: logical, Where: e.at(r, path), Policies: []*rawPolicy{p}}
			if name := props.get("ManagedPolicyName").str(); name != "" {
				byRef["arn:aws:iam::${AWS::AccountId}:policy/"+name] = byRef["${"+logical+"}"]
			}
			holder := byRef["${"+logical+"}"]
			attachments = append(attachments, func() {
				targets := append(append(e.names(props.get("Roles")), e.names(props.get("Users"))...), e.names(props.get("Groups"))...)
				attached := false
				for _, t := range targets {
					if id, ok := byRef[t]; ok && id.Kind != kindPolicy {
						id.Policies = append(id.Policies, p)
						attached = true
					}
				}
				if !attached {
					e.inv.Identities = append(e.inv.Identities, holder)
				}
			})
		case "AWS::IAM::RolePolicy", "AWS::IAM::UserPolicy", "AWS::IAM::GroupPolicy":
			key := strings.TrimSuffix(strings.TrimPrefix(typ, "AWS::IAM::"), "Policy") + "Name"
			p := e.policy(props.get("PolicyDocument"), firstNonEmpty(props.get("PolicyName").str(), logical), path+".Properties.PolicyDocument", r)
			target := props.get(key).str()
			attachments = append(attachments, func() {
				if id, ok := byRef[target]; ok {
					id.Policies = append(id.Policies, p)
					return
				}
				e.inv.Identities = append(e.inv.Identities, &identity{Kind: kindPolicy, Name: logical, Where: e.at(r, path), Policies: []*rawPolicy{p}})
			})
		case "AWS::IAM::AccessKey":
			user := props.get("UserName").str()
			where := e.at(r, path)
			attachments = append(attachments, func() {
				if id, ok := byRef[user]; ok {
					id.AccessKeys = append(id.AccessKeys, where)
					return
				}
				e.inv.Identities = append(e.inv.Identities, &identity{Kind: kindUser, Name: strings.Trim(user, "${}"), Where: where, AccessKeys: []Location{where}})
			})
		case "AWS::IAM::UserToGroupAddition":
			group := props.get("GroupName").str()
			users := e.names(props.get("Users"))
			attachments = append(attachments, func() {
				for _, u := range users {
					if id, ok := byRef[u]; ok {
						id.Groups = append(id.Groups, group)
					}
				}
			})
		case "AWS::S3::BucketPolicy":
			e.bucketPolicy(logical, r, props, onlyBucket(res))
		case "AWS::KMS::Key":
			e.resourcePolicy(logical, r, props, "KeyPolicy", "key policy")
		case "AWS::SQS::QueuePolicy":
			e.resourcePolicy(logical, r, props, "PolicyDocument", "queue policy")
		case "AWS::SNS::TopicPolicy":
			e.resourcePolicy(logical, r, props, "PolicyDocument", "topic policy")
		case "AWS::SecretsManager::ResourcePolicy":
			e.resourcePolicy(logical, r, props, "ResourcePolicy", "secret policy")
		case "AWS::CloudFormation::StackSet":
			e.stackSet(logical, r, props)
		case "AWS::CloudFormation::Stack":
			e.nestedStack(logical, r, props)
		case "AWS::Lambda::Function":
			fns = append(fns, e.lambdaFunction(logical, r, props))
		case "AWS::Serverless::Function":
			fn, id := e.samFunction(logical, r, props)
			fns = append(fns, fn)
			if id != nil {
				e.inv.Identities = append(e.inv.Identities, id)
				byRef["${"+id.Name+"}"] = id
				byRef["${"+id.Name+".Arn}"] = id
			}
		default:
			if strings.HasPrefix(typ, "Custom::") || typ == "AWS::CloudFormation::CustomResource" {
				custom = append(custom, func() { e.customResource(logical, r, props) })
			}
		}
	}
	// Attach policies and keys once every identity is known, because
	// CloudFormation does not require resources to be declared in order.
	for _, attach := range attachments {
		attach()
	}
	e.linkManaged(byRef)
	for _, c := range custom {
		c()
	}
	if e.inv.Local == nil {
		e.inv.Local = map[string]*identity{}
	}
	for ref, id := range byRef {
		if strings.HasSuffix(ref, ".Arn}") && (id.Kind == kindRole || id.Kind == kindUser) {
			e.inv.Local[ref] = id
		}
	}
	for _, fn := range fns {
		if id, ok := byRef[fn.Role]; !ok || id.Kind != kindRole {
			e.inv.Unreviewable = append(e.inv.Unreviewable, problem{Where: fn.Where,
				Message: "function " + fn.Name + " runs as " + firstNonEmpty(fn.Role, "an unnamed role") + ", a role that is not in the input, so what its code may do was not seen; review that role's policies too"})
		}
	}
}

// onlyBucket returns the logical ID of the template's only S3 bucket, or "".
func onlyBucket(res *node) string {
	found := ""
	for i, k := range res.Keys {
		if res.Vals[i].get("Type").str() == "AWS::S3::Bucket" {
			if found != "" {
				return ""
			}
			found = k
		}
	}
	return found
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}

// names returns the strings of a list (or single) value.
func (e *extractor) names(n *node) []string {
	if n == nil {
		return nil
	}
	if n.Kind == scalarNode {
		return []string{n.Str}
	}
	var out []string
	for _, v := range n.List {
		if v.Kind == scalarNode {
			out = append(out, v.Str)
		}
	}
	return out
}

func (e *extractor) principalResource(logical, typ string, r, props *node) *identity {
	path := "Resources." + logical
	id := &identity{Kind: strings.ToLower(strings.TrimPrefix(typ, "AWS::IAM::")), Name: logical, Where: e.at(r, path)}
	if id.Kind == kindRole {
		name := firstNonEmpty(props.get("RoleName").str(), "${"+logical+"}")
		id.RoleARN = []string{"${" + logical + ".Arn}", "arn:aws:iam::${AWS::AccountId}:role" + firstNonEmpty(props.get("Path").str(), "/") + name}
		if d := props.get("AssumeRolePolicyDocument"); d != nil {
			id.Trust = e.policy(d, logical+" trust policy", path+".Properties.AssumeRolePolicyDocument", r)
		} else {
			e.inv.Problems = append(e.inv.Problems, problem{Where: e.at(r, path), Message: "the role has no AssumeRolePolicyDocument; CloudFormation will reject it"})
		}
	}
	if pols := props.get("Policies"); pols != nil {
		for i, entry := range pols.items() {
			ppath := fmt.Sprintf("%s.Properties.Policies[%d]", path, i)
			name := firstNonEmpty(entry.get("PolicyName").str(), fmt.Sprintf("Policies[%d]", i))
			doc := entry.get("PolicyDocument")
			var missing []problem
			if doc == nil {
				// Seen in vendor docs: statement keys written directly
				// under the Policies entry. Read it as the statement the
				// author meant, and say that it will not deploy.
				missing = append(missing, problem{Where: e.at(entry, ppath+".PolicyDocument"), Message: fmt.Sprintf("inline policy %q has no PolicyDocument; CloudFormation will reject it (reviewed as if its keys were one statement)", name)})
				doc = &node{Kind: mapNode, Line: entry.Line, Keys: []string{"Statement"}, Vals: []*node{withoutKeys(entry, "PolicyName")}}
			}
			p := e.policy(doc, name, ppath+".PolicyDocument", entry)
			p.Problems = append(missing, p.Problems...)
			id.Policies = append(id.Policies, p)
		}
	}
	for _, arn := range props.get("ManagedPolicyArns").items() {
		if arn.Kind == scalarNode {
			id.ManagedARNs = append(id.ManagedARNs, managedRef{ARN: arn.Str, Where: e.at(arn, path+".Properties.ManagedPolicyArns")})
		}
	}
	id.Groups = e.names(props.get("Groups"))
	if lp := props.get("LoginProfile"); lp != nil {
		where := e.at(lp, path+".Properties.LoginProfile")
		id.LoginProfile = &where
	}
	id.Boundary = props.get("PermissionsBoundary").str()
	return id
}

// withoutKeys returns a copy of map n without the given keys.
func withoutKeys(n *node, drop ...string) *node {
	out := &node{Kind: mapNode, Line: n.Line}
	for i, k := range n.Keys {
		skip := false
		for _, d := range drop {
			skip = skip || k == d
		}
		if !skip {
			out.Keys = append(out.Keys, k)
			out.Vals = append(out.Vals, n.Vals[i])
		}
	}
	return out
}

// linkManaged attaches policies named in ManagedPolicyArns when the template
// defines them, and collects group policies into users.
func (e *extractor) linkManaged(byRef map[string]*identity) {
	for _, id := range e.inv.Identities {
		var keep []managedRef
		for _, m := range id.ManagedARNs {
			if p, ok := byRef[m.ARN]; ok && p.Kind == kindPolicy {
				id.Policies = append(id.Policies, p.Policies...)
				p.referenced = true
				continue
			}
			keep = append(keep, m)
		}
		id.ManagedARNs = keep
	}
	// Drop standalone policies that turned out to be attached.
	kept := e.inv.Identities[:0]
	for _, id := range e.inv.Identities {
		if id.Kind == kindPolicy && id.referenced {
			continue
		}
		kept = append(kept, id)
	}
	e.inv.Identities = kept
	for _, id := range e.inv.Identities {
		if id.Kind != kindUser {
			continue
		}
		for _, g := range id.Groups {
			if grp, ok := byRef[g]; ok && grp.Kind == kindGroup {
				id.Policies = append(id.Policies, grp.Policies...)
				id.ManagedARNs = append(id.ManagedARNs, grp.ManagedARNs...)
			}
		}
	}
}
