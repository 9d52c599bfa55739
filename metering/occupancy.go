package metering

import (
	"cmp"
	"math"
	"slices"
	"sync"
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
// for a slice of Interval: users are numbers, instants nanoseconds, 24
// bytes a presence, in chunks so that growing never copies. The zero value
// is empty and ready to use.
type Presences struct {
	chunks [][]presence
	n      int
}

// presence is one user's presence [start, end).
type presence struct{ user, start, end int64 }

// chunkSize is how many presences one chunk holds.
const chunkSize = 1 << 15

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
	if k := len(p.chunks); k == 0 || len(p.chunks[k-1]) == chunkSize {
		p.chunks = append(p.chunks, make([]presence, 0, chunkSize))
	}
	last := &p.chunks[len(p.chunks)-1]
	*last = append(*last, presence{user, start, end})
	p.n++
}

// Merge moves every presence of o into p, without copying them; o is left
// empty. Parts of a period read side by side are merged this way.
func (p *Presences) Merge(o *Presences) {
	p.chunks = append(p.chunks, o.chunks...)
	p.n += o.n
	*o = Presences{}
}

// Len is the number of presences added.
func (p *Presences) Len() int { return p.n }

// each calls fn for every presence.
func (p *Presences) each(fn func(presence)) {
	for _, c := range p.chunks {
		for _, x := range c {
			fn(x)
		}
	}
}

// users numbers the users densely: the returned function gives each user
// its number in [0, count). User numbers from a database are often close
// together, and then a table stands in for a map.
func (p *Presences) users() (id func(int64) int32, count int) {
	if p.n == 0 {
		return func(int64) int32 { return 0 }, 0
	}
	lo, hi := int64(math.MaxInt64), int64(math.MinInt64)
	p.each(func(x presence) { lo, hi = min(lo, x.user), max(hi, x.user) })
	if span := uint64(hi - lo); span < uint64(4*p.n+1024) {
		table := make([]int32, span+1)
		for i := range table {
			table[i] = -1
		}
		p.each(func(x presence) {
			if t := &table[x.user-lo]; *t < 0 {
				*t = int32(count)
				count++
			}
		})
		return func(u int64) int32 { return table[u-lo] }, count
	}
	ids := map[int64]int32{}
	p.each(func(x presence) {
		if _, ok := ids[x.user]; !ok {
			ids[x.user] = int32(len(ids))
		}
	})
	return func(u int64) int32 { return ids[u] }, len(ids)
}

// presencesOf numbers the users of intervals.
func PresencesOf(intervals []Interval) *Presences {
	p := &Presences{}
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
	keep := func(x presence) (span, bool) {
		sp := span{x.start, x.end}
		if sp.end == open {
			sp.end = horizon
		}
		return sp, sp.end > sp.start && sp.end >= keepFrom && sp.start < keepTo
	}
	id, users := p.users()
	// first[u]..first[u+1] is user u's range in byUser.
	first := make([]int, users+1)
	kept := 0
	p.each(func(x presence) {
		if _, ok := keep(x); ok {
			first[id(x.user)+1]++
			kept++
		}
	})
	for u := 1; u < len(first); u++ {
		first[u] += first[u-1]
	}
	next := slices.Clone(first[:users])
	byUser := make([]span, kept)
	p.each(func(x presence) {
		if sp, ok := keep(x); ok {
			u := id(x.user)
			byUser[next[u]] = sp
			next[u]++
		}
	})

	starts := make([]int64, 0, kept)
	ends := make([]int64, 0, kept)
	for u := range users {
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
	sortBoth(starts, ends)

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

// sortBoth sorts a and b, side by side when they are large: a month of a
// large pool has millions of each.
func sortBoth(a, b []int64) {
	if len(a) < 1<<16 {
		slices.Sort(a)
		slices.Sort(b)
		return
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		radixSort(b)
	}()
	radixSort(a)
	wg.Wait()
}

// radixSort sorts instants with a least-significant-digit radix sort on
// their offsets from the smallest, 11 bits a pass: a month in nanoseconds
// takes five passes over the data, against some twenty-two comparisons an
// element for a comparison sort of millions.
func radixSort(a []int64) {
	if len(a) < 2 {
		return
	}
	lo, hi := slices.Min(a), slices.Max(a)
	span := uint64(hi - lo)
	buf := make([]int64, len(a))
	src, dst := a, buf
	const bits = 11
	for shift := uint(0); shift < 64 && span>>shift > 0; shift += bits {
		var count [1<<bits + 1]int
		for _, v := range src {
			count[(uint64(v-lo)>>shift)&(1<<bits-1)+1]++
		}
		for i := 1; i < len(count); i++ {
			count[i] += count[i-1]
		}
		for _, v := range src {
			d := (uint64(v-lo) >> shift) & (1<<bits - 1)
			dst[count[d]] = v
			count[d]++
		}
		src, dst = dst, src
	}
	if &src[0] != &a[0] {
		copy(a, src)
	}
}

// lastCount is the value of a step function after its last step; 0 when it
// has none.
func lastCount(s []step) int {
	if len(s) == 0 {
		return 0
	}
	return s[len(s)-1].n
}
