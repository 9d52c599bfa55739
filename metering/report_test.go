package metering_test

import (
	"testing"
	"time"
	_ "time/tzdata" // the DST tests must not depend on the host's zone files

	"github.com/seatkeeper/seatkeeper/metering"
)

// TestReport_R17_Excursion is the 45-minute excursion of R7 in a 15-minute
// report (R17): the peak shows at once, the sustained value and the
// overage only once the excess has lasted the grace period.
func TestReport_R17_Excursion(t *testing.T) {
	ivs := crowd("agent", 100, at(-60), at(180))
	ivs = append(ivs, crowd("extra", 5, at(0), at(45))...)
	denied := []time.Time{at(0), at(44).Add(59 * time.Second), at(45), at(60), at(-1)} // at(60) is `to`, at(-1) before `from`
	got := metering.Report(ivs, denied, grace, quantity(100), quantity(3), at(0), at(60), 15*time.Minute, time.UTC)
	want := []metering.Bucket{
		{Start: at(0), Quantity: 100, Allowance: 3, Peak: 105, Average: 105, Sustained: 100, SignIns: 5, Denied: 1},
		{Start: at(15), Quantity: 100, Allowance: 3, Peak: 105, Average: 105, Sustained: 100},
		{Start: at(30), Quantity: 100, Allowance: 3, Peak: 105, Average: 105, Sustained: 105, OverQuantity: 5, Denied: 1},
		// C(t) = 100 is in the window of every t from here on.
		{Start: at(45), Quantity: 100, Allowance: 3, Peak: 100, Average: 100, Sustained: 100, Denied: 1},
	}
	checkBuckets(t, got, want)
}

// TestReport_R5_SignIns: a user's touching and overlapping presences are
// one sign-in (R5), and a presence that continues one from before the
// report is none, even with no grace period.
func TestReport_R5_SignIns(t *testing.T) {
	ivs := []metering.Interval{
		{User: "ann", Start: at(-60), End: at(0)},
		{User: "ann", Start: at(0), End: at(20)}, // continues across `from`
		{User: "bob", Start: at(5), End: at(10)},
		{User: "bob", Start: at(10), End: at(30)}, // touching: the same presence
		{User: "bob", Start: at(12), End: at(14)}, // overlapping: the same presence
		{User: "bob", Start: at(40)},              // open, a new sign-in
	}
	got := metering.Report(ivs, nil, 0, nil, nil, at(0), at(60), time.Hour, time.UTC)
	want := []metering.Bucket{{Start: at(0), Peak: 2, Average: (20 + 25 + 20) / 60.0, Sustained: 2, OverQuantity: 2, SignIns: 2}}
	checkBuckets(t, got, want)
}

// TestReport_R17_UnalignedPeriod: when from or to is not on a boundary
// the first or last bucket is shorter, and the rest stay aligned.
func TestReport_R17_UnalignedPeriod(t *testing.T) {
	ivs := crowd("agent", 2, at(0), at(20))
	got := metering.Report(ivs, nil, 0, quantity(1), nil, at(7), at(50), 15*time.Minute, time.UTC)
	want := []metering.Bucket{
		{Start: at(7), Quantity: 1, Peak: 2, Average: 2, Sustained: 2, OverQuantity: 1},
		{Start: at(15), Quantity: 1, Peak: 2, Average: 2 * 5 / 15.0, Sustained: 2, OverQuantity: 1},
		{Start: at(30), Quantity: 1},
		{Start: at(45), Quantity: 1},
	}
	checkBuckets(t, got, want)
	if got := metering.Report(ivs, nil, 0, nil, nil, at(7), at(7), 15*time.Minute, time.UTC); got != nil {
		t.Errorf("empty period: got %v, want none", got)
	}
	if got := metering.Report(ivs, nil, 0, nil, nil, at(7), at(50), 0, time.UTC); got != nil {
		t.Errorf("zero interval: got %v, want none", got)
	}
}

