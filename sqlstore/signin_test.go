package sqlstore_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/seatkeeper/seatkeeper"
	"github.com/seatkeeper/seatkeeper/sqlstore"
	"github.com/seatkeeper/seatkeeper/sqlstore/sqlstoretest"
)

// TestR4_R5_BatchedSignIns: sign-ins are admitted a batch at a time. Many
// at once, through two stores on PostgreSQL, with users signing in several
// times over (R5), some of them concurrently, and idempotency keys sent
// again: the pool fills to exactly Q + A users and never beyond (R4), a
// user once in is never refused, every refusal is metered, and a repeated
// key answers the first session without starting another. Then everyone
// signs out, twice at once: each session ends once and the pool empties.
func TestR4_R5_BatchedSignIns(t *testing.T) {
	eachProcesses(t, func(t *testing.T, stores []*sqlstore.Store) {
		s := stores[0]
		const q, a, users = 15, 5, 60
		poolAccount(t, s, q, a, users)
		type result struct {
			user, key string
			id        string
			replayed  bool
			code      string
		}
		var (
			mu      sync.Mutex
			results []result
			wg      sync.WaitGroup
		)
		rng := rand.New(rand.NewPCG(4, 2))
		type attempt struct{ user, key, kind string }
		var attempts []attempt
		for range 240 {
			x := attempt{user: fmt.Sprintf("u%d", rng.IntN(users)), kind: []string{"work_session", "portal", "api"}[rng.IntN(3)]}
			if rng.IntN(3) == 0 {
				x.key = fmt.Sprintf("k%d", rng.IntN(40)) // keys come back, not always for the same request
			}
			attempts = append(attempts, x)
		}
		for i, x := range attempts {
			wg.Add(1)
			go func() {
				defer wg.Done()
				req := sqlstore.RequestHash(x.user, x.kind)
				sess, replayed, err := stores[i%len(stores)].StartSession(context.Background(), operator, "acme", x.user, x.kind, x.key, req)
				mu.Lock()
				defer mu.Unlock()
				results = append(results, result{x.user + "/" + x.kind, x.key, sess.ID, replayed, code(err)})
				switch code(err) {
				case "", seatkeeper.EPoolExhausted, seatkeeper.EConflict:
				default:
					t.Errorf("sign-in of %s: %v", x.user, err)
				}
			}()
		}
		wg.Wait()

		started, refused := map[string]bool{}, 0
		admitted := map[string]bool{} // users
		byKey := map[string]result{}
		for _, r := range results {
			u := userOf(r.user)
			switch r.code {
			case "":
				admitted[u] = true
				if !r.replayed {
					if started[r.id] {
						t.Errorf("session %s started twice", r.id)
					}
					started[r.id] = true
				}
				if r.key != "" {
					if first, ok := byKey[r.key]; ok && first.id != r.id {
						t.Errorf("key %s answered %s and %s", r.key, first.id, r.id)
					} else if !ok {
						byKey[r.key] = r
					}
				}
			case seatkeeper.EPoolExhausted:
				refused++
			}
		}
		if len(admitted) != q+a {
			t.Errorf("%d users admitted, want the pool's cap %d", len(admitted), q+a)
		}
		for _, r := range results {
			if r.code == seatkeeper.EPoolExhausted && admitted[userOf(r.user)] {
				// Refused while in would break R5; refused before getting
				// in is impossible once the pool is full, as it stays full.
				t.Errorf("%s was refused but is signed in", r.user)
			}
		}
		ctx := context.Background()
		live, _ := s.Sessions(ctx, "acme", "")
		if len(live) != len(started) {
			t.Errorf("%d live sessions, %d started", len(live), len(started))
		}
		pools, _ := s.Pools(ctx, "acme")
		if len(pools) != 1 || pools[0].InUse != q+a {
			t.Errorf("pools %+v, want %d in use", pools, q+a)
		}
		events, _ := s.UsageEvents(ctx, "acme", time.Now().Add(-time.Hour), time.Now().Add(time.Hour))
		denied := 0
		for _, e := range events {
			if e.Type == seatkeeper.EventPresenceDenied {
				denied++
			}
		}
		if denied != refused {
			t.Errorf("%d presence.denied events, %d refusals", denied, refused)
		}
		// A full pool refuses a newcomer and admits a member again.
		var out, in string
		for i := range users {
			if u := fmt.Sprintf("u%d", i); !admitted[u] && out == "" {
				out = u
			} else if admitted[u] && in == "" {
				in = u
			}
		}
		if _, err := signIn(s, out, "portal"); code(err) != seatkeeper.EPoolExhausted {
			t.Errorf("newcomer %s in a full pool: %v", out, err)
		}
		if _, err := signIn(s, in, "portal"); err != nil {
			t.Errorf("member %s in a full pool: %v", in, err)
		}

		// Everyone signs out, every session twice at once: one sign-out
		// ends it, the other is told it has ended; the pool empties.
		live, _ = s.Sessions(ctx, "acme", "")
		ends := map[string]int{}
		for i, x := range append(live, live...) {
			wg.Add(1)
			go func() {
				defer wg.Done()
				err := stores[i%len(stores)].EndSession(ctx, operator, "acme", x.ID)
				mu.Lock()
				defer mu.Unlock()
				switch code(err) {
				case "":
					ends[x.ID]++
				case seatkeeper.ESessionEnded:
				default:
					t.Errorf("sign-out of %s: %v", x.ID, err)
				}
			}()
		}
		wg.Wait()
		for _, x := range live {
			if ends[x.ID] != 1 {
				t.Errorf("session %s ended %d times", x.ID, ends[x.ID])
			}
		}
		if pools, _ := s.Pools(ctx, "acme"); pools[0].InUse != 0 {
			t.Errorf("%d in use after everyone signed out", pools[0].InUse)
		}
		events, _ = s.UsageEvents(ctx, "acme", time.Now().Add(-time.Hour), time.Now().Add(time.Hour))
		ended := 0
		for _, e := range events {
			if e.Type == seatkeeper.EventPresenceEnd {
				ended++
			}
		}
		if ended != len(live) {
			t.Errorf("%d presence.end events for %d sessions", ended, len(live))
		}
		// The places are free again: a newcomer gets in.
		if _, err := signIn(s, out, "portal"); err != nil {
			t.Errorf("newcomer %s in an empty pool: %v", out, err)
		}
	})
}

