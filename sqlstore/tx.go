package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/seatkeeper/seatkeeper"
)

// tx is a write transaction with the store's helpers. Work that must wait
// for the commit (cache invalidation, notifications) goes in after.
type tx struct {
	c       *conn
	ctx     context.Context
	s       *Store
	writing bool
	after   []func()
	batch   *batchCache // states already read by earlier writes of the same batch

	// Writes held back until flush, just before the commit: the audit
	// records, ledger events and notifications go out in as few round
	// trips as possible, and the seat counters are touched last, so that
	// their rows stay locked for the shortest time.
	stmts      []stmt
	audits     [][]any
	events     [][]any
	stamped    [][]any         // events timed at settlement (see stampedEvent)
	fixes      []inUseFix      // answers to correct once the pools are settled
	signIns    []*signIn       // sign-ins admitted, their sessions stored when stamped
	settled    map[counter]int // PostgreSQL: each counter's value as the flush changed it
	notes      []string
	counts     map[counter]int // taken (> 0) or freed (< 0) at flush
	countSts   map[string]*acctState
	prefetched map[string]*accountRow // accounts read ahead (see prefetch)

	// deferCounts leaves the counters to the batch, which changes each
	// once, at its very end (see writer.run).
	deferCounts bool
	// queueFlush sends the flush's statement with the next one (see
	// conn): a batch of one write does, since its settlement follows.
	queueFlush bool
	// closedAt, when set (an import into an account with closed months),
	// is the end of the closed months: a presence that ended before it is
	// not ended again later (syncSpans), since that would change them.
	closedAt int64
}

func (t *tx) exec(q string, args ...any) (sql.Result, error) {
	if t.c.pg != nil {
		tag, err := t.c.pgExec(t.ctx, t.s.rebind(q), args)
		return pgResult(tag), err
	}
	if st := t.s.prepared(t.ctx, q); st != nil {
		return t.c.sql.StmtContext(t.ctx, st).ExecContext(t.ctx, args...)
	}
	return t.c.sql.ExecContext(t.ctx, t.s.rebind(q), args...)
}

func (t *tx) query(q string, args ...any) (rows, error) {
	if t.c.pg != nil {
		return t.c.pgQuery(t.ctx, t.s.rebind(q), args)
	}
	if st := t.s.prepared(t.ctx, q); st != nil {
		return t.c.sql.StmtContext(t.ctx, st).QueryContext(t.ctx, args...)
	}
	return t.c.sql.QueryContext(t.ctx, t.s.rebind(q), args...)
}

func (t *tx) queryRow(q string, args ...any) row {
	if t.c.pg != nil {
		return t.c.pgQueryRow(t.ctx, t.s.rebind(q), args)
	}
	if st := t.s.prepared(t.ctx, q); st != nil {
		return t.c.sql.StmtContext(t.ctx, st).QueryRowContext(t.ctx, args...)
	}
	return t.c.sql.QueryRowContext(t.ctx, t.s.rebind(q), args...)
}

// queueRow reads one row into dest; on PostgreSQL with the next statement
// (see conn), on SQLite at once.
func (t *tx) queueRow(q string, args []any, dest ...any) *queuedRow {
	if t.c.pg != nil {
		return t.c.queueRow(t.s.rebind(q), args, dest...)
	}
	return &queuedRow{dest: dest, err: t.queryRow(q, args...).Scan(dest...), done: true}
}

// queue runs a statement whose answer is not needed; on PostgreSQL it
// goes out with the next one (see conn).
func (t *tx) queue(q string, args ...any) error {
	if t.c.pg == nil {
		_, err := t.exec(q, args...) // at once, prepared
		return err
	}
	return t.c.queue(t.ctx, t.s.rebind(q), args...)
}

// maxPrepared bounds the prepared statements kept. A statement with a
// variable number of rows is kept only for a few rows: small batches come
// at low rates, where preparing is most of a batch's cost, and large ones
// would be many statements each run once. Any other list of values long
// enough to vary (more than maxPreparedArgs placeholders) is not kept
// either: the cache is never emptied, and such statements would fill it.
const (
	maxPrepared     = 256
	maxPreparedRows = 4
	maxPreparedArgs = 64
)