// TestReport_R17_DaylightSaving: in Europe/Berlin a daily bucket is one
// calendar day, 23 hours on 2026-03-29 and 25 hours on 2026-10-25, and
// hourly buckets around the change are contiguous: the skipped hour has no
// bucket, the repeated hour has two (R17).
func TestReport_R17_DaylightSaving(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	local := func(month time.Month, d, h, m int) time.Time { return time.Date(2026, month, d, h, m, 0, 0, berlin) }

	t.Run("Days", func(t *testing.T) {
		for _, tc := range []struct {
			month  time.Month
			day    int
			length time.Duration
		}{{time.March, 29, 23 * time.Hour}, {time.October, 25, 25 * time.Hour}} {
			from, to := local(tc.month, tc.day-1, 0, 0), local(tc.month, tc.day+2, 0, 0)
			// One user all of the changing day, another for one hour of it.
			ivs := []metering.Interval{
				{User: "ann", Start: local(tc.month, tc.day, 0, 0), End: local(tc.month, tc.day+1, 0, 0)},
				{User: "bob", Start: local(tc.month, tc.day, 10, 0), End: local(tc.month, tc.day, 11, 0)},
			}
			got := metering.Report(ivs, nil, 0, nil, nil, from, to, 24*time.Hour, berlin)
			checkContiguous(t, got, from, to, []time.Duration{24 * time.Hour, tc.length, 24 * time.Hour})
			avg := float64(tc.length+time.Hour) / float64(tc.length)
			want := []metering.Bucket{
				{Start: from},
				{Start: local(tc.month, tc.day, 0, 0), Peak: 2, Average: avg, Sustained: 2, OverQuantity: 2, SignIns: 2},
				{Start: local(tc.month, tc.day+1, 0, 0)},
			}
			checkBuckets(t, got, want)
		}
	})

	t.Run("HoursSpring", func(t *testing.T) {
		from, to := local(time.March, 29, 0, 0), local(time.March, 29, 6, 0)
		got := metering.Report(nil, nil, 0, nil, nil, from, to, time.Hour, berlin)
		checkContiguous(t, got, from, to, []time.Duration{time.Hour, time.Hour, time.Hour, time.Hour, time.Hour})
		checkClock(t, got, []string{"00:00+01:00", "01:00+01:00", "03:00+02:00", "04:00+02:00", "05:00+02:00"})
	})

	t.Run("HoursAutumn", func(t *testing.T) {
		from, to := local(time.October, 25, 0, 0), local(time.October, 25, 6, 0)
		// A user in the second half of the second 02:00 hour only (CET).
		second := local(time.October, 25, 3, 0).Add(-30 * time.Minute)
		ivs := []metering.Interval{{User: "ann", Start: second, End: second.Add(30 * time.Minute)}}
		got := metering.Report(ivs, nil, 0, nil, nil, from, to, time.Hour, berlin)
		checkContiguous(t, got, from, to, []time.Duration{time.Hour, time.Hour, time.Hour, time.Hour, time.Hour, time.Hour, time.Hour})
		checkClock(t, got, []string{"00:00+02:00", "01:00+02:00", "02:00+02:00", "02:00+01:00", "03:00+01:00", "04:00+01:00", "05:00+01:00"})
		for i, b := range got {
			if want := i == 3; (b.Peak == 1) != want || (b.SignIns == 1) != want {
				t.Errorf("bucket %d (%s): peak %d, sign-ins %d; want the user only in the second 02:00", i, b.Start, b.Peak, b.SignIns)
			}
		}
	})

	t.Run("QuarterHoursSpring", func(t *testing.T) {
		from, to := local(time.March, 29, 1, 0), local(time.March, 29, 4, 0)
		got := metering.Report(nil, nil, 0, nil, nil, from, to, 15*time.Minute, berlin)
		lengths := make([]time.Duration, 8)
		for i := range lengths {
			lengths[i] = 15 * time.Minute
		}
		checkContiguous(t, got, from, to, lengths)
		checkClock(t, got, []string{"01:00+01:00", "01:15+01:00", "01:30+01:00", "01:45+01:00", "03:00+02:00", "03:15+02:00", "03:30+02:00", "03:45+02:00"})
	})
}

// TestReport_R17_HalfHourZone: in a zone half an hour off UTC, hourly
// buckets start on local hours, not on UTC hours.
func TestReport_R17_HalfHourZone(t *testing.T) {
	kolkata, err := time.LoadLocation("Asia/Kolkata")
	if err != nil {
		t.Fatal(err)
	}
	from := time.Date(2026, 3, 10, 0, 0, 0, 0, time.UTC) // 05:30 in Kolkata
	got := metering.Report(nil, nil, 0, nil, nil, from, from.Add(3*time.Hour), time.Hour, kolkata)
	checkContiguous(t, got, from, from.Add(3*time.Hour), []time.Duration{30 * time.Minute, time.Hour, time.Hour, 30 * time.Minute})
	checkClock(t, got, []string{"05:30+05:30", "06:00+05:30", "07:00+05:30", "08:00+05:30"})
}