func userOf(userKind string) string {
	u, _, _ := strings.Cut(userKind, "/")
	return u
}

// TestIdempotencyKeyAcrossProcesses: one key sent at the same moment for
// two different requests, through two stores on PostgreSQL: one is
// answered, the other refused as a conflict — never an internal error.
func TestIdempotencyKeyAcrossProcesses(t *testing.T) {
	sqlstoretest.Each(t, func(t *testing.T, dsn string) {
		s := sqlstoretest.Open(t, dsn)
		poolAccount(t, s, 100, 0, 2)
		stores := []*sqlstore.Store{s, s}
		if dsn != "" {
			stores[1] = sqlstoretest.Open(t, dsn)
		}
		ctx := context.Background()
		for i := range 30 {
			key := fmt.Sprintf("k%d", i)
			codes := make([]string, 2)
			var wg sync.WaitGroup
			for j, user := range []string{"u0", "u1"} {
				wg.Add(1)
				go func() {
					defer wg.Done()
					_, _, err := stores[j].StartSession(ctx, operator, "acme", user, "portal", key, sqlstore.RequestHash(user, "portal"))
					codes[j] = code(err)
					if err != nil && codes[j] != seatkeeper.EConflict {
						t.Errorf("key %s, %s: %v", key, user, err)
					}
				}()
			}
			wg.Wait()
			if (codes[0] == "") == (codes[1] == "") {
				t.Errorf("key %s: answers %q and %q, want one session and one conflict", key, codes[0], codes[1])
			}
		}
	})
}

// TestSignInRefusalsAreEachOnesOwn: sign-ins batched together are
// answered each on its own: an account whose catalog this server does not
// have refuses its own users' sign-ins, not those of the accounts that
// came in the same batch.
func TestSignInRefusalsAreEachOnesOwn(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *sqlstore.Store) {
		ctx := context.Background()
		poolAccount(t, s, 1000, 0, 40)
		mustAccount(t, s, "broken", "contact-center")
		for i := range 40 {
			mustUser(t, s, "broken", fmt.Sprintf("b%d", i))
		}
		if err := s.ExecForTest(ctx, "UPDATE accounts SET catalog = 'gone', version = version + 1 WHERE id = 'broken'"); err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		for i := range 40 {
			wg.Add(2)
			go func() {
				defer wg.Done()
				if _, err := signIn(s, fmt.Sprintf("u%d", i), seatkeeper.KindPortal); err != nil {
					t.Errorf("u%d beside a broken account: %v", i, err)
				}
			}()
			go func() {
				defer wg.Done()
				_, _, err := s.StartSession(ctx, operator, "broken", fmt.Sprintf("b%d", i), seatkeeper.KindPortal, "", "")
				if code(err) != seatkeeper.EConflict {
					t.Errorf("b%d of an account without its catalog: %v, want conflict", i, err)
				}
			}()
		}
		wg.Wait()
	})
}

