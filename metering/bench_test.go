package metering_test

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/seatkeeper/seatkeeper/metering"
)

// monthOfPool is a month of a 10,000-agent pool: 500,000 presences (a
// million start and end events) of 5 minutes to 8 hours at random over 30
// days, some overlapping, and 50,000 refused sign-ins.
func monthOfPool() (intervals []metering.Interval, denied []time.Time, from, to time.Time) {
	const users, perUser = 10_000, 50
	from = time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	to = from.AddDate(0, 0, 30)
	r := rand.New(rand.NewPCG(1, 2))
	intervals = make([]metering.Interval, 0, users*perUser)
	for u := range users {
		name := fmt.Sprintf("agent-%05d", u)
		for range perUser {
			start := from.Add(time.Duration(r.Int64N(int64(to.Sub(from)))) - time.Hour)
			length := 5*time.Minute + time.Duration(r.Int64N(int64(8*time.Hour)))
			intervals = append(intervals, metering.Interval{User: name, Start: start, End: start.Add(length)})
		}
	}
	for range 50_000 {
		denied = append(denied, from.Add(time.Duration(r.Int64N(int64(to.Sub(from))))))
	}
	return intervals, denied, from, to
}

// BenchmarkReportMonth is the license usage report (R17) of one month of a
// 10,000-agent pool at a 15-minute interval.
func BenchmarkReportMonth(b *testing.B) {
	intervals, denied, from, to := monthOfPool()
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		b.Fatal(err)
	}
	quantity := []metering.QuantityChange{{At: from, Quantity: 5_000}, {At: from.AddDate(0, 0, 15), Quantity: 5_200}}
	b.ResetTimer()
	for b.Loop() {
		rows := metering.Report(intervals, denied, 30*time.Minute, quantity, []metering.QuantityChange{{At: from, Quantity: 100}}, from, to, 15*time.Minute, berlin)
		if len(rows) != 30*96 {
			b.Fatalf("%d rows", len(rows))
		}
	}
}

// BenchmarkOccupancyAndPeaksMonth is a month's R7 figures for the same pool.
func BenchmarkOccupancyAndPeaksMonth(b *testing.B) {
	intervals, _, from, to := monthOfPool()
	quantity := []metering.QuantityChange{{At: from, Quantity: 5_000}}
	b.ResetTimer()
	for b.Loop() {
		p := metering.PeaksIn(metering.Occupancy(intervals, to), 30*time.Minute, quantity, from, to)
		if p.Raw == 0 {
			b.Fatal("no peak")
		}
	}
}
