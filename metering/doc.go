// Package metering turns the presence intervals of a concurrent pool into the
// numbers that billing and the license usage report need: the occupancy C(t)
// (distinct signed-in users, R5), the sustained occupancy m(t) over the grace
// period, and the raw peak, sustained peak and billable overage of R7.
//
// The package is pure: it takes intervals and times and returns values, and
// does no I/O. Every computation works on step functions, so its cost depends
// on the number of presence changes, never on the length of the period.
package metering
