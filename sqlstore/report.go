package sqlstore

import (
	"context"
	"database/sql"
	"sort"
	"sync"
	"time"

	"github.com/seatkeeper/seatkeeper"
	"github.com/seatkeeper/seatkeeper/catalog"
	"github.com/seatkeeper/seatkeeper/metering"
)

// lookBehind is how far before a report's window the ledger is read for
// presences still open at its start. A presence that began earlier and has
// no event inside it is found through the sessions table.
const lookBehind = 24 * time.Hour

// LicenseUsage computes the license usage report (SPEC §4.7, R17) for the
// account's concurrent pools, or one license: per interval of the account's
// time zone, the quantity and allowance, the peak, average and sustained
// number of signed-in users (R7), how far the sustained number went over
// the quantity, the sign-ins and the refused sign-ins. For a named license
// the users counted are those holding a seat.
func (s *Store) LicenseUsage(ctx context.Context, account string, from, to time.Time, interval time.Duration, license string) ([]seatkeeper.LicenseUsageRow, error) {
	st, loc, err := s.stateIn(ctx, account)
	if err != nil {
		return nil, err
	}
	out := []seatkeeper.LicenseUsageRow{}
	for _, sub := range st.subs {
		lic, _ := st.cat.License(sub.License)
		if license != "" && sub.License != license || license == "" && sub.Model != "concurrent" || lic.Scope != catalog.ScopeUser {
			continue
		}
		grace := time.Duration(*sub.GracePeriod)
		in, denied, qs, err := s.usageOf(ctx, account, sub, from.Add(-grace), to)
		if err != nil {
			return nil, err
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
			return nil, seatkeeper.Errorf(seatkeeper.ENotFound, "account %s has no subscription to %q", account, license)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].IntervalStart.Before(out[j].IntervalStart) })
	return out, nil
}

// stateIn reads the account's compiled state and its time zone.
func (s *Store) stateIn(ctx context.Context, account string) (*acctState, *time.Location, error) {
	st, err := s.stateNow(ctx, account)
	if err != nil {
		return nil, nil, err
	}
	loc, err := time.LoadLocation(st.account.TimeZone)
	return st, loc, err
}

// stateNow reads the account's compiled state in a read of its own.
func (s *Store) stateNow(ctx context.Context, account string) (*acctState, error) {
	var st *acctState
	err := s.read(ctx, func(t *tx) error {
		var err error
		st, err = t.state(account)
		return err
	})
	return st, err
}

// usageOf reads what metering needs of one subscription over [lo, hi): who
// counted when, the refused sign-ins, and the quantity over time. Each read
// holds one connection at a time: a report never waits for a connection
// while holding another.
func (s *Store) usageOf(ctx context.Context, account string, sub seatkeeper.Subscription, lo, hi time.Time) (in []metering.Interval, denied []time.Time, qs []metering.QuantityChange, err error) {
	if sub.Model == "concurrent" {
		in, denied, err = s.presenceIntervals(ctx, account, sub.License, lo, hi)
	} else {
		err = s.read(ctx, func(t *tx) error {
			var err error
			in, err = t.seatIntervals(account, sub.License, hi)
			return err
		})
	}
	if err != nil {
		return nil, nil, nil, err
	}
	err = s.read(ctx, func(t *tx) error {
		var err error
		qs, err = t.quantities(account, sub, lo, hi)
		return err
	})
	return in, denied, qs, err
}

