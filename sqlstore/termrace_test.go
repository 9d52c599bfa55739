package sqlstore_test

import (
	"context"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/seatkeeper/seatkeeper"
	"github.com/seatkeeper/seatkeeper/sqlstore"
	"github.com/seatkeeper/seatkeeper/sqlstore/sqlstoretest"
)

// calledFrom says whether fn is on the caller's stack: tests pause a
// store inside one step through its clock.
func calledFrom(fn string) bool {
	pc := make([]uintptr, 32)
	frames := runtime.CallersFrames(pc[:runtime.Callers(2, pc)])
	for {
		f, more := frames.Next()
		if strings.HasSuffix(f.Function, fn) {
			return true
		}
		if !more {
			return false
		}
	}
}

// pauseIn makes s's clock stop once, the first time it is read inside fn,
// until release is closed (or two seconds pass); reached is closed then.
func pauseIn(s *sqlstore.Store, fn string) (reached, release chan struct{}) {
	reached, release = make(chan struct{}), make(chan struct{})
	var once sync.Once
	s.Now = func() time.Time {
		if calledFrom(fn) {
			once.Do(func() {
				close(reached)
				select {
				case <-release:
				case <-time.After(2 * time.Second):
				}
			})
		}
		return time.Now()
	}
	return reached, release
}

// TestR6_SignInRacingATermChange (PostgreSQL, two processes): a sign-in
// that read the account before another process brought the pool's ends_at
// forward still gets a session bounded by the new end. Before, it kept
// the old term (none) and heartbeats extended it past the end: its row,
// not yet committed, was not there for the change to bound (found by a
// review).
func TestR6_SignInRacingATermChange(t *testing.T) {
	dsn := sqlstoretest.PostgresDSN(t)
	a, b := sqlstoretest.Open(t, dsn), sqlstoretest.Open(t, dsn)
	poolAccount(t, a, 5, 0, 1)
	ctx := context.Background()
	reached, release := pauseIn(b, "sqlstore.(*tx).flushStamped") // admitted, the session not yet stored
	var sess seatkeeper.Session
	var signErr error
	done := make(chan struct{})
	go func() {
		defer close(done)
		sess, signErr = signIn(b, "u0", "work_session")
	}()
	<-reached
	ends := time.Now().Add(30 * time.Second).UTC().Truncate(time.Microsecond)
	changed := make(chan error, 1)
	go func() {
		_, _, err := a.PutSubscription(ctx, operator, seatkeeper.Subscription{Account: "acme", License: "essentials", Model: "concurrent", Quantity: 5, EndsAt: &ends})
		changed <- err
	}()
	time.Sleep(300 * time.Millisecond) // the change waits for the sign-in, or has run
	close(release)
	<-done
	if err := <-changed; err != nil || signErr != nil {
		t.Fatalf("change %v, sign-in %v", err, signErr)
	}
	got, err := a.Heartbeat(ctx, "acme", sess.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.ExpiresAt.After(ends) {
		t.Errorf("expires %v after a heartbeat, past the term's end %v", got.ExpiresAt, ends)
	}
}

// TestR6_TermEndNeverBeforeTheStart: a term's end already past ends a
// pool's live sessions now, but never before a session began: one that
// another process started after now was read ends at its start. Before,
// the ledger could show its end before its start (found by a review).
func TestR6_TermEndNeverBeforeTheStart(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *sqlstore.Store) {
		ctx := context.Background()
		t0 := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
		clock := t0
		s.Now = func() time.Time { return clock }
		poolAccount(t, s, 5, 0, 1)
		clock = t0.Add(time.Minute)
		sess, err := signIn(s, "u0", "work_session")
		if err != nil {
			t.Fatal(err)
		}
		// The change's now is before the session's start, as when read
		// by a process that then waited, or whose clock is behind.
		clock = t0.Add(30 * time.Second)
		ends := t0.Add(10 * time.Second)
		if _, _, err := s.PutSubscription(ctx, operator, seatkeeper.Subscription{Account: "acme", License: "essentials", Model: "concurrent", Quantity: 5, StartsAt: t0, EndsAt: &ends}); err != nil {
			t.Fatal(err)
		}
		clock = t0.Add(2 * time.Minute)
		if _, err := s.Reap(ctx); err != nil {
			t.Fatal(err)
		}
		events, err := s.UsageEvents(ctx, "acme", t0, t0.Add(time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		var start, end time.Time
		for _, e := range events {
			switch {
			case e.Session != sess.ID:
			case e.Type == seatkeeper.EventPresenceStart:
				start = e.At
			case e.Type == seatkeeper.EventPresenceEnd:
				end = e.At
			}
		}
		if start.IsZero() || end.IsZero() || end.Before(start) {
			t.Errorf("session started %v, ended %v: want an end, not before the start", start, end)
		}
	})
}

// TestZoneChangeRacingAClose: a month closing was cut in the zone read
// before the close's write; a zone change that commits in between is
// caught by the close (409, try again) or refused by the closed month.
// Before, both went through: the month closed in the old zone, the
// account in the new one (found by a review).
func TestZoneChangeRacingAClose(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *sqlstore.Store) {
		ctx := context.Background()
		if _, _, err := s.PutAccount(ctx, operator, seatkeeper.Account{ID: "acme", Name: "acme", Region: "us", Catalog: "contact-center", TimeZone: "America/Los_Angeles"}); err != nil {
			t.Fatal(err)
		}
		reached, release := pauseIn(s, "sqlstore.(*Store).stateIn")
		var closeErr error
		done := make(chan struct{})
		go func() {
			defer close(done)
			_, closeErr = s.CloseMonth(ctx, operator, "acme", "2020-01")
		}()
		<-reached
		_, _, putErr := s.PutAccount(ctx, operator, seatkeeper.Account{ID: "acme", Name: "acme", TimeZone: "Asia/Tokyo"})
		close(release)
		<-done
		a, err := s.Account(ctx, "acme")
		if err != nil {
			t.Fatal(err)
		}
		closed, err := s.ClosedMonth(ctx, "acme", "2020-01")
		switch {
		case putErr == nil && closeErr == nil:
			t.Errorf("both went through: the zone is %s, 2020-01 closed (%v)", a.TimeZone, closed.Digest)
		case putErr == nil && (code(closeErr) != seatkeeper.EConflict || code(err) != seatkeeper.ENotFound || a.TimeZone != "Asia/Tokyo"):
			t.Errorf("zone changed to %s; close: %v; closed month: %v", a.TimeZone, closeErr, err)
		case closeErr == nil && (code(putErr) != seatkeeper.EPeriodClosed || a.TimeZone != "America/Los_Angeles"):
			t.Errorf("closed; zone change: %v, zone %s", putErr, a.TimeZone)
		}
	})
}

