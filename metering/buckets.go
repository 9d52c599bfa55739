package metering

import "time"

// day is the interval that means one local calendar day.
const day = 24 * time.Hour

// bucketStarts splits [from, to) into buckets and returns their starts. The
// first bucket starts at from; every later one at a boundary: a local
// midnight when interval is 24h, otherwise an instant whose local wall clock,
// counted from local midnight, is a whole multiple of interval (for an
// interval that does not divide a day: from the Unix epoch in local time).
// A boundary is judged with the UTC offset in force at that instant, so
// around a daylight-saving change the buckets stay contiguous: the hour that
// is skipped has no bucket and the hour that repeats has two.
func bucketStarts(from, to int64, interval time.Duration, loc *time.Location) []int64 {
	next := newClock(duration(interval), loc).next
	if interval == day {
		next = func(t int64) int64 { return nextMidnight(t, loc) }
	}
	starts := []int64{from}
	for t := next(from); t < to; t = next(t) {
		starts = append(starts, t)
	}
	return starts
}

// nextMidnight is the start of the first local day that starts after t.
func nextMidnight(t int64, loc *time.Location) int64 {
	y, m, d := time.Unix(0, t).In(loc).Date()
	for n := 1; ; n++ {
		if next := startOfDay(y, m, d+n, loc); next > t {
			return next
		}
	}
}

// StartOfDay is the first instant of a local calendar day: its midnight, or,
// in a zone that moves its clocks forward at midnight, the moment of the
// change. time.Date may place a midnight that does not exist on the day
// before, so the day's start is then found at the end of that zone. Days,
// months and billing periods begin here, never at time.Date's midnight.
func StartOfDay(y int, m time.Month, d int, loc *time.Location) time.Time {
	t := time.Date(y, m, d, 0, 0, 0, 0, loc)
	want := time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
	for range 3 { // a change lasts hours, so one step is enough; bound it anyway
		ly, lm, ld := t.Date()
		if !time.Date(ly, lm, ld, 0, 0, 0, 0, time.UTC).Before(want) {
			break
		}
		_, end := t.ZoneBounds()
		if end.IsZero() {
			break
		}
		t = end.In(loc)
	}
	return t
}

func startOfDay(y int, m time.Month, d int, loc *time.Location) int64 {
	return instant(StartOfDay(y, m, d, loc))
}

// clock finds local wall-clock boundaries, caching the zone in force so that
// most boundaries cost one division.
type clock struct {
	step       int64
	loc        *time.Location
	start, end int64 // the zone in force is [start, end)
	offset     int64 // its offset from UTC in nanoseconds
}

// newClock returns a clock for boundaries every step nanoseconds.
func newClock(step int64, loc *time.Location) *clock {
	return &clock{step: max(step, 1), loc: loc, start: never, end: never}
}

// zone makes the zone in force at t the cached one.
func (c *clock) zone(t int64) {
	if c.start <= t && t < c.end {
		return
	}
	lt := time.Unix(0, t).In(c.loc)
	_, off := lt.Zone()
	s, e := lt.ZoneBounds()
	c.offset = int64(off) * int64(time.Second)
	c.start, c.end = -never, never
	if !s.IsZero() {
		c.start = s.UnixNano()
	}
	if !e.IsZero() {
		c.end = e.UnixNano()
	}
}

// next is the first boundary after t. When the next boundary by the current
// offset falls at or after a change of offset, the search resumes at the
// change, which is itself a boundary if the new offset makes it one.
func (c *clock) next(t int64) int64 {
	for inclusive := false; ; inclusive = true {
		c.zone(t)
		r := (t + c.offset) % c.step
		if r < 0 {
			r += c.step
		}
		if inclusive && r == 0 {
			return t
		}
		if candidate := t - r + c.step; candidate < c.end {
			return candidate
		}
		t = c.end
	}
}
