package sqlstore_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/seatkeeper/seatkeeper"
	"github.com/seatkeeper/seatkeeper/sqlstore"
)

// TestLedgerRecordsEveryChange: assignment changes, (de)activations and
// subscription changes are appended to the usage ledger (SPEC §1), in order.
func TestLedgerRecordsEveryChange(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *sqlstore.Store) {
		ctx := context.Background()
		mustAccount(t, s, "acme", "wfo")
		mustSubscribe(t, s, "acme", "qm", "named", 5)
		mustSubscribe(t, s, "acme", "wfo_access", "named", 5)
		mustUser(t, s, "acme", "ann")
		mustAssign(t, s, "acme", "ann", "qm")
		if _, _, err := s.AssignRole(ctx, operator, "acme", "ann", "wfo", "evaluator", seatkeeper.SourceSCIM); err != nil {
			t.Fatal(err) // R15: a wfo_access seat through the role
		}
		if _, _, err := s.PutUser(ctx, operator, seatkeeper.User{Account: "acme", ID: "ann", Active: false}); err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.PutUser(ctx, operator, seatkeeper.User{Account: "acme", ID: "ann", Active: true}); err != nil {
			t.Fatal(err)
		}
		events, err := s.UsageEvents(ctx, "acme", time.Now().Add(-time.Hour), time.Now().Add(time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, e := range events {
			got = append(got, strings.TrimRight(fmt.Sprintf("%s %s %s %s %d", e.Type, e.User, e.License, e.Source, e.Quantity), " "))
		}
		want := []string{
			"subscription.change  qm  5",
			"subscription.change  wfo_access  5",
			"user.activate ann   0", // a new active user
			"assignment.add ann qm manual 0",
			"assignment.add ann wfo_access role 0",
			// Deactivation frees both seats and drops the manual qm (R3) …
			"user.deactivate ann   0",
			"assignment.remove ann qm manual 0",
			"assignment.remove ann wfo_access manual 0",
			// … reactivation brings back only what the SCIM-given role links.
			"user.activate ann   0",
			"assignment.add ann wfo_access manual 0",
		}
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("ledger:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
		for i := 1; i < len(events); i++ {
			if events[i].At.Before(events[i-1].At) || events[i].ID <= events[i-1].ID {
				t.Errorf("event %d is out of order", i)
			}
		}
	})
}