// TestGoneNeedsItsRead: a heartbeat or sign-out that ends nothing says why
// only if it could look; when it could not (the request was cancelled),
// it fails rather than pass for a success.
func TestGoneNeedsItsRead(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *sqlstore.Store) {
		poolAccount(t, s, 1, 0, 1)
		sess, err := signIn(s, "u0", seatkeeper.KindWorkSession)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.EndSession(context.Background(), operator, "acme", sess.ID); err != nil {
			t.Fatal(err)
		}
		if err := s.EndSession(context.Background(), operator, "acme", sess.ID); code(err) != seatkeeper.ESessionEnded {
			t.Errorf("second sign-out: %v, want session_ended", err)
		}
		if _, err := s.Heartbeat(context.Background(), "acme", "ses_nope"); code(err) != seatkeeper.ENotFound {
			t.Errorf("heartbeat of no session: %v, want not_found", err)
		}
		// Cancelled once queued: the batch runs, but the read behind the
		// answer cannot.
		for range 20 {
			ctx, cancel := context.WithCancel(context.Background())
			errs := make(chan error, 2)
			go func() {
				_, err := s.Heartbeat(ctx, "acme", "ses_nope")
				errs <- err
			}()
			go func() { errs <- s.EndSession(ctx, operator, "acme", "ses_nope") }()
			cancel()
			for range 2 {
				if err := <-errs; err == nil {
					t.Fatal("a sign-out or heartbeat of no session, cancelled, answered as a success")
				}
			}
		}
	})
}

// TestR6_HeartbeatNeverShortensASession: a heartbeat stamped earlier than
// one already written (it waited behind it, or came through a process
// whose clock is behind) leaves the later expiry in place.
func TestR6_HeartbeatNeverShortensASession(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *sqlstore.Store) {
		c := newClock()
		s.Now = c.Now
		poolAccount(t, s, 1, 0, 1)
		sess, err := signIn(s, "u0", seatkeeper.KindWorkSession)
		if err != nil {
			t.Fatal(err)
		}
		c.Add(60 * time.Second)
		later, err := s.Heartbeat(context.Background(), "acme", sess.ID)
		if err != nil {
			t.Fatal(err)
		}
		c.Add(-30 * time.Second)
		earlier, err := s.Heartbeat(context.Background(), "acme", sess.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !earlier.ExpiresAt.Equal(later.ExpiresAt) {
			t.Errorf("an earlier heartbeat moved expires_at from %v to %v", later.ExpiresAt, earlier.ExpiresAt)
		}
	})
}

// TestR4_SignInRoundsWithoutRoomRunOneByOne: when a round of sign-ins never
// finds room at its settlement (other processes fill the pool between its
// read and its settlement, every time), its sign-ins run one by one, each
// getting its own answer, instead of all being refused. A trigger stands
// in for the other processes: it refuses any take of more than one place.
func TestR4_SignInRoundsWithoutRoomRunOneByOne(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *sqlstore.Store) {
		ctx := context.Background()
		const n = 60
		poolAccount(t, s, 1000, 0, n)
		ddl := []string{`CREATE TRIGGER one_place BEFORE UPDATE ON pools WHEN NEW.in_use - OLD.in_use > 1
			BEGIN SELECT RAISE(IGNORE); END`}
		if s.Dialect() == "postgres" {
			ddl = []string{`CREATE FUNCTION one_place() RETURNS trigger AS $$
				BEGIN
					IF NEW.in_use - OLD.in_use > 1 THEN
						RETURN NULL;
					END IF;
					RETURN NEW;
				END $$ LANGUAGE plpgsql`,
				"CREATE TRIGGER one_place BEFORE UPDATE ON pools FOR EACH ROW EXECUTE FUNCTION one_place()"}
		}
		for _, q := range ddl {
			if err := s.ExecForTest(ctx, q); err != nil {
				t.Fatal(err)
			}
		}
		var wg sync.WaitGroup
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := signIn(s, fmt.Sprintf("u%d", i), seatkeeper.KindWorkSession); err != nil {
					t.Errorf("u%d: %v", i, err)
				}
			}()
		}
		wg.Wait()
		pools, err := s.Pools(ctx, "acme")
		if err != nil || len(pools) != 1 || pools[0].InUse != n {
			t.Errorf("pools = %+v (%v), want %d in use", pools, err, n)
		}
	})
}

