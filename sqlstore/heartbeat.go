package sqlstore

import (
	"context"
	"encoding/json"
	"slices"
	"time"

	"github.com/seatkeeper/seatkeeper"
)

// beat is a heartbeat waiting for its batch (see batcher): every
// heartbeat waiting when the previous batch finishes goes into one UPDATE,
// which is one write for the store's writer. A heartbeat is answered once
// its batch is committed.
type beat struct {
	ctx         context.Context
	account, id string
	out         seatkeeper.Session
	err         error
	ready       chan struct{}
}

const maxBeats = 2000

// beatLinger is how long a batch of heartbeats waits for more once its
// first has come. Without it, the writer, quicker than the requests
// arrive, commits a few heartbeats at a time, and the commits (an fsync
// on SQLite) take the CPU the requests need: on SQLite, 256 clients made
// batches of 8 and 17,000 heartbeats/s; a millisecond's wait makes
// batches of 50 and 24,000/s, and a lower p99. A heartbeat extends a
// timeout of minutes: a millisecond more to answer it is nothing.
const beatLinger = time.Millisecond

// beatsAtOnce is how many batches of heartbeats run at once on
// PostgreSQL: with one, a batch gathers while the one before it commits,
// and a process's heartbeats are bound by that round trip rather than by
// the CPU (12,300 and 14,900/s with one, 15,800–19,500/s with three, one
// server process; BENCHMARKS.md). SQLite has one writer.
const beatsAtOnce = 3

// Heartbeat implements seatkeeper.PresenceService. Heartbeats arriving
// together are written together, one statement for many, and each is
// acknowledged only once written: an acknowledged extension survives a crash.
func (s *Store) Heartbeat(ctx context.Context, account, id string) (seatkeeper.Session, error) {
	x := &beat{ctx: ctx, account: account, id: id, ready: make(chan struct{})}
	if err := s.beats.submit(ctx, x); err != nil {
		return x.out, err
	}
	<-x.ready
	return x.out, x.err
}

