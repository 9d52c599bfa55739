package httpapi_test

// Presence (SPEC §4.4) and rules R3–R6 through the HTTP API, on every
// store. Each test names its rule. Only what the API cannot show is read
// from the store: the ledger of a deleted account.

import (
	"context"
	"encoding/json"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/seatkeeper/seatkeeper"
)

// The default timeouts of a new account (SPEC §5, R5, R6).
const (
	defaultSessionTimeout = 180 * time.Second
	defaultIdleWindow     = 5 * time.Minute
)

// concurrentPool creates account acct on the contact-center catalog with a
// concurrent essentials subscription of the quantity and overage allowance,
// and n users prefix000… who are members of its pool (R2).
func (e *env) concurrentPool(acct string, quantity, allowance, n int, prefix string) []string {
	e.t.Helper()
	e.newAccount(acct, "contact-center")
	e.must(201, "PUT", "/v1/accounts/"+acct+"/subscriptions/essentials",
		map[string]any{"model": "concurrent", "quantity": quantity, "overage_allowance": allowance})
	users := e.newUsers(acct, prefix, n)
	for _, u := range users {
		e.must(201, "PUT", "/v1/accounts/"+acct+"/users/"+u+"/licenses/essentials", nil)
	}
	return users
}

// signIn posts a session for the user with the token (and headers).
func (e *env) signIn(token, acct, user, kind string, headers ...string) resp {
	e.t.Helper()
	return e.do(token, "POST", "/v1/accounts/"+acct+"/sessions", map[string]string{"user": user, "kind": kind}, headers...)
}

// startSession signs the user in as the operator, failing unless 201, and
// returns the session.
func (e *env) startSession(acct, user, kind string) seatkeeper.Session {
	e.t.Helper()
	r := e.signIn(e.Operator, acct, user, kind)
	if r.Status != 201 {
		e.t.Fatalf("sign in %s (%s): status %d, want 201: %s", user, kind, r.Status, r.Body)
	}
	var s seatkeeper.Session
	r.JSON(e.t, &s)
	if !strings.HasPrefix(s.ID, "ses_") || s.User != user || s.Kind != kind {
		e.t.Fatalf("sign in %s (%s): answer %s", user, kind, r.Body)
	}
	return s
}

// liveSessions lists the live sessions of a user ("" for all).
func (e *env) liveSessions(acct, user string) []seatkeeper.Session {
	e.t.Helper()
	var body struct {
		Items []seatkeeper.Session `json:"items"`
	}
	e.must(200, "GET", "/v1/accounts/"+acct+"/sessions?user="+user, nil).JSON(e.t, &body)
	if body.Items == nil {
		e.t.Fatalf("sessions of %q: no items list", user)
	}
	return body.Items
}

func sessionIDs(ss []seatkeeper.Session) []string {
	var out []string
	for _, s := range ss {
		out = append(out, s.ID)
	}
	slices.Sort(out)
	return out
}

// pool returns one pool as GET /pools shows it, failing if it is missing.
func (e *env) pool(acct, license string) seatkeeper.Pool {
	e.t.Helper()
	var body struct {
		Items []seatkeeper.Pool `json:"items"`
	}
	e.must(200, "GET", "/v1/accounts/"+acct+"/pools", nil).JSON(e.t, &body)
	for _, p := range body.Items {
		if p.License == license {
			return p
		}
	}
	e.t.Fatalf("no pool %s in %s", license, acct)
	return seatkeeper.Pool{}
}

func (e *env) inUse(acct, license string) int {
	e.t.Helper()
	return e.pool(acct, license).InUse
}

// poolExhausted checks a 409 pool_exhausted answer and its extra members.
func poolExhausted(t testing.TB, r resp, inUse, limit int, license string) {
	t.Helper()
	wantProblem(t, r, 409, "pool_exhausted")
	var extra struct {
		InUse   *int   `json:"in_use"`
		Cap     *int   `json:"cap"`
		License string `json:"license"`
	}
	r.JSON(t, &extra)
	if extra.InUse == nil || *extra.InUse != inUse || extra.Cap == nil || *extra.Cap != limit || extra.License != license {
		t.Errorf("pool_exhausted body %s, want in_use %d, cap %d, license %s", r.Body, inUse, limit, license)
	}
}

func intIs(p *int, want int) bool { return p != nil && *p == want }

// intText shows an optional number: its value, or "absent".
func intText(p *int) string {
	if p == nil {
		return "absent"
	}
	return strconv.Itoa(*p)
}

