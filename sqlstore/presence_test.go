package sqlstore_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/seatkeeper/seatkeeper"
	"github.com/seatkeeper/seatkeeper/sqlstore"
	"github.com/seatkeeper/seatkeeper/sqlstore/sqlstoretest"
)

// clock is a settable time for the stores under test.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// poolAccount makes an account with a concurrent Essentials pool of q
// seats and allowance a, and n member users u0…u(n-1).
func poolAccount(t testing.TB, s *sqlstore.Store, q, a, n int) {
	t.Helper()
	ctx := context.Background()
	mustAccount(t, s, "acme", "contact-center")
	if _, _, err := s.PutSubscription(ctx, operator, seatkeeper.Subscription{Account: "acme", License: "essentials", Model: "concurrent", Quantity: q, OverageAllowance: a}); err != nil {
		t.Fatal(err)
	}
	for i := range n {
		u := fmt.Sprintf("u%d", i)
		mustUser(t, s, "acme", u)
		mustAssign(t, s, "acme", u, "essentials")
	}
}

func signIn(s *sqlstore.Store, user, kind string) (seatkeeper.Session, error) {
	sess, _, err := s.StartSession(context.Background(), operator, "acme", user, kind, "", "")
	return sess, err
}

func TestR4_PoolCapAndAllowance(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *sqlstore.Store) {
		poolAccount(t, s, 3, 1, 6)
		for i := range 4 {
			sess, err := signIn(s, fmt.Sprintf("u%d", i), seatkeeper.KindWorkSession)
			if err != nil {
				t.Fatalf("sign-in %d: %v", i, err)
			}
			if *sess.InUse != i+1 || *sess.Cap != 4 || *sess.Overage != max(0, i+1-3) {
				t.Errorf("sign-in %d: in_use %d cap %d overage %d", i, *sess.InUse, *sess.Cap, *sess.Overage)
			}
		}
		refused, err := signIn(s, "u4", seatkeeper.KindWorkSession)
		var se *seatkeeper.Error
		if code(err) != seatkeeper.EPoolExhausted {
			t.Fatalf("5th user: %v, want pool_exhausted", err)
		}
		if refused.ID != "" {
			t.Errorf("a refused sign-in came with session %q", refused.ID)
		}
		if se = err.(*seatkeeper.Error); se.Extra["in_use"] != 4 || se.Extra["cap"] != 4 {
			t.Errorf("pool_exhausted extra = %v", se.Extra)
		}
		// A user already signed in may add presences freely (R4, R5).
		if _, err := signIn(s, "u0", seatkeeper.KindPortal); err != nil {
			t.Errorf("second presence of a signed-in user: %v", err)
		}
		pools, _ := s.Pools(context.Background(), "acme")
		if len(pools) != 1 || pools[0].InUse != 4 || pools[0].Cap != 4 || pools[0].Quantity != 3 || pools[0].Members != 6 {
			t.Errorf("pools = %+v", pools)
		}
		// Ending u1's only presence frees a place for u4.
		live, _ := s.Sessions(context.Background(), "acme", "u1")
		if err := s.EndSession(context.Background(), operator, "acme", live[0].ID); err != nil {
			t.Fatal(err)
		}
		if _, err := signIn(s, "u4", seatkeeper.KindAPI); err != nil {
			t.Errorf("after a sign-out: %v", err)
		}
		if err := s.EndSession(context.Background(), operator, "acme", live[0].ID); code(err) != seatkeeper.ESessionEnded {
			t.Errorf("ending an ended session: %v", err)
		}
	})
}

// TestR5_OneCountPerUser: a user with a work session, portal and API
// presences counts once; only the end of the last one frees the place.
func TestR5_OneCountPerUser(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *sqlstore.Store) {
		poolAccount(t, s, 1, 0, 2)
		var ids []string
		for _, k := range []string{seatkeeper.KindWorkSession, seatkeeper.KindPortal, seatkeeper.KindAPI} {
			sess, err := signIn(s, "u0", k)
			if err != nil {
				t.Fatal(err)
			}
			if *sess.InUse != 1 {
				t.Errorf("%s: in_use %d, want 1", k, *sess.InUse)
			}
			ids = append(ids, sess.ID)
		}
		for i, id := range ids {
			if _, err := signIn(s, "u1", seatkeeper.KindPortal); code(err) != seatkeeper.EPoolExhausted {
				t.Fatalf("u1 while u0 has %d presences: %v", len(ids)-i, err)
			}
			if err := s.EndSession(context.Background(), operator, "acme", id); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := signIn(s, "u1", seatkeeper.KindPortal); err != nil {
			t.Errorf("u1 after u0's last presence ended: %v", err)
		}
	})
}

