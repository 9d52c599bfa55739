package sqlstore

import (
	"context"
	"database/sql"
	"sort"
	"time"

	"github.com/seatkeeper/seatkeeper"
	"github.com/seatkeeper/seatkeeper/catalog"
	"github.com/seatkeeper/seatkeeper/metering"
)

// lookBehind is how far before a report's window the ledger is read for
// presences still open at its start. A presence that began earlier and has
// no event inside it is found through the sessions table.
const lookBehind = 7 * 24 * time.Hour

// LicenseUsage computes the license usage report (SPEC §4.7, R17) for the
// account's concurrent pools, or one license: per interval of the account's
// time zone, the quantity and allowance, the peak, average and sustained
// number of signed-in users (R7), how far the sustained number went over
// the quantity, the sign-ins and the refused sign-ins. For a named license
// the users counted are those holding a seat.
func (s *Store) LicenseUsage(ctx context.Context, account string, from, to time.Time, interval time.Duration, license string) ([]seatkeeper.LicenseUsageRow, error) {
	out := []seatkeeper.LicenseUsageRow{}
	err := s.read(ctx, func(t *tx) error {
		st, err := t.state(account)
		if err != nil {
			return err
		}
		loc, err := time.LoadLocation(st.account.TimeZone)
		if err != nil {
			return err
		}
		for _, sub := range st.subs {
			lic, _ := st.cat.License(sub.License)
			if license != "" && sub.License != license || license == "" && sub.Model != "concurrent" || lic.Scope != catalog.ScopeUser {
				continue
			}
			grace := time.Duration(*sub.GracePeriod)
			in, denied, err := t.usageIntervals(account, sub, from.Add(-grace), to)
			if err != nil {
				return err
			}
			qs, err := t.quantities(account, sub, from.Add(-grace), to)
			if err != nil {
				return err
			}
			for _, b := range metering.Report(in, denied, grace, qs, sub.OverageAllowance, from, to, interval, loc) {
				out = append(out, seatkeeper.LicenseUsageRow{
					IntervalStart: b.Start, License: sub.License, Quantity: b.Quantity, Allowance: b.Allowance,
					Peak: b.Peak, Average: b.Average, Sustained: b.Sustained, OverQuantity: b.OverQuantity,
					SignIns: b.SignIns, Denied: b.Denied,
				})
			}
		}
		if license != "" && len(st.subs) > 0 && len(out) == 0 {
			if _, ok := st.ent.Subscription(license); !ok {
				return seatkeeper.Errorf(seatkeeper.ENotFound, "account %s has no subscription to %q", account, license)
			}
		}
		sort.SliceStable(out, func(i, j int) bool { return out[i].IntervalStart.Before(out[j].IntervalStart) })
		return nil
	})
	return out, err
}

