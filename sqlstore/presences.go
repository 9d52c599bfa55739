package sqlstore

import (
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/seatkeeper/seatkeeper"
)

// The presences table (migration 0007) holds one row per presence of the
// ledger: its user's key, its first start and its last end. Every write of
// ledger rows brings it up to date in the same transaction, a batch of
// rows at a time: a live write's events at its flush, the stamped ones
// when they are timed, an import's whole batch.

// presenceSpans gathers the presence starts and ends among ledger rows (as
// eventInsert takes them: account, at, type, user, license, kind, session,
// source, quantity) by session: [account, license, session, user, first
// start or nil, last end or nil] each.
func presenceSpans(rows [][]any) (spans [][]any) {
	type key struct{ account, license, session string }
	var index map[key]int // made at the first presence: most writes have none
	for _, r := range rows {
		typ := r[2].(string)
		if typ != seatkeeper.EventPresenceStart && typ != seatkeeper.EventPresenceEnd {
			continue
		}
		if index == nil {
			index = map[key]int{}
		}
		account, at, user, license, session := r[0].(string), r[1].(int64), r[3].(string), r[4].(string), r[6].(string)
		k := key{account, license, session}
		i, ok := index[k]
		if !ok {
			i = len(spans)
			index[k] = i
			spans = append(spans, []any{account, license, session, user, nil, nil})
		}
		s := spans[i]
		if typ == seatkeeper.EventPresenceStart && (s[4] == nil || at < s[4].(int64)) {
			s[4] = at // the first start
		}
		if typ == seatkeeper.EventPresenceEnd && (s[5] == nil || at > s[5].(int64)) {
			s[5] = at // the last end
		}
	}
	return spans
}

// spanUsers is the users of spans, each once: [account, user].
func spanUsers(spans [][]any) (users [][]any) {
	seen := map[[2]string]bool{}
	for _, s := range spans {
		if u := [2]string{s[0].(string), s[3].(string)}; !seen[u] {
			seen[u] = true
			users = append(users, []any{u[0], u[1]})
		}
	}
	return users
}

// presencesChunk bounds the sessions of one statement (7 parameters each).
const presencesChunk = 2000

// presencesSQL is the PostgreSQL statement parts that number new users
// (named k) and merge the spans into presences: one round trip with the
// rest of a flush. New users' keys come from k's RETURNING, since the
// statement's snapshot does not see them in user_keys. The keys are looked
// up one row at a time on purpose: a join of the values with user_keys may
// be planned as a scan of every key, under the pool's lock (stamped events).
func presencesSQL(users, spans [][]any, k string, args *[]any) (numbering, merging string) {
	numbering = "INSERT INTO user_keys (account, user_id) VALUES " + rowsOf(users, args) +
		" ON CONFLICT DO NOTHING RETURNING account, user_id, key"
	values := make([]string, len(spans))
	for i, s := range spans {
		values[i] = "(?, ?, ?, ?, ?::bigint, ?::bigint)"
		*args = append(*args, s...)
	}
	merging = "INSERT INTO presences AS p (account, license, session, user_key, started_at, ended_at) " +
		"SELECT v.a, v.l, v.s, coalesce((SELECT n.key FROM " + k + " n WHERE n.account = v.a AND n.user_id = v.usr), " +
		"(SELECT u.key FROM user_keys u WHERE u.account = v.a AND u.user_id = v.usr)), v.st, v.en " +
		"FROM (VALUES " + strings.Join(values, ", ") + ") AS v (a, l, s, usr, st, en) " +
		"ON CONFLICT (account, license, session) DO UPDATE SET " +
		"started_at = LEAST(p.started_at, excluded.started_at), ended_at = GREATEST(p.ended_at, excluded.ended_at)" // both skip NULLs
	return numbering, merging
}

// syncPresences brings presences up to date with ledger rows, in
// statements of their own.
func (t *tx) syncPresences(rows [][]any) error {
	return t.syncSpans(presenceSpans(rows))
}

func (t *tx) syncSpans(spans [][]any) error {
	for len(spans) > 0 {
		n := min(len(spans), presencesChunk)
		chunk := spans[:n]
		spans = spans[n:]
		mine := spanUsers(chunk)
		if t.s.postgres {
			var args []any
			numbering, merging := presencesSQL(mine, chunk, "k", &args)
			res, err := t.exec("WITH k AS ("+numbering+") "+merging+t.keepClosed("p", &args), args...)
			if err := t.keptClosed(res, err, len(chunk)); err != nil {
				return err
			}
			continue
		}
		var args []any
		if _, err := t.exec("INSERT INTO user_keys (account, user_id) VALUES "+rowsOf(mine, &args)+" ON CONFLICT DO NOTHING", args...); err != nil {
			return err
		}
		args = args[:0]
		values := make([]string, len(chunk))
		for i, s := range chunk {
			values[i] = "(?, ?, ?, (SELECT key FROM user_keys WHERE account = ? AND user_id = ?), ?, ?)"
			args = append(args, s[0], s[1], s[2], s[0], s[3], s[4], s[5])
		}
		res, err := t.exec("INSERT INTO presences (account, license, session, user_key, started_at, ended_at) VALUES "+strings.Join(values, ", ")+
			" ON CONFLICT (account, license, session) DO UPDATE SET "+
			"started_at = coalesce(min(presences.started_at, excluded.started_at), presences.started_at, excluded.started_at), "+
			"ended_at = coalesce(max(presences.ended_at, excluded.ended_at), presences.ended_at, excluded.ended_at)"+t.keepClosed("presences", &args), args...)
		if err := t.keptClosed(res, err, len(chunk)); err != nil {
			return err
		}
	}
	return nil
}

// keepClosed is the condition on an upsert of presences that leaves alone
// a presence that ended before the closed months' end (t.closedAt) and
// would end later: a merge by the primary key, whatever the planner's view
// of the table. "" when nothing is closed.
func (t *tx) keepClosed(table string, args *[]any) string {
	if t.closedAt == 0 {
		return ""
	}
	*args = append(*args, t.closedAt)
	return fmt.Sprintf(" WHERE %[1]s.ended_at IS NULL OR %[1]s.ended_at >= ? OR excluded.ended_at IS NULL OR excluded.ended_at <= %[1]s.ended_at", table)
}

// keptClosed checks that an upsert of n presences under keepClosed merged
// them all: one it left alone is refused, and with it the import.
func (t *tx) keptClosed(res sql.Result, err error, n int) error {
	if err != nil || t.closedAt == 0 {
		return err
	}
	if got, err := res.RowsAffected(); err != nil || got == int64(n) {
		return err
	}
	return seatkeeper.Errorf(seatkeeper.EPeriodClosed, "a session that ended before the end of the closed months (%s) would end later, changing them; none of the events were imported",
		fromMicros(t.closedAt).UTC().Format(time.RFC3339))
}
