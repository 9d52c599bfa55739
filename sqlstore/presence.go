package sqlstore

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"strings"
	"time"

	"github.com/seatkeeper/seatkeeper"
	"github.com/seatkeeper/seatkeeper/catalog"
)

// poolOf returns the concurrent plan whose pool the user signs in to, or
// "" when the user holds none (their presence then counts nowhere).
func (st *acctState) poolOf(u *userState) string {
	for _, l := range st.ent.Seats(u.holding()) {
		lic, _ := st.cat.License(l)
		if sub, ok := st.ent.Subscription(l); ok && lic.Kind == catalog.KindPlan && sub.Model == catalog.ModelConcurrent {
			return l
		}
	}
	return ""
}

// timeout is how long a presence of the kind lasts without a heartbeat:
// the session timeout for work sessions (R6), the idle window otherwise (R5).
func (st *acctState) timeout(kind string) time.Duration {
	if kind == seatkeeper.KindWorkSession {
		return time.Duration(st.settings.Concurrent.SessionTimeout)
	}
	return time.Duration(st.settings.Concurrent.PortalIdleWindow)
}

// RequestHash identifies an idempotent request by what it asks.
func RequestHash(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))
}

// ended is a presence that just ended.
type ended struct {
	id, account, user, pool, kind string
	at                            time.Time
	expired                       bool // ended at its expiry, not now
}