// runBeats extends every live session of the batch by its timeout from now.
// Sessions that ended, or whose time ran out before this heartbeat, are
// not extended: their heartbeat gets session_ended (R6).
func (s *Store) runBeats(batch []*beat) {
	now := s.Now().UTC().Truncate(time.Microsecond)
	// No account is read: a deleted account's sessions ended with it, so
	// a heartbeat for one extends nothing, and gone says why.
	var keys [][2]string
	for _, x := range batch {
		keys = append(keys, [2]string{x.id, x.account})
	}
	// Sorted: PostgreSQL's plan for the statement below walks the array
	// in its order (a nested loop over unnest, which it estimates at ten
	// rows, probing the primary key), so batches running at once, here
	// and in other processes, lock the rows they share in one order.
	keys = lockOrder(keys)
	// One statement text whatever the batch's size, so that one prepared
	// statement serves every batch: two arrays on PostgreSQL, a JSON array
	// of pairs on SQLite.
	var values string
	var args []any
	if s.postgres {
		ids, accts := make([]string, len(keys)), make([]string, len(keys))
		for i, k := range keys {
			ids[i], accts[i] = k[0], k[1]
		}
		values, args = `SELECT * FROM unnest(?::text[], ?::text[])`, []any{ids, accts}
	} else {
		js, _ := json.Marshal(keys)
		values, args = `SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]') FROM json_each(?)`, []any{string(js)}
	}
	// A heartbeat never takes a session's expiry back: one that waited
	// behind a later one, here or in another process, leaves it as is.
	// But no session lives past its pool's term, as the subscription says
	// now (a term not begun, or a subscription no longer concurrent, ends
	// it now): the end, never before the start.
	// Read here, at every heartbeat, it needs no lock against a change of
	// the term, which bounds the sessions it sees (boundSessions); one
	// started meanwhile with the old term is bounded at its first
	// heartbeat. reap_at, which an index holds, is not in this statement,
	// so that a heartbeat stays a HOT update and reads the subscription
	// once: a session whose expiry the term brought below its reap_at gets
	// reap_at lowered by a statement of its own (rare: a term changed
	// beside a sign-in), for the reaper finds sessions by it.
	greatest, least := s.greatestLeast()
	term := greatest + `(sessions.started_at, coalesce((SELECT CASE WHEN su.starts_at > ? OR su.model <> 'concurrent' THEN ? ELSE coalesce(su.ends_at, 9223372036854775807) END
		FROM subscriptions su WHERE su.account = sessions.account AND su.license = sessions.pool), 9223372036854775807))`
	q := `WITH v(id, account) AS (` + values + `)
		UPDATE sessions SET last_seen = ` + greatest + `(last_seen, ?), expires_at = ` + least + `(` + greatest + `(expires_at, ? + timeout), ` + term + `)
		FROM v WHERE sessions.id = v.id AND sessions.account = v.account AND coalesce(sessions.ended_at, -1) < 0 AND sessions.expires_at > ?
		RETURNING sessions.id, sessions.account, sessions.user_id, sessions.kind, sessions.pool, sessions.started_at, sessions.expires_at, sessions.reap_at`
	n := micros(now)
	args = append(args, n, n, n, n, n)
	found := map[[2]string]seatkeeper.Session{}
	var bound [][2]string // sessions the term brought below their reap_at
	extend := func(rs rows, err error) error {
		clear(found)
		bound = bound[:0]
		if err != nil {
			return err
		}
		defer rs.Close()
		for rs.Next() {
			var x seatkeeper.Session
			var account string
			var started, expires, reap int64
			if err := rs.Scan(&x.ID, &account, &x.User, &x.Kind, &x.Pool, &started, &expires, &reap); err != nil {
				return err
			}
			x.StartedAt, x.ExpiresAt = fromMicros(started), fromMicros(expires)
			found[[2]string{x.ID, account}] = x
			if reap > expires {
				bound = append(bound, [2]string{x.ID, account})
			}
		}
		return rs.Err()
	}
	// The statement, then reap_at lowered where the term bounded the expiry.
	run := func(query func(q string, args ...any) (rows, error), exec func(q string, args ...any) error) error {
		if err := extend(query(q, args...)); err != nil {
			return err
		}
		for _, k := range bound {
			if err := exec("UPDATE sessions SET reap_at = expires_at WHERE id = ? AND account = ? AND reap_at > expires_at", k[0], k[1]); err != nil {
				return err
			}
		}
		return nil
	}
	var err error
	if s.postgres {
		// A statement of its own, beside the writer: it touches no
		// counter, and PostgreSQL's row locks order it with the other
		// writes of the sessions (a sign-out, the reaper), here and in
		// other processes. Heartbeats are a batch of one statement
		// whose time is mostly round trips and the commit; several
		// batches at once (beatsAtOnce) overlap those.
		err = retrying(func() error {
			return run(func(q string, args ...any) (rows, error) {
				return s.db.QueryContext(context.Background(), s.rebind(q), args...)
			}, func(q string, args ...any) error {
				_, err := s.db.ExecContext(context.Background(), s.rebind(q), args...)
				return err
			})
		})
	} else {
		err = s.write(context.Background(), func(t *tx) error {
			return run(t.query, func(q string, args ...any) error {
				_, err := t.exec(q, args...)
				return err
			})
		})
	}
	for _, x := range batch {
		switch got, ok := found[[2]string{x.id, x.account}]; {
		case err != nil:
			x.err = err
		case ok && got.ExpiresAt.After(now):
			x.out = got
		default:
			x.err = s.gone(x.ctx, x.account, x.id)
		}
		close(x.ready)
	}
}

// lockOrder sorts session keys (id, account) and drops repeats: heartbeats
// and sign-outs lock the rows of sessions in this one order.
func lockOrder(keys [][2]string) [][2]string {
	slices.SortFunc(keys, func(a, b [2]string) int { return slices.Compare(a[:], b[:]) })
	return slices.Compact(keys)
}

// gone is the error for a heartbeat that extended nothing.
func (s *Store) gone(ctx context.Context, account, id string) error {
	return s.read(ctx, func(t *tx) error { return t.sessionGone(account, id) })
}