// prepared returns a prepared statement for q on SQLite, where preparing
// is a large part of a small statement's cost; nil on PostgreSQL, whose
// driver keeps its own statement cache.
func (s *Store) prepared(ctx context.Context, q string) *sql.Stmt {
	if s.postgres || strings.Count(q, "), (") >= maxPreparedRows || strings.Count(q, "?") > maxPreparedArgs {
		return nil // PostgreSQL caches its own; see maxPrepared
	}
	s.stmtMu.Lock()
	defer s.stmtMu.Unlock()
	if st, ok := s.stmts[q]; ok {
		return st // nil while it is being prepared
	}
	if len(s.stmts) >= maxPrepared || s.stmtsClosed {
		return nil
	}
	// Prepare it aside, and run it unprepared this time: preparing on the
	// pool here would wait for a second connection while this transaction
	// holds one, and enough such waits at once would take every connection.
	s.stmts[q] = nil
	s.preparing.Add(1)
	go func() {
		defer s.preparing.Done()
		st, err := s.db.PrepareContext(context.Background(), s.rebind(q))
		s.stmtMu.Lock()
		defer s.stmtMu.Unlock()
		if err != nil || s.stmtsClosed {
			delete(s.stmts, q)
			if st != nil {
				st.Close()
			}
			return
		}
		s.stmts[q] = st
	}()
	return nil
}

// forUpdate is the row-lock suffix of a SELECT. SQLite needs none: its
// writes are serialized by the writer.
func (t *tx) forUpdate() string {
	if t.s.postgres && t.writing {
		return " FOR UPDATE"
	}
	return ""
}

// changed queues a change notification for after the commit; on
// PostgreSQL the other processes are told atomically with the commit.
func (t *tx) changed(account, user string) {
	c := Change{Account: account, User: user}
	t.after = append(t.after, func() { t.s.emit(c) })
	if t.s.postgres {
		t.notes = append(t.notes, account+"\x1f"+user)
	}
}

// A counter is a guarded count: seats of a license (R1, R9, R16) or the
// signed-in users of a pool (R4). Counters change at flush, last, in one
// order (table, then license) in every transaction.
type counter struct {
	table   string // seat_counters, pools or addon_counters
	account string
	license string
}

var counterSQL = map[string]struct{ value, free, take, room string }{
	"seat_counters": {
		"used",
		"UPDATE seat_counters SET used = used + ? WHERE account = ? AND license = ?",
		"UPDATE seat_counters SET used = used + ? WHERE account = ? AND license = ? AND (NOT capped OR used + ? <= cap)",
		"SELECT CASE WHEN capped THEN cap - used ELSE 1000000000 END FROM seat_counters WHERE account = ? AND license = ?",
	},
	// A row not yet made (an account with no subscription change since
	// migration 0012 made the rows) is made by its first take, capping
	// nothing until it is counted.
	"addon_counters": {
		"used",
		"UPDATE addon_counters SET used = used + ? WHERE account = ? AND license = ?",
		"INSERT INTO addon_counters AS c (used, account, license, cap, capped) VALUES (?, ?, ?, -1, FALSE) " +
			"ON CONFLICT (account, license) DO UPDATE SET used = c.used + excluded.used WHERE NOT c.capped OR c.used + ? <= c.cap",
		"SELECT CASE WHEN capped THEN cap - used ELSE 1000000000 END FROM addon_counters WHERE account = ? AND license = ?",
	},
	"pools": {
		"in_use",
		"UPDATE pools SET in_use = in_use + ? WHERE account = ? AND license = ?",
		"UPDATE pools SET in_use = in_use + ? WHERE account = ? AND license = ? AND in_use + ? <= cap",
		"SELECT cap - in_use FROM pools WHERE account = ? AND license = ?",
	},
}

// seat takes (delta > 0) or frees (delta < 0) seats of a license at flush.
func (t *tx) seat(st *acctState, license string, delta int) {
	t.count(st, "seat_counters", license, delta)
}

// addonSeat takes or frees a coverage license's seat held without a plan
// that covers it (R9).
func (t *tx) addonSeat(st *acctState, license string, delta int) {
	t.count(st, "addon_counters", license, delta)
}

func (t *tx) count(st *acctState, table, license string, delta int) {
	t.countIn(st.account.ID, table, license, delta)
	t.countSts[st.account.ID] = st
}

// unsettled is what this batch's earlier writes and this one have taken
// from a counter and freed, and not yet settled: what the rows they wrote
// already say, and the counter not yet.
func (t *tx) unsettled(c counter) int {
	if t.deferCounts && t.batch != nil {
		return t.batch.pending[c] + t.counts[c]
	}
	return t.counts[c]
}

