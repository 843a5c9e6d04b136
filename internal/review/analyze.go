package review

import (
	"fmt"
	"sort"
	"strings"

	"github.com/crossbill/crossbill/internal/iamdata"
	"github.com/crossbill/crossbill/internal/policy"
)

// grantRef is one statement's grant of an action.
type grantRef struct {
	scope policy.Scope
	pol   *rawPolicy
}

// held is one concrete action an identity is allowed, with every grant of it.
type held struct {
	action iamdata.Action
	key    string // lower-case "svc:name"
	refs   []grantRef
}

// analyzer reviews identities with shared data.
type analyzer struct {
	cat   *iamdata.Catalog
	kb    *knowledge
	known *policy.KnownAccounts
	// taggable: what the identity being reviewed may tag, per service
	// (see tags.go).
	taggable map[string][]tagRight
	// local maps the template's own role and user ARN placeholders to them.
	local map[string]*identity

	findings []Finding
	// grants are (pattern, resource) pairs counted per service category.
	grants map[string]int
	// applyCache remembers whether a policy resource can name a resource
	// type, keyed by type ARN and resource.
	applyCache map[[2]string]bool
	typeARNs   map[[2]string]string // (service, resource type) -> ARN format
	// allowed is every action any identity holds, with each identity's
	// grants of it, for the summary.
	allowed map[string][]*held
}

// analyzed is what the analyzer learned about one identity.
type analyzed struct {
	id      *identity
	label   string
	held    map[string]*held // lower-case "svc:name" -> grants
	sorted  []*held          // held in action order, once grants are complete
	trusted []Principal
	vendor  bool // the vendor can use this identity (see reach)
}

func (a *analyzer) add(f Finding) { a.findings = append(a.findings, f) }

func label(id *identity) string {
	switch id.Kind {
	case kindPolicy:
		return "policy " + id.Name
	case kindResourcePolicy:
		return firstNonEmpty(id.What, "resource policy") + " " + id.Name
	}
	return id.Kind + " " + id.Name
}

// identity reviews one identity and returns what it holds.
func (a *analyzer) identity(id *identity) *analyzed {
	out := &analyzed{id: id, label: label(id), held: map[string]*held{}}
	if id.Trust != nil {
		out.trusted = a.trust(out, id.Trust)
	}
	for _, p := range id.Policies {
		a.policy(out, p)
	}
	if id.Kind == kindResourcePolicy {
		for _, p := range id.Policies {
			a.resourcePrincipals(out, p)
		}
	}
	out.sorted = out.sortedHeld()
	for _, h := range out.sorted {
		a.allowed[h.key] = append(a.allowed[h.key], h)
	}
	a.taggable = a.selfTaggable(out)
	defer func() { a.taggable = nil }()
	a.sensitive(out)
	a.levels(out)
	a.escalations(out)
	a.selfModification(out)
	a.managedPolicies(out)
	a.credentials(out)
	return out
}

// problems turns structural mistakes into one finding per policy (or one
// per template-level mistake when where is nil).
func (a *analyzer) problems(lbl string, ps []problem, where *Location) {
	const why = "A vendor template that cannot deploy has not been tested as given; ask for the exact template the vendor runs."
	if len(ps) == 0 {
		return
	}
	if where == nil {
		for _, p := range ps {
			a.add(Finding{ID: "template/malformed", Severity: SeverityMedium, Title: "Template will not deploy as written", Identity: lbl, Location: p.Where, Why: p.Message + ". " + why})
		}
		return
	}
	msgs := make([]string, 0, len(ps))
	for _, p := range ps {
		if sub := strings.TrimPrefix(strings.TrimPrefix(p.Where.Path, where.Path), "."); sub != "" && sub != p.Where.Path {
			msgs = append(msgs, sub+": "+p.Message)
		} else {
			msgs = append(msgs, p.Message)
		}
	}
	loc := *where
	loc.Line = ps[0].Where.Line
	a.add(Finding{ID: "template/malformed", Severity: SeverityMedium, Title: "Policy will not deploy as written", Identity: lbl, Location: loc, Why: strings.Join(msgs, "; ") + ". " + why})
}

