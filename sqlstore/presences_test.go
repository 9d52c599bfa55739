package sqlstore_test

import (
	"cmp"
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/seatkeeper/seatkeeper"
	"github.com/seatkeeper/seatkeeper/sqlstore"
)

// TestPresencesFollowTheLedger: whatever the order and the batches in
// which a presence's start and end are imported — the end first,
// duplicates, batches of any size — the presences that metering reads say
// what the ledger says: per session its first start and its last end. The
// ledger is paired here the simple way and the report compared, minute by
// minute, with the peaks of that pairing.
func TestPresencesFollowTheLedger(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *sqlstore.Store) {
		ctx := context.Background()
		day := time.Date(2026, 10, 5, 0, 0, 0, 0, time.UTC)
		clock := day.Add(20 * time.Hour)
		s.Now = func() time.Time { return clock }
		mustAccount(t, s, "acme", "contact-center")
		if _, _, err := s.PutSubscription(ctx, operator, seatkeeper.Subscription{Account: "acme", License: "essentials", Model: "concurrent", Quantity: 1000,
			StartsAt: day.AddDate(0, -1, 0)}); err != nil {
			t.Fatal(err)
		}
		r := rand.New(rand.NewPCG(11, 12))
		var events []seatkeeper.UsageEvent
		for i := range 300 {
			user, session := fmt.Sprintf("u%d", r.IntN(60)), fmt.Sprintf("s%d", i)
			start := day.Add(time.Duration(r.IntN(16*60)) * time.Minute)
			end := start.Add(time.Duration(1+r.IntN(180)) * time.Minute)
			ev := func(typ string, at time.Time) seatkeeper.UsageEvent {
				return seatkeeper.UsageEvent{Type: typ, User: user, License: "essentials", Kind: "portal", Session: session, At: at}
			}
			events = append(events, ev("presence.start", start))
			if r.IntN(10) > 0 {
				events = append(events, ev("presence.end", end))
			}
			if r.IntN(8) == 0 { // a duplicate start, later: the first one counts
				events = append(events, ev("presence.start", start.Add(time.Duration(1+r.IntN(30))*time.Minute)))
			}
			if r.IntN(8) == 0 { // an earlier end as well: the last one counts
				events = append(events, ev("presence.end", start.Add(time.Minute)))
			}
		}
		r.Shuffle(len(events), func(i, j int) { events[i], events[j] = events[j], events[i] })
		for len(events) > 0 {
			n := min(len(events), 1+r.IntN(60))
			if _, err := s.ImportEvents(ctx, operator, "acme", events[:n]); err != nil {
				t.Fatal(err)
			}
			events = events[n:]
		}

		// The ledger paired the simple way: first start, last end, per session.
		ledger, err := s.UsageEvents(ctx, "acme", day.Add(-time.Hour), day.AddDate(0, 0, 1))
		if err != nil {
			t.Fatal(err)
		}
		type span struct {
			user       string
			start, end time.Time
		}
		spans := map[string]*span{}
		for _, e := range ledger {
			if e.Type != "presence.start" && e.Type != "presence.end" {
				continue
			}
			sp := spans[e.Session]
			if sp == nil {
				sp = &span{user: e.User}
				spans[e.Session] = sp
			}
			if e.Type == "presence.start" && (sp.start.IsZero() || e.At.Before(sp.start)) {
				sp.start = e.At
			}
			if e.Type == "presence.end" && e.At.After(sp.end) {
				sp.end = e.At
			}
		}
		rows, err := s.LicenseUsage(ctx, "acme", day, day.AddDate(0, 0, 1), time.Minute, "essentials")
		if err != nil || len(rows) != 24*60 {
			t.Fatalf("report: %d rows, %v", len(rows), err)
		}
		for _, row := range rows {
			// The most distinct users present at any instant of the minute.
			best := 0
			for k := range 60 {
				at := row.IntervalStart.Add(time.Duration(k) * time.Second)
				users := map[string]bool{}
				for _, sp := range spans {
					// A presence not ended yet has lasted until now (the clock).
					if !sp.start.IsZero() && !at.Before(sp.start) && at.Before(cmp.Or(sp.end, clock)) {
						users[sp.user] = true
					}
				}
				best = max(best, len(users))
			}
			if row.Peak != best {
				t.Fatalf("%s: peak %d, the ledger says %d", row.IntervalStart.Format("15:04"), row.Peak, best)
			}
		}
	})
}

