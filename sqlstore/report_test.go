package sqlstore_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/seatkeeper/seatkeeper"
	"github.com/seatkeeper/seatkeeper/sqlstore"
)

// shiftChange imports a day of a 100-seat pool: 100 agents signed in from
// 08:00 to 16:00, and at 16:00 five more sign in for `overlap` before
// everyone from the morning leaves.
func shiftChange(t *testing.T, s *sqlstore.Store, day time.Time, overlap time.Duration) {
	t.Helper()
	var events []seatkeeper.UsageEvent
	ev := func(typ, user, session string, at time.Time) {
		events = append(events, seatkeeper.UsageEvent{Type: typ, User: user, License: "essentials", Kind: "work_session", Session: session, At: at})
	}
	for i := range 100 {
		u := fmt.Sprintf("early%d", i)
		ev("presence.start", u, u+"-s", day.Add(8*time.Hour))
		end := day.Add(16 * time.Hour)
		if i < 5 {
			end = end.Add(overlap) // five of the early shift stay on
		}
		ev("presence.end", u, u+"-s", end)
	}
	for i := range 100 {
		u := fmt.Sprintf("late%d", i)
		ev("presence.start", u, u+"-s", day.Add(16*time.Hour))
		ev("presence.end", u, u+"-s", day.Add(23*time.Hour))
	}
	if _, err := s.ImportEvents(context.Background(), operator, "acme", events); err != nil {
		t.Fatal(err)
	}
}

// TestR7_ShiftChangeReport: the seed's shift change, imported into the
// ledger and reported: 105 of 100 for 20 minutes is no overage; for 45
// minutes, 5 (R7, R17).
func TestR7_ShiftChangeReport(t *testing.T) {
	for _, tc := range []struct {
		overlap time.Duration
		over    int
	}{{20 * time.Minute, 0}, {45 * time.Minute, 5}} {
		t.Run(tc.overlap.String(), func(t *testing.T) {
			forEachStore(t, func(t *testing.T, s *sqlstore.Store) {
				c := newClock()
				s.Now = c.Now
				mustAccount(t, s, "acme", "contact-center")
				if _, _, err := s.PutSubscription(context.Background(), operator, seatkeeper.Subscription{Account: "acme", License: "essentials", Model: "concurrent", Quantity: 100, OverageAllowance: 10,
					StartsAt: c.Now().AddDate(0, -1, 0)}); err != nil {
					t.Fatal(err)
				}
				day := time.Date(2026, 11, 24, 0, 0, 0, 0, time.UTC)
				c.Add(72 * time.Hour) // the import is for a day now past
				shiftChange(t, s, day, tc.overlap)
				rows, err := s.LicenseUsage(context.Background(), "acme", day, day.AddDate(0, 0, 1), time.Hour, "")
				if err != nil {
					t.Fatal(err)
				}
				if len(rows) != 24 {
					t.Fatalf("%d rows, want 24", len(rows))
				}
				r16 := rows[16]
				if r16.Peak != 105 || r16.OverQuantity != tc.over || r16.Quantity != 100 || r16.Allowance != 10 || r16.SignIns != 100 {
					t.Errorf("16:00 row = %+v, want peak 105, over_quantity %d", r16, tc.over)
				}
				if r8 := rows[8]; r8.Peak != 100 || r8.Average != 100 || r8.SignIns != 100 || r8.OverQuantity != 0 {
					t.Errorf("08:00 row = %+v", r8)
				}
				total := 0
				for _, r := range rows {
					total += r.OverQuantity
				}
				if total != tc.over {
					t.Errorf("over_quantity summed over the day %d, want %d", total, tc.over)
				}
			})
		})
	}
}

