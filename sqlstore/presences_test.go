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

// TestImportedDeactivationEndsPresences (R3, §4.5): an imported
// user.deactivate ends that user's imported presences still open, at the
// deactivation (the first one after the presence's start), as a live
// deactivation ends live ones; presences ended later, started after it, of
// other users or of the presence API are left as they are. Sending the
// batch again changes nothing.
func TestImportedDeactivationEndsPresences(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *sqlstore.Store) {
		ctx := context.Background()
		day := time.Date(2026, 10, 5, 0, 0, 0, 0, time.UTC)
		at := func(h, m int) time.Time { return day.Add(time.Duration(h)*time.Hour + time.Duration(m)*time.Minute) }
		clock := at(20, 0)
		s.Now = func() time.Time { return clock }
		mustAccount(t, s, "acme", "contact-center")
		if _, _, err := s.PutSubscription(ctx, operator, seatkeeper.Subscription{Account: "acme", License: "essentials", Model: "concurrent", Quantity: 1000,
			StartsAt: day.AddDate(0, -1, 0)}); err != nil {
			t.Fatal(err)
		}
		mustUser(t, s, "acme", "u6")
		mustAssign(t, s, "acme", "u6", "essentials")
		live, _, err := s.StartSession(ctx, operator, "acme", "u6", "work_session", "", "")
		if err != nil {
			t.Fatal(err)
		}
		ev := func(typ, user, session string, t time.Time) seatkeeper.UsageEvent {
			e := seatkeeper.UsageEvent{Type: typ, User: user, At: t}
			if session != "" {
				e.License, e.Kind, e.Session = "essentials", "portal", session
			}
			return e
		}
		first := []seatkeeper.UsageEvent{
			ev("presence.start", "u1", "s1", at(8, 0)),
			ev("presence.start", "u2", "s2", at(8, 0)), ev("presence.end", "u2", "s2", at(12, 0)),
			ev("presence.start", "u3", "s3", at(8, 0)),
			ev("presence.start", "u5", "s5", at(8, 0)),
		}
		second := []seatkeeper.UsageEvent{
			ev("user.deactivate", "u1", "", at(10, 0)),
			ev("user.deactivate", "u2", "", at(10, 0)), // s2 ended later: left as it is
			ev("user.deactivate", "u4", "", at(11, 0)), ev("presence.start", "u4", "s4", at(9, 0)), ev("user.deactivate", "u4", "", at(9, 30)),
			ev("user.deactivate", "u5", "", at(7, 0)),  // before s5 started
			ev("user.deactivate", "u6", "", at(19, 0)), // the presence API's session is not the import's
		}
		for _, batch := range [][]seatkeeper.UsageEvent{first, second, second} {
			if _, err := s.ImportEvents(ctx, operator, "acme", batch); err != nil {
				t.Fatal(err)
			}
		}
		ledger, err := s.UsageEvents(ctx, "acme", day, day.AddDate(0, 0, 1))
		if err != nil {
			t.Fatal(err)
		}
		ends := map[string][]string{}
		for _, e := range ledger {
			if e.Type == "presence.end" {
				ends[e.Session] = append(ends[e.Session], e.At.Format("15:04")+" "+e.User+" "+e.License+" "+e.Kind)
			}
		}
		want := map[string][]string{
			"s1": {"10:00 u1 essentials portal"},
			"s2": {"12:00 u2 essentials portal"},
			"s4": {"09:30 u4 essentials portal"},
		}
		if fmt.Sprint(ends) != fmt.Sprint(want) {
			t.Errorf("presence ends in the ledger: %v, want %v", ends, want)
		}
		if got, err := s.Sessions(ctx, "acme", "u6"); err != nil || len(got) != 1 || got[0].ID != live.ID {
			t.Errorf("u6's live sessions: %v, %v; want %s still live", got, err, live.ID)
		}
		// Metering reads it so: at 10:30, u2, u3 and u5 are signed in.
		rows, err := s.LicenseUsage(ctx, "acme", at(10, 30), at(10, 31), time.Minute, "essentials")
		if err != nil || len(rows) != 1 || rows[0].Peak != 3 {
			t.Errorf("report at 10:30: %+v, %v; want a peak of 3", rows, err)
		}
	})
}