// usageIntervals reads, from the ledger, the intervals during which each
// user counted in [lo, hi): presences for a pool, seats for a named
// license; and the refused sign-ins.
func (t *tx) usageIntervals(account string, sub seatkeeper.Subscription, lo, hi time.Time) ([]metering.Interval, []time.Time, error) {
	startType, endType, key := seatkeeper.EventPresenceStart, seatkeeper.EventPresenceEnd, "session"
	if sub.Model != "concurrent" {
		startType, endType, key = seatkeeper.EventAssignmentAdd, seatkeeper.EventAssignmentRemove, "user_id"
	}
	from := lo.Add(-lookBehind)
	order := ""
	if sub.Model != "concurrent" {
		// Seats last for months: read the license's whole history, which
		// is a few events per user, pairing each user's in time order.
		from, order = time.Unix(0, 0), " ORDER BY at, id"
	}
	rows, err := t.query(`SELECT CASE type WHEN ? THEN 0 WHEN ? THEN 1 ELSE 2 END, user_id, `+key+`, at FROM usage_events
		WHERE account = ? AND license = ? AND type IN (?, ?, ?) AND at >= ? AND at < ?`+order,
		startType, endType, account, sub.License, startType, endType, seatkeeper.EventPresenceDenied, micros(from), micros(hi))
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	type half struct {
		user         string
		start, end   int64
		seenS, seenE bool
	}
	byKey := map[string]*half{}
	users := map[string]string{} // interned user ids
	var keys []string
	var out []metering.Interval
	var denied []time.Time
	var kind int
	var userB, keyB sql.RawBytes // no allocation per row: a million rows are read
	var at int64
	for rows.Next() {
		if err := rows.Scan(&kind, &userB, &keyB, &at); err != nil {
			return nil, nil, err
		}
		if kind == 2 {
			denied = append(denied, fromMicros(at))
			continue
		}
		h := byKey[string(keyB)]
		if h == nil {
			user, ok := users[string(userB)]
			if !ok {
				user = string(userB)
				users[user] = user
			}
			k := string(keyB)
			h = &half{user: user}
			byKey[k] = h
			keys = append(keys, k)
		}
		if kind == 0 && !h.seenS {
			h.start, h.seenS = at, true
		} else if kind == 1 {
			h.end, h.seenE = at, true
			if order != "" { // a seat: the next add starts a new interval
				if !h.seenS {
					h.start = micros(from)
				}
				out = append(out, metering.Interval{User: h.user, Start: fromMicros(h.start), End: fromMicros(h.end)})
				delete(byKey, string(keyB))
			}
		}
	}
	if err := rows.Err(); err != nil {
		return nil, nil, err
	}
	for _, k := range keys {
		h := byKey[k]
		if h == nil {
			continue
		}
		if !h.seenS {
			h.start = micros(from) // it began before the look-behind: it counts from there
		}
		iv := metering.Interval{User: h.user, Start: fromMicros(h.start)}
		if h.seenE {
			iv.End = fromMicros(h.end)
		} // else still open at hi
		out = append(out, iv)
	}
	if sub.Model == "concurrent" {
		// Presences older than the look-behind, with no event since.
		more, err := t.query(`SELECT user_id, ended_at FROM sessions WHERE account = ? AND pool = ? AND started_at < ? AND (ended_at IS NULL OR ended_at >= ?)`,
			account, sub.License, micros(from), micros(from))
		if err != nil {
			return nil, nil, err
		}
		defer more.Close()
		for more.Next() {
			var user string
			var end sql.NullInt64
			if err := more.Scan(&user, &end); err != nil {
				return nil, nil, err
			}
			if end.Valid && end.Int64 < micros(hi) {
				continue // its end is an event above
			}
			out = append(out, metering.Interval{User: user, Start: from})
		}
	}
	return out, denied, nil
}

// quantities reads the subscription's quantity over time from the ledger's
// subscription changes: the one in force at lo, then every change to hi.
func (t *tx) quantities(account string, sub seatkeeper.Subscription, lo, hi time.Time) ([]metering.QuantityChange, error) {
	var qs []metering.QuantityChange
	var q int
	var at int64
	err := t.queryRow(`SELECT quantity, at FROM usage_events WHERE account = ? AND license = ? AND type = ? AND at <= ? ORDER BY at DESC, id DESC LIMIT 1`,
		account, sub.License, seatkeeper.EventSubscriptionChange, micros(lo)).Scan(&q, &at)
	switch {
	case err == nil:
		qs = append(qs, metering.QuantityChange{At: lo, Quantity: q})
	case err != sql.ErrNoRows:
		return nil, err
	default:
		// No change recorded by lo: a subscription that had started by
		// then had the quantity it was first recorded with (a backfill of
		// days before the subscription was entered).
		q = 0
		var first int
		err := t.queryRow(`SELECT quantity FROM usage_events WHERE account = ? AND license = ? AND type = ? ORDER BY at, id LIMIT 1`,
			account, sub.License, seatkeeper.EventSubscriptionChange).Scan(&first)
		if err == nil && !sub.StartsAt.After(lo) {
			q = first
		}
		qs = append(qs, metering.QuantityChange{At: lo, Quantity: q})
	}
	rows, err := t.query(`SELECT quantity, at FROM usage_events WHERE account = ? AND license = ? AND type = ? AND at > ? AND at < ? ORDER BY at, id`,
		account, sub.License, seatkeeper.EventSubscriptionChange, micros(lo), micros(hi))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		if err := rows.Scan(&q, &at); err != nil {
			return nil, err
		}
		qs = append(qs, metering.QuantityChange{At: fromMicros(at), Quantity: q})
	}
	return qs, rows.Err()
}