// R4: a concurrent pool of quantity Q and allowance A admits Q + A
// distinct users; the next one gets pool_exhausted with in_use and cap; a
// signed-in user adds presences freely; ending a session frees a place.
func TestAPI_R4_PoolCap(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		users := e.concurrentPool("acme", 2, 1, 5, "p")
		sessions := map[string]seatkeeper.Session{}

		t.Run("q_plus_a_sign_in", func(t *testing.T) {
			e := e.withT(t)
			for i, u := range users[:3] {
				r := e.signIn(e.Operator, "acme", u, "work_session")
				if r.Status != 201 {
					t.Fatalf("sign in %s: status %d, want 201: %s", u, r.Status, r.Body)
				}
				if h := r.Header.Get("Idempotent-Replayed"); h != "" {
					t.Errorf("a first answer says Idempotent-Replayed: %q", h)
				}
				var s seatkeeper.Session
				r.JSON(t, &s)
				if !intIs(s.InUse, i+1) || !intIs(s.Cap, 3) || !intIs(s.Overage, max(0, i+1-2)) {
					t.Errorf("sign in %s: in_use/cap/overage %s, want %d/3/%d", u, r.Body, i+1, max(0, i+1-2))
				}
				if s.Pool != "essentials" || s.User != u || s.Kind != "work_session" || !strings.HasPrefix(s.ID, "ses_") {
					t.Errorf("sign in %s: %s", u, r.Body)
				}
				if got := s.ExpiresAt.Sub(s.StartedAt); got != defaultSessionTimeout {
					t.Errorf("a work session lasts %v without heartbeat, want %v (R6)", got, defaultSessionTimeout)
				}
				sessions[u] = s
			}
		})
		t.Run("next_user_refused", func(t *testing.T) {
			e := e.withT(t)
			before := e.state("acme")
			for _, kind := range []string{"work_session", "portal", "api"} {
				poolExhausted(t, e.signIn(e.Operator, "acme", users[3], kind), 3, 3, "essentials")
			}
			e.sameState("acme", before)
		})
		t.Run("signed_in_user_adds_presence", func(t *testing.T) {
			e := e.withT(t)
			r := e.mustAs(e.Operator, 201, "POST", "/v1/accounts/acme/sessions", map[string]string{"user": users[0], "kind": "portal"})
			var s seatkeeper.Session
			r.JSON(t, &s)
			if !intIs(s.InUse, 3) || !intIs(s.Cap, 3) || !intIs(s.Overage, 1) || s.Pool != "essentials" {
				t.Errorf("second presence of a signed-in user: %s, want in_use 3, cap 3, overage 1", r.Body)
			}
			if got := s.ExpiresAt.Sub(s.StartedAt); got != defaultIdleWindow {
				t.Errorf("portal presence lasts %v, want the idle window %v (R5)", got, defaultIdleWindow)
			}
			if got := len(e.liveSessions("acme", users[0])); got != 2 {
				t.Errorf("%s has %d live sessions, want 2", users[0], got)
			}
		})
		t.Run("pools", func(t *testing.T) {
			e := e.withT(t)
			got := e.pool("acme", "essentials")
			want := seatkeeper.Pool{License: "essentials", Quantity: 2, Allowance: 1, InUse: 3, Cap: 3, Members: 5}
			if got != want {
				t.Errorf("pool %+v, want %+v", got, want)
			}
		})
		t.Run("delete_frees_a_place", func(t *testing.T) {
			e := e.withT(t)
			r := e.must(204, "DELETE", "/v1/accounts/acme/sessions/"+sessions[users[1]].ID, nil)
			if len(r.Body) != 0 {
				t.Errorf("204 with a body: %q", r.Body)
			}
			if got := e.inUse("acme", "essentials"); got != 2 {
				t.Errorf("in_use after sign-out = %d, want 2", got)
			}
			if ids := sessionIDs(e.liveSessions("acme", users[1])); len(ids) != 0 {
				t.Errorf("%s still has live sessions %v", users[1], ids)
			}
			var s seatkeeper.Session
			e.mustAs(e.Operator, 201, "POST", "/v1/accounts/acme/sessions", map[string]string{"user": users[3], "kind": "work_session"}).JSON(t, &s)
			if !intIs(s.InUse, 3) || !intIs(s.Overage, 1) {
				t.Errorf("sign in into the freed place: in_use %v overage %v, want 3 and 1", s.InUse, s.Overage)
			}
			poolExhausted(t, e.signIn(e.Operator, "acme", users[4], "work_session"), 3, 3, "essentials")
		})
		t.Run("ended_session", func(t *testing.T) {
			// Signing out again answers 204 as SPEC §4.4 lists, and changes
			// nothing: the ledger keeps the one end; a heartbeat is told
			// session_ended.
			e := e.withT(t)
			id := sessions[users[1]].ID
			before := e.state("acme")
			ledger := func() []seatkeeper.UsageEvent {
				events, err := e.Store.UsageEvents(context.Background(), "acme", time.Now().Add(-time.Hour), time.Now().Add(time.Hour))
				if err != nil {
					t.Fatal(err)
				}
				return events
			}
			events := ledger()
			ends := 0
			for _, ev := range events {
				if ev.Type == seatkeeper.EventPresenceEnd && ev.Session == id {
					ends++
				}
			}
			if ends != 1 {
				t.Fatalf("the ledger has %d ends of %s before the repeat, want 1", ends, id)
			}
			e.must(204, "DELETE", "/v1/accounts/acme/sessions/"+id, nil)
			wantProblem(t, e.do(e.Operator, "POST", "/v1/accounts/acme/sessions/"+id+"/heartbeat", nil), 404, "session_ended")
			e.sameState("acme", before)
			if after := ledger(); !reflect.DeepEqual(after, events) {
				t.Errorf("the ledger changed: %d events before, %d after", len(events), len(after))
			}
		})
		t.Run("unknown_session_is_not_found", func(t *testing.T) {
			e := e.withT(t)
			before := e.state("acme")
			for _, id := range []string{"ses_00000000000000000000", "nope"} {
				wantProblem(t, e.do(e.Operator, "POST", "/v1/accounts/acme/sessions/"+id+"/heartbeat", nil), 404, "not_found")
				wantProblem(t, e.do(e.Operator, "DELETE", "/v1/accounts/acme/sessions/"+id, nil), 404, "not_found")
			}
			e.sameState("acme", before)
		})
	})
}

// R4: the cap holds under concurrency: 24 members signing in at once to a
// pool of cap 3 succeed exactly 3 times, and every refusal says the pool is
// full: in_use equal to the cap, as counted in the refusing transaction
// (a regression: the count was once read outside it, and a refusal in a
// batch of parallel sign-ins reported fewer users than the cap).
// R2, R4: a pool of quantity 0 is still a pool: its members are
// unlimited, it admits its overage allowance, and one of no allowance
// either refuses every sign-in with pool_exhausted. A live pool may be
// reduced to quantity 0: its members stay members.
func TestAPI_R4_PoolOfNoQuantity(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		users := e.concurrentPool("acme", 0, 2, 4, "z") // every assignment 201
		for _, u := range users[:2] {
			e.startSession("acme", u, "work_session")
		}
		poolExhausted(t, e.signIn(e.Operator, "acme", users[2], "work_session"), 2, 2, "essentials")
		if r := e.must(200, "GET", "/v1/accounts/acme/users/"+users[0]+"/check?feature=channel.voice", nil); !strings.Contains(string(r.Body), `"allowed":true`) {
			t.Errorf("a signed-in member of a pool of quantity 0: %s, want allowed", r.Body)
		}
		var pools struct{ Items []seatkeeper.Pool }
		e.must(200, "GET", "/v1/accounts/acme/pools", nil).JSON(t, &pools)
		if len(pools.Items) != 1 || pools.Items[0].Quantity != 0 || pools.Items[0].Cap != 2 || pools.Items[0].InUse != 2 {
			t.Errorf("pools: %+v, want quantity 0, cap 2, in_use 2", pools.Items)
		}

		// Another account's live pool of 3 reduced to 0, without allowance.
		members := e.concurrentPool("beta", 3, 0, 3, "b")
		e.startSession("beta", members[0], "work_session")
		e.must(200, "PUT", "/v1/accounts/beta/subscriptions/essentials", map[string]any{"model": "concurrent", "quantity": 0})
		e.must(200, "PUT", "/v1/accounts/beta/users/"+members[1]+"/licenses/essentials", nil) // still a member
		poolExhausted(t, e.signIn(e.Operator, "beta", members[1], "work_session"), 1, 0, "essentials")
		e.must(201, "PUT", "/v1/accounts/beta/users/"+e.newUsers("beta", "c", 1)[0]+"/licenses/essentials", nil)
	})
}

func TestAPI_R4_ParallelSignIns(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		users := e.concurrentPool("acme", 2, 1, 24, "c")
		for round, kind := range []string{"work_session", "api"} {
			rs := parallel(t, e, len(users), func(i int) (string, string, any) {
				return "POST", "/v1/accounts/acme/sessions", map[string]string{"user": users[i], "kind": kind}
			})
			count := statuses(rs)
			if round == 0 && (count[201] != 3 || count[409] != 21) {
				t.Errorf("statuses %v, want 3 × 201 and 21 × 409", count)
			}
			// Second round: the three signed in add presences freely (R5),
			// the others are refused again.
			if round == 1 && (count[201] != 3 || count[409] != 21) {
				t.Errorf("second round: statuses %v, want 3 × 201 and 21 × 409", count)
			}
			var answered []int
			for _, r := range rs {
				switch r.Status {
				case 409:
					poolExhausted(t, r, 3, 3, "essentials")
				case 201:
					var s seatkeeper.Session
					r.JSON(t, &s)
					if s.InUse != nil {
						answered = append(answered, *s.InUse)
					}
				}
			}
			slices.Sort(answered)
			want := []int{1, 2, 3} // each admitted user was told the count they made
			if round == 1 {
				want = []int{3, 3, 3}
			}
			if !slices.Equal(answered, want) {
				t.Errorf("round %d: in_use in the 201 answers %v, want %v", round, answered, want)
			}
			if got := e.inUse("acme", "essentials"); got != 3 {
				t.Errorf("in_use = %d, want 3", got)
			}
		}
		signedIn := map[string]bool{}
		for _, s := range e.liveSessions("acme", "") {
			signedIn[s.User] = true
		}
		if len(signedIn) != 3 {
			t.Errorf("%d distinct users have live sessions, want 3", len(signedIn))
		}
	})
}

