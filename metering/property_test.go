package metering_test

import (
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/seatkeeper/seatkeeper/metering"
)

// The brute-force model: every time is on a one-minute grid from origin, so
// C(t), m(t) and Q(t) are constant over each minute and a minute is sampled
// at its start. C counts users by looking at each minute; m scans its window
// directly. It shares no code with the package.

// origin is minute 0 of the model: a Monday, midnight UTC.
var origin = time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC)

const (
	spanMinutes = 3 * 24 * 60       // presences start within three days
	endMinutes  = spanMinutes + 720 // and end before this
)

// minute is the time of model minute k.
func minute(k int) time.Time { return origin.Add(time.Duration(k) * time.Minute) }

// scenario is one random pool history.
type scenario struct {
	intervals []metering.Interval
	quantity  []metering.QuantityChange
	grace     int // minutes
}

// randomScenario draws 1–30 users with up to 80 presences that overlap at
// random, some open and some empty, a grace period of 0–90 minutes and 0–3
// quantity changes (sometimes two at one instant).
func randomScenario(r *rand.Rand) scenario {
	var s scenario
	users := 1 + r.IntN(30)
	for range 1 + r.IntN(80) {
		start := r.IntN(spanMinutes)
		iv := metering.Interval{User: fmt.Sprintf("u%d", r.IntN(users)), Start: minute(start)}
		if n := len(s.intervals); n > 0 && r.IntN(5) == 0 {
			// A presence that touches an earlier one of the same user.
			prev := s.intervals[r.IntN(n)]
			if end := int(prev.End.Sub(origin) / time.Minute); !prev.End.IsZero() && end < spanMinutes {
				start, iv = end, metering.Interval{User: prev.User, Start: prev.End}
			}
		}
		switch p := r.IntN(20); {
		case p == 0: // open
		case p == 1: // empty
			iv.End = iv.Start
		default:
			iv.End = minute(start + 1 + r.IntN(min(600, endMinutes-start-1)))
		}
		s.intervals = append(s.intervals, iv)
	}
	s.grace = r.IntN(91)
	s.quantity = randomHistory(r)
	return s
}

// randomHistory is up to three random changes of a quantity (sometimes two
// at one instant).
func randomHistory(r *rand.Rand) []metering.QuantityChange {
	var h []metering.QuantityChange
	for range r.IntN(4) {
		at := r.IntN(endMinutes)
		if len(h) > 0 && r.IntN(4) == 0 {
			at = int(h[0].At.Sub(origin) / time.Minute)
		}
		h = append(h, metering.QuantityChange{At: minute(at), Quantity: r.IntN(20)})
	}
	return h
}

// historyAt is the value of a history of changes at model minute k: the
// last change at or before it, else the first change (the last of those at
// its instant), else 0.
func historyAt(h []metering.QuantityChange, k int) int {
	last, first := -1, -1
	for i, ch := range h {
		if !ch.At.After(minute(k)) {
			if last < 0 || !ch.At.Before(h[last].At) {
				last = i
			}
		}
		if first < 0 || ch.At.Before(h[first].At) || ch.At.Equal(h[first].At) {
			first = i
		}
	}
	switch {
	case last >= 0:
		return h[last].Quantity
	case first >= 0:
		return h[first].Quantity
	}
	return 0
}

// model is the brute-force evaluation of a scenario with open presences
// ending at horizon (a model minute).
type model struct {
	present map[string][]bool // per user and minute
	c, m, q []int             // per minute, for minutes [−offset, endMinutes)
}

// offset is how many minutes before origin the model keeps (C is 0 there).
const offset = 200

func newModel(s scenario, horizon int) *model {
	md := &model{present: map[string][]bool{}}
	for _, iv := range s.intervals {
		if md.present[iv.User] == nil {
			md.present[iv.User] = make([]bool, endMinutes+offset)
		}
		start, end := int(iv.Start.Sub(origin)/time.Minute), horizon
		if !iv.End.IsZero() {
			end = int(iv.End.Sub(origin) / time.Minute)
		}
		for k := start; k < end; k++ {
			md.present[iv.User][k+offset] = true
		}
	}
	md.c = make([]int, endMinutes+offset)
	for _, p := range md.present {
		for k, in := range p {
			if in {
				md.c[k]++
			}
		}
	}
	md.m = make([]int, len(md.c))
	for k := range md.m {
		md.m[k] = math.MaxInt
		for j := max(0, k-s.grace); j <= k; j++ {
			md.m[k] = min(md.m[k], md.c[j])
		}
	}
	md.q = make([]int, len(md.c))
	for k := range md.q {
		md.q[k] = historyAt(s.quantity, k-offset)
	}
	return md
}

