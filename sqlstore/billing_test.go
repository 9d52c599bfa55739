package sqlstore_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/seatkeeper/seatkeeper"
	"github.com/seatkeeper/seatkeeper/sqlstore"
)

// TestR14_HolidaySeason is the seed's example: a commitment of 100 QM seats;
// 150 used from November to January, 100 otherwise: 50 uncommitted in each
// of those three months, none in the others.
func TestR14_HolidaySeason(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *sqlstore.Store) {
		ctx := context.Background()
		mustAccount(t, s, "acme", "wfo")
		feb := time.Date(2025, 2, 1, 0, 0, 0, 0, time.UTC)
		if _, _, err := s.PutSubscription(ctx, operator, seatkeeper.Subscription{Account: "acme", License: "qm", Model: "named", Enforcement: "commit", Quantity: 100, StartsAt: feb}); err != nil {
			t.Fatal(err)
		}
		var events []seatkeeper.UsageEvent
		add := func(typ, user string, at time.Time) {
			events = append(events, seatkeeper.UsageEvent{Type: typ, User: user, License: "qm", At: at})
		}
		for i := range 100 {
			add("assignment.add", fmt.Sprintf("agent%d", i), feb)
		}
		for i := range 50 {
			u := fmt.Sprintf("seasonal%d", i)
			add("assignment.add", u, time.Date(2025, 11, 1, 0, 0, 0, 0, time.UTC))
			add("assignment.remove", u, time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC))
		}
		if _, err := s.ImportEvents(ctx, operator, "acme", events); err != nil {
			t.Fatal(err)
		}
		usage, err := s.MonthlyUsage(ctx, "acme", "2025-02", "2026-03")
		if err != nil {
			t.Fatal(err)
		}
		if len(usage) != 14 {
			t.Fatalf("%d months, want 14", len(usage))
		}
		for _, u := range usage {
			want := 0
			if u.Month == "2025-11" || u.Month == "2025-12" || u.Month == "2026-01" {
				want = 50
			}
			if u.Uncommitted != want || u.Committed != 100 || u.Used != 100+want {
				t.Errorf("%s: used %d committed %d uncommitted %d; want %d, 100, %d", u.Month, u.Used, u.Committed, u.Uncommitted, 100+want, want)
			}
		}
	})
}

// TestR14_CommitmentOfNone: a commitment of 0 seats is pay as you go: users
// may be given the license (no cap), and every seat used is uncommitted.
func TestR14_CommitmentOfNone(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *sqlstore.Store) {
		ctx := context.Background()
		mustAccount(t, s, "acme", "wfo")
		if _, _, err := s.PutSubscription(ctx, operator, seatkeeper.Subscription{Account: "acme", License: "qm", Model: "named", Enforcement: "commit", Quantity: 0,
			StartsAt: s.Now().AddDate(0, -1, 0)}); err != nil {
			t.Fatal(err)
		}
		for _, u := range []string{"ann", "bob"} {
			mustUser(t, s, "acme", u)
			mustAssign(t, s, "acme", u, "qm")
		}
		month := s.Now().UTC().Format("2006-01")
		usage, err := s.MonthlyUsage(ctx, "acme", month, month)
		if err != nil || len(usage) != 1 {
			t.Fatalf("%v %+v", err, usage)
		}
		if u := usage[0]; u.Used != 2 || u.Committed != 0 || u.Uncommitted != 2 {
			t.Errorf("%s: %+v, want used 2, committed 0, uncommitted 2", month, u)
		}
	})
}

// TestR7_MonthlyOverage: the shift change's billable overage in the month's
// usage: 20 minutes over, none; 45 minutes, 5 seats.
func TestR7_MonthlyOverage(t *testing.T) {
	for _, tc := range []struct {
		overlap time.Duration
		over    int
	}{{20 * time.Minute, 0}, {45 * time.Minute, 5}} {
		t.Run(tc.overlap.String(), func(t *testing.T) {
			forEachStore(t, func(t *testing.T, s *sqlstore.Store) {
				mustAccount(t, s, "acme", "contact-center")
				day := time.Date(2026, 10, 14, 0, 0, 0, 0, time.UTC)
				if _, _, err := s.PutSubscription(context.Background(), operator, seatkeeper.Subscription{Account: "acme", License: "essentials", Model: "concurrent", Quantity: 100, OverageAllowance: 10,
					StartsAt: day.AddDate(0, -1, 0)}); err != nil {
					t.Fatal(err)
				}
				shiftChange(t, s, day, tc.overlap)
				usage, err := s.MonthlyUsage(context.Background(), "acme", "2026-10", "2026-10")
				if err != nil || len(usage) != 1 {
					t.Fatalf("%v %+v", err, usage)
				}
				u := usage[0]
				if u.Peak != 105 || u.SustainedPeak != 100+tc.over || u.Overage != tc.over || u.Quantity != 100 {
					t.Errorf("October: %+v, want peak 105, sustained %d, overage %d", u, 100+tc.over, tc.over)
				}
			})
		})
	}
}

