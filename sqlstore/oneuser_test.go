package sqlstore_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/seatkeeper/seatkeeper"
	"github.com/seatkeeper/seatkeeper/sqlstore"
)

// TestR1_R3_ChangesToFewUsersFromManyWriters: sixteen writers, through two
// stores on PostgreSQL (two processes), create, delete, assign, unassign,
// deactivate and reactivate the same six users at once. Each change sees
// the ones committed before it: none fails but for a domain reason (a full
// license, a user deleted meanwhile), and afterwards the seats in use are
// exactly the active holders (R1, R3).
func TestR1_R3_ChangesToFewUsersFromManyWriters(t *testing.T) {
	eachProcesses(t, func(t *testing.T, stores []*sqlstore.Store) {
		s := stores[0]
		ctx := context.Background()
		mustAccount(t, s, "acme", "contact-center")
		mustSubscribe(t, s, "acme", "essentials", "named", 4)
		const users = 6
		for i := range users / 2 {
			mustUser(t, s, "acme", fmt.Sprintf("u%d", i))
		}
		var wg sync.WaitGroup
		for w := range 16 {
			wg.Go(func() {
				r := rand.New(rand.NewPCG(uint64(w), 11))
				st := stores[w%len(stores)]
				for range 40 {
					user := fmt.Sprintf("u%d", r.IntN(users))
					var err error
					switch r.IntN(5) {
					case 4:
						err = st.DeleteUser(ctx, operator, "acme", user)
					case 0:
						_, _, err = st.AssignLicense(ctx, operator, "acme", user, "essentials", seatkeeper.SourceManual)
					case 1:
						err = st.UnassignLicense(ctx, operator, "acme", user, "essentials", seatkeeper.SourceManual)
					case 2, 3:
						_, _, err = st.PutUser(ctx, operator, seatkeeper.User{Account: "acme", ID: user, Active: r.IntN(2) == 0})
					}
					if err != nil && code(err) == "" {
						t.Errorf("%s: %v", user, err)
					}
				}
			})
		}
		wg.Wait()
		holders := 0
		for i := range users {
			u, err := s.User(ctx, "acme", fmt.Sprintf("u%d", i))
			if code(err) == seatkeeper.ENotFound {
				continue
			} else if err != nil {
				t.Fatal(err)
			}
			if u.Active && slices.ContainsFunc(u.Licenses, func(l seatkeeper.HeldLicense) bool { return l.License == "essentials" }) {
				holders++
			}
		}
		if got := summaryOf(t, s, "acme", "essentials").Assigned; got != holders {
			t.Errorf("seats in use %d, active holders %d", got, holders)
		}
	})
}

// TestSameNewUserFromManyWriters: eight writers through two stores on
// PostgreSQL create the same twenty users at the same moment. Each user is
// created once; the other writes find it and update it — none fails.
func TestSameNewUserFromManyWriters(t *testing.T) {
	eachProcesses(t, func(t *testing.T, stores []*sqlstore.Store) {
		s := stores[0]
		mustAccount(t, s, "acme", "contact-center")
		var mu sync.Mutex
		created := map[string]int{}
		for i := range 20 {
			user := fmt.Sprintf("new%d", i)
			start := make(chan struct{})
			var wg sync.WaitGroup
			for w := range 8 {
				wg.Go(func() {
					<-start
					_, isNew, err := stores[w%len(stores)].PutUser(context.Background(), operator, seatkeeper.User{Account: "acme", ID: user, Active: true})
					if err != nil {
						t.Errorf("%s: %v", user, err)
					}
					if isNew {
						mu.Lock()
						created[user]++
						mu.Unlock()
					}
				})
			}
			close(start)
			wg.Wait()
			if created[user] != 1 {
				t.Errorf("%s created %d times", user, created[user])
			}
		}
	})
}

// TestR4_SignInAgainWhileSigningOut: a user signed in to a full pool signs
// in again through one process while their session is ended through
// another. Whichever comes first, the sign-in is admitted: either the user
// is still signed in (R5: another presence), or their place was freed. On
// PostgreSQL the pool was once read as of before the sign-out committed,
// and the user refused with pool_exhausted.
func TestR4_SignInAgainWhileSigningOut(t *testing.T) {
	eachProcesses(t, func(t *testing.T, stores []*sqlstore.Store) {
		ctx := context.Background()
		a, b := stores[0], stores[len(stores)-1]
		mustAccount(t, a, "acme", "contact-center")
		mustSubscribe(t, a, "acme", "essentials", "concurrent", 1)
		mustUser(t, a, "acme", "u0")
		mustAssign(t, a, "acme", "u0", "essentials")
		sess, _, err := a.StartSession(ctx, operator, "acme", "u0", "work_session", "", "")
		if err != nil {
			t.Fatal(err)
		}
		for round := range 60 {
			var again seatkeeper.Session
			var signInErr, endErr error
			var wg sync.WaitGroup
			wg.Go(func() { endErr = b.EndSession(ctx, operator, "acme", sess.ID) })
			wg.Go(func() { again, _, signInErr = a.StartSession(ctx, operator, "acme", "u0", "work_session", "", "") })
			wg.Wait()
			if endErr != nil || signInErr != nil {
				t.Fatalf("round %d: sign-out %v, sign-in %v", round, endErr, signInErr)
			}
			sess = again
		}
		if live, err := a.Sessions(ctx, "acme", "u0"); err != nil || len(live) != 1 || live[0].ID != sess.ID {
			t.Errorf("u0's live sessions %+v, %v; want only %s", live, err, sess.ID)
		}
		if pools, err := b.Pools(ctx, "acme"); err != nil || len(pools) != 1 || pools[0].InUse != 1 {
			t.Errorf("pools %+v, %v; want in_use 1", pools, err)
		}
	})
}

