package metering

import (
	"cmp"
	"slices"
	"time"
)

// Interval is one user's presence [Start, End); a zero End means still open
// (it runs to the end of whatever period is asked). An interval whose End is
// not after its Start is empty and counts for nothing.
type Interval struct {
	User       string
	Start, End time.Time
}

// Step says C(t) = Count for t in [At, next step's At).
type Step struct {
	At    time.Time
	Count int
}

// step is a Step with its instant in nanoseconds since the Unix epoch; the
// algorithms work on these to avoid time.Time comparisons in their loops.
type step struct {
	at int64
	n  int
}

// Occupancy turns presence intervals into the step function C(t): distinct
// users, merging a user's overlapping or touching intervals (R5), so that a
// user with several presences counts once; steps sorted, no two consecutive
// with the same Count; C is 0 before the first step. Open intervals run to
// horizon. The returned times are in UTC.
func Occupancy(intervals []Interval, horizon time.Time) []Step {
	occ := occupy(intervals, instant(horizon), minInstant, maxInstant)
	out := make([]Step, len(occ.steps))
	for i, s := range occ.steps {
		out[i] = Step{At: toTime(s.at), Count: s.n}
	}
	return out
}

// occupancy is C(t) with the instants at which users sign in: the starts of
// each user's merged presences, sorted.
type occupancy struct {
	steps   []step
	signIns []int64
}

// span is one interval in nanoseconds.
type span struct{ start, end int64 }

// occupy computes C(t) from the intervals that reach into [keepFrom, keepTo):
// those that end at or after keepFrom and start before keepTo. An interval
// that ends exactly at keepFrom is kept because a presence touching it must
// not count as a fresh sign-in. Open intervals end at horizon.
//
// Users are grouped with a counting sort and each user's presences merged, so
// that only two sorts of plain integers (the merged starts and ends) remain;
// this is what makes a month of a large pool cheap.
func occupy(intervals []Interval, horizon, keepFrom, keepTo int64) occupancy {
	ids := make(map[string]int32)
	spans := make([]span, 0, len(intervals))
	owner := make([]int32, 0, len(intervals))
	for _, iv := range intervals {
		s, e := instant(iv.Start), horizon
		if !iv.End.IsZero() {
			e = instant(iv.End)
		}
		if e <= s || e < keepFrom || s >= keepTo {
			continue
		}
		id, ok := ids[iv.User]
		if !ok {
			id = int32(len(ids))
			ids[iv.User] = id
		}
		spans = append(spans, span{s, e})
		owner = append(owner, id)
	}

	// first[u]..first[u+1] is user u's range in byUser.
	first := make([]int, len(ids)+1)
	for _, u := range owner {
		first[u+1]++
	}
	for u := 1; u < len(first); u++ {
		first[u] += first[u-1]
	}
	next := slices.Clone(first[:len(ids)])
	byUser := make([]span, len(spans))
	for i, sp := range spans {
		byUser[next[owner[i]]] = sp
		next[owner[i]]++
	}

	starts := make([]int64, 0, len(spans))
	ends := make([]int64, 0, len(spans))
	for u := range len(ids) {
		own := byUser[first[u]:first[u+1]]
		slices.SortFunc(own, func(a, b span) int { return cmp.Compare(a.start, b.start) })
		cur := own[0]
		for _, sp := range own[1:] {
			if sp.start <= cur.end { // overlapping or touching: one presence
				cur.end = max(cur.end, sp.end)
				continue
			}
			starts, ends = append(starts, cur.start), append(ends, cur.end)
			cur = sp
		}
		starts, ends = append(starts, cur.start), append(ends, cur.end)
	}
	slices.Sort(starts)
	slices.Sort(ends)

	var steps []step
	count, i, j := 0, 0, 0
	for i < len(starts) || j < len(ends) {
		t := never
		if i < len(starts) {
			t = starts[i]
		}
		if j < len(ends) && ends[j] < t {
			t = ends[j]
		}
		for ; i < len(starts) && starts[i] == t; i++ {
			count++
		}
		for ; j < len(ends) && ends[j] == t; j++ {
			count--
		}
		if count != lastCount(steps) {
			steps = append(steps, step{t, count})
		}
	}
	return occupancy{steps: steps, signIns: starts}
}

// lastCount is the value of a step function after its last step; 0 when it
// has none.
func lastCount(s []step) int {
	if len(s) == 0 {
		return 0
	}
	return s[len(s)-1].n
}
