package policy

import (
	"strconv"
	"strings"

	"github.com/crossbill/crossbill/internal/wildcard"
)

// negated reports whether the operator is true when the request value is
// not among the condition's values (StringNotEquals, NotIpAddress, ...).
// Negated reports whether the operator matches when the value differs
// (StringNotEquals, ArnNotLike...), so that it excludes rather than names.
func (o Operator) Negated() bool { return o.negated() }

func (o Operator) negated() bool {
	switch o {
	case StringNotEquals, StringNotEqualsIgnoreCase, StringNotLike, NumericNotEquals, DateNotEquals, NotIPAddress, ArnNotEquals, ArnNotLike:
		return true
	}
	return false
}

// evalConditions ANDs a statement's conditions.
func evalConditions(conds []Condition, version string, ctx *context) tri {
	r := yes
	for _, c := range conds {
		if r = and(r, evalCondition(c, version, ctx)); r == no {
			return no
		}
	}
	return r
}

// evalCondition follows AWS's documented semantics:
//   - a key absent from the request makes a condition false, except that
//     negated operators are then true, ...IfExists is true, and
//     ForAllValues is true (the empty set: a well-known pitfall);
//   - ForAnyValue: some request value passes; ForAllValues: every one does;
//   - a key the caller did not put in the context is unknown: maybe.
func evalCondition(c Condition, version string, ctx *context) tri {
	vals, known := ctx.lookup(c.Key)
	if !known {
		// Record the policy variables in the values too: the caller
		// needs them all to decide.
		for _, v := range c.Values {
			resolve(v, version, ctx)
		}
		return maybe
	}
	if c.Base == Null {
		want := strings.EqualFold(c.Values[0], "true") // "true": the key must be absent
		if (len(vals) == 0) == want {
			return yes
		}
		return no
	}
	if len(vals) == 0 {
		switch {
		case c.IfExists, c.Set == ForAllValues:
			return yes
		case c.Set == ForAnyValue:
			return no
		case c.Base.negated():
			return yes
		}
		return no
	}
	// test is the condition on one request value.
	test := func(v string) tri {
		m := matchValues(c.Base, v, c.Values, version, ctx)
		if c.Base.negated() {
			return m.not()
		}
		return m
	}
	switch c.Set {
	case ForAllValues:
		r := yes
		for _, v := range vals {
			r = and(r, test(v))
		}
		return r
	case ForAnyValue:
		r := no
		for _, v := range vals {
			r = or(r, test(v))
		}
		return r
	}
	// A single-valued operator given several values: true if any value
	// matches (negated: if none does).
	m := no
	for _, v := range vals {
		m = or(m, matchValues(c.Base, v, c.Values, version, ctx))
	}
	if c.Base.negated() {
		return m.not()
	}
	return m
}

// matchValues reports whether request value v matches any of the
// condition's values under the positive form of op.
func matchValues(op Operator, v string, policyVals []string, version string, ctx *context) tri {
	r := no
	for _, pv := range policyVals {
		r = or(r, matchValue(op, v, pv, version, ctx))
		if r == yes {
			return yes
		}
	}
	return r
}

func matchValue(op Operator, v, pv, version string, ctx *context) tri {
	pv, unresolved, known := resolve(pv, version, ctx)
	if !known {
		return no
	}
	var m bool
	switch op {
	case StringEquals, StringNotEquals:
		if unresolved {
			// A placeholder stands for a value we do not know.
			return maybeIf(wildcard.Match(pv, v, false))
		}
		m = v == pv
	case StringEqualsIgnoreCase, StringNotEqualsIgnoreCase:
		if unresolved {
			return maybeIf(wildcard.Match(pv, v, true))
		}
		m = strings.EqualFold(v, pv)
	case StringLike, StringNotLike:
		m = wildcard.Match(pv, v, false)
	case ArnEquals, ArnNotEquals, ArnLike, ArnNotLike:
		m = matchARN(pv, v)
	case NumericEquals, NumericNotEquals, NumericLessThan, NumericLessThanEquals, NumericGreaterThan, NumericGreaterThanEquals:
		if unresolved {
			return maybe
		}
		a, err1 := strconv.ParseFloat(v, 64)
		b, err2 := strconv.ParseFloat(pv, 64)
		if err1 != nil || err2 != nil {
			return no
		}
		m = compare(op, cmpFloat(a, b))
	case DateEquals, DateNotEquals, DateLessThan, DateLessThanEquals, DateGreaterThan, DateGreaterThanEquals:
		if unresolved {
			return maybe
		}
		a, ok1 := parseDate(v)
		b, ok2 := parseDate(pv)
		if !ok1 || !ok2 {
			return no
		}
		m = compare(op, a.Compare(b))
	case Bool:
		if unresolved {
			return maybe
		}
		m = strings.EqualFold(v, pv)
	case BinaryEquals:
		if unresolved {
			return maybe
		}
		m = v == pv
	case IPAddress, NotIPAddress:
		if unresolved {
			return maybe
		}
		prefix, ok1 := parseCIDR(pv)
		addr, ok2 := parseCIDR(v)
		m = ok1 && ok2 && prefix.Contains(addr.Addr())
	}
	if !m {
		return no
	}
	if unresolved {
		return maybe
	}
	return yes
}

func maybeIf(b bool) tri {
	if b {
		return maybe
	}
	return no
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// compare maps a comparison result to the operator's outcome; the
// negated Equals forms compare as Equals (evalCondition negates).
func compare(op Operator, c int) bool {
	switch op {
	case NumericEquals, NumericNotEquals, DateEquals, DateNotEquals:
		return c == 0
	case NumericLessThan, DateLessThan:
		return c < 0
	case NumericLessThanEquals, DateLessThanEquals:
		return c <= 0
	case NumericGreaterThan, DateGreaterThan:
		return c > 0
	case NumericGreaterThanEquals, DateGreaterThanEquals:
		return c >= 0
	}
	return false
}
