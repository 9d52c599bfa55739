package metering_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/seatkeeper/seatkeeper/metering"
)

// grace is R7's default grace period.
const grace = 30 * time.Minute

// crowd is n users, named prefix0…, each present over [start, end).
func crowd(prefix string, n int, start, end time.Time) []metering.Interval {
	out := make([]metering.Interval, n)
	for i := range out {
		out[i] = metering.Interval{User: fmt.Sprintf("%s%d", prefix, i), Start: start, End: end}
	}
	return out
}

// quantity is a pool whose quantity never changes.
func quantity(q int) []metering.QuantityChange {
	return []metering.QuantityChange{{At: time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC), Quantity: q}}
}

var (
	march = time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	april = time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)
	may   = time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
	// shift is a moment in the middle of March.
	shift = time.Date(2026, 3, 10, 9, 0, 0, 0, time.UTC)
)

// TestPeaksIn_R7_GracePeriod is R7's seed examples and the exact boundary:
// 105 users against 100 seats bill overage only when the excess lasts longer
// than the grace period. With half-open presences and a closed window,
// m(T + 30m) already sees C(T + 30m) = 100, and every earlier t sees C from
// before T, so exactly 30 minutes bills nothing and 30 minutes and 1 ns
// bills 5.
func TestPeaksIn_R7_GracePeriod(t *testing.T) {
	dayStart, dayEnd := shift.Add(-9*time.Hour), shift.Add(15*time.Hour)
	for _, tc := range []struct {
		name    string
		excess  time.Duration // how long 5 extra users stay
		grace   time.Duration
		want    metering.Peaks
		comment string
	}{
		{"20min", 20 * time.Minute, grace, metering.Peaks{Raw: 105, Sustained: 100, Overage: 0}, "R7 seed: within grace"},
		{"45min", 45 * time.Minute, grace, metering.Peaks{Raw: 105, Sustained: 105, Overage: 5}, "R7 seed: beyond grace"},
		{"Exactly30min", 30 * time.Minute, grace, metering.Peaks{Raw: 105, Sustained: 100, Overage: 0}, "the window at T+30m holds C = 100"},
		{"30minPlus1ns", 30*time.Minute + time.Nanosecond, grace, metering.Peaks{Raw: 105, Sustained: 105, Overage: 5}, "m(T+30m) = 105"},
		{"NoGrace1ns", time.Nanosecond, 0, metering.Peaks{Raw: 105, Sustained: 105, Overage: 5}, "g = 0: m = C"},
		{"NoExcess", 0, grace, metering.Peaks{Raw: 100, Sustained: 100, Overage: 0}, "exactly Q in use"},
		{"LongGrace", 2 * time.Hour, 3 * time.Hour, metering.Peaks{Raw: 105, Sustained: 100, Overage: 0}, "a grace period longer than the excess"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ivs := crowd("agent", 100, dayStart, dayEnd)
			ivs = append(ivs, crowd("extra", 5, shift, shift.Add(tc.excess))...)
			got := metering.PeaksIn(metering.Occupancy(ivs, may), tc.grace, quantity(100), march, april)
			if got != tc.want {
				t.Errorf("%s: got %+v, want %+v", tc.comment, got, tc.want)
			}
		})
	}
}

