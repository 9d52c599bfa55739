// Package billing computes statements from subscriptions and monthly usage
// (SPEC §4.6, R7, R14). It is pure: no I/O, no clock, no database. The same
// inputs always give the same statements, ids and JSON bytes.
//
// Calendar rules, all in the account's time zone:
//
//   - Billing is by whole local days. A plan covers every local day on
//     which it is in force at some instant: the day of StartsAt, and the
//     day of EndsAt unless EndsAt is exactly a local midnight (EndsAt is
//     exclusive).
//   - Billing periods are anchored on the local calendar day of StartsAt
//     (monthly, quarterly = 3 months, annual = 12). The anchor day is
//     clamped to each month's last day, always from the original day: a
//     plan started on Jan 31 has periods starting Jan 31, Feb 28 (29), Mar 31.
//     Period boundaries are local midnights.
//   - A period is made of service months, anchored the same way (a plan
//     anchored on the 15th has service months 15th to 14th). A service month
//     is labelled YYYY-MM by the month it starts in; "days in that month" is
//     its length in days.
//   - A quantity change takes effect from the start of the local day it
//     happens on (the last change of a day wins for that whole day).
//   - Usage months (Usage.Month) are calendar months in the account's time
//     zone, billed in arrears on the first statement whose period starts at
//     or after the end of the usage month.
package billing

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math/big"
	"sort"
	"time"
)

// Line kinds.
const (
	KindRecurring   = "recurring"
	KindOverage     = "overage"
	KindUncommitted = "uncommitted"
	KindProration   = "proration"
)

// Plan is one subscription as billing sees it.
type Plan struct {
	License       string `json:"license"`
	Currency      string `json:"currency"`
	BillingPeriod string `json:"billing_period"` // monthly | quarterly | annual ("" = monthly)
	Enforcement   string `json:"enforcement"`    // hard | commit
	// UnitPrice and OveragePrice are minor units per seat per month.
	UnitPrice    int64      `json:"unit_price"`
	OveragePrice int64      `json:"overage_price"`
	StartsAt     time.Time  `json:"starts_at"`
	EndsAt       *time.Time `json:"ends_at"`
	// Quantity is the quantity over time, sorted by At; before the first
	// change the first change's quantity applies. Empty means 0 seats.
	Quantity []QuantityChange `json:"quantity"`
	// Prices are the prices over time, if they changed: a service month's
	// days are billed at the prices in force on their first day (in the
	// account's time zone), and a month's overage at those in force on its
	// first day. Before the first change the first change's prices apply;
	// empty means UnitPrice and OveragePrice throughout.
	Prices []PriceChange `json:"prices,omitempty"`
}

// PriceChange is the prices of a plan from At on, minor units per seat per
// month.
type PriceChange struct {
	At           time.Time `json:"at"`
	UnitPrice    int64     `json:"unit_price"`
	OveragePrice int64     `json:"overage_price"`
}

// QuantityChange is the quantity of a plan from At on.
type QuantityChange struct {
	At       time.Time `json:"at"`
	Quantity int       `json:"quantity"`
}

// Usage is what a month used of one license (from the ledger): the seats
// billed in arrears. Overage is R7's billable overage, Uncommitted is R14's
// max(0, U − C).
type Usage struct {
	Month       string `json:"month"` // YYYY-MM in the account's time zone
	License     string `json:"license"`
	Overage     int    `json:"overage"`
	Uncommitted int    `json:"uncommitted"`
}

// Line is one line of a statement. Amount and UnitPrice are minor units.
type Line struct {
	License      string `json:"license"`
	Description  string `json:"description"`
	ServiceMonth string `json:"service_month"` // YYYY-MM
	Quantity     int    `json:"quantity"`
	UnitPrice    int64  `json:"unit_price"`
	Amount       int64  `json:"amount"`
	Kind         string `json:"kind"` // recurring | overage | uncommitted | proration
}

// Statement is what one plan bills for one billing period.
type Statement struct {
	ID          string    `json:"id"`
	Account     string    `json:"account"`
	Currency    string    `json:"currency"`
	PeriodStart time.Time `json:"period_start"`
	PeriodEnd   time.Time `json:"period_end"`
	Lines       []Line    `json:"lines"`
	Total       int64     `json:"total"`
}

// MonthsPerPeriod returns the length in months of a billing period, or 0
// for an unknown one. The empty string means monthly.
func MonthsPerPeriod(billingPeriod string) int {
	switch billingPeriod {
	case "", "monthly":
		return 1
	case "quarterly":
		return 3
	case "annual":
		return 12
	}
	return 0
}

// StatementID is the stable id of the statement of one license for the
// period starting at periodStart: "st_" and 16 hex digits of a SHA-256 of
// (account, license, period start).
func StatementID(account, license string, periodStart time.Time) string {
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00%s\x00%s", account, license, periodStart.UTC().Format(time.RFC3339Nano))
	return "st_" + hex.EncodeToString(h.Sum(nil)[:8])
}

// Prorate returns quantity × unitPrice × days / monthDays rounded half-even
// to the minor unit, computed exactly. monthDays must be positive.
func Prorate(quantity int, unitPrice int64, days, monthDays int) int64 {
	num := new(big.Int).Mul(big.NewInt(int64(quantity)), big.NewInt(unitPrice))
	num.Mul(num, big.NewInt(int64(days)))
	return roundHalfEven(num, big.NewInt(int64(monthDays)))
}

// roundHalfEven returns num/den rounded to the nearest integer, ties to
// even. den must be positive.
func roundHalfEven(num, den *big.Int) int64 {
	neg := num.Sign() < 0
	n := new(big.Int).Abs(num)
	q, r := new(big.Int).QuoRem(n, den, new(big.Int))
	switch new(big.Int).Lsh(r, 1).Cmp(den) {
	case 1:
		q.Add(q, big.NewInt(1))
	case 0:
		if q.Bit(0) == 1 {
			q.Add(q, big.NewInt(1))
		}
	}
	if neg {
		q.Neg(q)
	}
	return q.Int64()
}

// Statements returns every statement whose period starts in [from, to), for
// each plan separately, in the account's time zone loc (nil means UTC).
// Statements are ordered by period start, then license, then plan order.
//
// A statement is issued for every period that starts within the plan's
// term, and after the term only while usage remains to be billed in
// arrears (a closing statement with usage lines only). Plans with an
// unknown billing period are skipped; usage whose month is malformed or
// does not overlap the plan's term is ignored.
func Statements(account string, loc *time.Location, plans []Plan, usage []Usage, from, to time.Time) []Statement {
	if loc == nil {
		loc = time.UTC
	}
	type keyed struct {
		license string
		st      Statement
	}
	var all []keyed
	for _, p := range plans {
		for _, st := range planStatements(account, loc, p, usage, from, to) {
			all = append(all, keyed{p.License, st})
		}
	}
	sort.SliceStable(all, func(i, j int) bool {
		a, b := all[i], all[j]
		if !a.st.PeriodStart.Equal(b.st.PeriodStart) {
			return a.st.PeriodStart.Before(b.st.PeriodStart)
		}
		return a.license < b.license
	})
	out := make([]Statement, len(all))
	for i, k := range all {
		out[i] = k.st
	}
	return out
}
