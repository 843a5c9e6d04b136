// Package costexplorer reads AWS Cost Explorer through a connection's role:
// the day-zero daily costs (until the CUR export arrives) and Cost
// Explorer's own recommendations. Every request costs the customer $0.01,
// so every request goes through one metered client that counts it per
// connection and month and stops at the connection's monthly budget.
package costexplorer

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/costexplorer"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/awsclient"
	"github.com/crossbill/crossbill/internal/manifest"
	"github.com/crossbill/crossbill/internal/store"
)

// DefaultMonthlyBudget is the requests a connection may send to Cost
// Explorer in a calendar month (UTC) unless set otherwise: $4.00. The
// daily load at its most (every tag key read, 10 requests) sends 310 in a
// long month; the rest leaves room for the first load, pages and the
// on-demand comparisons.
const DefaultMonthlyBudget = 400

// RequestUSD is what AWS charges per Cost Explorer request.
const RequestUSD = 0.01

// Store is what this package needs of the metadata store.
type Store interface {
	TenantConnection(ctx context.Context, tenant crossbill.TenantID, id crossbill.ConnectionID) (store.Connection, error)
	TenantByID(ctx context.Context, id crossbill.TenantID) (store.Tenant, error)
	CostExplorerState(ctx context.Context, tenant crossbill.TenantID, conn crossbill.ConnectionID) (store.CostExplorerState, error)
	SaveCostExplorerState(ctx context.Context, st store.CostExplorerState) error
	SetCostExplorerBudget(ctx context.Context, tenant crossbill.TenantID, conn crossbill.ConnectionID, requests int) error
	SpendCostExplorerRequest(ctx context.Context, tenant crossbill.TenantID, conn crossbill.ConnectionID, operation string, now time.Time, budget int) (bool, error)
	CostExplorerRequests(ctx context.Context, tenant crossbill.TenantID, conn crossbill.ConnectionID, month string) (map[string]int, error)
}

// BudgetError is returned by a metered call refused because the
// connection's monthly budget is spent: no request was sent.
type BudgetError struct {
	Budget int
	Month  string
}

func (e *BudgetError) Error() string {
	return fmt.Sprintf("the connection's Cost Explorer budget of %d requests ($%.2f) for %s is spent; it resumes next month, or raise it with `crossbill costs explorer budget`",
		e.Budget, float64(e.Budget)*RequestUSD, e.Month)
}

// Client is Cost Explorer through one connection's role, metered.
type Client struct {
	ce     *costexplorer.Client
	st     Store
	tenant crossbill.TenantID
	conn   crossbill.ConnectionID
	budget int
	now    func() time.Time
	// Sent counts the requests this client sent.
	Sent int
}

// Open returns the metered Cost Explorer client of a tenant's verified
// connection with the cost module, through its role (the process's one
// factory assumes it with the connection's external ID).
func Open(ctx context.Context, st Store, f *awsclient.Factory, tenant crossbill.TenantID, conn crossbill.ConnectionID, now func() time.Time) (*Client, error) {
	const op = "cost explorer"
	c, err := st.TenantConnection(ctx, tenant, conn)
	if err != nil {
		return nil, err
	}
	if !slices.Contains(c.Modules, manifest.ModuleCost) {
		return nil, crossbill.Errorf(crossbill.CodeInvalid, op, "connection %s has no cost module: Cost Explorer is read only through a role that grants it (connect init --modules cost,...)", conn)
	}
	if c.Status != store.StatusVerified || c.RoleARN == "" {
		return nil, crossbill.Errorf(crossbill.CodeInvalid, op, "connection %s is %s: verify it first with `crossbill connect verify`", conn, c.Status)
	}
	t, err := st.TenantByID(ctx, tenant)
	if err != nil {
		return nil, err
	}
	state, err := st.CostExplorerState(ctx, tenant, conn)
	if err != nil {
		return nil, err
	}
	if now == nil {
		now = time.Now
	}
	// Cost Explorer's endpoint is in us-east-1 whatever the account's regions.
	cfg := f.Config(awsclient.Target{Tenant: t.Name, Connection: c.ID, RoleARN: c.RoleARN, ExternalID: c.ExternalID}, "us-east-1")
	return &Client{ce: costexplorer.NewFromConfig(cfg), st: st, tenant: tenant, conn: conn,
		budget: EffectiveBudget(state.Budget), now: now}, nil
}