// TestR14_StatementsInArrears: the holiday season on statements: recurring
// 100 committed seats in advance each month, and each month's 50
// uncommitted seats in arrears on the next month's statement.
func TestR14_StatementsInArrears(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *sqlstore.Store) {
		ctx := context.Background()
		mustAccount(t, s, "acme", "wfo")
		feb := time.Date(2025, 2, 1, 0, 0, 0, 0, time.UTC)
		if _, _, err := s.PutSubscription(ctx, operator, seatkeeper.Subscription{Account: "acme", License: "qm", Model: "named", Enforcement: "commit",
			Quantity: 100, UnitPrice: 3000, OveragePrice: 4500, Currency: "EUR", StartsAt: feb}); err != nil {
			t.Fatal(err)
		}
		var events []seatkeeper.UsageEvent
		for i := range 150 {
			at := feb
			if i >= 100 {
				at = time.Date(2025, 11, 1, 0, 0, 0, 0, time.UTC)
				events = append(events, seatkeeper.UsageEvent{Type: "assignment.remove", User: fmt.Sprintf("u%d", i), License: "qm", At: time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)})
			}
			events = append(events, seatkeeper.UsageEvent{Type: "assignment.add", User: fmt.Sprintf("u%d", i), License: "qm", At: at})
		}
		if _, err := s.ImportEvents(ctx, operator, "acme", events); err != nil {
			t.Fatal(err)
		}
		sts, err := s.Statements(ctx, "acme", time.Date(2025, 11, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC))
		if err != nil {
			t.Fatal(err)
		}
		if len(sts) != 4 {
			t.Fatalf("%d statements, want 4 (Nov to Feb)", len(sts))
		}
		for _, st := range sts {
			var recurring, uncommitted int64
			for _, l := range st.Lines {
				switch l.Kind {
				case "recurring":
					recurring += l.Amount
				case "uncommitted":
					uncommitted += l.Amount
				}
			}
			wantU := int64(50 * 4500)
			if st.PeriodStart.Month() == time.November {
				wantU = 0 // October had none
			}
			if recurring != 100*3000 || uncommitted != wantU || st.Currency != "EUR" {
				t.Errorf("statement from %s: recurring %d, uncommitted %d, %s; want %d and %d EUR",
					st.PeriodStart.Format("2006-01-02"), recurring, uncommitted, st.Currency, 100*3000, wantU)
			}
		}
		again, _ := s.Statements(ctx, "acme", time.Date(2025, 11, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC))
		if again[2].ID != sts[2].ID || again[2].Total != sts[2].Total {
			t.Error("statements must be stable")
		}
	})
}

// TestR7_PoolStartingInTheMonth: a pool that starts on the first of the
// month has its quantity from its start, also in the grace period's look
// back before the month: users within the quantity bill no overage.
func TestR7_PoolStartingInTheMonth(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *sqlstore.Store) {
		ctx := context.Background()
		mustAccount(t, s, "acme", "contact-center")
		oct := time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
		if _, _, err := s.PutSubscription(ctx, operator, seatkeeper.Subscription{Account: "acme", License: "essentials", Model: "concurrent", Quantity: 100, StartsAt: oct}); err != nil {
			t.Fatal(err)
		}
		var events []seatkeeper.UsageEvent
		for i := range 5 {
			u := fmt.Sprintf("u%d", i)
			events = append(events,
				seatkeeper.UsageEvent{Type: "presence.start", User: u, License: "essentials", Kind: "portal", Session: u, At: oct.Add(10 * time.Minute)},
				seatkeeper.UsageEvent{Type: "presence.end", User: u, License: "essentials", Kind: "portal", Session: u, At: oct.Add(5 * time.Hour)})
		}
		if _, err := s.ImportEvents(ctx, operator, "acme", events); err != nil {
			t.Fatal(err)
		}
		u, err := s.MonthlyUsage(ctx, "acme", "2026-10", "2026-10")
		if err != nil || len(u) != 1 {
			t.Fatalf("%v %v", u, err)
		}
		if u[0].Quantity != 100 || u[0].SustainedPeak != 5 || u[0].Overage != 0 {
			t.Errorf("October: %+v, want quantity 100, sustained 5, no overage", u[0])
		}
	})
}
