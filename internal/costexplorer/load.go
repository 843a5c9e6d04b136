package costexplorer

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/costexplorer"
	cetypes "github.com/aws/aws-sdk-go-v2/service/costexplorer/types"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/awsclient"
	"github.com/crossbill/crossbill/internal/costs"
)

// The request plan. Cost Explorer groups by at most two dimensions per
// request, and a group's cost cannot be split further afterwards, so each
// grouping is its own request set over the whole window (all four metrics
// in one request; the SDK pages with NextPageToken, each page a request):
//
//	account+service      GroupBy LINKED_ACCOUNT, SERVICE
//	account+region       GroupBy LINKED_ACCOUNT, REGION
//	service+usage-type   GroupBy SERVICE, USAGE_TYPE
//	tag+service          GroupBy TAG:<key>, SERVICE, per cost-allocation tag key (at most MaxTagKeys)
//
// plus one GetTags (the keys with cost in the window), one GetCostForecast
// (Cost Explorer's own forecast) and, while some account of the data has
// not been looked up, one GetDimensionValues (the linked accounts' names).
// A day's load is therefore 5 + (tag keys) requests when every answer fits
// one page, 6 on the first load and when an account appears.
const (
	// HistoryMonths is how far back the first load reaches: the current
	// month and the 11 before it (Cost Explorer keeps daily data for the
	// last 13 months or so).
	HistoryMonths = 12
	// UnsettledDays are re-fetched by each incremental load: AWS restates
	// the last days' estimated cost.
	UnsettledDays = 3
	// MaxTagKeys bounds the tag groupings (one request set each).
	MaxTagKeys = 5
)

// Metrics asked of Cost Explorer, in one request: the cost store's
// unblended, amortized, net and usage (Cost Explorer has no list cost).
var metrics = []string{"UnblendedCost", "AmortizedCost", "NetUnblendedCost", "UsageQuantity"}

type grouping struct {
	name string
	by   [2]string
}

var groupings = []grouping{
	{costs.GroupingAccountService, [2]string{"LINKED_ACCOUNT", "SERVICE"}},
	{costs.GroupingAccountRegion, [2]string{"LINKED_ACCOUNT", "REGION"}},
	{costs.GroupingServiceUsageType, [2]string{"SERVICE", "USAGE_TYPE"}},
}

// RequestsPerLoad is the requests of one load whose answers fit one page:
// the groupings, GetTags, a request set per tag key and GetCostForecast,
// and GetDimensionValues when names are asked (the first load).
func RequestsPerLoad(tagKeys int, names bool) int {
	n := len(groupings) + 1 + min(tagKeys, MaxTagKeys) + 1
	if names {
		n++
	}
	return n
}

// labelText is how Cost Explorer data is labelled.
const labelText = costs.ExplorerLabel

// Load statuses.
const (
	StatusLoaded        = "loaded"
	StatusUpToDate      = "up_to_date"     // loaded today already: no request sent
	StatusCUR           = "cur"            // the CUR holds every period of the window
	StatusBudgetReached = "budget_reached" // stopped at the monthly budget, no error
)

// Request is one load of a tenant's connection.
type Request struct {
	Tenant     crossbill.TenantID
	Connection crossbill.ConnectionID
	// Force reloads even when today's load is done (still incremental).
	Force bool
}

// Options are what a load needs.
type Options struct {
	Store    Store
	Costs    *costs.Store
	AWS      *awsclient.Factory
	Now      func() time.Time
	Progress func(format string, args ...any)
	// Shared, in cluster mode, is the shared cost store: the tenant's
	// Cost Explorer data are pulled from it into Costs before the load
	// (loads are incremental) and published to it after.
	Shared Shared
}

// Shared is cluster mode's cost store (cluster.Cluster).
type Shared interface {
	PullExplorer(ctx context.Context, staging *costs.Store, tenant crossbill.TenantID) error
	PublishExplorer(ctx context.Context, staging *costs.Store, tenant crossbill.TenantID, connection crossbill.ConnectionID) error
}

