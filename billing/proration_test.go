package billing_test

import (
	"math/big"
	"math/rand"
	"testing"
	"time"

	"github.com/seatkeeper/seatkeeper/billing"
)

// exact is quantity × price × days / monthDays as a rational.
func exact(q int, p int64, days, monthDays int) *big.Rat {
	r := new(big.Rat).SetInt64(int64(q))
	r.Mul(r, new(big.Rat).SetInt64(p))
	r.Mul(r, big.NewRat(int64(days), int64(monthDays)))
	return r
}

// within reports whether |amount − want| ≤ tol.
func within(amount int64, want *big.Rat, tol *big.Rat) bool {
	d := new(big.Rat).Sub(new(big.Rat).SetInt64(amount), want)
	return d.Abs(d).Cmp(tol) <= 0
}

func seed(t *testing.T) *rand.Rand {
	s := time.Now().UnixNano()
	t.Logf("seed %d", s)
	return rand.New(rand.NewSource(s))
}

// TestProrate_WholeMonth: a whole month prorated is the full price.
func TestProrate_WholeMonth(t *testing.T) {
	r := seed(t)
	for i := 0; i < 500; i++ {
		q, p, n := r.Intn(10000), r.Int63n(1_000_000), 28+r.Intn(4)
		if got := billing.Prorate(q, p, n, n); got != int64(q)*p {
			t.Fatalf("Prorate(%d, %d, %d, %d) = %d, want %d", q, p, n, n, got, int64(q)*p)
		}
	}
}

// TestProrate_HalfEven: exact halves round to the even neighbour.
func TestProrate_HalfEven(t *testing.T) {
	for _, tc := range []struct {
		q           int
		p           int64
		days, month int
		want        int64
	}{
		{1, 1, 15, 30, 0},   // 0.5
		{3, 1, 15, 30, 2},   // 1.5
		{5, 1, 15, 30, 2},   // 2.5
		{7, 1, 15, 30, 4},   // 3.5
		{1, 5, 14, 28, 2},   // 2.5
		{1, 7, 14, 28, 4},   // 3.5
		{1, 1, 1, 2, 0},     // 0.5
		{9, 1, 31, 62, 4},   // 4.5
		{11, 1, 31, 62, 6},  // 5.5
		{1, 3, 10, 30, 1},   // 1 exactly
		{1, 1, 16, 30, 1},   // 0.533…
		{1, 1, 14, 30, 0},   // 0.466…
		{-3, 1, 15, 30, -2}, // −1.5
		{-5, 1, 15, 30, -2}, // −2.5
	} {
		if got := billing.Prorate(tc.q, tc.p, tc.days, tc.month); got != tc.want {
			t.Errorf("Prorate(%d, %d, %d, %d) = %d, want %d", tc.q, tc.p, tc.days, tc.month, got, tc.want)
		}
	}
}

// TestProrate_HalfEvenProperty: for random cases, the result is within half a
// minor unit of the exact value, and on exact halves it is even.
func TestProrate_HalfEvenProperty(t *testing.T) {
	r := seed(t)
	half := big.NewRat(1, 2)
	for i := 0; i < 1000; i++ {
		n := 28 + r.Intn(4)
		q, p, d := r.Intn(1000), r.Int63n(100000), r.Intn(n+1)
		if i%2 == 0 { // force an exact half: q × p × d / n = k + 1/2
			n = 2 * (14 + r.Intn(2)) // 28 or 30
			d, p = n/2, 1
			q = 2*r.Intn(500) + 1
		}
		got := billing.Prorate(q, p, d, n)
		want := exact(q, p, d, n)
		if !within(got, want, half) {
			t.Fatalf("Prorate(%d, %d, %d, %d) = %d, exact %s", q, p, d, n, got, want.RatString())
		}
		twice := new(big.Rat).Mul(want, big.NewRat(2, 1))
		if twice.IsInt() && !want.IsInt() && got%2 != 0 {
			t.Fatalf("Prorate(%d, %d, %d, %d) = %d: an exact half must round to even", q, p, d, n, got)
		}
	}
}