// countIn is count for a counter that needs no account state (a free).
func (t *tx) countIn(account, table, license string, delta int) {
	if t.counts == nil {
		t.counts, t.countSts = map[counter]int{}, map[string]*acctState{}
	}
	t.counts[counter{table, account, license}] += delta
}

const (
	auditInsert = "INSERT INTO audit (account, at, token_id, token_kind, acting_user, action, target, detail) VALUES "
	eventInsert = "INSERT INTO usage_events (account, at, type, user_id, license, kind, session, source, quantity) VALUES "
)

// stmt is a statement held back until flush.
type stmt struct {
	q    string
	args []any
}

// later holds back a data-changing statement until flush.
func (t *tx) later(q string, args ...any) { t.stmts = append(t.stmts, stmt{q, args}) }

// flush writes what the transaction held back, and fails with ESeatLimit
// or EPoolExhausted when a counter has no room for what is taken. On
// PostgreSQL it is one statement (data-modifying CTEs), so that a change
// costs few round trips and the counters are locked only at its very end.
func (t *tx) flush() error {
	if !t.deferCounts {
		if err := t.accountsUnmoved(t.signIns); err != nil {
			return err
		}
	}
	var takes, frees []counter
	counts := t.counts
	if t.deferCounts {
		counts = nil
	}
	for c, d := range counts {
		switch {
		case d > 0, d == 0 && t.s.postgres:
			// Taken and freed alike (a sign-in and a sign-out of one
			// pool), the row is still read and locked on PostgreSQL: the
			// sign-ins' answers count the pool as settled (fixAnswers).
			takes = append(takes, c)
		case d < 0:
			frees = append(frees, c)
		}
	}
	for _, list := range [][]counter{takes, frees} {
		sort.Slice(list, func(i, j int) bool {
			return list[i].less(list[j])
		})
	}
	var err error
	if t.s.postgres {
		err = t.flushPostgres(takes, frees)
	} else {
		err = t.flushEach(takes, frees)
	}
	if err == nil && !t.deferCounts {
		// After the counters: their lock is held.
		t.fixAnswers(t.fixes)
		err = t.flushStamped(false)
	}
	t.stmts, t.audits, t.events, t.notes = nil, nil, nil, nil
	if !t.deferCounts {
		t.counts = nil
	}
	return err
}

// flushStamped writes the stamped events, timed now, and the sessions of
// the sign-ins admitted, started then. Queued (when the batch's COMMIT is
// all that follows), the inserts go out with it.
func (t *tx) flushStamped(queued bool) error {
	if len(t.stamped) == 0 {
		return nil
	}
	at := t.s.Now().UTC().Truncate(time.Microsecond)
	now := micros(at)
	for _, e := range t.stamped {
		e[1] = now
	}
	if err := t.storeSessions(at, queued); err != nil {
		return err
	}
	var args []any
	q := eventInsert + rowsOf(t.stamped, &args)
	spans := presenceSpans(t.stamped)
	if t.s.postgres && len(spans) > 0 && len(spans) <= presencesChunk {
		// One round trip: the events and their presences.
		numbering, merging := presencesSQL(spanUsers(spans), spans, "k", &args)
		q, spans = "WITH e AS ("+q+"), k AS ("+numbering+") "+merging, nil
	}
	var err error
	if queued {
		err = t.queue(q, args...)
	} else {
		_, err = t.exec(q, args...)
	}
	if err != nil {
		return err
	}
	err = t.syncSpans(spans)
	t.stamped = nil
	return err
}

// less orders counters for locking: seat_counters, pools, addon_counters,
// then by account and license, in every transaction alike.
func (c counter) less(o counter) bool {
	if c.table != o.table {
		return c.table > o.table
	}
	if c.account != o.account {
		return c.account < o.account
	}
	return c.license < o.license
}

func (t *tx) flushEach(takes, frees []counter) error {
	for _, st := range t.stmts {
		if _, err := t.exec(st.q, st.args...); err != nil {
			return uniqueUserName(err)
		}
	}
	for _, a := range t.audits {
		if _, err := t.exec(auditInsert+"(?, ?, ?, ?, ?, ?, ?, ?)", a...); err != nil {
			return err
		}
	}
	for _, e := range t.events {
		if _, err := t.exec(eventInsert+"(?, ?, ?, ?, ?, ?, ?, ?, ?)", e...); err != nil {
			return err
		}
	}
	if err := t.syncPresences(t.events); err != nil {
		return err
	}
	for _, c := range frees {
		if _, err := t.exec(counterSQL[c.table].free, t.counts[c], c.account, c.license); err != nil {
			return err
		}
	}
	for _, c := range takes {
		d := t.counts[c]
		res, err := t.exec(counterSQL[c.table].take, d, c.account, c.license, d)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return t.noRoom([]counter{c})
		}
	}
	return nil
}

