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
	occ := PresencesOf(intervals).occupy(instant(horizon), minInstant, maxInstant)
	out := make([]Step, len(occ.steps))
	for i, s := range occ.steps {
		out[i] = Step{At: toTime(s.at), Count: s.n}
	}
	return out
}

// Presences is a compact set of presence intervals, for pools too large
// for a slice of Interval: users are numbers, instants nanoseconds, twenty
// bytes a presence. The zero value is empty and ready to use.
type Presences struct {
	ids   map[int64]int32 // user → dense id
	spans []span
	owner []int32
}

// open marks a span that has not ended.
const open = maxInstant

// Add records user's presence [start, end); a zero end means still open
// (it runs to the end of whatever period is asked).
func (p *Presences) Add(user int64, start, end time.Time) {
	e := int64(open)
	if !end.IsZero() {
		e = instant(end)
	}
	p.add(user, instant(start), e)
}

func (p *Presences) add(user, start, end int64) {
	if p.ids == nil {
		p.ids = map[int64]int32{}
	}
	id, ok := p.ids[user]
	if !ok {
		id = int32(len(p.ids))
		p.ids[user] = id
	}
	p.spans = append(p.spans, span{start, end})
	p.owner = append(p.owner, id)
}

// Len is the number of presences added.
func (p *Presences) Len() int { return len(p.spans) }

// presencesOf numbers the users of intervals.
func PresencesOf(intervals []Interval) *Presences {
	p := &Presences{spans: make([]span, 0, len(intervals)), owner: make([]int32, 0, len(intervals))}
	users := map[string]int64{}
	for _, iv := range intervals {
		u, ok := users[iv.User]
		if !ok {
			u = int64(len(users))
			users[iv.User] = u
		}
		e := int64(open)
		if !iv.End.IsZero() {
			e = instant(iv.End)
		}
		p.add(u, instant(iv.Start), e)
	}
	return p
}

// occupancy is C(t) with the instants at which users sign in: the starts of
// each user's merged presences, sorted.
type occupancy struct {
	steps   []step
	signIns []int64
}

// span is one interval in nanoseconds.
type span struct{ start, end int64 }

// occupy computes C(t) from the presences that reach into [keepFrom,
// keepTo): those that end at or after keepFrom and start before keepTo. A
// presence that ends exactly at keepFrom is kept because a presence
// touching it must not count as a fresh sign-in. Open presences end at
// horizon.
//
// Users are grouped with a counting sort and each user's presences merged, so
// that only two sorts of plain integers (the merged starts and ends) remain;
// this is what makes a month of a large pool cheap.
func (p *Presences) occupy(horizon, keepFrom, keepTo int64) occupancy {
	// first[u]..first[u+1] is user u's range in byUser.
	first := make([]int, len(p.ids)+1)
	kept := 0
	keep := func(i int) (span, bool) {
		sp := p.spans[i]
		if sp.end == open {
			sp.end = horizon
		}
		return sp, sp.end > sp.start && sp.end >= keepFrom && sp.start < keepTo
	}
	for i, u := range p.owner {
		if _, ok := keep(i); ok {
			first[u+1]++
			kept++
		}
	}
	for u := 1; u < len(first); u++ {
		first[u] += first[u-1]
	}
	next := slices.Clone(first[:len(p.ids)])
	byUser := make([]span, kept)
	for i, u := range p.owner {
		if sp, ok := keep(i); ok {
			byUser[next[u]] = sp
			next[u]++
		}
	}

	starts := make([]int64, 0, kept)
	ends := make([]int64, 0, kept)
	for u := range len(p.ids) {
		own := byUser[first[u]:first[u+1]]
		if len(own) == 0 {
			continue
		}
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
