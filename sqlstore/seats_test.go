package sqlstore_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/seatkeeper/seatkeeper"
	"github.com/seatkeeper/seatkeeper/sqlstore"
)

func summaryOf(t *testing.T, s *sqlstore.Store, account, license string) seatkeeper.LicenseSummary {
	t.Helper()
	lines, err := s.LicenseSummary(context.Background(), account)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range lines {
		if l.License == license {
			return l
		}
	}
	t.Fatalf("no summary line for %s in %+v", license, lines)
	return seatkeeper.LicenseSummary{}
}

func TestR1_HardCapAndReuse(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *sqlstore.Store) {
		ctx := context.Background()
		mustAccount(t, s, "acme", "contact-center")
		mustSubscribe(t, s, "acme", "premium", "named", 3)
		for i := range 4 {
			mustUser(t, s, "acme", fmt.Sprintf("u%d", i))
		}
		for i := range 3 {
			mustAssign(t, s, "acme", fmt.Sprintf("u%d", i), "premium")
		}
		_, _, err := s.AssignLicense(ctx, operator, "acme", "u3", "premium", seatkeeper.SourceManual)
		if got, want := code(err), seatkeeper.ESeatLimit; got != want {
			t.Fatalf("4th assignment: %q, want %q", got, want)
		}
		if err := s.UnassignLicense(ctx, operator, "acme", "u0", "premium", ""); err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.AssignLicense(ctx, operator, "acme", "u3", "premium", seatkeeper.SourceManual); err != nil {
			t.Fatalf("after an unassignment: %v", err)
		}
		sum := summaryOf(t, s, "acme", "premium")
		if sum.Purchased != 3 || sum.Assigned != 3 || sum.Available == nil || *sum.Available != 0 {
			t.Errorf("summary = %+v", sum)
		}
		// Assigning again is no new seat (200, not 201).
		_, created, err := s.AssignLicense(ctx, operator, "acme", "u3", "premium", seatkeeper.SourceManual)
		if err != nil || created {
			t.Errorf("repeat assignment: created=%v err=%v", created, err)
		}
	})
}

// TestR1_ParallelAssignmentsHonorCap: N parallel assignments against Q free
// seats succeed exactly Q times.
func TestR1_ParallelAssignmentsHonorCap(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *sqlstore.Store) {
		const q, n = 25, 80
		ctx := context.Background()
		mustAccount(t, s, "acme", "contact-center")
		mustSubscribe(t, s, "acme", "essentials", "named", q)
		for i := range n {
			mustUser(t, s, "acme", fmt.Sprintf("u%03d", i))
		}
		var wg sync.WaitGroup
		var mu sync.Mutex
		ok, refused := 0, 0
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, _, err := s.AssignLicense(ctx, operator, "acme", fmt.Sprintf("u%03d", i), "essentials", seatkeeper.SourceManual)
				mu.Lock()
				defer mu.Unlock()
				switch code(err) {
				case "":
					ok++
				case seatkeeper.ESeatLimit:
					refused++
				default:
					t.Errorf("assignment %d: %v", i, err)
				}
			}()
		}
		wg.Wait()
		if ok != q || refused != n-q {
			t.Errorf("succeeded %d, refused %d; want %d and %d", ok, refused, q, n-q)
		}
		if got := summaryOf(t, s, "acme", "essentials").Assigned; got != q {
			t.Errorf("assigned = %d, want %d", got, q)
		}
	})
}

func TestR3_DeactivationFreesSeats(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *sqlstore.Store) {
		ctx := context.Background()
		mustAccount(t, s, "acme", "contact-center")
		mustSubscribe(t, s, "acme", "premium", "named", 1)
		mustUser(t, s, "acme", "ann")
		mustUser(t, s, "acme", "bob")
		mustAssign(t, s, "acme", "ann", "premium")
		if _, _, err := s.AssignLicense(ctx, operator, "acme", "bob", "premium", seatkeeper.SourceSCIM); code(err) != seatkeeper.ESeatLimit {
			t.Fatalf("bob before ann leaves: %v", err)
		}
		if _, _, err := s.PutUser(ctx, operator, seatkeeper.User{Account: "acme", ID: "ann", Active: false}); err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.AssignLicense(ctx, operator, "acme", "ann", "premium", seatkeeper.SourceManual); code(err) != seatkeeper.EUserInactive {
			t.Errorf("assign to inactive: %v, want user_inactive", err)
		}
		if _, _, err := s.AssignLicense(ctx, operator, "acme", "bob", "premium", seatkeeper.SourceSCIM); err != nil {
			t.Fatalf("bob after ann left: %v", err)
		}
		ann, err := s.User(ctx, "acme", "ann")
		if err != nil {
			t.Fatal(err)
		}
		if len(ann.Licenses) != 0 {
			t.Errorf("a manual assignment must not survive deactivation: %+v", ann.Licenses)
		}
		// SCIM assignments come back on reactivation, if a seat is free.
		if _, _, err := s.PutUser(ctx, operator, seatkeeper.User{Account: "acme", ID: "bob", Active: false}); err != nil {
			t.Fatal(err)
		}
		mustAssign2 := func() error {
			_, _, err := s.AssignLicense(ctx, operator, "acme", "ann", "premium", seatkeeper.SourceManual)
			return err
		}
		if _, _, err := s.PutUser(ctx, operator, seatkeeper.User{Account: "acme", ID: "ann", Active: true}); err != nil {
			t.Fatal(err)
		}
		if err := mustAssign2(); err != nil {
			t.Fatal(err)
		}
		_, _, err = s.PutUser(ctx, operator, seatkeeper.User{Account: "acme", ID: "bob", Active: true})
		if got, want := code(err), seatkeeper.ESeatLimit; got != want {
			t.Fatalf("reactivating bob with his SCIM seat taken: %q, want %q", got, want)
		}
		if err := s.UnassignLicense(ctx, operator, "acme", "ann", "premium", ""); err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.PutUser(ctx, operator, seatkeeper.User{Account: "acme", ID: "bob", Active: true}); err != nil {
			t.Fatal(err)
		}
		bob, _ := s.User(ctx, "acme", "bob")
		if len(bob.Licenses) != 1 || bob.Licenses[0] != (seatkeeper.HeldLicense{License: "premium", Source: "scim"}) {
			t.Errorf("bob's SCIM assignment after reactivation: %+v", bob.Licenses)
		}
	})
}
