package review

import (
	"context"
	"path/filepath"
	"sort"
	"strings"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/iamdata"
	"github.com/crossbill/crossbill/internal/policy"
)

// Input is one file to review.
type Input struct {
	Name string // shown in findings and SARIF locations
	Data []byte
}

// Options tune a review.
type Options struct {
	// Known lists vendor accounts (fwdcloudsec known_aws_accounts format)
	// so that trust findings can name them; nil means none are known.
	Known *policy.KnownAccounts
}

// Template reviews one CloudFormation template (YAML or JSON) or IAM policy
// document. It is the entry point for tests that check a single template,
// such as crossbill's own onboarding templates.
func Template(ctx context.Context, name string, data []byte, opts Options) (Report, error) {
	return Review(ctx, []Input{{Name: name, Data: data}}, opts)
}

// Review reviews several files as one vendor integration: counts and the
// can/cannot summary cover all of them together.
func Review(ctx context.Context, inputs []Input, opts Options) (Report, error) {
	const op = "review"
	if len(inputs) == 0 {
		return Report{}, crossbill.Errorf(crossbill.CodeInvalid, op, "no files to review; give one or more templates or policies")
	}
	cat, err := iamdata.Load()
	if err != nil {
		return Report{}, crossbill.Errorf(crossbill.CodeInternal, op, "loading the IAM action catalog: %w", err)
	}
	kb, err := loadKnowledge()
	if err != nil {
		return Report{}, err
	}
	inv := &inventory{}
	var outputs []Finding
	rep := Report{Catalog: cat.Version()}
	for _, in := range inputs {
		if err := ctx.Err(); err != nil {
			return Report{}, crossbill.Errorf(crossbill.CodeUnavailable, op, "review interrupted: %w", err)
		}
		rep.Files = append(rep.Files, in.Name)
		root, err := parseDocument(in.Name, in.Data)
		if err != nil {
			return Report{}, err
		}
		switch {
		case root.get("Resources") != nil || root.get("AWSTemplateFormatVersion") != nil:
			e := &extractor{file: in.Name, inv: inv}
			e.extractTemplate(root)
			outputs = append(outputs, secretOutputs(in.Name, root)...)
		case root.get("Statement") != nil:
			rawPolicyFile(in.Name, root, inv)
		default:
			return Report{}, crossbill.Errorf(crossbill.CodeInvalid, op, "%s: line %d: neither a CloudFormation template (no Resources) nor an IAM policy (no Statement)", in.Name, root.line(1))
		}
	}
	a := &analyzer{cat: cat, kb: kb, known: opts.Known, grants: map[string]int{}, allowed: map[string][]*held{}, applyCache: map[[2]string]bool{}, typeARNs: map[[2]string]string{}}
	a.findings = append(a.findings, outputs...)
	a.problems("", inv.Problems, nil)
	// Unread parts fail --fail-on high by default: "no findings" must mean
	// everything was seen.
	for _, u := range inv.Unreviewable {
		a.add(Finding{ID: "template/unreviewable", Severity: SeverityHigh, Title: "Part of the integration is not in the input", Location: u.Where, Why: u.Message})
	}
	a.serviceTokens(inv.Tokens)
	a.local = inv.Local
	var ids []*analyzed
	for _, id := range inv.Identities {
		ids = append(ids, a.identity(id))
	}
	a.reach(ids, inv)
	rep.Findings = dedupe(a.findings)
	sortFindings(rep.Findings)
	rep.Identities = a.identities(ids, rep.Findings)
	rep.Summary = a.summary(rep.Findings, ids, len(inv.Unreviewable) > 0)
	return rep, nil
}

