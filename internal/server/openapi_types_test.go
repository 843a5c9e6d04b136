package server

import (
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"

	accessgov "github.com/crossbill/crossbill/internal/access"
	"github.com/crossbill/crossbill/internal/alerts"
	"github.com/crossbill/crossbill/internal/automation"
	"github.com/crossbill/crossbill/internal/commitments"
	"github.com/crossbill/crossbill/internal/costexplorer"
	"github.com/crossbill/crossbill/internal/costs"
	"github.com/crossbill/crossbill/internal/costs/athena"
	"github.com/crossbill/crossbill/internal/events"
	"github.com/crossbill/crossbill/internal/inventory"
	"github.com/crossbill/crossbill/internal/jit"
	"github.com/crossbill/crossbill/internal/notify"
	"github.com/crossbill/crossbill/internal/optimize"
	"github.com/crossbill/crossbill/internal/orgshare"
	"github.com/crossbill/crossbill/internal/purchase"
	"github.com/crossbill/crossbill/internal/remediation"
	"github.com/crossbill/crossbill/internal/store"
	"github.com/crossbill/crossbill/internal/verify"
)

// TestOpenAPISchemasMatchGoTypes: each documented schema that a Go type
// encodes (or decodes) has exactly that type's JSON fields, so a renamed
// or added field cannot leave the document behind. A schema served by
// two types (a verification answered now, or read from history) has the
// union of their fields.
func TestOpenAPISchemasMatchGoTypes(t *testing.T) {
	sc := (&Server{}).schemas()
	types := map[string][]any{
		"Tenant":                   {store.Tenant{}},
		"Job":                      {store.Job{}},
		"Connection":               {connectionView{}},
		"ConnectionInit":           {connectionInit{}},
		"ConnectionCreated":        {initResponse{}},
		"ConnectionDetail":         {connectionDetail{}},
		"Template":                 {templateInfo{}},
		"BillSource":               {store.BillSource{}},
		"VerifyRequest":            {verifyRequest{}},
		"Check":                    {store.VerificationCheck{}},
		"Verification":             {verify.Result{}, store.Verification{}},
		"Member":                   {store.Member{}},
		"MemberList":               {membersView{}},
		"MembersSummary":           {verify.MembersSummary{}},
		"MembersRequest":           {membersRequest{}},
		"MembersResult":            {verify.MembersResult{}},
		"Me":                       {meResponse{}},
		"User":                     {store.User{}},
		"Person":                   {store.Person{}},
		"PersonDetail":             {personDetail{}},
		"AuditEntry":               {store.AuditEntry{}},
		"AuditCheck":               {store.AuditCheck{}},
		"SignInOptions":            {signInOptions{}},
		"TokenSignIn":              {tokenSignIn{}},
		"SignedOut":                {signedOut{}},
		"ReviewAcknowledge":        {reviewAcknowledge{}},
		"Token":                    {store.Token{}},
		"TokenCreate":              {tokenCreate{}},
		"Review":                   {store.Review{}},
		"CostResult":               {costs.Result{}},
		"DataSource":               {costs.DataSource{}},
		"CostEngine":               {store.CostEngine{}},
		"AthenaCost":               {costs.EngineCost{}},
		"CostMeta":                 {athena.Catalog{}},
		"CostDimension":            {athena.DimDoc{}},
		"CostPeriod":               {costs.Period{}},
		"DimensionValues":          {costs.DimValues{}},
		"CostMoM":                  {costs.MoM{}},
		"CostAnomalies":            {costAnomaliesAnswer{}},
		"AthenaSpend":              {store.AthenaSpend{}},
		"CostEngineRequest":        {costEngineRequest{}},
		"CostExplorerUsage":        {costexplorer.Usage{}},
		"CostExplorerLoad":         {costexplorer.Report{}},
		"CostExplorerBudget":       {costExplorerBudget{}},
		"AccessCollectError":       {accessgov.CollectError{}},
		"AccessPrincipal":          {accessgov.Principal{}},
		"AccessGrant":              {accessgov.Grant{}},
		"AccessFinding":            {accessgov.Finding{}},
		"AccessServicePermissions": {accessgov.ServicePermissions{}},
		"AccessAnswer":             {accessgov.Answer{}},
		"AccessChange":             {store.AccessChange{}},
		"AccessPrincipalList":      {accessgov.PrincipalList{}},
		"AccessPrincipalDetail":    {accessgov.PrincipalDetail{}},
		"AccessWhoCan":             {accessgov.WhoCanResult{}},
		"AccessFindingList":        {accessgov.FindingList{}},
		"AccessChangeList":         {accessgov.ChangeList{}},
		"InventoryRelation":        {inventory.Relation{}},
		"InventoryCost":            {inventory.Cost{}},
		"InventoryResource":        {inventory.Resource{}},
		"InventoryDatapoint":       {inventory.Datapoint{}},
		"InventorySeries":          {inventory.Series{}},
		"InventoryUtilization":     {inventory.Utilization{}},
		"InventoryFailure":         {inventory.Failure{}},
		"InventorySync":            {inventory.SyncStatus{}},
		"InventoryList":            {inventory.List{}},
		"InventoryDetail":          {inventory.Detail{}},
		"CostForecast":             {costs.Forecast{}},
		"ExplorerForecast":         {costs.ExplorerForecast{}},
		"CommitmentsCompare":       {figuresAnswer{}},
		"AWSRecommendation":        {commitments.AWSRecommendation{}},
		"SavedView":                {costs.View{}},
		"SavedViewQuery":           {costs.ViewQuery{}},
		"SavedViewCreate":          {viewCreate{}},
		"JITPolicy":                {jit.Policy{}},
		"JITTargetRule":            {jit.TargetRule{}},
		"JITAutoApprove":           {jit.AutoApprove{}},
		"JITBusinessHours":         {jit.BusinessHours{}},
		"JITPolicyList":            {jit.PolicyList{}},
		"JITTargetSpec":            {jit.TargetSpec{}},
		"JITRequest":               {jit.RequestInput{}},
		"JITLease":                 {jit.Lease{}},
		"JITLeaseList":             {jit.LeaseList{}},
		"JITReason":                {jitReason{}},
		"JITAuditLine":             {store.AuditEntry{}},
		"JITTrail":                 {jit.AuditTrail{}},
		"JITDrift":                 {jit.Drift{}},
		"JITReconcile":             {jit.ReconcileResult{}},
		"Channel":                  {store.NotifyChannel{}},
		"ChannelCreate":            {notify.ChannelRequest{}},
		"ChannelAdded":             {notify.Added{}},
		"ChannelSnooze":            {channelSnooze{}},
		"Delivery":                 {store.OutboxItem{}},
		"AlertRule":                {store.AlertRule{}},
		"AlertRuleParams":          {alerts.Params{}},
		"AlertRuleCreate":          {alerts.RuleRequest{}},
		"AlertFiring":              {alerts.Firing{}},
		"AlertRuleReport":          {alerts.RuleReport{}},
		"AlertReport":              {alerts.Report{}},
		"EventReceipt":             {events.Result{}},
		"AutomationFilter":         {automation.Filter{}},
		"AutomationPolicy":         {automation.Policy{}},
		"AutomationPolicies":       {automationView{}},
		"AutomationItem":           {automation.Item{}},
		"AutomationPolicyReport":   {automation.PolicyReport{}},
		"AutomationReport":         {automation.Report{}},
		"OptimizeRecommendation":   {optimize.Recommendation{}},
		"OptimizeSavings":          {optimize.Savings{}},
		"OptimizeCheck":            {optimize.Check{}},
		"OptimizeEvidence":         {optimize.Evidence{}},
		"OptimizeSummary":          {optimize.Summary{}},
		"RecommendationListing":    {optimize.Listing{}},
		"OptimizeParam":            {optimize.Param{}},
		"OptimizeRule":             {optimize.RuleView{}},
		"OptimizeThresholds":       {thresholdsRequest{}},
		"OptimizeEvaluation":       {optimize.Evaluation{}},
		"Approval":                 {store.Approval{}},
		"ApprovalDecisionRecord":   {store.Decision{}},
		"ApprovalDecision":         {approvalDecision{}},
		"PurchaseRequest":          {purchase.Request{}},
		"PurchaseExpectation":      {purchase.Expectation{}},
		"PurchasePlanSpec":         {purchase.Plan{}},
		"PurchaseOffering":         {purchase.Offering{}},
		"PurchaseTranchePlan":      {purchase.TranchePlan{}},
		"PurchaseTranche":          {store.PurchaseTranche{}},
		"PurchasePlan":             {purchase.View{}},
		"PurchaseCancel":           {purchaseCancel{}},
		"PurchaseGuardrails":       {store.PurchaseGuardrails{}},
		"RenewalsReport":           {renewalsAnswer{}},
		"Renewal":                  {purchase.Renewal{}},
		"RenewalPlanRequest":       {renewalPlanRequest{}},
		"SalesReport":              {salesAnswer{}},
		"Sale":                     {purchase.Sale{}},
		"SaleRequest":              {saleRequest{}},
		"InviteRequest":            {inviteRequest{}},
		"Invitation":               {orgshare.Invitation{}},
		"SCPAttachRequest":         {scpAttachRequest{}},
		"SCPAttachment":            {orgshare.SCPAttachment{}},
		"SCPStep":                  {orgshare.SCPStep{}},
	}
	// Remediation's schemas, in a block of their own.
	for name, values := range map[string][]any{
		"RemediationTarget":          {remediation.Target{}},
		"RemediationLimits":          {remediation.Limits{}},
		"RemediationRequest":         {remediationRequest{}},
		"RemediationStep":            {remediation.Step{}},
		"RemediationItem":            {remediation.Item{}},
		"RemediationPlan":            {remediation.Plan{}},
		"RemediationPlanList":        {remediationPlanList{}},
		"RemediationSchedule":        {remediation.Schedule{}},
		"RemediationScheduleRequest": {remediationScheduleRequest{}},
		"RemediationScheduleView":    {remediation.ScheduleView{}},
		"RemediationScheduleList":    {remediationScheduleList{}},
		"RemediationScheduleDeleted": {remediationScheduleDeleted{}},
	} {
		types[name] = values
	}
	for name, values := range types {
		schema, ok := sc[name].(obj)
		if !ok {
			t.Errorf("schema %s is not documented", name)
			continue
		}
		props, _ := schema["properties"].(obj)
		var documented []string
		for p := range props {
			documented = append(documented, p)
		}
		want := map[string]bool{}
		for _, v := range values {
			for _, f := range jsonFields(reflect.TypeOf(v)) {
				want[f] = true
			}
		}
		var fields []string
		for f := range want {
			fields = append(fields, f)
		}
		sort.Strings(documented)
		sort.Strings(fields)
		if !slices.Equal(documented, fields) {
			t.Errorf("schema %s documents %v\nbut the Go type encodes %v", name, documented, fields)
		}
		for _, r := range schemaRequired(schema) {
			if !want[r] {
				t.Errorf("schema %s requires %q, which the Go type does not have", name, r)
			}
		}
	}
}