// Report is a load's outcome.
type Report struct {
	Tenant     crossbill.TenantID     `json:"tenant_id"`
	Connection crossbill.ConnectionID `json:"connection_id"`
	Status     string                 `json:"status"`
	Message    string                 `json:"message,omitempty"`
	From       string                 `json:"from,omitempty"` // first day asked
	To         string                 `json:"to,omitempty"`   // last day asked
	Requests   int                    `json:"requests"`       // sent by this load
	Rows       int                    `json:"rows"`
	TagKeys    []string               `json:"tag_keys"`
	// AccountNames is how many linked accounts Cost Explorer named;
	// ForecastMonths how many months its forecast covers.
	AccountNames   int   `json:"account_names"`
	ForecastMonths int   `json:"forecast_months"`
	Usage          Usage `json:"usage"`
}

// Load fetches the connection's daily cost from Cost Explorer into the
// cost store: on the first load the last HistoryMonths months, then only
// the days since the last load plus the UnsettledDays before it; at most
// once a day unless forced; never the billing periods the CUR holds. When
// the monthly budget is spent it stops with StatusBudgetReached (no error,
// so schedulers do not retry into it); each grouping is stored whole or not
// at all.
func Load(ctx context.Context, req Request, o Options) (rep Report, err error) {
	const op = "cost explorer load"
	if o.Shared != nil {
		if err := o.Shared.PullExplorer(ctx, o.Costs, req.Tenant); err != nil {
			return Report{Tenant: req.Tenant, Connection: req.Connection, TagKeys: []string{}}, err
		}
		// Rows stored before a failure (a budget reached mid-load) are
		// published too, as a single node keeps them.
		defer func() {
			if rep.Rows > 0 {
				err = errors.Join(err, o.Shared.PublishExplorer(context.WithoutCancel(ctx), o.Costs, req.Tenant, req.Connection))
			}
		}()
	}
	now := time.Now
	if o.Now != nil {
		now = o.Now
	}
	progress := o.Progress
	if progress == nil {
		progress = func(string, ...any) {}
	}
	rep = Report{Tenant: req.Tenant, Connection: req.Connection, TagKeys: []string{}}
	state, err := o.Store.CostExplorerState(ctx, req.Tenant, req.Connection)
	if err != nil {
		return rep, err
	}
	t := now().UTC()
	today := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
	finish := func(status, msg string) (Report, error) {
		rep.Status, rep.Message = status, msg
		if status != StatusUpToDate {
			state.Status, state.Message = status, msg
			if err := o.Store.SaveCostExplorerState(ctx, state); err != nil {
				return rep, err
			}
		}
		u, err := Status(ctx, o.Store, req.Tenant, req.Connection, -1, t)
		rep.Usage = u
		return rep, err
	}
	if !req.Force && strings.HasPrefix(state.LoadedAt, today.Format(time.DateOnly)) {
		return finish(StatusUpToDate, "loaded today already ("+state.LoadedAt+"): no request sent")
	}
	from := today.AddDate(0, 0, 1-today.Day()).AddDate(0, -(HistoryMonths - 1), 0)
	if lt, err := time.Parse(time.DateOnly, state.LoadedThrough); err == nil && state.LoadedThrough != "" {
		if inc := lt.AddDate(0, 0, 1-UnsettledDays); inc.After(from) {
			from = inc
		}
	}
	cur, err := o.Costs.CURPeriods(ctx, req.Tenant)
	if err != nil {
		return rep, err
	}
	// Leading months the CUR holds need no Cost Explorer request.
	for from.Before(today) && slices.Contains(cur, from.Format("2006-01")) {
		from = time.Date(from.Year(), from.Month()+1, 1, 0, 0, 0, 0, time.UTC)
	}
	to := today // exclusive: today's cost is still being counted
	if !from.Before(to) {
		return finish(StatusCUR, "the CUR export holds every billing period of the window: no Cost Explorer request needed")
	}
	rep.From, rep.To = from.Format(time.DateOnly), to.AddDate(0, 0, -1).Format(time.DateOnly)
	client, err := Open(ctx, o.Store, o.AWS, req.Tenant, req.Connection, now)
	if err != nil {
		return rep, err
	}
	defer func() { rep.Requests = client.Sent }()
	stopped := func(err error) (Report, bool, error) {
		var be *BudgetError
		if errors.As(err, &be) {
			rep.Requests = client.Sent
			r, err := finish(StatusBudgetReached, be.Error())
			return r, true, err
		}
		return rep, err != nil, awsclient.Classify(op, err)
	}
	for _, g := range groupings {
		progress("asking Cost Explorer for daily cost by %s, %s to %s ($0.01 a page)", g.name, rep.From, rep.To)
		dims := []cetypes.GroupDefinition{
			{Type: cetypes.GroupDefinitionTypeDimension, Key: aws.String(g.by[0])},
			{Type: cetypes.GroupDefinitionTypeDimension, Key: aws.String(g.by[1])},
		}
		rows, err := fetch(ctx, client, from, to, dims, func(keys []string, r *costs.ExplorerRow) {
			set(r, g.by[0], keys[0])
			set(r, g.by[1], keys[1])
		})
		if r, stop, err := stopped(err); stop {
			return r, err
		}
		n, err := o.Costs.ReplaceExplorerDays(ctx, req.Tenant, req.Connection, g.name, from, to, rows)
		if err != nil {
			return rep, err
		}
		rep.Rows += n
	}
	// Tags are a refinement: a GetTags that fails (denied, or an
	// endpoint without it) leaves the load without tag groupings, said in
	// its message, rather than failing the cost already loaded.
	var tagNote string
	keys, err := tagKeys(ctx, client, from, to)
	var be *BudgetError
	switch {
	case errors.As(err, &be):
		r, _, err := stopped(err)
		return r, err
	case err != nil:
		tagNote = "; tag keys not read: " + awsclient.Classify(op, err).Error()
		keys = nil
	}
	rep.TagKeys = append(rep.TagKeys, keys...)
	var tagRows []costs.ExplorerRow
	for _, k := range keys {
		progress("asking Cost Explorer for daily cost by tag %s ($0.01 a page)", k)
		dims := []cetypes.GroupDefinition{
			{Type: cetypes.GroupDefinitionTypeTag, Key: aws.String(k)},
			{Type: cetypes.GroupDefinitionTypeDimension, Key: aws.String("SERVICE")},
		}
		rows, err := fetch(ctx, client, from, to, dims, func(keys []string, r *costs.ExplorerRow) {
			// Tag groups come back as "key$value"; "key$" is untagged.
			_, r.TagValue, _ = strings.Cut(keys[0], "$")
			r.TagKey, r.Service = k, keys[1]
		})
		if r, stop, err := stopped(err); stop {
			return r, err
		}
		tagRows = append(tagRows, rows...)
	}
	n, err := o.Costs.ReplaceExplorerDays(ctx, req.Tenant, req.Connection, costs.GroupingTagService, from, to, tagRows)
	if err != nil {
		return rep, err
	}
	rep.Rows += n
	// Names and forecast are refinements too: a failure (an account too
	// new to forecast answers DataUnavailable) is said, not fatal.
	// Names are asked only while an account of the data has none asked
	// yet: the first load, and when a new account shows up.
	unnamed, err := o.Costs.UnnamedAccounts(ctx, req.Tenant, req.Connection)
	if err != nil {
		return rep, err
	}
	if unnamed > 0 {
		progress("asking Cost Explorer for the names of %d account(s) ($0.01)", unnamed)
		names, err := accountNames(ctx, client, from, to)
		switch {
		case errors.As(err, &be):
			r, _, err := stopped(err)
			return r, err
		case err != nil:
			tagNote += "; account names not read: " + awsclient.Classify(op, err).Error()
		default:
			if err := o.Costs.SaveExplorerAccountNames(ctx, req.Tenant, req.Connection, names); err != nil {
				return rep, err
			}
			for _, n := range names {
				if n != "" {
					rep.AccountNames++
				}
			}
		}
	}
	progress("asking Cost Explorer for its forecast of this month and the next %d ($0.01)", ForecastMonths-1)
	fc, err := forecast(ctx, client, today)
	switch {
	case errors.As(err, &be):
		r, _, err := stopped(err)
		return r, err
	case err != nil:
		tagNote += "; forecast not read: " + awsclient.Classify(op, err).Error()
	default:
		if err := o.Costs.ReplaceExplorerForecast(ctx, req.Tenant, req.Connection, fc, t); err != nil {
			return rep, err
		}
		rep.ForecastMonths = len(fc)
	}
	if state.LoadedFrom == "" || from.Format(time.DateOnly) < state.LoadedFrom {
		state.LoadedFrom = from.Format(time.DateOnly)
	}
	state.LoadedThrough, state.LoadedAt = rep.To, t.Format(time.RFC3339)
	rep.Requests = client.Sent
	return finish(StatusLoaded, fmt.Sprintf("%d request(s): %s to %s, %d row(s), %d tag key(s), %d account name(s), %d forecast month(s)%s",
		client.Sent, rep.From, rep.To, rep.Rows, len(keys), rep.AccountNames, rep.ForecastMonths, tagNote))
}