// TestImportAllOrNothing: a batch with one bad event, or one in a closed
// month, imports nothing (SPEC §4.5).
func TestImportAllOrNothing(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *sqlstore.Store) {
		ctx := context.Background()
		poolAccount(t, s, 5, 0, 0)
		at := time.Date(2026, 10, 5, 9, 0, 0, 0, time.UTC)
		good := seatkeeper.UsageEvent{Type: "presence.start", User: "ann", License: "essentials", Kind: "portal", Session: "s1", At: at}
		bad := good
		bad.Kind = "telepathy"
		_, err := s.ImportEvents(ctx, operator, "acme", []seatkeeper.UsageEvent{good, bad})
		if se, ok := err.(*seatkeeper.Error); !ok || se.Code != seatkeeper.EInvalid || len(se.Fields) != 1 || se.Fields[0].Field != "events[1].kind" {
			t.Errorf("bad batch: %#v", err)
		}
		if _, err := s.CloseMonth(ctx, operator, "acme", "2026-10"); err != nil {
			t.Fatal(err)
		}
		later := good
		later.At, later.Session = time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC), "s2"
		if _, err := s.ImportEvents(ctx, operator, "acme", []seatkeeper.UsageEvent{later, good}); code(err) != seatkeeper.EPeriodClosed {
			t.Errorf("an event in a closed month: %v, want period_closed", err)
		}
		events, _ := s.UsageEvents(ctx, "acme", at.Add(-time.Hour), at.AddDate(0, 2, 0))
		events = slices.DeleteFunc(events, func(e seatkeeper.UsageEvent) bool { return e.Type == seatkeeper.EventSubscriptionChange })
		if len(events) != 0 {
			t.Errorf("refused batches wrote %d events", len(events))
		}
		if n, err := s.ImportEvents(ctx, operator, "acme", []seatkeeper.UsageEvent{later}); err != nil || n != 1 {
			t.Errorf("open month: %d %v", n, err)
		}
	})
}

// TestR17_BackfillUsesTheSubscribedQuantity: days imported from before the
// subscription was entered report the quantity it was bought with.
func TestR17_BackfillUsesTheSubscribedQuantity(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *sqlstore.Store) {
		mustAccount(t, s, "acme", "contact-center")
		day := time.Date(2026, 10, 3, 0, 0, 0, 0, time.UTC)
		if _, _, err := s.PutSubscription(context.Background(), operator, seatkeeper.Subscription{Account: "acme", License: "essentials", Model: "concurrent", Quantity: 100, OverageAllowance: 10,
			StartsAt: day.AddDate(0, -1, 0)}); err != nil {
			t.Fatal(err)
		}
		shiftChange(t, s, day, 20*time.Minute)
		rows, err := s.LicenseUsage(context.Background(), "acme", day, day.AddDate(0, 0, 1), time.Hour, "")
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rows {
			if r.Quantity != 100 || r.OverQuantity != 0 {
				t.Fatalf("%v: quantity %d, over %d; want 100 and 0", r.IntervalStart, r.Quantity, r.OverQuantity)
			}
		}
	})
}

// TestReportsInParallel: many reports at once finish; none waits for a
// database connection while holding another (SQLite has 8).
func TestReportsInParallel(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *sqlstore.Store) {
		mustAccount(t, s, "acme", "contact-center")
		day := time.Date(2026, 10, 3, 0, 0, 0, 0, time.UTC)
		if _, _, err := s.PutSubscription(context.Background(), operator, seatkeeper.Subscription{Account: "acme", License: "essentials", Model: "concurrent", Quantity: 100, StartsAt: day.AddDate(0, -1, 0)}); err != nil {
			t.Fatal(err)
		}
		shiftChange(t, s, day, 45*time.Minute)
		done := make(chan error, 40)
		for i := range 40 {
			go func() {
				if i%2 == 0 {
					_, err := s.LicenseUsage(context.Background(), "acme", day, day.AddDate(0, 0, 1), time.Hour, "")
					done <- err
				} else {
					_, err := s.MonthlyUsage(context.Background(), "acme", "2026-10", "2026-10")
					done <- err
				}
			}()
		}
		timeout := time.After(60 * time.Second)
		for range 40 {
			select {
			case err := <-done:
				if err != nil {
					t.Fatal(err)
				}
			case <-timeout:
				t.Fatal("parallel reports did not finish: a connection deadlock")
			}
		}
	})
}

