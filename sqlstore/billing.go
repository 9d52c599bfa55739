package sqlstore

import (
	"context"
	"fmt"
	"time"

	"github.com/seatkeeper/seatkeeper"
	"github.com/seatkeeper/seatkeeper/billing"
	"github.com/seatkeeper/seatkeeper/catalog"
	"github.com/seatkeeper/seatkeeper/metering"
)

// MaxMonths bounds one monthly usage request.
const MaxMonths = 36

// MonthlyUsage computes, from the usage ledger, every month from `from` to
// `to` (YYYY-MM, both included, in the account's time zone, daylight saving
// and all) for every user license the account subscribes to (SPEC §4.6).
func (s *Store) MonthlyUsage(ctx context.Context, account, from, to string) ([]seatkeeper.MonthUsage, error) {
	first, ok1 := seatkeeper.ParseMonth(from)
	last, ok2 := seatkeeper.ParseMonth(to)
	if !ok1 || !ok2 || last.Before(first) {
		return nil, &seatkeeper.Error{Code: seatkeeper.EInvalid, Message: "invalid months",
			Fields: []seatkeeper.FieldError{{Field: "from", Message: fmt.Sprintf("from and to are months YYYY-MM of %d to %d, from not after to", seatkeeper.FirstYear, seatkeeper.LastYear)}}}
	}
	months := (last.Year()-first.Year())*12 + int(last.Month()-first.Month()) + 1
	if months > MaxMonths {
		return nil, seatkeeper.Errorf(seatkeeper.EInvalid, "at most %d months at once", MaxMonths)
	}
	st, loc, err := s.stateIn(ctx, account)
	if err != nil {
		return nil, err
	}
	frozen, err := s.frozenMonths(ctx, account, from, to)
	if err != nil {
		return nil, err
	}
	subs := userSubscriptions(st)
	var open []string // the months not frozen, computed now
	for i := range months {
		if month := first.AddDate(0, i, 0).Format("2006-01"); frozen[month] == nil {
			open = append(open, month)
		}
	}
	computed, err := s.usageIn(ctx, account, loc, subs, open...)
	if err != nil {
		return nil, err
	}
	out := []seatkeeper.MonthUsage{}
	for i := range months {
		month := first.AddDate(0, i, 0).Format("2006-01")
		items, ok := frozen[month] // a closed month answers what it froze
		if !ok {
			items = computed[month]
		}
		out = append(out, items...)
	}
	return out, nil
}

// userSubscriptions are the subscriptions metered per user: those of user
// licenses, not account-wide or quantity ones.
func userSubscriptions(st *acctState) []seatkeeper.Subscription {
	var subs []seatkeeper.Subscription
	for _, sub := range st.subs {
		if lic, _ := st.cat.License(sub.License); lic.Scope == catalog.ScopeUser {
			subs = append(subs, sub)
		}
	}
	return subs
}

// usageIn computes months (YYYY-MM in loc, in order) of the subscriptions
// from the ledger. A named license's assignment history and a
// subscription's quantity history are read once for all the months; a
// pool's presences a month at a time, since a month of a large pool is
// millions of them.
func (s *Store) usageIn(ctx context.Context, account string, loc *time.Location, subs []seatkeeper.Subscription, months ...string) (map[string][]seatkeeper.MonthUsage, error) {
	out := map[string][]seatkeeper.MonthUsage{}
	if len(months) == 0 {
		return out, nil
	}
	bounds := make([][2]time.Time, len(months))
	for i, month := range months {
		m, err := time.Parse("2006-01", month)
		if err != nil {
			return nil, err
		}
		bounds[i] = [2]time.Time{metering.StartOfDay(m.Year(), m.Month(), 1, loc), metering.StartOfDay(m.Year(), m.Month()+1, 1, loc)}
		out[month] = make([]seatkeeper.MonthUsage, 0, len(subs))
	}
	for _, sub := range subs {
		windows := [][2]time.Time{{bounds[0][0], bounds[len(bounds)-1][1]}} // one read for all
		grace := meteredGrace(sub)
		if sub.Model == "concurrent" {
			windows = bounds
		}
		for _, w := range windows {
			in, _, qs, err := s.usageOf(ctx, account, sub, w[0].Add(-grace), w[1])
			if err != nil {
				return nil, err
			}
			for i, b := range bounds {
				if b[0].Before(w[0]) || b[1].After(w[1]) {
					continue
				}
				// Usage counts within the subscription's term only: what
				// came before starts_at or after ends_at is billed by none
				// of its months (a backfill of days before the term, say).
				// A month wholly outside the term had no quantity either.
				var peaks metering.Peaks
				quantity := 0
				if lo, hi := termOf(sub, b); lo.Before(hi) {
					peaks, quantity = in.PeaksSince(grace, qs, sub.StartsAt, lo, hi), quantityBefore(qs, b[1])
				}
				u := monthUsage(sub, peaks, quantity)
				u.Month = months[i]
				out[months[i]] = append(out[months[i]], u)
			}
		}
	}
	return out, nil
}

