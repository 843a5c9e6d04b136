package manifest

import (
	"fmt"
	"math"
	"sort"
	"strings"
)

// Annex is the customer-facing description of what crossbill may do in an
// account with the given modules: every action and why, what it can and
// cannot do, what it costs the customer, and the controls it supports.
type Annex struct {
	AccessPath []string         `json:"access_path"`
	Modules    []ModuleAnnex    `json:"modules"`
	CanDo      []string         `json:"can_do"`
	CannotDo   []string         `json:"cannot_do"`
	Cost       CostImpact       `json:"cost_impact"`
	Compliance []ControlMapping `json:"compliance"`
	Note       string           `json:"compliance_note"`
	// Sharing, with commitments-purchase, describes the commitment-sharing
	// organization a customer account may be invited into.
	Sharing *SharingAnnex `json:"commitment_sharing,omitempty"`
}

// SharingAnnex is what joining the hub's commitment-sharing organization
// means, and the SCP the hub attaches to enrolled accounts.
type SharingAnnex struct {
	Meaning []string `json:"meaning"`
	SCP     string   `json:"scp"`
}

// sharingAnnex is the same text `crossbill org invite` shows the customer.
func sharingAnnex() *SharingAnnex {
	return &SharingAnnex{Meaning: SharingMeaning(), SCP: CommitmentSharingSCP()}
}

// SharingMeaning says what accepting the hub's invitation means.
func SharingMeaning() []string {
	return []string{
		"The account joins the hub's AWS Organization as a member: its bill is paid through the hub's management account, and Savings Plans and reservations the hub buys are shared with it (discount sharing).",
		"The hub's management account can see the account's costs and can attach service control policies to it; crossbill attaches one, below, and nothing else.",
		"The SCP lets the account leave only through the " + OffboardingRoleName + " role, after the notice period agreed with the hub, because the hub's commitments are sized on the account's usage.",
		"To accept: in the invited account, AWS console > AWS Organizations > Invitations > Accept, or `aws organizations accept-handshake --handshake-id h-...`.",
		"To leave after notice: as the " + OffboardingRoleName + " role in the account, AWS console > AWS Organizations > Leave organization, or `aws organizations leave-organization` (the account needs its own payment method first).",
	}
}

// ModuleAnnex is one module's part of the annex.
type ModuleAnnex struct {
	Module   Module `json:"module"`
	Summary  string `json:"summary"`
	ReadOnly bool   `json:"read_only"`
	// Features are the crossbill features that call the module's actions.
	Features []string `json:"used_by"`
	// Preview, when set, says the module waits for features not built yet.
	Preview string        `json:"preview,omitempty"`
	Actions []AnnexAction `json:"actions"`
	// Pending are declared actions the templates do not grant until the
	// feature named with each lands.
	Pending []PendingAction `json:"pending,omitempty"`
	Probe   string          `json:"verification_probe"`
	// Options are what the module grants only when the customer turns an
	// option of its stack on (the CUR stack's Athena option).
	Options []AnnexOption `json:"options,omitempty"`
}

// AnnexOption is an opt-in part of a module: its actions, granted only
// when the customer enables it.
type AnnexOption struct {
	Name      string        `json:"name"`
	EnabledBy string        `json:"enabled_by"`
	Summary   string        `json:"summary"`
	Probe     string        `json:"verification_probe"`
	Actions   []AnnexAction `json:"actions"`
}

// AnnexAction is one permission as the annex shows it.
type AnnexAction struct {
	Action    string   `json:"action"`
	Level     Level    `json:"level"`
	Resources []string `json:"resources"`
	Condition string   `json:"condition,omitempty"`
	Why       string   `json:"why"`
	Cost      string   `json:"cost,omitempty"`
	UsedBy    []string `json:"used_by"`
}

// CostImpact is what crossbill adds to the customer's AWS bill.
type CostImpact struct {
	Items       []CostItem `json:"items"`
	MonthlyUSD  float64    `json:"monthly_usd"`
	Assumptions []string   `json:"assumptions"`
}

// CostItem is one line of the cost estimate.
type CostItem struct {
	What         string  `json:"what"`
	Unit         string  `json:"unit"`
	UnitUSD      float64 `json:"unit_usd"`
	MonthlyUnits float64 `json:"monthly_units"`
	MonthlyUSD   float64 `json:"monthly_usd"`
	Basis        string  `json:"basis"`
}

