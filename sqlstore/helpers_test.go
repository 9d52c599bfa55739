package sqlstore_test

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"net/url"
	"os"
	"testing"

	"github.com/seatkeeper/seatkeeper"
	"github.com/seatkeeper/seatkeeper/catalog"
	"github.com/seatkeeper/seatkeeper/sqlstore"
)

// forEachStore runs the test against SQLite and, when
// SEATKEEPER_TEST_POSTGRES holds a DSN, PostgreSQL: one conformance suite
// for every store.
func forEachStore(t *testing.T, fn func(t *testing.T, s *sqlstore.Store)) {
	t.Run("sqlite", func(t *testing.T) { fn(t, MustOpenSQLite(t)) })
	t.Run("postgres", func(t *testing.T) { fn(t, MustOpenPostgres(t)) })
}

// MustOpenSQLite opens a fresh SQLite store in a temporary directory.
func MustOpenSQLite(tb testing.TB) *sqlstore.Store {
	tb.Helper()
	s, err := sqlstore.Open(context.Background(), "", tb.TempDir(), catalog.NewSet())
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { s.Close() })
	return s
}

// PostgresDSN returns a DSN for a fresh schema of the test database, which
// is dropped when the test ends, or skips the test.
func PostgresDSN(tb testing.TB) string {
	tb.Helper()
	base := os.Getenv("SEATKEEPER_TEST_POSTGRES")
	if base == "" {
		tb.Skip("PostgreSQL tests skipped: set SEATKEEPER_TEST_POSTGRES to a DSN, e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable")
	}
	schema := fmt.Sprintf("t_%d", rand.Uint64())
	admin, err := sql.Open("pgx", base)
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := admin.Exec("CREATE SCHEMA " + schema); err != nil {
		admin.Close()
		tb.Fatalf("create schema: %v", err)
	}
	tb.Cleanup(func() {
		admin.Exec("DROP SCHEMA " + schema + " CASCADE")
		admin.Close()
	})
	u, err := url.Parse(base)
	if err != nil {
		tb.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// MustOpenPostgres opens a store on a fresh schema, or skips the test.
func MustOpenPostgres(tb testing.TB) *sqlstore.Store {
	tb.Helper()
	dsn := PostgresDSN(tb)
	s, err := sqlstore.Open(context.Background(), dsn, "", catalog.NewSet())
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { s.Close() })
	return s
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
	if _, err := s.AssignLicense(context.Background(), operator, account, user, license, seatkeeper.SourceManual); err != nil {
		t.Fatalf("assign %s to %s: %v", license, user, err)
	}
}

func code(err error) string { return seatkeeper.ErrorCode(err) }
