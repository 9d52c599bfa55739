package metering

import (
	"cmp"
	"slices"
	"time"
)

// QuantityChange says that from At on, the pool's quantity is Quantity.
// Before the first change the first change's quantity applies; with no
// changes at all the quantity is 0. Changes may be given in any order; of
// several at the same instant the last one given wins.
type QuantityChange struct {
	At       time.Time
	Quantity int
}

// Peaks are the R7 figures of one period: Raw is the largest C(t), Sustained
// the largest m(t), and Overage the billable overage, max(0, max of
// m(t) − Q(t)), all over t in the period.
type Peaks struct {
	Raw, Sustained, Overage int
}

// PeaksIn computes R7 over [from, to) from C(t) as Occupancy returns it:
// the raw peak, the sustained peak and the billable overage against the
// quantity in force at each instant. The window of m(t) for t near from
// looks back before from, so steps must cover the grace period before from
// for an excursion that crosses the start of the period to be counted where
// m(t) exceeds Q(t). Steps out of order are sorted first, and of several at
// one instant the last given wins. A negative grace period is taken as 0.
// An empty period gives zero Peaks.
//
// The work is linear in the number of steps (a sliding-window minimum over
// the step function, see sustained), whatever the period's length: time is
// never sampled.
func PeaksIn(steps []Step, grace time.Duration, quantity []QuantityChange, from, to time.Time) Peaks {
	return peaks(normalize(steps), duration(grace), quantity, instant(from), instant(to))
}

// Peaks is PeaksIn over the occupancy of the presences: R7 over [from, to)
// with the presences' own C(t).
func (p *Presences) Peaks(grace time.Duration, quantity []QuantityChange, from, to time.Time) Peaks {
	return p.PeaksSince(grace, quantity, minTime, from, to)
}

// PeaksSince is Peaks with no one counted before since: where a
// subscription's term begins, what came before is no usage of it, and the
// grace period's window reaches no further back (an excursion counts only
// once it has lasted the grace period within the term).
func (p *Presences) PeaksSince(grace time.Duration, quantity []QuantityChange, since, from, to time.Time) Peaks {
	lo, hi, g := instant(from), instant(to), duration(grace)
	if hi <= lo {
		return Peaks{}
	}
	return peaks(stepsSince(p.occupy(hi, lo-g, hi).steps, instant(since)), g, quantity, lo, hi)
}

// stepsUntil is C(t) with C = 0 from until on.
func stepsUntil(steps []step, until int64) []step {
	i, _ := slices.BinarySearchFunc(steps, until, func(s step, t int64) int { return cmp.Compare(s.at, t) })
	if i == len(steps) && (i == 0 || steps[i-1].n == 0) {
		return steps
	}
	out := steps[:i:i]
	if i > 0 && steps[i-1].n != 0 {
		out = append(out, step{until, 0})
	}
	return out
}

// stepsSince is C(t) with C = 0 before since: the steps from since on,
// the first of them the count at since.
func stepsSince(steps []step, since int64) []step {
	i, _ := slices.BinarySearchFunc(steps, since, func(s step, t int64) int { return cmp.Compare(s.at, t) })
	if i == 0 {
		return steps // nothing before since
	}
	at := steps[i-1].n // in force at since, unless a step is exactly there
	rest := steps[i:]
	if len(rest) > 0 && rest[0].at == since || at == 0 {
		return rest
	}
	return append([]step{{since, at}}, rest...)
}

func peaks(c []step, g int64, quantity []QuantityChange, lo, hi int64) Peaks {
	if hi <= lo {
		return Peaks{}
	}
	q, q0 := quantities(quantity)

	var p Peaks
	cc := cursorAt(c, 0, lo)
	p.Raw = cc.value()
	for t := cc.next(); t < hi; t = cc.next() {
		p.Raw = max(p.Raw, cc.seek(t))
	}

	m := sustained(c, g, lo, hi)
	mc, qc := cursorAt(m, 0, lo), cursorAt(q, q0, lo)
	var excess int
	p.Sustained, excess = sustainedIn(&mc, &qc, lo, hi)
	p.Overage = max(0, excess)
	return p
}

// sustainedIn returns the largest m(t) and the largest m(t) − Q(t) for t in
// [from, to), walking both step functions forward from from.
func sustainedIn(m, q *cursor, from, to int64) (peak, excess int) {
	peak = m.seek(from)
	excess = peak - q.seek(from)
	for t := min(m.next(), q.next()); t < to; t = min(m.next(), q.next()) {
		v := m.seek(t)
		peak, excess = max(peak, v), max(excess, v-q.seek(t))
	}
	return peak, excess
}

// normalize converts steps to nanoseconds, sorted by instant; of several
// steps at one instant the last given wins, and steps that do not change the
// count are dropped. Steps from Occupancy pass through unchanged.
func normalize(steps []Step) []step {
	c := make([]step, len(steps))
	for i, s := range steps {
		c[i] = step{instant(s.At), s.Count}
	}
	return compact(c)
}

// quantities converts quantity changes to a step function and the quantity
// before the first change.
func quantities(changes []QuantityChange) ([]step, int) {
	q := make([]step, len(changes))
	for i, ch := range changes {
		q[i] = step{instant(ch.At), ch.Quantity}
	}
	q = compact(q)
	if len(q) == 0 {
		return q, 0
	}
	return q, q[0].n // the first change's quantity also holds before it
}

// compact sorts s stably by instant, keeps the last step at each instant,
// and drops steps that repeat the value of the step before them.
func compact(s []step) []step {
	if !slices.IsSortedFunc(s, byInstant) {
		slices.SortStableFunc(s, byInstant)
	}
	out := s[:0]
	for i, st := range s {
		if i+1 < len(s) && s[i+1].at == st.at {
			continue
		}
		if len(out) > 0 && out[len(out)-1].n == st.n {
			continue
		}
		out = append(out, st)
	}
	return out
}

// byInstant orders steps by their instant.
func byInstant(a, b step) int { return cmp.Compare(a.at, b.at) }