// TestR4_AnswersCountTheSettledPool: users signing in at once through two
// processes are each told the pool's in_use as their admission left it, so
// that the answers are 1 to N, each once, and overage is what each one's
// admission put over the quantity; a replay by Idempotency-Key is the
// answer given first. The places read before the pool's lock are not
// those: other processes admit in between.
func TestR4_AnswersCountTheSettledPool(t *testing.T) {
	eachProcesses(t, func(t *testing.T, stores []*sqlstore.Store) {
		ctx := context.Background()
		s := stores[0]
		poolAccount(t, s, 60, 20, 0)
		const n = 80
		answers := signInAtOnce(t, stores, n)
		seen := map[int]string{}
		for i, a := range answers {
			if a.InUse == nil || a.Overage == nil {
				continue
			}
			if other, dup := seen[*a.InUse]; dup {
				t.Errorf("u%d and %s were both told in_use %d", i, other, *a.InUse)
			}
			seen[*a.InUse] = fmt.Sprintf("u%d", i)
			if *a.InUse < 1 || *a.InUse > n || *a.Overage != max(0, *a.InUse-60) {
				t.Errorf("u%d: in_use %d overage %d", i, *a.InUse, *a.Overage)
			}
			again, replayed, err := stores[(i+1)%len(stores)].StartSession(ctx, operator, "acme", fmt.Sprintf("u%d", i), "work_session", fmt.Sprintf("k-u%d", i), fmt.Sprintf("u%d", i))
			if err != nil || !replayed || *again.InUse != *a.InUse || *again.Overage != *a.Overage || again.ID != a.ID {
				t.Errorf("u%d's replay: %+v (replayed %v), %v; want the first answer, in_use %d", i, again, replayed, err, *a.InUse)
			}
		}
		if len(seen) != n {
			t.Errorf("%d distinct in_use values, want %d", len(seen), n)
		}
	})
}

// TestR4_AnswersNeverPassTheCap: thirty agents of a pool of cap 5 sign
// in, hold their place a moment and sign out (by session or all of
// theirs), again and again, through two processes, the pool mostly full.
// Every admission's answer says an in_use within the cap and an overage
// within the allowance, and every refusal a full pool (R4). On PostgreSQL
// a batch that admitted a user and freed a place after them, once another
// process had filled the pool, settled within the cap but told the user
// in_use 6; and a refusal counted admissions of its batch not yet settled.
func TestR4_AnswersNeverPassTheCap(t *testing.T) {
	eachProcesses(t, func(t *testing.T, stores []*sqlstore.Store) {
		ctx := context.Background()
		s := stores[0]
		const users = 30
		poolAccount(t, s, 4, 1, users)
		var wg sync.WaitGroup
		var admitted atomic.Int64
		for w := range users {
			wg.Go(func() {
				r := rand.New(rand.NewPCG(uint64(w), 4))
				user := fmt.Sprintf("u%d", w)
				store := func() *sqlstore.Store { return stores[r.IntN(len(stores))] }
				for range 150 {
					sess, _, err := store().StartSession(ctx, operator, "acme", user, []string{"work_session", "portal", "api"}[r.IntN(3)], "", "")
					if code(err) == seatkeeper.EPoolExhausted {
						var e *seatkeeper.Error
						if errors.As(err, &e) && (e.Extra["in_use"] != 5 || e.Extra["cap"] != 5) {
							t.Errorf("%s refused with in_use %v, cap %v; want the full pool, 5 of 5", user, e.Extra["in_use"], e.Extra["cap"])
						}
						continue
					} else if err != nil {
						t.Errorf("%s: %v", user, err)
						return
					}
					if *sess.InUse < 1 || *sess.InUse > 5 || *sess.Cap != 5 || *sess.Overage != max(0, *sess.InUse-4) {
						t.Errorf("%s admitted with in_use %d, cap %d, overage %d", user, *sess.InUse, *sess.Cap, *sess.Overage)
					}
					admitted.Add(1)
					time.Sleep(time.Duration(r.IntN(5000)) * time.Microsecond)
					if r.IntN(2) == 0 {
						err = store().EndSession(ctx, operator, "acme", sess.ID)
					} else {
						_, err = store().EndUserSessions(ctx, operator, "acme", user)
					}
					if err != nil && code(err) != seatkeeper.ESessionEnded {
						t.Errorf("signing %s out: %v", user, err)
					}
				}
			})
		}
		wg.Wait()
		if admitted.Load() < 100 {
			t.Errorf("%d admissions: too few to have filled the pool", admitted.Load())
		}
	})
}