// peaks is R7 over model minutes [from, to).
func (md *model) peaks(from, to int) metering.Peaks {
	var p metering.Peaks
	for k := from + offset; k < to+offset; k++ {
		p.Raw = max(p.Raw, md.c[k])
		p.Sustained = max(p.Sustained, md.m[k])
		p.Overage = max(p.Overage, md.m[k]-md.q[k])
	}
	return p
}

// signIns counts users going from no presence to some over model minutes
// [from, to).
func (md *model) signIns(from, to int) int {
	n := 0
	for _, p := range md.present {
		for k := from + offset; k < to+offset; k++ {
			if p[k] && (k == 0 || !p[k-1]) {
				n++
			}
		}
	}
	return n
}

// seed replays a failed run: go test ./metering -args -seed=N.
var seed = flag.Uint64("seed", 0, "seed for the property tests (0: random)")

// newRand returns a generator with a logged seed, so that a failure can be
// replayed with -seed.
func newRand(t *testing.T) *rand.Rand {
	seed := *seed
	if seed == 0 {
		seed = rand.Uint64()
	}
	t.Logf("seed %d", seed)
	return rand.New(rand.NewPCG(seed, seed^0x5eed))
}

// TestOccupancy_R5_Property compares C(t) from Occupancy with the model at
// every minute, and checks the shape Occupancy promises.
func TestOccupancy_R5_Property(t *testing.T) {
	r := newRand(t)
	for iter := range 300 {
		s := randomScenario(r)
		steps := metering.Occupancy(s.intervals, minute(spanMinutes))
		md := newModel(s, spanMinutes)
		for i, st := range steps {
			if i > 0 && (!st.At.After(steps[i-1].At) || st.Count == steps[i-1].Count) {
				t.Fatalf("iteration %d: steps %d and %d are out of order or repeat a count: %v", iter, i-1, i, steps)
			}
		}
		if len(steps) > 0 && steps[0].Count == 0 {
			t.Fatalf("iteration %d: a first step of 0 repeats the 0 before it", iter)
		}
		i := -1
		for k := -offset; k < endMinutes; k++ {
			for i+1 < len(steps) && !steps[i+1].At.After(minute(k)) {
				i++
			}
			got := 0
			if i >= 0 {
				got = steps[i].Count
			}
			if want := md.c[k+offset]; got != want {
				t.Fatalf("iteration %d: C at minute %d: got %d, want %d", iter, k, got, want)
			}
		}
	}
}

// TestPeaksIn_R7_Property compares PeaksIn with the model over random
// periods, including periods that start before the first presence and end
// after the last.
func TestPeaksIn_R7_Property(t *testing.T) {
	r := newRand(t)
	for iter := range 400 {
		s := randomScenario(r)
		steps := metering.Occupancy(s.intervals, minute(spanMinutes))
		md := newModel(s, spanMinutes)
		for range 10 {
			from := -100 + r.IntN(endMinutes+100)
			to := from + 1 + r.IntN(endMinutes-from)
			if r.IntN(3) == 0 { // short periods find boundary effects
				to = from + 1 + r.IntN(min(120, endMinutes-from))
			}
			got := metering.PeaksIn(steps, time.Duration(s.grace)*time.Minute, s.quantity, minute(from), minute(to))
			if want := md.peaks(from, to); got != want {
				t.Fatalf("iteration %d, grace %dm, quantity %v, [%d, %d): got %+v, want %+v",
					iter, s.grace, s.quantity, from, to, got, want)
			}
		}
	}
}