// TestR6_TermBoundSessionIsReaped: a heartbeat that bounds a session by
// its term (a term changed beside its sign-in) brings its reap_at down
// with its expiry: the reaper ends it then, its place is freed and the
// month can close. Before, it waited for its reap_at, up to a timeout
// later, holding its place (found by a review).
func TestR6_TermBoundSessionIsReaped(t *testing.T) {
	forEachStore(t, func(t *testing.T, s *sqlstore.Store) {
		ctx := context.Background()
		t0 := time.Date(2026, 11, 30, 23, 59, 0, 0, time.UTC)
		clock := t0
		s.Now = func() time.Time { return clock }
		poolAccount(t, s, 1, 0, 2) // a pool of one place, two users
		sess, err := signIn(s, "u0", seatkeeper.KindWorkSession)
		if err != nil {
			t.Fatal(err)
		}
		// The term ends 30 s after the sign-in (the change raced the sign-in).
		if err := s.ExecForTest(ctx, "UPDATE subscriptions SET ends_at = ? WHERE account = 'acme' AND license = 'essentials'", t0.Add(30*time.Second).UnixMicro()); err != nil {
			t.Fatal(err)
		}
		clock = t0.Add(20 * time.Second)
		if got, err := s.Heartbeat(ctx, "acme", sess.ID); err != nil || !got.ExpiresAt.Equal(t0.Add(30*time.Second)) {
			t.Fatalf("heartbeat: %v %v", got.ExpiresAt, err)
		}
		// The term goes on again (e.g. renewed): u1 may sign in once u0's
		// session, which expired at 23:59:30, is ended.
		if err := s.ExecForTest(ctx, "UPDATE subscriptions SET ends_at = NULL WHERE account = 'acme' AND license = 'essentials'"); err != nil {
			t.Fatal(err)
		}
		clock = t0.Add(90 * time.Second) // 00:00:30 on December 1st
		if _, err := s.Heartbeat(ctx, "acme", sess.ID); code(err) != seatkeeper.ESessionEnded {
			t.Errorf("heartbeat after the expiry: %v, want session_ended", err)
		}
		n, err := s.Reap(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if n != 1 {
			t.Errorf("reaped %d sessions a minute after u0's expired, want 1", n)
		}
		if ps, err := s.Pools(ctx, "acme"); err != nil || len(ps) != 1 || ps[0].InUse != 0 {
			t.Errorf("pools after the expiry: %+v %v, want in_use 0", ps, err)
		}
		if _, err := signIn(s, "u1", seatkeeper.KindWorkSession); err != nil {
			t.Errorf("u1's sign-in, u0's session expired a minute ago: %v", err)
		}
		if _, err := s.CloseMonth(ctx, operator, "acme", "2026-11"); err != nil {
			t.Errorf("close of November: %v", err)
		}
	})
}

// TestR4_SignInRacingAnAccountChange (PostgreSQL, two processes): a
// sign-in that read the account before another process deleted it, ended
// its pool's term or made the pool named ends as if the two had come one
// after the other: the change commits first and the sign-in, its account
// moved, runs again and reads it anew; or the change waits for the
// sign-in's commit and ends its session. Before, the change could look for
// the account's sessions before the sign-in's was there, and the session
// lived on, heartbeating and counted in a pool that no longer admitted
// anyone (found by an audit).
func TestR4_SignInRacingAnAccountChange(t *testing.T) {
	sqlstoretest.PostgresDSN(t) // or skip
	ctx := context.Background()
	past := time.Now().Add(-time.Second).UTC().Truncate(time.Microsecond)
	for _, c := range []struct {
		name   string
		change func(s *sqlstore.Store) error
	}{
		{"account deleted", func(s *sqlstore.Store) error { return s.DeleteAccount(ctx, operator, "acme") }},
		{"term ended", func(s *sqlstore.Store) error {
			_, _, err := s.PutSubscription(ctx, operator, seatkeeper.Subscription{Account: "acme", License: "essentials", Model: "concurrent", Quantity: 5,
				StartsAt: past.Add(-time.Hour), EndsAt: &past})
			return err
		}},
		{"no longer concurrent", func(s *sqlstore.Store) error {
			_, _, err := s.PutSubscription(ctx, operator, seatkeeper.Subscription{Account: "acme", License: "essentials", Model: "named", Quantity: 5})
			return err
		}},
	} {
		for _, pause := range racePauses {
			t.Run(c.name+" "+pause, func(t *testing.T) {
				a, b, sess, signErr := signInRacing(t, pause, c.change)
				if signErr != nil {
					t.Logf("sign-in refused: %v", signErr) // read the account after the change
				}
				// A session the change bounded to its start is over; the
				// reaper ends it, as it runs in every server.
				if _, err := a.Reap(ctx); err != nil {
					t.Fatal(err)
				}
				pooled, err := a.StringForTest(ctx, "SELECT count(*) FROM sessions WHERE account = 'acme' AND ended_at IS NULL AND pool <> ''")
				if err != nil || pooled != "0" {
					t.Errorf("live sessions in a pool after the change: %s %v, want none", pooled, err)
				}
				if signErr == nil && sess.Pool != "" {
					if _, err := b.Heartbeat(ctx, "acme", sess.ID); err == nil {
						t.Errorf("a heartbeat of the session was answered")
					}
				}
				if in, err := a.StringForTest(ctx, "SELECT coalesce(sum(in_use), 0) FROM pools WHERE account = 'acme'"); err != nil || in != "0" {
					t.Errorf("pool places in use after the change: %s %v, want 0", in, err)
				}
			})
		}
	}
}

// racePauses are where a racing sign-in is held: the account read and the
// user locked (the change commits before the sign-in settles), or admitted
// with the counters settled and the session not yet stored (the change
// waits for the sign-in's commit).
var racePauses = []string{"sqlstore.(*tx).loadState", "sqlstore.(*tx).flushStamped"}

// signInRacing signs u0 in on one process (b) of a pool account and, while
// the sign-in is paused in the function pause (racePauses), makes a
// change on another (a), which may wait for the sign-in's locks.
func signInRacing(t *testing.T, pause string, change func(s *sqlstore.Store) error) (a, b *sqlstore.Store, sess seatkeeper.Session, signErr error) {
	t.Helper()
	dsn := sqlstoretest.PostgresDSN(t)
	a, b = sqlstoretest.Open(t, dsn), sqlstoretest.Open(t, dsn)
	poolAccount(t, a, 5, 0, 1)
	reached, release := pauseIn(b, pause)
	done := make(chan struct{})
	go func() {
		defer close(done)
		sess, signErr = signIn(b, "u0", "work_session")
	}()
	<-reached
	changed := make(chan error, 1)
	go func() { changed <- change(a) }()
	time.Sleep(300 * time.Millisecond) // the change waits for the sign-in's locks, or has run
	close(release)
	<-done
	if err := <-changed; err != nil {
		t.Fatal(err)
	}
	return a, b, sess, signErr
}

// TestR6_SignInRacingATimeoutChange (PostgreSQL, two processes): a session
// timeout changed on another process while a sign-in was being admitted
// reaches the sign-in's session from its next heartbeat. Before, the
// session kept the timeout the sign-in had read, for good (found by a
// review).
func TestR6_SignInRacingATimeoutChange(t *testing.T) {
	sqlstoretest.PostgresDSN(t) // or skip
	for _, pause := range racePauses {
		t.Run(pause, func(t *testing.T) {
			_, b, sess, err := signInRacing(t, pause, func(s *sqlstore.Store) error {
				_, err := s.PatchSettings(context.Background(), operator, "acme", []byte(`{"concurrent": {"session_timeout": "2h"}}`))
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			hb, err := b.Heartbeat(context.Background(), "acme", sess.ID)
			if err != nil {
				t.Fatal(err)
			}
			if d := time.Until(hb.ExpiresAt); d < time.Hour {
				t.Errorf("after the change to 2h a heartbeat extends the session to %v from now: it kept the old timeout", d.Round(time.Second))
			}
		})
	}
}
