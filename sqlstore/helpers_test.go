package sqlstore_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/seatkeeper/seatkeeper"
	"github.com/seatkeeper/seatkeeper/sqlstore"
	"github.com/seatkeeper/seatkeeper/sqlstore/sqlstoretest"
)

// forEachStore runs the test against SQLite and, when
// SEATKEEPER_TEST_POSTGRES holds a DSN, PostgreSQL: one conformance suite
// for every store.
func forEachStore(t *testing.T, fn func(t *testing.T, s *sqlstore.Store)) {
	sqlstoretest.Each(t, func(t *testing.T, dsn string) { fn(t, sqlstoretest.Open(t, dsn)) })
}

// eachProcesses runs the test against SQLite with one store and, when
// SEATKEEPER_TEST_POSTGRES holds a DSN, PostgreSQL with two stores on one
// database, as two server processes would have.
func eachProcesses(t *testing.T, fn func(t *testing.T, stores []*sqlstore.Store)) {
	sqlstoretest.Each(t, func(t *testing.T, dsn string) {
		stores := []*sqlstore.Store{sqlstoretest.Open(t, dsn)}
		if dsn != "" {
			stores = append(stores, sqlstoretest.Open(t, dsn))
		}
		fn(t, stores)
	})
}

var operator = seatkeeper.Actor{TokenID: "test", TokenKind: seatkeeper.TokenOperator}

func mustAccount(t testing.TB, s *sqlstore.Store, id, cat string) {
	t.Helper()
	if _, _, err := s.PutAccount(context.Background(), operator, seatkeeper.Account{ID: id, Name: id, Region: "us", Catalog: cat}); err != nil {
		t.Fatalf("PutAccount %s: %v", id, err)
	}
}

func mustSubscribe(t testing.TB, s *sqlstore.Store, account, license, model string, qty int) {
	t.Helper()
	if _, _, err := s.PutSubscription(context.Background(), operator, seatkeeper.Subscription{Account: account, License: license, Model: model, Quantity: qty}); err != nil {
		t.Fatalf("PutSubscription %s %s: %v", account, license, err)
	}
}

func mustUser(t testing.TB, s *sqlstore.Store, account, id string) {
	t.Helper()
	if _, _, err := s.PutUser(context.Background(), operator, seatkeeper.User{Account: account, ID: id, Active: true}); err != nil {
		t.Fatalf("PutUser %s: %v", id, err)
	}
}

func mustAssign(t testing.TB, s *sqlstore.Store, account, user, license string) {
	t.Helper()
	if _, _, err := s.AssignLicense(context.Background(), operator, account, user, license, seatkeeper.SourceManual); err != nil {
		t.Fatalf("assign %s to %s: %v", license, user, err)
	}
}

func code(err error) string { return seatkeeper.ErrorCode(err) }

// signInAtOnce makes users u0 to u(n-1) members of acme's essentials pool
// and signs them in all at once, each through stores[i%len(stores)] with
// the Idempotency-Key "k-" and their id; it returns the answers.
func signInAtOnce(t *testing.T, stores []*sqlstore.Store, n int) []seatkeeper.Session {
	for i := range n {
		mustUser(t, stores[0], "acme", fmt.Sprintf("u%d", i))
		mustAssign(t, stores[0], "acme", fmt.Sprintf("u%d", i), "essentials")
	}
	answers := make([]seatkeeper.Session, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			user := fmt.Sprintf("u%d", i)
			var err error
			if answers[i], _, err = stores[i%len(stores)].StartSession(context.Background(), operator, "acme", user, "work_session", "k-"+user, user); err != nil {
				t.Errorf("%s: %v", user, err)
			}
		})
	}
	wg.Wait()
	return answers
}