// seatIntervals reads, from the ledger, when each user held a seat of a
// named license before hi. Seats last for months: the license's whole
// history is read (a few events per user), each user's paired in time order.
func (t *tx) seatIntervals(account, license string, hi time.Time) ([]metering.Interval, error) {
	rows, err := t.query(`SELECT type, user_id, at FROM usage_events
		WHERE account = ? AND license = ? AND type IN (?, ?) AND at < ? ORDER BY at, id`,
		account, license, seatkeeper.EventAssignmentAdd, seatkeeper.EventAssignmentRemove, micros(hi))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	open := map[string]int64{}
	var out []metering.Interval
	for rows.Next() {
		var typ, user string
		var at int64
		if err := rows.Scan(&typ, &user, &at); err != nil {
			return nil, err
		}
		start, held := open[user]
		switch {
		case typ == seatkeeper.EventAssignmentAdd && !held:
			open[user] = at
		case typ == seatkeeper.EventAssignmentRemove && held:
			out = append(out, metering.Interval{User: user, Start: fromMicros(start), End: fromMicros(at)})
			delete(open, user)
		}
	}
	for user, start := range open {
		out = append(out, metering.Interval{User: user, Start: fromMicros(start)}) // still held at hi
	}
	return out, rows.Err()
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

// presence is what the ledger says of one session.
type presence struct {
	user         string
	start, end   int64
	seenS, seenE bool
}

// presenceIntervals reads a pool's presences over [lo, hi) from the ledger,
// in two halves read side by side (a month holds a million events), plus
// the live sessions that began before the look-behind.
func (s *Store) presenceIntervals(ctx context.Context, account, license string, lo, hi time.Time) ([]metering.Interval, []time.Time, error) {
	from := lo.Add(-lookBehind)
	mid := from.Add(hi.Sub(from) / 2)
	type part struct {
		sessions map[string]*presence
		denied   []time.Time
		err      error
	}
	parts := make([]part, 2)
	bounds := [][2]time.Time{{from, mid}, {mid, hi}}
	var wg sync.WaitGroup
	for i := range parts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			parts[i].err = s.read(ctx, func(t *tx) error {
				var err error
				parts[i].sessions, parts[i].denied, err = t.scanPresences(account, license, bounds[i][0], bounds[i][1])
				return err
			})
		}()
	}
	wg.Wait()
	for _, p := range parts {
		if p.err != nil {
			return nil, nil, p.err
		}
	}
	all := parts[0].sessions
	for k, b := range parts[1].sessions {
		a := all[k]
		switch {
		case a == nil:
			all[k] = b
		case b.seenE:
			a.end, a.seenE = b.end, true
		}
	}
	out := make([]metering.Interval, 0, len(all))
	for _, p := range all {
		iv := metering.Interval{User: p.user, Start: from}
		if p.seenS {
			iv.Start = fromMicros(p.start)
		} // else it began before the look-behind: it counts from there
		if p.seenE {
			iv.End = fromMicros(p.end)
		} // else it is still open at hi
		out = append(out, iv)
	}
	// Live presences older than the look-behind, with no event since.
	err := s.read(ctx, func(t *tx) error {
		rows, err := t.query(`SELECT user_id FROM sessions WHERE account = ? AND pool = ? AND started_at < ? AND (ended_at IS NULL OR ended_at >= ?)`,
			account, license, micros(from), micros(hi))
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var user string
			if err := rows.Scan(&user); err != nil {
				return err
			}
			out = append(out, metering.Interval{User: user, Start: from})
		}
		return rows.Err()
	})
	return out, append(parts[0].denied, parts[1].denied...), err
}

// scanPresences reads the presence events of a pool in [lo, hi), by session.
func (t *tx) scanPresences(account, license string, lo, hi time.Time) (map[string]*presence, []time.Time, error) {
	rows, err := t.query(`SELECT CASE type WHEN ? THEN 0 WHEN ? THEN 1 ELSE 2 END, user_id, session, at FROM usage_events
		WHERE account = ? AND license = ? AND type IN (?, ?, ?) AND at >= ? AND at < ?`,
		seatkeeper.EventPresenceStart, seatkeeper.EventPresenceEnd, account, license,
		seatkeeper.EventPresenceStart, seatkeeper.EventPresenceEnd, seatkeeper.EventPresenceDenied, micros(lo), micros(hi))
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	sessions := map[string]*presence{}
	users := map[string]string{} // interned
	var denied []time.Time
	var kind int
	var userB, keyB sql.RawBytes // no allocation per row
	var at int64
	for rows.Next() {
		if err := rows.Scan(&kind, &userB, &keyB, &at); err != nil {
			return nil, nil, err
		}
		if kind == 2 {
			denied = append(denied, fromMicros(at))
			continue
		}
		p := sessions[string(keyB)]
		if p == nil {
			user, ok := users[string(userB)]
			if !ok {
				user = string(userB)
				users[user] = user
			}
			p = &presence{user: user}
			sessions[string(keyB)] = p
		}
		if kind == 0 && !p.seenS {
			p.start, p.seenS = at, true
		} else if kind == 1 {
			p.end, p.seenE = at, true
		}
	}
	return sessions, denied, rows.Err()
}