// TestR6_SessionEndsAtLastHeartbeatPlusTimeout: without any request, a
// session whose heartbeats stop ends at last heartbeat + timeout: that is
// when its place is freed and what the ledger says, once.
func TestR6_SessionEndsAtLastHeartbeatPlusTimeout(t *testing.T) {
	sqlstoretest.Each(t, func(t *testing.T, dsn string) {
		c := newClock()
		s := sqlstoretest.Open(t, dsn)
		s.Now = c.Now
		poolAccount(t, s, 1, 0, 2)
		start := c.Now()
		sess, err := signIn(s, "u0", seatkeeper.KindWorkSession)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := sess.ExpiresAt, start.Add(180*time.Second); !got.Equal(want) {
			t.Errorf("expires_at %v, want %v (default timeout 180 s)", got, want)
		}
		c.Add(100 * time.Second)
		beat, err := s.Heartbeat(context.Background(), "acme", sess.ID)
		if err != nil {
			t.Fatal(err)
		}
		lastBeat := c.Now()
		if want := lastBeat.Add(180 * time.Second); !beat.ExpiresAt.Equal(want) {
			t.Errorf("heartbeat expires_at %v, want %v", beat.ExpiresAt, want)
		}
		// Past the expiry it had before the heartbeat: the reaper finds it
		// due but not expired, and leaves it live.
		c.Add(100 * time.Second)
		if n, err := s.Reap(context.Background()); n != 0 || err != nil {
			t.Errorf("reaped %d (%v) a session extended by a heartbeat", n, err)
		}
		if live, _ := s.Sessions(context.Background(), "acme", "u0"); len(live) != 1 {
			t.Errorf("%d live sessions after an early reap, want 1", len(live))
		}
		c.Add(10 * time.Minute) // silence; no request arrives

		// Two processes reap at once (on PostgreSQL a second store on the
		// same schema); the session ends exactly once.
		stores := []*sqlstore.Store{s}
		if dsn != "" {
			s2 := sqlstoretest.Open(t, dsn)
			s2.Now = c.Now
			stores = append(stores, s2)
		}
		var wg sync.WaitGroup
		total := 0
		var mu sync.Mutex
		for _, st := range stores {
			wg.Add(1)
			go func() {
				defer wg.Done()
				n, err := st.Reap(context.Background())
				if err != nil {
					t.Error(err)
				}
				mu.Lock()
				total += n
				mu.Unlock()
			}()
		}
		wg.Wait()
		if total != 1 {
			t.Errorf("reaped %d sessions in all, want 1", total)
		}
		if _, err := s.Heartbeat(context.Background(), "acme", sess.ID); code(err) != seatkeeper.ESessionEnded {
			t.Errorf("heartbeat after the end: %v, want session_ended", err)
		}
		events, _ := s.UsageEvents(context.Background(), "acme", start.Add(-time.Hour), c.Now().Add(time.Hour))
		ends := 0
		for _, e := range events {
			if e.Type == seatkeeper.EventPresenceEnd && e.Session == sess.ID {
				ends++
				if want := lastBeat.Add(180 * time.Second); !e.At.Equal(want) {
					t.Errorf("ledger end %v, want last heartbeat + timeout %v", e.At, want)
				}
			}
		}
		if ends != 1 {
			t.Errorf("%d presence.end events, want exactly 1", ends)
		}
		if _, err := signIn(s, "u1", seatkeeper.KindWorkSession); err != nil {
			t.Errorf("the place must be free: %v", err)
		}
	})
}

// TestR6_ExpiredSessionDoesNotBlockAdmission: a session past its time
// counts for nothing even before any reaper has been by.
func TestR6_ExpiredSessionDoesNotBlockAdmission(t *testing.T) {
	sqlstoretest.Each(t, func(t *testing.T, dsn string) {
		c := newClock()
		s := sqlstoretest.Open(t, dsn)
		s.Now = c.Now
		poolAccount(t, s, 1, 0, 2)
		first, err := signIn(s, "u0", seatkeeper.KindPortal) // idle window 5 min
		if err != nil {
			t.Fatal(err)
		}
		c.Add(5*time.Minute + time.Second)
		if _, err := signIn(s, "u1", seatkeeper.KindWorkSession); err != nil {
			t.Fatalf("u0's presence ran out: %v", err)
		}
		events, _ := s.UsageEvents(context.Background(), "acme", first.StartedAt, c.Now().Add(time.Hour))
		found := false
		for _, e := range events {
			if e.Type == seatkeeper.EventPresenceEnd && e.Session == first.ID {
				found = e.At.Equal(first.ExpiresAt)
			}
		}
		if !found {
			t.Errorf("u0's presence must end in the ledger at %v: %+v", first.ExpiresAt, events)
		}
	})
}