// TestOpenAPIClassesAreTheCodes: the failure classes the document lists
// are the code's constants (the document once spelled one
// permission-boundary where the code says permissions-boundary).
func TestOpenAPIClassesAreTheCodes(t *testing.T) {
	sc := (&Server{}).schemas()
	var want []string
	for _, c := range verify.Classes() {
		want = append(want, string(c))
	}
	for _, name := range []string{"Check", "Member"} {
		class := sc[name].(obj)["properties"].(obj)["class"].(obj)
		got, _ := class["enum"].([]string)
		if !slices.Equal(got, want) || !slices.Contains(got, "permissions-boundary") {
			t.Errorf("%s.class enum %v, want %v", name, got, want)
		}
	}
}

// jsonFields are the names encoding/json gives t's fields, embedded
// structs flattened.
func jsonFields(t reflect.Type) []string {
	var out []string
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		name, _, _ := strings.Cut(tag, ",")
		if name == "-" || (!f.IsExported() && !f.Anonymous) {
			continue
		}
		if f.Anonymous && name == "" {
			ft := f.Type
			if ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct {
				out = append(out, jsonFields(ft)...)
				continue
			}
		}
		if name == "" {
			name = f.Name
		}
		out = append(out, name)
	}
	return out
}

func schemaRequired(schema obj) []string {
	r, _ := schema["required"].([]string)
	return r
}