func (t *tx) flushPostgres(takes, frees []counter) error {
	var parts []string
	var args []any
	add := func(q string, a ...any) {
		parts = append(parts, fmt.Sprintf("w%d AS (%s)", len(parts), q))
		args = append(args, a...)
	}
	for _, st := range t.stmts {
		add(st.q, st.args...)
	}
	if len(t.audits) > 0 {
		add(auditInsert + rowsOf(t.audits, &args))
	}
	// The presences of the events: in this statement, unless there are
	// many (see presencesSQL).
	if spans := presenceSpans(t.events); len(spans) > presencesChunk {
		if err := t.syncSpans(spans); err != nil {
			return err
		}
	} else if len(spans) > 0 {
		k := fmt.Sprintf("w%d", len(parts))
		numbering, merging := presencesSQL(spanUsers(spans), spans, k, &args)
		parts = append(parts, k+" AS ("+numbering+")", fmt.Sprintf("w%d AS (%s)", len(parts)+1, merging))
	}
	// PostgreSQL takes at most 65,535 parameters a statement: a large
	// import goes in chunks of its own.
	const chunk = 5000
	for len(t.events) > chunk {
		var a []any
		if _, err := t.exec(eventInsert+rowsOf(t.events[:chunk], &a), a...); err != nil {
			return err
		}
		t.events = t.events[chunk:]
	}
	if len(t.events) > 0 {
		add(eventInsert + rowsOf(t.events, &args))
	}
	// The counters, takes and frees alike, in one order everywhere
	// (counter.less), each read by the final SELECT in that order: that
	// is the order in which PostgreSQL runs them and locks their rows (a
	// part nothing reads runs after the rest, out of that order, and two
	// processes' batches could each wait for the other).
	counters := slices.Concat(takes, frees)
	sort.Slice(counters, func(i, j int) bool { return counters[i].less(counters[j]) })
	var changed []string // the counters' parts, read in their order
	for _, c := range counters {
		d := t.counts[c]
		returning := " RETURNING '" + c.table + ":' || account || ':' || license || '=' || " + counterSQL[c.table].value + " AS k"
		if d > 0 {
			add(counterSQL[c.table].take+returning, d, c.account, c.license, d)
		} else {
			add(counterSQL[c.table].free+returning, d, c.account, c.license)
		}
		changed = append(changed, fmt.Sprintf("SELECT k FROM w%d", len(parts)-1))
	}
	if len(parts) == 0 && len(t.notes) == 0 {
		return nil
	}
	sel := "SELECT ''"
	if len(changed) > 0 {
		sel = "SELECT coalesce((SELECT string_agg(k, ',') FROM (" + strings.Join(changed, " UNION ALL ") + ") AS x), '')"
	}
	if len(t.notes) > 0 {
		sel += ", (SELECT count(*) FROM (SELECT pg_notify('seatkeeper', n) FROM unnest(?::text[]) AS n) AS y)"
		args = append(args, dedupe(t.notes))
	} else {
		sel += ", 0"
	}
	q := sel
	if len(parts) > 0 {
		q = "WITH " + strings.Join(parts, ", ") + " " + sel
	}
	if t.queueFlush && len(takes) == 0 {
		return t.queue(q, args...) // nothing taken: its answer is not needed
	}
	var got string
	var notified int
	if err := t.queryRow(q, args...).Scan(&got, &notified); err != nil {
		return uniqueUserName(err)
	}
	// Each counter changed, as table:account:license=value ('=' is in no
	// id): its value as settled, for the sign-ins' answers (fixAnswers).
	changedTo := map[string]int{}
	for _, k := range strings.Split(got, ",") {
		if i := strings.LastIndexByte(k, '='); i > 0 {
			changedTo[k[:i]], _ = strconv.Atoi(k[i+1:])
		}
	}
	var missing []counter
	for _, c := range counters {
		v, ok := changedTo[c.table+":"+c.account+":"+c.license]
		if !ok {
			if t.counts[c] > 0 {
				missing = append(missing, c) // a take without room
			}
			continue
		}
		if t.settled == nil {
			t.settled = map[counter]int{}
		}
		t.settled[c] = v
	}
	if len(missing) > 0 {
		return t.noRoom(missing)
	}
	return nil
}