// parse reads a raw policy with the policy package, reporting failures.
func (a *analyzer) parse(lbl string, p *rawPolicy) *policy.Document {
	a.problems(lbl, p.Problems, &p.Where)
	data, err := p.policyJSON()
	if err != nil {
		a.add(Finding{ID: "policy/invalid", Severity: SeverityMedium, Title: "Policy cannot be read", Identity: lbl, Location: p.Where, Why: err.Error()})
		return nil
	}
	doc, err := policy.Parse(data)
	if err != nil {
		a.add(Finding{ID: "policy/invalid", Severity: SeverityMedium, Title: "Policy is not valid IAM policy grammar", Identity: lbl, Location: p.Where,
			Why: err.Error() + ". IAM rejects the policy, so the vendor's real policy must differ from this one; review the one actually deployed."})
		return nil
	}
	return doc
}

func (p *rawPolicy) stmtLocation(i int) Location {
	l := p.Where
	if i >= 0 && i < len(p.stmtLines) && p.stmtLines[i] > 0 {
		l.Line = p.stmtLines[i]
	}
	l.Path = fmt.Sprintf("Statement[%d]", i)
	if p.Where.Path != "" {
		l.Path = p.Where.Path + "." + l.Path
	}
	return l
}

// policy adds one identity or resource policy's grants to out.
func (a *analyzer) policy(out *analyzed, p *rawPolicy) {
	doc := a.parse(out.label, p)
	if doc == nil {
		return
	}
	if out.id.Kind == kindResourcePolicy {
		doc = grantsToOthers(doc, p.ownAccount)
	}
	a.patterns(out, p, doc)
	eff := policy.EffectiveActions(doc, a.cat)
	for _, u := range eff.Unknown {
		if a.kb.deprecation(u.Pattern) != "" {
			continue // reported as deprecated
		}
		what := "matches no action in the IAM catalog"
		if u.UnknownService {
			what = "names a service prefix that does not exist"
		}
		a.add(Finding{ID: "action/unknown", Severity: SeverityLow, Title: "Unknown action " + u.Pattern, Identity: out.label, Actions: []string{u.Pattern}, Location: p.stmtLocation(u.Statement),
			Why: fmt.Sprintf("%q %s (catalog %s). IAM ignores it, so either the vendor made a typo and lacks a permission it expects, or the documentation invents actions.", u.Pattern, what, a.cat.Version())})
	}
	var dropped []*held
	for _, g := range eff.Grants {
		var refs, none []grantRef
		for _, s := range g.Scopes {
			if es, ok := a.effectiveScope(g.Action, s); ok {
				refs = append(refs, grantRef{scope: es, pol: p})
			} else {
				none = append(none, grantRef{scope: s, pol: p})
			}
		}
		if len(none) > 0 && len(refs) == 0 {
			dropped = append(dropped, &held{action: g.Action, refs: none})
		}
		if len(refs) == 0 {
			continue
		}
		key := lowerKey(g.Action)
		h := out.held[key]
		if h == nil {
			h = &held{action: g.Action, key: key}
			out.held[key] = h
		}
		h.refs = append(h.refs, refs...)
	}
	a.ineffective(out, dropped)
}

// grantsToOthers keeps the statements of a resource policy that grant to
// other identities (accounts, roles, users, federated users, "*"). What it
// lets an AWS service do for the account, or the account's own identities
// do (a key policy's usual "enable IAM policies" statement), is not
// third-party access; the trust analysis still reviews those principals.
func grantsToOthers(doc *policy.Document, ownAccount string) *policy.Document {
	out := *doc
	out.Statements = nil
	for _, st := range doc.Statements {
		p := st.Principal
		if st.NotPrincipal != nil || (p != nil && (p.Any || len(p.Federated) > 0 || len(p.CanonicalUser) > 0 || hasOtherAccount(p.AWS, ownAccount))) {
			out.Statements = append(out.Statements, st)
		}
	}
	return &out
}

