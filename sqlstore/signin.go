package sqlstore

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/seatkeeper/seatkeeper"
)

// signIn is a sign-in waiting for its batch (see batcher): the sign-ins
// arriving together are admitted by one write, in a few statements for
// all of them, instead of a few each.
type signIn struct {
	ctx                               context.Context
	account, user, kind, key, request string

	pool     string
	quantity int           // the pool's quantity Q, for the answer's overage
	timeout  time.Duration // the session's, without heartbeats
	until    time.Time     // the end of its pool's term: it lives no longer (zero: none)
	version  int64         // of the account as the sign-in read it (see accountsUnmoved)
	out      seatkeeper.Session
	counted  bool // admitted as the user's first presence: took a place
	replayed bool
	err      error
	ready    chan struct{}
}

const maxSignIns = 256

// StartSession implements seatkeeper.PresenceService.
func (s *Store) StartSession(ctx context.Context, by seatkeeper.Actor, account, user, kind, key, request string) (seatkeeper.Session, bool, error) {
	x := &signIn{ctx: ctx, account: account, user: user, kind: kind, key: key, request: request, ready: make(chan struct{})}
	switch kind {
	case seatkeeper.KindWorkSession, seatkeeper.KindPortal, seatkeeper.KindAPI:
	default:
		return x.out, false, &seatkeeper.Error{Code: seatkeeper.EInvalid, Message: "invalid session",
			Fields: []seatkeeper.FieldError{{Field: "kind", Message: "must be work_session, portal or api"}}}
	}
	if err := s.signIns.submit(ctx, x); err != nil {
		return x.out, false, err
	}
	<-x.ready
	return x.out, x.replayed, x.err
}

// runSignIns admits a batch in rounds in which no user and no
// idempotency key comes twice, so that a later sign-in of a user sees the
// earlier one, as if they had come one after the other.
func (s *Store) runSignIns(batch []*signIn) {
	for len(batch) > 0 {
		var round, rest []*signIn
		seen := map[string]bool{}
		for _, x := range batch {
			u, k := "u\x00"+x.account+"\x00"+x.user, "k\x00"+x.account+"\x00"+x.key
			if seen[u] || (x.key != "" && seen[k]) {
				rest = append(rest, x)
				continue
			}
			seen[u], seen[k] = true, true
			round = append(round, x)
		}
		s.signInRound(round, false)
		batch = rest
	}
}

func (s *Store) signInRound(round []*signIn, retried bool) {
	var err error
	for attempt := 0; ; attempt++ {
		err = s.write(context.Background(), func(t *tx) error { return t.startSessions(round) })
		// The pools had room for this round when read, but other
		// processes took it before the round's places were settled:
		// nothing was written; read them again.
		if seatkeeper.ErrorCode(err) != seatkeeper.EPoolExhausted || attempt == 4 {
			break
		}
	}
	if keyTaken(err) && !retried {
		// Another process stored an answer under this key since it was
		// looked up: look again, to replay it or refuse the key.
		s.signInRound(round, true)
		return
	}
	if err != nil && len(round) > 1 {
		// A failure of the round as a whole (an idempotency key another
		// process stored at the same moment, pools that other processes
		// kept filling between reading and settling) is each one's own:
		// run them one by one.
		for _, x := range round {
			s.signInRound([]*signIn{x}, false)
		}
		return
	}
	if keyTaken(err) {
		err = seatkeeper.Errorf(seatkeeper.EConflict, "Idempotency-Key %q is being used by another request", round[0].key)
	}
	if x := round[0]; seatkeeper.ErrorCode(err) == seatkeeper.EPoolExhausted && x.pool != "" {
		// Refused at the settlement, other processes having taken the
		// places each time: metered as any refusal is (R4, the report's
		// denied), in a write of its own, the sign-in's having been undone.
		_ = s.write(context.Background(), func(t *tx) error {
			t.eventAt(t.s.Now().UTC().Truncate(time.Microsecond), x.account, seatkeeper.EventPresenceDenied, x.user, x.pool, x.kind, "", "", 0)
			return nil
		})
	}
	for _, x := range round {
		if err != nil {
			x.out, x.replayed, x.err = seatkeeper.Session{}, false, err
		}
		close(x.ready)
	}
}

