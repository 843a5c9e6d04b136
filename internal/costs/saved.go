package costs

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/store"
)

// MaxViews bounds a tenant's saved views.
const MaxViews = 200

// maxViewName bounds a view's name, in bytes.
const maxViewName = 100

// ViewQuery is a saved view's cost query, spelled as the API's query
// parameters and the CLI's flags spell it.
type ViewQuery struct {
	Metric         string   `json:"metric,omitempty"`
	GroupBy        string   `json:"group_by,omitempty"`
	Granularity    string   `json:"granularity,omitempty"`
	From           string   `json:"from,omitempty"`
	To             string   `json:"to,omitempty"`
	Filters        []string `json:"filters,omitempty"`
	BillingPeriods []string `json:"billing_periods,omitempty"`
	Top            int      `json:"top,omitempty"`
}

// Input is the query as ParseQuery reads it.
func (q ViewQuery) Input() QueryInput {
	return QueryInput{Metric: q.Metric, GroupBy: q.GroupBy, Granularity: q.Granularity, From: q.From, To: q.To,
		Filters: q.Filters, BillingPeriods: q.BillingPeriods, Top: q.Top}
}

// View is a tenant's saved view: a named cost query.
type View struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	Query     ViewQuery `json:"query"`
	CreatedBy string    `json:"created_by"`
	Person    string    `json:"person,omitempty"`
	CreatedAt string    `json:"created_at"`
}

func viewOf(v store.CostView) (View, error) {
	out := View{ID: v.ID, Name: v.Name, CreatedBy: v.CreatedBy, Person: v.Person, CreatedAt: v.CreatedAt.Format("2006-01-02T15:04:05Z07:00")}
	if err := json.Unmarshal(v.Query, &out.Query); err != nil {
		return View{}, crossbill.Errorf(crossbill.CodeInternal, "view", "reading view %s: %w", v.ID, err)
	}
	return out, nil
}

// SaveView saves a named cost query for the tenant. The name and the
// query are checked as the cost query itself would be, so a saved view
// always runs (unless its data is gone).
func SaveView(ctx context.Context, st *store.Store, tenant crossbill.TenantID, name string, q ViewQuery, by store.AuditEntry) (View, error) {
	const op = "view create"
	name = strings.TrimSpace(name)
	if err := crossbill.CheckText(op, "name", name); err != nil {
		return View{}, err
	}
	if name == "" || len(name) > maxViewName || strings.HasPrefix(name, "cv_") {
		return View{}, crossbill.Errorf(crossbill.CodeInvalid, op, "name the view with 1 to %d characters, not starting with cv_", maxViewName)
	}
	for _, f := range append(append([]string{q.Metric, q.GroupBy, q.Granularity, q.From, q.To}, q.Filters...), q.BillingPeriods...) {
		if err := crossbill.CheckText(op, "query", f); err != nil {
			return View{}, err
		}
	}
	if _, err := ParseQuery(tenant, q.Input()); err != nil {
		return View{}, err
	}
	raw, err := json.Marshal(q)
	if err != nil {
		return View{}, crossbill.Errorf(crossbill.CodeInternal, op, "%w", err)
	}
	person := by.PersonEmail
	if person == "" {
		person = by.PersonSubject
	}
	v, err := st.CreateCostView(ctx, store.CostView{TenantID: tenant, Name: name, Query: raw, CreatedBy: by.Actor, Person: person}, MaxViews)
	if err != nil {
		return View{}, err
	}
	return viewOf(v)
}

// Views lists the tenant's saved views by name.
func Views(ctx context.Context, st *store.Store, tenant crossbill.TenantID) ([]View, error) {
	vs, err := st.CostViews(ctx, tenant)
	if err != nil {
		return nil, err
	}
	out := make([]View, 0, len(vs))
	for _, v := range vs {
		w, err := viewOf(v)
		if err != nil {
			return nil, err
		}
		out = append(out, w)
	}
	return out, nil
}

// ViewStore holds saved views (*store.Store).
type ViewStore interface {
	CostView(ctx context.Context, tenant crossbill.TenantID, name string) (store.CostView, error)
}

// GetView is the tenant's view by name or ID.
func GetView(ctx context.Context, st ViewStore, tenant crossbill.TenantID, name string) (View, error) {
	v, err := st.CostView(ctx, tenant, name)
	if err != nil {
		return View{}, err
	}
	return viewOf(v)
}

// DeleteView deletes the tenant's view by name or ID and returns it.
func DeleteView(ctx context.Context, st *store.Store, tenant crossbill.TenantID, name string) (View, error) {
	v, err := st.DeleteCostView(ctx, tenant, name)
	if err != nil {
		return View{}, err
	}
	return viewOf(v)
}

// CSV is the answer as CSV rows: a header, then period, group and value
// per row. The CLI's --format csv and the API's export write the same.
func (r Result) CSV() [][]string {
	out := [][]string{{"period", "group", r.Metric}}
	for _, row := range r.Rows {
		out = append(out, []string{PeriodLabel(row.Period, r.Granularity), row.Group, strconv.FormatFloat(row.Value, 'f', -1, 64)})
	}
	return out
}

// PeriodLabel spells a time bucket at its granularity.
func PeriodLabel(t time.Time, g Granularity) string {
	switch g {
	case Hourly:
		return t.Format("2006-01-02T15:04Z")
	case Monthly:
		return t.Format("2006-01")
	}
	return t.Format("2006-01-02")
}

// ExportCSV answers q as CSV (Result.CSV): the API's export; the CLI's
// --format csv writes the same rows.
func ExportCSV(ctx context.Context, s *Store, q Query, namer AccountNamer) ([]byte, error) {
	res, err := s.QueryNamed(ctx, q, namer)
	if err != nil {
		return nil, err
	}
	return res.CSVBytes()
}

// CSVBytes is Result.CSV encoded.
func (r Result) CSVBytes() ([]byte, error) {
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	if err := w.WriteAll(r.CSV()); err != nil {
		return nil, crossbill.Errorf(crossbill.CodeInternal, "export", "writing CSV: %w", err)
	}
	return b.Bytes(), nil
}
