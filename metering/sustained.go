package metering

import (
	"math"
	"sort"
)

// never is an instant after every other; it marks "no further change".
const never int64 = math.MaxInt64

// sustained returns m(t) = min{ C(s) : t − g ≤ s ≤ t } for t in [from, to)
// as steps, the first at from, given C as steps with strictly increasing
// instants and C = 0 before the first.
//
// Step i of C holds its value on [a_i, a_{i+1}), so that value lies in the
// closed window [t − g, t] exactly for t in [a_i, a_{i+1} + g): it enters the
// window at a_i and leaves it at a_{i+1} + g. Both ends move forward in the
// order of i, so m is a sliding-window minimum, kept with a monotonic deque
// of step indices (values increasing from front to back). Each index is
// pushed and popped at most once, and the next instant at which m can change
// is either the next step's start or the front's departure: O(n) after a
// binary search for the first step that still matters.
func sustained(c []step, g, from, to int64) []step {
	value := func(i int) int { // index −1 is the zero before the first step
		if i < 0 {
			return 0
		}
		return c[i].n
	}
	leaves := func(i int) int64 {
		if i+1 < len(c) {
			return c[i+1].at + g
		}
		return never
	}

	// Steps before the last one starting at or before from − g have left
	// the window of every t ≥ from.
	k := sort.Search(len(c), func(i int) bool { return c[i].at > from-g }) - 1
	deque, head := []int{k}, 0
	next := k + 1
	var out []step
	for t := from; ; {
		for ; next < len(c) && c[next].at <= t; next++ {
			for len(deque) > head && value(deque[len(deque)-1]) >= c[next].n {
				deque = deque[:len(deque)-1]
			}
			deque = append(deque, next)
		}
		// The newest index never leaves before the next step starts, so
		// the deque cannot run empty.
		for leaves(deque[head]) <= t {
			head++
		}
		if v := value(deque[head]); len(out) == 0 || v != out[len(out)-1].n {
			out = append(out, step{t, v})
		}
		t = leaves(deque[head])
		if next < len(c) && c[next].at < t {
			t = c[next].at
		}
		if t >= to {
			return out
		}
	}
}