// TestR7_PresencesThatBeganLongBefore: a presence counts in every period it
// reaches into, however long before the period it began and whether or not
// it has ended (imported from a vendor that tracks presence itself); an
// end whose start never came is not metered.
func TestR7_PresencesThatBeganLongBefore(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *sqlstore.Store) {
		ctx := context.Background()
		mustAccount(t, s, "acme", "contact-center")
		if _, _, err := s.PutSubscription(ctx, operator, seatkeeper.Subscription{Account: "acme", License: "essentials", Model: "concurrent", Quantity: 100,
			StartsAt: time.Date(2026, 8, 1, 0, 0, 0, 0, time.UTC)}); err != nil {
			t.Fatal(err)
		}
		ev := func(typ, user, session string, at time.Time) seatkeeper.UsageEvent {
			return seatkeeper.UsageEvent{Type: typ, User: user, License: "essentials", Kind: "work_session", Session: session, At: at}
		}
		if _, err := s.ImportEvents(ctx, operator, "acme", []seatkeeper.UsageEvent{
			ev("presence.start", "open", "o1", time.Date(2026, 9, 1, 9, 0, 0, 0, time.UTC)),        // never ends
			ev("presence.start", "long", "l1", time.Date(2026, 10, 1, 9, 0, 0, 0, time.UTC)),       // 19 days
			ev("presence.end", "long", "l1", time.Date(2026, 10, 20, 17, 0, 0, 0, time.UTC)),       //
			ev("presence.start", "short", "s1", time.Date(2026, 10, 9, 8, 0, 0, 0, time.UTC)),      // the day before
			ev("presence.end", "short", "s1", time.Date(2026, 10, 9, 10, 0, 0, 0, time.UTC)),       //
			ev("presence.end", "orphan", "x1", time.Date(2026, 10, 10, 12, 0, 0, 0, time.UTC)),     // no start
			ev("presence.start", "later", "late1", time.Date(2026, 10, 10, 12, 0, 0, 0, time.UTC)), // end comes in the next batch
		}); err != nil {
			t.Fatal(err)
		}
		day := time.Date(2026, 10, 10, 0, 0, 0, 0, time.UTC)
		rows, err := s.LicenseUsage(ctx, "acme", day, day.AddDate(0, 0, 1), 24*time.Hour, "")
		if err != nil || len(rows) != 1 {
			t.Fatalf("report: %v %v", rows, err)
		}
		if rows[0].Peak != 3 || rows[0].SignIns != 1 {
			t.Errorf("October 10: peak %d, sign-ins %d; want open + long + later = 3, one sign-in", rows[0].Peak, rows[0].SignIns)
		}
		if _, err := s.ImportEvents(ctx, operator, "acme", []seatkeeper.UsageEvent{ev("presence.end", "later", "late1", day.Add(13*time.Hour))}); err != nil {
			t.Fatal(err)
		}
		rows, _ = s.LicenseUsage(ctx, "acme", day, day.AddDate(0, 0, 1), time.Hour, "")
		if rows[12].Peak != 3 || rows[13].Peak != 2 {
			t.Errorf("12:00 peak %d, 13:00 peak %d; want 3 then 2 (later ended at 13:00)", rows[12].Peak, rows[13].Peak)
		}
		months, err := s.MonthlyUsage(ctx, "acme", "2026-09", "2026-11")
		if err != nil || len(months) != 3 {
			t.Fatalf("months: %v %v", months, err)
		}
		for i, want := range []int{1, 3, 1} { // September: open; October: + long + later; November: open
			if months[i].Peak != want {
				t.Errorf("%s peak %d, want %d", months[i].Month, months[i].Peak, want)
			}
		}
	})
}

