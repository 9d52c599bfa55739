package sqlstore

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"time"

	"github.com/seatkeeper/seatkeeper"
	"github.com/seatkeeper/seatkeeper/metering"
)

// frozenTerms are the inputs of a month's usage besides the ledger: the
// account's time zone and its user-scope subscriptions at the close. A
// closed month is recomputed under them, so that changing the time zone,
// a grace period or a subscription later changes no closed month.
type frozenTerms struct {
	TimeZone      string                    `json:"time_zone"`
	Subscriptions []seatkeeper.Subscription `json:"subscriptions"`
}

// closedRow is one row of closed_months. Usage is "" while the month is
// closed but not yet frozen (a close cut short between its two steps).
type closedRow struct {
	closedAt, endsAt     int64
	usage, terms, digest string
}

// CloseMonth closes a month (YYYY-MM, in the account's time zone) that has
// ended: it closes the ledger up to the month's end, so that imports of
// events before it are refused (EPeriodClosed), and freezes the month's
// usage with the terms it was computed under. Closing again returns what
// was frozen. Returns EConflict while the month has not ended, or while a
// presence of the month awaits its expiry (R6: it may still end inside it).
func (s *Store) CloseMonth(ctx context.Context, by seatkeeper.Actor, account, month string) (seatkeeper.ClosedMonth, error) {
	var out seatkeeper.ClosedMonth
	m, ok := seatkeeper.ParseMonth(month)
	if !ok {
		return out, seatkeeper.Errorf(seatkeeper.EInvalid, "month must be YYYY-MM, of %d to %d", seatkeeper.FirstYear, seatkeeper.LastYear)
	}
	st, loc, err := s.stateIn(ctx, account)
	if err != nil {
		return out, err
	}
	end := metering.StartOfDay(m.Year(), m.Month()+1, 1, loc)
	err = s.write(ctx, func(t *tx) error {
		if now := s.Now(); now.Before(end) {
			return seatkeeper.Errorf(seatkeeper.EConflict, "%s has not ended: it ends at %s", month, end.Format(time.RFC3339))
		}
		// The month is cut in the zone read above: with the account's row
		// locked (PutAccount changes the zone only with it locked, and
		// not once a month is closed), it must still be the account's.
		lock := ""
		if t.s.postgres {
			lock = " FOR UPDATE"
		}
		var zone string
		if err := t.queryRow("SELECT time_zone FROM accounts WHERE id = ?"+lock, account).Scan(&zone); err != nil {
			return err
		}
		if zone != st.account.TimeZone {
			return seatkeeper.Errorf(seatkeeper.EConflict, "the account's time zone changed while %s was being closed; try again", month)
		}
		var overdue int
		if err := t.queryRow("SELECT count(*) FROM sessions WHERE account = ? AND ended_at IS NULL AND expires_at < ?", account, micros(end)).Scan(&overdue); err != nil {
			return err
		}
		if overdue > 0 {
			return seatkeeper.Errorf(seatkeeper.EConflict, "%d presences of %s are still to be ended at their expiry; try again in a second", overdue, month)
		}
		res, err := t.exec("INSERT INTO closed_months (account, month, closed_at, ends_at) VALUES (?, ?, ?, ?) ON CONFLICT (account, month) DO NOTHING",
			account, month, micros(s.Now()), micros(end))
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil
		}
		return t.audit(account, by, "billing.close", month, nil)
	})
	if err != nil {
		return out, err
	}
	// From here on no import reaches the month: freeze it, unless an
	// earlier close (of this or another process) did.
	row, err := s.closedRow(ctx, account, month)
	if err != nil || row.usage != "" {
		return closedMonth(month, row), err
	}
	terms := frozenTerms{TimeZone: st.account.TimeZone, Subscriptions: userSubscriptions(st)}
	usage, err := s.frozenUsage(ctx, account, month, terms)
	if err != nil {
		return out, err
	}
	termsJSON, _ := json.Marshal(terms)
	if err := s.write(ctx, func(t *tx) error {
		_, err := t.exec("UPDATE closed_months SET usage = ?, terms = ?, digest = ? WHERE account = ? AND month = ? AND usage = ''",
			string(usage), string(termsJSON), digest(usage), account, month)
		return err
	}); err != nil {
		return out, err
	}
	row, err = s.closedRow(ctx, account, month)
	return closedMonth(month, row), err
}

