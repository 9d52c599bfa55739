package sqlstore_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"

	"github.com/seatkeeper/seatkeeper"
	"github.com/seatkeeper/seatkeeper/sqlstore"
)

// addonAccount makes acme: 5 concurrent Elite seats, 3 QM add-on seats,
// users p0…p14 on Premium and e0…e9 on Elite.
func addonAccount(t *testing.T, s *sqlstore.Store) (premium, elite []string) {
	t.Helper()
	mustAccount(t, s, "acme", "contact-center")
	mustSubscribe(t, s, "acme", "elite", "concurrent", 5)
	mustSubscribe(t, s, "acme", "premium", "named", 20)
	mustSubscribe(t, s, "acme", "qm", "named", 3)
	for i := range 15 {
		premium = append(premium, fmt.Sprintf("p%d", i))
		mustUser(t, s, "acme", premium[i])
		mustAssign(t, s, "acme", premium[i], "premium")
	}
	for i := range 10 {
		elite = append(elite, fmt.Sprintf("e%d", i))
		mustUser(t, s, "acme", elite[i])
		mustAssign(t, s, "acme", elite[i], "elite")
	}
	return premium, elite
}

// qmHolders counts the users of ids who hold qm.
func qmHolders(t *testing.T, s *sqlstore.Store, ids []string) int {
	t.Helper()
	n := 0
	for _, id := range ids {
		u, err := s.User(context.Background(), "acme", id)
		if err != nil {
			t.Fatal(err)
		}
		if slices.ContainsFunc(u.Licenses, func(l seatkeeper.HeldLicense) bool { return l.License == "qm" }) {
			n++
		}
	}
	return n
}