// startSessions starts a session for each sign-in of the round that may
// have one, and sets each one's answer. A user not yet signed in to their
// pool takes a place in it (R4) or is refused with pool_exhausted, which
// the ledger meters; one who is adds a presence (R5).
func (t *tx) startSessions(round []*signIn) error {
	now := t.s.Now().UTC().Truncate(time.Microsecond)
	var keys [][]any
	for _, x := range round {
		x.out, x.replayed, x.err, x.pool, x.until = seatkeeper.Session{}, false, nil, "", time.Time{}
		if x.err = x.ctx.Err(); x.err == nil {
			t.prefetch(x.account)
			keys = append(keys, []any{x.account, x.user})
		}
	}
	// The users, locked, and (in the same round trip) their accounts: a
	// repeat of an idempotent request waits here for the first to commit,
	// and then finds its answer.
	users, err := t.loadUsers(keys)
	if err != nil {
		return err
	}
	states := map[string]*acctState{}
	var live []*signIn
	for _, x := range round {
		if x.err != nil {
			continue
		}
		st, err := t.state(x.account)
		if seatkeeper.ErrorCode(err) != "" {
			x.err = err // no such account, or its catalog is gone
			continue
		} else if err != nil {
			return err
		}
		states[x.account] = st
		live = append(live, x)
	}
	if err := t.replays(live); err != nil {
		return err
	}
	var pooled []*signIn
	for _, x := range live {
		u := users[[2]string{x.account, x.user}]
		switch {
		case x.err != nil || x.replayed:
			continue
		case u == nil:
			x.err = seatkeeper.Errorf(seatkeeper.ENotFound, "no user %q", x.user)
			continue
		case !u.u.Active:
			x.err = seatkeeper.Errorf(seatkeeper.EUserInactive, "the user is inactive and cannot sign in")
			continue
		}
		st := states[x.account]
		x.timeout, x.version = st.timeout(x.kind), st.version
		x.out = seatkeeper.Session{ID: seatkeeper.NewID("ses_"), User: x.user, Kind: x.kind, StartedAt: now, ExpiresAt: now.Add(x.timeout)}
		if x.pool = st.poolOf(u); x.pool != "" {
			if !st.ent.InForce(x.pool, now) {
				// A pool admits no one outside its subscription's term.
				x.err = seatkeeper.Errorf(seatkeeper.EConflict, "the subscription to %s is not in force: its term has not begun or has ended", x.pool)
				continue
			}
			// Nor keeps anyone past it.
			sub, _ := st.ent.Subscription(x.pool)
			x.until = sub.EndsAt
			x.out.ExpiresAt = expiryOf(now, x.timeout, x.until)
			pooled = append(pooled, x)
		}
	}
	if err := t.admitAll(states, pooled, now); err != nil {
		return err
	}
	var answers [][]any
	for _, x := range live {
		if x.err != nil || x.replayed {
			continue
		}
		// The session is stored, and starts, when its presence.start is
		// stamped (storeSessions); the answer kept for its key now, to
		// hold the key, and again then.
		t.stampedEvent(x.account, seatkeeper.EventPresenceStart, x.user, x.pool, x.kind, x.out.ID)
		t.signIns = append(t.signIns, x)
		if x.key != "" {
			body, _ := json.Marshal(x.out)
			answers = append(answers, []any{x.account, x.key, x.request, string(body), micros(now)})
		}
		t.changed(x.account, x.user)
	}
	if len(answers) > 0 {
		var args []any
		t.later("INSERT INTO idempotency (account, key, request, body, created_at, status) VALUES "+rowsOf(answers, &args, "201"), args...)
	}
	return nil
}