// EffectiveBudget is a stored budget, 0 meaning the default.
func EffectiveBudget(stored int) int {
	if stored <= 0 {
		return DefaultMonthlyBudget
	}
	return stored
}

// spend counts one request of operation, or refuses it over the budget.
func (c *Client) spend(ctx context.Context, operation string) error {
	now := c.now().UTC()
	ok, err := c.st.SpendCostExplorerRequest(ctx, c.tenant, c.conn, operation, now, c.budget)
	if err != nil {
		return err
	}
	if !ok {
		// Throttled: the budget frees up next month, like a limit that
		// lifts; the CLI exits 6 and says so.
		return crossbill.Errorf(crossbill.CodeThrottled, operation, "%w", &BudgetError{Budget: c.budget, Month: now.Format("2006-01")})
	}
	c.Sent++
	return nil
}

// GetCostAndUsage is one metered request.
func (c *Client) GetCostAndUsage(ctx context.Context, in *costexplorer.GetCostAndUsageInput, opts ...func(*costexplorer.Options)) (*costexplorer.GetCostAndUsageOutput, error) {
	if err := c.spend(ctx, "ce:GetCostAndUsage"); err != nil {
		return nil, err
	}
	return c.ce.GetCostAndUsage(ctx, in, opts...)
}

// GetTags is one metered request.
func (c *Client) GetTags(ctx context.Context, in *costexplorer.GetTagsInput, opts ...func(*costexplorer.Options)) (*costexplorer.GetTagsOutput, error) {
	if err := c.spend(ctx, "ce:GetTags"); err != nil {
		return nil, err
	}
	return c.ce.GetTags(ctx, in, opts...)
}

// GetSavingsPlansPurchaseRecommendation is one metered request.
func (c *Client) GetSavingsPlansPurchaseRecommendation(ctx context.Context, in *costexplorer.GetSavingsPlansPurchaseRecommendationInput, opts ...func(*costexplorer.Options)) (*costexplorer.GetSavingsPlansPurchaseRecommendationOutput, error) {
	if err := c.spend(ctx, "ce:GetSavingsPlansPurchaseRecommendation"); err != nil {
		return nil, err
	}
	return c.ce.GetSavingsPlansPurchaseRecommendation(ctx, in, opts...)
}

// GetReservationPurchaseRecommendation is one metered request.
func (c *Client) GetReservationPurchaseRecommendation(ctx context.Context, in *costexplorer.GetReservationPurchaseRecommendationInput, opts ...func(*costexplorer.Options)) (*costexplorer.GetReservationPurchaseRecommendationOutput, error) {
	if err := c.spend(ctx, "ce:GetReservationPurchaseRecommendation"); err != nil {
		return nil, err
	}
	return c.ce.GetReservationPurchaseRecommendation(ctx, in, opts...)
}

// GetSavingsPlansUtilization is one metered request.
func (c *Client) GetSavingsPlansUtilization(ctx context.Context, in *costexplorer.GetSavingsPlansUtilizationInput, opts ...func(*costexplorer.Options)) (*costexplorer.GetSavingsPlansUtilizationOutput, error) {
	if err := c.spend(ctx, "ce:GetSavingsPlansUtilization"); err != nil {
		return nil, err
	}
	return c.ce.GetSavingsPlansUtilization(ctx, in, opts...)
}

// GetReservationUtilization is one metered request.
func (c *Client) GetReservationUtilization(ctx context.Context, in *costexplorer.GetReservationUtilizationInput, opts ...func(*costexplorer.Options)) (*costexplorer.GetReservationUtilizationOutput, error) {
	if err := c.spend(ctx, "ce:GetReservationUtilization"); err != nil {
		return nil, err
	}
	return c.ce.GetReservationUtilization(ctx, in, opts...)
}

// GetSavingsPlansCoverage is one metered request.
func (c *Client) GetSavingsPlansCoverage(ctx context.Context, in *costexplorer.GetSavingsPlansCoverageInput, opts ...func(*costexplorer.Options)) (*costexplorer.GetSavingsPlansCoverageOutput, error) {
	if err := c.spend(ctx, "ce:GetSavingsPlansCoverage"); err != nil {
		return nil, err
	}
	return c.ce.GetSavingsPlansCoverage(ctx, in, opts...)
}