// TestR4_RefusalAtTheSettlementIsMetered: a sign-in that found room when it
// read the pool, but whose place other processes took every time before it
// settled (a trigger stands in for them, taking nothing), is refused with
// pool_exhausted and metered like any refusal: a presence.denied event,
// which the report counts.
func TestR4_RefusalAtTheSettlementIsMetered(t *testing.T) {
	sqlstoretest.Each(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		s := sqlstoretest.Open(t, dsn)
		poolAccount(t, s, 10, 0, 1)
		trigger := []string{`CREATE TRIGGER no_take BEFORE UPDATE ON pools WHEN NEW.in_use > OLD.in_use BEGIN SELECT RAISE(IGNORE); END`}
		if dsn != "" {
			trigger = []string{
				`CREATE FUNCTION no_take() RETURNS trigger AS $$ BEGIN IF NEW.in_use > OLD.in_use THEN RETURN NULL; END IF; RETURN NEW; END $$ LANGUAGE plpgsql`,
				`CREATE TRIGGER no_take BEFORE UPDATE ON pools FOR EACH ROW EXECUTE FUNCTION no_take()`,
			}
		}
		for _, q := range trigger {
			if err := s.ExecForTest(ctx, q); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := signIn(s, "u0", seatkeeper.KindWorkSession); code(err) != seatkeeper.EPoolExhausted {
			t.Fatalf("sign-in: %v, want pool_exhausted", err)
		}
		events, err := s.UsageEvents(ctx, "acme", s.Now().Add(-time.Hour), s.Now().Add(time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		var denied, started int
		for _, e := range events {
			switch e.Type {
			case seatkeeper.EventPresenceDenied:
				denied++
			case seatkeeper.EventPresenceStart:
				started++
			}
		}
		if denied != 1 || started != 0 {
			t.Errorf("%d presence.denied and %d presence.start events, want 1 and 0", denied, started)
		}
	})
}

// TestR4_SessionStartsWhenTheLedgerSays: a session's started_at, in the
// answer, in the list of sessions and in a replay by its Idempotency-Key,
// is the time of its presence.start in the ledger, which is stamped when
// the pool's place is settled; and it expires its timeout after that.
func TestR4_SessionStartsWhenTheLedgerSays(t *testing.T) {
	eachProcesses(t, func(t *testing.T, stores []*sqlstore.Store) {
		ctx := context.Background()
		s := stores[0]
		mustAccount(t, s, "acme", "contact-center")
		mustSubscribe(t, s, "acme", "essentials", "concurrent", 100)
		from := time.Now().Add(-time.Minute)
		answers := signInAtOnce(t, stores, 40)
		events, err := s.UsageEvents(ctx, "acme", from, time.Now().Add(time.Minute))
		if err != nil {
			t.Fatal(err)
		}
		started := map[string]time.Time{}
		for _, e := range events {
			if e.Type == seatkeeper.EventPresenceStart {
				started[e.Session] = e.At
			}
		}
		live, err := s.Sessions(ctx, "acme", "")
		if err != nil {
			t.Fatal(err)
		}
		listed := map[string]seatkeeper.Session{}
		for _, x := range live {
			listed[x.ID] = x
		}
		for i, a := range answers {
			user := fmt.Sprintf("u%d", i)
			replay, _, err := stores[(i+1)%len(stores)].StartSession(ctx, operator, "acme", user, "work_session", "k-"+user, user)
			switch {
			case err != nil:
				t.Errorf("%s's replay: %v", user, err)
			case !a.StartedAt.Equal(started[a.ID]):
				t.Errorf("%s: started_at %v, the ledger's start %v", user, a.StartedAt, started[a.ID])
			case !listed[a.ID].StartedAt.Equal(a.StartedAt) || !listed[a.ID].ExpiresAt.Equal(a.ExpiresAt):
				t.Errorf("%s: answered %v–%v, listed %v–%v", user, a.StartedAt, a.ExpiresAt, listed[a.ID].StartedAt, listed[a.ID].ExpiresAt)
			case !replay.StartedAt.Equal(a.StartedAt) || replay.ID != a.ID:
				t.Errorf("%s: replayed %s at %v, answered %s at %v", user, replay.ID, replay.StartedAt, a.ID, a.StartedAt)
			case a.ExpiresAt.Sub(a.StartedAt) != 180*time.Second:
				t.Errorf("%s: lasts %v without heartbeats, want 180s", user, a.ExpiresAt.Sub(a.StartedAt))
			}
		}
	})
}
