package review

import (
	"encoding/json"
	"fmt"
	"strings"
)

// Policy document kinds, which decide what a missing element means.
const (
	docIdentity = "identity"
	docTrust    = "trust"
	docResource = "resource"
)

// policy reads a PolicyDocument value (already resolved) into a rawPolicy,
// repairing and recording structural mistakes.
func (e *extractor) policy(doc *node, name, path string, owner *node) *rawPolicy {
	kind := docIdentity
	if strings.HasSuffix(path, "AssumeRolePolicyDocument") {
		kind = docTrust
	}
	return e.document(doc, name, path, owner, kind)
}

func (e *extractor) document(doc *node, name, path string, owner *node, kind string) *rawPolicy {
	p := &rawPolicy{Name: name, Where: e.at(firstNode(doc, owner), path)}
	if e.scope != nil {
		p.ownAccount = "${AWS::AccountId}"
	}
	fix := func(n *node, subpath, format string, args ...any) {
		p.Problems = append(p.Problems, problem{Where: e.at(firstNode(n, doc, owner), path+subpath), Message: fmt.Sprintf(format, args...)})
	}
	if doc == nil {
		fix(nil, "", "the policy document is missing")
		p.Doc = &node{Kind: mapNode}
		return p
	}
	if doc.Kind == scalarNode {
		// A document given as a JSON string (allowed for Json-typed
		// properties): parse it, counting its lines from the string's.
		inner, err := parseDocument(e.file+" "+path, []byte(doc.Str))
		if err != nil {
			fix(doc, "", "the policy document is a string that is not JSON: %v", err)
			p.Doc = &node{Kind: mapNode}
			return p
		}
		shiftLines(inner, doc.Line-1)
		doc = inner
	}
	if doc.Kind != mapNode {
		fix(doc, "", "the policy document is not an object")
		p.Doc = &node{Kind: mapNode}
		return p
	}
	stmts := doc.get("Statement")
	if stmts == nil {
		if doc.get("Action") != nil || doc.get("NotAction") != nil || doc.get("Principal") != nil {
			fix(doc, "", "the policy has no Statement; its Action/Principal keys belong inside a statement (reviewed as one statement)")
			stmts = &node{Kind: listNode, Line: doc.Line, List: []*node{withoutKeys(doc, "Version", "Id")}}
		} else {
			fix(doc, "", "the policy has no Statement")
			stmts = &node{Kind: listNode, Line: doc.Line}
		}
	}
	if stmts.Kind == mapNode {
		stmts = &node{Kind: listNode, Line: stmts.Line, List: []*node{stmts}}
	}
	out := &node{Kind: mapNode, Line: doc.Line, Keys: []string{"Version"}, Vals: []*node{scalar(firstNonEmpty(doc.get("Version").str(), "2012-10-17"), doc.Line)}}
	list := &node{Kind: listNode, Line: stmts.Line}
	for i, st := range stmts.List {
		sub := fmt.Sprintf(".Statement[%d]", i)
		if st.Kind != mapNode {
			fix(st, sub, "a statement must be an object")
			continue
		}
		st = withoutKeys(st)
		if st.get("Effect") == nil {
			fix(st, sub, "the statement has no Effect; IAM rejects it (reviewed as Allow)")
			st.Keys, st.Vals = append(st.Keys, "Effect"), append(st.Vals, scalar("Allow", st.Line))
		}
		if st.get("Action") == nil && st.get("NotAction") == nil {
			if kind == docTrust {
				fix(st, sub, "the trust statement has no Action; IAM rejects it (reviewed as sts:AssumeRole)")
				st.Keys, st.Vals = append(st.Keys, "Action"), append(st.Vals, scalar("sts:AssumeRole", st.Line))
			} else {
				fix(st, sub, "the statement has no Action")
			}
		}
		if kind == docIdentity && st.get("Resource") == nil && st.get("NotResource") == nil {
			fix(st, sub, "the statement has no Resource; IAM rejects it (reviewed as Resource \"*\", the broadest reading)")
			st.Keys, st.Vals = append(st.Keys, "Resource"), append(st.Vals, scalar("*", st.Line))
		}
		if kind == docTrust && st.get("Principal") == nil && st.get("NotPrincipal") == nil {
			fix(st, sub, "the trust statement has no Principal")
		}
		list.List = append(list.List, st)
		p.stmtLines = append(p.stmtLines, st.Line+e.offset)
	}
	out.Keys, out.Vals = append(out.Keys, "Statement"), append(out.Vals, list)
	p.Doc = out
	return p
}

func firstNode(ns ...*node) *node {
	for _, n := range ns {
		if n != nil {
			return n
		}
	}
	return nil
}

func shiftLines(n *node, by int) {
	if n == nil {
		return
	}
	n.Line += by
	for _, c := range n.List {
		shiftLines(c, by)
	}
	for _, c := range n.Vals {
		shiftLines(c, by)
	}
}