// termOf is the part of [b[0], b[1]) within the subscription's term.
func termOf(sub seatkeeper.Subscription, b [2]time.Time) (lo, hi time.Time) {
	lo, hi = b[0], b[1]
	if sub.StartsAt.After(lo) {
		lo = sub.StartsAt
	}
	if sub.EndsAt != nil && sub.EndsAt.Before(hi) {
		hi = *sub.EndsAt
	}
	return lo, hi
}

// meteredGrace is the grace period R7 meters a subscription with: a pool's
// own; none for named seats.
func meteredGrace(sub seatkeeper.Subscription) time.Duration {
	if sub.Model != "concurrent" {
		return 0
	}
	return time.Duration(*sub.GracePeriod)
}

// quantityBefore is the quantity in force just before t: that of the
// latest change before it (of several at one instant, the last given).
func quantityBefore(qs []metering.QuantityChange, t time.Time) int {
	q, at, found := 0, time.Time{}, false
	for _, c := range qs {
		if c.At.Before(t) && (!found || !c.At.Before(at)) {
			q, at, found = c.Quantity, c.At, true
		}
	}
	return q
}

// monthUsage is one month of a subscription from its peaks and the
// quantity in force at the month's end.
func monthUsage(sub seatkeeper.Subscription, peaks metering.Peaks, quantity int) seatkeeper.MonthUsage {
	u := seatkeeper.MonthUsage{License: sub.License, Model: sub.Model, Enforcement: sub.Enforcement, Quantity: quantity, Peak: peaks.Raw}
	switch {
	case sub.Model == "concurrent":
		u.SustainedPeak, u.Overage, u.Used = peaks.Sustained, peaks.Overage, peaks.Raw
	case sub.Enforcement == "commit":
		// R14: U is the most active users holding the license at any
		// instant of the month; beyond the commitment they are uncommitted.
		u.Used, u.Committed = peaks.Raw, u.Quantity
		u.Uncommitted = max(0, u.Used-u.Committed)
	default:
		u.Used = peaks.Raw
	}
	return u
}

// Statements computes the account's statements whose billing period starts
// in [from, to) (SPEC §4.6): each subscription's recurring charges in
// advance, prorated by days, and the overage and uncommitted seats of the
// ledger's months in arrears (package billing).
func (s *Store) Statements(ctx context.Context, account string, from, to time.Time) ([]billing.Statement, error) {
	st, loc, err := s.stateIn(ctx, account)
	if err != nil {
		return nil, err
	}
	var plans []billing.Plan
	first := to
	for _, sub := range st.subs {
		var qs []metering.QuantityChange
		var prices []billing.PriceChange
		if err := s.read(ctx, func(t *tx) error {
			var err error
			if qs, err = t.quantities(account, sub, sub.StartsAt, to); err != nil {
				return err
			}
			prices, err = t.prices(account, sub.License)
			return err
		}); err != nil {
			return nil, err
		}
		p := billing.Plan{License: sub.License, Currency: sub.Currency, BillingPeriod: sub.BillingPeriod, Enforcement: sub.Enforcement,
			UnitPrice: sub.UnitPrice, OveragePrice: sub.OveragePrice, StartsAt: sub.StartsAt, EndsAt: sub.EndsAt, Prices: prices}
		for _, q := range qs {
			p.Quantity = append(p.Quantity, billing.QuantityChange{At: q.At, Quantity: q.Quantity})
		}
		plans = append(plans, p)
		if sub.StartsAt.Before(first) {
			first = sub.StartsAt
		}
	}
	// The months whose usage the statements may bill in arrears.
	var usage []billing.Usage
	lo := from.In(loc).AddDate(-1, 0, 0) // an annual period bills the year before it
	if first.After(lo) {
		lo = first
	}
	// Within the years there is usage of (seatkeeper.FirstYear to LastYear).
	if earliest := metering.StartOfDay(seatkeeper.FirstYear, 1, 1, loc); lo.Before(earliest) {
		lo = earliest
	}
	if lo.Before(to) {
		// Every month from lo to the day before to, MaxMonths at a time.
		last := to.In(loc).AddDate(0, 0, -1)
		if latest := time.Date(seatkeeper.LastYear, 12, 1, 0, 0, 0, 0, loc); last.After(latest) {
			last = latest
		}
		y, m, _ := lo.In(loc).Date()
		n := (last.Year()-y)*12 + int(last.Month()-m) + 1
		for i := 0; i < n; i += MaxMonths {
			month := func(k int) string { return time.Date(y, m+time.Month(k), 1, 0, 0, 0, 0, time.UTC).Format("2006-01") }
			months, err := s.MonthlyUsage(ctx, account, month(i), month(min(i+MaxMonths, n)-1))
			if err != nil {
				return nil, err
			}
			for _, m := range months {
				if m.Overage > 0 || m.Uncommitted > 0 {
					usage = append(usage, billing.Usage{Month: m.Month, License: m.License, Overage: m.Overage, Uncommitted: m.Uncommitted})
				}
			}
		}
	}
	return billing.Statements(account, loc, plans, usage, from, to), nil
}

