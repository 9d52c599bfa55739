package sqlstore

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/seatkeeper/seatkeeper"
)

// MaxImport is the most events one import may carry (SPEC §4.5).
const MaxImport = 10000

var importTypes = map[string]bool{
	seatkeeper.EventPresenceStart: true, seatkeeper.EventPresenceEnd: true,
	seatkeeper.EventAssignmentAdd: true, seatkeeper.EventAssignmentRemove: true,
	seatkeeper.EventUserActivate: true, seatkeeper.EventUserDeactivate: true,
}

// ImportEvents appends a batch of events to the usage ledger, all or
// nothing: for backfill, and for vendors that track presence themselves.
// They are metered like live events but never refused by caps; an event in
// a closed month refuses the batch (EPeriodClosed).
func (s *Store) ImportEvents(ctx context.Context, by seatkeeper.Actor, account string, events []seatkeeper.UsageEvent) (int, error) {
	if len(events) == 0 || len(events) > MaxImport {
		return 0, seatkeeper.Errorf(seatkeeper.EInvalid, "a batch holds 1 to %d events", MaxImport)
	}
	var fields []seatkeeper.FieldError
	bad := func(i int, f, m string) {
		if len(fields) < 100 {
			fields = append(fields, seatkeeper.FieldError{Field: fmt.Sprintf("events[%d].%s", i, f), Message: m})
		}
	}
	for i, e := range events {
		if !importTypes[e.Type] {
			bad(i, "type", "must be presence.start, presence.end, assignment.add, assignment.remove, user.activate or user.deactivate")
		}
		if !IDPattern.MatchString(e.User) {
			bad(i, "user", "must match [A-Za-z0-9._@:-]{1,128}")
		}
		if e.At.IsZero() || e.At.Year() < 2000 || e.At.After(s.Now().Add(24*time.Hour)) {
			bad(i, "at", "must be an RFC 3339 time from 2000 up to a day ahead")
		}
		switch e.Type {
		case seatkeeper.EventPresenceStart, seatkeeper.EventPresenceEnd:
			if !IDPattern.MatchString(e.Session) {
				bad(i, "session", "presence events name their session")
			}
			if e.License == "" {
				bad(i, "license", "presence events name their pool's license")
			}
			switch e.Kind {
			case seatkeeper.KindWorkSession, seatkeeper.KindPortal, seatkeeper.KindAPI:
			default:
				bad(i, "kind", "must be work_session, portal or api")
			}
		case seatkeeper.EventAssignmentAdd, seatkeeper.EventAssignmentRemove:
			if e.License == "" {
				bad(i, "license", "assignment events name their license")
			}
		}
		if e.License != "" && !IDPattern.MatchString(e.License) {
			bad(i, "license", "must match [A-Za-z0-9._@:-]{1,128}")
		}
	}
	if len(fields) > 0 {
		return 0, &seatkeeper.Error{Code: seatkeeper.EInvalid, Message: "invalid events; none were imported", Fields: fields}
	}
	err := s.write(ctx, func(t *tx) error {
		st, err := t.state(account)
		if err != nil {
			return err
		}
		loc, _ := time.LoadLocation(st.account.TimeZone)
		for _, e := range events {
			if e.License != "" {
				if _, ok := st.cat.License(e.License); !ok {
					return seatkeeper.Errorf(seatkeeper.EInvalid, "catalog %s has no license %q; none were imported", st.cat.Name, e.License)
				}
			}
		}
		if err := t.refuseClosed(account, loc, events); err != nil {
			return err
		}
		if err := t.refuseInconsistent(account, loc, events); err != nil {
			return err
		}
		if err := t.insertImported(account, events); err != nil {
			return err
		}
		return t.audit(account, by, "usage.import", account, map[string]int{"events": len(events)})
	})
	if err != nil {
		return 0, err
	}
	return len(events), nil
}

// insertImported appends a batch to the ledger in multi-row statements and
// brings the presences table up to date for the whole batch at once: a
// batch of 10,000 events costs a few statements, not 10,000.
func (t *tx) insertImported(account string, events []seatkeeper.UsageEvent) error {
	const chunk = 3000 // 9 parameters a row: within SQLite's and PostgreSQL's limits
	rows := make([][]any, len(events))
	for i, e := range events {
		rows[i] = []any{account, micros(e.At), e.Type, e.User, e.License, e.Kind, e.Session, "import", 0}
	}
	for i := 0; i < len(rows); i += chunk {
		var args []any
		if _, err := t.exec(eventInsert+rowsOf(rows[i:min(i+chunk, len(rows))], &args), args...); err != nil {
			return err
		}
	}
	return t.syncPresences(rows)
}

