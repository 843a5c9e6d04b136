package commitments

import (
	"context"
	"time"

	"github.com/crossbill/crossbill/internal/awsclient"
)

// CompareWithAWS asks Cost Explorer for its own recommendation of every
// type, term and payment option o asks for (all of each when empty), one
// request ($0.01) each, over the window's length in days. progress, when
// set, announces each paid request.
func CompareWithAWS(ctx context.Context, ce costExplorerAPI, o Options, w Window, progress func(format string, args ...any)) ([]AWSRecommendation, error) {
	days := int(w.End.Sub(w.Start) / (24 * time.Hour))
	types, terms, pays := o.Types, o.Terms, o.Payments
	if len(types) == 0 {
		types = []string{OptionComputeSP, OptionEC2InstanceSP, OptionRDSRI, OptionElastiCacheRI, OptionOpenSearchRI, OptionRedshiftRI}
	}
	if len(terms) == 0 {
		terms = []int{1, 3}
	}
	if len(pays) == 0 {
		pays = []Payment{NoUpfront, PartialUpfront, AllUpfront}
	}
	var out []AWSRecommendation
	for _, t := range types {
		for _, term := range terms {
			for _, p := range pays {
				if progress != nil {
					progress("asking Cost Explorer for %s %dy %s ($0.01)", t, term, p)
				}
				r, err := FetchAWSRecommendation(ctx, ce, t, term, p, days, w.Account != "")
				if err != nil {
					return nil, awsclient.Classify("commitments recommend", err)
				}
				out = append(out, r)
			}
		}
	}
	return out, nil
}
