package sqlstore_test

import (
	"context"
	"testing"
	"time"

	"github.com/seatkeeper/seatkeeper"
	"github.com/seatkeeper/seatkeeper/sqlstore"
)

// TestR3_EndingPresencesAfterASignInOfTheSameBatch: a sign-in and, just
// after it, a change that ends the user's presences (deactivation,
// unassigning the plan, deleting the user) that land in one write batch
// have the outcome of the two one after the other: the session the
// sign-in started ends, and the user holds no place in the pool. Before,
// the sign-in's session was stored only at the batch's settlement, after
// the change had looked for the user's sessions: it lived on, heartbeating
// and counted in the pool, for a user inactive, without the plan or gone
// (found by an audit).
func TestR3_EndingPresencesAfterASignInOfTheSameBatch(t *testing.T) {
	ctx := context.Background()
	for _, c := range []struct {
		name string
		end  func(s *sqlstore.Store) error
	}{
		{"deactivate", func(s *sqlstore.Store) error {
			_, _, err := s.PutUser(ctx, operator, seatkeeper.User{Account: "acme", ID: "u0", Active: false})
			return err
		}},
		{"unassign", func(s *sqlstore.Store) error {
			return s.UnassignLicense(ctx, operator, "acme", "u0", "essentials", seatkeeper.SourceManual)
		}},
		{"delete", func(s *sqlstore.Store) error { return s.DeleteUser(ctx, operator, "acme", "u0") }},
		{"no longer concurrent", func(s *sqlstore.Store) error {
			_, _, err := s.PutSubscription(ctx, operator, seatkeeper.Subscription{Account: "acme", License: "essentials", Model: "named", Quantity: 5})
			return err
		}},
		{"end all", func(s *sqlstore.Store) error {
			_, err := s.EndUserSessions(ctx, operator, "acme", "u0")
			return err
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			forEachStore(t, func(t *testing.T, s *sqlstore.Store) {
				poolAccount(t, s, 5, 0, 2)
				sess := signInThen(t, s, func() error { return c.end(s) })
				if live, err := s.Sessions(ctx, "acme", ""); err != nil || len(live) != 0 {
					t.Errorf("live sessions after %s: %+v %v, want none", c.name, live, err)
				}
				if _, err := s.Heartbeat(ctx, "acme", sess.ID); code(err) != seatkeeper.ESessionEnded {
					t.Errorf("heartbeat of the session: %v, want session_ended", err)
				}
				pools, err := s.Pools(ctx, "acme")
				if err != nil {
					t.Fatal(err)
				}
				for _, p := range pools {
					if p.InUse != 0 {
						t.Errorf("pool %+v, want none in use", p)
					}
				}
			})
		})
	}
}

// signInThen signs u0 in and, just after, makes a change, both in one
// write batch: the writer is held inside a write of u1 while they queue
// behind it, the sign-in first. It returns the sign-in's session.
func signInThen(t *testing.T, s *sqlstore.Store, change func() error) seatkeeper.Session {
	t.Helper()
	ctx := context.Background()
	reached, release := pauseIn(s, "sqlstore.(*tx).changeUser")
	held := make(chan error, 1)
	go func() {
		_, _, err := s.PutUser(ctx, operator, seatkeeper.User{Account: "acme", ID: "u1", Email: "u1@example.com", Active: true})
		held <- err
	}()
	<-reached
	var sess seatkeeper.Session
	signedIn := make(chan error, 1)
	go func() {
		var err error
		sess, err = signIn(s, "u0", seatkeeper.KindWorkSession)
		signedIn <- err
	}()
	time.Sleep(100 * time.Millisecond) // the sign-in queues first
	changed := make(chan error, 1)
	go func() { changed <- change() }()
	time.Sleep(100 * time.Millisecond)
	close(release)
	if err := <-held; err != nil {
		t.Fatal(err)
	}
	if err := <-signedIn; err != nil {
		t.Fatalf("sign-in: %v", err)
	}
	if err := <-changed; err != nil {
		t.Fatalf("the change: %v", err)
	}
	return sess
}

// TestR6_TimeoutChangeAfterASignInOfTheSameBatch: a session timeout
// changed just after a sign-in of the same batch applies to that session
// from its next heartbeat, as it would one after the other. Before, the
// change found no row to change and the session kept the old timeout for
// good (found by a review).
func TestR6_TimeoutChangeAfterASignInOfTheSameBatch(t *testing.T) {
	ctx := context.Background()
	forEachStore(t, func(t *testing.T, s *sqlstore.Store) {
		poolAccount(t, s, 5, 0, 2)
		sess := signInThen(t, s, func() error {
			_, err := s.PatchSettings(ctx, operator, "acme", []byte(`{"concurrent": {"session_timeout": "2h"}}`))
			return err
		})
		hb, err := s.Heartbeat(ctx, "acme", sess.ID)
		if err != nil {
			t.Fatal(err)
		}
		if d := time.Until(hb.ExpiresAt); d < time.Hour {
			t.Errorf("after the change to 2h a heartbeat extends the session to %v from now: it kept the old timeout", d.Round(time.Second))
		}
	})
}
