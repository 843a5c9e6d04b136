package commitments

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/costexplorer"
	cetypes "github.com/aws/aws-sdk-go-v2/service/costexplorer/types"

	"github.com/crossbill/crossbill/internal/awsclient"
)

// ceFiguresAPI is the part of Cost Explorer that reports utilization and
// coverage (each request $0.01).
type ceFiguresAPI interface {
	GetSavingsPlansUtilization(context.Context, *costexplorer.GetSavingsPlansUtilizationInput, ...func(*costexplorer.Options)) (*costexplorer.GetSavingsPlansUtilizationOutput, error)
	GetReservationUtilization(context.Context, *costexplorer.GetReservationUtilizationInput, ...func(*costexplorer.Options)) (*costexplorer.GetReservationUtilizationOutput, error)
	GetSavingsPlansCoverage(context.Context, *costexplorer.GetSavingsPlansCoverageInput, ...func(*costexplorer.Options)) (*costexplorer.GetSavingsPlansCoverageOutput, error)
	GetReservationCoverage(context.Context, *costexplorer.GetReservationCoverageInput, ...func(*costexplorer.Options)) (*costexplorer.GetReservationCoverageOutput, error)
	GetSavingsPlansUtilizationDetails(context.Context, *costexplorer.GetSavingsPlansUtilizationDetailsInput, ...func(*costexplorer.Options)) (*costexplorer.GetSavingsPlansUtilizationDetailsOutput, error)
}

// Figure is one utilization or coverage figure, crossbill's (from the
// CUR) beside Cost Explorer's, as fractions; nil when that side has no
// data (no commitment of the kind).
type Figure struct {
	Name      string   `json:"figure"`
	Crossbill *float64 `json:"crossbill"`
	AWS       *float64 `json:"cost_explorer"`
	// Why says where the two differ by definition.
	Why string `json:"why"`
}

// PlanFigure is one Savings Plan's utilization over the window,
// crossbill's (from the CUR) beside Cost Explorer's, as fractions; nil
// when that side does not know the plan.
type PlanFigure struct {
	ARN       string   `json:"arn"`
	Account   string   `json:"account,omitempty"`
	Crossbill *float64 `json:"crossbill"`
	AWS       *float64 `json:"cost_explorer"`
	// Commitment is the plan's commitment over the window (crossbill's,
	// else Cost Explorer's), Unused Cost Explorer's unused part.
	Commitment float64 `json:"commitment"`
	AWSUnused  float64 `json:"cost_explorer_unused"`
}

// FiguresReport is the window and its figures.
type FiguresReport struct {
	From    string   `json:"from"`
	To      string   `json:"to"`
	Figures []Figure `json:"figures"`
	// Plans are the Savings Plans one by one (same definition as the
	// Savings Plans utilization figure).
	Plans []PlanFigure `json:"savings_plans"`
}

// Why the figures differ, where the definitions do.
const (
	whySPUtilization = "same definition (used / total commitment, amortized); differences come from the window's edges (Cost Explorer cuts UTC days) and from CUR restatements not yet loaded"
	whyRIUtilization = "Cost Explorer counts reserved hours (used / purchased); crossbill weighs each hour by its amortized fee, so large and small reservations differ in weight"
	whySPCoverage    = "Cost Explorer: Savings Plans-covered spend over covered + on-demand spend of eligible services, at on-demand rates; crossbill: over all eligible on-demand-equivalent spend, reservations' share included in the base"
	whyRICoverage    = "Cost Explorer counts running hours (reserved / total, EC2 by default); crossbill weighs by on-demand-equivalent cost over every reservable class (EC2, RDS, ElastiCache, OpenSearch, Redshift)"
)