// TestReport_R17_UnusualZones pins down two rarer changes. America/Santiago
// moves its clocks forward at midnight, so 2026-09-06 starts at 01:00 and
// lasts 23 hours, and moves them back at midnight, so 2026-04-04 lasts 25.
// Australia/Lord_Howe moves them by half an hour; a bucket starts where the
// local clock, read with the offset then in force, is on a whole hour, so
// the hour around each change is longer or shorter than an hour.
func TestReport_R17_UnusualZones(t *testing.T) {
	santiago, err := time.LoadLocation("America/Santiago")
	if err != nil {
		t.Fatal(err)
	}
	from := time.Date(2026, 9, 5, 0, 0, 0, 0, santiago)
	got := metering.Report(nil, nil, 0, nil, nil, from, from.Add(71*time.Hour), 24*time.Hour, santiago)
	checkContiguous(t, got, from, from.Add(71*time.Hour), []time.Duration{24 * time.Hour, 23 * time.Hour, 24 * time.Hour})
	checkClock(t, got, []string{"00:00-04:00", "01:00-03:00", "00:00-03:00"})

	from = time.Date(2026, 4, 4, 0, 0, 0, 0, santiago)
	got = metering.Report(nil, nil, 0, nil, nil, from, from.Add(49*time.Hour), 24*time.Hour, santiago)
	checkContiguous(t, got, from, from.Add(49*time.Hour), []time.Duration{25 * time.Hour, 24 * time.Hour})
	checkClock(t, got, []string{"00:00-03:00", "00:00-04:00"})

	lordHowe, err := time.LoadLocation("Australia/Lord_Howe")
	if err != nil {
		t.Fatal(err)
	}
	hour, half := time.Hour, 30*time.Minute
	from = time.Date(2026, 4, 5, 0, 0, 0, 0, lordHowe) // 02:00+11:00 becomes 01:30+10:30
	got = metering.Report(nil, nil, 0, nil, nil, from, from.Add(4*time.Hour), time.Hour, lordHowe)
	checkContiguous(t, got, from, from.Add(4*time.Hour), []time.Duration{hour, hour + half, hour, half})
	checkClock(t, got, []string{"00:00+11:00", "01:00+11:00", "02:00+10:30", "03:00+10:30"})

	from = time.Date(2026, 10, 4, 0, 0, 0, 0, lordHowe) // 02:00+10:30 becomes 02:30+11:00
	got = metering.Report(nil, nil, 0, nil, nil, from, from.Add(4*time.Hour), time.Hour, lordHowe)
	checkContiguous(t, got, from, from.Add(4*time.Hour), []time.Duration{hour, hour + half, hour, half})
	checkClock(t, got, []string{"00:00+10:30", "01:00+10:30", "03:00+11:00", "04:00+11:00"})
}

// checkBuckets compares buckets field by field; starts are compared as
// instants.
func checkBuckets(t *testing.T, got, want []metering.Bucket) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d buckets, want %d:\n got %+v\nwant %+v", len(got), len(want), got, want)
	}
	for i := range got {
		g, w := got[i], want[i]
		if !g.Start.Equal(w.Start) {
			t.Errorf("bucket %d: start %s, want %s", i, g.Start, w.Start)
		}
		g.Start, w.Start = time.Time{}, time.Time{}
		if d := g.Average - w.Average; d > 1e-9 || d < -1e-9 {
			t.Errorf("bucket %d: average %v, want %v", i, g.Average, w.Average)
		}
		g.Average, w.Average = 0, 0
		if g != w {
			t.Errorf("bucket %d:\n got %+v\nwant %+v", i, g, w)
		}
	}
}

// checkContiguous checks that buckets tile [from, to) with the lengths
// given.
func checkContiguous(t *testing.T, got []metering.Bucket, from, to time.Time, lengths []time.Duration) {
	t.Helper()
	if len(got) != len(lengths) {
		t.Fatalf("got %d buckets, want %d: %+v", len(got), len(lengths), got)
	}
	if !got[0].Start.Equal(from) {
		t.Errorf("first bucket starts at %s, want %s", got[0].Start, from)
	}
	for i, b := range got {
		end := to
		if i+1 < len(got) {
			end = got[i+1].Start
		}
		if d := end.Sub(b.Start); d != lengths[i] {
			t.Errorf("bucket %d (%s) lasts %s, want %s", i, b.Start, d, lengths[i])
		}
	}
}

// checkClock checks the local wall clock and UTC offset of each bucket
// start.
func checkClock(t *testing.T, got []metering.Bucket, want []string) {
	t.Helper()
	for i, b := range got {
		if i < len(want) && b.Start.Format("15:04-07:00") != want[i] {
			t.Errorf("bucket %d starts at %s, want %s", i, b.Start.Format("15:04-07:00"), want[i])
		}
	}
}