// replays answers the sign-ins whose Idempotency-Key was used before: the
// same request gets the first answer, another one a conflict.
func (t *tx) replays(xs []*signIn) error {
	var keys [][]any
	for _, x := range xs {
		if x.key != "" && x.err == nil {
			keys = append(keys, []any{x.account, x.key})
		}
	}
	if len(keys) == 0 {
		return nil
	}
	var args []any
	rows, err := t.query("SELECT account, key, request, body FROM idempotency WHERE (account, key) IN (VALUES "+rowsOf(keys, &args)+")", args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	type answer struct{ request, body string }
	found := map[[2]string]answer{}
	for rows.Next() {
		var account, key string
		var a answer
		if err := rows.Scan(&account, &key, &a.request, &a.body); err != nil {
			return err
		}
		found[[2]string{account, key}] = a
	}
	if err := rows.Err(); err != nil {
		return err
	}
	for _, x := range xs {
		a, ok := found[[2]string{x.account, x.key}]
		switch {
		case x.key == "" || x.err != nil || !ok:
		case a.request != x.request:
			x.err = seatkeeper.Errorf(seatkeeper.EConflict, "Idempotency-Key %q was used for another request", x.key)
		default:
			x.replayed = true
			if err := json.Unmarshal([]byte(a.body), &x.out); err != nil {
				return err
			}
		}
	}
	return nil
}

// admitAll gives each sign-in into a pool a place, in the order they came,
// while the pool has room (R4): a user already signed in needs none (R5).
// When a pool looks full, its sessions whose time ran out are ended first,
// at their expiry, so that the count is exact. The places are taken when
// the writer settles the batch; the refused are told pool_exhausted.
func (t *tx) admitAll(states map[string]*acctState, xs []*signIn, now time.Time) error {
	if len(xs) == 0 {
		return nil
	}
	type pool struct {
		inUse, limit int
		read         int // its in_use as read: what is committed
		admitted     []*signIn
	}
	pools := map[counter]*pool{}
	var users, keys [][]any
	for _, x := range xs {
		users = append(users, []any{x.account, x.pool, x.user})
		if c := (counter{"pools", x.account, x.pool}); pools[c] == nil {
			pools[c] = &pool{}
			keys = append(keys, []any{x.account, x.pool})
		}
	}
	// Each user's presences in the pool, this one counted: one means this
	// sign-in is their first. The rows stay locked to the commit; they are
	// locked in one order, as in afterEnd.
	slices.SortFunc(users, func(a, b []any) int {
		return cmp.Or(strings.Compare(a[0].(string), b[0].(string)), strings.Compare(a[1].(string), b[1].(string)), strings.Compare(a[2].(string), b[2].(string)))
	})
	var args []any
	upsert := `INSERT INTO pool_users (account, license, user_id, presences) VALUES ` + rowsOf(users, &args, "1") + `
		ON CONFLICT (account, license, user_id) DO UPDATE SET presences = pool_users.presences + 1
		RETURNING account, license, user_id, presences`
	presences := map[[3]string]int{}
	scan := func(q string, args []any) error {
		rows, err := t.query(q, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var account, license, user string
			var a, b int
			if err := rows.Scan(&account, &license, &user, &a, &b); err != nil {
				return err
			}
			if p := pools[counter{"pools", account, license}]; user == "" && p != nil {
				p.inUse, p.read, p.limit = a, a, b
			} else {
				presences[[3]string{account, license, user}] = a
			}
		}
		return rows.Err()
	}
	poolsQ := `SELECT account, license, '', in_use, cap FROM pools WHERE (account, license) IN (VALUES ` + rowsOf(keys, &args) + `)`
	if t.s.postgres {
		// One round trip for both.
		if err := scan(`WITH pu AS (`+upsert+`) SELECT account, license, user_id, presences, 0 FROM pu UNION ALL `+poolsQ, args); err != nil {
			return err
		}
	} else {
		n := 3 * len(users)
		if err := scan(upsert+", 0", args[:n]); err != nil {
			return err
		}
		if err := scan(poolsQ, args[n:]); err != nil {
			return err
		}
	}
	for c, p := range pools {
		p.inUse += t.unsettled(c)
	}
	var refused [][]any
	checked := map[counter]bool{}
	for _, x := range xs {
		c := counter{"pools", x.account, x.pool}
		p := pools[c]
		first := presences[[3]string{x.account, x.pool, x.user}] == 1
		if first && p.inUse >= p.limit && !checked[c] {
			// Before refusing, once: end the pool's sessions whose time
			// ran out, and read the pool again. On PostgreSQL the read
			// above is as of its statement's start, and the statement
			// may have waited for this user's row while another process
			// ended the user's last session and freed their place.
			checked[c] = true
			if _, err := t.endExpired("account = ? AND pool = ?", now, x.account, x.pool); err != nil {
				return err
			}
			if err := t.queryRow("SELECT in_use, cap FROM pools WHERE account = ? AND license = ?", x.account, x.pool).Scan(&p.read, &p.limit); err != nil {
				return err
			}
			p.inUse = p.read + t.unsettled(c)
		}
		if first && p.inUse >= p.limit {
			// The answer's in_use counts this batch's admissions not yet
			// settled, which may yet be refused: never more than the cap,
			// or what is committed if that is more (a cap lowered since).
			x.out, x.err = seatkeeper.Session{}, poolFull(x.pool, min(p.inUse, max(p.limit, p.read)), p.limit)
			refused = append(refused, []any{x.account, x.pool, x.user})
			// The refusal itself is metered: the usage report counts denials.
			t.eventAt(now, x.account, seatkeeper.EventPresenceDenied, x.user, x.pool, x.kind, "", "", 0)
			continue
		}
		if first {
			t.count(states[x.account], "pools", x.pool, +1)
			p.inUse++
			x.counted = true
		}
		sub, _ := states[x.account].ent.Subscription(x.pool)
		inUse, limit, over := p.inUse, p.limit, max(0, p.inUse-sub.Quantity)
		x.out.Pool, x.out.InUse, x.out.Cap, x.out.Overage = x.pool, &inUse, &limit, &over
		x.quantity = sub.Quantity
		p.admitted = append(p.admitted, x)
	}
	if t.s.postgres {
		// Other processes may admit and free between the read above and
		// the settlement: the answers are corrected then (inUseFix).
		for c, p := range pools {
			if len(p.admitted) > 0 {
				t.fixes = append(t.fixes, inUseFix{c: c, admitted: p.admitted})
			}
		}
	}
	if len(refused) > 0 {
		var args []any
		if _, err := t.exec("DELETE FROM pool_users WHERE presences = 1 AND (account, license, user_id) IN (VALUES "+rowsOf(refused, &args)+")", args...); err != nil {
			return err
		}
	}
	return nil
}

// inUseFix corrects the in_use and overage that sign-ins into a pool were
// answered with, once the pool is settled. They were counted from the
// pool's row as the write read it, before its lock; on PostgreSQL other
// processes may have admitted and freed since, and two users admitted
// together could each be told they were the pool's 2nd.
type inUseFix struct {
	c        counter
	admitted []*signIn
}

// fixAnswers answers the sign-ins of fixes (in the order admitted) once a
// flush has settled their pools. A settlement takes and frees all its
// places at once, so each user is told the pool as the settlement left it
// (t.settled) less the users admitted after them in it: never above the cap, even where a place freed
// later in the batch made room, and users admitted together are told 1,
// 2, … apart. (storeSessions then keeps the answers for their keys.)
func (t *tx) fixAnswers(fixes []inUseFix) {
	later := map[counter]int{}
	for i := len(fixes) - 1; i >= 0; i-- {
		f := fixes[i]
		settled, ok := t.settled[f.c]
		if !ok {
			continue
		}
		for j := len(f.admitted) - 1; j >= 0; j-- {
			x := f.admitted[j]
			*x.out.InUse = settled - later[f.c]
			*x.out.Overage = max(0, *x.out.InUse-x.quantity)
			if x.counted {
				later[f.c]++
			}
		}
	}
}

// errAccountMoved: an account changed (another process's write committed)
// between a sign-in's reading it and the settlement. The batch is undone
// and its writes run again on their own, the sign-in then reading the
// account as it now is.
var errAccountMoved = errors.New("an account changed while a sign-in was admitted")

// accountsUnmoved checks, on PostgreSQL, that the accounts of the sign-ins
// are still as they read them, and keeps them so until the commit (FOR
// SHARE). A sign-in reads its account without a lock, and a change of
// another process (a role's links, a pool's term or model, the account
// deleted, the session timeout) that commits before the sign-in's sessions
// are stored would not have seen them. Every such change locks its account
// row (bump, or the deletion's UPDATE) before it touches sessions: one in
// flight makes this wait and then fail with errAccountMoved; one that has
// not locked yet waits for the sign-in's commit and then sees its
// sessions. It runs before the counters are settled, so that accounts are
// locked before pools, as the changes lock them.
func (t *tx) accountsUnmoved(xs []*signIn) error {
	if !t.s.postgres || len(xs) == 0 {
		return nil
	}
	read := map[string]int64{}
	var ids []any
	for _, x := range xs {
		if _, ok := read[x.account]; !ok {
			ids = append(ids, x.account)
		}
		read[x.account] = x.version
	}
	slices.SortFunc(ids, func(a, b any) int { return cmp.Compare(a.(string), b.(string)) })
	rows, err := t.query("SELECT id, version FROM accounts WHERE id IN ("+strings.TrimSuffix(strings.Repeat("?, ", len(ids)), ", ")+") ORDER BY id FOR SHARE", ids...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		var v int64
		if err := rows.Scan(&id, &v); err != nil {
			return err
		}
		if v != read[id] {
			return errAccountMoved
		}
	}
	return rows.Err()
}

// storeSessions stores the sessions of the sign-ins admitted, started at
// at, when their presence.start is stamped: the session an answer gives
// starts when the ledger says it did. The answers kept for their
// Idempotency-Keys are kept again, as final.
func (t *tx) storeSessions(at time.Time, queued bool) error {
	if len(t.signIns) == 0 {
		return nil
	}
	var sessions, answers [][]any
	for _, x := range t.signIns {
		x.out.StartedAt, x.out.ExpiresAt = at, expiryOf(at, x.timeout, x.until)
		sessions = append(sessions, []any{x.out.ID, x.account, x.user, x.kind, x.pool, micros(at), micros(at), micros(x.out.ExpiresAt), micros(x.out.ExpiresAt), x.timeout.Microseconds()})
		if x.key != "" {
			body, _ := json.Marshal(x.out)
			answers = append(answers, []any{x.account, x.key, string(body)})
		}
	}
	t.signIns = nil
	run := func(q string, args []any) error {
		if queued {
			return t.queue(q, args...)
		}
		_, err := t.exec(q, args...)
		return err
	}
	var args []any
	if err := run("INSERT INTO sessions (id, account, user_id, kind, pool, started_at, last_seen, expires_at, reap_at, timeout) VALUES "+rowsOf(sessions, &args), args); err != nil {
		return err
	}
	if len(answers) == 0 {
		return nil
	}
	args = nil
	return run("UPDATE idempotency SET body = v.column3 FROM (VALUES "+rowsOf(answers, &args)+") AS v WHERE idempotency.account = v.column1 AND idempotency.key = v.column2", args)
}

// expiryOf is when a session started or extended at at expires: its
// timeout later, but never after its pool's term ends (until; zero: no
// end), nor before at.
func expiryOf(at time.Time, timeout time.Duration, until time.Time) time.Time {
	if e := at.Add(timeout); until.IsZero() || e.Before(until) {
		return e
	}
	if until.Before(at) {
		return at
	}
	return until
}

// keyTaken reports a unique violation on an idempotency key: two processes
// stored an answer under one key at once.
func keyTaken(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "23505" && strings.Contains(pe.ConstraintName, "idempotency")
}
