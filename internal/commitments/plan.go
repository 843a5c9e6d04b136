package commitments

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"sort"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/awsclient"
)

// MinObservedSpend is the covered on-demand spend (dollars, over the
// window) below which a class's observed discount is too thin to trust.
// One value for the CLI and the API, so both recommend the same purchases.
const MinObservedSpend = 10

// RateSources are the discount-rate sources layered over the embedded
// table; the CUR's observed rates always are.
type RateSources struct {
	// Pricing, when set, prices the window's instance types from AWS's
	// public prices (the CLI's --pricing).
	Pricing *PriceSource
	// File is a JSON rates file overriding every other source.
	File string
	// Progress, when set, reports what the sources found and warnings.
	Progress func(format string, args ...any)
}

func (s RateSources) progress(format string, args ...any) {
	if s.Progress != nil {
		s.Progress(format, args...)
	}
}

// LoadRates layers the discount table: embedded defaults, then the Pricing
// API's rates for the window's instance types (when asked), then rates
// observed in the CUR over the window, then the rates file. A Pricing API
// the hub may not call is a warning: the other sources stand in.
func LoadRates(ctx context.Context, rd Reader, w Window, src RateSources) (*Rates, error) {
	rates, err := DefaultRates()
	if err != nil {
		return nil, crossbill.Errorf(crossbill.CodeInternal, "commitments", "loading the discount table: %w", err)
	}
	if src.Pricing != nil {
		if err := loadPricing(ctx, rd, w, src, rates); err != nil {
			return nil, err
		}
	}
	observed, err := ObservedRates(ctx, rd, w, MinObservedSpend)
	if err != nil {
		return nil, err
	}
	for _, r := range observed {
		rates.Set(r)
	}
	if src.File != "" {
		if err := rates.ReadRates(filepath.Clean(src.File)); err != nil {
			return nil, err
		}
	}
	return rates, nil
}

func loadPricing(ctx context.Context, rd Reader, w Window, src RateSources, rates *Rates) error {
	if err := CheckData(ctx, rd, w); err != nil {
		return err
	}
	usage, err := EligibleUsage(ctx, rd, w)
	if err != nil {
		return err
	}
	res, err := src.Pricing.Rates(ctx, usage)
	if err != nil {
		return awsclient.Classify("commitments pricing", err)
	}
	for _, warn := range res.Warnings {
		src.progress("warning: %v", warn)
	}
	for _, r := range res.Rates {
		rates.Set(r)
	}
	src.progress("priced %d discount rates from AWS's public prices", len(res.Rates))
	return nil
}

// Request is one recommendation question: the window, the options and
// ranking, and where discount rates come from.
type Request struct {
	Window  Window
	Options Options
	Rates   RateSources
}

// Report is the answer: the recommendations, best first, and the discount
// rates of the options asked for, each with its source.
type Report struct {
	Window          Window
	Recommendations []Recommendation
	Rates           []Rate
}

// Recommend is the recommendation use case the CLI and the API share:
// layer the discount rates, then choose every option's commitment.
func Recommend(ctx context.Context, rd Reader, req Request) (Report, error) {
	if err := req.Options.Validate(); err != nil {
		return Report{}, err
	}
	rates, err := LoadRates(ctx, rd, req.Window, req.Rates)
	if err != nil {
		return Report{}, err
	}
	req.Rates.progress("recommending from %s to %s", req.Window.Start.Format("2006-01-02"), req.Window.End.Format("2006-01-02"))
	recs, err := RecommendWith(ctx, rd, req.Window, rates, req.Options)
	if err != nil {
		return Report{}, err
	}
	if recs == nil {
		recs = []Recommendation{}
	}
	return Report{Window: req.Window, Recommendations: recs, Rates: UsedRates(rates, req.Options)}, nil
}

// UsedRates returns the table's rates for the options asked for, sorted.
func UsedRates(rates *Rates, opts Options) []Rate {
	in := func(n int, xs []int) bool { return len(xs) == 0 || slices.Contains(xs, n) }
	var out []Rate
	for _, r := range rates.All() {
		if (len(opts.Types) == 0 || slices.Contains(opts.Types, r.Type)) && in(r.Term, opts.Terms) &&
			(len(opts.Payments) == 0 || slices.Contains(opts.Payments, r.Payment)) {
			out = append(out, r)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		return fmt.Sprint(a.Type, a.Class, a.Term, a.Payment) < fmt.Sprint(b.Type, b.Class, b.Term, b.Payment)
	})
	return out
}