// TestR7_OpenPresencesLastUntilNow: a presence not yet ended counts from
// its start until now, not for the rest of the month: four users of a
// 3-seat pool signed in ten minutes ago are no overage yet (the grace is
// 30 minutes), and are after forty; a day still to come has no usage.
func TestR7_OpenPresencesLastUntilNow(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *sqlstore.Store) {
		ctx := context.Background()
		c := newClock()
		s.Now = c.Now
		poolAccount(t, s, 3, 1, 4)
		c.Add(time.Hour)
		start := c.Now()
		var events []seatkeeper.UsageEvent
		for i := range 4 {
			u := fmt.Sprintf("u%d", i)
			events = append(events, seatkeeper.UsageEvent{Type: "presence.start", User: u, License: "essentials", Kind: "work_session", Session: u + "-s", At: start})
		}
		if _, err := s.ImportEvents(ctx, operator, "acme", events); err != nil {
			t.Fatal(err)
		}
		month := start.Format("2006-01")
		usage := func() seatkeeper.MonthUsage {
			t.Helper()
			items, err := s.MonthlyUsage(ctx, "acme", month, month)
			if err != nil || len(items) != 1 {
				t.Fatalf("usage: %v %v", items, err)
			}
			return items[0]
		}
		c.Add(10 * time.Minute)
		if u := usage(); u.Peak != 4 || u.SustainedPeak != 0 || u.Overage != 0 {
			t.Errorf("ten minutes in: %+v, want peak 4, sustained 0, overage 0", u)
		}
		tomorrow := start.Truncate(24*time.Hour).AddDate(0, 0, 1)
		rows, err := s.LicenseUsage(ctx, "acme", tomorrow, tomorrow.AddDate(0, 0, 1), 24*time.Hour, "")
		if err != nil || len(rows) != 1 {
			t.Fatalf("tomorrow: %v %v", rows, err)
		}
		if r := rows[0]; r.Peak != 0 || r.Sustained != 0 || r.OverQuantity != 0 {
			t.Errorf("tomorrow, still to come: %+v, want no usage", r)
		}
		c.Add(30 * time.Minute)
		if u := usage(); u.Peak != 4 || u.SustainedPeak != 4 || u.Overage != 1 {
			t.Errorf("forty minutes in: %+v, want sustained 4, overage 1", u)
		}
	})
}