// importedSession is what a batch and the ledger say of one session.
type importedSession struct {
	first int // the batch's first event of it
	user  string
	end   int64 // the batch's last end of it, 0 if none
}

// refuseInconsistent refuses a batch whose presence events contradict
// the ledger or each other: a session is one user's, is not one the
// presence API started (imports are for presence tracked elsewhere), and,
// once it has ended before the ledger's closed point, is not ended again
// later — that would stretch it over a closed month. (Repeats and any
// order are taken: a presence is its first start and its last end, so a
// batch sent twice changes nothing, and an end may come before its start.)
func (t *tx) refuseInconsistent(account string, loc *time.Location, events []seatkeeper.UsageEvent) error {
	type key struct{ license, session string }
	sessions := map[key]*importedSession{}
	var keys []key
	var fields []seatkeeper.FieldError
	bad := func(i int, m string) {
		if len(fields) < 100 {
			fields = append(fields, seatkeeper.FieldError{Field: fmt.Sprintf("events[%d].session", i), Message: m})
		}
	}
	for i, e := range events {
		if e.Type != seatkeeper.EventPresenceStart && e.Type != seatkeeper.EventPresenceEnd {
			continue
		}
		k := key{e.License, e.Session}
		x := sessions[k]
		if x == nil {
			x = &importedSession{first: i, user: e.User}
			sessions[k] = x
			keys = append(keys, k)
		}
		if e.User != x.user {
			bad(i, fmt.Sprintf("session %q is user %q's in event %d", e.Session, x.user, x.first))
		}
		if e.Type == seatkeeper.EventPresenceEnd {
			x.end = max(x.end, micros(e.At))
		}
	}
	_, boundary, err := t.latestClosed(account, loc)
	if err != nil {
		return err
	}
	const chunk = 3000
	for lo := 0; lo < len(keys); lo += chunk {
		part := keys[lo:min(lo+chunk, len(keys))]
		var pairs [][]any
		var ids []any
		for _, k := range part {
			pairs = append(pairs, []any{k.license, k.session})
			ids = append(ids, k.session)
		}
		var args []any
		q := `SELECT p.license, p.session, k.user_id, coalesce(p.ended_at, 0) FROM presences p
			JOIN user_keys k ON k.account = p.account AND k.key = p.user_key
			WHERE p.account = ? AND (p.license, p.session) IN (VALUES ` + rowsOf(pairs, &args) + `)`
		rows, err := t.query(q, append([]any{account}, args...)...)
		if err != nil {
			return err
		}
		for rows.Next() {
			var k key
			var user string
			var end int64
			if err := rows.Scan(&k.license, &k.session, &user, &end); err != nil {
				rows.Close()
				return err
			}
			x := sessions[k]
			switch {
			case user != x.user:
				bad(x.first, fmt.Sprintf("session %q is user %q's in the ledger", k.session, user))
			case end != 0 && end < micros(boundary) && x.end > end:
				rows.Close()
				return seatkeeper.Errorf(seatkeeper.EPeriodClosed, "session %q ended at %s, before the end of the closed months (%s): a later end would change them; none of the events were imported",
					k.session, fromMicros(end).In(loc).Format(time.RFC3339), boundary.In(loc).Format(time.RFC3339))
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		live, err := t.query(`SELECT id FROM sessions WHERE account = ? AND id IN (`+strings.TrimSuffix(strings.Repeat("?, ", len(ids)), ", ")+`)`, append([]any{account}, ids...)...)
		if err != nil {
			return err
		}
		for live.Next() {
			var id string
			if err := live.Scan(&id); err != nil {
				live.Close()
				return err
			}
			for _, k := range part {
				if k.session == id {
					bad(sessions[k].first, fmt.Sprintf("session %q was started through the presence API; an import may not change it", id))
				}
			}
		}
		live.Close()
		if err := live.Err(); err != nil {
			return err
		}
	}
	if len(fields) > 0 {
		return &seatkeeper.Error{Code: seatkeeper.EInvalid, Message: "events contradict each other or the ledger; none were imported", Fields: fields}
	}
	return nil
}
