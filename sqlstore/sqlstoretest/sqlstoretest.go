// Package sqlstoretest gives tests a fresh, isolated store: SQLite in a
// temporary directory, or PostgreSQL in a schema of its own that is dropped
// when the test ends.
package sqlstoretest

import (
	"context"
	"os"
	"testing"

	"github.com/seatkeeper/seatkeeper/catalog"
	"github.com/seatkeeper/seatkeeper/sqlstore"
)

// EnvPostgres names the variable holding the PostgreSQL DSN for tests.
const EnvPostgres = "SEATKEEPER_TEST_POSTGRES"

// PostgresDSN returns a DSN for a fresh schema of the test database, dropped
// when the test ends, or skips the test when EnvPostgres is empty.
func PostgresDSN(tb testing.TB) string {
	tb.Helper()
	base := os.Getenv(EnvPostgres)
	if base == "" {
		tb.Skip("PostgreSQL tests skipped: set " + EnvPostgres + " to a DSN, e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable")
	}
	dsn, drop, err := sqlstore.NewSchema(context.Background(), base, "t_")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(drop)
	return dsn
}

// Open opens a fresh store: SQLite when dsn is "", else the DSN. It is
// closed when the test ends.
func Open(tb testing.TB, dsn string) *sqlstore.Store {
	tb.Helper()
	s, err := sqlstore.Open(context.Background(), dsn, tb.TempDir(), catalog.NewSet())
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { s.Close() })
	return s
}

// Each runs fn on a fresh SQLite store and, when EnvPostgres is set, on a
// fresh PostgreSQL schema.
func Each(t *testing.T, fn func(t *testing.T, dsn string)) {
	t.Run("sqlite", func(t *testing.T) { fn(t, "") })
	t.Run("postgres", func(t *testing.T) { fn(t, PostgresDSN(t)) })
}
