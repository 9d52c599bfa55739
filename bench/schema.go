package bench

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/seatkeeper/seatkeeper"
	"github.com/seatkeeper/seatkeeper/sqlstore"
)

// Schema gives a run on PostgreSQL a schema of its own, which drop
// removes: every run starts from empty tables, whatever earlier runs left
// in the database (where autovacuum is off, as on this machine, their dead
// rows slowed every later run). The schema is set in the DSN's options,
// which pgx, psql and pgbench all pass to the server. On SQLite there is
// nothing to do.
func Schema(ctx context.Context, dsn string) (string, func(), error) {
	if _, sqlite := sqlstore.SQLitePath(dsn, ""); sqlite {
		return dsn, func() {}, nil
	}
	u, err := url.Parse(dsn)
	if err != nil {
		return "", nil, fmt.Errorf("DSN: %w", err)
	}
	schema := seatkeeper.NewID("seatkeeper_bench_")
	admin, err := sql.Open("pgx", dsn)
	if err != nil {
		return "", nil, err
	}
	if _, err := admin.ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
		admin.Close()
		return "", nil, fmt.Errorf("create schema: %w", err)
	}
	drop := func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		admin.ExecContext(ctx, "DROP SCHEMA "+schema+" CASCADE")
		admin.Close()
	}
	q := u.Query()
	q.Set("options", strings.TrimSpace(q.Get("options")+" -csearch_path="+schema))
	u.RawQuery = strings.ReplaceAll(q.Encode(), "+", "%20") // libpq reads no '+' as a space
	return u.String(), drop, nil
}