// R4: a user whose plan is concurrent has its features only while signed
// in (not_signed_in otherwise), and the decision follows sign-in and
// sign-out at once; a user of a named plan needs no presence.
func TestAPI_R4_DecisionsNeedPresence(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		e.concurrentPool("acme", 2, 0, 1, "agent")
		agent := "agent000"
		e.subscribe("acme", "premium", "named", 2)
		e.newUser("acme", "named")
		e.must(201, "PUT", "/v1/accounts/acme/users/named/licenses/premium", nil)
		reader := e.token("acme", "reader")
		want := func(t *testing.T, user, code string) {
			t.Helper()
			d := e.withT(t).check(reader, "acme", user, "feature=channel.voice")
			if d.Code != code || d.Allowed != (code == "ok") {
				t.Errorf("check %s channel.voice: %+v, want %s", user, d, code)
			}
		}
		signedIn := func(t *testing.T, user string) bool {
			t.Helper()
			var a struct {
				SignedIn bool `json:"signed_in"`
			}
			e.withT(t).mustAs(reader, 200, "GET", "/v1/accounts/acme/users/"+user+"/access", nil).JSON(t, &a)
			return a.SignedIn
		}

		t.Run("before_sign_in", func(t *testing.T) {
			want(t, agent, "not_signed_in")
			if signedIn(t, agent) {
				t.Errorf("access says signed in before any session")
			}
		})
		var work, portal seatkeeper.Session
		t.Run("after_sign_in", func(t *testing.T) {
			work = e.withT(t).startSession("acme", agent, "work_session")
			want(t, agent, "ok")
			if !signedIn(t, agent) {
				t.Errorf("access says not signed in during a session")
			}
		})
		t.Run("after_sign_out", func(t *testing.T) {
			e.withT(t).must(204, "DELETE", "/v1/accounts/acme/sessions/"+work.ID, nil)
			want(t, agent, "not_signed_in")
			if signedIn(t, agent) {
				t.Errorf("access says signed in after the only session ended")
			}
		})
		t.Run("one_of_two_presences_ends", func(t *testing.T) {
			e := e.withT(t)
			work = e.startSession("acme", agent, "work_session")
			portal = e.startSession("acme", agent, "portal")
			e.must(204, "DELETE", "/v1/accounts/acme/sessions/"+work.ID, nil)
			want(t, agent, "ok")
			e.must(204, "DELETE", "/v1/accounts/acme/sessions/"+portal.ID, nil)
			want(t, agent, "not_signed_in")
		})
		t.Run("named_plan_needs_no_presence", func(t *testing.T) {
			if got := e.withT(t).liveSessions("acme", "named"); len(got) != 0 {
				t.Fatalf("named user has sessions %v", got)
			}
			want(t, "named", "ok")
		})
	})
}

// R5: a user counts once in the pool, whatever their presences: a work
// session, portal and API activity together take one place.
func TestAPI_R5_OneCountPerUser(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		users := e.concurrentPool("acme", 2, 0, 3, "m")
		multi := users[0]
		var mine []seatkeeper.Session
		for _, kind := range []string{"work_session", "portal", "api"} {
			var s seatkeeper.Session
			r := e.mustAs(e.Operator, 201, "POST", "/v1/accounts/acme/sessions", map[string]string{"user": multi, "kind": kind})
			r.JSON(t, &s)
			if !intIs(s.InUse, 1) {
				t.Errorf("%s presence of one user: in_use %v, want 1: %s", kind, s.InUse, r.Body)
			}
			mine = append(mine, s)
		}
		if got := e.pool("acme", "essentials"); got.InUse != 1 || got.Cap != 2 {
			t.Errorf("pool %+v, want in_use 1 of cap 2", got)
		}
		kinds := map[string]bool{}
		for _, s := range e.liveSessions("acme", multi) {
			kinds[s.Kind] = true
		}
		if len(kinds) != 3 {
			t.Errorf("live kinds %v, want work_session, portal and api", kinds)
		}
		// One place is left, not zero: the three presences took one.
		e.startSession("acme", users[1], "portal")
		if got := e.inUse("acme", "essentials"); got != 2 {
			t.Errorf("in_use = %d, want 2", got)
		}
		poolExhausted(t, e.signIn(e.Operator, "acme", users[2], "api"), 2, 2, "essentials")
		// The place is kept while any presence is live, freed with the last.
		for i, s := range mine {
			e.must(204, "DELETE", "/v1/accounts/acme/sessions/"+s.ID, nil)
			want := 2
			if i == len(mine)-1 {
				want = 1
			}
			if got := e.inUse("acme", "essentials"); got != want {
				t.Errorf("after ending %s: in_use = %d, want %d", s.Kind, got, want)
			}
		}
		e.startSession("acme", users[2], "api")
	})
}

// R3: deactivating a signed-in user ends their presences and frees their
// place; an inactive user cannot sign in; deleting a user ends theirs too.
func TestAPI_R3_DeactivationEndsSessions(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		e.concurrentPool("acme", 1, 0, 0, "")
		for _, u := range []string{"ann", "bob"} {
			e.newUser("acme", u)
			e.must(201, "PUT", "/v1/accounts/acme/users/"+u+"/licenses/essentials", nil)
		}
		work := e.startSession("acme", "ann", "work_session")
		portal := e.startSession("acme", "ann", "portal")
		poolExhausted(t, e.signIn(e.Operator, "acme", "bob", "work_session"), 1, 1, "essentials")

		var u seatkeeper.User
		e.must(200, "PUT", "/v1/accounts/acme/users/ann", map[string]any{"active": false}).JSON(t, &u)
		if u.Active {
			t.Fatalf("answer says active")
		}
		if got := e.liveSessions("acme", "ann"); len(got) != 0 {
			t.Errorf("deactivated user's live sessions: %v, want none", sessionIDs(got))
		}
		if got := e.inUse("acme", "essentials"); got != 0 {
			t.Errorf("in_use = %d after deactivation, want 0", got)
		}
		for _, s := range []seatkeeper.Session{work, portal} {
			wantProblem(t, e.do(e.Operator, "POST", "/v1/accounts/acme/sessions/"+s.ID+"/heartbeat", nil), 404, "session_ended")
		}
		if d := e.check(e.Operator, "acme", "ann", "feature=channel.voice"); d.Allowed || d.Code != "user_inactive" {
			t.Errorf("decision %+v, want user_inactive", d)
		}
		before := e.state("acme")
		wantProblem(t, e.signIn(e.Operator, "acme", "ann", "work_session"), 422, "user_inactive")
		e.sameState("acme", before)
		// ann's place is free again.
		e.startSession("acme", "bob", "work_session")
		// Deleting a signed-in user ends their presences too.
		e.must(204, "DELETE", "/v1/accounts/acme/users/bob", nil)
		if got := e.liveSessions("acme", "bob"); len(got) != 0 {
			t.Errorf("deleted user's live sessions: %v, want none", sessionIDs(got))
		}
		if got := e.inUse("acme", "essentials"); got != 0 {
			t.Errorf("in_use = %d after deleting the user, want 0", got)
		}
	})
}

