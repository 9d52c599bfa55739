package sqlstore

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"math"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/seatkeeper/seatkeeper"
	"github.com/seatkeeper/seatkeeper/catalog"
	"github.com/seatkeeper/seatkeeper/metering"
)

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
		grace := meteredGrace(sub) // as billing meters it
		in, denied, qs, err := s.usageOf(ctx, account, sub, from.Add(-grace), to)
		if err != nil {
			return nil, err
		}
		// Within the subscription's term only is anything over the
		// quantity, as billing says; outside it the quantity and the
		// allowance are 0.
		termTo := time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC) // no end
		if sub.EndsAt != nil {
			termTo = *sub.EndsAt
		}
		allowances, err := s.allowances(ctx, account, sub)
		if err != nil {
			return nil, err
		}
		for _, b := range in.ReportWithin(denied, grace, qs, allowances, from, to, interval, loc, sub.StartsAt, termTo) {
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
	return st, seatkeeper.Location(st.account.TimeZone), nil
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
func (s *Store) usageOf(ctx context.Context, account string, sub seatkeeper.Subscription, lo, hi time.Time) (in *metering.Presences, denied []time.Time, qs []metering.QuantityChange, err error) {
	if sub.Model == "concurrent" {
		in, denied, err = s.presencesIn(ctx, account, sub.License, lo, hi)
	} else {
		err = s.read(ctx, func(t *tx) error {
			seats, err := t.seatIntervals(account, sub.License, hi)
			// Held until now, and no further, like a presence: what has
			// not happened yet is not usage.
			now := s.Now()
			seats = slices.DeleteFunc(seats, func(iv metering.Interval) bool { return !iv.Start.Before(now) })
			for i := range seats {
				if seats[i].End.IsZero() || seats[i].End.After(now) {
					seats[i].End = now
				}
			}
			in = metering.PresencesOf(seats)
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
	// Sorted here, not by the database: an ORDER BY at would tempt the
	// planner into the account's whole ledger by time.
	rows, err := t.query(`SELECT id, type, user_id, at FROM usage_events
		WHERE account = ? AND license = ? AND type IN (?, ?) AND `+notPresence+` AND at < ?`,
		account, license, seatkeeper.EventAssignmentAdd, seatkeeper.EventAssignmentRemove, micros(hi))
	if err != nil {
		return nil, err
	}
	type event struct {
		id, at int64
		typ    string
		user   string
	}
	var events []event
	for rows.Next() {
		var e event
		if err := rows.Scan(&e.id, &e.typ, &e.user, &e.at); err != nil {
			rows.Close()
			return nil, err
		}
		events = append(events, e)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	// R3: an inactive user holds no seat, and a deactivation frees every
	// seat the user held. A live deactivation records the seats' removal
	// as well, and a reactivation those that come back; an import may not.
	ts, err := t.toggles(account, hi)
	if err != nil {
		return nil, err
	}
	for _, x := range ts {
		e := event{id: x.id, at: x.at, user: x.user, typ: seatkeeper.EventUserDeactivate}
		if x.active {
			e.typ = seatkeeper.EventUserActivate
		}
		events = append(events, e)
	}
	slices.SortFunc(events, func(a, b event) int { return cmp.Or(cmp.Compare(a.at, b.at), cmp.Compare(a.id, b.id)) })
	open, inactive := map[string]int64{}, map[string]bool{}
	var out []metering.Interval
	for _, e := range events {
		start, held := open[e.user]
		switch e.typ {
		case seatkeeper.EventAssignmentAdd:
			if !held && !inactive[e.user] {
				open[e.user] = e.at
			}
			continue
		case seatkeeper.EventUserActivate:
			delete(inactive, e.user)
			continue
		case seatkeeper.EventUserDeactivate:
			inactive[e.user] = true
		}
		if held { // a removal or a deactivation
			out = append(out, metering.Interval{User: e.user, Start: fromMicros(start), End: fromMicros(e.at)})
			delete(open, e.user)
		}
	}
	for user, start := range open {
		out = append(out, metering.Interval{User: user, Start: fromMicros(start)}) // still held at hi
	}
	return out, nil
}

// toggle is a user.activate or user.deactivate of the ledger: its id, its
// user (and the user's key in presences, -1 if they have none), its time,
// and whether the user is active from then on.
type toggle struct {
	id      int64
	user    string
	key, at int64
	active  bool
}

// toggles reads the account's user activations and deactivations before
// hi, in the ledger's order. Metering counts users while they are active
// (R3): a user is active until a deactivation, and the presences and seats
// the ledger leaves open past one end there.
func (t *tx) toggles(account string, hi time.Time) ([]toggle, error) {
	rows, err := t.query(`SELECT e.id, e.type, e.user_id, coalesce(k.key, -1), e.at FROM usage_events e
		LEFT JOIN user_keys k ON k.account = e.account AND k.user_id = e.user_id
		WHERE e.account = ? AND e.license = '' AND e.type IN (?, ?) AND `+notPresence+` AND e.at < ?`,
		account, seatkeeper.EventUserActivate, seatkeeper.EventUserDeactivate, micros(hi))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []toggle
	for rows.Next() {
		var x toggle
		var typ string
		if err := rows.Scan(&x.id, &typ, &x.user, &x.key, &x.at); err != nil {
			return nil, err
		}
		x.active = typ == seatkeeper.EventUserActivate
		out = append(out, x)
	}
	slices.SortFunc(out, func(a, b toggle) int { return cmp.Or(cmp.Compare(a.at, b.at), cmp.Compare(a.id, b.id)) })
	return out, rows.Err()
}

// activeSpan is the part of a presence [start, end) that counts, given its
// user's toggles (in order): from its start, or the first activation after
// it if the user was inactive then, to the first deactivation after that,
// or its end — as the presence API would have it, where an inactive user
// cannot sign in and a deactivation ends the user's presences (R3). ok is
// false if nothing counts.
func activeSpan(ts []toggle, start, end int64) (from, to int64, ok bool) {
	// The first toggle after start; the one before it says whether the
	// user is active at start.
	i := sort.Search(len(ts), func(i int) bool { return ts[i].at > start })
	from = start
	if i > 0 && !ts[i-1].active {
		for i < len(ts) && !ts[i].active {
			i++
		}
		if i == len(ts) {
			return 0, 0, false
		}
		from = ts[i].at
		i++
	}
	to = end
	for ; i < len(ts); i++ { // the toggles after the one it counts from
		if !ts[i].active {
			to = min(to, ts[i].at)
			break
		}
	}
	return from, to, from < to
}

// allowances reads the history of a subscription's overage allowance
// (recordAllowance), oldest first; a subscription from before the history
// has its allowance from the start.
func (s *Store) allowances(ctx context.Context, account string, sub seatkeeper.Subscription) ([]metering.QuantityChange, error) {
	var out []metering.QuantityChange
	err := s.read(ctx, func(t *tx) error {
		rows, err := t.query("SELECT at, allowance FROM subscription_allowances WHERE account = ? AND license = ? ORDER BY at", account, sub.License)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var c metering.QuantityChange
			var at int64
			if err := rows.Scan(&at, &c.Quantity); err != nil {
				return err
			}
			if at != math.MinInt64 { // else "from the start": the zero time
				c.At = fromMicros(at)
			}
			out = append(out, c)
		}
		return rows.Err()
	})
	if len(out) == 0 {
		out = []metering.QuantityChange{{Quantity: sub.OverageAllowance}}
	}
	return out, err
}

// quantities reads the subscription's quantity over time from the ledger's
// subscription changes: the one in force at lo, then every change to hi.
func (t *tx) quantities(account string, sub seatkeeper.Subscription, lo, hi time.Time) ([]metering.QuantityChange, error) {
	var qs []metering.QuantityChange
	var q int
	var at int64
	err := t.queryRow(`SELECT quantity, at FROM usage_events WHERE account = ? AND license = ? AND type = ? AND `+notPresence+` AND at <= ? ORDER BY at DESC, id DESC LIMIT 1`,
		account, sub.License, seatkeeper.EventSubscriptionChange, micros(lo)).Scan(&q, &at)
	switch {
	case err == nil:
		qs = append(qs, metering.QuantityChange{At: lo, Quantity: q})
	case !errors.Is(err, sql.ErrNoRows):
		return nil, err
	default:
		// No change recorded by lo: the quantity first recorded held
		// before it (a backfill of days before the subscription was
		// entered). Outside the term the report gives 0 (ReportWithin),
		// and billing reads from the term's start.
		q = 0
		if err := t.queryRow(`SELECT quantity FROM usage_events WHERE account = ? AND license = ? AND type = ? AND `+notPresence+` ORDER BY at, id LIMIT 1`,
			account, sub.License, seatkeeper.EventSubscriptionChange).Scan(&q); err != nil && !errors.Is(err, sql.ErrNoRows) {
			return nil, err
		}
		qs = append(qs, metering.QuantityChange{At: lo, Quantity: q})
	}
	rows, err := t.query(`SELECT quantity, at FROM usage_events WHERE account = ? AND license = ? AND type = ? AND `+notPresence+` AND at > ? AND at < ? ORDER BY at, id`,
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

// notPresence is the predicate of the partial index usage_events_license_type
// (migration 0009): the ledger's other events by license, type and time,
// without the presence starts and ends (the presences table has those).
// Queries spell it out so that the index serves them.
const notPresence = "type NOT IN ('presence.start', 'presence.end')"

// longPresence is the length above which a presence is "long": the
// presences_long index holds those, so that a period finds every presence
// that began before it by reading one day back, plus the open and the long
// ones. The migration's index predicate spells the same number.
const longPresence = 24 * time.Hour

// presencesIn reads a pool's presences that reach into [lo, hi) from the
// presences table (one row a presence, kept with the ledger's events), and
// its refused sign-ins. The presences that began in the last day before lo
// or after it are read in two parts side by side, so that a month of a
// large pool takes both cores of the machine we measure on; more parts
// were no faster there, and each holds a connection and its page cache.
func (s *Store) presencesIn(ctx context.Context, account, license string, lo, hi time.Time) (*metering.Presences, []time.Time, error) {
	from, now := lo.Add(-longPresence), micros(s.Now())
	var toggles map[int64][]toggle // by user key
	if err := s.read(ctx, func(t *tx) error {
		ts, err := t.toggles(account, hi)
		for _, x := range ts {
			if x.key >= 0 {
				if toggles == nil {
					toggles = map[int64][]toggle{}
				}
				toggles[x.key] = append(toggles[x.key], x)
			}
		}
		return err
	}); err != nil {
		return nil, nil, err
	}
	const parts = 2
	res := make([]metering.Presences, parts+1)
	errs := make([]error, parts+1)
	var wg sync.WaitGroup
	step := hi.Sub(from) / parts
	for i := range res {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = s.read(ctx, func(t *tx) error {
				if i == parts { // open presences, and long ones, begun before from
					err := t.presenceRows(&res[i], now, toggles, `SELECT user_key, started_at, 0 FROM presences
						WHERE account = ? AND license = ? AND ended_at IS NULL AND started_at < ?`, account, license, micros(from))
					if err != nil {
						return err
					}
					return t.presenceRows(&res[i], now, toggles, `SELECT user_key, started_at, ended_at FROM presences
						WHERE account = ? AND license = ? AND ended_at - started_at > 86400000000 AND started_at < ? AND ended_at >= ?`,
						account, license, micros(from), micros(lo))
				}
				a, b := from.Add(time.Duration(i)*step), from.Add(time.Duration(i+1)*step)
				if i == parts-1 {
					b = hi
				}
				return t.presenceRows(&res[i], now, toggles, `SELECT user_key, started_at, coalesce(ended_at, 0) FROM presences
					WHERE account = ? AND license = ? AND started_at >= ? AND started_at < ? AND (ended_at IS NULL OR ended_at >= ?)`,
					account, license, micros(a), micros(b), micros(lo))
			})
		}()
	}
	var denied []time.Time
	err := s.read(ctx, func(t *tx) error {
		var err error
		denied, err = t.deniedIn(account, license, lo, hi)
		return err
	})
	wg.Wait()
	out := &res[0]
	for i := range res {
		if errs[i] != nil {
			return nil, nil, errs[i]
		}
		if i > 0 {
			out.Merge(&res[i])
			res[i] = metering.Presences{} // let it go
		}
	}
	return out, denied, err
}

// presenceRows adds the rows of q — user key, start, end (0 if open) — to
// p. A presence still open, or imported with an end still to come, has
// lasted until now, and no further: what has not happened yet is not usage
// (an open one would otherwise count as signed in for the rest of the
// report, and bill an overage at once). Of a presence of a user who was
// inactive in it, only its activeSpan counts (toggles: by user key).
func (t *tx) presenceRows(p *metering.Presences, now int64, toggles map[int64][]toggle, q string, args ...any) error {
	rows, err := t.query(q, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	var user, start, end int64
	for rows.Next() {
		if err := rows.Scan(&user, &start, &end); err != nil {
			return err
		}
		if start >= now {
			continue // begins later: nothing yet
		}
		if end == 0 || end > now {
			end = now
		}
		if ts := toggles[user]; ts != nil {
			var ok bool
			if start, end, ok = activeSpan(ts, start, end); !ok {
				continue
			}
		}
		p.Add(user, fromMicros(start), fromMicros(end))
	}
	return rows.Err()
}

// deniedIn reads the pool's refused sign-ins in [lo, hi).
func (t *tx) deniedIn(account, license string, lo, hi time.Time) ([]time.Time, error) {
	rows, err := t.query(`SELECT at FROM usage_events WHERE account = ? AND license = ? AND type = ? AND `+notPresence+` AND at >= ? AND at < ?`,
		account, license, seatkeeper.EventPresenceDenied, micros(lo), micros(hi))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []time.Time
	var at int64
	for rows.Next() {
		if err := rows.Scan(&at); err != nil {
			return nil, err
		}
		out = append(out, fromMicros(at))
	}
	return out, rows.Err()
}
