package billing_test

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/seatkeeper/seatkeeper/billing"
)

// TestAdvise_R14_HolidaySeason: a commitment of 100 with 150 used three
// months of the year. At 30 a seat and 45 over it, the holiday seats cost
// less uncommitted than committed all year: 100 stays the best.
func TestAdvise_R14_HolidaySeason(t *testing.T) {
	var months []billing.AdviceMonth
	for i := range 12 {
		u := 100
		if i >= 9 {
			u = 150
		}
		months = append(months, billing.AdviceMonth{Month: fmt.Sprintf("2025-%02d", i+1), Usage: u, Peak: u})
	}
	a := billing.Advise(months, 100, 3000, 4500, false, 0)
	if a.Advised != 100 || a.AdvisedCost != 12*100*3000+3*50*4500 || a.Saving != 0 {
		t.Errorf("advice %d at %d, saving %d", a.Advised, a.AdvisedCost, a.Saving)
	}
	// From 150 seats: the 50 above 100 are used three months of twelve,
	// fewer than 12 × 3000 / 4500 = 8, so they do not pay.
	a = billing.Advise(months, 150, 3000, 4500, false, 0)
	if a.Advised != 100 || a.Saving != 12*150*3000-(12*100*3000+3*50*4500) {
		t.Errorf("from 150: advice %d, saving %d", a.Advised, a.Saving)
	}
	if !strings.Contains(a.Explanation, "100 seats would have cost") {
		t.Errorf("explanation: %s", a.Explanation)
	}
}

// TestAdvise_PoolKeepsItsCap: a pool may not be advised below its raw peak
// less the allowance, however cheap overage is.
func TestAdvise_PoolKeepsItsCap(t *testing.T) {
	months := []billing.AdviceMonth{{Month: "2026-01", Usage: 90, Peak: 110}, {Month: "2026-02", Usage: 95, Peak: 100}}
	a := billing.Advise(months, 100, 1000, 1, true, 5)
	if a.MinimumSafe != 105 || a.Advised != 105 {
		t.Errorf("advice %d, minimum %d; want 105", a.Advised, a.MinimumSafe)
	}
	if a.Saving >= 0 || !strings.Contains(a.Explanation, "too small") {
		t.Errorf("today's 100 is below the minimum: saving %d, %s", a.Saving, a.Explanation)
	}
}

// TestAdvise_MatchesBruteForce: on random histories and prices the advice
// costs exactly the least over every allowed quantity, ties go to the
// quantity nearest today's, and the months add up.
func TestAdvise_MatchesBruteForce(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for range 3000 {
		n := 1 + r.IntN(14)
		months := make([]billing.AdviceMonth, n)
		top := 1 + r.IntN(60)
		for i := range months {
			u := r.IntN(top + 1)
			months[i] = billing.AdviceMonth{Month: fmt.Sprint(i), Usage: u, Peak: u + r.IntN(5)}
		}
		concurrent, allowance := r.IntN(2) == 0, r.IntN(4)
		unit, over := int64(r.IntN(50)), int64(r.IntN(80))
		current := r.IntN(top + 10)
		a := billing.Advise(months, current, unit, over, concurrent, allowance)

		cost := func(q int) (c int64) {
			for _, m := range months {
				c += int64(q)*unit + int64(max(0, m.Usage-q))*over
			}
			return c
		}
		lo := 0
		if concurrent {
			for _, m := range months {
				lo = max(lo, m.Peak-allowance)
			}
		}
		best := lo
		for q := lo; q <= top+20; q++ {
			dq, db := q-current, best-current
			if dq < 0 {
				dq = -dq
			}
			if db < 0 {
				db = -db
			}
			if cost(q) < cost(best) || cost(q) == cost(best) && (dq < db || dq == db && q < best) {
				best = q
			}
		}
		if a.Advised != best || a.AdvisedCost != cost(best) || a.CurrentCost != cost(current) || a.Saving != cost(current)-cost(best) {
			t.Fatalf("%+v current %d unit %d over %d concurrent %v allowance %d: advised %d at %d, want %d at %d",
				months, current, unit, over, concurrent, allowance, a.Advised, a.AdvisedCost, best, cost(best))
		}
		var sa, sc int64
		for _, m := range a.Months {
			sa, sc = sa+m.AtAdvised, sc+m.AtCurrent
		}
		if sa != a.AdvisedCost || sc != a.CurrentCost {
			t.Fatalf("months add up to %d and %d, want %d and %d", sa, sc, a.AdvisedCost, a.CurrentCost)
		}
	}
}