// CompareFiguresWithAWS puts Cost Explorer's Savings Plans and reservation
// utilization and coverage beside crossbill's over the window, and each
// Savings Plan's utilization beside crossbill's (CompareRequests requests,
// more when pages follow, $0.01 each). ce must reach the customer's
// account (the connection's role): Cost Explorer answers for the caller.
func CompareFiguresWithAWS(ctx context.Context, rd Reader, w Window, ce ceFiguresAPI) (FiguresReport, error) {
	const op = "commitments compare"
	util, err := Utilization(ctx, rd, w, Daily)
	if err != nil {
		return FiguresReport{}, err
	}
	cov, err := Coverage(ctx, rd, w, Daily, false)
	if err != nil {
		return FiguresReport{}, err
	}
	var used, total [2]float64 // savings plans, reservations
	plans := map[string]*PlanFigure{}
	var order []string
	for _, r := range util {
		i := 0
		if r.Kind == KindReservation {
			i = 1
		}
		used[i] += r.Used
		total[i] += r.Commitment
		if r.Kind == KindReservation {
			continue
		}
		p := plans[r.ARN]
		if p == nil {
			p = &PlanFigure{ARN: r.ARN, Account: string(r.Account), Crossbill: new(float64)}
			plans[r.ARN] = p
			order = append(order, r.ARN)
		}
		// Crossbill holds used so far until the ratio below.
		*p.Crossbill += r.Used
		p.Commitment += r.Commitment
	}
	for _, p := range plans {
		if p.Commitment > 0 {
			*p.Crossbill /= p.Commitment
		} else {
			p.Crossbill = nil
		}
	}
	var bySP, byRI, eligible float64
	for _, r := range cov {
		bySP += r.CoveredBySP
		byRI += r.CoveredByRI
		eligible += r.Eligible
	}
	ratio := func(a, b float64) *float64 {
		if b <= 0 {
			return nil
		}
		v := a / b
		return &v
	}
	period := &cetypes.DateInterval{Start: aws.String(w.Start.UTC().Format(time.DateOnly)), End: aws.String(w.End.UTC().Format(time.DateOnly))}
	rep := FiguresReport{From: *period.Start, To: *period.End}

	spUtil, err := ceSPUtilization(ctx, ce, period)
	if err != nil {
		return rep, awsclient.Classify(op, err)
	}
	riUtil, err := ceRIUtilization(ctx, ce, period)
	if err != nil {
		return rep, awsclient.Classify(op, err)
	}
	spCov, err := ceSPCoverage(ctx, ce, period)
	if err != nil {
		return rep, awsclient.Classify(op, err)
	}
	riCov, err := ceRICoverage(ctx, ce, period)
	if err != nil {
		return rep, awsclient.Classify(op, err)
	}
	details, err := ceSPDetails(ctx, ce, period)
	if err != nil {
		return rep, awsclient.Classify(op, err)
	}
	for _, d := range details {
		p := plans[d.ARN]
		if p == nil {
			p = &PlanFigure{ARN: d.ARN, Account: d.Account, Commitment: d.Commitment}
			plans[d.ARN] = p
			order = append(order, d.ARN)
		}
		p.AWS, p.AWSUnused = d.AWS, d.AWSUnused
	}
	rep.Plans = []PlanFigure{}
	for _, arn := range order {
		rep.Plans = append(rep.Plans, *plans[arn])
	}
	rep.Figures = []Figure{
		{Name: "savings plans utilization", Crossbill: ratio(used[0], total[0]), AWS: spUtil, Why: whySPUtilization},
		{Name: "reservation utilization", Crossbill: ratio(used[1], total[1]), AWS: riUtil, Why: whyRIUtilization},
		{Name: "savings plans coverage", Crossbill: ratio(bySP, eligible), AWS: spCov, Why: whySPCoverage},
		{Name: "reservation coverage", Crossbill: ratio(byRI, eligible), AWS: riCov, Why: whyRICoverage},
	}
	return rep, nil
}

// noData reports Cost Explorer's answer for an account without any
// commitment of the kind.
func noData(err error) bool {
	var e *cetypes.DataUnavailableException
	return errors.As(err, &e)
}

// percent reads a Cost Explorer percentage ("85.5") as a fraction.
func percent(s *string) *float64 {
	if s == nil || *s == "" {
		return nil
	}
	v := parseFloat(*s) / 100
	return &v
}