// roomError is a counter without room: ESeatLimit or EPoolExhausted, and
// which counter, for the batch to settle.
type roomError struct {
	c   counter
	err *seatkeeper.Error
}

func (e *roomError) Error() string { return e.err.Error() }
func (e *roomError) Unwrap() error { return e.err }

// fullCounter returns the counter err says is full, or nil.
func fullCounter(err error) *counter {
	var re *roomError
	if errors.As(err, &re) {
		return &re.c
	}
	return nil
}

// noRoom is the error for counters that had no room (the first of them).
func (t *tx) noRoom(cs []counter) error { return noRoomAt(t, cs[0], -1) }

// noRoomAt is the error for a counter without room; room, when not
// negative, is how much room was left (the batch knows better than the row).
func noRoomAt(t *tx, c counter, room int) error {
	if c.table == "pools" {
		var inUse, limit int
		_ = t.queryRow("SELECT in_use, cap FROM pools WHERE account = ? AND license = ?", c.account, c.license).Scan(&inUse, &limit)
		if room >= 0 {
			inUse = limit - room
		}
		return &roomError{c, poolFull(c.license, inUse, limit)}
	}
	if st := t.countSts[c.account]; st != nil && c.table == "addon_counters" {
		return &roomError{c, st.ent.AddonFull(c.license)}
	} else if st != nil {
		return &roomError{c, st.ent.Full(c.license)}
	}
	return &roomError{c, seatkeeper.Errorf(seatkeeper.ESeatLimit, "every seat of %s is taken", c.license)}
}

// poolFull is the pool_exhausted answer (R4).
func poolFull(license string, inUse, limit int) *seatkeeper.Error {
	return &seatkeeper.Error{Code: seatkeeper.EPoolExhausted,
		Message: fmt.Sprintf("the %s pool is full: %d users signed in, cap %d", license, inUse, limit),
		Extra:   map[string]any{"in_use": inUse, "cap": limit, "license": license}}
}

// rowsOf writes "(?, …), (?, …)" for the rows and appends their values;
// each row ends with the literals, if any.
func rowsOf(rows [][]any, args *[]any, literals ...string) string {
	out := make([]string, len(rows))
	for i, r := range rows {
		out[i] = "(" + strings.Join(append(slices.Repeat([]string{"?"}, len(r)), literals...), ", ") + ")"
		*args = append(*args, r...)
	}
	return strings.Join(out, ", ")
}

func dedupe(s []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, x := range s {
		if !seen[x] {
			seen[x] = true
			out = append(out, x)
		}
	}
	return out
}

// write runs fn in a write transaction and commits. Calls are handed to
// the store's writer, which runs every call waiting at that moment in one
// transaction, each in a savepoint so that one refused change does not
// undo the others, and commits once for all of them: the commit's fsync,
// and on PostgreSQL the hot seat-counter row, are shared by the batch.
func (s *Store) write(ctx context.Context, fn func(*tx) error) error {
	err := s.writer.do(ctx, s, fn)
	var re *roomError
	if errors.As(err, &re) {
		return re.err // callers see the plain domain error
	}
	return err
}

// writeAlone runs fn in a transaction of its own, retried on PostgreSQL
// serialization failures and deadlocks. The writer falls back to it when a
// batch hits one.
func (s *Store) writeAlone(ctx context.Context, fn func(*tx) error) error {
	return retrying(func() error { return s.writeOnce(ctx, fn) })
}

// retrying runs fn until it succeeds or fails otherwise than retryable,
// at most 11 times.
func retrying(fn func() error) error {
	for attempt := 0; ; attempt++ {
		err := fn()
		if attempt < 10 && retryable(err) {
			// Apart, so that the same two do not meet again.
			time.Sleep(time.Duration(attempt+1)*time.Millisecond + rand.N(5*time.Millisecond))
			continue
		}
		return err
	}
}

// retryable reports a PostgreSQL serialization failure, deadlock, a write
// of a batch that waited too long for a row (batchLockWait) or that met a
// sign-in of the batch not yet stored (errSignInsPending), a sign-in whose
// account changed meanwhile (errAccountMoved), or a user
// another process created at the same moment (run again, the write finds
// it).
func retryable(err error) bool {
	if errors.Is(err, errSignInsPending) || errors.Is(err, errAccountMoved) {
		return true
	}
	var pe *pgconn.PgError
	if !errors.As(err, &pe) {
		return false
	}
	switch pe.Code {
	case "40001", "40P01", "55P03":
		return true
	case "23505":
		return pe.ConstraintName == "users_pkey"
	}
	return false
}

