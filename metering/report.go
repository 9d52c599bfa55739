package metering

import (
	"math/bits"
	"slices"
	"sort"
	"time"
)

// Bucket is one row of the license usage report (SPEC §4.7, R17) for one
// interval. Quantity and Allowance are those in force at Start (0 outside
// the subscription's term, see ReportWithin). Peak is the
// largest C(t) in the bucket and Average its time-weighted mean. Sustained is
// the largest m(t) in the bucket, whose window looks back before the bucket,
// and OverQuantity the largest max(0, m(t) − Q(t)) (R7). SignIns counts the
// moments a user goes from no presence to at least one (R5), and Denied the
// refused sign-ins (R4), in the bucket.
type Bucket struct {
	Start                     time.Time
	Quantity, Allowance, Peak int
	Average                   float64
	Sustained, OverQuantity   int
	SignIns, Denied           int
}

// Report splits [from, to) into intervals of length interval (1m, 15m, 1h) or
// calendar days (interval == 24h means one local calendar day in loc, which
// is 23 or 25 hours on daylight-saving days), aligned to local midnight,
// hour and minute boundaries in loc, and computes one Bucket for each.
//
// The first bucket starts at from and the last ends at to, so when from or to
// is not on a boundary the first or last bucket is shorter than interval.
// Bucket starts are given in loc. Open intervals run to to. The window of
// m(t) looks back before the bucket, and before from, so intervals from the
// grace period before from should be included. A user whose presence began
// before from is not a sign-in of the report. Denied times outside
// [from, to) are ignored. A negative grace period is taken as 0. A nil loc
// means UTC; an empty period or an interval that is not positive gives no
// buckets. The caller bounds the number of buckets, about
// (to − from) / interval.
//
// The cost is that of sorting the interval ends plus a linear walk over the
// steps of C, m and Q and the buckets.
// The quantity and the overage allowance are given as their histories:
// each change holds from its instant, and the first also before it.
func Report(intervals []Interval, denied []time.Time, grace time.Duration, quantity, allowance []QuantityChange, from, to time.Time, interval time.Duration, loc *time.Location) []Bucket {
	return PresencesOf(intervals).Report(denied, grace, quantity, allowance, from, to, interval, loc)
}

// Report is the package's Report over the presences.
func (p *Presences) Report(denied []time.Time, grace time.Duration, quantity, allowance []QuantityChange, from, to time.Time, interval time.Duration, loc *time.Location) []Bucket {
	return p.ReportWithin(denied, grace, quantity, allowance, from, to, interval, loc, minTime, maxTime)
}

// ReportWithin is Report for a subscription whose term is [termFrom,
// termTo): Sustained and OverQuantity count the presences within it only,
// as billing does (PeaksSince); Peak, Average and SignIns count them all.
// Outside the term the quantity and the allowance are 0.
func (p *Presences) ReportWithin(denied []time.Time, grace time.Duration, quantity, allowance []QuantityChange, from, to time.Time, interval time.Duration, loc *time.Location, termFrom, termTo time.Time) []Bucket {
	lo, hi := instant(from), instant(to)
	if hi <= lo || interval <= 0 {
		return nil
	}
	if loc == nil {
		loc = time.UTC
	}
	g := duration(grace)
	occ := p.occupy(hi, lo-g, hi)
	tf, tt := instant(termFrom), instant(termTo)
	m := sustained(stepsUntil(stepsSince(occ.steps, tf), tt), g, lo, hi)
	q, a := inTerm(quantity, tf, tt), inTerm(allowance, tf, tt)

	refused := make([]int64, 0, len(denied))
	for _, d := range denied {
		if t := instant(d); lo <= t && t < hi {
			refused = append(refused, t)
		}
	}
	slices.Sort(refused)

	starts := bucketStarts(lo, hi, interval, loc)
	out := make([]Bucket, len(starts))
	cc, mc, qc, ac := cursorAt(occ.steps, 0, lo), cursorAt(m, 0, lo), cursorAt(q, 0, lo), cursorAt(a, 0, lo)
	signIns := occ.signIns[sort.Search(len(occ.signIns), func(i int) bool { return occ.signIns[i] >= lo }):]
	for b, start := range starts {
		end := hi
		if b+1 < len(starts) {
			end = starts[b+1]
		}
		bk := Bucket{Start: time.Unix(0, start).In(loc), Quantity: qc.seek(start), Allowance: ac.seek(start)}

		var a area
		t, v := start, cc.seek(start)
		bk.Peak = v
		for next := cc.next(); next < end; next = cc.next() {
			a.add(v, next-t)
			t, v = next, cc.seek(next)
			bk.Peak = max(bk.Peak, v)
		}
		a.add(v, end-t)
		bk.Average = a.mean(end - start)

		var excess int
		bk.Sustained, excess = sustainedIn(&mc, &qc, start, end)
		bk.OverQuantity = max(0, excess)

		bk.SignIns, signIns = countBefore(signIns, end)
		bk.Denied, refused = countBefore(refused, end)
		out[b] = bk
	}
	return out
}

// inTerm is the step function of a history of changes (the first change's
// value also holding before it) with the value 0 outside [from, to).
func inTerm(changes []QuantityChange, from, to int64) []step {
	q, q0 := quantities(changes)
	if len(q) > 0 && q[0].at > minInstant {
		q = append([]step{{minInstant, q0}}, q...)
	}
	return stepsUntil(stepsSince(q, from), to)
}

// countBefore counts the leading instants of sorted s that are before end
// and returns the rest.
func countBefore(s []int64, end int64) (int, []int64) {
	n := 0
	for n < len(s) && s[n] < end {
		n++
	}
	return n, s[n:]
}

// area is the integral of C over part of a bucket, in count × nanoseconds,
// kept in 128 bits: a day's bucket of a pool of a hundred thousand users
// would overflow 64.
type area struct{ hi, lo uint64 }

// add adds count n held for d nanoseconds.
func (a *area) add(n int, d int64) {
	h, l := bits.Mul64(uint64(n), uint64(d))
	var carry uint64
	a.lo, carry = bits.Add64(a.lo, l, 0)
	a.hi += h + carry
}

// mean is the area divided by a length of d nanoseconds.
func (a area) mean(d int64) float64 {
	return (float64(a.hi)*0x1p64 + float64(a.lo)) / float64(d)
}