// TestImportKeepsSessionsWhole: an import may not stretch a session that
// ended in a closed month into an open one (the closed month would
// change), give one session two users, or touch a session the presence API
// started; each refuses the whole batch (SPEC §4.5, §4.6).
func TestImportKeepsSessionsWhole(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *sqlstore.Store) {
		ctx := context.Background()
		c := newClock()
		s.Now = c.Now
		poolAccount(t, s, 3, 1, 2)
		oct := time.Date(2026, 10, 5, 9, 0, 0, 0, time.UTC)
		ev := func(typ, user, session string, at time.Time) seatkeeper.UsageEvent {
			return seatkeeper.UsageEvent{Type: typ, User: user, License: "essentials", Kind: "portal", Session: session, At: at}
		}
		if _, err := s.ImportEvents(ctx, operator, "acme", []seatkeeper.UsageEvent{
			ev("presence.start", "ann", "oct-1", oct), ev("presence.end", "ann", "oct-1", oct.Add(time.Hour)),
			ev("presence.start", "bob", "oct-2", oct), // still open
		}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.CloseMonth(ctx, operator, "acme", "2026-10"); err != nil {
			t.Fatal(err)
		}
		nov := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
		live, err := signIn(s, "u0", seatkeeper.KindPortal)
		if err != nil {
			t.Fatal(err)
		}
		before, _ := s.UsageEvents(ctx, "acme", oct.AddDate(0, -1, 0), c.Now().Add(time.Hour))
		for _, tc := range []struct {
			name  string
			batch []seatkeeper.UsageEvent
			code  string
		}{
			{"a later end of a session ended in a closed month", []seatkeeper.UsageEvent{ev("presence.start", "cat", "n2", nov), ev("presence.end", "ann", "oct-1", nov)}, seatkeeper.EPeriodClosed},
			{"one session, two users", []seatkeeper.UsageEvent{ev("presence.start", "cat", "n1", nov), ev("presence.end", "dan", "n1", nov.Add(time.Hour))}, seatkeeper.EInvalid},
			{"a session the presence API started", []seatkeeper.UsageEvent{ev("presence.start", "u0", live.ID, nov)}, seatkeeper.EInvalid},
		} {
			if _, err := s.ImportEvents(ctx, operator, "acme", tc.batch); code(err) != tc.code {
				t.Errorf("%s: %v, want %s", tc.name, err, tc.code)
			}
		}
		after, _ := s.UsageEvents(ctx, "acme", oct.AddDate(0, -1, 0), c.Now().Add(time.Hour))
		if len(after) != len(before) {
			t.Errorf("refused batches wrote %d events", len(after)-len(before))
		}
		closed, err := s.ClosedMonth(ctx, "acme", "2026-10")
		if err != nil || closed.Identical == nil || !*closed.Identical {
			t.Errorf("the closed month recomputed: %+v %v", closed, err)
		}
		// Ending in an open month a session still open when its month closed
		// changes nothing closed, and is taken.
		if _, err := s.ImportEvents(ctx, operator, "acme", []seatkeeper.UsageEvent{ev("presence.end", "bob", "oct-2", nov)}); err != nil {
			t.Errorf("the end of a session open over the closed month: %v", err)
		}
		if closed, err := s.ClosedMonth(ctx, "acme", "2026-10"); err != nil || closed.Identical == nil || !*closed.Identical {
			t.Errorf("the closed month recomputed after an allowed end: %+v %v", closed, err)
		}
	})
}

// TestR17_NamedSeatsReport: for a named license the report counts the
// seats held, with no grace (as billing: R7's grace is a pool's), and only
// up to now, like an open presence: the intervals still to come are empty.
func TestR17_NamedSeatsReport(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *sqlstore.Store) {
		ctx := context.Background()
		day := time.Date(2026, 10, 5, 0, 0, 0, 0, time.UTC)
		s.Now = func() time.Time { return day.Add(12 * time.Hour) }
		mustAccount(t, s, "acme", "contact-center")
		if _, _, err := s.PutSubscription(ctx, operator, seatkeeper.Subscription{Account: "acme", License: "premium", Model: "named", Quantity: 1,
			StartsAt: day.AddDate(0, -1, 0)}); err != nil {
			t.Fatal(err)
		}
		seat := func(typ, user string, d time.Duration) seatkeeper.UsageEvent {
			return seatkeeper.UsageEvent{Type: typ, User: user, License: "premium", At: day.Add(d)}
		}
		if _, err := s.ImportEvents(ctx, operator, "acme", []seatkeeper.UsageEvent{
			seat("assignment.add", "ann", 10*time.Hour), seat("assignment.add", "bob", 10*time.Hour),
			seat("assignment.remove", "bob", 10*time.Hour+10*time.Minute), // ten minutes over the quantity
			seat("assignment.add", "carl", 13*time.Hour),                  // an hour from now
		}); err != nil {
			t.Fatal(err)
		}
		rows, err := s.LicenseUsage(ctx, "acme", day.Add(10*time.Hour), day.Add(14*time.Hour), time.Hour, "premium")
		if err != nil || len(rows) != 4 {
			t.Fatalf("%v %+v", err, rows)
		}
		for i, want := range []struct{ peak, sustained, over int }{{2, 2, 1}, {1, 1, 0}, {0, 0, 0}, {0, 0, 0}} {
			if r := rows[i]; r.Peak != want.peak || r.Sustained != want.sustained || r.OverQuantity != want.over {
				t.Errorf("%s: peak %d sustained %d over %d; want %d, %d, %d", r.IntervalStart.Format("15:04"), r.Peak, r.Sustained, r.OverQuantity, want.peak, want.sustained, want.over)
			}
		}
	})
}