// TestReport_R17_Property compares every bucket of Report with the model:
// random periods, intervals (1m, 15m, 1h, 1 day) and zones with whole-hour,
// half-hour and quarter-hour offsets (R17, with R5 and R7 in the columns).
func TestReport_R17_Property(t *testing.T) {
	r := newRand(t)
	zones := []*time.Location{time.UTC, time.FixedZone("IST", 5*3600+1800), time.FixedZone("-0345", -(3*3600 + 45*60))}
	intervals := []int{1, 15, 60, 1440} // minutes
	for iter := range 300 {
		s := randomScenario(r)
		from := r.IntN(endMinutes - 1)
		if iv := s.intervals[r.IntN(len(s.intervals))]; r.IntN(3) == 0 && !iv.End.IsZero() {
			from = int(iv.End.Sub(origin) / time.Minute) // where a touching presence may begin
		}
		to := from + 1 + r.IntN(endMinutes-from)
		every := intervals[r.IntN(len(intervals))]
		if every == 1 {
			to = min(to, from+600)
		}
		loc := zones[r.IntN(len(zones))]
		var denied []time.Time
		for range r.IntN(30) {
			d := origin.Add(time.Duration(r.Int64N(int64(endMinutes+120)*int64(time.Minute))) - time.Hour)
			if r.IntN(2) == 0 { // on a bucket's first or last instant
				d = d.Truncate(time.Minute).Add(-time.Duration(r.IntN(2)))
			}
			denied = append(denied, d)
		}
		allowance := randomHistory(r)

		got := metering.Report(s.intervals, denied, time.Duration(s.grace)*time.Minute, s.quantity, allowance,
			minute(from), minute(to), time.Duration(every)*time.Minute, loc)

		md := newModel(s, to) // open presences run to the end of the report
		_, off := minute(0).In(loc).Zone()
		var starts []int
		for k := from; k < to; k++ {
			if k == from || (k+off/60)%every == 0 {
				starts = append(starts, k)
			}
		}
		if len(got) != len(starts) {
			t.Fatalf("iteration %d, [%d, %d) every %dm in %s: got %d buckets, want %d", iter, from, to, every, loc, len(got), len(starts))
		}
		for b, start := range starts {
			end := to
			if b+1 < len(starts) {
				end = starts[b+1]
			}
			want := metering.Bucket{Start: minute(start), Quantity: md.q[start+offset], Allowance: historyAt(allowance, start)}
			sum := 0
			for k := start; k < end; k++ {
				c, m := md.c[k+offset], md.m[k+offset]
				want.Peak = max(want.Peak, c)
				want.Sustained = max(want.Sustained, m)
				want.OverQuantity = max(want.OverQuantity, m-md.q[k+offset])
				sum += c
			}
			want.Average = float64(sum) / float64(end-start)
			want.SignIns = md.signIns(start, end)
			for _, d := range denied {
				if !d.Before(minute(start)) && d.Before(minute(end)) {
					want.Denied++
				}
			}
			g := got[b]
			if !g.Start.Equal(want.Start) || g.Start.Location() != loc || g.Quantity != want.Quantity || g.Allowance != want.Allowance ||
				g.Peak != want.Peak || g.Sustained != want.Sustained || g.OverQuantity != want.OverQuantity ||
				g.SignIns != want.SignIns || g.Denied != want.Denied || math.Abs(g.Average-want.Average) > 1e-9 {
				t.Fatalf("iteration %d, [%d, %d) every %dm in %s, grace %dm, bucket %d:\n got %+v\nwant %+v",
					iter, from, to, every, loc, s.grace, b, g, want)
			}
		}
	}
}

// TestPeaksIn_R7_StepsInAnyOrder: PeaksIn accepts steps that are not in
// order, and of two steps at one instant takes the last.
func TestPeaksIn_R7_StepsInAnyOrder(t *testing.T) {
	steps := []metering.Step{{at(60), 0}, {at(0), 3}, {at(10), 9}, {at(10), 5}}
	slices.Reverse(steps[:2])
	got := metering.PeaksIn(steps, 0, nil, at(-10), at(100))
	if want := (metering.Peaks{Raw: 5, Sustained: 5, Overage: 5}); got != want {
		t.Errorf("got %+v, want %+v", got, want)
	}
}