func TestIdempotentSessionCreation(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *sqlstore.Store) {
		poolAccount(t, s, 5, 0, 2)
		ctx := context.Background()
		a, replayed, err := s.StartSession(ctx, operator, "acme", "u0", "work_session", "k1", sqlstore.RequestHash("u0", "work_session"))
		if err != nil || replayed {
			t.Fatalf("first: %v %v", replayed, err)
		}
		b, replayed, err := s.StartSession(ctx, operator, "acme", "u0", "work_session", "k1", sqlstore.RequestHash("u0", "work_session"))
		if err != nil || !replayed || b.ID != a.ID || !b.ExpiresAt.Equal(a.ExpiresAt) {
			t.Errorf("replay: %+v %v %v, want %+v", b, replayed, err, a)
		}
		if _, _, err := s.StartSession(ctx, operator, "acme", "u1", "work_session", "k1", sqlstore.RequestHash("u1", "work_session")); code(err) != seatkeeper.EConflict {
			t.Errorf("same key, other request: %v, want conflict", err)
		}
		if live, _ := s.Sessions(ctx, "acme", ""); len(live) != 1 {
			t.Errorf("%d live sessions, want 1", len(live))
		}
	})
}

// TestR3_DeactivationEndsPresences
func TestR3_DeactivationEndsPresences(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *sqlstore.Store) {
		poolAccount(t, s, 1, 0, 2)
		if _, err := signIn(s, "u0", "work_session"); err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.PutUser(context.Background(), operator, seatkeeper.User{Account: "acme", ID: "u0", Active: false}); err != nil {
			t.Fatal(err)
		}
		if live, _ := s.Sessions(context.Background(), "acme", "u0"); len(live) != 0 {
			t.Errorf("a deactivated user keeps %d sessions", len(live))
		}
		if _, err := signIn(s, "u1", "work_session"); err != nil {
			t.Errorf("the place must be free: %v", err)
		}
		if _, err := signIn(s, "u0", "work_session"); code(err) != seatkeeper.EUserInactive {
			t.Errorf("inactive sign-in: %v", err)
		}
	})
}

// TestR4_ParallelSignInsHonorCap: many sign-ins at once, through two
// store instances on PostgreSQL, admit exactly Q + A users.
func TestR4_ParallelSignInsHonorCap(t *testing.T) {
	eachProcesses(t, func(t *testing.T, stores []*sqlstore.Store) {
		s := stores[0]
		poolAccount(t, s, 20, 5, 80)
		var wg sync.WaitGroup
		var mu sync.Mutex
		ok, full := 0, 0
		for i := range 80 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, _, err := stores[i%len(stores)].StartSession(context.Background(), operator, "acme", fmt.Sprintf("u%d", i), "work_session", "", "")
				mu.Lock()
				defer mu.Unlock()
				switch code(err) {
				case "":
					ok++
				case seatkeeper.EPoolExhausted:
					full++
				default:
					t.Errorf("sign-in %d: %v", i, err)
				}
			}()
		}
		wg.Wait()
		if ok != 25 || full != 55 {
			t.Errorf("admitted %d, refused %d; want 25 and 55", ok, full)
		}
		events, _ := s.UsageEvents(context.Background(), "acme", time.Now().Add(-time.Hour), time.Now().Add(time.Hour))
		denied := 0
		for _, e := range events {
			if e.Type == seatkeeper.EventPresenceDenied {
				denied++
			}
		}
		if denied != 55 {
			t.Errorf("%d presence.denied events, want 55", denied)
		}
	})
}

// TestR4_GainingAPoolEndsOlderPresences: presences started outside a pool
// end when the user is given a concurrent plan, so that nobody uses the
// plan without a place in its pool.
func TestR4_GainingAPoolEndsOlderPresences(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *sqlstore.Store) {
		poolAccount(t, s, 1, 0, 1)
		mustUser(t, s, "acme", "ann")
		if _, err := signIn(s, "ann", seatkeeper.KindPortal); err != nil { // in no pool yet
			t.Fatal(err)
		}
		mustAssign(t, s, "acme", "ann", "essentials")
		if live, _ := s.Sessions(context.Background(), "acme", "ann"); len(live) != 0 {
			t.Errorf("ann keeps %d presences from before her plan", len(live))
		}
		if _, err := signIn(s, "u0", seatkeeper.KindPortal); err != nil {
			t.Fatal(err)
		}
		if _, err := signIn(s, "ann", seatkeeper.KindPortal); code(err) != seatkeeper.EPoolExhausted {
			t.Errorf("ann signing in to a full pool: %v", err)
		}
	})
}