// hasOtherAccount reports whether some AWS principal is outside the account.
func hasOtherAccount(principals []string, ownAccount string) bool {
	for _, pr := range principals {
		if ownAccount == "" || (pr != ownAccount && !strings.Contains(pr, ":"+ownAccount+":")) {
			return true
		}
	}
	return false
}

// lowerKey returns "svc:name" in lower case with one allocation.
func lowerKey(a iamdata.Action) string {
	var b strings.Builder
	b.Grow(len(a.Service) + 1 + len(a.Name))
	for _, part := range []string{a.Service, ":", a.Name} {
		for i := 0; i < len(part); i++ {
			c := part[i]
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			b.WriteByte(c)
		}
	}
	return b.String()
}

// patterns reviews action patterns as written: admin and service-wide
// wildcards, NotAction, deprecated actions, and grant counts by category.
func (a *analyzer) patterns(out *analyzed, p *rawPolicy, doc *policy.Document) {
	for _, st := range doc.Statements {
		if st.Effect != policy.Allow {
			continue
		}
		loc := p.stmtLocation(st.Index)
		scoped := a.statementScoped(st)
		resources := statementResources(st)
		if st.NotAction != nil {
			a.add(Finding{ID: "policy/not-action", Severity: SeverityHigh, Title: "Allow with NotAction grants everything not listed", Identity: out.label, Actions: st.NotAction, Resources: resources, Scoped: scoped, Location: loc,
				Why: "An Allow with NotAction allows every current and future AWS action except the few named; it is almost always broader than intended."})
		}
		nres := len(st.Resource)
		if nres == 0 {
			nres = 1
		}
		for _, pat := range st.Action {
			svc, name, _ := strings.Cut(pat, ":")
			a.grants[a.category(svc)] += nres
			if why := a.kb.deprecation(pat); why != "" {
				a.add(Finding{ID: "action/deprecated", Severity: SeverityLow, Title: "Deprecated action " + pat, Identity: out.label, Actions: []string{pat}, Location: loc, Why: why})
			}
			switch {
			case pat == "*" || pat == "*:*":
				sev := SeverityCritical
				if scoped {
					sev = SeverityHigh
				}
				a.add(Finding{ID: "policy/all-actions", Severity: sev, Title: "All actions allowed", Identity: out.label, Actions: []string{pat}, Resources: resources, Scoped: scoped, Location: loc,
					Why: "Action \"*\" makes the vendor an administrator of whatever the statement's resources cover."})
			case name == "*":
				a.serviceWide(out, pat, svc, resources, scoped, loc)
			}
		}
	}
}

// serviceWide reports svc:* grants, rated by the most sensitive action the
// wildcard includes.
func (a *analyzer) serviceWide(out *analyzed, pat, svc string, resources []string, scoped bool, loc Location) {
	acts, err := a.cat.Expand(pat)
	if err != nil {
		return // reported as unknown
	}
	sev, worst := SeverityMedium, ""
	writes := 0
	for _, act := range acts {
		if act.Level != iamdata.LevelRead && act.Level != iamdata.LevelList {
			writes++
		}
		s := SeverityInfo
		for _, gi := range a.kb.groupOf[strings.ToLower(act.String())] {
			s = maxSeverity(s, a.kb.Groups[gi].Severity)
		}
		if act.Level == iamdata.LevelPermissions {
			s = maxSeverity(s, SeverityHigh)
		}
		if s.Rank() > sev.Rank() {
			sev, worst = s, act.String()
		}
	}
	why := fmt.Sprintf("%s allows all %d %s actions (%d of them change something), today's and any AWS adds later.", pat, len(acts), svc, writes)
	if worst != "" {
		why += " It includes " + worst + "."
	}
	if scoped {
		sev = SeverityMedium
		why += " The grant is limited to: " + strings.Join(resources, ", ") + "; list the actions the vendor needs instead of a wildcard."
	}
	a.add(Finding{ID: "policy/service-wide", Severity: sev, Title: "Every " + svc + " action allowed", Identity: out.label, Actions: []string{pat}, Resources: resources, Scoped: scoped, Location: loc, Why: why})
}

