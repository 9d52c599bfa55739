package metering

import "time"

// Instants are handled as nanoseconds since the Unix epoch. They are clamped
// to ±2^62 ns (about the years 1823 to 2116) and durations to [0, 2^61] ns,
// so that an instant plus a grace period can never overflow an int64; a
// horizon far in the future therefore still behaves as "forever".
const (
	minInstant  = -1 << 62
	maxInstant  = 1 << 62
	maxDuration = 1 << 61
)

var (
	minTime = time.Unix(0, minInstant)
	maxTime = time.Unix(0, maxInstant)
)

// instant converts t to clamped nanoseconds since the Unix epoch.
func instant(t time.Time) int64 {
	switch {
	case t.Before(minTime):
		return minInstant
	case t.After(maxTime):
		return maxInstant
	}
	return t.UnixNano()
}

// duration clamps d to [0, maxDuration] nanoseconds.
func duration(d time.Duration) int64 {
	switch {
	case d < 0:
		return 0
	case d > maxDuration:
		return maxDuration
	}
	return int64(d)
}

// toTime converts nanoseconds since the Unix epoch back to a UTC time.
func toTime(ns int64) time.Time {
	return time.Unix(0, ns).UTC()
}