// TestR4_RoleUnlinkingThePlanEndsPresences: a role redefined so that it no
// longer links the concurrent plan takes the plan from its holders, and
// their presences in its pool end, freeing their places, as unassigning
// the plan does. Before, they stayed signed in to the pool, heartbeating
// and holding places no member could take (found by an audit).
func TestR4_RoleUnlinkingThePlanEndsPresences(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *sqlstore.Store) {
		ctx := context.Background()
		poolAccount(t, s, 1, 0, 1) // u0, a member; one place
		if _, err := s.PutRole(ctx, operator, "acme", seatkeeper.CustomRole{Service: "account", Name: "agentx", Licenses: []string{"essentials"}}); err != nil {
			t.Fatal(err)
		}
		mustUser(t, s, "acme", "r1")
		if _, _, err := s.AssignRole(ctx, operator, "acme", "r1", "account", "agentx", seatkeeper.SourceManual); err != nil {
			t.Fatal(err)
		}
		sess, err := signIn(s, "r1", seatkeeper.KindWorkSession)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.PutRole(ctx, operator, "acme", seatkeeper.CustomRole{Service: "account", Name: "agentx"}); err != nil {
			t.Fatal(err)
		}
		if live, _ := s.Sessions(ctx, "acme", "r1"); len(live) != 0 {
			t.Errorf("r1 keeps %d presences after the role stopped linking the plan", len(live))
		}
		if _, err := s.Heartbeat(ctx, "acme", sess.ID); code(err) != seatkeeper.ESessionEnded {
			t.Errorf("heartbeat of r1's session: %v, want session_ended", err)
		}
		if _, err := signIn(s, "u0", seatkeeper.KindWorkSession); err != nil {
			t.Errorf("u0 takes the place r1 left: %v", err)
		}
	})
}

// TestR4_PresencesOutsideThePoolSignNobodyIn: users signed in while their
// plan was named, or before a role linked them to the plan, took no place
// in the pool; once the plan is concurrent those presences do not sign them
// in to it, so no more users than the cap are signed in (R4).
func TestR4_PresencesOutsideThePoolSignNobodyIn(t *testing.T) {
	signedIn := func(t *testing.T, s *sqlstore.Store, user string) bool {
		t.Helper()
		_, until, found, err := s.Holding(context.Background(), "acme", user)
		if err != nil || !found {
			t.Fatalf("holding of %s: %v %v", user, found, err)
		}
		return until.After(s.Now())
	}
	t.Run("the plan becomes concurrent", func(t *testing.T) {
		forEachStore(t, func(t *testing.T, s *sqlstore.Store) {
			mustAccount(t, s, "acme", "contact-center")
			mustSubscribe(t, s, "acme", "essentials", "named", 10)
			for i := range 3 {
				u := fmt.Sprintf("u%d", i)
				mustUser(t, s, "acme", u)
				mustAssign(t, s, "acme", u, "essentials")
			}
			for _, u := range []string{"u0", "u1"} {
				if _, err := signIn(s, u, seatkeeper.KindWorkSession); err != nil {
					t.Fatal(err)
				}
			}
			if _, _, err := s.PutSubscription(context.Background(), operator, seatkeeper.Subscription{Account: "acme", License: "essentials", Model: "concurrent", Quantity: 1}); err != nil {
				t.Fatal(err)
			}
			if _, err := signIn(s, "u2", seatkeeper.KindWorkSession); err != nil {
				t.Fatalf("u2 takes the one place: %v", err)
			}
			if signedIn(t, s, "u0") || signedIn(t, s, "u1") || !signedIn(t, s, "u2") {
				t.Errorf("signed in: u0 %v, u1 %v, u2 %v; want only u2, who holds the one place",
					signedIn(t, s, "u0"), signedIn(t, s, "u1"), signedIn(t, s, "u2"))
			}
		})
	})
	t.Run("a role links the plan", func(t *testing.T) {
		forEachStore(t, func(t *testing.T, s *sqlstore.Store) {
			ctx := context.Background()
			poolAccount(t, s, 1, 0, 1) // u0, a member
			if _, err := s.PutRole(ctx, operator, "acme", seatkeeper.CustomRole{Service: "account", Name: "agentx"}); err != nil {
				t.Fatal(err)
			}
			mustUser(t, s, "acme", "u1")
			if _, _, err := s.AssignRole(ctx, operator, "acme", "u1", "account", "agentx", seatkeeper.SourceManual); err != nil {
				t.Fatal(err)
			}
			if _, err := signIn(s, "u1", seatkeeper.KindWorkSession); err != nil {
				t.Fatal(err)
			}
			if _, err := signIn(s, "u0", seatkeeper.KindWorkSession); err != nil {
				t.Fatal(err)
			}
			if _, err := s.PutRole(ctx, operator, "acme", seatkeeper.CustomRole{Service: "account", Name: "agentx", Licenses: []string{"essentials"}}); err != nil {
				t.Fatal(err)
			}
			if signedIn(t, s, "u1") || !signedIn(t, s, "u0") {
				t.Errorf("signed in: u0 %v, u1 %v; want only u0, who holds the one place", signedIn(t, s, "u0"), signedIn(t, s, "u1"))
			}
		})
	})
}