func statementResources(st policy.Statement) []string {
	if st.NotResource != nil {
		out := make([]string, 0, len(st.NotResource))
		for _, r := range st.NotResource {
			out = append(out, "NOT "+r)
		}
		return out
	}
	return st.Resource
}

// category names the summary category of a service prefix.
func (a *analyzer) category(svc string) string {
	svc = strings.ToLower(svc)
	if c, ok := a.kb.categories[svc]; ok {
		return c
	}
	if s, ok := a.cat.Service(svc); ok {
		return catalogCategory(s.Category)
	}
	return "Other"
}

// narrowResource reports whether an ARN pattern names specific resources
// rather than every resource of a kind.
func narrowResource(r string) bool {
	if r == "*" || r == "" {
		return false
	}
	// A CloudFormation placeholder stands for one value; "${AWS::AccountId}"
	// must not be split at its own colons.
	r = placeholder.ReplaceAllString(r, "x")
	parts := strings.SplitN(r, ":", 6)
	if len(parts) < 6 {
		return !strings.HasPrefix(r, "*")
	}
	res := parts[5]
	if parts[2] == "s3" {
		// S3 ARNs have no type prefix: bucket or bucket/key.
		bucket, _, _ := strings.Cut(res, "/")
		return bucket != "" && bucket != "*"
	}
	// Drop a resource-type prefix such as "role/" or "secret:".
	if i := strings.IndexAny(res, "/:"); i >= 0 {
		res = res[i+1:]
	}
	return res != "" && res != "*"
}

// scopeScoped reports whether one grant of act is limited by resource or
// condition (act is the zero Action when judging a whole statement).
func (a *analyzer) scopeScoped(act iamdata.Action, s policy.Scope) bool {
	for _, c := range s.Conditions {
		if a.narrows(act, s, c) {
			return true
		}
	}
	if len(s.NotResources) > 0 || len(s.Resources) == 0 {
		return false
	}
	for _, r := range s.Resources {
		if !narrowResource(r) {
			return false
		}
	}
	return true
}

// narrows reports whether a condition limits which requests grant s of
// act covers, as AWS evaluates it: a negated test (StringNotEquals a tag)
// or Null excludes a few resources and allows the rest; a "*" value
// matches everything; a resource tag the identity may set itself is no
// limit (see selfTagged).
func (a *analyzer) narrows(act iamdata.Action, s policy.Scope, c policy.Condition) bool {
	key := strings.ToLower(c.Key)
	if a.kb.nonScoping[key] || c.Base.Negated() || c.Base == policy.Null {
		return false
	}
	wild := true
	for _, v := range c.Values {
		wild = wild && strings.Trim(v, "*") == ""
	}
	if wild {
		return false
	}
	if _, tag, ok := strings.Cut(key, ":resourcetag/"); ok && a.selfTagged(act, s, tag) {
		return false
	}
	return true
}

func (a *analyzer) statementScoped(st policy.Statement) bool {
	return a.scopeScoped(iamdata.Action{}, policy.Scope{Resources: st.Resource, NotResources: st.NotResource, Conditions: st.Conditions})
}