// set files a group key under its dimension.
func set(r *costs.ExplorerRow, dim, v string) {
	switch dim {
	case "LINKED_ACCOUNT":
		r.Account = v
	case "SERVICE":
		r.Service = v
	case "REGION":
		if v == "NoRegion" {
			v = ""
		}
		r.Region = v
	case "USAGE_TYPE":
		r.UsageType = v
	}
}

// fetch asks for the window's daily cost in groups, every page.
func fetch(ctx context.Context, c *Client, from, to time.Time, by []cetypes.GroupDefinition, keyed func([]string, *costs.ExplorerRow)) ([]costs.ExplorerRow, error) {
	in := &costexplorer.GetCostAndUsageInput{
		TimePeriod:  &cetypes.DateInterval{Start: aws.String(from.Format(time.DateOnly)), End: aws.String(to.Format(time.DateOnly))},
		Granularity: cetypes.GranularityDaily, Metrics: metrics, GroupBy: by,
	}
	var out []costs.ExplorerRow
	for {
		resp, err := c.GetCostAndUsage(ctx, in)
		if err != nil {
			return nil, err
		}
		for _, r := range resp.ResultsByTime {
			if r.TimePeriod == nil {
				continue
			}
			day, err := time.Parse(time.DateOnly, aws.ToString(r.TimePeriod.Start))
			if err != nil {
				return nil, crossbill.Errorf(crossbill.CodeUnavailable, "cost explorer load", "Cost Explorer answered a day %q: %w", aws.ToString(r.TimePeriod.Start), err)
			}
			for _, g := range r.Groups {
				if len(g.Keys) < 2 {
					continue
				}
				row := costs.ExplorerRow{Day: day, Estimated: r.Estimated,
					Unblended: amount(g.Metrics, "UnblendedCost"), Amortized: amount(g.Metrics, "AmortizedCost"),
					Net: amount(g.Metrics, "NetUnblendedCost"), Usage: amount(g.Metrics, "UsageQuantity")}
				keyed(g.Keys, &row)
				out = append(out, row)
			}
		}
		if aws.ToString(resp.NextPageToken) == "" {
			return out, nil
		}
		in.NextPageToken = resp.NextPageToken
	}
}

func amount(m map[string]cetypes.MetricValue, k string) float64 {
	f, _ := strconv.ParseFloat(aws.ToString(m[k].Amount), 64)
	return f
}

// tagKeys are the cost-allocation tag keys with cost in the window, sorted,
// at most MaxTagKeys (every page of GetTags).
func tagKeys(ctx context.Context, c *Client, from, to time.Time) ([]string, error) {
	in := &costexplorer.GetTagsInput{TimePeriod: &cetypes.DateInterval{Start: aws.String(from.Format(time.DateOnly)), End: aws.String(to.Format(time.DateOnly))}}
	var keys []string
	for {
		resp, err := c.GetTags(ctx, in)
		if err != nil {
			return nil, err
		}
		keys = append(keys, resp.Tags...)
		if aws.ToString(resp.NextPageToken) == "" {
			break
		}
		in.NextPageToken = resp.NextPageToken
	}
	slices.Sort(keys)
	keys = slices.Compact(keys)
	return keys[:min(len(keys), MaxTagKeys)], nil
}