// ControlMapping says which control of a framework the integration supports
// and how. It is never a claim of certification.
type ControlMapping struct {
	Framework string `json:"framework"`
	Control   string `json:"control"`
	Supports  string `json:"supports"`
}

// Schedule is how often crossbill calls the paid APIs; the cost estimate
// is derived from it. The Cost Explorer part is the real schedule of
// internal/costexplorer (costexplorer.AnnexSchedule), which this package
// cannot import: DefaultSchedule leaves it empty.
type Schedule struct {
	// CostExplorerDaily are Cost Explorer requests made once a day per
	// connection.
	CostExplorerDaily map[string]int
	// CostExplorerWeekly are Cost Explorer requests made once a week.
	CostExplorerWeekly map[string]int
	// CostExplorerFirstLoad are the requests of a connection's first load,
	// once.
	CostExplorerFirstLoad int
	// CostExplorerOnDemand are requests a person asks for (at most, per
	// run), e.g. commitments recommend --aws-compare.
	CostExplorerOnDemand map[string]int
	// CostExplorerMonthlyBudget caps a connection's Cost Explorer requests
	// in a month, whatever asks for them (0: no cap).
	CostExplorerMonthlyBudget int
	// MetricResources is how many resources get utilization metrics, each
	// MetricsPerResource metrics at hourly resolution once a day.
	MetricResources    int
	MetricsPerResource int
	// CURGBPerMonth is the size of one month of CUR 2.0 Parquet.
	CURGBPerMonth float64
}

// DefaultSchedule is the non-Cost Explorer part of the schedule.
func DefaultSchedule() Schedule {
	return Schedule{
		CostExplorerDaily:  map[string]int{},
		CostExplorerWeekly: map[string]int{},
		MetricResources:    100,
		MetricsPerResource: 3,
		CURGBPerMonth:      1,
	}
}

// S3 us-east-1 list prices used for the CUR storage estimate.
const (
	s3StandardGBMonth  = 0.023
	s3GlacierIRGBMonth = 0.004
	daysPerMonth       = 30
	weeksPerMonth      = 52.0 / 12
)

// BuildAnnex makes the annex for the given modules.
func BuildAnnex(mods []Module, sched Schedule) Annex {
	a := Annex{
		AccessPath: accessPath(),
		Note:       "crossbill is not certified against SOC 2 or ISO/IEC 27001. The mapping shows which controls of the customer's own programme this integration's design supports; the customer's auditor decides.",
	}
	var perms []Permission
	for _, m := range mods {
		if m == ModuleCommitmentsPurchase {
			a.Sharing = sharingAnnex()
		}
		// The annex describes what the templates grant: pending actions
		// are listed apart, with the issue that will use them.
		mp := Granted(m)
		perms = append(perms, mp...)
		ma := ModuleAnnex{Module: m, Summary: moduleSummary(m), ReadOnly: m.ReadOnly(), Features: []string{}, Pending: PendingOf(m)}
		for _, p := range mp {
			aa := annexAction(p)
			for _, f := range aa.UsedBy {
				if strings.HasPrefix(f, verificationFeature) {
					f = verificationFeature // once per module, paid or not
				}
				if !containsString(ma.Features, f) {
					ma.Features = append(ma.Features, f)
				}
			}
			ma.Actions = append(ma.Actions, aa)
		}
		if m == ModuleCUR {
			ma.Options = []AnnexOption{athenaOption()}
		}
		for _, pr := range Probes(m) {
			switch {
			case pr.Skip != "":
				ma.Probe = "none: " + pr.Skip
			case ma.Probe == "" && !pr.Paid:
				ma.Probe = pr.Call
			case pr.Paid:
				ma.Probe += " (" + pr.Call + " only with --include-paid)"
			}
		}
		ma.Preview = preview(m, ma.Features, len(mp))
		a.Modules = append(a.Modules, ma)
		if ma.Preview == "" {
			a.CanDo = append(a.CanDo, canDo(m)...)
		}
	}
	a.CannotDo = cannotDo(perms, mods)
	a.Cost = costImpact(mods, sched)
	// A preview module's controls (JIT, access review) do not exist yet.
	var active []Module
	for _, ma := range a.Modules {
		if ma.Preview == "" {
			active = append(active, ma.Module)
		}
	}
	a.Compliance = compliance(active)
	return a
}

