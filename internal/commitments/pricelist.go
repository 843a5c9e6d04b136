package commitments

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// priceList is what crossbill reads from one product of the AWS Price List
// (one element of GetProducts' PriceList): the public on-demand hourly
// price and the standard reservation offers.
type priceList struct {
	OnDemand float64
	Reserved []reservedOffer
}

// reservedOffer is one reservation price: what is paid upfront for the
// whole term and per hour on top.
type reservedOffer struct {
	Term    int
	Payment Payment
	Upfront float64
	Hourly  float64
}

// Effective is the offer's cost per hour of the term, upfront included.
func (o reservedOffer) Effective() float64 {
	return o.Upfront/(float64(o.Term)*8760) + o.Hourly
}

// The Price List document, as far as crossbill reads it.
type (
	priceListDoc struct {
		Terms struct {
			OnDemand map[string]priceTerm `json:"OnDemand"`
			Reserved map[string]priceTerm `json:"Reserved"`
		} `json:"terms"`
	}
	priceTerm struct {
		PriceDimensions map[string]priceDimension `json:"priceDimensions"`
		TermAttributes  map[string]string         `json:"termAttributes"`
	}
	priceDimension struct {
		Unit         string            `json:"unit"`
		BeginRange   string            `json:"beginRange"`
		PricePerUnit map[string]string `json:"pricePerUnit"`
	}
)

// parsePriceList reads one Price List product document. It fails when the
// document is not JSON; offers it cannot read (other currencies, convertible
// classes, legacy "Heavy Utilization" options, odd units or prices) are
// skipped, since AWS adds kinds of terms over time.
func parsePriceList(s string) (priceList, error) {
	var doc priceListDoc
	if err := json.Unmarshal([]byte(s), &doc); err != nil {
		return priceList{}, fmt.Errorf("reading a Price List product: %w", err)
	}
	var out priceList
	// Several on-demand terms are rare; keep the lowest positive hourly
	// price so that the result does not depend on map order.
	for _, t := range doc.Terms.OnDemand {
		if h, ok := t.hourly(); ok && h > 0 && (out.OnDemand == 0 || h < out.OnDemand) {
			out.OnDemand = h
		}
	}
	best := map[[2]string]reservedOffer{}
	for _, t := range doc.Terms.Reserved {
		o, ok := t.reserved()
		if !ok {
			continue
		}
		k := [2]string{strconv.Itoa(o.Term), string(o.Payment)}
		if b, seen := best[k]; !seen || o.Effective() < b.Effective() {
			best[k] = o
		}
	}
	for _, term := range []int{1, 3} {
		for _, p := range []Payment{NoUpfront, PartialUpfront, AllUpfront} {
			if o, ok := best[[2]string{strconv.Itoa(term), string(p)}]; ok {
				out.Reserved = append(out.Reserved, o)
			}
		}
	}
	return out, nil
}

// hourly is the term's first-tier price per hour.
func (t priceTerm) hourly() (float64, bool) {
	for _, d := range t.PriceDimensions {
		if isHours(d.Unit) && (d.BeginRange == "" || d.BeginRange == "0") {
			return d.usd()
		}
	}
	return 0, false
}

// reserved reads a standard reservation term: 1 or 3 years, No, Partial or
// All Upfront, an upfront fee (Quantity) and/or an hourly price.
func (t priceTerm) reserved() (reservedOffer, bool) {
	if c := strings.ToLower(t.TermAttributes["OfferingClass"]); c != "" && c != "standard" {
		return reservedOffer{}, false
	}
	var o reservedOffer
	switch strings.ReplaceAll(strings.ToLower(t.TermAttributes["LeaseContractLength"]), " ", "") {
	case "1yr", "1year":
		o.Term = 1
	case "3yr", "3year", "3years":
		o.Term = 3
	default:
		return reservedOffer{}, false
	}
	switch t.TermAttributes["PurchaseOption"] {
	case string(NoUpfront):
		o.Payment = NoUpfront
	case string(PartialUpfront):
		o.Payment = PartialUpfront
	case string(AllUpfront):
		o.Payment = AllUpfront
	default:
		return reservedOffer{}, false
	}
	seen := false
	for _, d := range t.PriceDimensions {
		v, ok := d.usd()
		if !ok {
			return reservedOffer{}, false
		}
		switch {
		case strings.EqualFold(d.Unit, "Quantity"):
			o.Upfront += v
		case isHours(d.Unit):
			o.Hourly += v
		default:
			continue
		}
		seen = true
	}
	if !seen || o.Effective() <= 0 {
		return reservedOffer{}, false
	}
	return o, true
}

func isHours(unit string) bool {
	u := strings.ToLower(unit)
	return u == "hrs" || u == "hours" || u == "hour"
}

// usd is the dimension's price in US dollars, if it is a finite,
// non-negative number.
func (d priceDimension) usd() (float64, bool) {
	s, ok := d.PricePerUnit["USD"]
	if !ok {
		return 0, false
	}
	v, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
		return 0, false
	}
	return v, true
}
