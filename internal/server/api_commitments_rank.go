package server

import (
	"net/url"
	"strconv"

	"github.com/crossbill/crossbill"
	"github.com/crossbill/crossbill/internal/commitments"
)

// rankOptions reads the recommendation's ranking parameters, the CLI's
// --rank, --max-break-even and --allow-loss: rank (risk or optimum),
// max_break_even_months (0: no limit; default 12) and allow_loss.
func rankOptions(q url.Values, o *commitments.Options) error {
	o.Rank = q.Get("rank")
	if v := q.Get("max_break_even_months"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n > 36 {
			return crossbill.Errorf(crossbill.CodeInvalid, "commitments", "max_break_even_months %q: use 0 (no limit) to 36", v)
		}
		o.MaxBreakEven = n
		if n == 0 {
			o.MaxBreakEven = -1
		}
	}
	if v := q.Get("allow_loss"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return crossbill.Errorf(crossbill.CodeInvalid, "commitments", "allow_loss %q: use true or false", v)
		}
		o.AllowLoss = b
	}
	return nil
}