// annexAction is one permission as the annex shows it.
func annexAction(p Permission) AnnexAction {
	aa := AnnexAction{Action: p.Action, Level: p.Level, Resources: p.Resources(), Why: p.Why, UsedBy: usedBy(p)}
	if p.Condition != nil {
		aa.Condition = conditionText(p.Condition)
	}
	if p.CostUSD > 0 {
		per := p.CostPer
		if per == "" {
			per = "request"
		}
		aa.Cost = fmt.Sprintf("$%.2f per %s", p.CostUSD, per)
	}
	return aa
}

// athenaOption is the CUR stack's Athena option (CURAthena).
func athenaOption() AnnexOption {
	o := AnnexOption{Name: "athena", EnabledBy: "the CUR stack's parameter EnableAthena=true (default false), then `crossbill costs engine set athena --connection ID`",
		Summary: "crossbill's cost queries run in your Athena over the CUR 2.0 export in place (a Glue table and a workgroup the stack creates), for bills too large for one crossbill node. Athena bills you per TB scanned.",
		Probe:   "none unless the tenant's cost queries run in Athena through the connection; then "}
	for i, p := range AthenaProbes() {
		if i > 0 {
			o.Probe += ", "
		}
		o.Probe += p.Call
	}
	for _, p := range CURAthena() {
		o.Actions = append(o.Actions, annexAction(p))
	}
	return o
}

