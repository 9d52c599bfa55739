package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/seatkeeper/seatkeeper"
)

// NewSchema creates a schema of its own (prefix and a random suffix) in
// the PostgreSQL database of dsn, for a test or a benchmark run, and
// returns a DSN whose connections use it, and drop, which removes it with
// all it holds. The schema is set in the DSN's options, which pgx, psql
// and pgbench all pass to the server.
func NewSchema(ctx context.Context, dsn, prefix string) (string, func(), error) {
	u, err := url.Parse(dsn)
	if err != nil {
		return "", nil, fmt.Errorf("DSN: %w", err)
	}
	schema := seatkeeper.NewID(prefix)
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