// GetReservationCoverage is one metered request.
func (c *Client) GetReservationCoverage(ctx context.Context, in *costexplorer.GetReservationCoverageInput, opts ...func(*costexplorer.Options)) (*costexplorer.GetReservationCoverageOutput, error) {
	if err := c.spend(ctx, "ce:GetReservationCoverage"); err != nil {
		return nil, err
	}
	return c.ce.GetReservationCoverage(ctx, in, opts...)
}

// Usage is a connection's Cost Explorer requests this month against its
// budget, and its load's state.
type Usage struct {
	Tenant        crossbill.TenantID     `json:"tenant_id"`
	Connection    crossbill.ConnectionID `json:"connection_id"`
	Month         string                 `json:"month"`
	Requests      int                    `json:"requests"`
	ByOperation   map[string]int         `json:"requests_by_operation"`
	Budget        int                    `json:"budget_requests"`
	BudgetDefault bool                   `json:"budget_is_default"`
	SpentUSD      float64                `json:"spent_usd"`
	BudgetUSD     float64                `json:"budget_usd"`
	LoadedFrom    string                 `json:"loaded_from,omitempty"`
	LoadedThrough string                 `json:"loaded_through,omitempty"`
	LoadedAt      string                 `json:"loaded_at,omitempty"`
	Status        string                 `json:"status,omitempty"`
	Message       string                 `json:"message,omitempty"`
	Label         string                 `json:"label"`
}

// Status answers a tenant's connection's Cost Explorer usage this month;
// with setBudget >= 0 it first sets the monthly budget (0: the default).
func Status(ctx context.Context, st Store, tenant crossbill.TenantID, conn crossbill.ConnectionID, setBudget int, now time.Time) (Usage, error) {
	if setBudget >= 0 {
		if err := st.SetCostExplorerBudget(ctx, tenant, conn, setBudget); err != nil {
			return Usage{}, err
		}
	}
	s, err := st.CostExplorerState(ctx, tenant, conn)
	if err != nil {
		return Usage{}, err
	}
	month := now.UTC().Format("2006-01")
	by, err := st.CostExplorerRequests(ctx, tenant, conn, month)
	if err != nil {
		return Usage{}, err
	}
	u := Usage{Tenant: tenant, Connection: conn, Month: month, ByOperation: by, Budget: EffectiveBudget(s.Budget), BudgetDefault: s.Budget <= 0,
		LoadedFrom: s.LoadedFrom, LoadedThrough: s.LoadedThrough, LoadedAt: s.LoadedAt, Status: s.Status, Message: s.Message, Label: labelText}
	for _, n := range by {
		u.Requests += n
	}
	u.SpentUSD, u.BudgetUSD = float64(u.Requests)*RequestUSD, float64(u.Budget)*RequestUSD
	return u, nil
}

// GetCostForecast is one metered request.
func (c *Client) GetCostForecast(ctx context.Context, in *costexplorer.GetCostForecastInput, opts ...func(*costexplorer.Options)) (*costexplorer.GetCostForecastOutput, error) {
	if err := c.spend(ctx, "ce:GetCostForecast"); err != nil {
		return nil, err
	}
	return c.ce.GetCostForecast(ctx, in, opts...)
}

// GetDimensionValues is one metered request.
func (c *Client) GetDimensionValues(ctx context.Context, in *costexplorer.GetDimensionValuesInput, opts ...func(*costexplorer.Options)) (*costexplorer.GetDimensionValuesOutput, error) {
	if err := c.spend(ctx, "ce:GetDimensionValues"); err != nil {
		return nil, err
	}
	return c.ce.GetDimensionValues(ctx, in, opts...)
}

// GetSavingsPlansUtilizationDetails is one metered request.
func (c *Client) GetSavingsPlansUtilizationDetails(ctx context.Context, in *costexplorer.GetSavingsPlansUtilizationDetailsInput, opts ...func(*costexplorer.Options)) (*costexplorer.GetSavingsPlansUtilizationDetailsOutput, error) {
	if err := c.spend(ctx, "ce:GetSavingsPlansUtilizationDetails"); err != nil {
		return nil, err
	}
	return c.ce.GetSavingsPlansUtilizationDetails(ctx, in, opts...)
}
