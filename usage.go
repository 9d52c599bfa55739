package seatkeeper

import (
	"context"
	"time"
)

// Usage ledger event types (SPEC §1, §4.5).
const (
	EventPresenceStart      = "presence.start"
	EventPresenceEnd        = "presence.end"
	EventPresenceDenied     = "presence.denied" // a sign-in refused with pool_exhausted
	EventAssignmentAdd      = "assignment.add"
	EventAssignmentRemove   = "assignment.remove"
	EventUserActivate       = "user.activate"
	EventUserDeactivate     = "user.deactivate"
	EventSubscriptionChange = "subscription.change"
)

// FirstYear and LastYear bound the times whose usage may be asked about:
// reports, monthly usage, statements and closed months. Metering measures
// instants up to February 2116 (metering.instant).
const FirstYear, LastYear = 1970, 2115

// ParseMonth reads a month YYYY-MM of FirstYear to LastYear.
func ParseMonth(v string) (time.Time, bool) {
	m, err := time.Parse("2006-01", v)
	return m, err == nil && m.Year() >= FirstYear && m.Year() <= LastYear
}

// UsageEvent is one entry of the append-only usage ledger.
type UsageEvent struct {
	ID       int64     `json:"id"`
	At       time.Time `json:"at"`
	Type     string    `json:"type"`
	User     string    `json:"user,omitempty"`
	License  string    `json:"license,omitempty"`
	Kind     string    `json:"kind,omitempty"`
	Session  string    `json:"session,omitempty"`
	Quantity int       `json:"quantity,omitempty"`
	Source   string    `json:"source,omitempty"`
}

// UsageService reads the usage ledger.
type UsageService interface {
	// UsageEvents lists the account's ledger events with from <= at < to,
	// in the order they were appended.
	UsageEvents(ctx context.Context, account string, from, to time.Time) ([]UsageEvent, error)
}

// LicenseUsageRow is one row of the license usage report (SPEC §4.7).
type LicenseUsageRow struct {
	IntervalStart time.Time `json:"interval_start"`
	License       string    `json:"license"`
	Quantity      int       `json:"quantity"`
	Allowance     int       `json:"allowance"`
	Peak          int       `json:"peak"`
	Average       float64   `json:"average"`
	Sustained     int       `json:"sustained"`
	OverQuantity  int       `json:"over_quantity"`
	SignIns       int       `json:"sign_ins"`
	Denied        int       `json:"denied"`
}

// MonthUsage is what one license was used in one month (SPEC §4.6): for
// named subscriptions the quantity and the peak of assigned users; for
// concurrent ones the raw and sustained peaks and the billable overage
// (R7); for commitments U, the committed and the uncommitted seats (R14).
type MonthUsage struct {
	Month         string `json:"month"` // YYYY-MM in the account's time zone
	License       string `json:"license"`
	Model         string `json:"model"`
	Enforcement   string `json:"enforcement"`
	Quantity      int    `json:"quantity"`
	Peak          int    `json:"peak"`
	SustainedPeak int    `json:"sustained_peak"`
	Used          int    `json:"used"`
	Committed     int    `json:"committed"`
	Uncommitted   int    `json:"uncommitted"`
	Overage       int    `json:"overage"`
}

// ClosedMonth is a month an operator closed (SPEC §4.6): the usage it froze
// and its SHA-256, and whether recomputing the month from the ledger, under
// the terms frozen with it, gives the same bytes.
type ClosedMonth struct {
	Month    string       `json:"month"`
	ClosedAt time.Time    `json:"closed_at"`
	Digest   string       `json:"sha256"`
	Items    []MonthUsage `json:"items"`
	// Recomputed is the SHA-256 of the month recomputed now; Identical
	// says its bytes equal the frozen ones. Only a verification sets them.
	Recomputed string `json:"recomputed_sha256,omitempty"`
	Identical  *bool  `json:"identical,omitempty"`
}