// rawPolicyFile reads a bare IAM policy document: an identity policy, a
// trust policy (only sts: actions with principals) or a resource policy.
func rawPolicyFile(name string, root *node, inv *inventory) {
	e := &extractor{file: name, inv: inv}
	base := strings.TrimSuffix(filepath.Base(name), filepath.Ext(name))
	hasPrincipal, onlySTS := false, true
	stmts := root.get("Statement")
	list := stmts.List
	if stmts.Kind == mapNode {
		list = []*node{stmts}
	}
	for _, st := range list {
		if st.get("Principal") != nil || st.get("NotPrincipal") != nil {
			hasPrincipal = true
		}
		for _, act := range e.names(st.get("Action")) {
			onlySTS = onlySTS && strings.HasPrefix(strings.ToLower(act), "sts:")
		}
	}
	switch {
	case hasPrincipal && onlySTS:
		p := e.document(root, base+" trust policy", "", root, docTrust)
		inv.Identities = append(inv.Identities, &identity{Kind: kindRole, Name: base, Where: p.Where, Trust: p})
	case hasPrincipal:
		p := e.document(root, base, "", root, docResource)
		inv.Identities = append(inv.Identities, &identity{Kind: kindResourcePolicy, What: "resource policy", Name: base, Where: p.Where, Policies: []*rawPolicy{p}})
	default:
		p := e.document(root, base, "", root, docIdentity)
		inv.Identities = append(inv.Identities, &identity{Kind: kindPolicy, Name: base, Where: p.Where, Policies: []*rawPolicy{p}})
	}
}

// secretOutputs finds stack outputs that publish an access key's secret.
func secretOutputs(file string, root *node) []Finding {
	var out []Finding
	outs := root.get("Outputs")
	if outs == nil || outs.Kind != mapNode {
		return nil
	}
	for i, k := range outs.Keys {
		v := outs.Vals[i].get("Value")
		if fn, arg := intrinsic(v); fn == "Fn::GetAtt" && arg != nil && arg.Kind == listNode && len(arg.List) == 2 && arg.List[1].str() == "SecretAccessKey" {
			out = append(out, Finding{ID: "identity/secret-in-outputs", Severity: SeverityHigh, Title: "Access key secret published as a stack output", Identity: "user " + arg.List[0].str(),
				Location: Location{File: file, Line: v.Line, Path: "Outputs." + k}, Why: "Stack outputs are readable by anyone with cloudformation:DescribeStacks and are kept in the stack's history; the secret must go to the vendor through a secret store, never an output."})
		}
	}
	return out
}

func dedupe(fs []Finding) []Finding {
	seen := map[string]bool{}
	out := fs[:0]
	for _, f := range fs {
		// Resources are part of the key: one statement trusting several
		// accounts gives one finding per account, and each must be listed.
		key := f.ID + "|" + f.Identity + "|" + f.Title + "|" + f.Location.String() + "|" + strings.Join(f.Resources, ",")
		if seen[key] {
			continue
		}
		seen[key] = true
		out = append(out, f)
	}
	return out
}

// familyRank orders findings of equal severity: what lets the vendor gain
// access comes before what it can do with the access it has, and both come
// before hygiene.
func familyRank(id string) int {
	family, _, _ := strings.Cut(id, "/")
	switch family {
	case "escalation":
		return 0
	case "identity", "credential-exposure":
		return 1
	case "trust", "resource-policy":
		return 2
	case "data-access", "policy", "managed-policy", "organization":
		return 3
	case "access":
		return 4
	case "action":
		return 6
	}
	return 5
}

func sortFindings(fs []Finding) {
	sort.SliceStable(fs, func(i, j int) bool {
		a, b := fs[i], fs[j]
		if a.Severity.Rank() != b.Severity.Rank() {
			return a.Severity.Rank() > b.Severity.Rank()
		}
		if ra, rb := familyRank(a.ID), familyRank(b.ID); ra != rb {
			return ra < rb
		}
		if a.Location.File != b.Location.File {
			return a.Location.File < b.Location.File
		}
		if a.Location.Line != b.Location.Line {
			return a.Location.Line < b.Location.Line
		}
		return a.ID < b.ID
	})
}