// describeScopes lists the resources (and scoping conditions) of grants.
func (a *analyzer) describeScopes(hs []*held) []string {
	seen := map[string]bool{}
	var out []string
	for _, h := range hs {
		for _, r := range h.refs {
			res := r.scope.Resources
			if len(r.scope.NotResources) > 0 {
				res = nil
				for _, nr := range r.scope.NotResources {
					res = append(res, "NOT "+nr)
				}
			}
			var conds []string
			for _, c := range r.scope.Conditions {
				if a.narrows(h.action, r.scope, c) {
					conds = append(conds, c.Operator+" "+c.Key+"="+strings.Join(c.Values, "|"))
				}
			}
			for _, x := range res {
				if len(conds) > 0 {
					x += " when " + strings.Join(conds, " and ")
				}
				if !seen[x] {
					seen[x] = true
					out = append(out, x)
				}
			}
		}
	}
	sort.Strings(out)
	return out
}

// firstLocation returns the earliest statement location among grants.
func firstLocation(hs []*held) Location {
	var best Location
	for _, h := range hs {
		for _, r := range h.refs {
			l := r.pol.stmtLocation(r.scope.Statement)
			if best.File == "" || (l.File == best.File && l.Line > 0 && (best.Line == 0 || l.Line < best.Line)) {
				best = l
			}
		}
	}
	return best
}

func actionNames(hs []*held) []string {
	out := make([]string, 0, len(hs))
	for _, h := range hs {
		out = append(out, h.action.String())
	}
	sort.Strings(out)
	return out
}