// endSessions ends the live sessions the condition selects, at `at`, or
// — when atExpiry — at each one's own expiry, and does what follows.
func (t *tx) endSessions(set, where string, args ...any) ([]ended, error) {
	rows, err := t.query("UPDATE sessions SET "+set+" WHERE "+where+" RETURNING id, account, user_id, pool, kind, ended_at, end_reason", args...)
	if err != nil {
		return nil, err
	}
	var out []ended
	for rows.Next() {
		var e ended
		var at int64
		var reason string
		if err := rows.Scan(&e.id, &e.account, &e.user, &e.pool, &e.kind, &at, &reason); err != nil {
			rows.Close()
			return nil, err
		}
		e.at, e.expired = fromMicros(at), reason == "expired"
		out = append(out, e)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return out, t.afterEnd(out)
}

// notEnded says a session has not ended, for statements that find it by
// id. Spelled as ended_at IS NULL it matches the predicate of the partial
// indexes on live sessions, and PostgreSQL's generic plan for a prepared
// statement then scans every live session of the account
// (sessions_live_user) instead of looking the id up: 8 ms a sign-out and a
// heartbeat batch with ten thousand agents signed in.
const notEnded = "coalesce(ended_at, -1) < 0"

// endExpired ends, at their expiry, the live sessions matching cond whose
// time ran out by now (R6). The ended_at IS NULL guard makes each end
// happen exactly once, whichever process gets there first.
func (t *tx) endExpired(cond string, now time.Time, args ...any) ([]ended, error) {
	// reap_at <= expires_at: the condition on it changes nothing but lets
	// the indexes on it (not on expires_at, see migration 0011) find them.
	return t.endSessions("ended_at = expires_at, end_reason = 'expired'",
		cond+" AND ended_at IS NULL AND reap_at <= ? AND expires_at <= ?", append(args, micros(now), micros(now))...)
}

// afterEnd records ended presences: the ledger says when each ended, and a
// user whose last presence in a pool ended frees a place (R5). The pool
// places are two statements for every 2,000 users.
func (t *tx) afterEnd(es []ended) error {
	left := map[[3]string]int{} // presences ended, by user and pool
	var order [][3]string
	for _, e := range es {
		if e.expired {
			t.eventAt(e.at, e.account, seatkeeper.EventPresenceEnd, e.user, e.pool, e.kind, e.id, "", 0) // R6: at its expiry
		} else {
			t.stampedEvent(e.account, seatkeeper.EventPresenceEnd, e.user, e.pool, e.kind, e.id)
		}
		t.changed(e.account, e.user)
		if e.pool != "" {
			k := [3]string{e.account, e.pool, e.user}
			if left[k] == 0 {
				order = append(order, k)
			}
			left[k]++
		}
	}
	if len(order) == 0 {
		return nil
	}
	// One order for the rows locked, in every statement that locks several.
	slices.SortFunc(order, func(a, b [3]string) int { return slices.Compare(a[:], b[:]) })
	// In parts: a statement takes at most 32,766 parameters on SQLite and
	// 65,535 on PostgreSQL, and a pool's expired sessions, ended at once
	// after every server was down, may be tens of thousands.
	const chunk = 2000
	for lo := 0; lo < len(order); lo += chunk {
		if err := t.leavePools(order[lo:min(lo+chunk, len(order))], left); err != nil {
			return err
		}
	}
	return nil
}

// leavePools takes the ended presences off their users' pool rows, and
// frees the place of each user left with none.
func (t *tx) leavePools(order [][3]string, left map[[3]string]int) error {
	rows := make([]string, len(order))
	var args []any
	for i, k := range order {
		rows[i] = "(?, ?, ?, CAST(? AS INTEGER))"
		args = append(args, k[0], k[1], k[2], left[k])
	}
	values := strings.Join(rows, ", ")
	rs, err := t.query(`UPDATE pool_users SET presences = presences - v.column4 FROM (VALUES `+values+`) AS v
		WHERE pool_users.account = v.column1 AND pool_users.license = v.column2 AND pool_users.user_id = v.column3
		RETURNING pool_users.account, pool_users.license, pool_users.user_id, pool_users.presences`, args...)
	if err != nil {
		return err
	}
	var gone [][]any
	for rs.Next() {
		var k [3]string
		var n int
		if err := rs.Scan(&k[0], &k[1], &k[2], &n); err != nil {
			rs.Close()
			return err
		}
		if n <= 0 {
			gone = append(gone, []any{k[0], k[1], k[2]})
		}
	}
	rs.Close()
	if err := rs.Err(); err != nil || len(gone) == 0 {
		return err
	}
	args = args[:0]
	if _, err := t.exec("DELETE FROM pool_users WHERE presences <= 0 AND (account, license, user_id) IN (VALUES "+rowsOf(gone, &args)+")", args...); err != nil {
		return err
	}
	for _, k := range gone {
		t.countIn(k[0].(string), "pools", k[1].(string), -1)
	}
	return nil
}

// signOut is a sign-out waiting for its batch (see batcher): the
// sign-outs arriving together end their sessions in one statement.
type signOut struct {
	ctx         context.Context
	account, id string
	err         error
	ready       chan struct{}
}

const maxSignOuts = 256

// EndSession implements seatkeeper.PresenceService.
func (s *Store) EndSession(ctx context.Context, by seatkeeper.Actor, account, id string) error {
	x := &signOut{ctx: ctx, account: account, id: id, ready: make(chan struct{})}
	if err := s.signOuts.submit(ctx, x); err != nil {
		return err
	}
	<-x.ready
	return x.err
}

// runSignOuts ends the batch's live sessions now. A session that is not
// live (or comes twice) gets session_ended or not_found.
func (s *Store) runSignOuts(batch []*signOut) {
	ended := map[[2]string]bool{}
	err := s.write(context.Background(), func(t *tx) error {
		clear(ended)
		var live [][2]string
		for _, x := range batch {
			_, x.err = t.state(x.account)
			if code := seatkeeper.ErrorCode(x.err); code == "" && x.err != nil {
				return x.err
			}
			if x.err == nil {
				live = append(live, [2]string{x.id, x.account})
			}
		}
		if len(live) == 0 {
			return nil
		}
		var keys [][]any
		for _, k := range lockOrder(live) {
			keys = append(keys, []any{k[0], k[1]})
		}
		now := micros(s.Now())
		args := []any{now}
		in := rowsOf(keys, &args)
		es, err := t.endSessions("ended_at = ?, end_reason = 'ended'", "(id, account) IN (VALUES "+in+") AND "+notEnded+" AND expires_at > ?", append(args, now)...)
		for _, e := range es {
			ended[[2]string{e.id, e.account}] = true
		}
		return err
	})
	for _, x := range batch {
		k := [2]string{x.id, x.account}
		switch {
		case err != nil:
			x.err = err
		case x.err != nil:
		case ended[k]:
			delete(ended, k) // the first sign-out of a session ends it
		default:
			x.err = s.gone(x.ctx, x.account, x.id)
		}
		close(x.ready)
	}
}

// sessionGone is the error for a session that is not live: session_ended
// if it existed, not_found otherwise.
func (t *tx) sessionGone(account, id string) error {
	if _, err := t.state(account); err != nil {
		return err
	}
	var n int
	if err := t.queryRow("SELECT count(*) FROM sessions WHERE id = ? AND account = ?", id, account).Scan(&n); err != nil {
		return err
	}
	if n == 0 {
		return seatkeeper.Errorf(seatkeeper.ENotFound, "no session %q", id)
	}
	return seatkeeper.Errorf(seatkeeper.ESessionEnded, "session %s has ended", id)
}

// EndUserSessions implements seatkeeper.PresenceService.
func (s *Store) EndUserSessions(ctx context.Context, by seatkeeper.Actor, account, user string) (int, error) {
	n := 0
	err := s.write(ctx, func(t *tx) error {
		if _, err := t.state(account); err != nil {
			return err
		}
		if u, err := t.loadUser(account, user); err != nil || !u.exists {
			if err == nil {
				err = seatkeeper.Errorf(seatkeeper.ENotFound, "no user %q", user)
			}
			return err
		}
		es, err := t.endUserSessions(account, user, "admin")
		if err == nil && len(es) > 0 {
			err = t.audit(account, by, "sessions.end", user, map[string]int{"ended": len(es)})
		}
		n = len(es)
		return err
	})
	return n, err
}

func (t *tx) endUserSessions(account, user, reason string) ([]ended, error) {
	if err := t.signInsStored(userKey(account, user)); err != nil {
		return nil, err
	}
	now := micros(t.s.Now())
	if _, err := t.endExpired("account = ? AND user_id = ?", t.s.Now(), account, user); err != nil {
		return nil, err
	}
	return t.endSessions("ended_at = ?, end_reason = ?", "account = ? AND user_id = ? AND ended_at IS NULL", now, reason, account, user)
}

// Sessions implements seatkeeper.PresenceService.
func (s *Store) Sessions(ctx context.Context, account, user string) ([]seatkeeper.Session, error) {
	out := []seatkeeper.Session{}
	err := s.read(ctx, func(t *tx) error {
		if _, err := t.state(account); err != nil {
			return err
		}
		q := "SELECT id, user_id, kind, pool, started_at, expires_at FROM sessions WHERE account = ? AND ended_at IS NULL AND expires_at > ?"
		args := []any{account, micros(s.Now())}
		if user != "" {
			q += " AND user_id = ?"
			args = append(args, user)
		}
		rows, err := t.query(q+" ORDER BY started_at, id LIMIT 10000", args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var x seatkeeper.Session
			var started, expires int64
			if err := rows.Scan(&x.ID, &x.User, &x.Kind, &x.Pool, &started, &expires); err != nil {
				return err
			}
			x.StartedAt, x.ExpiresAt = fromMicros(started), fromMicros(expires)
			out = append(out, x)
		}
		return rows.Err()
	})
	return out, err
}

// Pools implements seatkeeper.PresenceService. In use counts the distinct
// users with a presence live now, whether or not the reaper has been by.
func (s *Store) Pools(ctx context.Context, account string) ([]seatkeeper.Pool, error) {
	out := []seatkeeper.Pool{}
	err := s.read(ctx, func(t *tx) error {
		st, err := t.state(account)
		if err != nil {
			return err
		}
		for _, sub := range st.subs {
			lic, _ := st.cat.License(sub.License)
			if sub.Model != "concurrent" || lic.Kind != catalog.KindPlan {
				continue
			}
			p := seatkeeper.Pool{License: sub.License, Quantity: sub.Quantity, Allowance: sub.OverageAllowance, Cap: sub.Quantity + sub.OverageAllowance}
			if err := t.queryRow("SELECT count(DISTINCT user_id) FROM sessions WHERE account = ? AND pool = ? AND ended_at IS NULL AND expires_at > ?",
				account, sub.License, micros(s.Now())).Scan(&p.InUse); err != nil {
				return err
			}
			if err := t.queryRow("SELECT coalesce(max(used), 0) FROM seat_counters WHERE account = ? AND license = ?", account, sub.License).Scan(&p.Members); err != nil {
				return err
			}
			out = append(out, p)
		}
		return nil
	})
	return out, err
}

// Reap implements seatkeeper.PresenceService: it ends up to 1000 sessions
// whose time ran out, at their expiry. Several processes may reap at once:
// each session is ended by exactly one of them. Sessions found by reap_at
// that heartbeats have extended get their reap_at moved up to their expiry.
func (s *Store) Reap(ctx context.Context) (int, error) {
	n := 0
	err := s.write(ctx, func(t *tx) error {
		lock := ""
		if s.postgres {
			lock = " FOR UPDATE SKIP LOCKED"
		}
		now := micros(s.Now())
		es, err := t.endExpired("id IN (SELECT id FROM sessions WHERE ended_at IS NULL AND reap_at <= ? AND expires_at <= ? ORDER BY reap_at LIMIT 1000"+lock+")", s.Now(), now, now)
		if err != nil {
			return err
		}
		n = len(es)
		// Sessions due that heartbeats extended: due again at their expiry.
		_, err = t.exec("UPDATE sessions SET reap_at = expires_at WHERE id IN (SELECT id FROM sessions WHERE ended_at IS NULL AND reap_at <= ? AND expires_at > ? ORDER BY reap_at LIMIT 1000"+lock+")", now, now)
		return err
	})
	return n, err
}