// R6: administrators may end a user's sessions (DELETE
// …/users/{user}/sessions, permission account.users.manage); readers and
// acting users without the permission may not, and change nothing.
func TestAPI_R6_EndUserSessions(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		e.concurrentPool("acme", 3, 0, 0, "")
		e.newUser("acme", "agent")
		e.must(201, "PUT", "/v1/accounts/acme/users/agent/licenses/essentials", nil)
		e.newUser("acme", "plain") // no account role
		e.newUser("acme", "boss")
		e.grantRole("acme", "boss", "account", "admin")
		admin, reader, app := e.token("acme", "admin"), e.token("acme", "reader"), e.token("acme", "app")
		ids := sessionIDs([]seatkeeper.Session{e.startSession("acme", "agent", "work_session"), e.startSession("acme", "agent", "api")})
		path := "/v1/accounts/acme/users/agent/sessions"

		t.Run("refused", func(t *testing.T) {
			e := e.withT(t)
			before := e.state("acme")
			wantProblem(t, e.do(reader, "DELETE", path, nil), 403, "forbidden")
			wantProblem(t, e.do(reader, "DELETE", path, nil, "Seatkeeper-Acting-User: boss"), 403, "forbidden")
			wantProblem(t, e.do(app, "DELETE", path, nil), 403, "forbidden")
			wantProblem(t, e.do(app, "DELETE", path, nil, "Seatkeeper-Acting-User: plain"), 403, "forbidden")
			wantProblem(t, e.do(app, "DELETE", path, nil, "Seatkeeper-Acting-User: agent"), 403, "forbidden")
			e.sameState("acme", before)
			if got := sessionIDs(e.liveSessions("acme", "agent")); !slices.Equal(got, ids) {
				t.Errorf("live sessions %v, want %v", got, ids)
			}
		})
		t.Run("admin_ends_all", func(t *testing.T) {
			e := e.withT(t)
			var out map[string]int
			e.mustAs(admin, 200, "DELETE", path, nil).JSON(t, &out)
			if len(out) != 1 || out["ended"] != 2 {
				t.Errorf("answer %v, want {\"ended\": 2}", out)
			}
			if got := e.liveSessions("acme", "agent"); len(got) != 0 {
				t.Errorf("live sessions after ending them: %v", sessionIDs(got))
			}
			if got := e.inUse("acme", "essentials"); got != 0 {
				t.Errorf("in_use = %d, want 0", got)
			}
			for _, id := range ids {
				wantProblem(t, e.do(app, "POST", "/v1/accounts/acme/sessions/"+id+"/heartbeat", nil), 404, "session_ended")
			}
			if d := e.check(reader, "acme", "agent", "feature=channel.voice"); d.Code != "not_signed_in" {
				t.Errorf("decision after the sessions ended: %+v, want not_signed_in", d)
			}
			found := false
			for _, a := range e.auditRecords("acme") {
				found = found || (a.Action == "sessions.end" && a.Target == "agent" && a.TokenKind == "admin")
			}
			if !found {
				t.Errorf("no sessions.end audit record for agent")
			}
		})
		t.Run("again_ends_none", func(t *testing.T) {
			e := e.withT(t)
			var out map[string]int
			e.mustAs(admin, 200, "DELETE", path, nil).JSON(t, &out)
			if out["ended"] != 0 {
				t.Errorf("answer %v, want {\"ended\": 0}", out)
			}
		})
		t.Run("app_acting_admin", func(t *testing.T) {
			e := e.withT(t)
			e.startSession("acme", "agent", "portal")
			var out map[string]int
			e.mustAs(app, 200, "DELETE", path, nil, "Seatkeeper-Acting-User: boss").JSON(t, &out)
			if out["ended"] != 1 {
				t.Errorf("answer %v, want {\"ended\": 1}", out)
			}
			if got := e.liveSessions("acme", "agent"); len(got) != 0 {
				t.Errorf("live sessions: %v", sessionIDs(got))
			}
		})
	})
}

// R6: a heartbeat extends a live session to this heartbeat + its timeout;
// the per-account session timeout and idle window apply to new sessions.
func TestAPI_R6_Heartbeat(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		users := e.concurrentPool("acme", 2, 0, 1, "h")
		app := e.token("acme", "app")
		s := e.startSession("acme", users[0], "work_session")
		time.Sleep(5 * time.Millisecond)
		r := e.mustAs(app, 200, "POST", "/v1/accounts/acme/sessions/"+s.ID+"/heartbeat", nil)
		var hb seatkeeper.Session
		r.JSON(t, &hb)
		if hb.ID != s.ID || hb.User != s.User || hb.Kind != s.Kind || hb.Pool != "essentials" || !hb.StartedAt.Equal(s.StartedAt) {
			t.Errorf("heartbeat answer %s, want session %+v", r.Body, s)
		}
		if !hb.ExpiresAt.After(s.ExpiresAt) {
			t.Errorf("expires_at %v after the heartbeat, want later than %v", hb.ExpiresAt, s.ExpiresAt)
		}
		if lim := time.Now().Add(defaultSessionTimeout); hb.ExpiresAt.After(lim) {
			t.Errorf("expires_at %v, later than now + timeout %v", hb.ExpiresAt, lim)
		}
		if live := e.liveSessions("acme", users[0]); len(live) != 1 || !live[0].ExpiresAt.Equal(hb.ExpiresAt) {
			t.Errorf("listed %+v, want expires_at %v", live, hb.ExpiresAt)
		}

		e.must(200, "PATCH", "/v1/accounts/acme/settings", map[string]any{"concurrent": map[string]any{"session_timeout": "90s", "portal_idle_window": "2m"}})
		for kind, want := range map[string]time.Duration{"work_session": 90 * time.Second, "portal": 2 * time.Minute, "api": 2 * time.Minute} {
			n := e.startSession("acme", users[0], kind)
			if got := n.ExpiresAt.Sub(n.StartedAt); got != want {
				t.Errorf("%s after the settings change lasts %v, want %v", kind, got, want)
			}
		}
	})
}

// Idempotency-Key: a repeat of the same request gets the first session
// (201, Idempotent-Replayed: true) and creates nothing; the same key with
// another request is a conflict.
func TestAPI_IdempotentSessionStart(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		users := e.concurrentPool("acme", 2, 0, 3, "i")
		app := e.token("acme", "app")
		body := map[string]string{"user": users[0], "kind": "work_session"}

		first := e.mustAs(app, 201, "POST", "/v1/accounts/acme/sessions", body, "Idempotency-Key: shift-42")
		if h := first.Header.Get("Idempotent-Replayed"); h != "" {
			t.Errorf("first answer with Idempotent-Replayed: %q", h)
		}
		var s seatkeeper.Session
		first.JSON(t, &s)

		t.Run("same_request_replayed", func(t *testing.T) {
			e := e.withT(t)
			before := e.state("acme")
			for range 2 {
				r := e.mustAs(app, 201, "POST", "/v1/accounts/acme/sessions", body, "Idempotency-Key: shift-42")
				if h := r.Header.Get("Idempotent-Replayed"); h != "true" {
					t.Errorf("replay: Idempotent-Replayed %q, want true", h)
				}
				var again seatkeeper.Session
				r.JSON(t, &again)
				if again.ID != s.ID || string(r.Body) != string(first.Body) {
					t.Errorf("replay answered %s, want %s", r.Body, first.Body)
				}
			}
			e.sameState("acme", before)
		})
		t.Run("other_request_conflict", func(t *testing.T) {
			e := e.withT(t)
			before := e.state("acme")
			for _, other := range []map[string]string{
				{"user": users[0], "kind": "portal"},
				{"user": users[1], "kind": "work_session"},
			} {
				r := e.do(app, "POST", "/v1/accounts/acme/sessions", other, "Idempotency-Key: shift-42")
				wantProblem(t, r, 409, "conflict")
				if r.Header.Get("Idempotent-Replayed") != "" {
					t.Errorf("a conflict says Idempotent-Replayed")
				}
			}
			e.sameState("acme", before)
		})
		t.Run("one_live_session", func(t *testing.T) {
			e := e.withT(t)
			if got := sessionIDs(e.liveSessions("acme", "")); !slices.Equal(got, []string{s.ID}) {
				t.Errorf("live sessions %v, want only %s", got, s.ID)
			}
			if got := e.inUse("acme", "essentials"); got != 1 {
				t.Errorf("in_use = %d, want 1", got)
			}
		})
		t.Run("another_key_is_another_request", func(t *testing.T) {
			e := e.withT(t)
			var n seatkeeper.Session
			r := e.mustAs(app, 201, "POST", "/v1/accounts/acme/sessions", body, "Idempotency-Key: shift-43")
			r.JSON(t, &n)
			if n.ID == s.ID || r.Header.Get("Idempotent-Replayed") != "" {
				t.Errorf("a new key replayed: %s", r.Body)
			}
			if got := len(e.liveSessions("acme", users[0])); got != 2 {
				t.Errorf("%d live sessions, want 2", got)
			}
		})
		t.Run("parallel_repeats", func(t *testing.T) {
			e := e.withT(t)
			const n = 10
			out := make([]resp, n)
			errs := make([]error, n)
			var wg sync.WaitGroup
			for i := range n {
				wg.Go(func() {
					out[i], errs[i] = rawDo(e.URL, app, "POST", "/v1/accounts/acme/sessions",
						map[string]string{"user": users[2], "kind": "api"}, "Idempotency-Key: burst")
				})
			}
			wg.Wait()
			ids, fresh := map[string]bool{}, 0
			for i, r := range out {
				if errs[i] != nil {
					t.Fatal(errs[i])
				}
				if r.Status != 201 {
					t.Errorf("status %d, want 201: %s", r.Status, r.Body)
					continue
				}
				var x seatkeeper.Session
				r.JSON(t, &x)
				ids[x.ID] = true
				if r.Header.Get("Idempotent-Replayed") == "" {
					fresh++
				}
			}
			if len(ids) != 1 || fresh != 1 {
				t.Errorf("%d distinct sessions and %d first answers, want 1 and 1", len(ids), fresh)
			}
			if got := len(e.liveSessions("acme", users[2])); got != 1 {
				t.Errorf("%d live sessions, want 1", got)
			}
		})
	})
}