// TestR17_AllowanceFromTheStart (SPEC §4.7): an allowance never changed
// is the allowance of every interval of the term, those of 1970 east of
// UTC too. Before, it began at 1970-01-01T00:00Z (found by a review).
func TestR17_AllowanceFromTheStart(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *sqlstore.Store) {
		ctx := context.Background()
		tokyo, _ := time.LoadLocation("Asia/Tokyo")
		start := time.Date(1970, 1, 1, 0, 0, 0, 0, tokyo) // 1969-12-31T15:00Z
		s.Now = func() time.Time { return start }
		if _, _, err := s.PutAccount(ctx, operator, seatkeeper.Account{ID: "acme", Name: "acme", Region: "us", Catalog: "contact-center", TimeZone: "Asia/Tokyo"}); err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.PutSubscription(ctx, operator, seatkeeper.Subscription{Account: "acme", License: "essentials", Model: "concurrent", Quantity: 2, OverageAllowance: 3, StartsAt: start}); err != nil {
			t.Fatal(err)
		}
		s.Now = func() time.Time { return start.Add(48 * time.Hour) }
		rows, err := s.LicenseUsage(ctx, "acme", start, start.Add(12*time.Hour), time.Hour, "essentials")
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rows {
			if r.Allowance != 3 {
				t.Errorf("%s (%s UTC): allowance %d, want 3 (quantity %d)", r.IntervalStart, r.IntervalStart.UTC().Format("15:04"), r.Allowance, r.Quantity)
			}
		}
	})
}

// TestR17_QuantityChangedBeforeTheTermBegan: a subscription entered a
// month before its term begins and changed before then has, in the
// report, the quantity in force when the term begins (the change), 0
// before it, whatever the report's window. Before, a window that began
// before the changes gave the quantity first recorded (found by a
// review).
func TestR17_QuantityChangedBeforeTheTermBegan(t *testing.T) {
	ctx := context.Background()
	forEachStore(t, func(t *testing.T, s *sqlstore.Store) {
		clock := time.Date(2026, 1, 1, 10, 0, 0, 0, time.UTC)
		s.Now = func() time.Time { return clock }
		mustAccount(t, s, "acme", "contact-center")
		start := time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)
		for _, c := range []struct {
			at time.Time
			q  int
		}{{clock, 5}, {time.Date(2026, 1, 15, 0, 0, 0, 0, time.UTC), 7}} {
			clock = c.at
			if _, _, err := s.PutSubscription(ctx, operator, seatkeeper.Subscription{Account: "acme", License: "essentials", Model: "concurrent", Quantity: c.q, StartsAt: start}); err != nil {
				t.Fatal(err)
			}
		}
		clock = time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
		to := time.Date(2026, 2, 3, 0, 0, 0, 0, time.UTC)
		for _, from := range []time.Time{time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 1, 20, 0, 0, 0, 0, time.UTC)} {
			rows, err := s.LicenseUsage(ctx, "acme", from, to, 24*time.Hour, "")
			if err != nil {
				t.Fatal(err)
			}
			if want := int(to.Sub(from) / (24 * time.Hour)); len(rows) != want {
				t.Fatalf("from %s: %d rows, want %d", from.Format("01-02"), len(rows), want)
			}
			for _, r := range rows {
				want := 0
				if !r.IntervalStart.Before(start) {
					want = 7
				}
				if r.Quantity != want {
					t.Errorf("from %s: quantity %d on %s, want %d", from.Format("01-02"), r.Quantity, r.IntervalStart.Format("01-02"), want)
				}
			}
		}
	})
}
