package metering

import "sort"

// cursor reads a step function forward in time. Reports walk C, m and Q
// bucket by bucket; a cursor keeps each walk linear overall.
type cursor struct {
	s      []step
	i      int // the last step at or before the instant reached; −1 if none
	before int // the value before the first step
}

// cursorAt returns a cursor over s positioned at t by binary search.
func cursorAt(s []step, before int, t int64) cursor {
	i := sort.Search(len(s), func(i int) bool { return s[i].at > t }) - 1
	return cursor{s: s, i: i, before: before}
}

// seek moves the cursor forward to t and returns the value there.
func (c *cursor) seek(t int64) int {
	for c.i+1 < len(c.s) && c.s[c.i+1].at <= t {
		c.i++
	}
	return c.value()
}

// value is the value at the instant reached.
func (c *cursor) value() int {
	if c.i < 0 {
		return c.before
	}
	return c.s[c.i].n
}

// next is the instant of the next change, or never.
func (c *cursor) next() int64 {
	if c.i+1 < len(c.s) {
		return c.s[c.i+1].at
	}
	return never
}