// errSignInsPending: a write that ends presences met a sign-in admitted
// earlier in its batch, whose session is stored only at the batch's
// settlement. It runs again on its own after the batch, where it finds and
// ends that session: the outcome of the two one after the other.
var errSignInsPending = errors.New("a sign-in of the batch is not stored yet")

// signInsStored fails with errSignInsPending if a sign-in of the batch for
// the key (userKey, poolKey or accountKey) has a session not yet stored.
func (t *tx) signInsStored(key string) error {
	if t.batch != nil && t.batch.signingIn[key] {
		return errSignInsPending
	}
	return nil
}

func userKey(account, user string) string { return "u\x00" + account + "\x00" + user }
func poolKey(account, pool string) string { return "p\x00" + account + "\x00" + pool }
func accountKey(account string) string    { return "a\x00" + account }

// batchLockWait is how long a write of a batch of several waits for a row
// on PostgreSQL before it gives up, to run again on its own.
const batchLockWait = "'50ms'"

func (s *Store) writeOnce(ctx context.Context, fn func(*tx) error) error {
	var after []func()
	err := s.begin(ctx, func(c *conn) error {
		t := &tx{c: c, ctx: ctx, s: s, writing: true}
		err := fn(t)
		if err == nil {
			err = t.flush()
		}
		if err == nil {
			err = c.commit(ctx)
		}
		after = t.after
		return err
	})
	if err != nil {
		return err
	}
	for _, f := range after {
		f()
	}
	return nil
}

// read runs fn in a read-only view. Reads need no writer.
func (s *Store) read(ctx context.Context, fn func(*tx) error) error {
	sqlTx, err := s.db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return err
	}
	defer sqlTx.Rollback()
	return fn(&tx{c: &conn{sql: sqlTx}, ctx: ctx, s: s})
}

// writer is the group commit: one goroutine runs the writes of this
// process; each transaction it opens runs every write waiting at that
// moment, each in a savepoint so that one refused change does not undo the
// others, then commits once for all of them.
type writer struct {
	*batcher[*writeOp]
}

type writeOp struct {
	ctx   context.Context
	s     *Store
	fn    func(*tx) error
	err   error
	after []func()
	ready chan struct{}

	// What the op takes and frees, its stamped events and the answers to
	// correct, left to the end of the batch.
	counts   map[counter]int
	countSts map[string]*acctState
	stamped  [][]any
	fixes    []inUseFix
	signIns  []*signIn
}

const maxBatch = 128

func newWriter() *writer {
	w := &writer{}
	w.batcher = newBatcher(maxBatch, w.run)
	return w
}

func (w *writer) do(ctx context.Context, s *Store, fn func(*tx) error) error {
	op := &writeOp{ctx: ctx, s: s, fn: fn, ready: make(chan struct{})}
	if err := w.submit(ctx, op); err != nil {
		return err
	}
	<-op.ready // once queued, the op runs: wait for its outcome even if ctx ends
	if op.err != nil {
		return op.err
	}
	for _, f := range op.after {
		f()
	}
	return nil
}

func (w *writer) run(batch []*writeOp) {
	var alone []*writeOp // to run again on their own: a deadlock or serialization failure hit them
	s := batch[0].s
	err := s.begin(context.Background(), func(c *conn) error {
		b := &batchRun{c: c, cache: &batchCache{states: map[string]*acctState{}, pending: map[counter]int{}, signingIn: map[string]bool{}}, queueFlush: len(batch) == 1}
		// Writes of several processes' batches may lock the same rows in
		// opposite orders. PostgreSQL finds such a deadlock only after a
		// second (deadlock_timeout), stalling both writers: a write of a
		// batch waits for a row at most batchLockWait instead, and on
		// running out runs again on its own, after the batch. The
		// settlement waits as long as it must: its counters are locked in
		// one order everywhere.
		patient := !s.postgres || len(batch) == 1
		b.patient = patient
		if !patient {
			c.queue(context.Background(), "SET LOCAL lock_timeout = "+batchLockWait)
		}
		for i, op := range batch {
			if err := b.runOp(i, op, true); err != nil {
				return err
			}
		}
		if !patient {
			c.queue(context.Background(), "SET LOCAL lock_timeout = 0")
		}
		if err := b.settle(batch); err != nil {
			return err
		}
		return c.commit(context.Background())
	})
	undone := retryable(err)
	for _, op := range batch {
		// A write a deadlock or serialization failure hit runs again on
		// its own; so does every write that had not failed of a batch
		// such a failure undid, and every one refused for want of room
		// there (its room counted the undone writes).
		if retryable(op.err) || (undone && (op.err == nil || fullCounter(op.err) != nil)) {
			alone = append(alone, op)
		}
	}
	if undone {
		err = nil
	}
	if len(batch) == 1 {
		// Its flush went out with the settlement (see queueFlush).
		err = uniqueUserName(err)
	}
	for _, op := range batch {
		if slices.Contains(alone, op) {
			continue
		}
		if err != nil && op.err == nil {
			op.err, op.after = err, nil
		}
		close(op.ready)
	}
	for _, op := range alone {
		op.err, op.after = op.s.writeAlone(op.ctx, op.fn), nil
		close(op.ready)
	}
}