// prices reads a subscription's price history (see recordPrices).
func (t *tx) prices(account, license string) ([]billing.PriceChange, error) {
	rows, err := t.query("SELECT at, unit_price, overage_price FROM subscription_prices WHERE account = ? AND license = ? ORDER BY at", account, license)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []billing.PriceChange
	for rows.Next() {
		var at int64
		var c billing.PriceChange
		if err := rows.Scan(&at, &c.UnitPrice, &c.OveragePrice); err != nil {
			return nil, err
		}
		c.At = fromMicros(at)
		out = append(out, c)
	}
	return out, rows.Err()
}

// Advice answers, for a commit or concurrent subscription, which constant
// quantity would have cost least over the last `months` complete months
// (in the account's time zone, none before the subscription started) at
// the subscription's prices, from the months' usage (frozen where closed).
// Returns ENotFound without the subscription, EInvalid for a named hard
// subscription and EConflict before its first complete month.
func (s *Store) Advice(ctx context.Context, account, license string, months int) (billing.Advice, error) {
	if months < 1 || months > MaxMonths {
		return billing.Advice{}, &seatkeeper.Error{Code: seatkeeper.EInvalid, Message: "invalid months",
			Fields: []seatkeeper.FieldError{{Field: "months", Message: fmt.Sprintf("must be 1 to %d", MaxMonths)}}}
	}
	st, loc, err := s.stateIn(ctx, account)
	if err != nil {
		return billing.Advice{}, err
	}
	var sub *seatkeeper.Subscription
	for i := range st.subs {
		if st.subs[i].License == license {
			sub = &st.subs[i]
		}
	}
	if sub == nil {
		return billing.Advice{}, seatkeeper.Errorf(seatkeeper.ENotFound, "account %s has no subscription to %q", account, license)
	}
	concurrent := sub.Model == "concurrent"
	if !concurrent && sub.Enforcement != "commit" {
		return billing.Advice{}, seatkeeper.Errorf(seatkeeper.EInvalid, "%s is a named subscription with a hard cap: advice is for commitments and concurrent pools", license)
	}
	now := s.Now().In(loc)
	thisMonth := metering.StartOfDay(now.Year(), now.Month(), 1, loc)
	first := thisMonth.AddDate(0, -months, 0)
	if start := sub.StartsAt.In(loc); start.After(first) {
		first = metering.StartOfDay(start.Year(), start.Month(), 1, loc)
	}
	if !first.Before(thisMonth) {
		return billing.Advice{}, seatkeeper.Errorf(seatkeeper.EConflict, "%s has no complete month of usage yet", license)
	}
	usage, err := s.MonthlyUsage(ctx, account, first.Format("2006-01"), thisMonth.AddDate(0, -1, 0).Format("2006-01"))
	if err != nil {
		return billing.Advice{}, err
	}
	var history []billing.AdviceMonth
	for _, u := range usage {
		if u.License == license {
			m := billing.AdviceMonth{Month: u.Month, Usage: u.Used, Peak: u.Peak}
			if concurrent {
				m.Usage = u.SustainedPeak
			}
			history = append(history, m)
		}
	}
	a := billing.Advise(history, sub.Quantity, sub.UnitPrice, sub.OveragePrice, concurrent, sub.OverageAllowance)
	a.License, a.Model, a.Enforcement, a.Currency = sub.License, sub.Model, sub.Enforcement, sub.Currency
	return a, nil
}
