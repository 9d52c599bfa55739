package billing

import (
	"fmt"
	"strings"
)

// AdviceMonth is one month of history for commitment advice.
type AdviceMonth struct {
	Month string `json:"month"`
	// Usage is what the month bills against the quantity: the sustained
	// peak of a concurrent pool (R7) or U of a commitment (R14).
	Usage int `json:"usage"`
	// Peak is the raw peak: for a pool, the most users signed in at once.
	Peak int `json:"peak"`
	// AtCurrent and AtAdvised are the month's cost at the current and at
	// the advised quantity.
	AtCurrent int64 `json:"cost_at_current"`
	AtAdvised int64 `json:"cost_at_advised"`
}

// Advice answers which constant quantity would have cost least over the
// months given, at the subscription's prices.
type Advice struct {
	// License, Model, Enforcement and Currency are the caller's to set.
	License     string `json:"license"`
	Model       string `json:"model"`
	Enforcement string `json:"enforcement"`
	Currency    string `json:"currency"`

	Current     int           `json:"current_quantity"`
	CurrentCost int64         `json:"current_cost"`
	Advised     int           `json:"advised_quantity"`
	AdvisedCost int64         `json:"advised_cost"`
	Saving      int64         `json:"saving"`
	Months      []AdviceMonth `json:"months"`
	Explanation string        `json:"explanation"`
	// MinimumSafe is the least quantity considered: for a pool, the raw
	// peak less the allowance; 0 for a commitment.
	MinimumSafe  int   `json:"minimum_quantity"`
	UnitPrice    int64 `json:"unit_price"`
	OveragePrice int64 `json:"overage_price"`
}

// Advise finds the quantity Q that minimises, over the months, the cost
// Σ Q × unit + max(0, usage − Q) × overage: for a commitment (R14) the
// committed and uncommitted seats, for a pool (R7) the seats and the
// billable overage (with a constant quantity the overage of a month is
// its sustained peak less Q). The cost is convex and piecewise linear in
// Q with its corners at the months' usages, so the least is at one of
// them or at the smallest quantity allowed; ties go to the quantity
// nearest the current one, then to the smaller. For a pool the quantity
// may not fall below the raw peak less the allowance: a smaller cap would
// have refused users who signed in. All arithmetic is in integer minor
// units: the costs are exact.
func Advise(months []AdviceMonth, current int, unit, overage int64, concurrent bool, allowance int) Advice {
	a := Advice{Current: current, UnitPrice: unit, OveragePrice: overage}
	cost := func(q int) int64 {
		var total int64
		for _, m := range months {
			total += monthCost(m.Usage, q, unit, overage)
		}
		return total
	}
	if concurrent {
		for _, m := range months {
			a.MinimumSafe = max(a.MinimumSafe, m.Peak-allowance)
		}
	}
	candidates := []int{a.MinimumSafe}
	for _, m := range months {
		if m.Usage > a.MinimumSafe {
			candidates = append(candidates, m.Usage)
		}
	}
	if current >= a.MinimumSafe {
		candidates = append(candidates, current)
	}
	a.Advised, a.AdvisedCost = candidates[0], cost(candidates[0])
	for _, q := range candidates[1:] {
		c := cost(q)
		if c < a.AdvisedCost || c == a.AdvisedCost && closer(q, a.Advised, current) {
			a.Advised, a.AdvisedCost = q, c
		}
	}
	a.CurrentCost = cost(current)
	a.Saving = a.CurrentCost - a.AdvisedCost
	a.Months = make([]AdviceMonth, len(months))
	for i, m := range months {
		m.AtCurrent, m.AtAdvised = monthCost(m.Usage, current, unit, overage), monthCost(m.Usage, a.Advised, unit, overage)
		a.Months[i] = m
	}
	a.Explanation = a.explain(concurrent, allowance)
	return a
}

func monthCost(usage, q int, unit, overage int64) int64 {
	return int64(q)*unit + int64(max(0, usage-q))*overage
}

// closer reports whether q is a better tie-break than best: nearer the
// current quantity, then smaller.
func closer(q, best, current int) bool {
	dq, db := abs(q-current), abs(best-current)
	return dq < db || dq == db && q < best
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}

func (a Advice) explain(concurrent bool, allowance int) string {
	var b strings.Builder
	what, over := "U (the most users holding the license at once, R14)", "uncommitted"
	if concurrent {
		what, over = "the sustained peak (R7: the users above the quantity for longer than the grace period)", "overage"
	}
	n := len(a.Months)
	fmt.Fprintf(&b, "Each month costs the quantity × %d, plus the seats of %s above the quantity × %d (%s). ", a.UnitPrice, what, a.OveragePrice, over)
	if a.OveragePrice > 0 {
		fmt.Fprintf(&b, "One more seat adds %d to every month and saves %d in each month that uses more than the quantity, so it pays while more than %d × %d / %d of the %d months use more. ",
			a.UnitPrice, a.OveragePrice, n, a.UnitPrice, a.OveragePrice, n)
	} else {
		b.WriteString("Seats above the quantity cost nothing, so the fewest seats allowed cost least. ")
	}
	fmt.Fprintf(&b, "Over these %d months, %d seats would have cost %d in all; today's %d seats cost %d", n, a.Advised, a.AdvisedCost, a.Current, a.CurrentCost)
	switch {
	case a.Saving > 0:
		fmt.Fprintf(&b, ": %d less at %d seats. ", a.Saving, a.Advised)
	case a.Saving < 0:
		fmt.Fprintf(&b, ", %d less than %d seats, but today's quantity is too small for the sign-ins of the history. ", -a.Saving, a.Advised)
	default:
		b.WriteString(": today's quantity is already the cheapest. ")
	}
	if concurrent {
		fmt.Fprintf(&b, "The quantity is kept at %d or more: with the allowance of %d, a smaller pool would have refused users who did sign in. Sign-ins that were refused are not in this history.", a.MinimumSafe, allowance)
	}
	return strings.TrimSpace(b.String())
}