// ClosedMonth returns what a closed month froze and recomputes it from the
// ledger under the frozen terms: Identical says the bytes are the same.
// Returns ENotFound if the month is not closed.
func (s *Store) ClosedMonth(ctx context.Context, account, month string) (seatkeeper.ClosedMonth, error) {
	if _, ok := seatkeeper.ParseMonth(month); !ok {
		return seatkeeper.ClosedMonth{}, seatkeeper.Errorf(seatkeeper.EInvalid, "month must be YYYY-MM, of %d to %d", seatkeeper.FirstYear, seatkeeper.LastYear)
	}
	if _, err := s.stateNow(ctx, account); err != nil {
		return seatkeeper.ClosedMonth{}, err
	}
	row, err := s.closedRow(ctx, account, month)
	if err != nil {
		return seatkeeper.ClosedMonth{}, err
	}
	if row.usage == "" {
		return seatkeeper.ClosedMonth{}, seatkeeper.Errorf(seatkeeper.ENotFound, "%s is not closed (or its close was cut short: close it again)", month)
	}
	var terms frozenTerms
	if err := json.Unmarshal([]byte(row.terms), &terms); err != nil {
		return seatkeeper.ClosedMonth{}, err
	}
	again, err := s.frozenUsage(ctx, account, month, terms)
	if err != nil {
		return seatkeeper.ClosedMonth{}, err
	}
	c := closedMonth(month, row)
	c.Recomputed = digest(again)
	same := bytes.Equal(again, []byte(row.usage))
	c.Identical = &same
	return c, nil
}

// frozenUsage is the month's usage under terms, in its canonical bytes.
func (s *Store) frozenUsage(ctx context.Context, account, month string, terms frozenTerms) ([]byte, error) {
	items, err := s.usageIn(ctx, account, seatkeeper.Location(terms.TimeZone), terms.Subscriptions, month)
	if err != nil {
		return nil, err
	}
	return json.Marshal(items[month])
}

func (s *Store) closedRow(ctx context.Context, account, month string) (closedRow, error) {
	var r closedRow
	err := s.read(ctx, func(t *tx) error {
		return t.queryRow("SELECT closed_at, ends_at, usage, terms, digest FROM closed_months WHERE account = ? AND month = ?", account, month).
			Scan(&r.closedAt, &r.endsAt, &r.usage, &r.terms, &r.digest)
	})
	if errors.Is(err, sql.ErrNoRows) {
		return r, seatkeeper.Errorf(seatkeeper.ENotFound, "%s is not closed", month)
	}
	return r, err
}

// frozenMonths returns the frozen usage of the closed months in [from, to].
func (s *Store) frozenMonths(ctx context.Context, account, from, to string) (map[string][]seatkeeper.MonthUsage, error) {
	out := map[string][]seatkeeper.MonthUsage{}
	err := s.read(ctx, func(t *tx) error {
		rows, err := t.query("SELECT month, usage FROM closed_months WHERE account = ? AND month >= ? AND month <= ? AND usage <> ''", account, from, to)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var month, usage string
			if err := rows.Scan(&month, &usage); err != nil {
				return err
			}
			var items []seatkeeper.MonthUsage
			if err := json.Unmarshal([]byte(usage), &items); err != nil {
				return err
			}
			out[month] = items
		}
		return rows.Err()
	})
	return out, err
}

// refuseClosed refuses events before the end of the latest closed month:
// closing a month closes the ledger up to its end, since an earlier event
// (a presence still open, an assignment) counts in the months after it.
func (t *tx) refuseClosed(account string, loc *time.Location, events []seatkeeper.UsageEvent) error {
	month, boundary, err := t.latestClosed(account, loc)
	if err != nil || month == "" {
		return err
	}
	t.closedAt = micros(boundary) // and no presence is stretched over it (syncSpans)
	for _, e := range events {
		if e.At.Before(boundary) {
			return seatkeeper.Errorf(seatkeeper.EPeriodClosed, "the ledger is closed up to the end of %s (%s), and an event at %s falls before it; none of the events were imported",
				month, boundary.In(loc).Format(time.RFC3339), e.At.In(loc).Format(time.RFC3339))
		}
	}
	return nil
}

// latestClosed returns the latest closed month of the account and its end
// ("" if none). loc places the end of a month closed before ends were
// recorded.
func (t *tx) latestClosed(account string, loc *time.Location) (string, time.Time, error) {
	var month string
	var endsAt int64
	err := t.queryRow("SELECT month, ends_at FROM closed_months WHERE account = ? ORDER BY month DESC LIMIT 1", account).Scan(&month, &endsAt)
	if errors.Is(err, sql.ErrNoRows) {
		return "", time.Time{}, nil
	}
	if err != nil {
		return "", time.Time{}, err
	}
	if endsAt == 0 {
		m, _ := time.Parse("2006-01", month)
		return month, metering.StartOfDay(m.Year(), m.Month()+1, 1, loc), nil
	}
	return month, fromMicros(endsAt), nil
}

// closedThrough is the end of the account's latest closed month, if any.
func (t *tx) closedThrough(account string) (time.Time, bool, error) {
	st, err := t.state(account)
	if err != nil {
		return time.Time{}, false, err
	}
	month, end, err := t.latestClosed(account, seatkeeper.Location(st.account.TimeZone))
	return end, month != "", err
}

func closedMonth(month string, r closedRow) seatkeeper.ClosedMonth {
	c := seatkeeper.ClosedMonth{Month: month, ClosedAt: fromMicros(r.closedAt), Digest: r.digest, Items: []seatkeeper.MonthUsage{}}
	if r.usage != "" {
		_ = json.Unmarshal([]byte(r.usage), &c.Items)
	}
	return c
}

func digest(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}