// Bad input to the presence routes (SPEC §4.8): 4xx problem+json with the
// right code, and nothing written.
func TestAPI_PresenceBadInput(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		users := e.concurrentPool("acme", 2, 0, 2, "b")
		e.must(200, "PUT", "/v1/accounts/acme/users/"+users[1], map[string]any{"active": false})
		sessions := "/v1/accounts/acme/sessions"
		for _, c := range []struct {
			name, body string
			headers    []string
			status     int
			code       string
			field      string // named in errors[]
			detail     string // named in the detail
		}{
			{"unknown_kind", `{"user":"b000","kind":"desktop"}`, nil, 400, "invalid_request", "kind", ""},
			{"missing_kind", `{"user":"b000"}`, nil, 400, "invalid_request", "kind", ""},
			{"bad_user_id", `{"user":"b 000","kind":"api"}`, nil, 400, "invalid_request", "user", ""},
			{"missing_user", `{"kind":"api"}`, nil, 400, "invalid_request", "user", ""},
			{"empty_body", ``, nil, 400, "invalid_request", "user", ""},
			{"unknown_field", `{"user":"b000","kind":"api","device":"x"}`, nil, 400, "invalid_request", "", "device"},
			{"case_variant_field", `{"User":"b000","kind":"api"}`, nil, 400, "invalid_request", "", "User"},
			{"wrong_type", `{"user":7,"kind":"api"}`, nil, 400, "invalid_request", "", "user"},
			{"trailing_data", `{"user":"b000","kind":"api"} {}`, nil, 400, "invalid_request", "", ""},
			{"not_an_object", `["b000"]`, nil, 400, "invalid_request", "", ""},
			{"long_idempotency_key", `{"user":"b000","kind":"api"}`, []string{"Idempotency-Key: " + strings.Repeat("k", 256)}, 400, "invalid_request", "", "Idempotency-Key"},
			{"control_char_idempotency_key", `{"user":"b000","kind":"api"}`, []string{"Idempotency-Key: a\tb"}, 400, "invalid_request", "", "Idempotency-Key"},
			{"unknown_user", `{"user":"ghost","kind":"api"}`, nil, 404, "not_found", "", "ghost"},
			{"inactive_user", `{"user":"b001","kind":"work_session"}`, nil, 422, "user_inactive", "", ""},
			{"too_large", `{"user":"b000","kind":"api","pad":"` + strings.Repeat("x", 1<<20) + `"}`, nil, 413, "payload_too_large", "", ""},
		} {
			t.Run(c.name, func(t *testing.T) {
				noChange(t, e, func(e *env) {
					p := wantProblem(t, e.do(e.Operator, "POST", sessions, c.body, c.headers...), c.status, c.code)
					if c.field != "" && !hasField(p, c.field) {
						t.Errorf("errors %+v do not name %q", p.Errors, c.field)
					}
					if c.detail != "" && !strings.Contains(p.Detail, c.detail) {
						t.Errorf("detail %q does not name %q", p.Detail, c.detail)
					}
				})
			})
		}
		t.Run("path_and_query", func(t *testing.T) {
			noChange(t, e, func(e *env) {
				p := wantProblem(t, e.do(e.Operator, "POST", sessions+"/bad%20id/heartbeat", nil), 400, "invalid_request")
				if !hasField(p, "id") {
					t.Errorf("errors %+v do not name id", p.Errors)
				}
				wantProblem(t, e.do(e.Operator, "DELETE", sessions+"/bad%20id", nil), 400, "invalid_request")
				wantProblem(t, e.do(e.Operator, "DELETE", "/v1/accounts/acme/users/bad%20id/sessions", nil), 400, "invalid_request")
				wantProblem(t, e.do(e.Operator, "GET", sessions+"?user=bad%20id", nil), 400, "invalid_request")
				wantProblem(t, e.do(e.Operator, "GET", "/v1/accounts/nope/sessions", nil), 404, "not_found")
				wantProblem(t, e.do(e.Operator, "GET", "/v1/accounts/nope/pools", nil), 404, "not_found")
				wantProblem(t, e.do(e.Operator, "POST", "/v1/accounts/nope/sessions", `{"user":"b000","kind":"api"}`), 404, "not_found")
			})
		})
		t.Run("nothing_signed_in", func(t *testing.T) {
			e := e.withT(t)
			if got := e.liveSessions("acme", ""); len(got) != 0 {
				t.Errorf("refused requests left sessions %v", sessionIDs(got))
			}
			if got := e.inUse("acme", "essentials"); got != 0 {
				t.Errorf("in_use = %d, want 0", got)
			}
			// The valid request the cases were variations of works.
			e.startSession("acme", "b000", "api")
		})
	})
}

// The presence answers are what openapi.json documents: the members of a
// session, a pool, a pool_exhausted problem and an end count, no more.
func TestAPI_PresenceAnswerFields(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		users := e.concurrentPool("acme", 1, 0, 2, "f")
		e.newUser("acme", "nopool")
		keys := func(r resp) []string {
			var m map[string]json.RawMessage
			r.JSON(t, &m)
			var out []string
			for k := range m {
				out = append(out, k)
			}
			slices.Sort(out)
			return out
		}
		check := func(what string, got []string, want ...string) {
			t.Helper()
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Errorf("%s: members %v, want %v", what, got, want)
			}
		}
		r := e.must(201, "POST", "/v1/accounts/acme/sessions", map[string]string{"user": users[0], "kind": "work_session"})
		check("session in a pool", keys(r), "id", "user", "kind", "pool", "started_at", "expires_at", "in_use", "cap", "overage")
		var s seatkeeper.Session
		r.JSON(t, &s)
		check("session of a user in no pool", keys(e.must(201, "POST", "/v1/accounts/acme/sessions", map[string]string{"user": "nopool", "kind": "api"})),
			"id", "user", "kind", "started_at", "expires_at")
		check("heartbeat", keys(e.must(200, "POST", "/v1/accounts/acme/sessions/"+s.ID+"/heartbeat", nil)),
			"id", "user", "kind", "pool", "started_at", "expires_at")
		var pools struct {
			Items []json.RawMessage `json:"items"`
		}
		e.must(200, "GET", "/v1/accounts/acme/pools", nil).JSON(t, &pools)
		if len(pools.Items) != 1 {
			t.Fatalf("pools %d, want 1", len(pools.Items))
		}
		check("pool", keys(resp{Body: pools.Items[0]}), "license", "quantity", "allowance", "in_use", "cap", "members")
		r = e.signIn(e.Operator, "acme", users[1], "api")
		poolExhausted(t, r, 1, 1, "essentials")
		check("pool_exhausted problem", keys(r), "type", "title", "status", "detail", "code", "in_use", "cap", "license")
		check("ended", keys(e.must(200, "DELETE", "/v1/accounts/acme/users/"+users[0]+"/sessions", nil)), "ended")
	})
}