// TestStatements_HalfEvenSplit: a 30-day month split in two halves of 15 days
// rounds each exact half to even (April: 1 seat → 0.5 → 0, 3 seats → 1.5 → 2).
func TestStatements_HalfEvenSplit(t *testing.T) {
	plan := billing.Plan{
		License: "qm", Currency: "USD", BillingPeriod: "monthly", UnitPrice: 1, StartsAt: day(2025, 4, 1),
		Quantity: []billing.QuantityChange{{At: day(2025, 4, 1), Quantity: 1}, {At: day(2025, 4, 16), Quantity: 3}},
	}
	sts := billing.Statements("acme", time.UTC, []billing.Plan{plan}, nil, day(2025, 4, 1), day(2025, 5, 1))
	if len(sts) != 1 || len(sts[0].Lines) != 2 {
		t.Fatalf("statements %+v", sts)
	}
	l := sts[0].Lines
	if l[0].Kind != billing.KindProration || l[0].Quantity != 1 || l[0].Amount != 0 ||
		l[1].Kind != billing.KindProration || l[1].Quantity != 3 || l[1].Amount != 2 || sts[0].Total != 2 {
		t.Errorf("lines %+v total %d, want 1 seat → 0 and 3 seats → 2", l, sts[0].Total)
	}
}

// TestStatements_ProrationProperty: random monthly plans with a quantity
// change inside a month: an untouched month bills the full price, the split
// month's lines are each within half a minor unit of their exact values and
// together within one minor unit per line of the exact amount, and every
// statement's total is the sum of its lines.
func TestStatements_ProrationProperty(t *testing.T) {
	r := seed(t)
	half := big.NewRat(1, 2)
	for i := 0; i < 300; i++ {
		start := day(2020+r.Intn(8), time.Month(1+r.Intn(12)), 1+r.Intn(31)) // may normalise into the next month
		q1, q2 := 1+r.Intn(500), 1+r.Intn(500)
		for q2 == q1 {
			q2 = 1 + r.Intn(500)
		}
		p := 1 + r.Int63n(50000)
		// The second service month starts one month after the anchor (clamped).
		y, m, d := start.Date()
		ms := clampDate(y, m+1, d)
		me := clampDate(y, m+2, d)
		monthDays := int(me.Sub(ms).Hours() / 24)
		split := 1 + r.Intn(monthDays-1) // days at q1
		at := ms.AddDate(0, 0, split).Add(time.Duration(r.Int63n(int64(24 * time.Hour))))
		plan := billing.Plan{
			License: "qm", Currency: "USD", BillingPeriod: "monthly", UnitPrice: p, StartsAt: start,
			Quantity: []billing.QuantityChange{{At: start, Quantity: q1}, {At: at, Quantity: q2}},
		}
		sts := billing.Statements("acme", time.UTC, []billing.Plan{plan}, nil, start, me.AddDate(0, 1, 0))
		if len(sts) < 3 {
			t.Fatalf("case %d (%v): %d statements", i, start, len(sts))
		}
		for _, st := range sts {
			checkTotal(t, st)
		}
		if l := sts[0].Lines; len(l) != 1 || l[0].Kind != billing.KindRecurring || l[0].Amount != int64(q1)*p {
			t.Fatalf("case %d: first month %+v, want whole %d × %d", i, l, q1, p)
		}
		if !sts[1].PeriodStart.Equal(ms) {
			t.Fatalf("case %d: second period starts %v, want %v", i, sts[1].PeriodStart, ms)
		}
		l := sts[1].Lines
		if len(l) != 2 || l[0].Kind != billing.KindProration || l[1].Kind != billing.KindProration ||
			l[0].Quantity != q1 || l[1].Quantity != q2 {
			t.Fatalf("case %d: split month lines %+v", i, l)
		}
		e1, e2 := exact(q1, p, split, monthDays), exact(q2, p, monthDays-split, monthDays)
		if !within(l[0].Amount, e1, half) || !within(l[1].Amount, e2, half) {
			t.Fatalf("case %d: lines %d, %d; exact %s, %s", i, l[0].Amount, l[1].Amount, e1.RatString(), e2.RatString())
		}
		sum := new(big.Rat).Add(e1, e2)
		if !within(l[0].Amount+l[1].Amount, sum, big.NewRat(2, 1)) {
			t.Fatalf("case %d: lines sum %d, exact %s", i, l[0].Amount+l[1].Amount, sum.RatString())
		}
		if l2 := sts[2].Lines; len(l2) != 1 || l2[0].Kind != billing.KindRecurring || l2[0].Amount != int64(q2)*p {
			t.Fatalf("case %d: month after the change %+v, want whole %d × %d", i, l2, q2, p)
		}
	}
}

func clampDate(y int, m time.Month, d int) time.Time {
	first := time.Date(y, m, 1, 0, 0, 0, 0, time.UTC)
	last := first.AddDate(0, 1, -1).Day()
	return first.AddDate(0, 0, min(d, last)-1)
}