func ceSPUtilization(ctx context.Context, ce ceFiguresAPI, period *cetypes.DateInterval) (*float64, error) {
	out, err := ce.GetSavingsPlansUtilization(ctx, &costexplorer.GetSavingsPlansUtilizationInput{TimePeriod: period})
	if noData(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("asking Cost Explorer for Savings Plans utilization: %w", err)
	}
	if out.Total == nil || out.Total.Utilization == nil {
		return nil, nil
	}
	return percent(out.Total.Utilization.UtilizationPercentage), nil
}

func ceRIUtilization(ctx context.Context, ce ceFiguresAPI, period *cetypes.DateInterval) (*float64, error) {
	out, err := ce.GetReservationUtilization(ctx, &costexplorer.GetReservationUtilizationInput{TimePeriod: period})
	if noData(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("asking Cost Explorer for reservation utilization: %w", err)
	}
	// Without GroupBy the total comes on the first page: no page follows.
	if out.Total == nil {
		return nil, nil
	}
	return percent(out.Total.UtilizationPercentage), nil
}

func ceSPCoverage(ctx context.Context, ce ceFiguresAPI, period *cetypes.DateInterval) (*float64, error) {
	in := &costexplorer.GetSavingsPlansCoverageInput{TimePeriod: period}
	var covered, spend float64
	for {
		out, err := ce.GetSavingsPlansCoverage(ctx, in)
		if noData(err) {
			return nil, nil
		}
		if err != nil {
			return nil, fmt.Errorf("asking Cost Explorer for Savings Plans coverage: %w", err)
		}
		for _, c := range out.SavingsPlansCoverages {
			if c.Coverage == nil {
				continue
			}
			sp := parseFloat(aws.ToString(c.Coverage.SpendCoveredBySavingsPlans))
			covered += sp
			spend += sp + parseFloat(aws.ToString(c.Coverage.OnDemandCost))
		}
		if aws.ToString(out.NextToken) == "" {
			break
		}
		in.NextToken = out.NextToken
	}
	if spend <= 0 {
		return nil, nil
	}
	v := covered / spend
	return &v, nil
}

func ceRICoverage(ctx context.Context, ce ceFiguresAPI, period *cetypes.DateInterval) (*float64, error) {
	out, err := ce.GetReservationCoverage(ctx, &costexplorer.GetReservationCoverageInput{TimePeriod: period})
	if noData(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("asking Cost Explorer for reservation coverage: %w", err)
	}
	if out.Total == nil || out.Total.CoverageHours == nil {
		return nil, nil
	}
	return percent(out.Total.CoverageHours.CoverageHoursPercentage), nil
}

// CompareRequests is the requests of CompareFiguresWithAWS whose answers
// fit one page: 4 figures and the per-plan details.
const CompareRequests = 5

// ceSPDetails is Cost Explorer's utilization of each Savings Plan over the
// period, every page.
func ceSPDetails(ctx context.Context, ce ceFiguresAPI, period *cetypes.DateInterval) ([]PlanFigure, error) {
	in := &costexplorer.GetSavingsPlansUtilizationDetailsInput{TimePeriod: period}
	var out []PlanFigure
	for {
		resp, err := ce.GetSavingsPlansUtilizationDetails(ctx, in)
		if noData(err) {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("asking Cost Explorer for each Savings Plan's utilization: %w", err)
		}
		for _, d := range resp.SavingsPlansUtilizationDetails {
			if aws.ToString(d.SavingsPlanArn) == "" {
				continue
			}
			p := PlanFigure{ARN: aws.ToString(d.SavingsPlanArn), Account: d.Attributes["AccountId"]}
			if u := d.Utilization; u != nil {
				p.AWS = percent(u.UtilizationPercentage)
				p.Commitment = parseFloat(aws.ToString(u.TotalCommitment))
				p.AWSUnused = parseFloat(aws.ToString(u.UnusedCommitment))
			}
			out = append(out, p)
		}
		if aws.ToString(resp.NextToken) == "" {
			return out, nil
		}
		in.NextToken = resp.NextToken
	}
}