// TestPeaksIn_R7_ShiftChange: a shift change where leavers and joiners
// overlap for less than the grace period bills no overage (R7).
func TestPeaksIn_R7_ShiftChange(t *testing.T) {
	for _, tc := range []struct {
		name    string
		overlap time.Duration // joiners arrive this long before leavers leave
		want    metering.Peaks
	}{
		{"SameInstant", 0, metering.Peaks{Raw: 100, Sustained: 100, Overage: 0}},
		{"TenMinutes", 10 * time.Minute, metering.Peaks{Raw: 105, Sustained: 100, Overage: 0}},
		{"FortyMinutes", 40 * time.Minute, metering.Peaks{Raw: 105, Sustained: 105, Overage: 5}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ivs := crowd("stay", 95, shift.Add(-8*time.Hour), shift.Add(8*time.Hour))
			ivs = append(ivs, crowd("early", 5, shift.Add(-8*time.Hour), shift)...)
			ivs = append(ivs, crowd("late", 5, shift.Add(-tc.overlap), shift.Add(8*time.Hour))...)
			got := metering.PeaksIn(metering.Occupancy(ivs, may), grace, quantity(100), march, april)
			if got != tc.want {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

// TestPeaksIn_R7_MonthBoundary: an excursion crossing the start of a month
// bills in the month where m(t) exceeds Q(t), because the window of m looks
// back into the previous month (R7).
func TestPeaksIn_R7_MonthBoundary(t *testing.T) {
	for _, tc := range []struct {
		name         string
		before       time.Duration // the excursion starts this long before April
		march, april metering.Peaks
	}{
		// m = 105 on [April + 10m, April + 25m).
		{"Starts20minBefore", 20 * time.Minute, metering.Peaks{Raw: 105, Sustained: 100}, metering.Peaks{Raw: 105, Sustained: 105, Overage: 5}},
		// m = 105 on [April − 20m, April − 5m).
		{"Starts50minBefore", 50 * time.Minute, metering.Peaks{Raw: 105, Sustained: 105, Overage: 5}, metering.Peaks{Raw: 100, Sustained: 100}},
		// m = 105 on [April − 10m, April + 5m): both months see it.
		{"Starts40minBefore", 40 * time.Minute, metering.Peaks{Raw: 105, Sustained: 105, Overage: 5}, metering.Peaks{Raw: 105, Sustained: 105, Overage: 5}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			start := april.Add(-tc.before)
			ivs := crowd("agent", 100, april.Add(-6*time.Hour), april.Add(6*time.Hour))
			ivs = append(ivs, crowd("extra", 5, start, start.Add(45*time.Minute))...)
			steps := metering.Occupancy(ivs, may)
			if got := metering.PeaksIn(steps, grace, quantity(100), march, april); got != tc.march {
				t.Errorf("March: got %+v, want %+v", got, tc.march)
			}
			if got := metering.PeaksIn(steps, grace, quantity(100), april, may); got != tc.april {
				t.Errorf("April: got %+v, want %+v", got, tc.april)
			}
		})
	}
}

// TestPeaksIn_R7_QuantityChanges: overage is measured against Q(t) at each
// t, not against one quantity for the month (R7).
func TestPeaksIn_R7_QuantityChanges(t *testing.T) {
	mid := time.Date(2026, 3, 16, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name     string
		start    time.Time // 5 extra users from here
		excess   time.Duration
		quantity []metering.QuantityChange
		want     int
	}{
		{"RaisedBeforeExcursion", mid.Add(9 * time.Hour), 45 * time.Minute,
			[]metering.QuantityChange{{march, 100}, {mid, 110}}, 0},
		{"ExcursionBeforeRaise", shift, 45 * time.Minute,
			[]metering.QuantityChange{{march, 100}, {mid, 110}}, 5},
		{"RaisedWithinGrace", shift, 45 * time.Minute,
			[]metering.QuantityChange{{march, 100}, {shift.Add(20 * time.Minute), 110}}, 0},
		{"LoweredLateInExcursion", shift, 45 * time.Minute,
			[]metering.QuantityChange{{march, 110}, {shift.Add(40 * time.Minute), 100}}, 5},
		{"LoweredAfterExcursion", shift, 45 * time.Minute,
			[]metering.QuantityChange{{march, 110}, {shift.Add(45 * time.Minute), 100}}, 0},
		{"LoweredFurther", shift, 3 * time.Hour,
			[]metering.QuantityChange{{march, 104}, {shift.Add(time.Hour), 101}, {shift.Add(2 * time.Hour), 102}}, 4},
		{"FirstChangeHoldsBefore", shift, 45 * time.Minute,
			[]metering.QuantityChange{{shift.Add(24 * time.Hour), 102}}, 3},
		{"NoQuantity", shift, 45 * time.Minute, nil, 105},
	} {
		t.Run(tc.name, func(t *testing.T) {
			day := tc.start.Truncate(24 * time.Hour)
			ivs := crowd("agent", 100, day, day.Add(24*time.Hour))
			ivs = append(ivs, crowd("extra", 5, tc.start, tc.start.Add(tc.excess))...)
			got := metering.PeaksIn(metering.Occupancy(ivs, may), grace, tc.quantity, march, april)
			if got.Overage != tc.want {
				t.Errorf("overage: got %d, want %d (%+v)", got.Overage, tc.want, got)
			}
		})
	}
}

// TestPeaksIn_R5_ManyPresencesCountOnce: a user with several overlapping
// presences (desktop, portal, API) counts once toward the pool (R5), so
// they cause no overage (R7).
func TestPeaksIn_R5_ManyPresencesCountOnce(t *testing.T) {
	ivs := crowd("agent", 100, shift.Add(-time.Hour), shift.Add(8*time.Hour))
	for i := range 6 {
		at := shift.Add(time.Duration(i) * 10 * time.Minute)
		ivs = append(ivs, metering.Interval{User: "agent7", Start: at, End: at.Add(2 * time.Hour)})
	}
	got := metering.PeaksIn(metering.Occupancy(ivs, may), grace, quantity(100), march, april)
	if want := (metering.Peaks{Raw: 100, Sustained: 100}); got != want {
		t.Errorf("got %+v, want %+v", got, want)
	}
}

// TestPeaksIn_R7_EmptyPeriod: a period with to ≤ from has no peaks.
func TestPeaksIn_R7_EmptyPeriod(t *testing.T) {
	steps := metering.Occupancy(crowd("agent", 3, march, april), may)
	if got := metering.PeaksIn(steps, grace, quantity(1), april, march); got != (metering.Peaks{}) {
		t.Errorf("got %+v, want zero", got)
	}
	if got, want := metering.PeaksIn(steps, grace, quantity(1), march, april), (metering.Peaks{Raw: 3, Sustained: 3, Overage: 2}); got != want {
		t.Errorf("got %+v, want %+v", got, want)
	}
}

// TestPeaksIn_R7_StepsBeforeTheWindow: steps far before the period, and a
// long history, do not disturb the result (the window starts from a binary
// search, not from the first step).
func TestPeaksIn_R7_StepsBeforeTheWindow(t *testing.T) {
	var ivs []metering.Interval
	for d := range 400 { // a year of daily 8-hour shifts of 3 users
		at := march.AddDate(-1, 0, d).Add(8 * time.Hour)
		ivs = append(ivs, crowd("agent", 3, at, at.Add(8*time.Hour))...)
	}
	// 2 more on March 10 for an hour.
	ivs = append(ivs, crowd("extra", 2, shift, shift.Add(time.Hour))...)
	got := metering.PeaksIn(metering.Occupancy(ivs, may), grace, quantity(3), march, april)
	if want := (metering.Peaks{Raw: 5, Sustained: 5, Overage: 2}); got != want {
		t.Errorf("got %+v, want %+v", got, want)
	}
}