// testClock is a clock for the store that the test moves by hand, so that
// presences can run out without waiting (R5, R6). Set it before the first
// request that should see it.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func (c *testClock) Set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

// useClock makes the store's clock a testClock set at t.
func (e *env) useClock(t time.Time) *testClock {
	c := &testClock{t: t}
	e.Store.Now = c.Now
	return c
}

// R4, R5 (SPEC §4.2): GET /licenses shows, for a concurrent plan, the same
// members, in_use and cap as GET /pools, at every step: sign-ins, a second
// presence of a signed-in user, a sign-out, and presences running out with
// no reaper having been by (a regression: /licenses once showed no in_use).
func TestAPI_R4_LicensesInUseMatchesPools(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		clock := e.useClock(time.Date(2026, 11, 10, 9, 0, 0, 0, time.UTC))
		users := e.concurrentPool("acme", 2, 1, 4, "l")
		e.subscribe("acme", "premium", "named", 3)
		same := func(step string, want int) {
			t.Helper()
			line, p := e.line("acme", "essentials"), e.pool("acme", "essentials")
			if !intIs(line.InUse, p.InUse) || p.InUse != want {
				t.Errorf("%s: /licenses in_use %s, /pools in_use %d, want both %d", step, intText(line.InUse), p.InUse, want)
			}
			if !intIs(line.Cap, p.Cap) || !intIs(line.Members, p.Members) || p.Cap != 3 || p.Members != 4 {
				t.Errorf("%s: /licenses cap %s members %s, /pools %+v, want cap 3 and 4 members", step, intText(line.Cap), intText(line.Members), p)
			}
			if named := e.line("acme", "premium"); named.InUse != nil || named.Cap != nil || named.Members != nil {
				t.Errorf("%s: a named license shows pool numbers: %+v", step, named)
			}
		}
		same("before any sign-in", 0)
		work := e.startSession("acme", users[0], "work_session") // lasts 180 s
		same("one user", 1)
		e.startSession("acme", users[0], "portal") // lasts 5 min
		same("a second presence of the same user", 1)
		api := e.startSession("acme", users[1], "api")
		e.startSession("acme", users[2], "work_session")
		same("three users, the cap", 3)
		poolExhausted(t, e.signIn(e.Operator, "acme", users[3], "api"), 3, 3, "essentials")
		e.must(204, "DELETE", "/v1/accounts/acme/sessions/"+api.ID, nil)
		same("after a sign-out", 2)
		clock.Add(defaultSessionTimeout)
		// users[0]'s work session and users[2]'s ran out; users[0]'s portal
		// presence still counts.
		same("after the work sessions ran out", 1)
		wantProblem(t, e.do(e.Operator, "POST", "/v1/accounts/acme/sessions/"+work.ID+"/heartbeat", nil), 404, "session_ended")
		clock.Add(defaultIdleWindow - defaultSessionTimeout)
		same("after the portal presence ran out", 0)
		e.startSession("acme", users[3], "api")
		same("a new sign-in", 1)
	})
}

// SPEC §4.1, R6: deleting an account ends its live sessions then; none of
// them can be extended by a heartbeat afterwards (404, as the account is
// gone), and nothing of the account is reachable. Another account's
// sessions are untouched.
func TestAPI_AccountDeletionEndsSessions(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		users := e.concurrentPool("gone", 2, 0, 2, "g")
		e.concurrentPool("kept", 2, 0, 1, "k")
		gone := []seatkeeper.Session{
			e.startSession("gone", users[0], "work_session"),
			e.startSession("gone", users[0], "portal"),
			e.startSession("gone", users[1], "api"),
		}
		kept := e.startSession("kept", "k000", "work_session")
		app := e.token("gone", "app")
		ctx := context.Background()
		since := gone[0].StartedAt.Add(-time.Second)

		before := time.Now().UTC().Truncate(time.Microsecond)
		e.must(204, "DELETE", "/v1/accounts/gone", nil)
		after := time.Now().UTC()

		for _, s := range gone {
			for _, r := range []resp{
				e.do(e.Operator, "POST", "/v1/accounts/gone/sessions/"+s.ID+"/heartbeat", nil),
				e.do(e.Operator, "DELETE", "/v1/accounts/gone/sessions/"+s.ID, nil),
			} {
				wantProblem(t, r, 404, "not_found")
			}
			wantProblem(t, e.do(app, "POST", "/v1/accounts/gone/sessions/"+s.ID+"/heartbeat", nil), 401, "unauthenticated")
		}
		for _, p := range []string{"/sessions", "/sessions?user=" + users[0], "/pools", "/licenses", "/users/" + users[0] + "/access"} {
			wantProblem(t, e.do(e.Operator, "GET", "/v1/accounts/gone"+p, nil), 404, "not_found")
		}
		wantProblem(t, e.signIn(e.Operator, "gone", users[1], "work_session"), 404, "not_found")
		wantProblem(t, e.do(e.Operator, "DELETE", "/v1/accounts/gone/users/"+users[0]+"/sessions", nil), 404, "not_found")

		// The ledger (read from the store: the account answers 404) says
		// every session ended once, at the deletion, and was not extended.
		events, err := e.Store.UsageEvents(ctx, "gone", since, after.Add(time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		ends := map[string]int{}
		for _, ev := range events {
			if ev.Type != seatkeeper.EventPresenceEnd {
				continue
			}
			ends[ev.Session]++
			if ev.At.Before(before) || ev.At.After(after) {
				t.Errorf("session %s ended at %v, want at the deletion (%v to %v)", ev.Session, ev.At, before, after)
			}
		}
		for _, s := range gone {
			if ends[s.ID] != 1 {
				t.Errorf("session %s: %d presence.end events, want 1", s.ID, ends[s.ID])
			}
		}
		if len(ends) != len(gone) {
			t.Errorf("presence.end events for %v, want only the account's %d sessions", ends, len(gone))
		}

		// The other account is untouched.
		if got := sessionIDs(e.liveSessions("kept", "")); !slices.Equal(got, []string{kept.ID}) {
			t.Errorf("kept's live sessions %v, want [%s]", got, kept.ID)
		}
		e.must(200, "POST", "/v1/accounts/kept/sessions/"+kept.ID+"/heartbeat", nil)
		if got := e.inUse("kept", "essentials"); got != 1 {
			t.Errorf("kept's in_use = %d, want 1", got)
		}
	})
}

