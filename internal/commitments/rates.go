package commitments

import (
	_ "embed"
	"encoding/json"
	"os"

	"github.com/crossbill/crossbill"
)

// Option types, as Cost Explorer names Savings Plans types, plus one per
// reservation service.
const (
	OptionComputeSP     = "COMPUTE_SP"
	OptionEC2InstanceSP = "EC2_INSTANCE_SP"
	OptionRDSRI         = "RDS_RI"
	OptionElastiCacheRI = "ELASTICACHE_RI"
	OptionOpenSearchRI  = "OPENSEARCH_RI"
	OptionRedshiftRI    = "REDSHIFT_RI"
)

// Usage classes: what kind of eligible usage a CUR line is (see classSQL).
const (
	ClassEC2         = "ec2"
	ClassFargate     = "fargate"
	ClassLambda      = "lambda"
	ClassRDS         = "rds"
	ClassElastiCache = "elasticache"
	ClassOpenSearch  = "opensearch"
	ClassRedshift    = "redshift"
)

// optionClasses lists the usage classes each option type can cover.
func optionClasses(option string) []string {
	switch option {
	case OptionComputeSP:
		return []string{ClassEC2, ClassFargate, ClassLambda}
	case OptionEC2InstanceSP:
		return []string{ClassEC2}
	case OptionRDSRI:
		return []string{ClassRDS}
	case OptionElastiCacheRI:
		return []string{ClassElastiCache}
	case OptionOpenSearchRI:
		return []string{ClassOpenSearch}
	case OptionRedshiftRI:
		return []string{ClassRedshift}
	}
	return nil
}

// Rate is one discount: the fraction off public on-demand a commitment type
// gets on a usage class for a term and payment option.
type Rate struct {
	Type     string  `json:"type"`
	Class    string  `json:"class"`
	Term     int     `json:"term"`
	Payment  Payment `json:"payment"`
	Discount float64 `json:"discount"`
	// Source is "default", "pricing" (AWS public prices), "cur" (observed
	// in the CUR) or "file".
	Source string `json:"source,omitempty"`
}

type rateKey struct {
	typ, class string
	term       int
	payment    Payment
}

// Rates is a discount table.
type Rates struct {
	byKey map[rateKey]Rate
}

//go:embed rates.json
var defaultRatesJSON []byte

// DefaultRates returns crossbill's embedded discount table (rates.json,
// documented there and in docs/commitments.md).
func DefaultRates() (*Rates, error) {
	return parseRates(defaultRatesJSON, "default")
}

// ReadRates overlays the entries of a rates file (the rates.json format)
// on r.
func (r *Rates) ReadRates(path string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return crossbill.Errorf(crossbill.CodeInvalid, "commitments rates", "reading rates file: %w", err)
	}
	o, err := parseRates(b, "file")
	if err != nil {
		return err
	}
	for k, v := range o.byKey {
		r.byKey[k] = v
	}
	return nil
}

// ParseRates reads a rates document (the rates.json format), as --rates
// files are read.
func ParseRates(b []byte) (*Rates, error) { return parseRates(b, "file") }

// parseRates reads a rates document, refusing discounts outside (0, 1)
// and unknown payment options.
func parseRates(b []byte, source string) (*Rates, error) {
	var doc struct {
		Rates []Rate `json:"rates"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		return nil, crossbill.Errorf(crossbill.CodeInvalid, "commitments rates", "rates file is not valid JSON ({\"rates\": [{\"type\", \"class\", \"term\", \"payment\", \"discount\"}]}): %w", err)
	}
	r := &Rates{byKey: map[rateKey]Rate{}}
	for i, x := range doc.Rates {
		p, ok := ParsePayment(string(x.Payment))
		if !ok || optionClasses(x.Type) == nil || (x.Term != 1 && x.Term != 3) || !(x.Discount > 0 && x.Discount < 1) {
			return nil, crossbill.Errorf(crossbill.CodeInvalid, "commitments rates",
				"rate %d (%s %s %dy %s %v): want a known type, term 1 or 3, payment No/Partial/All Upfront and 0 < discount < 1", i, x.Type, x.Class, x.Term, x.Payment, x.Discount)
		}
		x.Payment, x.Source = p, source
		r.byKey[rateKey{x.Type, x.Class, x.Term, p}] = x
	}
	return r, nil
}

// Set records one rate (observed ones override defaults).
func (r *Rates) Set(x Rate) { r.byKey[rateKey{x.Type, x.Class, x.Term, x.Payment}] = x }

// Lookup returns the discount of a type on a class, or false.
func (r *Rates) Lookup(typ, class string, term int, p Payment) (Rate, bool) {
	x, ok := r.byKey[rateKey{typ, class, term, p}]
	return x, ok
}

// All returns the table's entries.
func (r *Rates) All() []Rate {
	out := make([]Rate, 0, len(r.byKey))
	for _, v := range r.byKey {
		out = append(out, v)
	}
	return out
}