// batchRun is one batch's transaction. Its writes run one after another,
// each in a savepoint of its own (op0, op1, …, never released before the
// commit, so that the batch can go back to any of them).
type batchRun struct {
	c     *conn
	cache *batchCache
	// queueFlush: the batch is one write, whose flush can go out with the
	// settlement — an error of it is the batch's, which is the write's.
	queueFlush bool
	// patient: the batch's writes wait for rows as long as they must;
	// otherwise at most batchLockWait, until the settlement.
	patient bool
}

// settleBackTo goes back to a write's savepoint during the settlement,
// which waits for rows as long as it must: going back to a savepoint taken
// before it would also bring back the writes' lock timeout.
func (b *batchRun) settleBackTo(savepoint string) error {
	if err := b.c.rollbackTo(savepoint); err != nil || b.patient {
		return err
	}
	return b.c.queue(context.Background(), "SET LOCAL lock_timeout = 0")
}

// runOp runs write i. With deferred counters, what it takes and frees is
// kept for settle; otherwise it is applied, and checked, at its flush. The
// error returned is the batch's own; the write's is in op.err.
func (b *batchRun) runOp(i int, op *writeOp, deferred bool) error {
	op.err, op.after, op.counts, op.countSts, op.stamped, op.fixes, op.signIns = nil, nil, nil, nil, nil, nil, nil
	// The savepoint even for a write not run: settle may go back to op0.
	sp := fmt.Sprintf("op%d", i)
	if err := b.c.queue(context.Background(), "SAVEPOINT "+sp); err != nil {
		return err
	}
	if err := op.ctx.Err(); err != nil {
		op.err = err
		return nil
	}
	// Once started, an op runs to its end: a cancelled request must not
	// leave half a change inside the shared transaction.
	t := &tx{c: b.c, ctx: context.WithoutCancel(op.ctx), s: op.s, writing: true, batch: b.cache, deferCounts: deferred, queueFlush: deferred && b.queueFlush}
	if op.err = op.fn(t); op.err == nil {
		op.err = t.flush()
	}
	if op.err == nil {
		op.after, op.counts, op.countSts, op.stamped = t.after, t.counts, t.countSts, t.stamped
		if deferred {
			op.fixes, op.signIns = t.fixes, t.signIns
			for c, d := range op.counts {
				b.cache.pending[c] += d
			}
			b.cache.markSignIns(t.signIns)
		}
		return nil
	}
	clear(b.cache.states) // what the failed write read may be undone
	return b.c.rollbackTo(sp)
}