// R2, R4: unassigning a signed-in user's concurrent plan ends their
// presences in its pool and frees their place: another member may sign in.
func TestAPI_R4_UnassignPlanEndsSessions(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		e.concurrentPool("acme", 1, 0, 0, "")
		for _, u := range []string{"ann", "bob"} {
			e.newUser("acme", u)
			e.must(201, "PUT", "/v1/accounts/acme/users/"+u+"/licenses/essentials", nil)
		}
		reader := e.token("acme", "reader")
		ann := []seatkeeper.Session{e.startSession("acme", "ann", "work_session"), e.startSession("acme", "ann", "portal")}
		poolExhausted(t, e.signIn(e.Operator, "acme", "bob", "work_session"), 1, 1, "essentials")

		e.must(204, "DELETE", "/v1/accounts/acme/users/ann/licenses/essentials", nil)

		if got := e.liveSessions("acme", "ann"); len(got) != 0 {
			t.Errorf("ann's live sessions after losing the plan: %v, want none", sessionIDs(got))
		}
		for _, s := range ann {
			wantProblem(t, e.do(e.Operator, "POST", "/v1/accounts/acme/sessions/"+s.ID+"/heartbeat", nil), 404, "session_ended")
		}
		if p := e.pool("acme", "essentials"); p.InUse != 0 || p.Members != 1 {
			t.Errorf("pool %+v, want in_use 0 and 1 member", p)
		}
		if l := e.line("acme", "essentials"); !intIs(l.InUse, 0) || !intIs(l.Members, 1) {
			t.Errorf("/licenses essentials: in_use %s members %s, want 0 and 1", intText(l.InUse), intText(l.Members))
		}
		if d := e.check(reader, "acme", "ann", "feature=channel.voice"); d.Allowed || d.Code != "no_license" {
			t.Errorf("ann's decision without the plan: %+v, want no_license", d)
		}
		// The place is free.
		var s seatkeeper.Session
		e.mustAs(e.Operator, 201, "POST", "/v1/accounts/acme/sessions", map[string]string{"user": "bob", "kind": "work_session"}).JSON(t, &s)
		if !intIs(s.InUse, 1) || s.Pool != "essentials" {
			t.Errorf("bob's sign-in: pool %q in_use %v, want essentials and 1", s.Pool, s.InUse)
		}
		if d := e.check(reader, "acme", "bob", "feature=channel.voice"); !d.Allowed {
			t.Errorf("bob's decision once signed in: %+v", d)
		}
	})
}

// R6, R11: supervisors of a service may end an agent's sessions: an app
// token acting for a user with the QM supervisor role (contact-center: plan,
// QM add-on, role qm:supervisor) or the WFO supervisor role may; one acting
// for a plain agent may not (403) and ends nothing.
func TestAPI_R6_SupervisorsEndSessions(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		t.Run("qm_supervisor", func(t *testing.T) {
			e := e.withT(t)
			e.concurrentPool("cc", 5, 0, 0, "")
			e.subscribe("cc", "qm", "named", 5)
			for _, u := range []string{"agent", "sup", "plain"} {
				e.newUser("cc", u)
				e.must(201, "PUT", "/v1/accounts/cc/users/"+u+"/licenses/essentials", nil)
			}
			for _, u := range []string{"sup", "plain"} {
				e.must(201, "PUT", "/v1/accounts/cc/users/"+u+"/licenses/qm", nil)
			}
			e.grantRole("cc", "sup", "qm", "supervisor")
			// Assigning QM gave plain the QM role agent (R11), and only that.
			if u := e.user("cc", "plain"); len(u.Roles) != 1 || u.Roles[0].Service != "qm" || u.Roles[0].Role != "agent" {
				t.Fatalf("plain's roles %+v, want only qm:agent", u.Roles)
			}
			app := e.token("cc", "app")
			ids := sessionIDs([]seatkeeper.Session{e.startSession("cc", "agent", "work_session"), e.startSession("cc", "agent", "api")})
			path := "/v1/accounts/cc/users/agent/sessions"

			before := e.state("cc")
			wantProblem(t, e.do(app, "DELETE", path, nil, "Seatkeeper-Acting-User: plain"), 403, "forbidden")
			e.sameState("cc", before)
			if got := sessionIDs(e.liveSessions("cc", "agent")); !slices.Equal(got, ids) {
				t.Fatalf("live sessions %v after a refusal, want %v", got, ids)
			}

			// A concurrent plan's permissions need a live presence (R4):
			// the supervisor signs in first.
			if p := wantProblem(t, e.do(app, "DELETE", path, nil, "Seatkeeper-Acting-User: sup"), 403, "forbidden"); !strings.Contains(p.Detail, "not_signed_in") {
				t.Errorf("a supervisor not signed in: %q, want not_signed_in", p.Detail)
			}
			e.startSession("cc", "sup", "portal")
			var out map[string]int
			e.mustAs(app, 200, "DELETE", path, nil, "Seatkeeper-Acting-User: sup").JSON(t, &out)
			if len(out) != 1 || out["ended"] != 2 {
				t.Errorf("answer %v, want {\"ended\": 2}", out)
			}
			if got := e.liveSessions("cc", "agent"); len(got) != 0 {
				t.Errorf("live sessions after the supervisor ended them: %v", sessionIDs(got))
			}
			if got := e.inUse("cc", "essentials"); got != 1 {
				t.Errorf("in_use = %d, want 1 (the supervisor)", got)
			}
			found := false
			for _, a := range e.auditRecords("cc") {
				found = found || (a.Action == "sessions.end" && a.Target == "agent" && a.TokenKind == "app" && a.ActingUser == "sup")
			}
			if !found {
				t.Errorf("no sessions.end audit record naming the acting supervisor")
			}
		})
		t.Run("wfo_supervisor", func(t *testing.T) {
			e := e.withT(t)
			e.newAccount("wfo", "wfo")
			e.subscribe("wfo", "wfo_access", "named", 5)
			e.subscribe("wfo", "qm", "named", 5)
			e.newUser("wfo", "agent")
			e.newUser("wfo", "sup")
			e.grantRole("wfo", "agent", "wfo", "agent")
			e.grantRole("wfo", "sup", "wfo", "supervisor")
			app := e.token("wfo", "app")
			s := e.startSession("wfo", "agent", "portal")
			path := "/v1/accounts/wfo/users/agent/sessions"

			before := e.state("wfo")
			wantProblem(t, e.do(app, "DELETE", path, nil, "Seatkeeper-Acting-User: agent"), 403, "forbidden")
			e.sameState("wfo", before)

			var out map[string]int
			e.mustAs(app, 200, "DELETE", path, nil, "Seatkeeper-Acting-User: sup").JSON(t, &out)
			if out["ended"] != 1 {
				t.Errorf("answer %v, want {\"ended\": 1}", out)
			}
			wantProblem(t, e.do(app, "POST", "/v1/accounts/wfo/sessions/"+s.ID+"/heartbeat", nil), 404, "session_ended")
		})
	})
}

// R6: ending the sessions of a user who does not exist is 404 not_found
// (not {"ended": 0}), for every caller allowed to end sessions, and
// changes nothing; a deleted user does not exist either.
func TestAPI_R6_EndSessionsOfUnknownUser(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		users := e.concurrentPool("acme", 2, 0, 2, "u")
		e.newUser("acme", "boss")
		e.grantRole("acme", "boss", "account", "admin")
		admin, app := e.token("acme", "admin"), e.token("acme", "app")
		live := e.startSession("acme", users[0], "work_session")
		e.must(204, "DELETE", "/v1/accounts/acme/users/"+users[1], nil)
		for _, who := range []string{"ghost", users[1]} {
			t.Run(who, func(t *testing.T) {
				noChange(t, e, func(e *env) {
					path := "/v1/accounts/acme/users/" + who + "/sessions"
					for _, r := range []resp{
						e.do(e.Operator, "DELETE", path, nil),
						e.do(admin, "DELETE", path, nil),
						e.do(app, "DELETE", path, nil, "Seatkeeper-Acting-User: boss"),
					} {
						p := wantProblem(t, r, 404, "not_found")
						if !strings.Contains(p.Detail, who) {
							t.Errorf("detail %q does not name %s", p.Detail, who)
						}
					}
				})
			})
		}
		if got := sessionIDs(e.liveSessions("acme", "")); !slices.Equal(got, []string{live.ID}) {
			t.Errorf("live sessions %v, want only %s", got, live.ID)
		}
	})
}

