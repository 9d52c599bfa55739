package metering_test

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/seatkeeper/seatkeeper/metering"
)

// at is a minute of March 10, 2026 (UTC) from 09:00.
func at(minute int) time.Time { return shift.Add(time.Duration(minute) * time.Minute) }

// TestOccupancy_R5 checks that C(t) counts distinct users: a user's
// overlapping and touching presences are one (R5), intervals are half-open
// (R7), and open intervals run to the horizon.
func TestOccupancy_R5(t *testing.T) {
	for _, tc := range []struct {
		name      string
		intervals []metering.Interval
		want      []metering.Step
	}{
		{"OverlappingAndTouchingPresencesCountOnce", []metering.Interval{
			{User: "ann", Start: at(0), End: at(10)},
			{User: "ann", Start: at(5), End: at(20)},
			{User: "ann", Start: at(20), End: at(30)}, // touches: still one presence
			{User: "ann", Start: at(2), End: at(3)},
		}, []metering.Step{{at(0), 1}, {at(30), 0}}},
		{"HandOverKeepsCount", []metering.Interval{
			{User: "ann", Start: at(0), End: at(10)},
			{User: "bob", Start: at(10), End: at(20)}, // half-open: never both
		}, []metering.Step{{at(0), 1}, {at(20), 0}}},
		{"OpenRunsToHorizon", []metering.Interval{
			{User: "ann", Start: at(0)},
			{User: "bob", Start: at(5), End: at(90)},
		}, []metering.Step{{at(0), 1}, {at(5), 2}, {at(60), 1}, {at(90), 0}}},
		{"EmptyIntervalsCountForNothing", []metering.Interval{
			{User: "ann", Start: at(5), End: at(5)},
			{User: "bob", Start: at(9), End: at(4)},
			{User: "eve", Start: at(70)}, // opens after the horizon
		}, nil},
		{"Gap", []metering.Interval{
			{User: "ann", Start: at(0), End: at(10)},
			{User: "ann", Start: at(11), End: at(20)},
			{User: "bob", Start: at(3), End: at(15)},
		}, []metering.Step{{at(0), 1}, {at(3), 2}, {at(10), 1}, {at(11), 2}, {at(15), 1}, {at(20), 0}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := metering.Occupancy(tc.intervals, at(60))
			if !slices.EqualFunc(got, tc.want, func(a, b metering.Step) bool { return a.At.Equal(b.At) && a.Count == b.Count }) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}

// TestRadixSort: large slices of instants, sorted as slices.Sort sorts
// them, whatever their spread (the large-pool path of Occupancy).
func TestRadixSort(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for _, spread := range []int64{1, 1000, int64(31 * 24 * time.Hour), 1 << 62} {
		a := make([]int64, 1<<17)
		for i := range a {
			a[i] = time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC).UnixNano() + r.Int64N(spread)
		}
		if spread == 1<<62 {
			a[7] = -1 << 62 // negative instants too
		}
		b, c := slices.Clone(a), slices.Clone(a)
		slices.Sort(b)
		metering.SortBothForTest(a, c)
		if !slices.Equal(a, b) || !slices.Equal(c, b) {
			t.Fatalf("spread %d: not sorted as slices.Sort sorts", spread)
		}
	}
}