// addonUsed reads the count of qm seats held without Elite.
func addonUsed(t *testing.T, s *sqlstore.Store) int {
	t.Helper()
	var n int
	err := s.WriteForTest(context.Background(), true, func(x sqlstore.TestTx) (err error) {
		n, err = x.Int("SELECT used FROM addon_counters WHERE account = ? AND license = ?", "acme", "qm")
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestR9_AddonSeatsUnderConcurrency: sixteen writers through two
// processes assign and unassign QM to Premium and Elite users at random.
// Premium users never hold more than the 3 add-on seats, all holders
// never more than 5 + 3, and the counts kept agree with the holders.
func TestR9_AddonSeatsUnderConcurrency(t *testing.T) {
	eachProcesses(t, func(t *testing.T, stores []*sqlstore.Store) {
		ctx := context.Background()
		s := stores[0]
		premium, elite := addonAccount(t, s)
		all := slices.Concat(premium, elite)
		var wg sync.WaitGroup
		for w := range 16 {
			wg.Go(func() {
				r := rand.New(rand.NewPCG(uint64(w), 9))
				for range 30 {
					st, user := stores[r.IntN(len(stores))], all[r.IntN(len(all))]
					var err error
					if r.IntN(3) == 0 {
						err = st.UnassignLicense(ctx, operator, "acme", user, "qm", seatkeeper.SourceManual)
					} else {
						_, _, err = st.AssignLicense(ctx, operator, "acme", user, "qm", seatkeeper.SourceManual)
					}
					if err != nil && code(err) == "" {
						t.Errorf("%s: %v", user, err)
					}
				}
			})
		}
		wg.Wait()
		p, e := qmHolders(t, s, premium), qmHolders(t, s, elite)
		if p > 3 || p+e > 8 {
			t.Errorf("qm held by %d Premium and %d Elite users: over 3 add-on seats or 8 in all", p, e)
		}
		if got := summaryOf(t, s, "acme", "qm").Assigned; got != p+e {
			t.Errorf("qm seats in use %d, holders %d", got, p+e)
		}
		if got := addonUsed(t, s); got != p {
			t.Errorf("qm add-on seats counted %d, Premium holders %d", got, p)
		}
	})
}

// uncount leaves acme's add-on counts as migration 0012 leaves those of
// a database from before them: made, not counted.
func uncount(t *testing.T, s *sqlstore.Store) {
	t.Helper()
	if err := s.ExecForTest(context.Background(), "UPDATE addon_counters SET used = 0, cap = -1, capped = FALSE"); err != nil {
		t.Fatal(err)
	}
}

// TestR9_AddonSeatsCounted: a database from before the add-on counts has
// them uncounted; a change of a subscription counts them from the users,
// and from then on they cap.
func TestR9_AddonSeatsCounted(t *testing.T) {
	eachProcesses(t, func(t *testing.T, stores []*sqlstore.Store) {
		ctx := context.Background()
		s := stores[0]
		premium, _ := addonAccount(t, s)
		mustAssign(t, s, "acme", premium[0], "qm")
		mustAssign(t, s, "acme", premium[1], "qm")
		uncount(t, s)
		// Uncounted, the add-on's seats cap nothing (the plan's quantity
		// and the add-on's still do).
		mustAssign(t, s, "acme", premium[2], "qm")
		mustAssign(t, s, "acme", premium[3], "qm")
		if err := s.UnassignLicense(ctx, operator, "acme", premium[3], "qm", seatkeeper.SourceManual); err != nil {
			t.Fatal(err)
		}
		mustSubscribe(t, s, "acme", "premium", "named", 21)
		if got := addonUsed(t, s); got != 3 {
			t.Errorf("counted %d qm add-on seats, want 3", got)
		}
		if _, _, err := stores[len(stores)-1].AssignLicense(ctx, operator, "acme", premium[4], "qm", seatkeeper.SourceManual); code(err) != seatkeeper.ESeatLimit {
			t.Errorf("a fourth Premium user's qm: %v, want seat_limit_reached", err)
		}
	})
}

// TestR9_AddonSeatsCountedWhileChanging: the count races with users
// given and losing QM through both processes; whatever the order, the
// count is then the holders (a free of a row not yet made was lost, and a
// change of the same batch counted twice).
func TestR9_AddonSeatsCountedWhileChanging(t *testing.T) {
	eachProcesses(t, func(t *testing.T, stores []*sqlstore.Store) {
		ctx := context.Background()
		s := stores[0]
		premium, _ := addonAccount(t, s)
		mustSubscribe(t, s, "acme", "qm", "named", 15)
		for round := range 8 {
			uncount(t, s)
			var wg sync.WaitGroup
			for i, p := range premium {
				wg.Go(func() {
					var err error
					if round%2 == 0 {
						_, _, err = stores[i%len(stores)].AssignLicense(ctx, operator, "acme", p, "qm", seatkeeper.SourceManual)
					} else {
						err = stores[i%len(stores)].UnassignLicense(ctx, operator, "acme", p, "qm", seatkeeper.SourceManual)
					}
					if err != nil {
						t.Errorf("%s: %v", p, err)
					}
				})
			}
			wg.Go(func() {
				if _, _, err := s.PutSubscription(ctx, operator, seatkeeper.Subscription{Account: "acme", License: "premium", Model: "named", Quantity: 20 + round}); err != nil {
					t.Error(err)
				}
			})
			wg.Wait()
			if got, want := addonUsed(t, s), qmHolders(t, s, premium); got != want {
				t.Errorf("round %d: %d qm add-on seats counted, %d Premium holders", round, got, want)
			}
		}
	})
}

// TestR9_AddonSeatsBeyondTheCount: Premium users who held QM beyond the
// add-on's quantity before it was counted keep it, and no subscription
// change but one of QM is refused for them.
func TestR9_AddonSeatsBeyondTheCount(t *testing.T) {
	eachProcesses(t, func(t *testing.T, stores []*sqlstore.Store) {
		ctx := context.Background()
		s := stores[0]
		premium, _ := addonAccount(t, s)
		uncount(t, s)
		for _, p := range premium[:5] {
			mustAssign(t, s, "acme", p, "qm")
		}
		mustSubscribe(t, s, "acme", "premium", "named", 21)
		mustSubscribe(t, s, "acme", "toll_free_numbers", "named", 2)
		if got := addonUsed(t, s); got != 5 {
			t.Errorf("counted %d qm add-on seats, want 5", got)
		}
		if _, _, err := s.PutSubscription(ctx, operator, seatkeeper.Subscription{Account: "acme", License: "qm", Model: "named", Quantity: 4}); code(err) != seatkeeper.EConflict {
			t.Errorf("qm down to 4 under 5 holders without Elite: %v, want conflict", err)
		}
		if _, _, err := s.AssignLicense(ctx, operator, "acme", premium[5], "qm", seatkeeper.SourceManual); code(err) != seatkeeper.ESeatLimit {
			t.Errorf("a sixth Premium user's qm: %v, want seat_limit_reached", err)
		}
	})
}

// TestR9_IdentityProviderTakesElite: an identity provider takes Elite
// from a user who holds QM as its coverage. The QM left, without a plan,
// grants nothing (R2) and takes no add-on seat, of which there are none:
// the removal is not refused.
func TestR9_IdentityProviderTakesElite(t *testing.T) {
	eachProcesses(t, func(t *testing.T, stores []*sqlstore.Store) {
		ctx := context.Background()
		s := stores[0]
		mustAccount(t, s, "acme", "contact-center")
		mustSubscribe(t, s, "acme", "elite", "concurrent", 5)
		mustUser(t, s, "acme", "e0")
		if _, _, err := s.AssignLicense(ctx, operator, "acme", "e0", "elite", seatkeeper.SourceSCIM); err != nil {
			t.Fatal(err)
		}
		mustAssign(t, s, "acme", "e0", "qm")
		if err := s.UnassignLicense(ctx, operator, "acme", "e0", "elite", seatkeeper.SourceSCIM); err != nil {
			t.Errorf("the identity provider's removal of elite: %v", err)
		}
		if got := addonUsed(t, s); got != 0 {
			t.Errorf("qm add-on seats counted %d, want 0", got)
		}
	})
}