// TestManyExpiredSessionsEndAtASignIn: after every server was down for
// longer than the timeout, a full pool holds more expired sessions of
// distinct users than one statement takes parameters (32,766 on SQLite,
// 65,535 on PostgreSQL, four a user); the sign-in that finds the pool full
// ends them all, frees their places, and is admitted.
func TestManyExpiredSessionsEndAtASignIn(t *testing.T) {
	sqlstoretest.Each(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		s := sqlstoretest.Open(t, dsn)
		c := newClock()
		s.Now = c.Now
		n := 9000
		if dsn != "" {
			n = 17000
		}
		poolAccount(t, s, n, 0, 1) // u0, a member, and room for n
		past := c.Now().Add(-time.Hour).UnixMicro()
		series := "WITH RECURSIVE g(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM g WHERE i < ?) "
		for _, q := range []struct {
			sql  string
			args []any
		}{
			{series + `INSERT INTO sessions (id, account, user_id, kind, pool, started_at, last_seen, expires_at, reap_at, timeout)
				SELECT 'ses_x' || i, 'acme', 'x' || i, 'portal', 'essentials', ?, ?, ?, ?, 1 FROM g`, []any{n, past, past, past, past}},
			{series + `INSERT INTO pool_users (account, license, user_id, presences) SELECT 'acme', 'essentials', 'x' || i, 1 FROM g`, []any{n}},
			{`UPDATE pools SET in_use = ? WHERE account = 'acme'`, []any{n}},
		} {
			if err := s.ExecForTest(ctx, q.sql, q.args...); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := signIn(s, "u0", seatkeeper.KindPortal); err != nil {
			t.Fatalf("sign-in into a pool full of %d expired sessions: %v", n, err)
		}
		pools, err := s.Pools(ctx, "acme")
		if err != nil || len(pools) != 1 || pools[0].InUse != 1 {
			t.Errorf("pools after the sign-in: %+v %v, want 1 in use", pools, err)
		}
	})
}

// TestR6_NewTimeoutAppliesFromTheNextHeartbeat: an account's new session
// timeout (and idle window) applies to sessions already live from their
// next heartbeat on; the expiry an earlier heartbeat gave stands.
func TestR6_NewTimeoutAppliesFromTheNextHeartbeat(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *sqlstore.Store) {
		ctx := context.Background()
		c := newClock()
		s.Now = c.Now
		poolAccount(t, s, 2, 0, 2)
		work, err := signIn(s, "u0", seatkeeper.KindWorkSession)
		if err != nil {
			t.Fatal(err)
		}
		portal, err := signIn(s, "u1", seatkeeper.KindPortal)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.PatchSettings(ctx, operator, "acme", []byte(`{"concurrent": {"session_timeout": "60s", "portal_idle_window": "2h"}}`)); err != nil {
			t.Fatal(err)
		}
		c.Add(10 * time.Second)
		beat := func(id string, want time.Time) {
			t.Helper()
			got, err := s.Heartbeat(ctx, "acme", id)
			if err != nil || !got.ExpiresAt.Equal(want) {
				t.Errorf("heartbeat of %s: expires_at %v (%v), want %v", id, got.ExpiresAt, err, want)
			}
		}
		beat(portal.ID, c.Now().Add(2*time.Hour)) // the new, longer window
		beat(work.ID, work.ExpiresAt)             // 60 s from now is before the expiry it has
		c.Add(150 * time.Second)
		beat(work.ID, c.Now().Add(60*time.Second)) // the new timeout
		c.Add(61 * time.Second)
		if _, err := s.Heartbeat(ctx, "acme", work.ID); code(err) != seatkeeper.ESessionEnded {
			t.Errorf("a heartbeat 61 s after the last, with a timeout of 60 s: %v, want session_ended", err)
		}
	})
}