// TestAPI_R6_SessionsEndWithTheirTerm (R6, §4.4, subscription term): a
// session in a pool lives no longer than the pool's subscription: it
// expires at ends_at at the latest, heartbeats extend it to there at most,
// and an ends_at set, moved or already past applies to the live sessions.
// Before, sessions outlived the term, heartbeats kept extending them and
// GET /pools kept counting them.
func TestAPI_R6_SessionsEndWithTheirTerm(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		start := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
		clock := e.useClock(start)
		e.concurrentPool("acme", 5, 0, 2, "u")
		sub := map[string]any{"model": "concurrent", "quantity": 5, "ends_at": start.Add(2 * time.Minute)}
		e.must(200, "PUT", "/v1/accounts/acme/subscriptions/essentials", sub)
		beat := func(id string) resp {
			return e.do(e.Operator, "POST", "/v1/accounts/acme/sessions/"+id+"/heartbeat", nil)
		}
		expires := func(r resp) time.Time {
			t.Helper()
			var s seatkeeper.Session
			r.JSON(t, &s)
			return s.ExpiresAt
		}
		// The timeout (3 minutes) would pass the end: the end it is.
		s := e.startSession("acme", "u000", "work_session")
		if !s.ExpiresAt.Equal(start.Add(2 * time.Minute)) {
			t.Errorf("signed in at 09:00, expires %v, want the term's end 09:02", s.ExpiresAt)
		}
		clock.Set(start.Add(time.Minute))
		if got := expires(e.mustAs(e.Operator, 200, "POST", "/v1/accounts/acme/sessions/"+s.ID+"/heartbeat", nil)); !got.Equal(start.Add(2 * time.Minute)) {
			t.Errorf("heartbeat at 09:01: expires %v, want 09:02", got)
		}
		// Extended, the term gives the session its time back at once (its
		// last heartbeat, 09:01, plus the timeout), with no heartbeat;
		// before, it still ended at 09:02 unless one came in between.
		sub["ends_at"] = start.Add(24 * time.Hour)
		e.must(200, "PUT", "/v1/accounts/acme/subscriptions/essentials", sub)
		if live := e.liveSessions("acme", "u000"); len(live) != 1 || !live[0].ExpiresAt.Equal(start.Add(4*time.Minute)) {
			t.Errorf("after the extension: %+v, want u000's session expiring at 09:04", live)
		}
		if got := expires(e.mustAs(e.Operator, 200, "POST", "/v1/accounts/acme/sessions/"+s.ID+"/heartbeat", nil)); !got.Equal(start.Add(4 * time.Minute)) {
			t.Errorf("heartbeat at 09:01 after the extension: expires %v, want 09:04", got)
		}
		// Brought forward to 09:03, the live session ends there.
		sub["ends_at"] = start.Add(3 * time.Minute)
		e.must(200, "PUT", "/v1/accounts/acme/subscriptions/essentials", sub)
		clock.Set(start.Add(3 * time.Minute))
		wantProblem(t, beat(s.ID), 404, "session_ended")
		if n := e.inUse("acme", "essentials"); n != 0 {
			t.Errorf("in use after the term: %d, want 0", n)
		}
		// An end set in the past ends the live sessions now.
		sub["ends_at"] = start.Add(24 * time.Hour)
		e.must(200, "PUT", "/v1/accounts/acme/subscriptions/essentials", sub)
		s2 := e.startSession("acme", "u001", "work_session")
		clock.Set(start.Add(4 * time.Minute))
		sub["ends_at"] = start.Add(3*time.Minute + 30*time.Second)
		e.must(200, "PUT", "/v1/accounts/acme/subscriptions/essentials", sub)
		clock.Set(start.Add(4*time.Minute + time.Second))
		wantProblem(t, beat(s2.ID), 404, "session_ended")
		// So does a start moved into the future.
		sub["ends_at"], sub["starts_at"] = start.Add(24*time.Hour), start
		e.must(200, "PUT", "/v1/accounts/acme/subscriptions/essentials", sub)
		s3 := e.startSession("acme", "u000", "api")
		clock.Set(start.Add(5 * time.Minute))
		sub["starts_at"] = start.Add(time.Hour)
		e.must(200, "PUT", "/v1/accounts/acme/subscriptions/essentials", sub)
		clock.Set(start.Add(5*time.Minute + time.Second))
		wantProblem(t, beat(s3.ID), 404, "session_ended")
		if _, err := e.Store.Reap(context.Background()); err != nil {
			t.Fatal(err)
		}
		ends := map[string]time.Time{}
		events, err := e.Store.UsageEvents(context.Background(), "acme", start.Add(-time.Hour), start.Add(time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		for _, ev := range events {
			if ev.Type == seatkeeper.EventPresenceEnd {
				if _, twice := ends[ev.Session]; twice {
					t.Errorf("session %s ended twice", ev.Session)
				}
				ends[ev.Session] = ev.At
			}
		}
		if !ends[s.ID].Equal(start.Add(3*time.Minute)) || !ends[s2.ID].Equal(start.Add(4*time.Minute)) || !ends[s3.ID].Equal(start.Add(5*time.Minute)) {
			t.Errorf("ledger ends %v, want %s at 09:03, %s at 09:04 and %s at 09:05", ends, s.ID, s2.ID, s3.ID)
		}
	})
}

// TestAPI_R5_PoolGoneWithItsModel (R4–R6): a pool's subscription that is
// no longer concurrent has no pool: its live sessions end at once, their
// places are freed, and a pool made concurrent again starts empty. Before,
// they lived on and heartbeated, and the pool's count kept them (found by
// an audit).
func TestAPI_R5_PoolGoneWithItsModel(t *testing.T) {
	forEachStore(t, func(t *testing.T, e *env) {
		start := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
		clock := e.useClock(start)
		users := e.concurrentPool("acme", 5, 0, 3, "u")
		var ids []string
		for _, u := range users {
			ids = append(ids, e.startSession("acme", u, "work_session").ID)
		}
		clock.Set(start.Add(time.Minute))
		e.must(200, "PUT", "/v1/accounts/acme/subscriptions/essentials", map[string]any{"model": "named", "quantity": 5})
		clock.Set(start.Add(time.Minute + time.Second))
		for _, id := range ids {
			wantProblem(t, e.do(e.Operator, "POST", "/v1/accounts/acme/sessions/"+id+"/heartbeat", nil), 404, "session_ended")
		}
		if _, err := e.Store.Reap(context.Background()); err != nil {
			t.Fatal(err)
		}
		e.must(200, "PUT", "/v1/accounts/acme/subscriptions/essentials", map[string]any{"model": "concurrent", "quantity": 5})
		if n := e.inUse("acme", "essentials"); n != 0 {
			t.Errorf("in use after the pool came back: %d, want 0", n)
		}
		s := e.startSession("acme", users[0], "work_session")
		if s.InUse == nil || *s.InUse != 1 {
			t.Errorf("the first sign-in into the pool come back: in_use %v, want 1", s.InUse)
		}
	})
}
