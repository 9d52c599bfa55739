package bench

import (
	"context"

	"github.com/seatkeeper/seatkeeper/sqlstore"
)

// Schema gives a run on PostgreSQL a schema of its own, which drop
// removes: every run starts from empty tables, whatever earlier runs left
// in the database (where autovacuum is off, as on this machine, their dead
// rows slowed every later run). On SQLite there is nothing to do.
func Schema(ctx context.Context, dsn string) (string, func(), error) {
	if _, sqlite := sqlstore.SQLitePath(dsn, ""); sqlite {
		return dsn, func() {}, nil
	}
	return sqlstore.NewSchema(ctx, dsn, "seatkeeper_bench_")
}