// settle changes every counter the batch's writes touched, once each, at
// the very end, so that a hot counter row (a pool, a license's seats) is
// locked only from here to the commit, whatever the batch did before.
// If a counter has no room for everything, the batch goes back to the
// write that overflowed it: that write is refused, the ones before it are
// settled again, and the ones after it run again, one by one, each
// checking its counters at its own flush — the outcome of running them all
// in order.
func (b *batchRun) settle(all []*writeOp) error {
	batch, rest := all, len(all) // settle batch; run all[rest:] again afterwards
	tries := 0
	for len(batch) > 0 {
		total := map[counter]int{}
		sts := map[string]*acctState{}
		for _, op := range batch {
			if op.err != nil {
				continue
			}
			for c, d := range op.counts {
				total[c] += d
			}
			for a, st := range op.countSts {
				sts[a] = st
			}
		}
		var signIns []*signIn
		for _, op := range batch {
			if op.err == nil {
				signIns = append(signIns, op.signIns...)
			}
		}
		t := &tx{c: b.c, ctx: context.Background(), s: batch[0].s, writing: true, counts: total, countSts: sts}
		if err := t.accountsUnmoved(signIns); err != nil {
			return err
		}
		// One counter taken from and none freed: a refusal changes
		// nothing, and there is nothing to go back to.
		single := len(total) == 1
		for _, d := range total {
			single = single && d > 0
		}
		if !single {
			if err := b.c.queue(context.Background(), "SAVEPOINT settle"); err != nil {
				return err
			}
		}
		err := t.flush() // counters, then the stamped events of the settled writes
		if err == nil {
			var fixes []inUseFix
			for _, op := range batch {
				if op.err == nil {
					t.stamped = append(t.stamped, op.stamped...)
					t.signIns = append(t.signIns, op.signIns...)
					fixes = append(fixes, op.fixes...)
				}
			}
			t.fixAnswers(fixes)
			// Queued if nothing but the COMMIT follows: before the
			// savepoint of a write run again, an error of it would be
			// that write's.
			if err := t.flushStamped(rest == len(all)); err != nil {
				return err
			}
			clear(b.cache.signingIn) // their sessions are stored
			break
		}
		full := fullCounter(err)
		if full == nil {
			return err
		}
		// Undo whatever part of the counter changes went through, to
		// measure the room that was there before them.
		if !single {
			if err := b.c.rollbackTo("settle"); err != nil {
				return err
			}
		}
		var room int
		if err := t.queryRow(counterSQL[full.table].room, full.account, full.license).Scan(&room); err != nil {
			return err
		}
		k, sum := -1, 0
		for i, op := range batch {
			if op.err != nil {
				continue
			}
			if sum += op.counts[*full]; sum > room {
				k = i
				break
			}
		}
		if k < 0 {
			// Places were freed (by another process) since the totals were
			// refused: they may fit now. Try again, a few times; then fall
			// back to running every write on its own checks.
			if tries++; tries < 5 {
				continue
			}
			rest = 0
			if err := b.settleBackTo("op0"); err != nil {
				return err
			}
			clear(b.cache.states)
			clear(b.cache.pending)
			clear(b.cache.signingIn)
			batch = nil
			break
		}

		// Go back to before write k: it is refused; the ones after it will
		// run again once the ones before it are settled.
		if err := b.settleBackTo(fmt.Sprintf("op%d", k)); err != nil {
			return err
		}
		clear(b.cache.states)
		clear(b.cache.pending)
		clear(b.cache.signingIn)
		prefix := 0
		for _, op := range batch[:k] {
			if op.err == nil {
				prefix += op.counts[*full]
				for c, d := range op.counts {
					b.cache.pending[c] += d
				}
				b.cache.markSignIns(op.signIns)
			}
		}
		batch[k].err = noRoomAt(t, *full, room-prefix)
		batch[k].after, batch[k].counts, batch[k].stamped, batch[k].fixes, batch[k].signIns = nil, nil, nil, nil, nil
		batch, rest = batch[:k], k+1
	}
	if rest < len(all) && !b.patient {
		// The writes after a refused one run again, each settling its own
		// counters: as writes of the batch, they wait for a row at most
		// batchLockWait, and then run again alone.
		if err := b.c.queue(context.Background(), "SET LOCAL lock_timeout = "+batchLockWait); err != nil {
			return err
		}
	}
	for i := rest; i < len(all); i++ {
		if err := b.runOp(i, all[i], false); err != nil {
			return err
		}
	}
	clear(b.cache.pending)
	return nil
}

// batchCache keeps the account states read within one batch, so that the
// writes after the first need not read the account row again. A write that
// changes the account drops its entry; a failed write drops them all.
type batchCache struct {
	states map[string]*acctState
	// pending is what the batch's writes so far take and free, not yet
	// applied: a write reading a counter adds it to see what it will be.
	pending map[counter]int
	// signingIn names the users, pools and accounts of the sign-ins the
	// batch admitted whose sessions are stored only at its settlement
	// (storeSessions): a later write of the batch that ends presences
	// would miss them (see signInsStored).
	signingIn map[string]bool
}

// markSignIns notes sign-ins whose sessions the settlement will store.
func (c *batchCache) markSignIns(xs []*signIn) {
	for _, x := range xs {
		c.signingIn[userKey(x.account, x.user)] = true
		c.signingIn[poolKey(x.account, x.pool)] = true
		c.signingIn[accountKey(x.account)] = true
	}
}