// sortedHeld returns out.held in action order, for stable output.
func (out *analyzed) sortedHeld() []*held {
	keys := make([]string, 0, len(out.held))
	for k := range out.held {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	hs := make([]*held, 0, len(keys))
	for _, k := range keys {
		hs = append(hs, out.held[k])
	}
	return hs
}

// split divides grants into those on any resource and those scoped.
func (a *analyzer) split(hs []*held) (broad, scoped []*held) {
	for _, h := range hs {
		if a.heldScoped(h) {
			scoped = append(scoped, h)
		} else {
			broad = append(broad, h)
		}
	}
	return broad, scoped
}

// addGrouped adds up to two findings for one kind of grant: one for grants
// on any resource and one for scoped grants.
func (a *analyzer) addGrouped(out *analyzed, id, title string, hs []*held, sev, scopedSev Severity, why string) {
	broad, scoped := a.split(hs)
	if len(broad) > 0 {
		a.add(Finding{ID: id, Severity: sev, Title: title + " on any resource", Identity: out.label, Actions: actionNames(broad), Resources: a.describeScopes(broad), Location: firstLocation(broad), Why: why})
	}
	if len(scoped) > 0 {
		a.add(Finding{ID: id, Severity: scopedSev, Title: title + ", scoped", Identity: out.label, Actions: actionNames(scoped), Resources: a.describeScopes(scoped), Scoped: true, Location: firstLocation(scoped),
			Why: strings.TrimSpace(why + " These grants are limited to the resources or conditions listed, which lowers the risk. " + a.scopeNotes(scoped))})
	}
}

// sensitive reports data-access and credential-exposure groups.
func (a *analyzer) sensitive(out *analyzed) {
	byGroup := make([][]*held, len(a.kb.Groups))
	for _, h := range out.sorted {
		for _, i := range a.kb.groupOf[h.key] {
			byGroup[i] = append(byGroup[i], h)
		}
	}
	for i, hs := range byGroup {
		if len(hs) > 0 {
			g := a.kb.Groups[i]
			a.addGrouped(out, g.ID, g.Title, hs, g.Severity, g.ScopedSeverity, g.Why)
		}
	}
}

// isReadVerb reports whether an action name only reads.
func isReadVerb(name string) bool {
	for _, v := range []string{"Get", "List", "Describe", "View", "Search", "BatchGet"} {
		if strings.HasPrefix(name, v) {
			return true
		}
	}
	return false
}

// isDelete reports whether an action name destroys something.
func isDelete(name string) bool {
	for _, v := range []string{"Delete", "Terminate", "Purge", "Destroy", "Deregister"} {
		if strings.HasPrefix(name, v) {
			return true
		}
	}
	return false
}

// destroysData reports whether a delete can lose data or take a workload
// down (instances, volumes, snapshots, tables, buckets and objects,
// secrets, keys, logs, streams, queues, backups...), rather than remove
// configuration that can be recreated (a rule, a subscription filter, a tag).
func destroysData(name string) bool {
	if !strings.HasPrefix(name, "Delete") && !strings.HasPrefix(name, "Purge") {
		return true // Terminate, Destroy, Deregister: keep them high
	}
	for _, noun := range []string{"Bucket", "Object", "Table", "DB", "Database", "Volume", "Snapshot", "Secret", "Key", "LogGroup", "LogStream", "Stream", "Queue", "FileSystem", "Backup", "RecoveryPoint", "Vault", "Archive", "Repository", "Image", "Item", "Instance", "Cluster", "Function", "Stack", "Domain", "Cache", "Replication", "Index", "Dataset", "Graph", "Ledger", "Keyspace", "Topic", "Parameter", "Certificate", "Document", "Object", "Registry", "Directory", "User", "Account", "Organization", "Policy", "Role", "Group", "Vpc", "Subnet", "Gateway", "LoadBalancer", "Distribution", "HostedZone", "Service", "Application", "Environment", "Workspace", "Model", "Job", "Notebook"} {
		if strings.Contains(name, noun) {
			return true
		}
	}
	return strings.HasPrefix(name, "Purge")
}

// levels reports writes, deletes, tagging and permissions management.
func (a *analyzer) levels(out *analyzed) {
	var perms, limited, deletes, configDeletes, writes, tags []*held
	for _, h := range out.sorted {
		if len(a.kb.groupOf[h.key]) > 0 {
			continue // explained by its own finding
		}
		switch {
		case h.action.Level == iamdata.LevelPermissions && isReadVerb(h.action.Name):
			// Reading a policy is filed as Permissions management but
			// changes nothing.
		case a.attachLimited(h) != "":
			limited = append(limited, h)
		case h.action.Level == iamdata.LevelPermissions:
			perms = append(perms, h)
		case h.action.Level == iamdata.LevelTagging:
			tags = append(tags, h)
		case h.action.Level == iamdata.LevelWrite && isDelete(h.action.Name) && destroysData(h.action.Name):
			deletes = append(deletes, h)
		case h.action.Level == iamdata.LevelWrite && isDelete(h.action.Name):
			configDeletes = append(configDeletes, h)
		case h.action.Level == iamdata.LevelWrite:
			writes = append(writes, h)
		}
	}
	a.addGrouped(out, "access/permissions-management", "Change permissions", perms, SeverityHigh, SeverityMedium,
		"Permissions-management actions change who may do what (policies, grants, sharing); misused they widen the vendor's own access or open resources to others.")
	a.addGrouped(out, "access/permissions-management", "Attach named low-risk managed policies", limited, SeverityLow, SeverityLow,
		"iam:PolicyARN limits which managed policies can be attached, and those named grant little; the vendor can still choose when to attach them.")
	a.addGrouped(out, "access/delete", "Delete resources", deletes, SeverityHigh, SeverityMedium,
		"Deletes are irreversible for data-bearing resources (volumes, databases, secrets); a compromised vendor can cause an outage or data loss.")
	a.addGrouped(out, "access/delete", "Delete configuration", configDeletes, SeverityMedium, SeverityLow,
		"These deletes remove configuration (rules, filters, subscriptions, settings) rather than data; they can break monitoring or automation until recreated.")
	a.addGrouped(out, "access/write", "Change infrastructure", writes, SeverityMedium, SeverityLow,
		"Writes change resources in the account; each should match a feature the vendor documents.")
	a.addGrouped(out, "access/tagging", "Change tags", tags, SeverityLow, SeverityInfo,
		"Tags drive cost allocation and, in tag-based policies, access; changing them can move costs or widen access elsewhere.")
}