// TestR3_MeteringCountsActiveUsers (R3, §4.5): metering counts a user only
// while active, as the presence API would have it. A deactivation ends the
// user's presences — open ones, ones the ledger ends later, imported in
// any order — and frees their seats; a presence or an assignment begun
// while the user was inactive counts from the next activation on (a
// presence) or not at all (a seat, which must be assigned again). A live
// deactivation ends the imported presences too.
func TestR3_MeteringCountsActiveUsers(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *sqlstore.Store) {
		ctx := context.Background()
		day := time.Date(2026, 10, 5, 0, 0, 0, 0, time.UTC)
		at := func(h, m int) time.Time { return day.Add(time.Duration(h)*time.Hour + time.Duration(m)*time.Minute) }
		clock := at(20, 0)
		s.Now = func() time.Time { return clock }
		mustAccount(t, s, "acme", "contact-center")
		for _, sub := range []seatkeeper.Subscription{
			{Account: "acme", License: "essentials", Model: "concurrent", Quantity: 1000, StartsAt: day.AddDate(0, -1, 0)},
			{Account: "acme", License: "qm", Model: "named", Enforcement: "commit", Quantity: 1, StartsAt: day.AddDate(0, -1, 0)},
		} {
			if _, _, err := s.PutSubscription(ctx, operator, sub); err != nil {
				t.Fatal(err)
			}
		}
		ev := func(typ, user, session string, t time.Time) seatkeeper.UsageEvent {
			e := seatkeeper.UsageEvent{Type: typ, User: user, At: t}
			if session != "" {
				e.License, e.Kind, e.Session = "essentials", "portal", session
			}
			return e
		}
		seat := func(typ, user string, t time.Time) seatkeeper.UsageEvent {
			return seatkeeper.UsageEvent{Type: typ, User: user, License: "qm", At: t}
		}
		batches := [][]seatkeeper.UsageEvent{{
			ev("user.deactivate", "u7", "", at(10, 0)), // before u7's presence is imported
			seat("assignment.add", "n1", at(8, 0)), seat("assignment.add", "n2", at(8, 0)),
			ev("user.deactivate", "n2", "", at(9, 0)), ev("user.activate", "n2", "", at(10, 0)), // n2's seat is freed for good
			ev("user.deactivate", "n3", "", at(7, 0)), seat("assignment.add", "n3", at(8, 0)), // n3 inactive: no seat
		}, {
			ev("presence.start", "u1", "s1", at(8, 0)), ev("user.deactivate", "u1", "", at(10, 0)),
			ev("presence.start", "u2", "s2", at(8, 0)), ev("presence.end", "u2", "s2", at(12, 0)), ev("user.deactivate", "u2", "", at(10, 0)),
			ev("presence.start", "u3", "s3", at(8, 0)),
			ev("user.deactivate", "u4", "", at(11, 0)), ev("presence.start", "u4", "s4", at(9, 0)), ev("user.deactivate", "u4", "", at(9, 30)),
			ev("user.deactivate", "u5", "", at(7, 0)), ev("presence.start", "u5", "s5", at(8, 0)), // inactive throughout
			ev("presence.start", "u7", "s7", at(8, 0)), ev("presence.end", "u7", "s7", at(12, 0)),
			ev("presence.start", "u8", "s8", at(8, 0)),
			ev("user.deactivate", "u9", "", at(7, 0)), ev("presence.start", "u9", "s9", at(8, 0)), ev("presence.end", "u9", "s9", at(12, 0)),
			ev("user.activate", "u9", "", at(9, 0)),
		}}
		batches = append(batches, batches[1]) // sent again: nothing changes
		for _, batch := range batches {
			if _, err := s.ImportEvents(ctx, operator, "acme", batch); err != nil {
				t.Fatal(err)
			}
		}
		// u8 is deactivated through the API, at 20:00.
		mustUser(t, s, "acme", "u8")
		if _, _, err := s.PutUser(ctx, operator, seatkeeper.User{Account: "acme", ID: "u8", Active: false}); err != nil {
			t.Fatal(err)
		}
		clock = at(21, 0)
		for _, c := range []struct {
			h, m, want int
			who        string
		}{
			{8, 30, 5, "u1 u2 u3 u7 u8"},
			{9, 15, 7, "u1 u2 u3 u4 u7 u8 u9"},
			{9, 45, 6, "u1 u2 u3 u7 u8 u9"},
			{10, 30, 3, "u3 u8 u9"},
			{20, 30, 1, "u3"},
		} {
			rows, err := s.LicenseUsage(ctx, "acme", at(c.h, c.m), at(c.h, c.m+1), time.Minute, "essentials")
			if err != nil || len(rows) != 1 || rows[0].Peak != c.want {
				t.Errorf("signed in at %02d:%02d: %+v, %v; want %d (%s)", c.h, c.m, rows, err, c.want, c.who)
			}
		}
		for _, c := range []struct {
			h, m, want int
			who        string
		}{{8, 30, 2, "n1 n2"}, {9, 30, 1, "n1"}, {10, 30, 1, "n1"}} {
			rows, err := s.LicenseUsage(ctx, "acme", at(c.h, c.m), at(c.h, c.m+1), time.Minute, "qm")
			if err != nil || len(rows) != 1 || rows[0].Peak != c.want {
				t.Errorf("qm seats held at %02d:%02d: %+v, %v; want %d (%s)", c.h, c.m, rows, err, c.want, c.who)
			}
		}
		usage, err := s.MonthlyUsage(ctx, "acme", "2026-10", "2026-10")
		if err != nil {
			t.Fatal(err)
		}
		for _, u := range usage {
			if u.License == "qm" && (u.Used != 2 || u.Uncommitted != 1) {
				t.Errorf("October's qm: %+v, want used 2 (n1 and n2 at 08:00), 1 uncommitted", u)
			}
		}
	})
}