// TestPresencesPeaks_Property: Presences.Peaks, which the store uses for a
// month of a large pool, gives what PeaksIn gives over Occupancy with open
// presences running to the end of the period, on random periods.
func TestPresencesPeaks_Property(t *testing.T) {
	r := newRand(t)
	for iter := range 300 {
		s := randomScenario(r)
		var p metering.Presences
		users := map[string]int64{}
		for _, iv := range s.intervals {
			if _, ok := users[iv.User]; !ok {
				users[iv.User] = int64(1000 + r.IntN(1<<20)*64 + len(users)) // any numbering
			}
			p.Add(users[iv.User], iv.Start, iv.End)
		}
		if p.Len() != len(s.intervals) {
			t.Fatalf("Len %d, want %d", p.Len(), len(s.intervals))
		}
		grace := time.Duration(s.grace) * time.Minute
		for range 10 {
			from := -100 + r.IntN(endMinutes+100)
			to := from + 1 + r.IntN(endMinutes-from)
			want := metering.PeaksIn(metering.Occupancy(s.intervals, minute(to)), grace, s.quantity, minute(from), minute(to))
			if got := p.Peaks(grace, s.quantity, minute(from), minute(to)); got != want {
				t.Fatalf("iteration %d, [%d, %d): got %+v, want %+v", iter, from, to, got, want)
			}
			// No one counted before since: as if every presence began
			// no earlier (a subscription's term, SPEC §4.6).
			since := minute(-50 + r.IntN(endMinutes+100))
			var clipped []metering.Interval
			for _, iv := range s.intervals {
				if iv.Start.Before(since) {
					iv.Start = since
				}
				if iv.End.IsZero() || iv.End.After(iv.Start) {
					clipped = append(clipped, iv)
				}
			}
			want = metering.PeaksIn(metering.Occupancy(clipped, minute(to)), grace, s.quantity, minute(from), minute(to))
			if got := p.PeaksSince(grace, s.quantity, since, minute(from), minute(to)); got != want {
				t.Fatalf("iteration %d, [%d, %d) since %v: got %+v, want %+v", iter, from, to, since, got, want)
			}
		}
	}
}

// TestReportWithin_R7_Property: the report within a term counts the
// sustained number and what goes over the quantity as the report of the
// presences clipped to the term does, and peaks and averages as the whole
// report does (SPEC §4.7 with §4.6's term).
func TestReportWithin_R7_Property(t *testing.T) {
	r := newRand(t)
	for iter := range 200 {
		s := randomScenario(r)
		grace := time.Duration(s.grace) * time.Minute
		from := r.IntN(endMinutes - 1)
		to := from + 1 + r.IntN(min(endMinutes-from, 2000))
		termFrom := minute(-50 + r.IntN(endMinutes+100))
		termTo := termFrom.Add(time.Duration(1+r.IntN(endMinutes)) * time.Minute)
		var clipped []metering.Interval
		for _, iv := range s.intervals {
			if iv.Start.Before(termFrom) {
				iv.Start = termFrom
			}
			if iv.End.IsZero() || iv.End.After(termTo) {
				iv.End = termTo
			}
			if iv.End.After(iv.Start) {
				clipped = append(clipped, iv)
			}
		}
		allowance := randomHistory(r)
		whole := metering.Report(s.intervals, nil, grace, s.quantity, allowance, minute(from), minute(to), 15*time.Minute, time.UTC)
		within := metering.Report(clipped, nil, grace, s.quantity, allowance, minute(from), minute(to), 15*time.Minute, time.UTC)
		got := metering.PresencesOf(s.intervals).ReportWithin(nil, grace, s.quantity, allowance, minute(from), minute(to), 15*time.Minute, time.UTC, termFrom, termTo)
		if len(got) != len(whole) {
			t.Fatalf("iteration %d: %d buckets, want %d", iter, len(got), len(whole))
		}
		for i := range got {
			// The quantity and allowance at the bucket's start: 0 outside the term.
			q, a := whole[i].Quantity, whole[i].Allowance
			if whole[i].Start.Before(termFrom) || !whole[i].Start.Before(termTo) {
				q, a = 0, 0
			}
			if got[i].Peak != whole[i].Peak || got[i].Average != whole[i].Average ||
				got[i].Sustained != within[i].Sustained || got[i].OverQuantity != within[i].OverQuantity ||
				got[i].Quantity != q || got[i].Allowance != a {
				t.Fatalf("iteration %d, bucket %d: got %+v; want peak and average of %+v, sustained and over of %+v, quantity %d and allowance %d",
					iter, i, got[i], whole[i], within[i], q, a)
			}
		}
	}
}
