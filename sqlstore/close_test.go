package sqlstore_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/seatkeeper/seatkeeper"
	"github.com/seatkeeper/seatkeeper/sqlstore"
)

// TestCloseMonth_RecomputeIsByteIdentical (SPEC §4.6): over a long random
// history — presences that cross month ends or never end, assignments,
// quantity changes, in a time zone with daylight saving — every month is
// closed as it ends, and afterwards, once the grace period, a quantity and
// the time zone have changed, every closed month still answers the usage
// it froze, and recomputing it from the ledger gives the same bytes.
func TestCloseMonth_RecomputeIsByteIdentical(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *sqlstore.Store) {
		ctx := context.Background()
		berlin, _ := time.LoadLocation("Europe/Berlin")
		first := time.Date(2025, 1, 1, 0, 0, 0, 0, berlin)
		const months = 18
		clock := first
		s.Now = func() time.Time { return clock }
		if _, _, err := s.PutAccount(ctx, operator, seatkeeper.Account{ID: "acme", Name: "acme", Region: "eu", TimeZone: "Europe/Berlin", Catalog: "contact-center"}); err != nil {
			t.Fatal(err)
		}
		subs := []seatkeeper.Subscription{
			{Account: "acme", License: "essentials", Model: "concurrent", Quantity: 12, OverageAllowance: 5, StartsAt: first},
			{Account: "acme", License: "qm", Model: "named", Enforcement: "commit", Quantity: 8, StartsAt: first},
			{Account: "acme", License: "wfm", Model: "named", Enforcement: "hard", Quantity: 15, StartsAt: first},
		}
		subscribe := func(sub seatkeeper.Subscription) {
			t.Helper()
			if _, _, err := s.PutSubscription(ctx, operator, sub); err != nil {
				t.Fatalf("subscribe %+v: %v", sub, err)
			}
		}
		for _, sub := range subs {
			subscribe(sub)
		}

		r := rand.New(rand.NewPCG(7, uint64(len(t.Name()))))
		end := first.AddDate(0, months, 0)
		var events []seatkeeper.UsageEvent
		span := end.Sub(first)
		for i := range 1500 {
			at := first.Add(time.Duration(r.Int64N(int64(span))))
			user := fmt.Sprintf("u%02d", r.IntN(40))
			switch r.IntN(3) {
			case 0, 1: // a presence of ten minutes to three days; one in 50 never ends
				session := fmt.Sprintf("s%d", i)
				events = append(events, seatkeeper.UsageEvent{Type: "presence.start", User: user, License: "essentials", Kind: "work_session", Session: session, At: at})
				if r.IntN(50) > 0 {
					d := 10*time.Minute + time.Duration(r.Int64N(int64(72*time.Hour)))
					events = append(events, seatkeeper.UsageEvent{Type: "presence.end", User: user, License: "essentials", Kind: "work_session", Session: session, At: at.Add(d)})
				}
			default:
				license := []string{"qm", "wfm"}[r.IntN(2)]
				typ := []string{"assignment.add", "assignment.remove"}[r.IntN(2)]
				events = append(events, seatkeeper.UsageEvent{Type: typ, User: user, License: license, At: at})
			}
		}
		slices.SortFunc(events, func(a, b seatkeeper.UsageEvent) int { return a.At.Compare(b.At) })

		frozen := map[string]seatkeeper.ClosedMonth{}
		for m := range months {
			start, stop := first.AddDate(0, m, 0), first.AddDate(0, m+1, 0)
			month := start.Format("2006-01")
			clock = start.Add(time.Duration(r.Int64N(int64(stop.Sub(start)))))
			if r.IntN(3) == 0 { // a quantity change in the middle of the month
				sub := subs[r.IntN(len(subs))]
				sub.Quantity = 5 + r.IntN(15)
				subscribe(sub)
			}
			clock = stop.Add(-time.Hour) // imports may reach a day ahead
			var batch []seatkeeper.UsageEvent
			for _, e := range events {
				if !e.At.Before(start) && e.At.Before(stop) {
					batch = append(batch, e)
				}
			}
			for len(batch) > 0 {
				n := min(len(batch), sqlstore.MaxImport)
				if _, err := s.ImportEvents(ctx, operator, "acme", batch[:n]); err != nil {
					t.Fatalf("%s: import: %v %+v", month, err, err)
				}
				batch = batch[n:]
			}
			if _, err := s.CloseMonth(ctx, operator, "acme", month); seatkeeper.ErrorCode(err) != seatkeeper.EConflict {
				t.Fatalf("%s closed before its end: %v", month, err)
			}
			clock = stop.Add(time.Second)
			c, err := s.CloseMonth(ctx, operator, "acme", month)
			if err != nil {
				t.Fatalf("close %s: %v", month, err)
			}
			if len(c.Items) != 3 || len(c.Digest) != 64 {
				t.Fatalf("close %s: %+v", month, c)
			}
			live, err := s.MonthlyUsage(ctx, "acme", month, month)
			if err != nil || !slices.Equal(live, c.Items) {
				t.Fatalf("%s: usage %+v %v, want what was frozen %+v", month, live, err, c.Items)
			}
			frozen[month] = c
		}

		// Later changes of terms change no closed month.
		grace := seatkeeper.Duration(5 * time.Minute)
		sub := subs[0]
		sub.Quantity, sub.GracePeriod = 3, &grace
		subscribe(sub)
		// The time zone, which months are cut in, no longer changes.
		if _, _, err := s.PutAccount(ctx, operator, seatkeeper.Account{ID: "acme", Name: "acme", Region: "eu", TimeZone: "America/New_York", Catalog: "contact-center"}); seatkeeper.ErrorCode(err) != seatkeeper.EPeriodClosed {
			t.Fatalf("time zone changed after a close: %v", err)
		}
		all, err := s.MonthlyUsage(ctx, "acme", first.Format("2006-01"), first.AddDate(0, months-1, 0).Format("2006-01"))
		if err != nil {
			t.Fatal(err)
		}
		overages := 0
		for m := range months {
			month := first.AddDate(0, m, 0).Format("2006-01")
			want := frozen[month]
			got, err := s.ClosedMonth(ctx, "acme", month)
			if err != nil {
				t.Fatalf("verify %s: %v", month, err)
			}
			if got.Identical == nil || !*got.Identical || got.Recomputed != want.Digest || got.Digest != want.Digest {
				t.Errorf("%s: recomputed %s identical %v, frozen %s", month, got.Recomputed, got.Identical, want.Digest)
			}
			a, _ := json.Marshal(all[3*m : 3*m+3])
			b, _ := json.Marshal(want.Items)
			if string(a) != string(b) {
				t.Errorf("%s after the changes: %s, want the frozen %s", month, a, b)
			}
			for _, u := range want.Items {
				overages += u.Overage + u.Uncommitted
			}
		}
		if overages == 0 {
			t.Errorf("the history billed no overage and no uncommitted seat: it tests too little")
		}

		// The ledger is closed up to the last closed month's end.
		early := seatkeeper.UsageEvent{Type: "presence.start", User: "u01", License: "essentials", Kind: "portal", Session: "late", At: first.AddDate(0, 2, 0)}
		if _, err := s.ImportEvents(ctx, operator, "acme", []seatkeeper.UsageEvent{early}); code(err) != seatkeeper.EPeriodClosed {
			t.Errorf("import into a closed month: %v", err)
		}

		// The verification can fail: an event slipped into a closed month
		// behind the store's back shows.
		month := first.AddDate(0, 4, 0)
		for i := range 30 {
			at := month.Add(time.Hour).UnixMicro()
			if err := s.ExecForTest(ctx, "INSERT INTO usage_events (account, at, type, user_id, license, kind, session) VALUES (?, ?, ?, ?, ?, ?, ?)",
				"acme", at, "presence.start", fmt.Sprintf("intruder%d", i), "essentials", "portal", fmt.Sprintf("x%d", i)); err != nil {
				t.Fatal(err)
			}
			if err := s.ExecForTest(ctx, "INSERT INTO presences (account, license, session, user_key, started_at) VALUES (?, ?, ?, ?, ?)",
				"acme", "essentials", fmt.Sprintf("x%d", i), 1_000_000+i, at); err != nil {
				t.Fatal(err)
			}
		}
		got, err := s.ClosedMonth(ctx, "acme", month.Format("2006-01"))
		if err != nil || got.Identical == nil || *got.Identical || got.Recomputed == got.Digest {
			t.Errorf("a tampered month verifies: %+v %v", got, err)
		}
	})
}
