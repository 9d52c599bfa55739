package sqlstore

import (
	"context"
	"database/sql"
	"time"

	"github.com/seatkeeper/seatkeeper/entitlement"
)

// DecisionAccount returns the compiled account, for package snapshot.
func (s *Store) DecisionAccount(ctx context.Context, account string) (*entitlement.Account, error) {
	var out *entitlement.Account
	err := s.read(ctx, func(t *tx) error {
		st, err := t.state(account)
		if err == nil {
			out = st.ent
		}
		return err
	})
	return out, err
}

// Holding returns what a user holds and until when they are signed in
// (the latest expiry of their live presences; zero if none), for package
// snapshot. Only presences in the user's pool count: one begun before the
// user's plan became concurrent (or before a role linked it) took no place
// in the pool, and signs nobody in to it (R4).
func (s *Store) Holding(ctx context.Context, account, user string) (entitlement.Holding, time.Time, bool, error) {
	var h entitlement.Holding
	var until time.Time
	found := false
	err := s.read(ctx, func(t *tx) error {
		t.prefetch(account) // read with the user: no round trip of its own
		u, err := t.loadUser(account, user)
		if err != nil || !u.exists {
			return err
		}
		h, found = u.holding(), true
		st, err := t.state(account)
		if err != nil {
			return err
		}
		var last sql.NullInt64
		if err := t.queryRow("SELECT max(expires_at) FROM sessions WHERE account = ? AND user_id = ? AND pool = ? AND ended_at IS NULL", account, user, st.poolOf(u)).Scan(&last); err != nil {
			return err
		}
		if last.Valid {
			until = fromMicros(last.Int64)
		}
		return nil
	})
	return h, until, found, err
}

// SeatsInUse sums the seats held per license over all accounts, for the
// seatkeeper_seats_in_use metric.
func (s *Store) SeatsInUse(ctx context.Context) (map[string]int, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT c.license, sum(c.used) FROM seat_counters c
		JOIN accounts a ON a.id = c.account WHERE a.deleted_at IS NULL GROUP BY c.license`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var l string
		var n int
		if err := rows.Scan(&l, &n); err != nil {
			return nil, err
		}
		out[l] = n
	}
	return out, rows.Err()
}