// preview says why a module no feature uses yet is in the annex at all,
// or "" when a feature uses it.
func preview(m Module, features []string, granted int) string {
	for _, f := range features {
		if f != verificationFeature {
			return ""
		}
	}
	var issues []string
	for _, p := range PendingOf(m) {
		if !containsString(issues, p.Issue) {
			issues = append(issues, p.Issue)
		}
	}
	waits := strings.Join(issues, ", ")
	if granted == 0 {
		return fmt.Sprintf("Preview: no crossbill feature uses this module yet, so its templates grant nothing until %s lands.", waits)
	}
	return fmt.Sprintf("Preview: no crossbill feature uses this module yet; its templates grant only what verification probes until %s lands.", waits)
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func moduleSummary(m Module) string {
	switch m {
	case ModuleCost:
		return "Cost Explorer reads and public prices."
	case ModuleCUR:
		return "Reads the CUR 2.0 export, only under its bucket prefix."
	case ModuleCommitments:
		return "Reads Savings Plans and reservations (EC2, RDS, ElastiCache, Redshift, OpenSearch)."
	case ModuleInventory:
		return "Describes and lists resources, reads CloudWatch metrics and tags; bucket metadata only, never object content."
	case ModuleOrg:
		return "Reads the organization's accounts, OUs, tags and service control policies."
	case ModuleAccessRead:
		return "Reads IAM and Identity Center users, groups, roles, policies, credential metadata and Access Advisor, for access governance (`crossbill access`: who can do what, findings, changes)."
	case ModuleAccessJIT:
		return "Adds and removes users in crossbill-jit/ IAM groups and assigns permission sets tagged crossbill-jit=allowed, for time-bound access."
	case ModuleCommitmentsPurchase:
		return "Opt-in purchases: buys, queues and cancels Savings Plans and reservations, and lists unused Reserved Instances for sale, only as a plan a second person approved in crossbill says."
	case ModuleRemediation:
		return "Opt-in changes (delete, snapshot, modify, stop, start) limited to resources tagged crossbill-remediation=allowed."
	}
	return ""
}

func canDo(m Module) []string {
	switch m {
	case ModuleCost:
		return []string{"Read cost and usage, and Savings Plans / reservation purchase recommendations, from Cost Explorer.", "Read public AWS prices."}
	case ModuleCUR:
		return []string{"List and read the files of the CUR 2.0 export under its prefix in the export bucket."}
	case ModuleCommitments:
		return []string{"List Savings Plans and reserved instances / nodes with their terms and rates."}
	case ModuleInventory:
		return []string{"List resources of EC2, EBS, RDS, ELB, Lambda, ECS, EKS, ElastiCache, Redshift, OpenSearch, DynamoDB and Auto Scaling, with their configuration and tags.", "List S3 buckets with their region, tags and lifecycle settings.", "Read CloudWatch utilization metrics."}
	case ModuleOrg:
		return []string{"Read the organization and its member accounts (the OU tree, tags and service control policies once the features pending for them land)."}
	case ModuleAccessRead:
		return []string{"Read IAM users, groups, roles, policies, access key metadata (never secrets), MFA status, console password presence (never the password), the credential report and Access Advisor's service last use: the inventory, effective permissions, who-can answers and findings of `crossbill access` (admin-equivalent principals, escalation paths, outside trust, dormant users, unused and old keys, console users without MFA, unused roles and services).", "Read Identity Center users, groups, memberships, permission sets (policies and boundaries) and their account assignments: the same features, with the path user → group → permission set → account."}
	case ModuleAccessJIT:
		return []string{"Add a user to, or remove a user from, an IAM group under the path /crossbill-jit/.", "Create or delete Identity Center assignments of permission sets tagged crossbill-jit=allowed."}
	case ModuleCommitmentsPurchase:
		return []string{"Commit spend: buy Savings Plans and EC2, RDS, ElastiCache, OpenSearch and Redshift reservations for one or three years (a purchase cannot be undone once active), each only after a person other than its author approved the plan in crossbill, at the approved price (limit price, client token).", "Cancel a queued Savings Plan or EC2 reservation that has not started, and list or withdraw an unused Standard Reserved Instance on the Reserved Instance Marketplace."}
	case ModuleRemediation:
		return []string{"Delete (after a snapshot) or modify EBS volumes, delete snapshots, stop, start or resize instances, release Elastic IPs, delete load balancers, stop or delete (after a final snapshot) RDS instances, add an abort-incomplete-multipart-uploads rule to S3 lifecycles, and write or remove its own crossbill:marked-for-op tag: only resources the customer tagged crossbill-remediation=allowed, each change approved in crossbill by a person other than its requester.",
			"Read the state, tags and protection settings of those resources before proposing a change."}
	}
	return nil
}

// claim is a "cannot do" statement and the permissions that would break it.
type claim struct {
	text   string
	breaks func(p Permission) bool
}

func prefixOf(action string) string {
	p, _, _ := strings.Cut(action, ":")
	return p
}

func isWrite(p Permission) bool {
	return p.Level == LevelWrite || p.Level == LevelTagging || p.Level == LevelPermissions
}

// cannotDo keeps only the claims no granted permission contradicts, so the
// list is derived from the manifest, not written by hand for each module.
func cannotDo(perms []Permission, mods []Module) []string {
	curOn := false
	for _, m := range mods {
		curOn = curOn || m == ModuleCUR
	}
	objects := "Read the content of any S3 object."
	if curOn {
		objects = "Read the content of any S3 object other than the CUR export's files under its prefix."
	}
	claims := []claim{
		{objects, func(p Permission) bool {
			return p.Action == "s3:GetObject" && !(curOn && p.Module == ModuleCUR && strings.HasSuffix(p.Resource, "${CurBucket}/${CurPrefix}/*"))
		}},
		{"Create, change or delete any resource (crossbill's access is read-only).", isWrite},
		{"Create, change or delete any resource other than those tagged crossbill-remediation=allowed, IAM group membership under /crossbill-jit/ and assignments of permission sets tagged crossbill-jit=allowed.", func(p Permission) bool {
			return isWrite(p) && p.Module != ModuleCommitmentsPurchase && p.Condition == nil && !strings.Contains(p.Resource, "crossbill-jit") && !strings.Contains(p.Resource, ":snapshot/") && !strings.Contains(p.Resource, ":snapshot:crossbill-") && !strings.Contains(p.Resource, "sso:::instance/")
		}},
		{"Buy, cancel or sell Savings Plans or reservations (commit spend).", func(p Permission) bool {
			return isWrite(p) && p.Module == ModuleCommitmentsPurchase
		}},
		{"Create, change or delete IAM users, roles, policies, access keys or passwords.", func(p Permission) bool {
			return prefixOf(p.Action) == "iam" && isWrite(p) && p.Action != "iam:AddUserToGroup" && p.Action != "iam:RemoveUserFromGroup"
		}},
		{"Change IAM group membership.", func(p Permission) bool {
			return p.Action == "iam:AddUserToGroup" || p.Action == "iam:RemoveUserFromGroup"
		}},
		{"Pass a role to a service or assume any other role.", func(p Permission) bool { return p.Action == "iam:PassRole" || prefixOf(p.Action) == "sts" }},
		{"Read secrets (Secrets Manager), parameters (Systems Manager Parameter Store) or decrypt anything with KMS keys.", func(p Permission) bool {
			switch prefixOf(p.Action) {
			case "secretsmanager", "ssm", "kms":
				return true
			}
			return false
		}},
		{"Read data stored in databases, tables, queues, streams or logs (only their configuration).", func(p Permission) bool {
			switch p.Action {
			case "dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:Query", "dynamodb:Scan", "sqs:ReceiveMessage", "kinesis:GetRecords", "logs:GetLogEvents", "logs:FilterLogEvents", "rds-data:ExecuteStatement", "redshift-data:ExecuteStatement", "athena:StartQueryExecution":
				return true
			}
			return false
		}},
		{"Buy, sell or change Savings Plans or reservations, or change billing settings.", func(p Permission) bool {
			switch p.Action {
			case "savingsplans:CreateSavingsPlan", "ec2:PurchaseReservedInstancesOffering", "ec2:ModifyReservedInstances", "rds:PurchaseReservedDBInstancesOffering", "elasticache:PurchaseReservedCacheNodesOffering":
				return true
			}
			return isWrite(p) && (prefixOf(p.Action) == "billing" || prefixOf(p.Action) == "ce" || prefixOf(p.Action) == "account")
		}},
		{"Be used by anyone but the hub identity named in the trust policy, or without this connection's external ID.", func(Permission) bool { return false }},
	}
	var out []string
	readOnly := true
	for _, p := range perms {
		readOnly = readOnly && !isWrite(p)
	}
	for i, c := range claims {
		if i == 2 && readOnly {
			continue // the read-only claim already says more
		}
		broken := false
		for _, p := range perms {
			if c.breaks(p) {
				broken = true
				break
			}
		}
		if !broken {
			out = append(out, c.text)
		}
	}
	return out
}

func costImpact(mods []Module, s Schedule) CostImpact {
	var ci CostImpact
	on := map[Module]bool{}
	for _, m := range mods {
		on[m] = true
	}
	if on[ModuleCost] {
		var actions []string
		for a := range s.CostExplorerDaily {
			actions = append(actions, a)
		}
		for a := range s.CostExplorerWeekly {
			if _, dup := s.CostExplorerDaily[a]; !dup {
				actions = append(actions, a)
			}
		}
		sort.Strings(actions)
		pend := pendingIndex()
		for _, a := range actions {
			if _, ok := pend[moduleAction{ModuleCost, a}]; ok {
				continue // not granted, so never called
			}
			n := float64(s.CostExplorerDaily[a]*daysPerMonth) + math.Ceil(float64(s.CostExplorerWeekly[a])*weeksPerMonth)
			basis := []string{}
			if d := s.CostExplorerDaily[a]; d > 0 {
				basis = append(basis, fmt.Sprintf("%d a day", d))
			}
			if w := s.CostExplorerWeekly[a]; w > 0 {
				basis = append(basis, fmt.Sprintf("%d a week", w))
			}
			ci.Items = append(ci.Items, CostItem{What: "Cost Explorer " + strings.TrimPrefix(a, "ce:"), Unit: "request", UnitUSD: ceRequestUSD,
				MonthlyUnits: n, MonthlyUSD: round2(n * ceRequestUSD), Basis: strings.Join(basis, " + ")})
		}
		ci.Assumptions = append(ci.Assumptions, "Cost Explorer API requests cost $0.01 each; the counts are crossbill's schedule per connection: one incremental load of daily cost a day (the new days and the last few unsettled ones), each answer assumed to fit one page. Verification never makes a paid call unless run with --include-paid.")
		if s.CostExplorerFirstLoad > 0 {
			ci.Assumptions = append(ci.Assumptions, fmt.Sprintf("The first load, once, reads 12 months of daily cost in about %d requests ($%.2f; more when answers run to several pages), inside the first month's cap.", s.CostExplorerFirstLoad, float64(s.CostExplorerFirstLoad)*ceRequestUSD))
		}
		if len(s.CostExplorerOnDemand) > 0 {
			var parts []string
			total := 0
			for _, a := range sortedKeys(s.CostExplorerOnDemand) {
				parts = append(parts, fmt.Sprintf("%d %s", s.CostExplorerOnDemand[a], strings.TrimPrefix(a, "ce:")))
				total += s.CostExplorerOnDemand[a]
			}
			ci.Assumptions = append(ci.Assumptions, fmt.Sprintf("On request only (commitments recommend --aws-compare, commitments compare): at most %d requests (%s), counted against the same cap.", total, strings.Join(parts, ", ")))
		}
		if b := s.CostExplorerMonthlyBudget; b > 0 {
			ci.Assumptions = append(ci.Assumptions, fmt.Sprintf("Every Cost Explorer request of a connection counts against its monthly budget, by default %d requests ($%.2f), configurable per connection (crossbill costs explorer status --budget N); at the cap loads stop until the next month.", b, float64(b)*ceRequestUSD))
		}
	}
	if _, metricsPending := pendingIndex()[moduleAction{ModuleInventory, "cloudwatch:GetMetricData"}]; on[ModuleInventory] && !metricsPending {
		metrics := float64(s.MetricResources * s.MetricsPerResource * daysPerMonth)
		ci.Items = append(ci.Items, CostItem{What: "CloudWatch GetMetricData", Unit: "1,000 metrics requested", UnitUSD: 0.01,
			MonthlyUnits: metrics / 1000, MonthlyUSD: round2(metrics / 1000 * 0.01),
			Basis: fmt.Sprintf("%d resources x %d metrics, once a day", s.MetricResources, s.MetricsPerResource)})
		ci.Assumptions = append(ci.Assumptions, "GetMetricData costs $0.01 per 1,000 metrics requested; the estimate scales with the number of resources. Describe and List calls are free.")
	}
	if on[ModuleCUR] {
		// With OVERWRITE_REPORT a month's files are replaced in place: about
		// one month sits in S3 Standard, the rest (up to the 180-day expiry)
		// in Glacier Instant Retrieval.
		standard := s.CURGBPerMonth
		glacier := s.CURGBPerMonth * 5
		ci.Items = append(ci.Items,
			CostItem{What: "CUR 2.0 files in S3 Standard (first 30 days)", Unit: "GB-month", UnitUSD: s3StandardGBMonth,
				MonthlyUnits: standard, MonthlyUSD: round2(standard * s3StandardGBMonth), Basis: fmt.Sprintf("%.1f GB of Parquet per month", s.CURGBPerMonth)},
			CostItem{What: "CUR 2.0 files in S3 Glacier Instant Retrieval (days 30-180)", Unit: "GB-month", UnitUSD: s3GlacierIRGBMonth,
				MonthlyUnits: glacier, MonthlyUSD: round2(glacier * s3GlacierIRGBMonth), Basis: "5 older months kept until expiry"})
		ci.Assumptions = append(ci.Assumptions, "Data Exports itself is free; S3 storage at us-east-1 list prices. Parquet size grows with resource count: about 1 GB a month is typical for a few thousand resources. crossbill reads only recent months, so Glacier IR retrieval fees do not arise in normal use. Request charges are a few cents.")
		ci.Assumptions = append(ci.Assumptions, fmt.Sprintf("Only with the CUR stack's Athena option (EnableAthena=true, off by default, and not in the total above): Athena bills $%.2f per TB of CUR Parquet scanned, 10 MB minimum a query. A query over one month scans at most that month's Parquet (%.1f GB a month: at most $%.4f a query); the web UI's cost page asks a few queries per view, and the server caches each answer for an hour.",
			AthenaTBUSD, s.CURGBPerMonth, s.CURGBPerMonth/1024*AthenaTBUSD))
	}
	if on[ModuleCommitments] || on[ModuleOrg] || on[ModuleAccessRead] || on[ModuleAccessJIT] || on[ModuleRemediation] || on[ModuleCommitmentsPurchase] {
		ci.Assumptions = append(ci.Assumptions, "Savings Plans, reservation, Organizations, IAM and Identity Center calls are free.")
	}
	var ce float64
	for _, it := range ci.Items {
		if strings.HasPrefix(it.What, "Cost Explorer ") {
			ce += it.MonthlyUSD
		} else {
			ci.MonthlyUSD += it.MonthlyUSD
		}
	}
	if b := float64(s.CostExplorerMonthlyBudget) * ceRequestUSD; b > 0 && ce > b {
		ce = b // the budget stops requests past it
	}
	ci.MonthlyUSD += ce
	ci.MonthlyUSD = round2(ci.MonthlyUSD)
	if ci.Items == nil {
		ci.Items = []CostItem{}
	}
	return ci
}

func round2(f float64) float64 { return math.Round(f*100) / 100 }

func compliance(mods []Module) []ControlMapping {
	out := []ControlMapping{
		{"SOC 2", "CC6.1", "Logical access is restricted to least privilege: one policy per module, actions scoped to resource ARNs or conditions, every action documented here."},
		{"SOC 2", "CC6.6", "Access from outside the customer's boundary is limited to one named hub identity presenting a per-connection external ID (confused-deputy protection); crossbill uses temporary credentials only."},
		{"SOC 2", "CC6.3", "Access is granted, changed and removed by the customer through CloudFormation: removing a module's policy or deleting the stack revokes it."},
		{"SOC 2", "CC7.2", "Every call crossbill makes is recorded by the customer's CloudTrail under the role's session name, which names the tenant and connection."},
		{"ISO/IEC 27001:2022", "A.5.15", "Access control: access is limited to what each module needs, per this annex."},
		{"ISO/IEC 27001:2022", "A.5.18", "Access rights are provisioned and removed by the customer's own change process (stack deployment and deletion)."},
		{"ISO/IEC 27001:2022", "A.5.19", "Information security in supplier relationships: this annex states what the supplier can and cannot do."},
		{"ISO/IEC 27001:2022", "A.8.5", "Secure authentication: AssumeRole with an external ID, short-lived sessions, no long-term keys in the customer account."},
		{"ISO/IEC 27001:2022", "A.8.15", "Logging: crossbill's activity appears in the customer's CloudTrail."},
	}
	for _, m := range mods {
		if m == ModuleAccessJIT {
			out = append(out,
				ControlMapping{"ISO/IEC 27001:2022", "A.8.2", "Privileged access rights: just-in-time grants are time-bound and limited to groups and permission sets the customer designated."},
				ControlMapping{"SOC 2", "CC6.2", "Just-in-time access is granted only to approved users, for a limited time, and removed automatically."})
		}
		if m == ModuleAccessRead {
			out = append(out, ControlMapping{"ISO/IEC 27001:2022", "A.5.18", "Access rights review: the access-read module supports periodic review of IAM and Identity Center entitlements."})
		}
	}
	return out
}

func conditionText(c map[string]map[string]any) string {
	var parts []string
	for op, kv := range c {
		for k, v := range kv {
			val := fmt.Sprint(v)
			if l, ok := v.([]string); ok {
				val = strings.Join(l, " or ")
			}
			parts = append(parts, fmt.Sprintf("%s %s = %s", op, k, val))
		}
	}
	sort.Strings(parts)
	return strings.Join(parts, "; ")
}

// accessPath says how crossbill gets into the account; it holds for every
// module because the templates are built that way.
func accessPath() []string {
	return []string{
		"You create the role with CloudFormation; crossbill never receives keys to your account.",
		"The role trusts one principal, crossbill's hub identity, and only when the request carries this connection's external ID (StringEquals sts:ExternalId). crossbill generates the ID (160 random bits) and never lets it be chosen or changed.",
		"crossbill works with temporary credentials from sts:AssumeRole: one-hour sessions (never longer than the role's MaxSessionDuration), refreshed before they expire. The session name names the tenant and the connection, so CloudTrail shows every call.",
		"Before a connection is used, crossbill checks that assuming the role without the external ID, and with a wrong one, is refused.",
		"Each module is a separate managed policy: detach one to withdraw that module; delete the stack to withdraw everything.",
	}
}

func sortedKeys(m map[string]int) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