// jsonValue turns a tree into values encoding/json can marshal.
func jsonValue(n *node) any {
	if n == nil {
		return nil
	}
	switch n.Kind {
	case scalarNode:
		return n.Str
	case listNode:
		out := make([]any, 0, len(n.List))
		for _, v := range n.List {
			out = append(out, jsonValue(v))
		}
		return out
	case mapNode:
		out := make(map[string]any, len(n.Keys))
		for i, k := range n.Keys {
			out[k] = jsonValue(n.Vals[i])
		}
		return out
	}
	return nil
}

// policyJSON returns the resolved document as JSON for the policy parser.
func (p *rawPolicy) policyJSON() ([]byte, error) {
	return json.Marshal(jsonValue(p.Doc))
}

// bucketPolicy reads an AWS::S3::BucketPolicy as a resource policy.
// guess names the template's only bucket, used when Bucket is missing.
func (e *extractor) bucketPolicy(logical string, r, props *node, guess string) {
	path := "Resources." + logical
	bucket := props.get("Bucket").str()
	doc := props.get("PolicyDocument")
	var probs []problem
	if bucket == "" {
		msg := "the bucket policy has no Bucket property; CloudFormation will reject it"
		bucket = "${UnnamedBucket}"
		if guess != "" {
			msg += " (reviewed as applying to " + guess + ", the template's only bucket)"
			bucket = "${" + guess + "}"
		}
		probs = append(probs, problem{Where: e.at(r, path+".Properties.Bucket"), Message: msg})
	}
	if doc == nil && props != nil && (props.get("Principal") != nil || props.get("Action") != nil) {
		// Seen in vendor docs: statement keys written directly under
		// Properties. Review what the author meant, on the whole bucket.
		probs = append(probs, problem{Where: e.at(props, path+".Properties.PolicyDocument"), Message: "the bucket policy has no PolicyDocument; its Principal/Action keys belong in a statement (reviewed as one statement on the bucket and its objects)"})
		st := withoutKeys(props, "Bucket")
		if st.get("Resource") == nil {
			arn := "arn:aws:s3:::" + bucket
			st.Keys = append(st.Keys, "Resource")
			st.Vals = append(st.Vals, &node{Kind: listNode, Line: props.Line, List: []*node{scalar(arn, props.Line), scalar(arn+"/*", props.Line)}})
		}
		doc = &node{Kind: mapNode, Line: props.Line, Keys: []string{"Statement"}, Vals: []*node{{Kind: listNode, Line: props.Line, List: []*node{st}}}}
	}
	p := e.document(doc, logical, path+".Properties.PolicyDocument", r, docResource)
	p.Problems = append(probs, p.Problems...)
	e.inv.Identities = append(e.inv.Identities, &identity{Kind: kindResourcePolicy, What: "bucket policy", Name: logical, Where: e.at(r, path), Policies: []*rawPolicy{p}})
}

// resourcePolicy reads the policy document of a KMS key, SQS queue, SNS
// topic or secret as a resource policy.
func (e *extractor) resourcePolicy(logical string, r, props *node, key, what string) {
	path := "Resources." + logical
	doc := props.get(key)
	if doc == nil {
		return // a key without a key policy gets the default one
	}
	p := e.document(doc, logical, path+".Properties."+key, r, docResource)
	e.inv.Identities = append(e.inv.Identities, &identity{Kind: kindResourcePolicy, What: what, Name: logical, Where: e.at(r, path), Policies: []*rawPolicy{p}})
}

// maxStackSetDepth bounds StackSets nested in StackSet templates.
const maxStackSetDepth = 4

// stackSet reviews the template a StackSet deploys to member accounts.
func (e *extractor) stackSet(logical string, r, props *node) {
	path := "Resources." + logical + ".Properties.TemplateBody"
	raw := r.get("Properties").get("TemplateBody")
	body := props.get("TemplateBody")
	if body == nil {
		if url := props.get("TemplateURL").str(); url != "" {
			e.inv.Unreviewable = append(e.inv.Unreviewable, problem{Where: e.at(r, "Resources."+logical), Message: "the StackSet deploys a template from " + url + "; review that template too"})
		}
		return
	}
	if e.depth >= maxStackSetDepth {
		e.inv.Problems = append(e.inv.Problems, problem{Where: e.at(raw, path), Message: "StackSets nested too deeply to review"})
		return
	}
	var inner *node
	if body.Kind == scalarNode {
		parsed, err := parseDocument(e.file+" "+path, []byte(body.Str))
		if err != nil {
			e.inv.Problems = append(e.inv.Problems, problem{Where: e.at(raw, path), Message: fmt.Sprintf("the StackSet template body cannot be read: %v", err)})
			return
		}
		inner = parsed
	} else {
		// TemplateBody given as a YAML object: review it in place (lines
		// are already the file's).
		inner = raw
	}
	sub := &extractor{file: e.file, prefix: e.prefix + "Resources." + logical + " (StackSet) > ", depth: e.depth + 1, inv: e.inv}
	if body.Kind == scalarNode {
		sub.offset = e.offset + raw.line(0)
	} else {
		sub.offset = e.offset
	}
	sub.extractTemplate(inner)
}
