package sqlstore

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/seatkeeper/seatkeeper"
	"github.com/seatkeeper/seatkeeper/catalog"
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
		if !seatkeeper.ValidID(e.User) {
			bad(i, "user", "must match [A-Za-z0-9._@:-]{1,128}")
		}
		if e.At.IsZero() || e.At.Year() < 2000 || e.At.After(s.Now().Add(24*time.Hour)) {
			bad(i, "at", "must be an RFC 3339 time from 2000 up to a day ahead")
		}
		switch e.Type {
		case seatkeeper.EventPresenceStart, seatkeeper.EventPresenceEnd:
			if !seatkeeper.ValidID(e.Session) {
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
		case seatkeeper.EventUserActivate, seatkeeper.EventUserDeactivate:
			if e.License != "" {
				bad(i, "license", "user events name no license: a user is activated or deactivated as a whole")
			}
		}
		if e.License != "" && !seatkeeper.ValidID(e.License) {
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
		loc := seatkeeper.Location(st.account.TimeZone)
		for i, e := range events {
			if e.License == "" {
				continue
			}
			l, ok := st.cat.License(e.License)
			if !ok {
				return seatkeeper.Errorf(seatkeeper.EInvalid, "catalog %s has no license %q; none were imported", st.cat.Name, e.License)
			}
			// Metered like live events: a presence is in a concurrent
			// pool of the account (R4), an assignment of a seat held per
			// user (R10: account-wide and quantity licenses are not).
			switch e.Type {
			case seatkeeper.EventPresenceStart, seatkeeper.EventPresenceEnd:
				if sub, ok := st.ent.Subscription(e.License); !ok || sub.Model != catalog.ModelConcurrent || l.Kind != catalog.KindPlan {
					bad(i, "license", "presence events are of a concurrent plan's pool the account subscribes to")
				}
			case seatkeeper.EventAssignmentAdd, seatkeeper.EventAssignmentRemove:
				if l.Scope != catalog.ScopeUser {
					bad(i, "license", "assignment events are of licenses held per user, not account-wide or quantity licenses")
				}
			}
		}
		if len(fields) > 0 {
			return &seatkeeper.Error{Code: seatkeeper.EInvalid, Message: "invalid events; none were imported", Fields: fields}
		}
		if err := t.refuseClosed(account, loc, events); err != nil {
			return err
		}
		if err := t.refuseInconsistent(account, events); err != nil {
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

// refuseInconsistent refuses a batch whose presence events contradict
// each other, earlier imports or the presence API: a session is one user's
// presence of one kind in one pool, and not one the presence API started
// (imports are for presence tracked elsewhere). (Repeats and any order are taken: a
// presence is its first start and its last end, so a batch sent twice
// changes nothing, and an end may come before its start. One that ends
// before it starts counts nowhere.)
func (t *tx) refuseInconsistent(account string, events []seatkeeper.UsageEvent) error {
	type session struct {
		i                   int // its first event
		user, license, kind string
	}
	sessions := map[string]*session{}
	var ids []string
	var fields []seatkeeper.FieldError
	bad := func(i int, field, m string) {
		if len(fields) < 100 {
			fields = append(fields, seatkeeper.FieldError{Field: fmt.Sprintf("events[%d].%s", i, field), Message: m})
		}
	}
	for i, e := range events {
		if e.Type != seatkeeper.EventPresenceStart && e.Type != seatkeeper.EventPresenceEnd {
			continue
		}
		f := sessions[e.Session]
		if f == nil {
			f = &session{i: i, user: e.User, license: e.License, kind: e.Kind}
			sessions[e.Session] = f
			ids = append(ids, e.Session)
		}
		switch {
		case e.User != f.user:
			bad(i, "session", fmt.Sprintf("session %q is user %q's in event %d", e.Session, f.user, f.i))
		case e.License != f.license:
			bad(i, "license", fmt.Sprintf("session %q is in the pool of %s in event %d", e.Session, f.license, f.i))
		case e.Kind != f.kind:
			bad(i, "kind", fmt.Sprintf("session %q is a %s in event %d", e.Session, f.kind, f.i))
		}
	}
	// The sessions of the presence API, by their primary key; and the
	// users of the sessions earlier imports brought, by the presences'
	// primary key, a pool at a time.
	live := map[string]bool{}
	err := t.eachRow(ids, func(in string, list any) (rows, error) {
		return t.query(`SELECT id FROM sessions WHERE account = ? AND id `+in, account, list)
	}, func(r row) error {
		var id string
		err := r.Scan(&id)
		live[id] = true
		return err
	})
	if err != nil {
		return err
	}
	byPool := map[string][]string{}
	for _, id := range ids {
		if live[id] {
			bad(sessions[id].i, "session", fmt.Sprintf("session %q was started through the presence API; an import may not change it", id))
		}
		byPool[sessions[id].license] = append(byPool[sessions[id].license], id)
	}
	for license, pool := range byPool {
		err := t.eachRow(pool, func(in string, list any) (rows, error) {
			return t.query(`SELECT p.session, k.user_id FROM presences p JOIN user_keys k ON k.key = p.user_key
				WHERE p.account = ? AND p.license = ? AND p.session `+in, account, license, list)
		}, func(r row) error {
			var id, user string
			if err := r.Scan(&id, &user); err != nil {
				return err
			}
			if f := sessions[id]; f.user != user {
				bad(f.i, "session", fmt.Sprintf("session %q is user %q's in the ledger already", id, user))
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	if len(fields) > 0 {
		return &seatkeeper.Error{Code: seatkeeper.EInvalid, Message: "events contradict each other or the presence API; none were imported", Fields: fields}
	}
	return nil
}

// eachRow runs query over ids a few thousand at a time (as a condition
// "is one of these", from inList) and gives each row to scan.
func (t *tx) eachRow(ids []string, query func(in string, list any) (rows, error), scan func(row) error) error {
	const chunk = 3000
	for lo := 0; lo < len(ids); lo += chunk {
		rows, err := query(t.inList(ids[lo:min(lo+chunk, len(ids))]))
		if err != nil {
			return err
		}
		for rows.Next() {
			if err := scan(rows); err != nil {
				rows.Close()
				return err
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
	}
	return nil
}

// inList is a condition "is one of these", one placeholder whatever their
// number (so one prepared statement serves every list), and its argument:
// an array on PostgreSQL, a JSON array on SQLite.
func (t *tx) inList(values []string) (cond string, arg any) {
	if t.s.postgres {
		return "= ANY(?::text[])", values
	}
	js, _ := json.Marshal(values)
	return "IN (SELECT value FROM json_each(?))", string(js)
}
