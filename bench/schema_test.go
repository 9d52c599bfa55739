package bench_test

import (
	"context"
	"database/sql"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/seatkeeper/seatkeeper/bench"
	"github.com/seatkeeper/seatkeeper/sqlstore/sqlstoretest"
)

// TestSchemaIsTheRunsOwn: on PostgreSQL a run's DSN names a schema of its
// own, for pgx and for psql alike, and drop removes it with its tables.
func TestSchemaIsTheRunsOwn(t *testing.T) {
	base := os.Getenv(sqlstoretest.EnvPostgres)
	if base == "" {
		t.Skip("PostgreSQL tests skipped: set " + sqlstoretest.EnvPostgres)
	}
	ctx := context.Background()
	// The DSN's own options are kept, beside the schema.
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("options", "-c statement_timeout=61000")
	u.RawQuery = strings.ReplaceAll(q.Encode(), "+", "%20")
	dsn, drop, err := bench.Schema(ctx, u.String())
	if err != nil {
		t.Fatal(err)
	}
	dropped := false
	defer func() {
		if !dropped {
			drop()
		}
	}()
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var schema string
	if err := db.QueryRowContext(ctx, "SELECT current_schema()").Scan(&schema); err != nil || !strings.HasPrefix(schema, "seatkeeper_bench_") {
		t.Fatalf("current_schema() = %q, %v; want a seatkeeper_bench_ schema", schema, err)
	}
	if _, err := db.ExecContext(ctx, "CREATE TABLE t (x int)"); err != nil {
		t.Fatal(err)
	}
	var timeout string
	if err := db.QueryRowContext(ctx, "SHOW statement_timeout").Scan(&timeout); err != nil || timeout != "61s" {
		t.Errorf("statement_timeout = %q, %v; want the DSN's 61s", timeout, err)
	}
	if _, err := exec.LookPath("psql"); err == nil {
		out, err := exec.Command("psql", dsn, "-Atc", "SELECT current_schema(), current_setting('statement_timeout')").CombinedOutput()
		if want := schema + "|61s"; err != nil || strings.TrimSpace(string(out)) != want {
			t.Errorf("psql: %q, %v; want %q", out, err, want)
		}
	}
	if d, _, _ := bench.Schema(ctx, ""); d != "" {
		t.Errorf("SQLite's DSN became %q", d)
	}
	drop()
	dropped = true
	var n int
	if err := db.QueryRowContext(ctx, "SELECT count(*) FROM pg_namespace WHERE nspname = $1", schema).Scan(&n); err != nil || n != 0 {
		t.Errorf("schema %s after drop: %d, %v; want gone", schema, n, err)
	}
}
